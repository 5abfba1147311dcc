"""Tensor's reductions, as PyTorch's: ``sum mean var std prod amax amin max min argmax argmin
logsumexp all any cumsum topk sort argsort norm``.

Every one takes ``dim`` and ``keepdim`` and PyTorch's aliases ``axis`` and ``keepdims``.
``dim`` is an int, a tuple of ints or ``None`` where PyTorch accepts them; ``dim=()`` reduces
every dimension for ``sum``/``mean``/``amax``/``amin``, as PyTorch's.  ``max``/``min`` with a
dimension, ``sort`` and ``topk`` return a named tuple ``(values, indices)`` whose values take
the gradient at the returned indices.
"""

import collections
import math
import numbers

import numpy as np

from ._checks import (
    DtypeError,
    ShapeError,
    check_float,
    check_int,
    check_tensor,
    is_int,
    normalize_axes,
    normalize_axis,
)
from .ops import activation as activation_ops
from .ops import elementwise as elementwise_ops
from .ops import reduce as reduce_ops
from .ops import shape as shape_ops
from .tensor import DEFAULT_FLOAT, Tensor, as_dtype
from .tensor_math import maximum, minimum
from .tensor_shape import take_index

# Named tuples as PyTorch's ``torch.return_types``: ``values, indices = t.max(1)`` and
# ``t.max(1).indices`` both work.
return_types = {
    name: collections.namedtuple(name, ["values", "indices"])
    for name in ("max", "min", "sort", "topk", "kthvalue", "median", "mode")
}


def _dim_args(op: str, dim, axis, keepdim, keepdims, out=None):
    """PyTorch's ``dim``/``keepdim`` merged with numpy's spellings ``axis``/``keepdims``
    (``out=`` is accepted only as None, so numpy's ``np.sum(t)`` reaches us)."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported")
    if axis is not None:
        if dim is not None and dim != ():
            raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; give one")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _axes(op: str, input: Tensor, dim) -> tuple:
    """``dim`` (None or () meaning every dimension) as a sorted tuple of axes."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return normalize_axes(dim, input.ndim, op, input._data.shape)


def _floating(op: str, input: Tensor, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(as_dtype(op, dtype))
    check_float(op, "input", input._data.dtype)
    return input


def _squeeze(result: Tensor, axes, keepdim: bool) -> Tensor:
    if keepdim or not axes:
        return result
    shape = tuple(s for i, s in enumerate(result._data.shape) if i not in axes)
    return shape_ops.Reshape.apply(result, shape)


# ------------------------------------------------------------------ sums and means
def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None,
        out=None) -> Tensor:
    """The sum over ``dim`` (None or (): every dimension); bool and integer tensors sum to
    int64, as PyTorch's."""
    check_tensor("sum", "input", input)
    dim, keepdim = _dim_args("sum", dim, axis, keepdim, keepdims, out)
    if dtype is not None:
        input = input.to(as_dtype("sum", dtype))
    elif input._data.dtype.kind in "biu" and input._data.dtype != np.int64:
        input = input.to(np.int64)
    return reduce_ops.Sum.apply(input, _axes("sum", input, dim), keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None,
         out=None) -> Tensor:
    """The mean over ``dim``; floating point tensors only (a mean over nothing is NaN)."""
    check_tensor("mean", "input", input)
    dim, keepdim = _dim_args("mean", dim, axis, keepdim, keepdims, out)
    input = _floating("mean", input, dtype)
    axes = _axes("mean", input, dim)
    return reduce_ops.Mean.apply(input, axes, keepdim)


def _correction(op, unbiased, correction) -> float:
    if correction is not None:
        if isinstance(correction, bool) or not isinstance(correction, numbers.Real):
            raise TypeError(f"{op}: correction must be a number, got {correction!r}")
        return correction
    return 0 if unbiased is False else 1


def var(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
        keepdims=None, out=None) -> Tensor:
    """Variance over ``dim`` divided by ``count - correction`` (1 by default: unbiased;
    ``unbiased=False`` means 0), as ``torch.var``; ``keepdim`` None means False.  PyTorch's
    old ``var(input, unbiased)`` (a bool in place of ``dim``) takes no other argument."""
    return _variance("var", input, dim, unbiased, keepdim, correction, axis, keepdims, out)


