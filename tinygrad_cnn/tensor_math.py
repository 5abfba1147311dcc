"""Tensor arithmetic, elementwise functions and comparisons, as PyTorch's.

Each function here is both a Tensor method (bound by :func:`tinygrad_cnn.tensor_methods.install`)
and a ``tinygrad_cnn.<name>`` function, so ``x.exp()`` and ``torch.exp(x)`` are one code path.
Operands may be Tensors, numbers or array-likes; dtypes promote by PyTorch's rules (a scalar
never widens a tensor) and shapes broadcast as numpy's.  Arguments are checked before numpy
sees them: a bad one raises naming the op, the argument and the shapes.
"""

import numpy as np

from ._checks import (
    DtypeError,
    ShapeError,
    check_broadcastable,
    check_fits,
    check_float,
    check_number,
    check_tensor,
)
from .autograd.float_errors import quiet
from .ops import elementwise as ew
from .ops import linalg
from .ops import shape as shape_ops
from .tensor import DEFAULT_FLOAT, Tensor, is_scalar, promoted_dtype


# ------------------------------------------------------------------ operand coercion
def _scalar_operand(op: str, value, like: Tensor) -> Tensor:
    """A Python/numpy scalar as a 0-d tensor that keeps ``like``'s dtype (PyTorch's rule)."""
    dtype = like._data.dtype
    is_bool = isinstance(value, (bool, np.bool_))
    if dtype.kind != "f" and isinstance(value, (float, np.floating)):
        dtype = DEFAULT_FLOAT
    elif dtype.kind == "b" and not is_bool:
        dtype = np.dtype(np.int64)
    elif dtype.kind in "iu" and not is_bool and isinstance(value, (int, np.integer)):
        limits = np.iinfo(dtype)
        if not limits.min <= value <= limits.max:
            raise RuntimeError(f"{op}: the scalar {value} does not fit the tensor's dtype "
                               f"{dtype}")
    return Tensor._make(np.asarray(value, dtype=dtype))


def operand(op: str, value, like: Tensor) -> Tensor:
    """``value`` as a Tensor to combine with ``like`` (scalars keep ``like``'s dtype)."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float or type(value) is int or is_scalar(value):  # fast path first
        return _scalar_operand(op, value, like)
    try:
        return Tensor(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{op}: cannot combine a tensor with {type(value).__name__} ({error})"
        ) from None


def _promoted(a: Tensor, b: Tensor):
    """Cast the operands where PyTorch's promotion differs from what numpy would do."""
    dtype_a, dtype_b = a._data.dtype, b._data.dtype
    if dtype_a == dtype_b:
        return a, b
    target = promoted_dtype(a._data, b._data)
    if target == np.result_type(dtype_a, dtype_b):
        return a, b  # numpy gets there by itself, without a copy
    return a.to(target), b.to(target)


def binary(op: str, a, b):
    """Both operands as Tensors with promoted dtypes and checked, broadcastable shapes.

    Hot (every arithmetic operator): the two commonest cases, two Tensors of one dtype and
    a float tensor with a Python float (``t * 0.5``), take no further call.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            pass
        elif type(b) is float and a._data.dtype.kind == "f":
            # The scalar becomes a 0-d tensor of a's dtype (what _scalar_operand does), so
            # nothing is promoted and it broadcasts against any shape.
            return a, Tensor._make(np.asarray(b, a._data.dtype))
        else:
            b = operand(op, b, a)
    elif type(a) is float and b._data.dtype.kind == "f":  # ``0.5 - t``: as above
        return Tensor._make(np.asarray(a, b._data.dtype)), b
    else:
        a = operand(op, a, b)
    if a._data.dtype != b._data.dtype:
        a, b = _promoted(a, b)
    shape_a, shape_b = a._data.shape, b._data.shape
    if shape_a != shape_b and shape_a and shape_b:  # a 0-d operand always broadcasts
        check_broadcastable(op, shape_a, shape_b)
    return a, b


def floating(tensor: Tensor) -> Tensor:
    """Integer and bool tensors become the default float, as PyTorch's float-only ops do."""
    return tensor if tensor._data.dtype.kind == "f" else tensor.to(DEFAULT_FLOAT)


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


