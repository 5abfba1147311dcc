"""Convolution (and 2x2 max pooling) speed and memory against PyTorch and the GEMM roofline.

    python benchmarks/bench_conv.py [--threads 2] [--repeat 7] [--quick]
    python benchmarks/bench_conv.py --crossover     # im2col vs fft over kernel sizes
    python benchmarks/bench_conv.py --calibrate     # constants for tinygrad_cnn.ops.conv_select

float32, best of ``--repeat`` runs, all in one process so every ratio compares like with like
at the same thread count (``torch.set_num_threads``, ``threadpoolctl`` for numpy's BLAS and
``scipy.fft.set_workers`` for the FFT).  Columns:

* ``fwd`` / ``fwd+bwd``: our milliseconds and the ratio to PyTorch (``x torch``);
* ``x gemm``: our forward over one plain numpy GEMM with the convolution's FLOPs (the
  roofline of any im2col method);
* ``peak/cols``: tracemalloc peak of forward+backward over the size of the whole batch's
  im2col matrix; ``work/cols``: the same peak less what must exist anyway (the output and
  the gradients of x, weight and bias), i.e. the working memory of the algorithm.

Needs torch and threadpoolctl (benchmark-only dependencies).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np
import scipy.fft

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn import functional as F  # noqa: E402
from tinygrad_cnn.backends import conv_algorithm  # noqa: E402

CASES = {
    "a": ((64, 1, 28, 28), (32, 1, 3, 3), dict(padding=1)),
    "b": ((64, 32, 14, 14), (64, 32, 3, 3), dict(padding=1)),
    "c": ((32, 64, 32, 32), (128, 64, 3, 3), dict(padding=1)),
    "d": ((32, 3, 64, 64), (16, 3, 5, 5), dict(stride=2, padding=2)),
    "e": ((8, 16, 64, 64), (16, 16, 15, 15), dict(padding=7)),
}
QUICK_CASES = ("a", "b", "d")
POOL_SHAPE = (64, 32, 28, 28)


def best_ms(fn, repeat: int) -> float:
    fn()  # warm up (allocator, BLAS threads, FFT plans)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def conv_output_shape(x_shape, w_shape, options):
    stride, pad = options.get("stride", 1), options.get("padding", 0)
    ho = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    wo = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    return (x_shape[0], w_shape[0], ho, wo)


def ours_conv(x, w, b, grad, options, algorithm, backward):
    def run():
        with conv_algorithm(algorithm):
            xt = tg.Tensor(x, requires_grad=backward)
            wt = tg.Tensor(w, requires_grad=backward)
            bt = tg.Tensor(b, requires_grad=backward)
            out = F.conv2d(xt, wt, bt, **options)
            if backward:
                out.backward(grad)
    return run


def torch_conv(torch, x, w, b, grad, options, backward):
    tx, tw, tb, tgrad = (torch.from_numpy(a) for a in (x, w, b, grad))

    def run():
        xt = tx.detach().requires_grad_(backward)
        wt = tw.detach().requires_grad_(backward)
        bt = tb.detach().requires_grad_(backward)
        if backward:
            torch.nn.functional.conv2d(xt, wt, bt, **options).backward(tgrad)
        else:
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, bt, **options)
    return run


def gemm_roofline(x_shape, w_shape, out_shape, repeat):
    """One numpy GEMM with the convolution's FLOPs: (C_out, C*kH*kW) @ (C*kH*kW, N*Ho*Wo)."""
    rng = np.random.default_rng(0)
    k = w_shape[1] * w_shape[2] * w_shape[3]
    left = rng.standard_normal((w_shape[0], k), dtype=np.float32)
    right = rng.standard_normal((k, out_shape[0] * out_shape[2] * out_shape[3]),
                                dtype=np.float32)
    return best_ms(lambda: left @ right, repeat)


def peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def run_case(name, torch, repeat, rows):
    x_shape, w_shape, options = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out_shape = conv_output_shape(x_shape, w_shape, options)
    grad = rng.standard_normal(out_shape, dtype=np.float32)
    algorithms = ("auto", "im2col") if name == "e" else ("auto",)
    torch_fwd = best_ms(torch_conv(torch, x, w, b, grad, options, False), repeat)
    torch_both = best_ms(torch_conv(torch, x, w, b, grad, options, True), repeat)
    gemm = gemm_roofline(x_shape, w_shape, out_shape, repeat)
    cols_bytes = 4 * x_shape[1] * w_shape[2] * w_shape[3] * out_shape[0] * out_shape[2] \
        * out_shape[3]
    for algorithm in algorithms:
        fwd = best_ms(ours_conv(x, w, b, grad, options, algorithm, False), repeat)
        both = best_ms(ours_conv(x, w, b, grad, options, algorithm, True), repeat)
        peak = peak_bytes(ours_conv(x, w, b, grad, options, algorithm, True))
        kept = 4 * (int(np.prod(out_shape)) + x.size + w.size + b.size)
        label = f"({name}) conv {'x'.join(map(str, x_shape))} k{w_shape[2]}" + \
            ("" if algorithm == "auto" else f" [{algorithm}]")
        rows.append((label, fwd, fwd / torch_fwd, fwd / gemm, both, both / torch_both,
                     peak / cols_bytes, (peak - kept) / cols_bytes, torch_fwd, torch_both))
        print_row(rows[-1])


