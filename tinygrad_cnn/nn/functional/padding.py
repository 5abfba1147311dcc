"""Padding: ``pad`` (``torch.nn.functional.pad``), four modes."""

import numpy as np

from ..._checks import ShapeError, check_tensor, is_int, is_real
from ...ops.pad import Pad, PadEdges
from ...tensor import Tensor

MODES = ("constant", "reflect", "replicate", "circular")


def _flat_pad(pad, ndim: int, op: str) -> list:
    """PyTorch's flat ``pad`` (last axis first) as one ``(before, after)`` per axis."""
    if not isinstance(pad, (tuple, list)) or not all(is_int(w) for w in pad):
        raise TypeError(f"{op}: pad must be a tuple of ints (before, after pairs from the last "
                        f"dimension backwards), got {pad!r}")
    if any(not -2**63 <= w < 2**63 for w in pad):  # PyTorch cannot unpack it: a TypeError
        raise TypeError(f"{op}: pad widths must fit in int64, got {tuple(pad)!r}")
    if len(pad) % 2:
        raise ShapeError(f"{op}: pad length must be divisible by 2, got {len(pad)} "
                         f"({tuple(pad)!r})")
    if len(pad) > 2 * ndim:
        raise ShapeError(f"{op}: pad length must be at most two times the input dimension, "
                         f"got pad length {len(pad)} for an input of dimension {ndim}")
    widths = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        widths[ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return widths


def pad(x: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad with PyTorch's flat tuple (``torch.nn.functional.pad``).

    ``pad = (left, right)`` pads the last dimension, ``(left, right, top, bottom)`` the last
    two, and so on (last dimension first); a negative width crops.  ``x.shape[i] + before_i +
    after_i`` along each padded axis.

    ``mode``: ``"constant"`` (fill with ``value``, default 0; any number of dimensions),
    ``"reflect"`` (mirror without repeating the edge; width < size), ``"replicate"`` (repeat
    the edge), ``"circular"`` (wrap around; width <= size).  With a negative width, reflect
    pads first and then crops, circular crops first and wraps around the rest (PyTorch's
    order).  The last three pad the last 1, 2
    or 3 dimensions of a 2-D/3-D, 3-D/4-D or 4-D/5-D input respectively, as PyTorch.  The
    gradient folds the padded border back onto the elements it was copied from (constant:
    crops it); every derivative order works.
    """
    op = "pad"
    check_tensor(op, "input", x)
    if not isinstance(mode, str):
        raise TypeError(f"{op}: mode must be a str, got {mode!r}")
    if mode not in MODES:
        raise NotImplementedError(f"{op}: mode must be one of {', '.join(MODES)}, "
                                  f"got {mode!r}")
    widths = _flat_pad(pad, x.ndim, op)
    if mode == "constant":
        value = 0 if value is None else value
        if not is_real(value):
            raise TypeError(f"{op}: value must be a real number, got {value!r}")
        if x.dtype.kind in "iu" and not float(value).is_integer():
            raise TypeError(f"{op}: value {value!r} cannot fill an integer tensor ({x.dtype})")
        if x.dtype.kind == "f" and np.isfinite(value) and \
                abs(float(value)) > np.finfo(x.dtype).max:
            raise ShapeError(f"{op}: value {value!r} cannot be converted to {x.dtype} "
                             f"without overflow")
    else:
        if x.dtype == np.bool_:
            raise TypeError(f"{op}: mode {mode!r} does not take a bool tensor")
        if value is not None and value != 0:
            raise ShapeError(f"{op}: mode {mode!r} doesn't take a value argument, "
                             f"got value={value!r}")
        dims = len(pad) // 2
        if dims not in (1, 2, 3) or x.ndim not in (dims + 1, dims + 2):
            raise NotImplementedError(
                f"{op}: pad of length {len(pad)} is not supported for a {x.ndim}-D input in "
                f"mode {mode!r}: pad length 2 needs a 2-D or 3-D input, 4 a 3-D or 4-D, "
                f"6 a 4-D or 5-D (input shape {x.shape})")
    for axis, ((before, after), size) in enumerate(zip(widths, x.shape)):
        if (before, after) == (0, 0):
            continue
        if size + before + after < 0 or (mode != "constant" and size + min(before, 0)
                                         + min(after, 0) <= 0):
            raise ShapeError(f"{op}: pad ({before}, {after}) of dimension {axis} leaves "
                             f"nothing of an input of size {size} (input shape {x.shape})")
    if mode == "constant":
        return Pad.apply(x, tuple(widths), value)
    crop = tuple((min(b, 0), min(a, 0)) for b, a in widths)
    grow = tuple((max(b, 0), max(a, 0)) for b, a in widths)
    cropped = any(w != (0, 0) for w in crop)
    # As PyTorch: reflect pads the whole input, then crops; circular (and replicate, where
    # the order makes no difference) crops first, then wraps around what is left.
    if cropped and mode != "reflect":
        x = Pad.apply(x, crop, 0)
    for axis, ((before, after), size) in enumerate(zip(grow, x.shape)):
        if (before, after) == (0, 0):
            continue
        limit = size - 1 if mode == "reflect" else size if mode == "circular" else None
        if limit is not None and max(before, after) > limit:
            relation = "smaller than" if mode == "reflect" else "at most"
            raise ShapeError(f"{op}: in mode {mode!r} the padding must be {relation} the "
                             f"size of the dimension it pads, got pad ({before}, {after}) "
                             f"for dimension {axis} of size {size} (input shape {x.shape})")
    out = PadEdges.apply(x, grow, mode)
    return Pad.apply(out, crop, 0) if cropped and mode == "reflect" else out
