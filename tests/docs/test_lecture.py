"""Every worked example and exercise of the lecture (shared/seed: "Convolutional Neural
Networks", Mihir Patel, 2017), computed by the library, with the correct values.

Errata in the lecture text, pinned down here:
* the top-middle output of the 3x4 example is 2*2 + 5*2 + 3*2 + 6*2 = 32 (the text writes 9
  for the last term, which would give 38);
* the zero-padded 2x2 example's middle-right entry is 14, not 20;
* a 28 x 28 MNIST image flattens to 784 values (the text says "24 x 24 ... 1 x 724").
"""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import grad
from tinygrad_cnn.tensor import Tensor

A = np.array([[1, 2, 3, 1],
              [4, 5, 6, 1],
              [7, 8, 9, 1]], dtype=np.float64)
TWOS = np.full((2, 2), 2.0)
SMALL = np.array([[1, 2],
                  [4, 5]], dtype=np.float64)
EXERCISE_1 = np.array([[4, 1, 2, 4, 7, 9],
                       [0, 1, 2, 0, 2, 3],
                       [6, 4, 5, 2, 1, 3],
                       [8, 1, 2, 1, 3, 2]], dtype=np.float64)
SOBEL = np.array([[-1, 0, 1],
                  [-2, 0, 2],
                  [-1, 0, 1]], dtype=np.float64)
EXERCISE_2 = np.vstack([EXERCISE_1, [5, 8, 1, 2, 0, 2]])
KERNEL_2 = np.array([[2, 1],
                     [1, 2]], dtype=np.float64)


def image(a, requires_grad=False):
    """A 2-D array as a (1, 1, H, W) tensor."""
    return Tensor(np.asarray(a, dtype=np.float64)[None, None], requires_grad=requires_grad)


def conv(a, k, **kwargs):
    return F.conv2d(image(a), image(k), **kwargs).data[0, 0]


# ------------------------------------------------------------------ 1-D and 2-D filters
def test_one_dimensional_filter_has_15_connections_against_35_fully_connected():
    # 7 inputs, a kernel of 3 -> 5 outputs; a connection is a nonzero entry of the Jacobian
    inputs, kernel = 7, 3
    basis = Tensor(np.eye(inputs)[:, None, :])  # each input alone, as a batch of 7 signals
    jacobian = F.conv1d(basis, Tensor(np.ones((1, 1, kernel)))).data[:, 0, :]
    outputs = jacobian.shape[1]
    assert outputs == 5
    assert np.count_nonzero(jacobian) == 15 == outputs * kernel
    assert inputs * outputs == 35  # a fully connected layer 7 -> 5


def test_mnist_image_flattens_to_784_not_724():
    assert Tensor(np.zeros((1, 1, 28, 28))).flatten(start_dim=1).shape == (1, 784)


def test_top_right_output_depends_on_the_top_right_3x3_region_only():
    x = Tensor(np.random.default_rng(0).random((1, 1, 6, 6)), requires_grad=True)
    y = F.conv2d(x, Tensor(np.ones((1, 1, 3, 3))))
    (gx,) = grad(y[0, 0, 0, -1], [x])
    depends = gx.data[0, 0] != 0
    expected = np.zeros((6, 6), dtype=bool)
    expected[:3, -3:] = True
    np.testing.assert_array_equal(depends, expected)


