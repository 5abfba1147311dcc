"""Pooling Functions: max, average and Lp pooling over 2-D windows, with their adjoints.

Each linear map here comes with its adjoint as a second ``Function``, and each one's backward
is the other, so every derivative order works:

* ``MaxPool2d`` picks the first maximum of each window; its backward is ``WindowScatter``,
  the lecture's "upsample" of the error to the chosen positions, whose backward is
  ``WindowGather`` (read the chosen positions), whose backward is ``WindowScatter`` again.
  The chosen positions are integer offsets stashed on ``ctx``: piecewise constant in the
  input, so treating them as constants gives the right higher derivatives (zero curvature).
* ``WindowSum`` (window sums, optionally divided by an integer count per window: average
  pooling) and ``WindowSumAdjoint`` (spread each output back over its window).
* Lp pooling is composed of differentiable ops: ``root_p(WindowSum(x ** p))``, with a root
  whose gradient is 0 (not NaN) on an all-zero window.

The numpy kernels live in :mod:`.pool_windows`; argument checks in :func:`._args.pool_geometry`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._args import pool_geometry
from ._errors import check_float, check_tensor, is_real
from .elementwise import Where
from .pool_windows import (
    avg_pool_divisor,
    gather_from_windows,
    max_pool_forward,
    scatter_to_windows,
    window_sum,
    window_sum_adjoint,
)


class MaxPool2d(Function):
    """Window maxima ``(..., H, W) -> (..., Ho, Wo)``; the gradient goes to the first maximum."""

    @staticmethod
    def forward(ctx, x, geo):
        y, index = max_pool_forward(x, geo, with_index=ctx.needs_input_grad[0])
        ctx.geo, ctx.index = geo, index  # int8/int32 offsets: a constant of the graph
        return y

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, ctx.index, ctx.geo), None


class WindowScatter(Function):
    """``(..., Ho, Wo) -> (..., H, W)``: each value added at its window's chosen element."""

    @staticmethod
    def forward(ctx, g, index, geo):
        ctx.geo, ctx.index = geo, index
        return scatter_to_windows(g, index, geo)

    @staticmethod
    def backward(ctx, grad):
        return WindowGather.apply(grad, ctx.index, ctx.geo), None, None


class WindowGather(Function):
    """``(..., H, W) -> (..., Ho, Wo)``: each window's chosen element (adjoint of the scatter)."""

    @staticmethod
    def forward(ctx, x, index, geo):
        ctx.geo, ctx.index = geo, index
        return gather_from_windows(x, index, geo)

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, ctx.index, ctx.geo), None, None


def _scaled(array: np.ndarray, divisor, in_place: bool = False) -> np.ndarray:
    """``array / divisor`` in ``array``'s dtype (an int64 divisor would promote float32),
    written over ``array`` when ``in_place`` (for an array the caller just made)."""
    if divisor is None:
        return array
    return np.divide(array, divisor.astype(array.dtype), out=array if in_place else None)


class WindowSum(Function):
    """Window sums with zero padding ``(..., H, W) -> (..., Ho, Wo)``, each divided by
    ``divisor`` (an integer ``(Ho, Wo)`` array: average pooling) unless it is None."""

    @staticmethod
    def forward(ctx, x, geo, divisor):
        ctx.geo, ctx.divisor = geo, divisor
        return _scaled(window_sum(x, geo), divisor, in_place=True)

    @staticmethod
    def backward(ctx, grad):
        return WindowSumAdjoint.apply(grad, ctx.geo, ctx.divisor), None, None


class WindowSumAdjoint(Function):
    """Adjoint of :class:`WindowSum`: ``g / divisor`` spread over each window."""

    @staticmethod
    def forward(ctx, g, geo, divisor):
        ctx.geo, ctx.divisor = geo, divisor
        return window_sum_adjoint(_scaled(g, divisor), geo)

    @staticmethod
    def backward(ctx, grad):
        return WindowSum.apply(grad, ctx.geo, ctx.divisor), None, None


# ------------------------------------------------------------------ entry points
def _check_input(x, op: str, integers_ok: bool) -> Tensor:
    check_tensor(op, "input", x)
    if not integers_ok:
        check_float(op, "input", x.dtype)
    elif x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: input must be a floating point or integer tensor, got {x.dtype}")
    return x


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False) -> Tensor:
    """See :func:`tinygrad_cnn.functional.max_pool2d`."""
    _check_input(x, "max_pool2d", integers_ok=True)
    geo = pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation,
                        ceil_mode)
    return MaxPool2d.apply(x, geo)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """See :func:`tinygrad_cnn.functional.avg_pool2d`."""
    _check_input(x, "avg_pool2d", integers_ok=False)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"avg_pool2d: count_include_pad must be a bool, "
                        f"got {count_include_pad!r}")
    geo = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    return WindowSum.apply(x, geo, avg_pool_divisor(geo, bool(count_include_pad)))


def _check_norm_type(norm_type) -> float:
    if not is_real(norm_type):
        raise TypeError(f"lp_pool2d: norm_type must be a number, got {norm_type!r}")
    p = float(norm_type)
    if not np.isfinite(p) or p <= 0:
        raise ValueError(f"lp_pool2d: norm_type must be a positive finite number, got {p}")
    return p


def _power(x: Tensor, p: float) -> Tensor:
    """``x ** p`` whose first and second derivatives are finite at 0.

    Integer ``p >= 1`` already has them.  A fractional ``p`` has an infinite derivative of
    some order at 0 (x ** 1.5 has second derivative 0.75 / sqrt(x)), which would meet the
    zero gradient of an all-zero window as 0 * inf = NaN; so zeros are masked out of it.
    """
    if p == 1.0:
        return x
    if p == 2.0:
        return x * x
    if float(p).is_integer() or not (x._data == 0).any():
        return x ** p
    nonzero = x._data != 0
    one = np.ones((), dtype=x.dtype)
    zero = np.zeros((), dtype=x.dtype)
    return Where.apply(nonzero, Where.apply(nonzero, x, one) ** p, zero)


def _root(s: Tensor, p: float) -> Tensor:
    """``s ** (1/p)`` with gradient 0 where ``s == 0`` (the true one is infinite for p > 1).

    The root is taken of ``where(s != 0, s, 1)`` so neither it nor its derivatives ever see
    0; the outer ``where`` then zeroes both the value and the gradient there.  A negative
    ``s`` (odd ``p`` with negative inputs) gives NaN, as in numpy and PyTorch.
    """
    if p == 1.0:
        return s
    nonzero = s._data != 0
    if nonzero.all():
        return s ** (1.0 / p)
    one = np.ones((), dtype=s.dtype)
    zero = np.zeros((), dtype=s.dtype)
    return Where.apply(nonzero, Where.apply(nonzero, s, one) ** (1.0 / p), zero)


def lp_pool2d(x: Tensor, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """See :func:`tinygrad_cnn.functional.lp_pool2d`."""
    _check_input(x, "lp_pool2d", integers_ok=False)
    p = _check_norm_type(norm_type)
    geo = pool_geometry("lp_pool2d", x.shape, kernel_size, stride, 0, 1, ceil_mode)
    return _root(WindowSum.apply(_power(x, p), geo, None), p)
