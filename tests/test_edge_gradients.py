"""Behaviour at the edges, against PyTorch as the oracle.

* gradients at the edges of a domain: ``pow`` at ``0**0`` and with a negative base,
  ``abs`` and ``relu`` at NaN;
* empty batches: max/min/argmax along a dim of an empty tensor, BatchNorm training on N=0;
  ``sum(axis=())`` reducing every dim, ``arange`` with a step of the wrong sign;
* the conv ``"auto"`` algorithm never less accurate than im2col (a bright pixel in float32).
"""

import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import backends
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def grad_of(array):
    grad = array.grad
    return np.asarray(grad._data if hasattr(grad, "_data") else grad)


def both(function_ours, function_torch, *values):
    """Values and gradients of a scalar function under both libraries (float64)."""
    ours = [tg.tensor(np.float64(v), requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = function_ours(*ours)
        out.backward()
    expected = function_torch(*theirs)
    expected.backward()
    return ([float(np.asarray(out._data))] + [float(grad_of(t)) for t in ours],
            [expected.item()] + [t.grad.item() for t in theirs])


def same(ours, theirs):
    for mine, reference in zip(ours, theirs, strict=True):
        assert (math.isnan(mine) and math.isnan(reference)) or mine == pytest.approx(
            reference, rel=1e-12, abs=0), (ours, theirs)


@pytest.mark.parametrize("base, exponent", [
    (0.0, 0.0), (0.0, 2.0), (0.0, 0.5), (0.0, 1.0), (0.0, -1.0), (-2.0, 2.0), (-2.0, 3.0),
    (-2.0, 0.5), (-2.0, 0.0), (2.0, 0.0), (3.0, -1.5), (NAN, 0.0), (1.0, NAN),
])
def test_pow_with_a_tensor_exponent_at_the_domain_edges(base, exponent):
    same(*both(lambda a, b: a ** b, lambda a, b: a ** b, base, exponent))


@pytest.mark.parametrize("base", [0.0, -2.0, 2.0])
@pytest.mark.parametrize("exponent", [0.0, 2.0, 0.5])
def test_pow_with_a_number_as_one_side(base, exponent):
    same(*both(lambda a: a ** exponent, lambda a: a ** exponent, base))
    same(*both(lambda b: base ** b, lambda b: base ** b, exponent))


@pytest.mark.parametrize("value", [NAN, 0.0, -0.0, 2.0, -3.0, INF, -INF])
def test_abs_gradient_at_nan_zero_and_infinities(value):
    same(*both(lambda a: a.abs(), lambda a: a.abs(), value))


@pytest.mark.parametrize("value", [NAN, 0.0, 1.5, -1.5, INF, -INF])
def test_relu_passes_nan_gradients_through(value):
    same(*both(lambda a: a.relu(), lambda a: a.relu(), value))
    same(*both(lambda a: F.relu(a), lambda a: torch.nn.functional.relu(a), value))


@pytest.mark.parametrize("incoming", [INF, -INF, NAN, -0.0])
@pytest.mark.parametrize("name", ["relu", "where", "clamp"])
def test_a_non_finite_gradient_outside_the_mask_gives_zero_as_pytorch(name, incoming):
    x = np.array([-1.0, 0.0, 2.0, NAN, -3.0])
    ops = {"relu": (F.relu, torch.relu),
           "where": (lambda t: tg.where(tg.tensor(x > 0), t, 0.0 * t),
                     lambda t: torch.where(torch.tensor(x > 0), t, 0.0 * t)),
           "clamp": (lambda t: tg.clamp(t, -0.5, 1.0), lambda t: torch.clamp(t, -0.5, 1.0))}
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ops[name][0](ours).backward(tg.tensor(np.full(5, incoming)))
    ops[name][1](theirs).backward(torch.full((5,), incoming, dtype=torch.float64))
    expected, got = theirs.grad.numpy(), grad_of(ours)
    np.testing.assert_array_equal(got, expected)          # NaN where PyTorch has NaN
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(expected[numbers]))


def test_edge_gradients_elementwise_on_arrays():
    """The same conventions hold element by element in one broadcast op."""
    base = np.array([0.0, 0.0, -2.0, 2.0, NAN])
    exponent = np.array([[0.0], [2.0], [0.5]])
    ours = [tg.tensor(base, requires_grad=True), tg.tensor(exponent, requires_grad=True)]
    theirs = [torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        (ours[0] ** ours[1]).sum().backward()
    (theirs[0] ** theirs[1]).sum().backward()
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(grad_of(mine), reference.grad.numpy())


# ----------------------------------------------------------------------------- empty batches


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_reducing_along_a_nonempty_dim_of_an_empty_tensor_gives_empty(name):
    empty = np.zeros((0, 4), dtype=np.float32)
    ours = getattr(tg.tensor(empty), name)(1)
    expected = getattr(torch.tensor(empty), name)(1)
    expected = expected[0] if isinstance(expected, tuple) else expected
    values = ours[0] if isinstance(ours, tuple) else ours
    assert tuple(values.shape) == tuple(expected.shape) == (0,)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_reducing_along_an_empty_dim_raises_index_error_as_pytorch(name):
    empty = np.zeros((0, 4), dtype=np.float32)
    with pytest.raises(IndexError):
        getattr(torch.tensor(empty), name)(0)
    with pytest.raises(IndexError, match=name):
        getattr(tg.tensor(empty), name)(0)


def test_max_of_a_whole_empty_tensor_raises_runtime_error_as_pytorch():
    with pytest.raises(RuntimeError):
        torch.zeros(0, 4).max()
    with pytest.raises(RuntimeError, match="max"):
        tg.zeros(0, 4).max()


def test_batchnorm_training_on_an_empty_batch_returns_empty_as_pytorch():
    ours, theirs = tg.nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = tg.zeros(0, 3, 4, 4, requires_grad=True)
    out = ours(x)
    expected = theirs(torch.zeros(0, 3, 4, 4))
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(ours.running_mean._data if hasattr(ours.running_mean, "_data")
                                  else ours.running_mean, theirs.running_mean.numpy())
    out.sum().backward()
    assert grad_of(x).shape == (0, 3, 4, 4)


def test_functional_batch_norm_on_an_empty_batch():
    running_mean, running_var = np.zeros(3, np.float32), np.ones(3, np.float32)
    out = F.batch_norm(tg.zeros(0, 3, 2), running_mean, running_var, training=True)
    assert tuple(out.shape) == (0, 3, 2)
    np.testing.assert_array_equal(running_mean, 0.0)
    np.testing.assert_array_equal(running_var, 1.0)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var"])
def test_an_empty_dim_tuple_reduces_every_dim_as_pytorch(name):
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    ours = getattr(tg.tensor(array), name)(axis=())  # .max is PyTorch's: amax reduces
    expected = getattr(torch.tensor(array), name)(dim=())
    np.testing.assert_allclose(np.asarray(ours._data), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("start, stop, step", [(0, -3, 2), (0, 3, -1), (5, 1, 0.5)])
def test_arange_with_a_step_of_the_wrong_sign_raises_as_pytorch(start, stop, step):
    with pytest.raises(RuntimeError):
        torch.arange(start, stop, step)
    with pytest.raises(RuntimeError, match="arange"):
        tg.arange(start, stop, step)


def test_arange_with_a_zero_step_raises_as_pytorch():
    with pytest.raises(RuntimeError):
        torch.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="arange: step"):
        tg.arange(0, 3, 0)


@pytest.mark.parametrize("start, stop, step", [(3, 3, 1), (0, 0, -1), (2, -3, -2)])
def test_arange_empty_and_descending_ranges_match_pytorch(start, stop, step):
    np.testing.assert_array_equal(np.asarray(tg.arange(start, stop, step)._data),
                                  torch.arange(start, stop, step).numpy())


# ----------------------------------------------------------------------------- conv "auto"


def bright_pixel_case(brightness, dtype=np.float32):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 1.5, (2, 4, 48, 48)).astype(dtype)
    x[0, 1, 10, 12] = brightness
    weight = rng.uniform(-1, 1, (4, 4, 11, 11)).astype(dtype)
    return x, weight


def relative_errors_away_from_the_pixel(x, weight, algorithm):
    truth = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64),
                                       torch.tensor(weight, dtype=torch.float64),
                                       padding=5).numpy()
    with conv_algorithm(algorithm):
        out = np.asarray(F.conv2d(tg.tensor(x), tg.tensor(weight), padding=5)._data)
    far = np.ones(truth.shape, dtype=bool)
    far[0, :, 0:16 + 5, 0:18 + 5] = False  # outputs whose window holds the bright pixel
    return np.abs(out - truth)[far] / np.abs(truth)[far]


