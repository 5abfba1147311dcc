"""``tinygrad_cnn.functional`` (imported as ``F``): the stateless ops of model code.

Each function mirrors the PyTorch function of the same name in ``torch.nn.functional``,
validates its arguments (errors name the function, the argument and the shapes), and
documents the shapes it takes and returns.  Activations and losses here are compositions of
Tensor primitives, so every derivative order comes for free; the CNN primitives
(convolution, pooling, unfold/fold, pad, interpolate) are ``Function``s in ``ops``.
"""

import numbers

import numpy as np

from . import backends, random
from .ops import _args as _conv_args
from .ops import batchnorm as _batchnorm
from .ops import conv as _conv
from .ops import elementwise as ew
from .ops import im2col as _im2col
from .ops import pad as _pad
from .ops import pool as _pool
from .ops import upsample as _upsample
from .ops._errors import check_float, check_tensor, normalize_axis
from .tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, op: str, argument: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {argument} must be a Tensor, got {type(x).__name__}")
    return x


# ------------------------------------------------------------------ activations
def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise; any shape (``torch.nn.functional.relu``)."""
    return _tensor(x, "relu").relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``; any shape."""
    _tensor(x, "leaky_relu")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    if x.dtype.kind != "f":
        x = x.float()
    return ew.LeakyRelu.apply(x, float(negative_slope))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), stable for large |x|; any shape."""
    return _tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent elementwise; any shape (``torch.nn.functional.tanh``)."""
    return _tensor(x, "tanh").tanh()


def _shifted(x: Tensor, axis: int) -> Tensor:
    """x minus its (constant) maximum along ``axis``: softmax is unchanged, exp cannot overflow.

    The shift is treated as a constant; that is exact, because softmax and log_softmax do not
    depend on it, so no gradient is lost.
    """
    return x - Tensor._make(np.max(x._data, axis=axis, keepdims=True))


def _softmax_input(x: Tensor, axis: int, op: str):
    """Validated input of (log_)softmax as a float tensor with at least one dimension."""
    _tensor(x, op)
    axis = normalize_axis(axis, x.ndim, op, x.shape)
    if x.dtype.kind != "f":
        x = x.float()
    return (x.reshape(1) if x.ndim == 0 else x), axis


