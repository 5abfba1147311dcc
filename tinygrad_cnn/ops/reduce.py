"""Reductions over axes.  Each backward broadcasts the gradient back over the reduced axes."""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .shape import BroadcastTo, Flip, Reshape
from .threads import blas_threads

# From this many elements, a per-channel sum of a contiguous float array (every axis but 1)
# runs as one matrix-vector product (:func:`_channel_sums`).
_CHANNEL_SUM_MIN = 1 << 14


def _kept_shape(input_shape, axes) -> tuple:
    """The shape of the reduction with ``keepdims=True``."""
    return tuple(1 if i in axes else size for i, size in enumerate(input_shape))


def _spread(grad, input_shape, axes):
    """The gradient of a reduction, broadcast back over the reduced axes."""
    return BroadcastTo.apply(Reshape.apply(grad, _kept_shape(input_shape, axes)), input_shape)


class Sum(Function):
    """``x.sum(axis=axes, keepdims=keepdims)``; ``axes`` is a normalised tuple."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.input_shape = x.shape
        ctx.axes = axes
        if _is_channel_sum(x, axes):
            return _per_channel_result(_channel_sums(x), x, axes, keepdims)
        return np.asarray(x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.input_shape, ctx.axes), None, None


def _is_channel_sum(x: np.ndarray, axes) -> bool:
    """A sum over every axis but 1 of a large C-contiguous float32/float64 array (a bias
    gradient, batch statistics), which :func:`_channel_sums` computes."""
    return (x.ndim >= 3 and axes == (0,) + tuple(range(2, x.ndim))
            and x.dtype in (np.float32, np.float64) and x.size >= _CHANNEL_SUM_MIN
            and x.flags.c_contiguous)


def _channel_sums(x: np.ndarray) -> np.ndarray:
    """``x (N, C, *)`` -> float64 ``(C,)``, the sums over every axis but 1.

    The rows ``(N*C, L)`` summed by one matrix-vector product against ones (BLAS reads x
    once: 3-7x faster than ``x.sum(axis=(0, 2, 3))``, which runs one short loop per row for
    the outer axis N), on one BLAS thread (a memory-bound product gains nothing from a
    second, whose OpenBLAS thread would then spin), the images' sums added in float64.
    The rows are summed in float32 (float64) accumulators, as numpy's."""
    batch, channels = x.shape[:2]
    rows = x.reshape(batch * channels, -1)
    with blas_threads(1):
        row_sums = rows @ np.ones(rows.shape[1], x.dtype)
    return row_sums.reshape(batch, channels).sum(axis=0, dtype=np.float64)


