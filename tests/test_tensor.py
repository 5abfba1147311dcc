"""Tensor construction, dtype rules and plain-value conversions (API.md, top level)."""

import numpy as np
import pytest

import tinygrad_cnn as tg


def test_python_floats_become_float32():
    assert tg.Tensor(1.5).dtype == np.float32
    assert tg.Tensor([[1.0, 2.0]]).dtype == np.float32


def test_python_ints_become_int64():
    assert tg.Tensor(3).dtype == np.int64
    assert tg.Tensor([1, 2, 3]).dtype == np.int64


def test_numpy_arrays_keep_their_dtype_and_memory():
    array = np.arange(6, dtype=np.float64).reshape(2, 3)
    tensor = tg.Tensor(array)
    assert tensor.dtype == np.float64
    assert np.shares_memory(tensor.data, array)
    assert tg.Tensor(np.arange(3, dtype=np.int32)).dtype == np.int32


def test_dtype_argument_overrides():
    assert tg.Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_tensor_of_tensor_wraps_its_data():
    inner = tg.Tensor([1.0, 2.0])
    assert np.shares_memory(tg.Tensor(inner).numpy(), inner.numpy())


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        tg.Tensor([1, 2, 3], requires_grad=True)


def test_requires_grad_cannot_be_set_on_a_non_leaf():
    x = tg.Tensor([1.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_unsupported_data_is_a_type_error():
    with pytest.raises(TypeError, match="unsupported data type"):
        tg.Tensor(["a", "b"])


def test_ragged_lists_are_a_value_error():
    with pytest.raises(ValueError, match="Tensor: cannot make an array"):
        tg.Tensor([[1.0, 2.0], [3.0]])


def test_scalars_do_not_change_the_tensor_dtype():
    x = tg.Tensor(np.ones(3, dtype=np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (x + np.float64(1.0)).dtype == np.float32
    assert (2 * x).dtype == np.float32
    assert (x ** 2).dtype == np.float32


def test_integer_tensor_with_float_scalar_gives_float32():
    assert (tg.Tensor([1, 2]) * 0.5).dtype == np.float32


def test_integer_true_division_gives_float32():
    result = tg.Tensor([1, 2]) / tg.Tensor([2, 4])
    assert result.dtype == np.float32
    np.testing.assert_allclose(result.data, [0.5, 0.5])


def test_float32_with_float64_promotes_as_numpy():
    a = tg.Tensor(np.ones(2, dtype=np.float32))
    b = tg.Tensor(np.ones(2, dtype=np.float64))
    assert (a + b).dtype == np.float64


def test_numpy_array_on_the_left_gives_a_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    result = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(result, tg.Tensor)
    result.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_plain_values_out():
    x = tg.Tensor([[1.0, 2.0]])
    assert x.tolist() == [[1.0, 2.0]]
    assert isinstance(x.numpy(), np.ndarray)
    assert np.asarray(x) is x.numpy()
    assert tg.Tensor([3.5]).item() == 3.5
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        x.item()


def test_facts_follow_numpy():
    x = tg.zeros(2, 3, 4)
    assert (x.shape, x.ndim, x.numel(), x.dtype, len(x)) == ((2, 3, 4), 3, 24, np.float32, 2)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.dim() == 3
    assert isinstance(x.size(), tg.Size) and x.size().numel() == 24


def test_repr_shows_data_dtype_and_grad_fn():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(tg.tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=tinygrad_cnn.float64)"
    assert "grad_fn=<MulBackward0>" in repr(x * 2.0)


def test_detach_shares_data_outside_the_graph():
    x = tg.Tensor([1.0], requires_grad=True)
    y = (x * 2.0).detach()
    assert y.grad_fn is None and not y.requires_grad
    assert y.is_leaf


def test_comparisons_return_bool_tensors_without_grad():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    result = x > 1.5
    assert result.dtype == np.bool_ and not result.requires_grad
    assert (x == x).tolist() == [True, True, True]
    assert (x != 2.0).tolist() == [True, False, True]
    assert (x <= 2.0).tolist() == [True, True, False]


def test_argmax_argmin_return_int64_without_grad():
    x = tg.Tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    assert x.argmax().item() == 2
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert x.argmin(axis=0).tolist() == [0, 1]
    assert x.argmax(1).dtype == np.int64 and not x.argmax(1).requires_grad


def test_factories_take_sizes_both_ways():
    assert tg.zeros(2, 3).shape == tg.zeros((2, 3)).shape == (2, 3)
    assert tg.ones([4]).dtype == np.float32
    assert tg.zeros(2, dtype=np.float64).dtype == np.float64
    assert tg.ones(2, requires_grad=True).requires_grad
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert tg.zeros_like(tg.ones(2, 2, dtype=np.float64)).dtype == np.float64
    with pytest.raises(RuntimeError, match="zeros: sizes must be non-negative"):
        tg.zeros(2, -1)


def test_random_factories_follow_manual_seed():
    tg.manual_seed(7)
    first = tg.randn(3, 4).numpy().copy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(first, tg.randn(3, 4))
    assert tg.rand(100).data.min() >= 0.0 and tg.rand(100).data.max() < 1.0


def test_tensor_factory_copies():
    array = np.ones(3, dtype=np.float32)
    assert not np.shares_memory(tg.tensor(array).data, array)


def test_cast_is_differentiable():
    x = tg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_integer_tensor_to_a_fractional_power_is_float():
    result = tg.Tensor([4, 9]) ** 0.5
    assert result.dtype == np.float32 and result.tolist() == [2.0, 3.0]


def test_integer_tensor_to_a_negative_integer_power_is_a_clear_error():
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        tg.Tensor([4]) ** -1


@pytest.mark.parametrize("method", ["exp", "log", "sqrt", "sigmoid", "tanh"])
def test_float_only_ops_make_integer_tensors_the_default_float(method):
    result = getattr(tg.Tensor([1, 2]), method)()
    assert result.dtype == np.float32
    np.testing.assert_allclose(result.data, getattr(tg.Tensor([1.0, 2.0]), method)().data)


def test_a_0d_operand_does_not_widen_a_dimensioned_one():
    x = tg.Tensor(np.ones(3, dtype=np.float32))
    assert (x + tg.Tensor(np.float64(2.0))).dtype == np.float32
    assert (x * np.array(2.0)).dtype == np.float32
    assert (x + tg.Tensor(np.ones(3))).dtype == np.float64


def test_concatenating_int_and_float32_gives_float32():
    assert tg.cat([tg.Tensor([1, 2]), tg.Tensor([1.0])]).dtype == np.float32


def test_mean_and_var_need_floating_tensors():
    with pytest.raises(RuntimeError, match="mean: input must be a floating point tensor"):
        tg.Tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="var: input must be a floating point tensor"):
        tg.Tensor([1, 2]).var()


def test_negating_a_bool_tensor_is_a_runtime_error_naming_neg():
    for negate in (lambda t: -t, tg.neg, tg.Tensor.neg):
        with pytest.raises(RuntimeError, match="neg: input must not be a bool tensor"):
            negate(tg.Tensor([True, False]))


def test_0d_tensors_accept_axis_0_and_minus_1():
    x = tg.Tensor(3.0)
    for result in (x.sum(0), x.sum(-1), x.max(0).values, x.amax(0), x.mean(-1),
                   x.transpose(0, -1)):
        assert result.shape == () and result.item() == 3.0
    assert tg.functional.softmax(x, 0).item() == 1.0


def test_clip_with_float_bounds_makes_integers_float():
    assert tg.Tensor([1, 2, 3]).clip(0.5, 2.5).tolist() == [1.0, 2.0, 2.5]


def test_numpy_array_of_a_tensor_copies_when_asked():
    x = tg.Tensor([1.0, 2.0])
    copy = np.array(x)
    copy[0] = 99.0
    assert x.tolist() == [1.0, 2.0]


def test_iterating_over_a_0d_tensor_is_an_error():
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(tg.Tensor(1.0))
    assert [t.item() for t in tg.Tensor([1.0, 2.0])] == [1.0, 2.0]


def test_abs_builtin_works():
    assert abs(tg.Tensor([-2.0])).tolist() == [2.0]


def test_softmax_over_an_empty_axis_returns_the_empty_shape():
    assert tg.functional.softmax(tg.zeros(2, 0), axis=1).shape == (2, 0)
