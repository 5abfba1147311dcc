"""The dropout family: ``dropout``, ``dropout1d`` and ``dropout2d`` (as
``torch.nn.functional``), masks drawn from the seeded generator of :mod:`tinygrad_cnn.random`.
"""

import warnings

import numpy as np

from ... import random
from ..._checks import ShapeError, check_bool, check_float, check_number, check_tensor
from ...tensor import Tensor
from .activation import _maybe_inplace


def _check_p(op: str, p) -> float:
    check_number(op, "p", p)
    if not 0.0 <= p <= 1.0:
        raise ShapeError(f"{op}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def _masked(x: Tensor, p: float, mask_shape) -> Tensor:
    """``x`` times a keep-mask of ``mask_shape`` (broadcast) scaled by ``1/(1-p)``."""
    if p == 1.0:
        return x * 0.0
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    keep = random.generator().random(mask_shape) >= p
    return x * Tensor._make(np.multiply(keep, scale, dtype=x.dtype))


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1/(1-p)``, so eval mode needs no rescaling.  Any shape -> the same shape
    (``torch.nn.functional.dropout``)."""
    op = "dropout"
    check_tensor(op, "input", input)
    p = _check_p(op, p)
    training = check_bool(op, "training", training)
    if not training or p == 0.0:
        check_bool(op, "inplace", inplace)
        return input
    check_float(op, "input", input.dtype)
    return _maybe_inplace(op, input, inplace, lambda x: _masked(x, p, x.shape))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout: zero whole channels with probability ``p``, scale the rest by
    ``1/(1-p)`` (``torch.nn.functional.dropout2d``).

    input ``(N, C, H, W)`` -> the same shape.  As PyTorch 2.x, a 3-D input is taken as
    ``(N, C, L)`` and any other rank as ``(N, C, ...)``, each with a warning.
    """
    op = "dropout2d"
    check_tensor(op, "input", input)
    p = _check_p(op, p)
    training = check_bool(op, "training", training)
    if input.ndim == 3:
        warnings.warn(f"{op}: received a 3D input and assuming that channel-wise 1D dropout "
                      "behaviour is desired: input is interpreted as shape (N, C, L), where "
                      "C is the channel dim (as PyTorch 2.x).", UserWarning, stacklevel=2)
    elif input.ndim != 4:
        warnings.warn(f"{op}: received a {input.ndim}-D input; dropout2d expects (N, C, H, W) "
                      "and drops whole channels of dim 1 (as PyTorch).", UserWarning,
                      stacklevel=2)
    if not training or p == 0.0:
        check_bool(op, "inplace", inplace)
        return input
    check_float(op, "input", input.dtype)
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have a channel dimension (N, C, ...) to drop "
                         f"channels in training, got shape {input.shape}")
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _maybe_inplace(op, input, inplace, lambda x: _masked(x, p, mask_shape))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of sequences: zero whole channels with probability ``p``, scale the
    rest by ``1/(1-p)`` (``torch.nn.functional.dropout1d``).

    input ``(N, C, L)`` or unbatched ``(C, L)`` -> the same shape; the mask is ``(N, C, 1)``
    (``(C, 1)``).
    """
    op = "dropout1d"
    check_tensor(op, "input", input)
    p = _check_p(op, p)
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected 2D or 3D input (C, L) or (N, C, L), got a "
                         f"{input.ndim}D input of shape {input.shape}")
    training = check_bool(op, "training", training)
    if not training or p == 0.0:
        check_bool(op, "inplace", inplace)
        return input
    check_float(op, "input", input.dtype)
    mask_shape = input.shape[:-1] + (1,)
    return _maybe_inplace(op, input, inplace, lambda x: _masked(x, p, mask_shape))
