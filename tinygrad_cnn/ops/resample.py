"""Separable resampling: interpolation and adaptive average pooling as 1-D maps per axis.

Every mode of ``interpolate`` except nearest, and ``adaptive_avg_pool``, is a linear map that
acts on each spatial axis separately: an ``(out, in)`` matrix per axis.  ``Resample`` applies
one matrix per trailing axis with matrix products; its adjoint is ``Resample`` with the
transposed matrices, so it is its own backward and every derivative order works.

Nearest-neighbour modes copy one input element per output element: along each axis an index
array, non-decreasing.  ``NearestGather`` reads them; its adjoint ``NearestGatherAdjoint`` sums
each run of equal indices (``np.add.reduceat``), and each is the other's backward.

The matrices follow PyTorch's CPU kernels (``aten/src/ATen/native/UpSample.h``): source
coordinates ``scale * (dst + 0.5) - 0.5`` (``scale * dst`` with ``align_corners``), where
``scale = 1 / scale_factor`` when a scale factor is passed through, else ``in / out``
(``(in - 1) / (out - 1)`` with ``align_corners``).  Plain numpy, no checks: the entry point
is :func:`tinygrad_cnn.nn.functional.interpolate`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

CUBIC_A = -0.75      # PyTorch's bicubic coefficient
CUBIC_A_AA = -0.5    # ... and the one of its antialiased bicubic filter (PIL's)


def source_scale(in_size: int, out_size: int, align_corners: bool, scale_factor=None) -> float:
    """PyTorch's ``area_pixel_compute_scale``: source distance between two output elements."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


def _source(in_size, out_size, align_corners, scale_factor, clamp_at_zero):
    scale = source_scale(in_size, out_size, align_corners, scale_factor)
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return scale * dst
    src = scale * (dst + 0.5) - 0.5
    return np.maximum(src, 0.0) if clamp_at_zero else src


def _guard(src, in_size):
    """PyTorch's ``guard_index_and_lambda``: floor index clamped to the last element, and the
    fraction clamped to [0, 1]."""
    index = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    return index, np.clip(src - index, 0.0, 1.0)


def _matrix(out_size, in_size, columns, weights) -> np.ndarray:
    """``(out, in)`` matrix with ``weights[o, t]`` added at ``(o, columns[o, t])``."""
    matrix = np.zeros((out_size, in_size))
    rows = np.broadcast_to(np.arange(out_size)[:, None], columns.shape)
    np.add.at(matrix, (rows.ravel(), columns.ravel()), weights.ravel())
    return matrix


def linear_matrix(in_size, out_size, align_corners=False, scale_factor=None) -> np.ndarray:
    """Linear interpolation: each output between its two neighbouring inputs."""
    index, fraction = _guard(_source(in_size, out_size, align_corners, scale_factor, True),
                             in_size)
    upper = index + (index < in_size - 1)
    return _matrix(out_size, in_size, np.stack([index, upper], 1),
                   np.stack([1.0 - fraction, fraction], 1))


def _cubic_inner(x, a):   # |x| <= 1
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_outer(x, a):   # 1 < |x| < 2
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def cubic_weights(t, a=CUBIC_A) -> list:
    """The four cubic-convolution weights of the neighbours at offsets -1, 0, 1, 2 of a point
    a fraction ``t`` past its floor (PyTorch's ``get_cubic_upsample_coefficients``); plain
    arithmetic, so ``t`` may be an array or a Tensor (``grid_sample``'s bicubic mode)."""
    return [_cubic_outer(t + 1, a), _cubic_inner(t, a), _cubic_inner(1 - t, a),
            _cubic_outer(2 - t, a)]


