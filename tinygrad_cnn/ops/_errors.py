"""Shared argument checks for the ops: one message style, raised before any numpy call.

Messages start with the op's name and name the argument and the shapes involved, e.g.
``matmul: shapes (2, 3) and (4, 5) do not align``.

Two exception classes carry both spellings of one mistake: PyTorch raises ``RuntimeError``
for a bad shape or size (``conv2d`` with a 3-D weight) and for a tensor of the wrong dtype
(an int tensor where a float one belongs); Python code expects ``ValueError`` and
``TypeError`` there. :class:`ShapeError` is a ``ValueError`` and a ``RuntimeError``,
:class:`DtypeError` and :class:`ArityError` a ``TypeError`` and a ``RuntimeError``, so
``except RuntimeError`` written for PyTorch and ``except ValueError`` written for this
library both catch them.
"""

import numbers

import numpy as np

from ..tensor import Tensor


class ShapeError(ValueError, RuntimeError):
    """A bad shape, size or argument value: PyTorch's ``RuntimeError``, Python's ``ValueError``."""


class DtypeError(TypeError, RuntimeError):
    """A tensor of the wrong dtype: PyTorch's ``RuntimeError``, Python's ``TypeError``."""


class ArityError(TypeError, RuntimeError):
    """A tuple argument with the wrong number of values (a stride of three ints for a 2-D op):
    PyTorch's ``RuntimeError``, Python's ``TypeError``."""


# ints beyond this cannot be sizes, strides or paddings (PyTorch's int64 arguments)
MAX_INT_ARGUMENT = 2 ** 62


def normalize_axis(axis, ndim: int, op: str, shape) -> int:
    """One axis as a non-negative int, or a clear error naming the op and the shape."""
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    axis = int(axis)
    bound = max(ndim, 1)  # a 0-d tensor accepts axis 0 and -1, as PyTorch
    if not -bound <= axis < bound:
        raise ValueError(
            f"{op}: axis {axis} is out of range for a tensor of {ndim} dimensions (shape {shape})"
        )
    return axis % bound


def normalize_axes(axis, ndim: int, op: str, shape):
    """``None`` (all axes), an int or a sequence of ints -> a sorted tuple of distinct axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = tuple(sorted(normalize_axis(a, ndim, op, shape) for a in axes))
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: axis {axis} repeats an axis")
    return result if ndim else ()  # reducing a 0-d tensor over its one pseudo-axis: no-op


def sizes_argument(op: str, args) -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` -> a tuple of ints (TypeError otherwise)."""
    sizes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (numbers.Integral, np.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {tuple(sizes)!r}")
        if abs(int(size)) > MAX_INT_ARGUMENT:
            raise ShapeError(f"{op}: sizes must be at most 2**62, got {tuple(sizes)!r}")
    return tuple(int(size) for size in sizes)


def check_broadcastable(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes`` or a ValueError naming them."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together") from None


def check_float(op: str, argument: str, dtype) -> None:
    if np.dtype(dtype).kind != "f":
        raise DtypeError(f"{op}: {argument} must be a floating point tensor, got {dtype}")


def is_int(value) -> bool:
    """True for a Python or numpy integer, False for bools (which are ints to Python)."""
    return isinstance(value, (numbers.Integral, np.integer)) and \
        not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for a Python or numpy real number (int or float), False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_tensor(op: str, argument: str, value):
    """``value`` itself if it is a Tensor, else a TypeError naming ``op`` and ``argument``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {argument} must be a Tensor, got {type(value).__name__}")
    return value
