"""A second core without the GIL: one helper process that computes a kernel's share.

Why a process. A convolution kernel here is a pipeline of numpy calls; numpy releases the
GIL inside each call, but every call takes it back for its Python side, so two threads of
one process wait for each other. Measured (``benchmarks/bench_gil.py``, one thread each,
two loops at once, F(2x2) forwards): two threads of one process run 1.33-1.58 forwards in
the time of one, two processes 1.96-2.09. So with ``set_num_threads(2)`` a kernel that can
(the Winograd kernels, :mod:`.conv_winograd`) gives its second half to a helper process
while it computes the first half itself.

How. The helper is ``python -c ...`` running :mod:`._second_core_worker` (a fresh
interpreter that imports only this library: no ``fork`` of a process whose threads hold
locks, and, unlike ``multiprocessing``'s ``spawn``, no re-import of the user's main
script). It reads jobs from its stdin and answers on its stdout, one pickled message each
way; the arrays travel through a shared file mapping (the *arena*, under ``/dev/shm``
where there is one): :meth:`SecondCore.submit` copies a job's input arrays into it, the
helper reads them in place and writes its outputs there, and the caller copies those out
before its next job. A job names a function of :mod:`tinygrad_cnn.ops` (``"module:name"``),
called as ``function(**inputs, **outputs, **params)``; it computes exactly what the
caller's own code computes for that share (same numpy calls, same single BLAS thread), so
results do not depend on who computed which share.

The helper starts on the first :meth:`SecondCore.ready` with two threads requested (in the
background: until it says it has imported, about half a second, kernels use their threads
instead) and ends with this process (its stdin closes). Any failure (it cannot start, dies,
or a job raises) turns the second core off for the process; the caller then computes the
share itself (a job too big for the room left in ``/dev/shm`` only stays here).
``TINYGRAD_CNN_SECOND_CORE=0`` (or ``second_core.enabled = False``) turns it
off; so does a frozen application (its ``sys.executable`` is not a Python). The helper
costs the memory of a second interpreter with numpy (about 70 MB), of the arena and of the
forward tiles it keeps for a weight gradient (at most two ops' share, each within
:data:`.conv_memo.KEEP_BYTES`). Its CPU time counts as this process's for the governor
(:mod:`.threads`), which decides whether a second core is free at all.
"""

from __future__ import annotations

import atexit
import mmap
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from .threads import active_threads, count_as_own, switched_off

__all__ = ["SecondCore", "second_core", "share_cut", "shifted"]

ARENA_BYTES = 32 << 20       # the first arena; a bigger job gets a bigger one
SHARE = 0.5                  # of a kernel's images, for the helper
MIN_MACS = 1 << 25           # multiply-adds for which an op's share is worth the trip
ALIGN = 64                   # bytes: each array of a job starts on a cache line
_HEADER = struct.Struct("<Q")