def cubic_matrix(in_size, out_size, align_corners=False, scale_factor=None) -> np.ndarray:
    """Cubic convolution (A = -0.75) on four neighbours, reads past a border clamped to it."""
    index, t = _guard(_source(in_size, out_size, align_corners, scale_factor, False), in_size)
    weights = np.stack(cubic_weights(t), 1)
    columns = np.clip(index[:, None] + np.arange(-1, 3)[None, :], 0, in_size - 1)
    return _matrix(out_size, in_size, columns, weights)


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _cubic_filter(x):
    x = np.abs(x)
    return np.where(x < 1, _cubic_inner(x, CUBIC_A_AA),
                    np.where(x < 2, _cubic_outer(x, CUBIC_A_AA), 0.0))


def antialias_matrix(in_size, out_size, mode, align_corners=False,
                     scale_factor=None) -> np.ndarray:
    """PyTorch's antialiased bilinear / bicubic: when shrinking, the filter is widened to
    ``scale`` input elements per unit and renormalised where the border cuts it."""
    scale = source_scale(in_size, out_size, align_corners, scale_factor)
    size, filter_fn = (2, _triangle) if mode == "bilinear" else (4, _cubic_filter)
    support = size * 0.5 * scale if scale >= 1.0 else size * 0.5
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (np.arange(out_size) + 0.5)
    first = np.maximum(np.trunc(center - support + 0.5), 0).astype(np.int64)
    last = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), in_size)
    taps = np.arange(int(np.ceil(support)) * 2 + 2)
    columns = first[:, None] + taps[None, :]
    weights = filter_fn((columns - center[:, None] + 0.5) * inverse)
    weights = np.where(columns < last[:, None], weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total == 0, 1.0, total)
    return _matrix(out_size, in_size, np.minimum(columns, in_size - 1), weights)


