"""User-defined Functions shared by the gradient-check tests (test_gradcheck, test_testing)."""

import numpy as np

from tinygrad_cnn import Function


class Softplus(Function):
    """log(1 + exp(x)); backward written with Tensor ops, so it is twice differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid()
