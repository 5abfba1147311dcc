"""Which kernel computes a convolution: the cost model behind ``conv_algorithm("auto")``.

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

"auto" chooses only among the algorithms as accurate as im2col in the input's dtype
(:mod:`.conv_accuracy`): an FFT for float32 data runs in float64, which costs about twice a
float32 FFT (complex128 transforms and products; measured forward+backward on x
``(8, 16, 64, 64)``, one thread, fft float32 / float64 / im2col: 7x7 33 / 72 / 88 ms, 9x9
32 / 77 / 176, 15x15 40 / 82 / 554), so the FFT estimate is multiplied by
``FFT_FLOAT64_FACTOR`` and "auto" now switches between 7x7 and 9x9 for that shape.

Winograd (:mod:`.conv_winograd`, 3x3 stride-1 undilated layers only; ``a = m + 2``, ``T``
tiles of ``m x m`` outputs): ``2 * a*a * T * C/groups * C_out / GEMM_FLOPS_PER_SECOND +
a*a * T * (C + C_out) * WINOGRAD_ELEMENT_SECONDS[name]`` (the frequency-wise GEMMs, then the
transforms and layout copies, priced per transformed element). The element constants were
fitted on eleven 3x3 layers (``(64,1,28,28)->32`` to ``(8,256,8,8)->256``, the three
directions timed one after the other at one thread, CPU time): F(2x2) 1.25e-9 s, F(4x4)
1.5e-9 s. With the GEMM priced at the same rate as im2col's, that value puts every one of
those layers on the side that measured faster: im2col for one or three input channels and
for ``(64,8,28,28)->16`` (im2col 13.9 ms, F(2x2) 19.5), F(2x2) for the rest, including
bench_conv.py's (b) (22.7 vs 27.2 ms) and (c) (137 vs 177 ms); the break-even constant of
the closest pair ((128,32,7,7)->64 and (64,8,28,28)->16) is 1.23-1.29e-9.
"auto" considers F(2x2) (``"winograd_f2"``) in every float dtype (its rounding error has
im2col's form: each output's arithmetic reads only its own window, transforms exact in
binary) and F(4x4) (``"winograd"``) only for float16/float32 operands where the program
allows reduced float32 precision in convolutions (``backends.mkldnn.conv.fp32_precision =
"tf32"``, PyTorch's switch, default ``"ieee"``; its error follows the largest values of a 6x6 tile,
up to ten times im2col's in float32, within the bound stated in :mod:`.conv_winograd`);
either only for finite operands (its transforms multiply zeros by every tile value, so an inf
spreads a NaN over its tile; im2col keeps it in its windows; the check is one sum per operand
array, memoised over a training step: :func:`.conv_accuracy.all_finite`). With F(4x4)
allowed, the 3x3 stride-1 layers of the benchmarks with 8 or more input channels run it
(on (c) about 0.6x of F(2x2)'s time and 0.4x of im2col's).

``"im2col_flat"`` (:mod:`.im2col_flat`, stride-1 layers) computes im2col's sums in im2col's
order, so "auto" weighs it against im2col by speed alone, per op of the triad: its estimate
is im2col's times the ratio of two finer models, ``products + copies`` for each. im2col's
copies cost ``COPY_SECONDS`` per element, scaled by ``(1 + r/Wo) / (1 + r/32)`` for the
per-row overhead of its ``Wo``-long rows (``r = COPY_ROW_ELEMENTS``, normalised to the
32-wide rows ``COPY_SECONDS`` was calibrated on), plus ``COL2IM_SECONDS`` per element for
col2im where :mod:`.conv_gemm` uses it (stride 1 with ``C_out > C``; else it copies
``C_out`` planes' windows for the correlation) and its adds run one output row each; where
the output rows are as wide as the input's, col2im adds whole flat runs
(:func:`.im2col.same_width_shifts`) and the copies' term prices it alone (fitted later, on
the Intel host below: the input gradients of 7 "same" layers, flat over im2col measured
0.96-1.48 and 2.3 for (a), the model 1.00-1.26 and 2.5, against 0.77-0.98 with the term).
The flat kernels run their products over ``R*S`` positions per plane instead of ``Ho*Wo``
(the weight gradient's further ``FLAT_WEIGHT_GRAD_FACTOR``), copy ``FLAT_COPY_SECONDS`` (or
add, col2im: ``FLAT_ADD_SECONDS``) per element of the flat matrix, and move the input and
output planes between layouts at ``RELAYOUT_SECONDS`` per element. The constants were fitted
(least squares on the log of the time ratio) to one-thread CPU-time ratios, flat over
im2col, interleaved, of 9 layers x 3 directions ((a), (b), (c), the ResNet-8 stages (64,
3/16/32/64, 32/32/16/8), a (16, 128, 16, 16) -> 64 and a 5x5 (32, 16, 28, 28) -> 32;
measured: forward 0.81-0.88 on the ResNet-8 stages, 0.96-0.97 on (b) and (c), 1.03-1.10 on
the last two, 1.2-2.1 with 1-3 input channels; input gradient 0.70-0.93, 1.96 on (a); weight
gradient 0.87-0.93 on the 16x16 and 8x8 stages, 0.99-1.03 on the other wide layers, 1.9-2.6
with 1-3 input channels); the fit's error is 6% rms, at most 1.2x (the 16x16, 16-channel
forward, predicted 0.97 for 0.81). The model then keeps (a) on im2col (one input channel:
moving the 32 output planes between layouts costs more than the short copies save) and the
forward and weight gradient of the 3-channel first ResNet-8 layer. Against F(2x2) (priced
above) the flat kernels now win only where Winograd does not apply (5x5, dilated and other
non-3x3 stride-1 layers, and the first ResNet-8 layer's input gradient): measured after the
Winograd kernels sped up (CPU ms, im2col / flat / F(2x2)), (b) forward 7.44 / 6.75 / 6.89,
input gradient 11.7 / 8.11 / 8.43, weight gradient 9.15 / 8.36 / 7.90; ResNet-8's
(64,16,32,32)->16 forward 11.9 / 9.33 / 10.3, input gradient 11.3 / 9.24 / 10.4 (there
F(2x2) is picked although the flat kernels measured ~10% faster, within the two models'
error); the 16x16 and 8x8 stages F(2x2) by 15-35%.

An explicit ``"winograd"`` / ``"winograd_f2"`` / ``"im2col_flat"`` on a layer it does not
compute (Winograd: not 3x3, strided or dilated; flat: strided) runs im2col.

Stride phases (:mod:`.conv_strided`, ``"im2col_phases"``, strided undilated layers) compute
im2col's sums (the extra positions' terms are exact zeros, so the rounding is im2col's), so
"auto" weighs the two by speed alone, per op, as for the flat kernels: the phases' estimate
is im2col's times the ratio of two finer models (:func:`_strided_pair`). im2col: the
products, plus ``STRIDED_COPY_SECONDS`` per window element copied (its input gradient:
``STRIDED_COL2IM_SECONDS`` per element added back by col2im's strided adds). The phases:
the products over ``N * R * S`` positions (``R = Ho + ceil(kH/sH) - 1``, ``S = Wo +
ceil(kW/sW) - 1``), ``PHASE_COPY_SECONDS`` per column element, and
``PHASE_RELAYOUT_SECONDS`` per element of the input (its phase planes) and of the output
side (the output moved out of the planes' grid, or the output gradient onto it). A 1x1
layer without padding runs :mod:`.conv_pointwise` under that name: the products and
``POINTWISE_SECONDS`` per element subsampled or written. The six constants were fitted
(least squares on the log of the time ratio, rms error 12%) to 36 one-thread ratios,
phases over im2col, interleaved, on an Intel Xeon VM (AVX-512, 2 MiB L2 per core): 12
strided layers (bench_conv.py's (d), the ResNet-8 and ResNet-50-like 3x3 stride-2 layers and
1x1 shortcuts, a 7x7 stride-2 stem at 224x224, one- and three-channel input layers, a
stride-3 layer) x 3 ops. Measured: the forward 0.95-2.3x faster by im2col, whose window
copies cost less than moving the input and output between layouts (the stem alone 5%
slower), the input gradient 1.05-1.8x faster by the phases (col2im's strided adds; but
1.7x slower with one input channel), the weight gradient either way within 10% on the
larger layers. (The constants before were the AMD EPYC's, where the phases' forward
measured no slower: there "auto" took the phases for every op.)

What a training step's ops share enters the prices too (:func:`_reuse`, :mod:`.conv_memo`):
a forward whose backward computes the weight gradient is priced with it. An im2col forward
keeps its columns for that weight gradient (when they fit in
:data:`.conv_memo.KEEP_BYTES`), which then costs only its products; the phases' weight
gradient reuses the forward's phase planes and the input gradient's grid (strided input
gradients run on the phases). A weight gradient whose forward kept its columns runs on
them; one whose forward or input gradient left phase planes or a grid is priced without
moving them again. Measured forward+backward at one thread (ms, im2col / phases / im2col
against the phases for all three, what "auto" took before): (d) 6.6-6.9 against 7.5-8.0;
ResNet-8's (64,16,32,32) 3x3 stride 2 -> 32 11.1-11.4 against 11.8-12.5, its 1x1 shortcut
1.7-1.9 against 2.0-2.1; a one-channel 3x3 stride-2 layer (64,1,28,28) -> 32 1.2-1.3 (im2col
for all three) against 2.4; the 7x7 stem, whose 59 MB of columns are not kept, stays on the
phases for all three (79-83 against 95-97).

The FFT kernels were made faster after these constants were measured (float64 forward+
backward of (e) about 2x faster): the FFT would now also win on the (8, 16, 64, 64) sweep's
5x5 and 7x7 kernels, but rescaling the FFT constants alone would also move (c)'s shape with
5x5 kernels to the FFT, where im2col measured faster (116 vs 197 ms forward, one thread):
this model prices large GEMMs at the skinny-GEMM rate. So the constants stay (conservative:
"auto" keeps 7x7 on im2col) until the im2col term is recalibrated.

The user's switch is :func:`tinygrad_cnn.backends.conv_algorithm`; this module only prices
and picks, per op of the triad, in :mod:`.conv`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import conv_memo
from .conv_accuracy import FFT_MAX_ENERGY_RATIO, all_finite, fft_compute_dtype, operand_boxes
from .conv_fft import fft_shape
from .conv_gemm import input_grad_by_correlation, keeps_columns
from .conv_strided import supports as phases_supports
from .conv_winograd import supports as winograd_supports
from .im2col import same_width_shifts
from .im2col_flat import FlatLayout
from .im2col_flat import supports as flat_supports
from .precision import conv_allows_reduced_precision

__all__ = ["estimate_costs", "resolve_conv_algorithm", "fft_compute_dtype", "operand_boxes",
           "GEMM_FLOPS_PER_SECOND", "COPY_SECONDS", "FFT_SECONDS", "CMAC_SECONDS",
           "FFT_FLOAT64_FACTOR", "FFT_MAX_ENERGY_RATIO", "WINOGRAD_ELEMENT_SECONDS",
           "FLAT_COPY_SECONDS", "FLAT_ADD_SECONDS", "RELAYOUT_SECONDS", "COL2IM_SECONDS",
           "COPY_ROW_ELEMENTS", "FLAT_WEIGHT_GRAD_FACTOR", "PHASE_COPY_SECONDS",
           "STRIDED_FLOP_SECONDS", "STRIDED_COPY_SECONDS", "STRIDED_COL2IM_SECONDS",
           "PHASE_RELAYOUT_SECONDS", "POINTWISE_SECONDS", "reduced_precision",
           "benchmark_candidates", "BENCHMARK_PRICE_SPAN"]

# Calibrated constants (see the module docstring).
GEMM_FLOPS_PER_SECOND = 6.0e10
COPY_SECONDS = 1.35e-9
FFT_SECONDS = 0.9e-9
CMAC_SECONDS = 0.5e-9
FFT_FLOAT64_FACTOR = 2.0  # "auto" runs FFTs of float32 data in float64 (see the docstring)
WINOGRAD_ELEMENT_SECONDS = {"winograd_f2": 1.25e-9, "winograd": 1.5e-9}
# stride phases against im2col (fitted, see the module docstring): relative costs per
# multiply-add of the products, per element copied (im2col), added back (its col2im),
# copied from the phase planes, moved between layouts, and subsampled (1x1 layers)
STRIDED_FLOP_SECONDS = 4.74e-12
STRIDED_COPY_SECONDS = 1.87e-9
STRIDED_COL2IM_SECONDS = 3.12e-9
PHASE_COPY_SECONDS = 1.39e-9
PHASE_RELAYOUT_SECONDS = 0.94e-9
POINTWISE_SECONDS = 0.64e-9
_WINOGRAD_TILE = {"winograd": 4, "winograd_f2": 2}
# im2col_flat against im2col (fitted, see the module docstring)
FLAT_COPY_SECONDS = 0.96e-9
FLAT_ADD_SECONDS = 0.98e-9
RELAYOUT_SECONDS = 1.09e-9
COL2IM_SECONDS = 0.75e-9
COPY_ROW_ELEMENTS = 15
FLAT_WEIGHT_GRAD_FACTOR = 1.10
# benchmark mode (:mod:`.conv_tune`) times the algorithms priced within this factor of the
# cheapest (the model's error is well inside it)
BENCHMARK_PRICE_SPAN = 3.0
_DIRECT = ("im2col", "im2col_flat", "im2col_phases")


def _flat_over_im2col(batch, channels, out_channels, geometry, role) -> float:
    """``"im2col_flat"``'s time over im2col's for one op of the triad, by a finer model of
    both (see the module docstring): the products over the computed positions, the copies
    per element plus, for im2col's ``Wo``-long rows, a per-row overhead, col2im's adds,
    the flat layout's copies between layouts."""
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    height, width = geometry.in_size
    taps = kh * kw
    layout = FlatLayout.of(geometry)
    products = (2.0 * batch * out_channels * (channels // geometry.groups) * taps * ho * wo
                / GEMM_FLOPS_PER_SECOND)
    short_rows = (1 + COPY_ROW_ELEMENTS / wo) / (1 + COPY_ROW_ELEMENTS / 32)
    correlation = input_grad_by_correlation(channels, out_channels)  # dx at stride 1
    copied = out_channels if role == "input_grad" and correlation else channels
    im2col = products + batch * copied * taps * ho * wo * COPY_SECONDS * short_rows
    if role == "input_grad" and not correlation and same_width_shifts(geometry) is None:
        # (where output rows are as wide as the input's, col2im adds flat runs: see the
        # module docstring)
        im2col += batch * channels * taps * ho * wo * COL2IM_SECONDS * short_rows
    flat = (products * layout.positions_per_output(geometry)
            * (FLAT_WEIGHT_GRAD_FACTOR if role == "weight_grad" else 1.0)
            + batch * (channels * height * width + out_channels * ho * wo) * RELAYOUT_SECONDS)
    flat_rows = batch * taps * layout.plane
    if role != "input_grad":
        flat += flat_rows * channels * FLAT_COPY_SECONDS
    elif correlation:
        flat += flat_rows * out_channels * FLAT_COPY_SECONDS
    else:
        flat += flat_rows * channels * FLAT_ADD_SECONDS
    return flat / im2col if im2col > 0 else 1.0   # an empty batch costs nothing either way


class _StridedPrices(NamedTuple):
    """One op of a strided layer in the finer model of :func:`_strided_pair` (seconds):
    ``im2col`` and ``phases`` whole, their common ``products`` (im2col's positions), and
    the phases' moves of the input side (``planes``: the input's phase planes, or the 1x1
    subsample) and of the output side (``grid``: the output gradient on the planes' grid),
    which a step's ops share."""

    im2col: float
    phases: float
    products: float
    planes: float
    grid: float


def _strided_pair(batch, channels, out_channels, geometry, role) -> _StridedPrices:
    """im2col's and the stride phases' cost of one op of a strided layer, in the finer
    model fitted to their ratio (see the module docstring): the products (over the extra
    positions too, for the phases), im2col's window copies (its input gradient: col2im's
    adds), the phases' column copies and the input-side and output-side planes moved
    between layouts; a 1x1 layer without padding runs :mod:`.conv_pointwise`, a subsample
    and the products."""
    kh, kw = geometry.kernel
    ho, wo = geometry.out_size
    sh, sw = geometry.stride
    rows, cols = ho + -(-kh // sh) - 1, wo + -(-kw // sw) - 1
    flops = 2.0 * batch * out_channels * (channels // geometry.groups) * kh * kw \
        * STRIDED_FLOP_SECONDS                                  # per output position
    windows = batch * channels * kh * kw
    per_copy = STRIDED_COL2IM_SECONDS if role == "input_grad" else STRIDED_COPY_SECONDS
    products = ho * wo * flops
    im2col = products + ho * wo * windows * per_copy
    if tuple(geometry.kernel) == (1, 1) and all(p == (0, 0) for p in geometry.padding):
        sampled = batch * channels * ho * wo * POINTWISE_SECONDS
        written = batch * out_channels * ho * wo * POINTWISE_SECONDS
        return _StridedPrices(im2col, products + sampled + written, products, sampled, 0.0)
    planes = batch * channels * geometry.in_size[0] * geometry.in_size[1] * PHASE_RELAYOUT_SECONDS
    grid = batch * out_channels * ho * wo * PHASE_RELAYOUT_SECONDS
    phases = rows * cols * (flops + windows * PHASE_COPY_SECONDS) + planes + grid
    return _StridedPrices(im2col, phases, products, planes, grid)


def _phases_over_im2col(batch, channels, out_channels, geometry, role,
                        reuse: frozenset = frozenset()) -> float:
    """The stride phases' time over im2col's for one op of a strided layer
    (:func:`_strided_pair`), with what a training step's ops share (:mod:`.conv_memo`,
    ``reuse``, see :func:`_reuse`). A forward whose backward computes the weight gradient
    (``"input"``) is priced together with that weight gradient: im2col's costs only its
    products when the forward keeps its columns for it (``"columns"``), the phases' less
    the moves the step's other ops made for it (the forward's planes, the input gradient's
    grid: strided input gradients run on the phases). A weight gradient saves the phases
    what its forward (``"planes"``) or input gradient (``"grid"``) left in the memo."""
    op = _strided_pair(batch, channels, out_channels, geometry, role)
    im2col, phases = op.im2col, op.phases
    if role == "forward" and "input" in reuse:
        gradient = _strided_pair(batch, channels, out_channels, geometry, "weight_grad")
        im2col += gradient.products if "columns" in reuse else gradient.im2col
        phases += gradient.phases - gradient.planes - gradient.grid
    elif role == "weight_grad":
        phases -= op.planes * ("planes" in reuse) + op.grid * ("grid" in reuse)
    return phases / im2col if im2col > 0 else 1.0   # an empty batch costs nothing either way


def estimate_costs(batch: int, channels: int, out_channels: int, geometry,
                   role: str = "forward") -> dict:
    """Estimated seconds of one convolution-shaped op (forward or either gradient, per
    ``role`` as in :func:`.conv_accuracy.operand_boxes`; only ``"im2col_flat"`` and
    ``"im2col_phases"`` are priced per role) under each algorithm, on its own (in a training
    step "auto" also weighs what the step's ops share), for a ``WindowGeometry`` (the
    Winograd entries only where Winograd computes the geometry, ``"im2col_flat"`` where it
    does: stride 1, ``"im2col_phases"`` only for strided undilated layers)."""
    return _costs(batch, channels, out_channels, geometry, role)


def _costs(batch, channels, out_channels, geometry, role, reuse=frozenset()) -> dict:
    """:func:`estimate_costs`, the strided kernels priced with what the step's ops share
    (``reuse``, :func:`_reuse`)."""
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
    costs = {"im2col": im2col, "fft": fft}
    if flat_supports(geometry):
        costs["im2col_flat"] = im2col * _flat_over_im2col(batch, channels, out_channels,
                                                          geometry, role)
    if tuple(geometry.stride) != (1, 1) and phases_supports(geometry):
        costs["im2col_phases"] = im2col * _phases_over_im2col(
            batch, channels, out_channels, geometry, role, reuse)
    if winograd_supports(geometry):
        for name, m in _WINOGRAD_TILE.items():
            a = m + 2
            tiles = batch * -(-ho // m) * -(-wo // m)
            costs[name] = (2.0 * a * a * tiles * per_group * out_channels / GEMM_FLOPS_PER_SECOND
                           + a * a * tiles * (channels + out_channels)
                           * WINOGRAD_ELEMENT_SECONDS[name])
    return costs


def _reuse(batch, channels, geometry, operands, role) -> frozenset:
    """What this op of a training step shares with the others (:mod:`.conv_memo`), for the
    strided kernels' prices (:func:`_phases_over_im2col`): a forward whose backward computes
    the weight gradient, ``"input"``, and ``"columns"`` when an im2col forward would keep
    its columns for it (:func:`.conv_gemm.keeps_columns`); a weight gradient,
    ``"planes"`` when its forward kept the input's phase planes (or 1x1 subsample) and
    ``"grid"`` when its input gradient kept the output gradient's grid."""
    if operands is None:
        return frozenset()
    if role == "weight_grad":
        shared = set()
        if conv_memo.holds(operands[0]) & {"phase planes", "sampled input"}:
            shared.add("planes")
        if "phase grid" in conv_memo.holds(operands[1]):
            shared.add("grid")
        return frozenset(shared)
    if role != "forward" or not conv_memo.keeps_input():
        return frozenset()
    if keeps_columns(operands[0].shape, geometry, np.dtype(operands[0].dtype).itemsize):
        return frozenset({"input", "columns"})
    return frozenset({"input"})


def benchmark_candidates(batch: int, channels: int, out_channels: int, geometry, operands,
                         role: str = "forward") -> tuple:
    """The algorithms "auto" may run on ``operands`` (the op's two arrays; its accuracy
    promise as in :func:`resolve_conv_algorithm`) that the cost model prices within
    ``BENCHMARK_PRICE_SPAN`` of the cheapest of them, and always the cheapest of the
    im2col family, cheapest first: what benchmark mode times (:mod:`.conv_tune`). Priced
    each on its own, not with what a training step's ops share, so that the same op on the
    same data gets the same candidates wherever it runs (the trials themselves see what the
    step kept)."""
    costs = _costs(batch, channels, out_channels, geometry, role)
    reduced = reduced_precision(operands)
    prices = {name: costs[name] for name in _DIRECT if name in costs}
    direct = min(prices, key=prices.get)
    for name in ("winograd_f2", "winograd") if reduced else ("winograd_f2",):
        if name in costs:
            prices[name] = costs[name]
    prices["fft"] = costs["fft"] * FFT_FLOAT64_FACTOR     # priced as in "auto"
    limit = BENCHMARK_PRICE_SPAN * prices[direct]
    # The data is checked only for algorithms within the span of the direct method (the
    # FFT's check reads the operands); the span then counts from the cheapest of those.
    eligible = [name for name in sorted(prices, key=prices.get)
                if prices[name] <= limit and _admits(name, operands, role, geometry, reduced)]
    limit = BENCHMARK_PRICE_SPAN * prices[eligible[0]]
    return tuple(name for name in eligible if prices[name] <= limit or name == direct)


def reduced_precision(operands) -> bool:
    """Whether "auto" may trade accuracy for speed on ``operands`` (None: float32 ones): the
    program allows reduced float32 precision in convolutions
    (``backends.mkldnn.conv.fp32_precision`` "tf32"/"bf16", :mod:`.precision`) and the
    operands are float16/float32. Then "auto" also weighs Winograd F(4x4) (error bound in
    :mod:`.conv_winograd`) and the FFT in the operands' own dtype (error relative to the
    plane's largest values, about 1e-6 in float32), each far inside TF32's 10 bits."""
    if not conv_allows_reduced_precision():
        return False
    return operands is None or all(np.dtype(a.dtype) in (np.float16, np.float32)
                                   for a in operands)


def resolve_conv_algorithm(name: str, batch: int, channels: int, out_channels: int,
                           geometry, operands=None, role: str = "forward") -> str:
    """``name`` itself (``"im2col"`` for a Winograd name or ``"im2col_flat"`` on a layer it
    does not compute), or for ``"auto"`` the cheapest of the algorithms as accurate as im2col on
    ``operands`` (the op's two arrays, ``role`` as in
    :func:`.conv_accuracy.operand_boxes`). Without ``operands`` the choice is by cost alone,
    pricing the FFT as "auto" runs it on float32 data (in float64)."""
    if name in _WINOGRAD_TILE:
        return name if winograd_supports(geometry) else "im2col"
    if name == "im2col_flat":
        return name if flat_supports(geometry) else "im2col"
    if name == "im2col_phases":
        return name if phases_supports(geometry) else "im2col"
    if name != "auto":
        return name
    if role == "weight_grad" and operands is not None and conv_memo.kept(
            "im2col", operands[0], geometry):
        return "im2col"   # the forward kept its columns: only the products are left
    costs = _costs(batch, channels, out_channels, geometry, role,
                   _reuse(batch, channels, geometry, operands, role))
    # The im2col family computes the same sums (same rounding): the cheapest is "the direct
    # method" (flat layout at stride 1, stride phases at larger strides).
    direct = min(_DIRECT, key=lambda n: costs.get(n, math.inf))
    reduced = reduced_precision(operands)
    winograd = "winograd" if reduced and costs.get("winograd", math.inf) < costs.get(
        "winograd_f2", math.inf) else "winograd_f2"
    # Priced as the float64 FFT even where it runs in float32 (about twice as fast): the
    # im2col term overprices large GEMMs (see the docstring), so the boundary stays put.
    fft = costs["fft"] * FFT_FLOAT64_FACTOR
    if costs.get(winograd, math.inf) < min(costs[direct], fft):
        return winograd if _admits(winograd, operands, role, geometry, reduced) else direct
    if fft >= costs[direct]:
        return direct
    return "fft" if _admits("fft", operands, role, geometry, reduced) else direct


def _admits(name: str, operands, role: str, geometry, reduced: bool) -> bool:
    """Whether "auto" may run ``name`` on ``operands`` (None: by cost alone) within its
    accuracy promise: the im2col family always; Winograd only on finite data (its
    transforms multiply by zeros, and 0 * inf spreads a NaN over the tile); the FFT, in the
    operands' dtype where reduced precision is allowed (:mod:`.conv`), on finite data (a NaN
    would spread over the plane), else in float64 where no window is much weaker than its
    plane (:mod:`.conv_accuracy`)."""
    if name in _DIRECT or operands is None:
        return True
    if name != "fft" or reduced:
        return all(all_finite(a) for a in operands)
    boxes = operand_boxes(role, geometry)
    return boxes is not None and fft_compute_dtype(operands, boxes) is not None
