"""What every benchmark here shares: best-of-N timing, the optional PyTorch reference, and
one thread count for numpy's BLAS, scipy's FFT and PyTorch alike (ratios are only fair at
equal thread counts)."""

import time


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


def interleaved_best_of(repeat: int, ours, theirs) -> tuple:
    """Best-of-``repeat`` times of two functions, timed turn by turn, so that a burst of load
    on a shared machine hits both alike instead of one of them; in seconds."""
    ours()
    theirs()
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        ours()
        middle = time.perf_counter()
        theirs()
        end = time.perf_counter()
        best_ours, best_theirs = min(best_ours, middle - start), min(best_theirs, end - middle)
    return best_ours, best_theirs


def optional_torch(threads: int):
    """PyTorch set to ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def limit_threads(threads: int) -> None:
    """Cap numpy's BLAS at ``threads`` for the rest of the process (needs threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("note: threadpoolctl is not installed; numpy's BLAS thread count is not capped")
        return
    threadpool_limits(limits=threads, user_api="blas")
