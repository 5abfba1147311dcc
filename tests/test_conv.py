"""conv2d, conv1d, conv_transpose2d: values against direct loops, the two algorithms against
each other, third derivatives and PyTorch's second derivatives (the generic gradcheck,
gradgradcheck, dtype and PyTorch tests of both algorithms run from ``tests/op_registry.py``)."""

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm, current_conv_algorithm, resolve_conv_algorithm
from tinygrad_cnn.gradcheck import gradcheck
from tinygrad_cnn.nn.functional._windows import conv_geometry

ALGORITHMS = ("im2col", "fft", "winograd", "winograd_f2", "im2col_flat", "im2col_phases")


def tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


@st.composite
def conv_cases(draw):
    """Random valid conv2d arguments: small arrays, every option exercised."""
    groups = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    height = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    width = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 2))
    x = rng.standard_normal((n, groups * draw(st.integers(1, 2)), height, width))
    weight = rng.standard_normal((groups * draw(st.integers(1, 2)), x.shape[1] // groups, kh, kw))
    bias = rng.standard_normal(weight.shape[0]) if draw(st.booleans()) else None
    options = dict(stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=(ph, pw),
                   dilation=(dh, dw), groups=groups)
    return x, weight, bias, options


def run_conv2d(x, weight, bias, options, algorithm):
    with conv_algorithm(algorithm):
        b = None if bias is None else tensor(bias)
        return F.conv2d(tensor(x), tensor(weight), b, **options).data


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_matches_direct_loop_reference(case):
    x, weight, bias, options = case
    expected = reference.conv2d(x, weight, bias, **options)
    np.testing.assert_allclose(run_conv2d(x, weight, bias, options, "im2col"), expected,
                               rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_algorithms_agree_in_values_and_gradients(case):
    x, weight, bias, options = case
    results = []
    for algorithm in ALGORITHMS:
        with conv_algorithm(algorithm):
            xt, wt = tensor(x, True), tensor(weight, True)
            out = F.conv2d(xt, wt, None if bias is None else tensor(bias), **options)
            (out * out).sum().backward()
            results.append((out.data, xt.grad, wt.grad))
    for other in results[1:]:
        for im2col_part, other_part in zip(results[0], other, strict=True):
            np.testing.assert_allclose(other_part, im2col_part, rtol=1e-9, atol=1e-9)


@st.composite
def transpose_cases(draw):
    groups = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation, strict=True))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)),
                             draw(st.integers(2, 5)), draw(st.integers(2, 5))))
    weight = rng.standard_normal((x.shape[1], draw(st.integers(1, 2)), kh, kw))
    bias = rng.standard_normal(weight.shape[1] * groups) if draw(st.booleans()) else None
    return x, weight, bias, dict(stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation, groups=groups)


@settings(max_examples=40, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_matches_direct_scatter_reference(case):
    x, weight, bias, options = case
    expected = reference.conv_transpose2d(x, weight, bias, **options)
    if min(expected.shape[2:]) < 1:
        return  # padding larger than the result: rejected, see test_conv_errors
    for algorithm in ALGORITHMS:
        with conv_algorithm(algorithm):
            out = F.conv_transpose2d(tensor(x), tensor(weight),
                                     None if bias is None else tensor(bias), **options)
        np.testing.assert_allclose(out.data, expected, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ derivatives


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_third_derivative_of_conv2d_matches_finite_differences(algorithm):
    # d/dx of the second-order term exercises every op of the triad's backward-of-backward.
    rng = np.random.default_rng(3)
    x = tensor(rng.standard_normal((1, 2, 4, 4)), True)
    weight = tensor(rng.standard_normal((2, 2, 2, 2)), True)

    def second(x, weight):
        if not weight.requires_grad:  # the numerical side passes constants
            weight = tg.Tensor(weight.data, requires_grad=True)
        with conv_algorithm(algorithm), tg.enable_grad():
            out = F.conv2d(x, weight, stride=2, padding=1)
            (grad_w,) = tg.grad((out * out * out).sum(), [weight], create_graph=True)
            return (grad_w * grad_w).sum()

    assert gradcheck(second, (x, weight), atol=1e-4)


# ------------------------------------------------------------------ conv1d, shapes
def test_conv1d_equals_conv2d_on_a_one_row_image():
    rng = np.random.default_rng(4)
    x, weight = rng.standard_normal((2, 3, 11)), rng.standard_normal((4, 3, 3))
    out = F.conv1d(tensor(x), tensor(weight), stride=2, padding=1, dilation=2).data
    expected = reference.conv2d(x[:, :, None, :], weight[:, :, None, :], stride=(1, 2),
                                padding=(0, 1), dilation=(1, 2))[:, :, 0, :]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (4, 1)])
