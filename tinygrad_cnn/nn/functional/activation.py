"""Activations (as ``torch.nn.functional``): relu, relu6, leaky_relu, prelu, threshold, elu,
selu, celu, gelu, silu, mish, hardswish, hardtanh, hardsigmoid, sigmoid, logsigmoid, tanh,
softsign, tanhshrink, softshrink, hardshrink, rrelu, softplus, glu, softmax, softmin,
log_softmax, gumbel_softmax; the in-place spellings relu_, elu_, leaky_relu_, hardtanh_,
selu_, celu_, threshold_.

Elementwise ones take any shape and return the same shape; (log_)softmax work along one
dimension.  Most are composed of Tensor ops (every derivative order for free); the gates models run
in their inner loop (``gelu``, ``silu``, ``hardswish``, ``softplus``) apply the fused
primitives of :mod:`tinygrad_cnn.ops.activation`, as do ``softmax`` and ``log_softmax``.
``inplace=True`` writes the result into the input, as PyTorch's, through
:func:`_maybe_inplace`.
"""

import warnings

import numpy as np

from ... import random
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
    if dtype.kind == "f" and np.isfinite(value) and abs(value) > float(np.finfo(dtype).max):
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


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x`` (``torch.nn.functional.prelu``).

    input: ``(N, C, *)``, ``(N,)`` or ``()``; weight: ``()`` or ``(1,)`` (one slope for all), or
    ``(C,)`` (one per channel, dim 1) -> the input's shape.  Gradients reach both.
    """
    op = "prelu"
    x = _float_input(op, input)
    check_tensor(op, "weight", weight)
    if weight.dtype != x.dtype:
        raise DtypeError(f"{op}: weight must have the input's dtype {x.dtype} (no type "
                         f"promotion, as PyTorch), got {weight.dtype}")
    if weight.ndim > 1:
        raise ShapeError(f"{op}: weight must be a scalar or 1-D, got shape {weight.shape}")
    slopes = weight._data.size
    if slopes != 1:
        if x.ndim == 0:
            raise ShapeError(f"{op}: a 0-d input takes one slope, got weight shape "
                             f"{weight.shape}")
        channels = x.shape[1] if x.ndim >= 2 else 1
        if slopes != channels:
            raise ShapeError(f"{op}: weight has {slopes} slopes but the input has {channels} "
                             f"channels (input shape {x.shape}, weight shape {weight.shape})")
    per_channel = weight.reshape((slopes,) + (1,) * (x.ndim - 2) if slopes != 1 else ())
    # the slopes multiply min(x, 0): an infinite positive x never meets the weight's
    # gradient as inf * 0 (PyTorch's kernel skips it too)
    positive = x._data > 0
    return _where(positive, x, _where(~positive, x, 0.0) * per_channel)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``; any shape
    (``torch.nn.functional.threshold``).  A NaN stays NaN (it is not ``<= threshold``)."""
    op = "threshold"
    x = _real_input(op, input)
    _scalar(op, "threshold", threshold, x.dtype)
    _scalar(op, "value", value, x.dtype)
    return _maybe_inplace(op, x, inplace,
                          lambda t: _where(~(t._data <= threshold), t, value))