def std(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
        keepdims=None, out=None) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments)."""
    return _root(_variance("std", input, dim, unbiased, keepdim, correction, axis, keepdims,
                           out), 0.5)


def _root(total: Tensor, exponent: float) -> Tensor:
    """``total ** exponent`` (a std's or a norm's root), with value and gradient 0 where
    ``total`` is 0, as PyTorch's std and norm backwards (``masked_fill(result == 0, 0)``):
    the derivative there is infinite and would meet a zero as NaN."""
    zero = total._data == 0
    if not zero.any():
        return total.sqrt() if exponent == 0.5 else total ** exponent
    kept = np.asarray(~zero)
    safe = elementwise_ops.Where.apply(kept, total, Tensor._make(np.ones((), total.dtype)))
    root = safe.sqrt() if exponent == 0.5 else safe ** exponent
    return elementwise_ops.Where.apply(kept, root, Tensor._make(np.zeros((), total.dtype)))


def _variance(op, input, dim, unbiased, keepdim, correction, axis, keepdims, out) -> Tensor:
    """:func:`var`'s work, its errors naming ``op`` (``var`` or ``std``)."""
    check_tensor(op, "input", input)
    if isinstance(dim, bool):  # torch.var(x, False): the old (input, unbiased) overload
        if (unbiased, keepdim, correction, axis, keepdims) != (None,) * 5:
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim} (a bool "
                            f"is the old {op}(input, unbiased), which takes no other argument)")
        dim, unbiased = None, dim
    dim, keepdim = _dim_args(op, dim, axis, keepdim, keepdims, out)
    correction = _correction(op, unbiased, correction)
    input = _floating(op, input)
    axes = _axes(op, input, dim)
    count = int(np.prod([input._data.shape[a] for a in axes], dtype=np.int64))
    divisor = count - correction
    deviation = input - reduce_ops.Mean.apply(input, axes, True)
    total = reduce_ops.Sum.apply(deviation * deviation, axes, keepdim)
    return total * (1.0 / divisor if divisor > 0 else float("nan"))


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None,
         out=None) -> Tensor:
    """The product over ``dim`` (an int, or None for every element)."""
    check_tensor("prod", "input", input)
    if dim is not None and not is_int(dim):
        raise TypeError(f"prod: dim must be an int, got {dim!r}")
    dim, keepdim = _dim_args("prod", dim, axis, keepdim, keepdims, out)
    if dtype is not None:
        input = input.to(as_dtype("prod", dtype))
    elif input._data.dtype.kind in "biu" and input._data.dtype != np.int64:
        input = input.to(np.int64)
    return reduce_ops.Prod.apply(input, _axes("prod", input, dim), keepdim)


def _cumulative(op: str, primitive, input, dim, dtype, axis) -> Tensor:
    """``cumsum``'s and ``cumprod``'s work: integers and bools as int64 (as PyTorch's)
    unless ``dtype`` is given, then ``primitive`` along ``dim``."""
    check_tensor(op, "input", input)
    dim, _ = _dim_args(op, dim, axis, False, None)
    if dtype is not None:
        input = input.to(as_dtype(op, dtype))
    elif input._data.dtype.kind in "biu":
        input = input.to(np.int64)
    axis = normalize_axis(dim, input.ndim, op, input._data.shape)
    if input.ndim == 0:
        return shape_ops.Clone.apply(input)
    return primitive.apply(input, axis)


def cumsum(input, dim, *, dtype=None, axis=None) -> Tensor:
    """Cumulative sums along ``dim``."""
    return _cumulative("cumsum", reduce_ops.Cumsum, input, dim, dtype, axis)


