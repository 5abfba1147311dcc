"""``Flatten`` and ``Unflatten``: merge a range of dimensions into one, or split one
(``torch.nn.Flatten``, ``torch.nn.Unflatten``)."""

from .._checks import check_int, check_tensor, is_int, normalize_axis
from .module import Module


class Flatten(Module):
    """x ``(N, C, H, W)`` -> ``(N, C*H*W)`` by default: dims ``start_dim..end_dim`` merged."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim)
        self.end_dim = check_int("Flatten", "end_dim", end_dim)

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be -1):
    x ``(N, C*H*W)`` -> ``(N, C, H, W)`` for ``Unflatten(1, (C, H, W))``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = check_int("Unflatten", "dim", dim)
        if not isinstance(unflattened_size, (tuple, list)) or \
                not all(is_int(size) for size in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.unflattened_size = tuple(int(size) for size in unflattened_size)

    def forward(self, input):
        check_tensor("Unflatten", "input", input)
        dim = normalize_axis(self.dim, input.ndim, "Unflatten", input.shape)
        sizes = list(self.unflattened_size)
        known = 1
        for size in sizes:
            known *= size if size != -1 else 1
        if sizes.count(-1) == 1 and known:
            sizes[sizes.index(-1)] = input.shape[dim] // known
        if sizes.count(-1) > 1 or int(_product(sizes)) != input.shape[dim]:
            raise RuntimeError(f"Unflatten: unflattened_size {self.unflattened_size} does not "
                               f"multiply to dimension {self.dim} of size {input.shape[dim]} "
                               f"(input shape {input.shape})")
        return input.reshape(*input.shape[:dim], *sizes, *input.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _product(sizes) -> int:
    total = 1
    for size in sizes:
        total *= size
    return total
