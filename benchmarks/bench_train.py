"""Steps per second of one training step of the MNIST CNN, against PyTorch in the same run.

    python benchmarks/bench_train.py                    # 1 and 2 threads
    python benchmarks/bench_train.py --threads 2 --steps 30
    python benchmarks/bench_train.py --profile          # where our step's time goes

The step: forward of the network of ``examples/train_cnn.py --dataset mnist`` (conv 1->32 3x3
pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1, ReLU, max-pool 2, flatten, linear 3136->128,
ReLU, linear 128->10), cross-entropy, backward, SGD with momentum 0.9; batch 64, float32,
random data. Both libraries start from the same weights and run at the same thread count
(``_timing.thread_count``: numpy's BLAS through threadpoolctl, ``torch.set_num_threads``).
Their steps are timed in alternating rounds, so a busy machine slows both alike; the figure
is the median step time. torch and threadpoolctl are optional: without torch only our
figures are printed; without threadpoolctl numpy's BLAS thread count is not capped (a note
says so, and the thread counts are then PyTorch's only).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import numpy as np
from _models import mnist_cnn, torch_copy
from _timing import thread_count

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import optim

BATCH = 64


def our_step_function(seed=0):
    tc.manual_seed(seed)
    model = mnist_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    images = tc.Tensor(rng.random((BATCH, 1, 28, 28), dtype=np.float32))
    labels = rng.integers(0, 10, BATCH)

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return model, step, images, labels


def torch_step_function(torch, model, images, labels):
    twin = torch_copy(torch, model)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9)
    x = torch.from_numpy(images.numpy())
    y = torch.from_numpy(labels)

    def step():
        loss = torch.nn.functional.cross_entropy(twin(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def timed(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def measure(threads, steps, torch):
    model, ours, images, labels = our_step_function()
    theirs = torch_step_function(torch, model, images, labels) if torch else None
    with thread_count(threads, torch):
        ours()  # warm up (allocator, BLAS threads)
        if theirs:
            theirs()
        our_times, their_times = [], []
        for _ in range(steps):  # alternate, so load on the machine hits both alike
            our_times.append(timed(ours))
            if theirs:
                their_times.append(timed(theirs))
    ours_s = statistics.median(our_times)
    theirs_s = statistics.median(their_times) if theirs else None
    return ours_s, theirs_s


def profile(threads, steps):
    _, step, _, _ = our_step_function()
    with thread_count(threads):
        step()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(steps):
            step()
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(f"cProfile of {steps} steps at {threads} thread(s), by own time:")
    print(out.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        for threads in args.threads:
            profile(threads, args.steps)
        return
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: our figures only, no ratio")
    print(f"training step, MNIST CNN, batch {BATCH}, float32, median of {args.steps} steps")
    print(f"{'threads':>7} {'ours ms':>9} {'steps/s':>8} {'torch ms':>9} {'ratio':>6}")
    for threads in args.threads:
        ours_s, theirs_s = measure(threads, args.steps, torch)
        line = f"{threads:>7} {ours_s * 1e3:>9.1f} {1 / ours_s:>8.1f}"
        if theirs_s:
            line += f" {theirs_s * 1e3:>9.1f} {ours_s / theirs_s:>5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
