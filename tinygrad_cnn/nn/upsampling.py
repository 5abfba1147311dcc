"""Upsampling layers (as ``torch.nn``): ``Upsample``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``; each calls :func:`tinygrad_cnn.nn.functional.interpolate`."""

from .._checks import is_real
from . import functional as F
from .module import Module


class Upsample(Module):
    """Resample the spatial dimensions (``torch.nn.Upsample``): ``F.interpolate(x, size,
    scale_factor, mode, align_corners, recompute_scale_factor)``."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):  # stored as floats, as PyTorch
            scale_factor = tuple(float(f) if is_real(f) else f for f in scale_factor)
        elif is_real(scale_factor):
            scale_factor = float(scale_factor)
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of ``(N, C, H, W)`` (``torch.nn.UpsamplingNearest2d``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (``torch.nn.UpsamplingBilinear2d``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
