"""Reductions over axes.  Each backward broadcasts the gradient back over the reduced axes."""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .shape import BroadcastTo, Reshape


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
        return np.asarray(x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.input_shape, ctx.axes), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.input_shape = x.shape
        ctx.axes = axes
        ctx.count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        return np.asarray(x.mean(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        # Divide the reduced gradient before spreading it: one small division, not a full pass.
        return _spread(grad / float(ctx.count), ctx.input_shape, ctx.axes), None, None


class Extremum(Function):
    """``x.max`` / ``x.min`` over ``axes`` (``np.amax`` / ``np.amin``).

    As PyTorch's amax/amin, the gradient of a tie is split evenly among the tied elements.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest):
        reduce = np.max if largest else np.min
        output = np.asarray(reduce(x, axis=axes, keepdims=keepdims))
        ctx.save_for_backward(x, output)
        ctx.axes = axes
        return output

    @staticmethod
    def backward(ctx, grad):
        x, output = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.axes)
        winners = (x._data == output._data.reshape(kept)).astype(x.dtype)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        grad_x = _spread(grad, x.shape, ctx.axes) * Tensor._make(share)
        return grad_x, None, None, None
