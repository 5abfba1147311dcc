"""The flat-shift im2col kernels (``"im2col_flat"``, :mod:`tinygrad_cnn.ops.im2col_flat`): each
direction and both input-gradient ways against the direct loops and im2col, NaN/inf as under
im2col, chunking, and the cost model's choices. (gradcheck, gradgradcheck, dtypes and the
PyTorch oracle run from ``tests/op_registry.py``'s ``conv2d_im2col_flat`` and
``conv_transpose2d_im2col_flat`` entries; ``tests/test_conv.py`` runs it among the
algorithms.)"""

import numpy as np
import pytest
import reference
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygrad_cnn.backends import resolve_conv_algorithm
from tinygrad_cnn.ops import conv_gemm, im2col_flat
from tinygrad_cnn.ops.geometry import WindowGeometry, conv_output_size


def geometry_of(x_shape, w_shape, padding, dilation=(1, 1), groups=1):
    """A stride-1 geometry; ``padding`` ``((top, bottom), (left, right))``, the far sides
    may be negative (rows no window reads, as a transposed convolution's output_padding)."""
    out = tuple(conv_output_size(size, k, 1, pad, d) for size, k, pad, d in
                zip(x_shape[2:], w_shape[2:], padding, dilation, strict=True))
    return WindowGeometry(tuple(x_shape[2:]), out, tuple(w_shape[2:]), (1, 1),
                          tuple(padding), tuple(dilation), groups)


