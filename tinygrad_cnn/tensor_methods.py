"""Tensor's operators and methods, bound onto the class here, in one place.

``tensor.py`` defines the data side of ``Tensor``; ``autograd`` builds the graph out of
``Function`` calls that make Tensors; ``ops`` defines the Functions.  Binding the methods that
call ops here, after all three exist, is the one place where the loop between Tensor and its
operations is closed (the package ``__init__`` imports this module first).

Every method validates its arguments and raises ``ValueError``/``TypeError`` naming the op,
the argument and the shapes before numpy sees them.
"""

import numbers

import numpy as np

from ._checks import (
    AxisError,
    ShapeError,
    check_broadcastable,
    normalize_axes,
    normalize_axis,
    sizes_argument,
)
from .autograd import engine, hooks
from .ops import elementwise as ew
from .ops import linalg, reduce
from .ops import shape as shape_ops
from .tensor import DEFAULT_FLOAT, Tensor, as_dtype, is_scalar, promoted_dtype


# ------------------------------------------------------------------ operand coercion
def _scalar_operand(op: str, value, like: Tensor) -> Tensor:
    """A Python/numpy scalar as a 0-d tensor that keeps ``like``'s dtype (PyTorch's rule)."""
    dtype = like._data.dtype
    is_bool = isinstance(value, (bool, np.bool_))
    if dtype.kind != "f" and isinstance(value, (float, np.floating)):
        dtype = DEFAULT_FLOAT
    elif dtype.kind == "b" and not is_bool:
        dtype = np.dtype(np.int64)
    elif dtype.kind in "iu" and not is_bool and isinstance(value, (int, np.integer)):
        limits = np.iinfo(dtype)
        if not limits.min <= value <= limits.max:
            raise ValueError(f"{op}: the scalar {value} does not fit the tensor's dtype {dtype}")
    return Tensor._make(np.asarray(value, dtype=dtype))


def _operand(op: str, value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if type(value) is float or type(value) is int or is_scalar(value):  # fast path first
        return _scalar_operand(op, value, like)
    try:
        return Tensor(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{op}: cannot combine a tensor with {type(value).__name__} ({error})"
        ) from None


def _promoted(a: Tensor, b: Tensor):
    """Cast the operands where PyTorch's promotion differs from what numpy would do."""
    dtype_a, dtype_b = a._data.dtype, b._data.dtype
    if dtype_a == dtype_b:
        return a, b
    target = promoted_dtype(a._data, b._data)
    if target == np.result_type(dtype_a, dtype_b):
        return a, b  # numpy gets there by itself, without a copy
    return a.astype(target), b.astype(target)


def _binary(op: str, a, b):
    """Both operands as Tensors with promoted dtypes and checked, broadcastable shapes."""
    if isinstance(a, Tensor):
        b = _operand(op, b, a)
    else:
        a = _operand(op, a, b)
    a, b = _promoted(a, b)
    shape_a, shape_b = a._data.shape, b._data.shape
    if shape_a != shape_b and shape_a and shape_b:  # a 0-d operand always broadcasts
        check_broadcastable(op, shape_a, shape_b)
    return a, b


def _floating(tensor: Tensor) -> Tensor:
    """Integer and bool tensors become the default float, as PyTorch's float-only ops do."""
    return tensor if tensor._data.dtype.kind == "f" else tensor.astype(DEFAULT_FLOAT)


def _true_division_operands(a, b):
    a, b = _binary("div", a, b)
    if a._data.dtype.kind != "f":  # both integer: true division gives the default float
        a, b = _floating(a), _floating(b)
    return a, b


# ------------------------------------------------------------------ arithmetic
def add(a, b):
    return ew.Add.apply(*_binary("add", a, b))


def sub(a, b):
    a, b = _binary("sub", a, b)
    if a._data.dtype.kind == "b" and b._data.dtype.kind == "b":
        raise TypeError("sub: subtracting bool tensors is not supported (use ~ or .astype(int))")
    return ew.Sub.apply(a, b)


def mul(a, b):
    return ew.Mul.apply(*_binary("mul", a, b))


def div(a, b):
    return ew.Div.apply(*_true_division_operands(a, b))


def power(base, exponent):
    """``base ** exponent``; an integer base with a float exponent gives the default float."""
    if isinstance(base, Tensor) and is_scalar(exponent) and not isinstance(exponent, bool):
        exponent = exponent.item() if isinstance(exponent, np.generic) else exponent
        if base._data.dtype.kind != "f":
            if isinstance(exponent, float):
                base = _floating(base)
            elif exponent < 0:
                raise ValueError("pow: integer tensors to negative integer powers are not "
                                 "supported; convert with .float() first")
        return ew.PowScalar.apply(base, exponent)
    base, exponent = _binary("pow", base, exponent)
    if exponent._data.dtype.kind != "f" and (exponent._data < 0).any():
        raise ValueError("pow: integer tensors to negative integer powers are not supported; "
                         "convert with .float() first")
    return ew.Pow.apply(base, exponent)


def matmul(a, b):
    """``a @ b`` with numpy's rules: 1-D operands are lifted to matrices and squeezed back."""
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if not isinstance(b, Tensor):
        b = Tensor(b)
    a, b = _promoted(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {a.shape} and "
            f"{b.shape} (use * to multiply by a scalar)"
        )
    lifted_a = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    lifted_b = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    if lifted_a.shape[-1] != lifted_b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align "
            f"({lifted_a.shape[-1]} != {lifted_b.shape[-2]})"
        )
    if lifted_a.shape[:-2] != lifted_b.shape[:-2]:
        check_broadcastable("matmul (batch dimensions)", lifted_a.shape[:-2],
                            lifted_b.shape[:-2])
    result = linalg.MatMul.apply(lifted_a, lifted_b)
    if a.ndim == 1 and b.ndim == 1:
        return result.reshape(())
    if a.ndim == 1:
        return result.squeeze(-2)
    if b.ndim == 1:
        return result.squeeze(-1)
    return result


