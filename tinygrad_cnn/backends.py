"""How convolutions are computed: ``conv_algorithm(name)`` and the cost model behind ``"auto"``.

``"im2col"`` is the lecture's method (unfold the windows into a matrix, then one matrix
product per group); ``"fft"`` correlates through scipy's FFT, whose cost does not grow with
the kernel area; ``"auto"`` (the default) estimates both and takes the cheaper *among the
algorithms that are as accurate as im2col in the input's dtype*.

Accuracy promise of ``"auto"``: it never costs accuracy.  im2col's rounding error is local
(an output's error scales with the products in its own window); an FFT's is global (every
output's error scales with the largest values anywhere in the plane), so next to a bright
pixel an FFT in the input's own precision loses digits that im2col keeps.  Hence
(:func:`fft_compute_dtype`): for float16/float32 inputs "auto" runs the FFT in float64,
whose rounding (1.1e-16) sits 2**29 below float32's, and only when no window an output
reads holds less than 2**-40 of its sample's energy (:data:`FFT_MAX_ENERGY_RATIO`), which
keeps the FFT's error under im2col's at every output whose window is not entirely zero
(there, im2col gives exact zeros and the FFT values below 1e-16 of the plane's scale);
NaN or inf anywhere (which an FFT would spread over the whole plane) and dilated kernels
rule FFT out; float64 inputs have no wider type to compute in, so "auto" keeps them on
im2col.  The check runs only when the cost model prefers FFT (large kernels) and costs a
few passes over the input, without its channels.  An explicit
``conv_algorithm("fft")`` computes in the input's dtype and agrees with im2col to that
dtype's rounding relative to the plane's largest values.

The cost model (seconds per op, each op of the triad costing about the same; constants
measured by ``python benchmarks/bench_conv.py --calibrate --threads 1`` on a 2-core AMD EPYC,
float32):

* im2col: ``gemm_flops / GEMM_FLOPS_PER_SECOND + im2col_elements * COPY_SECONDS``
* fft: ``transformed_planes * fft_area * log2(fft_area) * FFT_SECONDS
  + complex_macs * CMAC_SECONDS``, with the transform size the fft kernels use
  (:func:`tinygrad_cnn.ops.conv_fft.fft_shape`, scipy's ``next_fast_len``), times
  ``FFT_FLOAT64_FACTOR`` when "auto" widens float32 to float64 (complex128 transforms and
  products cost about twice complex64's: measured 72-82 ms against 32-40 ms forward+backward
  for 7x7 to 15x15 kernels on x ``(8, 16, 64, 64)``, against im2col's 88 ms at 7x7)

Crossover measured in one run of ``bench_conv.py --crossover --threads 1 --repeat 5``
(forward+backward, x ``(8, 16, 64, 64)``, 16 output channels, "same" padding; the table in
``docs/performance.md``), im2col vs fft: 3x3 35 vs 72 ms; 5x5 62 vs 61 (the tie point);
7x7 111 vs 45; 9x9 205 vs 46; 11x11 302 vs 49; 15x15 635 vs 52.  The model switches
between 5x5 and 7x7 for this shape and keeps every 3x3 layer of the benchmark on im2col.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from .ops.conv_fft import fft_shape

ALGORITHMS = ("auto", "im2col", "fft")

_current = contextvars.ContextVar("tinygrad_cnn_conv_algorithm", default="auto")

# Calibrated constants (see the module docstring).
GEMM_FLOPS_PER_SECOND = 6.0e10
COPY_SECONDS = 1.35e-9
FFT_SECONDS = 0.9e-9
CMAC_SECONDS = 0.5e-9
FFT_FLOAT64_FACTOR = 2.0
# Largest ratio of a sample's total energy (sum of squares over channels and plane) to the
# energy in the weakest non-empty window an output reads, for which "auto" may use a float64
# FFT on float32 data. The FFT's error at an output scales with the square root of the
# total, im2col's with that of its window; float64 has 2**29 the precision of float32, so
# 2**40 (a factor 2**20 in norm) leaves 2**9 for the FFT's own error growth.
FFT_MAX_ENERGY_RATIO = 2.0 ** 40


@contextlib.contextmanager
def conv_algorithm(name: str):
    """Compute the convolutions inside the ``with`` block with ``name``: ``"auto"`` (the
    default: the fastest for the shape among the algorithms as accurate as im2col in the
    input's dtype, see the module docstring), ``"im2col"`` or ``"fft"``.

    The choice is taken when an op is called and travels with it into its backward (and
    double backward), so a whole training step made inside the block uses it.
    """
    if not isinstance(name, str) or name not in ALGORITHMS:
        raise ValueError(f"conv_algorithm: unknown algorithm {name!r}; choose one of "
                         f"{', '.join(repr(a) for a in ALGORITHMS)}")
    token = _current.set(name)
    try:
        yield name
    finally:
        _current.reset(token)


def current_conv_algorithm() -> str:
    """The algorithm set by the innermost ``conv_algorithm`` block (``"auto"`` outside)."""
    return _current.get()


def estimate_costs(batch: int, channels: int, out_channels: int, geometry) -> dict:
    """Estimated seconds of one convolution-shaped op (forward or either gradient; they
    cost about the same) under each algorithm, for a ``WindowGeometry``."""
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    per_group = channels // geometry.groups
    im2col_elements = batch * channels * kh * kw * ho * wo
    gemm_flops = 2.0 * batch * out_channels * per_group * kh * kw * ho * wo
    im2col = gemm_flops / GEMM_FLOPS_PER_SECOND + im2col_elements * COPY_SECONDS
    fft_h, fft_w = fft_shape(geometry)  # the transform size the fft kernels use
    area = fft_h * fft_w
    transforms = batch * channels + batch * out_channels + out_channels * per_group
    complex_macs = batch * out_channels * per_group * fft_h * (fft_w // 2 + 1)
    fft = (transforms * area * math.log2(max(area, 2)) * FFT_SECONDS
           + complex_macs * CMAC_SECONDS)
    return {"im2col": im2col, "fft": fft}


def fft_compute_dtype(operands, boxes):
    """The dtype "auto" runs an FFT in so that it is as accurate as im2col, or None when no
    FFT is (the accuracy rule of "auto"; the cost model only chooses among eligible ones).

    ``operands`` are the op's two arrays ``(N, C, H, W)``-shaped (or kernels); ``boxes``
    gives for each the ``(h, w)`` box of the window one output reads from it, or None for
    a kernel (read whole by every output). float16/float32 operands: float64 when every
    value is finite and, in each operand with a box, no non-empty window holds less than
    1 / :data:`FFT_MAX_ENERGY_RATIO` of its sample's energy (so the FFT's error, which
    follows the whole plane, stays under im2col's, which follows the window). float64
    operands: None (there is no wider type to compute in)."""
    if any(np.dtype(a.dtype) not in (np.float16, np.float32) for a in operands):
        return None
    for array, box in zip(operands, boxes, strict=True):
        if array.size and not np.isfinite(array).all():
            return None  # an FFT would spread a NaN or inf over the whole plane
        if box is not None and array.size and not _windows_hold_their_share(array, box):
            return None
    return np.float64


def _windows_hold_their_share(array, box) -> bool:
    """Whether every non-empty ``box`` window (all channels; partial windows at the borders
    included) of every sample holds at least 1/FFT_MAX_ENERGY_RATIO of the sample's energy."""
    energy = np.square(array, dtype=np.float64).sum(axis=1)                  # (N, H, W)
    nonzero = (array != 0).any(axis=1).astype(np.int64)
    window_energy = _box_sums(energy, box)
    window_count = _box_sums(nonzero, box)
    total = energy.reshape(len(energy), -1).sum(axis=1).reshape(-1, 1, 1)
    occupied = window_count > 0
    # windows with values whose energy rounds to nothing fail too (<= rather than <)
    weak = occupied & (window_energy * FFT_MAX_ENERGY_RATIO <= total)
    return not weak.any()


def _box_sums(plane, box):
    """Sums of ``plane (N, H, W)`` over every ``box``-sized window that overlaps it (the
    plane zero-padded by ``box - 1`` on each side), by an integral image."""
    bh, bw = box
    height, width = plane.shape[1:]
    integral = np.zeros((len(plane), height + 2 * bh - 1, width + 2 * bw - 1),
                        dtype=plane.dtype)
    np.cumsum(np.cumsum(plane, axis=1), axis=2, out=integral[:, bh:bh + height,
                                                             bw:bw + width])
    integral[:, bh + height:, bw:bw + width] = integral[:, bh + height - 1:bh + height,
                                                         bw:bw + width]
    integral[:, :, bw + width:] = integral[:, :, bw + width - 1:bw + width]
    return (integral[:, bh:, bw:] - integral[:, :-bh or None, bw:]
            - integral[:, bh:, :-bw or None] + integral[:, :-bh or None, :-bw or None])


def operand_boxes(role: str, geometry):
    """The window boxes of the two operands of a convolution-shaped op, for
    :func:`fft_compute_dtype`: ``role`` is ``"forward"`` (x, weight), ``"input_grad"``
    (grad_out, weight) or ``"weight_grad"`` (x, grad_out). None when dilation makes the
    windows sparse (then "auto" keeps to im2col: a box would overstate their energy)."""
    if geometry.dilation != (1, 1):
        return None
    kernel = geometry.kernel
    if role == "forward":
        return (kernel, None)
    if role == "input_grad":  # dx[p] reads grad_out over about kernel/stride positions
        return (tuple(-(-k // s) for k, s in zip(kernel, geometry.stride, strict=True)), None)
    return (kernel, (1, 1))


def resolve_conv_algorithm(name: str, batch: int, channels: int, out_channels: int,
                           geometry, operands=None, role: str = "forward") -> str:
    """``name`` itself, or for ``"auto"`` the cheaper of the algorithms as accurate as
    im2col on ``operands`` (the op's two arrays, ``role`` as in :func:`operand_boxes`; see
    :func:`fft_compute_dtype`). Without ``operands`` the choice is by cost alone, pricing
    the FFT as "auto" runs it on float32 data (in float64)."""
    if name != "auto":
        return name
    costs = estimate_costs(batch, channels, out_channels, geometry)
    if costs["fft"] * FFT_FLOAT64_FACTOR >= costs["im2col"]:
        return "im2col"
    if operands is None:
        return "fft"
    boxes = operand_boxes(role, geometry)
    eligible = boxes is not None and fft_compute_dtype(operands, boxes) is not None
    return "fft" if eligible else "im2col"
