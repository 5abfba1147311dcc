"""Spatial transformers (as ``torch.nn.functional``): ``affine_grid`` (the sampling grid of a
batch of 2-D affine maps) and ``grid_sample`` (an image read at the grid's points).

Both are composed from differentiable ops.  ``affine_grid`` is one matrix product of a
constant ``[x, y, 1]`` grid with ``theta``.  ``grid_sample`` splits into what is piecewise
constant in the grid -- the padding mode's affine map of each coordinate, the integer corner
indices and the masks of corners inside the image (numpy, :mod:`tinygrad_cnn.ops.grid_sample`)
-- and what is not: the corner weights, Tensor expressions of the grid, and the corner
values, a gather from the input (:class:`~tinygrad_cnn.ops.pool.PlaneGather`, whose adjoint
scatters back).  Gradients to the input and the grid, and every higher order, follow.
"""

import numpy as np

from ..._checks import DtypeError, ShapeError, check_tensor, is_int
from ...ops import grid_sample as kernels
from ...ops import resample
from ...ops.elementwise import MaskBy
from ...ops.pool import PlaneGather
from ...ops.shape import Concatenate
from ...tensor import Tensor

GRID_MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


def _align_corners(op: str, align_corners) -> bool:
    """PyTorch's ``align_corners=None`` is ``False``."""
    if align_corners is None:
        return False
    if not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"{op}: align_corners must be a bool or None, got {align_corners!r}")
    return bool(align_corners)


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The sampling grid of 2-D affine maps (``torch.nn.functional.affine_grid``).

    theta: ``(N, 2, 3)`` floating; size: ``(N, C, H, W)`` -> ``(N, H, W, 2)``, the point
    ``theta[n] @ [x, y, 1]`` for each output pixel's normalized centre ``(x, y)``
    (``[-1, 1]`` at the corner pixels' centres with ``align_corners``, at their outer edges
    without).  Differentiable in ``theta``.
    """
    op = "affine_grid"
    check_tensor(op, "theta", theta)
    align = _align_corners(op, align_corners)
    if not isinstance(size, (tuple, list)) or not all(is_int(s) for s in size):
        raise TypeError(f"{op}: size must be a tuple of ints (N, C, H, W), got {size!r}")
    if len(size) != 4:
        raise NotImplementedError(f"{op}: only 4-D sizes (N, C, H, W) are supported, got "
                                  f"size {tuple(size)}")
    if theta._data.dtype.kind != "f":
        raise ValueError(f"{op}: theta must have a floating point dtype, got {theta.dtype}")
    if theta.ndim != 3 or theta._data.shape[1:] != (2, 3):
        raise ValueError(f"{op}: theta must be a batch of 2-D affine matrices of shape "
                         f"(N, 2, 3) for size {tuple(size)}, got shape {tuple(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"{op}: size must be positive, got {tuple(size)}")
    batch, _, height, width = (int(s) for s in size)
    if theta._data.shape[0] != batch:
        raise ShapeError(f"{op}: theta's batch size {theta._data.shape[0]} must equal size[0] "
                         f"= {batch}")
    base = Tensor(kernels.base_grid(height, width, align).reshape(1, height * width, 3)
                  .astype(theta._data.dtype))
    return (base @ theta.transpose(1, 2)).reshape(batch, height, width, 2)


def _grid_checks(op, input, grid, mode, padding_mode):
    check_tensor(op, "input", input)
    check_tensor(op, "grid", grid)
    if mode not in GRID_MODES:
        raise ValueError(f"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got "
                         f"{mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got "
                         f"{padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4:
        raise ShapeError(f"{op}: input and grid must be 4-D, (N, C, H, W) and "
                         f"(N, H_out, W_out, 2), got input shape {tuple(input.shape)} and "
                         f"grid shape {tuple(grid.shape)}")
    if input._data.shape[0] != grid._data.shape[0]:
        raise ShapeError(f"{op}: input and grid must have the same batch size, got input "
                         f"shape {tuple(input.shape)} and grid shape {tuple(grid.shape)}")
    if grid._data.shape[3] != 2:
        raise ShapeError(f"{op}: grid must have size 2 in its last dimension, got grid shape "
                         f"{tuple(grid.shape)}")
    if min(input._data.shape[2:]) == 0:
        raise ShapeError(f"{op}: input must have non-empty spatial dimensions, got input "
                         f"shape {tuple(input.shape)}")
    if input._data.dtype.kind != "f" or input._data.dtype != grid._data.dtype:
        raise DtypeError(f"{op}: input and grid must be floating point tensors of the same "
                         f"dtype, got {input.dtype} and {grid.dtype}")


def _pixel(grid_axis: Tensor, size: int, align: bool) -> Tensor:
    """A grid component as a pixel coordinate along an axis of ``size``, in PyTorch's order of
    operations (so that a point on a pixel boundary floors as its does)."""
    return (grid_axis + 1) / 2 * (size - 1) if align else ((grid_axis + 1) * size - 1) / 2


def _source(grid_axis: Tensor, size: int, padding_mode: str, align: bool) -> Tensor:
    """The pixel coordinate a grid component reads along an axis of ``size``, after the
    padding mode (a Tensor; the mode's piecewise map enters as constants)."""
    dtype = grid_axis._data.dtype
    pixel = _pixel(grid_axis, size, align)
    scale, offset = kernels.source_map(pixel._data, size, padding_mode, align)
    if padding_mode == "zeros":
        return pixel
    return pixel * scale.astype(dtype) + offset.astype(dtype)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners=None) -> Tensor:
    """``input`` read at the points of ``grid`` (``torch.nn.functional.grid_sample``).

    input: ``(N, C, H, W)``; grid: ``(N, H_out, W_out, 2)`` of normalized ``(x, y)`` in
    ``[-1, 1]`` (outside: ``padding_mode``) -> ``(N, C, H_out, W_out)``.  ``mode``:
    ``"bilinear"``, ``"nearest"`` (half-way points round to even, as PyTorch's
    ``nearbyint``) or ``"bicubic"`` (A = -0.75 on 4 x 4 pixels); ``padding_mode``:
    ``"zeros"``, ``"border"`` or ``"reflection"``.
    Differentiable in ``input`` and ``grid`` (nearest: a zero gradient to the grid).
    """
    op = "grid_sample"
    _grid_checks(op, input, grid, mode, padding_mode)
    align = _align_corners(op, align_corners)
    batch, channels, height, width = input._data.shape
    _, out_h, out_w, _ = grid._data.shape
    points = out_h * out_w
    dtype = input._data.dtype
    flat_grid = grid.reshape(batch, points, 2)
    if mode == "bicubic":
        out = _bicubic(input, flat_grid, padding_mode, align)
        return out.reshape(batch, channels, out_h, out_w)
    x = _source(flat_grid[:, :, 0], width, padding_mode, align)
    y = _source(flat_grid[:, :, 1], height, padding_mode, align)
    if mode == "nearest":
        column, row = np.rint(x._data), np.rint(y._data)
        index = kernels.flat_index(column, row, height, width)[:, None, None, :]
        masks = kernels.inside(column, row, height, width)[:, None, None, :]
        values = _read(input, index, masks)[:, :, 0]
        # the grid's part: an exact zero (a NaN or inf point too), so the grid gets the zero
        # gradient PyTorch gives it
        grid_zero = MaskBy.apply(x, np.zeros(x._data.shape, bool))
        return (values + grid_zero[:, None, :]).reshape(batch, channels, out_h, out_w)
    west, north, indices, masks = kernels.corners(x._data, y._data, height, width)
    tx, ty = x - west.astype(dtype), y - north.astype(dtype)
    ux, uy = 1 - tx, 1 - ty
    weights = Concatenate.apply(1, *[w.unsqueeze(1) for w in (ux * uy, tx * uy, ux * ty,
                                                               tx * ty)])
    values = _read(input, np.stack(indices, axis=1)[:, None], np.stack(masks, axis=1)[:, None])
    return (values * weights.unsqueeze(1)).sum(2).reshape(batch, channels, out_h, out_w)


