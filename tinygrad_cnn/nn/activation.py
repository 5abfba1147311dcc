"""Activation layers (as ``torch.nn``): ``ReLU``, ``ReLU6``, ``LeakyReLU``, ``PReLU``,
``Threshold``, ``ELU``, ``SELU``, ``CELU``, ``GELU``, ``SiLU``, ``Mish``, ``Hardswish``,
``Hardsigmoid``, ``Hardtanh``, ``Softplus``, ``Sigmoid``, ``LogSigmoid``, ``Tanh``,
``Softsign``, ``Tanhshrink``, ``Softshrink``, ``Hardshrink``, ``RReLU``, ``GLU``, ``Softmax``,
``LogSoftmax``, ``Softmin``, ``Softmax2d``.

Shape-preserving: x ``(*)`` -> ``(*)``.  Each calls its function in
:mod:`tinygrad_cnn.nn.functional`; ``inplace=True`` is passed on (the input is overwritten, as
PyTorch's).
"""

import numpy as np

from .._checks import ShapeError, check_bool, check_int, check_real, check_tensor, is_int
from ..devices import check_device
from . import functional as F
from .module import Module
from .parameter import Parameter


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


class SELU(_InplaceActivation):
    """``scale * elu(x, alpha)`` with the self-normalising constants (``torch.nn.SELU``)."""

    function = staticmethod(F.selu)


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


class CELU(Module):
    """``x if x > 0 else alpha * (exp(x / alpha) - 1)`` (``torch.nn.CELU``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = check_real("CELU", "alpha", alpha)
        self.inplace = check_bool("CELU", "inplace", inplace)

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    """``x if x > threshold else value`` (``torch.nn.Threshold``)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = check_real("Threshold", "threshold", threshold)
        self.value = check_real("Threshold", "value", value)
        self.inplace = check_bool("Threshold", "inplace", inplace)

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + \
            (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """``x if x > 0 else weight * x`` with a learnable slope (``torch.nn.PReLU``).

    weight ``(num_parameters,)``, every entry ``init`` at the start: one slope shared by all
    channels (``num_parameters=1``) or one per channel of ``(N, C, *)`` (``C``).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        check_device("PReLU", device)
        self.num_parameters = check_int("PReLU", "num_parameters", num_parameters, minimum=1)
        self.init = check_real("PReLU", "init", init)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if dtype.kind != "f":
            raise TypeError(f"PReLU: dtype must be a floating point dtype, got {dtype}")
        self.weight = Parameter(np.empty(self.num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope ``init``."""
        self.weight._data[...] = self.init

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """``a * sigmoid(b)``, ``a``, ``b`` the halves of the input along ``dim``
    (``torch.nn.GLU``)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        if not is_int(dim):
            raise TypeError(f"GLU: dim must be an int, got {dim!r}")
        self.dim = int(dim)

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


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


class _PlainActivation(Module):
    """An activation without options: ``function(input)``."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class Sigmoid(_PlainActivation):
    """``1 / (1 + exp(-x))``, computed stably (``torch.nn.Sigmoid``)."""

    function = staticmethod(F.sigmoid)


class Tanh(_PlainActivation):
    """``tanh(x)`` (``torch.nn.Tanh``)."""

    function = staticmethod(F.tanh)


class LogSigmoid(_PlainActivation):
    """``log(sigmoid(x))``, finite for large ``|x|`` (``torch.nn.LogSigmoid``)."""

    function = staticmethod(F.logsigmoid)


class Softsign(_PlainActivation):
    """``x / (1 + |x|)`` (``torch.nn.Softsign``)."""

    function = staticmethod(F.softsign)


class Tanhshrink(_PlainActivation):
    """``x - tanh(x)`` (``torch.nn.Tanhshrink``)."""

    function = staticmethod(F.tanhshrink)


class _Shrink(Module):
    """A shrinkage with threshold ``lambd`` (printed bare, as PyTorch's)."""

    function = None

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = check_real(type(self).__name__, "lambd", lambd)

    def forward(self, input):
        return type(self).function(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(_Shrink):
    """``x -+ lambd`` beyond ``+-lambd``, else 0 (``torch.nn.Softshrink``)."""

    function = staticmethod(F.softshrink)


class Hardshrink(_Shrink):
    """``x`` beyond ``+-lambd``, else 0 (``torch.nn.Hardshrink``)."""

    function = staticmethod(F.hardshrink)


class RReLU(Module):
    """Randomized leaky ReLU (``torch.nn.RReLU``): slopes drawn from ``U(lower, upper)`` per
    element in training (the library's seeded generator), their mean in evaluation."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower = check_real("RReLU", "lower", lower)
        self.upper = check_real("RReLU", "upper", upper)
        self.inplace = check_bool("RReLU", "inplace", inplace)

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + \
            (", inplace=True" if self.inplace else "")


class _AlongDim(Module):
    """A softmax-like layer along ``dim``: ``function(input, dim)`` (without ``dim``,
    PyTorch's implicit choice with its warning)."""

    function = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self).function(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """Softmax along ``dim`` (``torch.nn.Softmax``)."""

    function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """Log-softmax along ``dim`` (``torch.nn.LogSoftmax``)."""

    function = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    """Softmin, ``softmax(-x)``, along ``dim`` (``torch.nn.Softmin``)."""

    function = staticmethod(F.softmin)


class Softmax2d(Module):
    """Softmax over the channels at each position (``torch.nn.Softmax2d``): ``(N, C, H, W)``
    or ``(C, H, W)`` -> the same shape."""

    def forward(self, input):
        check_tensor("Softmax2d", "input", input)
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead (input shape {input.shape})")
        return F.softmax(input, -3, _stacklevel=5)
