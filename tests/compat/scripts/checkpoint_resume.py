"""Checkpointing and resuming, with the data utilities around it: a ``TensorDataset`` split by
``random_split`` with a seeded ``torch.Generator`` and narrowed by ``Subset``; a shuffling
``DataLoader`` driven by its own generator; mixup with ``F.one_hot`` soft targets and
``F.cross_entropy`` on class probabilities; a class-balancing ``WeightedRandomSampler``; a
GroupNorm/SiLU net trained with SGD (Nesterov) and ``CosineAnnealingWarmRestarts`` stepped per
batch at fractional epochs (``epoch + i / iters``), gradients clipped by
``clip_grad_value_``; a checkpoint dict (epoch, model, optimizer and scheduler state dicts)
written by ``torch.save`` into an ``io.BytesIO`` and read back by
``torch.load(map_location="cpu")`` into a fresh model, optimizer and scheduler, which then train
on exactly as the original; predictions with an abstain class chosen by ``torch.where`` and
turned into a confusion matrix with ``.detach().cpu().numpy()``.

Which samples each split and shuffle picks comes from each library's own generator, so those
are checked as facts (sizes, disjointness, repeatability); the compared training runs on
index lists drawn with numpy."""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset, WeightedRandomSampler, random_split

NUM_CLASSES = 4


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.GroupNorm(2, 8),
            nn.SiLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.GroupNorm(4, 16),
            nn.SiLU(),
        )
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(16, NUM_CLASSES))

    def forward(self, x):
        return self.classifier(self.features(x))


def load_numpy_weights(model, rng):
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if len(shape) == 1:
            base = 1.0 if "features" in name and name.endswith("weight") else 0.0
            array = base + 0.1 * rng.standard_normal(shape)
        else:
            array = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
        state[name] = torch.from_numpy(array.astype(np.float32))
    model.load_state_dict(state)


def make_training(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=2,
                                                                     eta_min=0.005)
    return optimizer, scheduler


def train_epoch(model, optimizer, scheduler, epoch, dataset, order, mixes):
    model.train()
    losses = []
    for batch, (indices, (perm, lam)) in enumerate(zip(order, mixes)):
        x, y = dataset[torch.from_numpy(indices)]
        soft = F.one_hot(y, NUM_CLASSES).float()
        perm = torch.from_numpy(perm)
        x = lam * x + (1 - lam) * x[perm]
        soft = lam * soft + (1 - lam) * soft[perm]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), soft)
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        optimizer.step()
        scheduler.step(epoch + batch / len(order))
        losses.append(loss.item())
    return losses


def evaluate(model, dataset):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in DataLoader(dataset, batch_size=8):
            correct += (model(x).argmax(dim=1) == y).sum().item()
    return correct / len(dataset)


