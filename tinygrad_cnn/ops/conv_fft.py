"""The three convolution kernels of the FFT algorithm (numpy in, numpy out), via scipy.fft.

By the convolution theorem a correlation along the spatial axes is a product of spectra, so
the work per output no longer grows with the kernel area: for a 15x15 kernel this beats the
im2col GEMM by far.  Each op transforms its two operands (``rfft2``, real-to-complex),
contracts the channel axis frequency by frequency (one small complex matrix product per
frequency, batched), transforms back (``irfft2``) and crops:

* forward:          ``Y[n, o] = sum_c X[n, c] * conj(W[o, c])``  (correlation)
* input gradient:   ``dX[n, c] = sum_o dZ[n, o] * W[o, c]``      (full convolution, i.e. the
  lecture's correlation with the kernel rotated 180 degrees)
* weight gradient:  ``dW[o, c] = sum_n X[n, c] * conj(dZ[n, o])`` (correlation of input
  and output gradient)

Strides are handled by subsampling the full-resolution output (forward) or by spreading the
output gradient onto that grid with zeros between (the backward ops); dilation by spreading
the kernel the same way.  The transform size is at least the padded extent ``P``, so the
circular wrap-around never reaches a valid output.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from ._args import ConvGeometry
from .im2col import pad_for_windows, unpad_from_windows


def _fft_shape(geometry: ConvGeometry) -> tuple[int, int]:
    return tuple(scipy.fft.next_fast_len(geometry.padded_extent(a), real=True) for a in (0, 1))


def _dilated_extent(geometry: ConvGeometry) -> tuple[int, int]:
    return tuple(geometry.dilation[a] * (geometry.kernel[a] - 1) + 1 for a in (0, 1))


def _full_extent(geometry: ConvGeometry) -> tuple[int, int]:
    """Size of the stride-1 output grid: ``(Ho-1)*s + 1`` per axis."""
    return tuple((geometry.out_size[a] - 1) * geometry.stride[a] + 1 for a in (0, 1))


def _spectrum_of_kernel(weight: np.ndarray, geometry: ConvGeometry, shape) -> np.ndarray:
    dh, dw = geometry.dilation
    if (dh, dw) != (1, 1):
        spread = np.zeros(weight.shape[:2] + _dilated_extent(geometry), dtype=weight.dtype)
        spread[:, :, ::dh, ::dw] = weight
        weight = spread
    return scipy.fft.rfft2(weight, s=shape)


def _spectrum_of_output_grad(grad_out: np.ndarray, geometry: ConvGeometry, shape):
    sh, sw = geometry.stride
    if (sh, sw) != (1, 1):
        spread = np.zeros(grad_out.shape[:2] + _full_extent(geometry), dtype=grad_out.dtype)
        spread[:, :, ::sh, ::sw] = grad_out
        grad_out = spread
    return scipy.fft.rfft2(grad_out, s=shape)


def _kernel_by_group(spectrum: np.ndarray, groups: int, transpose: bool) -> np.ndarray:
    """Weight spectrum ``(C_out, C/groups, F...)`` -> the right operand ``(Kg, B, F...)`` of
    :func:`_grouped_contract`: ``(C/groups, C_out)`` for the forward (contracting over input
    channels) or ``(C_out/groups, C)`` for the input gradient (contracting over C_out)."""
    out_channels, per_group = spectrum.shape[:2]
    if not transpose:
        return spectrum.transpose(1, 0, 2, 3)
    blocks = spectrum.reshape(groups, out_channels // groups, per_group, *spectrum.shape[2:])
    return blocks.transpose(1, 0, 2, 3, 4).reshape(out_channels // groups, groups * per_group,
                                                   *spectrum.shape[2:])


def _grouped_contract(left, right_blocks, groups):
    """left ``(A, K, F...)`` with ``K = groups * Kg``; right ``(Kg, groups * Bg, F...)``:
    group g multiplies left's k-block g with right's b-block g."""
    a, k = left.shape[:2]
    kg = right_blocks.shape[0]
    b = right_blocks.shape[1]
    freq = left.shape[2:]
    left_f = np.ascontiguousarray(left.reshape(a, k, -1).transpose(2, 0, 1))
    right_f = np.ascontiguousarray(right_blocks.reshape(kg, b, -1).transpose(2, 0, 1))
    if groups == 1:
        product = np.matmul(left_f, right_f)
    else:
        bg = b // groups
        product = np.empty((left_f.shape[0], a, b), dtype=np.result_type(left_f, right_f))
        for g in range(groups):
            np.matmul(left_f[:, :, g * kg:(g + 1) * kg], right_f[:, :, g * bg:(g + 1) * bg],
                      out=product[:, :, g * bg:(g + 1) * bg])
    return product.transpose(1, 2, 0).reshape((a, b) + freq)


def conv2d_forward(x, weight, geometry: ConvGeometry, bias=None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``."""
    shape = _fft_shape(geometry)
    spectrum_x = scipy.fft.rfft2(pad_for_windows(x, geometry), s=shape)
    spectrum_w = np.conj(_spectrum_of_kernel(weight, geometry, shape))
    product = _grouped_contract(spectrum_x, _kernel_by_group(spectrum_w, geometry.groups,
                                                             False), geometry.groups)
    full = scipy.fft.irfft2(product, s=shape)
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    out = full[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw].astype(x.dtype)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def conv2d_input_grad(grad_out, weight, geometry: ConvGeometry, bias=None) -> np.ndarray:
    """Transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    shape = _fft_shape(geometry)
    spectrum_g = _spectrum_of_output_grad(grad_out, geometry, shape)
    spectrum_w = _spectrum_of_kernel(weight, geometry, shape)
    product = _grouped_contract(spectrum_g, _kernel_by_group(spectrum_w, geometry.groups,
                                                             True), geometry.groups)
    full = scipy.fft.irfft2(product, s=shape)
    extent = (geometry.padded_extent(0), geometry.padded_extent(1))
    padded = full[:, :, :extent[0], :extent[1]].astype(grad_out.dtype)
    image = np.ascontiguousarray(unpad_from_windows(padded, geometry))
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x, grad_out, geometry: ConvGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``."""
    shape = _fft_shape(geometry)
    groups = geometry.groups
    spectrum_x = scipy.fft.rfft2(pad_for_windows(x, geometry), s=shape)
    spectrum_g = np.conj(_spectrum_of_output_grad(grad_out, geometry, shape))
    # Contract over the batch: (C_out, N) x (N, C) per frequency, block-diagonal by group.
    out_channels, channels = grad_out.shape[1], x.shape[1]
    per_group = channels // groups
    g_t = spectrum_g.transpose(1, 0, 2, 3)          # (C_out, N, F...)
    left_f = np.ascontiguousarray(g_t.reshape(out_channels, g_t.shape[1], -1).transpose(2, 0, 1))
    right_f = np.ascontiguousarray(
        spectrum_x.reshape(spectrum_x.shape[0], channels, -1).transpose(2, 0, 1))
    og = out_channels // groups
    product = np.empty((left_f.shape[0], out_channels, per_group), dtype=left_f.dtype)
    for g in range(groups):
        np.matmul(left_f[:, g * og:(g + 1) * og], right_f[:, :, g * per_group:(g + 1) * per_group],
                  out=product[:, g * og:(g + 1) * og])
    spectrum = product.transpose(1, 2, 0).reshape((out_channels, per_group) + spectrum_x.shape[2:])
    full = scipy.fft.irfft2(spectrum, s=shape)
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    return np.ascontiguousarray(
        full[:, :, :(kh - 1) * dh + 1:dh, :(kw - 1) * dw + 1:dw]).astype(x.dtype, copy=False)
