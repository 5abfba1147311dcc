"""Activations, losses and normalisations against PyTorch, in one run: forward + backward,
float32, at sizes a CNN uses them.

- ``cross_entropy`` of (256, 10) logits (a classifier's loss) and of (8, 21, 64, 64) logits
  with ignored pixels and class weights (a segmentation net's loss);
- ``layer_norm`` over the last 256 features of (64, 49, 256); ``group_norm`` (32 groups)
  of (16, 64, 28, 28);
- ``gelu``, ``silu``, ``hardswish`` and ``softplus`` of a (64, 32, 28, 28) activation map.

Best of ``--repeat`` runs, ours and PyTorch's timed turn by turn in the same process at the
same thread count, printed with their ratio.  PyTorch is optional.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_layers.py
"""

import argparse

import numpy as np
from _timing import best_of, interleaved_best_of, limit_threads, optional_torch

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

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
           ACTIVATION_MAP) for name in ("gelu", "silu", "hardswish", "softplus")],
    ]


def step(forward, make):
    def run():
        x = make()
        forward(x).sum().backward()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    limit_threads(args.threads)
    torch = optional_torch(args.threads)
    print(f"forward + backward, float32, {args.threads} threads, best of {args.repeat}")
    print(f"{'case':<52} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}")
    for name, ours, theirs, array in cases(torch):
        ours_run = step(ours, lambda a=array: tg.Tensor(a, requires_grad=True))
        if theirs is None:
            print(f"{name:<52} {best_of(args.repeat, ours_run) * 1e3:9.2f}")
            continue
        theirs_run = step(theirs, lambda a=array: torch.tensor(a, requires_grad=True))
        mine, reference = interleaved_best_of(args.repeat, ours_run, theirs_run)
        print(f"{name:<52} {mine * 1e3:9.2f} {reference * 1e3:9.2f} "
              f"{mine / reference:6.2f}")


if __name__ == "__main__":
    main()
