"""The one checking vocabulary of the library, at the bottom of the import graph.

Every check raises before any numpy call, with one wording:
``"{op}: {argument} must be ..., got ..."`` -- the op (function, layer or optimizer) first, then
the argument, then what was given, e.g. ``Linear: in_features must be >= 0, got -1``.  A
``TypeError`` means a value of the wrong kind, a ``ValueError`` one out of range (PyTorch's
choice).  ``bool`` is never accepted as a number: ``True`` is an ``int`` to Python, but never
what the user meant.

Three exception classes carry both spellings of one mistake: PyTorch raises ``RuntimeError``
for a bad shape, size or value (``conv2d`` with a 3-D weight, a stride of 0) and for a tensor
of the wrong dtype (an int tensor where a float one belongs), where Python code expects
``ValueError`` and ``TypeError``. :class:`ShapeError` is a ``ValueError`` and a
``RuntimeError``; :class:`DtypeError` and :class:`ArityError` (a tuple argument with the wrong
number of values) are a ``TypeError`` and a ``RuntimeError``; :class:`AxisError` (a dim out of
range) an ``IndexError`` and a ``ValueError``, as numpy's. So ``except RuntimeError``
written for PyTorch and ``except ValueError`` written for this library both catch them
(``tests/test_bad_input_sweep.py`` checks the types against PyTorch's). Four more carry the
type PyTorch's Python code happens to raise at construction beside the one naming the
mistake: :class:`ZeroDivisorError` (a zero period a scheduler divides by),
:class:`LengthError` (a pair read by position with a value missing),
:class:`OptionConflictError` (options PyTorch refuses with an ``assert``) and
:class:`PathError` (a path ``save`` cannot write to).

This module imports only numpy and :mod:`.tensor`, so every floor above may use it.
"""

import errno
import math
import numbers

import numpy as np

from .tensor import Tensor

__all__ = [
    "ShapeError", "DtypeError", "ArityError", "AxisError", "ZeroDivisorError", "LengthError",
    "OptionConflictError", "PathError", "MAX_INT_ARGUMENT",
    "is_int", "is_real", "check_tensor", "check_float", "check_int", "check_real",
    "check_number", "check_scalar", "check_fits", "check_bool", "check_flag",
    "normalize_axis", "normalize_axes", "sizes_argument", "check_broadcastable",
]


class ShapeError(ValueError, RuntimeError):
    """A bad shape, size or argument value: PyTorch's ``RuntimeError``, Python's ``ValueError``."""


class DtypeError(TypeError, RuntimeError):
    """A tensor of the wrong dtype: PyTorch's ``RuntimeError``, Python's ``TypeError``."""


class AxisError(IndexError, ValueError):
    """A dim out of range: PyTorch's ``IndexError``, Python's (and numpy's) ``ValueError``."""


class ArityError(TypeError, RuntimeError):
    """A tuple argument with the wrong number of values (a stride of three ints for a 2-D op):
    PyTorch's ``RuntimeError``, Python's ``TypeError``."""


class ZeroDivisorError(ShapeError, ZeroDivisionError):
    """A zero where a period belongs that PyTorch divides by (a scheduler's ``step_size`` or
    ``T_max``): PyTorch's ``ZeroDivisionError`` (at its first ``step()``), a
    :class:`ShapeError` (``ValueError``) here, raised when the scheduler is built."""


class LengthError(ArityError, IndexError):
    """A pair with the wrong number of values, which PyTorch reads by position (Adam's
    ``betas=(0.9,)`` fails at ``betas[1]``): PyTorch's ``IndexError``, an :class:`ArityError`
    (``TypeError``) here."""


class OptionConflictError(ValueError, AssertionError):
    """Options that do not go together, which PyTorch refuses with an ``assert`` (a
    ``DataLoader`` timeout without worker processes): PyTorch's ``AssertionError``, Python's
    ``ValueError``."""


class PathError(FileNotFoundError, RuntimeError):
    """A path that cannot be written (its folder missing, an empty name): PyTorch's
    ``RuntimeError`` (``torch.save``), Python's ``FileNotFoundError``; ``filename`` is the
    path and ``str()`` the message alone."""

    def __init__(self, message: str, path: str):
        super().__init__(errno.ENOENT, message, path)

    def __str__(self) -> str:
        return self.strerror


# ints beyond this cannot be sizes, strides or paddings (PyTorch's int64 arguments): refused
# with a message naming the op before numpy overflows on them
MAX_INT_ARGUMENT = 2 ** 62


# ------------------------------------------------------------------ predicates
def is_int(value) -> bool:
    """True for a Python or numpy integer, False for bools (which are ints to Python)."""
    return isinstance(value, (numbers.Integral, np.integer)) and \
        not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for a Python or numpy real number (int or float), False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# ------------------------------------------------------------------ tensors
