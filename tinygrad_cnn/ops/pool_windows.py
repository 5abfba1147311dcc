"""Numpy kernels of the pooling ops: window reductions and their adjoints.

A pooling window is read through the strided window view of :mod:`.im2col` (shared with
convolution): its slice ``[..., i, j, :, :]`` for kernel offset ``(i, j)`` has the output's
shape ``(..., Ho, Wo)`` and holds, at every output position, the input element under that
offset.  Every kernel here is therefore a Python loop over the ``kH * kW`` kernel offsets of
whole-array numpy operations -- never a loop over pixels, batch elements or channels.  For
the common 2x2 stride-2 max pool the window maxima are four strided slices and
``np.maximum``, which beat ``reshape(...).max`` several-fold in our measurements; with the
index (and for the gather of the double backward), each plane group is first rearranged
into four contiguous planes, one per window offset (:func:`_window_splitter`), because a
ufunc on strided slices runs one short unvectorised inner loop per output row.

All kernels work on any leading dimensions ``(...)``; only the last two axes are spatial.
"""

from __future__ import annotations

import numpy as np

from .bits import bits, masked, unsigned
from .geometry import WindowGeometry
from .im2col import (
    add_to_windows,
    pad_for_windows,
    unpad_from_windows,
    window_canvas,
    window_view,
)
from .resample import adaptive_bounds

# Input bytes per plane group of :func:`_max_pool_2x2_values`: the intermediate rows of a
# group stay in a 1-2 MiB L2 cache.
_CHUNK_BYTES = 1 << 18

# Input bytes per plane group of the 2x2 max pool (:func:`_max_pool_2x2`): the group, its
# rearranged copy and the row maxima stay in the cache (measured best of 2**17 .. 2**20).
_PAIR_GROUP_BYTES = 1 << 18

# Canvas bytes per plane group of :func:`scatter_to_windows` (measured best of 2**17 ..
# 2**21 on the MNIST shapes).
_SCATTER_GROUP_BYTES = 1 << 19


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
    if _pairs_of_pairs(geometry) and not with_index:
        best, index = _max_pool_2x2_values(x, geometry), None
    elif _pairs_of_pairs(geometry) and x.size:
        best, index = _max_pool_2x2(x, geometry)
    else:
        best, index = _max_pool_scan(windows, geometry, with_index)
    if with_index and best.dtype.kind == "f" and best.size and np.isnan(best.max()):
        # ``values > best`` is never true for NaN, so a window holding one needs this second
        # pass; only inputs with a NaN pay for it (max propagates NaN: one cheap reduction).
        for offset, i, j in geometry.offsets():
            np.copyto(index, index.dtype.type(offset),
                      where=np.isnan(windows[..., i, j, :, :]))
    return best, index


def _pairs_of_pairs(geometry: WindowGeometry) -> bool:
    """True for 2x2 windows at stride 2 without padding or dilation (the common max pool),
    which :func:`_max_pool_2x2`, :func:`_max_pool_2x2_values` and :func:`_gather_2x2`
    handle."""
    (top, _), (left, _) = geometry.padding
    return (geometry.kernel == (2, 2) and geometry.stride == (2, 2)
            and geometry.dilation == (1, 1) and top == 0 and left == 0
            and all(geometry.padded_extent(a) <= geometry.in_size[a] for a in (0, 1)))


