"""conv_accuracy's window-energy rule against a brute-force reference (a loop over windows)."""

import numpy as np
import pytest

from tinygrad_cnn.ops import conv_memo
from tinygrad_cnn.ops.conv_accuracy import FFT_MAX_ENERGY_RATIO, _windows_hold_their_share


def _reference(array, box):
    bh, bw = box
    n, _, height, width = array.shape
    wide = array.astype(np.float64)
    for s in range(n):
        total = np.sum(wide[s] ** 2)
        for i in range(-(bh - 1), height):
            for j in range(-(bw - 1), width):
                window = wide[s, :, max(i, 0):i + bh, max(j, 0):j + bw]
                if window.any() and np.sum(window ** 2) * FFT_MAX_ENERGY_RATIO <= total:
                    return False
    return True


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("box", [(1, 1), (3, 2), (4, 4), (7, 9)])
def test_windows_rule_matches_a_loop_over_windows(seed, box):
    rng = np.random.default_rng(seed)
    array = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    array[rng.random(array.shape) < rng.random()] = 0            # empty regions
    faint = rng.random(array.shape) < 0.1 * rng.random()         # a few faint pixels
    array[faint] *= np.float32(10.0 ** -rng.integers(3, 9))
    expected = _reference(array, box)
    assert _windows_hold_their_share(array, box) == expected
    # inside a memo the operand's energy planes serve both boxes of a step
    with conv_memo.reuse({}):
        assert _windows_hold_their_share(array, (1, 1)) == _reference(array, (1, 1))
        assert _windows_hold_their_share(array, box) == expected


def test_rule_sees_both_outcomes():
    ones = np.ones((1, 2, 5, 5), np.float32)
    assert _windows_hold_their_share(ones, (2, 2))
    faint = ones.copy()
    faint[0, :, 0, 0] = 1e-9
    faint[0, :, 0, 1:] = 0
    faint[0, :, 1:, 0] = 0
    faint[0, :, 1, 1] = 0
    assert not _windows_hold_their_share(faint, (2, 2))
    assert _reference(faint, (2, 2)) is False