def _bicubic(input: Tensor, flat_grid: Tensor, padding_mode: str, align: bool) -> Tensor:
    """Cubic convolution (A = -0.75) over the 4 x 4 pixels around each point, as PyTorch's
    kernel: the padding mode moves each integer tap (a constant), not the point, so the grid's
    gradient comes from the cubic weights alone.  ``(N, P, 2)`` -> ``(N, C, P)``."""
    height, width = input._data.shape[2:]
    dtype = input._data.dtype
    x = _pixel(flat_grid[:, :, 0], width, align)
    y = _pixel(flat_grid[:, :, 1], height, align)
    west, north = np.floor(x._data), np.floor(y._data)
    across = resample.cubic_weights(x - west.astype(dtype))
    down = resample.cubic_weights(y - north.astype(dtype))

    indices, masks, weights = [], [], []
    for j in range(4):
        row = kernels.tap(north + (j - 1), height, padding_mode, align)
        for i in range(4):
            column = kernels.tap(west + (i - 1), width, padding_mode, align)
            indices.append(kernels.flat_index(column, row, height, width))
            masks.append(kernels.inside(column, row, height, width))
            weights.append((across[i] * down[j]).unsqueeze(1))
    values = _read(input, np.stack(indices, axis=1)[:, None], np.stack(masks, axis=1)[:, None])
    return (values * Concatenate.apply(1, *weights).unsqueeze(1)).sum(2)


def _read(input: Tensor, index: np.ndarray, inside: np.ndarray) -> Tensor:
    """``input`` ``(N, C, H, W)`` at the flat pixel indices ``index`` ``(N, 1, K, P)`` of each
    plane -> ``(N, C, K, P)``; exactly 0 where ``inside`` is False (PyTorch reads nothing
    there, so an inf or NaN pixel under a clamped index must not leak in as ``0 * inf``)."""
    batch, channels = input._data.shape[:2]
    index = np.broadcast_to(index, (batch, channels) + index.shape[2:])
    return MaskBy.apply(PlaneGather.apply(input, index, None), inside)
