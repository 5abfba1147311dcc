"""Losses (as ``torch.nn.functional``): ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``; a
reduced loss has shape ``()``.  Composed of Tensor ops, so every derivative order works.
"""

import numbers
import warnings

import numpy as np

from ..._checks import ShapeError, check_float, check_tensor
from ...tensor import Tensor
from .activation import log_softmax

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_targets(target, log_probs: Tensor, op: str) -> np.ndarray:
    """Validated integer class indices (N,) for scores (N, C)."""
    target = target._data if isinstance(target, Tensor) else np.asarray(target)
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
    check_tensor("nll_loss", "input", log_probs)
    check_float("nll_loss", "input", log_probs.dtype)
    _check_reduction(reduction, "nll_loss")
    target = _class_targets(target, log_probs, "nll_loss")
    picked = log_probs[np.arange(len(target)), target]
    return _reduce(-picked, reduction)


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from unnormalised scores; stable for large logits.

    logits: (N, C); target: (N,) integer class indices.  With ``label_smoothing`` e the
    target distribution is (1 - e) one-hot + e / C uniform, as PyTorch.
    """
    check_tensor("cross_entropy", "input", logits)
    check_float("cross_entropy", "input", logits.dtype)
    _check_reduction(reduction, "cross_entropy")
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
    return _reduce(loss, reduction)


def mse_loss(a: Tensor, b: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error between two tensors of the same shape (any shape); shape () for
    "mean"/"sum", the inputs' shape for "none" (``torch.nn.functional.mse_loss``)."""
    check_tensor("mse_loss", "input", a)
    check_tensor("mse_loss", "target", b)
    _check_reduction(reduction, "mse_loss")
    if a.shape != b.shape:
        # PyTorch broadcasts with a warning (usually a bug in the caller's shapes); so do we
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"mse_loss: input shape {a.shape} and target shape {b.shape} "
                             "differ and cannot be broadcast together") from None
        warnings.warn(f"mse_loss: target shape {b.shape} differs from input shape {a.shape}; "
                      "they are broadcast, which is likely not what you meant",
                      UserWarning, stacklevel=2)
    difference = a - b
    return _reduce(difference * difference, reduction)
