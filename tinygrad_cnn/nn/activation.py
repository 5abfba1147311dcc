"""Activation layers: ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh`` (as ``torch.nn``).

Shape-preserving: x ``(*)`` -> ``(*)``.  ``inplace=True`` is accepted for PyTorch code's sake
and computes out of place (tensors here are never modified by ops), with the same result.
"""

from .._checks import check_real
from . import functional as F
from .module import Module


class ReLU(Module):
    """``max(x, 0)`` (``torch.nn.ReLU``)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x if x >= 0 else negative_slope * x`` (``torch.nn.LeakyReLU``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, computed stably (``torch.nn.Sigmoid``)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """``tanh(x)`` (``torch.nn.Tanh``)."""

    def forward(self, x):
        return F.tanh(x)
