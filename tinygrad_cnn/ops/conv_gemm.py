"""The three convolution kernels of the im2col algorithm (numpy in, numpy out).

Per image, with ``cols = im2col(x)`` of shape ``(C*kH*kW, Ho*Wo)`` and the weight as a matrix
``W (C_out, C*kH*kW)`` (block-diagonal over groups):

* forward          ``Y  (C_out, Ho*Wo)   = W @ cols`` (with one group and a bias: ``[W | b]``
  against the columns with a row of ones below them, the bias one more term of the product)
* input gradient   ``dcols               = W.T @ dY``, then ``col2im`` (the transposed
  convolution)
* weight gradient  ``dW^T (C*kH*kW, C_out) += cols @ dY.T``, summed over the batch

The batch is processed in equal *chunks* of images whose im2col matrix is at most about
``CHUNK_BYTES``, at least two of them (:func:`.threads.batch_chunks`: a second thread
always has work, the BLAS staying on one): each chunk's columns are written and then read
by the matrix products while they are still in cache, and the products land directly in
the ``(N, C_out, Ho*Wo)`` output (no transposing copy).  Measured with
``benchmarks/bench_conv.py``, this was 1.3-10x faster than unfolding the whole batch into
one matrix and one big GEMM, and it bounds the extra memory by the chunk rather than the
batch.  The Python loops are over chunks and groups,
each iteration whole-array numpy and BLAS work; with ``set_num_threads(n > 1)`` the chunks
are split over ``n`` threads (:func:`.threads.map_chunks`, each thread's BLAS on one core;
the weight gradient sums one partial result per chunk).
"""

from __future__ import annotations

import numpy as np

from . import conv_memo
from .geometry import WindowGeometry
from .im2col import col2im, im2col, pad_for_windows, window_view
from .threads import batch_chunks, map_chunks

CHUNK_BYTES = 1 << 22
CORRELATION_INPUT_GRAD = True  # stride-1 input gradients as a correlation (see the kernel)


def _chunks(batch: int, per_image_bytes: int):
    """Equal slices of the batch whose im2col matrices hold at most about ``CHUNK_BYTES``
    each, at least two (:func:`.threads.batch_chunks`)."""
    return batch_chunks(batch, per_image_bytes, CHUNK_BYTES)


