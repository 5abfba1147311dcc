"""The three convolution kernels of a 1x1 convolution without padding at any stride (numpy
in, numpy out, the interface of :mod:`.conv_gemm`): a subsample and one matrix product per
image, no im2col at all. ``"im2col_phases"`` (:mod:`.conv_strided`) runs them for such
layers (ResNet's stride-2 shortcuts).

With ``xs (N, C, Ho*Wo)`` the input at the output's positions (``x[:, :, ::sH, ::sW]``,
copied once; at stride 1 a view) and the weight as a matrix ``W (C_out, C/groups)``:

* forward          ``y[n] = W @ xs[n]``, written straight into ``(N, C_out, Ho, Wo)``;
* input gradient   ``dxs[n] = W^T @ dy[n]``, scattered into a zero ``(N, C, H, W)`` at the
  sampled positions (the others are read by no window);
* weight gradient  ``sum_n dy[n] @ xs[n]^T``, per image then summed over the images in
  chunk order.

Each output is the sum of im2col's products (its column matrix is ``xs`` itself), so the
rounding is im2col's; no extra positions, so infinities propagate as under im2col. The
subsample is shared by the forward and the weight gradient of one training step
(:mod:`.conv_memo`). Chunks of images run on :func:`.threads.map_chunks`'s threads.
"""

from __future__ import annotations

import numpy as np

from . import conv_memo
from .geometry import WindowGeometry
from .threads import batch_chunks, map_chunks

CHUNK_BYTES = 1 << 20


def supports(geometry: WindowGeometry) -> bool:
    """Whether these kernels compute ``geometry``: a 1x1 kernel, no padding on the top and
    left, and every output position on an input element (no window in the bottom or right
    padding)."""
    (top, _), (left, _) = geometry.padding
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    height, width = geometry.in_size
    return (tuple(geometry.kernel) == (1, 1) and top == 0 and left == 0
            and (ho - 1) * sh < height and (wo - 1) * sw < width)


def _sampled(x: np.ndarray, geometry: WindowGeometry, dtype) -> np.ndarray:
    """x ``(N, C, H, W)`` -> ``(N, C, Ho*Wo)``, the input at the output's positions."""
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    view = x[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw]
    return np.ascontiguousarray(view, dtype=dtype).reshape(x.shape[0], x.shape[1], ho * wo)


def _sampled_of(x, geometry, dtype):
    return conv_memo.remembered("sampled input", x, (geometry, np.dtype(dtype)),
                                lambda: _sampled(x, geometry, dtype))


def _chunks(batch: int, per_image: int):
    return batch_chunks(batch, per_image, CHUNK_BYTES)


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, 1, 1)`` -> ``(N, C_out, Ho, Wo)``."""
    n, channels = x.shape[:2]
    dtype = np.result_type(x, weight)
    sampled = _sampled_of(x, geometry, dtype)
    matrix = weight.astype(dtype, copy=False).reshape(weight.shape[0], -1)
    out_channels, (ho, wo) = weight.shape[0], geometry.out_size
    out = np.empty((n, out_channels, ho * wo), dtype)
    pairs = list(zip(geometry.group_slices(out_channels), geometry.group_slices(channels),
                     strict=True))

    def chunk(images):
        for o, c in pairs:
            np.matmul(matrix[o], sampled[images, c], out=out[images, o])
        if bias is not None:
            out[images] += bias.reshape(-1, 1)

    map_chunks(chunk, _chunks(n, (channels + out_channels) * ho * wo * out.itemsize))
    return out.reshape(n, out_channels, ho, wo)


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                      bias: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, 1, 1)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given)."""
    n, out_channels = grad_out.shape[:2]
    channels = weight.shape[1] * geometry.groups
    dtype = np.result_type(grad_out, weight)
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    matrix = weight.astype(dtype, copy=False).reshape(out_channels, -1)
    grads = grad_out.astype(dtype, copy=False).reshape(n, out_channels, ho * wo)
    dense = (ho, wo) == tuple(geometry.in_size)   # every input element sampled
    image = (np.empty if dense else np.zeros)((n, channels) + tuple(geometry.in_size), dtype)
    sampled = image[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw]
    pairs = list(zip(geometry.group_slices(out_channels), geometry.group_slices(channels),
                     strict=True))

    def chunk(images):
        count = images.stop - images.start
        product = sampled[images].reshape(count, channels, ho * wo) if dense else \
            np.empty((count, channels, ho * wo), dtype)
        for o, c in pairs:
            np.matmul(matrix[o].T, grads[images, o], out=product[:, c])
        if not dense:
            sampled[images] = product.reshape(count, channels, ho, wo)

    map_chunks(chunk, _chunks(n, (channels + out_channels) * ho * wo * image.itemsize))
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray,
                       geometry: WindowGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, 1, 1)``."""
    n, channels = x.shape[:2]
    out_channels = grad_out.shape[1]
    dtype = np.result_type(x, grad_out)
    sampled = _sampled_of(x, geometry, dtype)
    positions = sampled.shape[2]
    grads = grad_out.astype(dtype, copy=False).reshape(n, out_channels, positions)
    pairs = list(zip(geometry.group_slices(out_channels), geometry.group_slices(channels),
                     strict=True))

    def chunk(images):
        partial = np.empty((out_channels, channels // geometry.groups), dtype)
        for o, c in pairs:
            per_image = np.matmul(grads[images, o], sampled[images, c].transpose(0, 2, 1))
            per_image.sum(axis=0, out=partial[o])
        return partial

    partials = map_chunks(chunk, _chunks(n, (channels + out_channels) * positions
                                         * np.dtype(dtype).itemsize))
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total.reshape(out_channels, channels // geometry.groups, 1, 1)
