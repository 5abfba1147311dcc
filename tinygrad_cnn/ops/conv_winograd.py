"""The three convolution kernels of the Winograd algorithm for 3x3, stride-1, undilated
convolutions (numpy in, numpy out; any padding, any groups).

Winograd's minimal filtering F(m x m, 3 x 3) (Lavin & Gray, 2015) computes an ``m x m`` tile
of outputs from an ``a x a`` input tile (``a = m + 2``) with ``a*a`` multiplications instead
of ``9*m*m``: with the transforms ``B^T (a, a)``, ``G (a, 3)``, ``A^T (m, a)``

    ``Y_tile = A^T [ (G W G^T) * (B^T D_tile B) ] A``       (``*`` elementwise)

Summed over input channels, the elementwise product at each of the ``a*a`` "frequencies"
``xi`` is a matrix product: ``M[xi] (tiles, C_out) = V[xi] (tiles, C) @ U[xi] (C, C_out)``, so
the work is ``a*a`` GEMMs (one per frequency, batched over the tiles of a chunk of images)
plus the transforms, each done as two thin GEMM passes over channels-last tiles.

* forward         the formula above, ``m = 4`` (36 products for 16 outputs: 4x fewer
  multiplications than the direct method) or ``m = 2`` (16 for 4: 2.25x fewer);
* input gradient  the transposed convolution is the correlation of the output gradient,
  zero-padded by 2 on each side, with the kernel rotated 180 degrees and its channel axes
  swapped (per group): the forward kernel on those operands, then the padding dropped;
* weight gradient the adjoint of the forward in ``W``:
  ``dW = G^T [ sum_tiles (A dY_tile A^T) * (B^T D_tile B) ] G``, the sum over tiles and images
  again one GEMM per frequency, ``Sigma[xi] (C_out, C) = dY~[xi]^T (C_out, tiles) @ V[xi]``.

Accuracy (measured by ``tests/test_conv_winograd.py``). F(2x2, 3x3)'s transforms hold only
0, +-1 and +-1/2 (exact in binary) and each output's arithmetic reads only its own 3x3
window (the terms ``y0`` uses come from ``d0..d2``, ``y1``'s from ``d1..d3``, per axis), so
its rounding error has the direct method's form, a small multiple of
``eps * sum |w| |x|`` over the output's own window: measured within 2x of im2col's error, in
float32 and float64. F(4x4, 3x3)'s transforms hold up to 5 and 1/24 and mix a whole 6x6 tile
with cancellation, so its error follows the largest values in the tile: float32 2-9e-6 of
``max |y|`` (im2col 2-7e-7), float64 about 1e-14 of it. Hence ``"winograd"`` (F(4x4), the
fast one) is the user's explicit choice, and ``"auto"`` only ever picks ``"winograd_f2"``
(F(2x2)), keeping its promise of never being less accurate than im2col's error form
(:mod:`.conv_select`). Both transform by matrix products, which multiply every value of a
tile (zeros included), so a NaN or inf spreads over its tile: "auto" keeps non-finite data
on im2col.

Layout: each chunk of images is copied once into a zero-padded channels-last scratch
``(n, Hq, Wq, C)`` (through a channels-first padded copy first, whose plane stride is not a
multiple of 4 KiB: transposing 32x32 float32 planes directly hits 4K aliasing, 3x slower),
its overlapping tiles gathered into ``(a, a, tiles, C)`` runs of ``C`` elements, and every
later array keeps the frequency axes first and the channels last, so the big GEMMs are
``(tiles, C) @ (C, C_out)`` per frequency. Chunks hold about ``CHUNK_BYTES`` of transformed
tiles so they stay in cache between the passes; with ``set_num_threads(n > 1)`` the chunks
are split over ``n`` threads (:func:`.threads.map_chunks`), each thread's BLAS on one core.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .conv_gemm import adjoint_weight
from .geometry import WindowGeometry
from .threads import map_chunks

CHUNK_BYTES = 1 << 20

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


def _matrices(m: int, dtype):
    bt, g, at = _TRANSFORMS[m]
    return (np.array(bt, dtype=dtype), np.array(g, dtype=dtype), np.array(at, dtype=dtype))


def _tiles(size: int, m: int) -> int:
    return -(-size // m)


def _chunks(batch: int, per_image_bytes: int):
    size = max(1, min(batch, CHUNK_BYTES // max(per_image_bytes, 1)))
    return [slice(start, min(start + size, batch)) for start in range(0, batch, size)]


def _channels_last_scratch(block: np.ndarray, shape, offset, dtype) -> np.ndarray:
    """Zeros ``(n, Hq, Wq, C)`` (``shape = (Hq, Wq)``) holding ``block (n, C, h, w)``
    channels last with its top left corner at ``offset`` (negative: cropped), the rest
    cut off: the zero padding of a convolution and the tile padding in one copy (cast to
    ``dtype`` on the way)."""
    n, c, h, w = block.shape
    hq, wq = shape
    (rows, src_rows), (cols, src_cols) = (_overlap(o, size, dest) for o, size, dest in
                                          zip(offset, (h, w), shape, strict=True))
    source = block[:, :, src_rows, src_cols]
    if (source.strides[1] % 4096 == 0 and source.shape[2] * source.shape[3] > 1
            and c > 1):
        # Transposing planes whose stride is a multiple of 4 KiB (32x32 float32) hits 4K
        # aliasing (3x slower): go through a channels-first copy with a padded plane.
        plane = source.shape[2] * (source.shape[3] + 1)
        canvas = np.empty((n, c, plane), dtype=block.dtype)
        staged = canvas.reshape(n, c, source.shape[2], source.shape[3] + 1)
        staged[:, :, :, :source.shape[3]] = source
        source = staged[:, :, :, :source.shape[3]]
    scratch = np.empty((n, hq, wq, c), dtype=dtype)
    _zero_border(scratch, rows, cols)
    scratch[:, rows, cols] = source.transpose(0, 2, 3, 1)
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


def _transform_input(scratch: np.ndarray, m: int, bt: np.ndarray) -> np.ndarray:
    """Channels-last ``(n, Hq, Wq, C)`` with ``Hq = m*th + 2``, ``Wq = m*tw + 2`` ->
    ``V (a, a, n*th*tw, C) = B^T D B`` for every overlapping ``a x a`` tile ``D``."""
    a = m + 2
    n, hq, wq, c = scratch.shape
    th, tw = (hq - 2) // m, (wq - 2) // m
    s_n, s_h, s_w, s_c = scratch.strides
    tiles = as_strided(scratch, (a, a, n, th, tw, c), (s_h, s_w, s_n, m * s_h, m * s_w, s_c))
    gathered = np.ascontiguousarray(tiles).reshape(a, a * n * th * tw * c)
    rows = (bt @ gathered).reshape(a, a, n * th * tw * c)            # B^T D, by kernel row
    return np.matmul(bt, rows).reshape(a, a, n * th * tw, c)         # (B^T D) B


def _transform_weight(weight: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``(C_out, Cg, 3, 3)`` -> ``U (a, a, Cg, C_out) = G W G^T`` per channel pair."""
    return np.einsum("ai,ocij,bj->abco", g, weight, g, optimize=True)


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
    bt, g, at = _matrices(m, dtype)
    a = m + 2
    ho, wo = out_size
    th, tw = _tiles(ho, m), _tiles(wo, m)
    # Only the input the outputs read: a row or column beyond it (even inf) never counts.
    x = x[:, :, :max(ho + 2 - offset[0], 0), :max(wo + 2 - offset[1], 0)]
    u = _transform_weight(weight.astype(dtype, copy=False), g)         # (a, a, Cg, Co)
    out = np.empty((n, out_channels, ho, wo), dtype=result)
    tile_bytes = a * a * th * tw * max(channels, out_channels) * np.dtype(dtype).itemsize
    out_groups = _group_slices(out_channels, groups)
    in_groups = _group_slices(channels, groups)

    def chunk(images):
        count = images.stop - images.start
        scratch = _channels_last_scratch(x[images], (m * th + 2, m * tw + 2), offset, dtype)
        v = _transform_input(scratch, m, bt)                             # (a, a, T, C)
        product = np.empty((a, a, v.shape[2], out_channels), dtype=dtype)
        for o, c in zip(out_groups, in_groups, strict=True):
            np.matmul(v[:, :, :, c], u[:, :, :, o], out=product[:, :, :, o])
        rows = (at @ product.reshape(a, -1)).reshape(m, a, -1)          # A^T M
        tiles = np.matmul(at, rows)                                      # (A^T M) A
        tiles = tiles.reshape(m, m, count, th, tw, out_channels).transpose(2, 5, 3, 0, 4, 1)
        if (th * m, tw * m) == (ho, wo):
            out[images].reshape(count, out_channels, th, m, tw, m)[...] = tiles
        else:
            planes = tiles.reshape(count, out_channels, th * m, tw * m)
            out[images] = planes[:, :, :ho, :wo]

    map_chunks(chunk, _chunks(n, tile_bytes))
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


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
    rows = _forward_tiles(grad_out, adjoint_weight(weight, geometry.groups), m,
                          (2 - top, 2 - left), reach, compute=compute)
    if reach == (height, width):
        image = rows
    else:
        image = np.zeros(rows.shape[:2] + (height, width), dtype=rows.dtype)
        image[:, :, :reach[0], :reach[1]] = rows
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray, geometry: WindowGeometry,
                       m: int = 4, compute=None) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, 3, 3)``."""
    n, channels = x.shape[:2]
    out_channels = grad_out.shape[1]
    groups = geometry.groups
    per_group, out_per_group = channels // groups, out_channels // groups
    result = np.result_type(x, grad_out)
    dtype = np.dtype(compute or result)
    bt, g, at = _matrices(m, dtype)
    a = m + 2
    ho, wo = geometry.out_size
    th, tw = _tiles(ho, m), _tiles(wo, m)
    (top, _), (left, _) = geometry.padding
    x = x[:, :, :max(ho + 2 - top, 0), :max(wo + 2 - left, 0)]      # what the windows read
    tile_bytes = a * a * th * tw * max(channels, out_channels) * np.dtype(dtype).itemsize

    def chunk(images):
        sigma = np.zeros((a, a, out_channels, per_group), dtype=dtype)
        count = images.stop - images.start
        scratch = _channels_last_scratch(x[images], (m * th + 2, m * tw + 2), (top, left),
                                         dtype)
        v = _transform_input(scratch, m, bt)                             # (a, a, T, C)
        # dY tiles, channels last: (m, m, T, C_out), zero beyond (Ho, Wo).
        source = grad_out[images]
        if (th * m, tw * m) != (ho, wo):
            source = np.zeros((count, out_channels, th * m, tw * m), dtype=dtype)
            source[:, :, :ho, :wo] = grad_out[images]
        dy = np.empty((m, m, count, th, tw, out_channels), dtype=dtype)
        dy.transpose(2, 5, 3, 0, 4, 1)[...] = source.reshape(count, out_channels, th, m, tw, m)
        rows = (at.T @ dy.reshape(m, -1)).reshape(a, m, -1)              # A dY
        dyt = np.matmul(at.T, rows).reshape(a, a, count * th * tw, out_channels)  # (A dY) A^T
        for k in range(groups):
            o = slice(k * out_per_group, (k + 1) * out_per_group)
            c = slice(k * per_group, (k + 1) * per_group)
            sigma[:, :, o] += np.matmul(dyt[:, :, :, o].transpose(0, 1, 3, 2), v[:, :, :, c])
        return sigma

    partials = map_chunks(chunk, _chunks(n, tile_bytes))
    sigma = partials[0] if partials else np.zeros((a, a, out_channels, per_group), dtype)
    for partial in partials[1:]:
        sigma += partial
    return np.einsum("ai,aboc,bj->ocij", g, sigma, g, optimize=True).astype(result, copy=False)


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
