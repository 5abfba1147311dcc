"""``tinygrad_cnn.utils``: PyTorch's module path ``torch.utils``; ``utils.data`` is
:mod:`tinygrad_cnn.data`."""

from . import data

__all__ = ["data"]
