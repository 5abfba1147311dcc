"""autograd.functional against torch.autograd.functional: values, structure of results,
create_graph, strict, and against an independent numpy reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


# Test functions written once, run with either library's tensors (only operators and
# methods both spell the same way).
def cube_sum(x):
    return (x ** 3).sum()


def mixed(x, y):
    return (x * y).sum() + (x * x * y).sum()


def pair_out(x):
    return x * x, x.sum() * 2.0


def pair_in_pair_out(x, y):
    return x * y, (x ** 2).sum() + y.sum()


def smooth(x):
    return (x.tanh() * x.exp()).sum()


def vector_fn(x):
    return x.tanh() * x.sigmoid()


def as_torch(value):
    return torch.tensor(np.asarray(value))


def arrays(value):
    """Nested tuples of tensors (either library) as nested tuples of numpy arrays."""
    if isinstance(value, (tuple, list)):
        return tuple(arrays(v) for v in value)
    if value is None:
        return None
    if isinstance(value, tg.Tensor):
        return np.asarray(value.numpy())
    if isinstance(value, np.ndarray):
        return value
    return value.detach().numpy()


def assert_same(ours, theirs, rtol=1e-10, atol=1e-12):
    ours, theirs = arrays(ours), arrays(theirs)
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(ours, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, rtol, atol)
        return
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


RNG = np.random.default_rng(0)
X = RNG.standard_normal(3)
Y = RNG.standard_normal(3)
M = RNG.standard_normal((2, 3))


def both(*values):
    values = [np.asarray(v, dtype=np.float64) for v in values]
    return (tuple(tg.Tensor(v) for v in values), tuple(as_torch(v) for v in values))


CASES = [
    ("one in, one out", vector_fn, (X,)),
    ("matrix in", vector_fn, (M,)),
    ("one in, scalar out", smooth, (X,)),
    ("tuple in", mixed, (X, Y)),
    ("tuple out", pair_out, (X,)),
    ("tuple in, tuple out", pair_in_pair_out, (X, Y)),
]


def single_or_tuple(values):
    return values[0] if len(values) == 1 else values


@pytest.mark.parametrize("name, fn, values", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_matches_torch_with_its_structure(name, fn, values, strategy):
    ours, theirs = both(*values)
    vectorize = strategy == "forward-mode"
    assert_same(AF.jacobian(fn, single_or_tuple(ours), vectorize=vectorize, strategy=strategy),
                TF.jacobian(fn, single_or_tuple(theirs), vectorize=vectorize,
                            strategy=strategy))


def test_jacobian_of_a_tuple_of_one_input_is_a_tuple():
    ours, theirs = both(X)
    assert_same(AF.jacobian(vector_fn, ours), TF.jacobian(vector_fn, theirs))


@pytest.mark.parametrize("fn, values", [(cube_sum, (X,)), (smooth, (M,)), (mixed, (X, Y))])
def test_hessian_matches_torch(fn, values):
    ours, theirs = both(*values)
    assert_same(AF.hessian(fn, single_or_tuple(ours)), TF.hessian(fn, single_or_tuple(theirs)))


@pytest.mark.parametrize("fn, values, v", [
    (vector_fn, (X,), (Y,)), (pair_out, (X,), (Y, 1.5)), (mixed, (X, Y), (2.0,)),
    (pair_in_pair_out, (X, Y), (Y, 0.5)),
])
def test_vjp_matches_torch(fn, values, v):
    ours, theirs = both(*values)
    ours_v, theirs_v = both(*v)
    assert_same(AF.vjp(fn, single_or_tuple(ours), single_or_tuple(ours_v)),
                TF.vjp(fn, single_or_tuple(theirs), single_or_tuple(theirs_v)))


@pytest.mark.parametrize("fn, values, v", [
    (vector_fn, (X,), (Y,)), (pair_out, (X,), (Y,)), (mixed, (X, Y), (Y, X)),
    (pair_in_pair_out, (X, Y), (Y, X)),
])
def test_jvp_matches_torch(fn, values, v):
    ours, theirs = both(*values)
    ours_v, theirs_v = both(*v)
    assert_same(AF.jvp(fn, single_or_tuple(ours), single_or_tuple(ours_v)),
                TF.jvp(fn, single_or_tuple(theirs), single_or_tuple(theirs_v)))


@pytest.mark.parametrize("product", ["hvp", "vhp"])
@pytest.mark.parametrize("fn, values, v", [
    (smooth, (X,), (Y,)), (mixed, (X, Y), (Y, X)), (cube_sum, (M,), (M * 2.0,)),
])
def test_hessian_vector_products_match_torch(product, fn, values, v):
    ours, theirs = both(*values)
    ours_v, theirs_v = both(*v)
    assert_same(getattr(AF, product)(fn, single_or_tuple(ours), single_or_tuple(ours_v)),
                getattr(TF, product)(fn, single_or_tuple(theirs), single_or_tuple(theirs_v)))


def test_v_may_be_omitted_for_one_element_arguments():
    one = np.array([0.7])
    ours, theirs = both(one)
    for name in ("vjp", "jvp", "hvp", "vhp"):
        fn = smooth if name in ("hvp", "vhp") else vector_fn
        assert_same(getattr(AF, name)(fn, ours[0]), getattr(TF, name)(fn, theirs[0]))


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_v_is_required_for_larger_arguments(name):
    with pytest.raises(RuntimeError, match="v can only be None"):
        getattr(AF, name)(vector_fn, tg.Tensor(X))
    with pytest.raises(RuntimeError, match="v can only be None"):
        getattr(TF, name)(vector_fn, as_torch(X))


def test_v_of_the_wrong_shape_raises():
    with pytest.raises(RuntimeError, match="invalid size"):
        AF.vjp(vector_fn, tg.Tensor(X), tg.Tensor(M))


def test_results_are_detached_unless_create_graph():
    x = tg.Tensor(X, requires_grad=True)
    assert not AF.jacobian(vector_fn, x).requires_grad
    out, product = AF.vjp(vector_fn, x, tg.Tensor(Y))
    assert not out.requires_grad and not product.requires_grad


def test_create_graph_results_differentiate_to_the_inputs_as_torch():
    ours_x = tg.Tensor(X, requires_grad=True)
    theirs_x = torch.tensor(X, requires_grad=True)
    ours = AF.hessian(smooth, ours_x, create_graph=True)
    theirs = TF.hessian(smooth, theirs_x, create_graph=True)
    (ours.sum() * 1.0).backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-10)


def test_create_graph_jvp_differentiates_to_v_and_inputs():
    ours_x, ours_v = tg.Tensor(X, requires_grad=True), tg.Tensor(Y, requires_grad=True)
    theirs_x, theirs_v = torch.tensor(X, requires_grad=True), torch.tensor(Y, requires_grad=True)
    _, ours = AF.jvp(vector_fn, ours_x, ours_v, create_graph=True)
    _, theirs = TF.jvp(vector_fn, theirs_x, theirs_v, create_graph=True)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours_v.grad, theirs_v.grad.numpy(), rtol=1e-10)


def test_independent_output_gives_zeros_or_raises_in_strict_mode():
    def ignores_y(x, y):
        return x * 2.0

    ours, theirs = both(X, Y)
    assert_same(AF.jacobian(ignores_y, ours), TF.jacobian(ignores_y, theirs))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(ignores_y, ours, strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        TF.jacobian(ignores_y, theirs, strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(ignores_y, ours, tg.Tensor(Y), strict=True)


def test_strict_refuses_an_output_computed_without_the_graph():
    def constant(x):
        return tg.Tensor(np.ones(3))

    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.jacobian(constant, tg.Tensor(X), strict=True)
    np.testing.assert_allclose(AF.jacobian(constant, tg.Tensor(X)).numpy(), np.zeros((3, 3)))


def test_strict_and_vectorize_together_raise_as_torch():
    with pytest.raises(RuntimeError, match="strict=True and vectorize=True"):
        AF.jacobian(vector_fn, tg.Tensor(X), strict=True, vectorize=True)


def test_forward_mode_without_vectorize_is_not_implemented_as_torch():
    with pytest.raises(NotImplementedError):
        AF.jacobian(vector_fn, tg.Tensor(X), strategy="forward-mode")
    with pytest.raises(NotImplementedError):
        TF.jacobian(vector_fn, as_torch(X), strategy="forward-mode")


def test_unknown_strategy_is_a_value_error():
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(vector_fn, tg.Tensor(X), strategy="sideways")


def test_hessian_needs_a_single_element_output():
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(vector_fn, tg.Tensor(X))
    with pytest.raises(RuntimeError, match="single Tensor"):
        AF.hessian(pair_out, tg.Tensor(X))


def test_inputs_must_be_tensors():
    with pytest.raises(TypeError, match="inputs must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(vector_fn, X)
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        AF.jacobian(lambda x: 3.0, tg.Tensor(X))


def test_the_callers_graph_is_kept_with_create_graph():
    # The inputs are themselves results of ops: with create_graph the jacobian reaches the
    # leaf behind them.
    ours_w = tg.Tensor(X, requires_grad=True)
    theirs_w = torch.tensor(X, requires_grad=True)
    ours = AF.jacobian(vector_fn, ours_w * 2.0, create_graph=True)
    theirs = TF.jacobian(vector_fn, theirs_w * 2.0, create_graph=True)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_w.grad, theirs_w.grad.numpy(), rtol=1e-10)


def test_empty_output_gives_an_empty_jacobian():
    result = AF.jacobian(lambda x: x[:0] * 1.0, tg.Tensor(X))
    assert result.shape == (0, 3)


def numerical_jacobian(fn, x, eps=1e-6):
    """Central differences, one column per input element (independent of autograd)."""
    base = np.asarray(fn(x))
    columns = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        columns.append((np.asarray(fn(x + step)) - np.asarray(fn(x - step))) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(base.shape + x.shape)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=2), seed=st.integers(0, 999))
def test_jacobian_matches_finite_differences(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    ours = AF.jacobian(vector_fn, tg.Tensor(x)).numpy()
    expected = numerical_jacobian(lambda a: np.tanh(a) / (1 + np.exp(-a)), x)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(size=st.integers(1, 4), seed=st.integers(0, 999))
def test_hessian_matches_finite_differences_of_the_gradient(size, seed):
    x = np.random.default_rng(seed).standard_normal(size)
    ours = AF.hessian(smooth, tg.Tensor(x)).numpy()
    gradient = lambda a: (1 - np.tanh(a) ** 2) * np.exp(a) + np.tanh(a) * np.exp(a)  # noqa: E731
    np.testing.assert_allclose(ours, numerical_jacobian(gradient, x), rtol=1e-6, atol=1e-8)
