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
* ``PlaneGather`` (the elements at flat indices ``r * W + c`` of each plane: max pooling
  with ``return_indices``, adaptive max pooling) and ``PlaneScatterAdd``, its adjoint; and
  ``MaxUnpool2d`` (write each value at its index), whose backward is ``PlaneGather``.
* Lp pooling is composed of differentiable ops in :mod:`tinygrad_cnn.nn.functional.pool`:
  ``root_p(WindowSum(x ** p))``, with a root whose gradient is 0 (not NaN) on an all-zero
  window.

The numpy kernels live in :mod:`.pool_windows`; the entry points that check arguments and
apply these are in :mod:`tinygrad_cnn.nn.functional.pool`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .pool_windows import (
    gather_from_windows,
    max_pool_forward,
    plane_flat,
    plane_gather,
    plane_scatter,
    plane_scatter_add,
    scatter_to_windows,
    window_sum,
    window_sum_adjoint,
)


class MaxPool2d(Function):
    """Window maxima ``(..., H, W) -> (..., Ho, Wo)``; the gradient goes to the first maximum."""

    @staticmethod
    def forward(ctx, x, geometry):
        y, index = max_pool_forward(x, geometry, with_index=ctx.needs_input_grad[0])
        ctx.geometry, ctx.index = geometry, index  # int8/int32 offsets: a constant of the graph
        return y

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, ctx.index, ctx.geometry), None


class WindowScatter(Function):
    """``(..., Ho, Wo) -> (..., H, W)``: each value added at its window's chosen element."""

    @staticmethod
    def forward(ctx, g, index, geometry):
        ctx.geometry, ctx.index = geometry, index
        return scatter_to_windows(g, index, geometry)

    @staticmethod
    def backward(ctx, grad):
        return WindowGather.apply(grad, ctx.index, ctx.geometry), None, None


class WindowGather(Function):
    """``(..., H, W) -> (..., Ho, Wo)``: each window's chosen element (adjoint of the scatter)."""

    @staticmethod
    def forward(ctx, x, index, geometry):
        ctx.geometry, ctx.index = geometry, index
        return gather_from_windows(x, index, geometry)

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, ctx.index, ctx.geometry), None, None


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
    def forward(ctx, x, geometry, divisor):
        ctx.geometry, ctx.divisor = geometry, divisor
        return _scaled(window_sum(x, geometry), divisor, in_place=True)

    @staticmethod
    def backward(ctx, grad):
        return WindowSumAdjoint.apply(grad, ctx.geometry, ctx.divisor), None, None


class WindowSumAdjoint(Function):
    """Adjoint of :class:`WindowSum`: ``g / divisor`` spread over each window."""

    @staticmethod
    def forward(ctx, g, geometry, divisor):
        ctx.geometry, ctx.divisor = geometry, divisor
        return window_sum_adjoint(_scaled(g, divisor), geometry)

    @staticmethod
    def backward(ctx, grad):
        return WindowSum.apply(grad, ctx.geometry, ctx.divisor), None, None


class PlaneGather(Function):
    """``(..., H, W) -> (..., h, w)``: the elements at int64 flat indices ``r * W + c`` of each
    plane (max pooling with ``return_indices``, adaptive max pooling).  ``flat``: the
    indices into the whole array (:func:`.pool_windows.plane_flat`), made here if None, and
    handed on to the backward, which writes at the same places."""

    @staticmethod
    def forward(ctx, x, index, flat):
        if flat is None:
            flat = plane_flat(index, x.shape[-2:])
        ctx.index, ctx.size, ctx.flat = index, x.shape[-2:], flat
        return plane_gather(x, index, flat)

    @staticmethod
    def backward(ctx, grad):
        return PlaneScatterAdd.apply(grad, ctx.index, ctx.size, ctx.flat), None, None


class PlaneScatterAdd(Function):
    """Adjoint of :class:`PlaneGather`: ``(..., h, w) -> (..., *size)``, each value added at
    its flat index."""

    @staticmethod
    def forward(ctx, g, index, size, flat):
        if flat is None:
            flat = plane_flat(index, size)
        ctx.index, ctx.flat = index, flat
        return plane_scatter_add(g, index, size, flat)

    @staticmethod
    def backward(ctx, grad):
        return PlaneGather.apply(grad, ctx.index, ctx.flat), None, None, None


class MaxUnpool2d(Function):
    """``max_unpool2d``: ``(..., h, w) -> (..., *size)`` zeros with each value written at its
    flat index.  Its backward reads the gradient at the indices (:class:`PlaneGather`), as
    PyTorch's; with distinct indices it is :class:`PlaneScatterAdd`, the gather's adjoint."""

    @staticmethod
    def forward(ctx, x, index, size):
        ctx.index, ctx.flat = index, plane_flat(index, size)
        return plane_scatter(x, index, size, ctx.flat)

    @staticmethod
    def backward(ctx, grad):
        return PlaneGather.apply(grad, ctx.index, ctx.flat), None, None
