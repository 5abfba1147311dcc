"""Generic tests of every (op, sample) pair of ``op_registry``: forward against the numpy
reference, float64 gradcheck and gradgradcheck, float32 in -> float32 out, random broadcast
shapes (hypothesis), PyTorch values and gradients when present; and every error input: the
exception type, and a message that starts with the op's name."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_registry import (
    AVOID_MARGIN,
    BY_NAME,
    CASES,
    ERROR_CASES,
    OPS,
    WITHOUT_INVALID_INPUT,
)

import tinygrad_cnn as tg
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_cnn.testing import check_op

IDS = [f"{info.name}-{sample!r}" for info, sample in CASES]


def _array(value):
    """The numpy array of a gradient (a Tensor or an array)."""
    return value._data if isinstance(value, tg.Tensor) else np.asarray(value)


def _inputs(info, sample, seed=0, shapes=None, dtype=np.float64):
    arrays = info.inputs(sample, seed, dtype, shapes)
    return [tg.Tensor(a, requires_grad=True) for a in arrays]


def _bound(function, sample):
    return lambda *tensors: function(*tensors, **sample.kwargs)


def test_the_registry_runs_at_least_this_many_op_sample_pairs():
    # 48 (op, sample) pairs before the CNN ops joined the registry
    print(f"op_registry: {len(OPS)} ops, {len(CASES)} (op, sample) pairs, "
          f"{len(ERROR_CASES)} error inputs")
    assert len(CASES) >= 120 and len(ERROR_CASES) >= 80


@pytest.mark.parametrize("info, sample", CASES, ids=IDS)
def test_forward_matches_numpy_reference(info, sample):
    inputs = _inputs(info, sample)
    result = info.op(*inputs, **sample.kwargs)
    expected = info.reference(*[t._data for t in inputs], **sample.kwargs)
    np.testing.assert_allclose(result._data, expected, rtol=1e-6, atol=1e-6)
    assert result.dtype == np.float64


@pytest.mark.parametrize("info, sample", CASES, ids=IDS)
def test_gradcheck_float64(info, sample):
    assert gradcheck(_bound(info.op, sample), _inputs(info, sample, seed=1),
                     **info.grad_options)


@pytest.mark.parametrize("info, sample", CASES, ids=IDS)
def test_gradgradcheck_float64(info, sample):
    assert gradgradcheck(_bound(info.op, sample), _inputs(info, sample, seed=2),
                         **info.grad_options)


@pytest.mark.parametrize("info, sample", CASES, ids=IDS)
def test_float32_stays_float32(info, sample):
    inputs = _inputs(info, sample, seed=3, dtype=np.float32)
    result = info.op(*inputs, **sample.kwargs)
    assert result.dtype == np.float32
    result.sum().backward()
    for tensor in inputs:
        assert tensor.grad.dtype == np.float32 and tensor.grad.shape == tensor.shape


@pytest.mark.parametrize("info, error", ERROR_CASES,
                         ids=[f"{info.name}-{error.match[:40]}" for info, error in ERROR_CASES])
def test_bad_input_raises_the_right_error_naming_the_op(info, error):
    tensors = [tg.Tensor(np.ones(shape)) for shape in error.shapes]
    with pytest.raises(error.error, match=error.match) as raised:
        (error.call or info.op)(*tensors, **error.kwargs)
    name = info.error_name or info.name
    assert re.match(rf"{re.escape(name)}\b", str(raised.value)), str(raised.value)


def test_every_op_but_the_argument_free_ones_has_an_error_input():
    without = {info.name for info in OPS if not info.errors()}
    assert without == WITHOUT_INVALID_INPUT


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
    inputs = _inputs(info, info.samples()[0], seed, shapes)
    result = info.op(*inputs)
    np.testing.assert_allclose(result._data, info.reference(*[t._data for t in inputs]),
                               rtol=1e-6, atol=1e-6)
    assert gradcheck(info.op, inputs)
    result.sum().backward()
    for tensor in inputs:
        assert tensor.grad.shape == tensor.shape


TORCH_CASES = [(info, sample) for info, sample in CASES
               if info.torch_op is not None and sample.torch]


@pytest.mark.torch
@pytest.mark.parametrize("info, sample", TORCH_CASES,
                         ids=[f"{info.name}-{sample!r}" for info, sample in TORCH_CASES])
def test_values_and_gradients_match_pytorch(info, sample):
    torch = pytest.importorskip("torch")
    arrays = info.inputs(sample, seed=4)
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    result = info.op(*ours, **sample.kwargs)
    expected = info.torch_op(*theirs, **sample.kwargs)
    np.testing.assert_allclose(result._data, expected.detach().numpy(), rtol=1e-7, atol=1e-9)
    seed = np.random.default_rng(5).standard_normal(result.shape)
    result.backward(seed)
    expected.backward(torch.tensor(seed))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(_array(mine.grad), reference.grad.numpy(), rtol=1e-6,
                                   atol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("info, sample", TORCH_CASES,
                         ids=[f"{info.name}-{sample!r}" for info, sample in TORCH_CASES])
def test_float32_values_and_gradients_match_pytorch(info, sample):
    torch = pytest.importorskip("torch")
    arrays = info.inputs(sample, seed=6, dtype=np.float32)
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    result = info.op(*ours, **sample.kwargs)
    expected = info.torch_op(*theirs, **sample.kwargs)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result._data, expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    seed = np.random.default_rng(7).standard_normal(result.shape).astype(np.float32)
    result.backward(seed)
    expected.backward(torch.tensor(seed))
    for mine, reference in zip(ours, theirs):
        assert _array(mine.grad).dtype == np.float32
        np.testing.assert_allclose(_array(mine.grad), reference.grad.numpy(), rtol=1e-3,
                                   atol=1e-3)


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
    np.testing.assert_array_equal(_array(x.grad), [3.0, 0.0, 1.0])


def test_max_tie_splits_the_gradient_evenly():
    x = tg.Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(_array(x.grad), [0.0, 0.5, 0.5])


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
                 "mse_loss", "cross_entropy", "nll_loss_sum", "leaky_relu", "conv2d",
                 "conv1d", "conv_transpose2d", "unfold", "fold", "max_pool2d", "avg_pool2d",
                 "lp_pool2d", "pad", "interpolate", "batch_norm", "dropout"):
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


FIRST_SAMPLES = [(info, info.samples()[0]) for info in OPS]


@pytest.mark.parametrize("info, sample", FIRST_SAMPLES,
                         ids=[info.name for info, _ in FIRST_SAMPLES])
def test_every_op_through_the_public_check_op_harness_with_its_sample(info, sample):
    # The same sample, through the users' harness: one input generator (make_inputs) for
    # both, so check_op sees exactly the inputs the registry tests use.
    check_op(info.op, info.reference, shapes=(list(sample.shapes), sample.kwargs),
             elements=(info.low, info.high), avoid=info.away_from, avoid_margin=AVOID_MARGIN,
             max_examples=1, **info.grad_options)
