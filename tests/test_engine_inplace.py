"""The engine lets a node overwrite its output gradient only when nothing else can see it
(``Node.owns_grad``), and adds gradients that meet at a node in place only into a buffer it
alone holds (``autograd/engine.py``: ``_owned_array``, ``_add_into``).  Every other holder
of a gradient (a second consumer, a hook, ``retain_grad``, the caller's seed, a view) must
find it unchanged, and the results must equal the out-of-place ones."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn.autograd.engine import grad

RNG = np.random.default_rng(5)


def leaf(shape, dtype=np.float64):
    return tg.Tensor(RNG.standard_normal(shape).astype(dtype), requires_grad=True)


def test_relu_overwrites_a_fresh_gradient_it_alone_holds():
    x = leaf((4, 5))
    r = F.relu(x)
    (r * 3.0).sum().backward()  # Mul's backward makes a fresh gradient for the relu
    assert r.grad_fn.owns_grad
    np.testing.assert_array_equal(x.grad, 3.0 * (x.numpy() > 0))


def test_a_gradient_sent_to_two_consumers_reaches_both_unchanged():
    # Add's backward hands the same gradient to both relus: the first must not mask it in
    # place, or the second would see the first's mask.
    p, q = leaf((6, 7)), leaf((6, 7))
    seed = RNG.standard_normal((6, 7))
    a, b = F.relu(p), F.relu(q)
    ((a + b) * tg.Tensor(seed)).sum().backward()
    np.testing.assert_allclose(p.grad, seed * (p.numpy() > 0))
    np.testing.assert_allclose(q.grad, seed * (q.numpy() > 0))


def test_gradients_meeting_at_a_node_are_summed_without_changing_a_shared_one():
    # t's gradient is relu's (fresh, added into in place) plus Add's pass-through of the
    # same gradient that also goes to u: u must still get it unchanged.
    x = leaf((3, 4))
    t = x * 2.0
    u = x * 5.0
    out = F.relu(t) + (t + u)
    seed = RNG.standard_normal((3, 4))
    out.backward(tg.Tensor(seed))
    expected = 2.0 * (seed * (t.numpy() > 0) + seed) + 5.0 * seed
    np.testing.assert_allclose(x.grad, expected)


def test_the_callers_seed_gradient_is_never_written():
    x = leaf((5, 5))
    seed = tg.Tensor(RNG.standard_normal((5, 5)))
    kept = seed.numpy().copy()
    F.relu(x).backward(seed)
    np.testing.assert_array_equal(seed.numpy(), kept)
    np.testing.assert_array_equal(x.grad, kept * (x.numpy() > 0))


def test_a_hook_that_keeps_the_gradient_sees_it_unmasked():
    x = leaf((4, 6))
    r = F.relu(x)
    kept = []
    r.register_hook(kept.append)
    (r * 2.0).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), np.full((4, 6), 2.0))
    np.testing.assert_array_equal(x.grad, 2.0 * (x.numpy() > 0))


def test_retain_grad_keeps_the_unmasked_gradient():
    x = leaf((4, 6))
    r = F.relu(x)
    r.retain_grad()
    (r * 2.0).sum().backward()
    np.testing.assert_array_equal(r.grad, np.full((4, 6), 2.0))
    np.testing.assert_array_equal(x.grad, 2.0 * (x.numpy() > 0))


def test_a_gradient_that_is_a_view_is_not_overwritten():
    # reshape's backward hands on a view of the gradient: never owned
    x = leaf((2, 3, 4))
    r = F.relu(x)
    seed = tg.Tensor(RNG.standard_normal(24))
    kept = seed.numpy().copy()
    r.reshape(24).backward(seed)
    assert not r.grad_fn.owns_grad
    np.testing.assert_array_equal(seed.numpy(), kept)
    np.testing.assert_array_equal(x.grad, (kept.reshape(2, 3, 4)) * (x.numpy() > 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_writing_dx_over_its_gradient_equals_the_differentiable_backward(dtype):
    x = tg.Tensor((RNG.standard_normal((6, 3, 5, 5)) * 2 + 1).astype(dtype), requires_grad=True)
    w = tg.Tensor(RNG.uniform(0.5, 1.5, 3).astype(dtype), requires_grad=True)
    b = tg.Tensor(RNG.standard_normal(3).astype(dtype), requires_grad=True)
    c = tg.Tensor(RNG.standard_normal((6, 3, 5, 5)).astype(dtype))
    out = F.batch_norm(x, None, None, w, b, training=True)
    (out * c).sum().backward()  # Mul's backward makes a fresh gradient: BN may overwrite it
    assert out.grad_fn.owns_grad
    out = F.batch_norm(x, None, None, w, b, training=True)
    expected = grad((out * c).sum(), (x, w, b), create_graph=True)  # the Tensor-op form
    tolerance = 1e-12 if dtype == np.float64 else 3e-5
    for mine, theirs in zip((x.grad, w.grad, b.grad), expected):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=tolerance,
                                   atol=tolerance)


def test_second_derivative_through_relu_and_batch_norm_is_unchanged():
    # the first-order pass over a double-backward graph (which may overwrite gradients)
    # equals the same pass recorded (which never does)
    x = leaf((4, 3, 3, 3))
    out = F.relu(F.batch_norm(x, None, None, training=True) * 1.5)
    (g,) = grad((out * out * out).sum(), x, create_graph=True)
    (plain,) = grad((g * g).sum(), x, retain_graph=True)
    (recorded,) = grad((g * g).sum(), x, create_graph=True)
    np.testing.assert_allclose(plain.numpy(), recorded.numpy(), rtol=1e-12, atol=1e-12)
