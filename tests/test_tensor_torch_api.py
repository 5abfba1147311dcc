"""The Tensor and the ``tinygrad_cnn`` namespace speak PyTorch: the same code, run under
``torch`` and under ``tinygrad_cnn``, gives the same values, gradients, dtypes and shapes.
Reductions are checked by hypothesis over random shapes and dims."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _value(result):
    if isinstance(result, (tuple, list)):
        return [_value(r) for r in result]
    if isinstance(result, (bool, int, float)):
        return result
    return result.detach().numpy()


def _check_same(mine, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(theirs, (tuple, list)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _check_same(a, b, rtol, atol)
        return
    if isinstance(theirs, (bool, int, float)):
        assert mine == theirs
        return
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.shape == theirs.shape
    assert mine.dtype == theirs.dtype, (mine.dtype, theirs.dtype)
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol)


def run_both(script, *arrays, grad=True):
    """``script(lib, *tensors)`` under both libraries; values and gradients compared."""
    results, grads = [], []
    for lib in (tg, torch):
        tensors = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = script(lib, *tensors)
        results.append(_value(out))
        differentiable = out[0] if isinstance(out, tuple) else out
        if grad and getattr(differentiable, "requires_grad", False):
            seed = np.cos(np.arange(differentiable.numel())).reshape(
                tuple(differentiable.shape))
            differentiable.backward(lib.tensor(seed, dtype=differentiable.dtype))
            grads.append([None if t.grad is None else t.grad.numpy() for t in tensors])
    _check_same(results[0], results[1])
    if grads:
        assert len(grads) == 2
        for mine, theirs in zip(*grads):
            assert (mine is None) == (theirs is None)
            if mine is not None:
                np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ reductions, hypothesis
@st.composite
def array_and_dims(draw, tuple_dims=True):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    ndim = len(shape)
    seed = draw(st.integers(0, 2**16))
    array = np.random.default_rng(seed).standard_normal(shape)
    if tuple_dims and draw(st.booleans()):
        dims = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                             unique_by=lambda d: d % ndim))
        dim = tuple(dims)
    else:
        dim = draw(st.integers(-ndim, ndim - 1))
    return array, dim, draw(st.booleans())


REDUCTIONS_WITH_TUPLE_DIMS = {
    "sum": lambda lib, x, d, k: x.sum(dim=d, keepdim=k),
    "mean": lambda lib, x, d, k: lib.mean(x, dim=d, keepdim=k),
    "amax": lambda lib, x, d, k: x.amax(dim=d, keepdim=k),
    "amin": lambda lib, x, d, k: lib.amin(x, d, k),
    "var": lambda lib, x, d, k: x.var(dim=d, keepdim=k),
    "std_biased": lambda lib, x, d, k: x.std(dim=d, keepdim=k, unbiased=False),
    "var_correction": lambda lib, x, d, k: x.var(d, keepdim=k, correction=0),
    "logsumexp": lambda lib, x, d, k: x.logsumexp(dim=d, keepdim=k),
    "norm": lambda lib, x, d, k: x.norm(2, dim=d, keepdim=k),
}
REDUCTIONS_WITH_ONE_DIM = {
    "max": lambda lib, x, d, k: tuple(x.max(d, keepdim=k)),
    "min": lambda lib, x, d, k: tuple(lib.min(x, dim=d, keepdim=k)),
    "prod": lambda lib, x, d, k: x.prod(d, keepdim=k),
    "argmax": lambda lib, x, d, k: x.argmax(dim=d, keepdim=k),
    "argmin": lambda lib, x, d, k: lib.argmin(x, d, keepdim=k),
    "cumsum": lambda lib, x, d, k: x.cumsum(dim=d),
    "sort": lambda lib, x, d, k: tuple(x.sort(dim=d, descending=k)),
    "argsort": lambda lib, x, d, k: x.argsort(dim=d, descending=k),
    "topk": lambda lib, x, d, k: tuple(x.topk(1, dim=d, largest=k)),
    "all": lambda lib, x, d, k: (x > 0).all(dim=d, keepdim=k),
    "any": lambda lib, x, d, k: lib.any(x > 0, dim=d, keepdim=k),
    "softmax_like": lambda lib, x, d, k: (x - x.logsumexp(d, keepdim=True)).exp(),
    "softmax": lambda lib, x, d, k: x.softmax(d),
    "log_softmax": lambda lib, x, d, k: lib.log_softmax(x, dim=d),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS_WITH_TUPLE_DIMS))
@settings(max_examples=12, deadline=None)
@given(case=array_and_dims())
def test_reductions_over_dims_match_pytorch(name, case):
    array, dim, keepdim = case
    op = REDUCTIONS_WITH_TUPLE_DIMS[name]
    if name.startswith(("var", "std")) and np.prod(
            [array.shape[d] for d in (dim if isinstance(dim, tuple) else (dim,))]) < 2:
        return  # a variance over one element is NaN in both; its gradient too
    run_both(lambda lib, x: op(lib, x, dim, keepdim), array)


@pytest.mark.parametrize("name", sorted(REDUCTIONS_WITH_ONE_DIM))
@settings(max_examples=12, deadline=None)
@given(case=array_and_dims(tuple_dims=False))
def test_reductions_along_one_dim_match_pytorch(name, case):
    array, dim, keepdim = case
    run_both(lambda lib, x: REDUCTIONS_WITH_ONE_DIM[name](lib, x, dim, keepdim), array)


@settings(max_examples=12, deadline=None)
@given(case=array_and_dims())
def test_numpy_spellings_axis_and_keepdims_mean_dim_and_keepdim(case):
    array, dim, keepdim = case
    x = tg.tensor(array)
    np.testing.assert_array_equal(x.sum(axis=dim, keepdims=keepdim),
                                  x.sum(dim=dim, keepdim=keepdim))
    np.testing.assert_array_equal(x.amax(axis=dim, keepdims=keepdim), array.max(
        axis=dim, keepdims=keepdim))


def test_whole_tensor_reductions_and_empty_dim_tuple():
    array = np.random.default_rng(1).standard_normal((3, 4))
    for script in (lambda lib, x: x.sum(), lambda lib, x: x.mean(()), lambda lib, x: x.max(),
                   lambda lib, x: x.min(), lambda lib, x: x.sum(dim=()),
                   lambda lib, x: x.prod(), lambda lib, x: x.std(), lambda lib, x: x.var(),
                   lambda lib, x: x.amax(), lambda lib, x: lib.logsumexp(x, (0, 1)),
                   lambda lib, x: x.argmax(), lambda lib, x: x.norm()):
        run_both(script, array)


def test_max_ties_split_or_go_to_the_index():
    array = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    run_both(lambda lib, x: x.max(), array)                # split evenly
    run_both(lambda lib, x: x.amax(1), array)              # split evenly per row
    run_both(lambda lib, x: tuple(x.max(1)), array)        # to the returned index


def test_max_with_dim_is_a_named_tuple():
    out = tg.tensor([[0.1, 0.9], [0.8, 0.2]])
    _, predicted = out.max(1)
    assert predicted.tolist() == [1, 0] and predicted.dtype == tg.int64
    result = tg.max(out, dim=1)
    assert result.values.tolist() == pytest.approx([0.9, 0.8])
    assert result.indices.tolist() == [1, 0] and result[1].tolist() == [1, 0]
    np.testing.assert_allclose(tg.max(out, tg.zeros(2, 2) + 0.5), [[0.5, 0.9], [0.8, 0.5]])


def test_prod_with_zeros_has_pytorchs_gradient():
    run_both(lambda lib, x: x.prod(1), np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]))


# ------------------------------------------------------------------ size, views, shapes
def test_size_numel_dim_element_size():
    for lib in (tg, torch):
        x = lib.zeros(2, 3, 4)
        assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4
        assert x.numel() == 24 and x.nelement() == 24 and x.dim() == 3 and x.ndim == 3
        assert x.element_size() == 4 and len(x) == 2
        assert x.view(x.size(0), -1).shape == (2, 12)
        assert x.shape[1:] == (3, 4)
    assert isinstance(tg.zeros(2).size(), tg.Size) and tg.Size([2, 3]).numel() == 6


SHAPE_SCRIPTS = [
    lambda lib, x: x.view(4, 6),
    lambda lib, x: x.view(-1, 3).t(),
    lambda lib, x: x.view_as(lib.zeros(6, 4)),
    lambda lib, x: x.reshape(2, -1).T,
    lambda lib, x: lib.flatten(x, 1),
    lambda lib, x: x.flatten().unflatten(0, (4, -1)),
    lambda lib, x: x.unsqueeze(1).squeeze(1),
    lambda lib, x: x.unsqueeze(0).squeeze(),
    lambda lib, x: x.transpose(0, 2),
    lambda lib, x: lib.permute(x, (2, 0, 1)),
    lambda lib, x: x[:, :1].expand(2, 3, 4),
    lambda lib, x: x[0].expand_as(x),
    lambda lib, x: x.repeat(1, 2, 1),
    lambda lib, x: lib.cat(x.split(1, dim=2), dim=0),
    lambda lib, x: lib.stack(x.chunk(3, dim=1), dim=1),
    lambda lib, x: lib.stack(lib.unbind(x, 1), 0),
    lambda lib, x: x.split([1, 2], 1)[1],
    lambda lib, x: x.flip(0, 2),
    lambda lib, x: x.narrow(2, 1, 2),
    lambda lib, x: x.select(1, -1),
    lambda lib, x: x[..., 1],
    lambda lib, x: x[:, [0, 2, 2]],
    lambda lib, x: x[x > 0],
    lambda lib, x: x[lib.tensor([1, 0])][:, lib.tensor([True, False, True])],
    lambda lib, x: x.gather(2, lib.tensor([[[0], [3], [1]], [[2], [2], [0]]])),
    lambda lib, x: x.index_select(1, lib.tensor([2, 0])),
    lambda lib, x: x.contiguous(),
    lambda lib, x: x.permute(1, 0, 2).contiguous().view(3, -1),
    lambda lib, x: x.clone() * x,
    lambda lib, x: lib.matmul(x, x.transpose(1, 2)),
    lambda lib, x: x.reshape(2, 12) @ x.reshape(12, 2),
]


@pytest.mark.parametrize("index", range(len(SHAPE_SCRIPTS)))
def test_shape_methods_match_pytorch(index):
    array = np.random.default_rng(index).standard_normal((2, 3, 4))
    run_both(SHAPE_SCRIPTS[index], array)


def test_view_of_a_non_contiguous_tensor_raises_where_pytorch_does():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="view"):
            lib.zeros(2, 3).t().view(6)
        assert lib.zeros(2, 3).t().reshape(6).shape == (6,)


# ------------------------------------------------------------------ elementwise
ELEMENTWISE = [
    lambda lib, x, y: lib.where(x > y, x, y),
    lambda lib, x, y: x.clamp(min=y),
    lambda lib, x, y: x.clamp(-0.5, 0.5),
    lambda lib, x, y: lib.clip(x, max=y),
    lambda lib, x, y: lib.maximum(x, y) + lib.minimum(x, y),
    lambda lib, x, y: x.div(y, rounding_mode="floor"),
    lambda lib, x, y: x.div(y, rounding_mode="trunc"),
    lambda lib, x, y: lib.add(x, y, alpha=2),
    lambda lib, x, y: x.sub(y, alpha=0.5),
    lambda lib, x, y: (x.sin() * y.cos()).abs().sqrt(),
    lambda lib, x, y: x.sigmoid() * y.tanh() + x.relu(),
    lambda lib, x, y: x.exp().log1p() - y.expm1(),
    lambda lib, x, y: x.abs().rsqrt() + x.square(),
    lambda lib, x, y: (x.floor(), x.ceil(), x.round(), x.trunc(), x.sign()),
    lambda lib, x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y),
    lambda lib, x, y: (lib.eq(x, y), lib.gt(x, 0.1), x.lt(y), x.ge(0.0)),
    lambda lib, x, y: ((x / y).isnan(), lib.isinf(x / 0.0), lib.isfinite(x)),
    lambda lib, x, y: (lib.allclose(x, x + 1e-12), lib.equal(x, y), lib.equal(x, x)),
    lambda lib, x, y: x.masked_fill(x > 0, 0.5),
    lambda lib, x, y: (x > 0) & (y > 0),
    lambda lib, x, y: ~(x > 0) | (y > 0),
    lambda lib, x, y: x ** 2 + 2 ** y + x.abs() ** y,
    lambda lib, x, y: (x @ y.t()).reciprocal(),
]


@pytest.mark.parametrize("index", range(len(ELEMENTWISE)))
def test_elementwise_ops_match_pytorch(index):
    rng = np.random.default_rng(100 + index)
    run_both(ELEMENTWISE[index], rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))


# ------------------------------------------------------------------ conversions, factories
def test_conversions_match_pytorch():
    for lib in (tg, torch):
        x = lib.tensor([[1.5, -2.0]])
        assert x.to(lib.float64).dtype == lib.float64
        assert x.to("cpu") is x and x.cpu() is x
        assert x.to("cpu", lib.int64).dtype == lib.int64
        assert x.to(lib.zeros(1, dtype=lib.float16)).dtype == lib.float16
        assert x.to(dtype=lib.float64, device="cpu").dtype == lib.float64
        assert x.double().dtype == lib.float64 and x.half().dtype == lib.float16
        assert x.long().tolist() == [[1, -2]] and x.int().dtype == lib.int32
        assert x.bool().tolist() == [[True, True]] and x.float().dtype == lib.float32
        assert x.type(lib.float64).dtype == lib.float64
        assert x.is_floating_point() and not x.long().is_floating_point()
    assert tg.zeros(1).type() == "tinygrad_cnn.FloatTensor"


def test_dtype_names_are_numpy_dtypes():
    assert tg.float32 == np.float32 and tg.float == np.float32 and tg.double == np.float64
    assert tg.long == np.int64 and tg.int == np.int32 and tg.half == np.float16
    assert tg.uint8 == np.uint8 and tg.bool == np.bool_ and tg.int64 == np.int64
    assert tg.zeros(2, dtype=tg.long).dtype == tg.int64


def test_factories_match_pytorch():
    for make in (lambda lib: lib.zeros(2, 3), lambda lib: lib.ones((2, 3), dtype=lib.float64),
                 lambda lib: lib.full((2, 2), 7), lambda lib: lib.full((2,), 1.5),
                 lambda lib: lib.full((1,), True), lambda lib: lib.eye(3),
                 lambda lib: lib.eye(2, 3, dtype=lib.int64),
                 lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.arange(5),
                 lambda lib: lib.arange(0, 1, 0.25), lambda lib: lib.arange(1, 10, 3),
                 lambda lib: lib.empty(2, 3).shape,
                 lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.int32)),
                 lambda lib: lib.ones_like(lib.zeros(2), dtype=lib.float64),
                 lambda lib: lib.full_like(lib.zeros(2, 2), 3.0),
                 lambda lib: lib.empty_like(lib.zeros(3)).shape,
                 lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor(3.5),
                 lambda lib: lib.tensor([[True]]),
                 lambda lib: lib.hstack([lib.ones(2), lib.zeros(3)]),
                 lambda lib: lib.vstack([lib.ones(2), lib.zeros(2)])):
        ours, theirs = make(tg), make(torch)
        if isinstance(theirs, tuple):
            assert tuple(ours) == tuple(theirs)
        else:
            _check_same(ours.numpy(), theirs.numpy())
    assert tg.ones(2, requires_grad=True, device="cpu").requires_grad


def test_random_factories_ranges_and_generators():
    g = tg.Generator().manual_seed(5)
    perm = tg.randperm(10, generator=g)
    assert sorted(perm.tolist()) == list(range(10)) and perm.dtype == tg.int64
    ints = tg.randint(3, 7, (100,))
    assert ints.dtype == tg.int64 and 3 <= ints.min().item() and ints.max().item() < 7
    assert tg.randint(5, (2, 2)).shape == (2, 2)
    same = [tg.randn(3, generator=tg.Generator().manual_seed(1)) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    tg.manual_seed(2)
    first = tg.rand(4)
    tg.manual_seed(2)
    np.testing.assert_array_equal(first, tg.rand(4))
    assert tg.randn_like(tg.zeros(2, 3, dtype=tg.float64)).dtype == tg.float64
    assert tg.rand_like(tg.zeros(2)).shape == (2,)
    assert isinstance(tg.manual_seed(0), tg.Generator)


def test_from_numpy_and_as_tensor_share_memory_tensor_copies():
    array = np.arange(4.0)
    shared, alias, copy = tg.from_numpy(array), tg.as_tensor(array), tg.tensor(array)
    array[0] = 9
    assert shared[0].item() == 9 and alias[0].item() == 9 and copy[0].item() == 0
    assert shared.dtype == np.float64 and tg.as_tensor(array, dtype=tg.float32)[0] == 9
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray"):
        tg.from_numpy([1, 2])


def test_grad_and_data_are_tensors():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert isinstance(w.grad, tg.Tensor) and isinstance(w.data, tg.Tensor)
    assert w.grad.dtype == w.dtype and not w.data.requires_grad
    np.testing.assert_allclose(w.grad, [2.0, 4.0])
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, [4.0, 8.0])  # accumulates
    w.grad = tg.zeros(2)
    with pytest.raises(RuntimeError, match="assigned grad has shape"):
        w.grad = tg.zeros(3)
    assert np.shares_memory(w.data.numpy(), w.numpy())


def test_scalar_formats_and_conversions():
    loss = tg.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and float(loss) == pytest.approx(0.123456)
    assert int(tg.tensor(3)) == 3 and [10, 20, 30][tg.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.ones(2))


def test_torch_namespace_functions_follow_the_methods():
    x = tg.randn(2, 3)
    for name, args in [("sum", (1,)), ("mean", (0,)), ("flatten", ()), ("exp", ()),
                       ("transpose", (0, 1)), ("argmax", (1,)), ("std", ()),
                       ("clamp", (-0.1, 0.1)), ("unsqueeze", (0,)), ("abs", ())]:
        np.testing.assert_array_equal(getattr(tg, name)(x, *args), getattr(x, name)(*args))


def test_methods_are_named_and_documented():
    # Issue 8 item 7: no lambdas, every method has a docstring; install() binds them.
    from tinygrad_cnn import tensor_methods

    for name in dir(tg.Tensor):
        if name.startswith("__") and name not in ("__add__", "__getitem__", "__setitem__",
                                                  "__iadd__", "__eq__", "__matmul__"):
            continue
        member = getattr(tg.Tensor, name)
        function = member.fget if isinstance(member, property) else member
        if not callable(function) or name.startswith("_") and not name.startswith("__"):
            continue
        assert function.__name__ != "<lambda>", name
        assert function.__doc__, name
    tensor_methods.install()  # idempotent


def _idioms_script(torch, nn, F, DataLoader, TensorDataset):
    """The issue's idioms in one training loop, spelled as PyTorch code writes them."""
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.standard_normal((64, 1, 8, 8)).astype(np.float32))
    Y = torch.from_numpy(rng.integers(0, 3, 64))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(4 * 6 * 6, 3)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = x.view(x.size(0), -1)
            return self.fc(x)

    net = Net().to(device)
    weights = np.random.default_rng(1)
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.data.copy_(torch.from_numpy(
                weights.standard_normal(tuple(m.weight.shape)).astype(np.float32) * 0.1))
            m.bias.data.zero_()
    log = []
    for _ in range(3):
        correct, total = 0, 0.0
        for xb, yb in DataLoader(TensorDataset(X, Y), batch_size=16):
            xb, yb = xb.to(device), yb.to(device)
            out = net(xb)
            loss = F.cross_entropy(out, yb)
            net.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            _, pred = out.max(1)
            correct += (pred == yb).sum().item()
            total += loss.item() * xb.size(0)
        log.append((correct, total / 64))
    t = torch.zeros(3, 4)
    t[:, 0] = torch.ones(3)
    t[1] += 2
    return log, t.sum(dim=1).tolist(), tuple(torch.cat([t, t], dim=1).shape), \
        torch.max(t).item(), tuple(torch.flatten(t, 1).shape)


