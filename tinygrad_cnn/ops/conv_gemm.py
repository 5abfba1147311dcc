"""The three convolution kernels of the im2col algorithm (numpy in, numpy out).

Per image, with ``cols = im2col(x)`` of shape ``(C*kH*kW, Ho*Wo)`` and the weight as a matrix
``W (C_out, C*kH*kW)`` (block-diagonal over groups):

* forward          ``Y  (C_out, Ho*Wo)   = W @ cols``
* input gradient   ``dcols               = W.T @ dY``, then ``col2im`` (the transposed
  convolution)
* weight gradient  ``dW (C_out, C*kH*kW) += dY @ cols.T``, summed over the batch

The batch is processed in *chunks* of images whose im2col matrix is about
``CHUNK_BYTES``: each chunk's columns are written and then read by the matrix products while
they are still in cache, and the products land directly in the ``(N, C_out, Ho*Wo)`` output
(no transposing copy).  Measured with ``benchmarks/bench_conv.py``, this was 1.3-10x faster
than unfolding the whole batch into one matrix and one big GEMM, and it bounds the extra
memory by the chunk rather than the batch.  The Python loops are over chunks and groups,
each iteration whole-array numpy and BLAS work.
"""

from __future__ import annotations

import numpy as np

from ._args import ConvGeometry
from .im2col import col2im, im2col

CHUNK_BYTES = 1 << 22


def _chunks(batch: int, per_image_bytes: int):
    """Slices of the batch whose im2col matrices hold about ``CHUNK_BYTES`` each."""
    size = max(1, min(batch, CHUNK_BYTES // max(per_image_bytes, 1)))
    return [slice(start, min(start + size, batch)) for start in range(0, batch, size)]


def _cols_bytes(x_shape, geometry: ConvGeometry, itemsize: int) -> int:
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    return x_shape[1] * kh * kw * ho * wo * itemsize


def _groups(total: int, groups: int):
    size = total // groups
    return [slice(g * size, (g + 1) * size) for g in range(groups)]


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: ConvGeometry,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``."""
    n, out_channels = x.shape[0], weight.shape[0]
    ho, wo = geometry.out_size
    weight_matrix = weight.reshape(out_channels, -1)
    out_rows = _groups(out_channels, geometry.groups)
    col_rows = _groups(weight_matrix.shape[1] * geometry.groups, geometry.groups)
    out = np.empty((n, out_channels, ho * wo), dtype=np.result_type(x, weight))
    for images in _chunks(n, _cols_bytes(x.shape, geometry, x.itemsize)):
        cols = im2col(x[images], geometry)
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(weight_matrix[o], cols[:, c], out=out[images, o])
        if bias is not None:
            out[images] += bias.reshape(-1, 1)
    return out.reshape(n, out_channels, ho, wo)


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: ConvGeometry,
                      bias: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    n, out_channels = grad_out.shape[:2]
    groups = geometry.groups
    channels = weight.shape[1] * groups
    weight_matrix = weight.reshape(out_channels, -1)
    out_rows = _groups(out_channels, groups)
    col_rows = _groups(weight_matrix.shape[1] * groups, groups)
    grad_matrix = grad_out.reshape(n, out_channels, -1)
    image = np.empty((n, channels) + tuple(geometry.in_size), dtype=grad_out.dtype)
    per_image = _cols_bytes((n, channels), geometry, grad_out.itemsize)
    for images in _chunks(n, per_image):
        count = images.stop - images.start
        cols = np.empty((count, weight_matrix.shape[1] * groups, grad_matrix.shape[2]),
                        dtype=np.result_type(grad_out, weight))
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(weight_matrix[o].T, grad_matrix[images, o], out=cols[:, c])
        image[images] = col2im(cols, geometry, channels)
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray,
                       geometry: ConvGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``:
    the correlation of the input with the output gradient, summed over the batch."""
    n, out_channels = grad_out.shape[:2]
    groups = geometry.groups
    kh, kw = geometry.kernel
    per_group = x.shape[1] // groups
    out_rows = _groups(out_channels, groups)
    col_rows = _groups(x.shape[1] * kh * kw, groups)
    grad_matrix = grad_out.reshape(n, out_channels, -1)
    total = np.zeros((out_channels, per_group * kh * kw), dtype=np.result_type(x, grad_out))
    for images in _chunks(n, _cols_bytes(x.shape, geometry, x.itemsize)):
        cols = im2col(x[images], geometry)
        for o, c in zip(out_rows, col_rows, strict=True):
            # (n, C_out/g, L) @ (n, L, C*kH*kW/g), summed over the chunk's images.
            total[o] += np.matmul(grad_matrix[images, o], cols[:, c].transpose(0, 2, 1)).sum(0)
    return total.reshape(out_channels, per_group, kh, kw)
