"""Resampling: ``interpolate`` (``torch.nn.functional.interpolate``) and its deprecated
spellings ``upsample``, ``upsample_nearest``, ``upsample_bilinear``.

Every mode is separable: nearest modes gather one index array per axis
(:class:`~tinygrad_cnn.ops.resample.NearestGather`, or the block copy
:class:`~tinygrad_cnn.ops.upsample.UpsampleNearest` for integer upscaling), the others apply
one ``(out, in)`` matrix per axis (:class:`~tinygrad_cnn.ops.resample.Resample`), whose
gradient is the transposed matrices.
"""

import math
import warnings

import numpy as np

from ..._checks import (
    MAX_INT_ARGUMENT,
    ShapeError,
    check_bool,
    check_float,
    check_tensor,
    is_int,
    is_real,
)
from ...ops import resample
from ...ops.resample import NearestGather, Resample
from ...ops.upsample import UpsampleNearest
from ...tensor import Tensor

# mode -> the input ranks it takes (PyTorch's)
MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,),
         "bicubic": (4,), "trilinear": (5,), "area": (3, 4, 5)}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _sizes(op, x, size, scale_factor, recompute_scale_factor):
    """The output size per spatial axis, and the scale factors passed on to the kernels
    (``None`` each when the kernel maps with ``in / out``), as PyTorch computes them."""
    spatial = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size or scale_factor must be given, got "
                         f"size={size!r} and scale_factor={scale_factor!r}")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                             f"size, got size={size!r}")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
        if len(sizes) != spatial:
            raise ValueError(f"{op}: size {size!r} must give one size per spatial dimension "
                             f"of the input ({spatial} for input shape {x.shape})")
        if not all(is_int(s) for s in sizes):
            raise TypeError(f"{op}: size must be an int or a tuple of ints, got {size!r}")
        if min(sizes) < 1:
            raise ShapeError(f"{op}: the output size {tuple(sizes)} is empty (size must be "
                             f"positive) for input shape {x.shape}")
        if max(sizes) > MAX_INT_ARGUMENT:
            raise ShapeError(f"{op}: size must be at most 2**62, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * spatial
    if len(factors) != spatial:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} must give one factor per "
                         f"spatial dimension of the input ({spatial} for input shape "
                         f"{x.shape})")
    if not all(is_real(f) for f in factors):
        raise TypeError(f"{op}: scale_factor must be a number or a tuple of numbers, got "
                        f"{scale_factor!r}")
    if not all(math.isfinite(f) for f in factors):
        raise ShapeError(f"{op}: scale_factor must be finite, got {scale_factor!r}")
    sizes = tuple(math.floor(float(n) * float(f)) for n, f in zip(x.shape[2:], factors))
    if max(sizes) > MAX_INT_ARGUMENT:
        raise ShapeError(f"{op}: scale_factor {scale_factor!r} makes an output size beyond "
                         f"2**62 from input shape {x.shape}")
    if min(sizes) < 1:
        raise ShapeError(f"{op}: the output size {sizes} is empty (scale_factor "
                         f"{scale_factor!r}, input shape {x.shape})")
    passed = (None,) * spatial if recompute_scale_factor else tuple(float(f) for f in factors)
    return sizes, passed


