"""RMSprop with PyTorch's exact update rule (``torch.optim.RMSprop``)."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance_step,
    check_flag,
    check_option,
    lerp_,
    new_step,
    state_tensor,
)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)``.

    Per parameter ``p`` with gradient ``g`` (``-g`` when maximizing), as PyTorch::

        g = g + weight_decay * p                   (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g        (running mean of squares, from 0)
        m = m + (1 - alpha) * (g - m)              (centered: running mean, from 0)
        avg = sqrt(v - m * m) + eps  if centered else  sqrt(v) + eps
        buf = momentum * buf + g / avg;  p = p - lr * buf     (momentum > 0, buf from 0)
        p = p - lr * g / avg                                   (momentum == 0)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _state_spec_for(self, group: dict) -> dict:
        spec = {"step": "step", "square_avg": "array"}
        if group["momentum"] > 0:
            spec["momentum_buffer"] = "array"
        if group["centered"]:
            spec["grad_avg"] = "array"
        return spec

    def _validate_group(self, group: dict) -> None:
        check_option("RMSprop", "learning rate", group["lr"])
        check_option("RMSprop", "epsilon value", group["eps"])
        check_option("RMSprop", "momentum value", group["momentum"])
        check_option("RMSprop", "weight_decay value", group["weight_decay"])
        check_option("RMSprop", "alpha value", group["alpha"])
        check_flag("RMSprop", group, "centered")
        check_flag("RMSprop", group, "maximize")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = new_step()
                    state["square_avg"] = state_tensor(np.zeros_like(param._data))
                    if momentum > 0:
                        state["momentum_buffer"] = state_tensor(np.zeros_like(param._data))
                    if group["centered"]:
                        state["grad_avg"] = state_tensor(np.zeros_like(param._data))
                advance_step(state)
                if weight_decay != 0:
                    grad = grad + weight_decay * param._data
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if group["centered"]:
                    grad_avg = state["grad_avg"]._data
                    lerp_(grad_avg, grad, 1 - alpha)
                    avg = np.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]._data
                    buffer *= momentum
                    buffer += grad / avg
                    param._data -= lr * buffer
                else:
                    param._data -= lr * grad / avg
