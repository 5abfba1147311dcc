"""The one random source of the library, so ``manual_seed`` makes every run repeatable.

Everything random in tinygrad_cnn (``rand``, ``randn``, dropout masks, default layer
initialisation) draws from :func:`generator`.  Data shuffling is the exception: a
``DataLoader`` owns its own generator, seeded by its ``generator_seed``, as PyTorch's does.
"""

import numpy as np

from ._checks import check_int

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed every random source the library uses (as ``torch.manual_seed``)."""
    global _generator
    _generator = np.random.default_rng(check_int("manual_seed", "seed", seed))


def generator() -> np.random.Generator:
    """The library's current ``numpy.random.Generator``."""
    return _generator
