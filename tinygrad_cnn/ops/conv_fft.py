"""The three convolution kernels of the FFT algorithm (numpy in, numpy out), via scipy.fft.

By the convolution theorem a convolution along the spatial axes is a product of spectra, so
the work per output no longer grows with the kernel area: for a 15x15 kernel this beats the
im2col GEMM several-fold.  Each op transforms its two operands (real to complex, the half
spectrum of ``rfft2``), contracts the channels frequency by frequency (a batch of small
complex matrix products, one per frequency) and transforms back, keeping only the wanted
rows and columns.  Three spectra serve all three ops, none conjugated:

* ``X'``: the input padded as the windows read it, *reversed* (row ``q`` of the padded
  extent ``P`` at plane row ``P-1-q``); its spectrum is the conjugate of the input's (up to
  a shift), so a product with it correlates:
* ``W``:  the kernel (spread by the dilation) at the plane's origin;
* ``G``:  the output gradient (spread by the stride) at the origin.

with ``*`` the circular convolution of ``(L1, L2)`` planes (:func:`fft_shape`, at least
``P`` so nothing a kept output needs wraps around):

* forward          ``Z = X' * W``, contracted over ``C``;  ``y[i] = Z[P-1 - i*s]``
* input gradient   ``Z = G * W``,  contracted over ``C_out``; ``dx_padded[p] = Z[p]``
* weight gradient  ``Z = G * X'``, contracted over ``N``;   ``dw[u] = Z[P-1 - u*d]``

Spectra are frequency-major, ``(F1*F2, batch, channels)``, so each frequency's channel
matrix is contiguous and the contraction is ONE batched ``matmul`` per group with the
frequency as batch axis (transposed operands are read by the BLAS as they lie).
Transforms: planes much larger than their content (the kernel, the weight gradient's
``kH x kW`` output) go through the DFT as two matrix products (the DFT matrix restricted
to the rows and columns that hold data or are kept, no zero padding, the result already
frequency-major); the others through ``scipy.fft.rfft2`` / ``irfft2`` on contiguous planes
with ``workers`` from :func:`.threads.active_threads` (the requested count, capped by the
governor).

Within one training step the spectra are shared (:mod:`.conv_memo`): a forward that
records a graph keeps ``X'`` and ``W`` for its backward, whose two ops share ``G``.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .conv_memo import remembered
from .geometry import WindowGeometry
from .threads import active_threads, map_chunks

# A plane whose content (rows x cols) is at most this share of the transform area goes
# through the matrix DFT (measured on bench_conv.py's (e), float64: the 15x15 kernel's
# spectrum 2.6 ms by DFT, 5.9 ms by a pruned FFT, 13 ms by rfft2 of the padded planes).
DFT_SHARE = 0.1


def fft_shape(geometry: WindowGeometry) -> tuple[int, int]:
    """The transform size: scipy's fast length at least the padded extent, per axis (also
    the size :func:`.conv_select.estimate_costs` prices)."""
    return tuple(scipy.fft.next_fast_len(geometry.padded_extent(a), real=True) for a in (0, 1))


def _compute_dtype(dtype, wide: bool):
    return np.dtype(np.float64) if wide else np.result_type(dtype, np.float32)


def _slice(start: int, step: int, count: int) -> slice:
    stop = start + step * count
    return slice(start, stop if stop >= 0 else None, step)


def _dft(length: int, positions: np.ndarray, count: int, sign: int, dtype) -> np.ndarray:
    """``(count, len(positions))``: ``exp(sign * 2j*pi * k * p / length)`` for frequencies
    ``k < count`` (the phase reduced exactly in integers)."""
    phase = np.outer(np.arange(count), positions) % length
    return np.exp((sign * 2j * np.pi / length) * phase).astype(dtype)


def _uses_dft(rows: int, cols: int, shape) -> bool:
    return rows * cols <= DFT_SHARE * shape[0] * shape[1]


def _spectrum(array: np.ndarray, shape, rows, cols, dtype) -> np.ndarray:
    """Real ``(A, B, h, w)`` -> complex ``(F1*F2, A, B)``, ``F1 = L1``, ``F2 = L2//2 + 1``: the
    half spectrum of the ``(L1, L2)`` planes in which ``array[..., i, j]`` lies at
    ``(rows[0] + i*rows[1], cols[0] + j*cols[1])``, zeros elsewhere."""
    a, b, h, w = array.shape
    l1, l2 = shape
    f2 = l2 // 2 + 1
    complex_dtype = np.result_type(dtype, np.complex64)
    if _uses_dft(h, w, shape):
        along_w = _dft(l2, _positions(cols, w), f2, -1, complex_dtype)       # (F2, w)
        along_h = _dft(l1, _positions(rows, h), l1, -1, complex_dtype)       # (F1, h)
        planes = array.transpose(2, 3, 0, 1).reshape(h, w, a * b).astype(complex_dtype)
        half = np.matmul(along_w, planes)                                        # (h, F2, AB)
        return (along_h @ half.reshape(h, f2 * a * b)).reshape(l1 * f2, a, b)
    # planes-last padding: the transform's lanes are the contiguous (A, B) axis and its
    # output is frequency-major as it lies (no transposing copy of the spectrum)
    padded = np.zeros((l1, l2, a, b), dtype)
    padded[_slice(*rows, h), _slice(*cols, w)] = array.transpose(2, 3, 0, 1)
    spectrum = scipy.fft.rfft2(padded, axes=(0, 1), overwrite_x=True, workers=active_threads())
    return spectrum.reshape(l1 * f2, a, b)


def _positions(placement, count: int) -> np.ndarray:
    """The plane rows (or columns) ``start + i*step`` of ``placement = (start, step)``."""
    return placement[0] + placement[1] * np.arange(count)


def _inverse(spectrum: np.ndarray, shape, rows, cols, dtype) -> np.ndarray:
    """Complex ``(F1*F2, A, B)`` -> real ``(A, B, nr, nc)`` in ``dtype``: the inverse
    transform at plane rows ``rows = (start, step, nr)`` and columns ``cols`` (never
    wrapping past the plane's edges). Overwrites ``spectrum``."""
    l1, l2 = shape
    f2 = l2 // 2 + 1
    a, b = spectrum.shape[1:]
    (r0, rs, nr), (c0, cs, nc) = rows, cols
    out = np.empty((a, b, nr, nc), dtype)
    if _uses_dft(nr, nc, shape):
        complex_dtype = spectrum.dtype
        along_h = _dft(l1, r0 + rs * np.arange(nr), l1, 1, complex_dtype).T      # (nr, F1)
        half = along_h @ spectrum.reshape(l1, f2 * a * b)                        # (nr, F2*AB)
        weights = np.full(f2, 2.0)
        weights[0] = 1.0
        if l2 % 2 == 0:
            weights[-1] = 1.0
        along_w = (_dft(l2, c0 + cs * np.arange(nc), f2, 1, complex_dtype)
                   * (weights / (l1 * l2))[:, None]).T                           # (nc, F2)
        planes = np.matmul(along_w, half.reshape(nr, f2, a * b)).real            # (nr, nc, AB)
        out[...] = planes.reshape(nr, nc, a, b).transpose(2, 3, 0, 1)
        return out
    workers = active_threads()
    by_row = scipy.fft.ifft(spectrum.reshape(l1, f2, a, b), axis=0, overwrite_x=True,
                            workers=workers)[_slice(r0, rs, nr)]
    # the last transform reads its lanes transposed and writes (A, B, nr, L2) as it lies,
    # cheaper than transposing its real output
    planes = scipy.fft.irfft(by_row.transpose(2, 3, 0, 1), n=l2, axis=-1, workers=workers)
    out[...] = planes[..., _slice(c0, cs, nc)]
    return out


def _contract(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """``out[f] = left[f] @ right[f]`` for every frequency ``f`` (views welcome), the
    frequencies split over :func:`.threads.map_chunks`'s threads in chunks."""
    count = out.shape[0]
    parts = max(1, min(active_threads(), count))
    size = -(-count // parts)
    chunks = [slice(s, min(s + size, count)) for s in range(0, count, size)]

    def chunk(freqs):
        np.matmul(left[freqs], right[freqs], out=out[freqs])

    map_chunks(chunk, chunks)


def _reach(size: int, before: int, extent: int) -> int:
    return max(0, min(size, extent - before))


def _x_spectrum(x, geometry, shape, dtype):
    """``X'`` of x ``(N, C, H, W)``: the padded extent reversed (see the module docstring)."""
    (top, _), (left, _) = geometry.padding
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    rows = _reach(x.shape[2], top, extent[0])
    cols = _reach(x.shape[3], left, extent[1])

    def compute():
        data = x[:, :, :rows, :cols]
        return _spectrum(data, shape, (extent[0] - 1 - top, -1), (extent[1] - 1 - left, -1),
                         dtype)
    return remembered("x", x, (geometry, shape, np.dtype(dtype)), compute)


def _w_spectrum(weight, geometry, shape, dtype):
    """``W`` of the weight ``(C_out, C/groups, kH, kW)``, spread by the dilation."""
    (dh, dw) = geometry.dilation
    return remembered("w", weight, (geometry, shape, np.dtype(dtype)),
                       lambda: _spectrum(weight, shape, (0, dh), (0, dw), dtype))


def _g_spectrum(grad_out, geometry, shape, dtype):
    """``G`` of the output gradient ``(N, C_out, Ho, Wo)``, spread by the stride."""
    (sh, sw) = geometry.stride
    return remembered("g", grad_out, (geometry, shape, np.dtype(dtype)),
                       lambda: _spectrum(grad_out, shape, (0, sh), (0, sw), dtype))


def conv2d_forward(x, weight, geometry: WindowGeometry, bias=None, *,
                   wide: bool = False) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``;
    ``wide``: computed in float64 whatever the dtype, the result in the input's."""
    out_dtype = np.result_type(x, weight)
    n, out_channels = x.shape[0], weight.shape[0]
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    if n == 0:
        return np.zeros((0, out_channels, ho, wo), out_dtype)
    dtype = _compute_dtype(out_dtype, wide)
    shape = fft_shape(geometry)
    spectrum_x = _x_spectrum(x, geometry, shape, dtype)                     # (F, N, C)
    spectrum_w = _w_spectrum(weight, geometry, shape, dtype)                # (F, Co, Cg)
    product = np.empty(spectrum_x.shape[:2] + (out_channels,), spectrum_x.dtype)
    for o, c in zip(geometry.group_slices(out_channels), geometry.group_slices(x.shape[1]),
                    strict=True):
        _contract(spectrum_x[:, :, c], spectrum_w[:, o].transpose(0, 2, 1), product[:, :, o])
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    out = _inverse(product, shape, (extent[0] - 1, -sh, ho), (extent[1] - 1, -sw, wo),
                   out_dtype)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1).astype(out_dtype, copy=False)
    return out


def conv2d_input_grad(grad_out, weight, geometry: WindowGeometry, bias=None, *,
                      wide: bool = False) -> np.ndarray:
    """Transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    out_dtype = np.result_type(grad_out, weight)
    n = grad_out.shape[0]
    channels = weight.shape[1] * geometry.groups
    height, width = geometry.in_size
    (top, _), (left, _) = geometry.padding
    rows = _reach(height, top, geometry.padded_extent(0))
    cols = _reach(width, left, geometry.padded_extent(1))
    if n == 0 or rows == 0 or cols == 0:
        image = np.zeros((n, channels, height, width), out_dtype)
    else:
        dtype = _compute_dtype(out_dtype, wide)
        shape = fft_shape(geometry)
        spectrum_g = _g_spectrum(grad_out, geometry, shape, dtype)          # (F, N, Co)
        spectrum_w = _w_spectrum(weight, geometry, shape, dtype)            # (F, Co, Cg)
        product = np.empty(spectrum_g.shape[:2] + (channels,), spectrum_g.dtype)
        for o, c in zip(geometry.group_slices(weight.shape[0]), geometry.group_slices(channels),
                        strict=True):
            _contract(spectrum_g[:, :, o], spectrum_w[:, o], product[:, :, c])
        inside = _inverse(product, shape, (top, 1, rows), (left, 1, cols), out_dtype)
        if (rows, cols) == (height, width):
            image = inside
        else:
            image = np.zeros((n, channels, height, width), out_dtype)
            image[:, :, :rows, :cols] = inside
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1).astype(out_dtype, copy=False)
    return image


def conv2d_weight_grad(x, grad_out, geometry: WindowGeometry, *,
                       wide: bool = False) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``."""
    out_dtype = np.result_type(x, grad_out)
    out_channels, per_group = grad_out.shape[1], x.shape[1] // geometry.groups
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    if x.shape[0] == 0:
        return np.zeros((out_channels, per_group, kh, kw), out_dtype)
    dtype = _compute_dtype(out_dtype, wide)
    shape = fft_shape(geometry)
    spectrum_x = _x_spectrum(x, geometry, shape, dtype)                     # (F, N, C)
    spectrum_g = _g_spectrum(grad_out, geometry, shape, dtype)              # (F, N, Co)
    product = np.empty((spectrum_x.shape[0], out_channels, per_group), spectrum_x.dtype)
    for o, c in zip(geometry.group_slices(out_channels), geometry.group_slices(x.shape[1]),
                    strict=True):
        _contract(spectrum_g[:, :, o].transpose(0, 2, 1), spectrum_x[:, :, c], product[:, o])
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    return _inverse(product, shape, (extent[0] - 1, -dh, kh), (extent[1] - 1, -dw, kw),
                    out_dtype)


class Widened:
    """The fft kernels computing in float64 whatever the data's dtype, results in the
    data's: what "auto" runs when it picks FFT for float32 input (see
    :mod:`.conv_accuracy`)."""

    @staticmethod
    def conv2d_forward(x, weight, geometry, bias=None):
        return conv2d_forward(x, weight, geometry, bias, wide=True)

    @staticmethod
    def conv2d_input_grad(grad_out, weight, geometry, bias=None):
        return conv2d_input_grad(grad_out, weight, geometry, bias, wide=True)

    @staticmethod
    def conv2d_weight_grad(x, grad_out, geometry):
        return conv2d_weight_grad(x, grad_out, geometry, wide=True)

