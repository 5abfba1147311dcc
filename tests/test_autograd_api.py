"""PyTorch's autograd surface: backward/grad arguments, hooks, retain_grad, next_functions,
Functions with several outputs, mark_non_differentiable, set_materialize_grads,
once_differentiable, Variable, the gradcheck aliases."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import Function, Variable, once_differentiable


def leaf(values):
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- backward()
def test_backward_retain_graph_defaults_to_create_graph():
    x = leaf([3.0])
    y = (x * x).sum()
    y.backward(create_graph=True)  # keeps the graph: a second backward works
    y.backward()
    np.testing.assert_allclose(x.grad, [12.0])


def test_backward_inputs_fills_only_the_given_tensors():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    (a * b).sum().backward(inputs=[b])
    assert a.grad is None
    np.testing.assert_allclose(b.grad, [3.0])


def test_backward_inputs_may_be_a_non_leaf():
    a = leaf([1.0, 2.0])
    b = a * 2.0
    (b * b).sum().backward(inputs=[b])
    np.testing.assert_allclose(b.grad, [4.0, 8.0])
    assert a.grad is None


def test_backward_inputs_that_are_unused_stay_none():
    a, unused = leaf([1.0]), leaf([2.0])
    (a * 2.0).sum().backward(inputs=[unused])
    assert unused.grad is None and a.grad is None


def test_autograd_backward_takes_several_tensors_and_their_gradients():
    x = leaf([1.0, 2.0])
    tg.autograd.backward([x * 2.0, (x * x).sum()], [np.array([1.0, 10.0]), None])
    np.testing.assert_allclose(x.grad, [2.0 + 2.0, 20.0 + 4.0])


def test_autograd_backward_accepts_the_old_grad_variables_name():
    x = leaf([1.0, 2.0])
    tg.autograd.backward(x * 3.0, grad_variables=[np.ones(2)])
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_backward_gradient_count_must_match():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="got 2 gradients for 1 outputs"):
        tg.autograd.backward([x * 2.0], [np.ones(1), np.ones(1)])


# ----------------------------------------------------------------------------- grad()
def test_grad_unused_input_raises_naming_its_index():
    x, unused = leaf([1.0]), leaf([5.0])
    with pytest.raises(RuntimeError, match="index 1 .*allow_unused=True"):
        tg.autograd.grad((x * 2.0).sum(), [x, unused])


def test_grad_unused_input_is_none_with_allow_unused():
    x, unused = leaf([1.0]), leaf([5.0])
    gx, gu = tg.autograd.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0])
    assert gu is None


def test_grad_materialize_grads_gives_zeros_and_refuses_allow_unused_false():
    x, unused = leaf([1.0]), leaf([5.0, 6.0])
    _, gu = tg.autograd.grad((x * 2.0).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_allclose(gu.numpy(), [0.0, 0.0])
    with pytest.raises(ValueError, match="allow_unused cannot be False"):
        tg.autograd.grad((x * 2.0).sum(), [x], allow_unused=False, materialize_grads=True)


def test_grad_input_that_does_not_require_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="input 1 .* does not require grad"):
        tg.autograd.grad((x * 2.0).sum(), [x, tg.Tensor([1.0])])


def test_grad_reached_only_through_a_none_gradient_counts_as_unused():
    class OnlyFirst(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="index 1"):
        tg.autograd.grad(OnlyFirst.apply(a, b).sum(), [a, b])


def test_grad_is_grads_batched_gives_one_row_per_cotangent():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    (rows,) = tg.autograd.grad(y, x, tg.Tensor(np.eye(3)), is_grads_batched=True)
    np.testing.assert_allclose(rows.data, np.diag([2.0, 4.0, 6.0]))


# ----------------------------------------------------------------------------- hooks
def test_hook_on_a_non_leaf_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10.0)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [4.0, 8.0])
    np.testing.assert_allclose(x.grad, [80.0, 160.0])


def test_hook_on_a_leaf_runs_before_accumulation():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g + 1.0)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 4.0])


def test_leaf_hook_also_applies_to_grad():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 100.0)
    (gx,) = tg.autograd.grad((x * 3.0).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [300.0, 300.0])


def test_leaf_hook_survives_without_a_graph():
    x = leaf([1.0])
    x.register_hook(lambda g: g * 2.0)
    gc.collect()
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0])


def test_hooks_run_in_registration_order_each_getting_the_previous_result():
    x = leaf([1.0])
    y = x * 1.0
    y.register_hook(lambda g: g + 1.0)
    y.register_hook(lambda g: g * 10.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [20.0])


def test_hook_returning_none_keeps_the_gradient():
    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 5.0).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad, [5.0])


def test_removed_hook_no_longer_runs():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 10.0)
    handle.remove()
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_hook_handle_is_a_context_manager():
    x = leaf([1.0])
    with x.register_hook(lambda g: g * 10.0):
        (x * 1.0).sum().backward()
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, [11.0])


def test_hook_fires_after_the_tensor_is_gone():
    x = leaf([1.0])
    y = x * 2.0
    calls = []
    y.register_hook(lambda g: calls.append(1))
    z = (y * 3.0).sum()
    del y
    gc.collect()
    z.backward()
    assert calls == [1]


def test_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        tg.Tensor([1.0]).register_hook(lambda g: g)


def test_hook_changing_the_shape_raises():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    y.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="changed the size"):
        y.sum().backward()


def test_hook_returning_a_non_tensor_raises_type_error():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    y.register_hook(lambda g: g.numpy())
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        y.sum().backward()


def test_hooks_are_differentiable_under_create_graph():
    x = leaf([2.0])
    y = x * x
    y.register_hook(lambda g: g * y)  # uses y: the hook's work is recorded
    (gx,) = tg.autograd.grad(y.sum(), x, create_graph=True)  # g * y * 2x = 2x^3
    np.testing.assert_allclose(gx.numpy(), [16.0])
    # The second pass goes through y again, so the hook scales what reaches y (2x) by y once
    # more: 2x * y * 2x + 2y = 64 + 8 = 72, which is also PyTorch's answer.
    (ggx,) = tg.autograd.grad(gx.sum(), x)
    np.testing.assert_allclose(ggx.numpy(), [72.0])


def test_hook_on_one_output_of_a_function_with_several():
    x = leaf([1.0, 2.0])
    first, second = Halves.apply(x)
    second.register_hook(lambda g: g * 100.0)
    (first.sum() + second.sum()).backward()
    np.testing.assert_allclose(x.grad, [1.0, 100.0])


# ----------------------------------------------------------------------------- retain_grad
def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad, [4.0, 8.0])


def test_non_leaf_without_retain_grad_has_no_grad():
    x = leaf([1.0])
    y = x * 2.0
    (y * y).sum().backward()
    assert y.grad is None


def test_retained_gradient_accumulates_and_sees_hooks_first():
    x = leaf([1.0])
    y = x * 2.0
    y.retain_grad()
    y.register_hook(lambda g: g * 10.0)  # registered after: still runs before retention
    z = (y * 1.0).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(y.grad, [20.0])
    np.testing.assert_allclose(x.grad, [40.0])


def test_retain_grad_on_a_leaf_is_a_no_op():
    x = leaf([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0])


def test_retain_grad_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        tg.Tensor([1.0]).retain_grad()


def test_retain_grad_holds_its_tensor_weakly():
    x = leaf([1.0])
    y = x * 2.0
    y.retain_grad()
    watcher = weakref.ref(y)
    z = (y * 1.0).sum()
    del y
    gc.collect()
    assert watcher() is None
    z.backward()  # nothing to retain into any more
    np.testing.assert_allclose(x.grad, [2.0])


# ----------------------------------------------------------------------------- grad_fn
def test_next_functions_pairs_nodes_with_output_numbers():
    x = leaf([1.0, 2.0])
    y = (x * 2.0 + 1.0).sum()
    (add, number), = y.grad_fn.next_functions
    assert number == 0 and add.name() == "AddBackward0"
    (mul, _), (constant, constant_number) = add.next_functions
    assert mul.name() == "MulBackward0" and constant is None and constant_number == 0
    (accumulate, _), (scalar, _) = mul.next_functions
    assert accumulate.name() == "AccumulateGrad" and accumulate.variable is x
    assert scalar is None


def test_next_functions_lists_tensor_arguments_only():
    x = leaf([[1.0, 2.0]])
    assert len(x.sum(1).grad_fn.next_functions) == 1  # the axis is not an input


def test_a_leaf_has_one_accumulate_grad_shared_by_its_uses():
    x = leaf([1.0])
    (first, _), (second, _) = (x * x).grad_fn.next_functions
    assert first is second


def test_next_functions_of_outputs_of_a_function_with_several():
    x = leaf([1.0, 2.0])
    first, second = Halves.apply(x)
    (node_a, number_a), (node_b, number_b) = (first * second).grad_fn.next_functions
    assert node_a is node_b is first.grad_fn
    assert (number_a, number_b) == (0, 1)


# ----------------------------------------------------------------------------- Function
class Halves(Function):
    """(x[0], x[1:]) as two outputs: a Function with several outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.length = x.shape[0]
        return x[:1].copy(), x[1:].copy()

    @staticmethod
    def backward(ctx, first, rest):
        return Stitch.apply(first, rest)


