"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``LPPool2d`` (as ``torch.nn``).

x ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.  Arguments are kept as given (an int stays an
int), as PyTorch's layers keep them, and checked at construction with the functional op's
normaliser, so a mistake shows where the layer is made.
"""

import numbers

from .. import functional as F
from ..ops._args import pair
from .module import Module


def _check_bool(layer: str, name: str, value) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a bool, got {value!r}")


class MaxPool2d(Module):
    """Maximum over each window (``torch.nn.MaxPool2d``); ``stride`` defaults to the kernel."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        pair(kernel_size, "kernel_size", "MaxPool2d")
        if stride is not None:
            pair(stride, "stride", "MaxPool2d")
        pair(padding, "padding", "MaxPool2d", minimum=0)
        pair(dilation, "dilation", "MaxPool2d")
        _check_bool("MaxPool2d", "ceil_mode", ceil_mode)
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
        pair(kernel_size, "kernel_size", "AvgPool2d")
        if stride is not None:
            pair(stride, "stride", "AvgPool2d")
        pair(padding, "padding", "AvgPool2d", minimum=0)
        _check_bool("AvgPool2d", "ceil_mode", ceil_mode)
        _check_bool("AvgPool2d", "count_include_pad", count_include_pad)
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
        if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
            raise TypeError(f"LPPool2d: norm_type must be a real number, got {norm_type!r}")
        if not norm_type > 0:
            raise ValueError(f"LPPool2d: norm_type must be positive, got {norm_type}")
        pair(kernel_size, "kernel_size", "LPPool2d")
        if stride is not None:
            pair(stride, "stride", "LPPool2d")
        _check_bool("LPPool2d", "ceil_mode", ceil_mode)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")
