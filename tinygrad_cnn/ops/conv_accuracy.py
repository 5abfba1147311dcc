"""The accuracy rule of ``conv_algorithm("auto")``: which algorithms are as accurate as im2col.

im2col's rounding error at an output follows the values in its own window; an FFT's follows
the largest values anywhere in the plane, so next to a bright pixel an FFT in the input's
own precision loses digits that im2col keeps. "auto" may therefore pick an FFT only where it
costs no accuracy (:func:`fft_compute_dtype`):

* float16/float32 operands: the FFT runs in float64, whose rounding (1.1e-16) sits 2**29
  below float32's, and only when no window an output reads holds less than
  ``1 / FFT_MAX_ENERGY_RATIO`` of its sample's energy (sum of squares). The FFT's error at
  an output scales with the square root of the total, im2col's with that of its window, so
  this keeps the FFT's error under im2col's at every output whose window is not entirely
  zero (there im2col gives exact zeros and the FFT values below 1e-16 of the plane's scale).
* NaN or inf anywhere (an FFT spreads them over the whole plane), dilated kernels (their
  windows are sparse, a box would overstate their energy) and float64 operands (there is no
  wider type to compute in): im2col.

The cost model (:mod:`.conv_select`) only chooses among the eligible algorithms; this check
runs only when it prefers the FFT, and costs a pass over an operand and a few over its
planes without channels (1.2 ms on x ``(8, 16, 64, 64)``, next to ~55 ms for the float64
FFT step; within a step an operand's energy planes serve both of its boxes).
"""

from __future__ import annotations

import numpy as np

from .conv_memo import remembered

# Largest ratio of a sample's total energy to the energy in the weakest non-empty window an
# output reads: float64 has 2**29 the precision of float32, so 2**40 (2**20 in norm) leaves
# a factor 2**9 for the FFT's own error growth (log of the transform size, channel sums).
FFT_MAX_ENERGY_RATIO = 2.0 ** 40


def fft_compute_dtype(operands, boxes):
    """The dtype "auto" runs an FFT in so that it is as accurate as im2col, or None when no
    FFT is.

    ``operands`` are the op's two arrays ``(N, C, H, W)``-shaped (or kernels); ``boxes``
    gives for each the ``(h, w)`` box of the window one output reads from it, or None for
    a kernel (read whole by every output); see :func:`operand_boxes`."""
    if any(np.dtype(a.dtype) not in (np.float16, np.float32) for a in operands):
        return None
    for array, box in zip(operands, boxes, strict=True):
        # (within a training step the verdict on an operand is computed once: .conv_memo)
        if not remembered("fft eligible", array, box, lambda a=array, b=box: _eligible(a, b)):
            return None
    return np.float64


def all_finite(array) -> bool:
    """Whether ``array`` holds no NaN or inf, by the finiteness of its sum (one pass, about
    0.2 ns per element, a fifth of ``isfinite(...).all()``'s; a sum that overflows says "no",
    which only keeps the op on im2col); within a training step computed once per operand
    array (:mod:`.conv_memo`)."""
    return bool(remembered("finite", array, None,
                           lambda: np.bool_(np.isfinite(np.sum(array, dtype=_sum_dtype(array))))))


def _sum_dtype(array):
    # float16 sums overflow at 65504: add them up in float32
    return np.float32 if array.dtype == np.float16 else None


def _eligible(array, box) -> np.bool_:
    if array.size and not all_finite(array):
        return np.False_
    return np.bool_(box is None or not array.size or _windows_hold_their_share(array, box))


def operand_boxes(role: str, geometry):
    """The window boxes of the two operands of a convolution-shaped op: ``role`` is
    ``"forward"`` (x, weight), ``"input_grad"`` (grad_out, weight) or ``"weight_grad"``
    (x, grad_out); None for dilated kernels (then "auto" keeps to im2col)."""
    if geometry.dilation != (1, 1):
        return None
    kernel = geometry.kernel
    if role == "forward":
        return (kernel, None)
    if role == "input_grad":  # dx[p] reads grad_out over about kernel/stride positions
        return (tuple(-(-k // s) for k, s in zip(kernel, geometry.stride, strict=True)), None)
    return (kernel, (1, 1))


def _windows_hold_their_share(array, box) -> bool:
    """Whether every non-empty ``box`` window (all channels; partial windows at the borders
    included) of every sample holds at least 1/FFT_MAX_ENERGY_RATIO of the sample's energy."""
    n = len(array)
    # (one operand is checked for two boxes in a step: its planes are computed once)
    planes = remembered("energy planes", array, None, lambda: _energy_planes(array))
    total = planes[:n].reshape(n, -1).sum(axis=1).reshape(-1, 1, 1)
    # a 1x1 box's sums are the planes themselves
    sums = planes if tuple(box) == (1, 1) else _box_sums(planes, box)
    window_energy, window_count = sums[:n], sums[n:]
    # windows with values whose energy rounds to nothing fail too (<= rather than <)
    weak = (window_count > 0) & (window_energy * FFT_MAX_ENERGY_RATIO <= total)
    return not weak.any()


def _energy_planes(array) -> np.ndarray:
    """``(2N, H, W)`` float64 of ``array (N, C, H, W)``: each pixel's energy (its squares
    summed over the channels, exact products) then 1.0 where it holds a nonzero value (the
    two box-summed in one pass; counts are exact in float64)."""
    n = len(array)
    planes = np.empty((2 * n,) + array.shape[2:], np.float64)
    np.einsum("nchw,nchw->nhw", array, array, dtype=np.float64, out=planes[:n])
    planes[n:] = np.logical_or.reduce(array != 0, axis=1)
    return planes


def _box_sums(plane, box):
    """Sums of ``plane (N, H, W)`` over every ``box``-sized window that overlaps it (the
    plane zero-padded by ``box - 1`` on each side), by an integral image."""
    bh, bw = box
    height, width = plane.shape[1:]
    integral = np.zeros((len(plane), height + 2 * bh - 1, width + 2 * bw - 1),
                        dtype=plane.dtype)
    np.cumsum(np.cumsum(plane, axis=1), axis=2,
              out=integral[:, bh:bh + height, bw:bw + width])
    integral[:, bh + height:, bw:bw + width] = integral[:, bh + height - 1:bh + height,
                                                         bw:bw + width]
    integral[:, :, bw + width:] = integral[:, :, bw + width - 1:bw + width]
    return (integral[:, bh:, bw:] - integral[:, :-bh or None, bw:]
            - integral[:, bh:, :-bw or None] + integral[:, :-bh or None, :-bw or None])
