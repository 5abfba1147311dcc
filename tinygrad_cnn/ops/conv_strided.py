"""The three convolution kernels of ``"im2col_phases"``: im2col for strided layers through
*stride phases* in a flat layout (numpy in, numpy out, the interface of :mod:`.conv_gemm`).

Why: a strided window reads every ``s``-th element, so im2col's window copies
(:func:`.im2col.im2col`) run ``Wo`` elements with a stride per inner loop, and col2im adds
them back the same way; numpy spends a few nanoseconds per inner loop whatever its length.
Split the padded input into its ``sH * sW`` *phases*, ``x_ab[r, q] = x_pad[r*sH + a,
q*sW + b]``, and the kernel alike, ``w_ab[u', v'] = w[u'*sH + a, v'*sW + b]``: then the
strided correlation is the sum over phases of stride-1 correlations,

    ``y[i, j] = sum_ab sum_u'v' w_ab[u', v'] x_ab[i + u', j + v']``,

with the same ``kH*kW`` products per output (the phase kernels partition the kernel).  Each
phase plane is stored with ``R = Ho + ceil(kH/sH) - 1`` rows of ``S = Wo + ceil(kW/sW) - 1``
columns and the planes of all images one after the other in ONE flat run per channel and
phase; outputs are computed at every ``(n, r, q)`` of that grid (the ``R*S - Ho*Wo``
extra positions per image read a neighbouring row or image and are thrown away), so the
im2col row of tap ``(c, a, b, u', v')`` is one contiguous run of the flat plane shifted by
``u'*S + v'``: ``C*kH*kW`` long copies per chunk of images, none per output row.

* forward          ``Y (C_out, n*R*S) = W' @ cols`` per chunk (``W'`` the weight with its
  kernel columns in phase order), the extra positions dropped while writing
  ``(N, C_out, Ho, Wo)`` (bias added in the same pass).
* weight gradient  ``dW'^T (C*kH*kW, C_out) = cols @ dY'^T`` per chunk (``dY'`` the output
  gradient on the ``(n, R, S)`` grid, zero at the extra positions, whose terms are then
  ``x * 0``), the chunks' partial sums added in chunk order.  (This orientation runs the
  GEMM 1.5x faster than ``dY' @ cols^T`` for these skinny shapes.)
* input gradient   ``dcols = W'^T @ dY'`` and a flat col2im: ``kH*kW`` long adds per
  channel into the flat phase planes, which are then written back into ``(N, C, H, W)``
  (``sH*sW`` strided copies).  The extra columns of ``dcols`` are ``W'^T @ 0 = 0``.

Accuracy: every output is the sum of the same products as im2col's, plus exact zeros, so
the rounding is im2col's.  An extra-position term is ``0 * value`` (weight gradient: a value
of ``x``; input gradient: a weight), NaN when that value is infinite: then these two
compute with :mod:`.conv_gemm` instead (the check is on the operand, one sum over ``x``
or the small weight, :func:`.conv_accuracy.all_finite`, once per training step), so NaN/inf
propagate exactly as under im2col.

The batch is cut into equal chunks of images, at least two (whatever the thread count, so
the weight gradient's sum over chunks does not depend on it; :func:`.threads.batch_chunks`)
and each holding at most about ``CHUNK_BYTES`` of columns: few, long numpy calls. Measured
forward+backward at 1 / 2 threads on (d) and ResNet-8's two 3x3 stride-2 layers, against
chunks of 1.5 MiB (the last one short): (d) 9.1 / 7.6 -> 9.1 / 6.5 ms, (64,16,32,32)->32
14.1 / 10.7 -> 13.4 / 8.8, (64,32,16,16)->64 10.0 / 7.8 -> 9.3 / 6.8 (with two threads
every numpy call's Python side waits for the GIL, and on this VM handing the GIL over
costs more than the cache misses of a bigger chunk).
With ``set_num_threads(n > 1)`` the chunks are split over ``n`` threads
(:func:`.threads.map_chunks`): each chunk writes only its own images' output, input
gradient planes or partial weight gradient.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import NamedTuple

import numpy as np

from . import conv_gemm, conv_memo, conv_pointwise
from .conv_accuracy import all_finite
from .geometry import WindowGeometry
from .threads import batch_chunks, map_chunks

CHUNK_BYTES = 6 << 20
BLOCK_BYTES = 1 << 19


_scratch = threading.local()


def _buffer(name: str, shape, dtype) -> np.ndarray:
    """A scratch array of ``shape`` (uninitialised), kept per thread and reused by the next
    call: fresh arrays of a chunk's size cost page faults each time (measured: the forward
    of bench_conv.py's (d) 2.6 ms with reused buffers, 5 ms without). At most a few
    chunk-sized buffers per thread; never returned to the caller."""
    size = math.prod(shape) * np.dtype(dtype).itemsize
    store = _scratch.__dict__
    buffer = store.get(name)
    if buffer is None or buffer.size < size:
        buffer = store[name] = np.empty(max(size, 1), np.uint8)
    return buffer[:size].view(dtype).reshape(shape)


def supports(geometry: WindowGeometry) -> bool:
    """Whether the phase layout computes ``geometry``: dilation 1 (any stride, padding,
    groups; stride 1 is the one-phase case)."""
    return tuple(geometry.dilation) == (1, 1)


class _Axis(NamedTuple):
    """One axis of the layout: ``stride``, rows (or columns) per phase plane ``extent``, and
    per phase ``a``: its kernel taps ``taps[a]`` (``u = u'*stride + a``) and where its plane
    meets the input, ``(first plane row, first input row, count)``."""

    stride: int
    extent: int
    taps: tuple
    spans: tuple

    @classmethod
    def of(cls, size: int, out: int, kernel: int, stride: int, before: int) -> _Axis:
        most = -(-kernel // stride)                       # ceil: taps of phase 0
        extent = out + most - 1
        taps, spans = [], []
        for a in range(stride):
            taps.append(len(range(a, kernel, stride)))
            # plane row r holds input row r*stride + a - before, when inside the input
            first = max(0, -(-(before - a) // stride))
            last = min(extent, (size - 1 + before - a) // stride + 1)
            spans.append((first, first * stride + a - before, max(0, last - first)))
        return cls(stride, extent, tuple(taps), tuple(spans))

    def covers(self, size: int) -> bool:
        """Whether every input row has a plane row (else the uncovered rows, read by no
        window, get zero gradient)."""
        return sum(count for _, _, count in self.spans) == size


class PhaseLayout(NamedTuple):
    """The flat phase layout of a geometry (see the module docstring): ``rows`` axis and
    ``cols`` axis, the phases ``(a, b)`` that have taps, per phase its taps' offsets in the
    flat run, ``order`` (the weight's flat kernel index of each row of the column matrix
    within a channel, phase by phase) and ``tail``, the zeros after the last plane that
    the extra positions of the last image read."""

    rows: _Axis
    cols: _Axis
    phases: tuple
    offsets: tuple
    order: np.ndarray
    tail: int

    @classmethod
    @functools.lru_cache(maxsize=64)
    def of(cls, geometry: WindowGeometry) -> PhaseLayout:
        """The layout of ``geometry`` (cached: a training step asks three times)."""
        (kh, kw), (sh, sw) = geometry.kernel, geometry.stride
        (top, _), (left, _) = geometry.padding
        rows = _Axis.of(geometry.in_size[0], geometry.out_size[0], kh, sh, top)
        cols = _Axis.of(geometry.in_size[1], geometry.out_size[1], kw, sw, left)
        phases, offsets, order = [], [], []
        for a in range(sh):
            for b in range(sw):
                if rows.taps[a] and cols.taps[b]:
                    phases.append((a, b))
                    offsets.append(tuple(u * cols.extent + v for u in range(rows.taps[a])
                                         for v in range(cols.taps[b])))
                    order.extend((u * sh + a) * kw + v * sw + b for u in range(rows.taps[a])
                                 for v in range(cols.taps[b]))
        tail = (rows.taps[0] - 1) * cols.extent + cols.taps[0] - 1
        order = np.array(order)
        order.flags.writeable = False
        return cls(rows, cols, tuple(phases), tuple(offsets), order, tail)

    @property
    def plane(self) -> int:
        """Elements per image plane: ``R * S``."""
        return self.rows.extent * self.cols.extent

    @property
    def span(self) -> int:
        """Positions computed per image: ``Ho * S``."""
        return (self.rows.extent - self.rows.taps[0] + 1) * self.cols.extent


def _array(name: str, shape, dtype) -> np.ndarray:
    """A fresh array when a memo keeps it (:mod:`.conv_memo`), else this thread's scratch."""
    if conv_memo.active() is None:
        return _buffer(name, shape, dtype)
    return np.empty(shape, dtype)


def _phase_slices(layout: PhaseLayout, images: slice):
    """For each phase with input rows and columns: the index of its block in the phase planes
    ``(C, phases, N, R, S)`` and of the input elements it holds in ``(C, N, H, W)``, for
    the batch's ``images``."""
    sh, sw = layout.rows.stride, layout.cols.stride
    for index, (a, b) in enumerate(layout.phases):
        (r0, h0, nh), (q0, w0, nw) = layout.rows.spans[a], layout.cols.spans[b]
        if nh and nw:
            yield ((slice(None), index, images, slice(r0, r0 + nh), slice(q0, q0 + nw)),
                   (slice(None), images, slice(h0, h0 + (nh - 1) * sh + 1, sh),
                    slice(w0, w0 + (nw - 1) * sw + 1, sw)))


def _blocks(batch: int, per_image: int) -> list:
    """The batch in blocks of images of about ``BLOCK_BYTES`` (``per_image`` bytes each): the
    layout moves (:func:`_split`, :func:`_merge`, :func:`_grad_grid`) go block by block, so
    each block's strided reads and writes stay in cache, and over
    :func:`.threads.map_chunks`'s threads."""
    size = max(1, min(batch, BLOCK_BYTES // max(per_image, 1)))
    return [slice(start, min(start + size, batch)) for start in range(0, batch, size)]


def _planes(runs: np.ndarray, layout: PhaseLayout, n: int) -> np.ndarray:
    """The flat runs ``(C, phases, N*R*S + ...)`` as planes ``(C, phases, N, R, S)``."""
    return runs[:, :, :n * layout.plane].reshape(runs.shape[0], len(layout.phases), n,
                                                 layout.rows.extent, layout.cols.extent)


def _split(x: np.ndarray, layout: PhaseLayout, dtype) -> np.ndarray:
    """x ``(N, C, H, W)`` -> its phase planes, flat: ``(C, phases, N*R*S + tail)``, zero
    where a plane row or column lies in the padding or beyond the input."""
    n, channels = x.shape[:2]
    runs = _array("runs", (channels, len(layout.phases), n * layout.plane + layout.tail), dtype)
    runs[:, :, n * layout.plane:] = 0
    planes = _planes(runs, layout, n)
    by_channel = x.transpose(1, 0, 2, 3)

    def block(images):
        planes[:, :, images] = 0
        for in_plane, in_image in _phase_slices(layout, images):
            planes[in_plane] = by_channel[in_image]

    map_chunks(block, _blocks(n, x[0].nbytes))
    return runs


def _merge(runs: np.ndarray, layout: PhaseLayout, shape, dtype) -> np.ndarray:
    """The adjoint of :func:`_split`: flat phase planes -> ``(N, C, H, W)``."""
    n, channels = shape[:2]
    covered = layout.rows.covers(shape[2]) and layout.cols.covers(shape[3]) and \
        len(layout.phases) == layout.rows.stride * layout.cols.stride
    image = (np.empty if covered else np.zeros)(shape, dtype)
    planes = _planes(runs, layout, n)
    by_channel = image.transpose(1, 0, 2, 3)

    def block(images):
        for in_plane, in_image in _phase_slices(layout, images):
            by_channel[in_image] = planes[in_plane]

    map_chunks(block, _blocks(n, image[0].nbytes))
    return image


def _taps_view(runs: np.ndarray, index: int, layout: PhaseLayout, images: slice,
               positions: int) -> np.ndarray:
    """Read-only view ``(C, Ka, Kb, n, positions)`` of phase ``index``'s flat planes (C
    contiguous): element ``[c, u', v', k, p]`` is the run of tap ``(u', v')`` at position
    ``p`` of the chunk's image ``k``; whole planes (``positions == R*S``) as one run
    ``(C, Ka, Kb, n*R*S)``. (``np.ndarray`` on the buffer: ``as_strided`` costs 10 us.)"""
    a, b = layout.phases[index]
    count = images.stop - images.start
    item = runs.itemsize
    offset = (index * runs.shape[2] + images.start * layout.plane) * item
    head = (runs.shape[0], layout.rows.taps[a], layout.cols.taps[b])
    strides = (runs.strides[0], layout.cols.extent * item, item)
    if positions == layout.plane:
        shape, strides = head + (count * positions,), strides + (item,)
    else:
        shape, strides = head + (count, positions), strides + (layout.plane * item, item)
    view = np.ndarray(shape, runs.dtype, buffer=runs, offset=offset, strides=strides)
    view.flags.writeable = False
    return view


def _columns(runs: np.ndarray, layout: PhaseLayout, images: slice,
             positions: int) -> np.ndarray:
    """The column matrix ``(C*kH*kW, n*positions)`` of a chunk of images from the flat
    planes (``positions`` per image: ``layout.span`` or ``layout.plane``): rows by channel,
    then phase, then tap; one copy per phase."""
    count = images.stop - images.start
    channels, taps = runs.shape[0], len(layout.order)
    out = _buffer("cols", (channels * taps, count * positions), runs.dtype)
    block = out.reshape(channels, taps, count * positions)
    row = 0
    for index, (a, b) in enumerate(layout.phases):
        ka, kb = layout.rows.taps[a], layout.cols.taps[b]
        view = _taps_view(runs, index, layout, images, positions)
        block[:, row:row + ka * kb].reshape(view.shape)[...] = view
        row += ka * kb
    return out


def _add_columns(runs: np.ndarray, cols: np.ndarray, layout: PhaseLayout,
                 images: slice) -> None:
    """The adjoint of :func:`_columns` at whole planes (a flat col2im) on ``runs``: each row
    of ``cols`` added onto its shifted run, clipped to the chunk's own planes (the clipped
    terms are extra positions, zero, and another chunk's planes may be in use by another
    thread). Each phase's first tap (offset 0) covers the chunk's planes whole, so it is
    written, not added: ``runs`` needs no zeroing. One long add per row: numpy adds a 2-D
    view 3x slower."""
    start, stop = images.start * layout.plane, images.stop * layout.plane
    block = cols.reshape(runs.shape[0], len(layout.order), stop - start)
    row = 0
    for index, offsets in enumerate(layout.offsets):
        for offset in offsets:
            target = runs[:, index, start + offset:stop]
            if offset:
                target += block[:, row, :stop - start - offset]
            else:
                target[...] = block[:, row]
            row += 1


def _grad_grid(grad_out: np.ndarray, layout: PhaseLayout, dtype) -> np.ndarray:
    """The output gradient on the ``(N, R, S)`` grid, ``(C_out, N*R*S)``, zero at the extra
    positions."""
    (n, out_channels), (ho, wo) = grad_out.shape[:2], grad_out.shape[2:]
    grid = _array("grid_g", (out_channels, n, layout.rows.extent, layout.cols.extent), dtype)
    by_channel = grad_out.transpose(1, 0, 2, 3)

    def block(images):
        grid[:, images, ho:] = 0
        grid[:, images, :ho, wo:] = 0
        grid[:, images, :ho, :wo] = by_channel[:, images]

    map_chunks(block, _blocks(n, grad_out[0].nbytes))
    return grid.reshape(out_channels, n * layout.plane)


def _planes_of(x, geometry, layout, dtype):
    return conv_memo.remembered("phase planes", x, (geometry, np.dtype(dtype)),
                                lambda: _split(x, layout, dtype))


def _grid_of(grad_out, geometry, layout, dtype):
    return conv_memo.remembered("phase grid", grad_out, (geometry, np.dtype(dtype)),
                                lambda: _grad_grid(grad_out, layout, dtype))


def _weight_matrix(weight: np.ndarray, layout: PhaseLayout) -> np.ndarray:
    """``(C_out, C/groups, kH, kW)`` -> ``(C_out, C/groups * kH*kW)``, each channel's kernel
    columns in the layout's phase order."""
    out_channels, per_group = weight.shape[:2]
    flat = weight.reshape(out_channels, per_group, -1)
    return flat[:, :, layout.order].reshape(out_channels, -1)


def _chunks(batch: int, layout: PhaseLayout, channels: int, itemsize: int):
    """The batch in equal slices of images (see the module docstring)."""
    return batch_chunks(batch, channels * len(layout.order) * layout.plane * itemsize,
                        CHUNK_BYTES)


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``."""
    n, channels = x.shape[:2]
    if not supports(geometry) or not n:
        return conv_gemm.conv2d_forward(x, weight, geometry, bias)
    if conv_pointwise.supports(geometry):
        return conv_pointwise.conv2d_forward(x, weight, geometry, bias)
    layout = PhaseLayout.of(geometry)
    dtype = np.result_type(x, weight)
    runs = _planes_of(x, geometry, layout, dtype)
    matrix = _weight_matrix(weight.astype(dtype, copy=False), layout)
    out_channels, (ho, wo) = weight.shape[0], geometry.out_size
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(channels * len(layout.order))
    out = np.empty((n, out_channels, ho, wo), dtype)

    def chunk(images):
        cols = _columns(runs, layout, images, layout.span)
        grid = _buffer("grid", (out_channels, cols.shape[1]), dtype)
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(matrix[o], cols[c], out=grid[o])
        grid = grid.reshape(out_channels, -1, ho, layout.cols.extent)
        target = out[images].transpose(1, 0, 2, 3)
        if bias is None:
            target[...] = grid[..., :wo]
        else:
            np.add(grid[..., :wo], bias.reshape(-1, 1, 1, 1), out=target)

    map_chunks(chunk, _chunks(n, layout, channels, np.dtype(dtype).itemsize))
    return out


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                      bias: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    n, out_channels = grad_out.shape[:2]
    if supports(geometry) and n and conv_pointwise.supports(geometry):
        return conv_pointwise.conv2d_input_grad(grad_out, weight, geometry, bias)
    if not supports(geometry) or not n or not all_finite(weight):
        return conv_gemm.conv2d_input_grad(grad_out, weight, geometry, bias)
    layout = PhaseLayout.of(geometry)
    dtype = np.result_type(grad_out, weight)
    channels = weight.shape[1] * geometry.groups
    matrix = _weight_matrix(weight.astype(dtype, copy=False), layout)
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(channels * len(layout.order))
    runs = _buffer("sums", (channels, len(layout.phases), n * layout.plane), dtype)
    grids = _grid_of(grad_out, geometry, layout, dtype)

    def chunk(images):
        grid = grids[:, images.start * layout.plane:images.stop * layout.plane]
        cols = _buffer("cols", (channels * len(layout.order), grid.shape[1]), dtype)
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(matrix[o].T, grid[o], out=cols[c])
        _add_columns(runs, cols, layout, images)

    map_chunks(chunk, _chunks(n, layout, channels, np.dtype(dtype).itemsize))
    image = _merge(runs, layout, (n, channels) + tuple(geometry.in_size), dtype)
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray,
                       geometry: WindowGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``."""
    n, channels = x.shape[:2]
    if supports(geometry) and n and conv_pointwise.supports(geometry):
        return conv_pointwise.conv2d_weight_grad(x, grad_out, geometry)
    if not supports(geometry) or not n or not all_finite(x):
        return conv_gemm.conv2d_weight_grad(x, grad_out, geometry)
    layout = PhaseLayout.of(geometry)
    dtype = np.result_type(x, grad_out)
    out_channels = grad_out.shape[1]
    runs = _planes_of(x, geometry, layout, dtype)
    grids = _grid_of(grad_out, geometry, layout, dtype)
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(channels * len(layout.order))
    per_group = len(layout.order) * channels // geometry.groups

    def chunk(images):
        cols = _columns(runs, layout, images, layout.plane)
        grid = grids[:, images.start * layout.plane:images.stop * layout.plane]
        partial = np.empty((per_group, out_channels), dtype)       # dW'^T
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(cols[c], grid[o].T, out=partial[:, o])
        return partial

    partials = map_chunks(chunk, _chunks(n, layout, channels, np.dtype(dtype).itemsize))
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    kh, kw = geometry.kernel
    result = np.empty((out_channels, channels // geometry.groups, kh * kw), dtype)
    result[:, :, layout.order] = total.T.reshape(out_channels, -1, len(layout.order))
    return result.reshape(out_channels, -1, kh, kw)
