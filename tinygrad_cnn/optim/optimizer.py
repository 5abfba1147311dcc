"""``Optimizer``: parameter groups, per-parameter state and state dicts (as ``torch.optim``).

Subclasses define ``step()``; the updates work in place on ``param.data`` with numpy, outside
any graph, and skip parameters whose ``.grad`` is ``None``.
"""

import copy
import numbers

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


def check_hyperparameter(optimizer: str, name: str, value, low: float = 0.0, high=None,
                         include_high: bool = False) -> None:
    """Raise ``ValueError``/``TypeError`` unless ``low <= value`` (and ``value < high``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a real number, got {type(value).__name__}")
    if value != value or value < low or (
        high is not None and (value > high if include_high else value >= high)
    ):
        upper = "" if high is None else f" and {'<=' if include_high else '<'} {high}"
        raise ValueError(f"{optimizer}: invalid {name} value {value} (must be >= {low}{upper})")


class Optimizer:
    """Base class: holds ``param_groups`` (a list of dicts) and ``state`` (per parameter).

    ``params`` is an iterable of tensors, or of dicts each holding ``"params"`` and options
    that override ``defaults`` for that group, as in PyTorch.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = {}  # parameter -> dict of arrays and the step count
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "but got a Tensor (wrap it in a list)"
            )
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (missing ones from ``defaults``)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}: a param group needs a 'params' entry")
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears more than once in a param group")
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._validate_group(group)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group: dict) -> None:
        """Subclasses check a group's options here (also for groups added later)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to ``None`` by default, as PyTorch 2)."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad[...] = 0

    def step(self, closure=None):
        """Update the parameters once.  ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._update()
        return loss

    def _update(self) -> None:
        raise NotImplementedError

    def _params_with_grad(self, group):
        for param in group["params"]:
            if param.grad is not None:
                yield param, param.grad, self.state.setdefault(param, {})

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are numbered in group order, as in PyTorch; state arrays are copies.
        """
        index_of, groups = {}, []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if self.state.get(param):  # SGD without momentum keeps no state
                    state[index_of[id(param)]] = {
                        key: self._export_state_value(key, value)
                        for key, value in self.state[param].items()
                    }
        return {"state": state, "param_groups": groups}

    @staticmethod
    def _export_state_value(key, value):
        if key == "step":
            # PyTorch keeps the step as a float32 0-d tensor.
            return np.array(value, dtype=np.float32)
        if isinstance(value, np.ndarray):
            return value.copy()
        return copy.deepcopy(value)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore groups' options and per-parameter state saved by :meth:`state_dict`.

        Array-likes (PyTorch tensors included) are converted and cast to each parameter's
        dtype; ``step`` becomes an int.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             "'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {number} holds "
                    f"{len(saved['params'])} parameters in the state dict but "
                    f"{len(group['params'])} in the optimizer"
                )
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            param_of.update(zip(saved["params"], group["params"]))
        new_state = {}
        for index, entries in state_dict["state"].items():
            key = int(index) if not isinstance(index, int) else index
            if key not in param_of:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {index}")
            param = param_of[key]
            new_state[param] = {
                k: self._import_state_value(k, v, param) for k, v in entries.items()
            }
        for group, saved in zip(self.param_groups, saved_groups):
            options = {k: v for k, v in saved.items() if k != "params"}
            group.update(copy.deepcopy(options))
        self.state = new_state

    @staticmethod
    def _import_state_value(key, value, param):
        if value is None:
            return None
        if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
            value = value.detach().cpu().numpy()
        if key == "step":
            return int(np.asarray(value).item())
        array = np.array(value)  # a copy: the state dict must not alias our state
        if array.dtype.kind == "f" or array.shape == param.shape:
            array = array.astype(param.dtype, copy=False)
        return array

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
