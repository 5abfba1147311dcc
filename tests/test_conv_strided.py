"""The stride-phase im2col kernels (``"im2col_phases"``, tinygrad_cnn/ops/conv_strided.py), the
FFT kernels' two transform routes (tinygrad_cnn/ops/conv_fft.py) and the transforms a training
step shares (tinygrad_cnn/ops/conv_memo.py). The generic gradcheck, gradgradcheck and PyTorch
tests of both algorithms run from ``tests/op_registry.py``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm, resolve_conv_algorithm
from tinygrad_cnn.nn.functional._windows import conv_geometry
from tinygrad_cnn.ops import conv_fft, conv_gemm, conv_pointwise, conv_strided
from tinygrad_cnn.ops.geometry import WindowGeometry, conv_output_size


@st.composite
def strided_geometries(draw):
    """A strided, undilated geometry (bottom/right padding possibly negative, as a
    transposed convolution's output_padding makes it) and operands for it."""
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    top, left = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    bottom, right = draw(st.integers(-1, 3)), draw(st.integers(-1, 3))
    height = draw(st.integers(max(1, kh - top - bottom, 1 - bottom), 11))
    width = draw(st.integers(max(1, kw - left - right, 1 - right), 11))
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 3))
    ho = conv_output_size(height, kh, sh, (top, bottom), 1)
    wo = conv_output_size(width, kw, sw, (left, right), 1)
    if ho < 1 or wo < 1:
        ho = wo = 0
    geometry = WindowGeometry((height, width), (ho, wo), (kh, kw), (sh, sw),
                              ((top, bottom), (left, right)), (1, 1), groups)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, channels, height, width))
    weight = rng.standard_normal((out_channels, channels // groups, kh, kw))
    grad = rng.standard_normal((n, out_channels, ho, wo))
    return geometry, x, weight, grad


@settings(max_examples=60, deadline=None)
@given(strided_geometries())
def test_phase_kernels_equal_im2col(case):
    geometry, x, weight, grad = case
    if 0 in geometry.out_size:
        return
    _assert_phases_equal_im2col(x, weight, grad, geometry,
                                np.arange(weight.shape[0], dtype=float), None)


def _assert_phases_equal_im2col(x, weight, grad, geometry, bias, image_bias):
    """The three ``"im2col_phases"`` kernels (with a bias on the forward and ``image_bias``
    on the input gradient) equal im2col's, shape, dtype and values."""
    pairs = [(conv_strided.conv2d_forward(x, weight, geometry, bias),
              conv_gemm.conv2d_forward(x, weight, geometry, bias)),
             (conv_strided.conv2d_input_grad(grad, weight, geometry, image_bias),
              conv_gemm.conv2d_input_grad(grad, weight, geometry, image_bias)),
             (conv_strided.conv2d_weight_grad(x, grad, geometry),
              conv_gemm.conv2d_weight_grad(x, grad, geometry))]
    for ours, expected in pairs:
        assert ours.shape == expected.shape and ours.dtype == expected.dtype
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


@st.composite
def pointwise_geometries(draw):
    """A 1x1 geometry with no top/left padding (bottom/right padding possibly negative, as
    a transposed convolution's output_padding makes it, or positive) and operands for it."""
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    bottom, right = draw(st.integers(-1, 2)), draw(st.integers(-1, 2))
    height = draw(st.integers(max(1, 1 - bottom), 9))
    width = draw(st.integers(max(1, 1 - right), 9))
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    ho = conv_output_size(height, 1, sh, (0, bottom), 1)
    wo = conv_output_size(width, 1, sw, (0, right), 1)
    geometry = WindowGeometry((height, width), (ho, wo), (1, 1), (sh, sw),
                              ((0, bottom), (0, right)), (1, 1), groups)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, channels, height, width))
    weight = rng.standard_normal((out_channels, channels // groups, 1, 1))
    grad = rng.standard_normal((n, out_channels, ho, wo))
    return geometry, x, weight, grad


@settings(max_examples=60, deadline=None)
@given(pointwise_geometries())
def test_pointwise_kernels_equal_im2col(case):
    # 1x1 layers under "im2col_phases": a subsample and one product per image, no im2col;
    # a window in the bottom/right padding sends the layer to the phase kernels instead.
    geometry, x, weight, grad = case
    (ho, wo), (sh, sw) = geometry.out_size, geometry.stride
    inside = (ho - 1) * sh < x.shape[2] and (wo - 1) * sw < x.shape[3]
    assert conv_pointwise.supports(geometry) == inside
    _assert_phases_equal_im2col(x, weight, grad, geometry,
                                np.arange(weight.shape[0], dtype=float),
                                -np.arange(x.shape[1], dtype=float))


def _three_directions(kernels, x, weight, grad, geometry):
    """The forward, input gradient and weight gradient of one kernel module."""
    return (kernels.conv2d_forward(x, weight, geometry),
            kernels.conv2d_input_grad(grad, weight, geometry),
            kernels.conv2d_weight_grad(x, grad, geometry))


def _one_image_chunks_at_two_threads(monkeypatch, kernels, run):
    """``run()`` with ``kernels``' chunks of one image each, split over two threads."""
    monkeypatch.setattr(kernels, "CHUNK_BYTES", 1)
    previous = tg.get_num_threads()
    tg.set_num_threads(2)
    try:
        return run()
    finally:
        tg.set_num_threads(previous)


def test_pointwise_chunks_threads_and_infinities(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4, 9, 8))
    weight = rng.standard_normal((6, 2, 1, 1))
    geometry = conv_geometry("conv2d", x, weight, stride=2, groups=2)
    grad = rng.standard_normal((5, 6) + geometry.out_size)

    def run():
        return _three_directions(conv_pointwise, x, weight, grad, geometry)

    whole = run()
    chunked = _one_image_chunks_at_two_threads(monkeypatch, conv_pointwise, run)
    for a, b in zip(chunked, whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    x[1, 3, 2, 4] = np.inf          # sampled: its output and weight-gradient terms are inf
    x[0, 0, 1, 1] = np.nan          # not sampled: read by no window
    weight[4, 0, 0, 0] = -np.inf
    for ours, expected in zip(run(), _three_directions(conv_gemm, x, weight, grad, geometry),
                              strict=True):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))


