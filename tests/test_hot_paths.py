"""The per-op fast paths (binary's scalar shortcut, apply's one pass, the fused tanh
backward) give what the general paths give, checked against PyTorch."""

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("op", ["mul", "add", "sub", "rsub", "rmul", "radd"])
def test_python_float_operand_dtype_and_value_as_torch(dtype, op):
    if dtype is np.bool_ and "sub" in op:
        pytest.skip("PyTorch refuses bool - float; this library computes it (as before)")
    data = np.array([0, 1, 1, 0, 1], dtype=dtype)
    functions = {"mul": lambda t: t * 0.5, "add": lambda t: t + 0.25,
                 "sub": lambda t: t - 0.75, "rsub": lambda t: 0.75 - t,
                 "rmul": lambda t: 0.5 * t, "radd": lambda t: 0.25 + t}
    ours = functions[op](tg.Tensor(data))
    theirs = functions[op](torch.from_numpy(data))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_scalar_operand_graph_as_torch():
    x = tg.Tensor(np.arange(3.0, dtype=np.float32), requires_grad=True)
    y = 2.0 - x * 3.0
    assert y.grad_fn.name() == "SubBackward0"
    assert [type(n).__name__ if n else None for n, _ in y.grad_fn.next_functions] == [
        None, "MulBackward0"]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-3.0, -3.0, -3.0])


def test_tanh_derivatives_to_third_order_as_torch():
    values = np.linspace(-2, 2, 7)
    x = tg.Tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    ours, theirs = x.tanh(), xt.tanh()
    for _ in range(3):
        (ours,) = tg.autograd.grad(ours.sum(), x, create_graph=True)
        (theirs,) = torch.autograd.grad(theirs.sum(), xt, create_graph=True)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-12)
    assert ours.grad_fn is not None


def test_tanh_backward_sees_in_place_change_of_output():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    y = x.tanh()
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_grad_disabled_apply_records_nothing():
    x = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    with tg.no_grad():
        y = x * 2.0 + 1.0
    assert y.grad_fn is None and not y.requires_grad
