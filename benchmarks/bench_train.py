"""One training step of the MNIST CNN and of a CIFAR-style ResNet-8, against PyTorch in the
same run.

    python benchmarks/bench_train.py                    # both models, 1 and 2 threads
    python benchmarks/bench_train.py --threads 2 --steps 30 --models resnet8
    python benchmarks/bench_train.py --models mnist --draws 5   # the ratio's range
    python benchmarks/bench_train.py --profile          # where our step's time goes
    python benchmarks/bench_train.py --breakdown --threads 1 --models resnet8
                                                        # per op, and per convolution layer

The step: forward of the network of ``examples/train_cnn.py --dataset mnist`` (conv 1->32 3x3
pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1, ReLU, max-pool 2, flatten, linear 3136->128,
ReLU, linear 128->10), cross-entropy, backward, SGD with momentum 0.9; batch 64, float32,
random data. ResNet-8 (``_models.resnet8``, the same PyTorch-spelled code for both
libraries): 3x32x32 input, conv 16 + BN, three residual blocks (16, 32/2, 64/2) of two 3x3
convs with BN and a 1x1+BN shortcut where the shape changes, average pool, linear; batch 64,
the same step. Both libraries start from the same weights and run at the same thread count
(``_timing.thread_count``: numpy's BLAS through threadpoolctl, ``torch.set_num_threads``).
Their steps are timed in alternating blocks, so a busy machine slows both alike, each block
after a few untimed steps (the other library's idle threads stop spinning); the figure is
the median step time. torch and threadpoolctl are optional: without torch only our
figures are printed; without threadpoolctl numpy's BLAS thread count is not capped (a note
says so, and the thread counts are then PyTorch's only).

``--breakdown`` times every primitive's forward and backward inside our step (own time, with
the ops a backward calls counted for themselves), each convolution by layer (batch,
channels, plane, kernel, stride), direction (``fwd``, ``dx`` the input gradient, ``dw`` the
weight gradient) and the algorithm ``"auto"`` chose, and what is left for the engine, the
optimizer and Python; with torch, PyTorch's own profile of its step by operator beside it.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import pstats
import statistics
import time

import numpy as np
from _models import mnist_cnn, resnet8, torch_copy, torch_resnet8
from _timing import (
    add_benchmark_mode_option,
    add_precision_option,
    machine_line,
    set_benchmark_mode,
    set_conv_precision,
    thread_count,
)

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


# Each block of steps starts with this many seconds of untimed steps: after the other
# library's block its idle threads still spin (OpenBLAS's for ~0.1 s, OpenMP's for a few ms)
# on the core a second thread needs. (Alternating single steps made PyTorch's 2-thread
# MNIST step 91 ms against 20 ms alone, and ours no faster than at one thread.)
SETTLE_SECONDS = 0.3
BLOCKS = 3


def _block(step, steps):
    """``steps`` timed steps after at least ``SETTLE_SECONDS`` (and one step) of untimed
    ones."""
    start = time.perf_counter()
    step()
    while time.perf_counter() - start < SETTLE_SECONDS:
        step()
    return [timed(step) for _ in range(steps)]


def measure(threads, steps, torch, name="mnist"):
    """Median step time (s) of ours and PyTorch's, in ``BLOCKS`` alternating blocks of
    ``steps // BLOCKS`` steps each (so load on the machine hits both alike), each block
    settled first (:func:`_block`)."""
    model, ours, images, labels = our_step_function(name=name)
    theirs = torch_step_function(torch, model, images, labels, name) if torch else None
    tc.set_num_threads(threads)
    per_block = max(1, steps // BLOCKS)
    with thread_count(threads, torch):
        our_times, their_times = [], []
        for _ in range(BLOCKS):
            our_times += _block(ours, per_block)
            if theirs:
                their_times += _block(theirs, per_block)
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


class _OpTimer:
    """Own time of every Function's forward and backward while installed (``with``): each
    call's time minus that of the calls nested in it, keyed by op name and direction, and
    for the convolutions by layer, direction and algorithm."""

    def __init__(self):
        from tinygrad_cnn.autograd.function import Function
        from tinygrad_cnn.ops import conv

        self.conv = conv
        self.functions = []
        stack = list(Function.__subclasses__())
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            self.functions.append(cls)
        self.own = collections.defaultdict(float)
        self.layers = collections.defaultdict(float)
        self.nested = [0.0]
        self.chosen = None

    def timed(self, key, call, *args):
        self.nested.append(0.0)
        start = time.perf_counter()
        try:
            return call(*args)
        finally:
            elapsed = time.perf_counter() - start
            inner = self.nested.pop()
            self.own[key] += elapsed - inner
            self.nested[-1] += elapsed

    def _forward(self, cls, original):
        direction = {"Conv2d": "fwd", "ConvTranspose2d": "dx", "Conv2dWeightGrad": "dw"}.get(
            cls.__name__)

        def run(ctx, *arrays):
            if direction is None:
                return self.timed((cls.__name__, "forward"), original, ctx, *arrays)
            start = time.perf_counter()
            out = self.timed((cls.__name__, "forward"), original, ctx, *arrays)
            image = arrays[0] if direction != "dx" else out
            weight = arrays[1] if direction != "dw" else out
            stride = arrays[-2].stride[0]
            layer = (f"N{image.shape[0]} {image.shape[1]}->{weight.shape[0]} "
                     f"{image.shape[2]}x{image.shape[3]} k{weight.shape[2]} s{stride}")
            self.layers[(layer, direction, self.chosen)] += time.perf_counter() - start
            return out

        return staticmethod(run)

    def _backward(self, cls, original):
        def run(ctx, *grads):
            return self.timed((cls.__name__, "backward"), original, ctx, *grads)

        return staticmethod(run)

    def __enter__(self):
        self.saved = []
        for cls in self.functions:
            self.saved.append((cls, cls.__dict__.get("_run_forward"), cls.__dict__.get("backward")))
            if "_run_forward" in cls.__dict__:
                cls._run_forward = self._forward(cls, cls.__dict__["_run_forward"].__func__)
            if "backward" in cls.__dict__:
                cls.backward = self._backward(cls, cls.__dict__["backward"].__func__)
        self.original_kernels = self.conv._kernels

        names = {id(module): name for name, module in self.conv._KERNELS.items()}
        names[id(self.conv.conv_fft.Widened)] = "fft"

        def kernels(*args):
            module = self.original_kernels(*args)
            self.chosen = names[id(module)]
            return module

        self.conv._kernels = kernels
        return self

    def __exit__(self, *exc):
        for cls, forward, backward in self.saved:
            if forward is not None:
                cls._run_forward = forward
            if backward is not None:
                cls.backward = backward
        self.conv._kernels = self.original_kernels
        return False


def breakdown(threads, steps, name="mnist"):
    _, step, images, labels = our_step_function(name=name)
    with thread_count(threads):
        step()
        with _OpTimer() as timer:
            step()
            timer.own.clear()
            timer.layers.clear()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            total = (time.perf_counter() - start) / steps
    per_step = {key: value / steps for key, value in timer.own.items()}
    ops = sum(per_step.values())
    print(f"{name}, {threads} thread(s): step {total * 1e3:.1f} ms (with timers), primitives "
          f"{ops * 1e3:.1f} ms, the rest (engine, optimizer, Python) {(total - ops) * 1e3:.1f} "
          "ms; own time per step:")
    for (op, direction), value in sorted(per_step.items(), key=lambda item: -item[1]):
        if value >= 0.05e-3:
            print(f"  {op + ' ' + direction:<36} {value * 1e3:8.2f} ms")
    layers = collections.defaultdict(float)
    for (layer, _, _), value in timer.layers.items():
        layers[layer] += value / steps
    print("convolutions by layer (all calls of that shape), direction:algorithm ms:")
    for layer, value in sorted(layers.items(), key=lambda item: -item[1]):
        parts = "  ".join(f"{d}:{a} {v / steps * 1e3:.1f}"
                          for (l, d, a), v in sorted(timer.layers.items()) if l == layer)
        print(f"  {layer:<28} {value * 1e3:7.1f} ms   {parts}")
    try:
        import torch
    except ImportError:
        return
    model, _, _, _ = our_step_function(name=name)
    theirs = torch_step_function(torch, model, images, labels, name)
    with thread_count(threads, torch):
        theirs()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                theirs()
    print("PyTorch's step, by operator (self CPU time per step):")
    events = sorted(prof.key_averages(), key=lambda event: -event.self_cpu_time_total)
    for event in events[:12]:
        print(f"  {event.key:<36} {event.self_cpu_time_total / steps / 1e3:8.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time, not wall time: on a shared "
                             "machine other processes' load then barely counts (1 thread)")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--draws", type=int, default=1,
                        help="measure each model and thread count this many times and print "
                             "the ratio's range: one draw moves by 5-10%% on a shared VM")
    add_precision_option(parser)
    add_benchmark_mode_option(parser)
    args = parser.parse_args()
    global CLOCK
    set_conv_precision(args.fp32_precision)
    set_benchmark_mode(args.cudnn_benchmark)
    if args.cpu_time:
        CLOCK = time.process_time
    if args.breakdown:
        for name in args.models:
            for threads in args.threads:
                breakdown(threads, args.steps, name)
        return
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
    print(f"training step, batch {BATCH}, float32, median of {args.steps} steps"
          f"{' (CPU time)' if args.cpu_time else ''}; {machine_line()}")
    print(f"{'model':>8} {'threads':>7} {'ours ms':>9} {'steps/s':>8} {'torch ms':>9} "
          f"{'ratio':>6}")
    for name in args.models:
        for threads in args.threads:
            ratios = []
            for _ in range(max(1, args.draws)):
                ours_s, theirs_s = measure(threads, args.steps, torch, name)
                line = f"{name:>8} {threads:>7} {ours_s * 1e3:>9.1f} {1 / ours_s:>8.1f}"
                if theirs_s:
                    ratios.append(ours_s / theirs_s)
                    line += f" {theirs_s * 1e3:>9.1f} {ratios[-1]:>5.2f}x"
                print(line, flush=True)
            if len(ratios) > 1:
                print(f"{name:>8} {threads:>7} ratio over {len(ratios)} draws: "
                      f"min {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x, "
                      f"max {max(ratios):.2f}x", flush=True)


if __name__ == "__main__":
    main()
