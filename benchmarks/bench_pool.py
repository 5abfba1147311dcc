"""Pooling speed: max / average / L2 pooling, forward and forward+backward, float32.

    python benchmarks/bench_pool.py [--threads N] [--repeat R] [--quick]
    python benchmarks/bench_pool.py --kernels [--repeat R]

Each case is timed best-of-R, as a ratio to PyTorch at the same thread count when torch is
installed, and the 2x2 max pooling forward also against numpy's ``reshape(...).max`` in the
same run (the obvious numpy way, which the strided-slice kernels replace).  Input
(64, 32, 28, 28): the first pooling layer of an MNIST CNN with 32 channels.

``--kernels``: the numpy kernels of the MNIST training step's two 2x2 max pools at one
thread, on ReLU'd input (a quarter of the windows all zero: ties): the forward with its
index (``max_pool_forward``) and the backward's scatter (``scatter_to_windows``), against
PyTorch's ``max_pool2d_with_indices`` and its backward, turn by turn, in CPU time
(``time.process_time``, best of R: the figure least disturbed by a busy other core).
"""

import argparse
import os
import time

import numpy as np
from _timing import best_of, limit_threads, optional_torch

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

torch = TF = None  # set in main() when PyTorch is installed


def cases():
    """(name, ours(x), torch(x)) with x a Tensor / torch tensor."""
    return [
        ("max_pool2d 2x2", lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2)),
        ("max_pool2d 3x3 s2 p1", lambda t: F.max_pool2d(t, 3, 2, 1),
         lambda t: TF.max_pool2d(t, 3, 2, 1)),
        ("avg_pool2d 2x2", lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2)),
        ("lp_pool2d p=2 2x2", lambda t: F.lp_pool2d(t, 2, 2), lambda t: TF.lp_pool2d(t, 2, 2)),
    ]


def time_case(ours, theirs, x: np.ndarray, repeat: int) -> str:
    """One table row: forward (no graph) and forward+backward times, and torch's."""
    leaf = Tensor(x, requires_grad=True)
    grad_out = np.ones(ours(Tensor(x)).shape, dtype=np.float32)

    def ours_fb():
        leaf.grad = None
        ours(leaf).backward(grad_out)

    fwd = best_of(repeat, lambda: ours(Tensor(x)))
    fb = best_of(repeat, ours_fb)
    row = f"{fwd * 1e3:8.2f} {fb * 1e3:11.2f}"
    if torch is None:
        return row
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(grad_out)

    def theirs_fwd():
        with torch.no_grad():
            theirs(xt)

    def theirs_fb():
        xt.grad = None
        theirs(xt).backward(gt)

    t_fwd, t_fb = best_of(repeat, theirs_fwd), best_of(repeat, theirs_fb)
    return (row + f" {t_fwd * 1e3:10.2f} {t_fb * 1e3:10.2f} {fwd / t_fwd:9.2f}x "
            f"{fb / t_fb:9.2f}x")


def cpu_best_of(repeat: int, functions: dict) -> dict:
    """Best-of-``repeat`` CPU seconds of each function, timed turn by turn (after one
    warm-up each), so a burst of load on a shared machine hits all of them alike."""
    for function in functions.values():
        function()
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.process_time()
            function()
            best[name] = min(best[name], time.process_time() - start)
    return best


def kernel_row(shape, repeat: int, torch, rng) -> str:
    """One ``--kernels`` row: ours and PyTorch's 2x2 max pool kernels on ``shape``."""
    from tinygrad_cnn.ops.geometry import WindowGeometry
    from tinygrad_cnn.ops.pool_windows import max_pool_forward, scatter_to_windows

    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
    height, width = shape[-2:]
    geometry = WindowGeometry((height, width), (height // 2, width // 2), (2, 2), (2, 2),
                              ((0, 0), (0, 0)), (1, 1))
    _, index = max_pool_forward(x, geometry)
    g = rng.standard_normal(index.shape).astype(np.float32)
    functions = {"fwd": lambda: max_pool_forward(x, geometry),
                 "scatter": lambda: scatter_to_windows(g, index, geometry)}
    if torch is not None:
        aten = torch.ops.aten
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)
        _, it = aten.max_pool2d_with_indices(xt, [2, 2], [2, 2])
        functions["torch fwd"] = lambda: aten.max_pool2d_with_indices(xt, [2, 2], [2, 2])
        functions["torch bwd"] = lambda: aten.max_pool2d_with_indices_backward(
            gt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, it)
    best = {name: seconds * 1e3 for name, seconds in cpu_best_of(repeat, functions).items()}
    ours = best["fwd"] + best["scatter"]
    row = f"{str(shape):18} {best['fwd']:10.2f} {best['scatter']:8.2f} {ours:7.2f}"
    if torch is not None:
        theirs = best["torch fwd"] + best["torch bwd"]
        row += (f" {best['torch fwd']:10.2f} {best['torch bwd']:10.2f} {theirs:10.2f} "
                f"{ours / theirs:5.2f}x")
    return row


def kernels(repeat: int) -> None:
    """The ``--kernels`` table (see the module docstring)."""
    from tinygrad_cnn.ops.threads import keep_heap

    keep_heap()   # as a training step: freed arrays stay in the heap (no page faults)
    torch = optional_torch(1)
    limit_threads(1)
    rng = np.random.default_rng(0)
    print(f"2x2 max pool kernels, float32, one thread, CPU ms, best of {repeat}; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'shape':18} {'fwd+index':>10} {'scatter':>8} {'sum':>7} {'torch fwd':>10} "
          f"{'torch bwd':>10} {'torch sum':>10} {'ratio':>6}")
    for shape in [(64, 32, 28, 28), (64, 64, 14, 14)]:
        print(kernel_row(shape, repeat, torch, rng))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="repeat 5, smaller batch")
    parser.add_argument("--kernels", action="store_true",
                        help="the MNIST step's 2x2 max pool kernels at one thread")
    args = parser.parse_args()
    if args.kernels:
        kernels(5 if args.quick else args.repeat)
        return
    repeat = 5 if args.quick else args.repeat
    shape = (16 if args.quick else 64, 32, 28, 28)
    global torch, TF
    torch = optional_torch(args.threads)
    TF = torch.nn.functional if torch is not None else None
    limit_threads(args.threads)
    x = np.random.default_rng(0).random(shape).astype(np.float32) + 0.1

    n, c, h, w = shape
    reshape_max = best_of(repeat, lambda: x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)))
    ours_2x2 = best_of(repeat, lambda: F.max_pool2d(Tensor(x), 2))
    print(f"input {shape} float32, best of {repeat}, torch threads {args.threads}")
    print(f"max_pool2d 2x2 forward: {ours_2x2 * 1e3:.2f} ms; numpy reshape(...).max "
          f"{reshape_max * 1e3:.2f} ms ({reshape_max / ours_2x2:.1f}x slower)")
    print(f"{'case':24} {'fwd ms':>8} {'fwd+bwd ms':>11} {'torch fwd':>10} {'torch f+b':>10} "
          f"{'ratio fwd':>10} {'ratio f+b':>10}")
    for name, ours, theirs in cases():
        print(f"{name:24} " + time_case(ours, theirs, x, repeat))

if __name__ == "__main__":
    main()
