"""Containers (as ``torch.nn``): ``Sequential`` (modules applied one after another),
``ModuleList`` (a list of modules), ``ModuleDict`` (a dict of modules), ``ParameterList`` and
``ParameterDict`` (of parameters), each registering its entries so their parameters and
state-dict keys are PyTorch's (``"0.weight"``, ``"conv.bias"``, ``"0"``, ``"scale"``)."""

import operator
from collections import OrderedDict, abc

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class Sequential(Module):
    """``Sequential(*modules)`` or ``Sequential(dict_of_named_modules)``.

    ``forward(x)`` feeds ``x`` through each module in order.  Children are named ``"0"``,
    ``"1"``, ... (or by the dict's keys), so state-dict keys are PyTorch's (``"0.weight"``).
    Indexable (an int gives a module, a slice a new ``Sequential`` sharing the modules),
    with ``len``, iteration and ``append``.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self._add(name, module)
        else:
            for index, module in enumerate(modules):
                self._add(str(index), module)

    def _add(self, name, module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module "
                            f"(entry {name!r})")
        self.add_module(name, module)

    def _index(self, index) -> int:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"Sequential: indices must be integers or slices, "
                            f"not {type(index).__name__}") from None
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"Sequential: index {index} is out of range for {size} modules")
        return index % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return list(self._modules.values())[self._index(index)]

    def __setitem__(self, index, module) -> None:
        name = list(self._modules)[self._index(index)]
        self._add(name, module)

    def __delitem__(self, index) -> None:
        names = list(self._modules)
        doomed = names[index] if isinstance(index, slice) else [names[self._index(index)]]
        for name in doomed:
            del self._modules[name]
        # Renumber, as PyTorch does, so keys stay "0", "1", ...
        remaining = list(self._modules.values())
        self._modules.clear()
        self._modules.update((str(i), module) for i, module in enumerate(remaining))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module) -> "Sequential":
        """Add ``module`` at the end (named by its position)."""
        self._add(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules, registered as children ``"0"``, ``"1"``, ... (``torch.nn.ModuleList``).

    Indexing (an int, a negative int, a slice -> a new ``ModuleList`` of the same modules),
    assignment, ``del``, ``len``, iteration, ``append``, ``extend``, ``insert``, ``pop``,
    ``+`` and ``+=``.  It has no ``forward``: the model's ``forward`` iterates it.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index) -> int:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"ModuleList: indices must be integers or slices, "
                            f"not {type(index).__name__}") from None
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"ModuleList: index {index} is out of range for {size} modules")
        return index % size

    def _renumber(self, modules) -> None:
        self._modules.clear()
        for position, module in enumerate(modules):
            self._set(str(position), module)

    def _set(self, name: str, module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module subclass")
        self.add_module(name, module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index, module) -> None:
        self._set(str(self._index(index)), module)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other) -> "ModuleList":
        if not isinstance(other, ModuleList):
            raise TypeError(f"ModuleList: can only add a ModuleList, got {type(other).__name__}")
        return ModuleList(list(self) + list(other))

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, module) -> "ModuleList":
        """Add ``module`` at the end."""
        self._set(str(len(self)), module)
        return self

    def extend(self, modules) -> "ModuleList":
        """Append every module of the iterable ``modules``."""
        if not isinstance(modules, abc.Iterable) or isinstance(modules, Module) and \
                not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got "
                            f"{type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        modules = list(self._modules.values())
        modules.insert(operator.index(index), module)
        self._renumber(modules)

    def pop(self, index: int = -1):
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it in your "
                                  "model's forward")


class ModuleDict(Module):
    """An ordered dict of modules, registered as children under their keys
    (``torch.nn.ModuleDict``): ``d[key]``, ``d[key] = m``, ``del d[key]``, ``in``, ``len``,
    iteration over the keys, ``keys``, ``items``, ``values``, ``update``, ``pop``, ``clear``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str):
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {type(module).__name__} is not a Module subclass "
                            f"(key {key!r})")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str):
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add the modules of a mapping (or an iterable of ``(key, module)`` pairs), in order."""
        if isinstance(modules, (abc.Mapping, ModuleDict)):
            pairs = list(modules.items())
        elif isinstance(modules, abc.Iterable):
            pairs = []
            for position, pair in enumerate(modules):
                if not isinstance(pair, abc.Iterable) or isinstance(pair, (str, Module)):
                    raise TypeError(f"ModuleDict.update: element #{position} should be an "
                                    f"iterable of (key, module), got {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict.update: element #{position} has length "
                                     f"{len(pair)}; 2 is required")
                pairs.append(pair)
        else:
            raise TypeError(f"ModuleDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(modules).__name__}")
        for key, module in pairs:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: index it in your model's forward")


def _entry_line(key, value, dtype_name) -> str:
    """One line of PyTorch's ``ParameterList`` / ``ParameterDict`` repr."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): {kind} containing: [{dtype_name(value)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_parameter(value):
    """A Tensor entry as a :class:`Parameter` sharing its data (as PyTorch wraps it); any
    other value (a Parameter, None, another object) as it is."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters registered as ``"0"``, ``"1"``, ... (``torch.nn.ParameterList``).

    A Tensor entry becomes a :class:`Parameter` sharing its data; other objects are kept as
    they are (and are not parameters).  Indexing (an int, a negative int, a slice -> a new
    ``ParameterList`` of the same entries), assignment, ``len``, iteration, ``append``,
    ``extend`` and ``+=``, as PyTorch's (which has no ``insert`` or ``del``).  Calling it is
    an error.
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _name(self, index) -> str:
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"ParameterList: index {index} is out of range for "
                             f"{len(self)} entries")
        return str(index % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            out = type(self)()
            for position in range(*index.indices(len(self))):
                out.append(self[position])
            return out
        return getattr(self, self._name(index))

    def __setitem__(self, index, value) -> None:
        setattr(self, self._name(index), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return iter([self[position] for position in range(len(self))])

    def __iadd__(self, values) -> "ParameterList":
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value) -> "ParameterList":
        """Add ``value`` at the end."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values) -> "ParameterList":
        """Append every entry of the iterable ``values`` (a Tensor is one entry's worth, not an
        iterable here, as PyTorch)."""
        if not isinstance(values, abc.Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(position, value, lambda t: f"tinygrad_cnn.{t.dtype}")
                         for position, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of parameters registered under their (string) keys
    (``torch.nn.ParameterDict``).

    A Tensor value becomes a :class:`Parameter` sharing its data; other objects are kept as
    they are.  ``d[key]``, ``d[key] = value``, ``del d[key]``, ``in``, ``len``, iteration
    over the keys, ``reversed``, ``keys``, ``items``, ``values``, ``get``, ``setdefault``,
    ``pop``, ``popitem``, ``clear``, ``copy``, ``fromkeys``, ``update`` and ``|``, ``|=``, as
    PyTorch's: ``update`` (and the constructor) keeps the order of an ``OrderedDict``, a
    ``ParameterDict`` or a sequence of pairs, and sorts the keys of any other mapping (a
    plain dict).  Calling it is an error.
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attribute(key) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: a key must be a str, got {type(key).__name__} "
                            f"({key!r})")
        return key

    def __getitem__(self, key):
        return getattr(self, self._attribute(key))

    def __setitem__(self, key, value) -> None:
        self._keys[key] = None
        setattr(self, self._attribute(key), _as_parameter(value))

    def __delitem__(self, key) -> None:
        del self._keys[key]
        delattr(self, self._attribute(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def copy(self) -> "ParameterDict":
        """A new ``ParameterDict`` holding the same entries, in order."""
        return ParameterDict(OrderedDict((key, self[key]) for key in self._keys))

    def setdefault(self, key, default=None):
        """``self[key]``, first set to ``default`` if ``key`` is missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        """Remove the entry under ``key`` and return it."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove the last entry and return ``(key, value)``."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        """``self[key]`` if ``key`` is present, else ``default``."""
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        """A new ``ParameterDict`` with ``default`` under each of ``keys``."""
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        """The keys, in order."""
        return self._keys.keys()

    def items(self):
        """``(key, value)`` pairs, in order."""
        return ((key, self[key]) for key in self._keys)

    def values(self):
        """The values, in order."""
        return (self[key] for key in self._keys)

    def update(self, parameters) -> None:
        """Set the entries of ``parameters`` (see the class docstring for their order)."""
        if not isinstance(parameters, abc.Iterable):
            raise TypeError(f"ParameterDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, abc.Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = []
            for position, pair in enumerate(parameters):
                if not isinstance(pair, abc.Iterable):
                    raise TypeError(f"ParameterDict.update: element #{position} should be "
                                    f"an iterable of (key, value), got {type(pair).__name__}")
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{position} has length "
                                     f"{len(pair)}; 2 is required")
                pairs.append(pair)
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(key, value, lambda t: t.type())
                         for key, value in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other) -> "ParameterDict":
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other) -> "ParameterDict":
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other) -> "ParameterDict":
        self.update(other)
        return self
