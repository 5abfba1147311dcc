"""The library's random sources, so ``manual_seed`` makes every run repeatable.

Everything random in tinygrad_cnn (``rand``, ``randn``, ``normal_``, dropout masks, default
layer initialisation) draws from the default :class:`Generator` unless a ``generator=`` is
passed, as PyTorch's.  :func:`generator` gives the default generator's
``numpy.random.Generator``; :func:`numpy_generator` the one behind a ``generator=`` argument.
"""

import numpy as np

from ._checks import check_int
from .devices import CPU, check_device


def _check_seed(op: str, seed) -> int:
    return check_int(op, "seed", seed) % 2**64


class Generator:
    """A random number generator (as ``torch.Generator``): ``Generator().manual_seed(n)``
    gives a generator to pass as ``generator=`` to the factories and random fills."""

    def __init__(self, device="cpu"):
        check_device("Generator", device)
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed) -> "Generator":
        """Reseed this generator; returns it (so ``Generator().manual_seed(0)`` chains)."""
        self._seed = _check_seed("manual_seed", seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state (a dict; pass it back to :meth:`set_state`)."""
        return self._rng.bit_generator.state

    def set_state(self, state) -> "Generator":
        """Restore a state from :meth:`get_state`."""
        self._rng.bit_generator.state = state
        return self

    @property
    def device(self):
        """The CPU: generators, as tensors, live there."""
        return CPU

    def __repr__(self) -> str:
        return f"<tinygrad_cnn.Generator seeded with {self._seed}>"


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed every random source the library uses (as ``torch.manual_seed``); returns the
    default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def generator() -> np.random.Generator:
    """The default generator's ``numpy.random.Generator``."""
    return default_generator._rng


def numpy_generator(op: str, generator=None) -> np.random.Generator:
    """The ``numpy.random.Generator`` behind a ``generator=`` argument (None: the default)."""
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a tinygrad_cnn.Generator, got "
                        f"{type(generator).__name__}")
    return generator._rng


def get_rng_state() -> dict:
    """The default generator's state."""
    return default_generator.get_state()


def set_rng_state(state) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)


# ``torch.use_deterministic_algorithms``: every op here is deterministic already (numpy on the
# CPU; thread splits and worker processes keep a fixed order), so the switch changes no result;
# it is kept so reproducibility code runs and reads back what it set.
_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """Ask for deterministic algorithms (as ``torch.use_deterministic_algorithms``). Every
    algorithm here is deterministic, so results do not change; ``cudnn.benchmark = True``
    still picks convolution algorithms by timing (leave it off for bit-identical runs, as
    PyTorch advises)."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"use_deterministic_algorithms: {name} must be a bool, got "
                            f"{type(value).__name__}")
    _deterministic.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` was last given True."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` was last given ``warn_only=True``."""
    return _deterministic["warn_only"]
