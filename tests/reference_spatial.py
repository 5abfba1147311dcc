"""Direct loop references of ``affine_grid``, ``grid_sample`` (one output pixel at a time,
scalar arithmetic written from PyTorch's documented formulas, not from our kernels) and
``einsum`` (one assignment of the letters at a time)."""

import itertools
import math

import numpy as np


def affine_grid_ref(theta, size, align_corners=False):
    batch, _, height, width = size

    def centre(index, count):
        if count == 1:
            return 0.0
        if align_corners:
            return -1.0 + 2.0 * index / (count - 1)
        return (2.0 * index + 1.0) / count - 1.0

    out = np.zeros((batch, height, width, 2), dtype=theta.dtype)
    for n in range(batch):
        for i in range(height):
            for j in range(width):
                point = np.array([centre(j, width), centre(i, height), 1.0])
                out[n, i, j] = theta[n] @ point
    return out


def _pixel(g, size, align_corners):
    if align_corners:
        return (g + 1.0) / 2.0 * (size - 1)
    return ((g + 1.0) * size - 1.0) / 2.0


def _reflect(x, low, high):
    if low == high:
        return 0.0
    span = high - low
    distance = abs(x - low)
    flips = math.floor(distance / span)
    extra = math.fmod(distance, span)
    return low + extra if flips % 2 == 0 else low + span - extra


def _padded(x, size, padding_mode, align_corners):
    if padding_mode == "reflection":
        x = _reflect(x, 0.0, size - 1.0) if align_corners else _reflect(x, -0.5, size - 0.5)
    if padding_mode in ("border", "reflection"):
        x = min(max(x, 0.0), size - 1.0)
    return x


def _cubic(distance):
    """PyTorch's cubic convolution kernel, A = -0.75, at a distance in [0, 2)."""
    a = -0.75
    distance = abs(distance)
    if distance <= 1:
        return ((a + 2) * distance - (a + 3)) * distance * distance + 1
    return ((a * distance - 5 * a) * distance + 8 * a) * distance - 4 * a


def _bicubic_point(read, n, point, height, width, padding_mode, align_corners):
    """The 4 x 4 pixels around a point, each tap moved by the padding mode, then read."""
    x, y = _pixel(point[0], width, align_corners), _pixel(point[1], height, align_corners)
    x0, y0 = math.floor(x), math.floor(y)
    total = 0.0
    for row in range(y0 - 1, y0 + 3):
        for column in range(x0 - 1, x0 + 3):
            tap_row = int(_padded(float(row), height, padding_mode, align_corners))
            tap_column = int(_padded(float(column), width, padding_mode, align_corners))
            total = total + _cubic(x - column) * _cubic(y - row) * read(n, tap_row, tap_column)
    return total


def grid_sample_ref(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """``image`` (N, C, H, W) read at ``grid`` (N, h, w, 2), pixel by pixel."""
    batch, channels, height, width = image.shape
    out = np.zeros((batch, channels) + grid.shape[1:3], dtype=image.dtype)

    def read(n, row, column):
        if 0 <= row < height and 0 <= column < width:
            return image[n, :, row, column]
        return np.zeros(channels)

    for n in range(batch):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                x = _padded(_pixel(grid[n, i, j, 0], width, align_corners), width,
                            padding_mode, align_corners)
                y = _padded(_pixel(grid[n, i, j, 1], height, align_corners), height,
                            padding_mode, align_corners)
                if mode == "nearest":
                    out[n, :, i, j] = read(n, int(np.rint(y)), int(np.rint(x)))
                    continue
                if mode == "bicubic":
                    out[n, :, i, j] = _bicubic_point(read, n, grid[n, i, j], height, width,
                                                     padding_mode, align_corners)
                    continue
                x0, y0 = math.floor(x), math.floor(y)
                fx, fy = x - x0, y - y0
                out[n, :, i, j] = ((1 - fx) * (1 - fy) * read(n, y0, x0)
                                   + fx * (1 - fy) * read(n, y0, x0 + 1)
                                   + (1 - fx) * fy * read(n, y0 + 1, x0)
                                   + fx * fy * read(n, y0 + 1, x0 + 1))
    return out


def einsum_ref(equation, *arrays):
    """``equation`` with an explicit ``->`` and no ellipsis, summed term by term over every
    assignment of values to its letters."""
    lhs, output = equation.replace(" ", "").split("->")
    terms = lhs.split(",")
    sizes = {letter: n for term, array in zip(terms, arrays)
             for letter, n in zip(term, array.shape)}
    letters = sorted(sizes)
    result = np.zeros(tuple(sizes[letter] for letter in output),
                      dtype=np.result_type(*arrays))
    for values in itertools.product(*(range(sizes[letter]) for letter in letters)):
        chosen = dict(zip(letters, values))
        term_product = 1.0
        for term, array in zip(terms, arrays):
            term_product = term_product * array[tuple(chosen[letter] for letter in term)]
        result[tuple(chosen[letter] for letter in output)] += term_product
    return result
