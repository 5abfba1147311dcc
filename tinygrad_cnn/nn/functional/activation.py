"""Activations (as ``torch.nn.functional``): relu, relu6, leaky_relu, elu, gelu, silu, mish,
hardswish, hardtanh, hardsigmoid, sigmoid, tanh, softplus, softmax, log_softmax.

Elementwise ones take any shape and return the same shape; (log_)softmax work along one
dimension.  Most are composed of Tensor ops (every derivative order for free); the gates models run
in their inner loop (``gelu``, ``silu``, ``hardswish``, ``softplus``) apply the fused
primitives of :mod:`tinygrad_cnn.ops.activation`, as do ``softmax`` and ``log_softmax``.
``inplace=True`` writes the result into the input, as PyTorch's, through
:func:`_maybe_inplace`.
"""

import warnings

import numpy as np

from ..._checks import (
    DtypeError,
    ShapeError,
    check_bool,
    check_float,
    check_number,
    check_tensor,
    normalize_axis,
)
from ...ops import activation as act
from ...ops import elementwise as ew
from ...tensor import Tensor
from ...tensor_inplace import inplace as record_inplace


def _float_input(op: str, x) -> Tensor:
    """``x``, checked to be a floating Tensor (PyTorch: "not implemented" for integers)."""
    check_tensor(op, "input", x)
    check_float(op, "input", x.dtype)
    return x


def _real_input(op: str, x) -> Tensor:
    """``x``, checked to be a Tensor of numbers (integers work, as PyTorch's; bool does not)."""
    if check_tensor(op, "input", x).dtype == np.bool_:
        raise DtypeError(f"{op}: not defined for bool tensors (as PyTorch)")
    return x


def _maybe_inplace(op: str, x: Tensor, inplace, compute) -> Tensor:
    """``compute(x)``; with ``inplace=True`` written into ``x``'s memory and ``x`` returned,
    as PyTorch's in-place activations: through the Tensor's in-place machinery
    (``tensor_inplace.inplace``), so the change is recorded as PyTorch records it
    (``compute`` runs on a snapshot, the version counter moves, the graph is rebased, and a
    leaf that requires grad raises ``RuntimeError``).
    """
    inplace = check_bool(op, "inplace", inplace)
    if not inplace:
        return compute(x)
    return record_inplace(op, x, compute)


def _scalar(op: str, name: str, value, dtype) -> float:
    """A number argument, refused (as PyTorch) when it overflows the input's dtype."""
    check_number(op, name, value)
    if dtype.kind == "f" and np.isfinite(value) and abs(value) > np.finfo(dtype).max:
        raise ShapeError(f"{op}: {name}={value} cannot be converted to the input's dtype "
                         f"{dtype} without overflow")
    return float(value)


def _where(condition: np.ndarray, a: Tensor, b) -> Tensor:
    """``a`` where the constant ``condition`` holds, else ``b`` (a Tensor or a number)."""
    if not isinstance(b, Tensor):
        b = Tensor._make(np.asarray(b, dtype=a.dtype))
    return ew.Where.apply(condition, a, b)


