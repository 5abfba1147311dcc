"""Matrix product.  The Tensor-level ``matmul`` lifts 1-D operands to matrices first, so the
primitive only sees operands with at least two dimensions (batch dimensions broadcast).

A 2-D float product large enough for OpenBLAS to share it out over its own threads
(``m*k*n >= BLAS_THREADED_MACS``, OpenBLAS's own threshold) runs on ONE BLAS thread, and
from ``PARALLEL_MACS`` on in ``SPLIT_PARTS`` row (or column) blocks on the library's
threads (:func:`.threads.map_chunks`), whatever the thread count (so the result does not
depend on it). OpenBLAS's threads spin-wait for about 0.1 s after every product they share,
on the core the rest of a training step (the next convolution's second thread) needs: with
the linear layers on two OpenBLAS threads the MNIST CNN step at two threads took 37.3 ms,
with them on one 30-31 ms. Our blocks cost a hand-over to a pool thread (tens of us on this
VM, where OpenBLAS's spinning threads take a product at once), so only products of a
millisecond or more are split: measured, an MLP step (64x784 -> 256 -> 10) at two threads
took 2.0 ms with every product above ``BLAS_THREADED_MACS`` split, 1.6 ms with none (and
1.5 ms on OpenBLAS's threads, 1.7 at one thread)."""

import string

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .shape import sum_to
from .threads import blas_threads, even_slices, map_chunks

BLAS_THREADED_MACS = 1 << 18
PARALLEL_MACS = 1 << 26
SPLIT_PARTS = 2


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)``; a large 2-D float product in blocks (see the module docstring)."""
    if (a.ndim != 2 or b.ndim != 2 or a.dtype.kind != "f" or b.dtype.kind != "f"
            or a.shape[0] * a.shape[1] * b.shape[1] < BLAS_THREADED_MACS):
        return np.matmul(a, b)
    if a.shape[0] * a.shape[1] * b.shape[1] < PARALLEL_MACS:
        with blas_threads(1):
            return np.matmul(a, b)
    rows, cols = a.shape[0], b.shape[1]
    out = np.empty((rows, cols), np.result_type(a, b))
    parts = even_slices(max(rows, cols), SPLIT_PARTS)

    def block(part):
        if rows >= cols:
            np.matmul(a[part], b, out=out[part])
        else:
            np.matmul(a, b[:, part], out=out[:, part])

    map_chunks(block, parts)
    return out


def _swap_last(tensor):
    return tensor.transpose(-1, -2)


class MatMul(Function):
    """``a @ b`` for a: (..., n, k) and b: (..., k, m) -> (..., n, m)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return matmul(a, b)

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


class Einsum(Function):
    """``np.einsum`` of ``spec = (input subscripts, output subscripts)`` (one letter per
    dimension, no ellipsis; every letter's size the same in every operand).

    The gradient of operand ``i`` is another einsum: the output gradient and the other
    operands contracted to operand ``i``'s subscripts.  Two cases need constants: a letter
    repeated within operand ``i`` (a diagonal) writes onto the diagonal, as the product with
    an identity matrix joining the letter to a fresh one; a letter found in operand ``i``
    only (summed out) comes back by broadcasting, as the product with a vector of ones.
    Each gradient is an ``Einsum`` again, so every derivative order works."""

    @staticmethod
    def forward(ctx, spec, *arrays):
        inputs, output = spec
        ctx.spec = spec
        ctx.save_for_backward(*arrays)
        equation = ",".join(inputs) + "->" + output
        dtype = np.result_type(*arrays)
        result = np.asarray(np.einsum(equation, *arrays, optimize=len(arrays) > 1), dtype=dtype)
        if any(np.may_share_memory(result, a) for a in arrays):
            result = result.copy()  # a permutation or diagonal comes back as a view
        return result

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return (None,) + tuple(
            _einsum_operand_grad(ctx.spec, grad, operands, i) if needed else None
            for i, needed in enumerate(ctx.needs_input_grad[1:]))


def _einsum_operand_grad(spec, grad, operands, i):
    inputs, output = spec
    subscripts = inputs[i]
    sizes = {letter: n for subs, operand in zip(inputs, operands)
             for letter, n in zip(subs, operand._data.shape)}
    used = set("".join(inputs) + output)
    fresh = (letter for letter in string.ascii_letters if letter not in used)
    dtype = grad._data.dtype
    others = [(subs, operand) for k, (subs, operand) in enumerate(zip(inputs, operands))
              if k != i]
    constants, target, seen = [], [], set()
    for letter in subscripts:
        if letter in seen:      # a diagonal: an identity joins it to a fresh letter
            new = next(fresh)
            constants.append((letter + new, Tensor(np.eye(sizes[letter], dtype=dtype))))
            target.append(new)
        else:
            seen.add(letter)
            target.append(letter)
    present = set(output).union(*[set(subs) for subs, _ in others + constants])
    for letter in dict.fromkeys(subscripts):
        if letter not in present:   # summed out of this operand only: broadcast back
            constants.append((letter, Tensor(np.ones(sizes[letter], dtype=dtype))))
    terms = [(output, grad)] + others + constants
    return Einsum.apply((tuple(s for s, _ in terms), "".join(target)), *[t for _, t in terms])
