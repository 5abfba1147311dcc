"""Values and gradients at special inputs equal PyTorch's: 0, +-inf, NaN, +-1e30 and 1 spiked
into every registry op's inputs, inputs exactly at the ops' kinks (the other tests keep clear
of them), and NaN in the ordering ops (sort, topk, argmax, max).

Where a difference is deliberate it is listed below with its reason, and in
docs/coming_from_pytorch.md ("Deliberate differences").
"""

import itertools

import numpy as np
import pytest
from op_registry import CASES, spiked_inputs

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


# Documented differences (docs/coming_from_pytorch.md), by op name:
DIFFERS = {
    # im2col / Winograd / FFT multiply the padding's zeros (and transforms' weights) by inf
    # weights, PyTorch's direct kernels skip the padding: NaN where PyTorch has inf or a value
    **{name: "convolution" for name in (
        "conv2d", "conv2d_fft", "conv2d_winograd", "conv2d_winograd_f2", "conv2d_im2col_flat",
        "conv2d_im2col_phases", "conv_transpose2d", "conv_transpose2d_fft",
        "conv_transpose2d_winograd", "conv_transpose2d_winograd_f2",
        "conv_transpose2d_im2col_flat", "conv_transpose2d_im2col_phases",
        "conv_transpose1d")},
    # a dense (out, in) matrix product per axis: one inf or NaN in a row makes all of the
    # row's outputs NaN (0 * inf); PyTorch reads only the taps each output uses
    "interpolate": "resampling matrix",
    "adaptive_avg_pool1d": "resampling matrix",
    "adaptive_avg_pool2d": "resampling matrix",
    # PyTorch's vectorized erf gives gelu(inf) = NaN (its scalar tail and float64 give inf)
    "gelu": "PyTorch's SIMD erf",
    # a slice holding a zero and an inf or NaN: PyTorch's gradient takes some 0 * inf terms
    # (NaN) and skips others; ours counts the terms up to the next zero (the rest are 0)
    "cumprod": "0 * inf in the gradient of a slice holding zeros",
    # PyTorch computes log1p(exp(-y x)) directly: exp overflows to inf and the gradient is
    # inf / inf = NaN; ours is a softplus, finite (and exact) there
    "soft_margin_loss": "softplus form",
    # numpy's contraction order, and the diagonal's gradient as a product with an identity
    # (0 * inf off the diagonal), differ from PyTorch's order and its scatter
    "einsum": "contraction order",
    # PyTorch's Welford kernel makes the mean of a slice holding an inf NaN (or keeps the
    # last inf); ours is torch.mean's
    "std_mean": "Welford mean", "var_mean": "Welford mean",
}
# ... and by (op name, sample): an infinite affine weight (the one-pass backward applies the
# weight before subtracting the means: inf - inf = NaN where PyTorch has +-inf), a row whose
# float32 variance overflows (PyTorch's Welford kernel gives NaN, ours 0), a one-element group
# (PyTorch's rounding residue 1e-7 times a weight of 1e30)
DIFFERS_SAMPLE = {
    ("batch_norm", "2x2x3-2-2"): "infinite weight",
    ("layer_norm", "2x2x3-3-normalized_shape=(3,)"): "infinite weight",
    ("layer_norm", "5x3-normalized_shape=(3,),eps=0.001"): "variance overflows float32",
    ("group_norm", "2x4-4-4-num_groups=4"): "rounding residue times 1e30",
    # the max-norm of a row holding NaN: max() here sends the gradient to the NaN (NaN for
    # the row), PyTorch's norm backward matches no element and gives 0
    ("pairwise_distance", "3x4-3x4-p=inf"): "max-norm of a NaN row",
    ("pairwise_distance", "3x4-3x4-p=-inf,keepdim=True"): "max-norm of a NaN row",
    # full=True: PyTorch's masked Stirling term still takes log(t) of a target t <= 0 in
    # the gradient (NaN); the term counts for nothing there, so ours is 0
    ("poisson_nll_loss", "3x4-3x4-reduction=none,full=True"): "Stirling term at t <= 0",
    ("poisson_nll_loss", "3x4-3x4-log_input=False,full=True,eps=0.001"):
        "Stirling term at t <= 0",
    # the 1-norm's gradient at a NaN difference: PyTorch's pdist kernel takes sign(NaN) = NaN
    # (to both rows of every pair), the 1-norm's backward here gives 0
    ("pdist", "5x2-p=1.0"): "sign of a NaN difference",
}