def _exponential_linear(t: Tensor, alpha: float, scale: float = 1.0,
                        input_scale: float = 1.0) -> Tensor:
    """``scale * x`` where ``x > 0``, else ``scale * alpha * (exp(input_scale * x) - 1)``:
    elu, selu (``scale``) and celu (``input_scale = 1 / alpha``), as PyTorch's one elu kernel.
    """
    # exp of min(x, 0): the unused branch never overflows, so no inf * 0 in backward; a
    # NaN takes the negative branch, whose gradient is NaN (PyTorch's vectorized loop)
    positive = t._data > 0
    exponent = _where(~positive, t, 0.0)
    if input_scale != 1.0:
        exponent = exponent * input_scale
    negative = (exponent.exp() - 1.0) * (alpha * scale)
    return _where(positive, t * scale if scale != 1.0 else t, negative)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (``torch.nn.functional.elu``)."""
    x = _float_input("elu", input)
    _scalar("elu", "alpha", alpha, x.dtype)
    return _maybe_inplace("elu", x, inplace, lambda t: _exponential_linear(t, alpha))


# the constants of Klambauer et al. (2017), as PyTorch's selu
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants ``alpha = 1.6733``,
    ``scale = 1.0507`` (``torch.nn.functional.selu``); any shape."""
    x = _float_input("selu", input)
    return _maybe_inplace("selu", x, inplace,
                          lambda t: _exponential_linear(t, SELU_ALPHA, SELU_SCALE))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``
    (``torch.nn.functional.celu``); any shape."""
    x = _float_input("celu", input)
    _scalar("celu", "alpha", alpha, x.dtype)
    if alpha == 0:
        raise ShapeError("celu: alpha must be non-zero (it divides the input), got 0")
    return _maybe_inplace("celu", x, inplace,
                          lambda t: _exponential_linear(t, alpha, input_scale=1.0 / alpha))


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


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any finite ``x`` however large
    (``torch.nn.functional.logsigmoid``); any shape."""
    x = _float_input("logsigmoid", input)
    return -act.Softplus.apply(-x, 1.0, float("inf"))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)`` (``torch.nn.functional.softsign``); any shape; integers give floats."""
    x = _real_input("softsign", input)
    return x / (x.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)`` (``torch.nn.functional.tanhshrink``); any shape."""
    x = _real_input("tanhshrink", input)
    return x - x.tanh()


def _check_lambd(op: str, lambd, dtype) -> float:
    """A shrinkage threshold: a number the input's dtype holds (PyTorch's RuntimeError
    beyond it)."""
    return _scalar(op, "lambd", lambd, dtype)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0
    (``torch.nn.functional.softshrink``); any shape.  ``lambd`` in ``[0, dtype max]``; the
    gradient is 0 at ``|x| = lambd``, as PyTorch's; a NaN stays NaN."""
    op = "softshrink"
    x = _float_input(op, input)
    lambd = _check_lambd(op, lambd, x.dtype)
    if not 0 <= lambd < np.inf:
        raise ShapeError(f"{op}: lambd must be in [0, {np.finfo(x.dtype).max:.6g}] for input "
                         f"dtype {x.dtype}, got {lambd}")
    outside = ~(x.abs()._data <= lambd)
    shifted = _where(x._data > 0, x - lambd, x + lambd)
    return _where(outside, shifted, 0.0)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0 (``torch.nn.functional.hardshrink``); any shape;
    the gradient is 0 at ``|x| = lambd``, as PyTorch's; a NaN stays NaN."""
    op = "hardshrink"
    x = _float_input(op, input)
    lambd = _check_lambd(op, lambd, x.dtype)
    return _where(~(x.abs()._data <= lambd), x, 0.0)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU (``torch.nn.functional.rrelu``): ``x`` where ``x > 0``, else
    ``a x``.  In training each element draws its slope ``a ~ U(lower, upper)`` from the
    library's generator (:func:`tinygrad_cnn.manual_seed` makes it repeatable); in evaluation
    ``a = (lower + upper) / 2``.  Any shape; the gradient is the slope used."""
    op = "rrelu"
    x = _float_input(op, input)
    lower = _scalar(op, "lower", lower, x.dtype)
    upper = _scalar(op, "upper", upper, x.dtype)
    training = check_bool(op, "training", training)
    for name, value in (("lower", lower), ("upper", upper)):
        if not np.isfinite(value):
            raise ShapeError(f"{op}: {name} must be finite, got {value}")
    if lower > upper:
        raise ShapeError(f"{op}: lower must be <= upper, got lower={lower}, upper={upper}")

    def leaky(t: Tensor) -> Tensor:
        if training:
            slopes = random.generator().uniform(lower, upper, t.shape)
        else:
            slopes = (lower + upper) / 2
        factor = np.where(t._data > 0, 1.0, slopes).astype(t.dtype)
        return t * Tensor._make(factor)
    return _maybe_inplace(op, x, inplace, leaky)


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


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit ``a * sigmoid(b)``, ``a`` and ``b`` the two halves of ``input``
    along ``dim`` (``torch.nn.functional.glu``): ``(*, 2 M, *)`` -> ``(*, M, *)``."""
    op = "glu"
    x = _float_input(op, input)
    if x.ndim == 0:
        raise ShapeError(f"{op}: does not support scalars because halving size must be even, "
                         "got a 0-d input")
    dim = normalize_axis(dim, x.ndim, op, x.shape)
    size = x.shape[dim]
    if size % 2:
        raise ShapeError(f"{op}: halving dimension must be even, but dimension {dim} is size "
                         f"{size} (input shape {x.shape})")
    half = size // 2
    return x.narrow(dim, 0, half) * x.narrow(dim, half, half).sigmoid()


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


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim`` (``torch.nn.functional.softmin``).  Any shape -> the
    same shape; ``dtype`` casts the input first; without ``dim``, PyTorch's implicit choice
    with its warning."""
    values, dim = _softmax_input("softmin", input, dim, None, dtype, _stacklevel)
    if values.shape[dim] == 0:
        return values.reshape(input.shape)
    return act.Softmax.apply(-values, dim).reshape(input.shape)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *,
                axis=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim`` (``torch.nn.functional.log_softmax``; ``axis`` is
    an alias).  Any shape -> the same shape; finite for any finite input."""
    values, dim = _softmax_input("log_softmax", input, dim, axis, dtype, _stacklevel)
    if values.shape[dim] == 0:
        return values.reshape(input.shape)
    return act.LogSoftmax.apply(values, dim).reshape(input.shape)


