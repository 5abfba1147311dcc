"""Gradient clipping in place, as ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.

Both work on the parameters' ``.grad`` arrays in place, record no graph and skip parameters
without a gradient.  ``foreach`` is accepted for PyTorch code's sake (it only chooses how
PyTorch computes the same result).
"""

import math
import types
import warnings

import numpy as np

from ...tensor import Tensor


def _grad_array(grad) -> np.ndarray:
    """The numpy array of a gradient, whether ``.grad`` holds a Tensor or an array."""
    return grad._data if isinstance(grad, Tensor) else grad


def _gradients(parameters) -> list:
    """The gradient arrays of ``parameters`` (one Tensor or an iterable), skipping ``None``."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [_grad_array(p.grad) for p in parameters if p.grad is not None]


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """``torch.linalg.vector_norm(array, norm_type)`` as a 0-d array of ``array``'s dtype."""
    size = np.abs(array)
    if norm_type == math.inf:
        norm = size.max()
    elif norm_type == -math.inf:
        norm = size.min()
    elif norm_type == 0:
        norm = np.count_nonzero(array)
    elif norm_type == 1:
        norm = size.sum()
    elif norm_type == 2:
        norm = np.sqrt((size * size).sum())
    else:
        norm = (size**norm_type).sum() ** (1.0 / norm_type)
    return np.asarray(norm, dtype=array.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm is at most
    ``max_norm``; return that norm (before clipping) as a 0-d Tensor.

    The joint norm is the norm of the per-gradient norms (``inf``: the largest absolute
    value); every gradient is multiplied by ``min(1, max_norm / (norm + 1e-6))``, as PyTorch.
    A NaN or infinite norm is a ``RuntimeError`` when ``error_if_nonfinite``; otherwise the
    gradients are scaled by it anyway (as PyTorch).  No gradients: the norm is 0.
    """
    if not isinstance(parameters, Tensor):
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=2)
    grads = _gradients(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    norms = np.stack([_vector_norm(grad, norm_type) for grad in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable this error and "
            "scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in PyTorch
        for grad in grads:
            grad *= coefficient.astype(grad.dtype)
    return Tensor._make(total)


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for grad in _gradients(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)
