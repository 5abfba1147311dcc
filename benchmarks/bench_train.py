"""One training step of the MNIST CNN and of a CIFAR-style ResNet-8, against PyTorch in the
same run.

    python benchmarks/bench_train.py                    # both models, 1 and 2 threads
    python benchmarks/bench_train.py --threads 2 --steps 30 --models resnet8
    python benchmarks/bench_train.py --profile          # where our step's time goes

The step: forward of the network of ``examples/train_cnn.py --dataset mnist`` (conv 1->32 3x3
pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1, ReLU, max-pool 2, flatten, linear 3136->128,
ReLU, linear 128->10), cross-entropy, backward, SGD with momentum 0.9; batch 64, float32,
random data. ResNet-8 (``_models.resnet8``, the same PyTorch-spelled code for both
libraries): 3x32x32 input, conv 16 + BN, three residual blocks (16, 32/2, 64/2) of two 3x3
convs with BN and a 1x1+BN shortcut where the shape changes, average pool, linear; batch 64,
the same step. Both libraries start from the same weights and run at the same thread count
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
import os
import pstats
import statistics
import time

import numpy as np
from _models import mnist_cnn, resnet8, torch_copy, torch_resnet8
from _timing import thread_count

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import optim

BATCH = 64


MODELS = {"mnist": (mnist_cnn, torch_copy, (1, 28, 28)),
          "resnet8": (lambda: resnet8(tc.nn, F), torch_resnet8, (3, 32, 32))}


def our_step_function(seed=0, name="mnist"):
    tc.manual_seed(seed)
    model = MODELS[name][0]()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    images = tc.Tensor(rng.random((BATCH,) + MODELS[name][2], dtype=np.float32))
    labels = rng.integers(0, 10, BATCH)

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return model, step, images, labels


def torch_step_function(torch, model, images, labels, name="mnist"):
    twin = MODELS[name][1](torch, model)
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


CLOCK = time.perf_counter  # --cpu-time: time.process_time


def timed(step):
    start = CLOCK()
    step()
    return CLOCK() - start


def measure(threads, steps, torch, name="mnist"):
    model, ours, images, labels = our_step_function(name=name)
    theirs = torch_step_function(torch, model, images, labels, name) if torch else None
    tc.set_num_threads(threads)
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


def profile(threads, steps, name="mnist"):
    _, step, _, _ = our_step_function(name=name)
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
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time, not wall time: on a shared "
                             "machine other processes' load then barely counts (1 thread)")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    if args.profile:
        for name in args.models:
            for threads in args.threads:
                profile(threads, args.steps, name)
        return
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: our figures only, no ratio")
    load = os.getloadavg()
    print(f"training step, batch {BATCH}, float32, median of {args.steps} steps"
          f"{' (CPU time)' if args.cpu_time else ''}; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'model':>8} {'threads':>7} {'ours ms':>9} {'steps/s':>8} {'torch ms':>9} "
          f"{'ratio':>6}")
    for name in args.models:
        for threads in args.threads:
            ours_s, theirs_s = measure(threads, args.steps, torch, name)
            line = f"{name:>8} {threads:>7} {ours_s * 1e3:>9.1f} {1 / ours_s:>8.1f}"
            if theirs_s:
                line += f" {theirs_s * 1e3:>9.1f} {ours_s / theirs_s:>5.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
