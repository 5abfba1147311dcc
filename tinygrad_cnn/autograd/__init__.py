"""The autograd engine: ``Function`` (how ops enter the graph), the backward walk and
``grad()``, and the global switches ``no_grad`` / ``detect_anomaly``."""

from .engine import backward, grad
from .function import Function
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly",
]
