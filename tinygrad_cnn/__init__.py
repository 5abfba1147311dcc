"""tinygrad_cnn: a small, fast, honest deep-learning framework on numpy and scipy.

The public surface only; see ``docs/api.md`` for every name.
"""

from . import autograd, backends, data, functional, gradcheck, nn, optim, testing, viz
from . import tensor_methods as _tensor_methods  # noqa: F401  (binds Tensor's operators)
from .autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .factories import (
    arange,
    cat,
    concatenate,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from .io import load, save
from .random import manual_seed
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "manual_seed", "autograd", "inference_mode",
    "is_inference_mode_enabled",
    "tensor", "zeros", "ones", "zeros_like", "ones_like", "rand", "randn", "arange",
    "concatenate", "cat", "stack", "save", "load", "functional", "data",
    "gradcheck", "testing", "nn", "optim", "backends", "viz",
]