# ------------------------------------------------------------------ arithmetic
def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` (broadcasting)."""
    if alpha != 1:
        other = mul(other, alpha)
    return ew.Add.apply(*binary("add", input, other))


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` (broadcasting); bool tensors cannot be subtracted."""
    if alpha != 1:
        other = mul(other, alpha)
    return _subtract(*binary("sub", input, other))


def _subtract(a: Tensor, b: Tensor) -> Tensor:
    """``a - b`` of operands already through :func:`binary`."""
    if a._data.dtype.kind == "b" and b._data.dtype.kind == "b":
        raise RuntimeError("sub: subtracting two bool tensors is not supported; use "
                           "logical_xor() or ~ instead")
    return ew.Sub.apply(a, b)


def mul(input, other) -> Tensor:
    """``input * other`` (broadcasting)."""
    return ew.Mul.apply(*binary("mul", input, other))


def div(input, other, *, rounding_mode=None) -> Tensor:
    """``input / other``: true division (integers give the default float), or with
    ``rounding_mode="trunc"``/``"floor"`` the quotient rounded that way (in the operands'
    promoted dtype; no gradient, as PyTorch's)."""
    a, b = binary("div", input, other)
    if rounding_mode is None:
        if a._data.dtype.kind != "f":
            a, b = floating(a), floating(b)
        return ew.Div.apply(a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    if a._data.dtype.kind == "f":  # gradient zero to both operands, as PyTorch's
        quotient = ew.Div.apply(a, b)
        return ew.Piecewise.apply(quotient, np.trunc if rounding_mode == "trunc" else np.floor)
    if (b._data == 0).any():
        raise RuntimeError("div: ZeroDivisionError (integer division by zero)")
    with np.errstate(divide="ignore", invalid="ignore"):
        if rounding_mode == "floor":
            quotient = np.floor_divide(a._data, b._data)
        else:
            quotient = np.trunc(np.true_divide(a._data, b._data)).astype(a._data.dtype)
    return Tensor._make(np.asarray(quotient, dtype=promoted_dtype(a._data, b._data)))


def floor_divide(input, other) -> Tensor:
    """``input // other``: the quotient rounded down."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other) -> Tensor:
    """``input % other`` with the sign of ``other`` (Python's rule, as ``torch.remainder``)."""
    a, b = binary("remainder", input, other)
    return sub(a, mul(floor_divide(a, b), b).detach()) if a._data.dtype.kind == "f" \
        else Tensor._make(np.asarray(np.remainder(a._data, b._data)))


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; an integer base with a float exponent gives the default float."""
    base = input
    if isinstance(base, Tensor) and is_scalar(exponent) and not isinstance(exponent, bool):
        exponent = exponent.item() if isinstance(exponent, np.generic) else exponent
        if base._data.dtype.kind != "f":
            if isinstance(exponent, float):
                base = floating(base)
            elif exponent < 0:
                raise RuntimeError("pow: integers to negative integer powers are not allowed; "
                                   "convert with .float() first")
        return ew.PowScalar.apply(base, exponent)
    base, exponent = binary("pow", base, exponent)
    if exponent._data.dtype.kind != "f" and (exponent._data < 0).any():
        raise RuntimeError("pow: integers to negative integer powers are not allowed; "
                           "convert with .float() first")
    return ew.Pow.apply(base, exponent)


def matmul(input, other) -> Tensor:
    """``input @ other`` with numpy's (and PyTorch's) rules: 1-D operands are lifted to
    matrices and squeezed back, batch dimensions broadcast."""
    a, b = _promoted(_as_tensor(input), _as_tensor(other))
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} "
            f"and {tuple(b.shape)} (use * to multiply by a scalar)"
        )
    lifted_a = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    lifted_b = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    if lifted_a._data.shape[-1] != lifted_b._data.shape[-2]:
        raise ShapeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({lifted_a._data.shape[-1]} != {lifted_b._data.shape[-2]})"
        )
    if lifted_a._data.shape[:-2] != lifted_b._data.shape[:-2]:
        check_broadcastable("matmul (batch dimensions)", lifted_a._data.shape[:-2],
                            lifted_b._data.shape[:-2])
    result = linalg.MatMul.apply(lifted_a, lifted_b)
    if a.ndim == 1 and b.ndim == 1:
        return result.reshape(())
    if a.ndim == 1:
        return result.squeeze(-2)
    if b.ndim == 1:
        return result.squeeze(-1)
    return result


def mm(input, mat2) -> Tensor:
    """The product of two matrices."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: both arguments must be matrices, got shapes "
                           f"{tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) tensors."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected two 3-D tensors with the same batch size, got "
                           f"shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def neg(input) -> Tensor:
    """``-input``; bool tensors are refused, as PyTorch (``~`` negates them)."""
    try:  # free unless it fails; checked after the fact to keep ``-t`` fast
        return ew.Neg.apply(input)
    except TypeError:
        if not (isinstance(input, Tensor) and input._data.dtype.kind == "b"):
            raise
    raise DtypeError("neg: input must not be a bool tensor (the `-` operator on bools is not "
                     "supported; use `~` or logical_not), got dtype bool")


# Operators: the methods Python calls for ``a + b`` etc.  (Kept apart from ``add`` and
# friends so the hot path carries no keyword handling.)
def __add__(self, other):
    """``self + other``."""
    return ew.Add.apply(*binary("add", self, other))


def __radd__(self, other):
    """``other + self``."""
    return ew.Add.apply(*binary("add", other, self))


def __sub__(self, other):
    """``self - other``."""
    return _subtract(*binary("sub", self, other))


def __rsub__(self, other):
    """``other - self``."""
    return _subtract(*binary("sub", other, self))


def __mul__(self, other):
    """``self * other``."""
    return ew.Mul.apply(*binary("mul", self, other))


def __rmul__(self, other):
    """``other * self``."""
    return ew.Mul.apply(*binary("mul", other, self))


def __truediv__(self, other):
    """``self / other`` (true division)."""
    return div(self, other)


def __rtruediv__(self, other):
    """``other / self`` (true division)."""
    return div(other, self)


def __floordiv__(self, other):
    """``self // other``."""
    return floor_divide(self, other)


def __rfloordiv__(self, other):
    """``other // self``."""
    return floor_divide(other, self)


def __mod__(self, other):
    """``self % other``."""
    return remainder(self, other)


def __pow__(self, exponent):
    """``self ** exponent``."""
    return pow(self, exponent)


def __rpow__(self, base):
    """``base ** self``."""
    return pow(operand("pow", base, self), self)


def __matmul__(self, other):
    """``self @ other``."""
    return matmul(self, other)


def __rmatmul__(self, other):
    """``other @ self``."""
    return matmul(other, self)


# ------------------------------------------------------------------ elementwise
def exp(input) -> Tensor:
    """``e ** input``."""
    return ew.Exp.apply(floating(input))


def log(input) -> Tensor:
    """The natural logarithm (NaN below 0, -inf at 0)."""
    return ew.Log.apply(floating(input))


def log1p(input) -> Tensor:
    """``log(1 + input)``, accurate for small inputs."""
    return ew.Log1p.apply(floating(input))


def expm1(input) -> Tensor:
    """``exp(input) - 1``, accurate for small inputs."""
    return ew.Expm1.apply(floating(input))


def sqrt(input) -> Tensor:
    """The square root (NaN below 0)."""
    return ew.Sqrt.apply(floating(input))


def rsqrt(input) -> Tensor:
    """``1 / sqrt(input)``."""
    return ew.Rsqrt.apply(floating(input))


def reciprocal(input) -> Tensor:
    """``1 / input``."""
    return div(1.0, floating(input))


def square(input) -> Tensor:
    """``input * input``."""
    return mul(input, input)


def abs(input) -> Tensor:
    """The absolute value (gradient 0 at 0, as PyTorch's)."""
    return ew.Abs.apply(input)


def sin(input) -> Tensor:
    """The sine."""
    return ew.Sin.apply(floating(input))


def cos(input) -> Tensor:
    """The cosine."""
    return ew.Cos.apply(floating(input))


def tanh(input) -> Tensor:
    """The hyperbolic tangent."""
    return ew.Tanh.apply(floating(input))


def sigmoid(input) -> Tensor:
    """``1 / (1 + exp(-input))``, without overflow."""
    return ew.Sigmoid.apply(floating(input))


def relu(input) -> Tensor:
    """``max(input, 0)`` (gradient 0 at 0)."""
    return ew.Relu.apply(input)


def erf(input) -> Tensor:
    """The error function ``2/sqrt(pi) * integral of exp(-t**2) from 0 to input``
    (``scipy.special.erf``)."""
    return ew.Erf.apply(floating(check_tensor("erf", "input", input)), False)


def erfc(input) -> Tensor:
    """``1 - erf(input)``, accurate where it is tiny (``scipy.special.erfc``)."""
    return ew.Erf.apply(floating(check_tensor("erfc", "input", input)), True)


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)`` (broadcasting; as ``torch.lerp``): ``input`` and
    ``end`` floating tensors of one dtype, ``weight`` a number or a tensor of that dtype."""
    check_tensor("lerp", "input", input)
    check_tensor("lerp", "end", end)
    check_float("lerp", "input", input._data.dtype)
    if isinstance(weight, Tensor) and weight.ndim == 0:   # a 0-d weight acts as a number
        weight = weight.to(input._data.dtype)
    for name, value in (("end", end), ("weight", weight)):
        if isinstance(value, Tensor) and value._data.dtype != input._data.dtype:
            raise DtypeError(f"lerp: {name} must have input's dtype {input.dtype}, got "
                             f"{value.dtype}")
    if not isinstance(weight, Tensor):
        weight = _scalar_operand("lerp", check_number("lerp", "weight", weight), input)
    check_broadcastable("lerp", input._data.shape, end._data.shape, weight._data.shape)
    return ew.Lerp.apply(input, end, weight)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf``
    (by default the dtype's largest and smallest finite values), as ``torch.nan_to_num``;
    the gradient is 0 at the replaced elements.  Integer and bool tensors come back
    copied."""
    check_tensor("nan_to_num", "input", input)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None:
            check_number("nan_to_num", name, value)
    data = input._data
    if data.dtype.kind != "f":
        return Tensor._make(data.copy())
    finfo = np.finfo(data.dtype)
    result = input
    for mask, value in ((np.isnan(data), nan),
                        (np.isposinf(data), finfo.max if posinf is None else posinf),
                        (np.isneginf(data), finfo.min if neginf is None else neginf)):
        if mask.any():
            with quiet():   # a replacement beyond the dtype's range becomes inf, as PyTorch's
                constant = Tensor._make(np.asarray(value).astype(data.dtype))
            result = ew.Where.apply(mask, constant, result)
    return result if result is not input else shape_ops.Clone.apply(input)


def outer(input, vec2) -> Tensor:
    """The outer product of two 1-D tensors: ``(n,)`` and ``(m,)`` -> ``(n, m)``, dtypes
    promoted (as ``torch.outer``)."""
    check_tensor("outer", "input", input)
    check_tensor("outer", "vec2", vec2)
    for name, value in (("input", input), ("vec2", vec2)):
        if value.ndim != 1:
            raise ShapeError(f"outer: {name} must be 1-D, got shape {tuple(value.shape)}")
    return mul(input.reshape(-1, 1), vec2.reshape(1, -1))


def _piecewise(op, function, input) -> Tensor:
    if input._data.dtype.kind in "biu":
        return input if op != "sign" else Tensor._make(np.sign(input._data))
    return ew.Piecewise.apply(input, function)


def sign(input) -> Tensor:
    """-1, 0 or 1 by the sign of each element (gradient 0)."""
    return _piecewise("sign", np.sign, input)


def floor(input) -> Tensor:
    """Round down (gradient 0)."""
    return _piecewise("floor", np.floor, input)


def ceil(input) -> Tensor:
    """Round up (gradient 0)."""
    return _piecewise("ceil", np.ceil, input)


def round(input, *, decimals=0) -> Tensor:
    """Round half to even, to ``decimals`` places (gradient 0)."""
    return _piecewise("round", lambda a: np.round(a, decimals), input)


def trunc(input) -> Tensor:
    """Round towards zero (gradient 0)."""
    return _piecewise("trunc", np.trunc, input)


def maximum(input, other) -> Tensor:
    """The elementwise maximum (ties split the gradient evenly, as ``torch.maximum``)."""
    a, b = binary("maximum", input, other)
    return ew.Extreme2.apply(a, b, True)


def minimum(input, other) -> Tensor:
    """The elementwise minimum (ties split the gradient evenly)."""
    a, b = binary("minimum", input, other)
    return ew.Extreme2.apply(a, b, False)


def _bound(op, name, value, like):
    if value is None or isinstance(value, Tensor):
        return value
    dtype = like._data.dtype
    if type(value) is float:  # the common case first
        return check_fits(op, name, value, dtype if dtype.kind == "f" else DEFAULT_FLOAT)
    if not is_scalar(value) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a number or a tensor, got "
                        f"{type(value).__name__}")
    if dtype.kind != "f" and isinstance(value, np.floating):
        dtype = DEFAULT_FLOAT  # an integer tensor clamped by a float computes in float
    return check_fits(op, name, value, dtype)


