"""Adam and AdamW with PyTorch's exact update rules (``torch.optim.Adam`` / ``AdamW``)."""

import numpy as np

from .._checks import LengthError
from .optimizer import (
    Optimizer,
    advance_step,
    check_flag,
    check_option,
    lerp_,
    new_step,
    state_tensor,
)


def check_adam_group(name: str, group: dict, flags=()) -> None:
    """The options the Adam family shares (``lr``, ``eps``, ``betas``, ``weight_decay``),
    checked with PyTorch's messages, and the group's boolean ``flags``; ``betas`` becomes a
    tuple."""
    check_option(name, "learning rate", group["lr"])
    check_option(name, "epsilon value", group["eps"])
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)):
        raise TypeError(f"{name}: betas must be a pair of floats, got {betas!r}")
    if len(betas) != 2:  # PyTorch: IndexError from betas[1] when one is missing
        raise LengthError(f"{name}: betas must be a pair of floats, got {betas!r}")
    group["betas"] = tuple(betas)
    for index, beta in enumerate(betas):
        check_option(name, f"beta parameter at index {index}", beta, high=1.0,
                     include_high=False)
    check_option(name, "weight_decay value", group["weight_decay"])
    for flag in flags:
        check_flag(name, group, flag)


def weight_decayed(group: dict, data: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient with the group's weight decay: an L2 term added to it, or (with
    ``decoupled_weight_decay``) the parameter scaled by ``1 - lr * weight_decay`` in place."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    if group.get("decoupled_weight_decay", False):
        data *= 1 - group["lr"] * weight_decay
        return grad
    return grad + weight_decay * data


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``.

    Per parameter ``p`` with gradient ``g`` (``-g`` when maximizing) at step ``t`` (counting
    from 1), as PyTorch::

        g = g + weight_decay * p                  (L2 penalty; with decoupled_weight_decay,
                                                   as AdamW, p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                     (amsgrad: the largest v so far is used)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Note where ``eps`` sits: added after the bias-corrected square root, as PyTorch does.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _state_spec_for(self, group: dict) -> dict:
        spec = {"step": "step", "exp_avg": "array", "exp_avg_sq": "array"}
        if group["amsgrad"]:
            spec["max_exp_avg_sq"] = "array"
        return spec

    def _validate_group(self, group: dict) -> None:
        check_adam_group(type(self).__name__, group, ("amsgrad", "maximize",
                                                      "decoupled_weight_decay"))

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            for param, grad, state in self._params_with_grad(group):
                data = param._data
                if not state:
                    state["step"] = new_step()
                    state["exp_avg"] = state_tensor(np.zeros_like(data))
                    state["exp_avg_sq"] = state_tensor(np.zeros_like(data))
                    if amsgrad:
                        state["max_exp_avg_sq"] = state_tensor(np.zeros_like(data))
                step = advance_step(state)
                grad = weight_decayed(group, data, grad)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                lerp_(exp_avg, grad, 1 - beta1)
                # Two scratch arrays, written in place: no other full-size temporary.
                scratch = np.multiply(grad, 1 - beta2, dtype=data.dtype)
                scratch *= grad
                exp_avg_sq *= beta2
                exp_avg_sq += scratch
                if amsgrad:
                    second = state["max_exp_avg_sq"]._data
                    np.maximum(second, exp_avg_sq, out=second)
                else:
                    second = exp_avg_sq
                step_size = lr / (1 - beta1**step)
                denom = np.sqrt(second)
                denom /= (1 - beta2**step) ** 0.5
                denom += eps
                np.multiply(exp_avg, step_size, out=scratch)
                scratch /= denom
                data -= scratch


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False,
    fused=None)``.

    Adam with decoupled weight decay: each step first scales the parameter by
    ``1 - lr * weight_decay`` and leaves the gradient alone (``torch.optim.AdamW``; its groups
    say ``decoupled_weight_decay=True``, as PyTorch's).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
