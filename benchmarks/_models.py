"""The MNIST CNN of examples/train_cnn.py, here and in PyTorch, with the same weights.

Shared by bench_train.py and real_mnist.py so both time exactly the example's network.
"""

import os
import sys

import numpy as np

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [_ROOT, os.path.join(_ROOT, "examples")]

from train_cnn import mnist_cnn  # noqa: E402  (examples/train_cnn.py)

__all__ = ["mnist_cnn", "torch_mnist_cnn", "torch_copy"]


def torch_mnist_cnn(torch):
    """``mnist_cnn`` layer for layer in PyTorch (same state-dict keys)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def torch_copy(torch, model):
    """A PyTorch ``mnist_cnn`` holding ``model``'s weights, so both start alike."""
    twin = torch_mnist_cnn(torch)
    twin.load_state_dict({key: torch.from_numpy(np.array(value))
                          for key, value in model.state_dict().items()})
    return twin
