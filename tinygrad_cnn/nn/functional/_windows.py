"""Argument checks of the windowed ops (convolution, pooling, unfold/fold), before any numpy
call; each returns the :class:`~tinygrad_cnn.ops.geometry.WindowGeometry` its op computes with.

One helper per idea: :func:`spatial_ints` turns an int-or-tuple argument into one int per
spatial axis (:func:`pair` for two), :func:`conv_padding` resolves ``padding`` (int, tuple,
``"valid"``, ``"same"``), and :func:`conv_geometry` / :func:`conv_transpose_geometry` /
:func:`pool_geometry` / :func:`unfold_geometry` / :func:`fold_geometry` check everything an op
needs and return its :class:`WindowGeometry`.  Messages start with the op's name and name the
argument and the shapes the caller passed (a ``conv1d`` speaks of 1-D kernels even though it
runs as a 2-D convolution), e.g.
``conv2d: input has 3 channels but weight expects 1 (weight shape (8, 1, 3, 3))``.
"""

from __future__ import annotations

import numpy as np

from ..._checks import (
    MAX_INT_ARGUMENT,
    ArityError,
    DtypeError,
    ShapeError,
    check_float,
    is_int,
    is_real,
)
from ...ops.geometry import WindowGeometry, conv_output_size, dilated_kernel, lift

_INPUT_RANKS = {1: "2-D (C, L) or 3-D (N, C, L)", 2: "3-D (C, H, W) or 4-D (N, C, H, W)"}


def _tuple_kind(rank: int) -> str:
    """How a message names ``rank`` ints: ``"a pair"``, ``"a 1-tuple"``."""
    return "a pair" if rank == 2 else f"a {rank}-tuple"


