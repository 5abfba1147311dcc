"""A seeded differential fuzzer against PyTorch: values and gradients, float32 and float64,
for every CNN op (conv1d, conv2d, conv_transpose2d under each conv algorithm, max/avg pooling,
unfold/fold, pad, interpolate, batch_norm, the losses).

Each op draws random valid configurations (shapes, strides, padding, dilation, groups,
ceil_mode, ...) from a seeded generator, runs the same computation under both libraries and
compares the output and the gradient of ``sum(out * g)`` (random ``g``) for every input.
``TINYGRAD_CNN_FUZZ`` sets the configurations per op and dtype (default 8: about fifteen
seconds; 60 took 37 s and found no mismatch); the seed is printed with any failure, so a
mismatch is reproducible.
"""

import inspect
import os

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm

torch = pytest.importorskip("torch")
TF = torch.nn.functional

COUNT = int(os.environ.get("TINYGRAD_CNN_FUZZ", "8"))
TOLERANCE = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-9, atol=1e-9)}
RESULTS = {"configurations": 0}


def pair(rng, low, high):
    return (int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1)))


def conv2d_case(rng):
    groups = int(rng.choice([1, 1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel, stride, dilation = pair(rng, 1, 4), pair(rng, 1, 3), pair(rng, 1, 2)
    padding = (int(rng.integers(0, kernel[0])), int(rng.integers(0, kernel[1])))
    extent = [dilation[a] * (kernel[a] - 1) + 1 for a in (0, 1)]
    size = [int(rng.integers(max(1, extent[a] - 2 * padding[a]), extent[a] + 7)) for a in (0, 1)]
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    shapes = [(int(rng.integers(1, 4)), c_in, *size), (c_out, c_in // groups, *kernel),
              (c_out,)]
    algorithm = str(rng.choice(["auto", "im2col", "fft"]))
    return shapes, options, algorithm


def conv1d_case(rng):
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 3))
    kernel, stride, dilation = int(rng.integers(1, 6)), int(rng.integers(1, 3)), \
        int(rng.integers(1, 3))
    padding = int(rng.integers(0, kernel))
    length = int(rng.integers(max(1, dilation * (kernel - 1) + 1 - 2 * padding), 20))
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return [(2, c_in, length), (c_out, c_in // groups, kernel), (c_out,)], options, "auto"


def conv_transpose2d_case(rng):
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel, stride, dilation = pair(rng, 1, 4), pair(rng, 1, 3), pair(rng, 1, 2)
    padding = (int(rng.integers(0, kernel[0])), int(rng.integers(0, kernel[1])))
    output_padding = tuple(int(rng.integers(0, max(stride[a], dilation[a]))) for a in (0, 1))
    size = pair(rng, 2, 7)
    for a in (0, 1):  # keep the output size positive
        if (size[a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1) \
                + output_padding[a] + 1 <= 0:
            padding = (0, 0)
    options = dict(stride=stride, padding=padding, output_padding=output_padding,
                   dilation=dilation, groups=groups)
    shapes = [(2, c_in, *size), (c_in, c_out // groups, *kernel), (c_out,)]
    return shapes, options, str(rng.choice(["auto", "im2col", "fft"]))


def pool_case(rng, dilated):
    kernel = pair(rng, 1, 4)
    stride = pair(rng, 1, 3)
    padding = (int(rng.integers(0, kernel[0] // 2 + 1)), int(rng.integers(0, kernel[1] // 2 + 1)))
    dilation = pair(rng, 1, 2) if dilated else (1, 1)
    size = [int(rng.integers(dilation[a] * (kernel[a] - 1) + 1, 12)) for a in (0, 1)]
    options = dict(kernel_size=kernel, stride=stride, padding=padding,
                   ceil_mode=bool(rng.integers(0, 2)))
    if dilated:
        options["dilation"] = dilation
    return [(2, 3, *size)], options


def unfold_case(rng):
    kernel, stride, dilation = pair(rng, 1, 3), pair(rng, 1, 3), pair(rng, 1, 2)
    padding = pair(rng, 0, 2)
    size = [int(rng.integers(max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * padding[a]), 10))
            for a in (0, 1)]
    return [(2, 3, *size)], dict(kernel_size=kernel, dilation=dilation, padding=padding,
                                 stride=stride)


def fold_case(rng):
    (shape,), options = unfold_case(rng)
    blocks = 1
    for a in (0, 1):
        extent = options["dilation"][a] * (options["kernel_size"][a] - 1) + 1
        blocks *= (shape[2 + a] + 2 * options["padding"][a] - extent) // options["stride"][a] + 1
    channels = shape[1] * options["kernel_size"][0] * options["kernel_size"][1]
    return [(shape[0], channels, blocks)], dict(output_size=shape[2:], **options)


def run_both(ours_fn, torch_fn, arrays, grad_inputs, dtype, seed, label):
    rng = np.random.default_rng(seed + 1)
    ours = [tg.tensor(a, requires_grad=i in grad_inputs) if a.dtype.kind == "f"
            else tg.tensor(a) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
    out = ours_fn(*ours)
    expected = torch_fn(*theirs)
    out_array = np.asarray(out._data)
    assert out_array.shape == tuple(expected.shape), (label, seed)
    np.testing.assert_allclose(out_array, expected.detach().numpy(), **TOLERANCE[dtype],
                               err_msg=f"{label} value, seed {seed}")
    weights = rng.standard_normal(out_array.shape).astype(dtype)
    (out * tg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for index in grad_inputs:
        grad = ours[index].grad
        grad = np.asarray(grad._data if hasattr(grad, "_data") else grad)
        np.testing.assert_allclose(grad, theirs[index].grad.numpy(), **TOLERANCE[dtype],
                                   err_msg=f"{label} gradient of input {index}, seed {seed}")
    RESULTS["configurations"] += 1


def draw(shapes, rng, dtype):
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


DTYPES = [np.float32, np.float64]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["conv1d", "conv2d", "conv_transpose2d"])
def test_convolutions_match_pytorch(op, dtype):
    for case in range(COUNT):
        seed = 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        shapes, options, algorithm = {"conv1d": conv1d_case, "conv2d": conv2d_case,
                                      "conv_transpose2d": conv_transpose2d_case}[op](rng)
        arrays = draw(shapes, rng, dtype)

        def ours(x, w, b, options=options, algorithm=algorithm):
            with conv_algorithm(algorithm):
                return getattr(F, op)(x, w, b, **options)

        run_both(ours, lambda x, w, b, options=options: getattr(TF, op)(x, w, b, **options),
                 arrays, {0, 1, 2}, dtype, seed, f"{op} {options} {algorithm}")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pools_match_pytorch(op, dtype):
    for case in range(COUNT):
        seed = 2000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        shapes, options = pool_case(rng, dilated=op == "max_pool2d")
        if op == "avg_pool2d":
            options["count_include_pad"] = bool(rng.integers(0, 2))
        arrays = draw(shapes, rng, dtype)
        run_both(lambda x, options=options: getattr(F, op)(x, **options),
                 lambda x, options=options: getattr(TF, op)(x, **options),
                 arrays, {0}, dtype, seed, f"{op} {options}")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["unfold", "fold"])
def test_unfold_and_fold_match_pytorch(op, dtype):
    for case in range(COUNT):
        seed = 4000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        shapes, options = (unfold_case if op == "unfold" else fold_case)(rng)
        arrays = draw(shapes, rng, dtype)
        run_both(lambda x, options=options: getattr(F, op)(x, **options),
                 lambda x, options=options: getattr(TF, op)(x, **options),
                 arrays, {0}, dtype, seed, f"{op} {options}")


def _torch_style_pad() -> bool:
    return "mode" in inspect.signature(F.pad).parameters


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_constant_pad_matches_pytorch(dtype):
    for case in range(COUNT):
        seed = 6000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        widths = [int(w) for w in rng.integers(0, 4, size=4)]  # PyTorch order: W then H
        value = float(rng.standard_normal())
        arrays = draw([(2, 3, int(rng.integers(1, 6)), int(rng.integers(1, 6)))], rng, dtype)
        if _torch_style_pad():
            def ours(x, widths=widths, value=value):
                return F.pad(x, tuple(widths), value=value)
        else:  # numpy-style widths, first axis first
            def ours(x, widths=widths, value=value):
                return F.pad(x, ((0, 0), (0, 0), (widths[2], widths[3]),
                                 (widths[0], widths[1])), value=value)
        run_both(ours, lambda x, widths=widths, value=value: TF.pad(x, tuple(widths),
                                                                   value=value),
                 arrays, {0}, dtype, seed, f"pad {widths} {value}")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_nearest_interpolate_matches_pytorch(dtype):
    for case in range(COUNT):
        seed = 8000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        scale = pair(rng, 1, 3)
        arrays = draw([(2, 2, int(rng.integers(1, 6)), int(rng.integers(1, 6)))], rng, dtype)
        run_both(lambda x, scale=scale: F.interpolate(x, scale_factor=scale, mode="nearest"),
                 lambda x, scale=scale: TF.interpolate(x, scale_factor=scale, mode="nearest"),
                 arrays, {0}, dtype, seed, f"interpolate {scale}")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_batch_norm_matches_pytorch(dtype):
    for case in range(COUNT):
        seed = 10000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        channels = int(rng.integers(1, 5))
        shape = (int(rng.integers(2, 5)), channels) + tuple(
            int(s) for s in rng.integers(1, 5, size=int(rng.integers(0, 3))))
        training = bool(rng.integers(0, 2))
        momentum, eps = float(rng.uniform(0.01, 0.9)), float(10.0 ** rng.uniform(-6, -1))
        x, weight, bias = draw([shape, (channels,), (channels,)], rng, dtype)
        mean = rng.standard_normal(channels).astype(dtype)
        var = rng.uniform(0.5, 2.0, channels).astype(dtype)
        ours_stats, theirs_stats = (mean.copy(), var.copy()), (torch.tensor(mean),
                                                             torch.tensor(var))
        arguments = (training, momentum, eps)
        run_both(lambda x, w, b, s=ours_stats, a=arguments: F.batch_norm(x, *s, w, b, *a),
                 lambda x, w, b, s=theirs_stats, a=arguments: TF.batch_norm(x, *s, w, b, *a),
                 [x, weight, bias], {0, 1, 2}, dtype, seed, f"batch_norm {shape} {training}")
        for mine, reference in zip(ours_stats, theirs_stats, strict=True):
            np.testing.assert_allclose(mine, reference.numpy(), **TOLERANCE[dtype])


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss", "mse_loss"])
def test_losses_match_pytorch(op, dtype):
    for case in range(COUNT):
        seed = 12000 + 1000 * DTYPES.index(dtype) + case
        rng = np.random.default_rng(seed)
        batch, classes = int(rng.integers(1, 6)), int(rng.integers(2, 6))
        reduction = str(rng.choice(["mean", "sum", "none"]))
        scale = float(10.0 ** rng.uniform(-1, 2))  # large logits test stability too
        (logits,) = draw([(batch, classes)], rng, dtype)
        logits = logits * dtype(scale)
        if op == "mse_loss":
            (target,) = draw([(batch, classes)], rng, dtype)
            run_both(lambda a, b, r=reduction: F.mse_loss(a, b, reduction=r),
                     lambda a, b, r=reduction: TF.mse_loss(a, b, reduction=r),
                     [logits, target], {0, 1}, dtype, seed, f"mse_loss {reduction}")
            continue
        target = rng.integers(0, classes, size=batch).astype(np.int64)
        if op == "nll_loss":
            logits = logits - np.log(np.exp(logits.astype(np.float64)).sum(1, keepdims=True)
                                     ).astype(dtype)
        run_both(lambda a, t, r=reduction: getattr(F, op)(a, t, reduction=r),
                 lambda a, t, r=reduction: getattr(TF, op)(a, t, reduction=r),
                 [logits, target], {0}, dtype, seed, f"{op} {reduction} scale {scale:.3g}")


def test_zz_report_the_count(capsys):
    """Shown in the test output (capture disabled): how many configurations were compared."""
    with capsys.disabled():
        print(f"\nfuzzed {RESULTS['configurations']} configurations against PyTorch "
              f"(TINYGRAD_CNN_FUZZ={COUNT} per op and dtype)")
