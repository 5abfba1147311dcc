"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax (as
``torch.nn.functional``); any shape in, the same shape out.
"""

import numpy as np

from ..._checks import DtypeError, check_float, check_number, check_tensor, normalize_axis
from ...ops import elementwise as ew
from ...tensor import Tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise; any shape (``torch.nn.functional.relu``)."""
    if check_tensor("relu", "input", x).dtype == np.bool_:
        raise DtypeError("relu: not defined for bool tensors (as PyTorch)")
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``; any shape."""
    check_tensor("leaky_relu", "input", x)
    check_number("leaky_relu", "negative_slope", negative_slope)
    check_float("leaky_relu", "input", x.dtype)  # PyTorch: not implemented for integers
    return ew.LeakyRelu.apply(x, float(negative_slope))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), stable for large |x|; any shape."""
    return check_tensor("sigmoid", "input", x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent elementwise; any shape (``torch.nn.functional.tanh``)."""
    return check_tensor("tanh", "input", x).tanh()


def _shifted(x: Tensor, axis: int) -> Tensor:
    """x minus its (constant) maximum along ``axis``: softmax is unchanged, exp cannot overflow.

    The shift is treated as a constant; that is exact, because softmax and log_softmax do not
    depend on it, so no gradient is lost.
    """
    return x - Tensor._make(np.max(x._data, axis=axis, keepdims=True))


def _softmax_input(x: Tensor, axis: int, op: str):
    """Validated input of (log_)softmax as a float tensor with at least one dimension."""
    check_tensor(op, "input", x)
    axis = normalize_axis(axis, x.ndim, op, x.shape)
    if x.dtype.kind != "f":
        x = x.float()
    return (x.reshape(1) if x.ndim == 0 else x), axis


def softmax(x: Tensor, axis: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; x: any shape -> the same shape, finite for any
    finite input (``torch.softmax``)."""
    values, axis = _softmax_input(x, axis, "softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    exps = _shifted(values, axis).exp()
    return (exps / exps.sum(axis, keepdims=True)).reshape(x.shape)


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """x - logsumexp(x) along ``axis``; x: any shape -> the same shape, finite for any finite
    input (``torch.log_softmax``)."""
    values, axis = _softmax_input(x, axis, "log_softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    shifted = _shifted(values, axis)
    return (shifted - shifted.exp().sum(axis, keepdims=True).log()).reshape(x.shape)
