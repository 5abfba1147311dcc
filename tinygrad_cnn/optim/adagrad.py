"""Adagrad with PyTorch's exact update rule (``torch.optim.Adagrad``)."""

import numpy as np

from .._checks import check_fits
from .optimizer import Optimizer, advance_step, check_flag, check_option, new_step, state_tensor


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``.

    Per parameter ``p`` with gradient ``g`` (``-g`` when maximizing) at step ``t`` (from 1),
    as PyTorch::

        g = g + weight_decay * p                   (if weight_decay != 0)
        s = s + g * g                              (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    As in PyTorch, every parameter given to the constructor gets its state (``step`` 0 and
    ``sum``) at once, so it appears in ``state_dict()`` before the first step; parameters of
    groups added later get it at their first step, from the constructor's
    ``initial_accumulator_value``.
    """

    _state_spec = {"step": "step", "sum": "array"}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param)

    def _init_state(self, param) -> dict:
        value = self.defaults["initial_accumulator_value"]
        # as PyTorch: a value the parameter's dtype cannot hold (1e300 for float32) is refused
        check_fits("Adagrad", "initial_accumulator_value", value, param.dtype)
        state = self.state.setdefault(param, {})
        state["step"] = new_step()
        state["sum"] = state_tensor(np.full_like(param._data, value))
        return state

    def _validate_group(self, group: dict) -> None:
        check_option("Adagrad", "learning rate", group["lr"])
        check_option("Adagrad", "lr_decay value", group["lr_decay"])
        check_option("Adagrad", "weight_decay value", group["weight_decay"])
        check_option("Adagrad", "initial_accumulator_value value",
                     group["initial_accumulator_value"])
        check_option("Adagrad", "epsilon value", group["eps"])
        check_flag("Adagrad", group, "maximize")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state = self._init_state(param)
                step = advance_step(state)
                if weight_decay != 0:
                    grad = grad + weight_decay * param._data
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]._data
                state_sum += grad * grad
                std = np.sqrt(state_sum)
                std += eps
                param._data -= clr * grad / std
