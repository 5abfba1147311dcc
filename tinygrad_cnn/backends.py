"""How convolutions are computed: ``conv_algorithm(name)`` and the cost model behind ``"auto"``.

``"im2col"`` is the lecture's method (unfold the windows into a matrix, then one matrix
product per group); ``"fft"`` correlates through scipy's FFT, whose cost does not grow with
the kernel area; ``"auto"`` (the default) estimates both and takes the cheaper.  All three
give the same results to rounding.

The cost model (seconds per op, each op of the triad costing about the same; constants
measured by ``python benchmarks/bench_conv.py --calibrate --threads 1`` on a 2-core AMD EPYC,
float32):

* im2col: ``gemm_flops / GEMM_FLOPS_PER_SECOND + im2col_elements * COPY_SECONDS``
* fft: ``transformed_planes * fft_area * log2(fft_area) * FFT_SECONDS
  + complex_macs * CMAC_SECONDS``, with the transform size the fft kernels use
  (:func:`tinygrad_cnn.ops.conv_fft.fft_shape`, scipy's ``next_fast_len``)

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

from .ops.conv_fft import fft_shape

ALGORITHMS = ("auto", "im2col", "fft")

_current = contextvars.ContextVar("tinygrad_cnn_conv_algorithm", default="auto")

# Calibrated constants (see the module docstring).
GEMM_FLOPS_PER_SECOND = 6.0e10
COPY_SECONDS = 1.35e-9
FFT_SECONDS = 0.9e-9
CMAC_SECONDS = 0.5e-9


@contextlib.contextmanager
def conv_algorithm(name: str):
    """Compute the convolutions inside the ``with`` block with ``name``: ``"auto"`` (the
    default: the fastest for the shape), ``"im2col"`` or ``"fft"``.

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


def resolve_conv_algorithm(name: str, batch: int, channels: int, out_channels: int,
                           geometry) -> str:
    """``name`` itself, or for ``"auto"`` the algorithm with the lower estimated cost."""
    if name != "auto":
        return name
    costs = estimate_costs(batch, channels, out_channels, geometry)
    return "fft" if costs["fft"] < costs["im2col"] else "im2col"


# PyTorch's ``torch.backends.cudnn`` / ``torch.backends.mps`` switches: accepted, no effect
# (there is no GPU; see ``tinygrad_cnn.devices``).
from .devices import cudnn, mps  # noqa: E402, F401
