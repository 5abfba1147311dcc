"""What every benchmark here shares: best-of-N timing, the optional PyTorch reference, and
one thread count for every library being timed (ratios are only fair at equal thread
counts).

Two ways to set the thread count: ``limit_threads(n)`` caps numpy's BLAS for the rest of the
process (PyTorch is set by ``optional_torch(n)``; scipy's FFT keeps its default of one
worker, which no process-wide setting changes); ``thread_count(n, torch)`` is a context
manager that sets numpy's BLAS, scipy's FFT workers and PyTorch to ``n`` inside the block and
restores them after, for a script that measures several thread counts in one run. Capping
BLAS needs ``threadpoolctl``; without it a note is printed (once) and BLAS runs as it is.
"""

import contextlib
import os
import time

import scipy.fft


def best_of(repeat: int, function) -> float:
    """The fastest of ``repeat`` timed calls of ``function`` (after one warm-up), in seconds.

    The minimum is the figure least disturbed by other work on a shared machine.
    """
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved_best_of(repeat: int, ours, theirs, settle: float = 0.0) -> tuple:
    """Best-of-``repeat`` times of two functions, timed turn by turn, so that a burst of load
    on a shared machine hits both alike instead of one of them; in seconds. With ``settle``,
    each timed call comes after untimed calls of the same function for that many seconds:
    after its turn a library's idle threads spin on for a while (PyTorch's OpenMP threads
    about 5 ms, OpenBLAS's about 0.1 s) on the core the other's second thread needs."""
    def timed(function):
        if settle:
            begin = time.perf_counter()
            while time.perf_counter() - begin < settle:
                function()
        start = time.perf_counter()
        function()
        return time.perf_counter() - start

    ours()
    theirs()
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, timed(ours))
        best_theirs = min(best_theirs, timed(theirs))
    return best_ours, best_theirs


def optional_torch(threads: int):
    """PyTorch set to ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def _blas_limiter(threads: int):
    """threadpoolctl's limiter, already capping numpy's BLAS at ``threads`` (its
    ``restore_original_limits()`` undoes it), or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if not _NOTED_NO_THREADPOOLCTL:
            print("note: threadpoolctl is not installed; numpy's BLAS thread count is not "
                  "capped")
            _NOTED_NO_THREADPOOLCTL.append(True)
        return None
    return threadpool_limits(limits=threads, user_api="blas")


_NOTED_NO_THREADPOOLCTL = []  # non-empty once the note above was printed


def limit_threads(threads: int) -> None:
    """Cap numpy's BLAS at ``threads`` for the rest of the process (needs threadpoolctl).

    scipy's FFT is left at its default of one worker (``scipy.fft.set_workers`` only works
    as a context manager: use :func:`thread_count` to time it with more).
    """
    _blas_limiter(threads)


@contextlib.contextmanager
def thread_count(threads: int, torch=None):
    """Inside the block numpy's BLAS (needs threadpoolctl), scipy's FFT and, when ``torch``
    (the module) is given, PyTorch use ``threads`` threads; the previous counts come back
    after it."""
    limiter = _blas_limiter(threads)
    previous_torch = torch.get_num_threads() if torch is not None else None
    if threads > 1:
        start_second_core()
    try:
        if torch is not None:
            torch.set_num_threads(threads)
        with scipy.fft.set_workers(threads):
            yield
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        if torch is not None:
            torch.set_num_threads(previous_torch)


def start_second_core() -> bool:
    """Start tinygrad_cnn's helper process (the second core its Winograd kernels use at two
    threads) and wait for it, so that no timing includes its start; whether it is up."""
    from tinygrad_cnn.ops.second_core import second_core
    return second_core.start(wait=30.0)


def machine_line() -> str:
    """The BLAS kernel(s) threadpoolctl reports and the load average, for beside a figure."""
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(sorted({f"{pool.get('internal_api')} {pool.get('architecture')}"
                                 for pool in threadpool_info()
                                 if pool.get("user_api") == "blas"}))
    except ImportError:
        blas = "unknown (threadpoolctl not installed)"
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    import tinygrad_cnn
    precision = tinygrad_cnn.backends.mkldnn.conv.fp32_precision
    return (f"BLAS: {blas}; load average {load}"
            + (f"; conv fp32_precision {precision}" if precision != "none" else ""))


def add_precision_option(parser) -> None:
    """``--fp32-precision``: ``backends.mkldnn.conv.fp32_precision`` in both libraries."""
    parser.add_argument("--fp32-precision", default="none",
                        choices=["none", "ieee", "tf32", "bf16"],
                        help="backends.mkldnn.conv.fp32_precision in both libraries "
                             "(tf32: our \"auto\" may take Winograd F(4x4))")


def add_benchmark_mode_option(parser) -> None:
    """``--cudnn-benchmark``: ``backends.cudnn.benchmark = True`` in both libraries."""
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="backends.cudnn.benchmark = True in both libraries (ours: \"auto\" "
                             "times its candidates on a layer's first call; PyTorch's CPU "
                             "convolutions ignore it)")


def set_benchmark_mode(on: bool) -> None:
    """``backends.cudnn.benchmark = on`` in tinygrad_cnn and, when installed, PyTorch."""
    import tinygrad_cnn
    tinygrad_cnn.backends.cudnn.benchmark = on
    try:
        import torch
    except ImportError:
        return
    torch.backends.cudnn.benchmark = on


def set_conv_precision(value) -> None:
    """``backends.mkldnn.conv.fp32_precision = value`` in tinygrad_cnn and, when it is
    installed, in PyTorch (the same switch for both; ``"tf32"`` lets our "auto" take
    Winograd F(4x4))."""
    import tinygrad_cnn
    tinygrad_cnn.backends.mkldnn.conv.fp32_precision = value
    try:
        import torch
    except ImportError:
        return
    torch.backends.mkldnn.conv.fp32_precision = value
