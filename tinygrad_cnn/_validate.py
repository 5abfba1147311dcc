"""Scalar argument checks shared by the layers, optimizers and schedulers.

Each raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for one out of
range, with a message that starts with the layer's or optimizer's name and names the
argument, e.g. ``Linear: in_features must be >= 1, got 0``.  ``bool`` is never accepted as
a number (``True`` is an ``int`` to Python, but never what the user meant).
"""

import numbers

import numpy as np

from .ops._errors import MAX_INT_ARGUMENT, ShapeError, is_int


def check_int(op: str, name: str, value, minimum=None) -> int:
    """``value`` as a Python int, at least ``minimum`` when given."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ShapeError(f"{op}: {name} must be >= {minimum}, got {value}")
    if value > MAX_INT_ARGUMENT:
        raise ShapeError(f"{op}: {name} must be at most 2**62, got {value}")
    return int(value)


def check_real(op: str, name: str, value, low=None, high=None, include_high: bool = True):
    """``value`` unchanged if it is a real number with ``low <= value`` and ``value <= high``
    (``< high`` when ``include_high`` is false); NaN fails any bound."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    too_low = low is not None and not value >= low
    too_high = high is not None and not (value <= high if include_high else value < high)
    if too_low or too_high:
        bounds = [f">= {low}"] if low is not None else []
        if high is not None:
            bounds.append(f"{'<=' if include_high else '<'} {high}")
        raise ShapeError(f"{op}: {name} must be {' and '.join(bounds)}, got {value}")
    return value


def check_bool(op: str, name: str, value) -> bool:
    """``value`` as a Python bool; only ``bool`` and ``numpy.bool_`` are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)
