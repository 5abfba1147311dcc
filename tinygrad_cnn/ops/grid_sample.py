"""The coordinate arithmetic of ``grid_sample`` and ``affine_grid`` (plain numpy, no checks).

``grid_sample`` is composed in :mod:`tinygrad_cnn.nn.functional.sampling` from Tensor ops and
:class:`~tinygrad_cnn.ops.pool.PlaneGather` (its adjoint ``PlaneScatterAdd``), so every
derivative order comes from existing ops.  What is piecewise constant in the grid lives here
and enters the graph as constants: the affine map ``scale * x + offset`` that the padding
mode applies to each source coordinate (``scale`` 0 where ``border`` clamps, -1 on a
reflected stretch), the integer corner indices and the masks of corners inside the image.

The formulas are PyTorch's CPU kernel's (``aten/src/ATen/native/GridSampler.h``): a grid
value ``g`` in [-1, 1] is the pixel coordinate ``(g + 1) / 2 * (size - 1)`` with
``align_corners``, ``((g + 1) * size - 1) / 2`` without.
"""

from __future__ import annotations

import numpy as np

from ..autograd.float_errors import quietly


def _reflect(x: np.ndarray, twice_low: int, twice_high: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's ``reflect_coordinates`` as ``(sign, offset)``: the reflection of ``x`` into
    ``[twice_low / 2, twice_high / 2]`` is ``sign * x + offset`` on each straight stretch."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    side = np.where(x >= low, 1.0, -1.0)          # |x - low| = side * (x - low)
    distance = side * (x - low)
    flips = np.floor(distance / span)
    extra_offset = -flips * span                  # extra = distance + extra_offset
    even = np.mod(flips, 2) == 0
    # even: extra + low; odd: span - extra + low
    sign = np.where(even, side, -side)
    offset = np.where(even, -side * low + extra_offset + low,
                      span + side * low - extra_offset + low)
    return sign, offset


@quietly
def source_map(pixel: np.ndarray, size: int, padding_mode: str,
               align_corners: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, offset)`` arrays with the source coordinate ``scale * pixel + offset`` that
    the padding mode reads (PyTorch's ``compute_coordinates``): ``zeros`` leaves the
    coordinate alone, ``border`` clamps it to ``[0, size - 1]`` (scale 0 where it clamps),
    ``reflection`` reflects it about the image's edges and then clamps."""
    scale, offset = np.ones_like(pixel), np.zeros_like(pixel)
    if padding_mode == "zeros":
        return scale, offset
    if padding_mode == "reflection":
        if align_corners:
            scale, offset = _reflect(pixel, 0, 2 * (size - 1))
        else:
            scale, offset = _reflect(pixel, -1, 2 * size - 1)
    moved = scale * pixel + offset
    # PyTorch's clip_coordinates_set_grad: no gradient on the edges themselves either
    low, high = moved <= 0, moved >= size - 1
    scale = np.where(low | high, 0.0, scale)
    offset = np.where(low, 0.0, np.where(high, size - 1.0, offset))
    return scale, offset


@quietly
def tap(coordinate: np.ndarray, size: int, padding_mode: str,
        align_corners: bool) -> np.ndarray:
    """An integer tap coordinate moved by the padding mode (bicubic reads 4 x 4 taps, each
    moved on its own, as PyTorch's ``get_value_bounded``)."""
    scale, offset = source_map(coordinate, size, padding_mode, align_corners)
    return scale * coordinate + offset


@quietly
def corners(x: np.ndarray, y: np.ndarray, height: int, width: int):
    """The four bilinear corners of source points ``(x, y)``: ``(west, north)`` integer
    floors, then for each corner (nw, ne, sw, se) its flat index ``row * width + column``
    (clamped into the image) and its mask (True inside the image)."""
    west, north = np.floor(x), np.floor(y)
    indices, masks = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        column, row = west + dx, north + dy
        indices.append(flat_index(column, row, height, width))
        masks.append(inside(column, row, height, width))
    return west, north, indices, masks


@quietly
def inside(column: np.ndarray, row: np.ndarray, height: int, width: int) -> np.ndarray:
    """True where ``(row, column)`` is a pixel of the image (False for NaN)."""
    return (column >= 0) & (column <= width - 1) & (row >= 0) & (row <= height - 1)


@quietly
def flat_index(column: np.ndarray, row: np.ndarray, height: int, width: int) -> np.ndarray:
    """``row * width + column`` as int64, each clamped into the image (masked reads)."""
    column = np.clip(np.nan_to_num(column), 0, width - 1).astype(np.int64)
    row = np.clip(np.nan_to_num(row), 0, height - 1).astype(np.int64)
    return row * width + column


def base_grid(height: int, width: int, align_corners: bool) -> np.ndarray:
    """``(H, W, 3)`` rows ``[x, y, 1]`` of the normalized pixel centres (``affine_grid``):
    ``linspace(-1, 1)``, scaled by ``(size - 1) / size`` without ``align_corners``; 0 for an
    axis of one pixel (PyTorch's ``linspace_from_neg_one``)."""
    def axis(size):
        if size <= 1:
            return np.zeros(size)
        steps = np.linspace(-1.0, 1.0, size)
        return steps if align_corners else steps * (size - 1) / size
    grid = np.ones((height, width, 3))
    grid[..., 0] = axis(width)[None, :]
    grid[..., 1] = axis(height)[:, None]
    return grid
