"""Elementwise primitives.  Binary ones broadcast as numpy and sum their gradients back to
each operand's shape; every backward is written with Tensor ops so it can be differentiated
again.  Masks and signs used in backward are computed from saved inputs on the spot: they
are piecewise constant, so treating them as constants gives the right higher derivatives.
"""

import numpy as np
from scipy import special

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .bits import masked
from .shape import sum_to


def _constant(array: np.ndarray, dtype) -> Tensor:
    return Tensor._make(np.asarray(array, dtype=dtype))


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        needs_a, needs_b = ctx.needs_input_grad
        return (sum_to(grad, shape_a) if needs_a else None,
                sum_to(grad, shape_b) if needs_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        needs_a, needs_b = ctx.needs_input_grad
        return (sum_to(grad, shape_a) if needs_a else None,
                sum_to(-grad, shape_b) if needs_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad * b, a._data.shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(grad * a, b._data.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad / b, a._data.shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(-grad * a / (b * b), b._data.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(Function):
    """``x ** exponent`` for a Python number ``exponent``; as PyTorch's pow kernel, the
    exponents 0.5 and -0.5 are ``sqrt(x)`` and ``1 / sqrt(x)`` (NaN at ``x = -inf``, where
    C's ``pow`` gives inf and 0)."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        if exponent == 0.5:
            return np.sqrt(x)
        if exponent == -0.5:
            return np.reciprocal(np.sqrt(x))
        return x ** np.asarray(exponent, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:
            return grad * 0.0, None
        return grad * (x ** (exponent - 1) * exponent), None


class Pow(Function):
    """``base ** exponent`` for two tensors."""

    @staticmethod
    def forward(ctx, base, exponent):
        output = base ** exponent
        ctx.save_for_backward(base, exponent, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's conventions at the domain's edges: d/db is 0 where e == 0 (so 0**0 has
        # gradient 0, not 0 * 0**-1 = NaN); d/de = b^e log b is 0 where b == 0 and e >= 0
        # (the limit), and NaN for a negative base (log of a negative number), as PyTorch.
        base, exponent, output = ctx.saved_tensors
        grad_base = grad_exponent = None
        zero = np.zeros((), dtype=grad.dtype)
        if ctx.needs_input_grad[0]:
            slope = grad * exponent * base ** (exponent - 1.0)
            grad_base = sum_to(Where.apply(exponent._data == 0, zero, slope), base._data.shape)
        if ctx.needs_input_grad[1]:
            limit = (base._data == 0) & (exponent._data >= 0)
            log_base = Where.apply(limit, np.ones((), dtype=base.dtype), base).log()
            grad_exponent = sum_to(grad * output * log_base, exponent._data.shape)
        return grad_base, grad_exponent


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        output = np.exp(x)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad * output


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        output = np.sqrt(x)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad / (output * 2.0)


class Rsqrt(Function):
    """``1 / sqrt(x)``; backward ``-grad * out**3 / 2`` from the output, as PyTorch's (NaN at
    ``x = -inf``, where ``x ** -0.5``'s gradient is ``-0.5 * x**-1.5 = -0``)."""

    @staticmethod
    def forward(ctx, x):
        output = np.reciprocal(np.sqrt(x))
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad * (output * output * output * -0.5)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # sign(NaN) is NaN in numpy, 0 in PyTorch's abs backward: a NaN input gets gradient 0.
        return grad * _constant(np.nan_to_num(np.sign(x._data), nan=0.0), x.dtype)


class Relu(Function):
    """max(x, 0); the gradient at exactly 0 is 0 and a NaN passes its gradient through,
    as PyTorch (whose mask is ``not (output <= 0)``).

    Backward from the saved output: it is 0 or positive or NaN, so PyTorch's mask is
    ``output != 0`` (one comparison pass).  A first-order backward masks the gradient's bits
    (:func:`.bits.masked`: an inf or NaN gradient where the output is 0 gives 0, as
    PyTorch's ``threshold_backward``, not ``inf * 0``) in place when the engine hands it an
    array it owns (``ctx.owns_grad``); with grad recording on it is ``MaskBy`` (exact to
    every order: the mask is piecewise constant).
    """

    @staticmethod
    def forward(ctx, x):
        output = np.maximum(x, 0)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        mask = np.not_equal(output._data, 0)
        if is_grad_enabled():
            return MaskBy.apply(grad, mask)
        data = grad._data
        if ctx.owns_grad and data.dtype == output._data.dtype:
            masked(data, mask, out=data)
            return grad
        return Tensor._make(masked(data, mask))


class LeakyRelu(Function):
    """x where x > 0, else negative_slope * x (PyTorch's F.leaky_relu)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = np.where(x._data > 0, x.dtype.type(1), x.dtype.type(ctx.negative_slope))
        return grad * Tensor._make(slope), None


class Sigmoid(Function):
    """1 / (1 + exp(-x)), evaluated without overflow for large |x|."""

    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number never overflows: use exp(-|x|) on both sides.
        e = np.exp(-np.abs(x))
        output = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad * (output * (1.0 - output))


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        output = np.tanh(x)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return TanhBackward.apply(grad, output)


class TanhBackward(Function):
    """``grad * (1 - y**2)`` for ``y = tanh(x)`` as one op (PyTorch's ``tanh_backward``):
    one node instead of three in every backward through tanh; differentiable again."""

    @staticmethod
    def forward(ctx, grad, output):
        ctx.save_for_backward(grad, output)
        return grad * (1.0 - output * output)

    @staticmethod
    def backward(ctx, gradgrad):
        grad, output = ctx.saved_tensors
        return (gradgrad * (1.0 - output * output) if ctx.needs_input_grad[0] else None,
                gradgrad * grad * output * -2.0 if ctx.needs_input_grad[1] else None)


class Clip(Function):
    """``np.clip(x, lo, hi)``; the gradient passes where lo <= x <= hi (as torch.clamp)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x._data >= lo
        if hi is not None:
            inside &= x._data <= hi
        return MaskBy.apply(grad, inside), None, None


class ClampTensor(Function):
    """``clamp(x, lo, hi)`` with tensor bounds (either may be None), as PyTorch's: the
    forward is ``minimum(maximum(x, lo), hi)`` (a NaN anywhere gives NaN); the gradient goes
    to ``x`` where ``lo <= x <= hi``, to ``lo`` where ``x < lo < hi`` and to ``hi`` where
    ``x > hi`` or ``hi < lo`` (PyTorch's masks: at a NaN nobody gets it, except ``hi`` when
    ``hi < lo``).  The masks are constants, so the backward is exact to every order."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        out = x
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        x_t, lo_t, hi_t = ctx.saved_tensors
        x, lo, hi = (None if t is None else t._data for t in (x_t, lo_t, hi_t))
        mask_x = mask_lo = mask_hi = None
        if lo is not None and hi is not None:
            mask_x = (x >= lo) & (x <= hi)
            mask_lo = (x < lo) & (lo < hi)
            mask_hi = (x > hi) | (hi < lo)
        elif lo is not None:
            mask_x, mask_lo = x >= lo, x < lo
        else:
            mask_x, mask_hi = x <= hi, x > hi

        def take(mask, operand):
            if operand is None or mask is None:
                return None
            return sum_to(MaskBy.apply(grad, np.broadcast_to(mask, grad.shape)), operand.shape)
        return take(mask_x, x), take(mask_lo, lo), take(mask_hi, hi)


class Where(Function):
    """``np.where(condition, a, b)`` with a constant boolean ``condition``."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = (a.shape, b.shape)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        condition = np.broadcast_to(ctx.condition, grad.shape)
        return (None, sum_to(MaskBy.apply(grad, condition), shape_a),
                sum_to(MaskBy.apply(grad, ~condition), shape_b))


class MaskBy(Function):
    """``x`` where the constant boolean ``mask`` is True, else 0 (an inf or NaN too, as
    PyTorch's ``where``): one pass on the bits (:func:`.bits.masked`), no float mask.

    The gradient passes the same way, so it is its own backward (the mask is piecewise
    constant in whatever produced it, so this is exact to every order).
    """

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return masked(x, mask)

    @staticmethod
    def backward(ctx, grad):
        return MaskBy.apply(grad, ctx.mask), None


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Cos.apply(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -(grad * Sin.apply(x))


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1.0)


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        output = np.expm1(x)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad * (output + 1.0)


class Piecewise(Function):
    """A piecewise constant function (``np.floor``, ``np.sign``, ...): gradient zero, as
    PyTorch's ``floor``/``ceil``/``round``/``trunc``/``sign``."""

    @staticmethod
    def forward(ctx, x, function):
        ctx.shape = x.shape
        return np.asarray(function(x), dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return MaskBy.apply(grad, np.zeros((), dtype=bool)), None


class Extreme2(Function):
    """``np.maximum(a, b)`` / ``np.minimum(a, b)``: the gradient goes to the larger (smaller)
    operand, split evenly on ties, and whole to both where one is NaN (as ``torch.maximum``)."""

    @staticmethod
    def forward(ctx, a, b, largest):
        ctx.save_for_backward(a, b)
        ctx.largest = largest
        return np.maximum(a, b) if largest else np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # PyTorch's: where(a == b, g / 2, g), zeroed where the operand loses; where a NaN is
        # involved nobody loses, so both operands take the whole gradient
        x, y, dtype = a._data, b._data, grad.dtype
        half_ties = np.multiply(x == y, 0.5, dtype=dtype)

        def share(first, second, shape):
            loses = first < second if ctx.largest else first > second
            weight = np.subtract(1, loses, dtype=dtype)
            weight -= half_ties
            return sum_to(grad * _constant(weight, dtype), shape)
        grad_a = share(x, y, x.shape) if ctx.needs_input_grad[0] else None
        grad_b = share(y, x, y.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


def _erf_slope(x: Tensor) -> Tensor:
    """``2 / sqrt(pi) * exp(-x**2)``, the derivative of ``erf``, in Tensor ops."""
    return (x * x).neg().exp() * (2.0 / np.sqrt(np.pi))


class Erf(Function):
    """The error function (``scipy.special.erf``, ``torch.erf``) or, with ``complement``,
    ``1 - erf(x)`` computed directly, accurate where it is tiny (``torch.erfc``)."""

    @staticmethod
    def forward(ctx, x, complement):
        ctx.save_for_backward(x)
        ctx.complement = complement
        return special.erfc(x) if complement else special.erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = grad * _erf_slope(x)
        return (-slope if ctx.complement else slope), None


class Lerp(Function):
    """``start + weight * (end - start)`` (``torch.lerp``), broadcasting, computed as
    ``end - (end - start) * (1 - weight)`` where ``|weight| >= 0.5`` (exact at weight 1, as
    PyTorch's); the gradients are PyTorch's products, in Tensor ops."""

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        difference = end - start
        return np.where(np.abs(weight) < 0.5, start + weight * difference,
                        end - difference * (1 - weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        needs_start, needs_end, needs_weight = ctx.needs_input_grad
        return (sum_to(grad * (1 - weight), start.shape) if needs_start else None,
                sum_to(grad * weight, end.shape) if needs_end else None,
                sum_to(grad * (end - start), weight.shape) if needs_weight else None)
