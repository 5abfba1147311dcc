"""``Linear``, a fully connected layer, ``Bilinear`` and ``Identity`` (as ``torch.nn``)."""

import math

import numpy as np

from .._checks import check_int
from ..devices import check_device
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _make_parameters(module: Module, weight_shape: tuple, bias: bool, dtype) -> None:
    """``module.weight`` of ``weight_shape`` and ``module.bias`` ``(weight_shape[0],)`` (or
    None) in ``dtype`` (float32 by default), then filled by ``module.reset_parameters()``."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(np.empty(weight_shape[:1], dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


class Linear(Module):
    """``y = x @ weight.T + bias``: x ``(..., in_features)`` -> ``(..., out_features)``.

    weight ``(out_features, in_features)`` and bias ``(out_features,)`` start as PyTorch's:
    uniform in ``+-1/sqrt(in_features)``.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features, minimum=0)
        self.out_features = check_int("Linear", "out_features", out_features, minimum=0)
        _make_parameters(self, (self.out_features, self.in_features), bias, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (``torch.nn.Identity``); any constructor arguments are
    accepted and ignored, as PyTorch's (handy to switch a layer off)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Bilinear(Module):
    """``y = x1^T A x2 + b`` per output feature (``torch.nn.Bilinear``):
    x1 ``(*, in1_features)``, x2 ``(*, in2_features)`` -> ``(*, out_features)``.

    weight ``(out_features, in1_features, in2_features)`` and bias ``(out_features,)`` start
    as PyTorch's: uniform in ``+-1/sqrt(in1_features)``, weight first.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        check_device("Bilinear", device)
        self.in1_features = check_int("Bilinear", "in1_features", in1_features, minimum=0)
        self.in2_features = check_int("Bilinear", "in2_features", in2_features, minimum=0)
        self.out_features = check_int("Bilinear", "out_features", out_features, minimum=0)
        _make_parameters(self, (self.out_features, self.in1_features, self.in2_features), bias,
                         dtype)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
