"""pad and interpolate: values against element loops, gradients, errors (the generic
gradcheck, gradgradcheck, dtype and PyTorch tests run from ``tests/op_registry.py``)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import pad_ref, upsample_nearest_ref

import tinygrad_cnn.functional as F
from tinygrad_cnn.tensor import Tensor


def randn(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ pad
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 2), st.integers(0, 2)),
                min_size=1, max_size=4), st.floats(-2, 2))
def test_pad_matches_the_element_loop_reference(axes, value):
    shape = tuple(n for n, _, _ in axes)
    widths = tuple((b, a) for _, b, a in axes)
    x = randn(shape)
    np.testing.assert_array_equal(F.pad(Tensor(x), widths, value).data,
                                  pad_ref(x, widths, value))


@pytest.mark.parametrize("widths", [1, (2,), (1, 2), ((1, 2),), ((0, 0), (1, 0), (0, 2))])
def test_pad_accepts_numpy_pad_width_forms(widths):
    x = randn((2, 3, 4))
    expected = np.pad(x, widths, constant_values=0.5)
    np.testing.assert_array_equal(F.pad(Tensor(x), widths, 0.5).data, expected)


def test_pad_gradient_is_the_slice_inside_the_padding():
    x = Tensor(randn((2, 3)), requires_grad=True)
    y = F.pad(x, ((1, 0), (2, 1)))
    g = randn(y.shape, seed=1)
    y.backward(g)
    np.testing.assert_array_equal(x.grad, g[1:, 2:-1])


@pytest.mark.parametrize("widths,error,words", [
    (((0, 0), (-1, 1)), ValueError, ["pad", "non-negative"]),
    (-1, ValueError, ["pad", "non-negative"]),
    (((0, 0), (1, 1), (1, 1)), ValueError, ["pad", "2 dimensions"]),
    (1.5, TypeError, ["pad", "ints"]),
    ("1", TypeError, ["pad", "ints"]),
    (((1, 1), (True, 1)), TypeError, ["pad", "ints"]),
])
def test_pad_bad_widths_raise_a_clear_error(widths, error, words):
    with pytest.raises(error) as info:
        F.pad(Tensor(np.zeros((2, 2))), widths)
    for word in words:
        assert word in str(info.value)


def test_pad_non_number_value_raises_type_error():
    with pytest.raises(TypeError, match="pad: value"):
        F.pad(Tensor(np.zeros((2, 2))), 1, value="x")


# ------------------------------------------------------------------ interpolate
@settings(max_examples=30, deadline=None)
@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
       st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_interpolate_matches_the_element_loop_reference(shape, scale):
    x = randn(shape)
    np.testing.assert_array_equal(F.interpolate(Tensor(x), scale).data,
                                  upsample_nearest_ref(x, scale))


def test_interpolate_gradient_sums_each_block():
    x = Tensor(randn((2, 3, 3, 4)), requires_grad=True)
    y = F.interpolate(x, (2, 3))
    g = randn(y.shape, seed=1)
    y.backward(g)
    np.testing.assert_allclose(x.grad, g.reshape(2, 3, 3, 2, 4, 3).sum(axis=(3, 5)))


def test_interpolate_is_the_adjoint_of_sum_pooling():
    # <upsample(a), b> == <a, sum_pool(b)>, sum pooling = average pooling times the block area
    a, b = randn((1, 2, 3, 3)), randn((1, 2, 6, 6), seed=1)
    up = F.interpolate(Tensor(a), 2).data
    pooled = F.avg_pool2d(Tensor(b), 2).data * 4
    assert np.isclose((up * b).sum(), (a * pooled).sum())


def test_interpolate_accepts_whole_float_scale_factors():
    assert F.interpolate(Tensor(np.zeros((1, 1, 2, 2))), 2.0).shape == (1, 1, 4, 4)


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(scale_factor=2, mode="bilinear"), ValueError, ["interpolate", "'nearest'"]),
    (dict(scale_factor=1.5), ValueError, ["interpolate", "integer"]),
    (dict(scale_factor=0), ValueError, ["interpolate", "integer"]),
    (dict(scale_factor=(2, 2, 2)), ValueError, ["interpolate", "spatial"]),
    (dict(scale_factor="2"), TypeError, ["interpolate", "scale_factor"]),
])
def test_interpolate_bad_arguments_raise_a_clear_error(kwargs, error, words):
    with pytest.raises(error) as info:
        F.interpolate(Tensor(np.zeros((1, 1, 2, 2))), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_interpolate_rejects_a_2d_input():
    with pytest.raises(ValueError, match=r"interpolate: .*\(2, 2\)"):
        F.interpolate(Tensor(np.zeros((2, 2))), 2)
