"""Specification of tinygrad_cnn.gradcheck: what passes, what is caught, what the message says."""

import numpy as np
import pytest
from user_functions import Softplus

from tinygrad_cnn import Function, Tensor
from tinygrad_cnn.gradcheck import (
    GradcheckError,
    GradcheckWarning,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)


def leaf(array, dtype=np.float64):
    return Tensor(np.asarray(array, dtype=dtype), requires_grad=True)


def random_leaf(*shape, seed=0):
    return leaf(np.random.default_rng(seed).uniform(0.5, 1.5, size=shape))


# ---------------------------------------------------------------- user Functions under test
class SquareWrongAtOneElement(Function):
    """x**2 whose backward is 3x too large at element [1, 2] only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        scale = np.ones(x.shape)
        scale[1, 2] = 3.0
        return grad_output * 2.0 * x * Tensor(scale)


class NegatedSquare(Function):
    """x**2 with a sign error in backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -(grad_output * 2.0 * x)


class MaxToFirst(Function):
    """Max over all elements; a tie sends the whole gradient to the first maximum."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.position = np.argmax(x)  # an integer index: fine to stash
        return np.asarray(x.max())

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        mask = np.zeros(x.shape)
        mask.reshape(-1)[ctx.position] = 1.0
        return grad_output * Tensor(mask)


class CubeHalfDetachedBackward(Function):
    """x**3 whose backward, 3 * x * x.detach(), is right to first order but treats one factor
    as a constant: its second derivative is 3x, half the true 6x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3.0 * x * x.detach()


class CubeDataBackward(Function):
    """x**3 whose backward computes with x.data: right to first order, but the graph sees a
    constant, so the second derivative is missing."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Tensor(3.0 * x.data * x.data)


class CubeArrayBackward(Function):
    """x**3 whose backward returns a plain array: first-order only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.numpy() * 3.0 * x.numpy() * x.numpy()


def softplus(x):
    return Softplus.apply(x)


# ---------------------------------------------------------------- passing checks
def test_gradcheck_passes_for_a_correct_composite_of_library_ops():
    def fn(x, w):
        return ((x @ w).tanh() * x.sum(axis=1, keepdims=True)).mean(axis=0)

    assert gradcheck(fn, (random_leaf(3, 4), random_leaf(4, 2, seed=1)))


def test_gradcheck_passes_for_a_correct_user_function():
    assert gradcheck(softplus, (random_leaf(2, 3),))


def test_gradcheck_accepts_a_single_tensor_and_function_apply_directly():
    assert gradcheck(Softplus.apply, random_leaf(4))


def test_full_mode_passes_for_a_correct_user_function():
    assert gradcheck(softplus, (random_leaf(2, 3),), fast=False)


def test_non_tensor_arguments_pass_through_unchanged():
    def power(x, exponent, offset):
        return (x + Tensor(offset)) ** exponent

    offset = np.array([0.5, 1.0, 2.0])
    assert gradcheck(power, (random_leaf(3), 3, offset))


