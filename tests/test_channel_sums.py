"""Sums and means over every axis but 1 (bias gradients, batch statistics) take a matrix-vector
path (``ops.reduce._channel_sums``); it must give numpy's values, dtype, shape and
non-finite results, and leave the gradient as it was."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_cnn.ops import reduce as reduce_ops


@pytest.mark.parametrize("shape", [(64, 32, 28, 28), (8, 5, 4096), (4, 3, 16, 16, 16)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keepdim", [False, True])
def test_channel_sums_as_numpy(shape, dtype, keepdim):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) + 3.0).astype(dtype)
    axes = (0,) + tuple(range(2, len(shape)))
    assert reduce_ops._is_channel_sum(x, axes)           # the fast path is the one tested
    ours = tg.Tensor(x).sum(dim=axes, keepdim=keepdim).numpy()
    exact = x.astype(np.float64).sum(axis=axes, keepdims=keepdim)
    assert ours.dtype == dtype and ours.shape == exact.shape
    tolerance = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(ours, exact, rtol=tolerance, atol=tolerance * np.abs(x).sum()
                               / x.shape[1] / 100)
    # at least as close to the exact sums as numpy's own float32 reduction, within 2x
    numpy_error = np.abs(x.sum(axis=axes, keepdims=keepdim) - exact).max()
    assert np.abs(ours - exact).max() <= 2 * numpy_error + tolerance * np.abs(exact).max()
    mean = tg.Tensor(x).mean(dim=axes, keepdim=keepdim).numpy()
    assert mean.dtype == dtype and mean.shape == exact.shape
    np.testing.assert_allclose(mean, exact / (x.size // x.shape[1]), rtol=tolerance,
                               atol=tolerance * np.abs(x).max())


def test_channel_sums_non_finite_as_numpy():
    x = np.ones((16, 4, 32, 32), np.float32)
    x[3, 0, 5, 7] = np.inf
    x[2, 1, 0, 0], x[9, 1, 3, 3] = np.inf, -np.inf
    x[0, 2, 1, 1] = np.nan
    ours = tg.Tensor(x).sum(dim=(0, 2, 3)).numpy()
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(ours, x.sum(axis=(0, 2, 3)))   # inf, nan, nan, 16384


def test_other_layouts_take_numpy_path_with_same_values():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 8, 16, 16)).astype(np.float32)
    strided = x[:, :, ::2, :]                                     # not contiguous
    assert not reduce_ops._is_channel_sum(strided, (0, 2, 3))
    assert not reduce_ops._is_channel_sum(x.astype(np.float16), (0, 2, 3))
    assert not reduce_ops._is_channel_sum(x, (0, 2))              # not every other axis
    np.testing.assert_allclose(tg.Tensor(strided).sum(dim=(0, 2, 3)).numpy(),
                               strided.sum(axis=(0, 2, 3)), rtol=1e-5)


def test_channel_sums_gradients(monkeypatch):
    monkeypatch.setattr(reduce_ops, "_CHANNEL_SUM_MIN", 1)
    rng = np.random.default_rng(2)
    x = tg.Tensor(rng.standard_normal((3, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda t: t.sum(dim=(0, 2, 3)) * tg.Tensor([1.0, -2.0]), (x,))
    assert gradgradcheck(lambda t: (t.sum(dim=(0, 2, 3), keepdim=True) ** 2), (x,))
    assert gradcheck(lambda t: t.mean(dim=(0, 2, 3)) * tg.Tensor([1.0, -2.0]), (x,))
    assert gradgradcheck(lambda t: (t.mean(dim=(0, 2, 3), keepdim=True) ** 2), (x,))


def test_conv_bias_gradient_is_the_channel_sum():
    rng = np.random.default_rng(3)
    x = tg.Tensor(rng.standard_normal((16, 8, 20, 20)).astype(np.float32))
    conv = tg.nn.Conv2d(8, 12, 3, padding=1)
    grad = rng.standard_normal((16, 12, 20, 20)).astype(np.float32)
    conv(x).backward(tg.Tensor(grad))
    np.testing.assert_allclose(conv.bias.grad.numpy(),
                               grad.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5,
                               atol=1e-4)


@pytest.mark.parametrize("algorithm, shape, out_channels", [
    ("winograd_f2", (8, 6, 14, 14), 10), ("winograd", (8, 6, 13, 11), 10),
    ("im2col", (16, 1, 28, 28), 8)])
@pytest.mark.parametrize("threads", [1, 2])
def test_bias_gradient_summed_by_the_weight_gradient_kernel(monkeypatch, algorithm, shape,
                                                            out_channels, threads):
    """The Winograd kernels, and im2col's with the forward's columns (a row of ones under
    them), sum the output gradient per channel on the way: no separate pass, same values."""
    def no_pass(x):
        raise AssertionError("a separate pass over the output gradient")
    monkeypatch.setattr(reduce_ops, "_channel_sums", no_pass)
    monkeypatch.setattr(reduce_ops, "_CHANNEL_SUM_MIN", 1)
    rng = np.random.default_rng(4)
    x = tg.Tensor(rng.standard_normal(shape).astype(np.float32))
    conv = tg.nn.Conv2d(shape[1], out_channels, 3, padding=1)
    grad = rng.standard_normal((shape[0], out_channels) + shape[2:]).astype(np.float32)
    tg.set_num_threads(threads)
    try:
        with tg.backends.conv_algorithm(algorithm):
            conv(x).backward(tg.Tensor(grad))
    finally:
        tg.set_num_threads(1)
    exact = grad.astype(np.float64).sum(axis=(0, 2, 3))
    np.testing.assert_allclose(conv.bias.grad.numpy(), exact, rtol=1e-5, atol=1e-4)
    assert conv.bias.grad.dtype == np.float32


@pytest.mark.parametrize("algorithm", ["winograd_f2", "im2col"])
def test_bias_gradient_same_bits_at_one_and_two_threads(algorithm):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 1 if algorithm == "im2col" else 8, 20, 20)).astype(np.float32)
    grad = rng.standard_normal((16, 12, 20, 20)).astype(np.float32)
    results = []
    for threads in (1, 2):
        tg.manual_seed(0)
        conv = tg.nn.Conv2d(x.shape[1], 12, 3, padding=1)
        tg.set_num_threads(threads)
        try:
            with tg.backends.conv_algorithm(algorithm):
                conv(tg.Tensor(x)).backward(tg.Tensor(grad))
        finally:
            tg.set_num_threads(1)
        results.append((conv.bias.grad.numpy(), conv.weight.grad.numpy()))
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_bias_gradient_differentiable_with_create_graph():
    rng = np.random.default_rng(6)
    x = tg.Tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(4), requires_grad=True)
    with tg.backends.conv_algorithm("winograd_f2"):
        assert gradgradcheck(lambda x, w, b: tg.nn.functional.conv2d(x, w, b, padding=1),
                             (x, w, b))
