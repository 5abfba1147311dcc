"""max_pool2d(return_indices=True), max_unpool2d, adaptive average / max pooling and their
layers; Conv1d/Conv2d ``padding_mode``.  Hypothesis against the element loops of
``reference.py`` (ties included: integer-valued inputs), PyTorch agreement on indices and
gradients.  The generic gradcheck / gradgradcheck / dtype / PyTorch tests of the registry
samples run from ``tests/op_registry.py``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import adaptive_pool2d_ref, max_pool2d_indices_ref, max_pool2d_ref, max_unpool2d_ref

import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn.gradcheck import gradgradcheck
from tinygrad_cnn.ops.pool_windows import adaptive_max_by_taps, adaptive_max_by_windows
from tinygrad_cnn.tensor import Tensor


def grad_of(tensor):
    g = tensor.grad
    return g._data if isinstance(g, Tensor) else np.asarray(g)


def values(draw, shape, ties):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if ties:  # few distinct values: many windows hold their maximum twice
        return rng.integers(-2, 3, shape).astype(np.float64)
    return rng.standard_normal(shape)


@st.composite
def pool_case(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ceil_mode = draw(st.booleans())
    size = tuple(draw(st.integers(d * (k - 1) + 1, 8)) for k, d in zip(kernel, dilation))
    x = values(draw, (2, 2) + size, draw(st.booleans()))
    return x, dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                   ceil_mode=ceil_mode)


@settings(max_examples=40, deadline=None)
@given(pool_case())
def test_max_pool_indices_match_the_loop_reference(case):
    x, kw = case
    out, indices = F.max_pool2d(Tensor(x), return_indices=True, **kw)
    args = (kw["kernel_size"], kw["stride"], kw["padding"], kw["dilation"], kw["ceil_mode"])
    np.testing.assert_array_equal(out._data, max_pool2d_ref(x, *args))
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices._data, max_pool2d_indices_ref(x, *args))


@settings(max_examples=30, deadline=None)
@given(pool_case())
def test_max_pool_with_indices_has_the_same_gradient_as_without(case):
    # both send each window's gradient to its first maximum (ties: to one element)
    x, kw = case
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    g = np.random.default_rng(1).standard_normal(F.max_pool2d(a, **kw).shape)
    F.max_pool2d(a, **kw).backward(g)
    F.max_pool2d(b, return_indices=True, **kw)[0].backward(g)
    np.testing.assert_allclose(grad_of(a), grad_of(b), rtol=1e-12, atol=1e-15)


def test_max_pool_indices_of_an_all_minus_inf_window_point_inside_the_input():
    x = np.full((1, 1, 3, 3), -np.inf)
    out, indices = F.max_pool2d(Tensor(x), 2, stride=2, padding=1, return_indices=True)
    assert np.isneginf(out._data).all()
    np.testing.assert_array_equal(indices._data[0, 0], [[0, 1], [3, 4]])


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(pool_case())
def test_max_pool_indices_and_gradients_match_pytorch_with_ties(case):
    torch = pytest.importorskip("torch")
    x, kw = case
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(ours, return_indices=True, **kw)
    tout, tindices = torch.nn.functional.max_pool2d(theirs, return_indices=True, **kw)
    np.testing.assert_array_equal(indices._data, tindices.numpy())
    g = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(grad_of(ours), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(pool_case())
def test_max_unpool_of_max_pool_matches_pytorch_even_with_repeated_indices(case):
    # overlapping windows repeat an index: the write and the gradient follow PyTorch
    torch = pytest.importorskip("torch")
    x, kw = case
    if kw["dilation"] != (1, 1) or kw["ceil_mode"]:
        return
    kw = {k: kw[k] for k in ("kernel_size", "stride", "padding")}
    pooled, indices = F.max_pool2d(Tensor(x), return_indices=True, **kw)
    tpooled, tindices = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True,
                                                       **kw)
    size = x.shape[-2:]
    ours = Tensor(pooled._data, requires_grad=True)
    theirs = torch.tensor(tpooled.numpy(), requires_grad=True)
    y = F.max_unpool2d(ours, indices, output_size=size, **kw)
    ty = torch.nn.functional.max_unpool2d(theirs, tindices, output_size=size, **kw)
    np.testing.assert_array_equal(y._data, ty.detach().numpy())
    np.testing.assert_array_equal(y._data, max_unpool2d_ref(pooled._data, indices._data, size))
    g = np.random.default_rng(3).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(grad_of(ours), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_unpool_double_backward():
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 4))
    _, indices = F.max_pool2d(Tensor(x), 2, return_indices=True)
    pooled = Tensor(np.random.default_rng(1).standard_normal((2, 2, 3, 2)), requires_grad=True)
    assert gradgradcheck(lambda v: F.max_unpool2d(v, indices, 2) ** 2, [pooled])


# ------------------------------------------------------------------ adaptive pooling
@st.composite
def adaptive_case(draw):
    size = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    out = (draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    x = values(draw, (2, 2) + size, draw(st.booleans()))
    return x, out


@settings(max_examples=40, deadline=None)
@given(adaptive_case())
def test_adaptive_pools_match_the_loop_reference(case):
    x, out = case
    np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), out)._data,
                               adaptive_pool2d_ref(x, out, "avg"), rtol=1e-12, atol=1e-12)
    values_, indices = F.adaptive_max_pool2d(Tensor(x), out, return_indices=True)
    expected, where = adaptive_pool2d_ref(x, out, "max")
    np.testing.assert_array_equal(values_._data, expected)
    np.testing.assert_array_equal(indices._data, where)


@settings(max_examples=25, deadline=None)
@given(adaptive_case())
def test_adaptive_max_gradient_goes_to_the_indexed_element(case):
    x, out = case
    t = Tensor(x, requires_grad=True)
    y, indices = F.adaptive_max_pool2d(t, out, return_indices=True)
    g = np.random.default_rng(4).standard_normal(y.shape)
    y.backward(g)
    expected = np.zeros((4, x.shape[2] * x.shape[3]))
    np.add.at(expected, (np.arange(4)[:, None], indices._data.reshape(4, -1)), g.reshape(4, -1))
    np.testing.assert_allclose(grad_of(t), expected.reshape(x.shape), rtol=1e-12, atol=1e-15)


SPECIAL = np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, np.inf, np.nan])


@st.composite
def adaptive_special_case(draw):
    """Unequal adaptive windows over planes up to 16 x 16 (sequences up to 150) holding a few
    special values: ties, signed zeros, infinities and NaN (PyTorch's scan: first maximum,
    last NaN)."""
    size = draw(st.sampled_from([(draw(st.integers(1, 16)), draw(st.integers(1, 16))),
                                 (1, draw(st.integers(1, 150)))]))
    out = (draw(st.integers(1, 11)), draw(st.integers(1, 11)))
    if size[0] == 1:
        out = (1, out[1])
    lead = draw(st.sampled_from([(3,), (2, 3), (1, 5)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    pool = SPECIAL[rng.choice(len(SPECIAL), size=draw(st.integers(1, 4)), replace=False)]
    x = pool[rng.integers(0, len(pool), lead + size)]
    if draw(st.booleans()):
        x[rng.random(x.shape) < 0.9] = 1.0  # mostly one value: long runs of ties
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return x.astype(dtype), out


def _bitwise_equal(a, b):
    """Equal values, NaN at the same places, zeros of the same sign."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))
    np.testing.assert_array_equal(np.nan_to_num(a), np.nan_to_num(b))


