"""Tensor's shape methods and indexing, as PyTorch's: ``view reshape flatten unflatten squeeze
unsqueeze transpose permute t T expand repeat split chunk unbind narrow select flip``,
``t[index]``, ``cat``/``stack``.

Views.  Where PyTorch returns a view (``view``, ``reshape`` when it can, ``transpose``,
``permute``, basic indexing, ``split``, ...) the result's array is a numpy view of the
input's, so an in-place change through either shows in both.  :func:`mark_view` also makes
the result share the input's version counter and remembers how to recompute it from its base
tensor (``_view = (base, again)``), which :mod:`tinygrad_cnn.tensor_inplace` uses to record an
in-place change of a view on its base, as PyTorch's ``CopySlices``.
"""

import numbers
import weakref

import numpy as np

from ._checks import (
    AxisError,
    DtypeError,
    ShapeError,
    check_fits,
    check_int,
    check_scalar,
    check_tensor,
    normalize_axes,
    normalize_axis,
    sizes_argument,
)
from .ops import elementwise as ew
from .ops import shape as shape_ops
from .tensor import Tensor, as_dtype


# ------------------------------------------------------------------ views
def mark_view(result: Tensor, source: Tensor, again) -> Tensor:
    """Make ``result`` a view of ``source`` if their arrays share memory.

    ``again(tensor)`` applies the same view operation to another tensor (of ``source``'s
    shape).  Views share ``source``'s version counter; the counter's second element (made
    here on first use) is the weak set of live views, refreshed after an in-place change.
    """
    array = result._data
    if array.base is None or result is source or not np.may_share_memory(array, source._data):
        return result
    counter = source._version_counter()
    result._counter = counter
    if source._view is None:
        result._view = (source, again)
    else:
        base, earlier = source._view
        result._view = (base, lambda tensor: again(earlier(tensor)))
    if len(counter) == 1:
        counter.append(weakref.WeakSet())
    counter[1].add(result)
    return result