class Stitch(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.split = a.shape[0]
        return np.concatenate([a, b])

    @staticmethod
    def backward(ctx, grad):
        return grad[:ctx.split], grad[ctx.split:]


class SquareAndCube(Function):
    @staticmethod
    def forward(ctx, x):
        square, cube = x * x, x * x * x
        ctx.save_for_backward(x, square)
        return square, cube

    @staticmethod
    def backward(ctx, g_square, g_cube):
        x, square = ctx.saved_tensors
        return g_square * 2.0 * x + g_cube * 3.0 * square


def test_function_with_several_outputs_returns_a_tuple_sharing_one_node():
    x = leaf([2.0])
    square, cube = SquareAndCube.apply(x)
    assert isinstance(square, tg.Tensor) and square.grad_fn is cube.grad_fn
    np.testing.assert_allclose([square.item(), cube.item()], [4.0, 8.0])


def test_unused_output_gets_a_zero_gradient():
    x = leaf([2.0])
    _, cube = SquareAndCube.apply(x)
    cube.sum().backward()
    np.testing.assert_allclose(x.grad, [12.0])


def test_both_outputs_add_their_gradients():
    x = leaf([2.0])
    square, cube = SquareAndCube.apply(x)
    (square + cube).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0 + 12.0])


def test_saving_an_output_of_several_gives_second_derivatives():
    x = leaf([2.0])
    square, cube = SquareAndCube.apply(x)
    (gx,) = tg.autograd.grad((square + cube).sum(), x, create_graph=True)  # 2x + 3x^2
    (ggx,) = tg.autograd.grad(gx.sum(), x)                                # 2 + 6x
    np.testing.assert_allclose(ggx.numpy(), [14.0])


