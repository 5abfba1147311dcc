"""``InstanceNorm1d`` and ``InstanceNorm2d`` (as ``torch.nn``): each channel of each sample
normalised over its own positions, through :func:`tinygrad_cnn.nn.functional.instance_norm`."""

import warnings

from .._checks import ShapeError, check_tensor
from . import functional as F
from .batchnorm import _BatchNorm


class _InstanceNorm(_BatchNorm):
    """Instance normalisation of ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` with
    ``_spatial`` spatial dimensions.

    Statistics over the spatial positions of each (sample, channel).  PyTorch's defaults: no
    learnable ``weight``/``bias`` (``affine=False``) and no running statistics
    (``track_running_stats=False``); with running statistics, evaluation normalises with
    them.  Parameters, buffers, state-dict keys and ``repr`` as PyTorch's (the same as
    BatchNorm's).
    """

    _spatial = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input(self, x) -> None:
        name, batched_rank = type(self).__name__, self._spatial + 2
        check_tensor(name, "input", x)
        if x.ndim not in (batched_rank - 1, batched_rank):
            raise ShapeError(f"{name}: expected {batched_rank - 1}D or {batched_rank}D input "
                             f"(got {x.ndim}D input of shape {x.shape})")
        channel_axis = x.ndim - self._spatial - 1
        channels = x.shape[channel_axis]
        if channels == self.num_features:
            return
        if self.affine:
            raise ShapeError(f"{name}: expected input's size at dim={channel_axis} to match "
                             f"num_features ({self.num_features}), but got: {channels} "
                             f"(input shape {x.shape})")
        warnings.warn(f"{name}: input's size at dim={channel_axis} does not match "
                      "num_features. You can silence this warning by not passing in "
                      "num_features, which is not used because affine=False", UserWarning,
                      stacklevel=4)

    def forward(self, x):
        self._check_input(x)
        batched = x.ndim == self._spatial + 2
        out = F.instance_norm(x if batched else x.unsqueeze(0), self.running_mean,
                              self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out if batched else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of sequences ``(N, C, L)`` or unbatched ``(C, L)``
    (``torch.nn.InstanceNorm1d``): statistics over ``L`` of each (sample, channel)."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    (``torch.nn.InstanceNorm2d``): statistics over ``(H, W)`` of each (sample, channel)."""
