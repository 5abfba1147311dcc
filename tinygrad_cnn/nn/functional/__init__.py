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
``activation``     relu, leaky_relu, sigmoid, tanh, softmax, log_softmax
``conv``           conv1d, conv2d, conv_transpose2d, unfold, fold
``pool``           max_pool2d, max_unpool2d, avg_pool2d, lp_pool2d, adaptive_avg_pool1d,
                   adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d
``norm``           batch_norm
``dense``          linear
``dropouts``       dropout
``loss``           cross_entropy, nll_loss, mse_loss
``padding``        pad
``interpolation``  interpolate
``_windows``       argument checks of the windowed ops -> ``WindowGeometry``
=================  ==============================================================
"""

from .activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .conv import conv1d, conv2d, conv_transpose2d, fold, unfold
from .dense import linear
from .dropouts import dropout
from .interpolation import interpolate
from .loss import cross_entropy, mse_loss, nll_loss
from .norm import batch_norm
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

__all__ = [
    # activation
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
    # conv
    "conv1d", "conv2d", "conv_transpose2d", "unfold", "fold",
    # pool
    "max_pool2d", "max_unpool2d", "avg_pool2d", "lp_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    # norm
    "batch_norm",
    # dense, dropouts
    "linear", "dropout",
    # loss
    "cross_entropy", "nll_loss", "mse_loss",
    # padding, interpolation
    "pad", "interpolate",
]
