"""The MNIST CNN of examples/train_cnn.py, here and in PyTorch, with the same weights; and a
CIFAR-style ResNet-8 written once, PyTorch-spelled, for either library.

Shared by bench_train.py and real_mnist.py so both time exactly the example's network.
"""

import os
import sys

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [_ROOT, os.path.join(_ROOT, "examples")]

from train_cnn import mnist_cnn  # noqa: E402  (examples/train_cnn.py)

__all__ = ["mnist_cnn", "torch_mnist_cnn", "torch_copy", "resnet8", "torch_resnet8"]


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
    twin.load_state_dict({key: torch.from_numpy(value.numpy())
                          for key, value in model.state_dict().items()})
    return twin


def resnet8(nn, F, classes=10):
    """A CIFAR-style ResNet-8 in library ``nn`` / ``F`` (tinygrad_cnn's or PyTorch's, the
    same code): 3x32x32 -> conv3x3 16, BN, ReLU; three residual blocks (16, 32 stride 2,
    64 stride 2; two conv3x3 + BN each, a 1x1 conv + BN shortcut where the shape changes);
    8x8 average pool, linear -> ``classes``."""

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))

    class ResNet8(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(16)
            self.layers = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
            self.fc = nn.Linear(64, classes)

        def forward(self, x):
            out = self.layers(F.relu(self.bn(self.conv(x))))
            return self.fc(F.avg_pool2d(out, 8).flatten(1))

    return ResNet8()


def torch_resnet8(torch, model):
    """PyTorch's ``resnet8`` holding ``model``'s parameters and buffers."""
    twin = resnet8(torch.nn, torch.nn.functional)
    twin.load_state_dict({key: torch.from_numpy(value.numpy())
                          for key, value in model.state_dict().items()}, strict=False)
    return twin