def test_tensors_not_requiring_grad_are_constants_and_not_checked():
    class GradOnlyForFirst(Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            return grad_output * y, None  # y's gradient deliberately missing

    constant = Tensor(np.array([1.0, 2.0, 3.0]))
    assert gradcheck(GradOnlyForFirst.apply, (random_leaf(3), constant))


def test_tuple_outputs_are_checked():
    def both(x):
        return x * x, x.exp().sum()

    assert gradcheck(both, (random_leaf(2, 2),))
    assert gradcheck(both, (random_leaf(2, 2),), fast=False)


def test_integer_outputs_in_a_tuple_are_left_out():
    def value_and_index(x):
        return x.exp(), x.argmax()

    assert gradcheck(value_and_index, (random_leaf(4),))
    with pytest.raises(TypeError, match="gradcheck: fn returned no floating-point tensor"):
        gradcheck(lambda x: x.argmax(), (random_leaf(4),))


def test_gradgradcheck_passes_for_a_twice_differentiable_user_function():
    assert gradgradcheck(softplus, (random_leaf(2, 3),))


def test_gradgradcheck_passes_for_a_product_of_two_inputs_in_full_mode():
    assert gradgradcheck(lambda x, w: (x * w).sigmoid(), (random_leaf(3), random_leaf(3, seed=2)),
                         fast=False)


# ---------------------------------------------------------------- caught mistakes
def test_wrong_element_is_reported_with_input_name_index_and_both_values():
    x = random_leaf(2, 3)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: SquareWrongAtOneElement.apply(x), (x,))
    error = caught.value
    expected = 2.0 * x.data[1, 2]
    assert error.input_index == 0 and error.input_name == "x"
    assert error.index == (1, 2)
    assert error.analytic == pytest.approx(3 * expected)
    assert error.numerical == pytest.approx(expected)
    assert error.abs_err == pytest.approx(2 * expected)
    assert error.rel_err == pytest.approx(2.0)
    assert not error.on_kink and error.kind == "mismatch"
    message = str(error)
    assert "input 0 'x' (shape (2, 3), float64)" in message
    assert "x[1, 2]" in message
    assert f"analytic  {3 * expected:.6g}" in message
    assert f"numerical {expected:.6g}" in message
    assert "analytic / numerical = 3" in message


def test_message_is_short():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: SquareWrongAtOneElement.apply(x), (random_leaf(20, 30),))
    assert len(str(caught.value).splitlines()) <= 8


def test_sign_error_is_caught_and_counts_the_mismatching_elements():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(NegatedSquare.apply, (random_leaf(3, 2),))
    error = caught.value
    assert error.analytic == pytest.approx(-error.numerical)
    assert error.mismatches == 6
    assert "6 of 6 elements of x are out of tolerance" in str(error)
    assert "analytic / numerical = -1" in str(error)


def test_full_mode_names_the_output_element():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: SquareWrongAtOneElement.apply(x), (random_leaf(2, 3),), fast=False)
    assert caught.value.index == (1, 2)
    assert caught.value.output_index == "out[1, 2]"
    assert "d out[1, 2] / d x[1, 2]" in str(caught.value)


def test_fast_and_full_modes_report_the_same_element():
    fn = lambda x, w: SquareWrongAtOneElement.apply(x) * w  # noqa: E731
    inputs = (random_leaf(2, 3), random_leaf(2, 3, seed=3))
    with pytest.raises(GradcheckError) as fast:
        gradcheck(fn, inputs, fast=True)
    with pytest.raises(GradcheckError) as full:
        gradcheck(fn, inputs, fast=False)
    assert (fast.value.input_name, fast.value.index) == (full.value.input_name, full.value.index)


def test_second_input_is_named_by_its_parameter_name():
    class WrongSecondGradient(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, grad_output):
            x, w = ctx.saved_tensors
            return grad_output * w, grad_output * x * 2.0

    def scaled(x, weight):
        return WrongSecondGradient.apply(x, weight)

    with pytest.raises(GradcheckError) as caught:
        gradcheck(scaled, (random_leaf(4), random_leaf(4, seed=1)))
    assert caught.value.input_index == 1
    assert "input 1 'weight' (shape (4,), float64)" in str(caught.value)


def test_a_detached_input_is_reported_as_getting_no_gradient():
    def leaks(x):
        return Tensor(x.data * 2.0) + x * 0.0

    with pytest.raises(GradcheckError) as caught:
        gradcheck(leaks, (random_leaf(3),))
    assert caught.value.kind == "mismatch"  # x is connected (x * 0.0): a plain mismatch

    def detached(x, y):
        return Tensor(x.data * 2.0) * y

    with pytest.raises(GradcheckError) as caught:
        gradcheck(detached, (random_leaf(3), random_leaf(3, seed=1)))
    error = caught.value
    assert error.kind == "no_gradient" and error.input_name == "x"
    assert "gets no gradient" in str(error)


# ---------------------------------------------------------------- kinks
def test_relu_at_exactly_zero_is_reported_as_a_kink():
    x = leaf([[0.5, -1.0], [0.0, 2.0]])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x.relu(), (x,))
    error = caught.value
    assert error.index == (1, 0)
    assert error.on_kink
    assert error.one_sided == (pytest.approx(0.0), pytest.approx(1.0))
    message = str(error)
    assert "x[1, 0] = 0 sits on" in message and "kink" in message
    assert "left and right derivatives there are 0 and 1" in message


