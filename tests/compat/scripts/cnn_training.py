"""A small CNN trained on random 8x8 images, in the usual PyTorch style: a device chosen at
run time, weights initialised through ``.data``, a training loop with an optimizer and
``out.max(1)`` accuracy under ``no_grad``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

device = "cuda" if torch.cuda.is_available() else "cpu"


class SmallNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def numpy_state(model, rng, scale=0.3):
    """The same starting weights for every run: drawn with numpy, loaded as tensors."""
    return {name: torch.tensor((rng.standard_normal(tuple(value.shape)) * scale)
                               .astype(np.float32))
            for name, value in model.state_dict().items()}


def main():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 3, size=32)

    model = SmallNet().to(device)
    init_std = model.conv1.weight.data.std().item()
    bias_sum = sum(m.bias.data.abs().sum().item() for m in (model.conv1, model.fc2))
    model.load_state_dict(numpy_state(model, rng))

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses, accuracies = [], []
    for _epoch in range(3):
        model.train()
        for start in range(0, len(images), 8):
            data = torch.from_numpy(images[start:start + 8]).to(device)
            target = torch.from_numpy(labels[start:start + 8]).to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        correct = 0
        with torch.no_grad():
            output = model(torch.from_numpy(images).to(device))
            _, predicted = output.max(1)
            correct += (predicted == torch.from_numpy(labels).to(device)).sum().item()
        accuracies.append(100.0 * correct / len(labels))
    return {
        "initial weights are small": init_std < 0.02,
        "initial biases are zero": bias_sum == 0.0,
        "losses": losses,
        "accuracies": accuracies,
        "fc2.weight": model.fc2.weight.detach(),
        "conv1.bias": model.conv1.bias.detach(),
    }


if __name__ == "__main__":
    print(main())
