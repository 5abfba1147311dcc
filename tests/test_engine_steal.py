"""A leaf's first gradient is taken without a copy only when nothing else can see it
(``autograd/engine.py``: ``_accumulate`` with ``sole``); everywhere else ``.grad`` owns
its memory, so later in-place accumulation cannot change another tensor."""

import weakref

import numpy as np

import tinygrad_cnn as tg
from tinygrad_cnn import Function


def leaf(values):
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


class FreshGradient(Function):
    """The identity, whose backward returns a freshly made array (remembered weakly)."""

    made = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        array = np.array(grad._data * 1.0)
        FreshGradient.made.append(weakref.ref(array))
        return tg.Tensor._make(array)


def test_a_fresh_gradient_nobody_else_holds_becomes_grad_without_a_copy():
    x = leaf([1.0, 2.0, 3.0])
    FreshGradient.made.clear()
    FreshGradient.apply(x).sum().backward()
    assert x.grad._data is FreshGradient.made[0]()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])
    # and accumulating into it later is still right
    FreshGradient.apply(x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


def test_a_gradient_held_by_a_hook_is_copied():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g))
    FreshGradient.apply(x).sum().backward()
    FreshGradient.apply(x).sum().backward()  # accumulates into x.grad in place
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    assert not np.shares_memory(seen[0]._data, x.grad._data)


def test_the_callers_seed_gradient_is_copied():
    x = leaf([1.0, 2.0])
    seed = tg.Tensor(np.array([5.0, 7.0]))
    x.backward(seed)
    x.grad._data += 1.0
    np.testing.assert_array_equal(seed, [5.0, 7.0])
    y = leaf([1.0, 2.0])
    (y * 1.0).backward(seed)
    y.grad._data += 1.0
    np.testing.assert_array_equal(seed, [5.0, 7.0])


def test_one_gradient_reaching_two_leaves_is_not_shared():
    # Add's backward hands the same gradient tensor to both of its inputs.
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    FreshGradient.apply(a + b).sum().backward()
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad._data += 10.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_a_gradient_also_flowing_into_the_graph_is_not_shared():
    # x feeds the output directly and through an op that runs after x's accumulation
    x = leaf([1.0, 2.0])
    y = x * 3.0
    (FreshGradient.apply(x) + y).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_a_view_of_a_gradient_is_copied():
    # reshape's backward returns a view of the incoming gradient: never taken as is
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    FreshGradient.made.clear()
    FreshGradient.apply(x.reshape(4)).sum().backward()
    assert x.grad._data.base is None
    assert x.grad._data.flags.owndata


def test_retained_and_leaf_gradients_do_not_alias():
    x = leaf([1.0, 2.0])
    y = FreshGradient.apply(x)
    y.retain_grad()
    (y * 1.0).sum().backward()
    assert not np.shares_memory(y.grad._data, x.grad._data)
    (y * 1.0).sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_a_gradient_reaching_a_c_contiguous_leaf_transposed_is_laid_out_as_the_leaf():
    # PyTorch's gradient layout: .grad has the strides of its (dense) parameter
    w = leaf(np.arange(12.0).reshape(3, 4))
    (w.T * 2.0).sum().backward()
    assert w.grad._data.flags.c_contiguous
    np.testing.assert_array_equal(w.grad, np.full((3, 4), 2.0))


def test_linear_weight_gradient_is_c_contiguous_and_exact():
    # matmul's backward computes the gradient of a transposed operand (weight.T) as the
    # transpose of a product, so it arrives laid out as the weight (the optimizer's BLAS
    # update runs on it in place)
    rng = np.random.default_rng(2)
    x = tg.Tensor(rng.standard_normal((5, 7)), requires_grad=True)
    w, b = leaf(rng.standard_normal((3, 7))), leaf(rng.standard_normal(3))
    g = rng.standard_normal((5, 3))
    tg.nn.functional.linear(x, w, b).backward(tg.Tensor(g))
    assert w.grad._data.flags.c_contiguous
    np.testing.assert_allclose(w.grad, g.T @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, g @ w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, g.sum(axis=0), rtol=1e-12)
