"""Resampling: ``interpolate`` (``torch.nn.functional.interpolate``)."""

from ..._checks import check_tensor, is_real
from ...ops.upsample import UpsampleNearest
from ...tensor import Tensor

MODES = ("nearest",)


def _scale_factors(scale_factor, spatial: int) -> tuple:
    values = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * spatial
    if len(values) != spatial:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} must give one factor per "
                         f"spatial dimension ({spatial})")
    factors = []
    for v in values:
        if not is_real(v):
            raise TypeError(f"interpolate: scale_factor must be a positive int or a tuple of "
                            f"them, got {scale_factor!r}")
        if not float(v).is_integer() or v < 1:
            raise ValueError(f"interpolate: only positive integer scale factors are supported "
                             f"(mode='nearest' repeats each element), got {scale_factor!r}")
        factors.append(int(v))
    return tuple(factors)


def interpolate(x: Tensor, scale_factor, mode: str = "nearest") -> Tensor:
    """Nearest-neighbour upsampling by integer factors, the lecture's ``upsample``
    (``torch.nn.functional.interpolate(x, scale_factor=..., mode="nearest")``).

    x: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``; ``scale_factor`` a positive int
    or one per spatial dimension -> ``(N, C, H*sH, W*sW)``: each element becomes an
    ``sH x sW`` block.  The gradient sums each block.  Only ``mode="nearest"`` is supported.
    """
    check_tensor("interpolate", "input", x)
    if mode not in MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not supported; the supported mode is "
                         f"'nearest'")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: input must be 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W), got shape {x.shape}")
    return UpsampleNearest.apply(x, _scale_factors(scale_factor, x.ndim - 2))
