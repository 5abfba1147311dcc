"""Nearest-neighbour upsampling by integer factors: the lecture's ``upsample``.

Every input element becomes a ``s1 x s2 x ...`` block of copies.  The backward sums each block
of the gradient (a sum pool with the block as window and stride), written with ``reshape`` and
``sum`` so every derivative order works.  The entry point that checks the scale factors is
:func:`tinygrad_cnn.nn.functional.interpolate`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


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
