"""Autograd overhead against PyTorch, in one run.

1. Per-op overhead: forward + backward of a chain of 1,000 small elementwise ops on a
   16-element float32 tensor (mul, add, tanh, sub in turn), in microseconds per op.
2. An MLP training step: (64, 784) inputs, 784 -> 256 -> 10 with ReLU, cross-entropy, SGD.

Each figure is the best of ``--repeat`` runs, ours and PyTorch's timed turn by turn in the
same process at the same thread count (at two threads each after 50 ms of untimed runs of
the same library), printed with their ratio.  PyTorch is optional:
without it only our timings are printed.

    python benchmarks/bench_autograd.py [--threads 2] [--repeat 7]
"""

import argparse

import numpy as np
from _timing import best_of, interleaved_best_of, limit_threads, optional_torch

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

CHAIN = 1000
# At several threads each timed call follows this much of untimed calls of the same library
# (the other's idle threads stop spinning first; see _timing.interleaved_best_of).
SETTLE_SECONDS = 0.05


def chain_step(x, ops):
    y = x
    for _ in range(CHAIN // 4):
        y = ops[0](y)
        y = ops[1](y)
        y = ops[2](y)
        y = ops[3](y)
    y.sum().backward()


def ours_chain():
    x = tg.Tensor(np.random.default_rng(0).random(16, dtype=np.float32), requires_grad=True)
    ops = (lambda t: t * 1.0001, lambda t: t + 0.001, lambda t: t.tanh(), lambda t: t - 0.001)
    return lambda: chain_step(x, ops)


def torch_chain(torch):
    x = torch.rand(16, requires_grad=True)
    ops = (lambda t: t * 1.0001, lambda t: t + 0.001, lambda t: t.tanh(), lambda t: t - 0.001)
    return lambda: chain_step(x, ops)


def mlp_data():
    rng = np.random.default_rng(1)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    w1 = (rng.standard_normal((256, 784)) * 0.03).astype(np.float32)
    w2 = (rng.standard_normal((10, 256)) * 0.06).astype(np.float32)
    return x, y, w1, w2


def ours_mlp():
    x, y, w1, w2 = mlp_data()
    x = tg.Tensor(x)
    params = [tg.Tensor(w1, requires_grad=True), tg.Tensor(np.zeros(256, np.float32), True),
              tg.Tensor(w2, requires_grad=True), tg.Tensor(np.zeros(10, np.float32), True)]

    def step():
        hidden = F.linear(x, params[0], params[1]).relu()
        loss = F.cross_entropy(F.linear(hidden, params[2], params[3]), y)
        loss.backward()
        for p in params:
            p.data -= 0.01 * p.grad
            p.grad = None

    return step


def torch_mlp(torch):
    x, y, w1, w2 = mlp_data()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    params = [torch.tensor(w1, requires_grad=True), torch.zeros(256, requires_grad=True),
              torch.tensor(w2, requires_grad=True), torch.zeros(10, requires_grad=True)]
    tf = torch.nn.functional

    def step():
        hidden = tf.linear(x, params[0], params[1]).relu()
        loss = tf.cross_entropy(tf.linear(hidden, params[2], params[3]), y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    torch = optional_torch(args.threads)
    limit_threads(args.threads)

    cases = [
        ("elementwise chain, per op (us)", ours_chain, torch_chain, 1e6 / CHAIN),
        ("MLP step 64x784 (ms)", ours_mlp, torch_mlp, 1e3),
    ]
    print(f"{'case':34s} {'ours':>10s} {'torch':>10s} {'ratio':>7s}   (threads={args.threads})")
    for name, ours, theirs, scale in cases:
        ours_step = ours()
        if torch is None:
            ours_time = best_of(args.repeat, ours_step) * scale
            print(f"{name:34s} {ours_time:10.2f} {'-':>10s} {'-':>7s}")
            continue
        settle = SETTLE_SECONDS if args.threads > 1 else 0.0
        ours_time, torch_time = (t * scale for t in interleaved_best_of(
            args.repeat, ours_step, theirs(torch), settle=settle))
        print(f"{name:34s} {ours_time:10.2f} {torch_time:10.2f} {ours_time / torch_time:6.2f}x")

if __name__ == "__main__":
    main()
