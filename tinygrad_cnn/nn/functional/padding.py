"""Padding: ``pad`` (constant padding with numpy's pad widths)."""

import numpy as np

from ..._checks import check_tensor, is_int, is_real
from ...ops.pad import Pad
from ...tensor import Tensor


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


def pad(x: Tensor, pad, value=0.0) -> Tensor:
    """Constant padding with numpy's pad widths (``numpy.pad(x, pad, constant_values=value)``).

    ``pad``: an int (every side of every axis), ``(before, after)`` (every axis), or one
    ``(before, after)`` pair per axis, e.g. ``((0, 0), (0, 0), (1, 1), (2, 2))`` pads H by 1
    and W by 2 on both sides of an ``(N, C, H, W)`` tensor.  Unlike
    ``torch.nn.functional.pad``, widths go first axis first, as numpy's.  Widths must be
    non-negative.  Output shape: ``x.shape[i] + before_i + after_i`` per axis; the gradient
    is the slice that removes the padding.
    """
    check_tensor("pad", "input", x)
    widths = pad_widths(pad, x.ndim)
    if not is_real(value):
        raise TypeError(f"pad: value must be a real number, got {value!r}")
    if x.dtype.kind in "iu" and not float(value).is_integer():
        raise TypeError(f"pad: value {value!r} cannot fill an integer tensor ({x.dtype})")
    return Pad.apply(x, widths, value)