def test_abs_within_eps_of_zero_is_a_kink():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x.abs(), (leaf([1.0, 3e-7, -2.0]),))
    assert caught.value.on_kink and caught.value.index == (1,)


def test_a_tie_in_a_max_is_reported_as_a_kink_naming_the_tied_element():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(MaxToFirst.apply, (leaf([0.3, 0.9, 0.1, 0.9]),))
    error = caught.value
    assert error.on_kink
    assert error.index in {(1,), (3,)}
    other = 3 if error.index == (1,) else 1
    assert f"ties with x[{other}]" in str(error)  # named by forward's parameter


def test_a_wrong_gradient_at_a_smooth_point_is_not_called_a_kink():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(NegatedSquare.apply, (leaf([0.0, 1.0]),))
    assert not caught.value.on_kink
    assert "kink" not in str(caught.value)


def test_gradgradcheck_at_relus_zero_reports_a_jump_of_the_first_derivative():
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda x: x.relu(), (leaf([1.0, 0.0, -2.0]),))
    error = caught.value
    assert error.on_kink and error.index == (1,)
    assert "x[1] = 0 sits on" in str(error)
    assert "as the derivative of relu or abs at 0" in str(error)
    assert "does a backward compute with .data" not in str(error)


# ---------------------------------------------------------------- float32
def test_float32_input_is_checked_in_float64_with_a_note():
    x = leaf(np.random.default_rng(0).uniform(0.5, 1.5, 3), dtype=np.float32)
    with pytest.warns(GradcheckWarning, match="float32: both sides were computed on a float64"):
        assert gradcheck(softplus, (x,))


def test_float32_failure_message_carries_the_note():
    x = leaf(np.random.default_rng(0).uniform(0.5, 1.5, (2, 3)), dtype=np.float32)
    with pytest.warns(GradcheckWarning), pytest.raises(GradcheckError) as caught:
        gradcheck(NegatedSquare.apply, (x,))
    assert "(shape (2, 3), float32)" in str(caught.value)
    assert "note: x is float32" in str(caught.value)


# ---------------------------------------------------------------- second order
def test_gradgradcheck_catches_a_backward_that_is_wrong_only_to_second_order():
    x = random_leaf(2, 2)
    assert gradcheck(CubeHalfDetachedBackward.apply, (x,))  # first order is right
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda x: CubeHalfDetachedBackward.apply(x), (x,))
    error = caught.value
    assert error.order == 2 and error.input_name == "x" and error.kind == "mismatch"
    assert error.analytic == pytest.approx(0.5 * error.numerical)
    message = str(error)
    assert message.startswith("gradgradcheck: input 0 'x'")
    assert "second derivatives differ" in message
    assert "d grad_x[" in message and "] / d x[" in message  # element level now


def test_gradgradcheck_reports_a_backward_computing_on_data_as_no_gradient():
    x = random_leaf(3)
    assert gradcheck(CubeDataBackward.apply, (x,))
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(CubeDataBackward.apply, (x,))
    assert caught.value.kind == "no_gradient" and caught.value.order == 2
    assert "does a backward compute with .data" in str(caught.value)


def test_gradgradcheck_surfaces_the_first_order_only_error():
    with pytest.raises(RuntimeError, match="gradgradcheck: .*CubeArrayBackward.*first-order"):
        gradgradcheck(CubeArrayBackward.apply, (random_leaf(3),))


def test_gradgradcheck_accepts_given_grad_outputs():
    assert gradgradcheck(lambda x: x * x * x, (random_leaf(3),), grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="grad_output has shape \\(2,\\) but fn's output has"):
        gradgradcheck(lambda x: x * x, (random_leaf(3),), grad_outputs=np.ones(2))


# ---------------------------------------------------------------- numerical_grad
def test_numerical_grad_of_a_sum_of_squares_is_twice_the_input():
    x = random_leaf(2, 3)
    (gradient,) = numerical_grad(lambda x: (x * x).sum(), [x])
    np.testing.assert_allclose(gradient, 2 * x.data, rtol=1e-8)


