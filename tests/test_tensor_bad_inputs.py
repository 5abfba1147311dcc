"""Tensor-level bad input beyond the sweep's spoilers (``test_bad_input_sweep.py``), with
PyTorch as the oracle: each case is PyTorch-spelled code run once with ``torch`` and once with
``tinygrad_cnn``.  Where PyTorch raises, we raise an exception of its type (our ``ShapeError``
and ``DtypeError`` are also its ``RuntimeError``) with a message starting with the op's name;
where PyTorch computes, we compute the same values (random draws: the same shape and dtype).

The edges covered: a number beyond what the tensor's dtype holds (float16/float32 overflow,
NaN or inf into an integer tensor) and what still fits (inf into a float tensor, 1e300 into a
float64 one); bounds of ``gather``/``index_select`` indices; ``cat``/``stack`` entries;
negative sizes and dims of the shape ops; PyTorch's old ``var(input, unbiased)``;
in-place arithmetic with a list or an array; dtype spellings (strings, Python types,
type names).
"""

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 5)).astype(np.float32)
X3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
MASK = np.eye(4, 5, dtype=bool)


def x(lib, dtype=None):
    return lib.tensor(X.copy()) if dtype is None else lib.tensor(X.copy()).to(dtype)


def ints(lib):
    return lib.tensor(np.arange(20).reshape(4, 5))


def idx(lib, rows):
    return lib.tensor(np.array(rows, dtype=np.int64))


