"""Convolution speed per direction against PyTorch and the GEMM floor, at 1 and 2 threads.

    python benchmarks/bench_conv.py                    # cases (a)-(e), 1 and 2 threads
    python benchmarks/bench_conv.py --busy             # the same with the other core busy
    python benchmarks/bench_conv.py --threads 1 --cases bc --repeat 9
    python benchmarks/bench_conv.py --crossover        # im2col vs fft over kernel sizes
    python benchmarks/bench_conv.py --calibrate        # constants for tinygrad_cnn.ops.conv_select
    python benchmarks/bench_conv.py --threads 1 --cases abc --second im2col   # auto vs im2col
    python benchmarks/bench_conv.py --fp32-precision tf32   # "auto" may take F(4x4), both libs

float32. Per case and direction (``fwd`` the convolution, ``dx`` the input gradient, ``dw``
the weight gradient, ``f+b`` a whole forward+backward through autograd with a bias): our
milliseconds under ``"auto"`` and in the second column (``2nd ms``) under ``--second`` (by
default, for 3x3 stride-1 layers, ``"winograd"`` (F(4x4)), for (e) ``"im2col"``);
PyTorch's milliseconds; each over PyTorch's (``x torch``), timed turn by turn with PyTorch
(best of ``--repeat`` rounds, so a burst of load hits both); and ``gemm``, one plain numpy
GEMM with the direction's im2col FLOPs (what one whole-batch GEMM costs: chunked kernels
whose chunks stay in cache can beat it, as on (a)), timed after them
(at 2 threads its OpenBLAS workers spin for ~0.1 s after each product, on the core the
next call's second thread needs); for 3x3 stride-1 layers also ``F2 ms``, the frequency-wise
GEMMs alone of Winograd F(2x2) (the fastest algorithm "auto" may take under the default
"ieee" precision), at the best of a few band sizes: the floor of any F(2x2) method, with
every transform and copy free. Thread counts are
set with :func:`tinygrad_cnn.set_num_threads` (numpy's BLAS, scipy's FFT) and
``torch.set_num_threads``; each table prints the BLAS kernel (threadpoolctl) and the load
average. ``--busy`` starts a process spinning on one core for the run (the "busy neighbour":
the other helpers of a shared machine), stopped at the end, and adds the goal's table: our
forward+backward at 1 and 2 threads turn by turn with no PyTorch call in between
(:func:`busy_scaling`).

Needs torch and threadpoolctl (benchmark-only dependencies).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

import numpy as np
import scipy.fft
from _timing import (
    add_benchmark_mode_option,
    add_precision_option,
    machine_line,
    set_benchmark_mode,
    set_conv_precision,
    start_second_core,
)

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


CLOCK = time.perf_counter  # --cpu-time: time.process_time


SETTLE_SECONDS = 0.03   # at 2 threads: untimed calls of the same function before each timed one


def interleaved(repeat, *functions, settle=None):
    """Best-of-``repeat`` milliseconds of each function, timed turn by turn, each round in
    a new (seeded) random order, so none always runs right after the same one, whose cache
    footprint or lingering threads would slow it. (A rotation keeps the cyclic order: the
    function after the GEMM floor followed it in every round, and at 2 threads the floor's
    OpenBLAS workers spin on for ~0.1 s after it.) At two threads (``settle`` None: from
    :func:`tinygrad_cnn.get_num_threads`) each timed call comes after ``SETTLE_SECONDS`` of
    untimed calls of the same function: after its turn, PyTorch's OpenMP threads spin on
    for a few milliseconds on the second core, where our helper process or second thread
    would run the next call, and ours would slow PyTorch's likewise."""
    if settle is None:
        settle = SETTLE_SECONDS if tg.get_num_threads() > 1 else 0.0
    for fn in functions:
        fn()
    best = [float("inf")] * len(functions)
    order = np.random.default_rng(len(functions))
    for _ in range(repeat):
        for i in order.permutation(len(functions)):
            begin = CLOCK()
            while settle and CLOCK() - begin < settle:
                functions[i]()
            start = CLOCK()
            functions[i]()
            best[i] = min(best[i], CLOCK() - start)
    return [b * 1e3 for b in best]


def best_ms(fn, repeat: int) -> float:
    return interleaved(repeat, fn)[0]


def conv_output_shape(x_shape, w_shape, options):
    stride, pad = options.get("stride", 1), options.get("padding", 0)
    ho = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    wo = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    return (x_shape[0], w_shape[0], ho, wo)


