"""The 2x2 stride-2 max pool kernels of ``ops/pool_windows.py`` against the scan over kernel
offsets and direct loops: both ways of splitting windows (unsigned words and the strided
copy), plane groups that do not divide the planes, every tie pattern, NaN, inf and -inf,
and the bit-exact scatter of the gradient (inf, NaN and -0.0 stay on the chosen element).
The end-to-end and PyTorch tests of max pooling are in test_pool*.py."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn.ops import pool_windows
from tinygrad_cnn.ops.bits import unsigned
from tinygrad_cnn.ops.geometry import WindowGeometry
from tinygrad_cnn.ops.pool_windows import (
    _max_pool_scan,
    _pairs_of_pairs,
    _window_splitter,
    gather_from_windows,
    max_pool_forward,
    pad_for_windows,
    scatter_to_windows,
    window_view,
)

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int16, np.int8, np.uint8]


def geometry_2x2(height, width):
    return WindowGeometry((height, width), (height // 2, width // 2), (2, 2), (2, 2),
                          ((0, 0), (0, 0)), (1, 1))


def scan(x, geometry):
    """The reference kernel: a scan over the four offsets of the strided window view."""
    windows = window_view(pad_for_windows(x, geometry), geometry)
    return _max_pool_scan(windows, geometry, True)


def loop_first_max(x):
    """(max, offset of its first occurrence, or of the last NaN) of every 2x2 window, by a
    Python loop over windows: ``x`` (P, H, W) -> two (P, H // 2, W // 2) arrays."""
    planes, height, width = x.shape
    best = np.empty((planes, height // 2, width // 2), x.dtype)
    where = np.empty(best.shape, np.int8)
    for p, r, c in np.ndindex(best.shape):
        window = [x[p, 2 * r + i, 2 * c + j] for i in (0, 1) for j in (0, 1)]
        k = 0
        for t in range(1, 4):
            if window[t] > window[k] or np.isnan(window[t]):
                k = t
        best[p, r, c], where[p, r, c] = window[k], k
    return best, where


def every_tie_pattern(dtype):
    """All windows over {0, 1, 2} (every tie pattern), plus NaN / inf / -inf windows for
    floats, as a (count, 2, 2) array."""
    patterns = [list(w) for w in itertools.product([0, 1, 2], repeat=4)]
    if np.dtype(dtype).kind == "f":
        inf = np.inf
        patterns += [[np.nan, 1, 2, 0], [1, np.nan, np.nan, 2], [2, 2, 1, np.nan],
                     [np.nan] * 4, [inf, inf, 1, inf], [-inf] * 4, [-inf, 0, -inf, 0],
                     [1, inf, np.nan, inf], [-0.0, 0.0, 0.0, -0.0], [0.0, -0.0, -0.0, 0.0]]
    with np.errstate(invalid="ignore"):
        return np.array(patterns, dtype=np.float64).astype(dtype).reshape(-1, 2, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["even", "odd", "strided"])
def test_every_window_gets_the_first_maximum_or_the_last_nan(dtype, layout):
    # layout "even" takes the word split (1-, 2-, 4-byte elements); "odd" (an odd last row
    # and column, which floor mode leaves out), "strided" (a non-contiguous input) and
    # 8-byte elements the strided copy
    windows = every_tie_pattern(dtype)
    count = len(windows)
    side = int(np.ceil(np.sqrt(count)))
    padded = np.concatenate([windows, np.repeat(windows[:1], side * side - count, axis=0)])
    plane = padded.reshape(side, side, 2, 2).transpose(0, 2, 1, 3).reshape(2 * side, 2 * side)
    x = np.stack([plane, plane[::-1, ::-1]])[None]             # (1, 2, 2s, 2s)
    if layout == "odd":
        x = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))
    elif layout == "strided":
        x = np.repeat(x, 2, axis=-1)[..., ::2]
    geometry = geometry_2x2(*x.shape[-2:])
    assert _pairs_of_pairs(geometry)
    best, index = max_pool_forward(x, geometry)
    ref_best, ref_index = loop_first_max(x.reshape(-1, *x.shape[-2:]))
    np.testing.assert_array_equal(best.reshape(ref_best.shape), ref_best)
    np.testing.assert_array_equal(index.reshape(ref_index.shape), ref_index)
    scan_best, scan_index = scan(x, geometry)
    np.testing.assert_array_equal(best, scan_best)
    nan = np.isnan(best) if np.dtype(dtype).kind == "f" else np.zeros(best.shape, bool)
    np.testing.assert_array_equal(index[~nan], scan_index[~nan])


def test_the_word_split_and_the_strided_copy_give_the_same_planes():
    x = np.random.default_rng(0).standard_normal((5, 6, 8)).astype(np.float32)
    geometry = geometry_2x2(6, 8)
    by_words = _window_splitter(x, geometry, 5)(1, 4)
    strided = np.repeat(x, 2, axis=-1)[..., ::2]
    assert not strided.flags.c_contiguous
    by_copy = _window_splitter(strided, geometry, 5)(1, 4)
    expected = x[1:4].reshape(3, 3, 2, 4, 2).transpose(4, 2, 0, 1, 3).reshape(2, 2, -1)
    np.testing.assert_array_equal(by_words, expected)
    np.testing.assert_array_equal(by_copy, expected)


@pytest.mark.parametrize("dtype", DTYPES + [np.bool_])
@pytest.mark.parametrize("group_bytes", [1, 200, 1 << 19])
def test_the_scatter_by_rows_and_by_strided_slices_give_the_same_bits(dtype, group_bytes,
                                                                      monkeypatch):
    rng = np.random.default_rng(3)
    geometry = geometry_2x2(6, 8)
    index = rng.integers(0, 4, (2, 3, 3, 4)).astype(np.int8)
    with np.errstate(invalid="ignore", over="ignore"):
        g = (rng.standard_normal((2, 3, 3, 4)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        g.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    monkeypatch.setattr(pool_windows, "_SCATTER_GROUP_BYTES", group_bytes)
    assert pool_windows._scatter_by_rows(g, geometry) == (np.dtype(dtype).itemsize <= 4)
    by_rows = scatter_to_windows(g, index, geometry)
    monkeypatch.setattr(pool_windows, "_scatter_by_rows", lambda g, geometry: False)
    by_slices = scatter_to_windows(g, index, geometry)
    assert by_rows.dtype == by_slices.dtype == g.dtype and by_rows.shape == (2, 3, 6, 8)
    bits = unsigned(g.dtype.itemsize)
    np.testing.assert_array_equal(by_rows.view(bits), by_slices.view(bits))
    # and against a loop over windows: each value on its chosen element, +0 elsewhere
    expected = np.zeros((2, 3, 6, 8), dtype)
    for p, q, r, c in np.ndindex(index.shape):
        k = index[p, q, r, c]
        expected[p, q, 2 * r + k // 2, 2 * c + k % 2] = g[p, q, r, c]
    np.testing.assert_array_equal(by_rows.view(bits), expected.view(bits))


def test_the_scatter_by_rows_leaves_odd_inputs_and_wide_elements_to_the_slices():
    g = np.zeros((1, 2, 2), np.float32)
    assert pool_windows._scatter_by_rows(g, geometry_2x2(4, 4))
    assert not pool_windows._scatter_by_rows(g, geometry_2x2(5, 4))   # a row no window reads
    assert not pool_windows._scatter_by_rows(g.astype(np.float64), geometry_2x2(4, 4))
    assert not pool_windows._scatter_by_rows(g[:, :0], geometry_2x2(4, 4))


@settings(max_examples=25, deadline=None)
@given(planes=st.integers(1, 7), height=st.integers(2, 9), width=st.integers(2, 9),
       group_bytes=st.sampled_from([1, 100, 300, 1 << 18]),
       dtype=st.sampled_from([np.float32, np.float64, np.int16]), seed=st.integers(0, 999))
def test_plane_groups_of_any_size_match_the_scan(planes, height, width, group_bytes, dtype,
                                                 seed):
    # few distinct values: many ties; groups that leave a shorter last group
    x = np.random.default_rng(seed).integers(-2, 3, (planes, height, width)).astype(dtype)
    geometry = geometry_2x2(height, width)
    saved = pool_windows._PAIR_GROUP_BYTES, pool_windows._SCATTER_GROUP_BYTES
    try:
        pool_windows._PAIR_GROUP_BYTES = pool_windows._SCATTER_GROUP_BYTES = group_bytes
        best, index = max_pool_forward(x, geometry)
        g = np.random.default_rng(seed + 1).standard_normal(best.shape).astype(dtype)
        canvas = scatter_to_windows(g, index, geometry)
    finally:
        pool_windows._PAIR_GROUP_BYTES, pool_windows._SCATTER_GROUP_BYTES = saved
    scan_best, scan_index = scan(x, geometry)
    np.testing.assert_array_equal(best, scan_best)
    np.testing.assert_array_equal(index, scan_index)
    expected = np.zeros_like(x)
    rows, cols = np.indices(best.shape[-2:])
    for p in range(planes):
        expected[p, 2 * rows + index[p] // 2, 2 * cols + index[p] % 2] = g[p]
    np.testing.assert_array_equal(canvas, expected)
    np.testing.assert_array_equal(gather_from_windows(x, index, geometry), best)


def test_gather_and_scatter_of_overlapping_padded_windows_are_exact_for_inf_and_nan():
    # 3x3 windows at stride 2 with padding 1: the bit-exact gather outside the 2x2 kernels
    geometry = WindowGeometry((5, 5), (3, 3), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1))
    x = np.arange(25.0).reshape(1, 5, 5)
    x[0, 0, 0], x[0, 4, 4], x[0, 2, 1] = np.inf, np.nan, -np.inf
    _, index = max_pool_forward(x, geometry)
    picked = gather_from_windows(x, index, geometry)
    windows = window_view(pad_for_windows(x, geometry, -np.inf), geometry)
    expected = np.take_along_axis(windows.reshape(1, 9, 3, 3), index[:, None].astype(int),
                                  axis=1)[:, 0]
    np.testing.assert_array_equal(picked, expected)
    g = np.array([[[np.inf, 1.0, -2.0], [7.0, 0.5, -0.0], [3.0, -np.inf, 4.0]]])
    expected = np.zeros((1, 7, 7))   # the padded canvas, added into by a loop over windows
    for r, c in np.ndindex(3, 3):
        k = index[0, r, c]
        expected[0, 2 * r + k // 3, 2 * c + k % 3] += g[0, r, c]
    np.testing.assert_array_equal(scatter_to_windows(g, index, geometry),
                                  expected[:, 1:6, 1:6])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_scatter_keeps_inf_nan_and_negative_zero_on_the_chosen_element_only(dtype):
    geometry = geometry_2x2(4, 6)
    index = np.array([[[0, 1, 2], [3, 0, 3]]], np.int8)
    g = np.array([[[np.inf, -np.inf, np.nan], [-0.0, 2.0, -3.0]]], dtype)
    canvas = scatter_to_windows(g, index, geometry)
    rows, cols = np.indices(index.shape[-2:])
    where = (0, 2 * rows + index[0] // 2, 2 * cols + index[0] % 2)
    np.testing.assert_array_equal(canvas[where], g[0])
    assert (np.signbit(canvas[where]) == np.signbit(g[0])).all()
    chosen = np.zeros(canvas.shape, bool)
    chosen[where] = True
    others = canvas[~chosen]
    assert (others == 0).all() and not np.signbit(others).any()  # +0.0, as PyTorch's zeros
    np.testing.assert_array_equal(gather_from_windows(canvas, index, geometry), g)


def test_max_pool_without_the_index_is_the_same_maximum():
    x = np.random.default_rng(2).standard_normal((3, 4, 10, 12)).astype(np.float32)
    geometry = geometry_2x2(10, 12)
    best, index = max_pool_forward(x, geometry, with_index=False)
    assert index is None
    np.testing.assert_array_equal(best, max_pool_forward(x, geometry)[0])
