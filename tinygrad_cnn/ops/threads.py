"""How many threads the library computes with: ``set_num_threads(n)`` / ``get_num_threads()``,
as PyTorch's, and how many it actually uses per op: the *governor*.

The library's threads are numpy's BLAS (every matrix product of the convolution kernels,
``matmul``), scipy's FFT workers (the ``"fft"`` convolution) and the pool that splits a
convolution's batch into chunks (:func:`map_chunks`). ``set_num_threads`` sets the BLAS
through ``threadpoolctl`` when it is installed (an optional dependency; it knows OpenBLAS,
MKL and BLIS), else by calling OpenBLAS's own ``*_set_num_threads`` in every OpenBLAS
library the process has loaded (numpy's and scipy's wheels bundle one each, found through
``/proc/self/maps``). ``get_num_threads`` returns what was set (PyTorch's contract).

The governor (:class:`Governor`, :func:`active_threads`): a second thread only pays when a
core is free for it. With the other core busy it time-slices with the neighbour, and
OpenBLAS's threads, which spin-wait for each other, can stall badly, so two threads ran
15-40% slower than one. So before a convolution splits its work or lets the BLAS run a big
product on ``n`` threads, it asks how many cores other processes are using right now: from
``/proc/stat`` (the busy jiffies of the CPUs this process may run on, ``sched_getaffinity``)
minus this process's own CPU time (``time.process_time``), over the last window of at least
``WINDOW_SECONDS`` (re-read at most that often, so a query costs well under a microsecond
between reads and about 15 us at one). It then uses ``min(requested, cores left)`` threads,
with hysteresis: it keeps ``k`` threads while the others use at most ``STAY_MARGIN`` of the
``k``-th core and takes a ``k``-th thread back only when they use at most ``UP_MARGIN`` of
it. (Measuring *others* rather than idle time matters: when this process runs two threads
the machine is busy because of it. A neighbour sharing the cores with two of ours gets about
2/3 of a core, above ``STAY_MARGIN``, so the governor drops to one thread, after which the
neighbour shows a whole core.) Where ``/proc/stat`` cannot be read, or before the first
window, the requested count is used. ``TINYGRAD_CNN_GOVERNOR=0`` in the environment (or
``governor.enabled = False``) turns it off. When the count changes, :func:`active_threads`
sets OpenBLAS to it process-wide, so numpy's own products follow it too (no OpenBLAS thread
left spin-waiting beside a busy neighbour); :func:`set_num_threads` resets it.

:func:`blas_threads` pins the BLAS for the duration of a block, through OpenBLAS's functions
directly (microseconds, where ``threadpoolctl`` rescans the loaded libraries). The library's
own products run on ONE BLAS thread: a convolution inside :func:`governed`, batch norm's
sums, the optimizer's updates, matrix products (:mod:`.linalg`; from a millisecond on cut
into blocks); a convolution's batch is cut into chunks (:func:`batch_chunks`, at least
two), which the library's threads (:func:`map_chunks`, which wait on a lock when idle)
share out. The reason: after every product it shares, each OpenBLAS thread spin-waits for
2**28 cycles (about 0.1 s) before it sleeps, on the core the rest of the training step needs
(the next convolution's second thread). With OpenBLAS running the MNIST CNN's linear layers
and batch norm's sums on two threads, its step took as long at two threads as at one (37.4
against 36.7 ms; 30-31 ms once nothing wakes them; see ``docs/performance_log.md``, "Third
sitting"). Only a one-chunk convolution (a batch of one image) gives the BLAS its threads
back. Two threads of one process still wait for each other's GIL around every numpy call;
where that costs most, the Winograd kernels give their second half to a helper process
instead (:mod:`.second_core`).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import threading
import time

import numpy as np

__all__ = ["set_num_threads", "get_num_threads", "blas_threads", "active_threads", "governed",
           "map_chunks", "batch_chunks", "even_slices", "Governor"]

_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "openblas_set_num_threads64_")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads", "openblas_get_num_threads64_")

_requested: int | None = None     # the last set_num_threads, None before any
_applied: int | None = None       # the OpenBLAS count set last by set_num_threads or the governor
_pinned = 0                       # blas_threads blocks open (the governor waits for them)
_unpinned_count: int | None = None  # get_num_threads() when the outermost block opened
_blas_default: int | None = None  # the BLAS's own count before the governor first set it
_pin_lock = threading.Lock()
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
    global _requested, _applied, _blas_default
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError(f"set_num_threads: num_threads must be an int, got "
                        f"{type(num_threads).__name__}")
    if num_threads < 1:
        raise RuntimeError(f"set_num_threads: num_threads must be a positive integer, got "
                           f"{num_threads}")
    _numpy_blas_loaded()
    _requested = num_threads
    _blas_default = None
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=num_threads, user_api="blas")
    for setter, _ in _openblas(refresh=True):
        setter(num_threads)
    _applied = num_threads


def get_num_threads() -> int:
    """The number of threads the library computes with (``torch.get_num_threads``): the last
    :func:`set_num_threads`, else the BLAS's own count (as it was before the governor first
    set it, and outside any :func:`blas_threads` block; else the CPU count)."""
    if _requested is not None:
        return _requested
    if _blas_default is not None:   # the governor has set the BLAS since: its count is not ours
        return _blas_default
    if _pinned and _unpinned_count is not None:
        return _unpinned_count
    _numpy_blas_loaded()
    for _, getter in _openblas():
        if getter is not None:
            return int(getter())
    return os.cpu_count() or 1


@contextlib.contextmanager
def blas_threads(num_threads: int):
    """Run the BLAS on at most ``num_threads`` threads inside the block (OpenBLAS only;
    elsewhere a no-op), restoring the previous count after it. The governor leaves the BLAS
    alone while such a block is open."""
    global _pinned, _unpinned_count
    libraries = _openblas()
    previous = [getter() if getter is not None else None for _, getter in libraries]
    target = max(1, min(num_threads, get_num_threads()))
    with _pin_lock:
        if not _pinned:   # what get_num_threads says inside (the BLAS's count changes)
            _unpinned_count = get_num_threads()
        _pinned += 1
    try:
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
    finally:
        with _pin_lock:
            _pinned -= 1


WINDOW_SECONDS = 0.1   # the governor reads /proc/stat at most this often
UP_MARGIN = 0.25       # take the k-th thread when others use at most this much of core k
STAY_MARGIN = 0.5      # keep the k-th thread while others use at most this much of core k
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)   # user nice system irq softirq steal (after "cpuN")
_IDLE_FIELDS = (3, 4)               # idle iowait


def _read_proc_stat() -> str:
    with open("/proc/stat") as stat:
        return stat.read()


def _affinity():
    """The CPUs this process may run on, or None where the OS does not say."""
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return None


def _user_hz() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


_helpers_cpu: list = []   # CPU-second sources of processes working for this one


def count_as_own(cpu_seconds) -> None:
    """Count ``cpu_seconds()`` (a helper process's CPU time, :mod:`.second_core`) as this
    process's own: the helper works for us, so the governor must not take it for others."""
    _helpers_cpu.append(cpu_seconds)


def _own_cpu_time() -> float:
    """This process's CPU seconds, its helpers' (:func:`count_as_own`) included."""
    return time.process_time() + sum(cpu_seconds() for cpu_seconds in _helpers_cpu)


def cpu_jiffies(stat: str, cpus=None) -> tuple[int, int, int]:
    """``(busy, total, count)`` jiffies summed over the ``cpuN`` lines of a ``/proc/stat``
    text whose ``N`` is in ``cpus`` (all when None, or when none of them is listed), and how
    many CPUs that is. Busy is user + nice + system + irq + softirq + steal (steal: the
    hypervisor gave the core to someone else); total adds idle and iowait."""
    per_cpu = []
    for line in stat.splitlines():
        if not line.startswith("cpu"):
            break
        name, *fields = line.split()
        if name == "cpu" or not name[3:].isdigit():
            continue
        values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
        busy = sum(values[i] for i in _BUSY_FIELDS)
        per_cpu.append((int(name[3:]), busy, busy + sum(values[i] for i in _IDLE_FIELDS)))
    mine = [c for c in per_cpu if cpus is None or c[0] in cpus] or per_cpu
    return sum(c[1] for c in mine), sum(c[2] for c in mine), len(mine)


class Governor:
    """How many cores this process may use right now: the CPUs it may run on less those other
    processes keep busy, estimated over windows of at least ``WINDOW_SECONDS`` (see the
    module docstring). Its sources are arguments so that tests can feed it fake samples:
    ``read_stat`` returns a ``/proc/stat`` text (OSError: unavailable), ``cpu_time`` this
    process's CPU seconds (all threads, and the second core's helper process), ``clock``
    wall seconds, ``affinity`` the set of usable CPU numbers (or None), ``hz`` the jiffies
    per second of ``/proc/stat``."""

    def __init__(self, read_stat=_read_proc_stat, cpu_time=None,
                 clock=time.monotonic, affinity=_affinity, hz=None):
        self.read_stat, self.clock, self.affinity = read_stat, clock, affinity
        self.cpu_time = _own_cpu_time if cpu_time is None else cpu_time
        self.hz = _user_hz() if hz is None else hz
        self.enabled = True
        self.cores = None     # the decision: cores we may use (None: unknown, use requested)
        self.others = None    # the last estimate of the cores other processes use
        self._sample = None   # (clock, own CPU s, busy, total jiffies, CPUs, pid)

    def threads(self, requested: int) -> int:
        """The threads to use for one op when ``requested`` were asked for:
        ``min(requested, self.cores)``, ``requested`` while the governor does not know."""
        if requested <= 1 or not self.enabled:
            return max(1, requested)
        sample = self._sample
        if sample is None or self.clock() - sample[0] >= WINDOW_SECONDS:
            self.update()
        cores = self.cores
        return requested if cores is None else min(requested, cores)

    def update(self) -> None:
        """Take a sample; once a window of at least ``WINDOW_SECONDS`` (and one jiffy) has
        passed since the last one, estimate the others' cores from it and decide."""
        now = self.clock()
        previous = self._sample
        if previous is not None and now - previous[0] < WINDOW_SECONDS:
            return
        try:
            stat = self.read_stat()
        except OSError:
            self.cores = self._sample = None   # no /proc: the requested count, as before
            return
        own = self.cpu_time()
        busy, total, count = cpu_jiffies(stat, self.affinity())
        pid = os.getpid()
        if previous is None or (count, pid) != previous[4:] or own < previous[1] or \
                total < previous[3]:
            # The first sample, or a new start: other CPUs, or a forked child.
            self._sample = (now, own, busy, total, count, pid)
            return
        if total == previous[3] or count == 0:
            return  # not one jiffy yet: wait for the next query
        others_jiffies = (busy - previous[2]) - (own - previous[1]) * self.hz
        self.others = min(count, max(0.0, count * others_jiffies / (total - previous[3])))
        self.cores = self.decide(self.others, count)
        self._sample = (now, own, busy, total, count, pid)

    def decide(self, others: float, count: int) -> int:
        """The most threads ``k`` (at least one) such that the others leave core ``k``
        free but for ``STAY_MARGIN`` of it (``k`` at most the current decision) or
        ``UP_MARGIN`` (``k`` above it)."""
        current = count if self.cores is None else self.cores
        cores = 1
        for k in range(2, count + 1):
            margin = STAY_MARGIN if k <= current else UP_MARGIN
            if others > count - k + margin:
                break
            cores = k
        return cores


def switched_off(name: str) -> bool:
    """Whether the environment variable ``name`` says off (``0``, ``off``, ``false``,
    ``no``); unset is on."""
    return os.environ.get(name, "1").strip().lower() in ("0", "off", "false", "no")


governor = Governor()
governor.enabled = not switched_off("TINYGRAD_CNN_GOVERNOR")
governor.threads(2)  # the first sample, so the first op has a window to look back on


def active_threads() -> int:
    """The threads an op uses now: :func:`get_num_threads` capped by the governor's cores.
    When that count changes, OpenBLAS is set to it process-wide (unless a
    :func:`blas_threads` block is open), so that every product, the library's and numpy's
    own, runs on the threads the machine has free; :func:`set_num_threads` sets it back."""
    global _applied, _blas_default
    threads = governor.threads(get_num_threads())
    if threads != _applied and not _pinned:
        if _requested is None and _blas_default is None:
            _blas_default = get_num_threads()
        for setter, _ in _openblas():
            setter(threads)
        _applied = threads
    return threads


@contextlib.contextmanager
def governed():
    """Yields :func:`active_threads`, the threads an op may use; inside the block the BLAS
    runs on one thread (the op's parallel work goes through :func:`map_chunks`, whose one-
    chunk case gives the BLAS the threads back): OpenBLAS's threads spin-wait for about
    0.1 s after each product they share (2**28 cycles, its THREAD_TIMEOUT), on the core the
    next op's second thread needs."""
    threads = active_threads()
    with blas_threads(1):
        yield threads


_pool = None          # the library's worker threads (created on first parallel use)
_pool_size = 0

MMAP_THRESHOLD = 32 << 20   # glibc: arrays up to this size come from the heap ...
TRIM_THRESHOLD = 64 << 20   # ... which keeps up to this much freed memory (not trimmed)
_heap_set = False


def keep_heap() -> bool:
    """Stop glibc's ``malloc`` giving freed memory back to the OS after every step (once,
    on the first :func:`map_chunks`; ``TINYGRAD_CNN_MALLOPT=0`` leaves malloc alone).

    glibc adapts two thresholds as the program frees big blocks: blocks above the *mmap
    threshold* get their own mapping, and freed memory above the *trim threshold* at the
    heap's top goes back to the OS. A training step allocates a few MiB of arrays that it
    frees at the end; with the thresholds glibc had reached (a few MiB) the heap of
    bench_conv.py's case (b) grew by 7.5 MiB and was trimmed by as much on every
    forward+backward: about 1800 page faults (the kernel zeroes each new page), 2-4 ms of
    system time in a 20 ms step at one thread, more at two, where faults take the
    process's memory lock and the other core's TLB is flushed. This sets both thresholds
    to what glibc's own adaptation reaches at most (32 MiB, and twice that for the trim), so
    the heap keeps up to 64 MiB of freed memory for the next step. Returns whether it
    applied (glibc only)."""
    global _heap_set
    if _heap_set:
        return True
    _heap_set = True
    if switched_off("TINYGRAD_CNN_MALLOPT"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (glibc's parameter numbers only)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1 (malloc.h); setting one fixes both.
    return bool(mallopt(-3, MMAP_THRESHOLD)) and bool(mallopt(-1, TRIM_THRESHOLD))


MIN_CHUNKS = 2


def batch_chunks(batch: int, per_image_bytes: int, chunk_bytes: int) -> list:
    """The batch in equal slices of whole images, each holding at most about
    ``chunk_bytes`` (``per_image_bytes`` per image) and at least ``MIN_CHUNKS`` of them
    whatever the thread count: a second thread always has work of its own, while the BLAS
    stays on one (:func:`governed`), and a sum over the chunks does not depend on the
    thread count."""
    if batch <= 0:
        return []
    return even_slices(batch, max(MIN_CHUNKS, -(-batch * per_image_bytes // max(chunk_bytes, 1))))


def even_slices(size: int, parts: int) -> list:
    """``range(size)`` cut into at most ``parts`` consecutive slices whose lengths differ by
    at most one (no short last one), none empty."""
    parts = max(1, min(parts, size))
    bounds = [size * k // parts for k in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]


def map_chunks(function, chunks) -> list:
    """``[function(chunk) for chunk in chunks]``, split over :func:`active_threads` threads
    (this one and ``n - 1`` pool threads) when there are several chunks, the BLAS pinned to
    one thread meanwhile (numpy releases the GIL inside its products and copies, so the
    chunks' work overlaps).

    Each thread takes the next chunk when it finishes one, so a thread slowed by a busy
    neighbour core does fewer chunks instead of holding up a fixed share: the split is never
    much slower than one thread doing everything (it waits for at most one chunk of the
    slow thread). Results come back in chunk order, so sums over them do not depend on the
    thread count. The pool threads run under the caller's numpy error settings
    (``np.errstate``). With one thread or one chunk: in order, on this thread, the BLAS on
    :func:`active_threads` threads."""
    global _pool, _pool_size
    if not _heap_set:
        keep_heap()
    chunks = list(chunks)
    threads = active_threads()
    workers = min(threads, len(chunks))
    if workers <= 1:
        if threads == _applied and not _pinned:
            return [function(chunk) for chunk in chunks]
        with blas_threads(threads):
            return [function(chunk) for chunk in chunks]
    if _pool is None or _pool_size < workers - 1:
        from concurrent.futures import ThreadPoolExecutor
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="tinygrad_cnn")
        _pool_size = workers - 1
    results = [None] * len(chunks)
    order = itertools.count()  # next() on it is atomic under the GIL
    errors = np.geterr()       # numpy's warning settings are per thread: the caller's for all

    def work():
        with np.errstate(**errors):
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
