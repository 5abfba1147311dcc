"""Nearest-neighbour upsampling by integer factors: the lecture's ``upsample``.

Every input element becomes a ``s1 x s2 x ...`` block of copies.  The backward, ``BlockSum``,
sums each block of the gradient (a sum pool with the block as window and stride) with one
strided slice per block offset; its own backward is ``UpsampleNearest`` again, so every
derivative order works.  The entry point that checks the scale factors is
:func:`tinygrad_cnn.nn.functional.interpolate`.
"""

from __future__ import annotations

import itertools

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
        return BlockSum.apply(grad, ctx.scale), None


class BlockSum(Function):
    """``(N, C, D1*s1, ...) -> (N, C, D1, ...)``: the sum of each ``s1 x s2 x ...`` block, the
    adjoint of :class:`UpsampleNearest`; one strided slice per block offset (numpy's ``sum``
    over the short interleaved block axes is several times slower)."""

    @staticmethod
    def forward(ctx, g, scale):
        ctx.scale = scale
        out = None
        for offset in itertools.product(*(range(s) for s in scale)):
            part = g[(Ellipsis,) + tuple(slice(o, None, s) for o, s in zip(offset, scale))]
            if out is None:
                out = part.copy()
            else:
                out += part
        return out

    @staticmethod
    def backward(ctx, grad):
        return UpsampleNearest.apply(grad, ctx.scale), None
