"""The Winograd convolution kernels (``"winograd"`` F(4x4, 3x3), ``"winograd_f2"`` F(2x2,
3x3)): values and all three directions against the direct loops on random 3x3 stride-1
layers, third derivatives, the accuracy bound each variant promises, and when "auto" takes
which. (The generic gradcheck, gradgradcheck, float32 and PyTorch tests run from
``tests/op_registry.py``'s ``conv2d_winograd*`` and ``conv_transpose2d_winograd*``
entries.)"""


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
    # why "auto" takes F(4x4) only where the program allows reduced float32 precision.
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


def test_auto_keeps_non_finite_data_on_im2col(reduced_precision):
    # The transforms are GEMMs, where 0 * inf is NaN: an inf spreads over its tile, so
    # "auto" checks the operands before choosing Winograd (as it does before an FFT).
    x = np.random.default_rng(8).standard_normal((32, 64, 32, 32)).astype(np.float32)
    w = np.ones((128, 64, 3, 3), np.float32)
    geometry = conv_geometry("conv2d", x, w, padding=1)
    assert resolve_conv_algorithm("auto", 32, 64, 128, geometry, (x, w)) == "winograd"
    x[0, 0, 5, 5] = np.inf
    assert resolve_conv_algorithm("auto", 32, 64, 128, geometry, (x, w)) == "im2col"
    tile_mate = conv_winograd.F2.conv2d_forward(x[:1], w, geometry)[0, 0, 7, 7]
    assert not np.isfinite(tile_mate)  # the window of (7, 7) misses x[5, 5]; its tile does not


@pytest.fixture
def reduced_precision():
    """Convolutions may trade float32 accuracy for speed (PyTorch's switch), reset after."""
    tg.backends.mkldnn.conv.fp32_precision = "tf32"
    yield
    tg.backends.mkldnn.conv.fp32_precision = "none"


