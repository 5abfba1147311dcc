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
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            # An operand that is a transposed view (``weight.T`` in ``linear``) gets its
            # gradient as the transpose of a product, so that once the view's backward
            # transposes it back it is C-contiguous like the tensor it views (PyTorch's
            # gradient layout): the optimizer's in-place BLAS update needs that.
            grad_a = (_swap_last(b @ _swap_last(grad)) if _transposed(a._data)
                      else grad @ _swap_last(b))
            grad_a = sum_to(grad_a, a._data.shape)
        if ctx.needs_input_grad[1]:
            grad_b = (_swap_last(_swap_last(grad) @ a) if _transposed(b._data)
                      else _swap_last(a) @ grad)
            grad_b = sum_to(grad_b, b._data.shape)
        return grad_a, grad_b


def _transposed(array) -> bool:
    """True for a 2-D array laid out column by column (a transposed C-contiguous one)."""
    return array.ndim == 2 and array.flags.f_contiguous and not array.flags.c_contiguous