def cumprod(input, dim, *, dtype=None, axis=None) -> Tensor:
    """Cumulative products along ``dim`` (as ``torch.cumprod``); the gradient is exact
    where the input holds zeros too."""
    return _cumulative("cumprod", reduce_ops.Cumprod, input, dim, dtype, axis)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None,
              out=None) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    check_tensor("logsumexp", "input", input)
    dim, keepdim = _dim_args("logsumexp", dim, axis, keepdim, keepdims, out)
    if input._data.dtype.kind != "f":
        input = input.to(DEFAULT_FLOAT)
    axes = _axes("logsumexp", input, dim)
    if input._data.size == 0:
        shift = np.zeros(tuple(1 if i in axes else s for i, s in enumerate(input.shape)),
                         dtype=input.dtype)
    else:
        shift = np.max(input._data, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0).astype(input.dtype)
    shift_tensor = Tensor._make(shift)
    summed = reduce_ops.Sum.apply((input - shift_tensor).exp(), axes, True)
    result = summed.log() + shift_tensor
    return _squeeze(result, axes, keepdim)


def log_softmax(input, dim, dtype=None) -> Tensor:
    """``input - logsumexp(input)`` along ``dim`` (an int): log-probabilities, finite for
    any finite input (as ``torch.log_softmax``)."""
    check_tensor("log_softmax", "input", input)
    if dtype is not None:
        input = input.to(as_dtype("log_softmax", dtype))
    if input._data.dtype.kind != "f":
        input = input.to(DEFAULT_FLOAT)
    axis = normalize_axis(dim, input.ndim, "log_softmax", input._data.shape)
    if input.ndim == 0 or input._data.shape[axis] == 0:
        return input - logsumexp(input, axis, keepdim=True)
    # shifted by the row's maximum as PyTorch's kernel: a row holding +inf becomes NaN
    return activation_ops.LogSoftmax.apply(input, axis)


