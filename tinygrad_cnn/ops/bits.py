"""Arrays as their bits: exact masking without a float multiply.

``v * mask`` with a boolean mask turns an inf or NaN outside the mask into NaN (``inf * 0``),
where PyTorch's ``where(mask, v, 0)`` gives 0; ``np.where`` is exact but measured 10-15x
slower. Multiplying the *bits* of ``v`` (an unsigned integer view of the same memory) by the
mask is exact for every value (inf, NaN and -0.0 keep their bits where the mask is True,
+0.0 elsewhere) and costs what the float multiply costs (float32, 1.6M elements in place,
0.37 ms either way).
"""

from __future__ import annotations

import numpy as np

__all__ = ["unsigned", "bits", "masked"]


def unsigned(itemsize: int):
    """The unsigned integer dtype of ``itemsize`` bytes (1, 2, 4 or 8), else None."""
    return np.dtype(f"u{itemsize}") if itemsize in (1, 2, 4, 8) else None


def bits(array: np.ndarray):
    """``array`` viewed as unsigned integers of its itemsize (no copy), or None if there is
    no such integer type.  ``bits * mask`` (a bool mask) is then the element itself or 0,
    bit for bit."""
    kind = unsigned(array.dtype.itemsize)
    return None if kind is None or array.dtype.kind not in "fiubc" else array.view(kind)


def masked(values: np.ndarray, mask: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``values`` where ``mask`` (broadcast against it), else 0, exactly (see the module
    docstring); into ``out`` (``values``' dtype and the broadcast shape; ``values`` itself
    for in place) when given."""
    view = bits(values)
    if view is None:                          # no integer of its width (complex128, ...)
        result = np.where(mask, values, np.zeros((), values.dtype))
        if out is None:
            return result
        np.copyto(out, result)
        return out
    if out is None:
        return np.multiply(view, mask, dtype=view.dtype).view(values.dtype)
    np.multiply(view, mask, out=out.view(view.dtype))
    return out
