"""Shape primitives: each moves elements around, so its backward moves the gradient back.

Adjoint pairs: ``BroadcastTo`` / ``SumTo`` and ``GetItem`` / ``IndexAdd`` are each other's
backward, so every derivative order stays inside this file.
"""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


class Reshape(Function):
    """``x.reshape(shape)``; the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.input_shape), None


class Permute(Function):
    """``np.transpose(x, dims)``; the gradient goes through the inverse permutation."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, tuple(np.argsort(ctx.dims))), None


class BroadcastTo(Function):
    """Broadcast ``x`` to ``shape`` (a copy, so later in-place work is safe)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return np.array(np.broadcast_to(x, shape))

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.input_shape), None


class SumTo(Function):
    """Sum ``x`` down to ``shape``, undoing numpy broadcasting (the adjoint of BroadcastTo)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return sum_array_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return BroadcastTo.apply(grad, ctx.input_shape), None


def sum_array_to(array: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum the broadcast axes of ``array`` so that it has ``shape``."""
    leading = array.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and array.shape[leading + i] != 1
    )
    summed = array.sum(axis=axes, keepdims=True) if axes else array
    return summed.reshape(shape)


def sum_to(grad, shape):
    """The gradient of a broadcast operand: ``grad`` summed back to the operand's ``shape``."""
    if grad._data.shape == tuple(shape):
        return grad
    return SumTo.apply(grad, tuple(shape))


def _is_basic_index(index) -> bool:
    """True when numpy indexes with ``index`` by a view (no integer or boolean arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))
        for item in items
    )


class GetItem(Function):
    """``x[index]`` for basic (a view, as PyTorch's) and integer-array indexing."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape = x.shape
        ctx.index = index  # may hold integer index arrays: piecewise constant, fine to keep
        if _is_basic_index(index):
            # A trailing Ellipsis keeps a 0-d result a view (numpy gives a copied scalar).
            items = index if isinstance(index, tuple) else (index,)
            if not any(item is Ellipsis for item in items):
                items = items + (Ellipsis,)
            return x[items]
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.index, ctx.input_shape), None


class IndexAdd(Function):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate)."""

    @staticmethod
    def forward(ctx, values, index, shape):
        ctx.index = index
        result = np.zeros(shape, dtype=values.dtype)
        if _is_basic_index(index):
            result[index] = values
        else:
            np.add.at(result, index, values)
        return result

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class Concatenate(Function):
    """``np.concatenate(arrays, axis)``; each input gets its slice of the gradient back."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [a.shape[axis] for a in arrays])
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        prefix = (slice(None),) * ctx.axis
        return (None,) + tuple(
            GetItem.apply(grad, prefix + (slice(int(start), int(stop)),))
            for start, stop in zip(ctx.bounds[:-1], ctx.bounds[1:])
        )


class Cast(Function):
    """``x.astype(dtype)``; the gradient is cast back to ``x``'s dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return Cast.apply(grad, ctx.input_dtype), None


class Flip(Function):
    """``np.flip(x, axes)`` (a copy); the gradient is flipped back."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.axes), None


def _written_mask(shape, index) -> np.ndarray:
    """True where ``x[index] = v`` leaves ``x`` unchanged."""
    mask = np.ones(shape, dtype=bool)
    mask[index] = False
    return mask


def _constant_mask(mask: np.ndarray, like):
    """A bool mask as a constant Tensor of ``like``'s dtype, to multiply a gradient by (a
    piecewise constant factor: exact to every derivative order)."""
    return Tensor._make(mask.astype(like._data.dtype))


class IndexPut(Function):
    """``x`` with ``x[index] = values`` (a new array): ``t[index] = v`` under autograd.

    ``values`` broadcasts to ``x[index]``; the gradient of ``x`` is zero where it was
    overwritten, that of ``values`` is the gradient there, summed back to its shape.
    """

    @staticmethod
    def forward(ctx, x, index, values):
        ctx.index = index
        ctx.values_shape = values.shape
        output = x.copy()
        output[index] = values
        return output

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * _constant_mask(_written_mask(grad._data.shape, ctx.index), grad)
        if ctx.needs_input_grad[2]:
            grad_values = sum_to(GetItem.apply(grad, ctx.index), ctx.values_shape)
        return grad_x, None, grad_values


class ViewUpdate(Function):
    """Records that the region ``view_of(base)`` of ``base`` was overwritten by ``values``.

    The data has already been written (the view shares the base's memory), so forward
    returns the base's array; backward sends the gradient outside the region to the old
    base and the gradient inside it to ``values`` (PyTorch's ``CopySlices``).
    """

    @staticmethod
    def forward(ctx, base, values, view_of, outside):
        ctx.view_of = view_of
        ctx.outside = outside
        return base

    @staticmethod
    def backward(ctx, grad):
        grad_base = grad * _constant_mask(ctx.outside, grad) if ctx.needs_input_grad[0] else None
        grad_values = ctx.view_of(grad) if ctx.needs_input_grad[1] else None
        return grad_base, grad_values, None, None


class Clone(Function):
    """A copy of ``x`` (C-contiguous); the gradient passes unchanged."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, order="C", copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ScatterMultiply(Function):
    """``x`` with its elements at ``index`` multiplied by ``values`` (repeats multiply
    together): ``scatter(..., reduce='multiply')``, which has no derivative in PyTorch
    either, so its backward raises rather than return a wrong gradient."""

    @staticmethod
    def forward(ctx, x, index, values):
        output = x.copy()
        np.multiply.at(output, index, np.broadcast_to(values, output[index].shape))
        return output

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("scatter: the derivative of reduce='multiply' is not implemented "
                           "(as PyTorch's); use an out-of-place product instead")
