"""Pooling (as ``torch.nn.functional``): ``max_pool1d/2d`` (also with ``return_indices``;
``max_pool1d/2d_with_indices``), ``max_unpool1d/2d``, ``avg_pool1d/2d``, ``lp_pool2d``,
``adaptive_avg_pool1d/2d`` and ``adaptive_max_pool1d/2d``.

Each checks its arguments (:func:`._windows.pool_geometry` for the windowed ones) and applies
the Functions of :mod:`tinygrad_cnn.ops.pool` (adaptive averages: the per-axis window-mean
matrices of :mod:`tinygrad_cnn.ops.resample`); Lp pooling is composed here of differentiable
ops.  The 1-D poolings run the 2-D Functions on an ``(N, C, 1, L)`` view, as ``conv1d``.
"""

import numpy as np

from ..._checks import (
    MAX_INT_ARGUMENT,
    ArityError,
    DtypeError,
    ShapeError,
    check_bool,
    check_float,
    check_tensor,
    is_int,
)
from ...ops.elementwise import Where
from ...ops.pool import MaxPool2d, MaxUnpool2d, PlaneGather, WindowSum
from ...ops.pool_windows import (
    adaptive_max_indices,
    avg_pool_divisor,
    max_pool_indices,
)
from ...ops.resample import Resample, area_matrix
from ...tensor import Tensor
from ._windows import lp_norm_type, pool_geometry, spatial_ints


def _check_input(x, op: str, integers_ok: bool) -> Tensor:
    check_tensor(op, "input", x)
    if not integers_ok:
        check_float(op, "input", x.dtype)
    elif x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: input must be a floating point or integer tensor, got {x.dtype}")
    return x


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    """Maximum over each window (``torch.nn.functional.max_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``),
    ``H_out = floor((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1`` (``ceil`` with
    ``ceil_mode``, dropping a last window that would start in the right padding).
    ``kernel_size``, ``stride`` (default: ``kernel_size``), ``padding`` (at most half the
    kernel) and ``dilation`` are ints or ``(h, w)`` pairs.  Padding counts as ``-inf``.  The
    gradient of each window goes to ONE element, its first maximum in row-major order (as
    PyTorch), so tied inputs do not share it.  Any order of derivative works.

    With ``return_indices=True`` returns ``(output, indices)``: ``indices`` (int64, the
    output's shape, no gradient) holds for each window the flat index ``r * W + c`` of that
    element in its ``(H, W)`` input plane, as PyTorch's (the input of :func:`max_unpool2d`).
    """
    _check_input(x, "max_pool2d", integers_ok=True)
    return_indices = check_bool("max_pool2d", "return_indices", return_indices)
    geometry = pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation,
                             ceil_mode)
    if not return_indices:
        return MaxPool2d.apply(x, geometry)
    indices = max_pool_indices(x._data, geometry)
    out = PlaneGather.apply(x, indices, None)
    if out.grad_fn is not None:  # what tinygrad_cnn.onnx.export writes as one MaxPool node
        out.grad_fn.pool_geometry = geometry
    return out, Tensor._make(indices)


def max_pool2d_with_indices(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """:func:`max_pool2d` returning ``(output, indices)`` whatever ``return_indices`` says
    (``torch.nn.functional.max_pool2d_with_indices``)."""
    check_bool("max_pool2d", "return_indices", return_indices)
    return max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, True)


def _as_rows(x: Tensor, op: str, integers_ok: bool) -> Tensor:
    """A 1-D pooling's ``(N, C, L)`` or ``(C, L)`` input as the ``(N, C, 1, L)`` (or
    ``(C, 1, L)``) view its 2-D op computes on."""
    _check_input(x, op, integers_ok)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: input must be 2-D (C, L) or 3-D (N, C, L), got shape "
                         f"{x.shape}")
    return x.reshape(*x.shape[:-1], 1, x.shape[-1])