def softmax(input, dim, dtype=None) -> Tensor:
    """``exp(input) / sum(exp(input))`` along ``dim`` (an int), without overflow (as
    ``torch.softmax``)."""
    check_tensor("softmax", "input", input)
    return log_softmax(input, dim, dtype).exp()


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (``p`` = 'fro', 2, 1, inf, -inf or a number)."""
    check_tensor("norm", "input", input)
    input = _floating("norm", input, dtype)
    axes = _axes("norm", input, dim)
    if p in ("fro", 2, 2.0):
        return _root(reduce_ops.Sum.apply(input * input, axes, keepdim), 0.5)
    if p == math.inf:
        return amax(input.abs(), axes, keepdim)
    if p == -math.inf:
        return amin(input.abs(), axes, keepdim)
    if p == 1:
        return reduce_ops.Sum.apply(input.abs(), axes, keepdim)
    if isinstance(p, numbers.Real) and not isinstance(p, bool) and p > 0:
        powers = input.abs() ** p
        nonzero = input._data != 0
        if p < 1 and not nonzero.all():
            # |x| ** p has an infinite derivative at 0: PyTorch's norm backward zeroes the
            # gradient of zeros for p < 1, so their powers are taken of 1s and masked
            one = Tensor._make(np.ones((), input.dtype))
            zero = Tensor._make(np.zeros((), input.dtype))
            safe = elementwise_ops.Where.apply(nonzero, input, one).abs()
            powers = elementwise_ops.Where.apply(nonzero, safe ** p, zero)
        return _root(reduce_ops.Sum.apply(powers, axes, keepdim), 1.0 / p)
    raise ValueError(f"norm: unsupported p={p!r}")


# ------------------------------------------------------------------ extrema
def _nonempty(op: str, input: Tensor, axes, whole: bool) -> None:
    """PyTorch's rule for extrema of empty tensors: the whole of an empty tensor is a
    ``RuntimeError``; a reduced dim of size 0 an ``IndexError``; reducing along non-empty
    dims of an empty tensor gives an empty result."""
    if input._data.size:
        return
    if whole:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor (shape "
                           f"{tuple(input.shape)}) as a whole; specify the reduction dim")
    for axis in axes:
        if input._data.shape[axis] == 0:
            raise IndexError(f"{op}: expected reduction dim {axis} to have non-zero size, "
                             f"got shape {tuple(input.shape)}")


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None, out=None) -> Tensor:
    """The maximum over ``dim`` (() or None: every dimension); the gradient of a tie is split
    evenly among the tied elements."""
    check_tensor("amax", "input", input)
    dim, keepdim = _dim_args("amax", dim, axis, keepdim, keepdims, out)
    axes = _axes("amax", input, dim)
    _nonempty("amax", input, axes, whole=dim is None or dim == ())
    return reduce_ops.Extremum.apply(input, axes, keepdim, True, False)


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None, out=None) -> Tensor:
    """The minimum over ``dim``; ties share the gradient evenly (as ``torch.amin``)."""
    check_tensor("amin", "input", input)
    dim, keepdim = _dim_args("amin", dim, axis, keepdim, keepdims, out)
    axes = _axes("amin", input, dim)
    _nonempty("amin", input, axes, whole=dim is None or dim == ())
    return reduce_ops.Extremum.apply(input, axes, keepdim, False, False)


def _arg_extremum(op, input, dim, keepdim, largest) -> np.ndarray:
    function = np.argmax if largest else np.argmin
    axis = normalize_axis(dim, input.ndim, op, input._data.shape)
    if input.ndim == 0:
        return np.zeros((), dtype=np.int64), 0
    _nonempty(op, input, (axis,), whole=False)
    return function(input._data, axis=axis, keepdims=True).astype(np.int64), axis


def _values_indices(op, input, dim, keepdim, largest):
    indices, axis = _arg_extremum(op, input, dim, keepdim, largest)
    if input.ndim == 0:
        return return_types[op](input, Tensor._make(indices))
    values = shape_ops.GetItem.apply(input, take_index(indices, axis))
    if not keepdim:
        values = _squeeze(values, (axis,), False)
        indices = np.squeeze(indices, axis)
    return return_types[op](values, Tensor._make(indices))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
    """Without ``dim``: the largest value (ties share the gradient).  With ``dim``: the named
    tuple ``(values, indices)`` along ``dim`` (the gradient goes to the returned index).
    With a tensor in place of ``dim``: the elementwise :func:`maximum`."""
    check_tensor("max", "input", input)
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    dim, keepdim = _dim_args("max", dim, axis, keepdim, keepdims, out)
    if dim is None:
        _nonempty("max", input, (), whole=True)
        # a NaN maximum sends its gradient to the NaNs (PyTorch's evenly_distribute_backward)
        return reduce_ops.Extremum.apply(input, _axes("max", input, None), False, True, True)
    return _values_indices("max", input, dim, keepdim, True)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
    """As :func:`max`, for the smallest values (with a tensor: :func:`minimum`)."""
    check_tensor("min", "input", input)
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    dim, keepdim = _dim_args("min", dim, axis, keepdim, keepdims, out)
    if dim is None:
        _nonempty("min", input, (), whole=True)
        return reduce_ops.Extremum.apply(input, _axes("min", input, None), False, False, True)
    return _values_indices("min", input, dim, keepdim, False)


def _not_bool(op: str, input: Tensor) -> None:
    """A :class:`DtypeError` for a bool tensor (PyTorch's argmax, argmin and topk take none)."""
    if input._data.dtype == np.bool_:
        raise DtypeError(f"{op}: input must not be a bool tensor, got {input.dtype}")


def _arg_extreme(op: str, largest: bool, input, dim, keepdim, axis, keepdims, out) -> Tensor:
    """argmax / argmin: the index of the extreme value along ``dim`` (None: flattened)."""
    check_tensor(op, "input", input)
    _not_bool(op, input)
    dim, keepdim = _dim_args(op, dim, axis, keepdim, keepdims, out)
    if dim is None:
        _nonempty(op, input, (), whole=True)
        flat = np.int64((np.argmax if largest else np.argmin)(input._data))
        return Tensor._make(np.full((1,) * input.ndim if keepdim else (), flat))
    indices, axis_ = _arg_extremum(op, input, dim, keepdim, largest)
    return Tensor._make(indices if keepdim or input.ndim == 0 else np.squeeze(indices, axis_))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None,
           out=None) -> Tensor:
    """The index of the largest value along ``dim`` (None: in the flattened tensor)."""
    return _arg_extreme("argmax", True, input, dim, keepdim, axis, keepdims, out)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None,
           out=None) -> Tensor:
    """The index of the smallest value along ``dim`` (None: in the flattened tensor)."""
    return _arg_extreme("argmin", False, input, dim, keepdim, axis, keepdims, out)


