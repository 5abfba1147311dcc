"""Pixel and channel rearrangement (as ``torch.nn.functional``): ``pixel_shuffle`` (channels
to space, the sub-pixel convolution's upsampling) and ``pixel_unshuffle`` (space to
channels), each the other's inverse; ``channel_shuffle`` (ShuffleNet's channel interleave).

Each is one reshape, one permute and one reshape of Tensor ops, so their gradients (the
inverse rearrangement) and every higher derivative come from those ops.
"""

from ..._checks import ShapeError, check_int, check_tensor
from ...tensor import Tensor


def check_factor(op: str, name: str, value) -> int:
    """A positive int factor (PyTorch: TypeError for a non-int, RuntimeError for <= 0)."""
    value = check_int(op, name, value)
    if value <= 0:
        raise ShapeError(f"{op}: {name} must be positive, got {value}")
    return value


def _image_input(op: str, input) -> Tensor:
    check_tensor(op, "input", input)
    if input.ndim < 3:
        raise ShapeError(f"{op}: input must have at least 3 dimensions (*, C, H, W), got shape "
                         f"{input.shape}")
    return input


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C r**2, H, W)`` -> ``(*, C, H r, W r)``, ``r = upscale_factor``
    (``torch.nn.functional.pixel_shuffle``): output ``[..., c, h r + i, w r + j]`` is input
    ``[..., c r**2 + i r + j, h, w]``.  Any number of leading dims; any dtype."""
    op = "pixel_shuffle"
    x = _image_input(op, input)
    r = check_factor(op, "upscale_factor", upscale_factor)
    *lead, channels, height, width = x.shape
    if channels % (r * r):
        raise ShapeError(f"{op}: the input's channel dimension (dim -3, size {channels}) must "
                         f"be divisible by upscale_factor**2 = {r * r}, got input shape "
                         f"{x.shape}")
    k = len(lead)
    blocks = x.reshape(*lead, channels // (r * r), r, r, height, width)
    moved = blocks.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return moved.reshape(*lead, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H r, W r)`` -> ``(*, C r**2, H, W)``, ``r = downscale_factor``, the inverse of
    :func:`pixel_shuffle` (``torch.nn.functional.pixel_unshuffle``).  Any leading dims."""
    op = "pixel_unshuffle"
    x = _image_input(op, input)
    r = check_factor(op, "downscale_factor", downscale_factor)
    *lead, channels, height, width = x.shape
    for name, size, dim in (("height", height, -2), ("width", width, -1)):
        if size % r:
            raise ShapeError(f"{op}: the input's {name} (dim {dim}, size {size}) must be "
                             f"divisible by downscale_factor = {r}, got input shape {x.shape}")
    k = len(lead)
    blocks = x.reshape(*lead, channels, height // r, r, width // r, r)
    moved = blocks.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return moved.reshape(*lead, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``(N, g k, *)`` -> the same shape, the channels read as a ``(g, k)`` grid and written
    transposed (``torch.nn.functional.channel_shuffle``, ShuffleNet's shuffle between grouped
    convolutions): output channel ``i g + j`` is input channel ``j k + i``.  At least 3 dims;
    any dtype."""
    op = "channel_shuffle"
    check_tensor(op, "input", input)
    g = check_factor(op, "groups", groups)
    if input.ndim < 3:
        raise ShapeError(f"{op}: input must have more than 2 dimensions (N, C, *), got shape "
                         f"{input.shape}")
    batch, channels, *rest = input.shape
    if channels % g:
        raise ShapeError(f"{op}: the number of channels ({channels}) must be divisible by "
                         f"groups ({g}), got input shape {input.shape}")
    grid = input.reshape(batch, g, channels // g, *rest)
    return grid.transpose(1, 2).reshape(batch, channels, *rest)