def test_padding_same_keeps_the_size_and_pads_the_extra_row_at_the_bottom_right(kernel):
    rng = np.random.default_rng(5)
    x, weight = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((3, 2) + kernel)
    out = F.conv2d(tensor(x), tensor(weight), padding="same", dilation=(1, 2)).data
    assert out.shape == (1, 3, 5, 6)
    pads = []
    for k, d in zip(kernel, (1, 2), strict=True):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    expected = reference.conv2d(x, weight, padding=tuple(pads), dilation=(1, 2))
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def test_padding_valid_is_no_padding():
    rng = np.random.default_rng(6)
    x, weight = tensor(rng.standard_normal((1, 1, 5, 5))), tensor(rng.standard_normal((1, 1, 3, 3)))
    np.testing.assert_array_equal(F.conv2d(x, weight, padding="valid").data,
                                  F.conv2d(x, weight, padding=0).data)


def test_unbatched_input_gives_unbatched_output():
    rng = np.random.default_rng(7)
    x, weight = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    out = F.conv2d(tensor(x), tensor(weight), padding=1)
    assert out.shape == (3, 5, 5)
    np.testing.assert_allclose(out.data, reference.conv2d(x[None], weight, padding=1)[0])


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the matching output_padding.
    rng = np.random.default_rng(8)
    x, weight = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 3))
    y = F.conv2d(tensor(x), tensor(weight), stride=2, padding=1).data
    cotangent = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(tensor(cotangent), tensor(weight), stride=2, padding=1,
                              output_padding=(1, 0)).data
    assert back.shape == x.shape
    assert np.vdot(y, cotangent) == pytest.approx(np.vdot(x, back), rel=1e-12)


# ------------------------------------------------------------------ backends
def test_conv_algorithm_rejects_an_unknown_name_listing_the_choices():
    with pytest.raises(ValueError, match="'auto', 'im2col', 'fft', 'winograd', 'winograd_f2'"):
        with conv_algorithm("winograd3"):
            pass


def test_conv_algorithm_restores_the_previous_choice():
    with conv_algorithm("fft"):
        with conv_algorithm("im2col"):
            assert current_conv_algorithm() == "im2col"
        assert current_conv_algorithm() == "fft"
    assert current_conv_algorithm() == "auto"


def _auto_choice(x_shape, w_shape, padding):
    x, w = np.empty(x_shape, np.float32), np.empty(w_shape, np.float32)
    geometry = conv_geometry("conv2d", x, w, padding=padding)
    return resolve_conv_algorithm("auto", x_shape[0], x_shape[1], w_shape[0], geometry)


@pytest.mark.parametrize("x_shape, w_shape, padding, expected", [
    ((64, 1, 28, 28), (32, 1, 3, 3), 1, "im2col"),      # the 3x3 layers of bench_conv.py
    ((64, 32, 14, 14), (64, 32, 3, 3), 1, "winograd_f2"),  # 32 channels: F(2x2) pays
    ((32, 64, 32, 32), (128, 64, 3, 3), 1, "winograd_f2"),
    ((32, 64, 32, 32), (128, 64, 3, 3), 0, "winograd_f2"),
    ((32, 64, 32, 32), (128, 64, 5, 5), 2, "im2col"),        # not 3x3: no Winograd
    ((8, 16, 64, 64), (16, 16, 3, 3), 1, "winograd_f2"),  # the crossover sweep's 3x3 ...
    ((8, 16, 64, 64), (16, 16, 7, 7), 3, "im2col"),     # ... 7x7 (FFT priced in float64)
    ((8, 16, 64, 64), (16, 16, 9, 9), 4, "fft"),        # ... and 9x9
    ((8, 16, 64, 64), (16, 16, 15, 15), 7, "fft"),      # bench_conv.py (e)
])
def test_auto_picks_im2col_or_winograd_for_small_kernels_and_fft_for_large_ones(
        x_shape, w_shape, padding, expected):
    assert _auto_choice(x_shape, w_shape, padding) == expected
    # Where the program allows reduced float32 precision in convolutions (PyTorch's switch),
    # the F(2x2) layers go to F(4x4); nothing else moves.
    tg.backends.mkldnn.conv.fp32_precision = "tf32"
    try:
        fast = _auto_choice(x_shape, w_shape, padding)
    finally:
        tg.backends.mkldnn.conv.fp32_precision = "none"
    assert fast == ("winograd" if expected == "winograd_f2" else expected)


