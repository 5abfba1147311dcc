"""Gradients masked to zero stay zero whatever they were: an inf or NaN gradient where ReLU's
output is 0, outside ``where``'s condition or outside ``clamp``'s range gives 0, as PyTorch's
``threshold_backward`` and ``where`` do (a float ``grad * mask`` would give ``inf * 0 = NaN``).
Checked against the values PyTorch gives (spelled out here; ``test_edge_gradients.py`` runs
PyTorch itself), first order and with ``create_graph``, and ``ops.bits.masked`` itself."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.ops.bits import bits, masked, unsigned

NAN, INF = float("nan"), float("inf")
INCOMING = [INF, -INF, NAN, -0.0, 2.5]


def same_bits(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    kind = unsigned(actual.dtype.itemsize)
    np.testing.assert_array_equal(actual.view(kind), expected.view(kind))


def gradient_of(op, x, incoming, create_graph, dtype=np.float32):
    t = tg.tensor(np.array(x, dtype), requires_grad=True)
    (g,) = tg.autograd.grad(op(t), t, tg.tensor(np.array(incoming, dtype)),
                            create_graph=create_graph)
    return g.detach().numpy()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_zeroes_any_gradient_where_its_output_is_zero(create_graph, dtype):
    x = [-1.0, 0.0, -0.0, -INF, NAN]
    for incoming in INCOMING:
        expected = np.array([0.0, 0.0, 0.0, 0.0, incoming], dtype)   # NaN output: passes
        same_bits(gradient_of(F.relu, x, [incoming] * 5, create_graph, dtype), expected)
    positive = gradient_of(F.relu, [1.0, INF], [NAN, -0.0], create_graph, dtype)
    same_bits(positive, np.array([NAN, -0.0], dtype))


def test_relu_backward_in_place_keeps_the_bits_of_the_gradient_it_passes():
    x = tg.tensor(np.array([[3.0, -3.0], [0.5, 0.0]], np.float32), requires_grad=True)
    (F.relu(x) * 1.0).backward(tg.tensor(np.array([[-0.0, INF], [NAN, NAN]], np.float32)))
    same_bits(x.grad.numpy(), np.array([[-0.0, 0.0], [NAN, 0.0]], np.float32))


@pytest.mark.parametrize("create_graph", [False, True])
def test_where_and_clamp_zero_the_gradient_outside_their_branch(create_graph):
    condition = tg.tensor(np.array([True, False, True]))
    a = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    b = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    incoming = tg.tensor(np.array([INF, NAN, -0.0], np.float32))
    ga, gb = tg.autograd.grad(tg.where(condition, a, b), (a, b), incoming,
                              create_graph=create_graph)
    same_bits(ga.detach().numpy(), np.array([INF, 0.0, -0.0], np.float32))
    same_bits(gb.detach().numpy(), np.array([0.0, NAN, 0.0], np.float32))
    clamped = gradient_of(lambda t: tg.clamp(t, -1.0, 1.0), [-2.0, 0.5, 3.0], [INF] * 3,
                          create_graph)
    same_bits(clamped, np.array([0.0, INF, 0.0], np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.complex64,
                                   np.complex128, np.int64, np.int8, np.bool_])
def test_masked_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((3, 4)) * 5).astype(dtype)
    if np.dtype(dtype).kind in "fc":
        values.flat[:4] = [NAN, INF, -INF, -0.0]
    mask = rng.random((3, 4)) < 0.5
    expected = np.where(mask, values, np.zeros((), dtype))
    same_bits(masked(values, mask), expected)
    column = mask[:, :1]                                  # broadcast against the values
    same_bits(masked(values, column), np.where(column, values, np.zeros((), dtype)))
    out = values.copy()
    assert masked(out, mask, out=out) is out
    same_bits(out, expected)
    assert (bits(values) is None) == (np.dtype(dtype).itemsize == 16)
