"""new_zeros / new_ones / new_full / new_empty / new_tensor, type_as, stride, is_contiguous
(against PyTorch and numpy), and hypothesis properties of roll, movedim, tril, triu,
repeat_interleave and cumprod (its gradient with zeros included) against independent numpy
references; nan_to_num, erf, erfc, lerp and outer at their edges.  The generic tests of the
differentiable ones run from tests/op_registry.py."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg

torch_only = pytest.mark.torch


# ------------------------------------------------------------------ new_*, type_as
NEW_CALLS = {
    "new_zeros": lambda lib, t: t.new_zeros(2, 3),
    "new_zeros tuple": lambda lib, t: t.new_zeros((2, 3)),
    "new_ones dtype": lambda lib, t: t.new_ones(3, dtype=lib.float64, requires_grad=True),
    "new_empty shape": lambda lib, t: t.new_empty(3, 2).shape,
    "new_full": lambda lib, t: t.new_full((2,), 3),
    "new_full float into int": lambda lib, t: t.long().new_full((2,), 3.5),
    "new_full tensor value": lambda lib, t: t.new_full([2], lib.tensor(2.0)),
    "new_tensor keeps self's dtype": lambda lib, t: t.long().new_tensor([1.7, 2.0]),
    "new_tensor float": lambda lib, t: t.new_tensor([1, 2]),
    "new_tensor dtype": lambda lib, t: t.new_tensor([1, 2], dtype=lib.int32),
    "new_tensor of a tensor": lambda lib, t: t.new_tensor(
        lib.ones(2, dtype=lib.float64, requires_grad=True)),
    "type_as": lambda lib, t: t.long().type_as(lib.zeros(1, dtype=lib.float64)),
}


def _described(value):
    if hasattr(value, "dtype"):
        return (str(value.dtype).split(".")[-1], tuple(value.shape),
                bool(value.requires_grad), value.tolist())
    return tuple(value)


@torch_only
@pytest.mark.parametrize("name", sorted(NEW_CALLS))
def test_new_tensors_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours = NEW_CALLS[name](tg, tg.zeros(2))
    theirs = NEW_CALLS[name](torch, torch.zeros(2))
    assert _described(ours) == _described(theirs)


NEW_BAD_CALLS = {
    "int requiring grad": lambda lib: lib.zeros(2, dtype=lib.int64).new_ones(3,
                                                                             requires_grad=True),
    "negative size": lambda lib: lib.zeros(2).new_zeros(-1),
    "float size": lambda lib: lib.zeros(2).new_zeros(2.0),
    "new_full int size": lambda lib: lib.zeros(2).new_full(2, 3),
    "new_full string value": lambda lib: lib.zeros(2).new_full((2,), "a"),
    "new_full overflow": lambda lib: lib.zeros(2, dtype=lib.int64).new_full((2,), 1e30),
    "new_tensor string": lambda lib: lib.zeros(2).new_tensor("a"),
    "type_as a number": lambda lib: lib.zeros(2).type_as(1.0),
}


def _raised(call, library) -> Exception:
    """The exception ``call(library)`` raises (a failure if it raises none)."""
    try:
        call(library)
    except Exception as error:  # noqa: BLE001 - any type: the test compares them
        return error
    pytest.fail(f"no exception from {library.__name__}")


@torch_only
@pytest.mark.parametrize("name", sorted(NEW_BAD_CALLS))
def test_new_tensors_reject_what_pytorch_rejects_with_its_exception_type(name):
    torch = pytest.importorskip("torch")
    theirs = _raised(NEW_BAD_CALLS[name], torch)
    assert isinstance(_raised(NEW_BAD_CALLS[name], tg), type(theirs)), theirs


def test_new_tensor_is_a_copy_outside_the_graph():
    source = tg.ones(2, requires_grad=True)
    copy = tg.zeros(1).new_tensor(source)
    assert copy.grad_fn is None and not copy.requires_grad
    copy.add_(1)
    assert source[0].item() == 1.0


def test_type_as_is_differentiable_between_float_types():
    x = tg.ones(2, requires_grad=True)
    y = x.type_as(tg.zeros(1, dtype=tg.float64))
    assert y.dtype == tg.float64 and x.type_as(x) is x
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_gpu_device_raises():
    with pytest.raises(RuntimeError, match="new_zeros: cannot use device 'cuda'"):
        tg.zeros(2).new_zeros(2, device="cuda")


# ------------------------------------------------------------------ stride, is_contiguous
VIEWS = {
    "fresh": ((3, 4), lambda t: t),
    "transposed": ((3, 4), lambda t: t.t()),
    "column step": ((3, 4), lambda t: t[:, ::2]),
    "unsqueezed inside": ((3, 4), lambda t: t[:, None]),
    "unsqueezed in front": ((3, 4), lambda t: t.unsqueeze(0)),
    "unsqueezed at the end": ((4, 3), lambda t: t.unsqueeze(-1)),
    "transposed then unsqueezed": ((4, 3), lambda t: t.t().unsqueeze(0)),
    "size-1 transposed": ((3, 1), lambda t: t.t()),
    "permuted and sliced": ((2, 3, 4), lambda t: t.permute(2, 0, 1)[1:, :, ::3]),
    "selected": ((2, 3, 4), lambda t: t[..., 1]),
    "empty": ((2, 0, 4), lambda t: t),
    "size-1 middle": ((2, 1, 4), lambda t: t),
    "0-d": ((), lambda t: t.sum()),
}


@torch_only
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_stride_and_is_contiguous_match_pytorch(name):
    torch = pytest.importorskip("torch")
    shape, view = VIEWS[name]
    ours = view(tg.zeros(shape) if shape else tg.zeros(1))
    theirs = view(torch.zeros(shape) if shape else torch.zeros(1))
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    for dim in range(-ours.ndim, ours.ndim):
        assert ours.stride(dim) == theirs.stride(dim)


def test_stride_is_numpys_strides_in_elements():
    array = np.zeros((5, 6), np.float32)[::2, 1::3]
    assert tg.from_numpy(array).stride() == tuple(s // 4 for s in array.strides)
    assert not tg.from_numpy(array).is_contiguous()


def test_stride_of_a_dim_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match="stride: axis 2 is out of range"):
        tg.zeros(3, 4).stride(2)
    with pytest.raises(IndexError, match="stride: dim 0 is out of range for a 0-d tensor"):
        tg.tensor(1.0).stride(0)


# ------------------------------------------------------------------ shape properties
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _array(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_roll_is_numpys_roll(shape, data):
    x = _array(shape, data.draw(st.integers(0, 99)))
    ndim = len(shape)
    dims = tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=3)))
    shifts = tuple(data.draw(st.integers(-7, 7)) for _ in dims)
    np.testing.assert_array_equal(tg.tensor(x).roll(shifts, dims).numpy(),
                                  np.roll(x, shifts, axis=dims))
    np.testing.assert_array_equal(tg.tensor(x).roll(shifts[0]).numpy(), np.roll(x, shifts[0]))


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_movedim_is_numpys_moveaxis_and_a_view(shape, data):
    x = tg.tensor(_array(shape, 0))
    ndim = len(shape)
    source = data.draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    destination = data.draw(st.permutations(range(ndim)))[:len(source)]
    moved = x.movedim(tuple(source), tuple(destination))
    np.testing.assert_array_equal(moved.numpy(), np.moveaxis(x.numpy(), source, destination))
    assert np.shares_memory(moved.numpy(), x.numpy())


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
       diagonal=st.integers(-6, 6))
def test_tril_and_triu_are_numpys_and_pass_the_gradient_on_the_kept_part(shape, diagonal):
    x = tg.tensor(_array(shape, 1), requires_grad=True)
    lower = x.tril(diagonal)
    np.testing.assert_array_equal(lower.numpy(), np.tril(x.numpy(), diagonal))
    np.testing.assert_array_equal(x.triu(diagonal).numpy(), np.triu(x.numpy(), diagonal))
    lower.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tril(np.ones(shape), diagonal))


def test_tril_of_an_inf_above_the_diagonal_is_zero():
    x = tg.tensor([[1.0, np.inf], [np.nan, 2.0]])
    np.testing.assert_array_equal(x.tril().numpy(), [[1.0, 0.0], [np.nan, 2.0]])
    np.testing.assert_array_equal(x.triu().numpy(), [[1.0, np.inf], [0.0, 2.0]])


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_repeat_interleave_is_numpys_repeat_and_sums_the_gradient(shape, data):
    x = tg.tensor(_array(shape, 2), requires_grad=True)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    size = x.numel() if dim is None else shape[dim]
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)))
    out = x.repeat_interleave(tg.tensor(counts), dim=dim)
    np.testing.assert_array_equal(out.numpy(), np.repeat(x.numpy(), counts, axis=dim))
    out.sum().backward()
    if dim is None:
        expected = counts.reshape(shape)
    else:
        expected = np.broadcast_to(np.expand_dims(counts, [d for d in range(len(shape))
                                                          if d != dim % len(shape)]), shape)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_repeat_interleave_of_counts_alone_repeats_their_positions():
    np.testing.assert_array_equal(tg.repeat_interleave(tg.tensor([1, 0, 2])).numpy(),
                                  [0, 2, 2])
    np.testing.assert_array_equal(tg.tensor([[1, 2], [3, 4]]).repeat_interleave(
        2, dim=1, output_size=4).numpy(), [[1, 1, 2, 2], [3, 3, 4, 4]])


# ------------------------------------------------------------------ cumprod
def cumprod_gradient_loop(x, grad):
    """d/dx[k] of sum(grad * cumprod(x)) along the last axis: the products of the other
    factors, summed over the outputs that hold x[k] (no division, so zeros are exact)."""
    result = np.zeros_like(x)
    for line in np.ndindex(x.shape[:-1]):
        values, weights = x[line], grad[line]
        for k in range(values.size):
            result[line + (k,)] = sum(weights[i] * np.prod(np.delete(values[:i + 1], k))
                                      for i in range(k, values.size))
    return result


@settings(max_examples=50, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), zeros=st.floats(0.0, 0.6))
def test_cumprod_gradient_is_exact_with_zeros(shape, seed, zeros):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < zeros] = 0.0
    grad = rng.standard_normal(shape)
    X = tg.tensor(x, requires_grad=True)
    out = X.cumprod(-1)
    np.testing.assert_allclose(out.numpy(), np.cumprod(x, axis=-1), rtol=1e-12)
    out.backward(tg.tensor(grad))
    np.testing.assert_allclose(X.grad.numpy(), cumprod_gradient_loop(x, grad),
                               rtol=1e-10, atol=1e-12)


@torch_only
def test_cumprod_with_zeros_matches_pytorch_along_any_dim():
    torch = pytest.importorskip("torch")
    x = np.array([[[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]], [[1.0, -2.0, 0.0], [4.0, 0.5, 2.0]]])
    grad = np.cos(np.arange(x.size)).reshape(x.shape)
    for dim in (0, 1, -1):
        ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours.cumprod(dim).backward(tg.tensor(grad))
        theirs.cumprod(dim).backward(torch.tensor(grad))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_cumprod_of_integers_and_bools_is_int64():
    assert tg.tensor([1, 2, 3]).cumprod(0).tolist() == [1, 2, 6]
    assert tg.tensor([True, False]).cumprod(0).dtype == tg.int64
    assert tg.tensor([1, 2]).cumprod(0, dtype=tg.float64).dtype == tg.float64


# ------------------------------------------------------------------ elementwise edges
@torch_only
def test_nan_to_num_matches_pytorch_for_every_dtype_and_option():
    torch = pytest.importorskip("torch")
    values = [np.nan, np.inf, -np.inf, 1.0, -2.5]
    for dtype in ("float16", "float32", "float64"):
        for options in ({}, dict(nan=2.0, posinf=3.0, neginf=-3.0), dict(posinf=1e10)):
            ours = tg.tensor(np.array(values, dtype)).nan_to_num(**options)
            theirs = torch.tensor(np.array(values, dtype)).nan_to_num(**options)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
            assert str(ours.dtype) == dtype


def test_nan_to_num_of_integers_is_a_copy_and_the_gradient_skips_replaced_elements():
    ints = tg.tensor([1, 2])
    assert tg.nan_to_num(ints) is not ints and tg.nan_to_num(ints).tolist() == [1, 2]
    x = tg.tensor(np.array([np.nan, 1.0, np.inf]), requires_grad=True)
    x.nan_to_num().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-30, 30), min_size=1, max_size=8))
def test_erf_and_erfc_are_maths_and_their_sum_is_one(values):
    x = tg.tensor(np.array(values))
    np.testing.assert_allclose(x.erf().numpy(), [math.erf(v) for v in values],
                               rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(x.erfc().numpy(), [math.erfc(v) for v in values],
                               rtol=1e-13, atol=1e-300)


def test_erf_of_integers_is_float32_and_erf_inplace_of_integers_raises():
    assert tg.erf(tg.tensor([1, 2])).dtype == tg.float32
    with pytest.raises(RuntimeError, match="erf_"):
        tg.tensor([1, 2]).erf_()


@torch_only
@pytest.mark.parametrize("weight", [0.25, 0.75, -1.0, "tensor"])
def test_lerp_values_and_gradients_match_pytorch(weight):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    start, end, w = rng.standard_normal((2, 3)), rng.standard_normal((3,)), rng.random((2, 1))
    result = []
    for lib in (tg, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (start, end, w)]
        out = lib.lerp(tensors[0], tensors[1], tensors[2] if weight == "tensor" else weight)
        out.backward(lib.tensor(np.cos(np.arange(6.0)).reshape(2, 3)))
        result.append([out.detach().numpy()] + [t.grad.numpy() if t.grad is not None else None
                                                 for t in tensors])
    for ours, theirs in zip(*result):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_lerp_inplace_is_lerp():
    x = tg.tensor(np.array([0.0, 1.0]))
    x.lerp_(tg.tensor(np.array([10.0, 3.0])), 0.75)
    np.testing.assert_allclose(x.numpy(), [7.5, 2.5])


@torch_only
def test_outer_promotes_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = tg.outer(tg.ones(2), tg.arange(3))
    theirs = torch.outer(torch.ones(2), torch.arange(3))
    assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tg.ger is tg.outer
