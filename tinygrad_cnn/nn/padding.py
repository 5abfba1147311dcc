"""Padding layers (as ``torch.nn``): ``ZeroPad1d/2d``, ``ConstantPad1d/2d``,
``ReflectionPad1d/2d``, ``ReplicationPad1d/2d``, ``CircularPad1d/2d``, each calling
:func:`tinygrad_cnn.nn.functional.pad`.

``padding``: an int (the same width on every side) or PyTorch's flat tuple, last dimension
first (``(left, right)``, ``(left, right, top, bottom)``).  As PyTorch's layers, the tuple is
kept as given and checked by ``F.pad`` at the first forward, so a mistake is reported in
``pad``'s words.
"""

from collections.abc import Iterable

from .._checks import ShapeError
from . import functional as F
from .module import Module


class _PadNd(Module):
    """A padding layer: ``F.pad(input, self.padding, mode, value)``."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        # PyTorch's _pair / _quadruple: an iterable as a tuple, anything else repeated
        self.padding = tuple(padding) if isinstance(padding, Iterable) else \
            (padding,) * (2 * self._dims)

    def forward(self, input):
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value`` (``torch.nn.ConstantPad1d``): ``(*, L)`` ->
    ``(*, left + L + right)``."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value`` (``torch.nn.ConstantPad2d``): ``(*, H, W)``
    -> ``(*, top + H + bottom, left + W + right)``."""

    _dims = 2


class _ZeroPad:
    """``ConstantPadNd`` with ``value`` 0, printed as PyTorch's ``ZeroPadNd``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dimension with zeros (``torch.nn.ZeroPad1d``)."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dimensions with zeros (``torch.nn.ZeroPad2d``)."""


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Mirror the last dimension without repeating its edge (``torch.nn.ReflectionPad1d``):
    ``(C, L)`` or ``(N, C, L)``; each width smaller than ``L``."""


class ReflectionPad2d(_ReflectionPadNd):
    """Mirror the last two dimensions (``torch.nn.ReflectionPad2d``): ``(C, H, W)`` or
    ``(N, C, H, W)``."""

    _dims = 2


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Repeat the edge of the last dimension (``torch.nn.ReplicationPad1d``): ``(C, L)`` or
    ``(N, C, L)``."""


class ReplicationPad2d(_ReplicationPadNd):
    """Repeat the edges of the last two dimensions (``torch.nn.ReplicationPad2d``):
    ``(C, H, W)`` or ``(N, C, H, W)``."""

    _dims = 2


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        ndim = getattr(input, "ndim", None)
        if ndim is not None and ndim not in (self._dims + 1, self._dims + 2):
            # PyTorch's _CircularPadNd._check_input_dim (a ValueError)
            raise ShapeError(f"{type(self).__name__}: expected {self._dims + 1}D or "
                             f"{self._dims + 2}D input (got {ndim}D input of shape "
                             f"{input.shape})")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Wrap the last dimension around (``torch.nn.CircularPad1d``): ``(C, L)`` or
    ``(N, C, L)``; each width at most ``L``."""


class CircularPad2d(_CircularPadNd):
    """Wrap the last two dimensions around (``torch.nn.CircularPad2d``): ``(C, H, W)`` or
    ``(N, C, H, W)``."""

    _dims = 2
