"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax (as
``torch.nn.functional``); any shape in, the same shape out.
"""

import warnings

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


def _softmax_input(x: Tensor, dim, axis, dtype, op: str):
    """Validated input of (log_)softmax as a float tensor with at least one dimension, and
    the dimension: ``dim`` (PyTorch's name) or ``axis``; neither means PyTorch's legacy
    implicit choice (0 for 0-, 1- and 3-d input, else 1), with PyTorch's warning."""
    check_tensor(op, "input", x)
    if axis is None:
        axis = dim
    if axis is None:
        warnings.warn(f"{op}: implicit dimension choice has been deprecated; pass dim=",
                      UserWarning, stacklevel=3)
        axis = 0 if x.ndim in (0, 1, 3) else 1
    axis = normalize_axis(axis, x.ndim, op, x.shape)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        x = x.float()
    return (x.reshape(1) if x.ndim == 0 else x), axis


def softmax(x: Tensor, dim=None, _stacklevel=3, dtype=None, *, axis=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (also spelled ``axis``); x: any shape -> the same
    shape, finite for any finite input (``torch.nn.functional.softmax``)."""
    values, axis = _softmax_input(x, dim, axis, dtype, "softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    exps = _shifted(values, axis).exp()
    return (exps / exps.sum(axis, keepdims=True)).reshape(x.shape)


def log_softmax(x: Tensor, dim=None, _stacklevel=3, dtype=None, *, axis=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (also spelled ``axis``); x: any shape -> the same
    shape, finite for any finite input (``torch.nn.functional.log_softmax``)."""
    values, axis = _softmax_input(x, dim, axis, dtype, "log_softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    shifted = _shifted(values, axis)
    return (shifted - shifted.exp().sum(axis, keepdims=True).log()).reshape(x.shape)