def check_tensor(op: str, argument: str, value):
    """``value`` itself if it is a Tensor, else a TypeError naming ``op`` and ``argument``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {argument} must be a Tensor, got {type(value).__name__}")
    return value


def check_float(op: str, argument: str, dtype) -> None:
    """A :class:`DtypeError` unless ``dtype`` is a floating-point dtype."""
    if np.dtype(dtype).kind != "f":
        raise DtypeError(f"{op}: {argument} must be a floating point tensor, got {dtype}")


# ------------------------------------------------------------------ scalars
def check_int(op: str, argument: str, value, minimum=None,
              maximum=MAX_INT_ARGUMENT) -> int:
    """``value`` as a Python int, at least ``minimum`` when given; a size-like argument (one
    with a ``minimum``) is also at most ``maximum`` (2**62, refused before numpy overflows on
    it; ``None`` for a count only Python arithmetic uses, such as a scheduler's period)."""
    if not is_int(value):
        raise TypeError(f"{op}: {argument} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ShapeError(f"{op}: {argument} must be >= {minimum}, got {value}")
    if minimum is not None and maximum is not None and value > maximum:
        bound = "2**62" if maximum == MAX_INT_ARGUMENT else maximum
        raise ShapeError(f"{op}: {argument} must be at most {bound}, got {value}")
    return int(value)


def check_number(op: str, argument: str, value):
    """``value`` unchanged if it is a real number (int or float, not bool), else a TypeError."""
    if not is_real(value):
        raise TypeError(f"{op}: {argument} must be a number, got {value!r}")
    return value


def check_scalar(op: str, argument: str, value):
    """``value`` unchanged if it is a Python or numpy scalar (a bool too: a fill value may be
    one), else a TypeError -- a string, None, a list or an array is not a fill value."""
    if not isinstance(value, (numbers.Number, np.bool_)):
        raise TypeError(f"{op}: {argument} must be a number, got {type(value).__name__}")
    return value


# the largest finite value of each narrow float dtype (a Python float fits float64 always)
_FLOAT_MAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32)}
_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max))
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                        np.uint32, np.uint64)}


def check_fits(op: str, argument: str, value, dtype: np.dtype):
    """``value`` (a number, checked before the call) unchanged if a tensor of ``dtype`` holds it;
    else a :class:`ShapeError`, PyTorch's ``RuntimeError`` "value cannot be converted to type
    float without overflow": a finite value beyond float16's or float32's range (inf and NaN
    are floats), or, for an integer dtype, a NaN, an infinity or a value outside its range.
    Looks at the one scalar, never at array data."""
    limit = _FLOAT_MAX.get(dtype)
    if limit is not None:
        if (value > limit or value < -limit) and value not in (math.inf, -math.inf):
            raise ShapeError(f"{op}: {argument} must fit the tensor's dtype {dtype} "
                             f"(|{argument}| <= {limit:.8g}), got {value}")
        return value
    bounds = _INT_RANGE.get(dtype)
    if bounds is not None and not isinstance(value, (bool, np.bool_)) and \
            not bounds[0] <= value <= bounds[1]:  # NaN fails too
        raise ShapeError(f"{op}: {argument} must fit the tensor's dtype {dtype} "
                         f"({bounds[0]} to {bounds[1]}), got {value}")
    return value


def check_real(op: str, argument: str, value, low=None, high=None,
               include_high: bool = True):
    """``value`` unchanged if it is a real number with ``low <= value`` and ``value <= high``
    (``< high`` when ``include_high`` is false); NaN fails any bound."""
    check_number(op, argument, value)
    too_low = low is not None and not value >= low
    too_high = high is not None and not (value <= high if include_high else value < high)
    if too_low or too_high:
        bounds = [f">= {low}"] if low is not None else []
        if high is not None:
            bounds.append(f"{'<=' if include_high else '<'} {high}")
        raise ShapeError(f"{op}: {argument} must be {' and '.join(bounds)}, got {value}")
    return value


def check_bool(op: str, argument: str, value) -> bool:
    """``value`` as a Python bool; only ``bool`` and ``numpy.bool_`` are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {argument} must be a bool, got {value!r}")
    return bool(value)


def check_flag(op: str, argument: str, value) -> bool:
    """``value`` as a Python bool for an option PyTorch reads by truth value (``shuffle``,
    ``nesterov``, ``amsgrad``): a bool or an int (``shuffle=1`` works in PyTorch, and here);
    anything else (a string, ``None``, a float) is a TypeError."""
    if not isinstance(value, (bool, np.bool_)) and not is_int(value):
        raise TypeError(f"{op}: {argument} must be a bool, got {value!r}")
    return bool(value)


# ------------------------------------------------------------------ axes and shapes
def normalize_axis(axis, ndim: int, op: str, shape) -> int:
    """One axis as a non-negative int, or a clear error naming the op and the shape."""
    if not is_int(axis):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    axis = int(axis)
    bound = max(ndim, 1)  # a 0-d tensor accepts axis 0 and -1, as PyTorch
    if not -bound <= axis < bound:
        raise AxisError(
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
    if not all(is_int(size) for size in sizes):
        raise TypeError(f"{op}: sizes must be ints, got {tuple(sizes)!r}")
    if any(abs(int(size)) > MAX_INT_ARGUMENT for size in sizes):
        raise ShapeError(f"{op}: sizes must be at most 2**62, got {tuple(sizes)!r}")
    return tuple(int(size) for size in sizes)


def check_broadcastable(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes`` or a :class:`ShapeError` naming them."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together") from None
