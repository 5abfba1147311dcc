"""Constant padding as a differentiable op: ``np.pad(x, widths, constant_values=value)``.

Its backward is the slice that undoes the padding, a differentiable ``__getitem__``, so every
derivative order works.  The entry point that checks the widths is
:func:`tinygrad_cnn.nn.functional.pad`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Pad(Function):
    """``(d0, d1, ...) -> (d0 + b0 + a0, d1 + b1 + a1, ...)`` filled with ``value``."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        out[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, widths))] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        inside = tuple(slice(before, n - after) for n, (before, after)
                       in zip(grad.shape, ctx.widths))
        return grad[inside], None, None
