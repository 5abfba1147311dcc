"""Speed of the PyTorch-compatibility CNN ops: max pooling with indices and unpooling,
average and Lp pooling, adaptive average and max pooling, reflect/replicate/circular
padding, every interpolation mode; forward and forward+backward, float32, as a ratio to
PyTorch at the same thread count in the same run.

    python benchmarks/bench_pool_interp.py [--threads N] [--repeat R] [--quick] [--only TEXT]

Inputs are CNN-sized: (32, 64, 28, 28) for pooling, padding and interpolation; a ResNet
head (32, 512, 7, 7) -> 1, (32, 64, 14, 14) -> 5 (unequal windows) and 28 -> 14 for adaptive
pooling; (32, 64, 100) sequences for the 1-D ops, (32, 64, 1000) -> 1 for global max
pooling over time.  Each figure is the best
of R calls, ours and PyTorch's timed turn by turn.  The BLAS library numpy uses and the load
average are printed: on a shared machine they say how much to trust the figures.
"""

import argparse
import os

import numpy as np
from _timing import interleaved_best_of, limit_threads, machine_line, optional_torch

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

torch = TF = None  # set in main() when PyTorch is installed

CNN = (32, 64, 28, 28)


def cases(quick: bool):
    """(name, input shape, ours(x), torch(x)): every pooling, unpooling, padding and
    interpolation op of the PyTorch-compatibility work, at CNN sizes."""
    batch = 8 if quick else 32
    cnn = (batch,) + CNN[1:]
    half = (batch, 64, 14, 14)
    # max_unpool2d reads the indices of a 2x2 max pooling of a (batch, 64, 28, 28) input
    source = np.random.default_rng(2).standard_normal(cnn).astype(np.float32)
    ours_index = F.max_pool2d(Tensor(source), 2, return_indices=True)[1]
    their_index = TF.max_pool2d(torch.tensor(source), 2, return_indices=True)[1] \
        if torch is not None else None
    return [
        ("max_pool2d 2x2 return_indices", cnn,
         lambda t: F.max_pool2d(t, 2, return_indices=True)[0],
         lambda t: TF.max_pool2d(t, 2, return_indices=True)[0]),
        ("max_pool2d 2x2 (no indices)", cnn, lambda t: F.max_pool2d(t, 2),
         lambda t: TF.max_pool2d(t, 2)),
        ("max_pool2d 3x3/2 pad 1 indices", cnn,
         lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True)[0],
         lambda t: TF.max_pool2d(t, 3, 2, 1, return_indices=True)[0]),
        ("max_unpool2d 2x2", half, lambda t: F.max_unpool2d(t, ours_index, 2),
         lambda t: TF.max_unpool2d(t, their_index, 2)),
        ("avg_pool2d 3x3/2 pad 1", cnn, lambda t: F.avg_pool2d(t, 3, 2, 1),
         lambda t: TF.avg_pool2d(t, 3, 2, 1)),
        ("lp_pool2d p=2 2x2", cnn, lambda t: F.lp_pool2d(t, 2, 2),
         lambda t: TF.lp_pool2d(t, 2, 2)),
        ("adaptive_avg_pool2d 7x7 -> 1", (batch, 512, 7, 7),
         lambda t: F.adaptive_avg_pool2d(t, 1), lambda t: TF.adaptive_avg_pool2d(t, 1)),
        ("adaptive_avg_pool2d 14 -> 5", half,
         lambda t: F.adaptive_avg_pool2d(t, 5), lambda t: TF.adaptive_avg_pool2d(t, 5)),
        ("adaptive_avg_pool1d 100 -> 7", (batch, 64, 100),
         lambda t: F.adaptive_avg_pool1d(t, 7), lambda t: TF.adaptive_avg_pool1d(t, 7)),
        ("adaptive_max_pool2d 7x7 -> 1", (batch, 512, 7, 7),
         lambda t: F.adaptive_max_pool2d(t, 1), lambda t: TF.adaptive_max_pool2d(t, 1)),
        ("adaptive_max_pool2d 14 -> 5", half,
         lambda t: F.adaptive_max_pool2d(t, 5), lambda t: TF.adaptive_max_pool2d(t, 5)),
        ("adaptive_max_pool2d 28 -> 14", cnn,
         lambda t: F.adaptive_max_pool2d(t, 14), lambda t: TF.adaptive_max_pool2d(t, 14)),
        ("adaptive_max_pool1d 100 -> 7", (batch, 64, 100),
         lambda t: F.adaptive_max_pool1d(t, 7), lambda t: TF.adaptive_max_pool1d(t, 7)),
        ("adaptive_max_pool1d 1000 -> 1", (batch, 64, 1000),
         lambda t: F.adaptive_max_pool1d(t, 1), lambda t: TF.adaptive_max_pool1d(t, 1)),
        ("pad reflect 1", cnn, lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect"),
         lambda t: TF.pad(t, (1, 1, 1, 1), mode="reflect")),
        ("pad replicate 2", cnn, lambda t: F.pad(t, (2, 2, 2, 2), mode="replicate"),
         lambda t: TF.pad(t, (2, 2, 2, 2), mode="replicate")),
        ("pad circular 1", cnn, lambda t: F.pad(t, (1, 1, 1, 1), mode="circular"),
         lambda t: TF.pad(t, (1, 1, 1, 1), mode="circular")),
        ("interpolate bilinear x2", cnn,
         lambda t: F.interpolate(t, scale_factor=2, mode="bilinear"),
         lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear")),
        ("interpolate bilinear align x2", cnn,
         lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True),
         lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True)),
        ("interpolate bilinear 28 -> 19", cnn,
         lambda t: F.interpolate(t, size=19, mode="bilinear"),
         lambda t: TF.interpolate(t, size=19, mode="bilinear")),
        ("interpolate bicubic x2", cnn,
         lambda t: F.interpolate(t, scale_factor=2, mode="bicubic"),
         lambda t: TF.interpolate(t, scale_factor=2, mode="bicubic")),
        ("interpolate nearest x2", cnn, lambda t: F.interpolate(t, scale_factor=2),
         lambda t: TF.interpolate(t, scale_factor=2)),
        ("interpolate nearest x1.5", cnn, lambda t: F.interpolate(t, scale_factor=1.5),
         lambda t: TF.interpolate(t, scale_factor=1.5)),
        ("interpolate nearest-exact x2", cnn,
         lambda t: F.interpolate(t, scale_factor=2, mode="nearest-exact"),
         lambda t: TF.interpolate(t, scale_factor=2, mode="nearest-exact")),
        ("interpolate area 28 -> 12", cnn,
         lambda t: F.interpolate(t, size=12, mode="area"),
         lambda t: TF.interpolate(t, size=12, mode="area")),
        ("interpolate linear x2 (1-D)", (batch, 64, 100),
         lambda t: F.interpolate(t, scale_factor=2, mode="linear"),
         lambda t: TF.interpolate(t, scale_factor=2, mode="linear")),
    ]