def clamp_bounds(op: str, input, min, max) -> tuple:
    """``clamp``'s (or ``clamp_``'s: ``op``) bounds, checked: None, a tensor, or a number
    the computation's dtype holds (PyTorch's "cannot be converted without overflow")."""
    check_tensor(op, "input", input)
    if min is None and max is None:
        raise RuntimeError(f"{op}: at least one of 'min' or 'max' must not be None")
    return _bound(op, "min", min, input), _bound(op, "max", max, input)


def clamp(input, min=None, max=None) -> Tensor:
    """Limit every element to ``[min, max]``; either bound may be None, a number or a tensor
    (broadcasting).  The gradient passes where ``min <= input <= max``; a tensor bound gets
    it where it was the result (as ``torch.clamp``)."""
    return clamped(input, *clamp_bounds("clamp", input, min, max))


def clamped(input: Tensor, lo, hi) -> Tensor:
    """:func:`clamp`'s work, on bounds already through :func:`clamp_bounds`."""
    if not isinstance(lo, Tensor) and not isinstance(hi, Tensor):
        if isinstance(lo, (float, np.floating)) or isinstance(hi, (float, np.floating)):
            input = floating(input)
        return ew.Clip.apply(input, lo, hi)
    if lo is not None:
        input, lo = binary("clamp", input, lo)
    if hi is not None:
        input, hi = binary("clamp", input, hi)
        if lo is not None and lo._data.dtype != hi._data.dtype:
            input, lo = binary("clamp", input, lo)
    return ew.ClampTensor.apply(input, lo, hi)


