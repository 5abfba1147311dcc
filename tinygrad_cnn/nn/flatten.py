"""``Flatten``: merge a range of dimensions into one (``torch.nn.Flatten``)."""

from .._checks import check_int
from .module import Module


class Flatten(Module):
    """x ``(N, C, H, W)`` -> ``(N, C*H*W)`` by default: dims ``start_dim..end_dim`` merged."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim)
        self.end_dim = check_int("Flatten", "end_dim", end_dim)

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
