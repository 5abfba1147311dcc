"""grid_sample and affine_grid: hypothesis against the pixel-by-pixel loop references, the
identity transform, gradients to the grid against PyTorch, and the spatial transformer of
PyTorch's tutorial trained one step.  The generic tests (gradcheck, gradgradcheck, float32,
PyTorch values) run from tests/op_registry.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_spatial import affine_grid_ref, grid_sample_ref

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn.gradcheck import gradcheck

MODES = st.sampled_from(["bilinear", "nearest", "bicubic"])
PADDINGS = st.sampled_from(["zeros", "border", "reflection"])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5),
       oh=st.integers(1, 4), ow=st.integers(1, 4), mode=MODES, padding_mode=PADDINGS,
       align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_grid_sample_matches_the_pixel_loop(n, c, h, w, oh, ow, mode, padding_mode,
                                            align_corners, seed):
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((n, c, h, w))
    grid = rng.uniform(-2.5, 2.5, (n, oh, ow, 2))
    out = F.grid_sample(tg.tensor(image), tg.tensor(grid), mode, padding_mode, align_corners)
    expected = grid_sample_ref(image, grid, mode, padding_mode, align_corners)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
       align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_affine_grid_matches_the_pixel_loop(n, h, w, align_corners, seed):
    theta = np.random.default_rng(seed).standard_normal((n, 2, 3))
    out = F.affine_grid(tg.tensor(theta), (n, 2, h, w), align_corners=align_corners)
    np.testing.assert_allclose(out.numpy(), affine_grid_ref(theta, (n, 2, h, w), align_corners),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_the_identity_transform_returns_the_image(align_corners, mode):
    image = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    theta = tg.tensor(np.tile(np.eye(2, 3), (2, 1, 1)))
    grid = F.affine_grid(theta, (2, 3, 5, 7), align_corners=align_corners)
    out = F.grid_sample(tg.tensor(image), grid, mode, align_corners=align_corners)
    np.testing.assert_allclose(out.numpy(), image, atol=1e-12)


def test_nearest_gives_the_grid_a_zero_gradient():
    image = tg.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    grid = tg.tensor(np.full((1, 2, 2, 2), 0.3), requires_grad=True)
    F.grid_sample(image, grid, mode="nearest").sum().backward()
    np.testing.assert_array_equal(grid.grad.numpy(), np.zeros((1, 2, 2, 2)))


def test_gradient_through_affine_grid_reaches_theta():
    image = tg.tensor(np.random.default_rng(1).standard_normal((2, 2, 4, 5)))
    theta = tg.tensor(np.array([[[0.8, 0.1, 0.05], [-0.2, 0.9, 0.1]]] * 2),
                      requires_grad=True)
    assert gradcheck(lambda t: F.grid_sample(image, F.affine_grid(t, (2, 2, 3, 3)),
                                             padding_mode="border"), [theta])


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(mode=MODES, padding_mode=PADDINGS, align_corners=st.booleans(),
       seed=st.integers(0, 2**16))
def test_gradients_to_input_and_grid_match_pytorch(mode, padding_mode, align_corners, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    image, grid = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.5, 1.5, (2, 3, 4, 2))
    weight = rng.standard_normal((2, 3, 3, 4))
    ours = [tg.tensor(a, requires_grad=True) for a in (image, grid)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (image, grid)]
    (F.grid_sample(*ours, mode, padding_mode, align_corners) * tg.tensor(weight)).sum() \
        .backward()
    (torch.nn.functional.grid_sample(*theirs, mode, padding_mode, align_corners)
     * torch.tensor(weight)).sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9,
                                   atol=1e-10)


@pytest.mark.torch
def test_a_spatial_transformer_step_matches_pytorch():
    # the localisation -> affine_grid -> grid_sample path of PyTorch's STN tutorial
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    image, weight = rng.standard_normal((4, 1, 8, 8)), rng.standard_normal((64, 6)) * 0.05
    bias = np.array([1.0, 0, 0, 0, 1.0, 0])

    def step(lib, functional):
        x = lib.tensor(image)
        w = lib.tensor(weight, requires_grad=True)
        theta = (x.reshape(4, 64) @ w + lib.tensor(bias)).reshape(-1, 2, 3)
        grid = functional.affine_grid(theta, x.size(), align_corners=False)
        out = functional.grid_sample(x, grid, align_corners=False)
        loss = (out ** 2).mean()
        loss.backward()
        return loss.item(), w.grad.numpy()

    (loss, grad), (expected_loss, expected_grad) = step(tg, F), step(torch, torch.nn.functional)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-12)
