"""Pooling against PyTorch where the generic oracle of ``test_ops.py`` cannot look: ties,
NaN, and the one documented difference (skipped where torch is not installed).  Values and
gradients of every pooling, pad and interpolate sample are compared in ``test_ops.py``."""

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


def test_lp_pool2d_ceil_mode_differs_from_torch_only_on_partial_windows():
    x = np.random.default_rng(0).random((1, 2, 5, 5)) + 0.1
    ours = F.lp_pool2d(Tensor(x), 2, 2, ceil_mode=True).data
    theirs = TF.lp_pool2d(torch.tensor(x), 2, 2, ceil_mode=True).numpy()
    np.testing.assert_allclose(ours[..., :2, :2], theirs[..., :2, :2])
    # the last row/column of windows covers 2 of 4 elements (1 in the corner): PyTorch
    # scales their sum by 4/count, so it is sqrt(4/count) times ours
    np.testing.assert_allclose(theirs[..., :2, 2], ours[..., :2, 2] * np.sqrt(2))
    np.testing.assert_allclose(theirs[..., 2, 2], ours[..., 2, 2] * 2)