def _as_sequence(rows: Tensor) -> Tensor:
    return rows.reshape(*rows.shape[:-2], rows.shape[-1])


def max_pool1d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each window of a sequence (``torch.nn.functional.max_pool1d``).

    x: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` (or ``(C, L_out)``),
    ``L_out = floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1`` (``ceil``
    with ``ceil_mode``); arguments are ints or 1-tuples, ties and gradients as
    :func:`max_pool2d`, on whose ``(N, C, 1, L)`` view it runs.  With
    ``return_indices=True`` returns ``(output, indices)``, int64 indices into the sequence
    (an integer input is pooled only then, as PyTorch).
    """
    op = "max_pool1d"
    return_indices = check_bool(op, "return_indices", return_indices)
    # PyTorch pools integer sequences only on its with-indices path
    rows = _as_rows(x, op, integers_ok=return_indices)
    geometry = pool_geometry(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode,
                             rank=1)
    if not return_indices:
        return _as_sequence(MaxPool2d.apply(rows, geometry))
    indices = max_pool_indices(rows._data, geometry)
    out = PlaneGather.apply(rows, indices, None)
    return _as_sequence(out), Tensor._make(indices.reshape(indices.shape[:-2] +
                                                           indices.shape[-1:]))


def max_pool1d_with_indices(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """:func:`max_pool1d` returning ``(output, indices)`` whatever ``return_indices`` says
    (``torch.nn.functional.max_pool1d_with_indices``)."""
    check_bool("max_pool1d", "return_indices", return_indices)
    return max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool1d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over each window of a sequence (``torch.nn.functional.avg_pool1d``).

    x: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` (or ``(C, L_out)``),
    ``L_out = floor((L + 2*padding - kernel_size) / stride) + 1`` (``ceil`` with
    ``ceil_mode``); the divisor as :func:`avg_pool2d`, on whose ``(N, C, 1, L)`` view it
    runs.
    """
    op = "avg_pool1d"
    rows = _as_rows(x, op, integers_ok=False)
    count_include_pad = check_bool(op, "count_include_pad", count_include_pad)
    geometry = pool_geometry(op, x.shape, kernel_size, stride, padding, 1, ceil_mode, rank=1)
    return _as_sequence(WindowSum.apply(rows, geometry,
                                        avg_pool_divisor(geometry, count_include_pad)))


def _unpool_size(op, x_shape, kernel, stride, pad, output_size) -> tuple:
    """PyTorch's ``_unpool_output_size``: ``(h-1)*stride - 2*padding + kernel`` per spatial
    axis, or ``output_size`` (one size per axis, or the full shape), which must lie within
    ``stride`` of it."""
    rank = len(kernel)
    axes = range(rank)
    default = tuple((x_shape[a - rank] - 1) * stride[a] - 2 * pad[a] + kernel[a] for a in axes)
    if output_size is None:
        return default
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else None
    if sizes is None or not all(is_int(v) for v in sizes):
        raise TypeError(f"{op}: output_size must be a sequence of ints, got {output_size!r}")
    if len(sizes) == rank + 2:
        sizes = sizes[2:]
    if len(sizes) != rank:
        raise ValueError(f"{op}: output_size must hold {rank} or {rank + 2} sizes, got "
                         f"{output_size!r}")
    for axis in axes:
        low, high = default[axis] - stride[axis], default[axis] + stride[axis]
        if not low < sizes[axis] < high:
            raise ValueError(f"{op}: output_size {tuple(output_size)!r} is invalid: dimension "
                             f"{axis} must be between {low} and {high} (exclusive) for input "
                             f"shape {tuple(x_shape)}")
    return tuple(int(v) for v in sizes)


def _max_unpool(op: str, rank: int, x: Tensor, indices: Tensor, kernel_size, stride, padding,
                output_size) -> Tensor:
    """The checks and the op of ``max_unpool1d`` (``rank`` 1, on the ``(N, C, 1, L)`` view)
    and ``max_unpool2d`` (``rank`` 2)."""
    _check_input(x, op, integers_ok=False)
    check_tensor(op, "indices", indices)
    if x.ndim not in (rank + 1, rank + 2):
        layout = "(C, L)" if rank == 1 else "(C, h, w)"
        batched = "(N, C, L)" if rank == 1 else "(N, C, h, w)"
        raise ShapeError(f"{op}: input must be {rank + 1}-D {layout} or {rank + 2}-D "
                         f"{batched}, got shape {x.shape}")
    if indices.dtype != np.int64:
        raise DtypeError(f"{op}: indices must be int64, got {indices.dtype}")
    if indices.shape != x.shape:
        raise ShapeError(f"{op}: indices must have the input's shape {x.shape}, got "
                         f"{indices.shape}")
    kernel = spatial_ints(kernel_size, "kernel_size", op, rank)
    step = kernel if stride is None else spatial_ints(stride, "stride", op, rank)
    # padding < 0 grows the output, as PyTorch
    pad = spatial_ints(padding, "padding", op, rank, minimum=-MAX_INT_ARGUMENT)
    size = _unpool_size(op, x.shape, kernel, step, pad, output_size)
    if min(size) < 1:
        raise ValueError(f"{op}: the output size {size} is empty (input shape {x.shape}, "
                         f"kernel_size {kernel}, stride {step}, padding {pad})")
    index = indices._data
    # one pass: viewed as unsigned, a negative index is larger than any valid one
    if index.size and int(index.view(np.uint64).max()) >= int(np.prod(size)):
        bad = index.min() if index.min() < 0 else index.max()
        where = (f"the output planes are {size[0]}x{size[1]}" if rank == 2
                 else f"the output sequences have length {size[0]}")
        raise ShapeError(f"{op}: found an invalid max index {bad} ({where})")
    if rank == 2:
        return MaxUnpool2d.apply(x, index, size)
    # a flat index into a sequence is its flat index into the (1, L) plane
    rows = x.reshape(*x.shape[:-1], 1, x.shape[-1])
    return _as_sequence(MaxUnpool2d.apply(rows, index.reshape(rows.shape), (1, size[0])))


def max_unpool1d(x: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of :func:`max_pool1d` (``torch.nn.functional.max_unpool1d``): zeros
    with each value of ``x`` written at its index ``indices`` (from
    ``max_pool1d(..., return_indices=True)``).

    x, indices: ``(N, C, l)`` or ``(C, l)`` (indices int64) -> ``(N, C, L)`` with
    ``L = (l-1)*stride - 2*padding + kernel_size`` or ``output_size`` (``(L,)`` or the full
    shape; within ``stride`` of that); arguments are ints or 1-tuples.  The gradient reads
    the output gradient at the indices (:func:`max_unpool2d` on the ``(N, C, 1, l)`` view).
    """
    return _max_unpool("max_unpool1d", 1, x, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(x: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of :func:`max_pool2d` (``torch.nn.functional.max_unpool2d``): zeros
    with each value of ``x`` written at its flat index ``indices`` (from
    ``max_pool2d(..., return_indices=True)``).

    x, indices: ``(N, C, h, w)`` or ``(C, h, w)`` (indices int64) -> ``(N, C, H, W)`` with
    ``H = (h-1)*stride - 2*padding + kernel_size`` or ``output_size`` (``(H, W)`` or the full
    shape; within ``stride`` of that).  The gradient reads the output gradient at the indices.
    """
    return _max_unpool("max_unpool2d", 2, x, indices, kernel_size, stride, padding,
                       output_size)


# --- adaptive pooling --------------------------------------------------------------------


def _adaptive_input(op: str, x, rank: int) -> None:
    _check_input(x, op, integers_ok=False)  # PyTorch has no integer adaptive pooling
    ranks = (2, 3) if rank == 1 else (3, 4)
    if x.ndim not in ranks:
        what = "2-D (C, L) or 3-D (N, C, L)" if rank == 1 else \
            "3-D (C, H, W) or 4-D (N, C, H, W)"
        raise ShapeError(f"{op}: input must be {what}, got shape {x.shape}")
    if 0 in x.shape[-rank - 1:]:
        raise ShapeError(f"{op}: input {x.shape} must have no empty dimension (but the "
                         f"batch)")


def _adaptive_size(op: str, output_size, in_size: tuple) -> tuple:
    """``output_size`` (an int, or one int or None per spatial axis; None keeps the input's
    size) as a tuple of ints >= 0."""
    rank = len(in_size)
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) \
        else (output_size,) * rank
    if len(sizes) != rank:
        raise ArityError(f"{op}: output_size must have {rank} element(s), got "
                         f"{output_size!r}")
    if not all((v is None and rank == 2) or is_int(v) for v in sizes):
        kind = "an int or a tuple of ints (or None)" if rank == 2 else "an int"
        raise TypeError(f"{op}: output_size must be {kind}, got {output_size!r}")
    sizes = tuple(n if v is None else int(v) for v, n in zip(sizes, in_size))
    if min(sizes) < 0:
        raise ShapeError(f"{op}: elements of output_size must be >= 0, got {output_size!r}")
    if max(sizes) > MAX_INT_ARGUMENT:
        raise ShapeError(f"{op}: elements of output_size must be at most 2**62, got "
                         f"{output_size!r}")
    return sizes


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Average over adaptive windows (``torch.nn.functional.adaptive_avg_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, oh, ow)``; output ``i`` of an axis of
    size ``H`` averages ``[floor(i*H/oh), ceil((i+1)*H/oh))``.  ``output_size``: an int or an
    ``(oh, ow)`` pair, ``None`` keeping that axis's size.  Computed as one window-mean matrix
    per axis (its gradient: the transposes).
    """
    _adaptive_input("adaptive_avg_pool2d", x, 2)
    sizes = _adaptive_size("adaptive_avg_pool2d", output_size, x.shape[-2:])
    return _adaptive_mean(x, sizes)


def adaptive_avg_pool1d(x: Tensor, output_size) -> Tensor:
    """Average over adaptive windows of a sequence (``torch.nn.functional.adaptive_avg_pool1d``):
    x ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, output_size)``, windows as
    :func:`adaptive_avg_pool2d`."""
    _adaptive_input("adaptive_avg_pool1d", x, 1)
    sizes = _adaptive_size("adaptive_avg_pool1d", output_size, x.shape[-1:])
    return _adaptive_mean(x, sizes)


def _adaptive_mean(x: Tensor, sizes: tuple) -> Tensor:
    matrices = tuple(None if m == n else area_matrix(n, m)
                     for n, m in zip(x.shape[-len(sizes):], sizes))
    return Resample.apply(x, matrices)


def adaptive_max_pool2d(x: Tensor, output_size, return_indices=False):
    """Maximum over adaptive windows (``torch.nn.functional.adaptive_max_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, oh, ow)``, windows as
    :func:`adaptive_avg_pool2d`.  The gradient of each window goes to its first maximum in
    row-major order, as PyTorch.  With ``return_indices=True`` returns ``(output, indices)``,
    int64 flat indices ``r * W + c`` into each input plane.
    """
    op = "adaptive_max_pool2d"
    _adaptive_input(op, x, 2)
    return_indices = check_bool(op, "return_indices", return_indices)
    sizes = _adaptive_size(op, output_size, x.shape[-2:])
    indices = adaptive_max_indices(x._data, sizes)
    out = PlaneGather.apply(x, indices, None)
    return (out, Tensor._make(indices)) if return_indices else out


def adaptive_max_pool1d(x: Tensor, output_size, return_indices=False):
    """Maximum over adaptive windows of a sequence
    (``torch.nn.functional.adaptive_max_pool1d``): x ``(N, C, L)`` or ``(C, L)`` ->
    ``(N, C, output_size)``; ``indices`` index the sequence."""
    op = "adaptive_max_pool1d"
    _adaptive_input(op, x, 1)
    return_indices = check_bool(op, "return_indices", return_indices)
    (size,) = _adaptive_size(op, output_size, x.shape[-1:])
    rows = x.reshape(*x.shape[:-1], 1, x.shape[-1])
    indices = adaptive_max_indices(rows._data, (1, size))
    out = PlaneGather.apply(rows, indices, None)
    out = out.reshape(*out.shape[:-2], size)
    if return_indices:
        return out, Tensor._make(indices.reshape(indices.shape[:-2] + (size,)))
    return out


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over each window (``torch.nn.functional.avg_pool2d``).

    x: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``, sizes as
    :func:`max_pool2d` with ``dilation=1``.  Padding is zeros.  The divisor is PyTorch's: the
    window clipped to the padded input (a ``ceil_mode`` window hanging past the padding counts
    only what lies inside it), or, with ``count_include_pad=False``, clipped to the input.
    """
    _check_input(x, "avg_pool2d", integers_ok=False)
    count_include_pad = check_bool("avg_pool2d", "count_include_pad", count_include_pad)
    geometry = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    return WindowSum.apply(x, geometry, avg_pool_divisor(geometry, count_include_pad))


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
    _check_input(x, "lp_pool2d", integers_ok=False)
    p = lp_norm_type("lp_pool2d", norm_type)
    geometry = pool_geometry("lp_pool2d", x.shape, kernel_size, stride, 0, 1, ceil_mode)
    return _root(WindowSum.apply(_power(x, p), geometry, None), p)


def _power(x: Tensor, p: float) -> Tensor:
    """``x ** p`` whose first and second derivatives are finite at 0.

    Integer ``p >= 1`` already has them.  A fractional ``p`` has an infinite derivative of
    some order at 0 (x ** 1.5 has second derivative 0.75 / sqrt(x)), which would meet the
    zero gradient of an all-zero window as 0 * inf = NaN; so zeros are masked out of it.
    """
    if p == 1.0:
        return x
    if p == 2.0:
        return x * x
    if float(p).is_integer() or not (x._data == 0).any():
        return x ** p
    return _power_off_zeros(x, p, x._data != 0)


def _root(s: Tensor, p: float) -> Tensor:
    """``s ** (1/p)`` with gradient 0 where ``s == 0`` (the true one is infinite for p > 1).

    The root is taken of ``where(s != 0, s, 1)`` so neither it nor its derivatives ever see
    0; the outer ``where`` then zeroes both the value and the gradient there.  A negative
    ``s`` (odd ``p`` with negative inputs) gives NaN, as in numpy and PyTorch.
    """
    nonzero = s._data != 0
    if p == 1.0:
        # PyTorch's sign(s) * relu(|s|): no gradient where the sum is 0 or NaN (sign(NaN)
        # is 0 there); the value is s itself
        passes = nonzero & ~np.isnan(s._data)
        return s if passes.all() else Where.apply(passes, s, Tensor._make(s._data.copy()))
    if nonzero.all():
        return s ** (1.0 / p)
    return _power_off_zeros(s, 1.0 / p, nonzero)


def _power_off_zeros(x: Tensor, exponent: float, nonzero: np.ndarray) -> Tensor:
    """``x ** exponent`` where ``nonzero``, 0 elsewhere, with value and every derivative 0
    there: the power is taken of ``where(nonzero, x, 1)``, so it never sees 0."""
    one = np.ones((), dtype=x.dtype)
    zero = np.zeros((), dtype=x.dtype)
    return Where.apply(nonzero, Where.apply(nonzero, x, one) ** exponent, zero)
