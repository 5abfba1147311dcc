"""Training-mode batch normalisation as one primitive (the forward of
``torch.nn.functional.batch_norm`` with ``training=True``).

    x ``(N, C, *)``, weight ``(C,)`` or None, bias ``(C,)`` or None -> y ``(N, C, *)``
    y = (x - mean) / sqrt(var + eps) * weight + bias

with ``mean`` and the *biased* ``var`` taken per channel over every axis but 1 (``m`` values
each).  The backward is the closed form

    x_hat   = (x - mean) * inv_std,      inv_std = 1 / sqrt(var + eps)
    dx      = weight * inv_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat))
    dweight = sum(g * x_hat),            dbias = sum(g)

written with Tensor ops on the saved ``x`` and ``weight`` (the statistics are recomputed from
``x``, not stashed), so ``grad(..., create_graph=True)`` differentiates it again exactly.

Speed (the training step's forward, and its backward when grad mode is off, i.e.
``create_graph=False``): numpy costs here are memory traffic and the number of ufunc calls,
so the kernels

* view x as ``(N, C, L)`` and sum over ``N`` and ``L`` with a matrix-vector product against
  ones (BLAS reads x once; ``x.sum(axis=(0, 2, 3))`` is 1.3-5x slower);
* apply per-channel factors as ``(C, L)`` *rows* broadcast over ``N`` (contiguous inner
  loops, about 2x faster than a ``(1, C, 1)`` operand, whose stride-0 inner loop numpy does
  not vectorise);
* run the elementwise passes block by block (:func:`_blocks`, about 256 KiB per operand), so
  the temporaries of one block stay in the L2 cache while x and g stream through once per
  pass;
* keep the per-channel sums in float64 (C numbers each; the data stays in its dtype).

The forward (:func:`_normalize`) takes the statistics in one pass over ``x - K``, ``K`` the
first image's channel means, and a second pass only where that shift is too far from the
batch mean for the shifted variance to be exact (never ``E[x^2] - mean^2``); the output,
written as ``x - K`` in that pass, is then scaled and shifted in place.  The first-order
backward (:func:`_first_order_backward`) makes one pass for ``sum(g)`` and
``sum(g * (x - mean))``, and one for ``dx = (weight * inv_std) * g + k * (x - mean) + c`` per
channel (the mean folded into the constants where ``|mean| <= 4 std``), with the forward's
mean and ``inv_std`` (kept on ``ctx`` in a tuple and read only there: the differentiable backward
recomputes them from the saved ``x``).
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .threads import blas_threads

# Elements per operand in one block of the elementwise passes: 256 KiB of float32, so a
# block's few operands fit in a 1-2 MiB L2 cache.  Arrays up to twice this are one block.
_BLOCK_BYTES = 1 << 18

# The first-order backward folds the mean into per-channel constants while every channel's
# |mean| <= _FOLD_RATIO * std: the folded terms then cancel by at most that factor, a
# rounding error of a few eps * |mean| / std, which is PyTorch's own (its float32 x - mean
# is off by eps * |mean|); tests/test_batchnorm.py compares both at mean/std 0 to 1000.
_FOLD_RATIO = 4.0


def _channel_axes(ndim: int) -> tuple:
    """Every axis but the channel axis 1: the axes the statistics are taken over."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(array, ndim: int):
    """A ``(C,)`` array or Tensor as ``(1, C, 1, ...)``, to broadcast against ``(N, C, *)``."""
    return array.reshape((1, -1) + (1,) * (ndim - 2))


