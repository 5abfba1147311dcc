"""Smaller torch-level functions (as PyTorch's): precision switches, dtype limits, statistics
(``std_mean``, ``var_mean``, ``median``, ``kthvalue``, ``mode``, ``quantile``), counting and
searching (``bincount``, ``unique``, ``argwhere``, ``searchsorted``, ``bucketize``), shape
helpers (``meshgrid``, ``diag``, ``rot90``, ``take_along_dim``, ``tensor_split``, ``mT``) and
random draws (``bernoulli``, ``multinomial``).

The differentiable ones are composed from differentiable ops (views, ``GetItem`` /
``IndexAdd``, reductions), so their gradients need no code here; the rest return integer or
freshly drawn tensors outside the graph.  Each is a ``tinygrad_cnn.<name>`` function and,
where PyTorch has one, a Tensor method (``METHODS``).
"""

import builtins

import numpy as np

from ._checks import (
    DtypeError,
    ShapeError,
    check_bool,
    check_int,
    check_tensor,
    normalize_axis,
)
from .ops import precision
from .ops import shape as shape_ops
from .random import numpy_generator
from .tensor import Tensor, as_dtype
from .tensor_reduce import _root, _variance, mean, return_types
from .tensor_shape import take_index

# ------------------------------------------------------------------ precision, dtype limits
_MATMUL_PRECISIONS = {"highest": "ieee", "high": "tf32", "medium": "bf16"}


def set_float32_matmul_precision(precision_name) -> None:
    """``torch.set_float32_matmul_precision``: ``"highest"``, ``"high"`` or ``"medium"``,
    stored as ``backends.mkldnn.matmul.fp32_precision`` (``"ieee"``, ``"tf32"``, ``"bf16"``),
    as PyTorch 2.9+ does; the library's matrix products are float32 either way.  Another
    string changes nothing (PyTorch warns)."""
    if not isinstance(precision_name, str):
        raise TypeError(f"set_float32_matmul_precision: precision must be a str, got "
                        f"{type(precision_name).__name__}")
    if precision_name in _MATMUL_PRECISIONS:
        precision.mkldnn.matmul.fp32_precision = _MATMUL_PRECISIONS[precision_name]


def get_float32_matmul_precision() -> str:
    """``torch.get_float32_matmul_precision``: the setting of
    ``backends.mkldnn.matmul.fp32_precision`` in the old names (``"highest"`` for ``"ieee"``
    and the initial ``"none"``)."""
    names = {value: name for name, value in _MATMUL_PRECISIONS.items()}
    return names.get(precision.mkldnn.matmul.fp32_precision, "highest")


def _limit_dtype(op: str, kind: str, type):
    if type is not None and builtins.isinstance(type, str):
        raise TypeError(f"{op}: type must be a dtype such as tinygrad_cnn.float32, got "
                        f"{type!r}")
    dtype = np.dtype(np.float32) if type is None else as_dtype(op, type)
    if dtype.kind == "b":
        raise TypeError(f"{op}: bool is not supported by {op}")
    if (dtype.kind == "f") != (kind == "f"):
        wanted = "a floating point" if kind == "f" else "an integer"
        raise TypeError(f"{op}: requires {wanted} input type, got {dtype}")
    return dtype


