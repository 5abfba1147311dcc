"""Learning-rate schedules (``torch.optim.lr_scheduler``), using PyTorch's recursive formulas.

A scheduler sets each param group's ``"lr"``; call ``scheduler.step()`` once per epoch, after
``optimizer.step()``.  Creating one records ``initial_lr`` in every group and performs step 0.
"""

import math

from .._checks import check_int, check_real
from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, ``state_dict()``."""

    def __init__(self, optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        check_int(name, "last_epoch", last_epoch, minimum=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param 'initial_lr' is not specified in param_groups[{index}] "
                        "when resuming with last_epoch >= 0 (load the optimizer's state first)"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        # PyTorch's first step (inside the constructor) keeps the current learning rates.
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list:
        """The learning rates for ``last_epoch`` (subclasses; called by :meth:`step`)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates the last :meth:`step` set, one per param group."""
        return self._last_lr

    def state_dict(self) -> dict:
        """Everything but the optimizer (as PyTorch)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = initial_lr * gamma ** (epoch // step_size)``, computed recursively as
    PyTorch does (so a learning rate changed by hand carries on from its new value).
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        check_int("StepLR", "step_size", step_size, minimum=1)
        check_real("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``initial_lr`` to ``eta_min`` over ``T_max`` epochs.

    Follows ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2`` with
    PyTorch's recursive update (and its rise again after ``T_max``), value for value.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        check_int("CosineAnnealingLR", "T_max", T_max, minimum=1)
        check_real("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        groups = self.optimizer.param_groups
        epoch, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return [group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * epoch / t_max)) / (
            1 + math.cos(math.pi * (epoch - 1) / t_max))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]
