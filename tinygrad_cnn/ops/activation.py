"""Activation primitives that composing Tensor ops would make unstable or slow: ``Softplus``
(overflow-free ``log(1 + exp(beta x)) / beta``) and ``Erf`` (for the exact GELU).  Every other
activation of :mod:`tinygrad_cnn.nn.functional.activation` is composed of Tensor ops.
"""

import numpy as np
from scipy import special

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import Where


class Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (``torch.nn.functional.softplus``); ``np.logaddexp`` never overflows.

    Backward: ``sigmoid(beta * x)`` (1 past the threshold), a Tensor expression, so every
    derivative order works.
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.options = (beta, threshold)
        scaled = x * x.dtype.type(beta)
        smooth = np.logaddexp(x.dtype.type(0), scaled) / x.dtype.type(beta)
        return np.where(scaled > threshold, x, smooth).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.options
        linear = x._data * x.dtype.type(beta) > threshold
        slope = Where.apply(linear, Tensor._make(np.ones((), dtype=x.dtype)),
                            (x * beta).sigmoid())
        return grad * slope, None, None


class Erf(Function):
    """The error function ``erf(x)`` (``torch.erf``); backward ``2/sqrt(pi) * exp(-x**2)``."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x * x * -1.0).exp() * (2.0 / np.sqrt(np.pi)))
