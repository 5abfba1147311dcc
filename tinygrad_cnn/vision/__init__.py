"""torchvision's spelling: ``import tinygrad_cnn.vision as torchvision``.

``datasets`` (``MNIST``, ``FashionMNIST``, ``CIFAR10``) and ``transforms`` (``Compose``,
``ToTensor``, ``Normalize``, ``RandomCrop``, ``RandomHorizontalFlip``, ``Resize``,
``CenterCrop``, ``Pad``, ``Lambda``), working on numpy images where torchvision uses PIL.
"""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