@settings(max_examples=40, deadline=None)
@given(adaptive_special_case())
def test_adaptive_max_values_and_indices_match_the_loop_with_ties_and_nan(case):
    x, out = case
    y, indices = F.adaptive_max_pool2d(Tensor(x), out, return_indices=True)
    planes = x.reshape((-1, 1) + x.shape[-2:])
    expected, where = adaptive_pool2d_ref(planes, out, "max")
    assert y.dtype == x.dtype and indices.dtype == np.int64
    np.testing.assert_array_equal(indices._data.reshape(where.shape), where)
    _bitwise_equal(y._data.reshape(expected.shape), expected)
    # each kernel, whichever the size rule picks above
    for kernel in (adaptive_max_by_taps, adaptive_max_by_windows):
        np.testing.assert_array_equal(kernel(x, out).reshape(where.shape), where)


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(adaptive_special_case())
def test_adaptive_max_values_and_indices_match_pytorch_with_ties_and_nan(case):
    torch = pytest.importorskip("torch")
    x, out = case
    y, indices = F.adaptive_max_pool2d(Tensor(x), out, return_indices=True)
    ty, tindices = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), out, True)
    np.testing.assert_array_equal(indices._data, tindices.numpy())
    _bitwise_equal(y._data, ty.numpy())


def test_adaptive_max_takes_the_last_nan_of_a_window_as_pytorch():
    x = np.array([[[[np.nan, 1.0, np.nan, 2.0]]]])
    y, indices = F.adaptive_max_pool2d(Tensor(x), (1, 1), return_indices=True)
    assert np.isnan(y._data).all() and indices._data.item() == 2


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(adaptive_case())
def test_adaptive_pools_match_pytorch_values_indices_gradients(case):
    torch = pytest.importorskip("torch")
    x, out = case
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = getattr(F, name)(ours, out)
        ty = getattr(torch.nn.functional, name)(theirs, out)
        np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(5).standard_normal(y.shape)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(grad_of(ours), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    _, indices = F.adaptive_max_pool2d(Tensor(x), out, return_indices=True)
    _, tindices = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), out, True)
    np.testing.assert_array_equal(indices._data, tindices.numpy())