def _reflected(function):
    return lambda self, other: function(other, self)


# ------------------------------------------------------------------ comparisons
def _comparison(compare, name):
    def method(self, other):
        if other is None:
            return NotImplemented
        try:
            a, b = _binary(name, self, other)
        except TypeError:
            return NotImplemented
        return Tensor._make(np.asarray(compare(a._data, b._data)))

    method.__name__ = f"__{name}__"
    return method


# ------------------------------------------------------------------ reductions
def _reduction_axes(axis, tensor, name):
    """The axes a reduction runs over; ``()`` (an empty dim list) means every axis, as
    PyTorch's ``sum(dim=())``."""
    if isinstance(axis, (tuple, list)) and len(axis) == 0:
        axis = None
    return normalize_axes(axis, tensor.ndim, name, tensor.shape)


def _check_nonempty_reduction(tensor, axes, name, whole: bool) -> None:
    """PyTorch's rule for max/min/argmax/argmin of empty tensors: a reduced axis of size 0
    is an IndexError; the whole of an empty tensor a RuntimeError; reducing along a
    non-empty axis of an empty tensor gives an empty result."""
    if tensor.size and not whole:
        return
    if whole:
        if tensor.size == 0:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor (shape {tensor.shape}) "
                               "as a whole; specify the reduction dim")
        return
    for axis in axes:
        if tensor.shape[axis] == 0:
            raise IndexError(f"{name}: expected reduction dim {axis} to have non-zero size, "
                             f"got shape {tensor.shape}")


def _reduction(function, name, floating_only):
    def method(self, axis=None, keepdims=False):
        if floating_only:
            _require_floating(name, self)
        axes = _reduction_axes(axis, self, name)
        return function.apply(self, axes, bool(keepdims))

    method.__name__ = name
    method.__doc__ = f"``{name}`` over ``axis`` (None: all axes), as numpy / PyTorch."
    return method


