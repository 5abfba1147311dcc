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
                   softsign, tanhshrink, softplus, glu, softmax, log_softmax
``conv``           conv1d, conv2d, conv_transpose2d, unfold, fold
``pool``           max_pool2d, max_unpool2d, avg_pool2d, lp_pool2d, adaptive_avg_pool1d,
                   adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d
``norm``           batch_norm, instance_norm, layer_norm, group_norm, normalize
``distance``       cosine_similarity, pairwise_distance
``dense``          linear
``dropouts``       dropout, dropout2d
``encoding``       one_hot, embedding
``loss``           cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss, huber_loss,
                   binary_cross_entropy, binary_cross_entropy_with_logits, kl_div
``padding``        pad
``interpolation``  interpolate
``sampling``       affine_grid, grid_sample
``shuffle``        pixel_shuffle, pixel_unshuffle
``_windows``       argument checks of the windowed ops -> ``WindowGeometry``
=================  ==============================================================
"""

from .activation import (
    celu,
    elu,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
    tanhshrink,
    threshold,
)
from .conv import conv1d, conv2d, conv_transpose2d, fold, unfold
from .dense import linear
from .distance import cosine_similarity, pairwise_distance
from .dropouts import dropout, dropout2d
from .encoding import embedding, one_hot
from .interpolation import interpolate
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .norm import batch_norm, group_norm, instance_norm, layer_norm, normalize
from .padding import pad
from .pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool2d,
    lp_pool2d,
    max_pool2d,
    max_unpool2d,
)
from .sampling import affine_grid, grid_sample
from .shuffle import pixel_shuffle, pixel_unshuffle

__all__ = [
    # activation
    "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "mish", "hardswish", "hardtanh",
    "hardsigmoid", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "prelu",
    "threshold", "selu", "celu", "logsigmoid", "softsign", "tanhshrink", "glu",
    # conv
    "conv1d", "conv2d", "conv_transpose2d", "unfold", "fold",
    # pool
    "max_pool2d", "max_unpool2d", "avg_pool2d", "lp_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    # norm
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "normalize",
    # distance
    "cosine_similarity", "pairwise_distance",
    # dense, dropouts, encoding
    "linear", "dropout", "dropout2d", "one_hot", "embedding",
    # loss
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    # padding, interpolation, shuffle
    "pad", "interpolate", "pixel_shuffle", "pixel_unshuffle",
    # sampling
    "affine_grid", "grid_sample",
]