def test_shared_weights_collect_a_gradient_from_every_position():
    # one 2x2 kernel applied everywhere: d(sum of outputs)/d(kernel) = sum of all windows
    x = image(A)
    w = image(TWOS, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    windows = np.array([[A[i:i + 2, j:j + 2] for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(w.grad[0, 0], windows.sum(axis=(0, 1)))


def test_kernel_is_applied_by_elementwise_product_not_matrix_product():
    window = A[:2, :2]
    assert conv(A, TWOS)[0, 0] == (window * TWOS).sum() == 24
    assert (window @ TWOS).sum() != 24


def test_multiple_kernels_give_one_feature_map_each():
    kernels = Tensor(np.random.default_rng(0).standard_normal((5, 1, 3, 3)))
    assert F.conv2d(image(np.ones((8, 8))), kernels).shape == (1, 5, 6, 6)


# ------------------------------------------------------------------ activation functions
def test_sigmoid_gradient_is_at_most_a_quarter_and_relu_gradient_is_one():
    x = Tensor(np.linspace(-6, 6, 101), requires_grad=True)
    (g_sigmoid,) = grad(F.sigmoid(x).sum(), [x])
    assert g_sigmoid.data.max() == pytest.approx(0.25)
    x_pos = Tensor(np.linspace(0.1, 6, 50), requires_grad=True)
    (g_relu,) = grad(F.relu(x_pos).sum(), [x_pos])
    np.testing.assert_array_equal(g_relu.data, 1.0)


def test_gradient_vanishes_through_ten_sigmoids_but_not_through_ten_relus():
    x = Tensor(np.array([0.5]), requires_grad=True)
    y, z = x, x
    for _ in range(10):
        y, z = F.sigmoid(y), F.relu(z)
    (g_sigmoid,) = grad(y.sum(), [x])
    (g_relu,) = grad(z.sum(), [x])
    assert g_sigmoid.item() < 0.25 ** 10 * 1.01  # about 1e-6 or less
    assert g_relu.item() == 1.0


# ------------------------------------------------------------------ forward propagation, im2col
def test_forward_example_3x4_with_2x2_kernel():
    np.testing.assert_array_equal(conv(A, TWOS), [[24, 32, 22], [48, 56, 34]])


def test_top_middle_output_uses_6_not_9():
    assert conv(A, TWOS)[0, 1] == 2 * 2 + 5 * 2 + 3 * 2 + 6 * 2 == 32
    assert 2 * 2 + 5 * 2 + 3 * 2 + 9 * 2 == 38  # what the text's sum would give


A_PRIME = np.array([[1, 4, 2, 5, 3, 6],
                    [4, 7, 5, 8, 6, 9],
                    [2, 5, 3, 6, 1, 1],
                    [5, 8, 6, 9, 1, 1]], dtype=np.float64)


def test_lecture_a_prime_is_unfold_with_rows_and_columns_in_column_order():
    unfolded = F.unfold(image(A), 2).data[0]  # (kH*kW, L), row-major (PyTorch) order
    kh, kw, ho, wo = 2, 2, 2, 3
    rows = [i * kw + j for j in range(kw) for i in range(kh)]  # within a window: down first
    cols = [r * wo + c for c in range(wo) for r in range(ho)]  # windows: down first
    np.testing.assert_array_equal(unfolded[np.ix_(rows, cols)], A_PRIME)


def test_lecture_a_prime_is_unfold_of_the_transposed_image():
    # column order of A is row-major order of A.T, for windows and within windows alike
    np.testing.assert_array_equal(F.unfold(image(A.T), 2).data[0], A_PRIME)


def test_a_prime_transposed_times_flat_kernel_gives_the_output_in_column_order():
    flat = A_PRIME.T @ TWOS.reshape(-1)
    np.testing.assert_array_equal(flat, [24, 48, 32, 56, 22, 34])
    np.testing.assert_array_equal(flat.reshape((2, 3), order="F"), conv(A, TWOS))


def test_unfold_matmul_equals_conv2d():
    cols = F.unfold(image(A), 2)  # (1, 4, 6)
    out = (Tensor(TWOS.reshape(1, 4)) @ cols[0]).reshape(2, 3)
    np.testing.assert_array_equal(out.data, conv(A, TWOS))


# ------------------------------------------------------------------ stride and zero padding
def test_zero_padded_example_middle_right_is_14_not_20():
    out = conv(SMALL, TWOS, padding=1)
    np.testing.assert_array_equal(out, [[2, 6, 4], [10, 24, 14], [8, 18, 10]])
    assert out[1, 2] == (2 + 5) * 2 == 14


def test_stride_2_example():
    np.testing.assert_array_equal(conv(SMALL, TWOS, padding=1, stride=2), [[2, 4], [8, 10]])


def test_without_padding_the_kernel_fits_once():
    np.testing.assert_array_equal(conv(SMALL, TWOS), [[24]])


def test_explicit_zero_padding_equals_the_padding_argument():
    padded = F.pad(image(SMALL), (1, 1, 1, 1))
    np.testing.assert_array_equal(padded.data[0, 0],
                                  [[0, 0, 0, 0], [0, 1, 2, 0], [0, 4, 5, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(F.conv2d(padded, image(TWOS)).data[0, 0],
                                  conv(SMALL, TWOS, padding=1))


# ------------------------------------------------------------------ pooling
POOL_INPUT = np.array([[1, 3, 2, 1],
                       [4, 2, 0, 1],
                       [5, 1, 2, 2],
                       [0, 2, 3, 4]], dtype=np.float64)


def test_max_pooling_keeps_the_highest_value_of_each_2x2_region():
    np.testing.assert_array_equal(F.max_pool2d(image(POOL_INPUT), 2).data[0, 0],
                                  [[4, 2], [5, 4]])


def test_2x2_pooling_keeps_a_quarter_of_the_data():
    y = F.max_pool2d(Tensor(np.zeros((1, 1, 28, 28))), 2)
    assert y.numel() * 4 == 28 * 28


def test_average_pooling():
    np.testing.assert_array_equal(F.avg_pool2d(image(POOL_INPUT), 2).data[0, 0],
                                  [[2.5, 1], [2, 2.75]])


def test_l2_pooling_is_the_root_of_the_sum_of_squares():
    expected = [[np.sqrt(1 + 9 + 16 + 4), np.sqrt(4 + 1 + 0 + 1)],
                [np.sqrt(25 + 1 + 0 + 4), np.sqrt(4 + 4 + 9 + 16)]]
    np.testing.assert_allclose(F.lp_pool2d(image(POOL_INPUT), 2, 2).data[0, 0], expected)


# ------------------------------------------------------------------ backpropagation
def test_input_gradient_is_full_correlation_with_the_kernel_rotated_180_degrees():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 1, 5, 6)), requires_grad=True)
    w = Tensor(rng.standard_normal((1, 1, 3, 3)))
    y = F.conv2d(x, w)
    delta = rng.standard_normal(y.shape)
    y.backward(delta)
    rot180 = Tensor(w.numpy()[..., ::-1, ::-1].copy())
    full = F.conv2d(Tensor(delta), rot180, padding=2)  # "full": pad by kernel - 1
    np.testing.assert_allclose(x.grad, full.data)
    np.testing.assert_allclose(x.grad, F.conv_transpose2d(Tensor(delta), w).data)


def test_weight_gradient_is_the_correlation_of_input_and_delta():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((1, 1, 5, 6)))
    w = Tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w)
    delta = rng.standard_normal(y.shape)
    y.backward(delta)
    np.testing.assert_allclose(w.grad, F.conv2d(x, Tensor(delta)).data)


def test_max_pool_backward_upsamples_the_error_to_the_max_positions():
    x = image(POOL_INPUT, requires_grad=True)
    y = F.max_pool2d(x, 2)
    delta = np.array([[[[10.0, 20.0], [30.0, 40.0]]]])
    y.backward(delta)
    upsampled = F.interpolate(Tensor(delta), scale_factor=2).data
    is_max = POOL_INPUT[None, None] == F.interpolate(y, scale_factor=2).data
    np.testing.assert_array_equal(x.grad, upsampled * is_max)
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 20, 0],
                                                 [10, 0, 0, 0],
                                                 [30, 0, 0, 0],
                                                 [0, 0, 0, 40]])


