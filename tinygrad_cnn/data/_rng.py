"""Where a ``generator=`` argument's random numbers come from (one rule for the package)."""

from __future__ import annotations

import numpy as np

from .. import random as _random


def numpy_generator(generator) -> np.random.Generator:
    """The ``numpy.random.Generator`` behind a ``generator=`` argument.

    ``None`` means the library's seeded generator (``tinygrad_cnn.manual_seed`` makes it
    repeatable); a ``numpy.random.Generator`` is used as it is; a ``tinygrad_cnn.Generator``
    (or any object holding a numpy Generator) gives the one it holds.
    """
    if generator is None:
        return _random.generator()
    if isinstance(generator, np.random.Generator):
        return generator
    for name in ("numpy_generator", "_generator", "_rng", "generator", "rng"):
        held = getattr(generator, name, None)
        if callable(held) and not isinstance(held, np.random.Generator):
            try:
                held = held()
            except TypeError:
                continue
        if isinstance(held, np.random.Generator):
            return held
    raise TypeError(
        f"generator must be None, a numpy.random.Generator or a tinygrad_cnn.Generator, got "
        f"{type(generator).__name__}"
    )


def draw_seed(generator) -> int:
    """A fresh 63-bit seed drawn from ``generator`` (see :func:`numpy_generator`)."""
    return int(numpy_generator(generator).integers(2**63))
