"""A small encoder-decoder in the usual PyTorch style, using the padding, pooling and
resampling layers of CNN code: reflect / circular / replicate ``padding_mode``, max pooling
with indices and ``MaxUnpool2d``, bilinear ``Upsample``, bicubic ``F.interpolate``,
``F.pad``, adaptive average and max pooling heads.  A few SGD steps on random data."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 6, 3, padding=1, padding_mode="replicate")
        self.block = Block(6)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = nn.Conv2d(6, 3, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.gmp = nn.AdaptiveMaxPool2d((1, 1))
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.block(x)
        pooled, indices = self.pool(x)
        decoded = self.up(pooled) + self.unpool(pooled, indices, output_size=x.shape[-2:])
        seg = self.head(F.pad(decoded, (1, 0, 0, 1), mode="reflect"))
        seg = F.interpolate(seg, size=(7, 9), mode="bicubic", align_corners=True)
        features = self.gap(pooled).flatten(1) + self.gmp(pooled).flatten(1)
        features = features + F.adaptive_avg_pool2d(x, (3, 5)).mean((2, 3))
        return seg, self.fc(features)


def numpy_state(model, rng, scale=0.3):
    """The same starting weights for every run: drawn with numpy, loaded as tensors."""
    return {name: torch.tensor((rng.standard_normal(tuple(value.shape)) * scale)
                               .astype(np.float32))
            for name, value in model.state_dict().items()}


def main():
    rng = np.random.default_rng(0)
    images = torch.tensor(rng.standard_normal((4, 2, 6, 8)).astype(np.float32))
    seg_target = torch.tensor(rng.standard_normal((4, 3, 7, 9)).astype(np.float32))
    class_target = torch.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    model = Net()
    model.load_state_dict(numpy_state(model, rng))
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    losses = []
    for _step in range(4):
        optimizer.zero_grad()
        seg, logits = model(images)
        loss = F.mse_loss(seg, seg_target) + F.mse_loss(logits, class_target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seg, logits = model(images)
    return {
        "losses": losses,
        "segmentation": seg.detach(),
        "logits": logits.detach(),
        "stem.weight": model.stem.weight.detach(),
        "block.conv2.weight": model.block.conv2.weight.detach(),
    }


if __name__ == "__main__":
    print(main())