def time_case(ours, theirs, x: np.ndarray, repeat: int) -> str:
    """One table row: forward (no graph) and forward+backward, ours, PyTorch's, ratios."""
    leaf = Tensor(x, requires_grad=True)
    grad_out = np.random.default_rng(1).random(ours(Tensor(x)).shape).astype(np.float32)

    def ours_fwd():
        ours(Tensor(x))

    def ours_fb():
        leaf.grad = None
        ours(leaf).backward(grad_out)

    if torch is None:
        from _timing import best_of

        return f"{best_of(repeat, ours_fwd) * 1e3:9.2f} {best_of(repeat, ours_fb) * 1e3:10.2f}"
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(grad_out)

    def theirs_fwd():
        with torch.no_grad():
            theirs(xt)

    def theirs_fb():
        xt.grad = None
        theirs(xt).backward(gt)

    fwd, t_fwd = interleaved_best_of(repeat, ours_fwd, theirs_fwd)
    fb, t_fb = interleaved_best_of(repeat, ours_fb, theirs_fb)
    return (f"{fwd * 1e3:9.2f} {fb * 1e3:10.2f} {t_fwd * 1e3:9.2f} {t_fb * 1e3:10.2f} "
            f"{fwd / t_fwd:7.2f}x {fb / t_fb:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="repeat 3, batch 8")
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    global torch, TF
    torch = optional_torch(args.threads)
    TF = torch.nn.functional if torch is not None else None
    limit_threads(args.threads)
    print(f"float32, best of {repeat}, {args.threads} thread(s) for numpy's BLAS and torch")
    print(machine_line())
    header = f"{'case':31} {'shape':18} {'fwd ms':>9} {'fwd+bwd':>10}"
    if torch is not None:
        header += f" {'torch fwd':>9} {'torch f+b':>10} {'fwd':>8} {'fwd+bwd':>9}"
    print(header)
    rng = np.random.default_rng(0)
    for name, shape, ours, theirs in cases(args.quick):
        if args.only not in name:
            continue
        x = rng.standard_normal(shape).astype(np.float32)
        print(f"{name:31} {str(shape):18} {time_case(ours, theirs, x, repeat)}", flush=True)
    print("load average after: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