clip = clamp


def where(condition, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting; gradients go to
    the chosen operand).  With ``condition`` alone: ``condition.nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(_as_tensor(condition), as_tuple=True)
    # a numpy bool array is accepted too (library code and the op registry pass one)
    mask = condition if isinstance(condition, np.ndarray) else \
        check_tensor("where", "condition", condition)._data
    if mask.dtype != np.bool_:
        raise DtypeError(f"where: condition must be a bool tensor, got {mask.dtype}")
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor) and not is_scalar(value):
            raise TypeError(f"where: {name} must be a Tensor or a number, got "
                            f"{type(value).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)
    a, b = binary("where", input, other)
    shape = check_broadcastable("where", mask.shape, a._data.shape, b._data.shape)
    if mask.shape != shape:
        mask = np.broadcast_to(mask, shape)
    return ew.Where.apply(mask, a, b)


def where_method(self, condition, other) -> Tensor:
    """``self.where(condition, other)``: ``self`` where ``condition``, else ``other``."""
    return where(condition, self, other)


def masked_fill(input, mask, value) -> Tensor:
    """``input`` with ``value`` where the bool ``mask`` is true (broadcasting)."""
    value = masked_fill_arguments("masked_fill", input, mask, value)
    return where(mask, value, input)


def masked_fill_arguments(op: str, input, mask, value) -> Tensor:
    """``value`` as a Tensor of ``input``'s dtype, after checking the three arguments of
    ``masked_fill`` or ``masked_fill_`` (``op``)."""
    check_tensor(op, "input", input)
    check_tensor(op, "mask", mask)
    if mask._data.dtype != np.bool_:
        raise DtypeError(f"{op}: mask must be a bool tensor, got {mask.dtype}")
    check_broadcastable(op, mask._data.shape, input._data.shape)
    if not isinstance(value, Tensor):
        check_fits(op, "value", check_number(op, "value", value), input._data.dtype)
        value = _scalar_operand(op, value, input)
    if value._data.dtype != input._data.dtype:
        value = value.to(input.dtype)
    return value


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dimension."""
    indices = np.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in indices)
    return Tensor._make(np.stack(indices, axis=1).astype(np.int64) if indices
                        else np.zeros((1 if input._data else 0, 0), dtype=np.int64))


# ------------------------------------------------------------------ comparisons
def _compare(op, numpy_function, input, other) -> Tensor:
    a, b = binary(op, input, other)
    return Tensor._make(np.asarray(numpy_function(a._data, b._data)))


def eq(input, other) -> Tensor:
    """``input == other`` elementwise (a bool tensor)."""
    return _compare("eq", np.equal, input, other)


def ne(input, other) -> Tensor:
    """``input != other`` elementwise."""
    return _compare("ne", np.not_equal, input, other)


def lt(input, other) -> Tensor:
    """``input < other`` elementwise."""
    return _compare("lt", np.less, input, other)


def le(input, other) -> Tensor:
    """``input <= other`` elementwise."""
    return _compare("le", np.less_equal, input, other)


def gt(input, other) -> Tensor:
    """``input > other`` elementwise."""
    return _compare("gt", np.greater, input, other)


def ge(input, other) -> Tensor:
    """``input >= other`` elementwise."""
    return _compare("ge", np.greater_equal, input, other)


def _comparison_operator(function):
    def operator(self, other):
        if other is None:
            return NotImplemented
        try:
            return function(self, other)
        except TypeError:
            return NotImplemented

    operator.__name__ = f"__{function.__name__}__"
    operator.__doc__ = f"``self {function.__name__} other``: see :func:`{function.__name__}`."
    return operator


def isnan(input) -> Tensor:
    """True where the element is NaN."""
    return Tensor._make(np.isnan(input._data))


def isinf(input) -> Tensor:
    """True where the element is +inf or -inf."""
    return Tensor._make(np.isinf(input._data))


def isfinite(input) -> Tensor:
    """True where the element is neither NaN nor infinite."""
    return Tensor._make(np.isfinite(input._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere (a Python bool)."""
    a, b = binary("allclose", input, other)
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise :func:`allclose` (a bool tensor)."""
    a, b = binary("isclose", input, other)
    return Tensor._make(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements (a Python bool)."""
    other = _as_tensor(other)
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data,
                                                                           other._data))