def _per_channel_result(values: np.ndarray, x: np.ndarray, axes, keepdims) -> np.ndarray:
    """Float64 ``(C,)`` results of a reduction over ``axes`` of ``x``, in x's dtype and
    shape of reduction."""
    values = values.astype(x.dtype)
    return values.reshape(_kept_shape(x.shape, axes)) if keepdims else values


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.input_shape = x.shape
        ctx.axes = axes
        ctx.count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if _is_channel_sum(x, axes):
            return _per_channel_result(_channel_sums(x) / ctx.count, x, axes, keepdims)
        if ctx.count == 0:   # NaN, silently (numpy's mean warns "Mean of empty slice")
            return np.asarray(np.sum(x, axis=axes, keepdims=keepdims) / x.dtype.type(0))
        return np.asarray(x.mean(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        # Divide the reduced gradient before spreading it: one small division, not a full pass.
        return _spread(grad / float(ctx.count), ctx.input_shape, ctx.axes), None, None


class Extremum(Function):
    """``x.max`` / ``x.min`` over ``axes`` (``np.amax`` / ``np.amin``).

    As PyTorch's amax/amin, the gradient of a tie is split evenly among the tied elements (a
    NaN result: NaN, 0 / 0).  With ``nan_shares`` (``max()`` / ``min()`` of a whole tensor,
    PyTorch's ``evenly_distribute_backward``) a NaN result's gradient is split among the NaNs.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest, nan_shares):
        reduce = np.max if largest else np.min
        output = np.asarray(reduce(x, axis=axes, keepdims=keepdims))
        ctx.save_for_backward(x, output)
        ctx.axes = axes
        ctx.nan_shares = nan_shares
        return output

    @staticmethod
    def backward(ctx, grad):
        x, output = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.axes)
        best = output._data.reshape(kept)
        winners = x._data == best
        if ctx.nan_shares and np.isnan(best).any():
            winners |= np.isnan(x._data) & np.isnan(best)
        winners = winners.astype(x.dtype)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        grad_x = _spread(grad, x.shape, ctx.axes) * Tensor._make(share)
        return grad_x, None, None, None, None


class Prod(Function):
    """``x.prod(axis=axes, keepdims=keepdims)``.

    The gradient of each element is the product of the others: ``output / x`` where no
    element of its slice is zero (a Tensor formula, so it differentiates again); slices
    holding zeros get the exact products of the others from numpy (first order only).
    """

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.axes = axes
        output = np.asarray(x.prod(axis=axes, keepdims=keepdims))
        ctx.save_for_backward(x, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, output = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.axes)
        spread_out = _spread(Reshape.apply(output, kept) * Reshape.apply(grad, kept), x.shape,
                             ctx.axes)
        if not (x._data == 0).any():
            return spread_out / x, None, None
        return _others_product(x._data, ctx.axes) * _spread(grad, x.shape, ctx.axes)._data, \
            None, None


def _others_product(x: np.ndarray, axes) -> np.ndarray:
    """For each element, the product of the other elements of its slice over ``axes``."""
    others = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, others + list(axes))
    flat = moved.reshape(moved.shape[:len(others)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    result = (left * right).reshape(moved.shape)
    return np.transpose(result, np.argsort(others + list(axes)))


class Cumsum(Function):
    """``np.cumsum(x, axis)``; the gradient is the reversed cumulative sum."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        flipped = Flip.apply(grad, (ctx.axis,))
        return Flip.apply(Cumsum.apply(flipped, ctx.axis), (ctx.axis,)), None


class Cumprod(Function):
    """``np.cumprod(x, axis)``.

    The gradient of ``x[k]`` is ``sum over i >= k of grad[i] * output[i] / x[k]``: a Tensor
    formula (a reversed cumulative sum), so it differentiates again, where no element is
    zero; with zeros, the exact products of the other factors from numpy (first order only,
    as :class:`Prod`).
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        output = np.cumprod(x, axis=axis, dtype=x.dtype)
        ctx.save_for_backward(x, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, output = ctx.saved_tensors
        axis = ctx.axis
        if not (x._data == 0).any():
            weighted = Flip.apply(grad * output, (axis,))
            return Flip.apply(Cumsum.apply(weighted, axis), (axis,)) / x, None
        moved_x = np.moveaxis(x._data, axis, -1)
        moved_grad = np.moveaxis(grad._data, axis, -1)
        return np.moveaxis(_cumprod_input_grad(moved_x, moved_grad), -1, axis), None


def _first(mask: np.ndarray, size: int) -> np.ndarray:
    """The position of the first True along the last axis (``size`` where there is none),
    keeping that axis (length 1)."""
    return np.where(mask.any(axis=-1), mask.argmax(axis=-1), size)[..., None]


def _cumprod_input_grad(x: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The exact gradient of ``cumprod`` along the last axis where ``x`` holds zeros (as
    PyTorch's, in O(n)).  With ``z`` the first zero of a slice and ``w = grad * output``:
    before ``z``, the reversed cumulative sum of ``w`` up to ``z`` over ``x``; at ``z``,
    ``output[z-1] * sum over i >= z of grad[i] * x[z+1] * ... * x[i]`` (the terms from the
    next zero on are 0); after it, 0 (every product there holds the zero)."""
    size = x.shape[-1]
    position = np.arange(size)
    is_zero = x == 0
    first = _first(is_zero, size)
    second = _first(is_zero & (position > first), size)
    output = np.cumprod(x, axis=-1)
    zero = np.zeros((), x.dtype)
    before = position < first
    weighted = np.where(before, grad * output, zero)
    result = np.where(before, np.cumsum(weighted[..., ::-1], axis=-1)[..., ::-1], zero)
    result = np.divide(result, np.where(before, x, np.ones((), x.dtype)))
    later = np.cumprod(np.where(position > first, x, np.ones((), x.dtype)), axis=-1)
    counted = (position >= first) & (position < second)
    at_zero = np.where(counted, grad * later, zero).sum(axis=-1, keepdims=True)
    prefix = np.take_along_axis(output, np.maximum(first - 1, 0), axis=-1)
    prefix = np.where(first > 0, prefix, np.ones((), x.dtype))
    return np.where(position == first, prefix * at_zero, result)
