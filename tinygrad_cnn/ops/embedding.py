"""``EmbeddingLookup``: rows of a table gathered by integer indices, as ``embedding``'s
lookup, with PyTorch's per-row gradient rules (no gradient for ``padding_idx``, gradients
divided by the rows' frequencies under ``scale_grad_by_freq``)."""

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import MaskBy
from .shape import IndexAdd


class EmbeddingLookup(Function):
    """``weight[indices]``: weight ``(num_embeddings, D)``, indices ``(*)`` int64 ->
    ``(*, D)``.

    The backward adds each gradient row into the row it came from (repeats accumulate:
    ``IndexAdd``, whose backward is the gather again, so every order works), after masking
    the looked-up positions where the constant boolean ``counted`` ``(*)`` is False and
    multiplying by the constant ``row_scale`` ``(*)`` (or None).
    """

    @staticmethod
    def forward(ctx, weight, indices, counted, row_scale):
        ctx.table_shape = weight.shape
        ctx.indices, ctx.counted, ctx.row_scale = indices, counted, row_scale
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        if ctx.counted is not None:
            grad = MaskBy.apply(grad, np.broadcast_to(ctx.counted[..., None], grad.shape))
        if ctx.row_scale is not None:
            grad = grad * Tensor._make(ctx.row_scale[..., None].astype(grad.dtype))
        return IndexAdd.apply(grad, ctx.indices, ctx.table_shape), None, None, None
