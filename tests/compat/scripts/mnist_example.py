"""In the style of PyTorch's MNIST example: a ``Net`` with two convolutions, dropout and two
linear layers ending in ``F.log_softmax(x, dim=1)``; ``train()`` and ``test()`` functions
taking ``(args, model, device, loader, ...)``; ``F.nll_loss``; ``optim.Adadelta`` with
``StepLR(step_size=1, gamma=0.7)``; accuracy by ``output.argmax(dim=1, keepdim=True)`` and
``pred.eq(target.view_as(pred)).sum().item()``; ``torch.save(model.state_dict(), path)``.

Random 28x28 images stand in for MNIST.  Dropout draws from each library's own generator, so
the compared training runs with the dropout probabilities set to 0; the default net's dropout
is checked for behaving as dropout (train and eval outputs) only."""

import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, p1=0.25, p2=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(p1)
        self.dropout2 = nn.Dropout(p2)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch, losses):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            losses.append(loss.item())
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def numpy_weights(model, rng):
    return {name: torch.tensor((rng.standard_normal(tuple(v.shape))
                                / np.sqrt(np.prod(v.shape[1:]) if len(v.shape) > 1 else 10.0))
                               .astype(np.float32))
            for name, v in sorted(model.state_dict().items())}


def main():
    parser = argparse.ArgumentParser(description="MNIST-style example")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--test-batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--no-cuda", action="store_true", default=False)
    parser.add_argument("--dry-run", action="store_true", default=False)
    parser.add_argument("--log-interval", type=int, default=1)
    args = parser.parse_args([])
    use_cuda = not args.no_cuda and torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    train_kwargs = {"batch_size": args.batch_size}
    test_kwargs = {"batch_size": args.test_batch_size}
    if use_cuda:
        cuda_kwargs = {"num_workers": 1, "pin_memory": True, "shuffle": True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    rng = np.random.default_rng(3)
    images = rng.random((48, 1, 28, 28), dtype=np.float32)
    # a learnable rule: the label is which of ten horizontal bands is brightest
    labels = images[:, 0, :20].reshape(48, 10, 56).mean(axis=2).argmax(axis=1)
    mean, std = 0.5, 0.29
    dataset1 = TensorDataset(torch.from_numpy((images[:32] - mean) / std),
                             torch.from_numpy(labels[:32]))
    dataset2 = TensorDataset(torch.from_numpy((images[32:] - mean) / std),
                             torch.from_numpy(labels[32:]))
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    with_dropout = Net().to(device)
    with_dropout.load_state_dict(numpy_weights(with_dropout, rng))
    sample = dataset2[0][0].unsqueeze(0)
    with_dropout.train()
    dropout_varies = not torch.equal(with_dropout(sample), with_dropout(sample))
    with_dropout.eval()
    eval_is_deterministic = torch.equal(with_dropout(sample), with_dropout(sample))

    model = Net(p1=0.0, p2=0.0).to(device)
    model.load_state_dict(numpy_weights(model, rng))
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    losses, tests, lrs = [], [], []
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, losses)
        tests.append(test(model, device, test_loader))
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mnist_cnn.pt")
        torch.save(model.state_dict(), path)
        restored = Net()
        restored.load_state_dict(torch.load(path))
    restored.eval()
    with torch.no_grad():
        same_after_reload = torch.equal(restored(sample), model(sample))
    return {
        "dropout varies in training": dropout_varies,
        "eval is deterministic": eval_is_deterministic,
        "losses": losses,
        "tests": tests,
        "lrs": lrs,
        "same after reload": same_after_reload,
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
