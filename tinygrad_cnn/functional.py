"""``tinygrad_cnn.functional`` (imported as ``F``): the stateless ops of model code.

Each function mirrors the PyTorch function of the same name in ``torch.nn.functional``,
validates its arguments (errors name the function, the argument and the shapes), and
documents the shapes it takes and returns.  Activations and losses here are compositions of
Tensor primitives, so every derivative order comes for free; the CNN primitives
(convolution, pooling, unfold/fold, pad, interpolate) are ``Function``s in ``ops``.
"""

import numbers

import numpy as np

from . import random
from .ops import elementwise as ew
from .ops._errors import check_float, normalize_axis
from .tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, op: str, argument: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {argument} must be a Tensor, got {type(x).__name__}")
    return x


# ------------------------------------------------------------------ activations
def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise; any shape (``torch.nn.functional.relu``)."""
    return _tensor(x, "relu").relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``; any shape."""
    _tensor(x, "leaky_relu")
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    return ew.LeakyRelu.apply(x, float(negative_slope))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), stable for large |x|; any shape."""
    return _tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    return _tensor(x, "tanh").tanh()


def _shifted(x: Tensor, axis: int) -> Tensor:
    """x minus its (constant) maximum along ``axis``: softmax is unchanged, exp cannot overflow.

    The shift is treated as a constant; that is exact, because softmax and log_softmax do not
    depend on it, so no gradient is lost.
    """
    return x - Tensor._make(np.max(x.data, axis=axis, keepdims=True))


def softmax(x: Tensor, axis: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; finite for any finite input."""
    _tensor(x, "softmax")
    axis = normalize_axis(axis, x.ndim, "softmax", x.shape)
    exps = _shifted(x, axis).exp()
    return exps / exps.sum(axis, keepdims=True)


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """x - logsumexp(x) along ``axis``; finite for any finite input."""
    _tensor(x, "log_softmax")
    axis = normalize_axis(axis, x.ndim, "log_softmax", x.shape)
    shifted = _shifted(x, axis)
    return shifted - shifted.exp().sum(axis, keepdims=True).log()


# ------------------------------------------------------------------ layers
def linear(x: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """``x @ weight.T + bias``.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    _tensor(x, "linear")
    _tensor(weight, "linear", "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but "
            f"weight expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    output = x @ weight.T
    if bias is not None:
        _tensor(bias, "linear", "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}"
            )
        output = output + bias
    return output


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1/(1-p), so eval mode needs no rescaling.  The mask comes from the seeded generator."""
    _tensor(x, "dropout")
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    check_float("dropout", "input", x.dtype)
    if p == 1.0:
        return x * 0.0
    keep = random.generator().random(x.shape) >= p
    return x * Tensor._make((keep / (1.0 - p)).astype(x.dtype))


# ------------------------------------------------------------------ losses
def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_targets(target, log_probs: Tensor, op: str) -> np.ndarray:
    """Validated integer class indices (N,) for scores (N, C)."""
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if log_probs.ndim != 2:
        raise ValueError(f"{op}: input must be (N, C) scores, got shape {log_probs.shape}")
    if target.shape != (log_probs.shape[0],):
        raise ValueError(
            f"{op}: target shape {target.shape} does not match input shape {log_probs.shape}; "
            f"expected ({log_probs.shape[0]},)"
        )
    classes = log_probs.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = target[(target < 0) | (target >= classes)][0]
        raise ValueError(f"{op}: target holds class index {bad}, outside [0, {classes})")
    return target


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes.

    log_probs: (N, C) log-probabilities; target: (N,) integer class indices.
    Returns shape () for "mean"/"sum", (N,) for "none".
    """
    _tensor(log_probs, "nll_loss")
    target = _class_targets(target, log_probs, "nll_loss")
    picked = log_probs[np.arange(len(target)), target]
    return _reduce(-picked, reduction, "nll_loss")


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from unnormalised scores; stable for large logits.

    logits: (N, C); target: (N,) integer class indices.  With ``label_smoothing`` e the
    target distribution is (1 - e) one-hot + e / C uniform, as PyTorch.
    """
    _tensor(logits, "cross_entropy")
    if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}"
        )
    target = _class_targets(target, logits, "cross_entropy")
    log_probs = log_softmax(logits, axis=1)
    loss = -log_probs[np.arange(len(target)), target]
    if label_smoothing:
        uniform = -log_probs.mean(axis=1)
        loss = loss * (1.0 - label_smoothing) + uniform * label_smoothing
    return _reduce(loss, reduction, "cross_entropy")


def mse_loss(a: Tensor, b: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error between two tensors of the same shape."""
    _tensor(a, "mse_loss")
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.shape != b.shape:
        raise ValueError(f"mse_loss: input shape {a.shape} and target shape {b.shape} differ")
    difference = a - b
    return _reduce(difference * difference, reduction, "mse_loss")