def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resample the spatial dimensions (``torch.nn.functional.interpolate``).

    x: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` -> the same with the new sizes:
    ``size`` (an int or one per spatial dimension) or ``floor(in * scale_factor)``.
    Modes (PyTorch's): ``nearest`` (source ``floor(dst * scale)``), ``nearest-exact``
    (``floor((dst + 0.5) * scale)``), ``linear`` (3-D), ``bilinear`` (4-D), ``bicubic`` (4-D,
    A = -0.75, reads past the border clamped), ``trilinear`` (5-D), ``area`` (adaptive average
    pooling).  ``scale = in / out``, or ``1 / scale_factor`` when a scale factor is given and
    ``recompute_scale_factor`` is not True, as PyTorch; ``align_corners=True`` maps the corner
    elements onto each other (``scale = (in - 1) / (out - 1)``).  ``antialias=True``
    (bilinear, bicubic) widens the filter when shrinking.  The gradient of each mode is its
    transpose (nearest: sums over the copies); every derivative order works.

    PyTorch's special cases are kept: its 2-D ``nearest`` kernel copies an axis whose size is
    unchanged (``dst // 2`` when it doubles) whatever the scale factor, its 1-D and 3-D ones
    do not; its linear-family and antialiased kernels leave an unchanged axis alone.
    """
    op = "interpolate"
    check_tensor(op, "input", x)
    if mode not in MODES:
        raise NotImplementedError(f"{op}: mode must be one of {', '.join(MODES)}, "
                                  f"got {mode!r}")
    if x.ndim not in MODES[mode]:
        ranks = " or ".join(f"{r}-D" for r in MODES[mode])
        raise NotImplementedError(f"{op}: mode {mode!r} needs a {ranks} input (N, C, ...), "
                                  f"got shape {x.shape}")
    if mode in ("nearest", "nearest-exact"):
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{op}: input must be a floating point or integer tensor, "
                            f"got {x.dtype}")
    else:
        check_float(op, "input", x.dtype)
    if 0 in x.shape[1:]:
        raise ValueError(f"{op}: input {x.shape} must have no empty dimension (but the batch)")
    if align_corners is not None:
        check_bool(op, "align_corners", align_corners)
        if mode not in INTERPOLATING:
            raise ValueError(f"{op}: align_corners can only be set with the interpolating "
                             f"modes {', '.join(INTERPOLATING)}, got mode {mode!r}")
    align_corners = bool(align_corners)
    if recompute_scale_factor is not None:
        check_bool(op, "recompute_scale_factor", recompute_scale_factor)
    antialias = check_bool(op, "antialias", antialias)
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"{op}: antialias is restricted to the bilinear and bicubic modes "
                         f"(a 4-D input), got mode {mode!r}")
    sizes, factors = _sizes(op, x, size, scale_factor, recompute_scale_factor)
    in_sizes = x.shape[2:]
    if mode in ("nearest", "nearest-exact"):
        indices = [resample.nearest_index(n, m, mode == "nearest-exact", f, x.ndim == 4)
                   for n, m, f in zip(in_sizes, sizes, factors)]
        if all(m % n == 0 and np.array_equal(i, np.arange(m) // (m // n))
               for n, m, i in zip(in_sizes, sizes, indices)):
            # every input element copied into a whole block: a broadcast copy
            return UpsampleNearest.apply(x, tuple(m // n for n, m in zip(in_sizes, sizes)))
        return NearestGather.apply(x, tuple(None if np.array_equal(i, np.arange(n)) else i
                                            for n, i in zip(in_sizes, indices)))
    if mode == "area":
        matrices = [resample.area_matrix(n, m) for n, m in zip(in_sizes, sizes)]
    elif antialias:
        matrices = [resample.antialias_matrix(n, m, mode, align_corners, f)
                    for n, m, f in zip(in_sizes, sizes, factors)]
    else:
        build = resample.cubic_matrix if mode == "bicubic" else resample.linear_matrix
        matrices = [build(n, m, align_corners, f) for n, m, f in zip(in_sizes, sizes, factors)]
    # PyTorch's linear-family and antialiased kernels leave an axis whose size does not change
    # alone, whatever the scale factor; its plain bicubic kernel applies the formula
    keep = mode != "bicubic" or antialias
    out = Resample.apply(x, tuple(
        None if m.shape[0] == m.shape[1] and (keep or np.array_equal(m, np.eye(len(m))))
        else m for m in matrices))
    if out.grad_fn is not None:  # what tinygrad_cnn.onnx.export writes as one Resize node
        out.grad_fn.interpolation = (mode, align_corners, antialias, factors)
    return out


def _deprecated(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:
    """:func:`interpolate`, with PyTorch's deprecation warning
    (``torch.nn.functional.upsample``)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` in mode ``nearest``, with PyTorch's deprecation warning
    (``torch.nn.functional.upsample_nearest``)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` in mode ``bilinear`` with ``align_corners=True``, as PyTorch's
    deprecated ``torch.nn.functional.upsample_bilinear`` (with its warning)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
