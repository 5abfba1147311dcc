"""A two-branch convolutional model in the Inception style: branches joined with
``torch.cat(dim=1)``, features flattened with ``x.view(x.size(0), -1)``, ``torch.flatten`` and
a ``num_flat_features`` helper built on ``x.size()``; trained a few steps with Adam."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch3 = nn.Conv2d(2, 3, kernel_size=3, padding=1)
        self.branch1 = nn.Conv2d(2, 2, kernel_size=1)
        self.reduce = nn.Conv2d(5, 4, kernel_size=3, stride=2)
        self.head = nn.Linear(4 * 3 * 3, 10)
        self.classifier = nn.Linear(10 + 4, 4)

    @staticmethod
    def num_flat_features(x):
        size = x.size()[1:]
        count = 1
        for s in size:
            count *= s
        return count

    def forward(self, x):
        joined = torch.cat([F.relu(self.branch3(x)), F.relu(self.branch1(x))], dim=1)
        reduced = F.relu(self.reduce(joined))
        flat = reduced.view(-1, self.num_flat_features(reduced))
        pooled = torch.flatten(F.adaptive_avg_pool2d(reduced, 1), 1)
        features = torch.cat((self.head(flat), pooled), dim=1)
        return self.classifier(features)


def main():
    rng = np.random.default_rng(4)
    model = TwoBranch()
    model.load_state_dict({name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.3)
                                              .astype(np.float32))
                           for name, v in model.state_dict().items()})
    images = torch.from_numpy(rng.standard_normal((6, 2, 7, 7)).astype(np.float32))
    targets = torch.from_numpy(rng.integers(0, 4, size=6))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses, shapes = [], []
    for _step in range(8):
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    shapes.append(tuple(logits.size()))
    shapes.append(logits.size(0))
    shapes.append(tuple(images.view(6, -1).shape))
    shapes.append(tuple(torch.flatten(images, start_dim=2).shape))
    return {"losses": losses, "shapes": shapes, "logits": logits.detach(),
            "classifier.bias": model.classifier.bias.detach()}


if __name__ == "__main__":
    print(main())
