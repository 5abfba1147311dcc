"""Winograd kernels against a saved copy of the module (before/after a change), per direction.

    git show <commit>:tinygrad_cnn/ops/conv_winograd.py > /tmp/old_conv_winograd.py
    python benchmarks/bench_winograd.py --reference /tmp/old_conv_winograd.py [--m 4]
        [--cases b,c,r16,r32,r64] [--repeat 7] [--threads 1] [--torch] [--wall]

For each case and direction (``fwd``, ``dx``, ``dw``) the CPU time (``time.process_time``:
the machine is shared, so wall time counts the neighbours) of the kernel in this tree and,
turn by turn, of the reference copy's (the same file at another commit, loaded as a module
of the same package) and, with ``--torch``, of PyTorch's; best of ``--repeat`` rounds.
Cases: (b) and (c) of bench_conv.py and the three 3x3 layers of bench_train.py's ResNet-8
(batch 64). float32.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np
from _timing import machine_line

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.ops import conv_winograd  # noqa: E402
from tinygrad_cnn.ops.geometry import WindowGeometry  # noqa: E402

CASES = {
    "b": ((64, 32, 14, 14), 64),
    "c": ((32, 64, 32, 32), 128),
    "r16": ((64, 16, 32, 32), 16),
    "r32": ((64, 32, 16, 16), 32),
    "r64": ((64, 64, 8, 8), 64),
}


def load_reference(path):
    spec = importlib.util.spec_from_file_location("tinygrad_cnn.ops._winograd_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def directions(module, x, w, grad, geometry, m):
    return {"fwd": lambda: module.conv2d_forward(x, w, geometry, m=m),
            "dx": lambda: module.conv2d_input_grad(grad, w, geometry, m=m),
            "dw": lambda: module.conv2d_weight_grad(x, grad, geometry, m=m)}


def torch_directions(torch, x, w, grad):
    tx, tw, tgrad = (torch.from_numpy(a) for a in (x, w, grad))
    return {"fwd": lambda: torch.nn.functional.conv2d(tx, tw, padding=1),
            "dx": lambda: torch.nn.grad.conv2d_input(tx.shape, tw, tgrad, padding=1),
            "dw": lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, tgrad, padding=1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--m", type=int, default=4)
    parser.add_argument("--cases", default="b,c,r16,r32,r64")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--torch", action="store_true")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.process_time
    tg.set_num_threads(args.threads)
    torch = None
    if args.torch:
        import torch
        torch.set_num_threads(args.threads)
    reference = load_reference(args.reference)
    rng = np.random.default_rng(0)
    print(f"threads={args.threads} m={args.m} {'wall' if args.wall else 'CPU'} time, best of "
          f"{args.repeat}; {machine_line()}")
    print(f"{'case':5} {'dir':4} {'new ms':>8} {'old ms':>8} {'new/old':>8}"
          + (f" {'torch':>8} {'new/t':>6}" if torch else ""))
    for name in args.cases.split(","):
        shape, out_channels = CASES[name]
        n, c, h, wd = shape
        x = rng.standard_normal(shape, dtype=np.float32)
        w = rng.standard_normal((out_channels, c, 3, 3), dtype=np.float32)
        grad = rng.standard_normal((n, out_channels, h, wd), dtype=np.float32)
        geometry = WindowGeometry((h, wd), (h, wd), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
        new = directions(conv_winograd, x, w, grad, geometry, args.m)
        old = directions(reference, x, w, grad, geometry, args.m)
        ours = torch_directions(torch, x, w, grad) if torch else None
        for d in ("fwd", "dx", "dw"):
            fns = [new[d], old[d]] + ([ours[d]] if torch else [])
            for fn in fns:
                fn()
            best = [float("inf")] * len(fns)
            for _ in range(args.repeat):
                for i, fn in enumerate(fns):
                    start = clock()
                    fn()
                    best[i] = min(best[i], clock() - start)
            ms = [b * 1e3 for b in best]
            line = f"{name:5} {d:4} {ms[0]:8.2f} {ms[1]:8.2f} {ms[0] / ms[1]:8.2f}"
            if torch:
                line += f" {ms[2]:8.2f} {ms[0] / ms[2]:6.2f}"
            print(line, flush=True)
    print(machine_line())


if __name__ == "__main__":
    main()