@pytest.mark.parametrize("brightness", [1e4, 1e7, 1e12])
def test_auto_is_as_accurate_as_im2col_next_to_a_bright_pixel(brightness):
    """The issue's case: float32 with a large dynamic range. FFT in float32 loses digits
    away from the bright pixel; auto (FFT widened to float64, or im2col when the spread is
    too large for that) must not."""
    x, weight = bright_pixel_case(brightness)
    auto = relative_errors_away_from_the_pixel(x, weight, "auto")
    im2col = relative_errors_away_from_the_pixel(x, weight, "im2col")
    assert np.median(auto) <= max(2 * np.median(im2col), 1e-7)
    assert np.quantile(auto, 0.99) <= max(2 * np.quantile(im2col, 0.99), 1e-6)
    assert auto.max() <= max(2 * im2col.max(), 1e-6)


def test_plain_float32_fft_does_lose_accuracy_there():
    """The reason for the rule: the same case through a float32 FFT is far worse (its
    error follows the bright pixel's magnitude across the whole plane)."""
    x, weight = bright_pixel_case(1e10)
    fft = relative_errors_away_from_the_pixel(x, weight, "fft")
    im2col = relative_errors_away_from_the_pixel(x, weight, "im2col")
    assert np.quantile(fft, 0.99) > 100 * np.quantile(im2col, 0.99)


