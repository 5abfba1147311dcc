"""``tinygrad_cnn.nn.functional`` (imported as ``F``): the stateless ops of model code.

The one place an argument is checked and a ``Function`` applied.  Each function mirrors the
PyTorch function of the same name in ``torch.nn.functional``, validates its arguments before
any numpy call (errors name the function, the argument and the shapes, in the wording of
:mod:`tinygrad_cnn._checks`), documents the shapes it takes and returns, and then either
applies a primitive of :mod:`tinygrad_cnn.ops` or composes Tensor ops (so every derivative
order comes for free).  ``tinygrad_cnn.functional`` is the same namespace.

One module per family, as PyTorch's documentation groups them; a new function goes in its
family's module and is listed here and in ``__all__``:

=================  ==============================================================
``activation``     relu, relu6, leaky_relu, prelu, threshold, elu, selu, celu, gelu, silu,
                   mish, hardswish, hardtanh, hardsigmoid, sigmoid, logsigmoid, tanh,
                   softsign, tanhshrink, softshrink, hardshrink, rrelu, softplus, glu,
                   softmax, softmin, log_softmax, gumbel_softmax;
                   in place: relu_, elu_, leaky_relu_, hardtanh_, selu_, celu_, threshold_
``conv``           conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold
``pool``           max_pool1d, max_pool2d, max_pool1d_with_indices,
                   max_pool2d_with_indices, max_unpool1d, max_unpool2d, avg_pool1d,
                   avg_pool2d, lp_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d,
                   adaptive_max_pool1d, adaptive_max_pool2d
``norm``           batch_norm, instance_norm, layer_norm, group_norm, local_response_norm,
                   normalize
``distance``       cosine_similarity, pairwise_distance, pdist
``dense``          linear, bilinear
``dropouts``       dropout, dropout1d, dropout2d, alpha_dropout, feature_alpha_dropout
``encoding``       one_hot, embedding
``loss``           cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss, huber_loss,
                   binary_cross_entropy, binary_cross_entropy_with_logits, kl_div,
                   margin_ranking_loss, hinge_embedding_loss, soft_margin_loss,
                   multilabel_soft_margin_loss, cosine_embedding_loss, multi_margin_loss,
                   triplet_margin_loss, poisson_nll_loss, gaussian_nll_loss
``padding``        pad
``interpolation``  interpolate, upsample, upsample_nearest, upsample_bilinear
``sampling``       affine_grid, grid_sample
``shuffle``        pixel_shuffle, pixel_unshuffle, channel_shuffle
``_windows``       argument checks of the windowed ops -> ``WindowGeometry``
=================  ==============================================================
"""

from .activation import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    selu,
    selu_,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
    threshold_,
)
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .dense import bilinear, linear
from .distance import cosine_similarity, pairwise_distance, pdist
from .dropouts import alpha_dropout, dropout, dropout1d, dropout2d, feature_alpha_dropout
from .encoding import embedding, one_hot
from .interpolation import interpolate, upsample, upsample_bilinear, upsample_nearest
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .norm import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    normalize,
)
from .padding import pad
from .pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
    max_unpool1d,
    max_unpool2d,
)
from .sampling import affine_grid, grid_sample
from .shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle

__all__ = [
    # activation
    "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "mish", "hardswish", "hardtanh",
    "hardsigmoid", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "prelu",
    "threshold", "selu", "celu", "logsigmoid", "softsign", "tanhshrink", "glu", "softmin",
    "relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "threshold_",
    "softshrink", "hardshrink", "rrelu", "gumbel_softmax",
    # conv
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
    # pool
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_unpool1d", "max_unpool2d", "avg_pool1d", "avg_pool2d", "lp_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    # norm
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "local_response_norm",
    "normalize",
    # distance
    "cosine_similarity", "pairwise_distance", "pdist",
    # dense, dropouts, encoding
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "alpha_dropout",
    "feature_alpha_dropout", "one_hot", "embedding",
    # loss
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "cosine_embedding_loss", "multi_margin_loss",
    "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    # padding, interpolation, shuffle
    "pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    # sampling
    "affine_grid", "grid_sample",
]
