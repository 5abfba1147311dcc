"""The dropout family: ``dropout`` (``torch.nn.functional.dropout``), its mask drawn from
the seeded generator of :mod:`tinygrad_cnn.random`.
"""

import numpy as np

from ... import random
from ..._checks import ShapeError, check_float, check_number, check_tensor
from ...tensor import Tensor


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1/(1-p), so eval mode needs no rescaling.  x: any shape -> the same shape.  The mask comes
    from the seeded generator (``torch.nn.functional.dropout``)."""
    check_tensor("dropout", "input", x)
    if not isinstance(training, (bool, np.bool_)):  # PyTorch: "no" is no bool either
        raise TypeError(f"dropout: training must be a bool, got {type(training).__name__}")
    check_number("dropout", "p", p)
    if not 0.0 <= p <= 1.0:
        raise ShapeError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    check_float("dropout", "input", x.dtype)
    if p == 1.0:
        return x * 0.0
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    keep = random.generator().random(x.shape) >= p
    return x * Tensor._make(np.multiply(keep, scale, dtype=x.dtype))
