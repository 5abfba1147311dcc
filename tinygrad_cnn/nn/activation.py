"""Activation layers (as ``torch.nn``): ``ReLU``, ``ReLU6``, ``LeakyReLU``, ``ELU``, ``GELU``,
``SiLU``, ``Mish``, ``Hardswish``, ``Hardsigmoid``, ``Hardtanh``, ``Softplus``, ``Sigmoid``,
``Tanh``, ``Softmax``, ``LogSoftmax``.

Shape-preserving: x ``(*)`` -> ``(*)``.  Each calls its function in
:mod:`tinygrad_cnn.nn.functional`; ``inplace=True`` is passed on (the input is overwritten, as
PyTorch's).
"""

from .._checks import check_bool, check_real
from . import functional as F
from .module import Module


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class _InplaceActivation(Module):
    """An activation whose only option is ``inplace``."""

    function = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = check_bool(type(self).__name__, "inplace", inplace)

    def forward(self, input):
        return type(self).function(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU(_InplaceActivation):
    """``max(x, 0)`` (``torch.nn.ReLU``)."""

    function = staticmethod(F.relu)


class ReLU6(_InplaceActivation):
    """``min(max(x, 0), 6)`` (``torch.nn.ReLU6``)."""

    function = staticmethod(F.relu6)


class SiLU(_InplaceActivation):
    """``x * sigmoid(x)`` (``torch.nn.SiLU``)."""

    function = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))`` (``torch.nn.Mish``)."""

    function = staticmethod(F.mish)


class Hardswish(_InplaceActivation):
    """``x * relu6(x + 3) / 6`` (``torch.nn.Hardswish``)."""

    function = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""  # PyTorch's Hardswish does not print inplace


class Hardsigmoid(_InplaceActivation):
    """``relu6(x + 3) / 6`` (``torch.nn.Hardsigmoid``)."""

    function = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""  # PyTorch's Hardsigmoid does not print inplace


class LeakyReLU(Module):
    """``x if x >= 0 else negative_slope * x`` (``torch.nn.LeakyReLU``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = check_bool("LeakyReLU", "inplace", inplace)

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """``x if x > 0 else alpha * (exp(x) - 1)`` (``torch.nn.ELU``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = check_real("ELU", "alpha", alpha)
        self.inplace = check_bool("ELU", "inplace", inplace)

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """``x * Phi(x)`` (``torch.nn.GELU``); ``approximate="tanh"`` for the tanh form."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    """``x`` clamped to ``[min_val, max_val]`` (``torch.nn.Hardtanh``)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value=None, max_value=None):
        super().__init__()
        # min_value / max_value: PyTorch's deprecated spellings
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        self.min_val = check_real("Hardtanh", "min_val", min_val)
        self.max_val = check_real("Hardtanh", "max_val", max_val)
        if self.max_val <= self.min_val:
            raise ValueError(f"Hardtanh: max_val must be greater than min_val, got "
                             f"min_val={min_val}, max_val={max_val}")
        self.inplace = check_bool("Hardtanh", "inplace", inplace)

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + \
            (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear past ``threshold`` (``torch.nn.Softplus``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = check_real("Softplus", "beta", beta)
        self.threshold = check_real("Softplus", "threshold", threshold)

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, computed stably (``torch.nn.Sigmoid``)."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """``tanh(x)`` (``torch.nn.Tanh``)."""

    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    """Softmax along ``dim`` (``torch.nn.Softmax``; without ``dim``, PyTorch's implicit
    choice with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim`` (``torch.nn.LogSoftmax``)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
