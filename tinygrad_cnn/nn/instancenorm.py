"""``InstanceNorm2d`` (as ``torch.nn``): each channel of each image normalised over its own
pixels, through :func:`tinygrad_cnn.nn.functional.instance_norm`."""

import warnings

from .._checks import ShapeError, check_tensor
from . import functional as F
from .batchnorm import _BatchNorm


class InstanceNorm2d(_BatchNorm):
    """Instance normalisation of ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    (``torch.nn.InstanceNorm2d``).

    Statistics over ``(H, W)`` of each (sample, channel).  PyTorch's defaults: no learnable
    ``weight``/``bias`` (``affine=False``) and no running statistics
    (``track_running_stats=False``); with running statistics, evaluation normalises with
    them.  Parameters, buffers, state-dict keys and ``repr`` as PyTorch's (the same as
    BatchNorm's).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input(self, x) -> None:
        name = type(self).__name__
        check_tensor(name, "input", x)
        if x.ndim not in (3, 4):
            raise ShapeError(f"{name}: expected 3D or 4D input (got {x.ndim}D input of shape "
                             f"{x.shape})")
        channels = x.shape[x.ndim - 3]
        if channels == self.num_features:
            return
        if self.affine:
            raise ShapeError(f"{name}: expected input's size at dim={x.ndim - 3} to match "
                             f"num_features ({self.num_features}), but got: {channels} "
                             f"(input shape {x.shape})")
        warnings.warn(f"{name}: input's size at dim={x.ndim - 3} does not match num_features. "
                      "You can silence this warning by not passing in num_features, which is "
                      "not used because affine=False", UserWarning, stacklevel=4)

    def forward(self, x):
        self._check_input(x)
        batched = x if x.ndim == 4 else x.unsqueeze(0)
        out = F.instance_norm(batched, self.running_mean, self.running_var, self.weight,
                              self.bias, self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out if x.ndim == 4 else out.squeeze(0)