def test_auto_widens_fft_for_float32_of_moderate_spread_and_keeps_float64_on_im2col():
    x, weight = bright_pixel_case(1.0)
    boxes = ((11, 11), None)
    assert backends.fft_compute_dtype((x, weight), boxes) == np.float64
    assert backends.fft_compute_dtype((x.astype(np.float64), weight.astype(np.float64)),
                                      boxes) is None
    bright, _ = bright_pixel_case(1e12)
    assert backends.fft_compute_dtype((bright, weight), boxes) is None
    with_nan = x.copy()
    with_nan[0, 0, 0, 0] = np.nan
    assert backends.fft_compute_dtype((with_nan, weight), boxes) is None
    zero_border = np.pad(x, ((0, 0), (0, 0), (20, 20), (20, 20)))  # empty windows are fine
    assert backends.fft_compute_dtype((zero_border, weight), boxes) == np.float64


def test_auto_still_picks_fft_for_large_kernels_on_ordinary_float32_data():
    from tinygrad_cnn.nn.functional._windows import conv_geometry
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 64, 64), dtype=np.float32)
    weight = rng.standard_normal((16, 16, 15, 15), dtype=np.float32)
    geometry = conv_geometry("conv2d", x, weight, padding=7)
    assert backends.resolve_conv_algorithm("auto", 8, 16, 16, geometry, (x, weight)) == "fft"
    assert backends.resolve_conv_algorithm(
        "auto", 8, 16, 16, geometry, (x.astype(np.float64), weight.astype(np.float64))
    ) == "im2col"