def main():
    rng = np.random.default_rng(7)
    images = rng.standard_normal((40, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=40)
    rows, cols = np.indices((8, 8))
    textures = np.stack([rows % 2, cols % 2, (rows + cols) % 2, np.ones((8, 8))]) - 0.5
    images[:, 0] += 2.0 * textures[labels]  # a learnable texture per class
    dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))

    # random_split / Subset / a shuffling DataLoader with explicit generators
    train_part, val_part = random_split(dataset, [30, 10],
                                        generator=torch.Generator().manual_seed(42))
    again, _ = random_split(dataset, [30, 10], generator=torch.Generator().manual_seed(42))
    fractions = random_split(dataset, [0.75, 0.25], generator=torch.Generator().manual_seed(1))
    small = Subset(train_part, range(10))
    loader = DataLoader(small, batch_size=4, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    epoch_a = torch.cat([y for _, y in loader])
    epoch_b = torch.cat([y for _, y in loader])
    replay = DataLoader(small, batch_size=4, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    replay_a = torch.cat([y for _, y in replay])
    subset_labels = torch.stack([small[i][1] for i in range(len(small))])
    # class balancing: each sample weighted by the inverse frequency of its class
    counts = torch.stack([(dataset.tensors[1] == c).sum() for c in range(NUM_CLASSES)])
    sample_weights = (1.0 / counts.float())[dataset.tensors[1]]
    balanced = DataLoader(dataset, batch_size=16, sampler=WeightedRandomSampler(
        sample_weights, num_samples=64, replacement=True,
        generator=torch.Generator().manual_seed(5)))
    drawn = torch.cat([y for _, y in balanced])
    rare = DataLoader(dataset, batch_size=5, sampler=WeightedRandomSampler(
        torch.where(dataset.tensors[1] == 0, 1.0, 0.0), num_samples=5, replacement=False))
    rare_labels = torch.cat([y for _, y in rare])
    facts = {
        "random_split sizes": [len(train_part), len(val_part)],
        "fraction split sizes": [len(part) for part in fractions],
        "the split is disjoint and complete":
            sorted(list(train_part.indices) + list(val_part.indices)) == list(range(40)),
        "the same seed gives the same split": list(again.indices) == list(train_part.indices),
        "a subset of a subset reads the dataset": torch.equal(
            small[3][0], dataset[train_part.indices[3]][0]),
        "each epoch visits every sample once":
            torch.equal(epoch_a.sort().values, subset_labels.sort().values)
            and torch.equal(epoch_b.sort().values, subset_labels.sort().values),
        "the same seed gives the same order": torch.equal(epoch_a, replay_a),
        "batches per epoch": len(loader),
        "weighted batches": [len(balanced), len(drawn)],
        "the weighted sampler draws every class": sorted(set(drawn.tolist())) == [0, 1, 2, 3],
        "sample weights": sample_weights,
        "without replacement zero weights come last":
            (rare_labels == 0).sum().item() == min(5, counts[0].item())
            and bool((rare_labels[:counts[0].item()] == 0).all()),
    }

    # training on numpy-drawn orders, checkpointed after two epochs
    train_indices = rng.permutation(40)[:32]
    val_set = Subset(dataset, [int(i) for i in np.setdiff1d(np.arange(40), train_indices)])
    orders = [rng.permutation(train_indices).reshape(4, 8) for _ in range(5)]
    mixes = [[(rng.permutation(8), float(rng.beta(0.4, 0.4))) for _ in range(4)]
             for _ in range(5)]

    model = SmallNet()
    load_numpy_weights(model, rng)
    optimizer, scheduler = make_training(model)
    losses, accuracies, lrs = [], [], []
    buffer = io.BytesIO()
    for epoch in range(5):
        losses.extend(train_epoch(model, optimizer, scheduler, epoch, dataset, orders[epoch],
                                  mixes[epoch]))
        accuracies.append(evaluate(model, val_set))
        lrs.append(scheduler.get_last_lr()[0])
        if epoch == 1:
            torch.save({"epoch": epoch, "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()}, buffer)

    buffer.seek(0)
    checkpoint = torch.load(buffer, map_location="cpu")
    # cloned before loading: PyTorch's optimizer keeps the loaded state tensors themselves
    saved_momentum = checkpoint["optimizer"]["state"][0]["momentum_buffer"].clone()
    resumed = SmallNet()
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer, resumed_scheduler = make_training(resumed)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    resumed_losses = []
    for epoch in range(checkpoint["epoch"] + 1, 5):
        resumed_losses.extend(train_epoch(resumed, resumed_optimizer, resumed_scheduler, epoch,
                                          dataset, orders[epoch], mixes[epoch]))
    resumes_exactly = resumed_losses == losses[8:] and all(
        torch.equal(a, b) for a, b in zip(resumed.state_dict().values(),
                                          model.state_dict().values()))

    model.eval()
    with torch.no_grad():
        probs = F.softmax(model(val_set[:][0]), dim=1)
        confidence, predicted = probs.max(dim=1)
        predicted = torch.where(confidence > 0.5, predicted, torch.full_like(predicted, -1))
    predicted = predicted.detach().cpu().numpy()
    truth = val_set[:][1].cpu().numpy()
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES + 1), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    return {
        **facts,
        "losses": losses,
        "accuracies": accuracies,
        "lrs": lrs,
        "checkpoint epoch": checkpoint["epoch"],
        "checkpoint lr": checkpoint["optimizer"]["param_groups"][0]["lr"],
        "momentum buffer": saved_momentum,
        "the resumed run matches": resumes_exactly,
        "confusion (last column abstains)": confusion,
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