def test_several_outputs_gradcheck_and_gradgradcheck():
    x = leaf([0.5, -1.5, 2.0])
    assert tg.autograd.gradcheck(lambda t: SquareAndCube.apply(t), (x,))
    assert tg.autograd.gradgradcheck(lambda t: SquareAndCube.apply(t), (x,))


def test_set_materialize_grads_false_passes_none():
    seen = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, first, second):
            seen.append((first is None, second is None))
            return first * 2.0

    x = leaf([1.0])
    first, _ = Pair.apply(x)
    first.sum().backward()
    assert seen == [(False, True)]
    np.testing.assert_allclose(x.grad, [2.0])


def test_mark_non_differentiable_output_has_no_grad_and_a_zero_gradient():
    seen = []

    class SortWithOrder(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x)
            ctx.order = order
            marks = (x > 0).astype(x.dtype)
            ctx.mark_non_differentiable(marks)
            return x[order], marks

        @staticmethod
        def backward(ctx, grad_sorted, grad_marks):
            seen.append(grad_marks.numpy().copy())
            return Unsort.apply(grad_sorted, ctx.order)

    class Unsort(Function):
        @staticmethod
        def forward(ctx, grad, order):
            result = np.empty_like(grad)
            result[order] = grad
            return result

    x = leaf([3.0, -1.0, 2.0])
    values, marks = SortWithOrder.apply(x)
    assert values.requires_grad and not marks.requires_grad and marks.grad_fn is None
    (values * tg.Tensor([1.0, 10.0, 100.0], dtype=np.float64)).sum().backward()
    np.testing.assert_allclose(x.grad, [100.0, 1.0, 10.0])
    np.testing.assert_allclose(seen[0], [0.0, 0.0, 0.0])


def test_integer_outputs_never_require_grad():
    class ArgAndValue(Function):
        @staticmethod
        def forward(ctx, x):
            return x.max(keepdims=True), np.asarray([x.argmax()])

        @staticmethod
        def backward(ctx, grad_value, grad_index):
            return grad_value * 0.0

    value, index = ArgAndValue.apply(leaf([1.0, 5.0]))
    assert value.requires_grad and not index.requires_grad and index.dtype == np.int64


def test_needs_input_grad_with_several_outputs():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, flag):
            seen["needs"] = ctx.needs_input_grad
            return a + b, a - b

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2, None, None

    Probe.apply(leaf([1.0]), tg.Tensor([2.0], dtype=np.float64), True)
    assert seen["needs"] == (True, False, False)


class OnceCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


def test_once_differentiable_gives_first_derivatives():
    x = leaf([2.0])
    OnceCube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [12.0])