class finfo:
    """``torch.finfo(type=float32)``: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (=
    ``smallest_normal``), ``resolution`` (``10 ** -precision``) and ``dtype`` (its name) of a
    floating dtype."""

    def __init__(self, type=None):
        dtype = _limit_dtype("finfo", "f", type)
        info = np.finfo(dtype)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), \
            builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = str(dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """``torch.iinfo(type)``: ``bits``, ``max``, ``min`` and ``dtype`` (its name) of an integer
    dtype."""

    def __init__(self, type):
        dtype = _limit_dtype("iinfo", "i", type)
        info = np.iinfo(dtype)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)
        self.dtype = str(dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ------------------------------------------------------------------ statistics
def _stat_arguments(dim, unbiased):
    """PyTorch's old ``(input, unbiased)`` overload: a bool in ``dim``'s place."""
    if builtins.isinstance(dim, (bool, np.bool_)):
        return None, bool(dim)
    return dim, unbiased


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple:
    """``(std, mean)`` over ``dim`` (``torch.std_mean``), the arguments of :func:`std`."""
    dim, unbiased = _stat_arguments(dim, unbiased)
    variance = _variance("std_mean", input, dim, unbiased, keepdim, correction, None, None,
                         None)
    return _root(variance, 0.5), mean(input, dim, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple:
    """``(var, mean)`` over ``dim`` (``torch.var_mean``), the arguments of :func:`var`."""
    dim, unbiased = _stat_arguments(dim, unbiased)
    return (_variance("var_mean", input, dim, unbiased, keepdim, correction, None, None, None),
            mean(input, dim, keepdim))


def _along(op: str, input, dim) -> int:
    check_tensor(op, "input", input)
    return normalize_axis(dim, builtins.max(input.ndim, 1), op, input._data.shape)


def _pick(input: Tensor, axis: int, indices: np.ndarray, keepdim: bool) -> Tensor:
    """``input``'s elements at ``indices`` (``input``'s shape with ``axis`` of size 1) along
    ``axis``, differentiably; ``axis`` dropped unless ``keepdim``."""
    if input.ndim == 0:
        return input
    values = shape_ops.GetItem.apply(input, take_index(indices, axis))
    return values if keepdim else values.squeeze(axis)


def _kth_indices(data: np.ndarray, axis: int, k: int) -> np.ndarray:
    """The index of the k-th smallest (0-based, NaN largest) along ``axis``, keepdims; equal
    values in their order (a stable sort).  PyTorch's CPU kernel selects with a quickselect,
    so which of several equal values its index names is unspecified (its documentation says
    so); the value is the same."""
    order = np.argsort(data, axis=axis, kind="stable")
    return np.take(order, [k], axis=axis)


def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)`` of the ``k``-th smallest element along ``dim``
    (``torch.kthvalue``); values are differentiable."""
    axis = _along("kthvalue", input, dim)
    k = check_int("kthvalue", "k", k)
    keepdim = check_bool("kthvalue", "keepdim", keepdim)
    size = input._data.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise ShapeError(f"kthvalue: k must be in [1, {size}] for dimension {axis} of input "
                         f"shape {tuple(input.shape)}, got {k}")
    data = input._data if input.ndim else input._data.reshape(1)
    indices = _kth_indices(data, axis, k - 1)
    return _values_indices("kthvalue", input, axis, indices, keepdim)


def _values_indices(op, input, axis, indices, keepdim):
    values = _pick(input, axis, indices, keepdim)
    if input.ndim == 0:
        return return_types[op](values, Tensor._make(np.array(0, dtype=np.int64)))
    kept = indices if keepdim else np.squeeze(indices, axis)
    return return_types[op](values, Tensor._make(np.array(kept, dtype=np.int64)))


def _nan_first(data: np.ndarray, axis: int, indices: np.ndarray) -> np.ndarray:
    """``indices`` (keepdims along ``axis``) with a row holding NaN pointing at its first
    NaN: PyTorch's median and quantile give NaN for such a row."""
    nan = np.isnan(data)
    if not nan.any():
        return indices
    return np.where(nan.any(axis, keepdims=True), nan.argmax(axis, keepdims=True), indices)


def median(input, dim=None, keepdim=False):
    """The median (``torch.median``): of an even count the lower of the two middle values;
    NaN for a row holding NaN (the gradient goes to that NaN).
    Without ``dim`` the value over all elements; with ``dim`` the named tuple
    ``(values, indices)``.  Differentiable in the values."""
    check_tensor("median", "input", input)
    if dim is None:
        if input._data.size == 0:
            return Tensor._make(np.array(np.nan, dtype=input._data.dtype))
        flat = input.reshape(-1)
        middle = (flat._data.size - 1) // 2
        index = _nan_first(flat._data, 0, _kth_indices(flat._data, 0, middle))
        return _pick(flat, 0, index, False)
    axis = _along("median", input, dim)
    keepdim = check_bool("median", "keepdim", keepdim)
    data = input._data if input.ndim else input._data.reshape(1)
    if data.shape[axis] == 0:
        raise ShapeError(f"median: dimension {axis} of input shape {tuple(input.shape)} is "
                         "empty")
    indices = _nan_first(data, axis, _kth_indices(data, axis, (data.shape[axis] - 1) // 2))
    return _values_indices("median", input, axis, indices, keepdim)


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally
    frequent ones) and the last index where it occurs, as PyTorch's CPU kernel
    (``torch.mode``)."""
    axis = _along("mode", input, dim)
    keepdim = check_bool("mode", "keepdim", keepdim)
    data = input._data if input.ndim else input._data.reshape(1)
    if data.shape[axis] == 0:
        raise ShapeError(f"mode: dimension {axis} of input shape {tuple(input.shape)} is empty")
    rows = np.moveaxis(data, axis, -1)
    ordered = np.sort(rows, axis=-1)
    n = ordered.shape[-1]
    position = np.arange(n)
    starts = np.concatenate([np.ones(ordered.shape[:-1] + (1,), bool),
                             ordered[..., 1:] != ordered[..., :-1]], axis=-1)
    run_start = np.maximum.accumulate(np.where(starts, position, 0), axis=-1)
    run_length = position - run_start + 1
    values = np.take_along_axis(ordered, run_length.argmax(-1)[..., None], -1)
    last = n - 1 - (rows == values)[..., ::-1].argmax(-1)
    indices = np.moveaxis(last[..., None], -1, axis)
    return _values_indices("mode", input, axis, indices, keepdim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """The ``q``-quantiles along ``dim`` (all elements when None) with PyTorch's
    interpolation modes (``torch.quantile``): ``q`` a float or a 1-D tensor in [0, 1] (then
    a leading dimension of the result per quantile).  Differentiable in ``input``."""
    op = "quantile"
    check_tensor(op, "input", input)
    if input._data.dtype.kind != "f":
        raise DtypeError(f"{op}: input must be a float or double tensor, got {input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of linear, lower, higher, midpoint "
                         f"or nearest, got {interpolation!r}")
    scalar_q = not builtins.isinstance(q, Tensor)
    levels = np.asarray(q._data if not scalar_q else q, dtype=np.float64)
    if levels.ndim > 1:
        raise ShapeError(f"{op}: q must be a scalar or 1-D tensor, got shape {levels.shape}")
    if levels.size and (np.any(levels < 0) or np.any(levels > 1) or np.any(np.isnan(levels))):
        raise ShapeError(f"{op}: q must be in the range [0, 1], got {levels.tolist()}")
    keepdim = check_bool(op, "keepdim", keepdim)
    if dim is None:
        source, axis = input.reshape(-1), 0
    else:
        axis = _along(op, input, dim)
        source = input if input.ndim else input.reshape(1)
    count = source._data.shape[axis]
    if count == 0:
        raise ShapeError(f"{op}: input must be non-empty along the reduced dimension, got "
                         f"shape {tuple(input.shape)}")
    order = np.argsort(source._data, axis=axis, kind="stable")     # NaN last
    ordered = shape_ops.GetItem.apply(source, take_index(order, axis)).movedim(axis, -1)
    ranks = levels.reshape(-1) * (count - 1)
    low, high = np.floor(ranks).astype(np.int64), np.ceil(ranks).astype(np.int64)
    if interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    elif interpolation == "nearest":
        low = high = np.rint(ranks).astype(np.int64)
    # a row holding NaN gives NaN, as PyTorch's: both ends read its last (NaN) element
    has_nan = np.isnan(ordered._data[..., -1:])
    low, high = (np.where(has_nan, count - 1, ends) for ends in (low, high))
    lower = shape_ops.GetItem.apply(ordered, take_index(low, ordered.ndim - 1))
    if interpolation in ("lower", "higher", "nearest"):
        result = lower
    else:
        upper = shape_ops.GetItem.apply(ordered, take_index(high, ordered.ndim - 1))
        weight = np.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - low
        result = lower.lerp(upper, Tensor._make(weight.astype(input._data.dtype)))
    result = result.movedim(-1, 0)   # (Q, ...)
    if keepdim:
        if dim is None:
            result = result.reshape((result.shape[0],) + (1,) * input.ndim)
        else:
            result = result.unsqueeze(axis + 1)
    return result[0] if scalar_q or levels.ndim == 0 else result


# ------------------------------------------------------------------ counting and searching
def _integer_input(op: str, input, message: str) -> np.ndarray:
    check_tensor(op, "input", input)
    if input._data.dtype.kind not in "iu":
        raise DtypeError(f"{op}: {message}, got dtype {input.dtype}")
    return input._data


def bincount(input, weights=None, minlength=0) -> Tensor:
    """Counts of each value of a 1-D non-negative integer tensor (``torch.bincount``), or
    sums of ``weights`` (float32 weights give float32, others float64); length
    ``max(max(input) + 1, minlength)``."""
    op = "bincount"
    data = _integer_input(op, input, "input must be a 1-D non-negative integer tensor")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise ShapeError(f"{op}: input must be a 1-D non-negative integer tensor, got shape "
                         f"{tuple(input.shape)}" + (f" and minimum {data.min()}"
                                                     if data.size and data.ndim == 1 else ""))
    minlength = check_int(op, "minlength", minlength, minimum=0)
    if weights is None:
        return Tensor._make(np.bincount(data, minlength=minlength).astype(np.int64))
    check_tensor(op, "weights", weights)
    if weights._data.shape != data.shape:
        raise ShapeError(f"{op}: weights must have the shape of input {data.shape}, got "
                         f"{tuple(weights.shape)}")
    dtype = np.float32 if weights._data.dtype == np.float32 else np.float64
    return Tensor._make(np.bincount(data, weights._data, minlength=minlength).astype(dtype))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (``torch.unique``), sorted; with ``dim`` the distinct slices along
    it.  ``return_inverse``: each element's (slice's) index into the result;
    ``return_counts``: how often each occurs.  A tensor, or a tuple when either is set."""
    check_tensor("unique", "input", input)
    axis = None if dim is None else normalize_axis(dim, input.ndim, "unique",
                                                   input._data.shape)
    values, inverse, counts = np.unique(input._data, return_inverse=True, return_counts=True,
                                        axis=axis)
    inverse = inverse.reshape(input._data.shape if axis is None else -1)
    result = [Tensor._make(values)]
    if return_inverse:
        result.append(Tensor._make(inverse.astype(np.int64)))
    if return_counts:
        result.append(Tensor._make(counts.astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)


def argwhere(input) -> Tensor:
    """The indices ``(count, ndim)`` of the non-zero elements (``torch.argwhere``)."""
    check_tensor("argwhere", "input", input)
    return Tensor._make(np.argwhere(input._data).astype(np.int64))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None) -> Tensor:
    """Where each value of ``input`` would go into ``sorted_sequence`` to keep it sorted
    (``torch.searchsorted``): a 1-D sequence for every value, or one row per leading index
    (``sorted_sequence`` ``(*, M)``, ``input`` ``(*, K)``).  ``right`` / ``side="right"``:
    after equal values.  ``input`` may be a number."""
    op = "searchsorted"
    check_tensor(op, "sorted_sequence", sorted_sequence)
    scalar = not builtins.isinstance(input, Tensor)
    values = np.asarray(input) if scalar else input._data
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError(f"{op}: side and right can't be set to opposites, got side of "
                             f"left while right was True")
        right = side == "right"
    boundaries = sorted_sequence._data
    if sorter is not None:
        check_tensor(op, "sorter", sorter)
        boundaries = np.take_along_axis(boundaries, sorter._data, -1)
    if boundaries.ndim == 0:
        raise ShapeError(f"{op}: sorted_sequence must have at least one dimension, got a "
                         "0-d tensor")
    if boundaries.ndim > 1 and (scalar or boundaries.shape[:-1] != values.shape[:-1]):
        raise ShapeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 "
                         f"dimensions of boundaries tensor and input value tensor must match, "
                         f"but we got boundaries tensor {list(boundaries.shape)} and input "
                         f"value tensor {list(values.shape)}")
    side_name = "right" if right else "left"
    if boundaries.ndim == 1:
        positions = np.searchsorted(boundaries, values, side=side_name)
    else:  # one row of boundaries per row of values: count the boundaries before each value
        below = (boundaries[..., None, :] <= values[..., :, None]) if right else \
            (boundaries[..., None, :] < values[..., :, None])
        positions = below.sum(-1)
    return Tensor._make(np.asarray(positions, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:
    """The bucket of each value of ``input`` among the 1-D sorted ``boundaries``
    (``torch.bucketize``): ``boundaries[i-1] < x <= boundaries[i]`` (``right``: ``<=`` and
    ``<``)."""
    check_tensor("bucketize", "boundaries", boundaries)
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be a 1-D tensor, got shape "
                         f"{tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ------------------------------------------------------------------ shape helpers
def meshgrid(*tensors, indexing=None) -> tuple:
    """Coordinate grids (``torch.meshgrid``): from 0-d or 1-D tensors of sizes ``n_k``, each
    expanded to ``(n_1, ..., n_k)`` (``indexing="ij"``, the default) or with the first two
    sizes swapped (``"xy"``).  Differentiable views."""
    op = "meshgrid"
    if len(tensors) == 1 and builtins.isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"{op}: indexing must be one of \"xy\" or \"ij\", got {indexing!r}")
    for k, tensor in enumerate(tensors):
        check_tensor(op, f"tensors[{k}]", tensor)
        if tensor.ndim > 1:
            raise ShapeError(f"{op}: expected 0-D or 1-D tensors, got shape "
                             f"{tuple(tensor.shape)} at position {k}")
    if len({t._data.dtype for t in tensors}) > 1:
        raise DtypeError(f"{op}: all tensors must have the same dtype, got "
                         f"{[str(t.dtype) for t in tensors]}")
    sizes = [builtins.max(t._data.size, 1) if t.ndim == 0 else t._data.size for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(range(len(tensors)))
    if swap:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[k] for k in order)
    grids = []
    for k, tensor in enumerate(tensors):
        place = order.index(k)
        view = [1] * len(tensors)
        view[place] = sizes[k]
        grids.append(tensor.reshape(*view).expand(*shape))
    return tuple(grids)


def diag(input, diagonal=0) -> Tensor:
    """``torch.diag``: a 1-D ``input`` as the ``diagonal``-th diagonal of a square matrix, or
    a 2-D ``input``'s ``diagonal``-th diagonal as a 1-D tensor.  Differentiable."""
    check_tensor("diag", "input", input)
    diagonal = check_int("diag", "diagonal", diagonal)
    if input.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        steps = np.arange(input._data.shape[0])
        rows, cols = steps + builtins.max(-diagonal, 0), steps + builtins.max(diagonal, 0)
        return shape_ops.IndexAdd.apply(input, (rows, cols), (n, n))
    if input.ndim != 2:
        raise ShapeError(f"diag: input must be 1-D or 2-D, got shape {tuple(input.shape)}")
    height, width = input._data.shape
    length = builtins.max(0, builtins.min(height + builtins.min(diagonal, 0),
                                          width - builtins.max(diagonal, 0)))
    steps = np.arange(length)
    return input[steps + builtins.max(-diagonal, 0), steps + builtins.max(diagonal, 0)]


def rot90(input, k=1, dims=(0, 1)) -> Tensor:
    """``input`` rotated by ``k`` quarter turns from ``dims[0]`` towards ``dims[1]``
    (``torch.rot90``); a flip and a transpose, differentiable."""
    op = "rot90"
    check_tensor(op, "input", input)
    k = check_int(op, "k", k)
    if not builtins.isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise ShapeError(f"{op}: dims must be a pair of dims, got {dims!r}")
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    first, second = (normalize_axis(d, input.ndim, op, input._data.shape) for d in dims)
    if first == second:
        raise ShapeError(f"{op}: dims must be different, got dims {tuple(dims)}")
    turns = k % 4
    if turns == 1:
        return input.flip(second).transpose(first, second)
    if turns == 2:
        return input.flip(first, second)
    if turns == 3:
        return input.flip(first).transpose(first, second)
    return input.clone()


def take_along_dim(input, indices, dim=None) -> Tensor:
    """``input``'s elements at ``indices`` along ``dim`` (``torch.take_along_dim``; numpy's
    ``take_along_axis``): ``indices`` broadcast against ``input`` outside ``dim``; without
    ``dim`` both are flattened.  Differentiable in ``input``."""
    op = "take_along_dim"
    check_tensor(op, "input", input)
    check_tensor(op, "indices", indices)
    if indices._data.dtype.kind not in "iu":
        raise DtypeError(f"{op}: indices must be an integer tensor, got {indices.dtype}")
    if dim is None:
        return take_along_dim(input.reshape(-1), indices.reshape(-1), 0)
    axis = normalize_axis(dim, input.ndim, op, input._data.shape)
    if indices.ndim != input.ndim:
        raise ShapeError(f"{op}: input and indices must have the same number of dimensions, "
                         f"got shapes {tuple(input.shape)} and {tuple(indices.shape)}")
    index = indices._data
    size = input._data.shape[axis]
    if index.size and (index.min() < -size or index.max() >= size):
        raise ShapeError(f"{op}: indices must be in [-{size}, {size}) for dimension {axis}, "
                         f"got shape {tuple(input.shape)}")
    outer = [a for a in range(input.ndim) if a != axis]
    try:
        common = np.broadcast_shapes(tuple(input._data.shape[a] for a in outer),
                                     tuple(index.shape[a] for a in outer))
    except ValueError:
        raise ShapeError(f"{op}: input and indices shapes {tuple(input.shape)} and "
                         f"{tuple(indices.shape)} do not broadcast outside dim {axis}") from None
    source_shape, index_shape = list(common), list(common)
    source_shape.insert(axis, size)
    index_shape.insert(axis, index.shape[axis])
    source = input if tuple(source_shape) == input._data.shape else input.expand(*source_shape)
    index = np.broadcast_to(np.where(index < 0, index + size, index), index_shape)
    return shape_ops.GetItem.apply(source, take_index(index, axis))


def tensor_split(input, indices_or_sections, dim=0) -> tuple:
    """Views of ``input`` split along ``dim`` (``torch.tensor_split``): into ``n`` parts (an
    int, the first ``size % n`` one longer), or at the given indices (a list or an integer
    tensor)."""
    op = "tensor_split"
    check_tensor(op, "input", input)
    if input.ndim == 0:
        raise ShapeError(f"{op}: expected at least a 1-dimensional tensor, got a 0-d tensor")
    axis = normalize_axis(dim, input.ndim, op, input._data.shape)
    size = input._data.shape[axis]
    split = indices_or_sections
    if builtins.isinstance(split, Tensor):
        if split._data.dtype.kind not in "iu" or split.ndim > 1:
            raise DtypeError(f"{op}: indices_or_sections must be an int or a 0-D or 1-D "
                             f"integer tensor, got {split.dtype} of shape {tuple(split.shape)}")
        split = int(split._data) if split.ndim == 0 else [int(i) for i in split._data]
    if builtins.isinstance(split, (list, tuple)):
        points = [check_int(op, "indices", i) for i in split]
    else:
        sections = check_int(op, "sections", split)
        if sections <= 0:
            raise ShapeError(f"{op}: number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        points = list(np.cumsum([base + 1] * extra + [base] * (sections - extra))[:-1])
    bounds = [0] + [int(np.clip(p if p >= 0 else p + size, 0, size)) for p in points] + [size]
    prefix = (slice(None),) * axis
    return tuple(input[prefix + (slice(start, builtins.max(start, stop)),)]
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def matrix_transpose(input) -> Tensor:
    """``t.mT``: the last two dimensions swapped (a view)."""
    if input.ndim < 2:
        raise ShapeError(f"mT: tensor.mT is only supported on matrices or batches of "
                         f"matrices, got a {input.ndim}-D tensor")
    return input.transpose(-2, -1)


# ------------------------------------------------------------------ random draws
def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 draws (``torch.bernoulli``): each element 1 with probability ``input``'s value
    (or ``p`` when given), in ``input``'s dtype, from the library's generator."""
    op = "bernoulli"
    check_tensor(op, "input", input)
    if input._data.dtype.kind != "f":
        raise DtypeError(f"{op}: input must be a floating point tensor, got {input.dtype}")
    if p is not None and (builtins.isinstance(p, bool)
                          or not builtins.isinstance(p, (int, builtins.float))):
        raise TypeError(f"{op}: p must be a float, got {p!r}")
    probability = input._data if p is None else p
    if np.any(~((np.asarray(probability) >= 0) & (np.asarray(probability) <= 1))):
        raise ShapeError(f"{op}: every probability must be in [0, 1]")
    rng = numpy_generator(op, generator)
    draws = rng.random(input._data.shape) < probability
    return Tensor._make(draws.astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """``num_samples`` category indices per row of the non-negative weights ``input``
    (``(C,)`` or ``(N, C)``; ``torch.multinomial``): with ``replacement`` independent draws
    (inverse CDF), without it distinct categories (Gumbel top-k: the same distribution as
    drawing one after another)."""
    op = "multinomial"
    check_tensor(op, "input", input)
    if input._data.dtype.kind != "f":
        raise DtypeError(f"{op}: input must be a floating point tensor, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{op}: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    num_samples = check_int(op, "num_samples", num_samples)
    replacement = check_bool(op, "replacement", replacement)
    weights = np.atleast_2d(input._data).astype(np.float64)
    categories = weights.shape[1]
    if num_samples <= 0:
        raise ShapeError(f"{op}: num_samples must be positive, got {num_samples}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ShapeError(f"{op}: probability tensor contains either inf, nan or element < 0")
    if np.any(weights.sum(1) <= 0):
        raise ShapeError(f"{op}: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > categories:
        raise ShapeError(f"{op}: cannot sample n_sample > prob_dist.size(-1) samples without "
                         f"replacement, got num_samples {num_samples} and {categories} "
                         "categories")
    if not replacement and np.any((weights > 0).sum(1) < num_samples):
        raise ShapeError(f"{op}: invalid multinomial distribution (with replacement=False, not "
                         "enough non-negative category to sample)")
    rng = numpy_generator(op, generator)
    if replacement:
        cdf = np.cumsum(weights, 1)
        cdf /= cdf[:, -1:]
        draws = rng.random((weights.shape[0], num_samples))
        picks = (cdf[:, None, :] <= draws[:, :, None]).sum(-1)
        picks = np.minimum(picks, categories - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = np.log(weights) + rng.gumbel(size=weights.shape)
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64)
    return Tensor._make(picks[0] if input.ndim == 1 else picks)


METHODS = {
    "median": median, "kthvalue": kthvalue,
    "mode": mode, "quantile": quantile, "bincount": bincount, "unique": unique,
    "argwhere": argwhere, "diag": diag, "rot90": rot90, "take_along_dim": take_along_dim,
    "tensor_split": tensor_split, "mT": property(matrix_transpose), "bernoulli": bernoulli,
    "multinomial": multinomial,
}
