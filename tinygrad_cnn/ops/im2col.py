"""Sliding windows over the last two axes: pad, read, and the adjoint of reading (summing back
onto the windows), shared by convolution, pooling and ``unfold`` / ``fold``; and im2col /
col2im, the lecture's unfolding of image windows into matrix columns, with the
differentiable ``Unfold`` / ``Fold`` pair built on them (PyTorch's ``F.unfold`` / ``F.fold``).

Every window is read through ONE strided view of the padded input, :func:`window_view`
``(..., kH, kW, Ho, Wo)``: ``im2col`` copies it once into the column matrix, and the pooling
kernels reduce its ``kH * kW`` kernel-offset slices ``[..., i, j, :, :]`` with whole-array
numpy operations.  The adjoint, :func:`add_to_windows`, adds values back with one strided
``+=`` per kernel offset (``kH * kW`` whole-array adds; faster than ``np.add.at`` or
``np.bincount``): ``col2im`` and the backward of average pooling.  Where the output rows
are as wide as the input's (stride 1, "same" padding) col2im instead adds each kernel
offset as a flat shift, long runs (:func:`same_width_shifts`).  No Python loop over
pixels, batch or channels.

The im2col matrix is ``(N, C*kH*kW, L)``, PyTorch's ``unfold`` layout: rows ordered by
channel, then kernel row, then kernel column; columns are windows left to right, then top to
bottom.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from .geometry import WindowGeometry


def _reach(size: int, before: int, extent: int) -> int:
    """How many input rows (from row 0) land inside a padded extent that starts ``before``
    rows above the input: the rest are read by no window."""
    return max(0, min(size, extent - before))


def pad_for_windows(x: np.ndarray, geometry: WindowGeometry, value=0) -> np.ndarray:
    """x ``(..., H, W)`` -> ``(..., Ph, Pw)``: exactly the rows and columns the windows reach
    (:meth:`WindowGeometry.padded_extent`), padded with ``value`` on top / left by the
    padding and at the bottom / right as far as the windows reach, cut where they stop
    short.  A view of ``x`` (no copy) when no padding is needed, the common case."""
    (top, _), (left, _) = geometry.padding
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    height, width = x.shape[-2:]
    if top == 0 and left == 0 and extent[0] <= height and extent[1] <= width:
        return x[..., :extent[0], :extent[1]]
    rows = _reach(height, top, extent[0])
    cols = _reach(width, left, extent[1])
    shape = x.shape[:-2] + extent
    padded = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
    padded[..., top:top + rows, left:left + cols] = x[..., :rows, :cols]
    return padded


def unpad_from_windows(padded: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """The adjoint of :func:`pad_for_windows`: ``(..., Ph, Pw)`` -> ``(..., H, W)``, dropping
    the padding.  A view when ``padded`` covers the whole input (as :func:`window_canvas`
    does); else a copy in which the input rows beyond the windows' reach are zero."""
    (top, _), (left, _) = geometry.padding
    height, width = geometry.in_size
    rows = _reach(height, top, padded.shape[-2])
    cols = _reach(width, left, padded.shape[-1])
    inside = padded[..., top:top + rows, left:left + cols]
    if (rows, cols) == (height, width):
        return inside
    out = np.zeros(padded.shape[:-2] + (height, width), dtype=padded.dtype)
    out[..., :rows, :cols] = inside
    return out


def window_canvas(leading: tuple, geometry: WindowGeometry, dtype,
                  allocate=np.zeros) -> np.ndarray:
    """A padded array ``leading + (Ph, Pw)`` (``np.zeros`` unless ``allocate`` says
    otherwise) that holds every window and the whole input, so values can be added onto
    the windows (:func:`add_to_windows`) and :func:`unpad_from_windows` of it is a view."""
    (top, _), (left, _) = geometry.padding
    height, width = geometry.in_size
    shape = (max(geometry.padded_extent(0), top + height),
             max(geometry.padded_extent(1), left + width))
    return allocate(tuple(leading) + shape, dtype=dtype)


def window_view(padded: np.ndarray, geometry: WindowGeometry,
                writeable: bool = False) -> np.ndarray:
    """Strided view ``(..., kH, kW, Ho, Wo)`` of a padded array ``(..., Ph, Pw)``: element
    ``[..., i, j, y, x]`` is ``padded[..., y*sH + i*dH, x*sW + j*dW]``.

    Windows may overlap, so the view aliases itself; one kernel offset's slice
    ``[..., i, j, :, :]`` never does, and ``writeable=True`` is only for writing through such
    slices one at a time."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    *leading, s_h, s_w = padded.strides
    shape = padded.shape[:-2] + (kh, kw) + tuple(geometry.out_size)
    strides = tuple(leading) + (dh * s_h, dw * s_w, sh * s_h, sw * s_w)
    return as_strided(padded, shape, strides, writeable=writeable)


def add_to_windows(canvas: np.ndarray, blocks: np.ndarray, geometry: WindowGeometry) -> None:
    """``canvas[..., window at offset (i, j)] += blocks[..., i, j, :, :]`` for every kernel
    offset, in place: the adjoint of reading the windows, summing where they overlap.
    ``canvas`` ``(..., Ph, Pw)`` from :func:`window_canvas`, blocks ``(..., kH, kW, Ho, Wo)``."""
    windows = window_view(canvas, geometry, writeable=True)
    for _, i, j in geometry.offsets():
        windows[..., i, j, :, :] += blocks[..., i, j, :, :]


class _Shift(NamedTuple):
    """One kernel offset ``(i, j)`` (row ``k`` of the im2col matrix) of a geometry whose
    output rows are as wide as the input's: output position ``q`` (flat in ``Ho*W``) reads
    input element ``q + shift`` (flat in ``H*W``) for ``lo <= q < hi``, the rows inside the
    input (outside that range it reads padding); inside it, the output columns ``wrapped``
    (a slice, or None) cross into a neighbouring row where they should read padding."""

    k: int
    i: int
    j: int
    shift: int
    lo: int
    hi: int
    wrapped: slice | None


@functools.lru_cache(maxsize=64)
def same_width_shifts(geometry: WindowGeometry) -> tuple[_Shift, ...] | None:
    """Each kernel offset as a flat shift (:class:`_Shift`) when the geometry has stride 1
    and output rows as wide as the input's (``Wo == W``, e.g. "same" padding); else None."""
    if tuple(geometry.stride) != (1, 1) or geometry.out_size[1] != geometry.in_size[1]:
        return None
    (height, width), out_rows = geometry.in_size, geometry.out_size[0]
    (top, _), (left, _) = geometry.padding
    (dh, dw) = geometry.dilation
    shifts = []
    for k, i, j in geometry.offsets():
        r, s = i * dh - top, j * dw - left
        shift = r * width + s
        lo = max(max(0, -r) * width, -shift)
        hi = max(lo, min(min(out_rows, height - r) * width, height * width - shift))
        wrapped = slice(0, min(-s, width)) if s < 0 else \
            slice(max(width - s, 0), width) if s > 0 else None
        shifts.append(_Shift(k, i, j, shift, lo, hi, wrapped))
    return tuple(shifts)


