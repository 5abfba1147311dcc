"""Constant padding as a differentiable op: ``np.pad(x, widths, constant_values=value)``.

Its backward is the slice that undoes the padding, a differentiable ``__getitem__``, so every
derivative order works.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._errors import check_tensor, is_int, is_real


def pad_widths(pad, ndim: int, op: str = "pad") -> tuple[tuple[int, int], ...]:
    """numpy's pad-width forms -- an int, ``(n,)``, ``(before, after)``, ``((before, after),)``
    or one ``(before, after)`` per axis -- as one ``(before, after)`` pair of ints per axis.

    Widths must be non-negative ints (negative widths would crop; use indexing for that).
    """
    try:
        widths = np.asarray(pad, dtype=object)
    except ValueError:
        widths = None
    if widths is None or widths.ndim > 2 or widths.size == 0 or not all(
            is_int(w) for w in widths.ravel()):
        raise TypeError(f"{op}: pad must be an int or (before, after) pairs of ints, as "
                        f"numpy.pad's pad_width, got {pad!r}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(f"{op}: pad {pad!r} does not fit a tensor of {ndim} dimensions; give "
                         f"one (before, after) pair per axis, {ndim} in all") from None
    result = tuple((int(before), int(after)) for before, after in widths)
    if any(w < 0 for pair in result for w in pair):
        raise ValueError(f"{op}: pad widths must be non-negative, got {pad!r}")
    return result


class Pad(Function):
    """``(d0, d1, ...) -> (d0 + b0 + a0, d1 + b1 + a1, ...)`` filled with ``value``."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        out[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, widths))] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        inside = tuple(slice(before, n - after) for n, (before, after)
                       in zip(grad.shape, ctx.widths))
        return grad[inside], None, None


def pad(x: Tensor, pad, value=0.0) -> Tensor:
    """See :func:`tinygrad_cnn.functional.pad`."""
    check_tensor("pad", "input", x)
    widths = pad_widths(pad, x.ndim)
    if not is_real(value):
        raise TypeError(f"pad: value must be a real number, got {value!r}")
    if x.dtype.kind in "iu" and not float(value).is_integer():
        raise TypeError(f"pad: value {value!r} cannot fill an integer tensor ({x.dtype})")
    return Pad.apply(x, widths, value)