def test_average_pool_backward_is_the_upsampled_error_divided_by_the_window():
    x = image(POOL_INPUT, requires_grad=True)
    delta = np.array([[[[4.0, 8.0], [12.0, 16.0]]]])
    F.avg_pool2d(x, 2).backward(delta)
    np.testing.assert_array_equal(x.grad, F.interpolate(Tensor(delta), scale_factor=2).data / 4)


# ------------------------------------------------------------------ exercises
def test_exercise_1_sobel_kernel_then_relu():
    out = F.relu(F.conv2d(image(EXERCISE_1), image(SOBEL))).data[0, 0]
    np.testing.assert_array_equal(out, [[1, 0, 1, 12], [0, 0, 0, 6]])


def test_exercise_1_before_relu():
    np.testing.assert_array_equal(conv(EXERCISE_1, SOBEL), [[1, -1, 1, 12], [-6, -5, -7, 6]])


def test_exercise_2_stride_2_with_zero_padding_of_1():
    np.testing.assert_array_equal(conv(EXERCISE_2, KERNEL_2, stride=2, padding=1),
                                  [[8, 5, 18, 9], [12, 18, 6, 9], [18, 14, 7, 6]])


def test_examples_lecture_script_prints_the_corrected_values(capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "lecture.py"
    runpy.run_path(str(script), run_name="__main__")
    printed = capsys.readouterr().out
    for fact in ("15 connections", "35", "784 values", "= 32", "[10. 24. 14.]",
                 "[[ 1.  0.  1. 12.]", "[18. 14.  7.  6.]]"):
        assert fact in printed