def im2col(x: np.ndarray, geometry: WindowGeometry, ones_row: bool = False) -> np.ndarray:
    """The im2col matrix ``(N, C*kH*kW, Ho*Wo)`` of x ``(N, C, H, W)``.  May be a view of
    ``x`` (a 1x1 kernel with stride 1); treat it as read-only.

    With ``ones_row``, a row of ones below the columns, ``(N, C*kH*kW + 1, Ho*Wo)``: a
    weight matrix with a bias as its last column then adds the bias inside the product.
    (Copying each row as one shifted run of the flat planes, as :func:`col2im` adds them,
    measured no faster: zeroing the wrapped columns after costs what the long runs save.)"""
    n, c = x.shape[:2]
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    windows = window_view(pad_for_windows(x, geometry), geometry)
    if not ones_row:
        return windows.reshape(n, c * kh * kw, ho * wo)
    rows = c * kh * kw
    cols = np.empty((n, rows + 1, ho * wo), dtype=x.dtype)
    np.copyto(cols[:, :rows].reshape(windows.shape), windows)
    cols[:, rows] = 1
    return cols


def col2im(cols: np.ndarray, geometry: WindowGeometry, channels: int,
           out: np.ndarray | None = None, overwrite_cols: bool = False) -> np.ndarray:
    """The adjoint of :func:`im2col`: ``(N, C*kH*kW, Ho*Wo)`` -> ``(N, C, H, W)``, summing
    the contributions of overlapping windows (into ``out`` when given, else a new array or
    a view of a padded canvas).

    With ``overwrite_cols`` (the caller's scratch) and output rows as wide as the input's,
    each kernel offset's row is added onto the flat output planes as ``N*C`` long runs,
    its positions that would wrap into a neighbouring row first zeroed in ``cols``
    (:func:`same_width_shifts`); else one strided add per kernel offset onto a padded
    canvas, one output row per inner loop.  Both add the offsets in the same order onto
    zeros, so the sums are the same to the bit."""
    batch = cols.shape[0]
    shifts = same_width_shifts(geometry) if overwrite_cols and cols.flags.c_contiguous \
        else None
    if shifts is None:
        canvas = window_canvas((batch, channels), geometry, cols.dtype)
        add_to_windows(canvas, cols.reshape((batch, channels) + geometry.kernel
                                            + geometry.out_size), geometry)
        image = unpad_from_windows(canvas, geometry)
    elif out is not None and out.flags.c_contiguous:
        image = out
        image[...] = 0
    else:
        image = np.zeros((batch, channels) + tuple(geometry.in_size), dtype=cols.dtype)
    if shifts is not None:
        blocks = cols.reshape((batch, channels) + geometry.kernel + geometry.out_size)
        taps = cols.reshape(batch, channels, -1, cols.shape[-1])
        planes = image.reshape(batch, channels, -1)
        for tap in shifts:
            if tap.wrapped is not None:
                blocks[:, :, tap.i, tap.j, :, tap.wrapped] = 0
            planes[:, :, tap.lo + tap.shift:tap.hi + tap.shift] += taps[:, :, tap.k, tap.lo:tap.hi]
    if out is None or image is out:
        return image
    out[...] = image
    return out


class Unfold(Function):
    """x ``(N, C, H, W)`` -> im2col matrix ``(N, C*kH*kW, L)`` (``torch.nn.functional.unfold``).
    Its backward is :class:`Fold` (the adjoint), whose backward is ``Unfold`` again."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry = geometry
        ctx.channels = x.shape[1]
        cols = im2col(x, geometry)
        if np.may_share_memory(cols, x):
            cols = cols.copy()
        return cols

    @staticmethod
    def backward(ctx, grad_cols):
        return Fold.apply(grad_cols, ctx.geometry, ctx.channels), None


class Fold(Function):
    """im2col matrix ``(N, C*kH*kW, L)`` -> ``(N, C, H, W)``, summing overlaps
    (``torch.nn.functional.fold``).  Its backward is :class:`Unfold`."""

    @staticmethod
    def forward(ctx, cols, geometry, channels):
        ctx.geometry = geometry
        return col2im(cols, geometry, channels)

    @staticmethod
    def backward(ctx, grad_image):
        return Unfold.apply(grad_image, ctx.geometry), None, None
