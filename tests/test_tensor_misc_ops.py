"""The small torch-level functions (tinygrad_cnn.tensor_misc): hypothesis against direct numpy
loops, ties and indices as PyTorch's, the non-differentiable ones against PyTorch, random
draws from the seeded generator, and bad input.  Gradients of the differentiable ones run from
tests/op_registry.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg

SMALL_INTS = hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                        elements=st.integers(-3, 3))


# ------------------------------------------------------------------ loops as references
def _rows(array, dim):
    """``array`` with ``dim`` moved last, as a list of rows, and the other dims' shape."""
    moved = np.moveaxis(array, dim, -1)
    return [moved[index] for index in np.ndindex(moved.shape[:-1])], moved.shape[:-1]


@settings(max_examples=40, deadline=None)
@given(array=SMALL_INTS, data=st.data())
def test_median_kthvalue_and_mode_match_row_loops(array, data):
    dim = data.draw(st.integers(0, array.ndim - 1))
    k = data.draw(st.integers(1, array.shape[dim]))
    x = tg.tensor(array.astype(np.float64))
    rows, shape = _rows(array, dim)
    median, kth, mode = tg.median(x, dim), tg.kthvalue(x, k, dim), tg.mode(x, dim)
    for index, row in zip(np.ndindex(shape), rows):
        ordered = sorted(row)
        assert median.values.numpy()[index] == ordered[(len(row) - 1) // 2]
        assert kth.values.numpy()[index] == ordered[k - 1]
        counts = {value: list(row).count(value) for value in row}
        best = min(value for value in counts if counts[value] == max(counts.values()))
        assert mode.values.numpy()[index] == best
        assert mode.indices.numpy()[index] == max(i for i, v in enumerate(row) if v == best)
        assert row[median.indices.numpy()[index]] == median.values.numpy()[index]
        assert row[kth.indices.numpy()[index]] == kth.values.numpy()[index]


@settings(max_examples=40, deadline=None)
@given(array=hnp.arrays(np.float64, st.integers(1, 9), elements=st.floats(-5, 5)),
       q=st.floats(0, 1), interpolation=st.sampled_from(
           ["linear", "lower", "higher", "midpoint", "nearest"]))
def test_quantile_matches_the_sorted_list_formula(array, q, interpolation):
    ordered = sorted(array)
    rank = q * (len(ordered) - 1)
    low, high = int(np.floor(rank)), int(np.ceil(rank))
    expected = {"linear": ordered[low] + (ordered[high] - ordered[low]) * (rank - low),
                "lower": ordered[low], "higher": ordered[high],
                "midpoint": (ordered[low] + ordered[high]) / 2,
                "nearest": ordered[int(np.rint(rank))]}[interpolation]
    out = tg.quantile(tg.tensor(array), q, interpolation=interpolation)
    assert out.shape == () and out.item() == pytest.approx(expected, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_matches_the_index_loop(sizes, indexing):
    vectors = [np.arange(n, dtype=np.float64) * (k + 1) for k, n in enumerate(sizes)]
    grids = tg.meshgrid(*[tg.tensor(v) for v in vectors], indexing=indexing)
    for grid, expected in zip(grids, np.meshgrid(*vectors, indexing=indexing)):
        np.testing.assert_array_equal(grid.numpy(), expected)


@settings(max_examples=30, deadline=None)
@given(length=st.integers(0, 9), sections=st.integers(1, 5))
def test_tensor_split_sizes_follow_array_split(length, sections):
    parts = tg.tensor_split(tg.arange(length), sections)
    assert [p.shape[0] for p in parts] == [len(a) for a in
                                           np.array_split(np.arange(length), sections)]


def test_bincount_matches_the_counting_loop():
    values = np.array([0, 3, 3, 1, 3])
    counts = np.zeros(6, np.int64)
    for v in values:
        counts[v] += 1
    out = tg.bincount(tg.tensor(values), minlength=6)
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), counts)


