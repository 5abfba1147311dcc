"""Training-mode batch_norm as the primitive ``ops.batchnorm.BatchNormTraining``.

Specification: it computes what the composite formula (``reference`` below, the previous
implementation of ``F.batch_norm(training=True)`` built from Tensor ops) computes, forward and
backward, and updates the running statistics bit for bit as before.  Its float32 dtypes,
float64 gradcheck and gradgradcheck and the PyTorch oracle run from ``tests/op_registry.py``.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tinygrad_cnn import functional as F
from tinygrad_cnn.autograd.engine import grad
from tinygrad_cnn.tensor import Tensor

EPS = 1e-5


def reference(x, weight, bias, eps=EPS):
    """The composite formula: ten Tensor ops, differentiated op by op."""
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    scale = (var + eps) ** -0.5
    if weight is not None:
        scale = scale * weight.reshape(per_channel)
    out = centered * scale
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out, mean.data.reshape(-1), var.data.reshape(-1)


def tensors(shape, seed, dtype, affine=(True, True)):
    rng = np.random.default_rng(seed)
    x = Tensor((rng.standard_normal(shape) * 2 + 3).astype(dtype), requires_grad=True)
    params = [Tensor(rng.standard_normal(shape[1]).astype(dtype), requires_grad=True)
              if wanted else None for wanted in affine]
    return x, params[0], params[1]


def training(x, weight, bias):
    return F.batch_norm(x, None, None, weight, bias, training=True)


# ------------------------------------------------------------------ derivatives (float64)


def test_training_batch_norm_is_one_primitive_node():
    x, weight, bias = tensors((2, 3, 2, 2), seed=4, dtype=np.float64)
    assert training(x, weight, bias).grad_fn.name() == "BatchNormTrainingBackward0"


def test_second_derivative_matches_the_composite_formula():
    x, weight, bias = tensors((3, 2, 2, 3), seed=5, dtype=np.float64)
    v = np.random.default_rng(6).standard_normal(x.shape)
    results = []
    for forward in (training, lambda *a: reference(*a)[0]):
        gx, gw = grad(forward(x, weight, bias), (x, weight), Tensor(v), create_graph=True)
        # a scalar of the first derivatives, differentiated again
        # bias does not reach the first derivatives: its entry is zeros, as PyTorch's
        # materialize_grads gives
        results.append(grad((gx * gx).sum() + (gw * gw).sum(), (x, weight, bias),
                            materialize_grads=True))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------------ against the composite formula
@st.composite
def cases(draw):
    ndim = draw(st.integers(2, 4))
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(ndim - 2))
    if n * int(np.prod(spatial, dtype=np.int64)) < 2:  # batch_norm needs >1 value per channel
        n = 2
    affine = (draw(st.booleans()), draw(st.booleans()))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (n, c) + spatial, affine, dtype, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None)
@given(cases())
@example(((1, 3, 2, 3), (True, True), np.float32, 0))  # N=1 with spatial > 1
@example(((1, 2, 5), (False, True), np.float64, 1))
@example(((2, 3), (False, False), np.float32, 25))  # a channel with std << |mean|
def test_forward_and_backward_match_the_composite_formula(case):
    shape, affine, dtype, seed = case
    x, weight, bias = tensors(shape, seed, dtype, affine)
    inputs = [t for t in (x, weight, bias) if t is not None]
    g = Tensor(np.random.default_rng(seed + 1).standard_normal(shape).astype(dtype))
    ours = training(x, weight, bias)
    assert ours.dtype == np.dtype(dtype)
    # the reference runs in float64; float32 is held to its own rounding, which a channel with
    # a small spread around a large mean amplifies (|mean| / std: cancellation, as in PyTorch)
    args64 = [None if t is None else Tensor(t.numpy().astype(np.float64), requires_grad=True)
              for t in (x, weight, bias)]
    exact = [t for t in args64 if t is not None]
    theirs = reference(*args64)[0]
    if dtype == np.float32:
        axes = (0,) + tuple(range(2, x.ndim))
        x64 = x.numpy().astype(np.float64)
        cond = float(np.max(np.abs(x64.mean(axis=axes)) / (x64.std(axis=axes) + 1e-3)))
        tol = dict(rtol=1e-4, atol=1e-4 + 64 * np.finfo(np.float32).eps * max(cond, 1.0))
    else:
        tol = dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.data, theirs.data, **tol)
    g64 = Tensor(g.numpy().astype(np.float64))
    for mine, expected in zip(grad(ours, inputs, g), grad(theirs, exact, g64)):
        assert mine.dtype == np.dtype(dtype)
        scale = max(1.0, float(np.max(np.abs(expected.data))))
        np.testing.assert_allclose(mine.data, expected.data, rtol=tol["rtol"],
                                   atol=tol["atol"] * scale)


# ------------------------------------------------------------------ running statistics
@pytest.mark.parametrize("momentum", [0.1, 1.0 / 3.0])
def test_running_statistics_follow_the_update_rule_with_exact_batch_statistics(momentum):
    # running = (1 - momentum) * running + momentum * batch (unbiased var), with the batch
    # statistics accumulated in float64 (as PyTorch's CPU kernel does): within a few float32
    # roundings of the rule applied to the exact statistics.
    x, _, _ = tensors((4, 3, 5, 5), seed=8, dtype=np.float32)
    running_mean, running_var = np.full(3, 0.5, np.float32), np.full(3, 2.0, np.float32)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=momentum)
    exact = x.numpy().astype(np.float64)
    mean = exact.mean(axis=(0, 2, 3))
    var = exact.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(running_mean, (1 - momentum) * 0.5 + momentum * mean,
                               rtol=4e-7, atol=0)
    np.testing.assert_allclose(running_var, (1 - momentum) * 2.0 + momentum * var,
                               rtol=4e-7, atol=0)
    assert running_mean.dtype == running_var.dtype == np.float32


def test_running_statistics_match_pytorch():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(9).standard_normal((8, 4, 6, 6)) * 3 + 5).astype(np.float32)
    ours = (np.zeros(4, np.float32), np.ones(4, np.float32))
    theirs = (torch.zeros(4), torch.ones(4))
    for _ in range(3):
        F.batch_norm(Tensor(x), *ours, training=True, momentum=0.1)
        torch.nn.functional.batch_norm(torch.from_numpy(x), *theirs, training=True,
                                       momentum=0.1)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected.numpy(), rtol=2e-6, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
def test_fused_first_order_backward_equals_the_differentiable_one(dtype, affine):
    # A backward without create_graph runs fused numpy; with it, the Tensor-op closed form
    # (the one whose own backward is exact): both must give the same gradients.
    rng = np.random.default_rng(21)
    x = rng.standard_normal((4, 3, 5, 6)).astype(dtype) * 3 + 2
    cotangent = rng.standard_normal(x.shape).astype(dtype)
    weight = rng.standard_normal(3).astype(dtype) if affine else None
    bias = rng.standard_normal(3).astype(dtype) if affine else None
    results = []
    for create_graph in (False, True):
        xt = Tensor(x, requires_grad=True)
        params = [Tensor(p, requires_grad=True) for p in (weight, bias) if p is not None]
        out = F.batch_norm(xt, None, None, *(params or [None, None]), training=True)
        grads = grad(out, [xt, *params], grad_outputs=Tensor(cotangent),
                        create_graph=create_graph)
        results.append([getattr(g, "_data", g) for g in grads])
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    for fused, composed in zip(*results, strict=True):
        assert fused.dtype == dtype
        np.testing.assert_allclose(fused, composed, rtol=tolerance, atol=tolerance)


# ------------------------------------------------------------------ the blocked numpy kernels
@pytest.mark.parametrize("block_bytes", [64, 512, 1 << 18])
@pytest.mark.parametrize("shape", [(5, 3, 4, 4), (3, 7, 9), (2, 5, 3, 11)])
def test_blocked_passes_agree_with_the_composite_formula(monkeypatch, block_bytes, shape):
    # small blocks force both tilings (several images per block with a short last block,
    # and channel groups of one image), whatever the shapes divide into
    from tinygrad_cnn.ops import batchnorm

    monkeypatch.setattr(batchnorm, "_BLOCK_BYTES", block_bytes)
    for dtype, tol in ((np.float64, 1e-11), (np.float32, 2e-5)):
        x, weight, bias = tensors(shape, seed=sum(shape), dtype=dtype)
        g = Tensor(np.random.default_rng(3).standard_normal(shape).astype(dtype))
        running = np.zeros(shape[1], dtype), np.ones(shape[1], dtype)
        ours = F.batch_norm(x, *running, weight, bias, training=True)
        theirs, mean, var = reference(x, weight, bias)
        np.testing.assert_allclose(ours.data, theirs.data, rtol=tol, atol=tol)
        count = x.numel() // shape[1]
        np.testing.assert_allclose(running[0], 0.1 * mean, rtol=tol, atol=tol)
        np.testing.assert_allclose(running[1], 0.9 + 0.1 * var * count / (count - 1),
                                   rtol=tol, atol=tol)
        for mine, expected in zip(grad(ours, (x, weight, bias), g),
                                  grad(theirs, (x, weight, bias), g)):
            np.testing.assert_allclose(mine.data, expected.data, rtol=tol, atol=tol)


@pytest.mark.parametrize("offset", [0.0, 3.0, 100.0, 1000.0])
def test_float32_error_is_pytorchs_at_any_mean_to_std_ratio(offset):
    # Both forms of dx (mean folded into the constants when |mean| <= std, x - mean first
    # beyond) and the forward: error against float64 within a small multiple of PyTorch's
    # own float32 error.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(int(offset))
    x = (rng.standard_normal((16, 8, 12, 12)) + offset).astype(np.float32)
    g = (rng.standard_normal(x.shape) + 0.3 * (x - offset)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)

    def theirs(dtype):
        xt, wt, bt = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
        y = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True)
        y.backward(torch.tensor(g, dtype=dtype))
        return [t.detach().numpy().astype(np.float64) for t in (y, xt.grad, wt.grad, bt.grad)]

    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.batch_norm(xt, None, None, wt, bt, training=True)
    y.backward(Tensor(g))
    ours = [t.numpy() for t in (y, xt.grad, wt.grad, bt.grad)]
    exact, single = theirs(torch.float64), theirs(torch.float32)
    for mine, pytorch, truth in zip(ours, single, exact):
        scale = np.abs(truth).max()
        ours_error = np.abs(mine - truth).max() / scale
        pytorch_error = np.abs(pytorch - truth).max() / scale
        assert ours_error <= 3 * pytorch_error + 3e-7, (ours_error, pytorch_error)


def test_half_precision_input_computes_in_float32():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float16) * 3 + 2
    g = rng.standard_normal(x.shape).astype(np.float16)
    xt = Tensor(x, requires_grad=True)
    ours = F.batch_norm(xt, None, None, training=True)
    ours.backward(Tensor(g))
    assert ours.dtype == xt.grad.dtype == np.float16
    x32 = Tensor(x.astype(np.float32), requires_grad=True)
    expected = reference(x32, None, None)[0]
    expected.backward(Tensor(g.astype(np.float32)))
    np.testing.assert_allclose(ours.numpy().astype(np.float32), expected.numpy(), atol=4e-3)
    np.testing.assert_allclose(xt.grad.numpy().astype(np.float32), x32.grad.numpy(),
                               atol=4e-3, rtol=4e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_variance_is_exact_when_the_first_image_is_unlike_the_batch(dtype):
    # The forward guesses the mean from image 0; far off, it must fall back to the
    # two-pass variance (a one-pass E[(x-K)^2] - d^2 would lose every digit here).
    rng = np.random.default_rng(12)
    x = rng.standard_normal((6, 3, 5, 5)) * 0.01
    x[0] += 1000.0  # image 0 alone sits far away: d^2 >> var for the guess
    x[:, 1] = 7.25  # a constant channel: var 0
    xt = Tensor(x.astype(dtype), requires_grad=True)
    running = np.zeros(3, dtype), np.ones(3, dtype)
    ours = F.batch_norm(xt, *running, training=True, momentum=1.0)
    exact = x.astype(dtype).astype(np.float64)
    var = exact.var(axis=(0, 2, 3))
    expected = (exact - exact.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(
        var.reshape(1, 3, 1, 1) + EPS)
    tol = 1e-9 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(ours.numpy(), expected, rtol=tol, atol=tol)
    count = x.size // 3
    np.testing.assert_allclose(running[1], var * count / (count - 1), rtol=tol, atol=0)
