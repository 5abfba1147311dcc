"""Nearest-neighbour upsampling by integer factors: the lecture's ``upsample``.

Every input element becomes a ``s1 x s2 x ...`` block of copies.  The backward sums each block
of the gradient (a sum pool with the block as window and stride), written with ``reshape`` and
``sum`` so every derivative order works.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._errors import check_tensor, is_real

MODES = ("nearest",)


def _interleaved(shape, scale) -> tuple:
    """``(N, C, D1, s1, D2, s2, ...)``: each spatial axis followed by its block axis."""
    out = list(shape[:2])
    for n, s in zip(shape[2:], scale):
        out += [n, s]
    return tuple(out)


class UpsampleNearest(Function):
    """``(N, C, D1, D2, ...) -> (N, C, D1*s1, D2*s2, ...)``, each element repeated in a block."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.shape, ctx.scale = x.shape, scale
        spatial = x.ndim - 2
        # a broadcast view with a size-s axis after each spatial axis, copied once by reshape
        expanded = x.reshape(_interleaved(x.shape, (1,) * spatial))
        expanded = np.broadcast_to(expanded, _interleaved(x.shape, scale))
        return expanded.reshape(x.shape[:2] + tuple(n * s for n, s in zip(x.shape[2:], scale)))

    @staticmethod
    def backward(ctx, grad):
        blocks = grad.reshape(*_interleaved(ctx.shape, ctx.scale))
        block_axes = tuple(3 + 2 * k for k in range(len(ctx.scale)))
        return blocks.sum(axis=block_axes), None


def _scale_factors(scale_factor, spatial: int) -> tuple:
    values = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * spatial
    if len(values) != spatial:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} must give one factor per "
                         f"spatial dimension ({spatial})")
    factors = []
    for v in values:
        if not is_real(v):
            raise TypeError(f"interpolate: scale_factor must be a positive int or a tuple of "
                            f"them, got {scale_factor!r}")
        if not float(v).is_integer() or v < 1:
            raise ValueError(f"interpolate: only positive integer scale factors are supported "
                             f"(mode='nearest' repeats each element), got {scale_factor!r}")
        factors.append(int(v))
    return tuple(factors)


def interpolate(x: Tensor, scale_factor, mode: str = "nearest") -> Tensor:
    """See :func:`tinygrad_cnn.functional.interpolate`."""
    check_tensor("interpolate", "input", x)
    if mode not in MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not supported; the supported mode is "
                         f"'nearest'")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: input must be 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W), got shape {x.shape}")
    return UpsampleNearest.apply(x, _scale_factors(scale_factor, x.ndim - 2))