# ------------------------------------------------------------------ PyTorch oracle


@pytest.mark.torch
def test_second_derivatives_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x, weight = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
    xt, wt = tensor(x, True), tensor(weight, True)
    out = F.conv2d(xt, wt, stride=2, padding=1)
    grad_x, grad_w = tg.grad((out * out).sum(), [xt, wt], create_graph=True)
    hx, hw = tg.grad((grad_x * grad_x).sum() + (grad_w * grad_w).sum(), [xt, wt])
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(weight, requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1)
    tgx, tgw = torch.autograd.grad((tout * tout).sum(), [tx, tw], create_graph=True)
    thx, thw = torch.autograd.grad((tgx * tgx).sum() + (tgw * tgw).sum(), [tx, tw])
    np.testing.assert_allclose(hx.data, thx.numpy(), rtol=1e-9)
    np.testing.assert_allclose(hw.data, thw.numpy(), rtol=1e-9)


def test_batch_chunking_gives_the_same_result_as_one_chunk(monkeypatch):
    # The im2col kernels process the batch in chunks of about CHUNK_BYTES of columns; a
    # one-image chunk must change nothing (values and both gradients, with groups).
    from tinygrad_cnn.ops import conv_gemm
    rng = np.random.default_rng(12)
    x, weight = rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((6, 2, 3, 3))
    cotangent = rng.standard_normal((3, 6, 3, 3))

    def run():
        with conv_algorithm("im2col"):
            xt, wt = tensor(x, True), tensor(weight, True)
            F.conv2d(xt, wt, stride=2, padding=1, groups=2).backward(cotangent)
            return xt.grad, wt.grad

    whole = run()
    monkeypatch.setattr(conv_gemm, "CHUNK_BYTES", 1)
    for chunked, expected in zip(run(), whole, strict=True):
        np.testing.assert_allclose(chunked, expected, rtol=1e-12)


# ------------------------------------------------------------------ empty batch
EMPTY_BATCH_OPS = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), (0, 4, 6, 5),
               (6, 2, 3, 3), (0, 6, 3, 3)),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, padding=2, dilation=2), (0, 4, 7),
               (6, 4, 3), (0, 6, 7)),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, groups=2),
                         (0, 4, 3, 3), (4, 3, 2, 2), (0, 6, 6, 6)),
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("name", EMPTY_BATCH_OPS)
def test_empty_batch_gives_empty_output_and_zero_weight_gradients(name, algorithm):
    call, x_shape, w_shape, out_shape = EMPTY_BATCH_OPS[name]
    x = tensor(np.zeros(x_shape), True)
    weight = tensor(np.ones(w_shape), True)
    bias = tensor(np.ones(out_shape[1]), True)
    with conv_algorithm(algorithm):
        out = call(x, weight, bias)
        assert out.shape == out_shape
        out.sum().backward()
    assert x.grad.shape == x_shape
    np.testing.assert_array_equal(weight.grad, np.zeros(w_shape))
    np.testing.assert_array_equal(bias.grad, np.zeros(out_shape[1]))


