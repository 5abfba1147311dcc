"""Bad arguments to conv2d, conv1d, conv_transpose2d, unfold and fold raise ValueError or
TypeError naming the op, the argument and the shapes -- before any numpy call."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F


def zeros(*shape, dtype=np.float32):
    return tg.Tensor(np.zeros(shape, dtype=dtype))


X = zeros(2, 3, 8, 8)
W = zeros(8, 3, 3, 3)


def test_channel_mismatch_names_both_counts_and_the_weight_shape():
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels but weight expects 1 "
                                         r"\(weight shape \(8, 1, 3, 3\)\)"):
        F.conv2d(X, zeros(8, 1, 3, 3))


def test_groups_channel_mismatch():
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels .* x 2 groups = 4"):
        F.conv2d(X, zeros(8, 2, 3, 3), groups=2)


def test_out_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=r"conv2d: weight's 7 output channels are not "
                                         r"divisible by groups=3"):
        F.conv2d(zeros(1, 3, 5, 5), zeros(7, 1, 3, 3), groups=3)


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"conv2d: kernel \(5, 5\) .* larger than the padded "
                                         r"input \(4, 4\)"):
        F.conv2d(zeros(1, 1, 4, 4), zeros(1, 1, 5, 5))


def test_dilated_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"dilated to \(5, 5\)"):
        F.conv2d(zeros(1, 1, 4, 4), zeros(1, 1, 3, 3), dilation=2)


@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_stride_and_dilation_below_one(name):
    with pytest.raises(ValueError, match=f"conv2d: {name} must be at least 1, got 0"):
        F.conv2d(X, W, **{name: 0})


def test_negative_padding():
    with pytest.raises(ValueError, match=r"conv2d: padding must be at least 0, got -1"):
        F.conv2d(X, W, padding=-1)


@pytest.mark.parametrize("value", [1.5, (1, 2, 3), "2", True])
def test_non_integer_stride(value):
    with pytest.raises(TypeError, match="conv2d: stride must be an int or a pair of ints"):
        F.conv2d(X, W, stride=value)


def test_non_integer_groups():
    with pytest.raises(TypeError, match="conv2d: groups must be an int"):
        F.conv2d(X, W, groups=1.0)


def test_same_padding_with_stride():
    with pytest.raises(ValueError, match=r"conv2d: padding='same' is not supported for "
                                         r"strided convolutions"):
        F.conv2d(X, W, padding="same", stride=2)


def test_unknown_padding_string():
    with pytest.raises(ValueError, match="conv2d: padding must be an int, a pair, 'valid' or "
                                         "'same', got 'full'"):
        F.conv2d(X, W, padding="full")


@pytest.mark.parametrize("shape", [(3, 8), (1, 2, 3, 8, 8)])
def test_wrong_input_rank(shape):
    with pytest.raises(ValueError, match=r"conv2d: input must be 3-D \(C, H, W\) or 4-D"):
        F.conv2d(zeros(*shape), W)


def test_wrong_weight_rank():
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D, got shape \(8, 3, 3\)"):
        F.conv2d(X, zeros(8, 3, 3))


def test_bias_shape():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(8,\), got \(3,\)"):
        F.conv2d(X, W, zeros(3))


def test_integer_input():
    with pytest.raises(TypeError, match="conv2d: input must be a floating point tensor"):
        F.conv2d(zeros(2, 3, 8, 8, dtype=np.int64), W)


def test_mixed_dtypes():
    with pytest.raises(TypeError, match="conv2d: input dtype float64 and weight dtype "
                                        "float32 differ"):
        F.conv2d(zeros(2, 3, 8, 8, dtype=np.float64), W)


def test_non_tensor_input():
    with pytest.raises(TypeError, match="conv2d: input must be a Tensor"):
        F.conv2d(np.zeros((2, 3, 8, 8)), W)


def test_conv1d_channel_mismatch_uses_one_d_shapes():
    with pytest.raises(ValueError, match=r"conv1d: input has 3 channels but weight expects 2 "
                                         r"\(weight shape \(4, 2, 3\)\)"):
        F.conv1d(zeros(1, 3, 10), zeros(4, 2, 3))


def test_conv1d_wrong_rank():
    with pytest.raises(ValueError, match=r"conv1d: input must be 2-D \(C, L\) or 3-D"):
        F.conv1d(X, zeros(4, 3, 3))


def test_output_padding_too_large():
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(2, 2\) must be "
                                         r"smaller than stride \(2, 2\) or dilation \(1, 1\)"):
        F.conv_transpose2d(zeros(1, 8, 4, 4), W, stride=2, output_padding=2)


def test_conv_transpose2d_channel_mismatch():
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 3 channels but weight "
                                         r"expects 8"):
        F.conv_transpose2d(X, W)


def test_conv_transpose2d_empty_output():
    with pytest.raises(ValueError, match="conv_transpose2d: the output would be empty"):
        F.conv_transpose2d(zeros(1, 8, 1, 1), W, padding=2)


def test_unfold_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"unfold: kernel \(4, 4\) .* larger than the padded "
                                         r"input \(3, 3\)"):
        F.unfold(zeros(1, 1, 3, 3), 4)


def test_fold_block_count_mismatch():
    with pytest.raises(ValueError, match=r"fold: input has 5 blocks .* gives 3x3=9"):
        F.fold(zeros(1, 4, 5), (4, 4), 2)


def test_fold_rows_not_a_multiple_of_the_kernel_area():
    with pytest.raises(ValueError, match=r"fold: input's dimension 1 \(5\) must be a non-zero "
                                         r"multiple of the kernel area 2\*2=4"):
        F.fold(zeros(1, 5, 9), (4, 4), 2)


def test_conv1d_kernel_larger_than_input_speaks_one_d():
    with pytest.raises(ValueError) as info:
        F.conv1d(zeros(1, 3, 4), zeros(2, 3, 5))
    message = str(info.value)
    assert message.startswith("conv1d: kernel (5,) ")
    assert "padded input (4,)" in message and "input shape (1, 3, 4)" in message


@pytest.mark.parametrize("kwargs, words", [
    (dict(stride=0), "conv1d: stride must be at least 1, got 0"),
    (dict(dilation=(0,)), "conv1d: dilation must be at least 1, got (0,)"),
    (dict(padding=-1), "conv1d: padding must be at least 0, got -1"),
    (dict(stride=(1, 1)), "conv1d: stride must be an int or a 1-tuple of ints, got (1, 1)"),
])
def test_conv1d_argument_errors_show_the_values_given(kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        F.conv1d(zeros(1, 3, 10), zeros(2, 3, 3), **kwargs)
    assert str(info.value) == words


def test_unbatched_conv2d_errors_show_the_input_shape_given():
    with pytest.raises(ValueError, match=r"input shape \(1, 4, 4\)"):
        F.conv2d(zeros(1, 4, 4), zeros(1, 1, 5, 5))
