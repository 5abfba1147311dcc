"""Layers and models in PyTorch's words (``torch.nn``): ``Module``, ``Parameter``, layers.

State-dict keys are PyTorch's, so a model's weights move to and from PyTorch by array
conversion alone; default initialisation is PyTorch's (Kaiming-uniform), seeded by
:func:`tinygrad_cnn.manual_seed`.
"""

from . import init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm2d
from .container import Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .module import Module
from .parameter import Parameter
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    LPPool2d,
    MaxPool2d,
    MaxUnpool2d,
)
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "Module", "Parameter", "init", "utils",
    "Linear", "Conv1d", "Conv2d", "ConvTranspose2d",
    "MaxPool2d", "MaxUnpool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
    "Flatten", "Dropout", "BatchNorm2d", "Sequential",
]
