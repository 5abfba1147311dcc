"""Per-sample standardisation as one primitive, the core of ``layer_norm`` and ``group_norm``:

    x ``(...)``, axes -> y = (x - mean) / sqrt(var + eps), mean and *biased* var over ``axes``

The forward is a few whole-array numpy passes; composing it from Tensor ops costs about ten
passes plus a graph node each.  The backward is the closed form (``m`` values per group)

    dx = inv_std * (g - mean(g) - y * mean(g * y))

written with Tensor ops on the saved ``x`` (statistics recomputed, not stashed), so every
derivative order is exact.  The affine ``weight``/``bias`` are applied by the caller.
"""

import numpy as np

from ..autograd.function import Function


class Standardize(Function):
    """``(x, axes, eps) -> (x - mean) / sqrt(var + eps)`` over ``axes`` (a tuple)."""

    @staticmethod
    def forward(ctx, x, axes, eps):
        ctx.options = (axes, float(eps))
        centered = x - x.mean(axis=axes, keepdims=True)
        var = np.square(centered).mean(axis=axes, keepdims=True)
        var += float(eps)
        np.sqrt(var, out=var)
        centered /= var
        ctx.save_for_backward(x, centered)
        return centered

    @staticmethod
    def backward(ctx, grad):
        # y (the output) is saved and graph-connected, so a second derivative through it
        # runs this backward again; inv_std is recomputed from x in Tensor ops
        x, normalized = ctx.saved_tensors
        axes, eps = ctx.options
        inv_std = (x.var(axes, keepdims=True, correction=0) + eps) ** -0.5
        correction = grad.mean(axes, keepdims=True) + \
            normalized * (grad * normalized).mean(axes, keepdims=True)
        return (grad - correction) * inv_std, None, None
