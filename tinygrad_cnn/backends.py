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
whose rounding (1.1e-16) sits 2**29 below float32's, and only when the operands' spread
(largest magnitude over mean magnitude, multiplied over the two operands) is at most
:data:`FFT_MAX_SPREAD`, which keeps the FFT's error under float32 rounding of the outputs;
NaN or inf anywhere (which an FFT would spread over the whole plane) rules FFT out; float64
inputs have no wider type to compute in, so "auto" keeps them on im2col.  An explicit
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
# Largest product of the operands' spreads (max |a| / mean |a|) for which "auto" may use a
# float64 FFT on float32 data: 2**16 leaves 2**13 of float64's 2**29 margin over float32
# for the FFT's own error growth (log of the transform size, channel sums).
FFT_MAX_SPREAD = 2.0 ** 16


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


def fft_compute_dtype(*operands):
    """The dtype "auto" runs an FFT in so that it is as accurate as im2col on these arrays
    (the two operands of one convolution-shaped op), or None when FFT is not eligible.

    float16/float32 operands: float64 (``numpy.float64``) when every operand is finite and
    the product of their spreads (max |a| over mean |a|) is at most :data:`FFT_MAX_SPREAD`;
    float64 (or any other) operands: None, there is no wider type to compute in. This is
    the accuracy rule of ``"auto"``; the cost model only chooses among eligible algorithms."""
    if not operands or any(np.dtype(a.dtype) not in (np.float16, np.float32) for a in operands):
        return None
    spread = 1.0
    for array in operands:
        if array.size == 0:
            continue
        magnitude = np.abs(array, dtype=np.float64)
        largest, mean = float(magnitude.max()), float(magnitude.mean())
        if not math.isfinite(largest):
            return None
        if largest > 0:
            spread *= largest / mean
    return np.float64 if spread <= FFT_MAX_SPREAD else None


def resolve_conv_algorithm(name: str, batch: int, channels: int, out_channels: int,
                           geometry, operands=None) -> str:
    """``name`` itself, or for ``"auto"`` the cheaper of the algorithms as accurate as
    im2col on ``operands`` (the op's two arrays; see :func:`fft_compute_dtype`). Without
    ``operands`` the choice is by cost alone, pricing the FFT as "auto" runs it on float32
    data (in float64)."""
    if name != "auto":
        return name
    if operands is not None and fft_compute_dtype(*operands) is None:
        return "im2col"
    costs = estimate_costs(batch, channels, out_channels, geometry)
    return "fft" if costs["fft"] * FFT_FLOAT64_FACTOR < costs["im2col"] else "im2col"
