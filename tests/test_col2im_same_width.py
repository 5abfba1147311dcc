"""col2im's flat path (``ops/im2col.py``, ``overwrite_cols=True`` on a stride-1 geometry whose
output rows are as wide as the input's): each kernel offset added as long flat runs, the
positions that would wrap into a neighbouring row zeroed first. It must give the canvas
path's result to the bit (the same adds in the same order onto zeros), inf, NaN and -0.0
included, for every padding, dilation and kernel shape where it applies, into a given
``out`` (contiguous or not) or a new array; and a direct loop over windows agrees."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn.ops import im2col as unfold
from tinygrad_cnn.ops.geometry import WindowGeometry, conv_output_size


def canvas_col2im(cols, geometry, channels):
    """The general path: strided adds onto a padded canvas."""
    return unfold.col2im(cols, geometry, channels, overwrite_cols=False)


def loop_col2im(cols, geometry, channels):
    """A direct loop over images, channels, kernel offsets and output positions (float64)."""
    n = cols.shape[0]
    (height, width), (ho, wo) = geometry.in_size, geometry.out_size
    (top, _), (left, _) = geometry.padding
    (dh, dw) = geometry.dilation
    blocks = cols.reshape((n, channels) + geometry.kernel + (ho, wo)).astype(np.float64)
    image = np.zeros((n, channels, height, width))
    for i, j, y, x in itertools.product(range(geometry.kernel[0]), range(geometry.kernel[1]),
                                        range(ho), range(wo)):
        row, col = y + i * dh - top, x + j * dw - left
        if 0 <= row < height and 0 <= col < width:
            image[:, :, row, col] += blocks[:, :, i, j, y, x]
    return image


def same_width_geometries():
    for (height, width), (kh, kw), (dh, dw) in itertools.product(
            [(5, 5), (7, 4), (1, 6), (6, 1)], [(1, 1), (3, 3), (2, 3), (5, 5), (3, 1)],
            [(1, 1), (2, 1), (1, 3)]):
        for top, bottom, left, right in itertools.product(range(4), repeat=4):
            ho = conv_output_size(height, kh, 1, (top, bottom), dh)
            wo = conv_output_size(width, kw, 1, (left, right), dw)
            geometry = WindowGeometry((height, width), (ho, wo), (kh, kw), (1, 1),
                                      ((top, bottom), (left, right)), (dh, dw))
            if ho > 0 and unfold.same_width_shifts(geometry) is not None:
                yield geometry


GEOMETRIES = list(same_width_geometries())


def test_the_flat_path_applies_only_at_stride_one_with_output_rows_as_wide_as_the_input():
    assert len(GEOMETRIES) > 500
    same = WindowGeometry((8, 8), (8, 8), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))
    narrower = WindowGeometry((8, 8), (6, 6), (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1))
    strided = WindowGeometry((8, 8), (4, 4), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1))
    assert unfold.same_width_shifts(same) is not None
    assert unfold.same_width_shifts(narrower) is None
    assert unfold.same_width_shifts(strided) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_to_the_canvas_path_inf_nan_and_signed_zero_included(dtype):
    rng = np.random.default_rng(0)
    for geometry in GEOMETRIES:
        (ho, wo), kernel = geometry.out_size, geometry.kernel
        cols = rng.standard_normal((2, 3 * kernel[0] * kernel[1], ho * wo)).astype(dtype)
        cols[0, 0, 0], cols[1, -1, -1], cols[0, -1, 0] = np.inf, np.nan, -0.0
        cols[1, 0, -1] = -np.inf
        expected = canvas_col2im(cols.copy(), geometry, 3)
        out = np.full((2, 3) + geometry.in_size, 7, dtype)
        got = unfold.col2im(cols.copy(), geometry, 3, out=out, overwrite_cols=True)
        assert got is out
        assert np.array_equal(got, expected, equal_nan=True), geometry
        assert np.array_equal(np.signbit(got), np.signbit(expected)), geometry
        fresh = unfold.col2im(cols.copy(), geometry, 3, overwrite_cols=True)
        assert np.array_equal(fresh, expected, equal_nan=True), geometry
        strided_out = np.full((3, 2) + geometry.in_size, 7, dtype).transpose(1, 0, 2, 3)
        unfold.col2im(cols.copy(), geometry, 3, out=strided_out, overwrite_cols=True)
        assert np.array_equal(strided_out, expected, equal_nan=True), geometry


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(GEOMETRIES) - 1), seed=st.integers(0, 2**31 - 1))
def test_matches_a_direct_loop_over_windows(index, seed):
    geometry = GEOMETRIES[index]
    (ho, wo), kernel = geometry.out_size, geometry.kernel
    cols = np.random.default_rng(seed).standard_normal((2, 2 * kernel[0] * kernel[1], ho * wo))
    expected = loop_col2im(cols, geometry, 2)
    got = unfold.col2im(cols.copy(), geometry, 2, overwrite_cols=True)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_without_overwrite_the_columns_are_left_alone():
    geometry = WindowGeometry((6, 6), (6, 6), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))
    cols = np.random.default_rng(1).standard_normal((2, 9, 36))
    before = cols.copy()
    unfold.col2im(cols, geometry, 1)
    assert np.array_equal(cols, before)
