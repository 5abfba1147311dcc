"""A forward keeps its input's chunk transforms (im2col's columns, Winograd's tiles) for the
weight gradient of the same input (tinygrad_cnn/ops/conv_memo.py ``keep``/``kept``): the
backward then transforms the input no second time, gets the same gradients bit for bit,
and nothing is kept where no weight gradient follows or the transforms are too large."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.ops import conv_gemm, conv_memo, conv_winograd

CHANNELS, OUT_CHANNELS = 3, 4     # different, so a transform's operand shows in its shape


def _spy_input_side(monkeypatch, algorithm):
    """A list that records the channel count of every input-side transform the kernels of
    ``algorithm`` compute (Winograd: the channels-last tiles; im2col: the columns)."""
    seen = []
    if algorithm == "im2col":
        original = conv_gemm.im2col

        def im2col(x, geometry, **options):
            seen.append(x.shape[1])
            return original(x, geometry, **options)
        monkeypatch.setattr(conv_gemm, "im2col", im2col)
    else:
        original = conv_winograd._input_transform

        def transform(scratch, *args):
            seen.append(scratch.shape[-1])
            return original(scratch, *args)
        monkeypatch.setattr(conv_winograd, "_input_transform", transform)
    return seen


def _operands(seed=3, n=5, size=9):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, CHANNELS, size, size))
    weight = rng.standard_normal((OUT_CHANNELS, CHANNELS, 3, 3))
    cotangent = rng.standard_normal((n, OUT_CHANNELS, size, size))
    return x, weight, cotangent


def _step(algorithm, x, weight, cotangent, weight_grad=True, seen=None):
    """Forward, backward (graph retained), backward again: the gradients of both and how
    many input-side transforms of ``x`` each backward computed."""
    xt = tg.Tensor(x, requires_grad=True)
    wt = tg.Tensor(weight, requires_grad=weight_grad)
    counts = []
    with conv_algorithm(algorithm):
        out = F.conv2d(xt, wt, padding=1)
        grads = []
        for retain in (True, False):
            before = len(seen) if seen is not None else 0
            out.backward(tg.Tensor(cotangent), retain_graph=retain)
            if seen is not None:
                counts.append(seen[before:].count(CHANNELS))
            grads.append((xt.grad.numpy().copy(),
                          None if wt.grad is None else wt.grad.numpy().copy()))
            xt.grad = wt.grad = None
    return out.numpy(), grads, counts


@pytest.mark.parametrize("algorithm", ["im2col", "winograd_f2", "winograd"])
def test_the_weight_gradient_reads_the_forwards_transforms_and_gets_the_same_bits(
        monkeypatch, algorithm):
    x, weight, cotangent = _operands()
    monkeypatch.setattr(conv_memo, "KEEP_BYTES", -1)          # keep nothing: the reference
    expected = _step(algorithm, x, weight, cotangent)
    monkeypatch.undo()
    seen = _spy_input_side(monkeypatch, algorithm)
    out, grads, counts = _step(algorithm, x, weight, cotangent, seen=seen)
    # First backward: the forward's transforms; the second (the memo was emptied) redoes them.
    assert counts[0] == 0 and counts[1] > 0
    np.testing.assert_array_equal(out, expected[0])
    for got, want in zip(grads, expected[1], strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    # ... and they are the im2col gradients.
    reference = _step("im2col", x, weight, cotangent)[1][0]
    for a, b in zip(grads[0], reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("algorithm", ["im2col", "winograd_f2"])
def test_nothing_is_kept_without_a_weight_gradient_or_beyond_the_budget(monkeypatch, algorithm):
    x, weight, cotangent = _operands()
    kept = []
    original = conv_memo.keep

    def keep(*args):
        kept.append(original(*args))
        return kept[-1]
    monkeypatch.setattr(conv_memo, "keep", keep)
    _step(algorithm, x, weight, cotangent, weight_grad=False)
    assert kept and all(k is None for k in kept)              # a frozen weight: nothing
    kept.clear()
    _step(algorithm, x, weight, cotangent)
    assert any(k for k in kept)                               # else the test shows nothing
    kept.clear()
    monkeypatch.setattr(conv_memo, "KEEP_BYTES", x.nbytes)    # smaller than the transforms
    seen = _spy_input_side(monkeypatch, algorithm)
    _, _, counts = _step(algorithm, x, weight, cotangent, seen=seen)
    assert all(k is None for k in kept) and counts[0] > 0


def test_threads_and_float32_share_the_same_bands(monkeypatch):
    x, weight, cotangent = (a.astype(np.float32) for a in _operands(seed=4, n=6, size=14))
    monkeypatch.setattr(conv_memo, "KEEP_BYTES", -1)
    expected = _step("winograd_f2", x, weight, cotangent)
    monkeypatch.undo()
    threads = tg.get_num_threads()
    tg.set_num_threads(2)
    try:
        seen = _spy_input_side(monkeypatch, "winograd_f2")
        out, grads, counts = _step("winograd_f2", x, weight, cotangent, seen=seen)
    finally:
        tg.set_num_threads(threads)
    assert counts[0] == 0 and grads[0][1].dtype == np.float32
    for a, b in zip(grads[0], expected[1][0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_memo_says_which_transforms_it_holds_for_an_array():
    x, other = np.ones((2, 3)), np.ones((2, 3))
    assert conv_memo.holds(x) == set()                     # no memo open
    with conv_memo.reuse({}):
        conv_memo.offer("phase planes", x, ("geometry", 1), "planes")
        conv_memo.remembered("finite", x, None, lambda: np.True_)
        conv_memo.offer("phase grid", other, None, "grid")
        assert conv_memo.holds(x) == {"phase planes", "finite"}
        assert conv_memo.holds(other) == {"phase grid"}
        assert conv_memo.holds(np.ones((2, 3))) == set()    # equal values, another array
