"""The user's switches: how convolutions are computed, ``conv_algorithm(name)``.

``"im2col"`` is the lecture's method (unfold the windows into a matrix, then one matrix
product per group); ``"fft"`` correlates through scipy's FFT, whose cost does not grow with
the kernel area; ``"winograd"`` computes 3x3 stride-1 undilated layers by Winograd's
F(4x4, 3x3) (4x fewer multiplications; rounding error up to about ten times im2col's in
float32, following the largest values of each 6x6 input tile) and ``"winograd_f2"`` by
F(2x2, 3x3) (2.25x fewer; im2col's error form), both running im2col on other layers
(:mod:`tinygrad_cnn.ops.conv_winograd`); ``"im2col_flat"`` is im2col for stride-1 layers
with each plane stored as one flat padded run, so the window copies (and col2im's adds)
are a few long contiguous runs instead of one per output row; the same sums as im2col,
its accuracy (:mod:`tinygrad_cnn.ops.im2col_flat`); ``"im2col_phases"`` is im2col for strided
layers split into stride phases in a flat layout (long copies instead of one output row at a
time; the same products, so im2col's rounding; :mod:`tinygrad_cnn.ops.conv_strided`, im2col on
dilated layers); ``"auto"`` (the default) estimates each and takes the cheapest *among the
algorithms as accurate as im2col in the input's dtype* (unless reduced float32 precision is
allowed: below).

Accuracy promise of ``"auto"``: never less accurate than im2col in the input's dtype, unless
the program allows reduced float32 precision for speed. An FFT's rounding error follows the
largest values anywhere in the plane, im2col's the values in each output's window, so for
float16/float32 data "auto" runs the FFT in float64 and only when no window is much weaker
than its plane (a bright pixel keeps the layer on im2col); float64 data, NaN/inf and dilated
kernels stay on im2col (:mod:`tinygrad_cnn.ops.conv_accuracy`). Of Winograd, "auto" takes
F(2x2) in any float dtype (each output's arithmetic reads only its own window, with
transforms exact in binary) and, for float16/float32 data only where the program allows
reduced float32 precision in convolutions as PyTorch spells it,
``backends.mkldnn.conv.fp32_precision = "tf32"`` (or ``"bf16"``, or either through
``backends.fp32_precision``; default ``"ieee"``: :mod:`tinygrad_cnn.ops.precision`), F(4x4),
whose error follows each 6x6 tile's largest values within the bound stated in
:mod:`tinygrad_cnn.ops.conv_winograd` (measured 2-9e-6 of ``max |y|`` in float32, against
im2col's 2-7e-7 and PyTorch's own weight gradient's 2-4e-6; TF32 itself keeps 10 mantissa
bits); there too the FFT it picks for large kernels runs in the data's dtype, without the
accuracy check (error about 1e-6 of the plane's largest values in float32). Non-finite data
stays on im2col. An explicit ``"fft"`` computes in the input's dtype
and agrees with im2col to rounding relative to the plane's largest values.

The cost model behind ``"auto"`` (its constants, calibration and measured crossover) lives
with the kernels it prices, in :mod:`tinygrad_cnn.ops.conv_select`; its functions and
constants are re-exported here for inspection. Its constants were measured on two machines;
with PyTorch's ``backends.cudnn.benchmark = True`` "auto" instead times the algorithms it
may use (the same accuracy promise) on each new configuration's first call and keeps the
fastest (:mod:`tinygrad_cnn.ops.conv_tune`).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import types

from .ops.conv_select import (
    CMAC_SECONDS,
    COPY_SECONDS,
    FFT_FLOAT64_FACTOR,
    FFT_MAX_ENERGY_RATIO,
    FFT_SECONDS,
    GEMM_FLOPS_PER_SECOND,
    PHASE_COPY_SECONDS,
    WINOGRAD_ELEMENT_SECONDS,
    estimate_costs,
    fft_compute_dtype,
    operand_boxes,
    resolve_conv_algorithm,
)

__all__ = [
    "conv_algorithm", "current_conv_algorithm", "ALGORITHMS",
    "resolve_conv_algorithm", "estimate_costs", "fft_compute_dtype", "operand_boxes",
    "GEMM_FLOPS_PER_SECOND", "COPY_SECONDS", "FFT_SECONDS", "CMAC_SECONDS",
    "FFT_FLOAT64_FACTOR", "FFT_MAX_ENERGY_RATIO", "WINOGRAD_ELEMENT_SECONDS",
    "PHASE_COPY_SECONDS", "cudnn", "mps", "mkldnn",
]

ALGORITHMS = ("auto", "im2col", "fft", "winograd", "winograd_f2", "im2col_flat",
              "im2col_phases")

_current = contextvars.ContextVar("tinygrad_cnn_conv_algorithm", default="auto")


@contextlib.contextmanager
def conv_algorithm(name: str):
    """Compute the convolutions inside the ``with`` block with ``name``: ``"auto"`` (the
    default: the fastest for the shape among the algorithms within its accuracy promise, see
    the module docstring), ``"im2col"``, ``"fft"``, ``"winograd"``
    (F(4x4, 3x3)), ``"winograd_f2"`` (F(2x2, 3x3)), ``"im2col_flat"`` (im2col with long
    window copies, :mod:`tinygrad_cnn.ops.im2col_flat`) or ``"im2col_phases"`` (strided layers
    by stride phases, :mod:`tinygrad_cnn.ops.conv_strided`); the Winograd ones apply to 3x3
    stride-1 undilated layers, ``"im2col_flat"`` to stride-1 layers, the phases one to
    undilated layers, and they run im2col on others.

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


# PyTorch's ``torch.backends.cudnn`` / ``torch.backends.mps`` switches (there is no GPU; see
# ``tinygrad_cnn.devices``): ``cudnn.benchmark = True`` makes "auto" choose by timing its
# candidates on each new configuration (``tinygrad_cnn.ops.conv_tune``), the rest no effect.
# PyTorch's float32 precision switches (``torch.backends.mkldnn.conv.fp32_precision`` ...):
# "tf32"/"bf16" for convolutions let "auto" take Winograd F(4x4)
# (``tinygrad_cnn.ops.precision``).
from .devices import cudnn, mps  # noqa: E402, F401
from .ops.precision import GLOBAL as _GLOBAL_PRECISION  # noqa: E402
from .ops.precision import mkldnn  # noqa: E402, F401


class _BackendsModule(types.ModuleType):
    """This module, with ``fp32_precision`` (``torch.backends.fp32_precision``, the root the
    ``mkldnn`` settings inherit from) checked when set, as PyTorch's."""

    @property
    def fp32_precision(self) -> str:
        return _GLOBAL_PRECISION.fp32_precision

    @fp32_precision.setter
    def fp32_precision(self, value) -> None:
        _GLOBAL_PRECISION.fp32_precision = value


sys.modules[__name__].__class__ = _BackendsModule