D = ((4, 3, 16, 16), (5, 3, 5, 5), dict(stride=2, padding=2))  # bench_conv.py's (d), smaller


def _d_operands(dtype=np.float32):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(D[0]).astype(dtype)
    weight = rng.standard_normal(D[1]).astype(dtype)
    geometry = conv_geometry("conv2d", x, weight, **D[2])
    grad = rng.standard_normal((D[0][0], D[1][0]) + geometry.out_size).astype(dtype)
    return x, weight, grad, geometry


def test_float32_phase_kernels_agree_with_im2col_and_keep_the_dtype():
    x, weight, grad, geometry = _d_operands()
    for ours, expected in zip(_three_directions(conv_strided, x, weight, grad, geometry),
                              _three_directions(conv_gemm, x, weight, grad, geometry),
                              strict=True):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, expected, rtol=2e-5, atol=2e-5)


def test_chunks_and_threads_change_nothing(monkeypatch):
    x, weight, grad, geometry = _d_operands(np.float64)

    def run():
        return _three_directions(conv_strided, x, weight, grad, geometry)

    whole = run()
    chunked = _one_image_chunks_at_two_threads(monkeypatch, conv_strided, run)
    for a, b in zip(chunked, whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_non_finite_operands_propagate_as_under_im2col():
    # The extra positions multiply a neighbour's value by zero: with an infinite weight (input
    # gradient) or input (weight gradient) that would be a NaN im2col does not make.
    x, weight, grad, geometry = _d_operands(np.float64)
    weight[1, 2, 0, 4] = np.inf
    x[0, 1, 15, 0] = -np.inf
    for ours, expected in zip(_three_directions(conv_strided, x, weight, grad, geometry),
                              _three_directions(conv_gemm, x, weight, grad, geometry),
                              strict=True):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))


def test_auto_prices_each_op_of_a_strided_layer_and_the_name_falls_back_on_dilated_ones():
    # bench_conv.py's (d) op by op (one thread, measured): forward im2col 2.03 ms against the
    # phases' 2.26 (which move the input and output between layouts), input gradient the
    # phases' 2.53 against col2im's strided adds, 3.51.
    x = np.empty((32, 3, 64, 64), np.float32)
    weight = np.empty((16, 3, 5, 5), np.float32)
    strided = conv_geometry("conv2d", x, weight, stride=2, padding=2)
    assert resolve_conv_algorithm("auto", 32, 3, 16, strided) == "im2col"
    assert resolve_conv_algorithm("auto", 32, 3, 16, strided, role="input_grad") \
        == "im2col_phases"
    plain = conv_geometry("conv2d", x, weight, padding=2)
    assert resolve_conv_algorithm("auto", 32, 3, 16, plain) != "im2col_phases"
    dilated = conv_geometry("conv2d", x, weight, stride=2, padding=2, dilation=2)
    assert resolve_conv_algorithm("im2col_phases", 32, 3, 16, dilated) == "im2col"


