"""``Dropout``, ``Dropout1d``, ``Dropout2d``, ``AlphaDropout`` and ``FeatureAlphaDropout``:
dropout while training, identity in eval mode (as ``torch.nn``)."""

from .._checks import check_bool, check_real
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        name = type(self).__name__
        self.p = check_real(name, "p", p, low=0, high=1)
        self.inplace = check_bool(name, "inplace", inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` in training
    (``torch.nn.Dropout``).

    x ``(*)`` -> ``(*)``.  The mask comes from :func:`tinygrad_cnn.random.generator`, so
    :func:`tinygrad_cnn.manual_seed` makes it repeatable.
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of sequences with probability ``p`` in training
    (``torch.nn.Dropout1d``): x ``(N, C, L)`` or ``(C, L)`` -> the same shape."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels with probability ``p`` in training (``torch.nn.Dropout2d``).

    x ``(N, C, H, W)`` -> the same shape (a 3-D input is taken as ``(N, C, L)``, as PyTorch
    2.x, with its warning).
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps a SELU network's zero mean and unit variance
    (``torch.nn.AlphaDropout``); x ``(*)`` -> ``(*)``."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """:class:`AlphaDropout` of whole channels (``torch.nn.FeatureAlphaDropout``);
    x ``(N, C, *)`` -> the same shape."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