@pytest.mark.parametrize("options, kernel", [
    (dict(padding=1), (3, 3)),
    (dict(padding=(3, 0), dilation=(1, 2)), (3, 2)),          # padding beyond the span: crop
    (dict(padding=2, dilation=2, groups=2), (3, 3)),
    (dict(padding=(0, 1)), (1, 3)),
])
def test_stride_1_input_gradient_as_correlation_equals_col2im(monkeypatch, options, kernel):
    # im2col's stride-1 input gradient with C_out <= C runs as a correlation (no col2im):
    # the same values as the col2im path, and as the loop reference's transpose.
    from tinygrad_cnn.ops import conv_gemm
    rng = np.random.default_rng(31)
    x = rng.standard_normal((2, 4, 7, 6))
    weight = rng.standard_normal((4, 4 // options.get("groups", 1)) + kernel)
    geometry = conv_geometry("conv2d", x, weight, **options)
    grad_out = rng.standard_normal((2, 4) + tuple(geometry.out_size))
    as_correlation = conv_gemm.conv2d_input_grad(grad_out, weight, geometry)
    monkeypatch.setattr(conv_gemm, "CORRELATION_INPUT_GRAD", False)
    with_col2im = conv_gemm.conv2d_input_grad(grad_out, weight, geometry)
    np.testing.assert_allclose(as_correlation, with_col2im, rtol=1e-12, atol=1e-12)
    # <conv(x), g> == <x, dx>: the adjoint identity against the loop reference's forward
    y = reference.conv2d(x, weight, None, stride=(1, 1), padding=geometry.padding,
                         dilation=geometry.dilation, groups=geometry.groups)
    assert np.vdot(y, grad_out) == pytest.approx(np.vdot(x, as_correlation), rel=1e-12)


def test_reduced_precision_runs_the_chosen_fft_in_float32_without_the_accuracy_check():
    # By default a float32 layer "auto" puts on the FFT runs it in float64, and only while no
    # window is much weaker than its plane (a bright pixel keeps it on the direct method);
    # where the program allows reduced float32 precision (PyTorch's switch) the FFT runs in
    # float32 and the check is skipped (its error, ~1e-6 of the plane's largest values, is far
    # inside TF32's 10 bits).
    from tinygrad_cnn.ops import conv as conv_ops
    from tinygrad_cnn.ops import conv_fft, conv_gemm
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 16, 64, 64)).astype(np.float32)
    w = rng.standard_normal((16, 16, 15, 15)).astype(np.float32)
    geometry = conv_geometry("conv2d", x, w, padding=7)

    def kernels():
        return conv_ops._kernels("auto", 8, 16, 16, geometry, "forward", (x, w), None)

    assert kernels() is conv_fft.Widened
    x[0, :, 9, 9] = 1e9
    assert kernels() is not conv_fft.Widened and kernels() is not conv_fft   # the direct method
    tg.backends.mkldnn.conv.fp32_precision = "tf32"
    try:
        assert kernels() is conv_fft
        y = tg.nn.functional.conv2d(tg.tensor(x), tg.tensor(w), padding=7)
    finally:
        tg.backends.mkldnn.conv.fp32_precision = "none"
    exact = conv_gemm.conv2d_forward(x.astype(np.float64), w.astype(np.float64), geometry)
    assert y.dtype == tg.float32
    assert np.abs(y.numpy() - exact).max() <= 1e-5 * np.abs(exact).max()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("algorithm", ["auto", "im2col", "im2col_flat", "im2col_phases",
                                       "winograd_f2", "fft"])
def test_inf_and_nan_in_the_data_give_inf_and_nan_without_a_numpy_warning(algorithm,
                                                                          threads):
    # PyTorch returns inf and NaN silently; a numpy RuntimeWarning from a kernel (or from
    # one of its pool threads, whose numpy settings are their own) would be an error under
    # ``-W error``.
    import warnings
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 4, 9, 9)).astype(np.float32)
    x[0, 1, 2, 3], x[2, 0, 4, 4], x[3, 3, 0, 0] = np.inf, -np.inf, np.nan
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    before = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        with warnings.catch_warnings(), conv_algorithm(algorithm):
            warnings.simplefilter("error")
            xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
            y = F.conv2d(xt, wt, stride=2 if algorithm == "im2col_phases" else 1, padding=1)
            y.backward(tg.tensor(rng.standard_normal(y.shape).astype(np.float32)))
    finally:
        tg.set_num_threads(before)
    assert np.isnan(y.numpy()).any() and np.isnan(wt.grad.numpy()).any()
