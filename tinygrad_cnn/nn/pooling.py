"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``LPPool2d`` (as ``torch.nn``).

x ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.  Arguments are kept as given (an int stays an
int), as PyTorch's layers keep them, and checked at construction by the functional op's own
validator, so a mistake shows where the layer is made (PyTorch reports some only at the first
forward).
"""

import sys

from .._checks import check_bool
from . import functional as F
from .functional._windows import lp_norm_type, pool_geometry
from .module import Module

# The input size is unknown at construction, so the functional op's validator is run on an
# input larger than any window: then exactly the rules that hold for every input size fire
# (ints >= 1, padding at most half the kernel, ceil_mode a bool), with the op's messages.
_ANY_SIZE = (1, sys.maxsize, sys.maxsize)


def _check_window(layer: str, kernel_size, stride, padding=0, dilation=1,
                  ceil_mode=False) -> None:
    pool_geometry(layer, _ANY_SIZE, kernel_size, stride, padding, dilation, ceil_mode)


class MaxPool2d(Module):
    """Maximum over each window (``torch.nn.MaxPool2d``); ``stride`` defaults to the kernel."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        _check_window("MaxPool2d", kernel_size, stride, padding, dilation, ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each window (``torch.nn.AvgPool2d``); ``stride`` defaults to the kernel.

    With ``count_include_pad=True`` zero padding counts in the divisor, as PyTorch.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _check_window("AvgPool2d", kernel_size, stride, padding, 1, ceil_mode)
        check_bool("AvgPool2d", "count_include_pad", count_include_pad)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(Module):
    """``(sum over window of x**p) ** (1/p)`` with ``p = norm_type`` (``torch.nn.LPPool2d``).

    ``norm_type=2`` is the lecture's root of the sum of squares.  With ``ceil_mode`` a partial
    window sums what it covers (PyTorch rescales it; see ``F.lp_pool2d``).
    """

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        lp_norm_type("lp_pool2d", norm_type)
        _check_window("LPPool2d", kernel_size, stride, 0, 1, ceil_mode)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")
