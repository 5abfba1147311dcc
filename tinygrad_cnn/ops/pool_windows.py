"""Numpy kernels of the pooling ops: window reductions and their adjoints.

A pooling window is read through the strided window view of :mod:`.im2col` (shared with
convolution): its slice ``[..., i, j, :, :]`` for kernel offset ``(i, j)`` has the output's
shape ``(..., Ho, Wo)`` and holds, at every output position, the input element under that
offset.  Every kernel here is therefore a Python loop over the ``kH * kW`` kernel offsets of
whole-array numpy operations -- never a loop over pixels, batch elements or channels.  For
the common 2x2 stride-2 max pool this is four strided slices and ``np.maximum``, which beat
``reshape(...).max`` several-fold in our measurements.

All kernels work on any leading dimensions ``(...)``; only the last two axes are spatial.
"""

from __future__ import annotations

import numpy as np

from .geometry import WindowGeometry
from .im2col import (
    add_to_windows,
    pad_for_windows,
    unpad_from_windows,
    window_canvas,
    window_view,
)


def lowest_value(dtype: np.dtype):
    """The padding value of max pooling: ``-inf`` for floats (as PyTorch), the minimum for ints."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return False  # bool


def _overlapping(geometry: WindowGeometry) -> bool:
    """True when two windows may share an input element (stride shorter than the dilated
    kernel along some axis), so an adjoint must accumulate, not assign."""
    return any(geometry.stride[a] < geometry.dilation[a] * (geometry.kernel[a] - 1) + 1
               for a in (0, 1))


def _index_dtype(geometry: WindowGeometry):
    return np.int8 if geometry.kernel[0] * geometry.kernel[1] <= 127 else np.int32


def max_pool_forward(x: np.ndarray, geometry: WindowGeometry, with_index: bool = True):
    """Window maxima ``(..., Ho, Wo)`` and, if asked, the kernel offset ``k = i*kW + j`` of the
    element each window's gradient goes to, as PyTorch: its FIRST maximum (ties send the
    gradient to one element), or, in a window holding NaN, its LAST NaN (PyTorch's
    ``val > max || isnan(val)`` scan).

    Padding counts as ``-inf``.  A NaN in a window makes its maximum NaN (``np.maximum``)."""
    windows = window_view(pad_for_windows(x, geometry, lowest_value(x.dtype)), geometry)
    best = index = None
    for offset, i, j in geometry.offsets():
        values = windows[..., i, j, :, :]
        if best is None:
            best = values.copy()
            if with_index:
                index = np.zeros(best.shape, dtype=_index_dtype(geometry))
            continue
        if with_index:
            # Strictly greater: an equal later element never takes the place of the first.
            # index += is_larger * (offset - index) is several times faster than
            # putmask/copyto(where=).
            is_larger = (values > best).view(np.int8).astype(index.dtype, copy=False)
            index += is_larger * (index.dtype.type(offset) - index)
        np.maximum(best, values, out=best)
    if with_index and best.dtype.kind == "f" and best.size and np.isnan(best.max()):
        # ``values > best`` is never true for NaN, so a window holding one needs this second
        # pass; only inputs with a NaN pay for it (max propagates NaN: one cheap reduction).
        for offset, i, j in geometry.offsets():
            np.copyto(index, index.dtype.type(offset),
                      where=np.isnan(windows[..., i, j, :, :]))
    return best, index


def _masker(values: np.ndarray):
    """``masked(v, mask)``: ``v`` where ``mask`` else 0.  ``v * mask`` is several times faster
    than ``np.where`` or ``copyto(where=)``, but turns inf * 0 into NaN, so it is only used
    when ``values`` (the array ``v`` is taken from) is finite."""
    if np.isfinite(values).all():
        return np.multiply

    def where(v, mask, out=None):
        result = np.where(mask, v, np.zeros((), dtype=v.dtype))
        if out is None:
            return result
        out[...] = result
        return out
    return where


def scatter_to_windows(g: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """Adjoint of :func:`gather_from_windows`: each ``g[..., o]`` is added to the input element
    its window chose (``index``); the lecture's "upsample" of the error.  Output ``(..., H, W)``."""
    accumulate = _overlapping(geometry)
    (top, _), (left, _) = geometry.padding
    # Disjoint windows that tile the canvas exactly (they reach past every input row and
    # column) write every element once: no need to zero it first.
    tiled = (not accumulate and geometry.stride == geometry.kernel
             and geometry.dilation == (1, 1)
             and all(geometry.padded_extent(a) >= (top, left)[a] + geometry.in_size[a]
                     for a in (0, 1)))
    masked = _masker(g)
    canvas = window_canvas(g.shape[:-2], geometry, g.dtype, np.empty if tiled else np.zeros)
    windows = window_view(canvas, geometry, writeable=True)
    for k, i, j in geometry.offsets():
        view = windows[..., i, j, :, :]
        if accumulate:
            view += masked(g, index == k)
        else:  # windows are disjoint: each canvas element is written at most once
            masked(g, index == k, out=view)
    return unpad_from_windows(canvas, geometry)


def gather_from_windows(x: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """``x[..., chosen element of each window]``: shape ``(..., Ho, Wo)``.  Padding reads 0."""
    windows = window_view(pad_for_windows(x, geometry), geometry)
    masked = _masker(x)
    out = np.zeros(index.shape, dtype=x.dtype)
    for k, i, j in geometry.offsets():
        out += masked(windows[..., i, j, :, :], index == k)
    return out


def window_sum(x: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """Sum of each window with zero padding: ``(..., H, W) -> (..., Ho, Wo)``."""
    windows = window_view(pad_for_windows(x, geometry), geometry)
    out = None
    for _, i, j in geometry.offsets():
        v = windows[..., i, j, :, :]
        if out is None:
            out = v.copy()
        else:
            out += v
    return out


def window_sum_adjoint(g: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """Adjoint of :func:`window_sum`: every ``g[..., o]`` is added to each input element of
    window ``o`` (padding dropped).  ``(..., Ho, Wo) -> (..., H, W)``: ``col2im`` of ``g``
    repeated at every kernel offset (a broadcast view, no copy)."""
    canvas = window_canvas(g.shape[:-2], geometry, g.dtype)
    blocks = np.broadcast_to(g[..., None, None, :, :],
                             g.shape[:-2] + geometry.kernel + g.shape[-2:])
    add_to_windows(canvas, blocks, geometry)
    return unpad_from_windows(canvas, geometry)


def avg_pool_divisor(geometry: WindowGeometry, count_include_pad: bool) -> np.ndarray:
    """The integer divisor ``(Ho, Wo)`` of each average-pooling window, by PyTorch's rules.

    A window is clipped to the padded input (a ceil_mode window hanging past the padding counts
    only what lies inside the padding); with ``count_include_pad=False`` it is further clipped
    to the input itself.  The count is a product of a row count and a column count."""
    counts = []
    for axis in (0, 1):
        size, k, s, (p, _) = (geometry.in_size[axis], geometry.kernel[axis], geometry.stride[axis],
                              geometry.padding[axis])
        start = np.arange(geometry.out_size[axis]) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, size) - np.maximum(start, 0))
    return counts[0][:, None] * counts[1][None, :]
