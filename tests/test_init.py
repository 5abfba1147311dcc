"""``nn.init`` against ``torch.nn.init``: fans and gains equal, the deterministic fills equal,
the random ones drawn from the right distribution (moments, bounds, a Kolmogorov-Smirnov
test), in place, seeded by ``manual_seed``."""

import math

import numpy as np
import pytest
from scipy import stats

import tinygrad_cnn as tg
from tinygrad_cnn.nn import init

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SHAPES = [(64, 32), (32, 16, 3, 3), (8, 4, 5), (16, 8, 2, 2, 2)]


def _empty(shape):
    return tg.Tensor(np.zeros(shape, dtype=np.float64))


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_pytorch(shape):
    assert init.calculate_fan_in_and_fan_out(_empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_gains_match_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_rejects_what_pytorch_rejects():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        init.calculate_gain("leaky_relu", True)


# The distribution each initialiser should draw from, given the tensor's fans.
def _uniform(bound):
    return stats.uniform(-bound, 2 * bound)


DISTRIBUTIONS = [  # name, kwargs, the scipy distribution for (fan_in, fan_out)
    ("uniform_", dict(a=-0.5, b=2.0), lambda fi, fo: stats.uniform(-0.5, 2.5)),
    ("normal_", dict(mean=1.0, std=0.3), lambda fi, fo: stats.norm(1.0, 0.3)),
    ("trunc_normal_", dict(mean=0.5, std=1.0, a=-1.0, b=1.5),
     lambda fi, fo: stats.truncnorm(-1.5, 1.0, loc=0.5, scale=1.0)),
    ("xavier_uniform_", dict(gain=2.0), lambda fi, fo: _uniform(2 * math.sqrt(6 / (fi + fo)))),
    ("xavier_normal_", {}, lambda fi, fo: stats.norm(0, math.sqrt(2 / (fi + fo)))),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), lambda fi, fo: _uniform(1 / math.sqrt(fi))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"),
     lambda fi, fo: _uniform(math.sqrt(2) * math.sqrt(3 / fo))),
    ("kaiming_normal_", dict(nonlinearity="relu"),
     lambda fi, fo: stats.norm(0, math.sqrt(2) / math.sqrt(fi))),
    ("kaiming_normal_", dict(a=0.1, mode="fan_out"),
     lambda fi, fo: stats.norm(0, math.sqrt(2 / 1.01) / math.sqrt(fo))),
]


@pytest.mark.parametrize("name, kwargs, distribution", DISTRIBUTIONS,
                         ids=[f"{d[0]}-{k}" for k, d in enumerate(DISTRIBUTIONS)])
def test_random_initialisers_draw_from_their_distribution(name, kwargs, distribution):
    tg.manual_seed(0)
    tensor = _empty((128, 64, 3))
    array = tensor._data
    assert getattr(init, name)(tensor, **kwargs) is tensor and tensor._data is array
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(tensor)
    expected = distribution(fan_in, fan_out)
    values = array.ravel()
    assert stats.kstest(values, expected.cdf).pvalue > 1e-3
    assert values.mean() == pytest.approx(expected.mean(), abs=4 * expected.std() / 150)
    assert values.std() == pytest.approx(expected.std(), rel=0.02)
    low, high = expected.support()
    assert values.min() >= low and values.max() <= high
    # and the same spread as PyTorch's draw
    theirs = getattr(torch.nn.init, name)(torch.empty(128, 64, 3, dtype=torch.float64),
                                          **kwargs)
    assert values.std() == pytest.approx(theirs.std().item(), rel=0.03)


def test_initialisers_are_repeatable_under_manual_seed_and_take_a_generator():
    first, second = _empty((5, 4)), _empty((5, 4))
    tg.manual_seed(3)
    init.kaiming_uniform_(first)
    tg.manual_seed(3)
    init.kaiming_uniform_(second)
    np.testing.assert_array_equal(first._data, second._data)
    a, b = _empty((5, 4)), _empty((5, 4))
    init.normal_(a, generator=np.random.default_rng(1))
    init.normal_(b, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("name, args, shape", [
    ("eye_", (), (3, 5)), ("eye_", (), (4, 2)), ("dirac_", (), (4, 3, 3)),
    ("dirac_", (), (2, 3, 3, 3)), ("dirac_", (2,), (4, 2, 3, 3)), ("dirac_", (), (3, 2, 1, 3, 3)),
    ("constant_", (0.25,), (2, 3)), ("ones_", (), (2, 3)), ("zeros_", (), (2, 3))])
def test_deterministic_fills_equal_pytorchs(name, args, shape):
    ours = getattr(init, name)(_empty(shape) + 7.0, *args)
    theirs = getattr(torch.nn.init, name)(torch.full(shape, 7.0, dtype=torch.float64), *args)
    np.testing.assert_array_equal(ours._data, theirs.numpy())


def test_dirac_weight_makes_a_convolution_the_identity():
    weight = init.dirac_(_empty((3, 3, 3, 3)))
    x = tg.randn(2, 3, 5, 5).double()
    np.testing.assert_allclose(tg.functional.conv2d(x, weight, padding=1)._data, x._data,
                               atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3), (5, 5)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(shape):
    tg.manual_seed(0)
    flat = init.orthogonal_(_empty(shape), gain=2.0)._data.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-10)


def test_sparse_zeroes_the_fraction_of_each_column_as_pytorch():
    tg.manual_seed(0)
    values = init.sparse_(_empty((10, 200)), sparsity=0.3, std=0.5)._data
    theirs = torch.nn.init.sparse_(torch.empty(10, 200, dtype=torch.float64), 0.3, std=0.5)
    np.testing.assert_array_equal((values == 0).sum(0), (theirs == 0).sum(0).numpy())
    assert values[values != 0].std() == pytest.approx(0.5, rel=0.1)


def test_initialisers_reject_bad_tensors_with_pytorchs_exceptions():
    with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions"):
        init.eye_(_empty((2, 2, 2)))
    with pytest.raises(ValueError, match="dirac_: only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(_empty((2, 2)))
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more"):
        init.orthogonal_(_empty((3,)))
    with pytest.raises(ValueError, match="kaiming_normal_: mode 'fan' not supported"):
        init.kaiming_normal_(_empty((2, 2)), mode="fan")
    with pytest.raises(TypeError, match="uniform_: tensor must be a Tensor"):
        init.uniform_(np.zeros(2))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(_empty((0, 3)))


def test_init_records_no_graph_on_a_parameter():
    weight = tg.nn.Parameter(np.zeros((3, 2)))
    init.xavier_uniform_(weight)
    assert weight.grad_fn is None and weight.requires_grad and weight._data.any()
