"""Stochastic gradient descent with PyTorch's exact update rule (``torch.optim.SGD``)."""

import numpy as np

from .._checks import check_real
from ..ops.threads import blas_threads
from .optimizer import Optimizer, add_scaled_, check_flag, check_option, state_tensor


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``.

    Per parameter ``p`` with gradient ``g`` (``-g`` when maximizing), as PyTorch::

        g = g + weight_decay * p                      (if weight_decay != 0)
        buf = g                                       (first step with momentum)
        buf = momentum * buf + (1 - dampening) * g    (later steps)
        g = g + momentum * buf if nesterov else buf   (if momentum != 0)
        p = p - lr * g

    Nesterov momentum needs ``momentum > 0`` and ``dampening == 0``.

    Each ``x + a * y`` above is one in-place BLAS ``axpy`` (see ``add_scaled_``), rounded once
    as PyTorch's ``add_(y, alpha=a)``; the step makes no full-size temporary but the copy of
    the gradient that weight decay or Nesterov momentum modify; the BLAS runs on one thread.
    """

    _state_spec = {"momentum_buffer": "optional array"}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_option("SGD", "learning rate", group["lr"])
        check_option("SGD", "momentum value", group["momentum"])
        check_real("SGD", "dampening", group["dampening"])
        check_option("SGD", "weight_decay value", group["weight_decay"])
        check_flag("SGD", group, "nesterov")
        check_flag("SGD", group, "maximize")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _update(self) -> None:
        # axpy is memory-bound: a second BLAS thread gains little and, with the other core
        # busy, can stall (issue 14), so the step keeps the BLAS on one thread.
        with blas_threads(1):
            self._update_groups()

    def _update_groups(self) -> None:
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, weight_decay = group["dampening"], group["weight_decay"]
            nesterov = group["nesterov"]
            for param, grad, state in self._params_with_grad(group):
                data = param._data
                owned = False  # whether grad is this step's own array (never the .grad)
                if weight_decay != 0:
                    grad, owned = np.array(grad, dtype=data.dtype), True
                    add_scaled_(grad, data, weight_decay)
                if momentum != 0:
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = np.array(grad, dtype=data.dtype)
                        state["momentum_buffer"] = state_tensor(buffer)
                    else:
                        buffer = buffer._data
                        buffer *= momentum
                        add_scaled_(buffer, grad, 1 - dampening)
                    if nesterov:
                        grad = grad if owned else np.array(grad, dtype=data.dtype)
                        add_scaled_(grad, buffer, momentum)
                    else:
                        grad = buffer
                add_scaled_(data, grad, -lr)
