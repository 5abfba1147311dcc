"""``Module``: the base class of every layer and model (as ``torch.nn.Module``).

A module owns three ordered registries, filled by plain attribute assignment:

- ``_parameters``: :class:`Parameter` objects (or ``None`` for an optional one, such as a
  missing bias), the learnable weights;
- ``_buffers``: ``Tensor`` objects that are state but not learned (BatchNorm's running
  statistics), registered with :meth:`Module.register_buffer` or by assigning a
  :class:`Buffer` (or ``None``);
- ``_modules``: sub-modules.

Insertion order is kept, so ``state_dict()`` produces PyTorch's keys in PyTorch's order
(``"0.weight"``, ``"conv1.bias"``, ``"bn.running_mean"``) and a state dict converts to and
from PyTorch's by array conversion alone.  Its values are the module's own tensors, detached
(sharing memory, as PyTorch's); ``state_dict.py`` loads them back.
"""

import itertools
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from .._checks import check_bool
from ..autograd import no_grad
from ..devices import check_device, is_device_like
from ..tensor import Tensor, to_numpy
from .parameter import Buffer, Parameter
from .state_dict import EXTRA_STATE_KEY_SUFFIX, load_state_dict, local_state


def _as_buffer(name: str, value):
    """``value`` as a buffer: ``None``, a ``Tensor`` itself (the same object, as PyTorch), or
    a numeric array (an ndarray, a torch tensor) wrapped in a ``Tensor`` sharing its memory;
    anything else is a ``TypeError``, as in PyTorch."""
    if value is None:
        return None
    if not hasattr(value, "__array__"):  # arrays and tensors, not lists, numbers or strings
        raise TypeError(
            f"cannot assign '{type(value).__name__}' object to buffer '{name}' "
            "(torch Tensor or None required)"
        )
    array = to_numpy(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"cannot assign an array of dtype {array.dtype} to buffer '{name}' "
            "(bool, int or float data required)"
        )
    return value if isinstance(value, Tensor) else Tensor._make(array)


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` unregisters the hook (also as a
    context manager's exit), as ``torch.utils.hooks.RemovableHandle``."""

    _ids = itertools.count()

    def __init__(self, *registries):
        self.id = next(RemovableHandle._ids)
        self._registries = [weakref.ref(registry) for registry in registries]

    def remove(self) -> None:
        for reference in self._registries:
            registry = reference()
            if registry is not None:
                registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(OrderedDict):
    """An ordered dict that a weak reference can point at (plain dicts cannot)."""


def _indent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (so it nests under ``(name): ``)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class for layers and models.

    Subclasses call ``super().__init__()`` first, assign :class:`Parameter`\\ s, sub-modules
    and buffers as attributes, and define ``forward``; calling the module runs ``forward``.
    ``training`` is ``True`` until :meth:`eval` is called.
    """

    def __init__(self):
        # Bypass our __setattr__: it consults these very dicts.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", _HookDict())
        object.__setattr__(self, "_forward_hooks", _HookDict())
        object.__setattr__(self, "_hooks_with_kwargs", set())
        object.__setattr__(self, "_always_called", set())
        object.__setattr__(self, "_state_dict_pre_hooks", _HookDict())
        object.__setattr__(self, "_state_dict_hooks", _HookDict())
        object.__setattr__(self, "_load_state_dict_pre_hooks", _HookDict())
        object.__setattr__(self, "_load_state_dict_post_hooks", _HookDict())

    # ------------------------------------------------------------------ registration
    def _check_new_name(self, kind: str, name) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot register {kind} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")

    def register_parameter(self, name: str, param) -> None:
        """Register ``param`` (a :class:`Parameter` or ``None``) under ``name``."""
        self._check_new_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register ``tensor`` (a ``Tensor`` or ``None``) as a buffer, as PyTorch's.

        Buffers are module state that is not learned (BatchNorm's running statistics): the
        ``Tensor`` itself is kept (a numeric numpy array is wrapped in a ``Tensor`` sharing its
        memory) and read back as an attribute; it appears in ``state_dict()`` unless
        ``persistent=False``, is converted by ``to(dtype)``/``double()`` when floating, and is
        never in ``parameters()``.  Any other value (a string, a list, a string array) is a
        ``TypeError``.
        """
        self._check_new_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        self._buffers[name] = _as_buffer(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module) -> None:
        """Register ``module`` (a :class:`Module` or ``None``) as a child named ``name``."""
        self._check_new_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        registries = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)) and registries is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif registries is not None and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif registries is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            self._modules[name] = None
        elif isinstance(value, Buffer):
            if registries is None:
                raise AttributeError(
                    f"cannot assign Buffer '{name}' before Module.__init__() call "
                    f"(call super().__init__() first in {type(self).__name__}.__init__)"
                )
            self._forget(name, keep=self._buffers)
            self._buffers[name] = value
            if not value.persistent:
                self._non_persistent_buffers.add(name)
        elif registries is not None and name in self._buffers:
            self._buffers[name] = _as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from the instance dict and every registry but ``keep``, the one it
        is about to be assigned into: re-assigning there replaces the value in place, so the
        name keeps its position in ``state_dict()`` (as PyTorch)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails, i.e. for registered entries.
        state = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in state and name in state[registry]:
                return state[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    # ------------------------------------------------------------------ running
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        with_kwargs = self._hooks_with_kwargs
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook registered with_kwargs=True must "
                                           f"return None or (args, kwargs), got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            for key in self._always_called:  # always_call=True: run them on failure too
                hook = self._forward_hooks.get(key)
                if hook is not None:
                    try:
                        (hook(self, args, kwargs, None) if key in with_kwargs
                         else hook(self, args, None))
                    except Exception:  # the forward's error is the one to report
                        pass
            raise
        for key, hook in list(self._forward_hooks.items()):
            result = (hook(self, args, kwargs, output) if key in with_kwargs
                      else hook(self, args, output))
            if result is not None:
                output = result
        return output

    # ------------------------------------------------------------------ hooks
    def _add_hook(self, registry, hook, prepend: bool, with_kwargs: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(registry)
        registry[handle.id] = hook
        if prepend:
            registry.move_to_end(handle.id, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward`` (``hook(module, args, kwargs)``
        with ``with_kwargs``); a non-None result replaces the arguments.  Returns a handle
        whose ``remove()`` unregisters it (``torch.nn.Module.register_forward_pre_hook``)."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``
        (``hook(module, args, kwargs, output)`` with ``with_kwargs``); a non-None result
        replaces the output; with ``always_call`` the hook also runs (output ``None``) when
        ``forward`` raises (``torch.nn.Module.register_forward_hook``)."""
        handle = self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)
        if always_call:
            self._always_called.add(handle.id)
        return handle

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(name, module)`` for this module (name ``prefix``) and every descendant,
        each once (every occurrence with ``remove_duplicate=False``)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                            remove_duplicate)

    def get_submodule(self, target: str) -> "Module":
        """The descendant at the dotted path ``target`` (``""``: this module), as PyTorch's;
        ``AttributeError`` naming the missing part otherwise."""
        if target == "":
            return self
        module = self
        for part in target.split("."):
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str):
        """The parameter at the dotted path ``target`` (``"0.weight"``)."""
        owner, _, name = target.rpartition(".")
        module = self.get_submodule(owner)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        owner, _, name = target.rpartition(".")
        module = self.get_submodule(owner)
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer `{name}`")
        return module._buffers[name]

    def modules(self):
        """Yield this module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield ``(name, module)`` for each direct child, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct child module once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True):
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_name, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{owner_name}.{name}" if owner_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """Yield ``(qualified_name, parameter)``, each shared parameter once (under every
        name with ``remove_duplicate=False``)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Yield every parameter once (the input an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """Yield ``(qualified_name, tensor)`` for every buffer that is not ``None``, each
        shared buffer once (under every name with ``remove_duplicate=False``)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Yield every buffer (a ``Tensor``) that is not ``None``, each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn`` on every descendant (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True):
        """Set training mode (``mode=True``) or evaluation mode on this module and below."""
        mode = check_bool("train", "mode", mode)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode (as ``train(False)``): dropout off, BatchNorm uses running stats."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` on every parameter (to freeze or unfreeze the module)."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to ``None``, or to zeros in place)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.detach_()
                param.grad.zero_()

    def _cast_floating(self, dtype, every_dtype: bool = False) -> "Module":
        """Cast parameters and buffers to ``dtype`` in place: the floating ones, or with
        ``every_dtype`` all of them (``type()``, as PyTorch's).  A value already of ``dtype``
        keeps its memory, so a state dict taken before still shares it (as PyTorch's)."""
        dtype = np.dtype(dtype)
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param._data.dtype != dtype and (
                        every_dtype or param._data.dtype.kind == "f"):
                    param._data = param._data.astype(dtype)
                    if param.grad is not None:
                        param.grad = param.grad.astype(dtype)
            for name, buffer in module._buffers.items():
                # A converted buffer is a new Tensor (PyTorch's ``_buffers[k] = fn(buf)``).
                if buffer is not None and buffer._data.dtype != dtype and (
                        every_dtype or buffer._data.dtype.kind == "f"):
                    module._buffers[name] = Tensor._make(buffer._data.astype(dtype))
        return self

    def _apply(self, fn, recurse: bool = True):
        """Apply ``fn`` (Tensor -> Tensor) to every parameter, gradient and buffer, children
        first, as ``torch.nn.Module._apply``: a parameter keeps its object and takes the
        result's data (``param.data = fn(param)``), a buffer is replaced by the result."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            param.data = applied
            if param.grad is not None:
                with no_grad():
                    param.grad = fn(param.grad)
        for name, buffer in self._buffers.items():
            if buffer is not None:
                self._buffers[name] = fn(buffer)
        return self

    def type(self, dst_type):
        """Cast every parameter and buffer to ``dst_type`` (in place; returns ``self``)."""
        return self._cast_floating(np.dtype(dst_type), every_dtype=True)

    def float(self):
        """Cast floating parameters and buffers to float32 (in place; returns ``self``)."""
        return self._cast_floating(np.float32)

    def double(self):
        """Cast floating parameters and buffers to float64 (in place; returns ``self``)."""
        return self._cast_floating(np.float64)

    def half(self):
        """Cast floating parameters and buffers to float16 (in place; returns ``self``)."""
        return self._cast_floating(np.float16)

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: as
        ``torch.nn.Module.to``, in place, returning ``self``.  The device must be the CPU (a
        GPU raises ``RuntimeError``); a dtype casts the floating parameters and buffers."""
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif is_device_like(arg) or (isinstance(arg, int) and not isinstance(arg, bool)):
                device = arg
            elif not isinstance(arg, bool):
                dtype = arg
        check_device("Module.to", device)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dtype}")
        return self._cast_floating(dtype)

    def cpu(self):
        """``self``: modules live on the CPU."""
        return self

    def cuda(self, device=None):
        """Raises ``RuntimeError``: this library runs on the CPU with numpy."""
        check_device("Module.cuda", "cuda" if device is None else device)
        return self

    # ------------------------------------------------------------------ state dicts
    _version = 1  # the state-dict layout's version, saved in ``_metadata`` (as PyTorch)

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer as ``{qualified_name: Tensor}``, as
        ``torch.nn.Module.state_dict``.

        The values are the module's own state, detached (``keep_vars=True``: the
        :class:`Parameter` and buffer Tensors themselves), so they share memory with the model: an
        in-place change through the state dict changes the model, and a later step of the
        model shows in the state dict.  Take a real copy with
        ``{k: v.clone() for k, v in sd.items()}`` or ``copy.deepcopy(sd)``.  Keys are
        PyTorch's (``"0.weight"``, ``"bn.running_var"``, ``"bn.num_batches_tracked"``) in
        PyTorch's order, so ``{k: torch.from_numpy(v.numpy()) ...}`` loads into the equivalent
        PyTorch model.  Returns an ``OrderedDict`` with PyTorch's ``_metadata`` (each
        module's layout version), or ``destination`` filled in, keys prefixed by ``prefix``.
        Positional arguments (``destination, prefix, keep_vars``) are deprecated, as PyTorch's.
        """
        if args:
            warnings.warn("state_dict: positional args are being deprecated, use kwargs "
                          "instead (as PyTorch)", FutureWarning, stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=f"{prefix}{name}.",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            if hook(self, destination, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None (change the state "
                                   "dict in place instead)")
        return destination

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before this module's entries are put into
        a state dict (``torch.nn.Module.register_state_dict_pre_hook``)."""
        return self._add_hook(self._state_dict_pre_hooks, hook, False, False)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once this module's and
        its children's entries are in; it changes the state dict in place and returns
        ``None`` (``torch.nn.Module.register_state_dict_post_hook``)."""
        return self._add_hook(self._state_dict_hooks, hook, False, False)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module's entries are checked; it may
        change ``state_dict`` (a copy of the one given to ``load_state_dict``) in place, e.g.
        to rename keys (``torch.nn.Module.register_load_state_dict_pre_hook``)."""
        return self._add_hook(self._load_state_dict_pre_hooks, hook, False, False)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after this module and its children were
        loaded; it may change the key lists in place (clearing them avoids the strict
        error) and returns ``None`` (``torch.nn.Module.register_load_state_dict_post_hook``)."""
        return self._add_hook(self._load_state_dict_post_hooks, hook, False, False)

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """Put this module's own entries (not its children's) into ``destination``."""
        for name, value in local_state(self).items():
            destination[prefix + name] = value if keep_vars else value.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def get_extra_state(self):
        """State beyond parameters and buffers, saved under ``"_extra_state"`` when a
        subclass defines this (with :meth:`set_extra_state`), as PyTorch's."""
        raise RuntimeError("get_extra_state: reached Module.get_extra_state(), which should "
                           "never be called; define it in the subclass to save extra state")

    def set_extra_state(self, state) -> None:
        """Restore what :meth:`get_extra_state` returned (define both in a subclass)."""
        raise RuntimeError("set_extra_state: reached Module.set_extra_state(), which should "
                           "never be called; define it in the subclass to load extra state")

    def _loads_extra_state(self) -> bool:
        return type(self).set_extra_state is not Module.set_extra_state

    def _state_optional_names(self, version) -> frozenset:
        """Own entries a state dict saved at layout ``version`` (``None``: unknown) may
        lack, the current values being kept (BatchNorm's ``num_batches_tracked``)."""
        return frozenset()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy the values of ``state_dict`` into the parameters and buffers, in place, as
        ``torch.nn.Module.load_state_dict``.

        Values may be Tensors (this library's or PyTorch's), numpy arrays or any
        array-likes; each is cast to the dtype of the parameter or buffer it fills (with
        ``assign=True`` the values themselves become the parameters and buffers, keeping
        their dtype, each parameter keeping its ``requires_grad``).  Shape mismatches, and
        with ``strict`` missing or unexpected keys, raise one ``RuntimeError`` (also a
        ``ValueError``) with PyTorch's messages for every problem; **deliberate difference:**
        nothing is modified then (PyTorch copies the entries that fit first).  Returns the
        named tuple ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected state_dict to be dict-like, got "
                            f"{type(state_dict).__name__}")
        return load_state_dict(self, state_dict, bool(strict), bool(assign))

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_indent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
