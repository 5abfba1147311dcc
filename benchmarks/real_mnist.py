"""Train the example's MNIST CNN on real MNIST digits: accuracy, and time per epoch vs PyTorch.

    python benchmarks/real_mnist.py [--data-dir DIR] [--epochs 3] [--threads 1] [--no-torch]

Uses the MNIST *test* set files (``t10k-*``), the part of MNIST that ships in this project's
shared data folder (``<repo>/../shared/data/mnist`` by default): trains on its first 8,000
images and evaluates on the last 2,000, with the network, optimizer and schedule of
``examples/train_cnn.py --dataset mnist`` (Adam, lr 1e-3, batch 64, lr x0.2 every 2 epochs).
Goal: >= 97% test accuracy after 3 epochs. When torch is installed the same network, from
the same initial weights, on the same batches, is trained in PyTorch in the same run and the
time per epoch is reported as a ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _models import mnist_cnn, torch_copy
from _timing import thread_count
from train_cnn import DEFAULTS, evaluate, standardize, train_one_epoch

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.data import DataLoader, TensorDataset, datasets
from tinygrad_cnn.optim.lr_scheduler import StepLR

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "..", "shared", "data", "mnist")
SETTINGS = DEFAULTS["mnist"]


def train_ours(train, test, epochs, seed):
    tc.manual_seed(seed)
    model = mnist_cnn()
    initial = {key: value.clone() for key, value in model.state_dict().items()}
    optimizer = optim.Adam(model.parameters(), lr=SETTINGS["lr"])
    scheduler = StepLR(optimizer, step_size=SETTINGS["lr_step"], gamma=0.2)
    loader = DataLoader(TensorDataset(*train), batch_size=SETTINGS["batch_size"],
                        shuffle=True, generator_seed=seed)
    orders = []  # generators that redraw each epoch's batch order, for PyTorch
    seconds = []
    for epoch in range(1, epochs + 1):
        replay = np.random.default_rng()  # a copy of the loader's generator, as it is now
        replay.bit_generator.state = loader.generator.bit_generator.state
        orders.append(replay)
        start = time.perf_counter()
        loss, accuracy = train_one_epoch(model, optimizer, loader, f"ours  epoch {epoch}")
        seconds.append(time.perf_counter() - start)
        scheduler.step()
        test_loss, test_accuracy, _ = evaluate(model, *test)
        print(f"ours   epoch {epoch}: {seconds[-1]:6.1f} s  train loss {loss:.4f} "
              f"acc {accuracy:.4f}  test acc {test_accuracy:.4f}")
    return model, initial, orders, seconds, test_accuracy


def train_torch(torch, initial, train, test, orders):
    model = mnist_cnn()
    model.load_state_dict(initial)
    twin = torch_copy(torch, model)
    optimizer = torch.optim.Adam(twin.parameters(), lr=SETTINGS["lr"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, SETTINGS["lr_step"], gamma=0.2)
    images, labels = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    batch = SETTINGS["batch_size"]
    seconds = []
    for epoch, rng in enumerate(orders, start=1):
        order = torch.from_numpy(rng.permutation(len(labels)))
        twin.train()
        start = time.perf_counter()
        for first in range(0, len(order), batch):
            index = order[first:first + batch]
            loss = torch.nn.functional.cross_entropy(twin(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        scheduler.step()
        twin.eval()
        with torch.no_grad():
            predicted = twin(torch.from_numpy(test[0])).argmax(1).numpy()
        accuracy = float((predicted == test[1]).mean())
        print(f"torch  epoch {epoch}: {seconds[-1]:6.1f} s  test acc {accuracy:.4f}")
    return seconds, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch run")
    args = parser.parse_args()
    try:
        images, labels = datasets.mnist(args.data_dir, train=False)
    except (FileNotFoundError, ValueError) as error:
        print(f"real_mnist.py: error: {error}", file=sys.stderr)
        return 2
    train_images, test_images = standardize(images[:8000], images[-2000:])
    train, test = (train_images, labels[:8000]), (test_images, labels[-2000:])
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed: no time ratio")
    print(f"MNIST t10k: train on the first 8000, test on the last 2000; "
          f"{args.epochs} epochs, {args.threads} thread(s)")
    with thread_count(args.threads, torch):
        _, initial, orders, ours, accuracy = train_ours(train, test, args.epochs, args.seed)
        if torch is not None:
            theirs, their_accuracy = train_torch(torch, initial, train, test, orders)
    mean = sum(ours) / len(ours)
    print(f"ours:  test accuracy {accuracy:.4f} (goal >= 0.97), {mean:.1f} s per epoch")
    if torch is not None:
        their_mean = sum(theirs) / len(theirs)
        print(f"torch: test accuracy {their_accuracy:.4f}, {their_mean:.1f} s per epoch; "
              f"ratio ours/torch {mean / their_mean:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
