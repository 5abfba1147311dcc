"""Tensor factories, as PyTorch's: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``, float32 by
default, ``dtype=`` and ``requires_grad=`` on each."""

import numbers

import numpy as np

from . import random
from ._checks import MAX_INT_ARGUMENT, ShapeError, normalize_axis, sizes_argument
from .ops import shape as shape_ops
from .tensor import DEFAULT_FLOAT, Tensor, as_array, as_dtype, promoted_dtype


def _sizes(op, sizes):
    shape = sizes_argument(op, sizes)
    if any(size < 0 for size in shape):
        raise ShapeError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def _dtype_or_default(op, dtype):
    return DEFAULT_FLOAT if dtype is None else as_dtype(op, dtype)


def _finish(array, requires_grad) -> Tensor:
    tensor = Tensor._make(array)
    if requires_grad:
        tensor.requires_grad = True
    return tensor


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    return _finish(np.array(as_array(data, dtype), copy=True), requires_grad)


def zeros(*sizes, dtype=None, requires_grad=False) -> Tensor:
    dtype = _dtype_or_default("zeros", dtype)
    return _finish(np.zeros(_sizes("zeros", sizes), dtype=dtype), requires_grad)


def ones(*sizes, dtype=None, requires_grad=False) -> Tensor:
    dtype = _dtype_or_default("ones", dtype)
    return _finish(np.ones(_sizes("ones", sizes), dtype=dtype), requires_grad)


def zeros_like(other, dtype=None, requires_grad=False) -> Tensor:
    array = as_array(other)
    dtype = array.dtype if dtype is None else as_dtype("zeros_like", dtype)
    return _finish(np.zeros(array.shape, dtype=dtype), requires_grad)


def ones_like(other, dtype=None, requires_grad=False) -> Tensor:
    array = as_array(other)
    dtype = array.dtype if dtype is None else as_dtype("ones_like", dtype)
    return _finish(np.ones(array.shape, dtype=dtype), requires_grad)


def _random_float_dtype(op, dtype):
    dtype = _dtype_or_default(op, dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating point type, got {dtype}")
    return dtype


def rand(*sizes, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1) from the library's seeded generator."""
    dtype = _random_float_dtype("rand", dtype)
    array = random.generator().random(_sizes("rand", sizes), dtype=dtype)
    return _finish(array, requires_grad)


def randn(*sizes, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples from the library's seeded generator."""
    dtype = _random_float_dtype("randn", dtype)
    array = random.generator().standard_normal(_sizes("randn", sizes), dtype=dtype)
    return _finish(array, requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"arange: {name} must be a number, got {value!r}")
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(np.isfinite(float(v)) for v in (start, stop, step)):
        raise RuntimeError(f"arange: start, stop and step must be finite, got "
                           f"({start}, {stop}, {step})")
    if max(abs(start), abs(stop), abs(step)) > MAX_INT_ARGUMENT:
        raise ShapeError(f"arange: start, stop and step must be at most 2**62 in magnitude, got "
                         f"({start}, {stop}, {step})")
    if (stop - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, stop={stop}, step={step})")
    if dtype is None:
        integral = all(isinstance(v, (numbers.Integral, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else DEFAULT_FLOAT
    dtype = as_dtype("arange", dtype)
    return _finish(np.arange(start, stop, step).astype(dtype), requires_grad)


def _as_tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def concatenate(tensors, axis=0) -> Tensor:
    """Join tensors along an existing axis (as ``torch.cat``)."""
    tensors = _as_tensors("concatenate", tensors)
    first = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    axis = normalize_axis(axis, first.ndim, "concatenate", first.shape)
    for index, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != axis
        ):
            raise ValueError(
                f"concatenate: tensor {index} has shape {other.shape}, which does not match "
                f"tensor 0's shape {first.shape} outside axis {axis}"
            )
    dtype = promoted_dtype(*[t._data for t in tensors])
    tensors = [t.astype(dtype) for t in tensors]
    return shape_ops.Concatenate.apply(axis, *tensors)


cat = concatenate


def stack(tensors, axis=0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors = _as_tensors("stack", tensors)
    for index, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensor {index} has shape {other.shape} but tensor 0 has shape "
                f"{tensors[0].shape}; stacked tensors must have the same shape"
            )
    axis = normalize_axis(axis, tensors[0].ndim + 1, "stack", tensors[0].shape)
    return concatenate([t.unsqueeze(axis) for t in tensors], axis=axis)
