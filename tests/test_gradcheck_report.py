"""gradcheck's dtype pass, its handling of values stashed on ctx, and what its report says."""

import re
import warnings

import numpy as np
import pytest

from tinygrad_cnn import Function, Tensor, grad
from tinygrad_cnn.gradcheck import (
    GradcheckError,
    GradcheckWarning,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)


def leaf(array, dtype=np.float64):
    return Tensor(np.asarray(array, dtype=dtype), requires_grad=True)


def quiet(check, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        return check(*args, **kwargs)


# ---------------------------------------------------------------- the dtype pass
class OverflowingSoftplus(Function):
    """softplus whose backward exp(x) / (1 + exp(x)) is NaN in float32 for x > 88."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(np.zeros((), x.dtype), x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.exp() / (x.exp() + 1.0)


class StableSoftplus(OverflowingSoftplus):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid()


class CancellingBackward(Function):
    """1 / (sqrt(x^2 + 1) + x) whose backward x / sqrt(x^2 + 1) - 1 cancels in float32."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 / (np.sqrt(x * x + 1) + x)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x / (x * x + 1.0).sqrt() - 1.0)


def test_a_float32_only_overflow_is_reported_at_its_element():
    x = leaf([1.0, 95.0, -3.0, 20.0], dtype=np.float32)
    assert quiet(gradcheck, OverflowingSoftplus.apply, (x,), check_dtype=False)  # float64 ok
    with np.errstate(all="ignore"), pytest.raises(GradcheckError) as caught:
        quiet(gradcheck, OverflowingSoftplus.apply, (x,))
    error = caught.value
    assert error.kind == "dtype" and error.index == (1,) and error.value == 95.0
    assert np.isnan(error.analytic) and abs(error.numerical) == pytest.approx(1.0)  # v = +-1
    message = str(error)
    assert re.search(r"the float32 backward gives nan at x\[1\] where float64 gives -?1\n",
                     message)
    assert "formulas are right" in message


def test_a_float32_only_precision_loss_is_reported():
    x = leaf(np.linspace(200.0, 900.0, 8), dtype=np.float32)
    with pytest.raises(GradcheckError) as caught:
        quiet(gradcheck, CancellingBackward.apply, (x,))
    assert caught.value.kind == "dtype" and "loses precision" in str(caught.value)


def test_a_stable_float32_op_passes_the_dtype_pass():
    x = leaf([1.0, 95.0, -95.0, 20.0], dtype=np.float32)
    with pytest.warns(GradcheckWarning, match="float32 backward was compared"):
        assert gradcheck(StableSoftplus.apply, (x,))


def test_float64_inputs_have_no_dtype_pass_to_fail():
    assert gradcheck(OverflowingSoftplus.apply, (leaf([1.0, 95.0]),))


# ---------------------------------------------------------------- values stashed on ctx
class MaskedSquare(Function):
    """x**2 * mask, the mask (a constant) stashed on ctx, as dropout does."""

    declare = False

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.mask = (np.arange(x.size).reshape(x.shape) % 3 != 0) / 0.7
        if MaskedSquare.declare:
            ctx.mark_constant("mask")
        return x * x * ctx.mask

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2.0 * x * Tensor(ctx.mask)


class StashedSigmoid(Function):
    """softplus whose backward uses sigmoid(x) stashed on ctx: it depends on x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.s = 1 / (1 + np.exp(-x))
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Tensor(ctx.s)


class ScaledByMean(Function):
    """x * mean(x) whose backward takes mean(x) from a Python float stashed on ctx."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.m = float(x.mean())
        return x * ctx.m

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.m + (grad_output * x).sum() / float(x.shape[0])


def test_a_constant_stashed_array_passes_gradgradcheck_with_a_suggestion():
    x = leaf(np.random.default_rng(0).uniform(0.5, 1.5, (2, 3)))
    with pytest.warns(GradcheckWarning, match=r"MaskedSquare: ctx.mask .*ctx.mark_constant"):
        assert gradgradcheck(MaskedSquare.apply, (x,))


def test_mark_constant_lets_create_graph_through_and_silences_the_check():
    x = leaf(np.random.default_rng(0).uniform(0.5, 1.5, (2, 3)))
    MaskedSquare.declare = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", GradcheckWarning)
            assert gradgradcheck(MaskedSquare.apply, (x,))
        (first,) = grad(MaskedSquare.apply(x).sum(), [x], create_graph=True)
        (second,) = grad(first.sum(), [x])
        mask = (np.arange(6).reshape(2, 3) % 3 != 0) / 0.7
        np.testing.assert_allclose(second._data, 2.0 * mask)
    finally:
        MaskedSquare.declare = False
    with pytest.raises(RuntimeError, match=r"first-order only .*ctx.mark_constant\('mask'\)"):
        (first,) = grad(MaskedSquare.apply(x).sum(), [x], create_graph=True)
        grad(first.sum(), [x])


def test_mark_constant_takes_attribute_names():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_constant(np.ones(2))
            return x

    with pytest.raises(TypeError, match="mark_constant: names must be attribute names"):
        Bad.apply(leaf([1.0, 2.0]))


def test_a_stashed_array_that_depends_on_the_input_is_named():
    x = leaf(np.random.default_rng(0).normal(size=3))
    assert gradcheck(StashedSigmoid.apply, (x,))
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(StashedSigmoid.apply, (x,))
    error = caught.value
    assert error.order == 2 and error.stashed == ["StashedSigmoid: ctx.s (a float array of "
                                                  "shape (3,))"]
    message = str(error)
    assert "first-order only" in message and "StashedSigmoid: ctx.s" in message
    assert "does a backward compute with .data" not in message


def test_a_stashed_python_float_gets_a_hint_when_second_derivatives_fail():
    x = leaf(np.random.default_rng(0).normal(size=4))
    assert gradcheck(ScaledByMean.apply, (x,))
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(ScaledByMean.apply, (x,))
    assert re.search(r"ScaledByMean: ctx.m \(= -?[0-9.e-]+, a Python float\)", str(caught.value))


def test_a_backward_returning_arrays_is_still_first_order_only():
    class ArrayBackward(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output._data * 2.0 * x._data

    with pytest.raises(RuntimeError, match="gradgradcheck: cannot differentiate .*ArrayBackward"):
        gradgradcheck(ArrayBackward.apply, (leaf([1.0, 2.0]),))


# ---------------------------------------------------------------- the report
class WrongWeightGrad(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input @ weight

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        return grad_output @ weight.T, input.T @ grad_output * 1.5


def test_inputs_are_named_by_forwards_parameters_with_value_and_other_elements():
    a = leaf(np.arange(6.0).reshape(2, 3))
    w = leaf(np.arange(6.0).reshape(3, 2) / 10)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(WrongWeightGrad.apply, (a, w))
    error = caught.value
    assert error.input_name == "weight" and error.input_index == 1
    assert error.value == pytest.approx(w._data[error.index])
    assert len(error.others) == 5 and error.index not in error.others
    message = str(error)
    assert message.startswith("gradcheck: input 1 'weight' (shape (3, 2), float64)")
    assert f"weight[{error.index[0]}, {error.index[1]}] = {w._data[error.index]:.6g}" in message
    assert "6 of 6 elements of weight are out of tolerance" in message
    assert "also weight[" in message


def test_relu_at_zero_is_a_kink_at_zero_even_beside_another_zero():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x.relu(), (leaf([0.5, 0.0, -1.0, 0.0]),))
    message = str(caught.value)
    assert caught.value.on_kink and "(as relu or abs at 0)" in message
    assert "ties with" not in message


def test_a_tie_is_confirmed_by_moving_the_tied_element():
    class MaxToFirst(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.position = int(np.argmax(x))
            return np.asarray(x.max())

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            mask = np.zeros(x.shape)
            mask[ctx.position] = 1.0
            return grad_output * Tensor(mask)

    with pytest.raises(GradcheckError) as caught:
        gradcheck(MaxToFirst.apply, (leaf([-0.3, 0.0, -0.1, 0.0]),))  # a tie at 0
    assert "ties with x[" in str(caught.value) and "removes the kink" in str(caught.value)


class Reversed(Function):
    """2x with a backward that reverses grad_output: only a non-uniform cotangent sees it."""

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(grad_output._data[::-1].copy()) * 2.0


def test_the_fast_mode_report_carries_a_one_line_recipe_that_repeats_it():
    x = leaf(np.random.default_rng(0).normal(size=5))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(Reversed.apply, (x,), fast_mode=True, seed=11)
    error = caught.value
    assert error.quantity.startswith("d (out * v).sum()") and "seed 11" in error.quantity
    recipe = re.search(r"to repeat it: (v = .*?); (numerical_grad\(.*?\]\[.*?\]) is",
                       str(error))
    namespace = {"np": np, "numerical_grad": numerical_grad, "fn": Reversed.apply,
                 "inputs": (x,)}
    exec(recipe.group(1), namespace)
    assert eval(recipe.group(2), namespace) == pytest.approx(error.numerical)
    v = namespace["v"][0]
    (analytic,) = grad(Reversed.apply(x), [x], grad_outputs=[Tensor(v)])
    assert analytic._data[error.index] == pytest.approx(error.analytic)


def test_pytorchs_keyword_names_are_accepted():
    x = leaf(np.random.default_rng(0).normal(size=4))
    tanh = lambda x: x.tanh()  # noqa: E731
    assert gradcheck(tanh, (x,), eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                     nondet_tol=0.0, check_undefined_grad=True, check_batched_grad=False,
                     fast_mode=True)
    assert gradgradcheck(tanh, (x,), fast_mode=False, nondet_tol=1e-12,
                         check_undefined_grad=True, check_batched_grad=False)
    assert gradcheck(tanh, (x,), check_grad_dtypes=True, check_batched_forward_grad=False,
                     check_forward_ad=False, check_backward_ad=True, masked=None)
    assert gradgradcheck(tanh, (x,), check_grad_dtypes=True, check_fwd_over_rev=False,
                         check_rev_over_rev=True, gen_non_contig_grad_outputs=True,
                         masked=False)
    with pytest.raises(ValueError, match="check_batched_grad=True needs vmap"):
        gradcheck(tanh, (x,), check_batched_grad=True)
    with pytest.raises(ValueError, match="check_forward_ad=True needs forward-mode AD"):
        gradcheck(tanh, (x,), check_forward_ad=True)
    with pytest.raises(ValueError, match="check_rev_over_rev=False cannot be turned off"):
        gradgradcheck(tanh, (x,), check_rev_over_rev=False)
    with pytest.raises(ValueError, match="masked=True is for sparse tensors"):
        gradcheck(tanh, (x,), masked=True)
    with pytest.raises(TypeError, match="fast is the old name of fast_mode"):
        gradcheck(tanh, (x,), fast=True, fast_mode=False)
    with pytest.warns(GradcheckWarning, match="differ"):
        assert gradcheck(Reversed.apply, (x,), raise_exception=False) is False


def test_a_backward_not_scaled_by_grad_output_is_reported_as_such():
    class Affine(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2.0 + 0.5

    x = leaf([1.0, 2.0])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(Affine.apply, (x,))
    assert caught.value.kind == "undefined_grad" and "zero grad_output" in str(caught.value)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(Affine.apply, (x,), check_undefined_grad=False)
    assert caught.value.kind == "mismatch"


def test_a_nondeterministic_backward_is_caught_unless_nondet_tol_allows_it():
    rng = np.random.default_rng(0)

    class Noisy(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * (2.0 + 1e-9 * rng.normal())

    x = leaf([1.0, 2.0])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(Noisy.apply, (x,))
    assert caught.value.kind == "nondeterministic"
    assert gradcheck(Noisy.apply, (x,), nondet_tol=1e-6)