def run_pool(torch, repeat, rows):
    if not hasattr(F, "max_pool2d"):
        return
    x = np.random.default_rng(0).standard_normal(POOL_SHAPE, dtype=np.float32)
    grad = np.ones((64, 32, 14, 14), dtype=np.float32)
    tx, tgrad = torch.from_numpy(x), torch.from_numpy(grad)

    def ours(backward):
        def run():
            xt = tg.Tensor(x, requires_grad=backward)
            out = F.max_pool2d(xt, 2)
            if backward:
                out.backward(grad)
        return run

    def theirs(backward):
        def run():
            xt = tx.detach().requires_grad_(backward)
            if backward:
                torch.nn.functional.max_pool2d(xt, 2).backward(tgrad)
            else:
                with torch.no_grad():
                    torch.nn.functional.max_pool2d(xt, 2)
        return run

    fwd, both = best_ms(ours(False), repeat), best_ms(ours(True), repeat)
    torch_fwd, torch_both = best_ms(theirs(False), repeat), best_ms(theirs(True), repeat)
    rows.append(("max_pool2d 2x2 64x32x28x28", fwd, fwd / torch_fwd, float("nan"), both,
                 both / torch_both, float("nan"), float("nan"), torch_fwd, torch_both))
    print_row(rows[-1])


HEADER = (f"{'case':38s} {'fwd ms':>8s} {'x torch':>8s} {'x gemm':>7s} {'fwd+bwd':>8s} "
          f"{'x torch':>8s} {'peak/cols':>9s} {'work/cols':>9s} {'torch fwd':>9s} "
          f"{'torch f+b':>9s}")


def print_row(row):
    label, fwd, fwd_ratio, gemm_ratio, both, both_ratio, memory, work, tf, tb = row
    print(f"{label:38s} {fwd:8.2f} {fwd_ratio:8.2f} {gemm_ratio:7.2f} {both:8.2f} "
          f"{both_ratio:8.2f} {memory:9.2f} {work:9.2f} {tf:9.2f} {tb:9.2f}", flush=True)


def crossover(repeat):
    """im2col vs fft forward+backward on (8, 16, 64, 64), 16 output channels, 'same' size."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 64, 64), dtype=np.float32)
    print(f"{'kernel':>6s} {'im2col ms':>10s} {'fft ms':>8s} {'auto picks':>10s}")
    from tinygrad_cnn.backends import resolve_conv_algorithm
    from tinygrad_cnn.nn.functional._windows import conv_geometry
    for k in (3, 5, 7, 9, 11, 15):
        w = rng.standard_normal((16, 16, k, k), dtype=np.float32)
        b = np.zeros(16, dtype=np.float32)
        options = dict(padding=k // 2)
        grad = rng.standard_normal((8, 16, 64, 64), dtype=np.float32)
        times = [best_ms(ours_conv(x, w, b, grad, options, a, True), repeat)
                 for a in ("im2col", "fft")]
        geometry = conv_geometry("conv2d", x, w, padding=k // 2)
        pick = resolve_conv_algorithm("auto", 8, 16, 16, geometry)
        print(f"{k:6d} {times[0]:10.2f} {times[1]:8.2f} {pick:>10s}", flush=True)


def calibrate(repeat):
    """Measure the constants of the cost model in tinygrad_cnn.ops.conv_select."""
    from tinygrad_cnn.nn.functional._windows import conv_geometry
    from tinygrad_cnn.ops.im2col import im2col
    rng = np.random.default_rng(0)
    left = rng.standard_normal((128, 576), dtype=np.float32)
    right = rng.standard_normal((576, 32768), dtype=np.float32)
    gemm = best_ms(lambda: left @ right, repeat) / 1e3
    print(f"GEMM_FLOPS_PER_SECOND = {2 * 128 * 576 * 32768 / gemm:.3g}")
    x = rng.standard_normal((32, 64, 32, 32), dtype=np.float32)
    geometry = conv_geometry("conv2d", x, np.empty((128, 64, 3, 3), np.float32), padding=1)
    copy = best_ms(lambda: im2col(x, geometry), repeat) / 1e3
    print(f"COPY_SECONDS = {copy / (32 * 64 * 9 * 1024):.3g}")
    image = rng.standard_normal((128, 16, 81, 81), dtype=np.float32)
    fft = best_ms(lambda: scipy.fft.irfft2(scipy.fft.rfft2(image), s=(81, 81)), repeat) / 2e3
    print(f"FFT_SECONDS = {fft / (128 * 16 * 81 * 81 * np.log2(81 * 81)):.3g}")
    a = (rng.standard_normal((3321, 8, 16)) + 1j).astype(np.complex64)
    bmat = (rng.standard_normal((3321, 16, 16)) + 1j).astype(np.complex64)
    cmac = best_ms(lambda: np.matmul(a, bmat), repeat) / 1e3
    print(f"CMAC_SECONDS = {cmac / (3321 * 8 * 16 * 16):.3g}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help=f"cases {QUICK_CASES} only")
    parser.add_argument("--cases", default=None, help="e.g. 'ace'")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(args.threads), scipy.fft.set_workers(args.threads):
        if args.calibrate:
            return calibrate(args.repeat)
        if args.crossover:
            return crossover(args.repeat)
        import torch
        torch.set_num_threads(args.threads)
        print(f"threads={args.threads} repeat={args.repeat} numpy {np.__version__} "
              f"torch {torch.__version__}")
        print(HEADER)
        rows = []
        names = args.cases or ("".join(QUICK_CASES) if args.quick else "abcde")
        for name in names:
            run_case(name, torch, args.repeat, rows)
        if not args.cases:
            run_pool(torch, args.repeat, rows)
    return rows


if __name__ == "__main__":
    main()
