"""Pooling: ``max_pool2d``, ``avg_pool2d``, ``lp_pool2d`` (as ``torch.nn.functional``).

Each checks its arguments (:func:`._windows.pool_geometry`) and applies the window
Functions of :mod:`tinygrad_cnn.ops.pool`; Lp pooling is composed here of differentiable ops.
"""

import numpy as np

from ..._checks import check_bool, check_float, check_tensor
from ...ops.elementwise import Where
from ...ops.pool import MaxPool2d, WindowSum
from ...ops.pool_windows import avg_pool_divisor
from ...tensor import Tensor
from ._windows import lp_norm_type, pool_geometry


def _check_input(x, op: str, integers_ok: bool) -> Tensor:
    check_tensor(op, "input", x)
    if not integers_ok:
        check_float(op, "input", x.dtype)
    elif x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: input must be a floating point or integer tensor, got {x.dtype}")
    return x


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False) -> Tensor:
    """Maximum over each window (``torch.nn.functional.max_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``),
    ``H_out = floor((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1`` (``ceil`` with
    ``ceil_mode``, dropping a last window that would start in the right padding).
    ``kernel_size``, ``stride`` (default: ``kernel_size``), ``padding`` (at most half the
    kernel) and ``dilation`` are ints or ``(h, w)`` pairs.  Padding counts as ``-inf``.  The
    gradient of each window goes to ONE element, its first maximum in row-major order (as
    PyTorch), so tied inputs do not share it.  Any order of derivative works.
    """
    _check_input(x, "max_pool2d", integers_ok=True)
    geometry = pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation,
                             ceil_mode)
    return MaxPool2d.apply(x, geometry)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over each window (``torch.nn.functional.avg_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``, sizes as
    :func:`max_pool2d` with ``dilation=1``.  Padding is zeros.  The divisor is PyTorch's: the
    window clipped to the padded input (a ``ceil_mode`` window hanging past the padding counts
    only what lies inside it), or, with ``count_include_pad=False``, clipped to the input.
    """
    _check_input(x, "avg_pool2d", integers_ok=False)
    count_include_pad = check_bool("avg_pool2d", "count_include_pad", count_include_pad)
    geometry = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    return WindowSum.apply(x, geometry, avg_pool_divisor(geometry, count_include_pad))


def lp_pool2d(x: Tensor, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling ``(sum over window of x**p) ** (1/p)``, ``p = norm_type``
    (``torch.nn.functional.lp_pool2d``); ``p = 2`` is the lecture's square root of the sum of
    squares.

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``, sizes as
    :func:`max_pool2d` with ``padding=0``, ``dilation=1``.  An all-zero window has value 0 and
    gradient 0 (the true gradient of the root there is infinite), and the second derivative
    stays finite.  With ``ceil_mode`` a partial window at the border sums only the elements it
    covers; PyTorch instead rescales such a window's sum by ``kH*kW / count``, so results
    differ from PyTorch on those windows only.  As in PyTorch, ``x ** p`` of a negative input
    with fractional ``p`` is NaN.
    """
    _check_input(x, "lp_pool2d", integers_ok=False)
    p = lp_norm_type("lp_pool2d", norm_type)
    geometry = pool_geometry("lp_pool2d", x.shape, kernel_size, stride, 0, 1, ceil_mode)
    return _root(WindowSum.apply(_power(x, p), geometry, None), p)


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
    return _power_off_zeros(x, p, x._data != 0)


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
    return _power_off_zeros(s, 1.0 / p, nonzero)


def _power_off_zeros(x: Tensor, exponent: float, nonzero: np.ndarray) -> Tensor:
    """``x ** exponent`` where ``nonzero``, 0 elsewhere, with value and every derivative 0
    there: the power is taken of ``where(nonzero, x, 1)``, so it never sees 0."""
    one = np.ones((), dtype=x.dtype)
    zero = np.zeros((), dtype=x.dtype)
    return Where.apply(nonzero, Where.apply(nonzero, x, one) ** exponent, zero)
