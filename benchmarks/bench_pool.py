"""Pooling speed: max / average / L2 pooling, forward and forward+backward, float32.

    python benchmarks/bench_pool.py [--threads N] [--repeat R] [--quick]

Each case is timed best-of-R, as a ratio to PyTorch at the same thread count when torch is
installed, and the 2x2 max pooling forward also against numpy's ``reshape(...).max`` in the
same run (the obvious numpy way, which the strided-slice kernels replace).  Input
(64, 32, 28, 28): the first pooling layer of an MNIST CNN with 32 channels.
"""

import argparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="repeat 5, smaller batch")
    args = parser.parse_args()
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
