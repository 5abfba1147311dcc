"""``tinygrad_cnn.utils.data``: the PyTorch module path of :mod:`tinygrad_cnn.data`
(``from tinygrad_cnn.utils.data import DataLoader`` works as ``from torch.utils.data ...``)."""

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
