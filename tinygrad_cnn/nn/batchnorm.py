"""``BatchNorm1d`` and ``BatchNorm2d``: batch normalisation per channel over every other
axis, exactly as PyTorch's."""

import numpy as np

from .._checks import ShapeError, check_int, check_real, check_tensor
from ..devices import check_device
from . import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias`` per channel (the shared body of
    ``BatchNorm1d`` and ``BatchNorm2d``; subclasses name the input ranks they take).

    x ``(N, C, *)`` -> the same shape with ``C = num_features``; weight and bias ``(C,)``.

    Training (or ``track_running_stats=False``): mean and *biased* variance of the batch over
    every axis but the channel axis.  In training with running statistics, ``running_mean`` and
    ``running_var`` move towards the batch mean and the *unbiased* batch variance by
    ``momentum`` (``new = (1 - momentum) * old + momentum * batch``), or with
    ``momentum=None`` keep the cumulative average over ``num_batches_tracked`` batches.
    Evaluation with running statistics normalises with them.  ``affine=False`` (or
    ``bias=False``) drops the learnable scale (shift).

    The forward is :func:`tinygrad_cnn.functional.batch_norm` (in training, one primitive whose
    backward is written with differentiable tensor ops), so double backward works.
    """

    ranks = ()            # the input dimensionalities accepted
    layout = ""           # how the error message spells them
    _version = 2          # the layout with num_batches_tracked (as PyTorch's)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        check_device(name, device)
        self.num_features = check_int(name, "num_features", num_features, minimum=1)
        self.eps = check_real(name, "eps", eps, low=0)
        if momentum is not None:
            check_real(name, "momentum", momentum)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.affine and bias:
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _state_optional_names(self, version) -> frozenset:
        """A state dict from before ``num_batches_tracked`` (layout version < 2, or a plain
        dict without PyTorch's ``_metadata``) may lack it: the count is kept, as PyTorch's."""
        if (version is None or version < 2) and self.track_running_stats:
            return frozenset({"num_batches_tracked"})
        return frozenset()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches counted."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; weight 1 and bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def _check_input(self, x) -> None:
        name = type(self).__name__
        check_tensor(name, "input", x)
        if x.ndim not in self.ranks:
            raise ShapeError(f"{name}: expected {self.layout}, got {x.ndim}D input "
                             f"of shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{name}: input has {x.shape[1]} channels but num_features is "
                             f"{self.num_features} (input shape {x.shape})")
        if x.dtype.kind != "f":
            raise TypeError(f"{name}: input must be a floating point tensor, got {x.dtype}")

    def forward(self, x):
        self._check_input(x)
        factor = 0.0
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked += 1
            # momentum=None: the cumulative average over the batches seen so far.
            factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        use_batch_stats = self.training or self.running_mean is None
        # As PyTorch: running statistics are read in eval mode and updated in training.
        pass_running = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if pass_running else None,
            self.running_var if pass_running else None,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` per channel
    (``torch.nn.BatchNorm1d``); statistics over ``N`` (and ``L``)."""

    ranks = (2, 3)
    layout = "2D or 3D input (N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` per channel (``torch.nn.BatchNorm2d``);
    statistics over ``(N, H, W)``."""

    ranks = (4,)
    layout = "4D input (N, C, H, W)"