def _algorithms_of_a_step(monkeypatch, x_shape, w_shape, **options):
    """The algorithm "auto" picks for each op of a forward+backward, by role."""
    from tinygrad_cnn.ops import conv as conv_ops
    picked = {}
    original = conv_ops.resolve_conv_algorithm

    def recording(*args, **kwargs):
        name = original(*args, **kwargs)
        picked[args[6] if len(args) > 6 else kwargs.get("role", "forward")] = name
        return name

    monkeypatch.setattr(conv_ops, "resolve_conv_algorithm", recording)
    rng = np.random.default_rng(0)
    xt = tg.Tensor(rng.standard_normal(x_shape, dtype=np.float32), requires_grad=True)
    wt = tg.Tensor(rng.standard_normal(w_shape, dtype=np.float32), requires_grad=True)
    F.conv2d(xt, wt, **options).sum().backward()
    return picked


def test_auto_in_a_training_step_keeps_the_forwards_columns_for_the_weight_gradient(
        monkeypatch):
    # (d) forward+backward (one thread, measured): im2col / phases / im2col 6.6-6.9 ms, the
    # phases for all three 7.5-8.0: the kept columns leave the weight gradient its products.
    picked = _algorithms_of_a_step(monkeypatch, (32, 3, 64, 64), (16, 3, 5, 5), stride=2)
    assert picked == {"forward": "im2col", "input_grad": "im2col_phases",
                      "weight_grad": "im2col"}


def test_auto_in_a_training_step_shares_the_phase_planes_when_columns_are_too_big_to_keep(
        monkeypatch):
    # An ImageNet-style 7x7 stride-2 stem (measured, one thread, batch 8 at 224x224: the
    # phases for all three 79-83 ms, im2col / phases / im2col 95-97): 59 MB of columns
    # are not kept, and the phases' weight gradient reuses the forward's planes and the
    # input gradient's grid.
    picked = _algorithms_of_a_step(monkeypatch, (8, 3, 224, 224), (64, 3, 7, 7), stride=2,
                                   padding=3)
    assert set(picked.values()) == {"im2col_phases"}


# ------------------------------------------------------------------ one step's shared transforms


def _count_calls(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


@pytest.mark.parametrize("algorithm, module, name, per_step", [
    ("fft", conv_fft, "_spectrum", 3),               # X', W, G: each once
    ("im2col_phases", conv_strided, "_split", 1),    # the input's phase planes once
])
def test_a_training_step_transforms_each_operand_once_and_gets_the_same_gradients(
        monkeypatch, algorithm, module, name, per_step):
    rng = np.random.default_rng(9)
    x, weight = rng.standard_normal((2, 3, 12, 10)), rng.standard_normal((4, 3, 5, 5))
    bias = rng.standard_normal(4)
    cotangent = rng.standard_normal((2, 4, 6, 5))

    def step(name_):
        xt, wt, bt = (tg.Tensor(a, requires_grad=True) for a in (x, weight, bias))
        with conv_algorithm(name_):
            out = F.conv2d(xt, wt, bt, stride=2, padding=2)
            out.backward(cotangent, retain_graph=True)
            first = (xt.grad.numpy().copy(), wt.grad.numpy().copy())
            out.backward(cotangent)             # again: the memo was emptied, recomputed
        return first, (xt.grad.numpy() / 2, wt.grad.numpy() / 2), out.numpy()

    expected = step("im2col")
    calls = _count_calls(monkeypatch, module, name)
    got = step(algorithm)
    assert len(calls) == 2 * per_step
    for a, b in zip(got[0] + got[1] + (got[2],), expected[0] + expected[1] + (expected[2],),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("algorithm", ["fft", "im2col_phases"])
def test_second_derivatives_through_the_shared_transforms_equal_im2col(algorithm):
    rng = np.random.default_rng(10)
    x, weight = rng.standard_normal((2, 2, 9, 8)), rng.standard_normal((3, 2, 4, 3))

    def hessian_terms(name):
        xt, wt = tg.Tensor(x, requires_grad=True), tg.Tensor(weight, requires_grad=True)
        with conv_algorithm(name):
            out = F.conv2d(xt, wt, stride=2, padding=1)
            gx, gw = tg.grad((out * out).sum(), [xt, wt], create_graph=True)
            return [t.numpy() for t in tg.grad((gx * gx).sum() + (gw * gw).sum(), [xt, wt])]

    for a, b in zip(hessian_terms(algorithm), hessian_terms("im2col"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_inference_keeps_no_transforms():
    from tinygrad_cnn.ops import conv_memo
    assert conv_memo.active() is None
    rng = np.random.default_rng(2)
    with tg.no_grad(), conv_algorithm("fft"):
        F.conv2d(tg.Tensor(rng.standard_normal((1, 2, 8, 8))),
                 tg.Tensor(rng.standard_normal((2, 2, 3, 3))))
    assert conv_memo.active() is None