def ours_direction(direction, x, w, b, grad, options, algorithm):
    """Our op for one direction, through the triad's Functions (no autograd recording)."""
    from tinygrad_cnn.nn.functional._windows import conv_geometry
    from tinygrad_cnn.ops.conv import Conv2d, Conv2dWeightGrad, ConvTranspose2d
    geometry = conv_geometry("conv2d", x, w, **options)
    xt, wt, bt, gt = (tg.Tensor(a) for a in (x, w, b, grad))

    def run():
        with conv_algorithm(algorithm), tg.no_grad():
            if direction == "fwd":
                Conv2d.apply(xt, wt, bt, geometry, algorithm)
            elif direction == "dx":
                ConvTranspose2d.apply(gt, wt, None, geometry, algorithm)
            elif direction == "dw":
                Conv2dWeightGrad.apply(xt, gt, geometry, algorithm)
            else:
                xr = tg.Tensor(x, requires_grad=True)
                wr = tg.Tensor(w, requires_grad=True)
                br = tg.Tensor(b, requires_grad=True)
                with tg.enable_grad():
                    F.conv2d(xr, wr, br, **options).backward(grad)
    return run


def torch_direction(torch, direction, x, w, b, grad, options):
    tx, tw, tb, tgrad = (torch.from_numpy(a) for a in (x, w, b, grad))

    def run():
        if direction == "fwd":
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, tb, **options)
        elif direction == "dx":
            torch.nn.grad.conv2d_input(tx.shape, tw, tgrad, **options)
        elif direction == "dw":
            torch.nn.grad.conv2d_weight(tx, tw.shape, tgrad, **options)
        else:
            xt, wt, bt = (a.detach().requires_grad_(True) for a in (tx, tw, tb))
            torch.nn.functional.conv2d(xt, wt, bt, **options).backward(tgrad)
    return run


def gemm_floor(direction, x_shape, w_shape, out_shape):
    """One numpy GEMM with the direction's im2col FLOPs (f+b: the three in a row); the
    weight gradient's as ``cols @ grads.T``, the orientation OpenBLAS runs faster on these
    shapes (and the library's im2col kernels take)."""
    rng = np.random.default_rng(0)
    k = w_shape[1] * w_shape[2] * w_shape[3]
    positions = out_shape[0] * out_shape[2] * out_shape[3]
    weight = rng.standard_normal((w_shape[0], k), dtype=np.float32)
    cols = rng.standard_normal((k, positions), dtype=np.float32)
    grads = rng.standard_normal((w_shape[0], positions), dtype=np.float32)
    products = {"fwd": lambda: weight @ cols, "dx": lambda: weight.T @ grads,
                "dw": lambda: cols @ grads.T}
    if direction in products:
        return products[direction]
    return lambda: [p() for p in products.values()]


F2_BANDS = (128, 256, 512, 1024, 2048)   # tiles per product tried for the F2 floor


