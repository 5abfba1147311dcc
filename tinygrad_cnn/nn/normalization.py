"""``LayerNorm``, ``GroupNorm`` and ``LocalResponseNorm`` (as ``torch.nn``): normalisation
within each sample, so the same in training and evaluation; no running statistics."""

import numpy as np

from .._checks import check_bool, check_int, check_real, is_int
from ..devices import check_device
from . import functional as F
from .module import Module
from .parameter import Parameter


def _layer_dtype(op: str, device, dtype) -> np.dtype:
    check_device(op, device)
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating point dtype, got {dtype}")
    return dtype


class _AffineNorm(Module):
    """What LayerNorm and GroupNorm share: an optional learnable ``weight`` (ones) and
    ``bias`` (zeros) of one shape, and their reset."""

    def _make_affine(self, enabled: bool, shape, bias: bool, dtype) -> None:
        weight = Parameter(np.ones(shape, dtype=dtype)) if enabled else None
        bias = Parameter(np.zeros(shape, dtype=dtype)) if enabled and bias else None
        for name, value in (("weight", weight), ("bias", bias)):
            if value is None:
                self.register_parameter(name, None)
            else:
                setattr(self, name, value)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0


class LayerNorm(_AffineNorm):
    """Normalise over the last ``len(normalized_shape)`` dimensions (``torch.nn.LayerNorm``).

    x ``(*, *normalized_shape)`` -> the same shape.  With ``elementwise_affine`` a learnable
    ``weight`` (ones) and ``bias`` (zeros, unless ``bias=False``) of ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if is_int(normalized_shape):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)):
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, "
                            f"got {normalized_shape!r}")
        self.normalized_shape = tuple(check_int("LayerNorm", "normalized_shape", size, 0)
                                      for size in normalized_shape)
        self.eps = check_real("LayerNorm", "eps", eps, low=0)
        self.elementwise_affine = check_bool("LayerNorm", "elementwise_affine",
                                             elementwise_affine)
        dtype = _layer_dtype("LayerNorm", device, dtype)
        self._make_affine(self.elementwise_affine, self.normalized_shape, bias, dtype)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(_AffineNorm):
    """Normalise each of ``num_groups`` groups of channels per sample
    (``torch.nn.GroupNorm``).

    x ``(N, C, *)`` with ``C = num_channels`` -> the same shape; with ``affine`` a learnable
    per-channel ``weight`` (ones) and ``bias`` (zeros, unless ``bias=False``) of shape
    ``(C,)``.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_groups = check_int("GroupNorm", "num_groups", num_groups, minimum=1)
        self.num_channels = check_int("GroupNorm", "num_channels", num_channels, minimum=1)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps = check_real("GroupNorm", "eps", eps, low=0)
        self.affine = check_bool("GroupNorm", "affine", affine)
        dtype = _layer_dtype("GroupNorm", device, dtype)
        self._make_affine(self.affine, (self.num_channels,), bias, dtype)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """AlexNet's normalisation across ``size`` neighbouring channels
    (``torch.nn.LocalResponseNorm``); x ``(N, C, *)`` -> the same shape; no parameters."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = check_int("LocalResponseNorm", "size", size)
        self.alpha = check_real("LocalResponseNorm", "alpha", alpha)
        self.beta = check_real("LocalResponseNorm", "beta", beta)
        self.k = check_real("LocalResponseNorm", "k", k)

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
