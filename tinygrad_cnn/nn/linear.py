"""``Linear``, a fully connected layer, and ``Identity`` (as ``torch.nn``)."""

import numpy as np

from .._checks import check_int
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """``y = x @ weight.T + bias``: x ``(..., in_features)`` -> ``(..., out_features)``.

    weight ``(out_features, in_features)`` and bias ``(out_features,)`` start as PyTorch's:
    uniform in ``+-1/sqrt(in_features)``.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features, minimum=0)
        self.out_features = check_int("Linear", "out_features", out_features, minimum=0)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

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