def adaptive_bounds(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive pooling windows ``[floor(i*in/out), ceil((i+1)*in/out))`` for each output."""
    i = np.arange(out_size)
    return (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)


def area_matrix(in_size: int, out_size: int) -> np.ndarray:
    """Adaptive average pooling along one axis: the mean of each adaptive window."""
    start, end = adaptive_bounds(in_size, out_size)
    position = np.arange(in_size)
    inside = (position[None, :] >= start[:, None]) & (position[None, :] < end[:, None])
    return inside / (end - start)[:, None]


def nearest_index(in_size, out_size, exact=False, scale_factor=None,
                  shortcuts=False) -> np.ndarray:
    """The input element each output copies, with PyTorch's float32 arithmetic:
    ``min(floor(dst * scale), in - 1)`` (``nearest``) or ``floor((dst + 0.5) * scale)``
    (``nearest-exact``), ``scale = float32(1 / scale_factor)`` or ``float32(in) / out``.

    ``shortcuts``: PyTorch's 2-D ``nearest`` kernel (only that one) copies straight through
    when ``out == in`` and takes ``dst // 2`` when ``out == 2 * in``, whatever the scale factor
    (``nearest_idx``); its 1-D and 3-D kernels use the formula."""
    if shortcuts and not exact and out_size == in_size:
        return np.arange(out_size)
    if shortcuts and not exact and out_size == 2 * in_size:
        return np.arange(out_size) >> 1
    if scale_factor is not None and scale_factor > 0:
        scale = np.float32(1.0 / scale_factor)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    if exact:
        position = ((np.arange(out_size) + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        position = np.arange(out_size).astype(np.float32) * scale
    return np.minimum(np.floor(position).astype(np.int64), in_size - 1)


# --------------------------------------------------------------------------- the Functions
def apply_along(x: np.ndarray, matrix: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` ``(out, in)`` applied along ``axis`` of ``x`` by one matrix product (the last
    axis) or a batch of them (any other axis, the axes after it kept as columns)."""
    n = x.shape[axis]
    prefix, suffix = x.shape[:axis], x.shape[axis + 1:]
    matrix = matrix.astype(x.dtype, copy=False)
    lead, rest = int(np.prod(prefix, dtype=np.int64)), int(np.prod(suffix, dtype=np.int64))
    if rest == 1:
        out = np.ascontiguousarray(x).reshape(lead, n) @ matrix.T
    else:
        out = np.matmul(matrix, np.ascontiguousarray(x).reshape(lead, n, rest))
    return out.reshape(prefix + (matrix.shape[0],) + suffix)


# A map of the last two axes whose output has at most this many elements per plane is applied
# as ONE matrix product with the Kronecker product of its two matrices ((oh*ow, H*W), oh*ow
# multiply-adds per input element): global and small adaptive pooling then cost one GEMM
# instead of a batch of tiny ones along the second-last axis.
KRON_OUTPUTS = 64


def _apply_plane(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``rows @ x @ cols.T`` on each trailing ``(H, W)`` plane, by one matrix product."""
    kron = np.kron(rows, cols).astype(x.dtype, copy=False)
    lead = x.shape[:-2]
    planes = np.ascontiguousarray(x).reshape(int(np.prod(lead, dtype=np.int64)),
                                             x.shape[-2] * x.shape[-1])
    # one input element per plane (the adjoint of global pooling): a broadcast product, which
    # BLAS does several times slower as a matrix product with inner dimension 1
    out = planes * kron.T if planes.shape[1] == 1 else planes @ kron.T
    return out.reshape(lead + (rows.shape[0], cols.shape[0]))


class Resample(Function):
    """``x`` with ``matrices[k]`` ``(out_k, in_k)`` applied along its k-th trailing spatial
    axis (``None``: left alone); ``len(matrices)`` trailing axes in all."""

    @staticmethod
    def forward(ctx, x, matrices):
        ctx.matrices = matrices
        if len(matrices) >= 2 and matrices[-1] is not None and matrices[-2] is not None \
                and matrices[-2].shape[0] * matrices[-1].shape[0] <= KRON_OUTPUTS:
            x = _apply_plane(x, matrices[-2], matrices[-1])
            matrices = matrices[:-2] + (None, None)
        first = x.ndim - len(matrices)
        for k, matrix in enumerate(matrices):
            if matrix is not None:
                x = apply_along(x, matrix, first + k)
        return x

    @staticmethod
    def backward(ctx, grad):
        transposed = tuple(None if m is None else m.T for m in ctx.matrices)
        return Resample.apply(grad, transposed), None


def _take_axes(x, indices):
    first = x.ndim - len(indices)
    grids = np.ix_(*[np.arange(x.shape[first + k]) if index is None else index
                     for k, index in enumerate(indices)])
    return x[(Ellipsis,) + grids]


def _run_sums(g, index, size, axis):
    """Adjoint of ``take(x, index, axis)`` for a non-decreasing ``index``: each run of equal
    indices summed (``reduceat``) into its input position; positions never read get 0."""
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    sums = np.add.reduceat(g, starts, axis=axis)
    if len(starts) == size:  # every input position read (upsampling): already in place
        return sums
    out = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], dtype=g.dtype)
    out[(slice(None),) * axis + (index[starts],)] = sums
    return out


class NearestGather(Function):
    """``x[..., i0[:, None], i1]``: along each trailing axis the elements of a non-decreasing
    index array (``None``: the axis is left alone)."""

    @staticmethod
    def forward(ctx, x, indices):
        ctx.indices = indices
        ctx.sizes = x.shape[x.ndim - len(indices):]
        return _take_axes(x, indices)

    @staticmethod
    def backward(ctx, grad):
        return NearestGatherAdjoint.apply(grad, ctx.indices, ctx.sizes), None


class NearestGatherAdjoint(Function):
    """Adjoint of :class:`NearestGather`: the gradient summed over the outputs that copied
    each input element."""

    @staticmethod
    def forward(ctx, g, indices, sizes):
        ctx.indices = indices
        first = g.ndim - len(indices)
        for k, (index, size) in enumerate(zip(indices, sizes)):
            if index is not None:
                g = _run_sums(g, index, size, first + k)
        return g

    @staticmethod
    def backward(ctx, grad):
        return NearestGather.apply(grad, ctx.indices), None, None