def test_numerical_grad_weights_the_output_by_grad_output():
    x, w = random_leaf(3), random_leaf(3, seed=1)
    weights = np.array([1.0, -2.0, 0.5])
    gx, gw, none = numerical_grad(lambda x, w, k: x * w * k, [x, w, 2.0], grad_output=weights)
    np.testing.assert_allclose(gx, 2 * w.data * weights, rtol=1e-8)
    np.testing.assert_allclose(gw, 2 * x.data * weights, rtol=1e-8)
    assert none is None


def test_numerical_grad_differentiates_floating_tensors_that_do_not_require_grad():
    x = Tensor(np.array([1.0, 2.0]))
    (gradient,) = numerical_grad(lambda x: x.exp(), [x])
    np.testing.assert_allclose(gradient, np.exp(x.data), rtol=1e-8)
    assert gradient.dtype == np.float64


# ---------------------------------------------------------------- bad arguments
def test_no_input_requiring_grad_is_a_value_error():
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        gradcheck(lambda x: x * 2.0, (Tensor(np.ones(3)),))


def test_fn_returning_an_array_is_a_type_error():
    with pytest.raises(TypeError, match="gradcheck: fn must return a Tensor"):
        gradcheck(lambda x: x.numpy() * 2.0, (random_leaf(3),))


def test_non_callable_fn_is_a_type_error():
    with pytest.raises(TypeError, match="gradcheck: fn must be callable"):
        gradcheck(3, (random_leaf(3),))


def test_inputs_of_the_wrong_kind_are_a_type_error():
    with pytest.raises(TypeError, match="gradcheck: inputs must be a Tensor or a tuple/list"):
        gradcheck(softplus, np.ones(3))


@pytest.mark.parametrize("option", [{"atol": -1.0}, {"rtol": float("nan")},
                                    {"n_directions": 0}])
def test_bad_tolerances_are_a_value_error(option):
    with pytest.raises(ValueError, match="gradcheck: "):
        gradcheck(softplus, (random_leaf(3),), **option)


@pytest.mark.parametrize("option", [{"atol": -1.0}, {"rtol": float("nan")}])
def test_bad_tolerances_are_also_pytorchs_runtime_error(option):
    with pytest.raises(RuntimeError, match="gradcheck: "):
        gradcheck(softplus, (random_leaf(3),), **option)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("eps", [0, float("nan"), float("inf")])
def test_an_eps_giving_no_derivative_fails_the_check_as_pytorch(check, eps):
    with pytest.raises(GradcheckError, match=f"{check.__name__}: eps must be finite and "
                                             "nonzero"):
        check(softplus, (random_leaf(3),), eps=eps)
    with pytest.warns(GradcheckWarning, match="eps must be finite"):
        assert check(softplus, (random_leaf(3),), eps=eps, raise_exception=False) is False


def test_a_negative_eps_is_the_same_central_difference_as_pytorch():
    assert gradcheck(softplus, (random_leaf(3),), eps=-1e-6)
    assert gradgradcheck(softplus, (random_leaf(3),), eps=-1e-6)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(SquareWrongAtOneElement.apply, (random_leaf(2, 3),), eps=-1e-6)
    assert caught.value.kind == "mismatch"


def test_non_finite_output_is_a_value_error():
    with pytest.raises(ValueError, match="gradcheck: out of fn is not finite"):
        gradcheck(lambda x: x.log(), (leaf([1.0, -1.0]),))


def test_numerical_grad_rejects_a_grad_output_of_the_wrong_shape():
    with pytest.raises(ValueError, match="numerical_grad: grad_output has shape \\(4,\\)"):
        numerical_grad(lambda x: x * 2.0, [random_leaf(3)], grad_output=np.ones(4))


def test_raise_exception_false_returns_false_and_warns_the_message():
    with pytest.warns(GradcheckWarning, match="analytic and numerical gradients differ"):
        assert gradcheck(NegatedSquare.apply, (random_leaf(3),), raise_exception=False) is False
