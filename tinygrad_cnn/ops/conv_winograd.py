"""The three convolution kernels of the Winograd algorithm for 3x3, stride-1, undilated
convolutions (numpy in, numpy out; any padding, any groups).

Winograd's minimal filtering F(m x m, 3 x 3) (Lavin & Gray, 2015) computes an ``m x m`` tile
of outputs from an ``a x a`` input tile (``a = m + 2``) with ``a*a`` multiplications instead
of ``9*m*m``: with the transforms ``B^T (a, a)``, ``G (a, 3)``, ``A^T (m, a)``

    ``Y_tile = A^T [ (G W G^T) * (B^T D_tile B) ] A``       (``*`` elementwise)

Summed over input channels, the elementwise product at each of the ``a*a`` "frequencies"
``xi`` is a matrix product, ``M[xi]^T (C_out, tiles) = U[xi]^T (C_out, C) @ V[xi]^T (C, tiles)``,
so the work is ``a*a`` GEMMs (one per frequency, over a band of tiles) plus the transforms,
each done as thin GEMMs over whole arrays of tiles.

* forward         the formula above, ``m = 4`` (36 products for 16 outputs: 4x fewer
  multiplications than the direct method) or ``m = 2`` (16 for 4: 2.25x fewer);
* input gradient  the transposed convolution is the correlation of the output gradient,
  zero-padded by 2 on each side, with the kernel rotated 180 degrees and its channel axes
  swapped (per group): the forward kernel on those operands, then the padding dropped;
* weight gradient the adjoint of the forward in ``W``:
  ``dW = G^T [ sum_tiles (A dY_tile A^T) * (B^T D_tile B) ] G``, the sum over tiles and images
  again one GEMM per frequency, ``Sigma[xi] (C_out, C) = dY~[xi]^T (C_out, tiles) @ V[xi]``.

Accuracy (tested in ``tests/test_conv_winograd.py``). F(2x2, 3x3)'s transforms hold only 0,
+-1 and +-1/2 (exact in binary) and each output's arithmetic reads only its own 3x3 window
(the terms ``y0`` uses come from ``d0..d2``, ``y1``'s from ``d1..d3``, per axis), so its
rounding error has the direct method's form, a small multiple of ``eps * sum |w| |x|`` over
the output's own window: measured within 2x of im2col's error, in float32 and float64.
F(4x4, 3x3)'s transforms hold up to 5 and 1/24 and mix a whole 6x6 tile with cancellation,
so its error follows the largest values in the tile. Its bound, the standard one of a
bilinear algorithm: each output's error is at most ``(C/groups + 40) * eps * S``, where
``S`` is the same computation run on absolute values (``|A^T| [ (|G| |W| |G^T|) * (|B^T| |D|
|B|) ] |A|`` summed over channels; for the weight gradient the sum runs over the tiles,
``(tiles + 40) * eps``). ``S`` exceeds the direct method's scale ``sum |w| |x|`` over the
window by the transforms' growth (median 61x on random data), and the measured error uses
1-2% of the bound: float32 2-9e-6 of ``max |y|`` on random data (im2col 2-7e-7; PyTorch's
own weight gradient 2-4e-6), float64 about 1e-14. "auto" therefore takes F(4x4) only for
float16/float32 data and only where the program allows reduced float32 precision in
convolutions, as PyTorch spells it (``backends.mkldnn.conv.fp32_precision = "tf32"`` or
``"bf16"``; default ``"ieee"``: :mod:`tinygrad_cnn.ops.precision`), and F(2x2) otherwise
(:mod:`.conv_select`). Both transform by matrix products, which multiply every value of a
tile (zeros included), so a NaN or inf spreads over its tile: "auto" keeps non-finite data
on im2col.

Layout (each choice timed against the alternatives at one thread; see
``docs/performance.md``):

* input side: each group of images is copied once into a zero-padded channels-last scratch
  ``(n, Hq, Wq, C)`` (the transposing copy ``TRANSPOSE_CHANNELS`` channels at a time, which
  also keeps 32x32 float32 planes, 4 KiB apart, out of 4K aliasing); ``B^T`` then acts on a
  band's overlapping tiles in place, with no gathering copy: along the tile rows as
  ``(a, a) @ (a, Wq*C)`` products on strided views of each tile row's ``a`` plane rows, then
  along the tile columns as ``(a, a) @ (a, C)`` products on strided views of that result,
  written straight into ``V (a, a, tiles, C)`` (measured against gathering the tiles first:
  (c)'s band 103 -> 66 us, (b)'s and the ResNet-8 layers' unchanged);
* the GEMMs read ``U[xi]^T`` and ``V[xi]^T`` as transposed views of ``U (a, a, Cg, C_out)``
  and ``V`` and write ``M^T[xi] (C_out, tiles)``: the output comes out channels-first, with
  no transposing copy. (OpenBLAS runs these small products at full speed with both operands
  transposed or neither, but at about half speed with only one: a contiguous ``U^T`` with
  the transposed ``V`` measured 78 against 139 GFLOP/s on (b)'s bands.)
* output side: ``A^T`` along the tile rows (a left product), then along the tile columns as
  a right product, which leaves each tile row of outputs as ``m`` consecutive values, so the
  tiles reach ``(N, C_out, Ho, Wo)`` in one copy whose runs are whole output rows (bias
  added on the way). The weight gradient's ``dY`` side is the adjoint of those steps.
* bands: about ``CHUNK_BYTES`` of transformed tiles (in cache between the passes) but at
  least ``MIN_TILES`` tiles (each band's GEMMs re-read the whole transformed kernel) and,
  up to twice ``CHUNK_BYTES``, ``MIN_BAND_MACS`` GEMM multiply-adds (a band's two dozen numpy
  calls hold the GIL for their Python side: with few channels, as in bench_conv.py's (b),
  a third of the time at one thread, which a second thread waited on); the
  weight gradient uses the same bands (each band's GEMMs sum over its tiles; measured 0.53-0.6x
  the time of whole-image groups on (b) and on (c) under F(2x2)) and adds them up in
  ``PARTIAL_SUMS`` fixed runs (one reused term array per run). OpenBLAS runs the thin
  ``(a, a) @ (a, L)`` transform products at about 0.15-0.3 ns per output for any ``L`` from
  32 up to ~30k and slower beyond, so a transform is a batch of such products, one per
  value of the other axes, never one product over a whole band. Fresh arrays per band
  measured faster than per-thread scratch buffers reused across bands and calls.

With ``set_num_threads(n > 1)`` the groups are split over ``n`` threads
(:func:`.threads.map_chunks`), each thread's BLAS on one core; at two threads, where the
helper process of :mod:`.second_core` is up and the op is big enough, the images from a
cut on (the weight gradient's run boundary nearest half the batch, ``share_cut``) go to
the helper instead, which runs the same group and run functions on them
(:func:`forward_share`, :func:`weight_grad_share`: the same bits as one thread) and keeps
its forward share's tiles for the weight gradient's share of the same images (measured:
``docs/performance_log.md``, "Fifth sitting").
"""

