"""Generic tests of every op in ``op_registry``: forward against numpy, float64 gradcheck and
gradgradcheck, random broadcast shapes (hypothesis), and PyTorch as an oracle when present."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_registry import BY_NAME, OPS

import tinygrad_cnn as tg
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_cnn.testing import check_op

IDS = [info.name for info in OPS]


def _inputs(info, seed=0, shapes=None):
    arrays = info.sample(np.random.default_rng(seed), shapes)
    return [tg.Tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("info", OPS, ids=IDS)
def test_forward_matches_numpy_reference(info):
    inputs = _inputs(info)
    result = info.op(*inputs)
    expected = info.reference(*[t.numpy() for t in inputs])
    np.testing.assert_allclose(result.data, expected, rtol=1e-6, atol=1e-6)
    assert result.dtype == np.float64


@pytest.mark.parametrize("info", OPS, ids=IDS)
def test_gradcheck_float64(info):
    assert gradcheck(info.op, _inputs(info, seed=1))


@pytest.mark.parametrize("info", OPS, ids=IDS)
def test_gradgradcheck_float64(info):
    assert gradgradcheck(info.op, _inputs(info, seed=2))


@pytest.mark.parametrize("info", OPS, ids=IDS)
def test_float32_stays_float32(info):
    arrays = info.sample(np.random.default_rng(3), dtype=np.float32)
    inputs = [tg.Tensor(a, requires_grad=True) for a in arrays]
    result = info.op(*inputs)
    assert result.dtype == np.float32
    result.sum().backward()
    for tensor in inputs:
        assert tensor.grad.dtype == np.float32 and tensor.grad.shape == tensor.shape


BINARY = [info for info in OPS if info.broadcasting]


@st.composite
def broadcast_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=3))
    return shapes.input_shapes


@pytest.mark.parametrize("info", BINARY, ids=[i.name for i in BINARY])
@settings(max_examples=15, deadline=None)
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_broadcasting_values_and_gradients(info, shapes, seed):
    inputs = _inputs(info, seed, shapes)
    result = info.op(*inputs)
    np.testing.assert_allclose(result.data, info.reference(*[t.numpy() for t in inputs]),
                               rtol=1e-6, atol=1e-6)
    assert gradcheck(info.op, inputs)
    result.sum().backward()
    for tensor in inputs:
        assert tensor.grad.shape == tensor.shape


@pytest.mark.torch
@pytest.mark.parametrize("info", [i for i in OPS if i.torch_op is not None],
                         ids=[i.name for i in OPS if i.torch_op is not None])
def test_values_and_gradients_match_pytorch(info):
    torch = pytest.importorskip("torch")
    arrays = info.sample(np.random.default_rng(4))
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    result, expected = info.op(*ours), info.torch_op(*theirs)
    np.testing.assert_allclose(result.data, expected.detach().numpy(), rtol=1e-7, atol=1e-9)
    seed = np.random.default_rng(5).standard_normal(result.shape)
    result.backward(seed)
    expected.backward(torch.tensor(seed))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.torch
def test_hessian_vector_product_of_an_mlp_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 5))
    w1, w2 = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    v1, v2 = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    target = np.array([0, 2, 1, 1, 0, 2, 2, 1])

    W1, W2 = tg.Tensor(w1, requires_grad=True), tg.Tensor(w2, requires_grad=True)
    loss = tg.functional.cross_entropy((tg.Tensor(x) @ W1).tanh() @ W2, target)
    g1, g2 = tg.grad(loss, [W1, W2], create_graph=True)
    dot = (g1 * tg.Tensor(v1)).sum() + (g2 * tg.Tensor(v2)).sum()
    h1, h2 = tg.grad(dot, [W1, W2])

    T1, T2 = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(torch.tanh(torch.tensor(x) @ T1) @ T2,
                                              torch.tensor(target))
    t1, t2 = torch.autograd.grad(tloss, [T1, T2], create_graph=True)
    tdot = (t1 * torch.tensor(v1)).sum() + (t2 * torch.tensor(v2)).sum()
    th1, th2 = torch.autograd.grad(tdot, [T1, T2])
    np.testing.assert_allclose(h1.data, th1.numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(h2.data, th2.numpy(), rtol=1e-6, atol=1e-10)


def test_repeated_integer_indices_accumulate():
    x = tg.Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_max_tie_splits_the_gradient_evenly():
    x = tg.Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])


def test_cross_entropy_is_finite_for_huge_logits():
    logits = tg.Tensor(np.array([[1e4, -1e4, 0.0]]), requires_grad=True)
    loss = tg.functional.cross_entropy(logits, np.array([1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad).all()
    assert loss.shape == ()


def test_sigmoid_is_finite_for_huge_inputs():
    x = tg.Tensor(np.array([-1e4, 0.0, 1e4]), requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 0.5, 1.0])
    assert np.isfinite(x.grad).all()


def test_registry_covers_the_contract_ops():
    for name in ("add", "sub", "mul", "div", "pow", "matmul", "exp", "log", "sqrt", "abs",
                 "relu", "sigmoid", "tanh", "clip", "sum", "mean", "max", "min", "var",
                 "reshape", "transpose", "permute", "T", "flatten", "squeeze", "unsqueeze",
                 "getitem_basic", "concatenate", "stack", "softmax", "log_softmax", "linear",
                 "mse_loss", "cross_entropy"):
        assert name in BY_NAME


UNARY_ELEMENTWISE = [BY_NAME[name] for name in
                     ("exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "clip", "neg",
                      "pow_scalar", "rpow_scalar", "leaky_relu")]


@pytest.mark.parametrize("info", UNARY_ELEMENTWISE, ids=[i.name for i in UNARY_ELEMENTWISE])
def test_unary_ops_through_the_public_check_op_harness(info):
    # The harness users get (tinygrad_cnn.testing.check_op) runs our own ops too: random
    # shapes, forward against the numpy reference, gradcheck and gradgradcheck.
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4).map(lambda s: [s])
    check_op(info.op, info.reference, shapes=shapes, elements=(info.low, info.high),
             avoid=info.away_from, avoid_margin=0.1, max_examples=8)