def _send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    """The next message, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


def _close(*streams) -> None:
    for stream in streams:
        try:
            stream.close()
        except OSError:      # a broken pipe's unwritten bytes: nobody is reading them
            pass


def _arena_directory() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


class _Arena:
    """A shared file mapping of ``size`` bytes; the file is unlinked once the helper has
    mapped it (:meth:`forget_path`)."""

    def __init__(self, size: int):
        fd, self.path = tempfile.mkstemp(prefix="tinygrad_cnn_", dir=_arena_directory())
        try:
            os.ftruncate(fd, size)
            if hasattr(os, "posix_fallocate"):
                # reserve the pages now: a full /dev/shm (a container's is often 64 MB)
                # then fails here, not with SIGBUS when a page is first written
                os.posix_fallocate(fd, 0, size)
            self.map = mmap.mmap(fd, size)
        except OSError:
            os.close(fd)
            os.unlink(self.path)
            raise
        os.close(fd)
        self.size = size
        self.bytes = np.frombuffer(self.map, np.uint8)

    def forget_path(self) -> None:
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None

    def view(self, offset: int, shape, dtype) -> np.ndarray:
        return array_at(self.bytes, offset, shape, dtype)


def array_at(arena: np.ndarray, offset: int, shape, dtype) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` at byte ``offset`` of ``arena`` (uint8), a view."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    return arena[offset:offset + count * dtype.itemsize].view(dtype).reshape(shape)


def _layout(specs) -> tuple[list, int]:
    """Offsets of arrays ``[(shape, dtype)]`` laid out one after the other, aligned, and
    the bytes they need."""
    offsets, end = [], 0
    for shape, dtype in specs:
        offsets.append(end)
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        end += -(-max(size, 1) // ALIGN) * ALIGN
    return offsets, end


class Job:
    """A share submitted to the helper. The caller computes its own share, then calls
    :meth:`finish` (also when its own share raised, so that the answer is read and the
    helper freed for the next job)."""

    def __init__(self, core, outputs):
        self.core, self.outputs = core, outputs

    def finish(self, take) -> bool:
        """Wait for the helper's answer; on success call ``take(outputs, returned)`` (the
        output arrays, views into the arena that are the caller's until this returns, and
        what the function returned) and return True; when the share failed, return False
        (the second core is then off: compute the share yourself)."""
        try:
            returned = self.core._answer()
        except SecondCoreError:
            self.core._lock.release()
            return False
        try:
            take(self.outputs, returned)
        finally:
            self.core._lock.release()
        return True


class SecondCoreError(RuntimeError):
    pass


class SecondCore:
    """The helper process and its arena (one per process: :data:`second_core`)."""

    def __init__(self):
        self.enabled = not (switched_off("TINYGRAD_CNN_SECOND_CORE")
                            or getattr(sys, "frozen", False))
        self._process = None
        self._arena = None
        self._ready = False
        self._failed = False
        self._pid_owner = None
        self._no_room = float("inf")    # the smallest job an arena could not be made for
        self._lock = threading.Lock()

    # -- the helper's life -------------------------------------------------------------
    def ready(self) -> bool:
        """Whether a job can go to the helper now; starts it (without waiting) the first time."""
        if not self.enabled or self._failed:
            return False
        if self._pid_owner is not None and self._pid_owner != os.getpid():
            return False                         # a forked child: the helper is the parent's
        if self._process is None:
            self._start()
            return False
        if not self._ready:
            self._ready = self._poll_started()
        return self._ready

    def start(self, wait: float = 0.0) -> bool:
        """Start the helper (if it is not up) and wait up to ``wait`` seconds for it to be
        ready; whether it is (benchmarks call this so that no timing includes its start)."""
        deadline = time.monotonic() + wait
        while not self.ready():
            if not self.enabled or self._failed or time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _start(self) -> None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", TINYGRAD_CNN_SECOND_CORE="0")
        env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]]
                                                      if env.get("PYTHONPATH") else []))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c",
                 "from tinygrad_cnn.ops._second_core_worker import main; main()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, close_fds=True)
        except OSError:
            self._failed = True
            return
        self._pid_owner = os.getpid()
        atexit.register(self.close)

    def _poll_started(self) -> bool:
        stdout = self._process.stdout
        try:
            readable, _, _ = select.select([stdout], [], [], 0)
        except (OSError, ValueError):
            self._fail()
            return False
        if not readable:
            if self._process.poll() is not None:
                self._fail()
            return False
        try:
            hello = _receive(stdout)
        except Exception:  # noqa: BLE001  (any broken answer: no second core)
            hello = None
        if hello != "ready":
            self._fail()
            return False
        return True

    def _fail(self) -> None:
        self._failed = True
        self._ready = False
        process, self._process = self._process, None
        if process is not None:
            try:
                process.kill()
                process.wait()
            except OSError:
                pass
            _close(process.stdin, process.stdout)
        if self._arena is not None:
            self._arena.forget_path()

    def close(self) -> None:
        """End the helper (it would end with this process anyway; done at exit)."""
        process, self._process = self._process, None
        self._ready = False
        if process is not None and self._pid_owner == os.getpid():
            _close(process.stdin)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _close(process.stdout)
        if self._arena is not None:
            self._arena.forget_path()
            self._arena = None

    def cpu_seconds(self) -> float:
        """The helper's CPU time so far (0 without one; Linux ``/proc``)."""
        process = self._process
        if process is None:
            return 0.0
        try:
            with open(f"/proc/{process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    # -- jobs --------------------------------------------------------------------------
    def submit(self, function: str, inputs: dict, outputs: dict, params: dict) -> Job | None:
        """Send ``function`` (``"module:name"`` of :mod:`tinygrad_cnn.ops`) with the arrays
        ``inputs`` (copied into the arena), room for ``outputs`` (``name -> (shape,
        dtype)``) and picklable ``params``; None when the helper is not ready or busy with
        another thread's job (compute the share yourself). The arena is the job's until
        :meth:`Job.finish`."""
        if not self.ready() or not self._lock.acquire(blocking=False):
            return None
        try:
            names = list(inputs) + list(outputs)
            specs = [(inputs[n].shape, inputs[n].dtype) for n in inputs] + \
                [(shape, np.dtype(dtype)) for shape, dtype in outputs.values()]
            offsets, size = _layout(specs)
            new_path = None
            if self._arena is None or self._arena.size < size:
                arena = self._new_arena(size)
                if arena is None:          # no room for this job's arrays: not this one
                    self._lock.release()
                    return None
                if self._arena is not None:
                    self._arena.forget_path()
                self._arena = arena
                new_path = (arena.path, arena.size)
            for name, offset in zip(inputs, offsets, strict=False):
                array = inputs[name]
                np.copyto(self._arena.view(offset, array.shape, array.dtype), array)
            placed = {name: (offset, tuple(shape), np.dtype(dtype).str)
                      for name, offset, (shape, dtype) in zip(names, offsets, specs, strict=True)}
            _send(self._process.stdin, (new_path, function, placed, params))
            views = {name: self._arena.view(*placed[name]) for name in outputs}
            return Job(self, views)
        except Exception:  # noqa: BLE001  (a broken pipe: no second core)
            self._fail()
            self._lock.release()
            return None

    def _new_arena(self, size: int):
        """A new arena for jobs of ``size`` bytes (with room to grow), or None when the
        arena's directory has no room for one (remembered: bigger jobs are not tried)."""
        if size >= self._no_room:
            return None
        for bytes_ in (max(ARENA_BYTES, size + size // 2), size):
            try:
                return _Arena(bytes_)
            except OSError:
                continue
        self._no_room = size
        return None

    def _answer(self):
        try:
            answer = _receive(self._process.stdout)
        except Exception:  # noqa: BLE001
            answer = None
        if self._arena is not None:
            self._arena.forget_path()    # mapped by the helper by now (or it is gone)
        if not isinstance(answer, tuple) or answer[0] != "ok":
            self._fail()
            raise SecondCoreError(f"the second core's job failed: {answer!r}")
        return answer[1]


second_core = SecondCore()
count_as_own(second_core.cpu_seconds)


def share_cut(starts: list, total: int, macs: int) -> int | None:
    """Where a kernel's work goes to the helper: its items (chunks of whole images,
    consecutive) begin at images ``starts`` of ``total``; the index of the first item of
    the helper's share (the item boundary nearest ``SHARE`` of the images), or None when
    one thread is in use (:func:`.threads.active_threads`), the op is smaller than
    ``MIN_MACS`` multiply-adds, has one item, or the helper is not ready."""
    if len(starts) < 2 or macs < MIN_MACS or active_threads() < 2:
        return None
    if not second_core.ready():
        return None
    mine = total * (1 - SHARE)
    return min(range(1, len(starts)), key=lambda k: abs(starts[k] - mine))


def shifted(images: slice, first: int) -> slice:
    """``images`` counted from image ``first`` (a share's own numbering)."""
    return slice(images.start - first, images.stop - first)
