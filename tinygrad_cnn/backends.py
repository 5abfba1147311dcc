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
  + complex_macs * CMAC_SECONDS``

Crossover measured with ``bench_conv.py --crossover`` (forward+backward, x ``(8, 16, 64, 64)``,
16 output channels, "same" padding, 1 thread): 3x3 im2col 73 ms vs fft 151 ms; 5x5 151 vs 109
(another run: 59 vs 71 -- the tie point); 7x7 175 vs 76; 9x9 278 vs 77; 15x15 950 vs 93.
The model puts the switch between 5x5 and 7x7 for this shape and keeps every 3x3 layer of
the benchmark on im2col.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

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


def _fft_size(n: int) -> int:
    # A 5-smooth size at least n, as scipy.fft.next_fast_len picks (cheap and close enough).
    best = 1 << max(0, (n - 1).bit_length())
    for a in (1, 3, 9, 27, 5, 15, 45, 25, 75):
        size = a
        while size < n:
            size *= 2
        best = min(best, size)
    return best


def estimate_costs(batch: int, channels: int, out_channels: int, geometry) -> dict:
    """Estimated seconds of one convolution-shaped op (forward or either gradient; they
    cost about the same) under each algorithm, for a ``ConvGeometry``."""
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    per_group = channels // geometry.groups
    im2col_elements = batch * channels * kh * kw * ho * wo
    gemm_flops = 2.0 * batch * out_channels * per_group * kh * kw * ho * wo
    im2col = gemm_flops / GEMM_FLOPS_PER_SECOND + im2col_elements * COPY_SECONDS
    fft_h = _fft_size(geometry.padded_extent(0))
    fft_w = _fft_size(geometry.padded_extent(1))
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
