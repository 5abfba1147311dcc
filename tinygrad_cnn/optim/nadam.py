"""NAdam, RAdam and Adamax with PyTorch's exact update rules (``torch.optim.NAdam`` /
``RAdam`` / ``Adamax``)."""

import numpy as np

from .adam import check_adam_group, weight_decayed
from .optimizer import Optimizer, advance_step, check_option, lerp_, new_step, state_tensor


def _moment_steps(optimizer: Optimizer, group: dict, second: str, scalar: str = ""):
    """``(data, grad, step, state, exp_avg, second moment)`` for each parameter of ``group``
    with a gradient, after the steps the family shares: the state made on the first step
    (``step``, then the 0-d ``scalar`` at 1 if named, ``exp_avg`` and ``second`` zeros),
    the step counted, the weight decay applied and ``exp_avg`` moved toward the gradient by
    ``1 - beta1``.  The caller finishes the update in place in its loop body."""
    beta1 = group["betas"][0]
    for param, grad, state in optimizer._params_with_grad(group):
        data = param._data
        if not state:
            state["step"] = new_step()
            if scalar:
                state[scalar] = state_tensor(np.ones((), dtype=np.float32))
            state["exp_avg"] = state_tensor(np.zeros_like(data))
            state[second] = state_tensor(np.zeros_like(data))
        step = advance_step(state)
        grad = weight_decayed(group, data, grad)
        exp_avg = state["exp_avg"]._data
        lerp_(exp_avg, grad, 1 - beta1)
        yield data, grad, step, state, exp_avg, state[second]._data


def _second_moment_(exp_avg_sq: np.ndarray, grad: np.ndarray, beta2: float) -> None:
    """``v = beta2 * v + (1 - beta2) * g * g`` in place."""
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``.

    Adam with Nesterov momentum, as PyTorch: at step ``t`` the momentum coefficient is
    ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``; ``mu_product`` (a float32
    0-d state entry, as PyTorch's) multiplies them up, and::

        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _state_spec = {"step": "step", "mu_product": "scalar", "exp_avg": "array",
                   "exp_avg_sq": "array"}

    def _validate_group(self, group: dict) -> None:
        check_adam_group("NAdam", group, ("maximize", "decoupled_weight_decay"))
        check_option("NAdam", "momentum_decay value", group["momentum_decay"])

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps, momentum_decay = group["lr"], group["eps"], group["momentum_decay"]
            beta1, beta2 = group["betas"]
            for data, grad, step, state, exp_avg, exp_avg_sq in _moment_steps(
                    self, group, "exp_avg_sq", "mu_product"):
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product = state["mu_product"]._data
                mu_product *= mu  # in float32, as PyTorch's 0-d float32 state
                _second_moment_(exp_avg_sq, grad, beta2)
                denom = exp_avg_sq / (1 - beta2**step)
                np.sqrt(denom, out=denom)
                denom += eps
                product = float(mu_product)
                data += (-lr * (1.0 - mu) / (1.0 - product)) * (grad / denom)
                data += (-lr * mu_next / (1.0 - product * mu_next)) * (exp_avg / denom)


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``.

    Rectified Adam, as PyTorch: with ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)``, the Adam step (``m`` bias-corrected,
    ``sqrt(1 - beta2**t) / (sqrt(v) + eps)``) scaled by the rectification
    ``sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`` when
    ``rho_t > 5``; otherwise plain momentum SGD, ``p = p - lr * m / (1 - beta1**t)``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _state_spec = {"step": "step", "exp_avg": "array", "exp_avg_sq": "array"}

    def _validate_group(self, group: dict) -> None:
        check_adam_group("RAdam", group, ("maximize", "decoupled_weight_decay"))

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for data, grad, step, _, exp_avg, exp_avg_sq in _moment_steps(self, group,
                                                                          "exp_avg_sq"):
                _second_moment_(exp_avg_sq, grad, beta2)
                bias_correction1, bias_correction2 = 1 - beta1**step, 1 - beta2**step
                update = exp_avg / bias_correction1
                update *= lr
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    adaptive = np.sqrt(exp_avg_sq)
                    adaptive += eps
                    np.divide(bias_correction2**0.5, adaptive, out=adaptive)
                    update *= adaptive
                    update *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                               / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                data -= update


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
    *, maximize=False, differentiable=False, capturable=False)``.

    Adam with the infinity norm, as PyTorch::

        g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m);   u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _state_spec = {"step": "step", "exp_avg": "array", "exp_inf": "array"}

    def _validate_group(self, group: dict) -> None:
        check_adam_group("Adamax", group, ("maximize",))

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for data, grad, step, _, exp_avg, exp_inf in _moment_steps(self, group,
                                                                       "exp_inf"):
                exp_inf *= beta2
                norm = np.abs(grad)
                norm += eps
                np.maximum(exp_inf, norm, out=exp_inf)
                clr = lr / (1 - beta1**step)
                np.divide(exp_avg, exp_inf, out=norm)
                norm *= clr
                data -= norm
