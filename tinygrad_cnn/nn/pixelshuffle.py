"""``PixelShuffle``, ``PixelUnshuffle`` and ``ChannelShuffle`` (as ``torch.nn``): channels to
space and back, and ShuffleNet's channel interleave; each calls its function in
:mod:`tinygrad_cnn.nn.functional`."""

from . import functional as F
from .functional.shuffle import check_factor
from .module import Module


class PixelShuffle(Module):
    """``(*, C r**2, H, W)`` -> ``(*, C, H r, W r)``, ``r = upscale_factor``
    (``torch.nn.PixelShuffle``): the upsampling of the sub-pixel convolution."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = check_factor("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H r, W r)`` -> ``(*, C r**2, H, W)``, ``r = downscale_factor``
    (``torch.nn.PixelUnshuffle``), the inverse of :class:`PixelShuffle`."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = check_factor("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """``(N, g k, *)`` -> the same shape, channels interleaved across the ``g = groups``
    groups (``torch.nn.ChannelShuffle``, ShuffleNet's shuffle)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = check_factor("ChannelShuffle", "groups", groups)

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
