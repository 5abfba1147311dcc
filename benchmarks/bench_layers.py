"""Activations, losses and normalisations against PyTorch, in one run: forward + backward,
float32, at sizes a CNN uses them.

- ``cross_entropy`` of (256, 10) logits (a classifier's loss) and of (8, 21, 64, 64) logits
  with ignored pixels and class weights (a segmentation net's loss);
- ``layer_norm`` over the last 256 features of (64, 49, 256); ``group_norm`` (32 groups)
  of (16, 64, 28, 28);
- ``relu``, ``gelu``, ``silu``, ``hardswish`` and ``softplus`` of a (64, 32, 28, 28) activation
  map;
- ``BatchNorm2d`` in training mode (weight, bias, running statistics, as a CNN uses it), its
  forward and backward with a random output gradient, at CNN shapes: (64, 32, 14, 14),
  (32, 64, 32, 32), (128, 16, 32, 32) and the three of ``bench_train.py``'s ResNet-8
  (64, 16, 32, 32), (64, 32, 16, 16), (64, 64, 8, 8).

Best of ``--repeat`` runs, ours and PyTorch's timed turn by turn in the same process at the
same thread count (each of ``--threads``), printed with their ratio and the load average.
PyTorch is optional.  ``--cases`` keeps the rows whose name contains one of the given words.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_layers.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_layers.py \
        --threads 1 --cases BatchNorm2d
"""

import argparse

import numpy as np
from _timing import best_of, interleaved_best_of, machine_line, optional_torch, thread_count

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((256, 10)).astype(np.float32)
LABELS = RNG.integers(0, 10, 256)
SEGMENT_LOGITS = RNG.standard_normal((8, 21, 64, 64)).astype(np.float32)
SEGMENT_LABELS = np.where(RNG.random((8, 64, 64)) < 0.05, 255,
                          RNG.integers(0, 21, (8, 64, 64)))
CLASS_WEIGHT = RNG.uniform(0.5, 2.0, 21).astype(np.float32)
TOKENS = RNG.standard_normal((64, 49, 256)).astype(np.float32)
FEATURES = RNG.standard_normal((16, 64, 28, 28)).astype(np.float32)
ACTIVATION_MAP = RNG.standard_normal((64, 32, 28, 28)).astype(np.float32)
BATCH_NORM_SHAPES = [(64, 32, 14, 14), (32, 64, 32, 32), (128, 16, 32, 32),
                     (64, 16, 32, 32), (64, 32, 16, 16), (64, 64, 8, 8)]


def cases(torch):
    """(name, our forward, PyTorch's forward, input array): each forward maps a tensor to a
    tensor whose sum is differentiated."""
    TF = torch.nn.functional if torch is not None else None
    t = (lambda a: torch.from_numpy(a)) if torch is not None else None
    return [
        ("cross_entropy (256, 10)",
         lambda x: F.cross_entropy(x, LABELS),
         TF and (lambda x: TF.cross_entropy(x, t(LABELS))), LOGITS),
        ("cross_entropy (8, 21, 64, 64), weight, ignore_index",
         lambda x: F.cross_entropy(x, SEGMENT_LABELS, weight=CLASS_WEIGHT, ignore_index=255),
         TF and (lambda x: TF.cross_entropy(x, t(SEGMENT_LABELS), weight=t(CLASS_WEIGHT),
                                            ignore_index=255)), SEGMENT_LOGITS),
        ("layer_norm (64, 49, 256)",
         lambda x: F.layer_norm(x, (256,)), TF and (lambda x: TF.layer_norm(x, (256,))),
         TOKENS),
        ("group_norm (16, 64, 28, 28), 32 groups",
         lambda x: F.group_norm(x, 32), TF and (lambda x: TF.group_norm(x, 32)), FEATURES),
        *[(f"{name} (64, 32, 28, 28)", getattr(F, name), TF and getattr(TF, name),
           ACTIVATION_MAP) for name in ("relu", "gelu", "silu", "hardswish", "softplus")],
    ]


def step(forward, make):
    def run():
        x = make()
        forward(x).sum().backward()
    return run


def batch_norm_steps(shape, torch):
    """(our step, PyTorch's step or None): a ``BatchNorm2d`` in training mode, forward and
    backward of a fixed random output gradient into the input, weight and bias (their
    ``.grad`` cleared first, as ``zero_grad`` does)."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    grad = rng.standard_normal(shape).astype(np.float32)
    layer = nn.BatchNorm2d(shape[1])
    inp, seed = tg.Tensor(x, requires_grad=True), tg.Tensor(grad)

    def ours():
        inp.grad = layer.weight.grad = layer.bias.grad = None
        layer(inp).backward(seed)

    if torch is None:
        return ours, None
    twin = torch.nn.BatchNorm2d(shape[1])
    x_t, grad_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def theirs():
        x_t.grad = twin.weight.grad = twin.bias.grad = None
        twin(x_t).backward(grad_t)

    return ours, theirs


def runs(torch):
    """(name, our step, PyTorch's step or None) for every row."""
    rows = []
    for name, ours, theirs, array in cases(torch):
        rows.append((name, step(ours, lambda a=array: tg.Tensor(a, requires_grad=True)),
                     theirs and step(theirs,
                                     lambda a=array: torch.tensor(a, requires_grad=True))))
    for shape in BATCH_NORM_SHAPES:
        rows.append((f"BatchNorm2d training {shape}", *batch_norm_steps(shape, torch)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cases", nargs="+", default=None,
                        help="only the rows whose name contains one of these words")
    args = parser.parse_args()
    torch = optional_torch(args.threads[0])
    rows = [row for row in runs(torch)
            if args.cases is None or any(word in row[0] for word in args.cases)]
    for threads in args.threads:
        print(f"forward + backward, float32, {threads} thread(s), best of {args.repeat}; "
              f"{machine_line()}")
        print(f"{'case':<52} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}")
        with thread_count(threads, torch):
            for name, ours_run, theirs_run in rows:
                if theirs_run is None:
                    print(f"{name:<52} {best_of(args.repeat, ours_run) * 1e3:9.2f}")
                    continue
                mine, reference = interleaved_best_of(args.repeat, ours_run, theirs_run)
                print(f"{name:<52} {mine * 1e3:9.2f} {reference * 1e3:9.2f} "
                      f"{mine / reference:6.2f}", flush=True)


if __name__ == "__main__":
    main()
