"""Training-mode batch normalisation as one primitive (the forward of
``torch.nn.functional.batch_norm`` with ``training=True``).

    x ``(N, C, *)``, weight ``(C,)`` or None, bias ``(C,)`` or None -> y ``(N, C, *)``
    y = (x - mean) / sqrt(var + eps) * weight + bias

with ``mean`` and the *biased* ``var`` taken per channel over every axis but 1 (``m`` values
each).  The forward is a handful of whole-array numpy passes in the input's dtype; composing it
from Tensor ops instead costs about ten passes plus a graph node each.  The backward is the
closed form

    x_hat   = (x - mean) * inv_std,      inv_std = 1 / sqrt(var + eps)
    dx      = weight * inv_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat))
    dweight = sum(g * x_hat),            dbias = sum(g)

written with Tensor ops on the saved ``x`` and ``weight`` (the statistics are recomputed from
``x``, not stashed), so ``grad(..., create_graph=True)`` differentiates it again exactly.

A first-order backward (grad mode off: ``create_graph=False``, the training step) builds no
graph, so there it runs the same closed form as fused numpy (:func:`_first_order_backward`)
with the forward's batch statistics: ``dx = a * g + b * (x - mean) + c`` per channel, one
dot product per channel for ``sum(g * (x - mean))``, about half the full-size passes of the
Tensor-op version and none of its graph nodes (measured 2.9x -> 1.4x PyTorch's
forward+backward on (64, 32, 28, 28), ``benchmarks/bench_nn.py``).
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


def _channel_axes(ndim: int) -> tuple:
    """Every axis but the channel axis 1: the axes the statistics are taken over."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(array, ndim: int):
    """A ``(C,)`` array or Tensor as ``(1, C, 1, ...)``, to broadcast against ``(N, C, *)``."""
    return array.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormTraining(Function):
    """``(x (N, C, *), weight (C,) | None, bias (C,) | None, eps, statistics) -> (N, C, *)``.

    ``statistics`` is ``None`` or a list; the forward appends the batch ``(mean, var)``
    (each ``(1, C, 1, ...)``, biased variance, in x's dtype) to it, so the caller can update
    running statistics without computing them a second time.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, statistics):
        axes = _channel_axes(x.ndim)
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        # The same mean of squared deviations the composite formula takes, so the running
        # statistics the caller derives from it are unchanged.
        var = np.square(centered).mean(axis=axes, keepdims=True)
        if statistics is not None:
            statistics.append((mean, var))
        eps = float(eps)  # a Python float keeps var's dtype (a numpy float64 would promote)
        scale = 1.0 / np.sqrt(var + eps)
        if weight is not None:
            scale = scale * _per_channel(weight, x.ndim)
        # Scale and shift the centred copy in place: two more passes, no further temporaries.
        out = np.multiply(centered, scale, out=centered) if scale.dtype == centered.dtype \
            else centered * scale
        if bias is not None:
            shift = _per_channel(bias, x.ndim)
            out = np.add(out, shift, out=out) if np.result_type(out, shift) == out.dtype \
                else out + shift
        ctx.save_for_backward(x, weight)
        ctx.eps = eps
        ctx.count = x.size // x.shape[1]
        ctx.statistics = (mean, scale if weight is None else 1.0 / np.sqrt(var + eps))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        if not is_grad_enabled():
            return _first_order_backward(ctx, grad._data, x._data,
                                         None if weight is None else weight._data)
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


def _first_order_backward(ctx, grad, x, weight):
    """The closed form of :meth:`BatchNormTraining.backward` in fused numpy, with the
    forward's ``mean`` and ``inv_std``; only for a backward that records no graph."""
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    mean, inv_std = ctx.statistics
    count, channels = ctx.count, x.shape[1]
    dtype = np.result_type(grad, x)
    grad3 = grad.reshape(grad.shape[0], channels, -1)
    centered = (x - mean).reshape(grad3.shape)
    sum_g = grad3.sum(axis=(0, 2)).reshape(mean.shape)
    sum_g_xhat = inv_std * np.einsum("nci,nci->c", grad3, centered).reshape(mean.shape)
    grad_x = grad_weight = grad_bias = None
    if needs_x:
        scale = inv_std if weight is None else inv_std * _per_channel(weight, x.ndim)
        # dx = scale * g - scale * inv_std * sum(g x_hat) / m * (x - mean) - scale * sum(g) / m
        along = (-scale * inv_std * sum_g_xhat / count).reshape(1, channels, 1)
        shift = (-scale * sum_g / count).reshape(1, channels, 1)
        out = np.multiply(centered, along.astype(dtype, copy=False), out=centered)
        out += shift.astype(dtype, copy=False)
        out += grad3 * scale.reshape(1, channels, 1).astype(dtype, copy=False)
        grad_x = Tensor._make(out.reshape(x.shape))
    if needs_weight:
        grad_weight = Tensor._make(sum_g_xhat.reshape(-1).astype(dtype, copy=False))
    if needs_bias:
        grad_bias = Tensor._make(sum_g.reshape(-1).astype(dtype, copy=False))
    return grad_x, grad_weight, grad_bias, None, None
