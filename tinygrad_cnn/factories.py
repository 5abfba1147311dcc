"""Tensor factories, as PyTorch's: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``, float32 by
default, ``dtype=``, ``requires_grad=`` and ``device=`` (the CPU) on each, ``generator=`` on
the random ones; and ``cat``/``stack``."""

import numbers

import numpy as np

from . import random
from ._checks import (
    MAX_INT_ARGUMENT,
    ShapeError,
    check_fits,
    check_float,
    check_int,
    check_number,
    check_scalar,
    check_tensor,
    normalize_axis,
    sizes_argument,
)
from .devices import check_device
from .ops import shape as shape_ops
from .tensor import DEFAULT_FLOAT, Size, Tensor, as_array, as_dtype, promoted_dtype


def _sizes(op, sizes):
    if len(sizes) == 1 and isinstance(sizes[0], Size):
        sizes = tuple(sizes[0])
    shape = sizes_argument(op, sizes)
    if any(size < 0 for size in shape):
        raise ShapeError(f"{op}: sizes must be non-negative, got {list(shape)}")
    return shape


def _dtype_or_default(op, dtype):
    return DEFAULT_FLOAT if dtype is None else as_dtype(op, dtype)


def _finish(op, array, requires_grad, device=None) -> Tensor:
    if device is not None:
        check_device(op, device)
    tensor = Tensor._make(array)
    if requires_grad:
        tensor.requires_grad = True
    return tensor


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    dtype = None if dtype is None else as_dtype("tensor", dtype)
    return _finish("tensor", np.array(as_array(data, dtype), copy=True), requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with an ndarray (or a Tensor) when no dtype
    conversion is needed (as ``torch.as_tensor``)."""
    dtype = None if dtype is None else as_dtype("as_tensor", dtype)
    if isinstance(data, Tensor) and (dtype is None or dtype == data.dtype):
        check_device("as_tensor", device)
        return data
    return _finish("as_tensor", as_array(data, dtype), False, device)


def from_numpy(array) -> Tensor:
    """A tensor sharing ``array``'s memory and keeping its dtype (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {array.dtype}; the "
                        "supported types are float, int, uint and bool")
    return Tensor._make(array)


