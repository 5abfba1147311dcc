"""Specification of tinygrad_cnn.testing.check_op, the public op-test harness."""

import re
import sys

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from user_functions import Softplus

from tinygrad_cnn import Tensor
from tinygrad_cnn.gradcheck import GradcheckError
from tinygrad_cnn.testing import check_op, make_inputs


class SoftplusWrongGradient(Softplus):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid() * 1.01


class SoftplusArrayBackward(Softplus):
    """Right first derivative, returned as a plain array: first-order only."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.numpy() / (1.0 + np.exp(-x.numpy()))


def softplus_reference(x):
    return np.logaddexp(0.0, x)


small_shapes = st.tuples(array_shapes(min_dims=1, max_dims=3, max_side=3))


def test_a_correct_op_passes_on_generated_shapes():
    check_op(Softplus.apply, softplus_reference, shapes=small_shapes, max_examples=8)


def test_fixed_shapes_with_broadcasting_two_inputs_pass():
    check_op(lambda x, w: (x * w).tanh(), lambda x, w: np.tanh(x * w),
             shapes=[(2, 3), (3,)], max_examples=4)


def test_kwargs_drawn_with_the_shapes_reach_op_and_reference():
    def shapes_and_axis(draw):
        shape = draw(array_shapes(min_dims=2, max_dims=2, max_side=3))
        return [shape], {"axis": draw(st.integers(0, 1))}

    check_op(lambda x, axis: (x * x).sum(axis=axis), lambda x, axis: (x * x).sum(axis=axis),
             shapes=shapes_and_axis, max_examples=6)


def test_a_wrong_forward_fails_with_the_example():
    with pytest.raises(AssertionError, match="differs from the reference") as caught:
        check_op(Softplus.apply, lambda x: np.logaddexp(0.0, x) + 1e-3, shapes=[(2, 2)],
                 max_examples=3, gradcheck=False, gradgrad=False)
    assert "example: shapes=[(2, 2)], seed=" in str(caught.value)
    assert "input 0: [[" in str(caught.value)


def test_a_wrong_output_shape_fails():
    with pytest.raises(AssertionError, match=r"output has shape \(2, 2\) but the reference's"):
        check_op(Softplus.apply, lambda x: softplus_reference(x).sum(), shapes=[(2, 2)],
                 max_examples=2)


def test_an_op_that_changes_the_dtype_fails_when_checking_dtypes():
    with pytest.raises(AssertionError, match="output is float64 for float32 inputs"):
        check_op(lambda x: x.double(), lambda x: x, shapes=[(3,)], dtype=np.float32,
                 max_examples=2, gradcheck=False, gradgrad=False)
    check_op(lambda x: x.double(), lambda x: x, shapes=[(3,)], dtype=np.float32,
             max_examples=2, check_dtype=False, gradgrad=False)


def test_a_wrong_gradient_fails_with_the_example_and_the_gradcheck_report():
    with pytest.raises(GradcheckError) as caught:
        check_op(SoftplusWrongGradient.apply, softplus_reference, shapes=small_shapes,
                 max_examples=5, shrink=False)
    message = str(caught.value)
    assert message.startswith("check_op: example: shapes=")
    assert "gradcheck: input 0" in message and "analytic / numerical = 1.01" in message
    assert caught.value.input_index == 0


def test_failures_shrink_to_a_small_example():
    with pytest.raises(GradcheckError) as caught:
        check_op(SoftplusWrongGradient.apply, softplus_reference, shapes=small_shapes,
                 max_examples=5)
    assert "shapes=[(1,)]" in str(caught.value)


def test_gradgrad_can_be_switched_off_for_a_first_order_op():
    check_op(SoftplusArrayBackward.apply, softplus_reference, shapes=[(3,)], max_examples=2,
             gradgrad=False)
    with pytest.raises(RuntimeError, match="first-order only"):
        check_op(SoftplusArrayBackward.apply, softplus_reference, shapes=[(3,)],
                 max_examples=2, shrink=False)


def test_make_inputs_keeps_values_away_from_avoided_points():
    (values,) = make_inputs([(2000,)], seed=1, elements=(-1.0, 1.0), avoid=(0.0, 0.5),
                            avoid_margin=0.05)
    assert np.abs(values).min() >= 0.05 - 1e-12 and np.abs(values - 0.5).min() >= 0.05 - 1e-12
    assert values.min() >= -1.0 and values.max() <= 1.0


def test_avoid_lets_a_kinked_op_pass():
    check_op(lambda x: x.relu(), lambda x: np.maximum(x, 0.0), shapes=[(4,)], avoid=(0.0,),
             max_examples=5)


def test_make_inputs_rebuilds_the_failing_example_from_its_seed():
    seen = []

    def recording_op(x):
        seen.append(x.numpy().copy())
        return x * 1.0

    with pytest.raises(AssertionError) as caught:
        check_op(recording_op, lambda x: x + 1.0, shapes=[(2, 3)], max_examples=3,
                 gradcheck=False, gradgrad=False)
    seed = int(re.search(r"seed=(\d+)", str(caught.value)).group(1))
    (rebuilt,) = make_inputs([(2, 3)], seed)
    np.testing.assert_array_equal(rebuilt, seen[-1])


def test_gradient_checks_can_be_switched_off_entirely():
    calls = []

    def counting_op(x):
        calls.append(1)
        return x * 1.0

    check_op(counting_op, shapes=[(2, 3)], max_examples=1, gradcheck=False, gradgrad=False)
    assert len(calls) == 1  # only the forward ran


@pytest.mark.parametrize("shapes", [(2, 3), [], [[2, -1]], "2x3"])
def test_shapes_that_are_not_a_list_of_shapes_are_a_type_error(shapes):
    with pytest.raises(TypeError, match="check_op: shapes must give a non-empty list"):
        check_op(Softplus.apply, shapes=shapes, max_examples=1)


def test_missing_shapes_is_a_type_error():
    with pytest.raises(TypeError, match="check_op: shapes is required"):
        check_op(Softplus.apply, softplus_reference)


def test_without_hypothesis_check_op_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match="pip install hypothesis"):
        check_op(Softplus.apply, shapes=[(2,)])


def test_reference_may_be_omitted_to_check_gradients_only():
    check_op(lambda x: x.exp() * Tensor(np.float64(2.0)), shapes=[(2, 2)], max_examples=2)