def _blocks(batch: int, channels: int, length: int, itemsize: int) -> list:
    """``(batch slice, channel slice)`` pairs tiling an ``(N, C, L)`` array into blocks of
    about ``_BLOCK_BYTES`` per operand: whole images while one fits, else channel groups of
    one image.  One block for an array up to twice the size."""
    target = _BLOCK_BYTES // itemsize
    plane = channels * length
    if batch * plane <= 2 * target:
        return [(slice(None), slice(None))]
    if plane <= target:
        rows = target // plane
        return [(slice(start, start + rows), slice(None)) for start in range(0, batch, rows)]
    group = max(1, target // length)
    return [(slice(n, n + 1), slice(start, start + group))
            for n in range(batch) for start in range(0, channels, group)]


def _rows(length: int, dtype, *values):
    """Per-channel vectors ``(C,)`` as ``(C, L)`` arrays in ``dtype``, each value repeated
    along its row: operands that broadcast against ``(n, C, L)`` blocks with contiguous inner
    loops (one ``np.repeat`` for all of them)."""
    stacked = np.repeat(np.array(values, dtype=dtype), length, axis=1)
    return stacked.reshape(len(values), -1, length)


# The dot product along the last axis, per (image, channel): numpy 2's vecdot (about 1.5x
# einsum's speed on cached blocks), einsum before it.
_dot_last = getattr(np, "vecdot", None) or (
    lambda a, b, out: np.einsum("...i,...i->...", a, b, out=out))


def _work_dtype(dtype):
    """The dtype the kernels compute in: float32 and float64 as they are, narrower floats
    in float32 (sums of squares in float16 overflow)."""
    return dtype if dtype == np.float32 or dtype == np.float64 else np.dtype(np.float32)


def _as_blocks(array, work):
    """``(N, C, *)`` as ``(N, C, L)`` in the work dtype (a view when it already is)."""
    array = array.reshape(array.shape[0], array.shape[1], -1)
    return array if array.dtype == work else array.astype(work)


def _normalize(x, weight, bias, eps):
    """The forward in numpy: ``(y, mean, var, inv_std)``, y in x's dtype, the statistics
    ``(C,)`` float64 (biased var).

    One blocked pass writes ``x - K`` into the output and sums it and its squares, with
    ``K`` the first image's channel means (a cheap guess of the batch mean): then
    ``d = mean - K`` and ``var = mean((x - K)**2) - d**2``, which loses nothing to
    cancellation while ``d**2 <= var / 2``.  Otherwise (the first image is unlike the batch)
    a second pass subtracts ``d`` and sums the squares again: the two-pass variance, never
    ``E[x**2] - mean**2``.  A last pass scales and shifts in place.
    """
    work = _work_dtype(x.dtype)
    x3 = _as_blocks(x, work)
    batch, channels, length = x3.shape
    count = batch * length
    blocks = _blocks(batch, channels, length, work.itemsize)
    ones = np.ones(length, work)
    guess = (x3[0] @ ones).astype(np.float64) / length
    (guess_row,) = _rows(length, work, guess)
    # Per (image, channel) partial sums in the data's dtype (BLAS dot products of one row),
    # added over the images in float64.
    sums = np.empty((batch, channels), work)
    squares = np.empty_like(sums)
    result = np.empty(x.shape, work)  # returned as it is: no view, so it owns its memory
    out = result.reshape(x3.shape)
    for images, group in blocks:  # out = x - K; its sums and sums of squares
        block = np.subtract(x3[images, group], guess_row[group], out=out[images, group])
        np.matmul(block, ones, out=sums[images, group])
        _dot_last(block, block, out=squares[images, group])
    offset = sums.sum(axis=0, dtype=np.float64) / count  # d = mean - K
    mean = guess + offset
    var = squares.sum(axis=0, dtype=np.float64) / count - offset * offset
    if not np.all(offset * offset <= 0.5 * var):  # (also when var came out <= 0 or NaN)
        (offset_row,) = _rows(length, work, offset)
        for images, group in blocks:  # out = x - mean, its squares summed again
            block = np.subtract(out[images, group], offset_row[group], out=out[images, group])
            _dot_last(block, block, out=squares[images, group])
        var = squares.sum(axis=0, dtype=np.float64) / count
        offset = np.zeros_like(offset)
    var = np.maximum(var, 0.0)
    inv_std = 1.0 / np.sqrt(var + eps)
    scale = inv_std if weight is None else inv_std * weight
    shift = -offset * scale if bias is None else bias - offset * scale
    scale_row, shift_row = _rows(length, work, scale, shift)
    for images, group in blocks:  # out = (x - K) * scale + (bias - d * scale), in place
        block = out[images, group]
        np.multiply(block, scale_row[group], out=block)
        np.add(block, shift_row[group], out=block)
    return (result if result.dtype == x.dtype else result.astype(x.dtype)), mean, var, inv_std


class BatchNormTraining(Function):
    """``(x (N, C, *), weight (C,) | None, bias (C,) | None, eps, statistics) -> (N, C, *)``.

    ``statistics`` is ``None`` or a list; the forward appends the batch ``(mean, var)``
    (each ``(C,)``, biased variance, in x's dtype) to it, so the caller can update running
    statistics without computing them a second time.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, statistics):
        eps = float(eps)
        with blas_threads(1):   # its row sums: no spinning OpenBLAS thread (.threads)
            out, mean, var, inv_std = _normalize(x, weight, bias, eps)
        if statistics is not None:
            statistics.append((mean.astype(x.dtype), var.astype(x.dtype)))
        ctx.save_for_backward(x, weight)
        ctx.eps = eps
        ctx.count = x.size // x.shape[1]
        # For the first-order backward only (float64, (C,)); in a tuple, as they are not
        # constants: the differentiable backward recomputes them from the saved x.
        ctx.statistics = (mean, inv_std)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        if not is_grad_enabled():
            with blas_threads(1):
                return _first_order_backward(ctx, grad._data, x._data,
                                             None if weight is None else weight._data,
                                             ctx.owns_grad)
        axes, count, ndim = _channel_axes(x.ndim), ctx.count, x.ndim
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + ctx.eps) ** -0.5
        sum_g = grad.sum(axis=axes, keepdims=True)
        # sum(g * x_hat) = inv_std * sum(g * (x - mean)): one full-size product fewer.
        sum_g_xhat = inv_std * (grad * centered).sum(axis=axes, keepdims=True)
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            scale = inv_std if weight is None else inv_std * _per_channel(weight, ndim)
            # dx = scale * (g - (sum(g) + x_hat * sum(g * x_hat)) / m), x_hat's inv_std folded
            # into the per-channel factor of (x - mean).  Each full-size temporary is dropped
            # before the next is made, so at most two are alive: freed blocks get reused,
            # while fresh ones cost a page fault per 4 KiB (once half the backward's time).
            correction = centered * (inv_std * sum_g_xhat / count)
            del centered
            correction = correction + sum_g / count
            grad_x = (grad - correction) * scale
        if needs_weight:
            grad_weight = sum_g_xhat.reshape(-1)
        if needs_bias:
            grad_bias = sum_g.reshape(-1)
        return grad_x, grad_weight, grad_bias, None, None


def _first_order_backward(ctx, grad, x, weight, owns_grad=False):
    """The closed form of :meth:`BatchNormTraining.backward` in blocked numpy, with the
    forward's ``mean`` and ``inv_std``; only for a backward that records no graph.

    One blocked pass sums ``g`` and ``g * (x - mean)`` per channel, a second writes
    ``dx = s * g + k * (x - mean) + c`` with ``s = weight * inv_std``,
    ``k = -s * inv_std**2 * sum(g * (x - mean)) / m`` and ``c = -s * sum(g) / m``: into
    ``grad``'s own array when ``owns_grad`` (the engine handed over an array nothing else
    sees: each block of ``g`` is read before it is overwritten), else into a new one.

    Where every channel's ``|mean| <= _FOLD_RATIO * std`` (the usual case: a CNN's
    activations) the mean is folded into per-channel constants: ``sum(g * x) - mean * sum(g)``
    and ``dx = s * g + k * x + (c - k * mean)``, two and four numpy calls per block instead
    of three and five, with a rounding error of a few ``eps * |mean| / std``, as the other
    form's (whose float32 ``x - mean`` is itself off by ``eps * |mean|``) and PyTorch's.  At
    a larger ``|mean| / std`` the folded terms would cancel, so there ``x - mean`` is formed
    first.
    """
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    mean, inv_std = ctx.statistics
    dtype = np.result_type(grad, x)
    work = _work_dtype(dtype)
    x3, grad3 = _as_blocks(x, work), _as_blocks(grad, work)
    batch, channels, length = x3.shape
    count = batch * length
    blocks = _blocks(batch, channels, length, work.itemsize)
    fold = bool(np.all(np.abs(mean) * inv_std <= _FOLD_RATIO))
    (mean_row,) = _rows(length, work, mean)
    ones = np.ones(length, work)
    sums = np.empty((batch, channels), work)  # per (image, channel), as in the forward
    products = np.empty_like(sums)
    scratch = np.empty(x3[blocks[0]].size, work)
    for images, group in blocks:  # g's block is read from memory once, for both sums
        g_block = grad3[images, group]
        np.matmul(g_block, ones, out=sums[images, group])
        if fold:
            centered = x3[images, group]
        else:
            centered = np.subtract(x3[images, group], mean_row[group],
                                   out=scratch[:g_block.size].reshape(g_block.shape))
        _dot_last(g_block, centered, out=products[images, group])
    sum_g = sums.sum(axis=0, dtype=np.float64)
    sum_g_centered = products.sum(axis=0, dtype=np.float64)
    if fold:
        sum_g_centered -= mean * sum_g
    grad_x = grad_weight = grad_bias = None
    if needs_x:
        scale = inv_std if weight is None else inv_std * weight
        along = -scale * inv_std * inv_std * sum_g_centered / count
        shift = -scale * sum_g / count
        # grad's own array when it may be overwritten, else a new one (no view: the engine
        # may take the result as a leaf's .grad)
        reuse = owns_grad and grad.dtype == work and grad.shape == x.shape and \
            grad.flags.c_contiguous
        result = grad if reuse else np.empty(x.shape, work)
        out = result.reshape(x3.shape)
        if fold:
            scale_row, along_row, shift_row = _rows(length, work, scale, along,
                                                    shift - along * mean)
        else:
            scale_row, along_row, shift_row = _rows(length, work, scale, along, shift)
        for images, group in blocks:  # g's block is read (first) before it is overwritten
            block = np.multiply(grad3[images, group], scale_row[group],
                                out=out[images, group])
            term = scratch[:block.size].reshape(block.shape)
            if fold:
                np.multiply(x3[images, group], along_row[group], out=term)
            else:
                np.subtract(x3[images, group], mean_row[group], out=term)
                np.multiply(term, along_row[group], out=term)
            np.add(term, shift_row[group], out=term)
            np.add(block, term, out=block)
        grad_x = Tensor._make(result if result.dtype == dtype else result.astype(dtype))
    if needs_weight:
        grad_weight = Tensor._make((sum_g_centered * inv_std).astype(dtype))
    if needs_bias:
        grad_bias = Tensor._make(sum_g.astype(dtype))
    return grad_x, grad_weight, grad_bias, None, None