# ------------------------------------------------------------------ reshaping
def _target_shape(op: str, tensor: Tensor, shape) -> tuple:
    """``shape`` with one -1 resolved, checked against the tensor's element count."""
    shape = sizes_argument(op, shape)
    count = tensor._data.size
    unknown = [i for i, size in enumerate(shape) if size == -1]
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if len(unknown) > 1 or any(size < -1 for size in shape):
        raise ShapeError(f"{op}: invalid shape {list(shape)} (at most one -1, no other "
                           "negative sizes)")
    if unknown and known and count % known == 0:
        return shape[: unknown[0]] + (count // known,) + shape[unknown[0] + 1:]
    if unknown or known != count:
        raise ShapeError(
            f"{op}: shape {list(shape)} is invalid for input of size {count} (shape "
            f"{tuple(tensor.shape)})"
        )
    return shape


def reshape(input, *shape) -> Tensor:
    """The elements in a new shape ``(N, ...)``; one size may be -1 (inferred).  A view of
    ``input`` when its strides allow one, else a copy (as ``torch.reshape``)."""
    check_tensor("reshape", "input", input)
    shape = _target_shape("reshape", input, shape)
    if shape == input._data.shape:
        return input
    result = shape_ops.Reshape.apply(input, shape)
    return mark_view(result, input, lambda t: reshape(t, shape))


def view(input, *shape) -> Tensor:
    """The same memory seen with another shape; raises ``RuntimeError`` where no view is
    possible (a non-contiguous input whose dimensions cannot be merged), as PyTorch's."""
    check_tensor("view", "input", input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return _view_dtype(input, shape[0])
    shape = _target_shape("view", input, shape)
    if shape == input._data.shape:
        return mark_view(shape_ops.Reshape.apply(input, shape), input,
                         lambda t: view(t, shape))
    array = input._data
    if array.size and not np.may_share_memory(array.reshape(shape), array):
        raise ShapeError(
            f"view: size is not compatible with input tensor's size and stride (shape "
            f"{tuple(input.shape)} cannot be viewed as {shape} without a copy; at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    result = shape_ops.Reshape.apply(input, shape)
    return mark_view(result, input, lambda t: view(t, shape))


def _view_dtype(input, dtype) -> Tensor:
    dtype = as_dtype("view", dtype)
    if input._requires_grad:
        raise ShapeError("view(dtype): not supported for a tensor that requires grad")
    result = Tensor._make(input._data.view(dtype))
    result._counter = input._version_counter()
    return result


def view_as(input, other) -> Tensor:
    """``input.view(other.shape)``."""
    check_tensor("view_as", "input", input)
    return view(input, tuple(other.shape))


def reshape_as(input, other) -> Tensor:
    """``input.reshape(other.shape)``."""
    check_tensor("reshape_as", "input", input)
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (as ``torch.flatten``)."""
    check_tensor("flatten", "input", input)
    shape = input._data.shape
    start = normalize_axis(start_dim, input.ndim, "flatten", shape)
    end = normalize_axis(end_dim, input.ndim, "flatten", shape)
    if input.ndim == 0:  # dims 0 and -1 only, as PyTorch
        return reshape(input, 1)
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def unflatten(input, dim, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1), as ``torch.unflatten``."""
    check_tensor("unflatten", "input", input)
    shape = input._data.shape
    dim = normalize_axis(dim, input.ndim, "unflatten", shape)
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten: sizes must be a tuple of ints, got {type(sizes).__name__}")
    sizes = tuple(sizes)
    inner = _target_shape("unflatten", Tensor._make(np.empty(shape[dim], dtype=bool)), sizes)
    return reshape(input, shape[:dim] + inner + shape[dim + 1:])


def squeeze(input, dim=None) -> Tensor:
    """Drop dimensions of size 1 (all of them, or those of ``dim``, an int or tuple; others
    named in ``dim`` are left, as PyTorch)."""
    check_tensor("squeeze", "input", input)
    axes = normalize_axes(dim, input.ndim, "squeeze", input._data.shape)
    shape = tuple(s for i, s in enumerate(input._data.shape) if not (i in axes and s == 1))
    return reshape(input, shape)


def unsqueeze(input, dim) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (``-ndim-1 <= dim <= ndim``)."""
    check_tensor("unsqueeze", "input", input)
    shape = input._data.shape
    dim = normalize_axis(dim, input.ndim + 1, "unsqueeze", shape)
    return reshape(input, shape[:dim] + (1,) + shape[dim:])


def permute(input, *dims) -> Tensor:
    """Reorder the dimensions: result dimension i is input dimension ``dims[i]`` (a view)."""
    check_tensor("permute", "input", input)
    dims = sizes_argument("permute", dims)
    ndim = input.ndim
    if len(dims) != ndim:  # checked first, as PyTorch (a RuntimeError)
        raise ShapeError(f"permute: dims must list each of the {ndim} dimensions of shape "
                         f"{tuple(input.shape)} once, got {len(dims)} dims {dims}")
    in_range = all(-max(ndim, 1) <= d < max(ndim, 1) for d in dims)
    if not in_range:  # PyTorch: an IndexError
        raise AxisError(f"permute: {dims} is not a permutation of the {ndim} dimensions of "
                        f"shape {tuple(input.shape)} (a dim is out of range)")
    if sorted(d % max(ndim, 1) for d in dims) != list(range(ndim)):
        raise ShapeError(
            f"permute: {dims} is not a permutation of the {ndim} dimensions of shape "
            f"{tuple(input.shape)}"
        )
    dims = tuple(d % ndim for d in dims) if ndim else ()
    if dims == tuple(range(ndim)):
        return input
    result = shape_ops.Permute.apply(input, dims)
    return mark_view(result, input, lambda t: permute(t, dims))


def transpose(input, dim0, dim1) -> Tensor:
    """Swap two dimensions (a view, as ``torch.transpose``)."""
    check_tensor("transpose", "input", input)
    shape = input._data.shape
    dim0 = normalize_axis(dim0, input.ndim, "transpose", shape)
    dim1 = normalize_axis(dim1, input.ndim, "transpose", shape)
    if input.ndim < 2 or dim0 == dim1:
        return input
    dims = list(range(input.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(input, dims)


def t(input) -> Tensor:
    """The transpose of a matrix (0-d and 1-d tensors come back unchanged)."""
    check_tensor("t", "input", input)
    if input.ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}-D (shape {tuple(input.shape)})")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def reverse_dims(input) -> Tensor:
    """``t.T``: all dimensions reversed."""
    check_tensor("reverse_dims", "input", input)
    return permute(input, tuple(reversed(range(input.ndim))))


def expand(input, *sizes) -> Tensor:
    """Broadcast to ``sizes`` (-1 keeps a size), as ``torch.expand``; new dimensions go in
    front.  (The result is a copy here: writing to it does not change ``input``.)"""
    return _expand("expand", input, sizes)


def _expand(op, input, sizes) -> Tensor:
    """:func:`expand`'s work, its errors naming ``op`` (``expand`` or ``broadcast_to``)."""
    check_tensor(op, "input", input)
    sizes = sizes_argument(op, sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"{op}: the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, size in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if size == -1:
            if old is None:
                raise ShapeError(f"{op}: -1 is not allowed for a new leading dimension")
            size = old
        elif size < 0:
            raise ShapeError(f"{op}: sizes must be non-negative (or -1 to keep a size), got "
                             f"{list(sizes)}")
        elif old is not None and old != 1 and old != size:
            raise ShapeError(
                f"{op}: the expanded size of the tensor ({size}) must match the existing "
                f"size ({old}) at non-singleton dimension {i}; target sizes {list(sizes)}, "
                f"tensor shape {tuple(shape)}"
            )
        target.append(size)
    target = tuple(target)
    if target == shape:
        return input
    return shape_ops.BroadcastTo.apply(input, target)


def expand_as(input, other) -> Tensor:
    """``input.expand(other.shape)``."""
    check_tensor("expand_as", "input", input)
    return expand(input, tuple(other.shape))


def broadcast_to(input, shape) -> Tensor:
    """``torch.broadcast_to``: ``input.expand(shape)``."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"broadcast_to: shape must be a tuple of ints, got {shape!r}")
    return _expand("broadcast_to", input, (tuple(shape),))


def repeat(input, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (as ``torch.Tensor.repeat``)."""
    check_tensor("repeat", "input", input)
    sizes = sizes_argument("repeat", sizes)
    if any(count < 0 for count in sizes):
        raise ShapeError(f"repeat: repeats must be non-negative, got {list(sizes)}")
    if len(sizes) < input.ndim:
        raise ShapeError(
            f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than number of "
            f"dimensions of tensor ({input.ndim})"
        )
    source = reshape(input, (1,) * (len(sizes) - input.ndim) + input._data.shape)
    interleaved, target = [], []
    for size, count in zip(source._data.shape, sizes):
        interleaved += [1, size]
        target += [count, size]
    tiled = expand(reshape(source, tuple(interleaved)), tuple(target))
    return reshape(tiled, tuple(c * s for c, s in zip(sizes, source._data.shape)))


def flip(input, *dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as ``torch.flip``)."""
    check_tensor("flip", "input", input)
    dims = sizes_argument("flip", dims)
    axes = normalize_axes(dims, input.ndim, "flip", input._data.shape)
    return shape_ops.Flip.apply(input, axes)


def narrow(input, dim, start, length) -> Tensor:
    """Elements ``start .. start + length`` of dimension ``dim`` (a view)."""
    check_tensor("narrow", "input", input)
    _at_least_1d("narrow", input)
    dim = normalize_axis(dim, input.ndim, "narrow", input._data.shape)
    start = check_int("narrow", "start", start.item() if isinstance(start, Tensor) else start)
    length = check_int("narrow", "length", length, minimum=0)
    size = input._data.shape[dim]
    if not -size <= start <= size:  # PyTorch: an IndexError
        raise AxisError(f"narrow: start must be in [-{size}, {size}] for dimension {dim}, "
                        f"got {start}")
    start = start + (size if start < 0 else 0)
    if not (0 <= start and start + length <= size):
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                         f"size ({size})")
    return getitem(input, (slice(None),) * dim + (slice(start, start + length),))


def _at_least_1d(op: str, input: Tensor) -> None:
    """A :class:`ShapeError` for a 0-d ``input`` (PyTorch's ``RuntimeError``)."""
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have at least 1 dimension, got a 0-d tensor")


def select(input, dim, index) -> Tensor:
    """``input`` at ``index`` of dimension ``dim``, that dimension removed (a view)."""
    check_tensor("select", "input", input)
    dim = normalize_axis(dim, input.ndim, "select", input._data.shape)
    index = check_int("select", "index", index)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise AxisError(f"select: index must be in [-{size}, {size}) for dimension {dim}, "
                        f"got {index}")
    return getitem(input, (slice(None),) * dim + (index,))


def split(input, split_size_or_sections, dim=0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the
    listed sizes (as ``torch.split``); views."""
    check_tensor("split", "input", input)
    _at_least_1d("split", input)
    dim = normalize_axis(dim, input.ndim, "split", input._data.shape)
    size = input._data.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [check_int("split", "split_size_or_sections", s, minimum=0)
                    for s in split_size_or_sections]
        if sum(sections) != size:
            raise ShapeError(f"split: split sizes {sections} must sum to the size of "
                               f"dimension {dim} ({size})")
    else:
        step = check_int("split", "split_size", split_size_or_sections, minimum=1)
        sections = [min(step, size - start) for start in range(0, size, step)] or [0]
    pieces, start = [], 0
    for length in sections:
        pieces.append(narrow(input, dim, start, length))
        start += length
    return tuple(pieces)


def chunk(input, chunks, dim=0) -> tuple:
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    check_tensor("chunk", "input", input)
    _at_least_1d("chunk", input)
    chunks = check_int("chunk", "chunks", chunks, minimum=1)
    dim = normalize_axis(dim, input.ndim, "chunk", input._data.shape)
    size = input._data.shape[dim]
    step = max(1, -(-size // chunks))
    return split(input, step, dim)


def unbind(input, dim=0) -> tuple:
    """The slices along ``dim``, that dimension removed."""
    check_tensor("unbind", "input", input)
    dim = normalize_axis(dim, input.ndim, "unbind", input._data.shape)
    return tuple(select(input, dim, i) for i in range(input._data.shape[dim]))


def contiguous(input, memory_format=None) -> Tensor:
    """``input`` itself when C-contiguous, else a contiguous copy (differentiable)."""
    check_tensor("contiguous", "input", input)
    if input._data.flags.c_contiguous:
        return input
    return shape_ops.Clone.apply(input)


def clone(input, memory_format=None) -> Tensor:
    """A copy of the data (gradients flow back to ``input``, as ``torch.clone``)."""
    check_tensor("clone", "input", input)
    return shape_ops.Clone.apply(input)


# ------------------------------------------------------------------ indexing
def _index_item(item):
    if isinstance(item, Tensor):
        if item._data.dtype.kind not in "iub":
            raise IndexError(f"getitem: tensors used as indices must be long, int or bool "
                             f"tensors, got {item.dtype}")
        return item._data
    if isinstance(item, list):
        return np.asarray(item)
    return item


def index_key(index):
    """A user's index (tensors, lists, slices, ...) as one numpy index."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def getitem(input, index) -> Tensor:
    """``t[index]``: basic indexing gives a view; integer-array and boolean indexing a copy
    (repeated indices accumulate their gradients)."""
    key = index_key(index)
    try:
        result = shape_ops.GetItem.apply(input, key)
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {tuple(input.shape)})") from None
    return mark_view(result, input, lambda tensor: getitem(tensor, index))


def gather(input, dim, index) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` along ``dim`` (as ``torch.gather``); an index
    outside ``[0, size)`` raises ``RuntimeError``, as PyTorch's."""
    check_tensor("gather", "input", input)
    _check_index("gather", index)
    dim = normalize_axis(dim, input.ndim, "gather", input._data.shape)
    indices = _index_item(index)
    if indices.ndim != input.ndim:
        raise ShapeError(f"gather: index has {indices.ndim} dimensions but input has "
                           f"{input.ndim}")
    if any(n > s for d, (n, s) in enumerate(zip(indices.shape, input._data.shape)) if d != dim):
        raise ShapeError(f"gather: index shape {indices.shape} must be no larger than input "
                         f"shape {input._data.shape} apart from dimension {dim}")
    _check_index_range("gather", indices, input._data.shape[dim] if input.ndim else 1, dim)
    return shape_ops.GetItem.apply(input, take_index(indices, dim))


def _check_index_range(op: str, indices: np.ndarray, size: int, dim: int) -> None:
    """A :class:`ShapeError` (PyTorch's ``RuntimeError``) unless every index is in
    ``[0, size)``: ``gather`` and ``index_select`` take no negative index, as PyTorch's."""
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise ShapeError(f"{op}: index must be in [0, {size}) for dimension {dim}, got {bad}")


def _check_index(op: str, index) -> None:
    """An ``index`` argument: an integer Tensor (as PyTorch's gather and index_select)."""
    check_tensor(op, "index", index)
    if index._data.dtype.kind not in "iu":
        raise DtypeError(f"{op}: index must be an integer tensor, got {index.dtype}")


def take_index(indices: np.ndarray, dim: int) -> tuple:
    """The advanced index picking ``indices`` (shaped like the result) along ``dim``."""
    grids = list(np.indices(indices.shape, sparse=True))
    grids[dim] = indices
    return tuple(grids)


def index_select(input, dim, index) -> Tensor:
    """The entries ``index`` (1-D or 0-d, each in ``[0, size)``: else ``RuntimeError``, as
    PyTorch's) of dimension ``dim``."""
    check_tensor("index_select", "input", input)
    _check_index("index_select", index)
    dim = normalize_axis(dim, input.ndim, "index_select", input._data.shape)
    indices = _index_item(index)
    if indices.ndim > 1:  # PyTorch: an IndexError ("Index is supposed to be a vector")
        raise ShapeError(f"index_select: index must be a 1-D tensor, got shape "
                         f"{indices.shape}")
    _check_index_range("index_select", indices, input._data.shape[dim] if input.ndim else 1,
                       dim)
    return getitem(input, (slice(None),) * dim + (indices.reshape(-1),))


# ------------------------------------------------------------------ scatter, index_add
def _scatter_checks(op: str, input, dim, index, src) -> tuple:
    """The checks of ``scatter``/``scatter_add`` (as PyTorch's): ``index`` an integer tensor
    with ``input``'s number of dims, no larger than ``src`` (a Tensor, or None for a number)
    and, outside ``dim``, than ``input``; every index in ``[0, size)``.  Returns ``(dim,
    key)``: the numpy index writing ``index``'s elements along ``dim`` (None when ``index``
    is empty)."""
    check_tensor(op, "self", input)
    _check_index(op, index)
    shape = input._data.shape
    dim = normalize_axis(dim, input.ndim, op, shape)
    indices = index._data
    if src is not None and src._data.dtype != input._data.dtype:
        raise DtypeError(f"{op}: src must have self's dtype {input.dtype}, got {src.dtype}")
    if indices.size == 0:
        return dim, None
    if indices.ndim != input.ndim:
        raise ShapeError(f"{op}: index must have as many dimensions as self, got index shape "
                         f"{indices.shape} and self shape {shape}")
    if src is not None and src.ndim != indices.ndim:
        raise ShapeError(f"{op}: index must have as many dimensions as src, got index shape "
                         f"{indices.shape} and src shape {tuple(src.shape)}")
    if any(n > s for d, (n, s) in enumerate(zip(indices.shape, shape)) if d != dim) or (
            src is not None and any(n > s for n, s in zip(indices.shape, src._data.shape))):
        raise ShapeError(f"{op}: index shape {indices.shape} must be no larger than self shape "
                         f"{shape} apart from dimension {dim} and no larger than src shape "
                         f"{None if src is None else tuple(src.shape)}")
    _check_index_range(op, indices, shape[dim] if input.ndim else 1, dim)
    if input.ndim == 0:
        return dim, ()
    return dim, take_index(indices, dim)


def _leading(src: Tensor, shape: tuple) -> Tensor:
    """``src``'s leading block of ``shape`` (differentiable): the part an index reads."""
    if src._data.shape == shape:
        return src
    return getitem(src, tuple(slice(0, n) for n in shape))


def _scatter_values(op: str, input, index, src, value) -> Tensor:
    """``scatter``'s ``src`` or ``value`` (exactly one; a number in ``src``'s place is a
    value, as PyTorch's) as a Tensor of ``input``'s dtype, cut to ``index``'s shape."""
    if src is not None and value is not None:
        raise TypeError(f"{op}: give either src or value, not both")
    if src is None and value is None:
        raise TypeError(f"{op}: missing src (a tensor) or value (a number)")
    if isinstance(src, Tensor):
        return src
    value = src if value is None else value
    if isinstance(value, Tensor) or not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"{op}: value must be a number or src a Tensor, got "
                        f"{type(value).__name__}")
    check_fits(op, "value", value, input._data.dtype)
    return Tensor._make(np.asarray(value).astype(input._data.dtype))


def scatter_plan(op: str, input, dim, index, src=None, value=None, reduce=None):
    """Check ``scatter``'s arguments; return the function computing it from a tensor of
    ``input``'s shape (so the in-place form records it on the old value)."""
    if reduce not in (None, "add", "multiply"):
        raise ShapeError(f"{op}: reduce must be 'add' or 'multiply', got {reduce!r}")
    values = _scatter_values(op, input, index, src, value)
    scalar = values.ndim == 0 and not isinstance(src, Tensor)
    dim, key = _scatter_checks(op, input, dim, index, None if scalar else values)
    if key is None:
        return clone
    part = values if scalar else _leading(values, index._data.shape)
    if reduce == "add":
        return lambda tensor: tensor + shape_ops.IndexAdd.apply(
            part.expand(index._data.shape), key, tensor._data.shape)
    if reduce == "multiply":
        return lambda tensor: shape_ops.ScatterMultiply.apply(tensor, key, part)
    return lambda tensor: shape_ops.IndexPut.apply(tensor, key, part)


def scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    """``input`` with ``src[i][j]`` (or the number ``value``) written at ``[index[i][j]][j]``
    along ``dim`` (as ``torch.scatter``).  input: any shape; index: an integer tensor of as
    many dims, no larger than ``src`` and (outside ``dim``) than ``input``.  Gradients go to
    ``input`` where nothing was written and to ``src`` at the elements read.  ``reduce``
    ``'add'`` or ``'multiply'`` combines instead (``'multiply'`` has no derivative, as
    PyTorch's)."""
    return scatter_plan("scatter", input, dim, index, src, value, reduce)(input)


def scatter_add_plan(op: str, input, dim, index, src):
    """Check ``scatter_add``'s arguments; return the function computing it."""
    check_tensor(op, "src", src)
    dim, key = _scatter_checks(op, input, dim, index, src)
    if key is None:
        return clone
    part = _leading(src, index._data.shape)
    return lambda tensor: tensor + shape_ops.IndexAdd.apply(part, key, tensor._data.shape)


def scatter_add(input, dim, index, src) -> Tensor:
    """``input`` with ``src[i][j]`` added at ``[index[i][j]][j]`` along ``dim`` (repeated
    indices accumulate), as ``torch.scatter_add``; index as :func:`scatter`'s."""
    return scatter_add_plan("scatter_add", input, dim, index, src)(input)


def _without(shape: tuple, dim: int) -> tuple:
    """``shape`` with dimension ``dim`` left out."""
    return shape[:dim] + shape[dim + 1:]


def index_add_plan(op: str, input, dim, index, source, alpha=1):
    """Check ``index_add``'s arguments; return the function computing it."""
    check_tensor(op, "self", input)
    _check_index(op, index)
    check_tensor(op, "source", source)
    check_scalar(op, "alpha", alpha)
    shape = input._data.shape
    dim = normalize_axis(dim, input.ndim, op, shape)
    indices = index._data
    if indices.ndim > 1:  # PyTorch: an IndexError
        raise AxisError(f"{op}: index must be a 1-D tensor, got shape {indices.shape}")
    if source._data.dtype != input._data.dtype:
        raise DtypeError(f"{op}: source must have self's dtype {input.dtype}, got "
                         f"{source.dtype}")
    source_shape = source._data.shape
    if max(source.ndim, 1) != max(input.ndim, 1) or \
            _without(source_shape or (1,), dim) != _without(shape or (1,), dim):
        raise ShapeError(f"{op}: source shape {source_shape} must match self shape {shape} "
                         f"apart from dimension {dim}")
    count = source_shape[dim] if source.ndim else 1
    if indices.size != count:
        raise ShapeError(f"{op}: index has {indices.size} entries but source has {count} "
                         f"along dimension {dim} (source shape {source_shape})")
    _check_index_range(op, indices, shape[dim] if input.ndim else 1, dim)
    values = source if alpha == 1 else source * alpha
    if input.ndim == 0:
        return lambda tensor: tensor + values.reshape(())
    key = (slice(None),) * dim + (indices.reshape(-1),)
    return lambda tensor: tensor + shape_ops.IndexAdd.apply(values, key, tensor._data.shape)


def index_add(input, dim, index, source, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` added at the entries ``index`` (1-D, each in
    ``[0, size)``; repeats accumulate) of dimension ``dim`` (as ``torch.index_add``).
    source: ``input``'s shape with ``len(index)`` along ``dim``."""
    return index_add_plan("index_add", input, dim, index, source, alpha)(input)


# ------------------------------------------------------------------ roll, movedim, tril, ...
def _int_tuple(op: str, argument: str, value) -> tuple:
    """An int or a sequence of ints as a tuple of ints (``TypeError`` otherwise)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for item in values:
        check_int(op, argument, item)
    return tuple(int(item) for item in values)


def roll(input, shifts, dims=None) -> Tensor:
    """Shift the elements cyclically by ``shifts`` along ``dims`` (ints or tuples of equal
    length); with ``dims=None`` over the flattened tensor, shape kept (as ``torch.roll``)."""
    check_tensor("roll", "input", input)
    shifts = _int_tuple("roll", "shifts", shifts)
    if not shifts:
        raise ShapeError("roll: shifts must name at least one shift, got ()")
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: shifts must be one int when dims is None, got {shifts}")
        return reshape(roll(flatten(input), shifts, 0), input._data.shape)
    dims = _int_tuple("roll", "dims", dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts and dims must have the same length, got shifts "
                         f"{shifts} and dims {dims}")
    if input.ndim == 0:   # PyTorch: an IndexError
        raise AxisError(f"roll: dims {dims} are out of range for a 0-d tensor")
    result = input
    for shift, dim in zip(shifts, dims):
        dim = normalize_axis(dim, input.ndim, "roll", input._data.shape)
        size = input._data.shape[dim]
        if size and shift % size:
            order = (np.arange(size) - shift) % size
            result = getitem(result, (slice(None),) * dim + (order,))
    return result if result is not input else clone(input)


def movedim(input, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination`` (ints or tuples of equal
    length), the others keeping their order (a view, as ``torch.movedim``)."""
    check_tensor("movedim", "input", input)
    source = _int_tuple("movedim", "source", source)
    destination = _int_tuple("movedim", "destination", destination)
    if len(source) != len(destination):
        raise ShapeError(f"movedim: source and destination must name as many dims, got "
                         f"source {source} and destination {destination}")
    shape = input._data.shape
    source = [normalize_axis(d, input.ndim, "movedim", shape) for d in source]
    destination = [normalize_axis(d, input.ndim, "movedim", shape) for d in destination]
    for name, dims in (("source", source), ("destination", destination)):
        if len(set(dims)) != len(dims):
            raise ShapeError(f"movedim: repeated dim in {name} {tuple(dims)}")
    if input.ndim == 0:
        return input
    rest = iter(d for d in range(input.ndim) if d not in source)
    placed = dict(zip(destination, source))
    return permute(input, tuple(placed[d] if d in placed else next(rest)
                                for d in range(input.ndim)))


def _triangle(op: str, input, diagonal, keep_lower: bool) -> Tensor:
    check_tensor(op, "input", input)
    diagonal = check_int(op, "diagonal", diagonal)
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    rows, columns = input._data.shape[-2:]
    offset = np.arange(columns)[None, :] - np.arange(rows)[:, None]   # column - row
    kept = offset <= diagonal if keep_lower else offset >= diagonal
    zero = Tensor._make(np.zeros((), input._data.dtype))
    return ew.Where.apply(np.broadcast_to(kept, input._data.shape), input, zero)


def tril(input, diagonal=0) -> Tensor:
    """The lower triangle of the last two dims: elements with ``column - row <= diagonal``
    kept, the rest 0 (as ``torch.tril``); input ``(*, m, n)``."""
    return _triangle("tril", input, diagonal, True)


def triu(input, diagonal=0) -> Tensor:
    """The upper triangle of the last two dims: elements with ``column - row >= diagonal``
    kept, the rest 0 (as ``torch.triu``); input ``(*, m, n)``."""
    return _triangle("triu", input, diagonal, False)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: an int, or
    an integer tensor (0-d, or 1-D with one count per entry); ``dim=None`` works on the
    flattened tensor (as ``torch.repeat_interleave``).  ``repeat_interleave(counts)``
    alone gives ``arange(len(counts))`` repeated by ``counts``."""
    op = "repeat_interleave"
    check_tensor(op, "input", input)
    if repeats is None:
        if input._data.dtype.kind not in "iu" or input.ndim > 1:
            raise ShapeError(f"{op}: repeats must be a 0-d or 1-D integer tensor, got "
                             f"{input.dtype} of shape {tuple(input.shape)}")
        positions = Tensor._make(np.arange(input._data.size, dtype=np.int64))
        return repeat_interleave(positions, input.reshape(-1), 0)
    if isinstance(repeats, Tensor):
        if repeats._data.dtype.kind not in "iu":
            raise DtypeError(f"{op}: repeats must be an integer tensor, got {repeats.dtype}")
        if repeats.ndim > 1:
            raise ShapeError(f"{op}: repeats must be a 0-d or 1-D tensor, got shape "
                             f"{tuple(repeats.shape)}")
        counts = repeats._data.reshape(-1)
    else:
        counts = np.array([check_int(op, "repeats", repeats)])
    if counts.size and counts.min() < 0:
        raise ShapeError(f"{op}: repeats must be non-negative, got {counts.min()}")
    if dim is None:
        input, dim = flatten(input), 0
    dim = normalize_axis(dim, input.ndim, op, input._data.shape)
    size = input._data.shape[dim] if input.ndim else 1
    if counts.size != 1 and counts.size != size:
        raise ShapeError(f"{op}: repeats must have one count per entry of dimension {dim} "
                         f"(size {size}), got {counts.size} counts")
    order = np.repeat(np.arange(size), counts if counts.size == size else counts[0])
    if output_size is not None and check_int(op, "output_size", output_size) != order.size:
        raise ShapeError(f"{op}: output_size must be the repeated size {order.size}, got "
                         f"{output_size}")
    if input.ndim == 0:
        input = reshape(input, 1)
    return getitem(input, (slice(None),) * dim + (order,))


METHODS = {
    "view": view, "view_as": view_as, "reshape": reshape, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "permute": permute, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "T": property(reverse_dims), "expand": expand, "expand_as": expand_as,
    "broadcast_to": broadcast_to, "repeat": repeat, "flip": flip, "narrow": narrow,
    "select": select, "split": split, "chunk": chunk, "unbind": unbind,
    "contiguous": contiguous, "clone": clone, "__getitem__": getitem, "gather": gather,
    "index_select": index_select, "scatter": scatter, "scatter_add": scatter_add,
    "index_add": index_add, "roll": roll, "movedim": movedim, "moveaxis": movedim,
    "tril": tril, "triu": triu, "repeat_interleave": repeat_interleave,
}

swapaxes = swapdims = transpose
moveaxis = movedim
