"""``Optimizer``: parameter groups, per-parameter state and state dicts (as ``torch.optim``).

Subclasses define ``_update()``; the updates work in place on ``param._data`` with numpy,
outside any graph, and skip parameters whose ``.grad`` is ``None``.  Every update reads its
gradients through :meth:`Optimizer._params_with_grad` (which also applies ``maximize`` and
bumps each updated parameter's version counter, as PyTorch's in-place updates do, so a
backward through a graph that saved a parameter before ``step()`` raises instead of using the
new values).
"""

import copy
import math

import numpy as np
from scipy.linalg import blas

from .._checks import check_flag as _check_flag_value
from .._checks import is_int, is_real
from ..autograd.float_errors import quiet
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor, to_numpy

# PyTorch group options that only choose how PyTorch computes the same update (vectorised,
# fused, graph-capturable, differentiable): accepted at any bool/None value and ignored.
PYTORCH_ONLY_OPTIONS = {
    "foreach": (None, False, True),
    "capturable": (False, True),
    "differentiable": (False, True),
    "fused": (None, False, True),
}


def grad_array(grad):
    """The numpy array of a gradient, whether ``.grad`` holds a Tensor or an array."""
    return grad._data if isinstance(grad, Tensor) else grad


def check_option(optimizer: str, label: str, value, low=0.0, high=None,
                 include_high: bool = True):
    """A real hyper-parameter in ``[low, high]``; PyTorch's message for one out of range:
    ``ValueError("Adam: Invalid learning rate: -1")``; ``TypeError`` for a non-number."""
    if not is_real(value):
        raise TypeError(f"{optimizer}: {label} must be a number, got {value!r}")
    too_high = high is not None and not (value <= high if include_high else value < high)
    if not value >= low or too_high:
        raise ValueError(f"{optimizer}: Invalid {label}: {value}")
    return value


def check_flag(optimizer: str, group: dict, key: str) -> None:
    """A group's boolean option (``amsgrad``, ``maximize``, ...) must be a bool or an int
    (PyTorch reads it by truth value: ``nesterov=1`` works); the group keeps the value given,
    as PyTorch's does."""
    _check_flag_value(optimizer, key, group[key])


