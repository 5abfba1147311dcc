"""``Unfold`` and ``Fold`` (as ``torch.nn``): the layers of
:func:`tinygrad_cnn.nn.functional.unfold` (im2col) and its adjoint
:func:`~tinygrad_cnn.nn.functional.fold`.  Arguments are kept as given and checked by the
function at the first forward, as PyTorch's."""

from . import functional as F
from .module import Module


class Unfold(Module):
    """The im2col matrix of each image (``torch.nn.Unfold``): ``(N, C, H, W)`` ->
    ``(N, C*kH*kW, L)``, ``L`` the number of windows."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum columns back onto their windows (``torch.nn.Fold``): ``(N, C*kH*kW, L)`` ->
    ``(N, C, *output_size)``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
