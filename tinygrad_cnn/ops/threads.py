"""How many threads the library computes with: ``set_num_threads(n)`` / ``get_num_threads()``,
as PyTorch's.

The library's threads are numpy's BLAS (every matrix product of the convolution kernels,
``matmul``) and scipy's FFT workers (the ``"fft"`` convolution). ``set_num_threads`` sets
both: the BLAS through ``threadpoolctl`` when it is installed (an optional dependency; it
knows OpenBLAS, MKL and BLIS), else by calling OpenBLAS's own ``*_set_num_threads`` in every
OpenBLAS library the process has loaded (numpy's and scipy's wheels bundle one each, found
through ``/proc/self/maps``); the FFT through the ``workers`` argument the FFT kernels pass.

:func:`blas_threads` pins the BLAS for the duration of a block, through OpenBLAS's functions
directly (microseconds, where ``threadpoolctl`` rescans the loaded libraries): the kernels
use it to run the many small products of a chunked convolution on one thread, where waking
a second one costs more than it saves and, with the other core busy, stalls (see
``docs/performance.md``).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os

__all__ = ["set_num_threads", "get_num_threads", "blas_threads"]

_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "openblas_set_num_threads64_")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads", "openblas_get_num_threads64_")

_requested: int | None = None     # the last set_num_threads, None before any
_libraries: dict = {}             # path -> (setter, getter) of each OpenBLAS found


def _openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries loaded in this process (Linux; elsewhere none)."""
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    paths = {line.split()[-1] for line in lines if "openblas" in line.rsplit("/", 1)[-1]}
    return sorted(p for p in paths if p.startswith("/"))


def _openblas(refresh: bool = False) -> list:
    """``(setter, getter)`` pairs of every loaded OpenBLAS (looked up once, or again with
    ``refresh``: reading the process's library map takes about a millisecond)."""
    if _libraries and not refresh:
        return [pair for pair in _libraries.values() if pair is not None]
    for path in _openblas_paths():
        if path in _libraries:
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError:
            _libraries[path] = None
            continue
        setter = next((getattr(library, n) for n in _SETTERS if hasattr(library, n)), None)
        getter = next((getattr(library, n) for n in _GETTERS if hasattr(library, n)), None)
        if setter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
        if getter is not None:
            getter.argtypes, getter.restype = [], ctypes.c_int
        _libraries[path] = (setter, getter) if setter is not None else None
    return [pair for pair in _libraries.values() if pair is not None]


def _numpy_blas_loaded() -> None:
    import numpy  # noqa: F401  (loads numpy's BLAS, so it can be found)


def set_num_threads(num_threads: int) -> None:
    """Use ``num_threads`` threads for the BLAS and the FFT from now on
    (``torch.set_num_threads``)."""
    global _requested
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError(f"set_num_threads: num_threads must be an int, got "
                        f"{type(num_threads).__name__}")
    if num_threads < 1:
        raise RuntimeError(f"set_num_threads: num_threads must be a positive integer, got "
                           f"{num_threads}")
    _numpy_blas_loaded()
    _requested = num_threads
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=num_threads, user_api="blas")
    for setter, _ in _openblas(refresh=True):
        setter(num_threads)


def get_num_threads() -> int:
    """The number of threads the library computes with (``torch.get_num_threads``): the last
    :func:`set_num_threads`, else the BLAS's own count (else the CPU count)."""
    if _requested is not None:
        return _requested
    _numpy_blas_loaded()
    for _, getter in _openblas():
        if getter is not None:
            return int(getter())
    return os.cpu_count() or 1


@contextlib.contextmanager
def blas_threads(num_threads: int):
    """Run the BLAS on at most ``num_threads`` threads inside the block (OpenBLAS only;
    elsewhere a no-op), restoring the previous count after it."""
    libraries = _openblas()
    previous = [getter() if getter is not None else None for _, getter in libraries]
    target = max(1, min(num_threads, get_num_threads()))
    if all(p == target for p in previous):
        yield
        return
    for setter, _ in libraries:
        setter(target)
    try:
        yield
    finally:
        for (setter, _), count in zip(libraries, previous, strict=True):
            if count is not None:
                setter(count)


_pool = None          # the library's worker threads (created on first parallel use)
_pool_size = 0


def map_chunks(function, chunks) -> list:
    """``[function(chunk) for chunk in chunks]``, split over :func:`get_num_threads` threads
    (this one and ``n - 1`` pool threads) when there are several chunks, the BLAS pinned to
    one thread meanwhile (numpy releases the GIL inside its products and copies, so the
    chunks' work overlaps).

    Each thread takes the next chunk when it finishes one, so a thread slowed by a busy
    neighbour core does fewer chunks instead of holding up a fixed share: the split is never
    much slower than one thread doing everything (it waits for at most one chunk of the
    slow thread). Results come back in chunk order, so sums over them do not depend on the
    thread count. With one thread or one chunk: in order, on this thread, BLAS as set."""
    global _pool, _pool_size
    chunks = list(chunks)
    workers = min(get_num_threads(), len(chunks))
    if workers <= 1:
        return [function(chunk) for chunk in chunks]
    if _pool is None or _pool_size < workers - 1:
        from concurrent.futures import ThreadPoolExecutor
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="tinygrad_cnn")
        _pool_size = workers - 1
    results = [None] * len(chunks)
    order = itertools.count()  # next() on it is atomic under the GIL

    def work():
        for index in iter(order.__next__, None):
            if index >= len(chunks):
                return
            results[index] = function(chunks[index])

    with blas_threads(1):
        futures = [_pool.submit(work) for _ in range(workers - 1)]
        try:
            work()
        finally:
            for future in futures:
                future.result()
    return results