# PyTorch's grid_sample kernel crashes (a segmentation fault) on inf / 1e30 grid points with
# border or reflection padding, and its bicubic grid gradient there is +-inf where all taps
# read nothing (ours NaN): those samples are compared in tests/test_grid_sample.py only
DIFFERS_SAMPLE.update({
    (info.name, repr(sample)): "PyTorch crashes" for info, sample in CASES
    if info.name.startswith("grid_sample")
    and (sample.kwargs.get("padding_mode") in ("border", "reflection")
         or sample.kwargs.get("mode") == "bicubic")})


def _run(lib, op, arrays, kwargs):
    """The outputs that require grad and the operands' gradients of sum(out * cos)."""
    tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = op(*tensors, **kwargs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    if not outs:
        return []
    seeds = [np.cos(np.arange(o.numel(), dtype=np.float32)).reshape(tuple(o.shape))
             for o in outs]
    sum((o * lib.tensor(s)).sum() for o, s in zip(outs, seeds)).backward()
    return [o.detach().numpy() for o in outs] + \
        [None if t.grad is None else t.grad.numpy() for t in tensors]


def _assert_same(ours, theirs, what):
    assert len(ours) == len(theirs), what
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if a is None or b is None:
            continue
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        assert a.shape == b.shape, (what, k)
        assert (np.isnan(a) == np.isnan(b)).all(), (what, k, "NaN", a, b)
        assert (np.isposinf(a) == np.isposinf(b)).all(), (what, k, "+inf", a, b)
        assert (np.isneginf(a) == np.isneginf(b)).all(), (what, k, "-inf", a, b)
        finite = np.isfinite(a)
        np.testing.assert_allclose(a[finite], b[finite], rtol=1e-4, atol=1e-5,
                                   err_msg=f"{what}, output {k}")


# PyTorch's own gradient at a NaN input of these depends on where the element falls: its
# vectorized loop gives 0 (hardtanh, relu6) or NaN (hardswish, elu), its scalar loop (tensors
# shorter than a SIMD vector, and the last few elements of each) passes the gradient.  We give
# the vectorized loop's (test_activations_on_a_grid_of_special_values checks it on a fully
# vectorized length); the registry's small samples run PyTorch's scalar loop, so their NaN
# inputs' gradients are left out of the comparison here.
NAN_GRADIENT_BY_LOOP = {"relu6", "hardtanh", "hardswish", "elu", "selu", "celu"}

SPIKED_CASES = [(info, sample) for info, sample in CASES
                if info.torch_op is not None and sample.torch and info.name not in DIFFERS
                and (info.name, repr(sample)) not in DIFFERS_SAMPLE]


@pytest.mark.parametrize("info, sample", SPIKED_CASES,
                         ids=[f"{i.name}-{s}" for i, s in SPIKED_CASES])
def test_special_values_match_torch(info, sample):
    arrays = spiked_inputs(info, sample)
    try:
        theirs = _run(torch, info.torch_op, arrays, sample.kwargs)
    except (RuntimeError, ValueError):  # binary_cross_entropy: inputs outside [0, 1]
        with pytest.raises((RuntimeError, ValueError)):
            _run(tg, info.op, arrays, sample.kwargs)
        return
    ours = _run(tg, info.op, arrays, sample.kwargs)
    if info.name in NAN_GRADIENT_BY_LOOP:
        nan = np.isnan(arrays[0])
        for gradients in (ours, theirs):
            gradients[-1] = np.where(nan, 0, gradients[-1])
    _assert_same(ours, theirs, f"{info.name} {sample}")


KINK_CASES = [(info, sample, dtype) for info, sample in CASES
              if info.away_from and info.torch_op is not None and sample.torch
              for dtype in (np.float32, np.float64)]


@pytest.mark.parametrize("info, sample, dtype", KINK_CASES,
                         ids=[f"{i.name}-{s}-{d.__name__}" for i, s, d in KINK_CASES])
def test_gradients_at_kinks_match_torch(info, sample, dtype):
    """Every other input exactly at one of the op's kinks (``away_from``)."""
    points = np.array(info.away_from, dtype)
    arrays = []
    for k, array in enumerate(info.inputs(sample, dtype=dtype)):
        array = np.array(array, dtype=dtype, copy=True)
        flat = array.reshape(-1)
        index = np.arange(0, flat.size, 2)
        flat[index] = points[(index // 2 + k) % len(points)]
        arrays.append(array)
    ours = _run(tg, info.op, arrays, sample.kwargs)
    theirs = _run(torch, info.torch_op, arrays, sample.kwargs)
    _assert_same(ours, theirs, f"{info.name} {sample} at {info.away_from}")


GRID = np.array([np.nan, -np.inf, np.inf, -1e30, 1e30, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5,
                 1.0, 2.0, 3.0, 6.0], np.float32)


@pytest.mark.parametrize("name, kwargs", [
    ("relu6", {}), ("hardtanh", {}), ("hardtanh", dict(min_val=-0.5, max_val=2.0)),
    ("hardsigmoid", {}), ("hardswish", {}), ("elu", {}), ("elu", dict(alpha=0.5)),
    ("relu", {}), ("leaky_relu", {}), ("silu", {}), ("softplus", {}), ("mish", {})])
def test_activations_on_a_grid_of_special_values(name, kwargs):
    grid = np.tile(GRID, 64)  # 960 elements: PyTorch's vectorized loop takes every one
    ours = _run(tg, lambda x: getattr(F, name)(x, **kwargs), [grid], {})
    theirs = _run(torch, lambda x: getattr(TF, name)(x, **kwargs), [grid], {})
    _assert_same(ours, theirs, name)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_elementwise_extremes_of_every_pair(name):
    a, b = (np.array(v, np.float32) for v in zip(*itertools.product(GRID, GRID)))
    ours = _run(tg, getattr(tg, name), [a, b], {})
    theirs = _run(torch, getattr(torch, name), [a, b], {})
    _assert_same(ours, theirs, name)


@pytest.mark.parametrize("bounds", ["both", "min", "max", "scalars"])
def test_clamp_of_every_triple(bounds):
    values = np.array([np.nan, -np.inf, -1.0, 0.0, 1.0, 2.0, np.inf], np.float32)
    x, lo, hi = (np.array(v, np.float32) for v in zip(*itertools.product(values, repeat=3)))
    if bounds == "scalars":
        call = lambda x: x.clamp(0.0, 1.0)  # noqa: E731
        _assert_same(_run(tg, call, [x], {}), _run(torch, call, [x], {}), bounds)
        return
    call = {"both": lambda x, lo, hi: x.clamp(lo, hi),
            "min": lambda x, lo, hi: x.clamp(lo, None) + 0 * hi,
            "max": lambda x, lo, hi: x.clamp(None, hi) + 0 * lo}[bounds]
    finite_lo, finite_hi = np.nan_to_num(lo), np.nan_to_num(hi)  # 0 * inf stays out
    if bounds == "min":
        hi = finite_hi
    if bounds == "max":
        lo = finite_lo
    _assert_same(_run(tg, call, [x, lo, hi], {}), _run(torch, call, [x, lo, hi], {}), bounds)


def test_lp_pool_of_norm_one_has_no_gradient_at_a_zero_or_nan_window():
    x = np.array([[[[0.5, -0.5, 1.0, 2.0, np.nan, 1.0],
                    [1.0, -1.0, -2.0, 0.5, 0.0, 3.0]]]], np.float32)
    for p in (1, 2):
        ours = _run(tg, lambda t, p=p: F.lp_pool2d(t, p, 2), [x], {})
        theirs = _run(torch, lambda t, p=p: TF.lp_pool2d(t, p, 2), [x], {})
        _assert_same(ours, theirs, f"lp_pool2d p={p}")


# ------------------------------------------------------------------ NaN in ordering ops
ROWS = np.array([[1.0, np.nan, 3.0, np.inf, -2.0, np.nan, -np.inf],
                 [2.0, 1.0, 0.0, -1.0, 5.0, 4.0, -3.0],
                 [np.nan, 0.5, -0.5, 7.0, np.inf, 1.5, 2.5]], np.float32)


def _both(call):
    """``call`` on our tensor and torch's (requiring grad), as numpy."""
    results = []
    for lib in (tg, torch):
        t = lib.tensor(ROWS, requires_grad=True)
        out = call(t)
        results.append(out if isinstance(out, tuple) else (out,))
    return results


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_sort_orders_nan_as_the_largest_value(descending, dim):
    ours, theirs = _both(lambda t: t.sort(dim=dim, descending=descending))
    np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    ours, theirs = _both(lambda t: t.argsort(dim=dim, descending=descending))
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    _assert_same(_run(tg, lambda t: t.sort(dim=dim, descending=descending).values, [ROWS], {}),
                 _run(torch, lambda t: t.sort(dim=dim, descending=descending).values, [ROWS],
                      {}), "sort gradient")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_topk_returns_nan_first(k):
    ours, theirs = _both(lambda t: t.topk(k, dim=1))
    np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    _assert_same(_run(tg, lambda t: t.topk(k, dim=1).values, [ROWS], {}),
                 _run(torch, lambda t: t.topk(k, dim=1).values, [ROWS], {}), "topk gradient")


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_argmax_and_argmin_return_the_first_nan(op, dim):
    ours, theirs = _both(lambda t: getattr(t, op)(dim=dim))
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_and_min_are_nan_with_the_gradient_to_the_nans(op):
    for dim in (0, 1):  # values and indices along a dim, gradient to the returned index
        ours, theirs = _both(lambda t, dim=dim: getattr(t, op)(dim=dim))
        np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
        _assert_same(_run(tg, lambda t, dim=dim: getattr(t, op)(dim=dim).values, [ROWS], {}),
                     _run(torch, lambda t, dim=dim: getattr(t, op)(dim=dim).values, [ROWS],
                          {}), op)
    # the whole tensor: NaN, its gradient split among the NaNs (evenly_distribute_backward)
    _assert_same(_run(tg, lambda t: getattr(t, op)(), [ROWS], {}),
                 _run(torch, lambda t: getattr(t, op)(), [ROWS], {}), op)
    # amax / amin: NaN gradients for a NaN slice, as PyTorch's
    reduce = "amax" if op == "max" else "amin"
    _assert_same(_run(tg, lambda t: getattr(t, reduce)(1), [ROWS], {}),
                 _run(torch, lambda t: getattr(t, reduce)(1), [ROWS], {}), reduce)


def test_softmax_of_a_row_holding_inf_is_nan():
    x = np.array([[0.5, np.inf, 1.0], [0.5, -np.inf, 1.0], [1.0, 2.0, 3.0]], np.float32)
    for name in ("softmax", "log_softmax"):
        for lib_call in (False, True):  # the method and the torch-level function
            def call(lib, t, name=name, lib_call=lib_call):
                return getattr(lib, name)(t, dim=1) if lib_call else getattr(t, name)(1)
            _assert_same(_run(tg, lambda t, c=call: c(tg, t), [x], {}),
                         _run(torch, lambda t, c=call: c(torch, t), [x], {}), name)


@pytest.mark.parametrize("call", [
    lambda t: t.norm(), lambda t: t.norm(dim=1), lambda t: t.norm(p=3, dim=1),
    lambda t: t.norm(p=0.5, dim=1), lambda t: t.norm(p=0.5), lambda t: t.norm(p=1.5, dim=0),
    lambda t: t.std(1), lambda t: t.std(), lambda t: t.std(0, correction=0)],
    ids=["fro", "2-dim", "3", "0.5", "0.5-all", "1.5", "std", "std-all", "std-biased"])
def test_norms_and_stds_of_zeros_have_pytorchs_zero_gradient(call):
    """The root's derivative is infinite at 0: PyTorch masks it (std, norm) and zeroes the
    gradient of zero elements for p < 1."""
    for x in (np.zeros((2, 3), np.float32), np.array([[0, 0, 0], [1, -2, 3]], np.float32),
              np.array([[1, 1, 1], [0, 2, 0]], np.float32)):
        _assert_same(_run(tg, call, [x], {}), _run(torch, call, [x], {}), str(x.tolist()))
