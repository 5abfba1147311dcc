"""``Sequential``: modules applied one after another (``torch.nn.Sequential``)."""

import operator

from .module import Module


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