# (op named by our message, PyTorch-spelled code taking the library, values random?)
CASES = [
    # a number the tensor's dtype cannot hold (PyTorch: "cannot be converted without overflow")
    ("fill_", lambda L: ints(L).fill_(1e300), False),
    ("fill_", lambda L: ints(L).fill_(float("nan")), False),
    ("fill_", lambda L: ints(L).fill_(float("inf")), False),
    ("fill_", lambda L: ints(L).fill_(2.5), False),
    ("fill_", lambda L: x(L, L.float16).fill_(1e5), False),
    ("fill_", lambda L: x(L, L.float64).fill_(1e300), False),
    ("fill_", lambda L: x(L).fill_(float("inf")), False),
    ("fill_", lambda L: x(L).fill_(-1e300), False),
    ("fill_", lambda L: x(L).fill_(np.float64(1e300)), False),
    ("fill_", lambda L: x(L, L.bool).fill_(1e300), False),
    ("full", lambda L: L.full((2, 3), 300, dtype=L.uint8), False),
    ("full", lambda L: L.full((2, 3), 1e300, dtype=L.float64), False),
    ("full", lambda L: L.full((2, 3), 1e300, dtype=L.int64), False),
    ("full", lambda L: L.full((2, 3), True), False),
    ("full", lambda L: L.full((2, 3), L.tensor(1.5)), False),
    ("full", lambda L: L.full((2, 3), np.float64(1.5)), False),
    ("full", lambda L: L.full((2, 3), L.ones(2)), False),
    ("full_like", lambda L: L.full_like(ints(L), 1e300), False),
    ("full_like", lambda L: L.full_like(ints(L), 2.5), False),
    ("full_like", lambda L: L.full_like(x(L), True), False),
    ("full_like", lambda L: L.full_like(x(L), L.tensor(2.0)), False),
    ("masked_fill", lambda L: ints(L).masked_fill(L.tensor(MASK), 1e300), False),
    ("masked_fill", lambda L: x(L, L.float64).masked_fill(L.tensor(MASK), 1e300), False),
    ("clamp", lambda L: x(L).clamp(float("inf")), False),
    ("clamp", lambda L: x(L).clamp(max=1e300), False),
    ("clamp", lambda L: L.clamp(x(L), -1e300), False),
    ("clamp_", lambda L: x(L, L.float64).clamp_(1e300), False),
    ("clamp_", lambda L: x(L).clamp_(-1e300, 0.5), False),
    ("linspace", lambda L: L.linspace(0, 1e300, 5, dtype=L.float64), False),
    ("linspace", lambda L: L.linspace(0, 1e300, 5, dtype=L.int64), False),
    ("uniform_", lambda L: x(L).uniform_(-3e38, 3e38), True),
    ("uniform_", lambda L: x(L).uniform_(float("nan"), 1), True),
    ("uniform_", lambda L: x(L).uniform_(-1e300, 0), True),
    ("uniform_", lambda L: x(L, L.float64).uniform_(0, 1e300), True),
    ("uniform_", lambda L: x(L).uniform_(1, 0), True),
    ("randint", lambda L: L.randint(0, 300, (2,), dtype=L.uint8), True),
    ("randint", lambda L: L.randint(-10 ** 20, 5, (2,)), True),
    ("randint", lambda L: L.randint(0, 2 ** 63 - 1, (2,)), True),
    ("randint", lambda L: L.randint(L.tensor(5), (2,)), True),
    ("randint", lambda L: L.randint(np.int64(5), (2,)), True),
    ("randint", lambda L: L.randint(0, True, (2,)), True),
    ("randint", lambda L: L.randint(5.0, (2,)), True),
    # indices out of range: gather and index_select take no negative index
    ("index_select", lambda L: L.index_select(x(L), 1, idx(L, [-1])), False),
    ("index_select", lambda L: L.index_select(x(L), 1, idx(L, [7])), False),
    ("index_select", lambda L: L.index_select(x(L), 1, idx(L, 2)), False),
    ("index_select", lambda L: L.index_select(x(L), 1, idx(L, [0, 2]).float()), False),
    ("gather", lambda L: L.gather(x(L), 1, idx(L, [[0, -1]] * 4)), False),
    ("gather", lambda L: L.gather(x(L), 1, idx(L, [[0, 7]] * 4)), False),
    ("gather", lambda L: L.gather(x(L)[:2], 1, idx(L, [[0, 1]] * 4)), False),
    ("gather", lambda L: L.gather(x(L), 1, idx(L, [[0, 1]] * 5)), False),
    ("gather", lambda L: L.gather(x(L), 0, idx(L, [[0, 1, 2, 3, 0, 1]] * 4)), False),
    ("gather", lambda L: L.gather(x(L), 1, L.zeros((4, 0), dtype=L.int64)), False),
    ("gather", lambda L: L.gather(x(L), 1, L.zeros((0, 2), dtype=L.int64)), False),
    # cat and stack take tensors only
    ("cat", lambda L: L.cat([x(L), X.copy()]), False),
    ("cat", lambda L: L.cat([x(L), [1.0] * 5]), False),
    ("cat", lambda L: L.cat(()), False),
    ("cat", lambda L: L.cat(["x"]), False),
    ("stack", lambda L: L.stack([x(L), 1.0]), False),
    # shape ops: negative sizes, dims out of range, 0-d inputs
    ("flatten", lambda L: L.flatten(L.tensor(1.0), 0, -1), False),
    ("flatten", lambda L: L.flatten(L.tensor(1.0), -1, 0), False),
    ("flatten", lambda L: L.tensor(1.0).flatten(1), False),
    ("narrow", lambda L: L.narrow(x(L), 1, -6, 2), False),
    ("narrow", lambda L: L.narrow(x(L), 1, -5, 2), False),
    ("narrow", lambda L: L.narrow(x(L), 1, 5, 0), False),
    ("narrow", lambda L: L.narrow(x(L), 1, 4, 2), False),
    ("narrow", lambda L: L.narrow(L.tensor(1.0), 0, 0, 1), False),
    ("permute", lambda L: L.tensor(X3).permute(0, 0, 1), False),
    ("permute", lambda L: L.tensor(X3).permute(0, 1, 5), False),
    ("permute", lambda L: L.tensor(X3).permute(0, 1), False),
    ("expand", lambda L: x(L)[:1].expand(-1, 4, 5), False),
    ("expand", lambda L: x(L)[:1].expand(1, 4, -1), False),
    ("expand", lambda L: x(L)[:1].expand(-3, 5), False),
    ("broadcast_to", lambda L: L.broadcast_to(x(L)[:1], (-1, 5)), False),
    ("repeat", lambda L: x(L).repeat(0, 3), False),
    ("repeat", lambda L: x(L).repeat(-1, 3), False),
    ("split", lambda L: L.tensor(1.0).split([1]), False),
    ("unflatten", lambda L: L.unflatten(x(L), 1, "ab"), False),
    ("view", lambda L: x(L).view(None, 20), False),
    # reductions: the old var(input, unbiased); prod's one dim; bool inputs
    ("var", lambda L: L.tensor(X3).var(True), False),
    ("var", lambda L: L.tensor(X3).var(False), False),
    ("var", lambda L: L.var(L.tensor(X3), True, True), False),
    ("std", lambda L: L.std(L.tensor(X3), True, keepdim=True), False),
    ("var", lambda L: L.tensor(X3).var(1, True), False),
    ("var", lambda L: L.tensor(X3).var(1, keepdim=True), False),
    ("prod", lambda L: L.tensor(X3).prod(1.0), False),
    ("prod", lambda L: L.tensor(X3).prod((1,)), False),
    ("prod", lambda L: L.tensor(X3).prod(True), False),
    ("argmax", lambda L: (x(L) > 0).argmax(), False),
    ("max", lambda L: (x(L) > 0).max(1).indices, False),
    ("sort", lambda L: (x(L) > 0).sort(stable=True).indices, False),
    # in-place arithmetic takes a Tensor or a number, never a list or an array
    ("add_", lambda L: x(L).add_(X[0].copy()), False),
    ("add_", lambda L: x(L).add_((1.0,) * 5), False),
    ("add_", lambda L: x(L).add_([1.0] * 5, alpha=2), False),
    ("add_", lambda L: x(L).add_(None), False),
    ("sub_", lambda L: x(L).sub_([1.0] * 5), False),
    ("div_", lambda L: x(L).div_([1.0] * 5), False),
    ("mul_", lambda L: x(L).mul_(np.float64(2)), False),
    ("add_", lambda L: x(L).add_(x(L)[0], alpha=2), False),
    ("where", lambda L: L.where(L.tensor(MASK), x(L), X.copy()), False),
    ("where", lambda L: L.where(L.tensor(MASK), x(L), "a"), False),
    ("where", lambda L: L.where(L.tensor(MASK), 1.0, 2.0), False),
    ("where", lambda L: L.where(L.tensor(MASK), 1.0, x(L)), False),
    # dtype spellings
    ("type", lambda L: x(L).type("torch.DoubleTensor"), False),
    ("type", lambda L: x(L).type(float), False),
    ("type", lambda L: x(L).type(L.float64), False),
    ("to", lambda L: x(L).to("cpu", L.int64), False),
    ("to", lambda L: x(L).to("float64"), False),
    ("to", lambda L: x(L).to(float), False),
    ("zeros", lambda L: L.zeros(2, dtype=float), False),
    ("zeros", lambda L: L.zeros(2, dtype=bool), False),
    ("zeros", lambda L: L.zeros(2, dtype="float64"), False),
    ("ones_like", lambda L: L.ones_like(x(L), dtype="int64"), False),
    ("tensor", lambda L: L.tensor([1, 0], dtype=L.bool), False),
    ("tensor", lambda L: L.tensor([1.5], dtype=None), False),
    ("as_tensor", lambda L: L.as_tensor([1.5], dtype="float64"), False),
    ("arange", lambda L: L.arange(3, dtype="int64"), False),
    ("view", lambda L: x(L).view(L.int32), False),
    ("view", lambda L: x(L).view(dtype=None), False),
]


