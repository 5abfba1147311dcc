"""im2col and col2im, the lecture's unfolding of image windows into matrix columns, and the
differentiable ``Unfold`` / ``Fold`` pair built on them (PyTorch's ``F.unfold`` / ``F.fold``).

``im2col`` reads every window through one strided view of the padded input (no copy until
the final reshape, no Python loop over pixels, batch or channels).  ``col2im`` is its exact
adjoint: it scatters columns back and *sums* where windows overlap, with one strided ``+=``
per kernel offset (``kH * kW`` whole-array adds; faster than ``np.add.at`` or ``np.bincount``).

The matrix is ``(N, C*kH*kW, L)``, PyTorch's ``unfold`` layout: rows ordered by channel,
then kernel row, then kernel column; columns are windows left to right, then top to bottom.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from ._args import ConvGeometry


def _crop_extents(size: int, before: int, extent: int) -> int:
    """How many input rows (from row 0) land inside a padded extent that starts ``before``
    rows above the input: the rest are read by no window."""
    return max(0, min(size, extent - before))


def pad_for_windows(x: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """x ``(N, C, H, W)`` -> ``(N, C, Ph, Pw)``: zero-padded on top/left by the padding and
    padded or cut at the bottom/right to exactly the rows and columns the windows reach."""
    (top, _), (left, _) = geometry.padding
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    height, width = x.shape[2:]
    if top == 0 and left == 0 and extent[0] <= height and extent[1] <= width:
        return x[:, :, :extent[0], :extent[1]]
    rows = _crop_extents(height, top, extent[0])
    cols = _crop_extents(width, left, extent[1])
    padded = np.zeros(x.shape[:2] + extent, dtype=x.dtype)
    padded[:, :, top:top + rows, left:left + cols] = x[:, :, :rows, :cols]
    return padded


def unpad_from_windows(padded: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The adjoint of :func:`pad_for_windows`: ``(N, C, Ph, Pw)`` -> ``(N, C, H, W)``, dropping
    the padding; input rows beyond the windows' reach get zero."""
    (top, _), (left, _) = geometry.padding
    height, width = geometry.in_size
    extent = padded.shape[2:]
    rows = _crop_extents(height, top, extent[0])
    cols = _crop_extents(width, left, extent[1])
    if top == 0 and left == 0 and rows == height and cols == width and extent == (rows, cols):
        return padded
    out = np.zeros(padded.shape[:2] + (height, width), dtype=padded.dtype)
    out[:, :, :rows, :cols] = padded[:, :, top:top + rows, left:left + cols]
    return out


def window_view(padded: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """Read-only strided view ``(N, C, kH, kW, Ho, Wo)`` of a padded input: element
    ``[n, c, i, j, y, x]`` is ``padded[n, c, y*sH + i*dH, x*sW + j*dW]``."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    s_n, s_c, s_h, s_w = padded.strides
    shape = padded.shape[:2] + (kh, kw) + tuple(geometry.out_size)
    strides = (s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w)
    return as_strided(padded, shape, strides, writeable=False)


def im2col(x: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The im2col matrix ``(N, C*kH*kW, Ho*Wo)`` of x ``(N, C, H, W)``.  May be a view of
    ``x`` (a 1x1 kernel with stride 1); treat it as read-only."""
    n, c = x.shape[:2]
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    windows = window_view(pad_for_windows(x, geometry), geometry)
    return windows.reshape(n, c * kh * kw, ho * wo)


def col2im(cols: np.ndarray, geometry: ConvGeometry, channels: int) -> np.ndarray:
    """The adjoint of :func:`im2col`: ``(N, C*kH*kW, Ho*Wo)`` -> ``(N, C, H, W)``, summing
    the contributions of overlapping windows."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    ho, wo = geometry.out_size
    batch = cols.shape[0]
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    blocks = cols.reshape(batch, channels, kh, kw, ho, wo)
    padded = np.zeros((batch, channels) + extent, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh,
                   j * dw:j * dw + (wo - 1) * sw + 1:sw] += blocks[:, :, i, j]
    return unpad_from_windows(padded, geometry)


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
