"""Activation primitives that composing Tensor ops would make unstable or slow: ``Softplus``
(overflow-free ``log(1 + exp(beta x)) / beta``), the gates models run in their inner loop
(``Gelu``, ``Silu``, ``Hardswish``; each of these and ``Softplus`` paired with a primitive
for its derivative), and ``Softmax`` / ``LogSoftmax``.  Every other activation of
:mod:`tinygrad_cnn.nn.functional.activation` is composed of Tensor ops.
"""

import numpy as np
from scipy import special

from ..autograd.function import Function
from .elementwise import Clip, MaskBy


class Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (``torch.nn.functional.softplus``); computed as ``max(s, 0) + log1p(exp(-|s|))``, which
    never overflows.

    Backward: ``SoftplusDerivative`` (``sigmoid(beta * x)``, 1 past the threshold), whose own
    backward is in Tensor ops, so every derivative order works.
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.options = (beta, threshold)
        scaled = x if beta == 1 else x * x.dtype.type(beta)
        # max(s, 0) + log1p(exp(-|s|)): exp of a non-positive number, in place (np.logaddexp
        # is several times slower)
        smooth = np.abs(scaled, out=np.empty_like(x))
        np.negative(smooth, out=smooth)
        np.exp(smooth, out=smooth)
        np.log1p(smooth, out=smooth)
        smooth += np.maximum(scaled, 0)
        if beta != 1:
            smooth /= x.dtype.type(beta)
        linear = scaled > threshold
        if linear.any():
            smooth = np.where(linear, x, smooth)
        return smooth

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.options
        return grad * SoftplusDerivative.apply(x, beta, threshold), None, None


class SoftplusDerivative(Function):
    """``sigmoid(beta * x)``, and 1 where ``beta * x > threshold``; backward
    ``beta * s * (1 - s)`` (0 past the threshold) in Tensor ops."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.options = (beta, threshold)
        scaled = x if beta == 1 else x * x.dtype.type(beta)
        slope = _sigmoid(scaled)
        linear = scaled > threshold
        if linear.any():
            slope[linear] = 1
        return slope

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.options
        s = (x * beta).sigmoid()
        curvature = MaskBy.apply(s * (1.0 - s) * beta, ~(x._data * beta > threshold))
        return grad * curvature, None, None


class HardClip(Clip):
    """:class:`.elementwise.Clip` whose gradient passes only strictly inside ``(lo, hi)``: 0
    at the bounds themselves, unlike ``clamp``'s, and 0 at NaN (PyTorch's vectorized
    ``hardtanh_backward``, used by relu6, hardtanh and hardsigmoid; PyTorch's scalar loop,
    which takes tensors shorter than a SIMD vector and each tensor's last few elements,
    passes a NaN's gradient instead)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return MaskBy.apply(grad, (x._data > lo) & (x._data < hi)), None, None


# ------------------------------------------------------------------ fused gates
# Each gate f is a pair of primitives: ``F`` computes f(x) in a few in-place numpy passes and
# its backward is ``grad * FDerivative(x)``; ``FDerivative`` computes f'(x) the same way and
# its backward is ``grad * f''(x)`` written with Tensor ops.  First derivatives (training)
# stay a few whole-array passes; every higher order is still exact.
_SQRT_HALF = np.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_TANH_SCALE = np.sqrt(2.0 / np.pi)
_TANH_CUBIC = 0.044715


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow, in a fresh array of x's dtype.

    ``sigmoid(|x|) = 1 / (1 + e)`` with ``e = exp(-|x|)``, times 1 where ``x >= 0`` and ``e``
    where ``x < 0`` (``sigmoid(x) = e * sigmoid(|x|)`` there).  The choice is made with
    arithmetic on the masks, not ``np.where``, whose branch on random signs is ten times
    slower than a multiply.
    """
    e = np.abs(x, out=np.empty_like(x))
    np.negative(e, out=e)
    np.exp(e, out=e)                      # exp(-|x|) in (0, 1]
    out = np.add(e, 1, out=np.empty_like(x))
    np.divide(1, out, out=out)            # sigmoid(|x|)
    np.multiply(e, x < 0, out=e)          # e where x < 0, else 0
    e += x >= 0                           # ... else 1
    out *= e
    return out


def _tanh_parts(x: np.ndarray):
    """``(t, du)`` of the tanh GELU: ``t = tanh(u)``, ``u = k (x + c x^3)``, ``du = u'``."""
    square = np.square(x)
    du = square * x.dtype.type(3 * _TANH_CUBIC)
    du += 1
    du *= x.dtype.type(_TANH_SCALE)
    inner = square
    inner *= x.dtype.type(_TANH_CUBIC)
    inner += 1
    inner *= x
    inner *= x.dtype.type(_TANH_SCALE)
    return np.tanh(inner, out=inner), du