def test_the_issues_idioms_run_unchanged_and_agree_with_pytorch():
    import torch.nn as tnn
    import torch.nn.functional as TF
    from torch.utils.data import DataLoader as TDataLoader
    from torch.utils.data import TensorDataset as TTensorDataset

    import tinygrad_cnn.functional as F
    from tinygrad_cnn import nn
    from tinygrad_cnn.utils.data import DataLoader, TensorDataset

    ours = _idioms_script(tg, nn, F, DataLoader, TensorDataset)
    theirs = _idioms_script(torch, tnn, TF, TDataLoader, TTensorDataset)
    for (c1, l1), (c2, l2) in zip(ours[0], theirs[0]):
        assert c1 == c2 and l1 == pytest.approx(l2, rel=1e-5)
    assert ours[1:] == theirs[1:]


def test_functional_softmax_takes_pytorchs_dim():
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    array = np.random.default_rng(7).standard_normal((2, 3, 4))
    for dim in (0, 1, -1):
        run_both(lambda lib, x, d=dim: (F if lib is tg else TF).log_softmax(x, dim=d), array)
        run_both(lambda lib, x, d=dim: (F if lib is tg else TF).softmax(x, d), array)
    with pytest.warns(UserWarning, match="implicit dimension"):
        implicit = F.softmax(tg.tensor(array))
    np.testing.assert_allclose(implicit, F.softmax(tg.tensor(array), dim=0))  # 3-d: dim 0


def test_torch_takes_our_tensors_through_dlpack_sharing_memory():
    ours = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    shared = torch.as_tensor(ours)
    assert shared.dtype == torch.float32 and shared.shape == (2, 2)
    shared[0, 0] = 9.0  # as_tensor shares memory
    assert ours[0, 0].item() == 9.0
    copied = torch.tensor(ours)  # torch.tensor copies
    copied[1, 1] = -1.0
    assert ours[1, 1].item() == 4.0
    np.testing.assert_array_equal(torch.from_dlpack(ours).numpy(), ours.numpy())
    np.testing.assert_array_equal(np.from_dlpack(ours), ours.numpy())
    assert torch.as_tensor(tg.tensor(3.0)).item() == 3.0  # 0-d


def test_dlpack_refuses_a_tensor_that_requires_grad_as_pytorch():
    ours = tg.tensor([1.0, 2.0], requires_grad=True)
    theirs = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match="detach"):
        theirs.__dlpack__()
    with pytest.raises(BufferError, match="detach"):
        torch.as_tensor(ours)
    assert torch.as_tensor(ours.detach()).tolist() == [1.0, 2.0]
