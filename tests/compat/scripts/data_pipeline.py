"""A CIFAR-style training script: uint8 ``(H, W, C)`` images through torchvision transforms,
a ``DataLoader`` with two worker processes, a small CNN trained with SGD (Nesterov momentum,
weight decay) and ``MultiStepLR``, evaluated with a ``num_workers=0`` loader.  Only
deterministic transforms, so both libraries see the same tensors; the shuffling is a numpy
``Sampler``, so both see them in the same order."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import MultiStepLR
from torch.utils.data import DataLoader, Dataset, Sampler
from torchvision import transforms

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


class ArrayImages(Dataset):
    """uint8 images and integer labels, as CIFAR10 stores them."""

    def __init__(self, images, labels, transform=None, target_transform=None):
        self.images, self.labels = images, labels
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        img, target = self.images[index], int(self.labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class EpochShuffle(Sampler):
    """A new order every epoch, drawn with numpy."""

    def __init__(self, size, seed):
        self.size, self.rng = size, np.random.default_rng(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.size).tolist())

    def __len__(self):
        return self.size


class Net(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        x = x.mean(dim=(2, 3))
        return self.fc(x)


def main():
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(40, 12, 12, 3), dtype=np.uint8)
    labels = rng.integers(0, 5, size=40)
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Pad(2, padding_mode="reflect"),
        transforms.CenterCrop((13, 11)),
        transforms.Normalize(MEAN, STD),
        transforms.Lambda(lambda t: t.clamp(-2.0, 2.0)),
    ])
    train_set = ArrayImages(images[:32], labels[:32], transform=transform)
    test_set = ArrayImages(images[32:], labels[32:], transform=transform,
                           target_transform=lambda y: torch.tensor(y))

    same_batches = all(
        torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        for a, b in zip(DataLoader(train_set, batch_size=8, num_workers=2),
                        DataLoader(train_set, batch_size=8, num_workers=0)))
    first_images, first_labels = next(iter(DataLoader(train_set, batch_size=4)))

    model = Net()
    model.load_state_dict({
        name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.3 + (name.endswith(
            "running_var") or name == "bn1.weight")).astype(np.float32))
        for name, v in sorted(model.state_dict().items())
        if not name.endswith("num_batches_tracked")}, strict=False)
    train_loader = DataLoader(train_set, batch_size=8, sampler=EpochShuffle(32, seed=1),
                              num_workers=2)
    test_loader = DataLoader(test_set, batch_size=4, shuffle=False, num_workers=0)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    scheduler = MultiStepLR(optimizer, milestones=[1, 2], gamma=0.5)

    losses, lrs, accuracies = [], [], []
    for _epoch in range(3):
        model.train()
        lrs.append(scheduler.get_last_lr()[0])
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()

        model.eval()
        correct = total = 0
        with torch.no_grad():
            for inputs, targets in test_loader:
                _, predicted = model(inputs).max(1)
                total += targets.size(0)
                correct += predicted.eq(targets).sum().item()
        accuracies.append(correct / total)
    return {
        "2 workers give the batches of 0": same_batches,
        "first images": first_images,
        "first labels": first_labels,
        "batch dtype": str(first_images.dtype).rsplit(".", 1)[-1],
        "losses": losses,
        "lrs": lrs,
        "accuracies": accuracies,
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
