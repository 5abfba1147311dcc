"""The three convolution kernels of the FFT algorithm (numpy in, numpy out), via scipy.fft.

By the convolution theorem a correlation along the spatial axes is a product of spectra, so
the work per output no longer grows with the kernel area: for a 15x15 kernel this beats the
im2col GEMM several-fold.  Each op transforms its two operands (``rfft2``, real to complex),
contracts the channels frequency by frequency (a batch of small complex matrix products, one
per frequency), transforms back (``irfft2``) and crops:

* forward:          ``Y[n, o] = sum_c X[n, c] * conj(W[o, c])``  (correlation)
* input gradient:   ``dX[n, c] = sum_o dZ[n, o] * W[o, c]``      (full convolution, i.e. the
  lecture's correlation with the kernel rotated 180 degrees)
* weight gradient:  ``dW[o, c] = sum_n X[n, c] * conj(dZ[n, o])`` (correlation of input
  and output gradient)

Spectra are kept frequency-major, ``(F1, F2, batch, channels)``: the arrays are transposed
once while still real (the cheap side), transformed along their first two axes, and are then
directly the stacked matrices the contraction needs.  Strides are handled by subsampling the
stride-1 output (forward) or by spreading the output gradient onto that grid with zeros in
between (backward ops); dilation by spreading the kernel the same way.  The transform size is
at least the padded extent ``P``, so the circular wrap-around never reaches a valid output.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .geometry import WindowGeometry
from .im2col import pad_for_windows, unpad_from_windows
from .threads import get_num_threads


def fft_shape(geometry: WindowGeometry) -> tuple[int, int]:
    """The transform size: scipy's fast length at least the padded extent, per axis (also
    the size :func:`.conv_select.estimate_costs` prices)."""
    return tuple(scipy.fft.next_fast_len(geometry.padded_extent(a), real=True) for a in (0, 1))


def _spectrum(array: np.ndarray, shape) -> np.ndarray:
    """Real ``(A, B, h, w)`` -> complex ``(F1*F2', A, B)``: the 2-D spectrum of every
    ``(h, w)`` plane zero-padded to ``shape``, frequency-major.

    ``rfft2`` done by hand as a real transform along w of the ``h`` actual rows, then a
    complex one along h: for a small kernel (h much less than ``shape[0]``) the first pass
    then skips the rows of zeros ``rfft2(..., s=shape)`` would transform."""
    spatial_first = np.ascontiguousarray(array.transpose(2, 3, 0, 1))
    rows = scipy.fft.rfft(spatial_first, n=shape[1], axis=1, workers=get_num_threads())
    spectrum = scipy.fft.fft(rows, n=shape[0], axis=0, overwrite_x=True,
                              workers=get_num_threads())
    # The frequency count is explicit: ``-1`` is ambiguous when the batch is empty.
    return spectrum.reshape((shape[0] * (shape[1] // 2 + 1),) + array.shape[:2])


def _inverse(spectrum: np.ndarray, shape, rows: slice, cols: slice, dtype) -> np.ndarray:
    """Complex ``(F, A, B)`` -> real ``(A, B, h, w)``: the inverse transform, keeping only the
    ``rows`` and ``cols`` of each plane (the inverse along w runs on the kept rows only,
    which saves most of the work when few rows are kept: strided or kernel-sized outputs)."""
    freq_shape = (shape[0], shape[1] // 2 + 1) + spectrum.shape[1:]
    by_row = scipy.fft.ifft(spectrum.reshape(freq_shape), axis=0, overwrite_x=True,
                            workers=get_num_threads())
    planes = scipy.fft.irfft(by_row[rows], n=shape[1], axis=1, workers=get_num_threads())
    return np.ascontiguousarray(planes[:, cols].transpose(2, 3, 0, 1)).astype(dtype,
                                                                             copy=False)


def _spread(array: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """``(A, B, h, w)`` with ``step - 1`` zeros inserted between neighbours along h and w."""
    if step == (1, 1):
        return array
    h, w = array.shape[2:]
    spread = np.zeros(array.shape[:2] + ((h - 1) * step[0] + 1, (w - 1) * step[1] + 1),
                      dtype=array.dtype)
    spread[:, :, ::step[0], ::step[1]] = array
    return spread


def conv2d_forward(x, weight, geometry: WindowGeometry, bias=None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``."""
    shape = fft_shape(geometry)
    spectrum_x = _spectrum(pad_for_windows(x, geometry), shape)              # (F, N, C)
    # (F, Cg, Co): the right operand of X (F, N, C) @ W^H, contiguous for BLAS.
    spectrum_w = np.conj(_spectrum(_spread(weight, geometry.dilation).transpose(1, 0, 2, 3),
                                   shape))
    out_channels = weight.shape[0]
    product = np.empty(spectrum_x.shape[:2] + (out_channels,), dtype=spectrum_x.dtype)
    for o, c in zip(geometry.group_slices(out_channels), geometry.group_slices(x.shape[1]),
                    strict=True):
        np.matmul(spectrum_x[:, :, c], spectrum_w[:, :, o], out=product[:, :, o])
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    out = _inverse(product, shape, slice(0, (ho - 1) * sh + 1, sh),
                   slice(0, (wo - 1) * sw + 1, sw), x.dtype)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def conv2d_input_grad(grad_out, weight, geometry: WindowGeometry, bias=None) -> np.ndarray:
    """Transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    shape = fft_shape(geometry)
    spectrum_g = _spectrum(_spread(grad_out, geometry.stride), shape)        # (F, N, Co)
    spectrum_w = _spectrum(_spread(weight, geometry.dilation), shape)        # (F, Co, Cg)
    channels = weight.shape[1] * geometry.groups
    product = np.empty(spectrum_g.shape[:2] + (channels,), dtype=spectrum_g.dtype)
    for o, c in zip(geometry.group_slices(weight.shape[0]), geometry.group_slices(channels),
                    strict=True):
        np.matmul(spectrum_g[:, :, o], spectrum_w[:, o], out=product[:, :, c])
    padded = _inverse(product, shape, slice(0, geometry.padded_extent(0)),
                      slice(0, geometry.padded_extent(1)), grad_out.dtype)
    image = np.ascontiguousarray(unpad_from_windows(padded, geometry))
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x, grad_out, geometry: WindowGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``."""
    shape = fft_shape(geometry)
    spectrum_x = _spectrum(pad_for_windows(x, geometry), shape)              # (F, N, C)
    # (F, Co, N): the left operand of dZ^H (F, Co, N) @ X (F, N, C).
    spectrum_g = np.conj(_spectrum(_spread(grad_out, geometry.stride).transpose(1, 0, 2, 3),
                                   shape))
    out_channels = grad_out.shape[1]
    per_group = x.shape[1] // geometry.groups
    product = np.empty((spectrum_x.shape[0], out_channels, per_group), dtype=spectrum_x.dtype)
    for o, c in zip(geometry.group_slices(out_channels), geometry.group_slices(x.shape[1]),
                    strict=True):
        np.matmul(spectrum_g[:, o], spectrum_x[:, :, c], out=product[:, o])
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    return _inverse(product, shape, slice(0, (kh - 1) * dh + 1, dh),
                    slice(0, (kw - 1) * dw + 1, dw), x.dtype)
