"""Convolution and its window matrices: ``conv2d``, ``conv1d``, ``conv_transpose2d``,
``conv_transpose1d``, ``unfold``, ``fold`` (as ``torch.nn.functional``).

Each checks its arguments (:mod:`._windows`, which returns the ``WindowGeometry``) and
applies the Functions of :mod:`tinygrad_cnn.ops.conv` / :mod:`tinygrad_cnn.ops.im2col`.
"""

from ... import backends
from ..._checks import ShapeError, check_float, check_tensor
from ...ops.conv import Conv2d, ConvTranspose2d
from ...ops.im2col import Fold, Unfold
from ...tensor import Tensor
from ._windows import conv_geometry, conv_transpose_geometry, fold_geometry, unfold_geometry


def _optional_tensor(value, op: str, argument: str):
    return None if value is None else check_tensor(op, argument, value)


def _batched(x: Tensor, spatial_dims: int):
    """x with a batch axis (an unbatched ``(C, *spatial)`` input gets one of size 1) and
    whether to drop it again from the result, as PyTorch accepts unbatched inputs."""
    if x.ndim == spatial_dims + 1:
        return x.reshape(1, *x.shape), True
    return x, False


def _on_rows(function, x: Tensor, weight: Tensor, bias, geometry) -> Tensor:
    """A 1-D convolution (or its transpose) as the 2-D ``function`` on the ``(N, C, 1, L)``
    view of ``x`` (``(N, C, L)`` or unbatched ``(C, L)``) and ``(A, B, 1, k)`` of
    ``weight``; the result in ``x``'s layout."""
    x, unbatched = _batched(x, 1)
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
    out = function.apply(x4, w4, bias, geometry, backends.current_conv_algorithm())
    out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    return out.reshape(*out.shape[1:]) if unbatched else out


def conv2d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0, dilation=1,
           groups=1) -> Tensor:
    """2-D cross-correlation (``torch.nn.functional.conv2d``; no kernel flip, as the lecture).

    x: ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight: ``(C_out, C_in/groups, kH, kW)``;
    bias: ``(C_out,)`` or None -> ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1`` (likewise W).
    ``stride``, ``dilation``: int or ``(h, w)``, at least 1.  ``padding``: int or ``(h, w)``
    zeros on both sides, ``"valid"`` (none) or ``"same"`` (output size = input size; stride 1
    only; for an even kernel the extra row/column goes bottom/right, as PyTorch).
    ``groups`` splits the channels into independent convolutions.  Computed by the algorithm
    of :func:`tinygrad_cnn.backends.conv_algorithm`; every derivative order works.
    """
    check_tensor("conv2d", "input", x)
    check_tensor("conv2d", "weight", weight)
    bias = _optional_tensor(bias, "conv2d", "bias")
    geometry = conv_geometry("conv2d", x, weight, bias, stride, padding, dilation,
                                        groups)
    x, unbatched = _batched(x, 2)
    out = Conv2d.apply(x, weight, bias, geometry, backends.current_conv_algorithm())
    return out.reshape(*out.shape[1:]) if unbatched else out


def conv1d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0, dilation=1,
           groups=1) -> Tensor:
    """1-D cross-correlation (``torch.nn.functional.conv1d``), computed as :func:`conv2d` on
    an ``(N, C, 1, L)`` view.

    x: ``(N, C_in, L)`` or ``(C_in, L)``; weight: ``(C_out, C_in/groups, K)``; bias:
    ``(C_out,)`` or None -> ``(N, C_out, L_out)``,
    ``L_out = floor((L + 2*padding - dilation*(K-1) - 1) / stride) + 1``.  ``stride``,
    ``dilation``: int or 1-tuple, at least 1.  ``padding``: int or 1-tuple, ``"valid"`` or
    ``"same"`` (stride 1 only).  Errors speak of the 1-D arguments given.
    """
    check_tensor("conv1d", "input", x)
    check_tensor("conv1d", "weight", weight)
    bias = _optional_tensor(bias, "conv1d", "bias")
    geometry = conv_geometry("conv1d", x, weight, bias, stride, padding, dilation,
                                        groups, rank=1)
    return _on_rows(Conv2d, x, weight, bias, geometry)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0,
                     output_padding=0, groups=1, dilation=1) -> Tensor:
    """Transposed convolution, the adjoint of :func:`conv2d` in its input
    (``torch.nn.functional.conv_transpose2d``, with its argument order: ``groups`` before
    ``dilation``).

    x: ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight: ``(C_in, C_out/groups, kH, kW)``;
    bias: ``(C_out,)`` or None -> ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``.
    ``output_padding`` (smaller than stride or dilation) picks among the input sizes that a
    strided ``conv2d`` maps to the same output size.  This is the lecture's full correlation
    with the kernel rotated 180 degrees.
    """
    check_tensor("conv_transpose2d", "input", x)
    check_tensor("conv_transpose2d", "weight", weight)
    bias = _optional_tensor(bias, "conv_transpose2d", "bias")
    geometry = conv_transpose_geometry("conv_transpose2d", x, weight, bias, stride,
                                                  padding, output_padding, dilation, groups)
    x, unbatched = _batched(x, 2)
    out = ConvTranspose2d.apply(x, weight, bias, geometry,
                                      backends.current_conv_algorithm())
    return out.reshape(*out.shape[1:]) if unbatched else out


