"""set_num_threads / get_num_threads (PyTorch's names): the BLAS really runs on that many
threads, results do not depend on it, bad counts raise as PyTorch's; blas_threads pins and
restores."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.ops.threads import _openblas, blas_threads


@pytest.fixture
def restore_threads():
    before = tg.get_num_threads()
    yield
    tg.set_num_threads(before)


def _blas_counts():
    return [getter() for _, getter in _openblas(refresh=True) if getter is not None]


def test_set_num_threads_sets_the_blas_and_get_reads_it_back(restore_threads):
    for count in (1, 2):
        tg.set_num_threads(count)
        assert tg.get_num_threads() == count
        counts = _blas_counts()
        assert counts and all(c == count for c in counts)


@pytest.mark.parametrize("bad, error", [(0, RuntimeError), (-2, RuntimeError),
                                        (1.5, TypeError), (True, TypeError)])
def test_bad_thread_counts_raise_naming_the_function(bad, error):
    with pytest.raises(error, match="set_num_threads: num_threads must be"):
        tg.set_num_threads(bad)


def test_blas_threads_pins_inside_the_block_and_restores(restore_threads):
    tg.set_num_threads(2)
    with blas_threads(1):
        assert all(c == 1 for c in _blas_counts())
    assert all(c == 2 for c in _blas_counts())


@pytest.mark.parametrize("algorithm", ["im2col", "winograd", "fft"])
def test_results_do_not_depend_on_the_thread_count(algorithm, restore_threads):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8, 12, 12)), rng.standard_normal((8, 8, 3, 3))
    results = []
    for count in (1, 2):
        tg.set_num_threads(count)
        with conv_algorithm(algorithm):
            xt = tg.Tensor(x, requires_grad=True)
            out = F.conv2d(xt, tg.Tensor(w), padding=1)
            out.sum().backward()
        results.append((out._data, getattr(xt.grad, "_data", xt.grad)))
    for one, two in zip(*results, strict=True):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-12)


def test_torch_names_are_exported():
    assert {"set_num_threads", "get_num_threads"} <= set(tg.__all__)


def test_map_chunks_keeps_the_order_uses_the_threads_and_raises(restore_threads):
    import threading

    from tinygrad_cnn.ops.threads import map_chunks
    tg.set_num_threads(2)
    seen = set()

    def square(value):
        seen.add(threading.current_thread().name)
        x = np.full((200, 200), float(value))
        return float((x @ x)[0, 0])  # a BLAS call, GIL released

    assert map_chunks(square, range(40)) == [200.0 * v * v for v in range(40)]
    assert len(seen) <= 2
    tg.set_num_threads(1)
    assert map_chunks(square, [3]) == [1800.0]

    def fail(value):
        raise ValueError(f"chunk {value}")

    tg.set_num_threads(2)
    with pytest.raises(ValueError, match="chunk"):
        map_chunks(fail, range(4))


# The governor (tinygrad_cnn.ops.threads.Governor), fed fake /proc/stat samples: no timing.

class FakeMachine:
    """A fake ``/proc/stat`` (per-CPU busy and idle jiffies, 100 a second), this process's
    CPU time and a wall clock, advanced by :meth:`run`."""

    def __init__(self, cpus=2):
        self.busy, self.idle = [0] * cpus, [0] * cpus
        self.own = 0.0
        self.now = 1000.0
        self.reads = 0
        self.available = True

    def stat(self):
        if not self.available:
            raise OSError("no /proc")
        self.reads += 1
        total_busy, total_idle = sum(self.busy), sum(self.idle)
        lines = [f"cpu  {total_busy} 0 0 {total_idle} 0 0 0 0 0 0"]
        # user nice system idle iowait irq softirq steal guest guest_nice
        lines += [f"cpu{i} {b - b // 2} 0 {b // 2} {d} 0 0 0 0 0 0"
                  for i, (b, d) in enumerate(zip(self.busy, self.idle, strict=True))]
        lines += ["intr 1 2 3", "ctxt 5", "procs_running 3"]
        return "\n".join(lines) + "\n"

    def run(self, seconds, ours, others):
        """``seconds`` pass with this process using ``ours`` cores and other processes
        ``others`` (each a list of per-CPU shares, or a number spread from CPU 0 up)."""
        shares = [self._spread(ours), self._spread(others)]
        for cpu in range(len(self.busy)):
            used = min(1.0, shares[0][cpu] + shares[1][cpu])
            self.busy[cpu] += round(100 * seconds * used)
            self.idle[cpu] += round(100 * seconds * (1 - used))
        self.own += seconds * sum(shares[0])
        self.now += seconds

    def _spread(self, cores):
        if isinstance(cores, list):
            return cores
        return [max(0.0, min(1.0, cores - cpu)) for cpu in range(len(self.busy))]

    def governor(self, affinity=None):
        from tinygrad_cnn.ops.threads import Governor
        return Governor(read_stat=self.stat, cpu_time=lambda: self.own, clock=lambda: self.now,
                        affinity=lambda: affinity, hz=100)


def test_governor_allows_two_threads_on_an_idle_machine():
    machine = FakeMachine()
    governor = machine.governor()
    assert governor.threads(2) == 2          # no window yet: the requested count
    for ours in (1.0, 2.0, 0.3):             # our own use never counts against us
        machine.run(0.2, ours=ours, others=0.0)
        assert governor.threads(2) == 2
        assert governor.others == pytest.approx(0.0, abs=1e-9)


def test_governor_pins_to_one_thread_when_another_process_uses_a_core():
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])  # a spinner on the other core
    assert governor.threads(2) == 1
    assert governor.others == pytest.approx(1.0)
    assert governor.threads(1) == 1


def test_governor_drops_when_our_two_threads_share_the_cores_with_a_spinner():
    # Three runnable threads on two cores: ours get 4/3 of a core, the spinner 2/3.
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    machine.run(0.3, ours=0.0, others=0.0)
    assert governor.threads(2) == 2
    machine.run(0.3, ours=[2 / 3, 2 / 3], others=[1 / 3, 1 / 3])
    assert governor.threads(2) == 1
    machine.run(0.3, ours=[1.0, 0.0], others=[0.0, 1.0])   # then it has its core
    assert governor.threads(2) == 1
    machine.run(0.3, ours=[1.0, 0.0], others=0.0)         # the spinner stops
    assert governor.threads(2) == 2


def test_governor_hysteresis():
    from tinygrad_cnn.ops.threads import STAY_MARGIN, UP_MARGIN
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    between = (UP_MARGIN + STAY_MARGIN) / 2      # 0.375 of a core: keep what we have
    machine.run(0.2, ours=1.0, others=[0.0, between])
    assert governor.threads(2) == 2
    machine.run(0.2, ours=1.0, others=[0.0, STAY_MARGIN + 0.1])
    assert governor.threads(2) == 1
    machine.run(0.2, ours=1.0, others=[0.0, between])
    assert governor.threads(2) == 1
    machine.run(0.2, ours=1.0, others=[0.0, UP_MARGIN - 0.1])
    assert governor.threads(2) == 2


def test_governor_reads_proc_stat_at_most_once_a_window_and_not_for_one_thread():
    from tinygrad_cnn.ops.threads import WINDOW_SECONDS
    machine = FakeMachine()
    governor = machine.governor()
    assert governor.threads(1) == 1 and machine.reads == 0
    governor.threads(2)
    machine.run(WINDOW_SECONDS, ours=1.0, others=[0.0, 1.0])
    governor.threads(2)
    reads = machine.reads
    machine.run(WINDOW_SECONDS / 4, ours=1.0, others=0.0)
    for _ in range(10):
        assert governor.threads(2) == 1   # the decision of the last window, kept
    assert machine.reads == reads
    machine.run(WINDOW_SECONDS, ours=1.0, others=0.0)
    assert governor.threads(2) == 2
    assert machine.reads == reads + 1


def test_governor_falls_back_to_the_requested_count_without_proc():
    machine = FakeMachine()
    machine.available = False
    governor = machine.governor()
    for _ in range(3):
        machine.run(0.2, ours=1.0, others=1.0)
        assert governor.threads(2) == 2 and governor.threads(5) == 5
    machine.available = True          # and a machine that loses /proc mid-way
    governor.threads(2)
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])
    assert governor.threads(2) == 1
    machine.available = False
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])
    assert governor.threads(2) == 2


def test_governor_disabled_uses_the_requested_count():
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])
    governor.enabled = False
    assert governor.threads(2) == 2
    governor.enabled = True
    assert governor.threads(2) == 1


def test_governor_counts_only_the_cpus_this_process_may_use():
    machine = FakeMachine(cpus=4)
    governor = machine.governor(affinity={0, 1})
    governor.threads(4)
    machine.run(0.2, ours=[1.0, 0.0, 0.0, 0.0], others=[0.0, 0.0, 1.0, 1.0])
    assert governor.threads(4) == 2          # CPUs 2 and 3 are not ours: two cores free
    machine.run(0.2, ours=[1.0, 0.0, 0.0, 0.0], others=[0.0, 1.0, 1.0, 1.0])
    assert governor.threads(4) == 1
    machine.run(0.2, ours=[1.0, 0.0, 0.0, 0.0], others=0.0)
    governor_all = machine.governor()
    governor_all.threads(8)
    machine.run(0.2, ours=1.0, others=[0.0, 0.0, 1.0, 0.0])
    assert governor_all.threads(8) == 3      # never more threads than free cores


def test_governor_restarts_its_window_in_a_forked_child(monkeypatch):
    # A forked child has its own CPU time (from zero) and pid: no estimate from that window.
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    machine.run(0.2, ours=1.0, others=0.0)
    assert governor.threads(2) == 2
    parent = __import__("os").getpid()
    monkeypatch.setattr("os.getpid", lambda: parent + 1)
    machine.own = 0.0
    machine.run(0.2, ours=1.0, others=0.0)
    assert governor.threads(2) == 2 and governor.others == pytest.approx(0.0, abs=1e-9)
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])
    assert governor.threads(2) == 1 and governor.others == pytest.approx(1.0)


def test_cpu_jiffies_parses_the_cpu_lines():
    from tinygrad_cnn.ops.threads import cpu_jiffies
    stat = ("cpu  30 1 5 100 4 1 1 2 9 9\ncpu0 10 1 2 60 3 1 1 1 9 9\n"
            "cpu1 20 0 3 40 1 0 0 1 0 0\nintr 7\n")
    assert cpu_jiffies(stat) == (16 + 24, 16 + 63 + 24 + 41, 2)
    assert cpu_jiffies(stat, {1}) == (24, 24 + 41, 1)
    assert cpu_jiffies(stat, {7}) == (40, 144, 2)     # none listed: all of them
    assert cpu_jiffies("cpu 1 2 3\n", None) == (0, 0, 0)


@pytest.fixture
def busy_neighbour(monkeypatch):
    """The library's governor replaced by one fed a fake machine, which has just seen another
    process on a core; returns the machine."""
    from tinygrad_cnn.ops import threads
    machine = FakeMachine()
    governor = machine.governor()
    governor.threads(2)
    machine.run(0.2, ours=1.0, others=[0.0, 1.0])
    monkeypatch.setattr(threads, "governor", governor)
    return machine


def test_busy_neighbour_pins_map_chunks_and_the_blas_to_one_thread(busy_neighbour,
                                                                    restore_threads):
    import threading

    from tinygrad_cnn.ops.threads import active_threads, governed, map_chunks
    tg.set_num_threads(2)
    assert all(c == 2 for c in _blas_counts())
    seen, blas = set(), []

    def work(value):
        seen.add(threading.current_thread().name)
        blas.append(_blas_counts())
        return value * 2

    assert map_chunks(work, range(6)) == [0, 2, 4, 6, 8, 10]
    assert seen == {threading.current_thread().name}
    assert blas and all(c == 1 for counts in blas for c in counts)
    # The BLAS stays at the governor's count, process-wide; the user's count is kept.
    assert all(c == 1 for c in _blas_counts())
    assert tg.get_num_threads() == 2 and active_threads() == 1
    with governed() as count:
        assert count == 1 and all(c == 1 for c in _blas_counts())
    # The neighbour stops: the next window gives both threads back, BLAS included.
    busy_neighbour.run(0.2, ours=1.0, others=0.0)
    with governed() as count:
        # an op's own products stay on one BLAS thread (its parallel work is map_chunks')
        assert count == 2 and all(c == 1 for c in _blas_counts())
    assert all(c == 2 for c in _blas_counts())     # process-wide: the governor's count
    seen.clear()
    map_chunks(work, range(40))
    assert len(seen) <= 2
    # set_num_threads sets the BLAS at once, whatever the governor said last.
    busy_neighbour.run(0.2, ours=1.0, others=[0.0, 1.0])
    assert active_threads() == 1 and all(c == 1 for c in _blas_counts())
    tg.set_num_threads(2)
    assert all(c == 2 for c in _blas_counts())


def test_the_governor_leaves_an_open_blas_threads_block_alone(busy_neighbour, restore_threads):
    from tinygrad_cnn.ops.threads import active_threads
    tg.set_num_threads(2)
    busy_neighbour.run(0.2, ours=1.0, others=0.0)
    with blas_threads(1):
        busy_neighbour.run(0.2, ours=1.0, others=0.0)
        assert active_threads() == 2
        assert all(c == 1 for c in _blas_counts())   # still pinned inside the block
    assert all(c == 2 for c in _blas_counts())       # and restored after it


def test_the_governor_off_uses_the_requested_count(busy_neighbour, restore_threads):
    from tinygrad_cnn.ops import threads
    tg.set_num_threads(2)
    threads.governor.enabled = False
    assert threads.active_threads() == 2 and all(c == 2 for c in _blas_counts())


@pytest.mark.parametrize("algorithm", ["im2col", "im2col_phases", "winograd", "fft"])
def test_results_do_not_depend_on_the_governor(algorithm, monkeypatch, restore_threads):
    from tinygrad_cnn.ops import threads
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((6, 4, 13, 13)), rng.standard_normal((5, 4, 3, 3))
    stride = 2 if algorithm == "im2col_phases" else 1
    tg.set_num_threads(2)
    results = []
    for cores in (1, 2):
        machine = FakeMachine()
        governor = machine.governor()
        governor.threads(2)
        machine.run(0.2, ours=1.0, others=[0.0, 1.0] if cores == 1 else 0.0)
        monkeypatch.setattr(threads, "governor", governor)
        assert threads.active_threads() == cores
        with conv_algorithm(algorithm):
            xt, wt = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
            out = F.conv2d(xt, wt, padding=1, stride=stride)
            out.sum().backward()
        results.append((out._data, xt.grad._data, wt.grad._data))
    for one, two in zip(*results, strict=True):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-12)


def test_the_heap_keeps_a_steps_freed_arrays():
    """After map_chunks (which sets malloc's thresholds once, glibc only), a step's worth of
    MiB-sized arrays freed and allocated again costs no page faults (glibc's adaptive
    thresholds trimmed the heap and faulted every page back in)."""
    import ctypes
    import resource

    from tinygrad_cnn.ops import threads
    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("glibc only")
    if threads.switched_off("TINYGRAD_CNN_MALLOPT"):
        pytest.skip("TINYGRAD_CNN_MALLOPT=0 leaves malloc alone")
    threads.map_chunks(lambda chunk: chunk, [1, 2])
    assert threads.keep_heap()

    def step():
        keep = [np.ones(200_000 + 1000 * k) for k in range(10)]   # ~16 MiB, 1.6 MiB each
        del keep

    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 200


def test_an_unset_count_is_the_blas_count_outside_the_librarys_own_pinning(monkeypatch,
                                                                          restore_threads):
    # Without set_num_threads the count is the BLAS's own; an op pins its own products to
    # one BLAS thread (governed), which must not make the op itself see one thread.
    from tinygrad_cnn.ops import threads
    from tinygrad_cnn.ops.threads import active_threads, governed
    tg.set_num_threads(2)
    monkeypatch.setattr(threads, "_requested", None)
    monkeypatch.setattr(threads.governor, "enabled", False)
    assert tg.get_num_threads() == 2
    with governed() as count:
        assert count == 2 and all(c == 1 for c in _blas_counts())
        assert tg.get_num_threads() == 2 and active_threads() == 2
    assert tg.get_num_threads() == 2


def test_an_unset_count_survives_the_governor_pinning_the_blas(busy_neighbour, monkeypatch,
                                                                restore_threads):
    # The governor sets OpenBLAS's count process-wide while another process holds a core;
    # without set_num_threads the library's count is the BLAS's own from before, so that it
    # takes the second thread back when the neighbour stops.
    from tinygrad_cnn.ops import threads
    from tinygrad_cnn.ops.threads import active_threads
    tg.set_num_threads(2)
    monkeypatch.setattr(threads, "_requested", None)
    monkeypatch.setattr(threads, "_blas_default", None)
    monkeypatch.setattr(threads, "_applied", None)
    assert active_threads() == 1 and all(c == 1 for c in _blas_counts())
    assert tg.get_num_threads() == 2
    busy_neighbour.run(0.2, ours=1.0, others=0.0)
    assert active_threads() == 2 and all(c == 2 for c in _blas_counts())


def _spy_blas(monkeypatch, module):
    """The BLAS thread counts in force at each ``np.matmul`` that ``module`` calls."""
    seen = []
    real = np.matmul

    class Numpy:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def matmul(*args, **kwargs):
            seen.append(tuple(_blas_counts()))
            return real(*args, **kwargs)
    monkeypatch.setattr(module, "np", Numpy())
    return seen


@pytest.mark.parametrize("shape_a, shape_b", [((96, 300), (300, 40)), ((40, 300), (300, 96)),
                                              ((64, 3136), (3136, 128))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split", [True, False])
def test_large_products_run_on_one_blas_thread_with_the_same_bits(
        monkeypatch, restore_threads, shape_a, shape_b, dtype, split):
    from tinygrad_cnn.ops import linalg
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    assert a.size * b.shape[1] >= linalg.BLAS_THREADED_MACS
    results = {}
    for count in (1, 2):
        tg.set_num_threads(count)
        seen = _spy_blas(monkeypatch, linalg)
        if split:   # in blocks on the library's threads
            monkeypatch.setattr(linalg, "PARALLEL_MACS", linalg.BLAS_THREADED_MACS)
        results[count] = (tg.tensor(a) @ tg.tensor(b)).numpy()
        monkeypatch.undo()
        assert len(seen) == (linalg.SPLIT_PARTS if split else 1)
        assert all(c == 1 for s in seen for c in s)
    np.testing.assert_array_equal(results[1], results[2])
    np.testing.assert_allclose(results[2], a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-11)


def test_batch_norm_sums_on_one_blas_thread(monkeypatch, restore_threads):
    from tinygrad_cnn.ops import batchnorm
    tg.set_num_threads(2)
    seen = _spy_blas(monkeypatch, batchnorm)
    x = tg.tensor(np.random.default_rng(1).standard_normal((16, 8, 20, 20)).astype(np.float32),
                  requires_grad=True)
    tg.nn.BatchNorm2d(8)(x).sum().backward()
    assert seen and all(c == 1 for s in seen for c in s)
