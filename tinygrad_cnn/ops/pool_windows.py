"""Numpy kernels shared by the pooling ops: window geometry, window reductions, their adjoints.

A pooling window is read as one strided slice of the (padded) input per kernel offset
``(i, j)``: ``xp[..., i*dH : i*dH + (Ho-1)*sH + 1 : sH, j*dW : ... : sW]`` has the output's
shape ``(..., Ho, Wo)`` and holds, at every output position, the input element under that
offset.  Every kernel here is therefore a Python loop over the ``kH * kW`` kernel offsets of
whole-array numpy operations -- never a loop over pixels, batch elements or channels.  For
the common 2x2 stride-2 max pool this is four strided slices and ``np.maximum``, which beat
``reshape(...).max`` several-fold in our measurements.

All kernels work on any leading dimensions ``(...)``; only the last two axes are spatial.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PoolGeometry(NamedTuple):
    """Validated geometry of a 2-D pooling: every field is a pair ``(height, width)``."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    in_size: tuple[int, int]
    out_size: tuple[int, int]

    def padded_extent(self, axis: int) -> int:
        """Rows (axis 0) or columns (axis 1), counted from the start of the left padding,
        that the windows reach: the last window starts at ``(out-1)*stride`` and spans
        ``dilation*(kernel-1) + 1``."""
        return (self.out_size[axis] - 1) * self.stride[axis] + \
            self.dilation[axis] * (self.kernel[axis] - 1) + 1

    def pad_widths(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``(before, after)`` per spatial axis so that every window lies inside the padded
        array: ``before`` is the padding; ``after`` also covers ceil_mode windows that hang past
        the padding, and is smaller than the padding when floor mode leaves the last rows unused."""
        widths = []
        for axis in (0, 1):
            before = self.padding[axis]
            after = max(0, self.padded_extent(axis) - before - self.in_size[axis])
            widths.append((before, after))
        return widths[0], widths[1]

    def offsets(self):
        """Kernel offsets ``(k, i, j)`` in row-major window order (``k = i*kW + j``), the
        order PyTorch scans a window in, so "first maximum" means the same thing."""
        kh, kw = self.kernel
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, i, j

    def window(self, padded: np.ndarray, i: int, j: int) -> np.ndarray:
        """The strided view ``(..., Ho, Wo)`` of ``padded`` under kernel offset ``(i, j)``."""
        (ho, wo), (sh, sw), (dh, dw) = self.out_size, self.stride, self.dilation
        r0, c0 = i * dh, j * dw
        return padded[..., r0:r0 + (ho - 1) * sh + 1:sh, c0:c0 + (wo - 1) * sw + 1:sw]

    def overlapping(self) -> bool:
        """True when two windows may share an input element (stride shorter than the
        dilated kernel along some axis), so an adjoint must accumulate, not assign."""
        return any(self.stride[a] < self.dilation[a] * (self.kernel[a] - 1) + 1 for a in (0, 1))


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``: ``floor`` (or ``ceil``) of
    ``(size + 2p - d(k-1) - 1) / s`` plus one; in ceil mode the last window must start inside
    the input or its left padding, else it is dropped."""
    numer = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numer // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def lowest_value(dtype: np.dtype):
    """The padding value of max pooling: ``-inf`` for floats (as PyTorch), the minimum for ints."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return False  # bool


def pad_spatial(x: np.ndarray, geo: PoolGeometry, value) -> np.ndarray:
    """``x`` padded per :meth:`PoolGeometry.pad_widths` with ``value``; ``x`` itself (no copy)
    when no padding is needed, the common case."""
    (bh, ah), (bw, aw) = geo.pad_widths()
    if bh == ah == bw == aw == 0:
        return x
    h, w = x.shape[-2:]
    out = np.full(x.shape[:-2] + (bh + h + ah, bw + w + aw), value, dtype=x.dtype)
    out[..., bh:bh + h, bw:bw + w] = x
    return out


def crop_spatial(padded: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Inverse of :func:`pad_spatial`: the input-sized part of a padded-shape array."""
    (ph, pw), (h, w) = geo.padding, geo.in_size
    return padded[..., ph:ph + h, pw:pw + w]


def _index_dtype(geo: PoolGeometry):
    return np.int8 if geo.kernel[0] * geo.kernel[1] <= 127 else np.int32


def max_pool_forward(x: np.ndarray, geo: PoolGeometry, with_index: bool = True):
    """Window maxima ``(..., Ho, Wo)`` and, if asked, the kernel offset ``k = i*kW + j`` of the
    FIRST maximum of each window (as PyTorch: ties send the gradient to one element).

    Padding counts as ``-inf``.  A NaN in a window makes its maximum NaN (``np.maximum``)."""
    xp = pad_spatial(x, geo, lowest_value(x.dtype))
    best = index = None
    for k, i, j in geo.offsets():
        v = geo.window(xp, i, j)
        if best is None:
            best = v.copy()
            if with_index:
                index = np.zeros(best.shape, dtype=_index_dtype(geo))
            continue
        if with_index:
            # Strictly greater: an equal later element never takes the place of the first.
            # index += upd * (k - index) is several times faster than putmask/copyto(where=).
            upd = (v > best).view(np.int8).astype(index.dtype, copy=False)
            index += upd * (index.dtype.type(k) - index)
        np.maximum(best, v, out=best)
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


def scatter_to_windows(g: np.ndarray, index: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Adjoint of :func:`gather_from_windows`: each ``g[..., o]`` is added to the input element
    its window chose (``index``); the lecture's "upsample" of the error.  Output ``(..., H, W)``."""
    (bh, ah), (bw, aw) = geo.pad_widths()
    h, w = geo.in_size
    shape = g.shape[:-2] + (bh + h + ah, bw + w + aw)
    accumulate = geo.overlapping()
    # Disjoint windows that tile the padded array exactly write every element once.
    tiled = not accumulate and geo.stride == geo.kernel and geo.dilation == (1, 1) and \
        shape[-2:] == (geo.out_size[0] * geo.kernel[0], geo.out_size[1] * geo.kernel[1])
    masked = _masker(g)
    gp = (np.empty if tiled else np.zeros)(shape, dtype=g.dtype)
    for k, i, j in geo.offsets():
        view = geo.window(gp, i, j)
        if accumulate:
            view += masked(g, index == k)
        else:  # windows are disjoint: each padded element is written at most once
            masked(g, index == k, out=view)
    return crop_spatial(gp, geo)


def gather_from_windows(x: np.ndarray, index: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """``x[..., chosen element of each window]``: shape ``(..., Ho, Wo)``.  Padding reads 0."""
    xp = pad_spatial(x, geo, 0)
    masked = _masker(x)
    out = np.zeros(index.shape, dtype=x.dtype)
    for k, i, j in geo.offsets():
        out += masked(geo.window(xp, i, j), index == k)
    return out


def window_sum(x: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Sum of each window with zero padding: ``(..., H, W) -> (..., Ho, Wo)``."""
    xp = pad_spatial(x, geo, 0)
    out = None
    for _, i, j in geo.offsets():
        v = geo.window(xp, i, j)
        if out is None:
            out = v.copy()
        else:
            out += v
    return out


def window_sum_adjoint(g: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Adjoint of :func:`window_sum`: every ``g[..., o]`` is added to each input element of
    window ``o`` (padding dropped).  ``(..., Ho, Wo) -> (..., H, W)``."""
    (bh, ah), (bw, aw) = geo.pad_widths()
    h, w = geo.in_size
    gp = np.zeros(g.shape[:-2] + (bh + h + ah, bw + w + aw), dtype=g.dtype)
    for _, i, j in geo.offsets():
        geo.window(gp, i, j)[...] += g
    return crop_spatial(gp, geo)


def avg_pool_divisor(geo: PoolGeometry, count_include_pad: bool) -> np.ndarray:
    """The integer divisor ``(Ho, Wo)`` of each average-pooling window, by PyTorch's rules.

    A window is clipped to the padded input (a ceil_mode window hanging past the padding counts
    only what lies inside the padding); with ``count_include_pad=False`` it is further clipped
    to the input itself.  The count is a product of a row count and a column count."""
    counts = []
    for axis in (0, 1):
        size, k, s, p = (geo.in_size[axis], geo.kernel[axis], geo.stride[axis],
                         geo.padding[axis])
        start = np.arange(geo.out_size[axis]) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, size) - np.maximum(start, 0))
    return counts[0][:, None] * counts[1][None, :]
