"""Pooling, pad and interpolate against PyTorch (skipped where torch is not installed)."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn.tensor import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch


def both(ours, theirs, x, seed=1, dtype=np.float64):
    """Values and input gradients (for one random output gradient) of both libraries."""
    x = x.astype(dtype)
    t = Tensor(x, requires_grad=True)
    y = ours(t)
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.tensor(g))
    return (y.data, t.grad), (yt.detach().numpy(), xt.grad.numpy())


def assert_same(pair, rtol=1e-10, atol=1e-12):
    (y, gx), (y_t, gx_t) = pair
    assert y.shape == y_t.shape
    np.testing.assert_allclose(y, y_t, rtol=rtol, atol=atol)
    np.testing.assert_allclose(gx, gx_t, rtol=rtol, atol=atol)


def distinct(shape, seed=0):
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.01


SHAPES = [(2, 3, 7, 7), (1, 2, 6, 9), (2, 1, 5, 4)]
MAX_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (2, 2, 0, 1, True), (3, 2, 1, 1, False), (3, 2, 1, 1, True),
    (3, 1, 1, 2, False), ((2, 3), (2, 1), (1, 1), (2, 1), True), (4, 3, 2, 1, True),
    (1, 2, 0, 1, True)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k,s,p,d,ceil_mode", MAX_CASES)
def test_max_pool2d_matches_torch(shape, k, s, p, d, ceil_mode):
    x = distinct(shape)
    assert_same(both(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode),
                     lambda t: TF.max_pool2d(t, k, s, p, d, ceil_mode), x))


def test_max_pool2d_ties_match_torch():
    x = np.round(np.random.default_rng(0).random((2, 2, 6, 6)) * 2)  # many ties
    assert_same(both(lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: TF.max_pool2d(t, 3, 1, 1), x))


def test_max_pool2d_nan_gradients_match_torch():
    x = np.round(np.random.default_rng(0).random((2, 2, 6, 6)) * 2)
    x[np.random.default_rng(1).random(x.shape) < 0.2] = np.nan  # several NaNs per window
    (y, gx), (y_t, gx_t) = both(lambda t: F.max_pool2d(t, 3, 1, 1),
                                lambda t: TF.max_pool2d(t, 3, 1, 1), x)
    np.testing.assert_array_equal(y, y_t)  # NaN compares equal to NaN here
    np.testing.assert_array_equal(gx != 0, gx_t != 0)  # the same elements chosen
    np.testing.assert_allclose(gx, gx_t, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k,s,p,ceil_mode", [
    (2, None, 0, False), (2, 2, 1, True), (3, 2, 1, False), (3, 2, 1, True),
    ((2, 3), (3, 1), (1, 1), True), (4, 3, 2, True), (3, 3, 1, True)])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(shape, k, s, p, ceil_mode, count_include_pad):
    x = np.random.default_rng(0).standard_normal(shape)
    assert_same(both(lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad),
                     lambda t: TF.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad), x))


@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
@pytest.mark.parametrize("k,s", [(2, None), (3, 2), ((2, 3), 1)])
def test_lp_pool2d_without_ceil_mode_matches_torch(p, k, s):
    x = np.random.default_rng(0).random((2, 3, 7, 7)) + 0.1
    assert_same(both(lambda t: F.lp_pool2d(t, p, k, s), lambda t: TF.lp_pool2d(t, p, k, s), x),
                rtol=1e-9)


def test_lp_pool2d_ceil_mode_differs_from_torch_only_on_partial_windows():
    x = np.random.default_rng(0).random((1, 2, 5, 5)) + 0.1
    ours = F.lp_pool2d(Tensor(x), 2, 2, ceil_mode=True).data
    theirs = TF.lp_pool2d(torch.tensor(x), 2, 2, ceil_mode=True).numpy()
    np.testing.assert_allclose(ours[..., :2, :2], theirs[..., :2, :2])
    # the last row/column of windows covers 2 of 4 elements (1 in the corner): PyTorch
    # scales their sum by 4/count, so it is sqrt(4/count) times ours
    np.testing.assert_allclose(theirs[..., :2, 2], ours[..., :2, 2] * np.sqrt(2))
    np.testing.assert_allclose(theirs[..., 2, 2], ours[..., 2, 2] * 2)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_float32_pooling_matches_torch(op):
    x = np.random.default_rng(0).standard_normal((4, 8, 28, 28)).astype(np.float32)
    ours = {"max": lambda t: F.max_pool2d(t, 2), "avg": lambda t: F.avg_pool2d(t, 3, 2, 1)}[op]
    theirs = {"max": lambda t: TF.max_pool2d(t, 2), "avg": lambda t: TF.avg_pool2d(t, 3, 2, 1)}[op]
    assert_same(both(ours, theirs, x, dtype=np.float32), rtol=1e-5, atol=1e-6)


def test_pad_matches_torch_with_reversed_width_order():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    # numpy order: first axis first; torch.nn.functional.pad: last axis first
    assert_same(both(lambda t: F.pad(t, ((0, 0), (1, 0), (2, 1), (0, 3)), value=1.5),
                     lambda t: TF.pad(t, (0, 3, 2, 1, 1, 0), value=1.5), x))


@pytest.mark.parametrize("scale", [2, (1, 3), (2, 2)])
def test_interpolate_nearest_matches_torch(scale):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert_same(both(lambda t: F.interpolate(t, scale),
                     lambda t: TF.interpolate(t, scale_factor=scale, mode="nearest"), x))


def test_interpolate_nearest_1d_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    assert_same(both(lambda t: F.interpolate(t, 3),
                     lambda t: TF.interpolate(t, scale_factor=3, mode="nearest"), x))
