"""Bad input to the core ops: the error PyTorch raises (RuntimeError, ValueError, ...)
naming the op, the argument and the shapes, raised before numpy sees it (API.md,
"Errors")."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F


def t(*shape, dtype=np.float32):
    return tg.Tensor(np.ones(shape, dtype=dtype))


@pytest.mark.parametrize("call, error, message", [
    (lambda: t(2, 3) @ t(4, 5), RuntimeError,
     r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"),
    (lambda: t(2, 3, 4) @ t(5, 4, 2), ValueError, r"matmul \(batch dimensions\): shapes \(2,\)"),
    (lambda: t(3) @ tg.Tensor(2.0), RuntimeError, "matmul: both arguments need at least 1 dim"),
    (lambda: t(2, 3) + t(4), ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: t(2, 3) * t(2, 2), ValueError, r"mul: shapes \(2, 3\) and \(2, 2\)"),
    (lambda: t(2) - t(3), ValueError, r"sub: shapes \(2,\) and \(3,\)"),
    (lambda: t(2) / t(3), ValueError, r"div: shapes \(2,\) and \(3,\)"),
    (lambda: t(2) ** t(3), ValueError, r"pow: shapes \(2,\) and \(3,\)"),
    (lambda: t(2) < t(3), ValueError, r"lt: shapes \(2,\) and \(3,\)"),
    (lambda: t(2, 3).sum(axis=2), ValueError, r"sum: axis 2 is out of range .* \(shape \(2, 3\)\)"),
    (lambda: t(2, 3).mean(axis=(0, 0)), ValueError, "mean: axis .* repeats an axis"),
    (lambda: t(2, 3).max(axis=1.5), TypeError, "max: axis must be an int"),
    (lambda: t(2, 3).reshape(4, 2), RuntimeError,
     r"reshape: shape \[4, 2\] is invalid for input of size 6 \(shape \(2, 3\)\)"),
    (lambda: t(2, 3).reshape(-1, -1), RuntimeError, "reshape: invalid shape"),
    (lambda: t(2, 3).t().view(6), RuntimeError, "view: size is not compatible"),
    (lambda: t(2, 3).reshape(2.0, 3), TypeError, "reshape: sizes must be ints"),
    (lambda: t(2, 3).permute(0, 0), RuntimeError, r"permute: \(0, 0\) is not a permutation"),
    (lambda: t(2, 3).transpose(0, 2), ValueError, "transpose: axis 2 is out of range"),
    (lambda: t(2, 3).unsqueeze(4), ValueError, "unsqueeze: axis 4 is out of range"),
    (lambda: t(2, 3).flatten(1, 0), RuntimeError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda: t(2, 3)[5], IndexError, r"getitem: .* \(tensor shape \(2, 3\)\)"),
    (lambda: t(2, 3)[t(2)], IndexError, "getitem: tensors used as indices must be long"),
    (lambda: t(2).clip(), RuntimeError, "clamp: at least one of 'min' or 'max'"),
    (lambda: tg.cat([t(2, 3), t(3, 3)], dim=1), RuntimeError,
     r"cat: sizes of tensors must match except in dimension 1: tensor 1 has shape \(3, 3\)"),
    (lambda: tg.stack([t(2), t(3)]), RuntimeError, r"stack: expects each tensor to be equal "
     r"size, but got \(2,\) at entry 0 and \(3,\) at entry 1"),
    (lambda: tg.cat(t(2)), TypeError, "cat: tensors must be a list or tuple of tensors"),
    (lambda: F.linear(t(4, 3), t(5, 2)), ValueError,
     r"linear: input has 3 features \(shape \(4, 3\)\) but weight expects 2"),
    (lambda: F.linear(t(4, 3), t(5, 3), t(4)), ValueError, r"linear: bias must have shape \(5,\)"),
    (lambda: F.softmax(t(2, 3), axis=3), ValueError, "softmax: axis 3 is out of range"),
    (lambda: F.cross_entropy(t(2, 3), np.array([0, 3])), IndexError,
     r"cross_entropy: target 3 is out of bounds for 3 classes"),
    (lambda: F.cross_entropy(t(2, 3), np.array([0.0, 1.0])), RuntimeError,
     "cross_entropy: probability target shape"),
    (lambda: F.cross_entropy(t(2, 3), np.array([0, 1, 2])), ValueError,
     r"cross_entropy: expected input batch_size \(2\) to match target batch_size \(3\)"),
    (lambda: F.cross_entropy(t(2, 3), np.array([0, 1]), reduction="avg"), ValueError,
     "cross_entropy: reduction must be one of"),
    (lambda: F.mse_loss(t(2, 3), t(3, 2)), RuntimeError,
     r"mse_loss: input shape \(2, 3\) and target shape \(3, 2\) differ"),
    (lambda: F.dropout(t(3), p=1.5), ValueError, "dropout: p must be a probability"),
    (lambda: F.relu(np.ones(3)), TypeError, "relu: input must be a Tensor"),
    (lambda: tg.grad(t(2).sum(), t(2)), RuntimeError, "grad: the tensor .* does not require grad"),
    (lambda: t(2, 3).permute(0, 3), IndexError, r"permute: \(0, 3\) is not a permutation"),
    (lambda: tg.cat([tg.Tensor(1.0), tg.Tensor(2.0)]), RuntimeError,
     "cat: zero-dimensional tensor"),
    (lambda: t(2).astype("foo"), TypeError, "astype: 'foo' is not a data type"),
    (lambda: t(2).astype(np.complex64), TypeError, "astype: unsupported dtype complex64"),
    (lambda: tg.Tensor(np.ones(2, np.uint8)) + 300, RuntimeError,
     "add: the scalar 300 does not fit the tensor's dtype uint8"),
    (lambda: tg.Tensor([True]) - tg.Tensor([False]), RuntimeError,
     "sub: subtracting two bool tensors"),
    (lambda: t(3).var(correction="a"), TypeError, "var: correction must be a number"),
    (lambda: tg.arange("a"), TypeError, "arange: end must be a number"),
    (lambda: t(2) + "a", TypeError, "add: cannot combine a tensor with str"),
    (lambda: F.dropout(t(3), p="a"), TypeError, "dropout: p must be a number"),
    (lambda: F.dropout(t(3), p=True), TypeError, "dropout: p must be a number"),
    (lambda: F.mse_loss(t(2), t(3), reduction="avg"), ValueError,
     "mse_loss: reduction must be one of"),
    (lambda: tg.manual_seed(1.5), TypeError, "manual_seed: seed must be an int, got 1.5"),
    (lambda: tg.nn.BatchNorm2d(2)(np.ones((2, 2, 1, 1))), TypeError,
     "BatchNorm2d: input must be a Tensor, got ndarray"),
    # one wording for a non-number everywhere (functions, layers, optimizers)
    (lambda: tg.nn.Dropout(p="a"), TypeError, "Dropout: p must be a number, got 'a'"),
    (lambda: tg.nn.LeakyReLU(negative_slope=True), TypeError,
     "LeakyReLU: negative_slope must be a number, got True"),
    (lambda: F.leaky_relu(t(2), negative_slope="a"), TypeError,
     "leaky_relu: negative_slope must be a number, got 'a'"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_no_numpy_broadcast_message_leaks_from_backward():
    a = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: gradient has shape \(3, 2\)"):
        (a * 2.0).backward(np.ones((3, 2)))
