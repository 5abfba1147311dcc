"""scatter, scatter_add, index_add and their in-place forms: values and both gradients
against independent loops (hypothesis), the in-place rules (version counter, leaves, views),
and PyTorch's exception types and reduce options.  The generic tests (reference, gradcheck,
gradgradcheck, float32, PyTorch oracle, error messages) run from tests/op_registry.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg


# ------------------------------------------------------------------ loop references
def _targets(index, dim):
    """(position in index, position written in the output) for every element of index."""
    for position in np.ndindex(index.shape):
        target = list(position)
        target[dim] = index[position]
        yield position, tuple(target)


def scatter_loop(x, dim, index, src, accumulate):
    out = x.copy()
    for position, target in _targets(index, dim):
        out[target] = out[target] + src[position] if accumulate else src[position]
    return out


def scatter_grads_loop(grad, x_shape, src_shape, dim, index, accumulate):
    """The gradients of sum(grad * scatter(...)) by the chain rule, element by element."""
    grad_x = grad.copy()
    grad_src = np.zeros(src_shape)
    for position, target in _targets(index, dim):
        grad_src[position] = grad[target]
        if not accumulate:
            grad_x[target] = 0.0
    return grad_x, grad_src


@st.composite
def scatter_case(draw, distinct):
    """A shape, a dim, a src at least as large as the index, and an index whose targets are
    distinct along ``dim`` when ``distinct`` (so scatter's result is defined)."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    limit = shape[axis] if distinct else 5
    index_shape = tuple(draw(st.integers(1, limit if d == axis else size))
                        for d, size in enumerate(shape))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if distinct:   # a random permutation along dim per line, cut to the index's length
        order = np.argsort(rng.random(index_shape[:axis] + (shape[axis],)
                                      + index_shape[axis + 1:]), axis=axis)
        index = np.take(order, np.arange(index_shape[axis]), axis=axis)
    else:
        index = rng.integers(0, shape[axis], index_shape)
    return (rng.standard_normal(shape), dim, index, rng.standard_normal(src_shape),
            rng.standard_normal(shape))


def _check_against_loop(method, x, dim, index, src, grad, accumulate):
    X, S = tg.tensor(x, requires_grad=True), tg.tensor(src, requires_grad=True)
    out = getattr(X, method)(dim, tg.tensor(index), S)
    np.testing.assert_allclose(out.numpy(), scatter_loop(x, dim % x.ndim, index, src,
                                                         accumulate), rtol=1e-12, atol=1e-12)
    out.backward(tg.tensor(grad))
    grad_x, grad_src = scatter_grads_loop(grad, x.shape, src.shape, dim % x.ndim, index,
                                          accumulate)
    np.testing.assert_allclose(X.grad.numpy(), grad_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.grad.numpy(), grad_src, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(case=scatter_case(distinct=True))
def test_scatter_values_and_gradients_match_the_loop(case):
    x, dim, index, src, grad = case
    _check_against_loop("scatter", x, dim, index, src, grad, accumulate=False)


@settings(max_examples=60, deadline=None)
@given(case=scatter_case(distinct=False))
def test_scatter_add_values_and_gradients_match_the_loop(case):
    x, dim, index, src, grad = case
    _check_against_loop("scatter_add", x, dim, index, src, grad, accumulate=True)


@settings(max_examples=60, deadline=None)
@given(ndim=st.integers(1, 3), data=st.data())
def test_index_add_values_and_gradients_match_the_loop(ndim, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    count = data.draw(st.integers(0, 5))
    index = rng.integers(0, shape[axis], count)
    source = rng.standard_normal(shape[:axis] + (count,) + shape[axis + 1:])
    x, grad = rng.standard_normal(shape), rng.standard_normal(shape)
    alpha = data.draw(st.sampled_from([1, -0.5, 2.0]))
    X, S = tg.tensor(x, requires_grad=True), tg.tensor(source, requires_grad=True)
    out = X.index_add(dim, tg.tensor(index), S, alpha=alpha)
    expected = x.copy()
    for k, entry in enumerate(index):
        where = (slice(None),) * axis + (entry,)
        expected[where] += alpha * source[(slice(None),) * axis + (k,)]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    out.backward(tg.tensor(grad))
    np.testing.assert_array_equal(X.grad.numpy(), grad)
    expected_source = np.stack([alpha * grad[(slice(None),) * axis + (entry,)]
                                for entry in index], axis=axis) if count else source * 0
    np.testing.assert_allclose(S.grad.numpy(), expected_source, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ forms and options
def test_scatter_takes_a_number_as_value_positionally_or_by_keyword():
    index = tg.tensor([[0, 2], [1, 1]])
    by_position = tg.zeros(2, 3).scatter(1, index, 2.5)
    by_keyword = tg.zeros(2, 3).scatter(1, index, value=2.5)
    np.testing.assert_array_equal(by_position.numpy(), [[2.5, 0, 2.5], [0, 2.5, 0]])
    np.testing.assert_array_equal(by_keyword.numpy(), by_position.numpy())


def test_the_functions_are_the_methods():
    x, index, src = tg.zeros(3), tg.tensor([2, 0]), tg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(tg.scatter(x, 0, index, src).numpy(), [2, 0, 1])
    np.testing.assert_array_equal(tg.scatter_add(x, 0, index, src).numpy(), [2, 0, 1])
    np.testing.assert_array_equal(tg.index_add(x, 0, index, src, alpha=2).numpy(), [4, 0, 2])


def test_an_empty_index_gives_a_copy():
    x = tg.ones(2, 3)
    out = x.scatter(1, tg.tensor(np.zeros((0,), np.int64)), tg.ones(2, 2))
    assert out is not x and np.array_equal(out.numpy(), x.numpy())


def test_zero_dimensional_tensors_scatter_into_their_one_element():
    out = tg.tensor(1.0).scatter(0, tg.tensor(0), tg.tensor(5.0))
    assert out.shape == () and out.item() == 5.0
    assert tg.tensor(1.0).index_add(0, tg.tensor(0), tg.tensor(2.0)).item() == 3.0


def test_integer_tensors_scatter_and_add():
    x = tg.zeros(3, dtype=tg.int64)
    np.testing.assert_array_equal(x.scatter_add(0, tg.tensor([0, 0]), tg.tensor([1, 2])).numpy(),
                                  [3, 0, 0])
    np.testing.assert_array_equal(x.scatter(0, tg.tensor([1]), 7).numpy(), [0, 7, 0])


# ------------------------------------------------------------------ in place
def test_inplace_forms_change_the_tensor_and_its_views_and_bump_the_version():
    for call in (lambda t: t.scatter_(1, tg.tensor([[1]]), tg.tensor([[5.0]])),
                 lambda t: t.scatter_add_(1, tg.tensor([[1]]), tg.tensor([[5.0]])),
                 lambda t: t.index_add_(1, tg.tensor([1]), tg.tensor([[5.0], [5.0]]))):
        x = tg.zeros(2, 3)
        row = x[0]
        before = x._version
        assert call(x) is x
        assert x[0, 1].item() == 5.0 and row[1].item() == 5.0
        assert x._version > before


def test_inplace_on_a_leaf_that_requires_grad_raises():
    leaf = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="index_add_: a leaf Variable that requires grad"):
        leaf.index_add_(0, tg.tensor([0]), tg.ones(1))
    with tg.no_grad():
        leaf.scatter_(0, tg.tensor([0]), 3.0)
    assert leaf[0].item() == 3.0


def test_inplace_on_a_non_leaf_is_recorded_for_both_gradients():
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    src = tg.tensor(np.array([10.0, 20.0]), requires_grad=True)
    y = x * 2
    y.scatter_(0, tg.tensor([3, 0]), src)
    (y * tg.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 6.0, 0.0])
    np.testing.assert_array_equal(src.grad.numpy(), [4.0, 1.0])


def test_changing_a_tensor_saved_for_backward_raises_at_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()                      # saves its output
    z.scatter_add_(0, tg.tensor([0]), tg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (y * z).sum().backward()


# ------------------------------------------------------------------ against PyTorch
torch_only = pytest.mark.torch


@torch_only
@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("scalar", [False, True])
def test_reduce_matches_pytorch(reduce, scalar):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    index = np.array([[0, 1, 1, 3], [2, 2, 2, 0], [1, 0, 3, 3]])
    value = 1.5 if scalar else None
    ours = tg.tensor(x).scatter(1, tg.tensor(index), value if scalar else tg.tensor(src),
                                reduce=reduce)
    theirs = torch.tensor(x).scatter(1, torch.tensor(index),
                                     value if scalar else torch.tensor(src), reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_reduce_multiply_has_no_derivative_as_pytorchs():
    x = tg.ones(3, requires_grad=True)
    out = (x * 1).scatter(0, tg.tensor([1]), tg.tensor([2.0]), reduce="multiply")
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0, 1.0])
    with pytest.raises(RuntimeError, match="scatter: the derivative of reduce='multiply'"):
        out.sum().backward()


@torch_only
def test_a_src_larger_than_the_index_matches_pytorchs_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    index = np.array([[2, 0, 1], [0, 1, 2]])
    ours = tg.tensor(x).scatter(0, tg.tensor(index), tg.tensor(src))
    theirs = torch.tensor(x).scatter(0, torch.tensor(index), torch.tensor(src))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


BAD_CALLS = {
    "index out of range": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0, 5]]), lib.ones(2, 2)),
    "negative index": lambda lib: lib.zeros(3, 4).scatter_add(
        1, lib.tensor([[0, -1]]), lib.ones(2, 2)),
    "dim out of range": lambda lib: lib.zeros(3, 4).scatter(
        2, lib.tensor([[0, 1]]), lib.ones(2, 2)),
    "float index": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0.0, 1.0]]), lib.ones(2, 2)),
    "index with fewer dims": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([0, 1]), lib.ones(2, 2)),
    "index too large": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0, 1, 1, 1, 1]]), lib.ones(2, 2)),
    "src of another dtype": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0, 1]]), lib.ones(2, 2, dtype=lib.float64)),
    "bad reduce": lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0, 1]]), lib.ones(2, 2), reduce="mean"),
    "index_add out of range": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([0, 3]), lib.ones(2, 4)),
    "index_add 2-D index": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([[0, 2]]), lib.ones(2, 4)),
    "index_add wrong count": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([0, 2]), lib.ones(3, 4)),
    "index_add wrong row shape": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([0, 2]), lib.ones(2, 3)),
    "index_add source dtype": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([0, 2]), lib.ones(2, 4, dtype=lib.float64)),
    "index_add alpha string": lambda lib: lib.zeros(3, 4).index_add(
        0, lib.tensor([0, 2]), lib.ones(2, 4), alpha="a"),
    "scatter_ leaf": lambda lib: lib.zeros(3, requires_grad=True).scatter_(
        0, lib.tensor([0]), lib.ones(1)),
}


@torch_only
@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_input_raises_pytorchs_exception_type(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        BAD_CALLS[name](torch)
    with pytest.raises(type(theirs.value)) as ours:
        BAD_CALLS[name](tg)
    assert str(ours.value).split(":")[0] in ("scatter", "scatter_add", "index_add",
                                             "scatter_"), str(ours.value)
