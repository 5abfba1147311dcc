"""max_pool1d, avg_pool1d, conv_transpose1d, softmin and dropout1d: values and gradients
against direct 1-D loops written here (independent of the 2-D kernels the ops run on), by
hypothesis; indices, the ``_with_indices`` spellings and max_unpool1d against PyTorch.  The
generic gradcheck, gradgradcheck, dtype and PyTorch tests run from ``tests/op_registry.py``."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pool import distinct, values_and_grad

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn.tensor import Tensor


def pool1d_size(length, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling_output_shape for one axis."""
    span = length + 2 * padding - dilation * (kernel - 1) - 1
    size = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (size - 1) * stride >= length + padding:
        size -= 1
    return size


def max_pool1d_loop(x, kernel, stride, padding, dilation, ceil_mode, grad_output):
    """x (N, C, L): each window's maximum (-inf for one reading only padding) and the
    gradient sent to its first maximum."""
    n_, c_, length = x.shape
    size = pool1d_size(length, kernel, stride, padding, dilation, ceil_mode)
    out, grad = np.empty((n_, c_, size)), np.zeros_like(x)
    for n in range(n_):
        for c in range(c_):
            for o in range(size):
                taps = [o * stride - padding + k * dilation for k in range(kernel)]
                taps = [t for t in taps if 0 <= t < length]
                if not taps:  # a dilated window reading only padding
                    out[n, c, o] = -np.inf
                    continue
                best = max(taps, key=lambda t: (x[n, c, t], -t))
                out[n, c, o] = x[n, c, best]
                grad[n, c, best] += grad_output[n, c, o]
    return out, grad


def avg_pool1d_loop(x, kernel, stride, padding, ceil_mode, count_include_pad, grad_output):
    """x (N, C, L): each window's mean, PyTorch's divisor (the window clipped to the padded
    input, or to the input without count_include_pad)."""
    n_, c_, length = x.shape
    size = pool1d_size(length, kernel, stride, padding, 1, ceil_mode)
    out, grad = np.empty((n_, c_, size)), np.zeros_like(x)
    for o in range(size):
        start = o * stride - padding
        end = min(start + kernel, length + padding)
        first, last = max(start, 0), min(end, length)
        divisor = end - start if count_include_pad else last - first
        for n in range(n_):
            for c in range(c_):
                out[n, c, o] = x[n, c, first:last].sum() / divisor
                grad[n, c, first:last] += grad_output[n, c, o] / divisor
    return out, grad


def conv_transpose1d_loop(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """Each input element adds its value times the kernel to the output it came from."""
    n_, in_channels, length = x.shape
    _, out_per_group, kernel = weight.shape
    in_per_group = in_channels // groups
    size = (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    out = np.zeros((n_, out_per_group * groups, size))
    for n in range(n_):
        for c in range(in_channels):
            group = c // in_per_group
            for i in range(length):
                for k in range(kernel):
                    position = i * stride - padding + k * dilation
                    if 0 <= position < size:
                        for o in range(out_per_group):
                            out[n, group * out_per_group + o, position] += \
                                x[n, c, i] * weight[c, o, k]
    return out + bias[None, :, None]


@st.composite
def pool1d_cases(draw, dilation=True):
    kernel = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, kernel // 2))
    dil = draw(st.integers(1, 2)) if dilation else 1
    ceil_mode = draw(st.booleans())
    length = draw(st.integers(max(1, dil * (kernel - 1) + 1 - 2 * padding), 10))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), length)
    x = distinct(shape, seed=draw(st.integers(0, 2**16)))
    return x, kernel, stride, padding, dil, ceil_mode


@settings(max_examples=60, deadline=None)
@given(pool1d_cases())
def test_max_pool1d_values_and_gradient_match_the_loop(case):
    x, kernel, stride, padding, dilation, ceil_mode = case
    out, grad, g = values_and_grad(
        lambda t: F.max_pool1d(t, kernel, stride, padding, dilation, ceil_mode), x)
    want, want_grad = max_pool1d_loop(x, kernel, stride, padding, dilation, ceil_mode, g)
    np.testing.assert_allclose(out, want)
    np.testing.assert_allclose(grad, want_grad)


@settings(max_examples=60, deadline=None)
@given(pool1d_cases(dilation=False), st.booleans())
def test_avg_pool1d_values_and_gradient_match_the_loop(case, count_include_pad):
    x, kernel, stride, padding, _, ceil_mode = case
    out, grad, g = values_and_grad(
        lambda t: F.avg_pool1d(t, kernel, stride, padding, ceil_mode, count_include_pad), x)
    want, want_grad = avg_pool1d_loop(x, kernel, stride, padding, ceil_mode,
                                      count_include_pad, g)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2), st.integers(1, 2), st.integers(1, 5), st.integers(0, 2**16))
def test_conv_transpose1d_matches_the_loop(groups, in_per_group, out_per_group, kernel,
                                           padding, dilation, length, seed):
    rng = np.random.default_rng(seed)
    stride = int(rng.integers(1, 4))
    output_padding = int(rng.integers(0, max(stride, dilation)))
    size = (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if size < 1:
        return
    x = rng.standard_normal((2, groups * in_per_group, length))
    weight = rng.standard_normal((groups * in_per_group, out_per_group, kernel))
    bias = rng.standard_normal(groups * out_per_group)
    out = F.conv_transpose1d(Tensor(x), Tensor(weight), Tensor(bias), stride, padding,
                             output_padding, groups, dilation)
    want = conv_transpose1d_loop(x, weight, bias, stride, padding, output_padding, groups,
                                 dilation)
    np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2**16))
