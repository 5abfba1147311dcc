"""Image transforms with torchvision's names and semantics, on numpy images and Tensors.

Before ``ToTensor`` an image is a numpy array ``(H, W)`` or ``(H, W, C)`` (what the
``vision.datasets`` give; a PIL image is accepted too and read as such an array); after it,
a ``Tensor`` ``(..., C, H, W)``. Geometric transforms keep the kind they receive (a PIL image
comes back as an array: the deliberate difference from torchvision). Random transforms draw
from the library's generator (``tinygrad_cnn.random.generator()``), so ``manual_seed``
repeats them and each ``DataLoader`` worker, seeded apart, draws differently.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import random as _random
from .._checks import ShapeError, check_fits, is_int, is_real
from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "Resize", "CenterCrop", "Lambda", "InterpolationMode"]

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


class InterpolationMode:
    """The interpolation names ``Resize`` accepts (as torchvision's enum; strings work too)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


# ----------------------------------------------------------------------------- image access
def _is_pil(img) -> bool:
    return type(img).__module__.startswith("PIL.") and hasattr(img, "getbands")


def _planes(img, op: str):
    """``(array, height axis, width axis, rewrap)`` for an array, a PIL image or a Tensor.

    Arrays (and PIL images) are ``(H, W)`` or ``(H, W, C)``: axes 0 and 1; Tensors are
    ``(..., H, W)``: the last two axes. ``rewrap(array)`` gives back the caller's kind.
    """
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{op}: a tensor image must be (..., H, W), got shape "
                             f"{tuple(img.shape)}")
        return img._data, img.ndim - 2, img.ndim - 1, Tensor._make
    if _is_pil(img):
        img = np.asarray(img)
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{op}: an image array must be (H, W) or (H, W, C), got shape "
                             f"{img.shape}")
        return img, 0, 1, (lambda array: array)
    raise TypeError(f"{op}: img should be a numpy array, a PIL image or a Tensor, got "
                    f"{type(img).__name__}")


def _size_pair(size, op: str, name: str = "size") -> tuple[int, int]:
    """``(h, w)`` from torchvision's crop sizes: a number (truncated to an int, as
    torchvision) or a sequence of 1 or 2 ints (a wrong length is a ``ValueError``, as
    torchvision's); another kind of value is a ``TypeError``, a size below 1 a
    ``ValueError`` (torchvision takes it and crops nothing)."""
    wanted = f"an int or a sequence of 1 or 2 ints, got {size!r}"
    if is_real(size):
        if not math.isfinite(size):
            raise ValueError(f"{op}: {name} must be {wanted}")
        pair = int(size), int(size)
    elif isinstance(size, (tuple, list)):
        if len(size) not in (1, 2):
            raise ValueError(f"{op}: {name} must be {wanted}")
        if not all(is_int(s) for s in size):
            raise TypeError(f"{op}: {name} must be {wanted}")
        pair = int(size[0]), int(size[-1])
    else:
        raise TypeError(f"{op}: {name} must be {wanted}")
    if min(pair) < 1:
        raise ValueError(f"{op}: {name} must be positive, got {size!r}")
    return pair


def _crop(img, top: int, left: int, height: int, width: int):
    array, h_axis, w_axis, rewrap = _planes(img, "crop")
    index = [slice(None)] * array.ndim
    index[h_axis] = slice(top, top + height)
    index[w_axis] = slice(left, left + width)
    return rewrap(np.ascontiguousarray(array[tuple(index)]))


# ----------------------------------------------------------------------------- padding
def _padding_ltrb(padding, op: str) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return (int(padding),) * 4
    if not isinstance(padding, (tuple, list)) or not all(
            isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding):
        raise TypeError(f"{op}: Got inappropriate padding arg {padding!r}")
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if len(padding) == 4:
        return tuple(int(p) for p in padding)
    raise ValueError(f"{op}: Padding must be an int or a 1, 2, or 4 element tuple, not a "
                     f"{len(padding)} element tuple")


def _per_channel_numbers(value) -> bool:
    """True for a real number or a non-empty 1-D sequence (or array) of real numbers."""
    if is_real(value):
        return True
    if not isinstance(value, (tuple, list, np.ndarray)):
        return False
    array = np.asarray(value, dtype=object)
    return array.ndim == 1 and array.size > 0 and all(is_real(v) for v in array.tolist())


def _check_fill(fill, op: str):
    """``fill``: a number, or a sequence of numbers (one per channel); else a TypeError (as
    torchvision's ``Pad``; a string color name needs PIL, which is not used here)."""
    if not _per_channel_numbers(fill):
        raise TypeError(f"{op}: fill must be a number or a sequence of numbers (one per "
                        f"channel), got {fill!r}")
    return fill