def test_global_average_pooling_is_the_mean():
    x = np.random.default_rng(0).standard_normal((3, 4, 7, 7))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), 1)._data,
                               x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)


def test_adaptive_pool_1d_and_none_sizes():
    x = np.random.default_rng(0).standard_normal((2, 3, 10))
    np.testing.assert_allclose(F.adaptive_avg_pool1d(Tensor(x), 4)._data,
                               adaptive_pool2d_ref(x[:, :, None], (1, 4))[:, :, 0], rtol=1e-12)
    y, i = F.adaptive_max_pool1d(Tensor(x), 4, return_indices=True)
    assert y.shape == i.shape == (2, 3, 4)
    x2 = np.random.default_rng(1).standard_normal((2, 3, 5, 6))
    assert F.adaptive_avg_pool2d(Tensor(x2), (None, 2)).shape == (2, 3, 5, 2)


# ------------------------------------------------------------------ layers
@pytest.mark.torch
@pytest.mark.parametrize("make,shape", [
    (lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 7, 7)),
    (lambda m: m.AdaptiveAvgPool2d((5, None)), (2, 3, 14, 9)),
    (lambda m: m.AdaptiveMaxPool2d((3, 4)), (2, 3, 7, 9)),
    (lambda m: m.AdaptiveAvgPool1d(3), (2, 3, 7)),
    (lambda m: m.AdaptiveMaxPool1d(4), (3, 10)),
    (lambda m: m.MaxPool2d(3, 2, 1), (2, 3, 7, 7)),
])
def test_pooling_layers_match_pytorch(make, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = make(nn), make(torch.nn)
    np.testing.assert_allclose(ours(Tensor(x))._data, theirs(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(theirs)


@pytest.mark.torch
def test_max_pool_and_unpool_layers_round_trip_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    tpool, tunpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    out, indices = pool(Tensor(x))
    tout, tindices = tpool(torch.tensor(x))
    np.testing.assert_array_equal(indices._data, tindices.numpy())
    np.testing.assert_array_equal(unpool(out, indices, output_size=x.shape)._data,
                                  tunpool(tout, tindices, output_size=x.shape).numpy())
    assert repr(unpool) == repr(tunpool)
    y, i = nn.AdaptiveMaxPool2d(2, return_indices=True)(Tensor(x))
    ty, ti = torch.nn.AdaptiveMaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(i._data, ti.numpy())


@pytest.mark.parametrize("make,error,words", [
    (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), RuntimeError, ["AdaptiveAvgPool2d", "output_size"]),
    (lambda: nn.AdaptiveAvgPool2d(-1), ValueError, ["AdaptiveAvgPool2d", "output_size"]),
    (lambda: nn.AdaptiveAvgPool2d(1.5), TypeError, ["AdaptiveAvgPool2d", "output_size"]),
    (lambda: nn.AdaptiveMaxPool2d(2, return_indices=1), TypeError, ["return_indices"]),
    (lambda: nn.MaxPool2d(2, return_indices="yes"), TypeError, ["MaxPool2d", "return_indices"]),
    (lambda: nn.MaxUnpool2d(0), ValueError, ["MaxUnpool2d", "kernel_size"]),
])
def test_pooling_layers_check_their_arguments_when_made(make, error, words):
    with pytest.raises(error) as info:
        make()
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------ conv padding_mode
@pytest.mark.torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims,padding", [(1, 2), (1, "same"), (2, 1), (2, (1, 2)),
                                          (2, "same"), (2, "valid")])
def test_conv_padding_modes_match_pytorch(mode, dims, padding):
    torch = pytest.importorskip("torch")
    ours_cls, theirs_cls = (nn.Conv1d, torch.nn.Conv1d) if dims == 1 else \
        (nn.Conv2d, torch.nn.Conv2d)
    dilation = 2 if padding == "same" else 1
    theirs = theirs_cls(3, 4, 3, padding=padding, padding_mode=mode, dilation=dilation).double()
    ours = ours_cls(3, 4, 3, padding=padding, padding_mode=mode, dilation=dilation,
                    dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 7) if dims == 1 else (2, 3, 7, 6))
    a, t = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(a), theirs(t)
    np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(grad_of(a), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_of(ours.weight), theirs.weight.grad.numpy(), rtol=1e-10)
    assert repr(ours) == repr(theirs)


def test_conv_padding_mode_is_checked():
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="ConvTranspose2d: only padding_mode='zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