# ------------------------------------------------------------------ in-place spellings
# PyTorch's ``F.relu_`` and kin: the op with ``inplace=True`` (the input overwritten and
# returned).
def relu_(input: Tensor) -> Tensor:
    """:func:`relu` in place (``torch.nn.functional.relu_``)."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`elu` in place (``torch.nn.functional.elu_``)."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """:func:`leaky_relu` in place (``torch.nn.functional.leaky_relu_``)."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """:func:`hardtanh` in place (``torch.nn.functional.hardtanh_``)."""
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """:func:`selu` in place (``torch.nn.functional.selu_``)."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`celu` in place (``torch.nn.functional.celu_``)."""
    return celu(input, alpha, inplace=True)


_threshold = threshold  # threshold_'s argument of PyTorch's name hides the function


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """:func:`threshold` in place (``torch.nn.functional.threshold_``)."""
    return _threshold(input, threshold, value, inplace=True)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution
    (``torch.nn.functional.gumbel_softmax``): ``softmax((logits + g) / tau)`` along ``dim``,
    ``g = -log(E)``, ``E ~ Exp(1)`` from the library's seeded generator.  ``hard=True``
    returns the one-hot of its argmax in value with the soft sample's gradient
    (straight-through: ``one_hot - soft.detach() + soft``, as PyTorch).  ``eps`` is unused
    (deprecated, as PyTorch's).  Any shape -> the same shape.
    """
    op = "gumbel_softmax"
    x = _float_input(op, logits)
    check_number(op, "tau", tau)
    hard = check_bool(op, "hard", hard)
    check_number(op, "eps", eps)
    if eps != 1e-10:
        warnings.warn(f"{op}: eps is deprecated and has no effect", UserWarning, stacklevel=2)
    dim = normalize_axis(dim, max(x.ndim, 1), op, x.shape)
    gumbels = -np.log(random.generator().exponential(size=x.shape)).astype(x.dtype)
    soft = softmax((x + Tensor._make(gumbels)) / tau, dim)
    if not hard:
        return soft
    if x.ndim == 0:
        return Tensor._make(np.ones((), x.dtype)) - soft.detach() + soft
    index = np.expand_dims(soft._data.argmax(axis=dim), dim)
    one_hot = np.zeros(x.shape, x.dtype)
    np.put_along_axis(one_hot, index, 1, axis=dim)
    return Tensor._make(one_hot) - soft.detach() + soft