from __future__ import annotations

import collections
import functools
import itertools
from typing import NamedTuple

import numpy as np

from . import conv_memo
from .conv_gemm import adjoint_weight
from .geometry import WindowGeometry
from .second_core import second_core, share_cut, shifted
from .threads import even_slices, map_chunks

CHUNK_BYTES = 1 << 20          # transformed tiles (input and output side) per band
MIN_TILES = 64                 # ... but at least this many tiles per band
TRANSPOSE_CHANNELS = 32        # channels per transposing copy (see the scratch)
MIN_BAND_MACS = 1 << 23        # ... and this many GEMM multiply-adds (up to 2 * CHUNK_BYTES)
PARTIAL_SUMS = 16              # weight-gradient partial sums, whatever the thread count
HELPER_KEPT_OPS = 2            # forwards whose tiles the helper keeps for a weight gradient

_HELPER_TOKEN = "second core"  # the key of a kept-tiles dict naming the helper's share
_helper_tokens = itertools.count()
_helper_kept: collections.OrderedDict = collections.OrderedDict()   # in the helper process

# Lavin & Gray's transforms; F(m) -> (B^T, G, A^T).
_TRANSFORMS = {
    2: ([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]]),
    4: ([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
         [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
        [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
         [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]),
}


def supports(geometry: WindowGeometry) -> bool:
    """Whether Winograd computes this geometry: a 3x3 kernel, stride 1, dilation 1 (1-D
    convolutions, lifted to a 1-row 2-D kernel, are not 3x3 and stay on im2col)."""
    return (tuple(geometry.kernel) == (3, 3) and tuple(geometry.stride) == (1, 1)
            and tuple(geometry.dilation) == (1, 1))


@functools.lru_cache(maxsize=16)
def _matrices(m: int, dtype):
    """``(B^T, G, A^T)`` of F(m) in ``dtype`` (read-only, made once)."""
    matrices = tuple(np.array(t, dtype=dtype) for t in _TRANSFORMS[m])
    for matrix in matrices:
        matrix.flags.writeable = False
    return matrices


def _tiles(size: int, m: int) -> int:
    return -(-size // m)


def _channels_last_scratch(block: np.ndarray, shape, offset, dtype) -> np.ndarray:
    """Zeros ``(n, Hq, Wq, C)`` (``shape = (Hq, Wq)``) holding ``block (n, C, h, w)``
    channels last with its top left corner at ``offset`` (negative: cropped), the rest
    cut off: the zero padding of a convolution and the tile padding in one copy (cast to
    ``dtype`` on the way).

    The transposing copy goes ``TRANSPOSE_CHANNELS`` channels at a time: its inner loop
    reads one value per plane, and a few dozen planes' cache lines stay in L1 where a
    hundred (or planes 4 KiB apart, 32x32 float32, all in one cache set) would not:
    measured 0.45 ns per element against 0.6-0.8 for the whole transpose at once."""
    n, c, h, w = block.shape
    hq, wq = shape
    (rows, src_rows), (cols, src_cols) = (_overlap(o, size, dest) for o, size, dest in
                                          zip(offset, (h, w), shape, strict=True))
    source = block[:, :, src_rows, src_cols].transpose(0, 2, 3, 1)
    scratch = np.empty((n, hq, wq, c), dtype=dtype)
    _zero_border(scratch, rows, cols)
    inner = scratch[:, rows, cols]
    for start in range(0, c, TRANSPOSE_CHANNELS):
        part = slice(start, start + TRANSPOSE_CHANNELS)
        np.copyto(inner[..., part], source[..., part], casting="unsafe")
    return scratch


def _overlap(offset: int, size: int, dest: int):
    """Destination and source slices of a ``size``-long axis placed at ``offset`` in a
    ``dest``-long one."""
    start, stop = max(offset, 0), min(offset + size, dest)
    stop = max(stop, start)
    return slice(start, stop), slice(start - offset, stop - offset)


def _zero_border(scratch: np.ndarray, rows: slice, cols: slice) -> None:
    """Zero ``scratch (n, Hq, Wq, C)`` outside ``[rows, cols]``."""
    scratch[:, :rows.start] = 0
    scratch[:, rows.stop:] = 0
    scratch[:, rows, :cols.start] = 0
    scratch[:, rows, cols.stop:] = 0


def _plan(batch: int, tiles: tuple, tile_bytes: int, tile_macs: int = 0) -> list:
    """The batch's work as ``[(images, bands)]``: groups of whole images, each with its
    bands of tile rows. A band holds about ``CHUNK_BYTES`` of transformed tiles
    (``tile_bytes`` each), so they stay in cache from one pass to the next, but at least
    ``MIN_TILES`` tiles, so the frequency-wise GEMMs stay efficient (each re-reads the whole
    transformed kernel), and, up to ``2 * CHUNK_BYTES``, at least ``MIN_BAND_MACS``
    multiply-adds in its GEMMs (``tile_macs`` per tile): a band costs a fixed two dozen numpy
    calls whose Python side holds the GIL, which with few channels was a third of the time
    and kept a second thread waiting. A group is several images when one image's tiles fit
    in a band (one band each), else one image cut into bands."""
    th, tw = tiles
    row_bytes = max(tw * tile_bytes, 1)
    busy = min(-(-MIN_BAND_MACS // max(tw * tile_macs, 1)), 2 * CHUNK_BYTES // row_bytes) \
        if tile_macs else 0
    rows = max(1, -(-MIN_TILES // tw), CHUNK_BYTES // row_bytes, busy)
    if rows >= th:
        return [(images, [slice(0, th)])
                for images in even_slices(batch, -(-batch // max(1, rows // max(th, 1))))]
    bands = even_slices(th, -(-th // rows))
    return [(slice(i, i + 1), bands) for i in range(batch)]


def _plan_and_macs(n: int, channels: int, out_channels: int, groups: int, tiles: tuple,
                   m: int, dtype) -> tuple[list, int]:
    """The :func:`_plan` of ``n`` images of ``tiles`` tiles (empty when there are none) and
    its frequency-wise GEMMs' multiply-adds: one for a forward and the weight gradient of
    the same input, so both cut the batch alike (the helper's share of the weight gradient
    finds the tiles its share of the forward kept)."""
    a = m + 2
    tile_macs = a * a * (channels // groups) * out_channels
    if not (n and tiles[0] and tiles[1]):
        return [], 0
    tile_bytes = a * a * (channels + out_channels) * np.dtype(dtype).itemsize
    return _plan(n, tiles, tile_bytes, tile_macs), n * tiles[0] * tiles[1] * tile_macs


def _input_transform(scratch: np.ndarray, rows: slice, m: int, tw: int,
                     bt: np.ndarray) -> np.ndarray:
    """``V (a, a, T, C) = B^T D B`` for every tile ``D`` of tile rows ``rows`` of a
    channels-last ``scratch (n, Hq, Wq, C)`` (``T`` tiles, image-major, then tile rows, then
    columns), by two batches of thin GEMMs reading the overlapping tiles in place (no
    gathering copy): ``B^T`` along the rows of each tile row's ``a`` plane rows
    (``(a, a) @ (a, Wq*C)``, one product per image and tile row), then along the columns
    of each tile (``(a, a) @ (a, C)``, one per image, tile row, row index and tile column),
    written straight into ``V``'s layout."""
    a = m + 2
    count, _, wq, channels = scratch.shape
    nr = rows.stop - rows.start
    s_n, s_h = scratch.strides[:2]
    windows = np.ndarray((count, nr, a, wq * channels), scratch.dtype, buffer=scratch,
                         offset=rows.start * m * s_h,
                         strides=(s_n, m * s_h, s_h, scratch.itemsize))
    half = np.empty((count, nr, a, wq, channels), scratch.dtype)
    np.matmul(bt, windows, out=half.reshape(count, nr, a, wq * channels))   # B^T D
    h = half.strides
    columns = np.ndarray((count, nr, a, tw, a, channels), scratch.dtype, buffer=half,
                         strides=(h[0], h[1], h[2], m * h[3], h[3], h[4]))
    v = np.empty((a, a, count, nr, tw, channels), scratch.dtype)
    np.matmul(bt, columns, out=v.transpose(2, 3, 0, 4, 1, 5))             # (B^T D) B
    return v.reshape(a, a, count * nr * tw, channels)


def _output_transform(product: np.ndarray, m: int, at: np.ndarray) -> np.ndarray:
    """``M^T (a, a, C_out, T)`` -> ``(m, C_out*T, m)``, ``A^T M A`` per tile with the tile's
    row index first and its column index last, so each tile row of outputs is a run (the
    result reuses ``product``'s memory; thin GEMMs as in :func:`_input_transform`)."""
    a = m + 2
    flat = product.reshape(a, a, -1)                                 # (i, j, Co*T)
    rows = np.matmul(at, flat.transpose(1, 0, 2))                    # A^T M: (j, m_i, Co*T)
    out = product.reshape(-1)[:m * m * flat.shape[2]].reshape(m, -1, m)
    return np.matmul(rows.transpose(1, 2, 0), at.T, out=out)         # (A^T M) A: (m_i, ., m_j)


def _band(block: np.ndarray, rows: slice, m: int):
    """The part of ``block (n, C, Ho, Wo)`` the tile rows ``rows`` cover, as
    ``(whole, partial)``: the view ``(n, C, full rows, m, Wo)`` of its whole tile rows and
    ``(n, C, r, Wo)`` of a last partial one (or None)."""
    n, channels, ho, wo = block.shape
    top = rows.start * m
    valid = max(0, min((rows.stop - rows.start) * m, ho - top))
    full, rest = divmod(valid, m)
    whole = block[:, :, top:top + full * m].reshape(n, channels, full, m, wo)
    partial = block[:, :, top + full * m:top + valid] if rest else None
    return whole, partial


def _place(y: np.ndarray, block: np.ndarray, rows: slice, m: int, tw: int, bias) -> None:
    """Write a band's output tiles ``y (m, C_out*T, m)`` into its images' ``block`` of the
    output (plus ``bias``): one copy whose inner runs are whole output rows."""
    whole, partial = _band(block, rows, m)
    count, channels, full, _, wo = whole.shape
    tiles = y.reshape(m, channels, count, rows.stop - rows.start, tw * m)[..., :wo]
    tiles = tiles.transpose(2, 1, 3, 0, 4)                          # (n, C, nr, m, Wo)
    if full:
        if bias is None:
            np.copyto(whole, tiles[:, :, :full])
        else:
            np.add(tiles[:, :, :full], bias.reshape(1, -1, 1, 1, 1), out=whole)
    if partial is not None:
        source = tiles[:, :, full, :partial.shape[2]]
        if bias is None:
            np.copyto(partial, source)
        else:
            np.add(source, bias.reshape(1, -1, 1, 1), out=partial)


def _output_adjoint(block: np.ndarray, rows: slice, m: int, tw: int,
                    at: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`_output_transform` and :func:`_place`: tile rows ``rows`` of
    ``block (n, C_out, Ho, Wo)`` (the output gradient of a group of images) ->
    ``(a, a, C_out, T)``, ``A dY A^T`` per tile (zero beyond ``(Ho, Wo)``)."""
    a = m + 2
    whole, partial = _band(block, rows, m)
    count, channels, full, _, wo = whole.shape
    nr = rows.stop - rows.start
    exact = full == nr and wo == tw * m
    tiles = (np.empty if exact else np.zeros)((m, channels, count, nr, tw * m), at.dtype)
    view = tiles[..., :wo].transpose(2, 1, 3, 0, 4)                  # (n, C, nr, m, Wo)
    if full:
        np.copyto(view[:, :, :full], whole)
    if partial is not None:
        np.copyto(view[:, :, full, :partial.shape[2]], partial)
    flat = tiles.reshape(m, -1, m)                                   # (m_i, Co*T, m_j)
    cols = np.matmul(at.T, flat.transpose(0, 2, 1))                  # dY A^T: (m_i, j, Co*T)
    out = np.empty((a, a, channels, count * nr * tw), at.dtype)
    np.matmul(at.T, cols.transpose(1, 0, 2), out=out.reshape(a, a, -1).transpose(1, 0, 2))
    return out                                                       # A dY A^T: (i, j, .)


def _transform_weight(weight: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``(C_out, Cg, 3, 3)`` -> ``U (a, a, Cg, C_out) = G W G^T`` per channel pair (two
    GEMMs over the kernel's row and column axes)."""
    out_channels, per_group = weight.shape[:2]
    a = g.shape[0]
    taps = np.ascontiguousarray(weight.transpose(2, 3, 1, 0))         # (3, 3, Cg, Co)
    rows = (g @ taps.reshape(3, -1)).reshape(a, 3, -1)               # G W: (a, 3, Cg*Co)
    return np.matmul(g, rows).reshape(a, a, per_group, out_channels)  # (G W) G^T


def _weight_back(sigma: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`_transform_weight`: ``(a, a, C_out, Cg)`` ->
    ``G^T sigma G`` as ``(C_out, Cg, 3, 3)``."""
    a, _, out_channels, per_group = sigma.shape
    rows = (g.T @ sigma.reshape(a, -1)).reshape(3, a, -1)            # (3, a, Co*Cg)
    taps = np.matmul(g.T, rows)                                      # (3, 3, Co*Cg)
    return np.ascontiguousarray(taps.reshape(3, 3, out_channels, per_group).transpose(2, 3, 0, 1))


def _forward_tiles(x: np.ndarray, weight: np.ndarray, m: int, offset, out_size, bias=None,
                   compute=None):
    """The forward kernel proper: the valid correlation of ``x (N, C, h, w)``, placed at
    ``offset`` (top, left) in a zero plane (a positive offset is zero padding, a negative one
    crops), with a 3x3 ``weight (C_out, C/groups, 3, 3)``, ``out_size`` outputs; ``groups`` is
    ``C // weight.shape[1]``. The arithmetic runs in ``compute`` (default: the operands'
    dtype), the result has the operands' dtype."""
    n, channels = x.shape[:2]
    out_channels, per_group = weight.shape[:2]
    groups = channels // per_group
    result = np.result_type(x, weight)
    dtype = np.dtype(compute or result)
    a = m + 2
    ho, wo = out_size
    tiles = (_tiles(ho, m), _tiles(wo, m))
    # The weight gradient of this input reads the same tiles (:mod:`.conv_memo`).
    kept = conv_memo.keep("winograd tiles", x, _tiles_key(m, offset, out_size, dtype),
                          a * a * n * tiles[0] * tiles[1] * channels * dtype.itemsize)
    # Only the input the outputs read: a row or column beyond it (even inf) never counts.
    x = x[:, :, :max(ho + 2 - offset[0], 0), :max(wo + 2 - offset[1], 0)]
    u = _transform_weight(weight.astype(dtype, copy=False), _matrices(m, dtype)[1])
    u_t = u.transpose(0, 1, 3, 2)                                      # (a, a, Co, Cg)
    out = np.empty((n, out_channels, ho, wo), dtype=result)
    if bias is not None:
        bias = bias.astype(result, copy=False)
    if not (n and ho and wo):
        if bias is not None:
            out[...] = bias.reshape(1, -1, 1, 1)
        return out
    plan, macs = _plan_and_macs(n, channels, out_channels, groups, tiles, m, dtype)
    options = dict(m=m, offset=tuple(offset), tiles=tiles, dtype=dtype.str, groups=groups)

    def chunk(group):
        _forward_group(x, u_t, out, group, bias, kept=kept, **options)

    split = _helper_split(_runs(plan), macs)
    if split is not None:
        mine_runs, their_runs, first = split
        mine = [group for run in mine_runs for group in run]
        theirs = [group for run in their_runs for group in run]
        inputs = {"x": x[first:], "u": u} | ({} if bias is None else {"bias": bias})
        token = None
        if kept is not None:    # the helper keeps its share's tiles for the weight gradient
            token = kept[_HELPER_TOKEN] = next(_helper_tokens)
        job = second_core.submit("conv_winograd:forward_share", inputs,
                                 {"out": (out[first:].shape, out.dtype)},
                                 dict(options, plan=_shifted(theirs, first), first=first,
                                      keep=token))
        if job is not None:
            try:
                for group in mine:
                    chunk(group)
            finally:
                done = job.finish(lambda shares, _: np.copyto(out[first:], shares["out"]))
            if not done:
                for group in theirs:
                    chunk(group)
            return out
    map_chunks(chunk, plan)
    return out


def _forward_group(x, u_t, out, group, bias, *, m, offset, tiles, dtype, groups, kept=None):
    """One group of the forward's plan (``(images, bands)``): the images' channels-last
    scratch, then per band the input transform, the frequency-wise GEMMs, the output
    transform, written into ``out``."""
    bt, _, at = _matrices(m, np.dtype(dtype))
    images, bands = group
    th, tw = tiles
    pairs = list(zip(_group_slices(u_t.shape[2], groups), _group_slices(x.shape[1], groups),
                     strict=True))
    scratch = _channels_last_scratch(x[images], (th * m + 2, tw * m + 2), offset, dtype)
    for rows in bands:
        v = _input_transform(scratch, rows, m, tw, bt)               # (a, a, T, C)
        if kept is not None:
            kept[_band_key(images, rows)] = v
        product = _products(u_t, v, pairs)                          # M^T
        _place(_output_transform(product, m, at), out[images], rows, m, tw, bias)


def forward_share(x, u, out, bias=None, *, plan, first, keep=None, **options):
    """The second core's share of a forward (:mod:`.second_core`): the groups ``plan`` of
    ``x``'s images (image 0 of ``x`` is the batch's image ``first``), written into ``out``,
    computed as :func:`_forward_tiles` computes its own (``u (a, a, Cg, C_out)`` is read
    transposed, as there: the same products). With a ``keep`` token, the bands' input
    tiles stay in the helper for the weight gradient's share (:func:`weight_grad_share`)."""
    u_t = u.transpose(0, 1, 3, 2)
    tiles = None if keep is None else {}
    for group in plan:
        _forward_group(x, u_t, out, group, bias, kept=tiles, **options)
    if keep is not None:
        _helper_kept[keep] = {(i0 + first, i1 + first, r0, r1): v
                              for (i0, i1, r0, r1), v in tiles.items()}
        while len(_helper_kept) > HELPER_KEPT_OPS:
            _helper_kept.popitem(last=False)


def _runs(plan: list) -> list:
    """The plan's groups in ``PARTIAL_SUMS`` runs (consecutive, about equal): the weight
    gradient's partial sums, and where the second core's share may begin."""
    per_sum = -(-len(plan) // PARTIAL_SUMS) if plan else 1
    return [plan[k:k + per_sum] for k in range(0, len(plan), per_sum)]


def _helper_split(runs: list, macs: int):
    """``(mine, theirs, first)``: the plan's ``runs`` cut in two
    (:func:`.second_core.share_cut`), the second part (from image ``first`` on) for the
    helper; None to share the plan over the threads of :func:`.threads.map_chunks`. The
    forward and the weight gradient of an input cut alike, so the helper's share of the
    weight gradient finds the tiles its share of the forward kept."""
    cut = share_cut([run[0][0].start for run in runs], runs[-1][-1][0].stop if runs else 0,
                    macs)
    if cut is None:
        return None
    return runs[:cut], runs[cut:], runs[cut][0][0].start


def _shifted(groups: list, first: int) -> list:
    """``groups`` with their image slices counted from image ``first``."""
    return [(shifted(images, first), bands) for images, bands in groups]


def _tiles_key(m: int, offset, out_size, dtype) -> tuple:
    """What fixes an input's transformed tiles besides the input: F(m), where the input sits
    in the zero plane, how many outputs, the arithmetic's dtype."""
    return (m, tuple(offset), tuple(out_size), np.dtype(dtype))


def _band_key(images: slice, rows: slice) -> tuple:
    return images.start, images.stop, rows.start, rows.stop


def _products(u_t: np.ndarray, v: np.ndarray, pairs) -> np.ndarray:
    """The frequency-wise GEMMs of the forward: ``M^T[xi] (C_out, T) = U[xi]^T @ V[xi]^T``
    for ``u_t (a, a, C_out, Cg)`` and ``v (a, a, T, C)``, per group (``pairs`` of output and
    input channel slices) -> ``(a, a, C_out, T)``."""
    a, _, out_channels, _ = u_t.shape
    product = np.empty((a, a, out_channels, v.shape[2]), dtype=v.dtype)
    for o, c in pairs:
        np.matmul(u_t[:, :, o], v[:, :, :, c].transpose(0, 1, 3, 2), out=product[:, :, o])
    return product


def _group_slices(channels: int, groups: int) -> list:
    size = channels // groups
    return [slice(k * size, (k + 1) * size) for k in range(groups)]


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                   bias: np.ndarray | None = None, m: int = 4, compute=None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, 3, 3)`` -> ``(N, C_out, Ho, Wo)``."""
    (top, _), (left, _) = geometry.padding
    return _forward_tiles(x, weight, m, (top, left), geometry.out_size, bias, compute)


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                      bias: np.ndarray | None = None, m: int = 4, compute=None) -> np.ndarray:
    """The transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, 3, 3)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given).

    Input row ``r`` sits at row ``r + top`` of the padded plane, which is the correlation of
    grad_out zero-padded by 2 with the rotated kernel: only the rows and columns of the input
    the windows reach are computed (the padding's are dropped, the rest is zero)."""
    (top, _), (left, _) = geometry.padding
    height, width = geometry.in_size
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))     # (Ho + 2, Wo + 2)
    reach = (max(0, min(height, extent[0] - top)), max(0, min(width, extent[1] - left)))
    kernel = adjoint_weight(weight, geometry.groups)
    if reach == (height, width):
        return _forward_tiles(grad_out, kernel, m, (2 - top, 2 - left), reach, bias, compute)
    rows = _forward_tiles(grad_out, kernel, m, (2 - top, 2 - left), reach, compute=compute)
    image = np.zeros(rows.shape[:2] + (height, width), dtype=rows.dtype)
    image[:, :, :reach[0], :reach[1]] = rows
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


class _WeightGradWork(NamedTuple):
    """What a weight gradient computes (:func:`_weight_grad_work`): ``x`` cut to the rows and
    columns the windows read, ``grad_out``, the plan's groups in ``PARTIAL_SUMS`` ``runs``,
    the keyword ``options`` of :func:`_weight_run`, the tiles the forward ``kept``
    (:mod:`.conv_memo`), the arithmetic's ``dtype``, a partial sum's ``sigma_shape``
    ``(a, a, C_out, C/groups)`` and the GEMMs' multiply-adds ``macs``."""

    x: np.ndarray
    grad_out: np.ndarray
    runs: list
    options: dict
    kept: dict
    dtype: np.dtype
    sigma_shape: tuple
    macs: int


def _weight_grad_work(x: np.ndarray, grad_out: np.ndarray, geometry: WindowGeometry, m: int,
                      compute=None) -> _WeightGradWork:
    """The weight gradient's work (see :func:`conv2d_weight_grad`)."""
    n, channels = x.shape[:2]
    out_channels = grad_out.shape[1]
    groups = geometry.groups
    per_group = channels // groups
    dtype = np.dtype(compute or np.result_type(x, grad_out))
    a = m + 2
    ho, wo = geometry.out_size
    tiles = (_tiles(ho, m), _tiles(wo, m))
    (top, _), (left, _) = geometry.padding
    kept = conv_memo.kept("winograd tiles", x, _tiles_key(m, (top, left), (ho, wo), dtype))
    x = x[:, :, :max(ho + 2 - top, 0), :max(wo + 2 - left, 0)]      # what the windows read
    plan, macs = _plan_and_macs(n, channels, out_channels, groups, tiles, m, dtype)
    options = dict(m=m, offset=(top, left), tiles=tiles, dtype=dtype.str, groups=groups)
    return _WeightGradWork(x, grad_out, _runs(plan), options, kept, dtype,
                           (a, a, out_channels, per_group), macs)


class _RunSum:
    """The weight gradient's partial sums ``(sigma, sums)`` added up in run order, whoever
    computed which run (so the bits do not depend on the thread count)."""

    def __init__(self, work: _WeightGradWork):
        self.sigma = np.zeros(work.sigma_shape, work.dtype)
        self.sums = np.zeros(work.sigma_shape[2])
        self.count = 0

    def add(self, sigma: np.ndarray, sums: np.ndarray) -> None:
        if self.count:
            self.sigma += sigma
            self.sums += sums
        else:
            np.copyto(self.sigma, sigma)
            np.copyto(self.sums, sums)
        self.count += 1


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray, geometry: WindowGeometry,
                       m: int = 4, compute=None) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, 3, 3)``.

    Per band, ``sigma[xi] (C_out, C) += dY~[xi] (C_out, T) @ V[xi] (T, C)``; the bands are
    summed in ``PARTIAL_SUMS`` fixed runs (whatever the thread count), then added in order.
    ``V`` is the forward's where it kept its tiles (:mod:`.conv_memo`; same plan, same bands).
    On the way, ``grad_out``'s per-channel sums (its convolution's bias gradient): row 1 of
    ``A`` (``A^T``'s column 1) is all ones in F(2x2) and F(4x4), so ``dY~[1, 1]`` holds each
    tile's sum; offered to the memo (:data:`.conv_memo.CHANNEL_SUMS`)."""
    work = _weight_grad_work(x, grad_out, geometry, m, compute)

    def run(groups_of_run):
        return _weight_run(work.x, grad_out, groups_of_run, kept=work.kept, **work.options)

    total = _RunSum(work)
    if not _helper_share(work, run, total.add):
        for partial in map_chunks(run, work.runs):
            total.add(*partial)
    conv_memo.offer(conv_memo.CHANNEL_SUMS, grad_out, None, total.sums.astype(grad_out.dtype))
    result = np.result_type(x, grad_out)
    return _weight_back(total.sigma, _matrices(m, work.dtype)[1]).astype(result, copy=False)


def _helper_share(work: _WeightGradWork, run, add) -> bool:
    """At two threads, the runs from about half the batch on computed by the helper process
    (:func:`_helper_split`) and the rest here meanwhile, each passed to ``add`` in run order
    (the helper's read where it wrote them, without a copy); False (nothing done) when the
    helper takes no share."""
    split = _helper_split(work.runs, work.macs)
    if split is None:
        return False
    mine, theirs, first = split
    job = second_core.submit(
        "conv_winograd:weight_grad_share",
        {"x": work.x[first:], "grad_out": work.grad_out[first:]},
        {"sigmas": ((len(theirs),) + work.sigma_shape, work.dtype),
         "sums": ((len(theirs), work.sigma_shape[2]), np.float64)},
        dict(work.options, runs=[_shifted(r, first) for r in theirs], first=first,
             kept=work.kept.get(_HELPER_TOKEN)))
    if job is None:
        return False
    partials = []

    def take(shares, _):
        for partial in partials:
            add(*partial)
        for sigma, sums in zip(shares["sigmas"], shares["sums"], strict=True):
            add(sigma, sums)

    try:
        partials += [run(r) for r in mine]
    finally:
        done = job.finish(take)
    if not done:
        for partial in partials + [run(r) for r in theirs]:
            add(*partial)
    return True


def _weight_run(x, grad_out, groups_of_run, *, m, offset, tiles, dtype, groups, kept=None):
    """One run of the weight gradient's plan: ``(sigma (a, a, C_out, Cg), sums (C_out,))``,
    its bands' ``dY~[xi] @ V[xi]`` added up in band order, and ``grad_out``'s per-channel
    sums (float64) on the way."""
    dtype = np.dtype(dtype)
    bt, _, at = _matrices(m, dtype)
    a, (th, tw) = m + 2, tiles
    out_channels, per_group = grad_out.shape[1], x.shape[1] // groups
    pairs = list(zip(_group_slices(out_channels, groups), _group_slices(x.shape[1], groups),
                     strict=True))
    sigma = np.empty((a, a, out_channels, per_group), dtype=dtype)
    term = np.empty_like(sigma) if len(groups_of_run) > 1 or len(groups_of_run[0][1]) > 1 \
        else None
    sums = np.zeros(out_channels)          # grad_out per channel, on the way (float64)
    first = True
    for images, bands in groups_of_run:
        scratch = None
        for rows in bands:
            v = None if kept is None else kept.get(_band_key(images, rows))  # forward's tiles
            if v is None:
                if scratch is None:
                    scratch = _channels_last_scratch(x[images], (th * m + 2, tw * m + 2),
                                                     offset, dtype)
                v = _input_transform(scratch, rows, m, tw, bt)           # (a, a, T, C)
            dyt = _output_adjoint(grad_out[images], rows, m, tw, at)     # (a, a, Co, T)
            sums += dyt[1, 1].sum(axis=1)      # A's row 1 is all ones: tile sums
            for o, c in pairs:
                if first:
                    np.matmul(dyt[:, :, o], v[:, :, :, c], out=sigma[:, :, o])
                else:                                  # no temporary per band
                    np.matmul(dyt[:, :, o], v[:, :, :, c], out=term[:, :, o])
                    np.add(sigma[:, :, o], term[:, :, o], out=sigma[:, :, o])
            first = False
    return sigma, sums


def weight_grad_share(x, grad_out, sigmas, sums, *, runs, first, kept=None, **options):
    """The second core's share of a weight gradient (:mod:`.second_core`): each of ``runs``
    as :func:`_weight_run`, into ``sigmas[k]`` and ``sums[k]`` (image 0 of ``x`` is the
    batch's image ``first``), with the tiles the forward's share kept under the token
    ``kept`` where it computed the same bands."""
    tiles = _helper_kept.pop(kept, None) or {}
    tiles = {(i0 - first, i1 - first, r0, r1): v for (i0, i1, r0, r1), v in tiles.items()}
    for k, groups_of_run in enumerate(runs):
        sigmas[k], sums[k] = _weight_run(x, grad_out, groups_of_run, kept=tiles, **options)


class WinogradKernels:
    """The three kernels of F(m x m, 3 x 3) behind one algorithm name (``m = 4``:
    ``"winograd"``, ``m = 2``: ``"winograd_f2"``), with the im2col kernels' interface."""

    def __init__(self, m: int):
        self.m = m

    def conv2d_forward(self, x, weight, geometry, bias=None):
        return conv2d_forward(x, weight, geometry, bias, m=self.m)

    def conv2d_input_grad(self, grad_out, weight, geometry, bias=None):
        return conv2d_input_grad(grad_out, weight, geometry, bias, m=self.m)

    def conv2d_weight_grad(self, x, grad_out, geometry):
        return conv2d_weight_grad(x, grad_out, geometry, m=self.m)


F4 = WinogradKernels(4)
F2 = WinogradKernels(2)