# ------------------------------------------------------------------ rectifiers
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise; any shape (``torch.nn.functional.relu``)."""
    _real_input("relu", input)
    return _maybe_inplace("relu", input, inplace, lambda x: x.relu())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)`` elementwise (``torch.nn.functional.relu6``)."""
    return _clamped("relu6", input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]`` (``torch.nn.functional.hardtanh``)."""
    return _clamped("hardtanh", input, min_val, max_val, inplace)


def _clamped(op: str, input, min_val, max_val, inplace) -> Tensor:
    x = _real_input(op, input)
    _scalar(op, "min_val", min_val, x.dtype)
    _scalar(op, "max_val", max_val, x.dtype)
    if min_val > max_val:
        raise ValueError(f"{op}: min_val must be <= max_val, got min_val={min_val}, "
                         f"max_val={max_val}")
    if x.dtype.kind != "f":
        return _maybe_inplace(op, x, inplace, lambda t: t.clip(min_val, max_val))
    # no gradient at the bounds themselves (PyTorch's hardtanh_backward)
    return _maybe_inplace(op, x, inplace, lambda t: act.HardClip.apply(t, min_val, max_val))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x``; any shape."""
    x = _float_input("leaky_relu", input)
    check_number("leaky_relu", "negative_slope", negative_slope)
    return _maybe_inplace("leaky_relu", x, inplace,
                          lambda t: ew.LeakyRelu.apply(t, float(negative_slope)))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (``torch.nn.functional.elu``)."""
    x = _float_input("elu", input)
    _scalar("elu", "alpha", alpha, x.dtype)

    def compute(t):
        # exp of min(x, 0): the unused branch never overflows, so no inf * 0 in backward; a
        # NaN takes the negative branch, whose gradient is NaN (PyTorch's vectorized loop)
        positive = t._data > 0
        negative = (_where(~positive, t, 0.0).exp() - 1.0) * alpha
        return _where(positive, t, negative)
    return _maybe_inplace("elu", x, inplace, compute)


# ------------------------------------------------------------------ smooth gates
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, Phi the standard normal CDF (``torch.nn.functional.gelu``);
    ``approximate="tanh"``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``."""
    x = _float_input("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return act.Gelu.apply(x, approximate)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, stable for large ``|x|``; any shape."""
    return check_tensor("sigmoid", "input", input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent elementwise; any shape (``torch.nn.functional.tanh``)."""
    return check_tensor("tanh", "input", input).tanh()


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (``torch.nn.functional.silu``, the swish)."""
    x = _float_input("silu", input)
    return _maybe_inplace("silu", x, inplace, act.Silu.apply)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``; never overflows
    (``torch.nn.functional.softplus``)."""
    x = _float_input("softplus", input)
    _scalar("softplus", "beta", beta, x.dtype)
    _scalar("softplus", "threshold", threshold, x.dtype)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero, got 0")
    return act.Softplus.apply(x, float(beta), float(threshold))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (``torch.nn.functional.mish``)."""
    x = _float_input("mish", input)
    return _maybe_inplace("mish", x, inplace,
                          lambda t: t * act.Softplus.apply(t, 1.0, float("inf")).tanh())


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clamp(x / 6 + 1/2, 0, 1)`` (``torch.nn.functional.hardsigmoid``)."""
    x = _float_input("hardsigmoid", input)
    return _maybe_inplace("hardsigmoid", x, inplace,
                          lambda t: act.HardClip.apply(t * (1.0 / 6.0) + 0.5, 0.0, 1.0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (``torch.nn.functional.hardswish``)."""
    x = _float_input("hardswish", input)
    return _maybe_inplace("hardswish", x, inplace, act.Hardswish.apply)


# ------------------------------------------------------------------ softmax
def _implicit_dim(op: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's deprecated choice when ``dim`` is not given: 0 for 0-, 1- and 3-D, else 1."""
    warnings.warn(f"{op}: implicit dimension choice for {op} has been deprecated. Change the "
                  "call to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(op: str, x, dim, axis, dtype, stacklevel):
    check_tensor(op, "input", x)
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim and its alias axis")
        dim = axis
    if dim is None:
        dim = _implicit_dim(op, x.ndim, stacklevel + 1)
    dim = normalize_axis(dim, x.ndim, op, x.shape)
    if dtype is not None:
        x = x.astype(np.dtype(dtype))
    check_float(op, "input", x.dtype)  # PyTorch: not implemented for integers
    return (x.reshape(1) if x.ndim == 0 else x), dim


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *,
            axis=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (``torch.nn.functional.softmax``; ``axis`` is
    an alias).  Any shape -> the same shape; finite for any finite input.  ``dtype`` casts the
    input first.  Without ``dim``: PyTorch's implicit choice, with its warning."""
    values, dim = _softmax_input("softmax", input, dim, axis, dtype, _stacklevel)
    if values.shape[dim] == 0:
        return values.reshape(input.shape)
    return act.Softmax.apply(values, dim).reshape(input.shape)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *,
                axis=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim`` (``torch.nn.functional.log_softmax``; ``axis`` is
    an alias).  Any shape -> the same shape; finite for any finite input."""
    values, dim = _softmax_input("log_softmax", input, dim, axis, dtype, _stacklevel)
    if values.shape[dim] == 0:
        return values.reshape(input.shape)
    return act.LogSoftmax.apply(values, dim).reshape(input.shape)
