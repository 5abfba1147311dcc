"""Normalisation (as ``torch.nn.functional``): ``batch_norm``, ``instance_norm``,
``layer_norm``, ``group_norm``, ``local_response_norm``, ``normalize``."""

import numbers

import numpy as np

from ..._checks import (
    DtypeError,
    ShapeError,
    check_float,
    check_int,
    check_number,
    check_tensor,
    normalize_axes,
)
from ...ops.batchnorm import BatchNormTraining
from ...ops.elementwise import Where
from ...ops.reduce import Extremum
from ...ops.standardize import Standardize
from ...tensor import Tensor
from .padding import pad


def _running_statistic(value, name: str, op: str = "batch_norm"):
    """The float ndarray a running statistic lives in (a Tensor's ``.data`` or the array
    itself), which ``op`` updates in place; None stays None."""
    if value is None:
        return None
    array = value._data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        got = (f"{type(value).__name__} of {array.dtype}" if isinstance(array, np.ndarray)
               else type(value).__name__)
        raise TypeError(f"{op}: {name} must be a float Tensor or float numpy array "
                        f"(it is updated in place), got {got}")
    return array


def _check_batch_norm_arguments(x, weight, bias, training, momentum, eps) -> None:
    """Everything ``batch_norm`` takes besides the running statistics, checked as PyTorch
    does (types: TypeError; eps <= 0 in training, < 0 in eval: ValueError) and more
    strictly where PyTorch would return NaN silently (a NaN or infinite eps or momentum)."""
    check_tensor("batch_norm", "input", x)
    check_float("batch_norm", "input", x.dtype)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C, *), got shape {x.shape}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"batch_norm: training must be a bool, got {type(training).__name__}")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not isinstance(value, numbers.Real) or isinstance(value, np.bool_):
            raise TypeError(f"batch_norm: {name} must be a real number, got "
                            f"{type(value).__name__}")
        if not np.isfinite(value):
            raise ValueError(f"batch_norm: {name} must be finite, got {value}")
    if training and not eps > 0:
        raise ValueError(f"batch_norm: eps must be positive during training, got {eps}")
    if not eps >= 0:
        raise ValueError(f"batch_norm: eps must be non-negative, got {eps}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        if not isinstance(value, Tensor):
            raise TypeError(f"batch_norm: {name} must be a Tensor or None, got "
                            f"{type(value).__name__}")
        if value.dtype != x.dtype:
            raise RuntimeError(f"batch_norm: {name} has dtype {value.dtype}, the input "
                               f"{x.dtype}; they must match")


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
    _check_batch_norm_arguments(x, weight, bias, training, momentum, eps)
    channels = x.shape[1]
    running_mean = _running_statistic(running_mean, "running_mean")
    running_var = _running_statistic(running_var, "running_var")
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and np.asarray(value).size != channels:
            raise ShapeError(f"batch_norm: {name} must have shape ({channels},) for input "
                             f"shape {x.shape}, got {tuple(np.shape(value))}")
    # as PyTorch, a weight or bias with C elements in another shape, e.g. (1, C), is accepted
    weight = weight if weight is None or weight.shape == (channels,) else weight.reshape(channels)
    bias = bias if bias is None or bias.shape == (channels,) else bias.reshape(channels)
    running_mean, running_var = (s if s is None or s.shape == (channels,)
                                 else s.reshape(channels) for s in (running_mean, running_var))
    if not training and (running_mean is None or running_var is None):
        raise ShapeError("batch_norm: running_mean and running_var are needed when "
                         "training=False")
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.numel() // channels if channels else 0
        if count == 0:  # an empty batch: an empty result, statistics untouched (PyTorch)
            scale = x if weight is None else x * weight.reshape(per_channel)
            return scale if bias is None else scale + bias.reshape(per_channel)
        if count == 1:
            raise ValueError("batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        # One primitive (a few numpy passes, closed-form Tensor-op backward) instead of ten
        # composed ops; it hands back the batch mean and biased variance it computed.
        statistics = []
        out = BatchNormTraining.apply(x, weight, bias, eps, statistics)
        mean, var = statistics[0]
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * (count / (count - 1)) * var
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


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight: Tensor = None,
                  bias: Tensor = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial positions
    (``torch.nn.functional.instance_norm``).

    input: ``(N, C, *)`` with more than one spatial element -> the same shape; ``weight``,
    ``bias``: ``(C,)`` or ``None``; ``running_mean``, ``running_var``: ``(C,)`` float Tensors
    or arrays, or ``None``.  ``use_input_stats=True``: each (sample, channel)'s mean and
    biased variance (``group_norm`` with one channel a group), and given running statistics
    move towards the batch average of the per-instance mean and *unbiased* variance by
    ``momentum``, in place; ``False``: normalise with the running statistics (``batch_norm``
    in eval mode).
    """
    op = "instance_norm"
    check_tensor(op, "input", input)
    check_float(op, "input", input.dtype)
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C, *), got shape {input.shape}")
    if not isinstance(use_input_stats, (bool, np.bool_)):
        raise TypeError(f"{op}: use_input_stats must be a bool, got {use_input_stats!r}")
    check_number(op, "momentum", momentum)
    _check_eps(op, eps)
    if input.shape[0] == 0:
        raise IndexError(f"{op}: expected a non-empty batch, got input shape {input.shape}")
    channels = input.shape[1]
    weight = _affine(op, "weight", weight, (channels,))
    bias = _affine(op, "bias", bias, (channels,))
    statistics = [_running_statistic(value, name, op) for name, value in
                  (("running_mean", running_mean), ("running_var", running_var))]
    for name, value in zip(("running_mean", "running_var"), statistics):
        if value is not None and value.shape != (channels,):
            raise ShapeError(f"{op}: {name} must have shape ({channels},) for input shape "
                             f"{input.shape}, got {value.shape}")
    if not use_input_stats:
        if any(value is None for value in statistics):
            raise ShapeError(f"{op}: running_mean and running_var are needed when "
                             "use_input_stats=False")
        return batch_norm(input, *statistics, weight, bias, False, momentum, eps)
    spatial = input._data.size // max(input.shape[0] * channels, 1)
    if spatial <= 1 and input._data.size:
        raise ShapeError(f"{op}: expected more than 1 spatial element when training, got "
                         f"input shape {input.shape}")
    running_mean, running_var = statistics
    if input._data.size and (running_mean is not None or running_var is not None):
        values = input._data.reshape(input.shape[0], channels, spatial)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * values.mean(axis=2).mean(axis=0)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * values.var(axis=2, ddof=1).mean(axis=0)
    return group_norm(input, channels, weight, bias, eps)


def _affine(op: str, name: str, value, shape) -> Tensor:
    if value is None:
        return None
    check_tensor(op, name, value)
    if value.dtype.kind != "f":
        raise DtypeError(f"{op}: {name} must be a floating point tensor, got {value.dtype}")
    if tuple(value.shape) != tuple(shape):
        raise ShapeError(f"{op}: {name} must have shape {tuple(shape)}, got "
                           f"{tuple(value.shape)}")
    return value


def layer_norm(input: Tensor, normalized_shape, weight: Tensor = None, bias: Tensor = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions
    (``torch.nn.functional.layer_norm``).

    input: ``(*, *normalized_shape)`` -> the same shape; ``weight``, ``bias``:
    ``normalized_shape`` or ``None``.  Biased variance, as PyTorch; the primitive
    ``ops.normalization.Standardize``, then the affine part in Tensor ops.
    """
    op = "layer_norm"
    check_tensor(op, "input", input)
    check_float(op, "input", input.dtype)
    if isinstance(normalized_shape, int) or np.isscalar(normalized_shape):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(size) for size in normalized_shape)
    _check_eps(op, eps)
    count = len(normalized_shape)
    if count == 0 or input.shape[input.ndim - count:] != normalized_shape or \
            input.ndim < count:
        raise ShapeError(f"{op}: given normalized_shape={list(normalized_shape)}, expected "
                           f"input with shape [*, {', '.join(map(str, normalized_shape))}], "
                           f"got input of shape {input.shape}")
    weight = _affine(op, "weight", weight, normalized_shape)
    bias = _affine(op, "bias", bias, normalized_shape)
    out = Standardize.apply(input, tuple(range(input.ndim - count, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor = None, bias: Tensor = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` groups of channels per sample
    (``torch.nn.functional.group_norm``).

    input: ``(N, C, *)`` with ``C`` divisible by ``num_groups`` -> the same shape;
    ``weight``, ``bias``: ``(C,)`` per-channel affine.  ``Standardize`` over ``(N, G, -1)``,
    then the affine part in Tensor ops.
    """
    op = "group_norm"
    check_tensor(op, "input", input)
    check_float(op, "input", input.dtype)
    num_groups = check_int(op, "num_groups", num_groups, minimum=1)
    _check_eps(op, eps)
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C, *), got shape {input.shape}")
    batch, channels = input.shape[:2]
    if channels % num_groups:
        raise ShapeError(f"{op}: expected number of channels in input to be divisible by "
                           f"num_groups, got input of shape {input.shape} and "
                           f"num_groups={num_groups}")
    weight = _affine(op, "weight", weight, (channels,))
    bias = _affine(op, "bias", bias, (channels,))
    grouped = input.reshape(batch, num_groups, input._data.size // max(batch * num_groups, 1))
    out = Standardize.apply(grouped, (2,), eps).reshape(input.shape)
    per_channel = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def _check_eps(op: str, eps) -> None:
    """A non-negative eps (PyTorch computes NaN from a negative or NaN one; we refuse)."""
    check_number(op, "eps", eps)
    if not eps >= 0:
        raise ShapeError(f"{op}: eps must be >= 0, got {eps}")


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """AlexNet's local response normalisation across channels
    (``torch.nn.functional.local_response_norm``):
    ``x_c / (k + alpha / size * sum_{c'} x_{c'}^2) ** beta``, the sum over the ``size``
    channels ``c - size // 2 <= c' <= c + (size - 1) // 2`` (channels beyond the edges count
    as zeros, and the mean is always over ``size``, as PyTorch's padded average pool).

    input: ``(N, C, *)`` with at least 3 dims -> the same shape (integers give float32, their
    window mean truncated to an integer, as PyTorch's).
    """
    op = "local_response_norm"
    check_tensor(op, "input", input)
    size = check_int(op, "size", size)
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        check_number(op, name, value)
    if input.ndim < 3:
        raise ValueError(f"{op}: input must have 3 or more dimensions (N, C, *), got shape "
                         f"{input.shape}")
    if not 1 <= size < 2**63:
        raise ShapeError(f"{op}: size must be between 1 and 2**63 - 1, got {size}")
    if input.dtype == np.bool_:
        raise DtypeError(f"{op}: input must be a numeric tensor, got bool")
    channels = input.shape[1]
    # taps reaching past both edges add only zeros: at most 2 C - 1 of them are kept
    before, after = min(size // 2, channels - 1), min((size - 1) // 2, channels - 1)
    squares = pad(input * input, (0, 0) * (input.ndim - 2) + (before, after))
    window = squares[:, 0:channels]
    for offset in range(1, before + after + 1):  # one slice per tap, never per channel
        window = window + squares[:, offset:offset + channels]
    if input.dtype.kind == "f":
        return input / (window * (alpha / size) + k) ** beta
    # integers: PyTorch's average pool of integers truncates the window's mean
    mean = Tensor._make((window._data // size).astype(np.float32))
    return input.astype(np.float32) / (mean * alpha + k) ** beta


def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim`` (an int or a tuple of ints)
    (``torch.nn.functional.normalize``).

    Any shape -> the same shape.  ``p``: any number but NaN (``None`` is 2, ``inf`` the
    largest magnitude, ``-inf`` the smallest, 0 the count of non-zeros).  For ``p=2`` the norm
    is ``sqrt(max(sum x**2, eps**2))`` (the same value), so an all-zero slice has the finite
    gradient ``1/eps``, as PyTorch's.
    """
    op = "normalize"
    check_tensor(op, "input", input)
    check_float(op, "input", input.dtype)
    p = 2.0 if p is None else check_number(op, "p", p)
    _check_eps(op, eps)
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; use the returned tensor")
    axes = normalize_axes(dim, input.ndim, op, input.shape)
    if p != p:
        raise ShapeError(f"{op}: p must be a number, got nan")
    size = input.abs()
    if p == 2:
        norm = (input * input).sum(axes, keepdims=True).clip(eps * eps, None).sqrt()
    elif p == float("inf") or p == -float("inf"):
        norm = Extremum.apply(size, axes, True, p > 0, False).clip(eps, None)
    elif p == 0:
        count = (input._data != 0).sum(axis=axes, keepdims=True).astype(input.dtype)
        norm = Tensor._make(np.maximum(count, input.dtype.type(eps)))
    else:
        raw = (size ** p).sum(axes, keepdims=True) ** (1.0 / p)
        norm = raw.clip(eps, None)
        clipped = raw._data < eps
        if clipped.any():
            # no gradient passes the clip; the powers of those slices are taken again of 1s,
            # so that their masked 0 never meets an infinite derivative (a 0 with p < 0:
            # PyTorch's norm backward masks it out too and gives 1/eps)
            ones = Tensor._make(np.ones((), input.dtype))
            safe = Where.apply(np.broadcast_to(~clipped, size.shape), size, ones)
            norm = Where.apply(clipped, Tensor._make(norm._data),
                               (safe ** p).sum(axes, keepdims=True) ** (1.0 / p))
    return input / norm