def test_once_differentiable_refuses_a_second_derivative_naming_the_op():
    x = leaf([2.0])
    (gx,) = tg.autograd.grad(OnceCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), [12.0])
    with pytest.raises(RuntimeError, match="OnceCube: its backward is first-order only .*"
                                           "once_differentiable"):
        tg.autograd.grad(gx.sum(), x)


def test_once_differentiable_backward_runs_without_recording():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            seen.append(tg.is_grad_enabled())
            return grad * 2.0

    x = leaf([1.0])
    tg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [False]


def test_forward_returning_something_else_is_a_type_error():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return [x]

    with pytest.raises(TypeError, match="Wrong.forward must return a numpy array or a tuple"):
        Wrong.apply(leaf([1.0]))


# ----------------------------------------------------------------------------- anomaly mode
def test_anomaly_errors_are_runtime_errors():
    x = leaf([-1.0])
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="forward produced NaN"):
        x.log()


def test_set_detect_anomaly_switches_at_once_and_as_a_context_manager():
    assert not tg.autograd.is_anomaly_enabled()
    with tg.autograd.set_detect_anomaly(True):
        assert tg.autograd.is_anomaly_enabled()
    assert not tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(True)
    try:
        assert tg.autograd.is_anomaly_enabled()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()


def test_detect_anomaly_without_check_nan_lets_nan_through():
    with tg.detect_anomaly(check_nan=False):
        assert not tg.autograd.is_anomaly_check_nan_enabled()
        assert np.isnan(leaf([-1.0]).log().item())
    assert tg.autograd.is_anomaly_check_nan_enabled()


# ----------------------------------------------------------------------------- Variable
def test_variable_returns_a_new_leaf_tensor_sharing_memory():
    x = leaf([1.0, 2.0]) * 2.0
    v = Variable(x)
    assert isinstance(v, tg.Tensor) and v is not x
    assert v.is_leaf and not v.requires_grad
    assert np.shares_memory(v.numpy(), x.numpy())


def test_variable_requires_grad():
    v = Variable(tg.Tensor([1.0, 2.0]), requires_grad=True)
    (v * 3.0).sum().backward()
    np.testing.assert_allclose(v.grad, [3.0, 3.0])


def test_every_tensor_is_a_variable():
    assert isinstance(tg.Tensor([1.0]), Variable)
    assert not isinstance(np.ones(1), Variable)


def test_variable_of_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable(np.ones(2))


def test_variable_volatile_warns_as_pytorch():
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(tg.Tensor([1.0]), volatile=True)


# ----------------------------------------------------------------------------- aliases
def test_gradcheck_aliases_are_the_gradcheck_modules_functions():
    from tinygrad_cnn import gradcheck as checks

    assert tg.autograd.gradcheck is checks.gradcheck
    assert tg.autograd.gradgradcheck is checks.gradgradcheck
    from tinygrad_cnn.autograd import gradcheck

    assert gradcheck is checks.gradcheck


def test_torch_style_module_paths():
    from tinygrad_cnn.autograd.function import once_differentiable as from_module
    from tinygrad_cnn.autograd.functional import jacobian

    assert from_module is once_differentiable
    assert tg.autograd.functional.jacobian is jacobian
    assert tg.autograd.Function is tg.Function


class ScaledProduct(Function):
    """PyTorch 2's style: forward without ctx, setup_context saves."""

    @staticmethod
    def forward(a, b, scale):
        return a * b * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b, scale = inputs
        ctx.save_for_backward(a, b)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.scale, grad * a * ctx.scale, None


def test_setup_context_style_function():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ScaledProduct.apply(a, b, 2.0).sum().backward()
    np.testing.assert_allclose(a.grad, [6.0, 8.0])
    np.testing.assert_allclose(b.grad, [2.0, 4.0])
    assert tg.autograd.gradgradcheck(lambda x, y: ScaledProduct.apply(x, y, 2.0),
                                     (leaf([0.5, -1.0]), leaf([2.0, 0.25])))


def test_forward_without_setup_context_still_needs_ctx():
    class Plain(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.seen = True
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = leaf([1.0])
    assert Plain.apply(x).grad_fn.seen


def test_gradcheck_and_gradgradcheck_accept_an_input_the_function_ignores():
    # grad() raises for an unused input (as PyTorch's); the checks must not (PyTorch's pass)
    x, ignored = leaf([1.0, 2.0]), leaf([3.0])
    assert tg.autograd.gradcheck(lambda a, b: a * a, (x, ignored))
    assert tg.autograd.gradgradcheck(lambda a, b: a * a, (x, ignored))
