"""``Dropout``: inverted dropout while training, identity in eval mode (``torch.nn.Dropout``)."""

from .._checks import check_real
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` in training.

    x ``(*)`` -> ``(*)``.  The mask comes from :func:`tinygrad_cnn.random.generator`, so
    :func:`tinygrad_cnn.manual_seed` makes it repeatable.  ``inplace`` is accepted and
    computes out of place.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = check_real("Dropout", "p", p, low=0, high=1)
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