def test_diag_of_a_vector_and_back():
    v = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    matrix = tg.diag(v, 1)
    assert matrix.shape == (4, 4)
    np.testing.assert_array_equal(tg.diag(matrix, 1).numpy(), [1.0, 2.0, 3.0])
    (matrix * tg.arange(16.0, dtype=tg.float64).reshape(4, 4)).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 6.0, 11.0])


def test_meshgrid_views_take_gradients_back():
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0, 5.0],
                                                               requires_grad=True)
    x, y = tg.meshgrid(a, b, indexing="ij")
    (x * y).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [12.0, 12.0])
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 3.0, 3.0])


def test_mT_swaps_the_last_two_dimensions():
    x = tg.zeros(2, 3, 4)
    assert x.mT.shape == (2, 4, 3)


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(array=SMALL_INTS)
def test_unique_matches_pytorch(array):
    torch = pytest.importorskip("torch")
    ours = tg.unique(tg.tensor(array), return_inverse=True, return_counts=True)
    theirs = torch.unique(torch.tensor(array), return_inverse=True, return_counts=True)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
    ours = tg.unique(tg.tensor(array), dim=0, return_inverse=True)
    theirs = torch.unique(torch.tensor(array), dim=0, return_inverse=True)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(array=SMALL_INTS)
def test_median_kthvalue_mode_and_argwhere_with_ties_match_pytorch(array):
    # PyTorch's median and kthvalue pick among equal values by quickselect (which index is
    # unspecified, as its documentation says): their indices must name an equal element
    torch = pytest.importorskip("torch")
    x, t = tg.tensor(array.astype(np.float64)), torch.tensor(array.astype(np.float64))
    assert tg.median(x).item() == torch.median(t).item()
    for ours, theirs, same_index in [(tg.median(x, -1), torch.median(t, -1), False),
                                     (tg.mode(x, 0, True), torch.mode(t, 0, True), True),
                                     (tg.kthvalue(x, 1, -1), torch.kthvalue(t, 1, -1), False)]:
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        assert ours.indices.shape == tuple(theirs.indices.shape)
        if same_index:
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(tg.argwhere(x).numpy(), torch.argwhere(t).numpy())


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(boundaries=hnp.arrays(np.int64, (2, 4), elements=st.integers(-4, 4)),
       values=hnp.arrays(np.int64, (2, 3), elements=st.integers(-5, 5)), right=st.booleans())
def test_searchsorted_and_bucketize_match_pytorch(boundaries, values, right):
    torch = pytest.importorskip("torch")
    boundaries = np.sort(boundaries, axis=-1)
    for ours, theirs in [
        (tg.searchsorted(tg.tensor(boundaries), tg.tensor(values), right=right),
         torch.searchsorted(torch.tensor(boundaries), torch.tensor(values), right=right)),
        (tg.searchsorted(tg.tensor(boundaries[0]), tg.tensor(values), out_int32=True,
                         side="right" if right else "left"),
         torch.searchsorted(torch.tensor(boundaries[0]), torch.tensor(values), out_int32=True,
                            side="right" if right else "left")),
        (tg.bucketize(tg.tensor(values), tg.tensor(boundaries[1]), right=right),
         torch.bucketize(torch.tensor(values), torch.tensor(boundaries[1]), right=right))]:
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
def test_bincount_weights_dtypes_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0, 2, 2])
    for weights in (np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 2.0, 3.0])):
        ours = tg.bincount(tg.tensor(values), tg.tensor(weights), minlength=4)
        theirs = torch.bincount(torch.tensor(values), torch.tensor(weights), minlength=4)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == \
        (theirs.bits, theirs.max, theirs.min, theirs.dtype)


def test_finfo_defaults_to_float32():
    assert tg.finfo().dtype == "float32"


@pytest.mark.parametrize("name, setting", [("medium", "bf16"), ("high", "tf32"),
                                           ("highest", "ieee")])