def logical_not(input) -> Tensor:
    """Elementwise NOT (a bool tensor)."""
    return Tensor._make(np.logical_not(input._data))


def logical_and(input, other) -> Tensor:
    """Elementwise AND (a bool tensor)."""
    return _compare("logical_and", np.logical_and, input, other)


def logical_or(input, other) -> Tensor:
    """Elementwise OR (a bool tensor)."""
    return _compare("logical_or", np.logical_or, input, other)


def logical_xor(input, other) -> Tensor:
    """Elementwise XOR (a bool tensor)."""
    return _compare("logical_xor", np.logical_xor, input, other)


def _bitwise(op, numpy_function, input, other) -> Tensor:
    a, b = binary(op, input, other)
    if a._data.dtype.kind == "f" or b._data.dtype.kind == "f":
        raise TypeError(f"{op}: only integer and bool tensors take bitwise operators, got "
                        f"{a.dtype} and {b.dtype}")
    return Tensor._make(np.asarray(numpy_function(a._data, b._data)))


def __and__(self, other):
    """``self & other`` (bool and integer tensors)."""
    return _bitwise("and", np.bitwise_and, self, other)


def __or__(self, other):
    """``self | other`` (bool and integer tensors)."""
    return _bitwise("or", np.bitwise_or, self, other)


