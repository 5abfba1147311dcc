"""In-place operations: they change the tensor and its views (numpy views share memory),
follow PyTorch's autograd rules (leaf error, recorded elsewhere) and give PyTorch's values and
gradients.  Each script is written once in PyTorch's spelling and run under both libraries."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg


def _run(script, lib, *arrays):
    """``script(lib, *tensors)`` -> (result array, [gradients])."""
    tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = script(lib, *tensors)
    seed = np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape))
    out.backward(lib.tensor(seed))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _compare(script, *arrays):
    torch = pytest.importorskip("torch")
    ours, our_grads = _run(script, tg, *arrays)
    theirs, their_grads = _run(script, torch, *arrays)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
ROW = RNG.standard_normal(4)


def residual_add(lib, a, b):
    out = a * 2
    out += b            # ResNet's `out += identity`
    return out.relu_()  # nn.ReLU(inplace=True)


def arithmetic_chain(lib, a, b):
    out = a.exp()
    out = out * 1
    out.mul_(b).sub_(a, alpha=0.5).div_(2).add_(1, alpha=3)
    out.clamp_(-1.0, 2.0)
    return out.pow_(2)


def setitem_rows(lib, a, b):
    out = a * 1
    out[:, 0] = b[:, 1]         # t[:, 0] = v
    out[1] = b[2] * 3
    out[out > 1.5] = 0.0        # boolean mask
    return out


def view_mul(lib, a, row):
    out = a * 1
    out[1].mul_(row)            # through a view
    out.t()[0].add_(1.0)        # through a transposed view
    return out * a


def base_then_view(lib, a, b):
    base = a * 1
    view = base[1:]
    base.mul_(b)                # the view sees it, and its graph follows
    return view * 2


def zero_and_fill(lib, a, b):
    out = a * b
    out[0].zero_()
    out[1].fill_(2.0)
    return out


def copy_into_buffer(lib, a, b):
    buffer = lib.zeros(3, 4, dtype=a.dtype)
    buffer.copy_(a)             # a buffer that did not require grad joins the graph
    buffer[:, :2] += b[:, :2]
    return buffer


def exp_in_place(lib, a, b):
    out = a + b
    out.sin_()
    out.exp_()
    return out * 2


@pytest.mark.torch
@pytest.mark.parametrize("script, arrays", [
    (residual_add, (A, B)), (arithmetic_chain, (A, B)), (setitem_rows, (A, B)),
    (view_mul, (A, ROW)), (base_then_view, (A, B)), (zero_and_fill, (A, B)),
    (copy_into_buffer, (A, B)), (exp_in_place, (A, B)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_in_place_scripts_match_pytorch(script, arrays):
    _compare(script, *arrays)


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = tg.ones(3, requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(),
                   lambda: w.__setitem__(0, 5.0), lambda: w[0].fill_(1.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            change()
    np.testing.assert_array_equal(w.detach(), [1.0, 1.0, 1.0])


def test_no_grad_update_really_changes_the_parameter():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_allclose(w.detach(), [0.0, 0.0])
    assert w.is_leaf and w.requires_grad
    w.grad.zero_()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])


def test_weight_init_through_data():
    tg.manual_seed(0)
    layer = tg.nn.Linear(4, 3)
    layer.weight.data.normal_(0, 0.01)
    layer.bias.data.zero_()
    layer.weight.data.fill_(0.5)
    np.testing.assert_array_equal(layer.weight.detach(), np.full((3, 4), 0.5, np.float32))
    np.testing.assert_array_equal(layer.bias.detach(), np.zeros(3, np.float32))
    layer.weight.data = tg.ones(3, 4)
    np.testing.assert_array_equal(layer.weight.detach(), np.ones((3, 4)))
    assert layer.weight.requires_grad


def test_views_share_memory_both_ways():
    x = tg.arange(12.0).reshape(3, 4)
    for view in (x.view(12), x[1], x[:, 1:3], x.t(), x.transpose(0, 1), x.T, x.flatten(),
                 x.unsqueeze(0), x.permute(1, 0), x.narrow(1, 0, 2), x.select(0, 2)):
        assert np.shares_memory(view.numpy(), x.numpy())
    x[1].fill_(-1.0)
    x.t()[3].zero_()
    expected = np.arange(12.0).reshape(3, 4)
    expected[1] = -1
    expected[:, 3] = 0
    np.testing.assert_array_equal(x, expected)
    x.view(12)[0] = 7
    assert x[0, 0].item() == 7
    assert x.data.numpy() is x.numpy() or np.shares_memory(x.data.numpy(), x.numpy())


def test_integer_array_indexing_copies_and_writes_through_setitem():
    x = tg.zeros(5)
    picked = x[[0, 2]]
    picked.fill_(1.0)
    np.testing.assert_array_equal(x, np.zeros(5))
    x[tg.tensor([0, 2])] = 1.0
    x[x > 0.5] += 1.0
    np.testing.assert_array_equal(x, [2.0, 0, 2.0, 0, 0])


def test_in_place_dtype_and_shape_rules_follow_pytorch():
    ints = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints.add_(0.5)
    ints.add_(1)
    assert ints.dtype == np.int64 and ints.tolist() == [2, 3, 4]
    small = tg.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        small.add_(tg.ones(2, 3))
    small.add_(tg.ones(1))
    assert small.tolist() == [1.0, 1.0, 1.0]
    doubles = tg.zeros(2, dtype=tg.float32)
    doubles += tg.ones(2, dtype=tg.float64)
    assert doubles.dtype == tg.float32


def test_random_fills_follow_the_generator():
    first = tg.empty(5).normal_(0, 1, generator=tg.Generator().manual_seed(3))
    second = tg.empty(5).normal_(0, 1, generator=tg.Generator().manual_seed(3))
    np.testing.assert_array_equal(first, second)
    uniform = tg.empty(1000).uniform_(-2, 3)
    assert -2 <= uniform.min().item() and uniform.max().item() < 3
    with pytest.raises(RuntimeError, match="floating point"):
        tg.zeros(3, dtype=tg.int64).normal_()


def test_in_place_methods_return_self_and_chain():
    x = tg.zeros(3)
    assert x.add_(1).mul_(3) is x
    assert x.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 3), start=st.integers(0, 2),
       op=st.sampled_from(["mul_", "add_", "sub_", "div_", "setitem", "zero_", "clamp_"]),
       through=st.sampled_from(["row", "column", "transpose", "view", "base"]))
def test_in_place_on_random_views_matches_pytorch(seed, rows, start, op, through):
    # An in-place change through a random kind of view of a non-leaf: the base, the view
    # and every gradient agree with PyTorch's.
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((4, 3)), rng.uniform(0.5, 2.0, (4, 3))

    def script(lib, a, b):
        base = a * 1.0
        view = {"row": lambda t: t[start:start + rows],
                "column": lambda t: t[:, start],
                "transpose": lambda t: t.t()[start],
                "view": lambda t: t.view(2, 6)[start % 2],
                "base": lambda t: t}[through](base)
        other = {"row": lambda t: t[start:start + rows],
                 "column": lambda t: t[:, start],
                 "transpose": lambda t: t.t()[start],
                 "view": lambda t: t.view(2, 6)[start % 2],
                 "base": lambda t: t}[through](b)
        if op == "setitem":
            view[...] = other * 2
        elif op == "zero_":
            view.zero_()
        elif op == "clamp_":
            view.clamp_(-0.5, 0.5)
        else:
            getattr(view, op)(other)
        return base * b + view.sum()

    _compare(script, a, b)
