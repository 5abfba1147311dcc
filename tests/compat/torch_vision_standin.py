"""What a compatibility script's ``torchvision`` is under PyTorch here: torchvision's
deterministic transforms (``Compose``, ``ToTensor``, ``Normalize``, ``Pad``, ``CenterCrop``,
``Lambda``) written in torch ops, following torchvision's documented semantics.

torchvision itself is not installed next to this PyTorch (pip's torchvision wheel breaks it),
so a script that says ``from torchvision import transforms`` gets this module under torch and
``tinygrad_cnn.vision.transforms`` under tinygrad_cnn; the two runs are then compared.  Random
transforms are left out on purpose: their draws come from each library's own generator and
cannot match, so they are tested under tinygrad_cnn alone (test_data_pipeline.py).

Images here are what torchvision's tensor path takes: ``ToTensor`` reads an ``(H, W, C)`` or
``(H, W)`` numpy array; the geometric transforms work on ``(..., C, H, W)`` tensors.
"""

import numbers
import sys

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["Compose", "ToTensor", "Normalize", "Pad", "CenterCrop", "Lambda"]


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class ToTensor:
    """``(H, W, C)`` / ``(H, W)`` array -> ``(C, H, W)`` tensor; uint8 -> float32 / 255."""

    def __call__(self, pic):
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"pic should be an ndarray here, got {type(pic)}")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = torch.from_numpy(pic).permute(2, 0, 1).contiguous()
        if img.dtype == torch.uint8:
            return img.to(dtype=torch.get_default_dtype()).div(255)
        return img


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not self.inplace:
            tensor = tensor.clone()
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype)
        std = torch.as_tensor(self.std, dtype=tensor.dtype)
        if mean.ndim == 1:
            mean = mean.view(-1, 1, 1)
        if std.ndim == 1:
            std = std.view(-1, 1, 1)
        return tensor.sub_(mean).div_(std)


def _ltrb(padding):
    if isinstance(padding, numbers.Integral):
        return (padding,) * 4
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    return tuple(padding)


class Pad:
    """``padding`` as torchvision: an int, ``(left/right, top/bottom)`` or ``(l, t, r, b)``."""

    MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if padding_mode not in self.MODES:
            raise NotImplementedError(f"the stand-in Pad has no mode {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        left, top, right, bottom = _ltrb(self.padding)
        mode = self.MODES[self.padding_mode]
        if mode == "constant":
            return F.pad(img, [left, right, top, bottom], mode="constant", value=self.fill)
        return F.pad(img, [left, right, top, bottom], mode=mode)


class CenterCrop:
    """The window at ``int(round((H - h) / 2)), int(round((W - w) / 2))``, as torchvision."""

    def __init__(self, size):
        self.size = (size, size) if isinstance(size, numbers.Integral) else tuple(size)

    def __call__(self, img):
        crop_h, crop_w = self.size
        height, width = img.shape[-2:]
        if crop_h > height or crop_w > width:
            raise NotImplementedError("the stand-in CenterCrop does not pad")
        top = int(round((height - crop_h) / 2.0))
        left = int(round((width - crop_w) / 2.0))
        return img[..., top:top + crop_h, left:left + crop_w]


# ``from torchvision import transforms`` and ``from torchvision.transforms import X`` both
# resolve through this one module.
transforms = sys.modules[__name__]
