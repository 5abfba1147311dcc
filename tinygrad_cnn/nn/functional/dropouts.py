"""The dropout family: ``dropout``, ``dropout1d``, ``dropout2d``, ``alpha_dropout`` and
``feature_alpha_dropout`` (as ``torch.nn.functional``), masks drawn from the seeded generator
of :mod:`tinygrad_cnn.random`.
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
    return _apply_dropout("dropout", input, p, training, inplace,
                          lambda x, p: _masked(x, p, x.shape))


def _apply_dropout(op: str, input, p, training, inplace, drop) -> Tensor:
    """The checks every elementwise dropout shares, then ``drop(x, p)`` in training (written
    into the input with ``inplace``); the input itself when not training or ``p == 0``."""
    check_tensor(op, "input", input)
    p = _check_p(op, p)
    training = check_bool(op, "training", training)
    if not training or p == 0.0:
        check_bool(op, "inplace", inplace)
        return input
    check_float(op, "input", input.dtype)
    return _maybe_inplace(op, input, inplace, lambda x: drop(x, p))


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


# SELU's negative saturation value -scale * alpha: dropped units are set to it, so a
# self-normalising network keeps zero mean and unit variance (Klambauer et al., 2017)
_SELU_SATURATION = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _alpha_masked(x: Tensor, p: float, mask_shape) -> Tensor:
    """``a (x keep + saturation (1 - keep)) + b`` with ``a``, ``b`` restoring zero mean and
    unit variance: kept units ``a x + a s p``, dropped ones ``a s (p - 1)`` (``s`` the SELU
    saturation); ``p = 1`` gives zeros, as PyTorch."""
    if p == 1.0:
        return x * 0.0
    scale = 1.0 / np.sqrt((_SELU_SATURATION ** 2 * p + 1.0) * (1.0 - p))
    keep = random.generator().random(mask_shape) >= p
    factor = np.multiply(keep, scale, dtype=x.dtype)
    shift = np.where(keep, scale * _SELU_SATURATION * p,
                     scale * _SELU_SATURATION * (p - 1.0)).astype(x.dtype)
    return x * Tensor._make(factor) + Tensor._make(shift)


def _alpha_drop_features(x: Tensor, p: float) -> Tensor:
    """:func:`_alpha_masked` with one draw per ``(n, c)`` of an ``(N, C, *)`` input."""
    if x.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: input must have at least 2 dimensions "
                         f"(N, C, ...) to drop features, got shape {x.shape}")
    return _alpha_masked(x, p, x.shape[:2] + (1,) * (x.ndim - 2))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks (``torch.nn.functional.alpha_dropout``): each element is
    set with probability ``p`` to SELU's saturation value, then all are scaled and shifted so
    that a zero-mean unit-variance input keeps those statistics.  Any shape -> the same
    shape; the identity unless ``training`` (note PyTorch's default ``training=False``)."""
    return _apply_dropout("alpha_dropout", input, p, training, inplace,
                          lambda x, p: _alpha_masked(x, p, x.shape))


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """:func:`alpha_dropout` of whole channels (``torch.nn.functional.feature_alpha_dropout``):
    one draw per ``(n, c)`` of an ``(N, C, *)`` input (at least 2 dims in training)."""
    return _apply_dropout("feature_alpha_dropout", input, p, training, inplace,
                          _alpha_drop_features)