def _cols_bytes(x_shape, geometry: WindowGeometry, itemsize: int) -> int:
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    return x_shape[1] * kh * kw * ho * wo * itemsize


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``."""
    n, out_channels = x.shape[0], weight.shape[0]
    ho, wo = geometry.out_size
    weight_matrix = weight.reshape(out_channels, -1)
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(weight_matrix.shape[1] * geometry.groups)
    out = np.empty((n, out_channels, ho * wo), dtype=np.result_type(x, weight))
    cols_bytes = _cols_bytes(x.shape, geometry, x.itemsize)
    # The weight gradient's per-image products read the same columns (:mod:`.conv_memo`).
    kept = conv_memo.keep("im2col", x, geometry, n * cols_bytes) \
        if keeps_columns(x.shape, geometry, x.itemsize) else None
    # The bias as one more term of the products, against a row of ones under the columns.
    fold_bias = bias is not None and geometry.groups == 1 and not _columns_are_a_view(geometry)
    if fold_bias:
        weight_matrix = np.concatenate(
            [weight_matrix, bias.reshape(-1, 1).astype(weight_matrix.dtype)], axis=1)
        col_rows = [slice(0, weight_matrix.shape[1])]

    def chunk(images):
        cols = im2col(x[images], geometry, ones_row=fold_bias)
        if kept is not None:
            kept[images.start, images.stop] = cols
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(weight_matrix[o], cols[:, c], out=out[images, o])
        if bias is not None and not fold_bias:
            out[images] += bias.reshape(-1, 1)

    map_chunks(chunk, _chunks(n, cols_bytes))
    return out.reshape(n, out_channels, ho, wo)


def _columns_are_a_view(geometry: WindowGeometry) -> bool:
    """Whether :func:`im2col` returns a view of its input (a 1x1 kernel at stride 1 without
    padding), so that columns with a row of ones would cost a copy the bias add does not.
    (Elsewhere the bias rides in the product: for one input channel, (a), its pass over the
    output cost 0.48 of the forward's 1.13 ms, the output being 32x the columns.)"""
    return (tuple(geometry.kernel) == (1, 1) and tuple(geometry.stride) == (1, 1)
            and all(p == (0, 0) for p in geometry.padding))


def adjoint_weight(weight: np.ndarray, groups: int) -> np.ndarray:
    """``(C_out, C/groups, kH, kW)`` -> ``(C, C_out/groups, kH, kW)``: channel axes swapped per
    group and the kernel rotated 180 degrees, the kernel of the transposed convolution
    written as a correlation."""
    out_channels, per_group, kh, kw = weight.shape
    swapped = weight.reshape(groups, out_channels // groups, per_group, kh, kw)
    swapped = swapped.transpose(0, 2, 1, 3, 4).reshape(groups * per_group,
                                                        out_channels // groups, kh, kw)
    return np.ascontiguousarray(swapped[:, :, ::-1, ::-1])


def input_grad_as_correlation(grad_out, weight, geometry: WindowGeometry, bias,
                              forward=None):
    """For stride 1: ``dx`` is the correlation of grad_out with :func:`adjoint_weight`, the
    grad_out padded by ``dilation*(k-1)`` less the convolution's padding on each side
    (cropped where that is negative), computed by ``forward`` (default
    :func:`conv2d_forward`; no col2im)."""
    spans = [d * (k - 1) for d, k in zip(geometry.dilation, geometry.kernel, strict=True)]
    pads = []
    for axis, ((before, after), span) in enumerate(zip(geometry.padding, spans, strict=True)):
        lead, trail = span - before, span - after
        if lead < 0:  # the first input rows are read by no window... crop grad_out instead
            grad_out = grad_out.take(range(-lead, grad_out.shape[2 + axis]), axis=2 + axis)
            lead = 0
        pads.append((lead, trail))
    correlation = WindowGeometry(tuple(grad_out.shape[2:]), tuple(geometry.in_size),
                                 tuple(geometry.kernel), (1, 1), tuple(pads),
                                 tuple(geometry.dilation), geometry.groups)
    forward = conv2d_forward if forward is None else forward
    return forward(grad_out, adjoint_weight(weight, geometry.groups), correlation, bias)


def input_grad_by_correlation(channels: int, out_channels: int) -> bool:
    """Whether a stride-1 input gradient is cheaper as a correlation (window copies of
    ``C_out*kH*kW`` rows per position) than by col2im (adds of ``C*kH*kW`` rows, each a read
    and a write): when the output has no more channels than the input. The rule of both
    this module and :mod:`.im2col_flat` (measurements in their ``conv2d_input_grad``)."""
    return out_channels <= channels


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                      bias: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution: grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given).

    Stride 1 with ``C_out <= C``: as a correlation (:func:`input_grad_as_correlation`),
    whose window copies (``C_out*kH*kW`` per position) then cost less than col2im's
    strided adds (``C*kH*kW`` per position, each a read-modify-write). Measured at one
    thread, interleaved, correlation vs col2im: (64,16,32,32)->16 23 vs 38 ms, (64,32,16,16)
    ->32 16 vs 25, (64,64,8,8)->64 12 vs 24; with ``C_out = 2 C`` it loses ((b) 28 vs 23,
    (c) 166 vs 155), and with one input channel (the first layer of an MNIST CNN) it is
    14x slower. Else: the GEMM and col2im."""
    n, out_channels = grad_out.shape[:2]
    channels = weight.shape[1] * geometry.groups
    if CORRELATION_INPUT_GRAD and tuple(geometry.stride) == (1, 1) \
            and input_grad_by_correlation(channels, out_channels) and n:
        return input_grad_as_correlation(grad_out, weight, geometry, bias)
    weight_matrix = weight.reshape(out_channels, -1)
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(channels * geometry.kernel[0] * geometry.kernel[1])
    grad_matrix = grad_out.reshape(n, out_channels, grad_out.shape[2] * grad_out.shape[3])
    dtype = np.result_type(grad_out, weight)
    image = np.empty((n, channels) + tuple(geometry.in_size), dtype=dtype)

    def chunk(images):
        count = images.stop - images.start
        cols = np.empty((count, channels * geometry.kernel[0] * geometry.kernel[1],
                         grad_matrix.shape[2]), dtype=dtype)
        for o, c in zip(out_rows, col_rows, strict=True):
            np.matmul(weight_matrix[o].T, grad_matrix[images, o], out=cols[:, c])
        col2im(cols, geometry, channels, out=image[images], overwrite_cols=True)

    map_chunks(chunk, _chunks(n, _cols_bytes((n, channels), geometry, grad_out.itemsize)))
    if bias is not None:
        image += bias.reshape(1, -1, 1, 1)
    return image


def keeps_columns(x_shape, geometry: WindowGeometry, itemsize: int) -> bool:
    """Whether a forward of an input of ``x_shape`` that keeps its input's transforms
    (:func:`.conv_memo.keep`) keeps its columns: when the weight gradient multiplies per
    image, reading them (not when it sums over the images in one GEMM, which lays the
    columns out its own way), and they fit in :data:`.conv_memo.KEEP_BYTES`."""
    return (not _weight_grad_in_one_gemm(geometry, x_shape[1])
            and x_shape[0] * _cols_bytes(x_shape, geometry, itemsize) <= conv_memo.KEEP_BYTES)


def _weight_grad_in_one_gemm(geometry: WindowGeometry, channels: int) -> bool:
    """Whether :func:`conv2d_weight_grad` sums over the images in one GEMM (see there)."""
    kh, kw = geometry.kernel
    positions = geometry.out_size[0] * geometry.out_size[1]
    return positions < channels * kh * kw // geometry.groups


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray,
                       geometry: WindowGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``:
    the correlation of the input with the output gradient, summed over the batch.

    The products compute the transpose, ``dW^T = cols @ dY^T``: OpenBLAS runs that
    orientation (the long ``C*kH*kW`` side as the result's rows) 15-30% faster than ``dY @
    cols^T`` on these skinny shapes (one thread, microbenchmarks: (d)'s per-image products
    0.62 against 0.88 ms per 16 images, (b)'s one GEMM 0.94 against 1.18; the whole weight
    gradient of (d) 2.7-2.9 against 3.3-3.4 ms, of a 5x5 (32,16,28,28)->32 10.6-11.0 against
    13.8; one to three input channels unchanged).

    Per chunk of ``n`` images and per group, either one product per image,
    ``(n, C*kH*kW, L) @ (n, L, C_out)``, whose ``(n, C*kH*kW, C_out)`` result is then summed
    over the images; or ONE GEMM that sums over them itself, ``cols (C*kH*kW, n*L) @ dY^T
    (n*L, C_out)``, with the columns unfolded straight into that layout but ``dY`` copied
    into it (``n*C_out*L`` elements).  The GEMM is taken when that copy is the smaller of the
    two intermediates, ``L < C*kH*kW/groups``: timed against the per-image products on the
    shapes of ``benchmarks/bench_conv.py``, it won on (b) (``L = 196 < 288``) and lost where
    ``L`` is long, as in (a) and (d). The per-image products take the forward's columns
    where it kept them (:mod:`.conv_memo`); when those carry the forward's row of ones
    (:func:`.im2col.im2col`'s ``ones_row``), the products' last row is ``grad_out`` summed per
    channel, offered to the memo as its convolution's bias gradient
    (:data:`.conv_memo.CHANNEL_SUMS`)."""
    n, out_channels = grad_out.shape[:2]
    channels = x.shape[1]
    kh, kw = geometry.kernel
    rows = channels * kh * kw
    positions = grad_out.shape[2] * grad_out.shape[3]
    out_rows = geometry.group_slices(out_channels)
    col_rows = geometry.group_slices(rows)
    grad_matrix = grad_out.reshape(n, out_channels, positions)
    dtype = np.result_type(x, grad_out)
    one_gemm = _weight_grad_in_one_gemm(geometry, channels)
    kept = {} if one_gemm else conv_memo.kept("im2col", x, geometry)

    def chunk(images):
        total = np.zeros((rows // geometry.groups, out_channels), dtype=dtype)   # dW^T
        sums = None
        if one_gemm:
            count = images.stop - images.start
            padded = pad_for_windows(x[images], geometry).transpose(1, 0, 2, 3)
            cols = window_view(padded, geometry).transpose(0, 2, 3, 1, 4, 5)
            cols = cols.reshape(rows, count * positions)              # (C*kH*kW, n*L)
            grads = grad_matrix[images].transpose(1, 0, 2).reshape(out_channels, -1)
            for o, c in zip(out_rows, col_rows, strict=True):
                total[:, o] += cols[c] @ grads[o].T
        else:
            cols = kept.get((images.start, images.stop))
            if cols is None:
                cols = im2col(x[images], geometry)                    # (n, C*kH*kW, L)
            if cols.shape[1] > rows:   # the forward's row of ones: the sums of dY come along
                product = np.matmul(cols, grad_matrix[images].transpose(0, 2, 1)).sum(0)
                total += product[:rows]
                sums = product[rows]
            else:
                for o, c in zip(out_rows, col_rows, strict=True):
                    total[:, o] += np.matmul(cols[:, c],
                                             grad_matrix[images, o].transpose(0, 2, 1)).sum(0)
        return total, sums

    partials = map_chunks(chunk, _chunks(n, _cols_bytes(x.shape, geometry, x.itemsize)))
    total = partials[0][0] if partials else np.zeros((rows // geometry.groups, out_channels),
                                                     dtype)
    for partial, _ in partials[1:]:
        total += partial
    if partials and all(sums is not None for _, sums in partials):
        channel_sums = np.sum([sums for _, sums in partials], axis=0, dtype=np.float64)
        conv_memo.offer(conv_memo.CHANNEL_SUMS, grad_out, None,
                        channel_sums.astype(grad_out.dtype))
    return np.ascontiguousarray(total.T).reshape(out_channels, channels // geometry.groups,
                                                 kh, kw)