def _max_pool_2x2(x: np.ndarray, geometry: WindowGeometry):
    """The 2x2 stride-2 max pool with its index, plane group by plane group (about
    ``_PAIR_GROUP_BYTES`` of x each, so that a group and its rearranged copy stay in the
    cache).

    numpy is fast only on long contiguous runs: a ufunc on the stride-2 slices of a window
    view runs one short, unvectorised inner loop per output row.  So each group is first
    rearranged (:func:`_window_splitter`) into ``quad[j, i]``, the contiguous plane of the
    window elements at offset ``(i, j)``, and everything after is whole-plane arithmetic:
    the row maxima ``h[i] = max(quad[0, i], quad[1, i])``, the window maxima
    ``max(h[0], h[1])``.

    The index is the offset ``k = 2i + j`` of the FIRST maximum in window order
    ``(0,0), (0,1), (1,0), (1,1)``: ``c[i] = quad[1, i] > quad[0, i]`` (a tie keeps the left
    column), ``r = h[1] > h[0]`` (a tie keeps the top row), ``k = 2r + c[r]``, computed as
    ``c[0] + r * (2 + c[1] - c[0])`` in int8.  (A NaN is placed by the caller's pass.)

    Measured (float32, one thread, ReLU'd input, CPU time, best of 60, turn by turn with the
    strided-slice tree this replaced): (64, 32, 28, 28) 1.6 ms (2.3-2.4 ms); (64, 64, 14,
    14) 0.9 ms (1.6 ms).  About half of it is the rearranging, which reads x.  Without the
    index the strided-slice tree (:func:`_max_pool_2x2_values`, 0.8 / 0.6 ms) stays
    faster: it reads x once and needs no rearranged copy."""
    out_h, out_w = geometry.out_size
    planes = x.reshape((-1,) + x.shape[-2:])
    count, size = len(planes), out_h * out_w
    best = np.empty((count, size), x.dtype)
    index = np.empty((count, size), np.int8)
    group = max(1, _PAIR_GROUP_BYTES // max(1, planes[0].nbytes if count else 1))
    split = _window_splitter(planes, geometry, min(group, count))
    row_max = np.empty((2, min(group, count) * size), x.dtype)
    flags = np.empty((3, min(group, count) * size), np.bool_)
    steps = {}   # the buffers' views for a group of n planes: built for two sizes at most
    for start in range(0, count, group):
        stop = min(count, start + group)
        if stop - start not in steps:
            m = (stop - start) * size
            steps[stop - start] = (row_max[:, :m], flags[:2, :m], flags[2, :m],
                                   flags[:, :m].view(np.int8))
        h, columns, row, (c0, c1, r) = steps[stop - start]
        quad = split(start, stop)    # (2, 2, m): quad[j, i]
        np.maximum(quad[0], quad[1], out=h)
        np.greater(quad[1], quad[0], out=columns)
        np.greater(h[1], h[0], out=row)
        np.maximum(h[0], h[1], out=best[start:stop].reshape(-1))
        k = index[start:stop].reshape(-1)
        np.subtract(c1, c0, out=k)
        k += 2
        k *= r
        k += c0
    shape = x.shape[:-2] + (out_h, out_w)
    return best.reshape(shape), index.reshape(shape)


def _max_pool_2x2_values(x: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """The 2x2 stride-2 window maxima alone, as a tree on strided slices: the maximum of each
    column pair, then of each pair of those rows, plane group by plane group (about
    ``_CHUNK_BYTES`` of x each, so the intermediate rows stay in the cache)."""
    rows, cols = (2 * size for size in geometry.out_size)
    planes = x.reshape((-1,) + x.shape[-2:])[:, :rows, :cols]
    best = np.empty((len(planes),) + tuple(geometry.out_size), x.dtype)
    group = max(1, _CHUNK_BYTES // max(1, planes[0].nbytes if len(planes) else 1))
    for start in range(0, len(planes), group):
        plane = planes[start:start + group]
        half = np.maximum(plane[..., 0::2], plane[..., 1::2])
        np.maximum(half[..., 0::2, :], half[..., 1::2, :], out=best[start:start + group])
    return best.reshape(x.shape[:-2] + tuple(geometry.out_size))


def _window_splitter(planes: np.ndarray, geometry: WindowGeometry, group: int):
    """``split(start, stop)``: the 2x2 windows of ``planes[start:stop]`` (``(P, H, W)``, at
    most ``group`` planes) as ``quad`` ``(2, 2, m)``: ``quad[j, i]`` holds the
    ``m = (stop - start) * Ho * Wo`` window elements at offset ``(i, j)``, in output order,
    in buffers reused from group to group.

    Two ways, by what the planes allow:

    * words, when the planes are contiguous with even height and width and elements of 1, 2
      or 4 bytes (little-endian): a row is read as ``Wo`` unsigned words of two elements,
      and a whole row as one void item.  One copy of these items splits the rows by window
      row ``i`` (one inner loop over all rows); two narrowing casts, long contiguous loops,
      split the words into their low and high element (``j = 0, 1``): the low half of each
      word, and the low half of the words read one element further on (an unaligned view
      of the same buffer, padded by one word).
    * strided, otherwise: one copy of the strided view ``(j, i, P, Ho, Wo)`` (one inner loop
      per output row).

    Measured (float32, the whole 2x2 max pool): the words way 10-15% faster on
    (64, 64, 14, 14), where the strided copy's rows are 7 elements long; the same on
    (64, 32, 28, 28)."""
    out_h, out_w = geometry.out_size
    dtype = planes.dtype
    m = group * out_h * out_w
    half, word = unsigned(dtype.itemsize), unsigned(2 * dtype.itemsize)
    if (np.little_endian and word is not None and planes.flags.c_contiguous
            and planes.shape[-2:] == (2 * out_h, 2 * out_w)):
        row = np.dtype((np.void, out_w * word.itemsize))
        row_pairs = planes.view(word).reshape(-1, 2 * out_w).view(row)   # (P * Ho, 2)
        by_row = np.empty(2 * m + 1, word)    # (i, m) words and one word of padding
        halves = by_row.view(half)
        quad = np.empty((2, 2 * m), half)

        def split(start, stop):
            n = (stop - start) * out_h * out_w
            np.copyto(by_row[:2 * n].view(row).reshape(2, (stop - start) * out_h),
                      row_pairs[start * out_h:stop * out_h].T)
            np.copyto(quad[0, :2 * n], by_row[:2 * n], casting="unsafe")
            np.copyto(quad[1, :2 * n], halves[1:1 + 4 * n].view(word), casting="unsafe")
            return quad[:, :2 * n].view(dtype).reshape(2, 2, n)
        return split

    quad = np.empty((2, 2, m), dtype)

    def split(start, stop):
        n = (stop - start) * out_h * out_w
        windows = planes[start:stop, :2 * out_h, :2 * out_w].reshape(
            stop - start, out_h, 2, out_w, 2)
        np.copyto(quad[:, :, :n].reshape(2, 2, stop - start, out_h, out_w),
                  windows.transpose(4, 2, 0, 1, 3))
        return quad[:, :, :n]
    return split


def _max_pool_scan(windows: np.ndarray, geometry: WindowGeometry, with_index: bool):
    """Window maxima and first-maximum offsets by a scan over the kernel offsets."""
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
    return best, index


def _unpadded(canvas: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """:func:`unpad_from_windows` of a canvas we made, but the canvas itself (not a view of
    it) when nothing is cut off: an array owning its memory, which the autograd engine can
    let the next backward overwrite instead of allocating."""
    inside = unpad_from_windows(canvas, geometry)
    return canvas if inside.shape == canvas.shape else inside


def scatter_to_windows(g: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """Adjoint of :func:`gather_from_windows`: each ``g[..., o]`` is added to the input element
    its window chose (``index``); the lecture's "upsample" of the error.  Output ``(..., H, W)``.

    Plane group by plane group (about ``_SCATTER_GROUP_BYTES`` of canvas each, so a group's
    canvas stays in the cache while every kernel offset writes into it), one comparison
    ``index == k`` for all offsets ``k`` at once.  Disjoint windows write their offset's
    strided slice once, overlapping windows add into it; either way ``g`` masked on its bits
    (:func:`.bits.masked`), exact for every value (inf and NaN stay where they were chosen,
    elsewhere +0, as PyTorch's zeros), with no finiteness test of ``g``.  2x2 windows that
    tile the input go by whole rows instead (:func:`_scatter_2x2`).

    Measured (float32, one thread, CPU time, turn by turn with the float product, finiteness
    test and 256 KiB groups this replaced): (64, 32, 28, 28) 1.6-1.9 ms (2.2-2.3 ms),
    (64, 64, 14, 14) 0.9 ms (1.1 ms).  What is left is one short inner loop per output row
    and offset (the strided slices)."""
    if _pairs_of_pairs(geometry) and _scatter_by_rows(g, geometry):
        return _scatter_2x2(g, index, geometry)
    accumulate = _overlapping(geometry)
    (top, _), (left, _) = geometry.padding
    # Disjoint windows that tile the canvas exactly (they reach past every input row and
    # column) write every element once: no need to zero it first.
    tiled = (not accumulate and geometry.stride == geometry.kernel
             and geometry.dilation == (1, 1)
             and all(geometry.padded_extent(a) >= (top, left)[a] + geometry.in_size[a]
                     for a in (0, 1)))
    canvas = window_canvas(g.shape[:-2], geometry, g.dtype, np.empty if tiled else np.zeros)
    planes = canvas.reshape((-1,) + canvas.shape[-2:])
    g_planes = g.reshape((-1,) + g.shape[-2:])
    index_planes = index.reshape((-1,) + index.shape[-2:])
    offsets = np.array([k for k, _, _ in geometry.offsets()], index.dtype)[:, None, None, None]
    group = max(1, _SCATTER_GROUP_BYTES // max(1, planes[0].nbytes if len(planes) else 1))
    for start in range(0, len(planes), group):
        part = slice(start, start + group)
        windows = window_view(planes[part], geometry, writeable=True)
        values = g_planes[part]
        chosen = np.equal(index_planes[part], offsets)   # (K, p, Ho, Wo)
        for k, i, j in geometry.offsets():
            view = windows[..., i, j, :, :]
            if accumulate:
                view += masked(values, chosen[k])
            else:  # windows are disjoint: each canvas element is written at most once
                masked(values, chosen[k], out=view)
    return _unpadded(canvas, geometry)


def _scatter_by_rows(g: np.ndarray, geometry: WindowGeometry) -> bool:
    """Whether :func:`_scatter_2x2` applies: 2x2 stride-2 windows that tile the input
    exactly, elements of 1, 2 or 4 bytes with an unsigned view (little-endian)."""
    out_h, out_w = geometry.out_size
    return (np.little_endian and g.size > 0 and g.dtype.itemsize in (1, 2, 4)
            and bits(g) is not None and tuple(geometry.in_size) == (2 * out_h, 2 * out_w))


def _scatter_2x2(g: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """:func:`scatter_to_windows` for 2x2 stride-2 windows that tile the input, plane group
    by plane group (about ``_SCATTER_GROUP_BYTES`` of canvas each): the adjoint of
    :func:`_window_splitter`'s words.

    Each window row ``i`` of a group is first built as one flat run, the output rows
    ``2 * ho + i`` one after the other: for ``j = 0, 1`` the bits of ``g`` times
    ``index == 2i + j`` written to every other element from ``j`` (one long strided inner
    loop each); then one copy moves every output row, as a single void item, to its place in
    the canvas, the rows of both runs interleaved. Writing the canvas's strided slices
    directly (the general path) runs one short inner loop per output row and offset.
    Measured (float32, one thread, inside the MNIST CNN's training step, median):
    (64, 32, 28, 28) 1.69 ms against 1.94, (64, 64, 14, 14) 1.04 against 1.17."""
    out_h, out_w = geometry.out_size
    size = out_h * out_w
    g = np.ascontiguousarray(g)
    count = g.size // size
    canvas = np.empty(g.shape[:-2] + (2 * out_h, 2 * out_w), g.dtype)
    row = np.dtype((np.void, 2 * out_w * g.dtype.itemsize))
    canvas_rows = canvas.reshape(count * out_h, 2 * 2 * out_w).view(row)   # (P * Ho, i)
    g_bits = bits(g).reshape(count, size)
    index_planes = np.ascontiguousarray(index).reshape(count, size)
    group = min(count, max(1, _SCATTER_GROUP_BYTES // (4 * size * g.dtype.itemsize)))
    runs = np.empty((2, 2 * group * size), g_bits.dtype)     # per i: (planes, ho, wo, j)
    chosen = np.empty((4, group * size), np.bool_)
    offsets = np.arange(4, dtype=index.dtype)[:, None]
    for start in range(0, count, group):
        stop = min(count, start + group)
        n = (stop - start) * size
        np.equal(index_planes[start:stop].reshape(1, n), offsets, out=chosen[:, :n])
        values = g_bits[start:stop].reshape(n)
        for k in range(4):
            i, j = divmod(k, 2)
            np.multiply(values, chosen[k, :n], out=runs[i, j:2 * n:2])
        np.copyto(canvas_rows[start * out_h:stop * out_h], runs[:, :2 * n].view(row).T)
    return canvas


def gather_from_windows(x: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """``x[..., chosen element of each window]``: shape ``(..., Ho, Wo)``.  Padding reads 0.

    Exactly one offset is chosen per window, so the result is the sum over offsets ``k`` of
    the bits of window element ``k`` times ``index == k`` (:func:`.bits.bits`): exact for every
    value, inf and NaN included.  The 2x2 stride-2 windows read the contiguous planes of
    :func:`_window_splitter` instead of strided slices (measured 2-3x faster)."""
    if _pairs_of_pairs(geometry) and x.size and bits(x) is not None:
        return _gather_2x2(x, index, geometry)
    padded = pad_for_windows(x, geometry)
    padded_bits = bits(padded)
    windows = window_view(padded if padded_bits is None else padded_bits, geometry)
    sum_of = (lambda v, mask: v * mask) if padded_bits is not None else masked
    out = np.zeros(index.shape, dtype=windows.dtype)
    for k, i, j in geometry.offsets():
        out += sum_of(windows[..., i, j, :, :], index == k)
    return out.view(x.dtype)


def _gather_2x2(x: np.ndarray, index: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """:func:`gather_from_windows` for 2x2 stride-2 windows, plane group by plane group."""
    out_h, out_w = geometry.out_size
    planes = x.reshape((-1,) + x.shape[-2:])
    count, size = len(planes), out_h * out_w
    chosen = index.reshape(count, size)
    out = np.empty((count, size), x.dtype)
    group = max(1, _PAIR_GROUP_BYTES // planes[0].nbytes)
    split = _window_splitter(planes, geometry, min(group, count))
    offsets = np.array([[0, 2], [1, 3]], index.dtype)[:, :, None]   # k = 2i + j at [j, i]
    for start in range(0, count, group):
        stop = min(count, start + group)
        quad = bits(split(start, stop))       # (2, 2, m): quad[j, i]
        picked = quad * np.equal(chosen[start:stop].reshape(1, 1, -1), offsets)
        np.sum(picked.reshape(4, -1), axis=0, out=bits(out[start:stop]).reshape(-1))
    return out.reshape(index.shape)


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
    return _unpadded(canvas, geometry)


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


# --- flat indices: max_pool2d(return_indices=True), adaptive max pooling, max_unpool2d ------


def _first_inside(start: np.ndarray, step: int) -> np.ndarray:
    """The first window position at or after ``start`` that lies inside the input (>= 0)."""
    return np.where(start < 0, start + step * ((-start + step - 1) // step), start)


def max_pool_indices(x: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """PyTorch's ``max_pool2d`` indices: for each window, the flat index ``r * W + c`` into its
    ``(H, W)`` input plane of the element :func:`max_pool_forward` chose (int64,
    ``(..., Ho, Wo)``): the window's start plus a per-kernel-offset table, one lookup.  A
    window whose every element is ``-inf`` (possible only with padding) points at its first
    element inside the input, as PyTorch's scan leaves it."""
    _, offset = max_pool_forward(x, geometry, with_index=True)
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    (top, _), (left, _) = geometry.padding
    height, width = geometry.in_size
    row0 = np.arange(geometry.out_size[0]) * sh - top
    col0 = np.arange(geometry.out_size[1]) * sw - left
    k = np.arange(kh * kw)
    down, across = (k // kw) * dh, (k % kw) * dw
    flat = (row0[:, None] * width + col0[None, :]) + np.take(down * width + across, offset)
    if top or left:
        rows = row0[:, None] + np.take(down, offset)
        cols = col0[None, :] + np.take(across, offset)
        outside = (rows < 0) | (rows >= height) | (cols < 0) | (cols >= width)
        if outside.any():
            first = (_first_inside(row0, dh)[:, None] * width
                     + _first_inside(col0, dw)[None, :])
            flat = np.where(outside, first, flat)
    return flat


def _adaptive_taps(size: int, out: int) -> np.ndarray:
    """``(out, kmax)`` input positions of each adaptive window ``[floor(i*size/out),
    ceil((i+1)*size/out))``, the positions past a shorter window's end repeating its last."""
    start, end = adaptive_bounds(size, out)
    span = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(span)[None, :], end[:, None] - 1)


def _scan_taps(read, taps: int, follow=None):
    """The maximum over ``taps`` arrays ``read(t)``, which tap holds it (int8 or int32) and,
    if ``follow`` is given, ``follow(t)`` at that tap: the first maximum, or the last NaN when
    there is one (PyTorch's ``val > max || isnan(val)`` scan).  A loop over the taps of
    whole-array operations (``argmax`` over a short last axis is several times slower; the
    update ``choice += larger * (t - choice)`` several times faster than ``np.where`` or
    ``copyto(where=)`` on a random mask)."""
    best = read(0).copy()
    kind = np.int8 if taps <= 127 else np.int32
    choice = np.zeros(best.shape, dtype=kind)
    carried = None if follow is None else follow(0).copy()
    for t in range(1, taps):
        values = read(t)
        # strictly greater: an equal later element never takes the place of the first
        larger = (values > best).view(np.int8)
        choice += larger.astype(kind, copy=False) * (kind(t) - choice)
        if carried is not None:
            carried += larger.astype(carried.dtype, copy=False) * (follow(t) - carried)
        np.maximum(best, values, out=best)
    if best.dtype.kind == "f" and best.size and np.isnan(best.max()):
        for t in range(taps):  # only inputs holding a NaN pay for this pass
            nan = np.isnan(read(t))
            np.copyto(choice, t, where=nan)
            if carried is not None:
                np.copyto(carried, follow(t), where=nan)
    return best, choice, carried


def adaptive_max_indices(x: np.ndarray, out_size: tuple) -> np.ndarray:
    """Flat indices ``r * W + c`` of the maximum of each adaptive window (PyTorch's
    ``adaptive_max_pool2d``): its first maximum in row-major order, or its last NaN.
    ``(..., H, W) -> (..., oh, ow)`` int64.

    Three kernels, by window size (the choice is measured): windows of 2 or 4 elements that
    tile the plane are max pooling (:func:`max_pool_indices`); global pooling (one window:
    the whole plane, a view) and at most 64 windows of at least 64 elements (a long
    sequence into a few outputs) one ``argmax`` per window (:func:`adaptive_max_by_windows`,
    no transposed copy to allocate); the rest a scan over the window taps
    (:func:`adaptive_max_by_taps`), whose cost grows with the window's length."""
    (height, width), (oh, ow) = x.shape[-2:], out_size
    if oh == 0 or ow == 0 or x.size == 0:
        return np.zeros(x.shape[:-2] + (oh, ow), dtype=np.int64)
    if height % oh == 0 and width % ow == 0 and (height // oh) * (width // ow) <= 4:
        kernel = (height // oh, width // ow)
        return max_pool_indices(x, WindowGeometry((height, width), (oh, ow), kernel, kernel,
                                                  ((0, 0), (0, 0)), (1, 1)))
    window = _adaptive_taps(height, oh).shape[1] * _adaptive_taps(width, ow).shape[1]
    if (oh, ow) == (1, 1) or (window >= 64 and oh * ow <= 64):
        return adaptive_max_by_windows(x, out_size)
    return adaptive_max_by_taps(x, out_size)


def adaptive_max_by_windows(x: np.ndarray, out_size: tuple) -> np.ndarray:
    """:func:`adaptive_max_indices` by one ``argmax`` over each window's elements, for every
    plane at once: a loop over the ``oh * ow`` output positions (few when windows are
    large), each an ``argmax`` along a contiguous last axis.  ``argmax`` takes the first
    maximum, as PyTorch, but the first NaN: a window holding NaN is searched again, backwards,
    for its last NaN (only inputs with a NaN pay for it)."""
    (height, width), (oh, ow) = x.shape[-2:], out_size
    lead = x.shape[:-2]
    planes = int(np.prod(lead, dtype=np.int64))
    x3 = x.reshape(planes, height, width)
    (row0, row1), (col0, col1) = adaptive_bounds(height, oh), adaptive_bounds(width, ow)
    out = np.empty((planes, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            r0, r1, c0, c1 = int(row0[i]), int(row1[i]), int(col0[j]), int(col1[j])
            across = c1 - c0
            window = x3[:, r0:r1, c0:c1].reshape(planes, (r1 - r0) * across)
            k = np.argmax(window, axis=1)
            if window.dtype.kind == "f":
                found = window[np.arange(planes), k]
                if np.isnan(found).any():  # argmax stops at the first NaN: take the last
                    last = window.shape[1] - 1 - np.argmax(np.isnan(window[:, ::-1]), axis=1)
                    k = np.where(np.isnan(found), last, k)
            out[:, i, j] = (r0 + k // across) * width + c0 + k % across
    return out.reshape(lead + (oh, ow))


def adaptive_max_by_taps(x: np.ndarray, out_size: tuple) -> np.ndarray:
    """:func:`adaptive_max_indices` by scans over the window taps, separable: first each
    row's maximum over every column window (and where it is), then the maximum of those over
    every row window, carrying along where in its row the maximum lies.  The first maximum in
    row-major order lies in the first row whose maximum is the window's, at that row's first
    maximum (likewise for the last NaN).  Windows of unequal length are read as ``kmax`` taps
    repeating the last position, which moves neither.

    The planes are first laid out ``(H, W, planes)``, so every tap reads whole contiguous
    rows of ``planes`` elements: numpy on views with short strided runs (the window taps
    of ``(..., H, W)``) is several times slower, which cost more than this one transpose.
    Loops over the taps only."""
    (height, width), (oh, ow) = x.shape[-2:], out_size
    lead = x.shape[:-2]
    planes = int(np.prod(lead, dtype=np.int64))
    xt = np.ascontiguousarray(x.reshape(planes, height, width).transpose(1, 2, 0))  # (H, W, P)
    rows, cols = _adaptive_taps(height, oh), _adaptive_taps(width, ow)
    # each row's maximum over each column window, and its tap: (H, ow, P)
    row_max, col_tap, _ = _scan_taps(lambda t: xt[:, cols[:, t]], cols.shape[1])
    # the maximum over each row window, its row tap and that row's column tap: (oh, ow, P)
    best, row_tap, col_tap = _scan_taps(lambda t: row_max[rows[:, t]], rows.shape[1],
                                       lambda t: col_tap[rows[:, t]])
    # tap -> flat index: the window's start plus row_tap * W + col_tap, summed in the
    # narrowest integer that holds H * W, transposed back to (P, oh, ow) while widening
    (row0, row1), (col0, col1) = adaptive_bounds(height, oh), adaptive_bounds(width, ow)
    if best.dtype.kind == "f" and np.isnan(best.max()):
        # a last NaN may be found at a tap past a shorter window's end: its last position
        row_tap = np.minimum(row_tap, (row1 - row0 - 1)[:, None, None]).astype(row_tap.dtype)
        col_tap = np.minimum(col_tap, (col1 - col0 - 1)[None, :, None]).astype(col_tap.dtype)
    kind = np.int16 if height * width <= np.iinfo(np.int16).max else np.int64
    flat = row_tap.astype(kind) * kind(width)
    flat += col_tap
    flat += (row0[:, None] * width + col0[None, :]).astype(kind)[:, :, None]
    out = np.empty((planes, oh, ow), dtype=np.int64)
    out[...] = flat.transpose(2, 0, 1)
    return out.reshape(lead + (oh, ow))


def plane_flat(index: np.ndarray, size: tuple) -> np.ndarray:
    """Flat indices ``(..., h, w)`` into the planes ``(..., *size)`` -> int64 indices into the
    whole ravelled array (plane number times ``H * W`` added): what the plane gathers and
    scatters read and write with one ``take`` / assignment, computed once per graph node
    pair (``ctx.flat``) since it costs as much as the gather itself."""
    lead = index.shape[:-2]
    count = int(np.prod(lead, dtype=np.int64))
    offsets = (np.arange(count, dtype=np.int64) * (size[0] * size[1])).reshape(lead + (1, 1))
    return np.add(index, offsets, dtype=np.int64)


def plane_gather(x: np.ndarray, index: np.ndarray, flat=None) -> np.ndarray:
    """``x[..., index]`` within each ``(H, W)`` plane: ``(..., H, W)``, int64 ``(..., h, w)``
    flat indices -> ``(..., h, w)``.  ``flat``: :func:`plane_flat` of ``index``, if known."""
    if flat is None:
        flat = plane_flat(index, x.shape[-2:])
    return np.take(x.reshape(-1), flat)


def plane_scatter_add(g: np.ndarray, index: np.ndarray, size: tuple, flat=None) -> np.ndarray:
    """Adjoint of :func:`plane_gather`: ``(..., h, w)`` values added at their flat indices of
    ``(..., *size)`` planes (repeated indices accumulate), by one ``np.add.at``."""
    if flat is None:
        flat = plane_flat(index, size)
    out = np.zeros(g.shape[:-2] + tuple(size), dtype=g.dtype)
    np.add.at(out.reshape(-1), flat.reshape(-1), g.reshape(-1))
    return out


def plane_scatter(g: np.ndarray, index: np.ndarray, size: tuple, flat=None) -> np.ndarray:
    """``max_unpool2d``: zeros of ``(..., *size)`` with each value written at its flat index
    (when an index repeats, the last write wins, as PyTorch's CPU loop and numpy's fancy
    assignment)."""
    if flat is None:
        flat = plane_flat(index, size)
    out = np.zeros(g.shape[:-2] + tuple(size), dtype=g.dtype)
    out.reshape(-1)[flat.reshape(-1)] = g.reshape(-1)
    return out