def outcome(code, lib):
    try:
        with np.errstate(all="ignore"):
            return code(lib), None
    except Exception as error:  # noqa: BLE001 - the outcome is what we compare
        return None, error


def as_array(value):
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize("op, code, random", CASES,
                         ids=[f"{i}-{case[0]}" for i, case in enumerate(CASES)])
def test_raises_what_pytorch_raises_or_computes_what_it_computes(op, code, random):
    theirs, expected = outcome(code, torch)
    ours, got = outcome(code, tg)
    if expected is not None:
        assert got is not None, f"PyTorch raises {expected!r}; we compute {ours}"
        assert isinstance(got, type(expected)), f"PyTorch: {expected!r}; we: {got!r}"
        assert str(got).startswith(op), f"the message does not name {op}: {got}"
        return
    assert got is None, f"PyTorch computes; we raise {got!r}"
    theirs, ours = as_array(theirs), as_array(ours)
    assert ours.shape == theirs.shape
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    if not random:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_numpy_types_are_dtypes_here_on_purpose():
    """The documented difference (docs/coming_from_pytorch.md): numpy's types name dtypes,
    where PyTorch raises; strings do not, as in PyTorch."""
    t = tg.tensor(X.copy())
    assert t.to(np.float64).dtype == tg.float64
    assert t.type(np.float16).dtype == tg.float16
    assert tg.zeros(2, dtype=np.int32).dtype == tg.int32
    assert tg.tensor([1.0], dtype=np.float64).dtype == tg.float64
    assert t.astype("float64").dtype == tg.float64  # numpy's own spelling, numpy's rules
    with pytest.raises(TypeError, match="tensor: dtype must be a dtype"):
        tg.tensor([1.0], dtype="float64")


def test_check_fits_looks_at_the_scalar_only():
    """A fill of a huge tensor checks one number: a float16 limit, an int8 range, a bool
    taking anything."""
    from tinygrad_cnn._checks import ShapeError, check_fits

    assert check_fits("f", "v", 65504.0, np.dtype(np.float16)) == 65504.0
    assert check_fits("f", "v", 1e300, np.dtype(np.bool_)) == 1e300
    assert check_fits("f", "v", -128, np.dtype(np.int8)) == -128
    for value, dtype in ((65600.0, np.float16), (-129, np.int8), (float("nan"), np.uint8),
                         (2 ** 64, np.uint64), (10 ** 40, np.float32)):
        with pytest.raises(ShapeError, match=f"f: v must fit the tensor's dtype "
                                             f"{np.dtype(dtype)}"):
            check_fits("f", "v", value, np.dtype(dtype))