def conv_transpose1d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0,
                     output_padding=0, groups=1, dilation=1) -> Tensor:
    """Transposed 1-D convolution, the adjoint of :func:`conv1d` in its input
    (``torch.nn.functional.conv_transpose1d``), computed as :func:`conv_transpose2d` on an
    ``(N, C, 1, L)`` view.

    x: ``(N, C_in, L)`` or ``(C_in, L)``; weight: ``(C_in, C_out/groups, K)``; bias:
    ``(C_out,)`` or None -> ``(N, C_out, L_out)`` with
    ``L_out = (L-1)*stride - 2*padding + dilation*(K-1) + output_padding + 1``.  ``stride``,
    ``padding``, ``output_padding``, ``dilation``: ints or 1-tuples.
    """
    check_tensor("conv_transpose1d", "input", x)
    check_tensor("conv_transpose1d", "weight", weight)
    bias = _optional_tensor(bias, "conv_transpose1d", "bias")
    geometry = conv_transpose_geometry("conv_transpose1d", x, weight, bias, stride, padding,
                                       output_padding, dilation, groups, rank=1)
    return _on_rows(ConvTranspose2d, x, weight, bias, geometry)


def unfold(x: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The lecture's im2col matrix (``torch.nn.functional.unfold``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C*kH*kW, L)`` (or ``(C*kH*kW, L)``), ``L`` the
    number of windows ``H_out * W_out`` (sizes as :func:`conv2d`).  Row-major order: within a
    window, channel, then kernel row, then kernel column; windows left to right, then top to
    bottom.  (The lecture's A' lists the same numbers in column order: A' is ``unfold``'s
    matrix with rows and columns permuted.)  ``conv2d(x, w)`` equals
    ``w.reshape(C_out, -1) @ unfold(x, ...)`` reshaped.  Its gradient is :func:`fold`.
    """
    check_tensor("unfold", "input", x)
    if x.dtype.kind not in "fb":  # PyTorch unfolds float and bool tensors, not integers
        check_float("unfold", "input", x.dtype)
    if x.ndim not in (3, 4):
        raise ShapeError(f"unfold: input must be 3-D (C, H, W) or 4-D (N, C, H, W), "
                         f"got shape {x.shape}")
    x, unbatched = _batched(x, 2)
    geometry = unfold_geometry("unfold", x, kernel_size, dilation, padding, stride)
    out = Unfold.apply(x, geometry)
    return out.reshape(*out.shape[1:]) if unbatched else out


def fold(cols: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of :func:`unfold` (``torch.nn.functional.fold``): sums each column back
    onto its window, adding where windows overlap.

    cols: ``(N, C*kH*kW, L)`` or ``(C*kH*kW, L)``; ``output_size``: ``(H, W)`` (or an int) ->
    ``(N, C, H, W)`` (or ``(C, H, W)``).  ``L`` must equal the number of windows that
    ``kernel_size``, ``dilation``, ``padding`` and ``stride`` give on ``output_size``.
    ``fold(unfold(x))`` multiplies each pixel by the number of windows covering it.
    """
    check_tensor("fold", "input", cols)
    if cols.dtype.kind not in "fb":
        check_float("fold", "input", cols.dtype)
    if cols.ndim not in (2, 3):
        raise ShapeError(f"fold: input must be 2-D (C*kH*kW, L) or 3-D (N, C*kH*kW, L), "
                         f"got shape {cols.shape}")
    cols, unbatched = _batched(cols, 1)
    geometry, channels = fold_geometry("fold", cols, output_size, kernel_size,
                                                  dilation, padding, stride)
    out = Fold.apply(cols, geometry, channels)
    return out.reshape(*out.shape[1:]) if unbatched else out
