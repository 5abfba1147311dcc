"""The backward walk: accumulation, traversal order, memory release, modes and Function."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Function


def leaf(values, dtype=np.float64):
    return tg.Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_reused_intermediate_sums_before_propagating():
    # micrograd's counter-example: b is used twice; a naive recursion that propagates each
    # use separately still works for sums, but the order matters once b feeds a product.
    a = leaf([3.0])
    b = a * a          # b = a^2
    c = b * b + b      # c = a^4 + a^2, dc/da = 4a^3 + 2a = 114
    c.sum().backward()
    np.testing.assert_allclose(a.grad, [114.0])


def test_backward_of_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for one-element outputs"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_gradient_shape_is_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor([1.0]).sum().backward()


def test_a_chain_of_100000_ops_needs_no_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])
    del y
    gc.collect()


def test_saved_arrays_are_freed_after_backward():
    x = leaf(np.ones(1000))
    hidden = x.exp()
    probe = weakref.ref(hidden.numpy())
    loss = (hidden * hidden).sum()
    del hidden
    gc.collect()
    assert probe() is not None  # the graph keeps what backward needs
    loss.backward()
    gc.collect()
    assert probe() is None


def test_retain_graph_keeps_saved_arrays():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_no_grad_as_context_manager_and_decorator():
    x = leaf([1.0])
    with tg.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.grad_fn is None

    @tg.no_grad()
    def double(t):
        return t * 2.0

    assert not double(x).requires_grad
    assert (x * 2.0).requires_grad
    assert tg.is_grad_enabled()


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = leaf([1.0, 2.0])
    (gx,) = tg.grad((x ** 3).sum(), x)
    assert isinstance(gx, tg.Tensor)
    np.testing.assert_allclose(gx.data, [3.0, 12.0])
    assert x.grad is None


def test_grad_with_respect_to_an_intermediate():
    x = leaf([2.0])
    h = x * 3.0
    (gh,) = tg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, [12.0])


def test_grad_of_an_unused_input_raises_unless_allowed():
    x, unused = leaf([1.0]), leaf([5.0])
    with pytest.raises(RuntimeError, match="index 1 .* not have been used in the graph"):
        tg.grad((x * 2.0).sum(), [x, unused])
    assert tg.grad((x * 2.0).sum(), [x, unused], allow_unused=True)[1] is None
    _, g_unused = tg.grad((x * 2.0).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_allclose(g_unused.data, [0.0])


def test_create_graph_gives_higher_order_derivatives():
    x = leaf([0.5, -1.5])
    (first,) = tg.grad((x ** 4).sum(), x, create_graph=True)
    (second,) = tg.grad(first.sum(), x, create_graph=True)
    (third,) = tg.grad(second.sum(), x)
    np.testing.assert_allclose(first.data, 4 * x.data ** 3)
    np.testing.assert_allclose(second.data, 12 * x.data ** 2)
    np.testing.assert_allclose(third.data, 24 * x.data)


def test_detect_anomaly_names_the_forward_op_and_user_line():
    x = leaf([-1.0, 1.0])
    with tg.detect_anomaly():
        expected = r"Log: forward produced NaN.*test_engine\.py:\d+"
        with pytest.raises(FloatingPointError, match=expected):
            x.log()


def test_detect_anomaly_checks_backward_gradients():
    x = leaf([0.0, 1.0])
    with tg.detect_anomaly():
        y = x.sqrt()  # finite forward, infinite derivative at 0
        with pytest.raises(FloatingPointError, match=r"SqrtBackward.*test_engine\.py:\d+"):
            y.sum().backward()


def test_nan_flows_as_in_numpy_outside_anomaly_mode():
    assert np.isnan(tg.Tensor([-1.0]).log().item())


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


class CubeWithPlainArrays(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.numpy() * 3.0 * x.numpy() ** 2


class CubeWithStash(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.square = x * x  # an intermediate stashed on ctx
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        return grad * tg.Tensor(3.0 * ctx.square)


def test_user_function_with_differentiable_backward_has_second_derivatives():
    x = leaf([2.0])
    (first,) = tg.grad(Cube.apply(x).sum(), x, create_graph=True)
    (second,) = tg.grad(first.sum(), x)
    np.testing.assert_allclose(second.data, [12.0])


@pytest.mark.parametrize("op", [CubeWithPlainArrays, CubeWithStash])
def test_first_order_only_backward_refuses_a_second_derivative(op):
    x = leaf([2.0])
    y = op.apply(x).sum()
    (first,) = tg.grad(y, x, create_graph=True)
    np.testing.assert_allclose(first.data, [12.0])
    with pytest.raises(RuntimeError, match=f"{op.__name__}: its backward is first-order only"):
        tg.grad(first.sum(), x)


def test_function_non_tensor_arguments_pass_through():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    x = leaf([1.0, 2.0])
    Scale.apply(x, 5).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_function_must_return_one_gradient_per_argument():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x, factor):
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="returned 1 gradient"):
        Wrong.apply(leaf([1.0]), 2.0).sum().backward()


def test_function_gradient_shape_is_checked():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    with pytest.raises(RuntimeError, match=r"gradient of shape \(\) for argument 0"):
        Wrong.apply(leaf([1.0, 2.0])).sum().backward()


def test_save_for_backward_rejects_intermediates():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x * 2)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(ValueError, match="save_for_backward takes the forward's input arrays"):
        Wrong.apply(leaf([1.0]))


def test_needs_input_grad_reports_each_argument():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad, None

    Probe.apply(leaf([1.0]), tg.Tensor([2.0], dtype=np.float64), 3)
    assert seen["needs"] == (True, False, False)