def __xor__(self, other):
    """``self ^ other`` (bool and integer tensors)."""
    return _bitwise("xor", np.bitwise_xor, self, other)


def __invert__(self):
    """``~self``: logical NOT of a bool tensor, bitwise NOT of an integer tensor."""
    if self._data.dtype.kind == "f":
        raise TypeError("invert: ~ is only defined for bool and integer tensors, got "
                        f"{self.dtype}")
    return Tensor._make(np.invert(self._data))


METHODS = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "floor_divide": floor_divide, "remainder": remainder,
    "pow": pow, "matmul": matmul, "mm": mm, "bmm": bmm, "neg": neg, "negative": neg,
    "__add__": __add__, "__radd__": __radd__, "__sub__": __sub__, "__rsub__": __rsub__,
    "__mul__": __mul__, "__rmul__": __rmul__, "__truediv__": __truediv__,
    "__rtruediv__": __rtruediv__, "__floordiv__": __floordiv__,
    "__rfloordiv__": __rfloordiv__, "__mod__": __mod__, "__pow__": __pow__,
    "__rpow__": __rpow__, "__matmul__": __matmul__, "__rmatmul__": __rmatmul__,
    "__neg__": neg, "__abs__": abs, "__and__": __and__, "__or__": __or__, "__xor__": __xor__,
    "__invert__": __invert__,
    "__eq__": _comparison_operator(eq), "__ne__": _comparison_operator(ne),
    "__lt__": _comparison_operator(lt), "__le__": _comparison_operator(le),
    "__gt__": _comparison_operator(gt), "__ge__": _comparison_operator(ge),
    "exp": exp, "log": log, "log1p": log1p, "expm1": expm1, "sqrt": sqrt, "rsqrt": rsqrt,
    "reciprocal": reciprocal, "square": square, "abs": abs, "sin": sin, "cos": cos,
    "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "sign": sign, "floor": floor,
    "erf": erf, "erfc": erfc, "lerp": lerp, "nan_to_num": nan_to_num, "outer": outer,
    "ger": outer,
    "ceil": ceil, "round": round, "trunc": trunc, "maximum": maximum, "minimum": minimum,
    "clamp": clamp, "clip": clip, "where": where_method,
    "masked_fill": masked_fill, "nonzero": nonzero,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt,
    "greater_equal": ge, "less": lt, "less_equal": le, "not_equal": ne,
    "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "allclose": allclose,
    "isclose": isclose, "equal": equal, "logical_not": logical_not,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
}

subtract = sub
multiply = mul
divide = true_divide = div
negative = neg
ger = outer