def test_float32_matmul_precision_is_stored_as_pytorchs_mkldnn_setting(name, setting):
    tg.set_float32_matmul_precision(name)
    try:
        assert tg.get_float32_matmul_precision() == name
        assert tg.backends.mkldnn.matmul.fp32_precision == setting
    finally:
        tg.set_float32_matmul_precision("highest")


# ------------------------------------------------------------------ random draws
def test_bernoulli_and_multinomial_repeat_under_manual_seed():
    draws = []
    for _ in range(2):
        tg.manual_seed(3)
        draws.append((tg.bernoulli(tg.full((50,), 0.5)).numpy(),
                      tg.multinomial(tg.tensor([0.2, 0.3, 0.5]), 3).numpy()))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])


def test_bernoulli_keeps_the_dtype_and_follows_the_probabilities():
    tg.manual_seed(0)
    p = tg.tensor(np.array([0.0, 1.0] * 50, np.float32))
    out = p.bernoulli()
    assert out.dtype == tg.float32
    np.testing.assert_array_equal(out.numpy(), p.numpy())
    assert 0.2 < tg.bernoulli(tg.zeros(4000), 0.3).mean().item() < 0.4


def test_multinomial_without_replacement_draws_distinct_nonzero_categories():
    tg.manual_seed(1)
    out = tg.multinomial(tg.tensor([[0.1, 0.0, 0.5, 0.4], [1.0, 1.0, 1.0, 0.0]]), 3)
    assert out.shape == (2, 3) and out.dtype == tg.int64
    for row, forbidden in zip(out.numpy(), (1, 3)):
        assert len(set(row)) == 3 and forbidden not in row


def test_multinomial_with_replacement_follows_the_weights():
    tg.manual_seed(2)
    out = tg.multinomial(tg.tensor([1.0, 0.0, 3.0]), 4000, replacement=True).numpy()
    assert set(out) <= {0, 2} and 0.7 < (out == 2).mean() < 0.8


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda: tg.bincount(tg.tensor([-1, 2])), RuntimeError, "bincount: input must be a 1-D"),
    (lambda: tg.bincount(tg.tensor([1.0])), TypeError, "bincount: input must be"),
    (lambda: tg.multinomial(tg.tensor([1.0, 0.0]), 2), RuntimeError,
     "multinomial: invalid multinomial distribution"),
    (lambda: tg.multinomial(tg.tensor([-1.0, 2.0]), 1), RuntimeError,
     "multinomial: probability tensor contains"),
    (lambda: tg.bernoulli(tg.tensor([1.5])), RuntimeError, "bernoulli: every probability"),
    (lambda: tg.searchsorted(tg.ones(2, 3), tg.ones(3, 1)), RuntimeError,
     r"searchsorted: boundaries tensor should be 1 dimension"),
    (lambda: tg.searchsorted(tg.ones(3), tg.ones(2), right=True, side="left"), ValueError,
     "searchsorted: side and right can't be set to opposites"),
    (lambda: tg.finfo(tg.int32), TypeError, "finfo: requires a floating point input type"),
    (lambda: tg.iinfo(tg.float32), TypeError, "iinfo: requires an integer input type"),
    (lambda: tg.set_float32_matmul_precision(3), TypeError,
     "set_float32_matmul_precision: precision must be a str"),
    (lambda: tg.take_along_dim(tg.ones(2, 3), tg.ones(2, 1), 1), TypeError,
     "take_along_dim: indices must be an integer tensor"),
    (lambda: tg.tensor_split(tg.tensor(1.0), 2), RuntimeError,
     "tensor_split: expected at least a 1-dimensional tensor"),
    (lambda: tg.unique(tg.ones(2, 3), dim=2), IndexError, "unique: "),
])
def test_bad_input_raises_pytorchs_type_naming_the_op(call, error, match):
    with pytest.raises(error, match=match):
        call()
