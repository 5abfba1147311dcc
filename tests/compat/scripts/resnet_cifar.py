"""A CIFAR-style ResNet (BasicBlocks of conv-bn-relu with residual additions and a strided
1x1 downsample shortcut, an ``AdaptiveAvgPool2d((1, 1))`` head, ``torch.flatten(x, 1)``)
trained a few steps on random 16x16 images with ``nn.CrossEntropyLoss``, SGD with momentum
and weight decay, and ``MultiStepLR``; then evaluated under ``no_grad``."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim.lr_scheduler import MultiStepLR


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=10, width=8):
        super().__init__()
        self.inplanes = width
        self.conv1 = conv3x3(3, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 4 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        return x


def numpy_state(model, rng):
    """Starting weights drawn with numpy (He-scaled convolutions, BatchNorm near identity,
    running statistics away from their defaults), the same for every library."""
    state = {}
    for name, value in sorted(model.state_dict().items()):
        shape = tuple(value.shape)
        if name.endswith("num_batches_tracked"):
            continue
        if name.endswith("running_var"):
            array = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("running_mean") or name.endswith("bias"):
            array = rng.standard_normal(shape) * 0.1
        elif len(shape) == 1:
            array = 1.0 + rng.standard_normal(shape) * 0.1
        else:
            fan_in = int(np.prod(shape[1:]))
            array = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        state[name] = torch.tensor(array.astype(np.float32))
    return state


def main():
    rng = np.random.default_rng(11)
    model = ResNet(BasicBlock, [1, 1, 1], num_classes=10)
    bn_initialised = all(
        m.weight.detach().eq(1).all().item() and m.bias.detach().eq(0).all().item()
        for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    num_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.load_state_dict(numpy_state(model, rng), strict=False)

    inputs = torch.from_numpy(rng.standard_normal((24, 3, 16, 16)).astype(np.float32))
    targets = torch.from_numpy(rng.integers(0, 10, size=24))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = MultiStepLR(optimizer, milestones=[1, 2], gamma=0.1)

    losses, lrs = [], []
    for _epoch in range(3):
        model.train()
        for start in range(0, 24, 8):
            x, y = inputs[start:start + 8], targets[start:start + 8]
            optimizer.zero_grad()
            outputs = model(x)
            loss = criterion(outputs, y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step()

    model.eval()
    with torch.no_grad():
        outputs = model(inputs)
        _, predicted = outputs.max(1)
        correct = predicted.eq(targets).sum().item()
    return {
        "batch norm starts at identity": bn_initialised,
        "parameters": num_params,
        "losses": losses,
        "lrs": lrs,
        "last lr": scheduler.get_last_lr(),
        "eval logits": outputs,
        "correct": correct,
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