def winograd_floor(direction, x_shape, w_shape, out_shape, repeat):
    """The best time of F(2x2, 3x3)'s frequency-wise GEMMs alone for the whole batch: per
    band of ``t`` tiles, 16 products ``(C_out, C) @ (C, t)`` (forward), ``(C, C_out) @
    (C_out, t)`` (input gradient, over the input's tiles) or ``(C_out, t) @ (t, C)`` (weight
    gradient, the bands' sums added), each also in the transposed orientation (tiles as
    rows), the fastest of those and of the ``F2_BANDS`` band sizes (operands contiguous,
    results over one reused buffer: nothing else); f+b the sum of the three floors."""
    n, channels, h, w = x_shape
    out_channels = w_shape[0]
    out_tiles = n * -(-out_shape[2] // 2) * -(-out_shape[3] // 2)
    in_tiles = n * -(-h // 2) * -(-w // 2)
    shapes = {"fwd": ("apply", out_channels, channels, out_tiles),
              "dx": ("apply", channels, out_channels, in_tiles),
              "dw": ("sum", out_channels, channels, out_tiles)}
    if direction not in shapes:
        return sum(winograd_floor(d, x_shape, w_shape, out_shape, repeat) for d in shapes)
    return min(best_ms(_band_products(*shapes[direction], t, transposed), repeat)
               for t in F2_BANDS for transposed in (False, True))


def _band_products(kind, rows, inner, tiles, t, transposed):
    """16 products per band of ``t`` of ``tiles`` tiles: ``"apply"`` a fixed
    ``(rows, inner)`` matrix to each band's ``(inner, t)``, ``"sum"`` the bands' ``(rows, t)
    @ (t, inner)`` added up; ``transposed``: the same products with every matrix
    transposed."""
    rng = np.random.default_rng(0)

    def random(*shape):
        return rng.standard_normal((16,) + shape, dtype=np.float32)

    widths = [min(t, tiles - start) for start in range(0, tiles, t)]
    if kind == "apply":
        fixed = random(inner, rows) if transposed else random(rows, inner)
        bands = [random(k, inner) if transposed else random(inner, k) for k in widths]
        out = np.empty((16, t, rows) if transposed else (16, rows, t), np.float32)

        def run():
            for band in bands:
                k = band.shape[1 if transposed else 2]
                if transposed:
                    np.matmul(band, fixed, out=out[:, :k])
                else:
                    np.matmul(fixed, band, out=out[:, :, :k])
        return run
    left, right = (inner, rows) if transposed else (rows, inner)
    pairs = [(random(left, k), random(k, right)) for k in widths]
    total, term = (np.empty((16, left, right), np.float32) for _ in range(2))

    def run():
        np.matmul(*pairs[0], out=total)
        for p, q in pairs[1:]:
            np.matmul(p, q, out=term)
            np.add(total, term, out=total)
    return run


def winograd_applies(w_shape, options):
    return w_shape[2:] == (3, 3) and options.get("stride", 1) == 1 and \
        options.get("dilation", 1) == 1


DIRECTIONS = ("fwd", "dx", "dw", "f+b")


def run_case(name, torch, repeat, rows, second=None):
    x_shape, w_shape, options = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out_shape = conv_output_shape(x_shape, w_shape, options)
    grad = rng.standard_normal(out_shape, dtype=np.float32)
    if second is not None:
        algorithms = ["auto", second]
    else:
        algorithms = ["auto"] + (["winograd"] if winograd_applies(w_shape, options) else []) + \
            (["im2col"] if name == "e" else [])
    for direction in DIRECTIONS:
        functions = [ours_direction(direction, x, w, b, grad, options, a) for a in algorithms]
        functions.append(torch_direction(torch, direction, x, w, b, grad, options))
        *ours, theirs = interleaved(repeat, *functions)
        # The floor apart: its OpenBLAS threads would spin on beside the next call.
        gemm = best_ms(gemm_floor(direction, x_shape, w_shape, out_shape), repeat)
        f2 = (winograd_floor(direction, x_shape, w_shape, out_shape, repeat)
              if winograd_applies(w_shape, options) else None)
        row = (name, direction, dict(zip(algorithms, ours)), theirs, gemm, f2)
        rows.append(row)
        print_row(row)


HEADER = (f"{'case':4s} {'dir':4s} {'auto ms':>8s} {'x torch':>8s} {'2nd ms':>8s} "
          f"{'x torch':>8s} {'torch ms':>9s} {'gemm ms':>8s} {'auto/gemm':>9s} "
          f"{'F2 ms':>7s} {'F2/torch':>8s}")


def print_row(row):
    name, direction, ours, theirs, gemm, f2 = row
    auto = ours["auto"]
    wino = next((t for a, t in ours.items() if a != "auto"), None)
    wino_cells = (f"{wino:8.2f} {wino / theirs:8.2f}" if wino is not None
                  else f"{'':8s} {'':8s}")
    print(f"({name}) {direction:4s} {auto:8.2f} {auto / theirs:8.2f} {wino_cells} "
          f"{theirs:9.2f} {gemm:8.2f} {auto / gemm:9.2f}"
          + ("" if f2 is None else f" {f2:7.2f} {f2 / theirs:8.2f}"), flush=True)


def busy_scaling(repeat, cases):
    """The busy-neighbour goal: our forward+backward ("auto") at 1 and at 2 threads, timed
    turn by turn in one table with no PyTorch call in between (after its turn PyTorch's
    OpenMP threads keep spinning for a while and take the core our second thread would
    get, which in the tables above slows whichever of ours runs next)."""
    print("busy neighbour, ours only: f+b ms at 1 and 2 threads, turn by turn; "
          + machine_line())
    print(f"{'case':4s} {'1 thread':>9s} {'2 threads':>10s} {'2/1':>6s}")
    for name in cases:
        x_shape, w_shape, options = CASES[name]
        rng = np.random.default_rng(0)
        x, w = (rng.standard_normal(s, dtype=np.float32) for s in (x_shape, w_shape))
        b = rng.standard_normal(w_shape[0], dtype=np.float32)
        grad = rng.standard_normal(conv_output_shape(x_shape, w_shape, options),
                                   dtype=np.float32)
        step = ours_direction("f+b", x, w, b, grad, options, "auto")

        def at(threads, step=step):
            def run():
                tg.set_num_threads(threads)
                step()
            return run
        one, two = interleaved(repeat, at(1), at(2))
        print(f"({name}) {one:9.2f} {two:10.2f} {two / one:6.2f}", flush=True)
    print(machine_line())


def environment_line(threads, busy):
    return f"threads={threads} busy_neighbour={'yes' if busy else 'no'} {machine_line()}"


def _spin():
    while True:
        pass


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
        times = [best_ms(ours_direction("f+b", x, w, b, grad, options, a), repeat)
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
    # Winograd: an op's time less its GEMMs' (priced at the model's GEMM_FLOPS_PER_SECOND,
    # as im2col's are, so the two estimates compare like for like), per transformed element
    # a*a*tiles*(C + C_out), on (b) and (c), each direction, F(2x2) and F(4x4).
    from tinygrad_cnn.ops import conv_winograd
    from tinygrad_cnn.ops.conv_select import GEMM_FLOPS_PER_SECOND
    for name in "bc":
        x_shape, w_shape, options = CASES[name]
        xs = rng.standard_normal(x_shape, dtype=np.float32)
        ws = rng.standard_normal(w_shape, dtype=np.float32)
        geometry = conv_geometry("conv2d", xs, ws, **options)
        gs = rng.standard_normal((x_shape[0], w_shape[0]) + geometry.out_size, dtype=np.float32)
        for m, kernels in ((2, conv_winograd.F2), (4, conv_winograd.F4)):
            tiles = x_shape[0] * -(-geometry.out_size[0] // m) * -(-geometry.out_size[1] // m)
            a = (m + 2) ** 2
            flops = 2 * a * tiles * x_shape[1] * w_shape[0]
            elements = a * tiles * (x_shape[1] + w_shape[0])
            calls = ((kernels.conv2d_forward, (xs, ws, geometry)),
                     (kernels.conv2d_input_grad, (gs, ws, geometry)),
                     (kernels.conv2d_weight_grad, (xs, gs, geometry)))
            times = [best_ms(functools.partial(f, *operands), repeat) / 1e3
                     for f, operands in calls]
            per = [(t - flops / GEMM_FLOPS_PER_SECOND) / elements for t in times]
            key = "winograd" if m == 4 else "winograd_f2"
            print(f"WINOGRAD_ELEMENT_SECONDS[{key!r}] ({name}) fwd/dx/dw = "
                  + " / ".join(f"{p:.3g}" for p in per))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cases", default="abcde", help="e.g. 'ace'")
    parser.add_argument("--busy", action="store_true", help="a process spins on one core")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time, not wall time (1 thread)")
    parser.add_argument("--second", default=None,
                        help="the algorithm of the second column (e.g. im2col, im2col_flat)")
    add_precision_option(parser)
    add_benchmark_mode_option(parser)
    args = parser.parse_args(argv)
    global CLOCK
    set_conv_precision(args.fp32_precision)
    set_benchmark_mode(args.cudnn_benchmark)
    if args.cpu_time:
        CLOCK = time.process_time
    if args.calibrate or args.crossover:
        tg.set_num_threads(args.threads[0])
        with scipy.fft.set_workers(args.threads[0]):
            return calibrate(args.repeat) if args.calibrate else crossover(args.repeat)
    import multiprocessing

    import torch
    spinner = None
    if args.busy:
        spinner = multiprocessing.Process(target=_spin, daemon=True)
        spinner.start()
    rows = {}
    try:
        print(f"numpy {np.__version__} torch {torch.__version__}; repeat={args.repeat}")
        for threads in args.threads:
            tg.set_num_threads(threads)
            torch.set_num_threads(threads)
            if threads > 1:
                start_second_core()
            print(environment_line(threads, args.busy))
            print(HEADER)
            rows[threads] = []
            for name in args.cases:
                run_case(name, torch, args.repeat, rows[threads], args.second)
            print(environment_line(threads, args.busy))
        if args.busy:
            busy_scaling(args.repeat, args.cases)
    finally:
        if spinner is not None:
            spinner.terminate()
            spinner.join()
    return rows


if __name__ == "__main__":
    main()
