"""Shared argument checks for the ops: one message style, raised before any numpy call.

Messages start with the op's name and name the argument and the shapes involved, e.g.
``matmul: shapes (2, 3) and (4, 5) do not align``.
"""

import numbers

import numpy as np


def normalize_axis(axis, ndim: int, op: str, shape) -> int:
    """One axis as a non-negative int, or a clear error naming the op and the shape."""
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(
            f"{op}: axis {axis} is out of range for a tensor of {ndim} dimensions (shape {shape})"
        )
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int, op: str, shape):
    """``None`` (all axes), an int or a sequence of ints -> a sorted tuple of distinct axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = tuple(sorted(normalize_axis(a, ndim, op, shape) for a in axes))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return result


def check_broadcastable(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes`` or a ValueError naming them."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def check_float(op: str, argument: str, dtype) -> None:
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"{op}: {argument} must be a floating point tensor, got {dtype}")
