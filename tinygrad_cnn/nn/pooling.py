"""Pooling layers (as ``torch.nn``): ``MaxPool1d/2d``, ``MaxUnpool1d/2d``, ``AvgPool1d/2d``,
``LPPool2d``, ``AdaptiveAvgPool1d/2d``, ``AdaptiveMaxPool1d/2d``.

x ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)`` (1-D: ``(N, C, L)`` -> ``(N, C, L_out)``).
Arguments are kept as given (an int stays an int), as PyTorch's layers keep them, and checked
at construction by the functional op's own validator, so a mistake shows where the layer is
made (PyTorch reports some only at the first forward).
"""

import sys

from .._checks import MAX_INT_ARGUMENT, ArityError, ShapeError, check_bool, is_int
from . import functional as F
from .functional._windows import lp_norm_type, pair, pool_geometry, spatial_ints
from .module import Module


# The input size is unknown at construction, so the functional op's validator is run on an
# input larger than any window: then exactly the rules that hold for every input size fire
# (ints >= 1, padding at most half the kernel, ceil_mode a bool), with the op's messages.
def _check_window(layer: str, kernel_size, stride, padding=0, dilation=1,
                  ceil_mode=False, rank: int = 2) -> None:
    pool_geometry(layer, (1,) + (sys.maxsize,) * rank, kernel_size, stride, padding, dilation,
                  ceil_mode, rank)


def _single(value) -> tuple:
    """PyTorch's ``_single``: a sequence as a tuple, anything else as a 1-tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class _MaxPoolNd(Module):
    _rank = 2
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        layer = type(self).__name__
        _check_window(layer, kernel_size, stride, padding, dilation, ceil_mode, self._rank)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = check_bool(layer, "return_indices", return_indices)
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return type(self)._function(x, self.kernel_size, self.stride, self.padding,
                                    self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Maximum over each window (``torch.nn.MaxPool2d``); ``stride`` defaults to the kernel.

    With ``return_indices=True`` ``forward`` returns ``(output, indices)`` (flat int64 indices
    into each input plane, the input of :class:`MaxUnpool2d`).
    """

    _function = staticmethod(F.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """Maximum over each window of a sequence (``torch.nn.MaxPool1d``): x ``(N, C, L)`` ->
    ``(N, C, L_out)``; ``stride`` defaults to the kernel; with ``return_indices=True``
    ``forward`` returns ``(output, indices)``."""

    _rank = 1
    _function = staticmethod(F.max_pool1d)


class _AvgPoolNd(Module):
    _rank = 2
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        layer = type(self).__name__
        _check_window(layer, kernel_size, stride, padding, 1, ceil_mode, self._rank)
        check_bool(layer, "count_include_pad", count_include_pad)
        # PyTorch's AvgPool1d keeps its sizes as 1-tuples, AvgPool2d as given
        kept = _single if self._rank == 1 else (lambda value: value)
        self.kernel_size = kept(kernel_size)
        self.stride = kept(kernel_size if stride is None else stride)
        self.padding = kept(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return type(self)._function(x, self.kernel_size, self.stride, self.padding,
                                    self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over each window (``torch.nn.AvgPool2d``); ``stride`` defaults to the kernel.

    With ``count_include_pad=True`` zero padding counts in the divisor, as PyTorch.
    """

    _function = staticmethod(F.avg_pool2d)


class AvgPool1d(_AvgPoolNd):
    """Mean over each window of a sequence (``torch.nn.AvgPool1d``): x ``(N, C, L)`` ->
    ``(N, C, L_out)``; ``kernel_size``, ``stride`` and ``padding`` kept as 1-tuples, as
    PyTorch's."""

    _rank = 1
    _function = staticmethod(F.avg_pool1d)


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


class MaxUnpool1d(Module):
    """Partial inverse of :class:`MaxPool1d` (``torch.nn.MaxUnpool1d``):
    ``forward(x, indices, output_size=None)`` writes each value at its index in zeros of
    ``(N, C, (l-1)*stride - 2*padding + kernel_size)`` (or ``output_size``).  The arguments
    are kept as 1-tuples, as PyTorch's."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = spatial_ints(kernel_size, "kernel_size", "MaxUnpool1d", 1)
        self.stride = self.kernel_size if stride is None else spatial_ints(
            stride, "stride", "MaxUnpool1d", 1)
        self.padding = spatial_ints(padding, "padding", "MaxUnpool1d", 1,
                                    minimum=-MAX_INT_ARGUMENT)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """Partial inverse of :class:`MaxPool2d` (``torch.nn.MaxUnpool2d``):
    ``forward(x, indices, output_size=None)`` writes each value at its index in zeros of
    ``(N, C, (h-1)*stride - 2*padding + kernel_size, ...)`` (or ``output_size``)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride",
                                                                   "MaxUnpool2d")
        self.padding = pair(padding, "padding", "MaxUnpool2d", minimum=-MAX_INT_ARGUMENT)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _check_output_size(layer: str, output_size, rank: int) -> None:
    """The checks of the functional op that hold for any input (PyTorch makes them at the
    first forward; the errors are its types)."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * rank
    if len(sizes) != rank:
        raise ArityError(f"{layer}: output_size must have {rank} element(s), got "
                         f"{output_size!r}")
    if not all((v is None and rank == 2) or is_int(v) for v in sizes):
        raise TypeError(f"{layer}: output_size must be an int or {rank} of them (None keeps "
                        f"the input's size), got {output_size!r}")
    if any(v is not None and not 0 <= v <= MAX_INT_ARGUMENT for v in sizes):
        raise ShapeError(f"{layer}: elements of output_size must be >= 0 and at most 2**62, "
                         f"got {output_size!r}")


class _AdaptivePool(Module):
    _rank = 2
    _function = None

    def __init__(self, output_size):
        super().__init__()
        _check_output_size(type(self).__name__, output_size, self._rank)
        self.output_size = output_size

    def forward(self, x):
        return type(self)._function(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = check_bool(type(self).__name__, "return_indices", return_indices)

    def forward(self, x):
        return type(self)._function(x, self.output_size, self.return_indices)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average over adaptive windows (``torch.nn.AdaptiveAvgPool2d``): x ``(N, C, H, W)`` ->
    ``(N, C, *output_size)``; ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    _function = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average over adaptive windows of a sequence (``torch.nn.AdaptiveAvgPool1d``)."""

    _rank = 1
    _function = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Maximum over adaptive windows (``torch.nn.AdaptiveMaxPool2d``); with
    ``return_indices=True`` ``forward`` returns ``(output, indices)``."""

    _function = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Maximum over adaptive windows of a sequence (``torch.nn.AdaptiveMaxPool1d``)."""

    _rank = 1
    _function = staticmethod(F.adaptive_max_pool1d)
