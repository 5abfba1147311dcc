"""Matrix product.  The Tensor-level ``matmul`` lifts 1-D operands to matrices first, so the
primitive only sees operands with at least two dimensions (batch dimensions broadcast)."""

import numpy as np

from ..autograd.function import Function
from .shape import sum_to


def _swap_last(tensor):
    return tensor.transpose(-1, -2)


class MatMul(Function):
    """``a @ b`` for a: (..., n, k) and b: (..., k, m) -> (..., n, m)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad @ _swap_last(b), a._data.shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(_swap_last(a) @ grad, b._data.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
