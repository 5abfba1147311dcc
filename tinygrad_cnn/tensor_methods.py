"""Tensor's methods, bound onto the class by :func:`install` (called once by the package
``__init__``).

``tensor.py`` defines the data side of ``Tensor``; ``autograd`` builds the graph out of
``Function`` calls that make Tensors; ``ops`` defines the Functions.  The methods that call
ops live in four modules, each also the source of the ``tinygrad_cnn.<name>`` functions:

- :mod:`tinygrad_cnn.tensor_math`: arithmetic, elementwise functions, comparisons;
- :mod:`tinygrad_cnn.tensor_reduce`: reductions (``sum``, ``max``, ``sort``, ...);
- :mod:`tinygrad_cnn.tensor_shape`: views, shape methods and indexing;
- :mod:`tinygrad_cnn.tensor_inplace`: in-place operations and ``t[index] = value``;

and this module holds conversions (``to``, ``float``, ``cpu``, ``type_as``, ``stride``, ...);
:mod:`tinygrad_cnn.factories` gives ``new_zeros``, ``new_full``, ``new_tensor``, ...;
``backward`` and the hooks come from :mod:`tinygrad_cnn.autograd`.
Binding them here, after ``Tensor``, ``autograd`` and ``ops`` exist, is the one place where the
loop between Tensor and its operations is closed.
"""

import builtins

import numpy as np

from . import (
    _checks,
    devices,
    factories,
    tensor_inplace,
    tensor_math,
    tensor_misc,
    tensor_reduce,
    tensor_shape,
)
from .autograd import engine, hooks
from .autograd.float_errors import quiet
from .ops import shape as shape_ops
from .tensor import Tensor, as_dtype, numpy_dtype


# ------------------------------------------------------------------ conversions
def _cast(self, dtype) -> Tensor:
    if dtype == self._data.dtype:
        return self
    if self._requires_grad and dtype.kind == "f":
        return shape_ops.Cast.apply(self, dtype)
    with quiet():   # NaN or inf to an integer type: PyTorch's silence (.autograd.float_errors)
        return Tensor._make(self._data.astype(dtype))


def astype(self, dtype) -> Tensor:
    """A copy with another dtype (differentiable between float types); ``self`` when the
    dtype is already ``dtype``."""
    return _cast(self, numpy_dtype("astype", dtype))