def spatial_ints(value, name: str, op: str, rank: int = 2, minimum: int = 1) -> tuple:
    """``value`` (an int or ``rank`` ints) as a tuple of ``rank`` Python ints, each at least
    ``minimum``; a TypeError or ValueError naming ``op`` and ``name`` (and the value as the
    caller gave it) otherwise."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    kind = _tuple_kind(rank)
    if not all(is_int(v) for v in values):
        raise TypeError(f"{op}: {name} must be an int or {kind} of ints, got {value!r}")
    if len(values) != rank:  # PyTorch: a RuntimeError (the types are right, the count not)
        raise ArityError(f"{op}: {name} must be an int or {kind} of ints, got {value!r}")
    values = tuple(int(v) for v in values)
    if min(values) < minimum:
        raise ShapeError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    if max(values) > MAX_INT_ARGUMENT:
        raise ShapeError(f"{op}: {name} must be at most 2**62, got {value!r}")
    return values


def pair(value, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """:func:`spatial_ints` for the two axes ``(height, width)``."""
    return spatial_ints(value, name, op, 2, minimum)


def conv_padding(padding, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    """``padding`` as one ``(before, after)`` pair per spatial axis.

    An int or tuple pads both sides alike; ``"valid"`` is no padding; ``"same"`` (stride 1
    only, as PyTorch) pads ``dilation*(kernel-1)`` in all, the odd one on the bottom / right
    side, as PyTorch does for even kernels.
    """
    rank = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * rank
        if padding == "same":
            if stride != (1,) * rank:
                raise ShapeError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride {stride})")
            totals = (d * (k - 1) for k, d in zip(kernel, dilation, strict=True))
            return tuple((total // 2, total - total // 2) for total in totals)
        kind = _tuple_kind(rank)
        raise ShapeError(f"{op}: padding must be an int, {kind}, 'valid' or 'same', "
                         f"got {padding!r}")
    return tuple((p, p) for p in spatial_ints(padding, "padding", op, rank, minimum=0))


def _shape_of(array) -> tuple:
    return tuple(np.shape(array))


def _check_float_pair(op: str, x, weight) -> None:
    check_float(op, "input", x.dtype)
    check_float(op, "weight", weight.dtype)
    if np.dtype(x.dtype) != np.dtype(weight.dtype):
        raise DtypeError(f"{op}: input dtype {np.dtype(x.dtype)} and weight dtype "
                        f"{np.dtype(weight.dtype)} differ; cast one with .astype()")


def _check_common(op: str, x, weight, groups, rank: int):
    """Ranks, dtypes and groups checks shared by the convolutions.  ``x`` may be unbatched
    (``(C, *spatial)``); returns both shapes as given."""
    x_shape, w_shape = _shape_of(x), _shape_of(weight)
    if len(x_shape) not in (rank + 1, rank + 2):
        raise ShapeError(f"{op}: input must be {_INPUT_RANKS[rank]}, got shape {x_shape}")
    if len(w_shape) != rank + 2:
        raise ShapeError(f"{op}: weight must be {rank + 2}-D, got shape {w_shape}")
    _check_float_pair(op, x, weight)
    if not is_int(groups):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups > MAX_INT_ARGUMENT:
        raise ShapeError(f"{op}: groups must be at most 2**62, got {groups!r}")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be at least 1, got {groups}")
    if 0 in x_shape[-rank - 1:] or 0 in w_shape:
        raise ShapeError(f"{op}: input {x_shape} and weight {w_shape} must have no empty "
                         "dimension (but the batch)")
    return x_shape, w_shape


def _check_bias(op: str, bias, channels: int, x) -> None:
    if bias is None:
        return
    b_shape = _shape_of(bias)
    if b_shape != (channels,):
        raise ShapeError(f"{op}: bias must have shape ({channels},), got {b_shape}")
    if np.dtype(bias.dtype) != np.dtype(x.dtype):
        raise DtypeError(f"{op}: bias dtype {np.dtype(bias.dtype)} differs from input dtype "
                        f"{np.dtype(x.dtype)}")


def conv_geometry(op: str, x, weight, bias=None, stride=1, padding=0, dilation=1,
                  groups=1, rank: int = 2) -> WindowGeometry:
    """Validate ``conv2d`` (``rank=2``) or ``conv1d`` (``rank=1``) arguments (anything with
    ``.shape`` / ``.dtype``) and return the 2-D geometry that computes the convolution.
    x ``(N, C_in, *spatial)`` or ``(C_in, *spatial)``, weight ``(C_out, C_in/groups, *kernel)``,
    bias ``(C_out,)``; messages speak of ``rank``-D kernels, strides and sizes."""
    x_shape, w_shape = _check_common(op, x, weight, groups, rank)
    stride = spatial_ints(stride, "stride", op, rank)
    dilation = spatial_ints(dilation, "dilation", op, rank)
    kernel = w_shape[2:]
    pads = conv_padding(padding, kernel, stride, dilation, op)
    channels, out_channels = x_shape[-rank - 1], w_shape[0]
    if channels != w_shape[1] * groups:
        if groups == 1:
            raise ShapeError(f"{op}: input has {channels} channels but weight expects "
                             f"{w_shape[1]} (weight shape {w_shape})")
        raise ShapeError(f"{op}: input has {channels} channels but weight expects "
                         f"{w_shape[1]} per group x {groups} groups = {w_shape[1] * groups} "
                         f"(weight shape {w_shape})")
    if out_channels % groups:
        raise ShapeError(f"{op}: weight's {out_channels} output channels are not divisible "
                         f"by groups={groups} (weight shape {w_shape})")
    _check_bias(op, bias, out_channels, x)
    in_size = x_shape[-rank:]
    padded = tuple(size + sum(p) for size, p in zip(in_size, pads, strict=True))
    if any(p < d for p, d in zip(padded, dilated_kernel(kernel, dilation), strict=True)):
        raise ShapeError(
            f"{op}: kernel {tuple(kernel)} (dilated to {dilated_kernel(kernel, dilation)}) is "
            f"larger than the padded input {padded} (input shape {x_shape}, "
            f"padding {padding!r})")
    out_size = [conv_output_size(in_size[a], kernel[a], stride[a], pads[a], dilation[a])
                for a in range(rank)]
    return lift(rank, in_size, out_size, kernel, stride, pads, dilation, groups)


def conv_transpose_geometry(op: str, x, weight, bias=None, stride=1, padding=0,
                            output_padding=0, dilation=1, groups=1,
                            rank: int = 2) -> WindowGeometry:
    """Validate ``conv_transpose2d`` (``rank=2``) or ``conv_transpose1d`` (``rank=1``)
    arguments and return the 2-D geometry of the convolution it is the adjoint of (so
    ``in_size`` is the transposed convolution's *output* size).

    x ``(N, C_in, *spatial)`` or ``(C_in, *spatial)``, weight
    ``(C_in, C_out/groups, *kernel)``, bias ``(C_out,)``;
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``.
    """
    x_shape, w_shape = _check_common(op, x, weight, groups, rank)
    stride = spatial_ints(stride, "stride", op, rank)
    dilation = spatial_ints(dilation, "dilation", op, rank)
    if isinstance(padding, str):
        kind = _tuple_kind(rank)
        raise TypeError(f"{op}: padding must be an int or {kind}, got {padding!r}")
    pad = spatial_ints(padding, "padding", op, rank, minimum=0)
    output_padding = spatial_ints(output_padding, "output_padding", op, rank, minimum=0)
    for axis in range(rank):
        if output_padding[axis] >= max(stride[axis], dilation[axis]):
            raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    channels = x_shape[-rank - 1]
    if channels != w_shape[0]:
        raise ShapeError(f"{op}: input has {channels} channels but weight expects "
                         f"{w_shape[0]} (weight shape {w_shape})")
    if channels % groups:
        raise ShapeError(f"{op}: input's {channels} channels are not divisible by "
                         f"groups={groups} (weight shape {w_shape})")
    out_channels = w_shape[1] * groups
    _check_bias(op, bias, out_channels, x)
    kernel = w_shape[2:]
    in_size, pads = [], []
    for axis in range(rank):
        size = ((x_shape[-rank + axis] - 1) * stride[axis] - 2 * pad[axis]
                + dilation[axis] * (kernel[axis] - 1) + output_padding[axis] + 1)
        if size < 1:
            raise ShapeError(f"{op}: the output would be empty (size {size} along axis "
                             f"{len(x_shape) - rank + axis}) for input shape {x_shape}, weight "
                             f"shape {w_shape}, stride {stride}, padding {pad}, dilation "
                             f"{dilation}")
        in_size.append(size)
        # The adjoint convolution's windows end where the padding starts when
        # output_padding == 0; output_padding rows past the padding are read by no window.
        pads.append((pad[axis], pad[axis] - output_padding[axis]))
    return lift(rank, in_size, x_shape[-rank:], kernel, stride, pads, dilation, groups)


# --- pooling ---------------------------------------------------------------------------


def pool_geometry(op: str, shape, kernel_size, stride=None, padding=0, dilation=1,
                  ceil_mode=False, rank: int = 2) -> WindowGeometry:
    """Validate 2-D (``rank=2``) or 1-D (``rank=1``) pooling arguments against an input
    ``shape`` (``(C, *spatial)`` or ``(N, C, *spatial)``) by PyTorch's rules and return the
    2-D window geometry that computes the pooling (a 1-D one on a ``(N, C, 1, L)`` view).

    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel (not the
    dilated kernel, as PyTorch); the output size follows PyTorch's ``pooling_output_shape``
    (in ceil mode the last window must start inside the input or its left padding) and must
    be at least 1.  Messages speak of the ``rank``-D arguments given.
    """
    shape = tuple(shape)
    if len(shape) not in (rank + 1, rank + 2):
        raise ShapeError(f"{op}: input must be {_INPUT_RANKS[rank]}, got shape {shape}")
    if 0 in shape[-rank - 1:]:
        raise ShapeError(f"{op}: input {shape} must have no empty dimension (but the batch)")
    kernel = spatial_ints(kernel_size, "kernel_size", op, rank)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and
                                          len(stride) == 0) \
        else spatial_ints(stride, "stride", op, rank)
    pad = spatial_ints(padding, "padding", op, rank, minimum=0)
    dilation = spatial_ints(dilation, "dilation", op, rank)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    if any(p > k // 2 for p, k in zip(pad, kernel, strict=True)):
        raise ShapeError(f"{op}: padding {pad} must be at most half of kernel_size {kernel}")
    in_size = shape[-rank:]
    out_size = tuple(conv_output_size(in_size[a], kernel[a], stride[a], pad[a], dilation[a],
                                      bool(ceil_mode)) for a in range(rank))
    if min(out_size) < 1:
        raise ShapeError(
            f"{op}: output size {out_size} is too small: input shape {shape}, kernel_size "
            f"{kernel}, stride {stride}, padding {pad}, dilation {dilation}; the "
            f"(dilated) kernel must fit in the padded input")
    return lift(rank, in_size, out_size, kernel, stride, tuple((p, p) for p in pad), dilation,
                1)


# --- unfold / fold ---------------------------------------------------------------------


def _window_args(op: str, kernel_size, dilation, padding, stride):
    kernel = pair(kernel_size, "kernel_size", op)
    dilation = pair(dilation, "dilation", op)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a pair, got {padding!r}")
    pad = pair(padding, "padding", op, minimum=0)
    stride = pair(stride, "stride", op)
    return kernel, dilation, pad, stride


def _blocks(op: str, size, kernel, dilation, pad, stride, what: str) -> tuple[int, int]:
    blocks = []
    for axis in (0, 1):
        extent = size[axis] + 2 * pad[axis]
        if extent < dilation[axis] * (kernel[axis] - 1) + 1:
            raise ShapeError(f"{op}: kernel {kernel} (dilated to "
                             f"{dilated_kernel(kernel, dilation)}) is larger than the padded "
                             f"{what} "
                             f"{tuple(s + 2 * p for s, p in zip(size, pad, strict=True))}")
        blocks.append(conv_output_size(size[axis], kernel[axis], stride[axis], pad[axis],
                                       dilation[axis]))
    return blocks[0], blocks[1]


def unfold_geometry(op: str, x, kernel_size, dilation=1, padding=0,
                    stride=1) -> WindowGeometry:
    """Validate ``unfold`` arguments for x ``(N, C, H, W)`` and return the window geometry."""
    x_shape = _shape_of(x)
    if len(x_shape) != 4:
        raise ShapeError(f"{op}: input must be {_INPUT_RANKS[2]}, got shape {x_shape}")
    kernel, dilation, pad, stride = _window_args(op, kernel_size, dilation, padding, stride)
    if 0 in x_shape[1:]:
        raise ShapeError(f"{op}: input {x_shape} must have no empty dimension (but the batch)")
    out = _blocks(op, x_shape[2:], kernel, dilation, pad, stride, "input")
    return WindowGeometry(tuple(x_shape[2:]), out, kernel, stride,
                          ((pad[0], pad[0]), (pad[1], pad[1])), dilation)


def fold_geometry(op: str, cols, output_size, kernel_size, dilation=1, padding=0,
                  stride=1) -> tuple[WindowGeometry, int]:
    """Validate ``fold`` arguments for cols ``(N, C*kH*kW, L)``; return the window geometry
    and ``C``."""
    c_shape = _shape_of(cols)
    if len(c_shape) != 3:
        raise ShapeError(f"{op}: input must be 2-D (C*kH*kW, L) or 3-D (N, C*kH*kW, L), "
                         f"got shape {c_shape}")
    size = pair(output_size, "output_size", op)
    kernel, dilation, pad, stride = _window_args(op, kernel_size, dilation, padding, stride)
    area = kernel[0] * kernel[1]
    if c_shape[1] % area or c_shape[1] == 0:
        raise ShapeError(f"{op}: input's dimension 1 ({c_shape[1]}) must be a non-zero multiple "
                         f"of the kernel area {kernel[0]}*{kernel[1]}={area} "
                         f"(input shape {c_shape})")
    out = _blocks(op, size, kernel, dilation, pad, stride, "output")
    if c_shape[2] != out[0] * out[1]:
        raise ShapeError(f"{op}: input has {c_shape[2]} blocks (dimension 2 of shape {c_shape}) "
                         f"but output_size {size} with kernel {kernel}, dilation {dilation}, "
                         f"padding {pad}, stride {stride} gives {out[0]}x{out[1]}="
                         f"{out[0] * out[1]}")
    geometry = WindowGeometry(size, out, kernel, stride, ((pad[0], pad[0]), (pad[1], pad[1])),
                              dilation)
    return geometry, c_shape[1] // area


def lp_norm_type(op: str, norm_type) -> float:
    """Lp pooling's ``norm_type`` as a positive finite float."""
    if not is_real(norm_type):
        raise TypeError(f"{op}: norm_type must be a number, got {norm_type!r}")
    p = float(norm_type)
    if not np.isfinite(p) or p <= 0:
        raise ShapeError(f"{op}: norm_type must be a positive finite number, got {p}")
    return p