def _random_layers(rng, count):
    for _ in range(count):
        n, c, o = rng.integers(1, 65, size=3)
        size, k, stride = rng.integers(3, 40), rng.choice([1, 3, 5]), rng.choice([1, 2])
        dtype = rng.choice([np.float32, np.float64])
        x, w = np.zeros((n, c, size, size), dtype), np.zeros((o, c, k, k), dtype)
        geometry = conv_geometry("conv2d", x, w, stride=int(stride), padding=int(k // 2))
        yield (n, c, o, geometry, (x, w)), (k, stride, dtype)


def test_auto_keeps_im2cols_accuracy_by_default_taking_only_f2():
    assert tg.backends.mkldnn.conv.fp32_precision == "none"       # "ieee" by inheritance
    picked = set()
    for args, (k, stride, _) in _random_layers(np.random.default_rng(7), 50):
        choice = resolve_conv_algorithm("auto", *args)
        picked.add(choice)
        assert choice != "winograd"
        if choice == "winograd_f2":
            assert (k, stride) == (3, 1)
    assert "winograd_f2" in picked


@pytest.mark.parametrize("switch", ["conv", "backend", "global"])
def test_reduced_precision_lets_auto_take_f4_for_float32_only(switch):
    # PyTorch's spellings: the conv setting, the mkldnn backend's, the global one (inherited).
    target = {"conv": tg.backends.mkldnn.conv, "backend": tg.backends.mkldnn,
              "global": tg.backends}[switch]
    target.fp32_precision = "bf16"
    try:
        picked = set()
        for args, (k, stride, dtype) in _random_layers(np.random.default_rng(7), 60):
            choice = resolve_conv_algorithm("auto", *args)
            picked.add(choice)
            if choice in WINOGRAD:
                assert (k, stride) == (3, 1)
            if choice == "winograd":
                assert dtype == np.float32
            if (k, stride) == (3, 1) and dtype == np.float64:
                assert choice != "winograd"
    finally:
        target.fp32_precision = "none"
    assert {"winograd", "winograd_f2"} <= picked


# The error bound of F(4x4) (module docstring of conv_winograd): each output's error is at
# most (C/groups + 40) * eps times the same algorithm run on absolute values (|x|, |w| and the
# transforms' absolute values), the standard forward error bound of a bilinear algorithm.
_ABS = [np.abs(np.array(t, dtype=np.float64)) for t in conv_winograd._TRANSFORMS[4]]


def _abs_tiles(x, geometry, m=4):
    """``|x|`` zero-padded as the kernel sees it, as tiles ``(N, C, th, tw, m+2, m+2)``."""
    (top, _), (left, _) = geometry.padding
    ho, wo = geometry.out_size
    th, tw = -(-ho // m), -(-wo // m)
    plane = np.zeros(x.shape[:2] + (th * m + 2, tw * m + 2))
    source = np.abs(x)[:, :, :th * m + 2 - top, :tw * m + 2 - left]
    plane[:, :, top:top + source.shape[2], left:left + source.shape[3]] = source
    windows = np.lib.stride_tricks.sliding_window_view(plane, (m + 2, m + 2), axis=(2, 3))
    return windows[:, :, ::m, ::m]


def _f4_forward_scale(x, weight, geometry):
    """F(4x4) run on absolute values, by einsum over every tile: ``(N, C_out, Ho, Wo)``."""
    bt, g, at = _ABS
    v = np.einsum("ai,nctuij,bj->nctuab", bt, _abs_tiles(x, geometry), bt)
    u = np.einsum("ai,ocij,bj->ocab", g, np.abs(weight), g)
    y = np.einsum("pa,ocab,nctuab,qb->notpuq", at, u, v, at)
    n, o, th, _, tw, _ = y.shape
    ho, wo = geometry.out_size
    return y.reshape(n, o, th * 4, tw * 4)[:, :, :ho, :wo]


def _f4_weight_grad_scale(x, grad_out, geometry):
    """The weight gradient of F(4x4) on absolute values: ``(C_out, C, 3, 3)``."""
    bt, g, at = _ABS
    ho, wo = geometry.out_size
    th, tw = -(-ho // 4), -(-wo // 4)
    dy = np.zeros(grad_out.shape[:2] + (th * 4, tw * 4))
    dy[:, :, :ho, :wo] = np.abs(grad_out)
    dy = dy.reshape(dy.shape[0], dy.shape[1], th, 4, tw, 4)
    dyt = np.einsum("pa,notpuq,qb->notuab", at, dy, at)
    v = np.einsum("ai,nctuij,bj->nctuab", bt, _abs_tiles(x, geometry), bt)
    return np.einsum("ai,ocab,bj->ocij", g, np.einsum("notuab,nctuab->ocab", dyt, v), g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_f4_error_within_its_stated_bound_on_hard_data(dtype):
    rng = np.random.default_rng(11)
    eps = np.finfo(dtype).eps
    for trial in range(16):
        n, c, o = rng.integers(1, 4), rng.integers(1, 40), rng.integers(1, 12)
        h, w = rng.integers(3, 17, size=2)
        x = rng.standard_normal((n, c, h, w))
        if trial % 4 == 1:
            x = np.maximum(x, 0)                                   # ReLU'd activations
        elif trial % 4 == 2:
            x[..., rng.integers(h), rng.integers(w)] *= 1e6        # a bright pixel
        elif trial % 4 == 3:
            x *= np.exp(rng.uniform(-20, 20, size=x.shape))        # wild magnitudes
        weight = rng.standard_normal((o, c, 3, 3))
        geometry = conv_geometry("conv2d", x, weight, padding=int(rng.integers(0, 3)))
        grad_out = rng.standard_normal((n, o) + tuple(geometry.out_size))
        x, weight, grad_out = (a.astype(dtype) for a in (x, weight, grad_out))
        wide = [a.astype(np.longdouble) for a in (x, weight, grad_out)]
        exact = conv_gemm.conv2d_forward(wide[0], wide[1], geometry)
        error = np.abs(conv_winograd.F4.conv2d_forward(x, weight, geometry) - exact)
        bound = (c + 40) * eps * _f4_forward_scale(x.astype(np.float64), weight, geometry)
        assert (error <= bound).all(), float((error / bound).max())
        exact = conv_gemm.conv2d_weight_grad(wide[0], wide[2], geometry)
        error = np.abs(conv_winograd.F4.conv2d_weight_grad(x, grad_out, geometry) - exact)
        tiles = n * -(-geometry.out_size[0] // 4) * -(-geometry.out_size[1] // 4)
        bound = (tiles + 40) * eps * _f4_weight_grad_scale(x.astype(np.float64),
                                                           grad_out.astype(np.float64), geometry)
        assert (error <= bound).all(), float((error / bound).max())


def test_f4_scale_exceeds_the_direct_methods_by_the_transforms_growth():
    # The scale F(4x4)'s bound is relative to exceeds the direct method's (the sum over the
    # window of |w||x|, im2col's bound being about 9C eps times it) by the growth of the
    # transforms: why "auto" takes F(4x4) only where the program allows reduced precision.
    rng = np.random.default_rng(12)
    x, weight = rng.standard_normal((2, 16, 12, 12)), rng.standard_normal((8, 16, 3, 3))
    geometry = conv_geometry("conv2d", x, weight, padding=1)
    direct = conv_gemm.conv2d_forward(np.abs(x), np.abs(weight), geometry)
    ratio = _f4_forward_scale(x, weight, geometry) / direct
    assert 30 < np.median(ratio) < 200     # measured 61 (25 to 630 over the outputs)
