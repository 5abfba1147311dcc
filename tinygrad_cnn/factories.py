"""Tensor factories, as PyTorch's: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``, float32 by
default, ``dtype=`` and ``requires_grad=`` on each."""

import numbers

import numpy as np

from . import random
from .ops import shape as shape_ops
from .ops._errors import normalize_axis
from .tensor import Tensor, as_array

_DEFAULT_FLOAT = np.float32


def _sizes(op, sizes):
    shape = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (numbers.Integral, np.integer)) \
                or size < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {tuple(shape)!r}")
    return tuple(int(size) for size in shape)


def _finish(array, requires_grad) -> Tensor:
    tensor = Tensor._make(array)
    if requires_grad:
        tensor.requires_grad = True
    return tensor


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    return _finish(np.array(as_array(data, dtype), copy=True), requires_grad)


def zeros(*sizes, dtype=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(_sizes("zeros", sizes), dtype=dtype or _DEFAULT_FLOAT), requires_grad)


def ones(*sizes, dtype=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(_sizes("ones", sizes), dtype=dtype or _DEFAULT_FLOAT), requires_grad)


def zeros_like(other, dtype=None, requires_grad=False) -> Tensor:
    array = as_array(other)
    return _finish(np.zeros(array.shape, dtype=dtype or array.dtype), requires_grad)


def ones_like(other, dtype=None, requires_grad=False) -> Tensor:
    array = as_array(other)
    return _finish(np.ones(array.shape, dtype=dtype or array.dtype), requires_grad)


def _random_float_dtype(op, dtype):
    dtype = np.dtype(dtype or _DEFAULT_FLOAT)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating point type, got {dtype}")
    return dtype


def rand(*sizes, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1) from the library's seeded generator."""
    dtype = _random_float_dtype("rand", dtype)
    array = random.generator().random(_sizes("rand", sizes)).astype(dtype)
    return _finish(array, requires_grad)


def randn(*sizes, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples from the library's seeded generator."""
    dtype = _random_float_dtype("randn", dtype)
    array = random.generator().standard_normal(_sizes("randn", sizes)).astype(dtype)
    return _finish(array, requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        integral = all(isinstance(v, (numbers.Integral, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else _DEFAULT_FLOAT
    return _finish(np.arange(start, stop, step).astype(dtype), requires_grad)


def _as_tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def concatenate(tensors, axis=0) -> Tensor:
    """Join tensors along an existing axis (as ``torch.cat``)."""
    tensors = _as_tensors("concatenate", tensors)
    first = tensors[0]
    axis = normalize_axis(axis, first.ndim, "concatenate", first.shape)
    for index, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != axis
        ):
            raise ValueError(
                f"concatenate: tensor {index} has shape {other.shape}, which does not match "
                f"tensor 0's shape {first.shape} outside axis {axis}"
            )
    dtype = np.result_type(*[t.dtype for t in tensors])
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
