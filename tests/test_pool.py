"""max_pool2d, avg_pool2d, lp_pool2d: values and gradients against direct loops, ties, zero
windows and argument errors (the generic gradcheck, gradgradcheck, dtype and PyTorch tests run
from ``tests/op_registry.py``)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import avg_pool2d_ref, lp_pool2d_ref, max_pool2d_ref, pool_output_size_ref

import tinygrad_cnn.functional as F
from tinygrad_cnn.autograd.engine import grad
from tinygrad_cnn.autograd.grad_mode import no_grad
from tinygrad_cnn.tensor import Tensor


def distinct(shape, seed=0, low=-1.0):
    """float64 values at least 0.05 apart (no ties or kinks within a gradcheck's eps)."""
    size = int(np.prod(shape))
    ranks = np.random.default_rng(seed).permutation(size).reshape(shape)
    return low + 0.05 * ranks


@st.composite
def pool_cases(draw, padding=True, dilation=True):
    """(x, kernel, stride, padding, dilation, ceil_mode) with a non-empty output."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = tuple(draw(st.integers(0, k // 2)) for k in kernel) if padding else (0, 0)
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    # at least the dilated kernel minus the padding, so that floor mode has one window
    h, w = (draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
            for k, p, d in zip(kernel, pad, dil))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    x = distinct(shape, seed=draw(st.integers(0, 2**16)))
    return x, kernel, stride, pad, dil, ceil_mode


def values_and_grad(fn, x, seed=1):
    """fn(Tensor(x)) and the input gradient for a random output gradient g; also g."""
    t = Tensor(x, requires_grad=True)
    y = fn(t)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(g)
    return y.data, t.grad, g


# ------------------------------------------------------------------ against the loop reference
@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_max_pool2d_values_and_gradient_match_the_loop_reference(case):
    x, k, s, p, d, ceil_mode = case
    y, gx, g = values_and_grad(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode), x)
    y_ref, gx_ref = max_pool2d_ref(x, k, s, p, d, ceil_mode, grad_output=g)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(pool_cases(dilation=False), st.booleans())
def test_avg_pool2d_values_and_gradient_match_the_loop_reference(case, count_include_pad):
    x, k, s, p, _, ceil_mode = case
    y, gx, g = values_and_grad(
        lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad), x)
    y_ref, gx_ref = avg_pool2d_ref(x, k, s, p, ceil_mode, count_include_pad, grad_output=g)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pool_cases(padding=False, dilation=False), st.sampled_from([1, 2, 3, 1.5]))
def test_lp_pool2d_values_match_the_loop_reference(case, p):
    x, k, s, _, _, ceil_mode = case
    x = x + 1.5  # positive: x ** 1.5 is real
    y = F.lp_pool2d(Tensor(x), p, k, s, ceil_mode)
    np.testing.assert_allclose(y.data, lp_pool2d_ref(x, p, k, s, ceil_mode), rtol=1e-12)


@pytest.mark.parametrize("size,kernel,stride,padding,dilation,ceil_mode", [
    (5, 2, 2, 0, 1, True), (5, 2, 2, 1, 1, True), (6, 3, 2, 1, 1, True), (4, 3, 3, 1, 1, True),
    (7, 3, 2, 0, 2, False), (10, 4, 3, 2, 1, True), (2, 2, 2, 1, 1, True)])
def test_output_size_follows_pytorch_formula(size, kernel, stride, padding, dilation,
                                             ceil_mode):
    x = Tensor(np.zeros((1, 1, size, size)))
    y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    expected = pool_output_size_ref(size, kernel, stride, padding, dilation, ceil_mode)
    assert y.shape == (1, 1, expected, expected)


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    # size 2, kernel 2, stride 2, padding 1: ceil((2+2-2)/2)+1 = 2, and the 2nd window starts
    # at 2*1-1 = 1, inside the input, so it stays; size 1 with kernel 2 / padding 1 gives 2
    # windows by ceil, the 2nd starting at 1 = size: dropped.
    assert F.max_pool2d(Tensor(np.zeros((1, 1, 2, 2))), 2, 2, 1, ceil_mode=True).shape[-1] == 2
    assert F.max_pool2d(Tensor(np.zeros((1, 1, 1, 1))), 2, 2, 1, ceil_mode=True).shape[-1] == 1


# ------------------------------------------------------------------ gradient checks


def test_max_pool2d_double_backward_gathers_at_the_chosen_positions():
    # gx = scatter(v); d/dv of sum(gx * gx) = 2 * gather(gx) = 2 * v for disjoint windows
    x = Tensor(distinct((1, 2, 6, 6)), requires_grad=True)
    y = F.max_pool2d(x, 2)
    v = Tensor(np.random.default_rng(0).standard_normal(y.shape), requires_grad=True)
    (gx,) = grad(y, [x], grad_outputs=[v], create_graph=True)
    (gv,) = grad((gx * gx).sum(), [v])
    np.testing.assert_allclose(gv.data, 2 * v.data)


def test_max_pool2d_gradient_is_constant_in_the_input():
    # the max is piecewise linear: the gradient for a constant cotangent has no graph
    x = Tensor(distinct((1, 2, 6, 6)), requires_grad=True)
    (gx,) = grad(F.max_pool2d(x, 3, 2, 1).sum(), [x], create_graph=True)
    assert not gx.requires_grad


# ------------------------------------------------------------------ ties and zero windows
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_max_pool_2x2_tree_picks_what_the_scan_picks_for_every_window(dtype):
    # The 2x2 stride-2 kernel reduces a window as a tree; every window over {0, 1, 2} (all
    # tie patterns), plus NaN windows for floats, must get the scan's maximum and offset.
    import itertools

    from tinygrad_cnn.ops.geometry import WindowGeometry
    from tinygrad_cnn.ops.pool_windows import (
        _max_pool_scan,
        _pairs_of_pairs,
        max_pool_forward,
        pad_for_windows,
        window_view,
    )

    patterns = list(itertools.product([0, 1, 2], repeat=4))
    if dtype != np.int32:
        patterns += [(np.nan, 1, 2, 0), (1, np.nan, np.nan, 2), (2, 2, 1, np.nan)]
    windows = np.array(patterns, dtype=np.float64).astype(dtype).reshape(-1, 2, 2)
    # the windows side by side in one (1, 1, 2, 2 * count + 1) plane (an odd last column,
    # which floor mode leaves out)
    plane = windows.transpose(1, 0, 2).reshape(2, -1)
    plane = np.concatenate([plane, np.zeros((2, 1), dtype)], axis=1)[None, None]
    width = plane.shape[-1]
    geometry = WindowGeometry((2, width), (1, width // 2), (2, 2), (2, 2), ((0, 0), (0, 0)),
                              (1, 1))
    assert _pairs_of_pairs(geometry)
    best, index = max_pool_forward(plane, geometry)
    scan_best, scan_index = _max_pool_scan(window_view(pad_for_windows(plane, geometry),
                                                       geometry), geometry, True)
    np.testing.assert_array_equal(best, scan_best)
    nan = np.isnan(best) if dtype != np.int32 else np.zeros(best.shape, bool)
    np.testing.assert_array_equal(index[~nan], scan_index[~nan])
    if dtype != np.int32:  # a window holding NaN: its last NaN, as PyTorch's scan
        assert nan[0, 0, 0, -3:].all() and list(index[0, 0, 0, -3:]) == [0, 2, 3]


def test_max_pool2d_tie_sends_the_gradient_to_the_first_element_only():
    x = Tensor(np.ones((1, 1, 2, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool2d_tie_in_overlapping_windows_accumulates_on_each_first_element():
    x = Tensor(np.array([[[[1.0, 3.0, 3.0, 3.0]]]]), requires_grad=True)
    F.max_pool2d(x, (1, 2), 1).sum().backward()  # windows (1,3) (3,3) (3,3)
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 2, 1, 0]])


def test_max_pool2d_window_entirely_in_padding_gives_minus_inf_and_no_gradient():
    # width 1, padding 1, dilation 2: the one window reads the left and the right padding
    x = Tensor(np.array([[[[-1.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, (1, 2), 1, (0, 1), (1, 2))
    assert y.item() == -np.inf
    y.sum().backward()
    assert x.grad.item() == 0


def test_max_pool2d_infinite_gradient_stays_on_the_chosen_element():
    # masking by multiplication would turn inf * 0 into NaN on the other elements
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    g = np.ones((1, 1, 2, 2))
    g[0, 0, 0, 0] = np.inf
    F.max_pool2d(x, 2).backward(g)
    assert x.grad[0, 0, 1, 1] == np.inf
    assert not np.isnan(x.grad).any() and np.count_nonzero(x.grad) == 4


def test_max_pool2d_padding_counts_as_minus_infinity():
    x = Tensor(-np.ones((1, 1, 3, 3)) - np.arange(9).reshape(1, 1, 3, 3), requires_grad=True)
    y = F.max_pool2d(x, 3, 1, 1)
    assert (y.data < 0).all()  # zero padding would have made border windows 0
    y.sum().backward()
    assert x.grad.sum() == y.numel()  # every window's gradient lands inside the input


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_lp_pool2d_all_zero_window_has_zero_value_and_zero_gradient(p):
    data = np.ones((1, 1, 4, 4))
    data[:, :, :2, :2] = 0.0  # the top-left 2x2 window is all zero
    x = Tensor(data, requires_grad=True)
    y = F.lp_pool2d(x, p, 2)
    assert y.data[0, 0, 0, 0] == 0
    (gx,) = grad(y.sum(), [x], create_graph=True)
    assert np.isfinite(gx.data).all()
    np.testing.assert_array_equal(gx.data[0, 0, :2, :2], 0)
    (ggx,) = grad((gx * gx).sum(), [x])
    assert np.isfinite(ggx.data).all()


def test_lp_pool2d_norm_2_is_root_of_sum_of_squares():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y = F.lp_pool2d(Tensor(x), 2, 2)
    expected = np.sqrt((x.reshape(2, 2, 2, 2) ** 2).sum(axis=(1, 3)))
    np.testing.assert_allclose(y.data[0, 0], expected)


def test_lp_pool2d_ceil_mode_partial_window_sums_what_it_covers():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    y = F.lp_pool2d(Tensor(x), 2, 2, ceil_mode=True)
    assert y.shape == (1, 1, 2, 2)
    assert y.data[0, 0, 1, 1] == pytest.approx(9.0)  # the corner window holds only 9
    assert y.data[0, 0, 0, 1] == pytest.approx(np.sqrt(3.0**2 + 6.0**2))


# ------------------------------------------------------------------ shapes and dtypes


@pytest.mark.parametrize("op", ["max", "avg", "lp"])
def test_unbatched_chw_input_equals_the_batched_result(op):
    fns = {"max": lambda t: F.max_pool2d(t, 3, 2, 1), "avg": lambda t: F.avg_pool2d(t, 3, 2, 1),
           "lp": lambda t: F.lp_pool2d(t, 2, 3, 2)}
    x = distinct((3, 7, 7), low=0.1)
    np.testing.assert_array_equal(fns[op](Tensor(x)).data, fns[op](Tensor(x[None])).data[0])


def test_max_pool2d_2x2_stride_2_on_even_input_matches_reshape_max():
    x = np.random.default_rng(3).standard_normal((4, 3, 8, 6)).astype(np.float32)
    expected = x.reshape(4, 3, 4, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(F.max_pool2d(Tensor(x), 2).data, expected)


def test_max_pool2d_accepts_integer_input():
    x = Tensor(np.arange(16).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).data[0, 0], [[5, 7], [13, 15]])


def test_max_pool2d_propagates_nan():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    assert np.isnan(F.max_pool2d(Tensor(x), 2).item())


@pytest.mark.parametrize("window, chosen", [
    ([1.0, np.nan, 0.0, 2.0], 1),           # a NaN beats a larger later value
    ([np.nan, 1.0, np.nan, 0.0], 2),        # several NaNs: the last one, as PyTorch
    ([np.nan, 5.0, -np.inf, 0.0], 0),
])
def test_max_pool2d_nan_takes_the_gradient_as_pytorch(window, chosen):
    x = Tensor(np.array(window).reshape(1, 1, 2, 2), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), np.eye(4)[chosen])


def test_max_pool2d_nan_in_one_window_leaves_the_others_alone():
    x = np.array([[1.0, 4.0, 2.0, 0.0], [np.nan, 3.0, 5.0, 1.0]]).reshape(1, 1, 2, 4)
    t = Tensor(x, requires_grad=True)
    F.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(t.grad[0, 0], [[0, 0, 0, 0], [1, 0, 1, 0]])


def test_pooling_under_no_grad_records_no_graph():
    x = Tensor(distinct((1, 1, 4, 4)), requires_grad=True)
    with no_grad():
        y = F.max_pool2d(x, 2)
    assert y.grad_fn is None and not y.requires_grad


def test_empty_batch_gives_empty_output():
    assert F.max_pool2d(Tensor(np.zeros((0, 2, 4, 4))), 2).shape == (0, 2, 2, 2)


# ------------------------------------------------------------------ argument errors
X = Tensor(np.zeros((1, 1, 5, 5)))


@pytest.mark.parametrize("call,error,words", [
    (lambda: F.max_pool2d(X, 3, padding=2), ValueError, ["max_pool2d", "padding", "half"]),
    (lambda: F.avg_pool2d(X, 2, padding=(0, 2)), ValueError, ["avg_pool2d", "padding", "half"]),
    (lambda: F.max_pool2d(X, 0), ValueError, ["max_pool2d", "kernel_size"]),
    (lambda: F.max_pool2d(X, 2, stride=0), ValueError, ["max_pool2d", "stride"]),
    (lambda: F.max_pool2d(X, 2, dilation=0), ValueError, ["max_pool2d", "dilation"]),
    (lambda: F.max_pool2d(X, 2, padding=-1), ValueError, ["max_pool2d", "padding"]),
    (lambda: F.max_pool2d(X, 6), ValueError, ["max_pool2d", "too small", "(1, 1, 5, 5)"]),
    (lambda: F.max_pool2d(X, 3, dilation=3), ValueError, ["max_pool2d", "too small"]),
    (lambda: F.max_pool2d(X, 2.0), TypeError, ["max_pool2d", "kernel_size"]),
    (lambda: F.max_pool2d(X, (2, 2, 2)), TypeError, ["max_pool2d", "kernel_size"]),
    (lambda: F.max_pool2d(X, 2, ceil_mode="yes"), TypeError, ["max_pool2d", "ceil_mode"]),
    (lambda: F.max_pool2d(Tensor(np.zeros((5, 5))), 2), ValueError, ["max_pool2d", "(5, 5)"]),
    (lambda: F.max_pool2d(Tensor(np.zeros((1, 0, 4, 4))), 2), ValueError, ["max_pool2d",
                                                                            "empty"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2), TypeError, ["max_pool2d", "Tensor"]),
    (lambda: F.avg_pool2d(Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2), TypeError,
     ["avg_pool2d", "int64"]),
    (lambda: F.avg_pool2d(X, 2, count_include_pad=None), TypeError, ["count_include_pad"]),
    (lambda: F.lp_pool2d(X, 0, 2), ValueError, ["lp_pool2d", "norm_type"]),
    (lambda: F.lp_pool2d(X, "2", 2), TypeError, ["lp_pool2d", "norm_type"]),
    (lambda: F.lp_pool2d(X, float("inf"), 2), ValueError, ["lp_pool2d", "norm_type"]),
])
def test_bad_arguments_raise_a_clear_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
