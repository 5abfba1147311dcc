"""Stochastic gradient descent with PyTorch's exact update rule (``torch.optim.SGD``)."""

import numpy as np

from .._checks import check_real
from .optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)``.

    Per parameter ``p`` with gradient ``g``, as PyTorch::

        g = g + weight_decay * p                      (if weight_decay != 0)
        buf = g                                       (first step with momentum)
        buf = momentum * buf + (1 - dampening) * g    (later steps)
        g = g + momentum * buf if nesterov else buf   (if momentum != 0)
        p = p - lr * g

    Nesterov momentum needs ``momentum > 0`` and ``dampening == 0``.
    """

    _state_spec = {"momentum_buffer": "optional array"}

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_real("SGD", "learning rate", group["lr"], low=0.0)
        check_real("SGD", "momentum", group["momentum"], low=0.0)
        check_real("SGD", "dampening", group["dampening"])
        check_real("SGD", "weight_decay", group["weight_decay"], low=0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, weight_decay = group["dampening"], group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if weight_decay != 0:
                    grad = grad + weight_decay * param._data
                if momentum != 0:
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
                    else:
                        buffer *= momentum
                        buffer += (1 - dampening) * grad
                    grad = grad + momentum * buffer if group["nesterov"] else buffer
                param._data -= lr * grad