def _sort_indices(input, axis, descending) -> np.ndarray:
    array = input._data
    if array.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if descending:
        keys = -array.astype(np.int64) if array.dtype.kind in "bu" else -array
        if array.dtype.kind == "f" and np.isnan(array).any():
            # PyTorch orders NaN as the largest value: first when descending (numpy puts it
            # last either way); the last key of lexsort is the primary one
            return np.lexsort((keys, ~np.isnan(array)), axis=axis).astype(np.int64)
        return np.argsort(keys, axis=axis, kind="stable").astype(np.int64)
    return np.argsort(array, axis=axis, kind="stable").astype(np.int64)


def sort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """The named tuple ``(values, indices)`` of ``input`` sorted along ``dim`` (equal values
    keep their order); values take the gradient back to where they came from."""
    check_tensor("sort", "input", input)
    dim, _ = _dim_args("sort", dim, axis, False, None)
    axis = normalize_axis(dim, input.ndim, "sort", input._data.shape)
    indices = _sort_indices(input, axis, descending)
    if input.ndim == 0:
        return return_types["sort"](input, Tensor._make(indices))
    values = shape_ops.GetItem.apply(input, take_index(indices, axis))
    return return_types["sort"](values, Tensor._make(indices))


def argsort(input, dim=-1, descending=False, stable=False) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    check_tensor("argsort", "input", input)
    axis = normalize_axis(dim, input.ndim, "argsort", input._data.shape)
    return Tensor._make(_sort_indices(input, axis, descending))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The named tuple ``(values, indices)`` of the ``k`` largest (``largest=False``:
    smallest) entries along ``dim``, largest first."""
    check_tensor("topk", "input", input)
    _not_bool("topk", input)
    axis = normalize_axis(dim, input.ndim, "topk", input._data.shape)
    size = input._data.shape[axis] if input.ndim else 1
    k = check_int("topk", "k", k)
    if not 0 <= k <= size:
        raise ShapeError(f"topk: k ({k}) is out of range for dimension {axis} of size "
                           f"{size} (shape {tuple(input.shape)})")
    order = _sort_indices(input, axis, descending=largest)
    if input.ndim == 0:
        return return_types["topk"](input, Tensor._make(order))
    indices = np.take(order, np.arange(k), axis=axis)
    values = shape_ops.GetItem.apply(input, take_index(indices, axis))
    return return_types["topk"](values, Tensor._make(indices))


# ------------------------------------------------------------------ logical
def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None) -> Tensor:
    """True where every element along ``dim`` is non-zero (a bool tensor)."""
    check_tensor("all", "input", input)
    dim, keepdim = _dim_args("all", dim, axis, keepdim, keepdims, out)
    axes = _axes("all", input, dim)
    return Tensor._make(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None) -> Tensor:
    """True where some element along ``dim`` is non-zero (a bool tensor)."""
    check_tensor("any", "input", input)
    dim, keepdim = _dim_args("any", dim, axis, keepdim, keepdims, out)
    axes = _axes("any", input, dim)
    return Tensor._make(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input, dim=None) -> Tensor:
    """The number of non-zero elements along ``dim`` (int64)."""
    check_tensor("count_nonzero", "input", input)
    axes = _axes("count_nonzero", input, dim)
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))


METHODS = {
    "sum": sum, "mean": mean, "var": var, "std": std, "prod": prod, "cumsum": cumsum,
    "cumprod": cumprod,
    "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "norm": norm,
    "amax": amax, "amin": amin, "max": max, "min": min,
    "argmax": argmax, "argmin": argmin, "sort": sort, "argsort": argsort, "topk": topk,
    "all": all, "any": any, "count_nonzero": count_nonzero,
}
