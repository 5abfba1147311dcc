"""nn layers and optimizer steps against PyTorch, in one run.

1. ``BatchNorm2d`` forward + backward in training mode, float32, (64, 32, 28, 28) — our
   first-order backward is fused numpy, its create_graph backward Tensor ops (so double
   backward works); this says what the training step costs.
2. One optimizer step (SGD with momentum, Adam) over the parameters of the README's MNIST CNN
   (about 420k float32 weights), gradients already in place.

Best of ``--repeat`` runs, with the ratio to PyTorch measured in the same process at the same
thread count.  PyTorch is optional: without it only our timings are printed.

    python benchmarks/bench_nn.py [--threads 2] [--repeat 7]
"""

import argparse

import numpy as np
from _timing import best_of, limit_threads, optional_torch

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim

MNIST_CNN_SHAPES = [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 3136), (128,),
                    (10, 128), (10,)]


def batchnorm_cases(torch):
    x = np.random.default_rng(0).standard_normal((64, 32, 28, 28)).astype(np.float32)
    grad = np.ones_like(x)
    ours = nn.BatchNorm2d(32)

    def ours_step():
        inp = tg.Tensor(x, requires_grad=True)
        ours(inp).backward(grad)

    theirs_step = None
    if torch is not None:
        theirs = torch.nn.BatchNorm2d(32)
        x_t, grad_t = torch.from_numpy(x), torch.from_numpy(grad)

        def theirs_step():
            theirs(x_t.requires_grad_()).backward(grad_t)
            x_t.grad = None

    return "BatchNorm2d fwd+bwd (64,32,28,28)", ours_step, theirs_step


def optimizer_cases(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in MNIST_CNN_SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in MNIST_CNN_SHAPES]
    cases = []
    for name, options in (("SGD", dict(lr=0.01, momentum=0.9)), ("Adam", dict(lr=1e-3))):
        params = [nn.Parameter(a.copy()) for a in arrays]
        for p, g in zip(params, grads):
            p.grad = g
        ours = getattr(optim, name)(params, **options)
        theirs_step = None
        if torch is not None:
            their_params = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
            for p, g in zip(their_params, grads):
                p.grad = torch.from_numpy(g)
            theirs = getattr(torch.optim, name)(their_params, **options)
            theirs_step = theirs.step
        cases.append((f"{name} step, MNIST CNN params", ours.step, theirs_step))
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    torch = optional_torch(args.threads)
    limit_threads(args.threads)
    print(f"{'case':36s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s}   "
          f"(threads={args.threads})")
    for label, ours_step, theirs_step in [batchnorm_cases(torch), *optimizer_cases(torch)]:
        ours_ms = best_of(args.repeat, ours_step) * 1e3
        if theirs_step is None:
            print(f"{label:36s} {ours_ms:9.2f}")
            continue
        theirs_ms = best_of(args.repeat, theirs_step) * 1e3
        print(f"{label:36s} {ours_ms:9.2f} {theirs_ms:9.2f} {ours_ms / theirs_ms:6.2f}x")


if __name__ == "__main__":
    main()
