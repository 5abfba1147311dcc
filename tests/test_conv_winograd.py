"""The Winograd convolution kernels (``"winograd"`` F(4x4, 3x3), ``"winograd_f2"`` F(2x2, 3x3)):
values and all three directions against the direct loops on random 3x3 stride-1 layers,
third derivatives, the accuracy bound each variant promises, and why "auto" takes only
F(2x2). (The generic gradcheck, gradgradcheck, float32 and PyTorch tests run from
``tests/op_registry.py``'s ``conv2d_winograd*`` and ``conv_transpose2d_winograd*`` entries.)"""

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm, resolve_conv_algorithm
from tinygrad_cnn.gradcheck import gradcheck
from tinygrad_cnn.nn.functional._windows import conv_geometry
from tinygrad_cnn.ops import conv_gemm, conv_winograd

WINOGRAD = ("winograd", "winograd_f2")


@st.composite
def winograd_cases(draw):
    """Random 3x3 stride-1 undilated conv2d arguments: any padding, groups, small sizes."""
    groups = draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    height = draw(st.integers(max(1, 3 - 2 * ph), 11))
    width = draw(st.integers(max(1, 3 - 2 * pw), 11))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 3)), groups * draw(st.integers(1, 3)),
                             height, width))
    weight = rng.standard_normal((groups * draw(st.integers(1, 2)), x.shape[1] // groups, 3, 3))
    bias = rng.standard_normal(weight.shape[0]) if draw(st.booleans()) else None
    return x, weight, bias, dict(padding=(ph, pw), groups=groups)


def _array(value):
    """A gradient's array, whether ``.grad`` is a Tensor or (older) a numpy array."""
    return getattr(value, "_data", value)


def _tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


@settings(max_examples=40, deadline=None)
@given(winograd_cases(), st.sampled_from(WINOGRAD))
def test_winograd_matches_the_loops_in_all_three_directions(case, algorithm):
    x, weight, bias, options = case
    padding = tuple((p, p) for p in options["padding"])
    expected = reference.conv2d(x, weight, bias, padding=padding, groups=options["groups"])
    cotangent = np.random.default_rng(1).standard_normal(expected.shape)
    with conv_algorithm(algorithm):
        xt, wt = _tensor(x, True), _tensor(weight, True)
        out = F.conv2d(xt, wt, None if bias is None else _tensor(bias), **options)
        out.backward(cotangent)
    np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-10)
    with conv_algorithm("im2col"):  # the reference gradients: im2col's (itself loop-tested)
        xr, wr = _tensor(x, True), _tensor(weight, True)
        F.conv2d(xr, wr, None, **options).backward(cotangent)
    np.testing.assert_allclose(_array(xt.grad), _array(xr.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_array(wt.grad), _array(wr.grad), rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(winograd_cases(), st.sampled_from(WINOGRAD))
def test_winograd_transposed_convolution_matches_the_scatter_loop(case, algorithm):
    x, weight, _, options = case
    # conv_transpose2d's weight is (C_in, C_out/groups, 3, 3): reuse x as its input.
    groups = options["groups"]
    wt = np.random.default_rng(2).standard_normal((x.shape[1], 2, 3, 3))
    padding = tuple(min(p, 1) for p in options["padding"])
    expected = reference.conv_transpose2d(x, wt, None, stride=(1, 1), padding=padding,
                                          output_padding=(0, 0), dilation=(1, 1),
                                          groups=groups)
    if min(expected.shape[2:]) < 1:
        return
    with conv_algorithm(algorithm):
        out = F.conv_transpose2d(_tensor(x), _tensor(wt), padding=padding, groups=groups)
    np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_third_derivative_under_winograd_matches_finite_differences(algorithm):
    rng = np.random.default_rng(3)
    x = _tensor(rng.standard_normal((1, 2, 6, 5)), True)
    weight = _tensor(rng.standard_normal((2, 2, 3, 3)), True)

    def second(x, weight):
        if not weight.requires_grad:  # the numerical side passes constants
            weight = tg.Tensor(weight._data, requires_grad=True)
        with conv_algorithm(algorithm), tg.enable_grad():
            out = F.conv2d(x, weight, padding=1)
            (grad_w,) = tg.grad((out * out * out).sum(), [weight], create_graph=True)
            return (grad_w * grad_w).sum()

    assert gradcheck(second, (x, weight), atol=1e-4)


def test_chunking_changes_nothing(monkeypatch):
    rng = np.random.default_rng(4)
    x, weight = rng.standard_normal((3, 4, 7, 9)), rng.standard_normal((6, 2, 3, 3))
    cotangent = rng.standard_normal((3, 6, 7, 9))

    def run():
        with conv_algorithm("winograd"):
            xt, wt = _tensor(x, True), _tensor(weight, True)
            F.conv2d(xt, wt, padding=1, groups=2).backward(cotangent)
            return _array(xt.grad), _array(wt.grad)

    whole = run()
    assert len(conv_winograd._plan(3, (2, 3), 1 << 10)) == 1       # one group of 3 images
    monkeypatch.setattr(conv_winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_winograd, "MIN_TILES", 1)
    assert conv_winograd._plan(3, (2, 3), 1 << 10) == [               # bands of one tile row
        (slice(i, i + 1), [slice(0, 1), slice(1, 2)]) for i in range(3)]
    for chunked, expected in zip(run(), whole, strict=True):
        np.testing.assert_allclose(chunked, expected, rtol=1e-12)


def test_a_layer_winograd_does_not_compute_runs_im2col():
    x = np.empty((2, 3, 8, 8), np.float32)
    for options, weight in ((dict(stride=2), (4, 3, 3, 3)), (dict(dilation=2), (4, 3, 3, 3)),
                            ({}, (4, 3, 5, 5)), ({}, (4, 3, 1, 3))):
        geometry = conv_geometry("conv2d", x, np.empty(weight, np.float32), **options)
        for name in WINOGRAD:
            assert resolve_conv_algorithm(name, 2, 3, 4, geometry) == "im2col"


# ------------------------------------------------------------------ accuracy
def _three_directions(kernels, x, weight, grad_out, geometry):
    return (kernels.conv2d_forward(x, weight, geometry),
            kernels.conv2d_input_grad(grad_out, weight, geometry),
            kernels.conv2d_weight_grad(x, grad_out, geometry))


def _errors(dtype, seed=5):
    """Max error of each direction relative to the (long double) result's largest value,
    for im2col, F(2x2) and F(4x4) computing in ``dtype``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 16, 12, 12))
    weight = rng.standard_normal((24, 16, 3, 3))
    grad_out = rng.standard_normal((4, 24, 12, 12))
    geometry = conv_geometry("conv2d", x, weight, padding=1)
    wide = [a.astype(np.longdouble) for a in (x, weight, grad_out)]   # 64-bit mantissa on x86
    exact = _three_directions(conv_gemm, *wide, geometry)
    narrow = [a.astype(dtype) for a in (x, weight, grad_out)]
    errors = {}
    for name, kernels in (("im2col", conv_gemm), ("f2", conv_winograd.F2),
                          ("f4", conv_winograd.F4)):
        results = _three_directions(kernels, *narrow, geometry)
        assert all(r.dtype == dtype for r in results)
        errors[name] = [float(np.abs(r - e).max() / np.abs(e).max())
                        for r, e in zip(results, exact, strict=True)]
    return errors


@pytest.mark.parametrize("dtype, f4_bound", [(np.float32, 2e-5), (np.float64, 1e-13)])
def test_accuracy_bounds(dtype, f4_bound):
    # The bounds the docs state: F(2x2) within 2x of im2col's error (both relative to the
    # largest exact value, every direction); F(4x4) under 2e-5 (float32) / 1e-13 (float64).
    errors = _errors(dtype)
    eps = np.finfo(dtype).eps
    for direction in range(3):
        im2col, f2, f4 = (errors[k][direction] for k in ("im2col", "f2", "f4"))
        assert im2col < 100 * eps
        assert f2 <= 2 * im2col + eps, (direction, errors)
        assert f4 <= f4_bound, (direction, errors)


def test_f2_error_follows_the_window_and_f4_error_the_tile():
    # One bright pixel: outputs whose windows miss it keep im2col's accuracy under F(2x2)
    # (its arithmetic reads only the window), not under F(4x4) (it mixes the 6x6 tile):
    # the reason "auto" never picks F(4x4).
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 8, 16, 16))
    x[0, :, 5, 5] = 1e7
    weight = rng.standard_normal((8, 8, 3, 3))
    geometry = conv_geometry("conv2d", x, weight, padding=1)
    exact = conv_gemm.conv2d_forward(x, weight, geometry)
    far = np.ones(exact.shape[2:], bool)
    far[4:7, 4:7] = False        # the outputs whose window holds x[5, 5] (padding 1)
    x32, w32 = x.astype(np.float32), weight.astype(np.float32)
    scale = np.abs(exact[..., far]).max()

    def error(kernels):
        return np.abs(kernels.conv2d_forward(x32, w32, geometry) - exact)[..., far].max() / scale

    assert error(conv_winograd.F2) <= 2 * error(conv_gemm) + 1e-7
    assert error(conv_winograd.F4) > 10 * error(conv_gemm)


def test_auto_keeps_non_finite_data_on_im2col():
    # The transforms are GEMMs, where 0 * inf is NaN: an inf spreads over its tile, so
    # "auto" checks the operands before choosing Winograd (as it does before an FFT).
    x = np.random.default_rng(8).standard_normal((32, 64, 32, 32)).astype(np.float32)
    w = np.ones((128, 64, 3, 3), np.float32)
    geometry = conv_geometry("conv2d", x, w, padding=1)
    assert resolve_conv_algorithm("auto", 32, 64, 128, geometry, (x, w)) == "winograd_f2"
    x[0, 0, 5, 5] = np.inf
    assert resolve_conv_algorithm("auto", 32, 64, 128, geometry, (x, w)) == "im2col"
    tile_mate = conv_winograd.F2.conv2d_forward(x[:1], w, geometry)[0, 0, 7, 7]
    assert not np.isfinite(tile_mate)  # the window of (7, 7) misses x[5, 5]; its tile does not


def test_auto_never_picks_f4_and_picks_f2_only_for_3x3_stride_1():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n, c, o = rng.integers(1, 65, size=3)
        size, k, stride = rng.integers(3, 40), rng.choice([1, 3, 5]), rng.choice([1, 2])
        x, w = np.empty((n, c, size, size), np.float32), np.empty((o, c, k, k), np.float32)
        geometry = conv_geometry("conv2d", x, w, stride=int(stride), padding=int(k // 2))
        choice = resolve_conv_algorithm("auto", n, c, o, geometry, (x, w))
        assert choice != "winograd"
        if choice == "winograd_f2":
            assert (k, stride) == (3, 1)