def _filled(op, sizes, value, dtype, requires_grad, device, out=None):
    if out is not None:
        raise TypeError(f"{op}: out= is not supported")
    return _finish(op, np.full(_sizes(op, sizes), value, dtype=dtype), requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """A tensor of zeros of shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    return _filled("zeros", size, 0, _dtype_or_default("zeros", dtype), requires_grad, device,
                   out)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _filled("ones", size, 1, _dtype_or_default("ones", dtype), requires_grad, device, out)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          memory_format=None, pin_memory=False) -> Tensor:
    """An uninitialised tensor of shape ``size`` (zeros here: numpy's ``empty`` would leak
    old memory into results)."""
    return _filled("empty", size, 0, _dtype_or_default("empty", dtype), requires_grad, device,
                   out)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (a number or a 0-d tensor; the
    dtype inferred from it, as PyTorch's: bool, int64 or float32)."""
    fill_value = _fill_value("full", fill_value)
    dtype = as_array(fill_value).dtype if dtype is None else as_dtype("full", dtype)
    check_fits("full", "fill_value", fill_value, dtype)
    return _filled("full", (size,) if not isinstance(size, (tuple, list)) else tuple(size),
                   fill_value, dtype, requires_grad, device, out)


def _fill_value(op, value):
    """``full``'s and ``full_like``'s ``fill_value`` as a Python number (so its dtype is
    inferred as PyTorch's: a numpy float64 fills float32): a number or a 0-d tensor."""
    if isinstance(value, Tensor) and value.ndim == 0:
        return value.item()
    check_scalar(op, "fill_value", value)
    return value.item() if isinstance(value, np.generic) else value


def _like(op, other, dtype):
    array = other._data if isinstance(other, Tensor) else as_array(other)
    return array.shape, array.dtype if dtype is None else as_dtype(op, dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """Zeros of ``input``'s shape (and dtype unless ``dtype`` is given)."""
    check_tensor("zeros_like", "input", input)
    shape, dtype = _like("zeros_like", input, dtype)
    return _finish("zeros_like", np.zeros(shape, dtype=dtype), requires_grad, device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """Ones of ``input``'s shape (and dtype unless ``dtype`` is given)."""
    check_tensor("ones_like", "input", input)
    shape, dtype = _like("ones_like", input, dtype)
    return _finish("ones_like", np.ones(shape, dtype=dtype), requires_grad, device)


def empty_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """An uninitialised (zeroed) tensor of ``input``'s shape and dtype."""
    check_tensor("empty_like", "input", input)
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """``fill_value`` in ``input``'s shape (and dtype unless ``dtype`` is given)."""
    check_tensor("full_like", "input", input)
    fill_value = _fill_value("full_like", fill_value)
    shape, dtype = _like("full_like", input, dtype)
    check_fits("full_like", "fill_value", fill_value, dtype)
    return _finish("full_like", np.full(shape, fill_value, dtype=dtype), requires_grad, device)


def _random_float_dtype(op, dtype):
    dtype = _dtype_or_default(op, dtype)
    check_float(op, "dtype", dtype)
    return dtype


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False,
         out=None) -> Tensor:
    """Samples uniform in [0, 1) from ``generator`` (default: the library's seeded one)."""
    dtype = _random_float_dtype("rand", dtype)
    rng = random.numpy_generator("rand", generator)
    array = rng.random(_sizes("rand", size)).astype(dtype, copy=False)
    return _finish("rand", array, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False,
          out=None) -> Tensor:
    """Standard normal samples from ``generator`` (default: the library's seeded one)."""
    dtype = _random_float_dtype("randn", dtype)
    rng = random.numpy_generator("randn", generator)
    array = rng.standard_normal(_sizes("randn", size)).astype(dtype, copy=False)
    return _finish("randn", array, requires_grad, device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """:func:`rand` in ``input``'s shape and dtype."""
    check_tensor("rand_like", "input", input)
    shape, dtype = _like("rand_like", input, dtype)
    return rand(shape, dtype=dtype, device=device, requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False,
               generator=None) -> Tensor:
    """:func:`randn` in ``input``'s shape and dtype."""
    check_tensor("randn_like", "input", input)
    shape, dtype = _like("randn_like", input, dtype)
    return randn(shape, dtype=dtype, device=device, requires_grad=requires_grad,
                 generator=generator)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform in ``[low, high)`` of shape ``size`` (``low`` may be left out: 0);
    int64 by default."""
    if size is None and isinstance(high, (tuple, list, Size)):
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint: size must be given, as randint(low=0, high, size), got "
                        f"low={low!r}, high={high!r}, size={size!r}")
    low, high = (check_int("randint", name, v.item() if isinstance(v, Tensor) else v)
                 for name, v in (("low", low), ("high", high)))
    if high <= low:
        raise ShapeError(f"randint: high must be > low, got low={low}, high={high}")
    dtype = np.dtype(np.int64) if dtype is None else as_dtype("randint", dtype)
    check_fits("randint", "low", low, dtype)
    check_fits("randint", "high - 1", high - 1, dtype)  # the largest value drawn
    rng = random.numpy_generator("randint", generator)
    array = rng.integers(low, high, _sizes("randint", (tuple(size),))).astype(dtype)
    return _finish("randint", array, requires_grad, device)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None) -> Tensor:
    """:func:`randint` in ``input``'s shape and dtype."""
    check_tensor("randint_like", "input", input)
    if high is None:
        low, high = 0, low
    shape, dtype = _like("randint_like", input, dtype)
    return randint(low, high, shape, generator=generator, dtype=dtype, device=device,
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default)."""
    n = check_int("randperm", "n", n, minimum=0)
    rng = random.numpy_generator("randperm", generator)
    dtype = np.dtype(np.int64) if dtype is None else as_dtype("randperm", dtype)
    return _finish("randperm", rng.permutation(int(n)).astype(dtype), requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None) -> Tensor:
    """Evenly spaced values in [start, end); int64 for int arguments, else float32."""
    if end is None:
        start, end = 0, start
    start, end, step = (check_number("arange", name, v.item() if isinstance(v, Tensor) else v)
                        for name, v in (("start", start), ("end", end), ("step", step)))
    if step == 0:
        raise ShapeError("arange: step must be nonzero, got 0")
    if not all(np.isfinite(float(v)) for v in (start, end, step)):
        raise ShapeError(f"arange: start, end and step must be finite, got "
                         f"({start}, {end}, {step})")
    if max(abs(start), abs(end), abs(step)) > MAX_INT_ARGUMENT:
        raise ShapeError(f"arange: start, end and step must be at most 2**62 in magnitude, got "
                         f"({start}, {end}, {step})")
    if (end - start) * step < 0:
        raise ShapeError(f"arange: step must have the sign of end - start (upper bound and "
                         f"lower bound inconsistent with step sign), got start={start}, "
                         f"end={end}, step={step}")
    if dtype is None:
        integral = all(isinstance(v, (numbers.Integral, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else DEFAULT_FLOAT
    dtype = as_dtype("arange", dtype)
    return _finish("arange", np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False,
             out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32)."""
    steps = check_int("linspace", "steps", steps, minimum=0)
    start, end = (check_number("linspace", name, v.item() if isinstance(v, Tensor) else v)
                  for name, v in (("start", start), ("end", end)))
    dtype = _dtype_or_default("linspace", dtype)
    check_fits("linspace", "start", start, dtype)
    check_fits("linspace", "end", end, dtype)
    return _finish("linspace", np.linspace(start, end, int(steps)).astype(dtype),
                   requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``)."""
    m = n if m is None else m
    n, m = check_int("eye", "n", n, minimum=0), check_int("eye", "m", m, minimum=0)
    dtype = _dtype_or_default("eye", dtype)
    return _finish("eye", np.eye(int(n), int(m), dtype=dtype), requires_grad, device)


def _as_tensors(op, tensors):
    """``tensors`` (a list or tuple of Tensors, as PyTorch's ``cat``/``stack``) as a list."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: tensors must be a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: tensors must be a non-empty list of tensors, got an empty "
                         f"{type(tensors).__name__}")
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{op}: tensors[{index}] must be a Tensor, got "
                            f"{type(tensor).__name__}")
    return list(tensors)


def _dim(op, dim, axis):
    if axis is not None:
        return axis
    return dim


def cat(tensors, dim=0, *, axis=None, out=None) -> Tensor:
    """Join tensors (a list or tuple of Tensors, as PyTorch's) along an existing dimension
    ``dim`` (as ``torch.cat``); 1-D empty tensors are skipped, as PyTorch's legacy rule."""
    dim = _dim("cat", dim, axis)
    tensors = _as_tensors("cat", tensors)
    kept = [t for t in tensors if not (t.ndim == 1 and t._data.shape[0] == 0)]
    tensors = kept or tensors[:1]
    first = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        raise ShapeError("cat: zero-dimensional tensor cannot be concatenated; use stack")
    axis = normalize_axis(dim, first.ndim, "cat", first.shape)
    for index, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != axis
        ):
            raise ShapeError(
                f"cat: sizes of tensors must match except in dimension {axis}: tensor "
                f"{index} has shape {tuple(other.shape)}, tensor 0 has shape "
                f"{tuple(first.shape)}"
            )
    dtype = promoted_dtype(*[t._data for t in tensors])
    tensors = [t.to(dtype) for t in tensors]
    if len(tensors) == 1:
        return shape_ops.Clone.apply(tensors[0])
    return shape_ops.Concatenate.apply(axis, *tensors)


concatenate = concat = cat


def stack(tensors, dim=0, *, axis=None, out=None) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    dim = _dim("stack", dim, axis)
    tensors = _as_tensors("stack", tensors)
    for index, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise ShapeError(
                f"stack: expects each tensor to be equal size, but got {tuple(tensors[0].shape)}"
                f" at entry 0 and {tuple(other.shape)} at entry {index}"
            )
    axis = normalize_axis(dim, tensors[0].ndim + 1, "stack", tensors[0].shape)
    return cat([t.unsqueeze(axis) for t in tensors], axis)


def hstack(tensors) -> Tensor:
    """Join along dimension 1 (dimension 0 for 1-D tensors)."""
    tensors = _as_tensors("hstack", tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dimension 0, 1-D tensors as rows."""
    tensors = _as_tensors("vstack", tensors)
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


# ------------------------------------------------------------------ new tensors like self
def _new(op, self, size, value, dtype, requires_grad, device) -> Tensor:
    """A tensor of ``size`` filled with ``value``, of ``self``'s dtype unless ``dtype``."""
    check_tensor(op, "self", self)
    dtype = self._data.dtype if dtype is None else as_dtype(op, dtype)
    return _filled(op, size, value, dtype, requires_grad, device)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False) -> Tensor:
    """Zeros of shape ``size`` with ``self``'s dtype unless ``dtype`` is given
    (``torch.Tensor.new_zeros``)."""
    return _new("new_zeros", self, size, 0, dtype, requires_grad, device)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False) -> Tensor:
    """Ones of shape ``size`` with ``self``'s dtype unless ``dtype`` is given
    (``torch.Tensor.new_ones``)."""
    return _new("new_ones", self, size, 1, dtype, requires_grad, device)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False) -> Tensor:
    """An uninitialised (zeroed, as :func:`empty`) tensor of shape ``size`` with ``self``'s
    dtype unless ``dtype`` is given (``torch.Tensor.new_empty``)."""
    return _new("new_empty", self, size, 0, dtype, requires_grad, device)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False) -> Tensor:
    """``fill_value`` in shape ``size`` (a tuple or list) with ``self``'s dtype unless
    ``dtype`` is given (``torch.Tensor.new_full``: the dtype is not inferred from the
    value)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full: size must be a tuple of ints, got {type(size).__name__}")
    fill_value = _fill_value("new_full", fill_value)
    check_tensor("new_full", "self", self)
    dtype = self._data.dtype if dtype is None else as_dtype("new_full", dtype)
    check_fits("new_full", "fill_value", fill_value, dtype)
    return _new("new_full", self, tuple(size), fill_value, dtype, requires_grad, device)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (outside any graph), of ``self``'s dtype
    unless ``dtype`` is given (``torch.Tensor.new_tensor``)."""
    check_tensor("new_tensor", "self", self)
    if isinstance(data, str):
        raise TypeError(f"new_tensor: data must be a number, a sequence or an array, got "
                        f"{data!r}")
    dtype = self._data.dtype if dtype is None else as_dtype("new_tensor", dtype)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


METHODS = {"new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
           "new_full": new_full, "new_tensor": new_tensor}