class Gelu(Function):
    """``x * Phi(x)`` (``approximate="none"``, Phi the normal CDF) or
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (``"tanh"``)."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            out, _ = _tanh_parts(x)
        else:
            out = special.erf(x * x.dtype.type(_SQRT_HALF)).astype(x.dtype, copy=False)
        out += 1
        out *= x
        out *= x.dtype.type(0.5)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * GeluDerivative.apply(x, ctx.approximate), None


class GeluDerivative(Function):
    """``d gelu / dx``: ``Phi(x) + x phi(x)``, or the tanh form's
    ``0.5 (1 + t) + 0.5 x (1 - t^2) u'``."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        half = x.dtype.type(0.5)
        if approximate == "tanh":
            t, du = _tanh_parts(x)
            slope = 1 - np.square(t)
            slope *= du
            slope *= x
            t += 1
            t += slope
            t *= half
            return t
        density = np.exp(np.square(x) * -half) * x.dtype.type(_INV_SQRT_2PI)
        density *= x
        cdf = special.ndtr(x).astype(x.dtype, copy=False)
        cdf += density
        return cdf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            u = (x + x * x * x * _TANH_CUBIC) * _TANH_SCALE
            du = (x * x * (3 * _TANH_CUBIC) + 1.0) * _TANH_SCALE
            t = u.tanh()
            second = (1.0 - t * t) * (du - x * t * du * du + x * x * (3 * _TANH_CUBIC *
                                                                        _TANH_SCALE))
        else:
            # phi(x) (2 - x^2)
            second = (x * x * -0.5).exp() * _INV_SQRT_2PI * (2.0 - x * x)
        return grad * second, None


class Silu(Function):
    """``x * sigmoid(x)`` (the swish)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = _sigmoid(x)
        out *= x
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * SiluDerivative.apply(x)


class SiluDerivative(Function):
    """``sigmoid(x) (1 + x (1 - sigmoid(x)))``."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        s = _sigmoid(x)
        out = 1 - s
        out *= x
        out += 1
        out *= s
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad * (s * (1.0 - s) * (2.0 + x * (1.0 - s * 2.0)))


class Hardswish(Function):
    """``x * relu6(x + 3) / 6``: 0 below -3, ``x`` above 3, ``x (x + 3) / 6`` between."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = np.add(x, 3, out=np.empty_like(x))
        np.clip(out, 0, 6, out=out)
        out *= x
        out *= x.dtype.type(1.0 / 6.0)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * HardswishDerivative.apply(x)


class HardswishDerivative(Function):
    """``0`` up to -3 (inclusive), ``x / 3 + 1/2`` strictly between -3 and 3, ``1`` from 3
    on (PyTorch's ``hardswish_backward``)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = x * x.dtype.type(1.0 / 3.0)
        out += x.dtype.type(0.5)
        out[x <= -3] = 0
        out[x >= 3] = 1  # NaN stays NaN (PyTorch's vectorized loop; its scalar tail gives 1)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        middle = (x._data > -3) & (x._data < 3)
        return MaskBy.apply(grad, middle) * (1.0 / 3.0)


# ------------------------------------------------------------------ softmax
class Softmax(Function):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``; backward
    ``y * (g - sum(g * y))`` in Tensor ops on the saved output ``y``."""

    @staticmethod
    def forward(ctx, x, axis):
        out = x - x.max(axis=axis, keepdims=True)
        np.exp(out, out=out)
        out /= out.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    """``x - max - log(sum(exp(x - max)))`` along ``axis`` (log-sum-exp: finite for any finite
    input); backward ``g - exp(y) * sum(g)`` in Tensor ops on the saved output ``y``."""

    @staticmethod
    def forward(ctx, x, axis):
        out = x - x.max(axis=axis, keepdims=True)
        total = np.exp(out).sum(axis=axis, keepdims=True)
        out -= np.log(total, out=total)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.axis, keepdims=True), None
