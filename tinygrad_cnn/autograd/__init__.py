"""The autograd engine, as ``torch.autograd``: ``Function`` (how ops enter the graph), the
backward walk (``backward``, ``grad``), the per-thread modes (``no_grad``,
``inference_mode``, ``detect_anomaly``, ...), ``Variable`` and ``functional`` (jacobian,
hessian, vjp, jvp, hvp, vhp).  ``gradcheck`` and ``gradgradcheck`` are those of
:mod:`tinygrad_cnn.gradcheck`."""

from . import functional
from .engine import backward, grad
from .function import Function, once_differentiable
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .variable import Variable

__all__ = [
    "Function", "once_differentiable", "backward", "grad", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "Variable", "functional", "gradcheck", "gradgradcheck",
]


def __getattr__(name):
    # gradcheck sits above autograd (it imports the engine), so it is looked up on use.
    if name in ("gradcheck", "gradgradcheck"):
        from .. import gradcheck as checks

        return getattr(checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
