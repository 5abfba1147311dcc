"""The three convolution kernels of ``"im2col_flat"``: im2col in the *flat-shift* layout, for
stride-1 layers (any padding, dilation, groups); numpy in, numpy out, the interface of
:mod:`.conv_gemm` (which runs the strided layers).

Why: im2col's window copies (:func:`.im2col.im2col`) and col2im's adds run one output row
(``Wo`` elements) per inner loop, and numpy spends tens of nanoseconds per inner loop
whatever its length (a strided add of 14- to 32-element rows measured ~6x slower per
element than a contiguous one), which on small planes is much of the time.

The layout: every image plane of a chunk of ``n`` images is stored in ONE flat zero-padded
run, planes in ``(C, n)`` order, rows ``S`` apart and planes ``R*S`` apart, consecutive
rows and planes sharing their padding (``S = W + max(left, right)``, ``R = H + max(top,
bottom)`` for a layer that keeps its size; :class:`FlatLayout`). A stride-1 window at
output ``(y, x)`` of plane ``q``, kernel offset ``(i, j)``, reads flat element
``q*R*S + y*S + x + i*dH*S + j*dW``. Computing the outputs at all ``R*S`` positions of each
plane (the ``R*S - Ho*Wo`` "wrap" positions read neighbouring rows and planes and are thrown
away), the im2col row of channel ``c`` and kernel offset ``(i, j)`` for all ``n`` images
of the chunk is ONE contiguous run of the flat array, shifted by ``i*dH*S + j*dW``:
``C*kH*kW`` long copies (or adds) per chunk instead of ``n*C*kH*kW*Ho`` short ones.
The price: the products run over ``R*S`` positions per plane instead of ``Ho*Wo`` (+6% at
32x32 with padding 1, +15% at 14x14, +27% at 8x8), and the output side is copied once
between the two layouts (:func:`_widen`, the crop in
:func:`conv2d_forward`), which the cost model (:mod:`.conv_select`) weighs per direction.

* forward          ``Y (C_out, n*R*S) = W @ cols``, the wrap positions dropped while the
  bias is added into the ``(N, C_out, Ho, Wo)`` output (one pass).
* weight gradient  ``dW^T = cols @ dY'.T`` with ``dY'`` the output gradient in the flat
  layout, zero at the wrap positions: ONE GEMM per chunk and group, whose summed axis runs
  over the images as well; the wrap terms are ``0 * x``.
* input gradient   either ``dcols = W.T @ dY'`` (its wrap columns ``W.T @ 0 = 0``) and the
  flat col2im, ``kH*kW`` adds of ``C`` long runs per chunk; or the correlation of the
  padded ``dY`` with the adjoint kernel by this module's forward, as :mod:`.conv_gemm` does
  it (:func:`.conv_gemm.input_grad_by_correlation` says which).

Accuracy: every output is the same sum of the same products as im2col's, in im2col's order
along the summed axis (``cols`` rows are ``(c, i, j)``, as ``W``'s columns; the wrap terms
are exact zeros), so the rounding is im2col's. A wrap term is ``0 * value`` of a
neighbouring row, which is NaN when that value is infinite: the weight gradient (by its
small result) and the flat col2im (by the weight) check for that and then compute with
:mod:`.conv_gemm` instead, so NaN/inf propagate exactly as under im2col.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import conv_gemm
from .geometry import WindowGeometry
from .threads import batch_chunks, map_chunks

CHUNK_BYTES = 1 << 22


def supports(geometry: WindowGeometry) -> bool:
    """Whether the flat-shift layout computes ``geometry``: stride 1 (any padding,
    dilation, groups)."""
    return tuple(geometry.stride) == (1, 1)


class FlatLayout(NamedTuple):
    """Where the planes of a geometry's input lie in a flat run (see the module docstring):
    rows ``row`` apart, planes ``plane`` apart, each plane's data (input rows ``rows`` from
    ``first_row``, columns ``cols`` from ``first_col``: those the windows reach; negative
    padding cuts the first ones) from ``base`` on; the run is ``margin`` longer than its
    planes so the last plane's shifted reads stay inside."""

    row: int
    plane: int
    base: int
    margin: int
    first_row: int
    rows: int
    first_col: int
    cols: int

    @classmethod
    def of(cls, geometry: WindowGeometry) -> FlatLayout:
        (top, _), (left, _) = geometry.padding
        height, width = geometry.in_size
        (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
        ho, wo = geometry.out_size
        first_row, first_col = max(0, -top), max(0, -left)
        top, left = max(top, 0), max(left, 0)
        span_rows, span_cols = ho + dh * (kh - 1), wo + dw * (kw - 1)  # padded extent read
        rows = max(0, min(height - first_row, span_rows - top))
        cols = max(0, min(width - first_col, span_cols - left))
        # A window reading past a row's (plane's) end must land in the next one's leading
        # zeros (hence ``span - top``), the data must fit after them, the outputs too.
        row = max(cols + left, span_cols - left, wo, 1)
        plane_rows = max(rows + top, span_rows - top, ho, 1)
        return cls(row, plane_rows * row, top * row + left, (kh - 1) * dh * row + (kw - 1) * dw,
                   first_row, rows, first_col, cols)

    @property
    def plane_rows(self) -> int:
        return self.plane // self.row

    def positions_per_output(self, geometry: WindowGeometry) -> float:
        """Positions computed per output position (``R*S / (Ho*Wo)``, at least 1)."""
        ho, wo = geometry.out_size
        return self.plane / max(ho * wo, 1)


def _data_view(flat: np.ndarray, layout: FlatLayout, planes: tuple) -> np.ndarray:
    """``(*planes, rows, cols)`` view of the data in a flat run of ``prod(planes)`` planes."""
    step = flat.itemsize
    strides, size = [], layout.plane
    for count in reversed(planes):
        strides.insert(0, size * step)
        size *= count
    return as_strided(flat[layout.base:], tuple(planes) + (layout.rows, layout.cols),
                      tuple(strides) + (layout.row * step, step))


def _shifts(flat: np.ndarray, layout: FlatLayout, geometry: WindowGeometry, planes: int,
            count: int, writeable: bool = False) -> np.ndarray:
    """``(planes, kH, kW, count)`` view of a flat run whose planes are ``count`` positions
    apart: ``[c, i, j, p]`` is ``flat[c*count + p + i*dH*S + j*dW]``."""
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    step = flat.itemsize
    return as_strided(flat, (planes, kh, kw, count),
                      (count * step, dh * layout.row * step, dw * step, step),
                      writeable=writeable)


def flatten(x: np.ndarray, layout: FlatLayout) -> np.ndarray:
    """x ``(n, C, H, W)`` -> the flat run of its planes in ``(C, n)`` order."""
    n, channels = x.shape[:2]
    flat = np.zeros(channels * n * layout.plane + layout.margin, dtype=x.dtype)
    _data_view(flat, layout, (channels, n))[...] = x[
        :, :, layout.first_row:layout.first_row + layout.rows,
        layout.first_col:layout.first_col + layout.cols].transpose(1, 0, 2, 3)
    return flat


def flat_im2col(x: np.ndarray, geometry: WindowGeometry, layout: FlatLayout) -> np.ndarray:
    """x ``(n, C, H, W)`` -> the flat-shift im2col matrix per group,
    ``(groups, C/groups*kH*kW, n*R*S)``, rows in im2col's ``(c, i, j)`` order: row
    ``(c, i, j)`` is the run of channel ``c``'s ``n`` planes shifted by ``i*dH*S + j*dW``."""
    n, channels = x.shape[:2]
    kh, kw = geometry.kernel
    count = n * layout.plane
    cols = np.empty((channels, kh, kw, count), dtype=x.dtype)
    cols[...] = _shifts(flatten(x, layout), layout, geometry, channels, count)
    return cols.reshape(geometry.groups, channels // geometry.groups * kh * kw, count)


def _widen(grad_out: np.ndarray, layout: FlatLayout) -> np.ndarray:
    """grad_out ``(n, C_out, Ho, Wo)`` -> ``(C_out, n*R*S)`` in the flat layout, zero at the
    wrap positions."""
    n, out_channels, ho, wo = grad_out.shape
    wide = np.empty((out_channels, n, layout.plane_rows, layout.row), dtype=grad_out.dtype)
    wide[:, :, :ho, :wo] = grad_out.transpose(1, 0, 2, 3)
    wide[:, :, :ho, wo:] = 0
    wide[:, :, ho:] = 0
    return wide.reshape(out_channels, n * layout.plane)


def _chunks(batch: int, channels: int, geometry: WindowGeometry, layout: FlatLayout,
            itemsize: int):
    """Equal slices of the batch whose flat im2col matrices hold at most about
    ``CHUNK_BYTES`` each, at least two (:func:`.threads.batch_chunks`)."""
    kh, kw = geometry.kernel
    return batch_chunks(batch, channels * kh * kw * layout.plane * itemsize, CHUNK_BYTES)


def conv2d_forward(x: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)`` -> ``(N, C_out, Ho, Wo)``
    (stride 1)."""
    n, out_channels = x.shape[0], weight.shape[0]
    ho, wo = geometry.out_size
    groups = geometry.groups
    layout = FlatLayout.of(geometry)
    weights = weight.reshape(groups, out_channels // groups, -1)
    dtype = np.result_type(x, weight)
    out = np.empty((n, out_channels, ho, wo), dtype=dtype)
    bias_column = None if bias is None else bias.reshape(-1, 1, 1)

    def chunk(images):
        count = images.stop - images.start
        wide = np.matmul(weights, flat_im2col(x[images], geometry, layout))
        outputs = wide.reshape(out_channels, count, layout.plane_rows, layout.row)
        outputs = outputs[:, :, :ho, :wo].transpose(1, 0, 2, 3)
        if bias_column is None:
            out[images] = outputs
        else:
            np.add(outputs, bias_column, out=out[images])

    map_chunks(chunk, _chunks(n, x.shape[1], geometry, layout, x.itemsize))
    return out


def conv2d_weight_grad(x: np.ndarray, grad_out: np.ndarray,
                       geometry: WindowGeometry) -> np.ndarray:
    """x ``(N, C, H, W)``, grad_out ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``
    (stride 1): per chunk and group one GEMM ``dW^T (C/groups*kH*kW, C_out/groups) = cols @
    dY'.T`` (the orientation :mod:`.conv_gemm`'s weight gradient takes, and why)."""
    n, out_channels = grad_out.shape[:2]
    channels = x.shape[1]
    groups = geometry.groups
    kh, kw = geometry.kernel
    layout = FlatLayout.of(geometry)

    def chunk(images):
        cols = flat_im2col(x[images], geometry, layout)
        grads = _widen(grad_out[images], layout).reshape(groups, out_channels // groups, -1)
        return np.matmul(cols, grads.transpose(0, 2, 1))          # (groups, rows, C_out)

    partials = map_chunks(chunk, _chunks(n, channels, geometry, layout, x.itemsize))
    if not partials:
        return np.zeros((out_channels, channels // groups, kh, kw), np.result_type(x, grad_out))
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    if not np.isfinite(total).all():
        # A wrap term 0 * inf would be NaN where im2col has none: compute as im2col does.
        return conv_gemm.conv2d_weight_grad(x, grad_out, geometry)
    return total.transpose(0, 2, 1).reshape(out_channels, channels // groups, kh, kw)


def conv2d_input_grad(grad_out: np.ndarray, weight: np.ndarray, geometry: WindowGeometry,
                      bias: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution (stride 1): grad_out ``(N, C_out, Ho, Wo)``, weight
    ``(C_out, C/groups, kH, kW)`` -> ``(N, C, H, W)`` (plus ``bias (C,)`` when given).

    As the correlation when the output has no more channels than the input
    (:func:`.conv_gemm.input_grad_by_correlation`), else by the flat col2im. Measured at one
    thread (CPU ms, correlation vs flat col2im): ResNet-8's (64,16,32,32)->16 7.4 vs 8.6,
    (64,32,16,16)->32 6.0 vs 6.2, (64,64,8,8)->64 4.8 vs 5.1; bench_conv.py's (b),
    ``C_out = 2C``, 9.8 vs 7.1."""
    out_channels = grad_out.shape[1]
    channels = weight.shape[1] * geometry.groups
    if grad_out.shape[0] and conv_gemm.input_grad_by_correlation(channels, out_channels):
        return conv_gemm.input_grad_as_correlation(grad_out, weight, geometry, bias,
                                                   forward=conv2d_forward)
    if not np.isfinite(weight).all():
        # The wrap columns of W.T @ dY' would be 0 * inf = NaN: compute as im2col does.
        return conv_gemm.conv2d_input_grad(grad_out, weight, geometry, bias)
    return flat_col2im_input_grad(grad_out, weight, geometry, bias)


def flat_col2im_input_grad(grad_out: np.ndarray, weight: np.ndarray,
                           geometry: WindowGeometry, bias: np.ndarray | None = None
                           ) -> np.ndarray:
    """The transposed convolution by ``dcols = W.T @ dY'`` and the flat col2im (stride 1,
    finite ``weight``): grad_out ``(N, C_out, Ho, Wo)`` -> ``(N, C, H, W)``."""
    n, out_channels = grad_out.shape[:2]
    groups = geometry.groups
    per_group = weight.shape[1]
    channels = per_group * groups
    height, width = geometry.in_size
    kh, kw = geometry.kernel
    layout = FlatLayout.of(geometry)
    weights_t = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
    dtype = np.result_type(grad_out, weight)
    whole = (layout.rows, layout.cols) == (height, width)
    image = (np.empty if whole else np.zeros)((n, channels, height, width), dtype=dtype)
    inside = image[:, :, layout.first_row:layout.first_row + layout.rows,
                   layout.first_col:layout.first_col + layout.cols]
    bias_column = None if bias is None else bias.reshape(-1, 1, 1)

    def chunk(images):
        count = images.stop - images.start
        grads = _widen(grad_out[images], layout).reshape(groups, out_channels // groups, -1)
        positions = count * layout.plane
        dcols = np.matmul(weights_t, grads).reshape(channels, kh, kw, positions)
        canvas = np.zeros(channels * positions + layout.margin, dtype=dtype)
        shifted = _shifts(canvas, layout, geometry, channels, positions, writeable=True)
        for _, i, j in geometry.offsets():
            shifted[:, i, j] += dcols[:, i, j]
        planes = _data_view(canvas, layout, (channels, count)).transpose(1, 0, 2, 3)
        if bias_column is None or not whole:
            inside[images] = planes
        else:
            np.add(planes, bias_column, out=inside[images])

    map_chunks(chunk, _chunks(n, channels, geometry, layout, grad_out.itemsize))
    if bias_column is not None and not whole:
        image += bias_column
    return image