def softmax(x: Tensor, axis: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; x: any shape -> the same shape, finite for any
    finite input (``torch.softmax``)."""
    values, axis = _softmax_input(x, axis, "softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    exps = _shifted(values, axis).exp()
    return (exps / exps.sum(axis, keepdims=True)).reshape(x.shape)


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """x - logsumexp(x) along ``axis``; x: any shape -> the same shape, finite for any finite
    input (``torch.log_softmax``)."""
    values, axis = _softmax_input(x, axis, "log_softmax")
    if values.shape[axis] == 0:
        return values.reshape(x.shape)
    shifted = _shifted(values, axis)
    return (shifted - shifted.exp().sum(axis, keepdims=True).log()).reshape(x.shape)


# ------------------------------------------------------------------ layers
def linear(x: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """``x @ weight.T + bias``.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    _tensor(x, "linear")
    _tensor(weight, "linear", "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but "
            f"weight expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    output = x @ weight.T
    if bias is not None:
        _tensor(bias, "linear", "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}"
            )
        output = output + bias
    return output


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1/(1-p), so eval mode needs no rescaling.  x: any shape -> the same shape.  The mask comes
    from the seeded generator (``torch.nn.functional.dropout``)."""
    _tensor(x, "dropout")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout: p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    check_float("dropout", "input", x.dtype)
    if p == 1.0:
        return x * 0.0
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    keep = random.generator().random(x.shape) >= p
    return x * Tensor._make(np.multiply(keep, scale, dtype=x.dtype))


# ------------------------------------------------------------------ losses
def _check_reduction(reduction, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_targets(target, log_probs: Tensor, op: str) -> np.ndarray:
    """Validated integer class indices (N,) for scores (N, C)."""
    target = target._data if isinstance(target, Tensor) else np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if log_probs.ndim != 2:
        raise ValueError(f"{op}: input must be (N, C) scores, got shape {log_probs.shape}")
    if target.shape != (log_probs.shape[0],):
        raise ValueError(
            f"{op}: target shape {target.shape} does not match input shape {log_probs.shape}; "
            f"expected ({log_probs.shape[0]},)"
        )
    classes = log_probs.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = target[(target < 0) | (target >= classes)][0]
        raise ValueError(f"{op}: target holds class index {bad}, outside [0, {classes})")
    return target


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes.

    log_probs: (N, C) log-probabilities; target: (N,) integer class indices.
    Returns shape () for "mean"/"sum", (N,) for "none".
    """
    _tensor(log_probs, "nll_loss")
    _check_reduction(reduction, "nll_loss")
    target = _class_targets(target, log_probs, "nll_loss")
    picked = log_probs[np.arange(len(target)), target]
    return _reduce(-picked, reduction)


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from unnormalised scores; stable for large logits.

    logits: (N, C); target: (N,) integer class indices.  With ``label_smoothing`` e the
    target distribution is (1 - e) one-hot + e / C uniform, as PyTorch.
    """
    _tensor(logits, "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}"
        )
    target = _class_targets(target, logits, "cross_entropy")
    log_probs = log_softmax(logits, axis=1)
    loss = -log_probs[np.arange(len(target)), target]
    if label_smoothing:
        uniform = -log_probs.mean(axis=1)
        loss = loss * (1.0 - label_smoothing) + uniform * label_smoothing
    return _reduce(loss, reduction)


def mse_loss(a: Tensor, b: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error between two tensors of the same shape (any shape); shape () for
    "mean"/"sum", the inputs' shape for "none" (``torch.nn.functional.mse_loss``)."""
    _tensor(a, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.shape != b.shape:
        raise ValueError(f"mse_loss: input shape {a.shape} and target shape {b.shape} differ")
    difference = a - b
    return _reduce(difference * difference, reduction)


# ------------------------------------------------------------------ pooling, pad, upsample
def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False) -> Tensor:
    """Maximum over each window (``torch.nn.functional.max_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``),
    ``H_out = floor((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1`` (``ceil`` with
    ``ceil_mode``, dropping a last window that would start in the right padding).
    ``kernel_size``, ``stride`` (default: ``kernel_size``), ``padding`` (at most half the
    kernel) and ``dilation`` are ints or ``(h, w)`` pairs.  Padding counts as ``-inf``.  The
    gradient of each window goes to ONE element, its first maximum in row-major order (as
    PyTorch), so tied inputs do not share it.  Any order of derivative works.
    """
    return _pool.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over each window (``torch.nn.functional.avg_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``, sizes as
    :func:`max_pool2d` with ``dilation=1``.  Padding is zeros.  The divisor is PyTorch's: the
    window clipped to the padded input (a ``ceil_mode`` window hanging past the padding counts
    only what lies inside it), or, with ``count_include_pad=False``, clipped to the input.
    """
    return _pool.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad)


def lp_pool2d(x: Tensor, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling ``(sum over window of x**p) ** (1/p)``, ``p = norm_type``
    (``torch.nn.functional.lp_pool2d``); ``p = 2`` is the lecture's square root of the sum of
    squares.

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``, sizes as
    :func:`max_pool2d` with ``padding=0``, ``dilation=1``.  An all-zero window has value 0 and
    gradient 0 (the true gradient of the root there is infinite), and the second derivative
    stays finite.  With ``ceil_mode`` a partial window at the border sums only the elements it
    covers; PyTorch instead rescales such a window's sum by ``kH*kW / count``, so results
    differ from PyTorch on those windows only.  As in PyTorch, ``x ** p`` of a negative input
    with fractional ``p`` is NaN.
    """
    return _pool.lp_pool2d(x, norm_type, kernel_size, stride, ceil_mode)


def pad(x: Tensor, pad, value=0.0) -> Tensor:
    """Constant padding with numpy's pad widths (``numpy.pad(x, pad, constant_values=value)``).

    ``pad``: an int (every side of every axis), ``(before, after)`` (every axis), or one
    ``(before, after)`` pair per axis, e.g. ``((0, 0), (0, 0), (1, 1), (2, 2))`` pads H by 1
    and W by 2 on both sides of an ``(N, C, H, W)`` tensor.  Unlike
    ``torch.nn.functional.pad``, widths go first axis first, as numpy's.  Widths must be
    non-negative.  Output shape: ``x.shape[i] + before_i + after_i`` per axis; the gradient
    is the slice that removes the padding.
    """
    return _pad.pad(x, pad, value)


def interpolate(x: Tensor, scale_factor, mode: str = "nearest") -> Tensor:
    """Nearest-neighbour upsampling by integer factors, the lecture's ``upsample``
    (``torch.nn.functional.interpolate(x, scale_factor=..., mode="nearest")``).

    x: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``; ``scale_factor`` a positive int
    or one per spatial dimension -> ``(N, C, H*sH, W*sW)``: each element becomes an
    ``sH x sW`` block.  The gradient sums each block.  Only ``mode="nearest"`` is supported.
    """
    return _upsample.interpolate(x, scale_factor, mode)


def _running_statistic(value, name: str):
    """The float ndarray a running statistic lives in (a Tensor's ``.data`` or the array
    itself), which batch_norm updates in place; None stays None."""
    if value is None:
        return None
    array = value._data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        got = (f"{type(value).__name__} of {array.dtype}" if isinstance(array, np.ndarray)
               else type(value).__name__)
        raise TypeError(f"batch_norm: {name} must be a float Tensor or float numpy array "
                        f"(it is updated in place), got {got}")
    return array


def batch_norm(x: Tensor, running_mean=None, running_var=None, weight: Tensor = None,
               bias: Tensor = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation per channel (``torch.nn.functional.batch_norm``).

    x: ``(N, C, *)``; ``running_mean``, ``running_var``: ``(C,)`` float Tensors or float numpy
    arrays, or ``None``; ``weight``, ``bias``: ``(C,)`` Tensors or ``None`` -> ``(N, C, *)``.

    ``training=True``: normalise with the batch mean and *biased* variance over every axis but
    1, and, when running statistics are given, update them in place (a Tensor's ``.data``):
    ``running = (1 - momentum) * running + momentum * batch`` with the *unbiased* variance.
    ``training=False``: normalise with the running statistics.  Training mode is the
    primitive ``ops.batchnorm.BatchNormTraining`` (its backward is written with Tensor ops),
    eval mode is composed of Tensor ops, so every derivative order works; the
    running-statistics update records no graph.
    """
    check_tensor("batch_norm", "input", x)
    check_float("batch_norm", "input", x.dtype)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    running_mean = _running_statistic(running_mean, "running_mean")
    running_var = _running_statistic(running_var, "running_var")
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(np.shape(value)) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input "
                             f"shape {x.shape}, got {tuple(np.shape(value))}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when "
                         "training=False")
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.numel() // channels
        if count <= 1:
            raise ValueError("batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        # One primitive (a few numpy passes, closed-form Tensor-op backward) instead of ten
        # composed ops; it hands back the batch mean and biased variance it computed.
        statistics = []
        out = _batchnorm.BatchNormTraining.apply(x, weight, bias, eps, statistics)
        mean, var = statistics[0]
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * (count / (count - 1)) * var.reshape(-1)
        return out
    # Fixed statistics: fold everything into one per-channel scale and shift, as
    # PyTorch's CPU kernel does (x * alpha + beta: two full-size passes).
    inv_std = Tensor._make(
        (1.0 / np.sqrt(np.asarray(running_var, dtype=x.dtype) + eps)).reshape(per_channel))
    mean = Tensor._make(np.asarray(running_mean, dtype=x.dtype).reshape(per_channel))
    alpha = inv_std if weight is None else inv_std * weight.reshape(per_channel)
    beta = -(mean * alpha)
    if bias is not None:
        beta = beta + bias.reshape(per_channel)
    return x * alpha + beta


# ------------------------------------------------------------------ convolution, unfold/fold
def _optional_tensor(value, op: str, argument: str):
    return None if value is None else check_tensor(op, argument, value)


def _batched(x: Tensor, spatial_dims: int):
    """x with a batch axis (an unbatched ``(C, *spatial)`` input gets one of size 1) and
    whether to drop it again from the result, as PyTorch accepts unbatched inputs."""
    if x.ndim == spatial_dims + 1:
        return x.reshape(1, *x.shape), True
    return x, False


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
    geometry = _conv_args.conv_geometry("conv2d", x, weight, bias, stride, padding, dilation,
                                        groups)
    x, unbatched = _batched(x, 2)
    out = _conv.Conv2d.apply(x, weight, bias, geometry, backends.current_conv_algorithm())
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
    geometry = _conv_args.conv_geometry("conv1d", x, weight, bias, stride, padding, dilation,
                                        groups, rank=1)
    x, unbatched = _batched(x, 1)
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
    out = _conv.Conv2d.apply(x4, w4, bias, geometry, backends.current_conv_algorithm())
    out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    return out.reshape(*out.shape[1:]) if unbatched else out


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0,
                     output_padding=0, dilation=1, groups=1) -> Tensor:
    """Transposed convolution, the adjoint of :func:`conv2d` in its input
    (``torch.nn.functional.conv_transpose2d``; note the argument order here puts
    ``dilation`` before ``groups`` -- pass them by keyword to be safe in both).

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
    geometry = _conv_args.conv_transpose_geometry("conv_transpose2d", x, weight, bias, stride,
                                                  padding, output_padding, dilation, groups)
    x, unbatched = _batched(x, 2)
    out = _conv.ConvTranspose2d.apply(x, weight, bias, geometry,
                                      backends.current_conv_algorithm())
    return out.reshape(*out.shape[1:]) if unbatched else out


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
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold: input must be 3-D (C, H, W) or 4-D (N, C, H, W), "
                         f"got shape {x.shape}")
    x, unbatched = _batched(x, 2)
    geometry = _conv_args.unfold_geometry("unfold", x, kernel_size, dilation, padding, stride)
    out = _im2col.Unfold.apply(x, geometry)
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
    if cols.ndim not in (2, 3):
        raise ValueError(f"fold: input must be 2-D (C*kH*kW, L) or 3-D (N, C*kH*kW, L), "
                         f"got shape {cols.shape}")
    cols, unbatched = _batched(cols, 1)
    geometry, channels = _conv_args.fold_geometry("fold", cols, output_size, kernel_size,
                                                  dilation, padding, stride)
    out = _im2col.Fold.apply(cols, geometry, channels)
    return out.reshape(*out.shape[1:]) if unbatched else out