@st.composite
def flat_cases(draw):
    groups = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple((draw(st.integers(0, 3)), draw(st.integers(-1, 3))) for _ in range(2))
    height, width = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    x_shape = (draw(st.integers(1, 3)), channels, height, width)
    w_shape = (out_channels, channels // groups, kh, kw)
    geometry = geometry_of(x_shape, w_shape, padding, dilation, groups)
    assume(min(geometry.out_size) >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal(x_shape)
    weight = rng.standard_normal(w_shape)
    grad_out = rng.standard_normal((x_shape[0], out_channels) + geometry.out_size)
    return x, weight, grad_out, geometry


def loops_conv2d(x, weight, geometry):
    (top, bottom), (left, right) = geometry.padding
    # The direct loops take non-negative symmetric-or-not padding: a negative far side is
    # the same as cutting the input rows no window reads.
    height = x.shape[2] + min(bottom, 0)
    width = x.shape[3] + min(right, 0)
    return reference.conv2d(x[:, :, :height, :width], weight, None, (1, 1),
                            ((top, max(bottom, 0)), (left, max(right, 0))),
                            geometry.dilation, geometry.groups)


@settings(max_examples=60, deadline=None)
@given(flat_cases())
def test_forward_matches_the_direct_loops(case):
    x, weight, _, geometry = case
    bias = np.arange(weight.shape[0], dtype=float)
    out = im2col_flat.conv2d_forward(x, weight, geometry, bias)
    expected = loops_conv2d(x, weight, geometry) + bias.reshape(-1, 1, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(flat_cases())
def test_gradients_match_im2col_by_both_input_gradient_ways(case):
    x, weight, grad_out, geometry = case
    np.testing.assert_allclose(im2col_flat.conv2d_weight_grad(x, grad_out, geometry),
                               conv_gemm.conv2d_weight_grad(x, grad_out, geometry),
                               rtol=1e-10, atol=1e-10)
    bias = np.linspace(-1, 1, x.shape[1])
    expected = conv_gemm.conv2d_input_grad(grad_out, weight, geometry, bias)
    by_col2im = im2col_flat.flat_col2im_input_grad(grad_out, weight, geometry, bias)
    by_correlation = conv_gemm.input_grad_as_correlation(
        grad_out, weight, geometry, bias, forward=im2col_flat.conv2d_forward)
    np.testing.assert_allclose(by_col2im, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(by_correlation, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(im2col_flat.conv2d_input_grad(grad_out, weight, geometry, bias),
                               expected, rtol=1e-10, atol=1e-10)


def test_the_input_gradient_way_follows_the_channel_ratio(monkeypatch):
    calls = []
    monkeypatch.setattr(im2col_flat, "flat_col2im_input_grad",
                        lambda *args: calls.append("col2im") or np.zeros(1))
    monkeypatch.setattr(conv_gemm, "input_grad_as_correlation",
                        lambda *args, **kwargs: calls.append("correlation") or np.zeros(1))
    for channels, out_channels in ((8, 4), (4, 8)):
        geometry = geometry_of((2, channels, 5, 5), (out_channels, channels, 3, 3),
                               ((1, 1), (1, 1)))
        im2col_flat.conv2d_input_grad(np.ones((2, out_channels, 5, 5)),
                                      np.ones((out_channels, channels, 3, 3)), geometry)
    assert calls == ["correlation", "col2im"]


def test_the_layout_shares_padding_between_rows_and_planes():
    layout = im2col_flat.FlatLayout.of(geometry_of((1, 1, 14, 14), (1, 1, 3, 3),
                                                   ((1, 1), (1, 1))))
    assert (layout.row, layout.plane_rows, layout.base) == (15, 15, 16)


def test_infinities_give_im2col_results_not_wrap_nans():
    # An inf one row away from a wrap position: im2col multiplies it only by real
    # gradients; the flat layout's wrap terms 0 * inf would make NaN.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 5))
    x[0, 1, 2, 0] = np.inf
    weight = rng.standard_normal((3, 2, 3, 3))
    weight[1, 0, 0, 2] = -np.inf
    geometry = geometry_of(x.shape, weight.shape, ((1, 1), (1, 1)))
    grad_out = rng.standard_normal((2, 3, 5, 5))
    with np.errstate(invalid="ignore", over="ignore"):
        expected_w = conv_gemm.conv2d_weight_grad(x, grad_out, geometry)
        expected_x = conv_gemm.conv2d_input_grad(grad_out, weight, geometry)
        got_w = im2col_flat.conv2d_weight_grad(x, grad_out, geometry)
        got_x = im2col_flat.conv2d_input_grad(grad_out, weight, geometry)
        got_y = im2col_flat.conv2d_forward(x, weight, geometry)
        expected_y = conv_gemm.conv2d_forward(x, weight, geometry)
    np.testing.assert_array_equal(np.isnan(got_w), np.isnan(expected_w))
    np.testing.assert_allclose(got_w, expected_w, rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(got_x), np.isnan(expected_x))
    np.testing.assert_allclose(got_x, expected_x, rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(got_y), np.isnan(expected_y))
    np.testing.assert_allclose(got_y, expected_y, rtol=1e-12)


def test_chunks_of_one_image_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 6, 5))
    weight = rng.standard_normal((6, 2, 3, 3))
    geometry = geometry_of(x.shape, weight.shape, ((1, 2), (0, 1)), groups=2)
    grad_out = rng.standard_normal((3, 6) + geometry.out_size)
    whole = (im2col_flat.conv2d_forward(x, weight, geometry),
             im2col_flat.conv2d_weight_grad(x, grad_out, geometry),
             im2col_flat.flat_col2im_input_grad(grad_out, weight, geometry))
    monkeypatch.setattr(im2col_flat, "CHUNK_BYTES", 1)
    chunked = (im2col_flat.conv2d_forward(x, weight, geometry),
               im2col_flat.conv2d_weight_grad(x, grad_out, geometry),
               im2col_flat.flat_col2im_input_grad(grad_out, weight, geometry))
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_an_empty_batch_gives_empty_results():
    geometry = geometry_of((0, 2, 4, 4), (3, 2, 3, 3), ((1, 1), (1, 1)))
    x, weight, grad_out = np.zeros((0, 2, 4, 4)), np.ones((3, 2, 3, 3)), np.zeros((0, 3, 4, 4))
    assert im2col_flat.conv2d_forward(x, weight, geometry).shape == (0, 3, 4, 4)
    assert im2col_flat.conv2d_input_grad(grad_out, weight, geometry).shape == (0, 2, 4, 4)
    np.testing.assert_array_equal(im2col_flat.conv2d_weight_grad(x, grad_out, geometry),
                                  np.zeros((3, 2, 3, 3)))


def test_a_strided_layer_under_im2col_flat_runs_im2col():
    geometry = WindowGeometry((8, 8), (4, 4), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1))
    assert resolve_conv_algorithm("im2col_flat", 2, 3, 4, geometry) == "im2col"


@pytest.mark.parametrize("role", ["forward", "input_grad", "weight_grad"])
def test_auto_keeps_a_one_channel_input_layer_on_im2col(role):
    # The first MNIST layer: copying the 32 output planes between layouts costs more than
    # the one input plane's short copies.
    geometry = geometry_of((64, 1, 28, 28), (32, 1, 3, 3), ((1, 1), (1, 1)))
    assert resolve_conv_algorithm("auto", 64, 1, 32, geometry, role=role) == "im2col"


def test_auto_takes_the_flat_col2im_for_the_input_gradient_of_a_widening_layer():
    # A 5x5 layer (no Winograd) doubling its channels, without padding: col2im's 24-element
    # adds are what the flat layout saves most (measured 9.4 against 10.8 ms, one thread).
    # (With "same" padding col2im adds whole flat runs itself: 12.0 against 12.6 ms.)
    geometry = geometry_of((32, 16, 28, 28), (32, 16, 5, 5), ((0, 0), (0, 0)))
    assert resolve_conv_algorithm("auto", 32, 16, 32, geometry, role="input_grad") \
        == "im2col_flat"
    assert resolve_conv_algorithm("auto", 32, 16, 32, geometry, role="weight_grad") \
        == "im2col"


def test_auto_prices_an_empty_batch_without_dividing_by_zero():
    geometry = geometry_of((0, 2, 4, 4), (3, 2, 3, 3), ((1, 1), (1, 1)))
    for role in ("forward", "input_grad", "weight_grad"):
        assert resolve_conv_algorithm("auto", 0, 2, 3, geometry, role=role) in (
            "im2col", "im2col_flat", "winograd_f2", "fft")