def _extremum(largest, name):
    def method(self, axis=None, keepdims=False):
        axes = _reduction_axes(axis, self, name)
        _check_nonempty_reduction(self, axes, name, whole=axis is None)
        return reduce.Extremum.apply(self, axes, bool(keepdims), largest)

    method.__name__ = name
    method.__doc__ = (f"``{name}`` over ``axis`` as PyTorch's ``a{name}``: a tie's gradient is "
                      "split evenly among the tied elements.")
    return method


def _require_floating(op: str, tensor: Tensor) -> None:
    if tensor._data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating point tensor, got {tensor.dtype} "
                        "(convert with .float())")


def var(self, axis=None, keepdims=False, correction=1):
    """Variance over ``axis``, divided by ``count - correction`` (unbiased by default)."""
    _require_floating("var", self)
    if isinstance(correction, bool) or not isinstance(correction, numbers.Real):
        raise TypeError(f"var: correction must be a number, got {correction!r}")
    axes = _reduction_axes(axis, self, "var")
    count = int(np.prod([self.shape[a] for a in axes], dtype=np.int64))
    divisor = count - correction
    deviation = self - self.mean(axes, keepdims=True)
    total = (deviation * deviation).sum(axes, keepdims=keepdims)
    return total * (1.0 / divisor if divisor > 0 else float("nan"))


def _arg_extremum(function, name):
    def method(self, axis=None):
        if axis is not None:
            axis = normalize_axis(axis, self.ndim, name, self.shape)
            if self.ndim == 0:
                axis = None
        _check_nonempty_reduction(self, () if axis is None else (axis,), name,
                                  whole=axis is None)
        return Tensor._make(np.asarray(function(self._data, axis=axis), dtype=np.int64))

    method.__name__ = name
    return method


# ------------------------------------------------------------------ shape methods
def reshape(self, *shape):
    """View the elements in a new shape; one size may be -1 (inferred)."""
    shape = sizes_argument("reshape", shape)
    unknown = [i for i, size in enumerate(shape) if size == -1]
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if len(unknown) > 1 or any(size < -1 for size in shape):
        raise ShapeError(f"reshape: invalid shape {shape} (at most one -1, no other negatives)")
    if unknown and known and self.size % known == 0:
        shape = shape[: unknown[0]] + (self.size // known,) + shape[unknown[0] + 1:]
    elif unknown or known != self.size:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {self.shape} ({self.size} elements) "
            f"into shape {shape}"
        )
    if shape == self.shape:
        return self
    return shape_ops.Reshape.apply(self, shape)


def permute(self, *dims):
    """Reorder the axes: result axis i is input axis ``dims[i]`` (as PyTorch)."""
    dims = sizes_argument("permute", dims)
    if not all(-self.ndim <= d < self.ndim for d in dims):  # PyTorch: an IndexError
        raise AxisError(f"permute: {dims} is not a permutation of the {self.ndim} axes of "
                        f"shape {self.shape} (a dim is out of range)")
    if sorted(d % self.ndim for d in dims) != list(range(self.ndim)):
        raise ShapeError(
            f"permute: {dims} is not a permutation of the {self.ndim} axes of shape {self.shape}"
        )
    dims = tuple(d % self.ndim for d in dims)
    return shape_ops.Permute.apply(self, dims)


