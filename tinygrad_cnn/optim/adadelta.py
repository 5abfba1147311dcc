"""Adadelta with PyTorch's exact update rule (``torch.optim.Adadelta``)."""

import numpy as np

from .optimizer import Optimizer, advance_step, check_flag, check_option, new_step, state_tensor


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``.

    Per parameter ``p`` with gradient ``g`` (``-g`` when maximizing), as PyTorch::

        g = g + weight_decay * p                   (if weight_decay != 0)
        v = rho * v + (1 - rho) * g * g            (v and u start at 0)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    """

    _state_spec = {"step": "step", "square_avg": "array", "acc_delta": "array"}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_option("Adadelta", "learning rate", group["lr"])
        check_option("Adadelta", "rho value", group["rho"], high=1.0)
        check_option("Adadelta", "epsilon value", group["eps"])
        check_option("Adadelta", "weight_decay value", group["weight_decay"])
        check_flag("Adadelta", group, "maximize")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            weight_decay = group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = new_step()
                    state["square_avg"] = state_tensor(np.zeros_like(param._data))
                    state["acc_delta"] = state_tensor(np.zeros_like(param._data))
                advance_step(state)
                if weight_decay != 0:
                    grad = grad + weight_decay * param._data
                square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                std = np.sqrt(square_avg + eps)
                delta = np.sqrt(acc_delta + eps)
                delta /= std
                delta *= grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                param._data -= lr * delta