_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def add_scaled_(target: np.ndarray, values: np.ndarray, alpha: float) -> None:
    """``target += alpha * values`` in place, each element rounded once, as PyTorch's
    ``target.add_(values, alpha=alpha)`` (a fused multiply-add): BLAS ``axpy`` (one pass, no
    temporary) for C-contiguous float32/float64 arrays of one dtype and shape; numpy's two
    roundings otherwise."""
    axpy = _AXPY.get(target.dtype)
    if (axpy is not None and values.dtype == target.dtype and values.shape == target.shape
            and target.flags.c_contiguous and values.flags.c_contiguous
            and target.flags.writeable and target.size):
        axpy(values.reshape(-1), target.reshape(-1), a=alpha)
    else:
        target += alpha * values


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start`` moved in place toward ``end`` by ``weight``, by torch.lerp's two formulas
    (PyTorch's kernel fuses the multiply-add, so the last bit may still differ)."""
    if weight < 0.5:
        step = np.subtract(end, start, dtype=start.dtype)  # the one temporary
        step *= weight
        start += step
    else:
        start -= end
        start *= 1 - weight
        np.add(end, start, out=start)


def state_tensor(array: np.ndarray) -> Tensor:
    """A per-parameter state entry as PyTorch keeps it: a Tensor (``requires_grad=False``)
    over ``array``, which the steps update in place through ``._data``."""
    return Tensor._make(array)


def new_step() -> Tensor:
    """A fresh step count: a float32 0-d Tensor holding 0, as PyTorch's ``state["step"]``."""
    return state_tensor(np.zeros((), dtype=np.float32))


def advance_step(state: dict) -> int:
    """Add one to ``state["step"]`` in place; the new count as an int."""
    count = state["step"]._data
    count += 1
    return int(count)


class Optimizer:
    """Base class: holds ``param_groups`` (a list of dicts) and ``state`` (per parameter).

    ``params`` is an iterable of tensors, or of dicts each holding ``"params"`` and options
    that override ``defaults`` for that group, as in PyTorch.  PyTorch's implementation
    switches (``foreach``, ``fused``, ``capturable``, ``differentiable``) are accepted and
    ignored: they choose how PyTorch computes the same update.
    """

    # Implementation switch -> the values accepted (and ignored) in a group.
    _fixed_options = PYTORCH_ONLY_OPTIONS
    # Per-parameter state entry -> "step" (a whole number), "scalar" (a 0-d number, kept as
    # a float32 0-d Tensor as "step": NAdam's "mu_product"), "array" (shaped like the
    # parameter) or "optional array" (the same, or None / absent).  None (a subclass that
    # does not declare its state) loads whatever was saved, arrays copied.  Subclasses whose
    # state depends on a group's options override _state_spec_for.
    _state_spec = None

    def _state_spec_for(self, group: dict):
        """The state entries a parameter of ``group`` keeps (see ``_state_spec``)."""
        return self._state_spec

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = {}  # parameter -> dict of state Tensors (arrays updated in place)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "but got a Tensor (wrap it in a list)"
            )
        if isinstance(params, dict):
            params = [params]
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            f"dicts, got {type(params).__name__}") from None
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
        self._check_fixed_options(group, f"{name}: param group {len(self.param_groups)}")
        self._validate_group(group)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group: dict) -> None:
        """Subclasses check a group's options here (also for groups added later)."""

    def _check_fixed_options(self, group: dict, where: str) -> None:
        for option, allowed in self._fixed_options.items():
            if option not in group:
                continue
            value = group[option]
            if not ((value is None or isinstance(value, (bool, np.bool_))) and value in allowed):
                raise ValueError(f"{where}: option {option}={value!r} is not supported "
                                 f"(expected one of {allowed})")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to ``None`` by default, as PyTorch 2)."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.detach_()
                    param.grad.zero_()

    def step(self, closure=None):
        """Update the parameters once.  ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with quiet():   # an inf or NaN gradient updates silently, as PyTorch's
            self._update()
        self._opt_called = True  # lets a scheduler warn when it is stepped first (PyTorch's)
        return loss

    def _update(self) -> None:
        raise NotImplementedError

    def _params_with_grad(self, group):
        """``(param, gradient array, state dict)`` for each parameter of ``group`` that has a
        gradient; the gradient negated when the group maximizes.  The caller updates
        ``param._data`` in place (never rebinding it) in its loop body."""
        maximize = group.get("maximize", False)
        for param in group["params"]:
            if param.grad is None:
                continue
            grad = grad_array(param.grad)
            param._bump_version()  # about to change in place
            yield param, (-grad if maximize else grad), self.state.setdefault(param, {})
            # Here the loop body has finished this parameter's in-place update.

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are numbered in group order, as in PyTorch.  As PyTorch's, the state is
        returned by reference: each parameter's dict is the optimizer's own, holding the same
        Tensors, so a later ``step()`` shows through (copy it, or ``io.save`` it, to keep a
        snapshot); the groups are new dicts with ``params`` replaced by indices.
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
                    state[index_of[id(param)]] = self.state[param]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore groups' options and per-parameter state saved by :meth:`state_dict`
        (ours or PyTorch's).

        Everything is checked before anything changes: the layout (one saved group per
        group, each with a ``"params"`` list of as many distinct indices), the options (as
        the constructor checks them; PyTorch-only options only at their defaults), and each
        parameter's state (the entries this optimizer keeps, arrays shaped like the
        parameter).  A problem is a ``ValueError`` naming the group or parameter index.
        Array-likes (our Tensors, numpy arrays, PyTorch tensors) are copied into new Tensors
        cast to each parameter's dtype; ``step`` becomes a float32 0-d Tensor, as PyTorch's.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups'")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError(f"{where}: 'param_groups' must be a list of dicts, got "
                             f"{type(saved_groups).__name__}")
        if not isinstance(saved_state, dict):
            raise ValueError(f"{where}: 'state' must be a dict, got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: the state dict has {len(saved_groups)} parameter groups, the "
                f"optimizer {len(self.param_groups)}"
            )
        param_of, group_of, new_groups = {}, {}, []
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            indices = self._saved_indices(where, number, group, saved, param_of)
            param_of.update(indices)
            group_of.update(dict.fromkeys(indices, number))
            merged = {**group, **copy.deepcopy({k: v for k, v in saved.items() if k != "params"})}
            merged["params"] = group["params"]
            self._check_fixed_options(merged, f"{where}: param group {number}")
            self._validate_group(merged)
            new_groups.append(merged)
        new_state = {}
        for index, entries in saved_state.items():
            key = self._state_index(where, index)
            if key not in param_of:
                raise ValueError(f"{where}: state for unknown parameter {index!r} (the param "
                                 f"groups hold indices {sorted(param_of)})")
            state = self._load_entries(f"{where}: state of parameter {key}", entries,
                                       param_of[key], new_groups[group_of[key]])
            if state:
                new_state[param_of[key]] = state
        for group, merged in zip(self.param_groups, new_groups):
            group.clear()
            group.update(merged)
        self.state = new_state

    @staticmethod
    def _saved_indices(where: str, number: int, group: dict, saved, taken: dict) -> dict:
        """``{index: parameter}`` for saved group ``number``, after checking its layout."""
        if not isinstance(saved, dict):
            raise ValueError(f"{where}: param group {number} must be a dict, got "
                             f"{type(saved).__name__}")
        if "params" not in saved:
            raise ValueError(f"{where}: param group {number} has no 'params' entry")
        indices = saved["params"]
        if not isinstance(indices, (list, tuple)) or not all(is_int(i) for i in indices):
            raise ValueError(f"{where}: param group {number}: 'params' must be a list of "
                             f"parameter indices, got {indices!r}")
        if len(indices) != len(group["params"]):
            raise ValueError(
                f"{where}: parameter group {number} holds {len(indices)} parameters in the "
                f"state dict but {len(group['params'])} in the optimizer"
            )
        indices = [int(i) for i in indices]
        repeated = sorted({i for i in indices if i in taken or indices.count(i) > 1})
        if repeated:
            raise ValueError(f"{where}: param group {number}: parameter indices {repeated} "
                             "appear more than once in the state dict")
        return dict(zip(indices, group["params"]))

    @staticmethod
    def _state_index(where: str, index) -> int:
        if is_int(index):
            return int(index)
        if isinstance(index, str) and index.strip().lstrip("-").isdigit():
            return int(index)  # a state dict that went through JSON
        raise ValueError(f"{where}: state key {index!r} is not a parameter index")

    def _load_entries(self, where: str, entries, param, group: dict) -> dict:
        """One parameter's saved state, checked against its group's state spec and copied."""
        if not isinstance(entries, dict):
            raise ValueError(f"{where}: expected a dict, got {type(entries).__name__}")
        if not entries:
            return {}
        spec = self._state_spec_for(group)
        if spec is None:
            spec = {key: "step" if key == "step" else "any" for key in entries}
        unexpected = [key for key in entries if key not in spec]
        if unexpected:
            raise ValueError(f"{where}: unexpected entry {unexpected[0]!r} "
                             f"({type(self).__name__} keeps {sorted(spec)})")
        state = {}
        for key, kind in spec.items():
            value = entries.get(key)
            if kind == "any" and not hasattr(value, "__array__"):
                state[key] = copy.deepcopy(value)
                continue
            if value is None:
                if kind != "optional array":
                    raise ValueError(f"{where}: missing {key!r}")
                continue
            try:
                array = to_numpy(value)
            except Exception as error:  # whatever cannot become an array is reported by key
                raise ValueError(f"{where}: {key!r} is not an array ({error})") from None
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{where}: {key!r} must be numeric, got dtype {array.dtype}")
            if kind == "step":
                step = float(array) if array.shape == () else math.nan
                if not (step >= 0 and step.is_integer()):
                    raise ValueError(f"{where}: 'step' must be a whole number >= 0, got "
                                     f"{value!r}")
                state[key] = state_tensor(np.array(step, dtype=np.float32))
            elif kind == "scalar":
                if array.shape != ():
                    raise ValueError(f"{where}: {key!r} must be a 0-d number, got shape "
                                     f"{array.shape}")
                state[key] = state_tensor(np.array(array, dtype=np.float32))
            elif kind == "any":
                same = array.shape == param.shape
                state[key] = state_tensor(np.array(array, dtype=param.dtype if same else None))
            elif array.shape != param.shape:
                raise ValueError(f"{where}: {key!r} has shape {array.shape} but the parameter "
                                 f"has shape {param.shape}")
            else:
                # A copy: the state dict must not alias our state.
                state[key] = state_tensor(np.array(array, dtype=param.dtype))
        return state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