def test_softmin_is_the_normalised_exponential_of_minus_x(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 5
    dim = seed % len(shape)
    out = F.softmin(Tensor(x), dim).numpy()
    for index in np.ndindex(*[n for a, n in enumerate(shape) if a != dim]):
        row = list(index)
        row.insert(dim, slice(None))
        weights = [math.exp(-v) for v in x[tuple(row)]]
        np.testing.assert_allclose(out[tuple(row)], np.array(weights) / sum(weights),
                                   rtol=1e-12)


def test_dropout1d_zeroes_whole_channels_and_scales_the_rest():
    x = Tensor(np.ones((4, 6, 5)))
    tg.manual_seed(0)
    out = F.dropout1d(x, 0.5).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert (out == out[:, :, :1]).all()  # one decision per (sample, channel)
    assert 0 < np.mean(out == 0) < 1


def test_dropout1d_takes_an_unbatched_sequence_and_is_the_identity_in_eval():
    x = Tensor(np.ones((6, 5)))
    assert F.dropout1d(x, 0.5, training=False) is x
    out = F.dropout1d(x, 0.5).numpy()
    assert (out == out[:, :1]).all()


# ------------------------------------------------------------------ against PyTorch
torch_only = pytest.mark.torch


@torch_only
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool1d_indices_are_pytorchs(ceil_mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 11))
    out, indices = F.max_pool1d(Tensor(x), 3, 2, 1, 2, ceil_mode, return_indices=True)
    want, want_indices = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, 2,
                                                        ceil_mode, return_indices=True)
    np.testing.assert_allclose(out.data, want.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, want_indices.numpy())


@torch_only
@pytest.mark.parametrize("name,shape", [("max_pool1d_with_indices", (2, 3, 9)),
                                        ("max_pool1d_with_indices", (3, 9)),
                                        ("max_pool2d_with_indices", (2, 3, 7, 6))])
def test_with_indices_spellings_return_pytorchs_pair(name, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal(shape)
    out, indices = getattr(F, name)(Tensor(x), 3, 2, 1)
    want, want_indices = getattr(torch.nn.functional, name)(torch.tensor(x), 3, 2, 1)
    np.testing.assert_allclose(out.data, want.numpy())
    np.testing.assert_array_equal(indices.data, want_indices.numpy())


@torch_only
def test_max_pool1d_refuses_integers_without_indices_as_pytorch():
    x = Tensor(np.arange(12).reshape(2, 6))
    with pytest.raises(TypeError, match="max_pool1d: input must be a floating point"):
        F.max_pool1d(x, 2)
    out, indices = F.max_pool1d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.data, [[1, 3, 5], [7, 9, 11]])


@torch_only
@pytest.mark.parametrize("shape,kernel,stride,padding,output_size", [
    ((2, 3, 11), 3, 2, 1, None),        # overlapping windows repeat an index
    ((2, 3, 11), 3, 2, 1, (11,)),
    ((3, 10), 2, None, 0, None),        # unbatched
    ((2, 2, 9), 3, 3, 0, (1, 2, 10)),   # the full shape as output_size
])
def test_max_unpool1d_of_max_pool1d_is_pytorchs_value_and_gradient(shape, kernel, stride,
                                                                   padding, output_size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal(shape)
    pooled, indices = F.max_pool1d(Tensor(x), kernel, stride, padding, return_indices=True)
    ours = Tensor(pooled.numpy(), requires_grad=True)
    theirs = torch.tensor(pooled.numpy(), requires_grad=True)
    y = F.max_unpool1d(ours, indices, kernel, stride, padding, output_size)
    want = torch.nn.functional.max_unpool1d(theirs, torch.from_numpy(indices.numpy()), kernel,
                                            stride, padding, output_size)
    np.testing.assert_array_equal(y.numpy(), want.detach().numpy())
    g = np.random.default_rng(6).standard_normal(y.shape)
    y.backward(g)
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


@torch_only
def test_max_unpool1d_layer_is_pytorchs():
    torch = pytest.importorskip("torch")
    layer, want_layer = tg.nn.MaxUnpool1d(3, stride=2, padding=1), torch.nn.MaxUnpool1d(3, 2, 1)
    assert repr(layer) == repr(want_layer)
    assert (layer.kernel_size, layer.stride, layer.padding) == ((3,), (2,), (1,))
    x = np.random.default_rng(7).standard_normal((2, 3, 8))
    pooled, indices = tg.nn.MaxPool1d(3, 2, 1, return_indices=True)(Tensor(x))
    want = want_layer(torch.tensor(pooled.numpy()), torch.from_numpy(indices.numpy()),
                      output_size=(2, 3, 8))
    np.testing.assert_array_equal(layer(pooled, indices, output_size=(2, 3, 8)).numpy(),
                                  want.numpy())
    with pytest.raises(ValueError, match=r"max_unpool1d: output_size must hold 1 or 3 sizes"):
        layer(pooled, indices, output_size=(3, 8))