def _pad(img, padding, fill=0, padding_mode="constant", op="Pad"):
    """Pad ``padding`` = (left, top, right, bottom) pixels; negative values crop instead."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: Padding mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")
    left, top, right, bottom = _padding_ltrb(padding, op)
    array, h_axis, w_axis, rewrap = _planes(img, op)
    # negative padding crops (as torchvision on tensors): crop first, then pad the rest
    index = [slice(None)] * array.ndim
    index[h_axis] = slice(-min(top, 0), array.shape[h_axis] + min(bottom, 0))
    index[w_axis] = slice(-min(left, 0), array.shape[w_axis] + min(right, 0))
    array = array[tuple(index)]
    widths = [(0, 0)] * array.ndim
    widths[h_axis] = (max(top, 0), max(bottom, 0))
    widths[w_axis] = (max(left, 0), max(right, 0))
    if padding_mode == "reflect" and any(
            max(widths[axis]) >= array.shape[axis] for axis in (h_axis, w_axis)):
        raise ValueError(f"{op}: reflect padding must be smaller than the image's size, got "
                         f"padding {(left, top, right, bottom)} for shape {array.shape}")
    if padding_mode != "constant":
        return rewrap(np.pad(array, widths, mode=padding_mode))
    shape = tuple(n + a + b for n, (a, b) in zip(array.shape, widths))
    for value in np.ravel(_check_fill(fill, op)).tolist():  # 300 cannot fill a uint8 image
        check_fits(op, "fill", value, array.dtype)
    per_channel = array.ndim == 3 and h_axis == 0  # an (H, W, C) array
    if np.ndim(fill) != 0 and not (per_channel and np.ndim(fill) == 1
                                   and len(fill) == array.shape[2]):
        raise TypeError(f"{op}: fill must be a number (or one number per channel for an "
                        f"(H, W, C) array), got {fill!r} for shape {array.shape}")
    out = np.empty(shape, dtype=array.dtype)
    out[...] = np.asarray(fill, dtype=np.float64).astype(array.dtype)
    out[tuple(slice(a, a + n) for n, (a, _) in zip(array.shape, widths))] = array
    return rewrap(out)


class Pad:
    """Pad the image's borders (as ``torchvision.transforms.Pad``).

    ``padding``: an int (all sides), ``(left/right, top/bottom)`` or ``(left, top, right,
    bottom)``; negative values crop. ``padding_mode``: ``"constant"`` (with ``fill``: a
    number, or per channel for an ``(H, W, C)`` array), ``"edge"``, ``"reflect"`` (mirror
    without repeating the edge pixel) or ``"symmetric"`` (mirror repeating it) — numpy.pad's
    modes of the same names.
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        _padding_ltrb(padding, "Pad")
        _check_fill(fill, "Pad")
        if padding_mode not in PADDING_MODES:
            raise ValueError("Pad: Padding mode should be either constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return _pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"Pad(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


# ----------------------------------------------------------------------------- composition
class Compose:
    """Apply ``transforms`` one after another (as ``torchvision.transforms.Compose``)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"Compose({body}\n)"


class Lambda:
    """Apply a user's function (as ``torchvision.transforms.Lambda``)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


# ----------------------------------------------------------------------------- conversion
class ToTensor:
    """An image -> a CHW ``Tensor`` (as ``torchvision.transforms.ToTensor``).

    ``(H, W, C)`` array or PIL image -> ``(C, H, W)``; ``(H, W)`` -> ``(1, H, W)``. A uint8
    image becomes float32 in [0, 1] (divided by 255); other dtypes keep their values and
    dtype, as torchvision.
    """

    def __call__(self, pic):
        if _is_pil(pic):
            array = np.array(pic)
            if pic.mode == "1":
                array = array.astype(np.uint8) * np.uint8(255)
        elif isinstance(pic, np.ndarray):
            array = pic
        else:
            raise TypeError(f"ToTensor: pic should be PIL Image or ndarray. Got {type(pic)}")
        if array.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2/3 dimensional. Got {array.ndim} "
                             "dimensions.")
        if array.ndim == 2:
            array = array[:, :, None]
        if array.dtype == np.uint8:
            # one pass: transpose, convert and divide (x / 255, as torchvision: not x * (1/255))
            chw = np.empty((array.shape[2], array.shape[0], array.shape[1]), np.float32)
            np.divide(array.transpose(2, 0, 1), np.float32(255), out=chw, dtype=np.float32)
            return Tensor._make(chw)
        return Tensor._make(np.ascontiguousarray(array.transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a float ``Tensor`` ``(..., C, H, W)``.

    As ``torchvision.transforms.Normalize``: ``mean`` and ``std`` are sequences (one value
    per channel) or numbers, converted to the tensor's dtype first; ``inplace=True``
    overwrites the input. A zero in ``std`` raises ``ValueError``.
    """

    def __init__(self, mean, std, inplace=False):
        for name, value in (("mean", mean), ("std", std)):
            if not _per_channel_numbers(value):
                raise TypeError(f"Normalize: {name} must be a number or a sequence of numbers "
                                f"(one per channel), got {value!r}")
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: Input tensor should be a Tensor. Got {type(tensor)}.")
        array = tensor._data
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: Input tensor should be a float tensor. Got "
                            f"{array.dtype}.")
        if array.ndim < 3:
            raise ValueError("Normalize: Expected tensor to be a tensor image of size "
                             f"(..., C, H, W). Got tensor.size() = {tuple(array.shape)}.")
        mean, std = self._constants(array.dtype)
        for name, values in (("mean", mean), ("std", std)):
            if values.size not in (1, array.shape[-3]):
                raise ShapeError(f"Normalize: {name} must have one value per channel, got "
                                 f"{values.size} values for a tensor of shape "
                                 f"{tuple(array.shape)} ({array.shape[-3]} channels)")
        if self.inplace:
            np.subtract(array, mean, out=array)
            np.divide(array, std, out=array)
            return tensor
        return Tensor._make((array - mean) / std)

    def _constants(self, dtype):
        """``mean`` and ``std`` in ``dtype``, shaped ``(C, 1, 1)`` (cached per dtype)."""
        key = (np.dtype(dtype), repr(self.mean), repr(self.std))
        if getattr(self, "_cached", (None,))[0] != key:
            mean = np.asarray(self.mean, dtype=np.float64).astype(dtype)
            std = np.asarray(self.std, dtype=np.float64).astype(dtype)
            if (std == 0).any():
                raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                                 f"{np.dtype(dtype)}, leading to division by zero.")
            if mean.ndim == 1:
                mean = mean[:, None, None]
            if std.ndim == 1:
                std = std[:, None, None]
            self._cached = (key, mean, std)
        return self._cached[1], self._cached[2]

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


# ----------------------------------------------------------------------------- cropping
class CenterCrop:
    """Crop the centre ``size`` (as torchvision's): an int or ``(h, w)``.

    The top-left corner is ``round((H - h) / 2), round((W - w) / 2)`` (Python's rounding,
    as torchvision); an image smaller than ``size`` is first padded with zeros.
    """

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def __call__(self, img):
        crop_h, crop_w = self.size
        array, h_axis, w_axis, _ = _planes(img, "CenterCrop")
        height, width = array.shape[h_axis], array.shape[w_axis]
        if crop_h > height or crop_w > width:
            padding = [(crop_w - width) // 2 if crop_w > width else 0,
                       (crop_h - height) // 2 if crop_h > height else 0,
                       (crop_w - width + 1) // 2 if crop_w > width else 0,
                       (crop_h - height + 1) // 2 if crop_h > height else 0]
            img = _pad(img, padding, 0, "constant", "CenterCrop")
            array, h_axis, w_axis, _ = _planes(img, "CenterCrop")
            height, width = array.shape[h_axis], array.shape[w_axis]
            if (height, width) == (crop_h, crop_w):
                return img
        top = int(round((height - crop_h) / 2.0))
        left = int(round((width - crop_w) / 2.0))
        return _crop(img, top, left, crop_h, crop_w)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """Crop a random ``size`` window (as ``torchvision.transforms.RandomCrop``).

    ``padding`` (see :class:`Pad`) is applied first with ``fill`` and ``padding_mode``;
    ``pad_if_needed`` then pads a side shorter than ``size`` by the difference on both ends.
    The corner is ``top`` uniform in ``0..H - h`` then ``left`` uniform in ``0..W - w``.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = _size_pair(size, "RandomCrop")
        if padding is not None:
            _padding_ltrb(padding, "RandomCrop")
        _check_fill(fill, "RandomCrop")
        if padding_mode not in PADDING_MODES:
            raise ValueError("RandomCrop: Padding mode should be either constant, edge, "
                             f"reflect or symmetric, got {padding_mode!r}")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """``(top, left, h, w)`` of a random crop of ``output_size = (h, w)``."""
        array, h_axis, w_axis, _ = _planes(img, "RandomCrop")
        height, width = array.shape[h_axis], array.shape[w_axis]
        crop_h, crop_w = output_size
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input "
                             f"image size {(height, width)}")
        if (height, width) == (crop_h, crop_w):
            return 0, 0, height, width
        generator = _random.generator()
        top = int(generator.integers(0, height - crop_h + 1))
        left = int(generator.integers(0, width - crop_w + 1))
        return top, left, crop_h, crop_w

    def __call__(self, img):
        if (self.padding is not None and self.padding_mode == "constant"
                and not self.pad_if_needed and np.ndim(self.fill) == 0):
            return self._padded_window(img)
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode, "RandomCrop")
        array, h_axis, w_axis, _ = _planes(img, "RandomCrop")
        height, width = array.shape[h_axis], array.shape[w_axis]
        crop_h, crop_w = self.size
        if self.pad_if_needed and width < crop_w:
            img = _pad(img, [crop_w - width, 0], self.fill, self.padding_mode, "RandomCrop")
        if self.pad_if_needed and height < crop_h:
            img = _pad(img, [0, crop_h - height], self.fill, self.padding_mode, "RandomCrop")
        return _crop(img, *self.get_params(img, self.size))

    def _padded_window(self, img):
        """Constant padding then a crop, without building the padded image: the window is
        filled with ``fill`` and the part of the image it covers copied in (same draws)."""
        left, top, right, bottom = _padding_ltrb(self.padding, "RandomCrop")
        array, h_axis, w_axis, rewrap = _planes(img, "RandomCrop")
        if min(left, top, right, bottom) < 0:  # negative padding crops: the general path
            padded = _pad(img, self.padding, self.fill, "constant", "RandomCrop")
            return _crop(padded, *self.get_params(padded, self.size))
        height, width = array.shape[h_axis] + top + bottom, array.shape[w_axis] + left + right
        crop_h, crop_w = self.size
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input "
                             f"image size {(height, width)}")
        row, column = 0, 0
        if (height, width) != (crop_h, crop_w):
            generator = _random.generator()
            row = int(generator.integers(0, height - crop_h + 1))
            column = int(generator.integers(0, width - crop_w + 1))
        # the window in the image's own coordinates, and its part inside the image
        y0, x0 = row - top, column - left
        y_lo, y_hi = max(y0, 0), min(y0 + crop_h, array.shape[h_axis])
        x_lo, x_hi = max(x0, 0), min(x0 + crop_w, array.shape[w_axis])
        shape = list(array.shape)
        shape[h_axis], shape[w_axis] = crop_h, crop_w
        out = np.empty(shape, dtype=array.dtype)
        out.fill(self.fill)
        source = [slice(None)] * array.ndim
        target = [slice(None)] * array.ndim
        source[h_axis], source[w_axis] = slice(y_lo, y_hi), slice(x_lo, x_hi)
        target[h_axis] = slice(y_lo - y0, y_hi - y0)
        target[w_axis] = slice(x_lo - x0, x_hi - x0)
        if y_hi > y_lo and x_hi > x_lo:
            out[tuple(target)] = array[tuple(source)]
        return rewrap(out)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p`` (as torchvision's)."""

    def __init__(self, p=0.5):
        if not is_real(p):
            raise TypeError(f"RandomHorizontalFlip: p must be a number, got {p!r}")
        self.p = p

    def __call__(self, img):
        if _random.generator().random() < self.p:
            array, _, w_axis, rewrap = _planes(img, "RandomHorizontalFlip")
            # a gather along the width: faster than copying a negative-stride view
            reverse = np.arange(array.shape[w_axis] - 1, -1, -1)
            return rewrap(np.take(array, reverse, axis=w_axis))
        return img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


# ----------------------------------------------------------------------------- resizing
def _resize_weights(in_size: int, out_size: int, mode: str, antialias: bool) -> np.ndarray:
    """The ``(out_size, in_size)`` matrix that resamples one axis (rows sum to 1).

    ``bilinear`` without antialias is ``interpolate(mode="bilinear", align_corners=False)``:
    source ``(i + 0.5) * scale - 0.5`` clamped at 0, between its two neighbours. With
    antialias and ``scale = in/out > 1`` (shrinking) the triangle filter is widened to
    ``scale`` input pixels on each side and renormalised at the borders (PIL's and
    ``interpolate(antialias=True)``'s rule), so every input pixel contributes.
    """
    scale = in_size / out_size
    out_index = np.arange(out_size, dtype=np.float64)
    weights = np.zeros((out_size, in_size))
    if mode == InterpolationMode.NEAREST:
        source = np.minimum(np.floor(out_index * scale).astype(np.intp), in_size - 1)
        weights[np.arange(out_size), source] = 1.0
        return weights
    if antialias and scale > 1.0:
        support, inverse = scale, 1.0 / scale
        center = scale * (out_index + 0.5)
        first = np.maximum(np.trunc(center - support + 0.5), 0).astype(np.intp)
        last = np.minimum(np.trunc(center + support + 0.5), in_size).astype(np.intp)
        taps = np.arange(int(np.ceil(2 * support)) + 2)
        columns = first[:, None] + taps[None, :]
        valid = columns < last[:, None]
        tent = np.maximum(0.0, 1.0 - np.abs((columns - center[:, None] + 0.5) * inverse))
        tent = np.where(valid, tent, 0.0)
        tent /= tent.sum(axis=1, keepdims=True)
        rows = np.broadcast_to(np.arange(out_size)[:, None], columns.shape)
        weights[rows[valid], columns[valid]] = tent[valid]
        return weights
    source = np.maximum((out_index + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.intp), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    fraction = np.clip(source - low, 0.0, 1.0)
    rows = np.arange(out_size)
    np.add.at(weights, (rows, low), 1.0 - fraction)
    np.add.at(weights, (rows, high), fraction)
    return weights


def _output_size(height: int, width: int, size, max_size):
    if isinstance(size, numbers.Integral) or len(size) == 1:
        requested = int(size if isinstance(size, numbers.Integral) else size[0])
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"Resize: max_size = {max_size} must be strictly greater than "
                                 f"the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)
    if max_size is not None:
        raise ValueError("Resize: max_size should only be passed if size specifies the length "
                         "of the smaller edge, i.e. size should be an int or a sequence of "
                         f"length 1; got size={size}")
    return int(size[0]), int(size[1])


class Resize:
    """Resize to ``size`` (as ``torchvision.transforms.Resize``).

    ``size`` ``(h, w)``, or an int (or 1-sequence): the shorter side becomes ``size`` and the
    longer keeps the aspect ratio (truncated), capped by ``max_size``. ``interpolation``:
    ``"bilinear"`` (default) or ``"nearest"``. ``antialias=True`` (torchvision's default)
    widens the bilinear filter when shrinking so that every input pixel contributes — the
    result of ``interpolate(..., mode="bilinear", antialias=True)``; ``antialias=False`` is
    plain bilinear (``align_corners=False``), which skips pixels when shrinking by more than
    2x. Enlarging is the same either way. Each axis is one matrix product (no loop over
    pixels). uint8 images are rounded back to uint8 (PIL's fixed-point arithmetic may differ
    by 1); float images keep their dtype.
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        # as torchvision: a TypeError for a value of the wrong kind, a ValueError for a
        # sequence of the wrong length
        wanted = f"an int or a sequence of 1 or 2 ints, got {size!r}"
        if not is_int(size) and not isinstance(size, (tuple, list)):
            raise TypeError(f"Resize: size must be {wanted}")
        if isinstance(size, (tuple, list)) and len(size) not in (1, 2):
            raise ValueError(f"Resize: size must be {wanted}")
        if isinstance(size, (tuple, list)) and not all(is_int(s) for s in size):
            raise TypeError(f"Resize: size must be {wanted}")
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if any(s < 1 for s in sizes):
            raise ValueError(f"Resize: size must be positive, got {size!r}")
        mode = getattr(interpolation, "value", interpolation)
        if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
            raise ValueError(f"Resize: interpolation must be 'bilinear' or 'nearest', got "
                             f"{interpolation!r}")
        self.size, self.interpolation = size, mode
        self.max_size, self.antialias = max_size, bool(antialias)

    def __call__(self, img):
        array, h_axis, w_axis, rewrap = _planes(img, "Resize")
        height, width = array.shape[h_axis], array.shape[w_axis]
        out_h, out_w = _output_size(height, width, self.size, self.max_size)
        if (out_h, out_w) == (height, width):
            return img
        rows = _resize_weights(height, out_h, self.interpolation, self.antialias)
        cols = _resize_weights(width, out_w, self.interpolation, self.antialias)
        values = array.astype(np.float64)
        # contract the height axis with rows and the width axis with cols, keeping the layout
        values = np.moveaxis(np.tensordot(rows, values, axes=(1, h_axis)), 0, h_axis)
        values = np.moveaxis(np.tensordot(cols, values, axes=(1, w_axis)), 0, w_axis)
        if array.dtype.kind in "ui":
            info = np.iinfo(array.dtype)
            values = np.clip(np.round(values), info.min, info.max)
        return rewrap(np.ascontiguousarray(values.astype(array.dtype)))

    def __repr__(self) -> str:
        return (f"Resize(size={self.size}, interpolation={self.interpolation}, "
                f"max_size={self.max_size}, antialias={self.antialias})")
