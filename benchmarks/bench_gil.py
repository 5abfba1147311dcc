"""What a second core gives a convolution here: two Python threads against two processes.

A convolution kernel of this library is a pipeline of numpy calls (copies, thin matrix
products, the frequency-wise GEMMs of Winograd). numpy releases the GIL inside each call,
so two threads can overlap their calls, but every call takes the GIL back for its Python
side, and a thread that finishes a call while the other holds the GIL waits. This script
measures how much of a second core that costs, with no other library in the process:

* ``1 thread``       one forward at a time, ``set_num_threads(1)``;
* ``2 threads``      one forward at a time, ``set_num_threads(2)``, the library's bands
  shared by two threads of this process (its second core switched off);
* ``second core``    one forward at a time, ``set_num_threads(2)``, half of it computed by
  the library's helper process (:mod:`tinygrad_cnn.ops.second_core`: what a user gets);
* ``2 x 1 thread``   two Python threads, each running one-thread forwards of its own, at
  the same time (a split over threads at its best: no waiting for a partner's half);
* ``2 processes``    the same two loops in two processes (no shared GIL).

Each row starts half a second after the last, so that the library's governor (which
takes a second core only when other processes leave one free) has forgotten it.

Each row gives the median wall time of one forward in that mode and the forwards per
second over the first row's. The BLAS kernel and the load average are printed beside the
table; run it on a quiet machine, as a user's would be::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gil.py
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from functools import partial

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _timing import machine_line  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
import tinygrad_cnn.functional as F  # noqa: E402
from tinygrad_cnn.ops.second_core import second_core  # noqa: E402

SETTLE_SECONDS = 0.5

CASES = {
    "b": ((64, 32, 14, 14), (64, 32, 3, 3)),
    "c": ((32, 64, 32, 32), (128, 64, 3, 3)),
    "r16": ((64, 16, 32, 32), (16, 16, 3, 3)),   # ResNet-8's first stage
}


def _forward(case):
    """A closure running one float32 forward (3x3, padding 1, "auto") of ``case``."""
    x_shape, w_shape = CASES[case]
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal(x_shape, dtype=np.float32))
    w = tc.Tensor(rng.standard_normal(w_shape, dtype=np.float32))

    def run():
        with tc.no_grad():
            F.conv2d(x, w, padding=1)
    return run


def _loop(case, calls, threads=1, start=None, helper=False):
    """Wall times (s) of ``calls`` forwards, after two untimed ones and ``start`` (a barrier
    both loops of a pair wait at); with ``helper``, the second core started first."""
    tc.set_num_threads(threads)
    second_core.enabled = helper
    if helper and not second_core.start(wait=30.0):
        return [float("nan")]
    run = _forward(case)
    run()
    run()
    if start is not None:
        start.wait()
    times = []
    for _ in range(calls):
        begin = time.perf_counter()
        run()
        times.append(time.perf_counter() - begin)
    return times


def _process_loop(case, calls, start, results):
    results.put(_loop(case, calls, start=start))


def _pair_of_threads(case, calls):
    start = threading.Barrier(2)
    results = []
    workers = [threading.Thread(target=lambda: results.append(_loop(case, calls, start=start)))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results[0] + results[1]


def _pair_of_processes(case, calls):
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_process_loop, args=(case, calls, start, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    times = results.get() + results.get()
    for worker in workers:
        worker.join()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="b,c,r16", help="comma-separated, of " + ",".join(CASES))
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    print(machine_line())
    print(f"{'case':5s} {'mode':14s} {'ms per forward':>15s} {'forwards/s vs 1 thread':>23s}")
    for case in args.cases.split(","):
        alone = statistics.median(_loop(case, args.calls))
        rows = [("1 thread", alone, 1)]
        for mode, measure, parallel in (
                ("2 threads", partial(_loop, case, args.calls, threads=2), 1),
                ("second core", partial(_loop, case, args.calls, threads=2, helper=True), 1),
                ("2 x 1 thread", partial(_pair_of_threads, case, args.calls), 2),
                ("2 processes", partial(_pair_of_processes, case, args.calls), 2)):
            time.sleep(SETTLE_SECONDS)    # the governor's window forgets the last row's load
            rows.append((mode, statistics.median(measure()), parallel))
        for mode, seconds, parallel in rows:
            print(f"{case:5s} {mode:14s} {seconds * 1e3:15.2f} {parallel * alone / seconds:23.2f}")
    print(machine_line())


if __name__ == "__main__":
    main()
