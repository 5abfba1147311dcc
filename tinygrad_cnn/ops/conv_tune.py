"""Benchmark mode: "auto" chosen by the clock instead of the cost model.

PyTorch's ``torch.backends.cudnn.benchmark = True`` makes cuDNN time its convolution
algorithms on the first call with each new configuration and keep the fastest. Here the same
switch (``tinygrad_cnn.backends.cudnn.benchmark``) makes ``conv_algorithm("auto")`` do that
with this library's kernels: on an op's first call with a configuration, each algorithm
"auto" may use on it (its accuracy promise, :func:`.conv_select.benchmark_candidates`; the
cost model only drops those it prices at more than ``BENCHMARK_PRICE_SPAN`` times the
cheapest, never the cheapest of the im2col family) runs ``TRIALS`` times on the op's own
operands, turn by turn, and the fastest (best wall time) is kept for every later call with
the same configuration. The cost model's constants were measured on two machines; on
another the clock is right where the model is not (a BLAS of another speed moves the
Winograd and FFT crossovers, another cache the layout kernels').

A configuration is the op (forward, input or weight gradient; a forward apart when its
backward computes the weight gradient), its operands' shapes and dtypes, the window
geometry, the thread count and the candidates themselves (they depend on the data:
Winograd and the FFT only for finite operands, F(4x4) only where reduced float32 precision
is allowed), not what a training step's ops happen to share at that moment: one op on one
input runs one algorithm however often it is called (a second backward with
``retain_graph`` gives the first one's bits, as gradcheck requires). The trials
(:func:`.conv._trial`) see what the step kept at the first call (a weight gradient whose
forward kept im2col's columns times im2col with them) but keep nothing for it; a forward
whose backward computes the weight gradient is timed together with that weight gradient,
so that what the forward keeps for it counts (im2col's columns leave the weight gradient
only its products). Every candidate gives the same results up to the dtype's rounding, so
only the last bits may differ from a run where another algorithm won (as with cuDNN; leave
the switch off for bit-identical reruns).
"""

from __future__ import annotations

import math
import time
import types

from .threads import get_num_threads

__all__ = ["cudnn", "enabled", "fastest", "choices", "forget"]

TRIALS = 2


def _no_cudnn() -> bool:
    return False


# PyTorch's ``torch.backends.cudnn`` flags (``tinygrad_cnn.backends.cudnn``): ``benchmark``
# switches benchmark mode on; the others are accepted and change nothing (no GPU).
cudnn = types.SimpleNamespace(benchmark=False, deterministic=False, enabled=True,
                              allow_tf32=True, is_available=_no_cudnn)

_fastest: dict = {}


def enabled() -> bool:
    """Whether benchmark mode is on (``backends.cudnn.benchmark``)."""
    return bool(cudnn.benchmark)


def fastest(configuration: tuple, candidates: tuple, run) -> str:
    """The fastest of ``candidates`` (names, cheapest-priced first) for ``configuration``:
    remembered, or timed now by ``run(name)`` (which computes the op with that algorithm);
    a tie goes to the earlier candidate, and one that runs out of memory is out (its
    ``MemoryError`` is raised only when every candidate's was)."""
    if len(candidates) == 1:
        return candidates[0]
    key = (configuration, get_num_threads(), candidates)
    name = _fastest.get(key)
    if name is None:
        seconds = dict.fromkeys(candidates, math.inf)
        failed = {}
        for _ in range(TRIALS):
            for candidate in candidates:
                if candidate in failed:
                    continue
                start = time.perf_counter()
                try:
                    run(candidate)
                except MemoryError as error:
                    failed[candidate] = error
                    continue
                seconds[candidate] = min(seconds[candidate], time.perf_counter() - start)
        if len(failed) == len(candidates):
            raise failed[candidates[0]]
        name = _fastest[key] = min(candidates, key=seconds.__getitem__)
    return name


def choices() -> dict:
    """The choices made so far: ``{(configuration, threads, candidates): name}``."""
    return dict(_fastest)


def forget() -> None:
    """Drop every choice (the next call of each configuration is timed again)."""
    _fastest.clear()
