"""PyTorch's float32 precision switches: ``backends.fp32_precision`` and
``backends.mkldnn.{conv, matmul, rnn}.fp32_precision``.

PyTorch (2.9 and later) lets a program allow reduced internal precision in float32 operators
of its CPU backend: ``"ieee"`` (full float32), ``"tf32"`` or ``"bf16"``, or ``"none"``
(inherit: an op's setting from its backend's, the backend's from the global one; everything
is ``"none"`` at start, which means ``"ieee"``). Here the one operator it changes is the
convolution: while ``mkldnn.conv``'s effective precision is ``"tf32"`` or ``"bf16"``,
``conv_algorithm("auto")`` may compute float16/float32 3x3 layers by Winograd F(4x4, 3x3),
whose error (float32: 2-9e-6 of ``max |y|``, bounded as :mod:`.conv_winograd` states)
is well inside what those modes allow (TF32 keeps 10 mantissa bits, bfloat16 7) but above
im2col's, and runs the FFT it picks for large kernels in the data's dtype (error about 1e-6
of the plane's largest values in float32) instead of float64 after an accuracy check;
at ``"ieee"`` "auto" keeps im2col's error form (``tinygrad_cnn.backends``). The matmul and
rnn settings are accepted and stored (the library's matrix products are always float32).
"""

from __future__ import annotations

__all__ = ["PRECISIONS", "Precision", "mkldnn", "conv_allows_reduced_precision"]

PRECISIONS = ("ieee", "tf32", "bf16", "none")


class Precision:
    """One ``fp32_precision`` setting, reading through to ``parent`` while it is ``"none"``
    (``torch.backends._FP32Precision``)."""

    def __init__(self, parent=None):
        object.__setattr__(self, "_value", "none")
        object.__setattr__(self, "_parent", parent)

    @property
    def fp32_precision(self) -> str:
        if self._value == "none" and self._parent is not None:
            return self._parent.fp32_precision
        return self._value

    def __setattr__(self, name, value):
        if name != "fp32_precision":
            raise AttributeError(f"Unknown attribute {name}")
        if value not in PRECISIONS:
            raise RuntimeError(f"Unknown precision: {value}")
        object.__setattr__(self, "_value", value)

    def __repr__(self):
        return f"Precision(fp32_precision={self.fp32_precision!r})"


GLOBAL = Precision()   # ``torch.backends.fp32_precision``: the root the others inherit from


class _Mkldnn(Precision):
    """``torch.backends.mkldnn``: its own ``fp32_precision`` plus ``conv``, ``matmul`` and
    ``rnn``; ``enabled`` is accepted (there is no oneDNN here, so ``is_available()`` is
    False)."""

    def __init__(self):
        super().__init__(GLOBAL)
        for op in ("conv", "matmul", "rnn"):
            object.__setattr__(self, op, Precision(self))
        object.__setattr__(self, "enabled", True)

    def __setattr__(self, name, value):
        if name == "enabled":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    @staticmethod
    def is_available() -> bool:
        return False


mkldnn = _Mkldnn()


def conv_allows_reduced_precision() -> bool:
    """Whether float32 convolutions may trade accuracy for speed (``mkldnn.conv``'s effective
    precision is ``"tf32"`` or ``"bf16"``)."""
    return mkldnn.conv.fp32_precision in ("tf32", "bf16")
