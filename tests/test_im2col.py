"""unfold / fold (im2col / col2im): layout and adjointness (the generic gradcheck,
gradgradcheck, dtype and PyTorch tests run from ``tests/op_registry.py``)."""

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F


def tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


@st.composite
def window_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
                 for k, d, p in zip(kernel, dilation, padding, strict=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size)
    return x, dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)


@settings(max_examples=60, deadline=None)
@given(window_cases())
def test_unfold_matches_window_loop_in_row_major_order(case):
    x, options = case
    np.testing.assert_array_equal(F.unfold(tensor(x), **options).data,
                                  reference.unfold(x, **options))


@settings(max_examples=60, deadline=None)
@given(window_cases())
def test_fold_is_the_adjoint_of_unfold(case):
    # <fold(a), b> == <a, unfold(b)> for every a, b of matching shapes.
    x, options = case
    cols = F.unfold(tensor(x), **options).data
    rng = np.random.default_rng(0)
    a = rng.standard_normal(cols.shape)
    folded = F.fold(tensor(a), x.shape[2:], **options).data
    assert folded.shape == x.shape
    assert np.vdot(folded, x) == pytest.approx(np.vdot(a, cols), rel=1e-10, abs=1e-10)


def test_fold_of_unfold_counts_the_windows_covering_each_pixel():
    ones = tensor(np.ones((1, 1, 4, 4)))
    counts = F.fold(F.unfold(ones, 3, padding=1), (4, 4), 3, padding=1).data[0, 0]
    expected = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(counts, expected)


def test_conv2d_is_the_weight_matrix_times_unfold():
    rng = np.random.default_rng(1)
    x, weight = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    cols = F.unfold(tensor(x), (3, 2), padding=1, stride=2).data
    product = weight.reshape(4, -1) @ cols
    out = F.conv2d(tensor(x), tensor(weight), padding=1, stride=2).data
    np.testing.assert_allclose(product.reshape(out.shape), out, rtol=1e-12)


def test_lecture_column_order_matrix_is_unfold_with_rows_and_columns_permuted():
    # The lecture's A' for the 3x4 example lists each window's entries down then right, and
    # the windows down then right; unfold is row-major in both, so A' = U[row_perm][:, col_perm].
    image = np.array([[1, 2, 3, 1], [4, 5, 6, 1], [7, 8, 9, 1]], dtype=np.float64)
    lecture_a_prime = np.array([[1, 4, 2, 5, 3, 6], [4, 7, 5, 8, 6, 9],
                                [2, 5, 3, 6, 1, 1], [5, 8, 6, 9, 1, 1]], dtype=np.float64)
    cols = F.unfold(tensor(image[None, None]), 2).data[0]
    kernel_offsets_by_column = [0, 2, 1, 3]       # (0,0) (1,0) (0,1) (1,1)
    windows_by_column = [0, 3, 1, 4, 2, 5]       # output 2x3 read down the columns
    np.testing.assert_array_equal(cols[kernel_offsets_by_column][:, windows_by_column],
                                  lecture_a_prime)
    np.testing.assert_array_equal(lecture_a_prime.T @ np.full(4, 2.0), [24, 48, 32, 56, 22, 34])


def test_unfold_result_does_not_alias_the_input():
    x = tensor(np.ones((1, 2, 3, 3)))
    cols = F.unfold(x, 1)
    cols.data[...] = 5.0
    assert x.data.max() == 1.0


def test_unbatched_unfold_and_fold():
    x = np.arange(18.0).reshape(2, 3, 3)
    cols = F.unfold(tensor(x), 2)
    assert cols.shape == (8, 4)
    np.testing.assert_array_equal(cols.data, reference.unfold(x[None], (2, 2))[0])
    assert F.fold(cols, 3, 2).shape == (2, 3, 3)


