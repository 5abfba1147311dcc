"""Loading a state dict into a module tree, as ``torch.nn.Module.load_state_dict``.

``Module.state_dict()`` (in ``module.py``) hands out the parameters and buffers themselves
(detached, sharing memory); this file is the way back in.  It follows PyTorch's walk: every
occurrence of a module (a module used twice is visited under both names) checks the keys
under its prefix, so the missing and unexpected keys, their order and the messages are
PyTorch's, and so are the hooks (``register_load_state_dict_pre_hook`` / ``_post_hook``).
One deliberate difference: the whole state dict is checked first and nothing is changed when
anything is wrong (PyTorch copies the entries that fit before it raises) -- unless a
post-hook is registered, which must see the loaded module: then the order is PyTorch's.
"""

from collections import OrderedDict, namedtuple

import numpy as np

from .._checks import ShapeError
from ..tensor import Size, Tensor, to_numpy
from .parameter import Parameter

EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the module expected and did not get, and
    the keys it got and does not have (PyTorch's class, name and ``repr``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def local_state(module) -> dict:
    """name -> value of ``module``'s own state-dict entries (not its children's): the
    parameters and persistent buffers that are not ``None``, in PyTorch's order."""
    state = {name: param for name, param in module._parameters.items() if param is not None}
    for name, buffer in module._buffers.items():
        if buffer is not None and name not in module._non_persistent_buffers:
            state[name] = buffer
    return state


def load_state_dict(module, state_dict, strict: bool, assign: bool) -> _IncompatibleKeys:
    """Check ``state_dict`` against ``module``'s tree, then copy (or with ``assign``, assign)
    every entry; see :meth:`Module.load_state_dict`."""
    loader = _Loader(getattr(state_dict, "_metadata", None), assign)
    loader.visit(module, OrderedDict(state_dict), "")  # a copy: pre-hooks may change it
    incompatible = _IncompatibleKeys(loader.missing, loader.unexpected)
    if loader.post_hooks:
        # A post-hook sees the loaded module and may clear the key lists before the strict
        # check, so here the order is PyTorch's: load, run the hooks, then raise.
        loader.apply()
        for owner, hook in loader.post_hooks:
            if hook(owner, incompatible) is not None:
                raise AssertionError("load_state_dict: a hook registered with "
                                     "register_load_state_dict_post_hook must return None "
                                     "(change incompatible_keys in place instead)")
    errors = loader.errors
    if strict:
        if loader.unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{key}"' for key in loader.unexpected)))
        if loader.missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{key}"' for key in loader.missing)))
    if errors:
        raise ShapeError(f"load_state_dict: Error(s) in loading state_dict for "
                         f"{type(module).__name__}:\n\t" + "\n\t".join(errors))
    if not loader.post_hooks:
        loader.apply()
    return incompatible


class _Loader:
    """One ``load_state_dict`` call: the problems found and the changes to make."""

    def __init__(self, metadata, assign: bool):
        self.metadata = metadata
        self.assign = assign
        self.missing, self.unexpected, self.errors = [], [], []
        self.changes = []     # callables, run once everything was checked
        self.post_hooks = []  # (module, hook), children's before their parent's

    def apply(self) -> None:
        for change in self.changes:
            change()

    def visit(self, module, state_dict: dict, prefix: str) -> None:
        """Check ``module``'s own entries (``state_dict``: the entries under ``prefix``),
        then its children's, as PyTorch's recursive ``load``."""
        local_metadata = {} if self.metadata is None else self.metadata.get(prefix[:-1], {})
        local_metadata = dict(local_metadata) if isinstance(local_metadata, dict) else {}
        if self.assign:
            local_metadata["assign_to_params_buffers"] = True
        for hook in module._load_state_dict_pre_hooks.values():
            hook(module, state_dict, prefix, local_metadata, True, self.missing,
                 self.unexpected, self.errors)
        own = local_state(module)
        optional = module._state_optional_names(local_metadata.get("version"))
        for name, current in own.items():
            key = prefix + name
            if key in state_dict:
                self.plan(module, name, current, key, state_dict[key])
            elif name not in optional:
                self.missing.append(key)
        extra_key = prefix + EXTRA_STATE_KEY_SUFFIX
        if module._loads_extra_state():
            if extra_key in state_dict:
                value = state_dict[extra_key]
                self.changes.append(lambda: module.set_extra_state(value))
            else:
                self.missing.append(extra_key)
        elif extra_key in state_dict:
            self.unexpected.append(extra_key)
        for key in state_dict:
            if key == extra_key or not key.startswith(prefix):
                continue
            head, dot, _ = key[len(prefix):].partition(".")
            if (head not in module._modules) if dot else (head not in own):
                self.unexpected.append(key)
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = f"{prefix}{name}."
                self.visit(child, {key: value for key, value in state_dict.items()
                                   if key.startswith(child_prefix)}, child_prefix)
        self.post_hooks.extend((module, hook)
                               for hook in module._load_state_dict_post_hooks.values())

    def plan(self, module, name: str, current, key: str, value) -> None:
        """Check one entry and record the change that loads it."""
        try:
            array = to_numpy(value)
        except Exception as error:  # noqa: BLE001 - any failure to make an array, by key
            self.errors.append(f'While copying the parameter named "{key}", expected a Tensor '
                               f"or an array from checkpoint but received {type(value)} "
                               f"({error})")
            return
        if array.dtype.kind not in "biuf":
            self.errors.append(f'While copying the parameter named "{key}", expected numeric '
                               f"data from checkpoint but received {type(value)} of dtype "
                               f"{array.dtype}")
            return
        target = current._data if isinstance(current, Tensor) else current
        if target.ndim == 0 and array.shape == (1,):  # PyTorch 0.3's 1-element scalars
            array = array.reshape(())
        if array.shape != target.shape:
            self.errors.append(f"size mismatch for {key}: copying a param with shape "
                               f"{Size(array.shape)} from checkpoint, the shape in current "
                               f"model is {Size(target.shape)}.")
            return
        if not self.assign:
            self.changes.append(lambda: _copy_into(current, target, array))
        elif isinstance(current, Parameter):
            requires_grad = current.requires_grad
            if requires_grad and array.dtype.kind != "f":
                self.errors.append(f'While assigning the parameter named "{key}": a parameter '
                                   "that requires grad must be floating point, the checkpoint "
                                   f"holds {array.dtype}")
                return
            keep = isinstance(value, Parameter) and value.shape == array.shape
            replacement = value if keep else Parameter(array, requires_grad=requires_grad)
            self.changes.append(lambda: setattr(module, name, replacement.requires_grad_(
                requires_grad)))
        else:
            self.changes.append(lambda: module._buffers.__setitem__(name, array))


def _copy_into(current, target: np.ndarray, array: np.ndarray) -> None:
    """``current.copy_(array)`` under ``no_grad``: in place (an optimizer holding the
    parameter, and earlier state dicts, keep seeing it), cast to the target's dtype."""
    np.copyto(target, array, casting="unsafe")
    if isinstance(current, Tensor):
        current._bump_version()
