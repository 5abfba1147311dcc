"""Adam and AdamW with PyTorch's exact update rules (``torch.optim.Adam`` / ``AdamW``)."""

import numpy as np

from .._checks import check_real
from .optimizer import PYTORCH_ONLY_OPTIONS, Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``.

    Per parameter ``p`` with gradient ``g`` at step ``t`` (counting from 1), as PyTorch::

        g = g + weight_decay * p                  (L2 penalty; AdamW decays p instead)
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Note where ``eps`` sits: added after the bias-corrected square root, as PyTorch does.
    """

    _decoupled_weight_decay = False
    _state_spec = {"step": "step", "exp_avg": "array", "exp_avg_sq": "array"}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        name = type(self).__name__
        check_real(name, "learning rate", group["lr"], low=0.0)
        check_real(name, "epsilon", group["eps"], low=0.0)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair of floats, got {betas!r}")
        group["betas"] = tuple(betas)
        for index, beta in enumerate(betas):
            check_real(name, f"beta parameter at index {index}", beta, low=0.0, high=1.0,
                       include_high=False)
        check_real(name, "weight_decay", group["weight_decay"], low=0.0)

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param._data)
                    state["exp_avg_sq"] = np.zeros_like(param._data)
                state["step"] += 1
                step = state["step"]
                if weight_decay != 0:
                    if self._decoupled_weight_decay:
                        param._data *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param._data
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                # torch's lerp_ with weight < 0.5 computes m + w * (g - m); keep its rounding.
                exp_avg += (1 - beta1) * (grad - exp_avg)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (grad * grad)
                step_size = lr / (1 - beta1**step)
                denom = np.sqrt(exp_avg_sq) / (1 - beta2**step) ** 0.5
                denom += eps
                param._data -= step_size * (exp_avg / denom)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``.

    Adam with decoupled weight decay: each step first scales the parameter by
    ``1 - lr * weight_decay`` and leaves the gradient alone (``torch.optim.AdamW``).
    """

    _decoupled_weight_decay = True
    # PyTorch's AdamW is its Adam with decoupled_weight_decay=True, and says so in its groups.
    _fixed_options = {**PYTORCH_ONLY_OPTIONS, "decoupled_weight_decay": (True,)}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