def to(self, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (its dtype):
    this tensor, converted where needed (as ``torch.Tensor.to``).  Only the CPU is a
    device here: a GPU raises ``RuntimeError``.  ``non_blocking``/``copy`` are accepted."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg._data.dtype
        elif isinstance(arg, str) and not devices.is_device_like(arg):
            # as PyTorch: a string is a device, never a dtype
            raise RuntimeError(f"to: a string must name a device such as 'cpu', got {arg!r} "
                               "(an invalid device string; a dtype is tinygrad_cnn.float32)")
        elif devices.is_device_like(arg) or (isinstance(arg, builtins.int)
                                             and not isinstance(arg, builtins.bool)):
            device = arg
        elif arg is None or isinstance(arg, builtins.bool):
            continue  # non_blocking given positionally
        else:
            dtype = arg
    devices.check_device("to", device)
    result = self if dtype is None else _cast(self, as_dtype("to", dtype))
    if copy and result is self:
        result = tensor_shape.clone(self)
    return result


def type(self, dtype=None, non_blocking=False):
    """With no argument, the type name (``"tinygrad_cnn.FloatTensor"``); with a dtype or a
    type name (``"torch.FloatTensor"``), the tensor converted to it.  As PyTorch's: another
    string, or Python's ``float``/``int``/``bool``, raises ``ValueError``; a value that is
    no type at all ``TypeError``."""
    if dtype is None:
        return f"tinygrad_cnn.{_TYPE_NAMES.get(self._data.dtype.name, 'Tensor')}"
    if isinstance(dtype, str):
        if dtype not in _TYPE_DTYPES:
            raise ValueError(f"type: dtype must be a dtype or a type name such as "
                             f"'torch.FloatTensor', got {dtype!r}")
        dtype = _TYPE_DTYPES[dtype]
    elif any(dtype is kind for kind in (builtins.float, builtins.int, builtins.bool,
                                         builtins.complex)):
        raise ValueError(f"type: dtype must be a dtype or a type name such as "
                         f"'torch.FloatTensor', got Python's {dtype.__name__}")
    elif not isinstance(dtype, (np.dtype, builtins.type)):
        raise TypeError(f"type: dtype must be a dtype, a type or a type name, got {dtype!r}")
    return _cast(self, as_dtype("type", dtype))


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
_TYPE_DTYPES = {f"{prefix}.{name}": np.dtype(dtype) for dtype, name in _TYPE_NAMES.items()
                for prefix in ("torch", "tinygrad_cnn")}


def float(self) -> Tensor:
    """``self.to(float32)``."""
    return _cast(self, np.dtype(np.float32))


def double(self) -> Tensor:
    """``self.to(float64)``."""
    return _cast(self, np.dtype(np.float64))


def half(self) -> Tensor:
    """``self.to(float16)``."""
    return _cast(self, np.dtype(np.float16))


def long(self) -> Tensor:
    """``self.to(int64)``."""
    return _cast(self, np.dtype(np.int64))


def int(self) -> Tensor:
    """``self.to(int32)``."""
    return _cast(self, np.dtype(np.int32))


def short(self) -> Tensor:
    """``self.to(int16)``."""
    return _cast(self, np.dtype(np.int16))


def byte(self) -> Tensor:
    """``self.to(uint8)``."""
    return _cast(self, np.dtype(np.uint8))


def bool(self) -> Tensor:
    """``self.to(bool)``."""
    return _cast(self, np.dtype(np.bool_))


def cpu(self, memory_format=None) -> Tensor:
    """``self``: tensors live on the CPU."""
    return self


def cuda(self, device=None, non_blocking=False, memory_format=None) -> Tensor:
    """Raises ``RuntimeError``: this library runs on the CPU with numpy."""
    devices.check_device("cuda", "cuda" if device is None else device)
    return self


def type_as(self, other) -> Tensor:
    """``self`` converted to ``other``'s dtype (``torch.Tensor.type_as``; ``self`` when the
    dtypes agree)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as: other must be a Tensor, got {builtins.type(other).__name__}")
    return _cast(self, other._data.dtype)


def stride(self, dim=None):
    """The step in elements between neighbours along each dim (a tuple), or along ``dim``
    (an int), as ``torch.Tensor.stride``: numpy's byte strides over the item size.  Where
    numpy says 0 (a dimension inserted by ``unsqueeze``, every dimension of an empty
    array; here no view broadcasts) the step is the one a contiguous layout gives, as
    PyTorch's."""
    data = self._data
    steps = [step // data.itemsize for step in data.strides]
    following = 1
    for axis in reversed(range(data.ndim)):
        if steps[axis] == 0:
            steps[axis] = following
        following = steps[axis] * max(data.shape[axis], 1)
    if dim is None:
        return tuple(steps)
    if data.ndim == 0:   # PyTorch: an IndexError
        raise _checks.AxisError(f"stride: dim {dim!r} is out of range for a 0-d tensor")
    return steps[_checks.normalize_axis(dim, data.ndim, "stride", data.shape)]


def is_contiguous(self, memory_format=None) -> builtins.bool:
    """True when the elements lie in row-major order without gaps (as
    ``torch.Tensor.is_contiguous``: dimensions of size 1 do not count)."""
    return builtins.bool(self._data.flags.c_contiguous)


def __reversed__(self):
    """Iterate over the first dimension backwards (``self.flip(0)``)."""
    return iter(tensor_shape.flip(self, 0)) if self.ndim else iter((self,))


_OWN = {
    "astype": astype, "to": to, "type": type, "float": float, "double": double,
    "half": half, "long": long, "int": int, "short": short, "byte": byte, "bool": bool,
    "cpu": cpu, "cuda": cuda, "type_as": type_as, "stride": stride,
    "is_contiguous": is_contiguous, "__reversed__": __reversed__,
    # autograd's side of the Tensor: backward and hooks
    "backward": engine.tensor_backward, "register_hook": hooks.register_hook,
    "retain_grad": hooks.retain_grad, "retains_grad": property(hooks.retains_grad),
}


def install() -> None:
    """Bind every method of the modules above onto ``Tensor`` (idempotent)."""
    for table in (tensor_math.METHODS, tensor_reduce.METHODS, tensor_shape.METHODS,
                  tensor_inplace.METHODS, tensor_misc.METHODS, factories.METHODS,
                  devices.device_methods(), _OWN):
        for name, method in table.items():
            setattr(Tensor, name, method)


__all__ = ["install"]