def transpose(self, dim0, dim1):
    """Swap two axes (as ``torch.transpose``)."""
    dim0 = normalize_axis(dim0, self.ndim, "transpose", self.shape)
    dim1 = normalize_axis(dim1, self.ndim, "transpose", self.shape)
    if self.ndim == 0:
        return self
    dims = list(range(self.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return shape_ops.Permute.apply(self, tuple(dims))


def _reverse_axes(self):
    return shape_ops.Permute.apply(self, tuple(reversed(range(self.ndim))))


def flatten(self, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (as ``torch.flatten``)."""
    if self.ndim == 0:
        return self.reshape(1)
    start = normalize_axis(start_dim, self.ndim, "flatten", self.shape)
    end = normalize_axis(end_dim, self.ndim, "flatten", self.shape)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(self.shape[start:end + 1], dtype=np.int64))
    return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])


def squeeze(self, axis=None):
    """Drop axes of size 1 (all of them, or the given ones; others are left, as PyTorch)."""
    axes = normalize_axes(axis, self.ndim, "squeeze", self.shape)
    new_shape = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
    return self.reshape(new_shape)


def unsqueeze(self, axis):
    """Insert an axis of size 1 at ``axis`` (-ndim-1 <= axis <= ndim)."""
    axis = normalize_axis(axis, self.ndim + 1, "unsqueeze", self.shape)
    return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])


def _index_item(item):
    if isinstance(item, Tensor):
        if item.dtype.kind not in "iub":
            raise TypeError(f"getitem: index tensors must be integer or bool, got {item.dtype}")
        return item._data
    if isinstance(item, list):
        return np.asarray(item)
    return item


def getitem(self, index):
    """Basic and integer-array indexing; repeated indices accumulate their gradients."""
    index = tuple(_index_item(i) for i in index) if isinstance(index, tuple) \
        else _index_item(index)
    try:
        return shape_ops.GetItem.apply(self, index)
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {self.shape})") from None


# ------------------------------------------------------------------ elementwise
def clip(self, lo=None, hi=None):
    """Clamp into [lo, hi]; either bound may be None.  Float bounds make an integer tensor
    the default float (as ``torch.clamp``)."""
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given")
    for name, bound in (("lo", lo), ("hi", hi)):
        if bound is not None and (not is_scalar(bound) or isinstance(bound, bool)):
            raise TypeError(f"clip: {name} must be a number, got {type(bound).__name__}")
    if any(isinstance(bound, (float, np.floating)) for bound in (lo, hi)):
        self = _floating(self)
    return ew.Clip.apply(self, lo, hi)


def astype(self, dtype):
    """A copy with another dtype; differentiable between float types."""
    dtype = as_dtype("astype", dtype)
    if dtype == self.dtype:
        return self
    return shape_ops.Cast.apply(self, dtype)


_METHODS = {
    "__add__": add, "__radd__": _reflected(add),
    "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul),
    "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": power, "__rpow__": _reflected(power),
    "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": lambda self: ew.Neg.apply(self),
    "__lt__": _comparison(np.less, "lt"), "__le__": _comparison(np.less_equal, "le"),
    "__gt__": _comparison(np.greater, "gt"), "__ge__": _comparison(np.greater_equal, "ge"),
    "__eq__": _comparison(np.equal, "eq"), "__ne__": _comparison(np.not_equal, "ne"),
    "__getitem__": getitem,
    "sum": _reduction(reduce.Sum, "sum", False), "mean": _reduction(reduce.Mean, "mean", True),
    "max": _extremum(True, "max"), "min": _extremum(False, "min"), "var": var,
    "argmax": _arg_extremum(np.argmax, "argmax"), "argmin": _arg_extremum(np.argmin, "argmin"),
    "reshape": reshape, "permute": permute, "transpose": transpose,
    "T": property(_reverse_axes), "flatten": flatten, "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "exp": lambda self: ew.Exp.apply(_floating(self)),
    "log": lambda self: ew.Log.apply(_floating(self)),
    "sqrt": lambda self: ew.Sqrt.apply(_floating(self)),
    "sigmoid": lambda self: ew.Sigmoid.apply(_floating(self)),
    "tanh": lambda self: ew.Tanh.apply(_floating(self)),
    "abs": lambda self: ew.Abs.apply(self), "__abs__": lambda self: ew.Abs.apply(self),
    "relu": lambda self: ew.Relu.apply(self), "clip": clip,
    "astype": astype, "float": lambda self: astype(self, np.float32),
    "double": lambda self: astype(self, np.float64),
    # autograd's side of the Tensor: backward and hooks
    "backward": engine.tensor_backward, "register_hook": hooks.register_hook,
    "retain_grad": hooks.retain_grad, "retains_grad": property(hooks.retains_grad),
}

for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)

__all__ = ["add", "sub", "mul", "div", "power", "matmul"]
