"""``DataLoader``: batches of a dataset, in this process or in workers, as PyTorch's."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
import weakref

import numpy as np

from .._checks import (
    MAX_INT_ARGUMENT,
    OptionConflictError,
    check_flag,
    check_int,
    check_real,
    is_int,
)
from . import transfer
from ._rng import draw_seed, numpy_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import make_fetcher
from .samplers import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import (
    STATUS_CHECK_INTERVAL,
    ExceptionWrapper,
    IterableStop,
    ResumeIteration,
    worker_loop,
)

__all__ = ["DataLoader"]

# How long (seconds) a shut-down worker may take to exit before it is terminated: an idle
# worker exits at once; one busy in a slow __getitem__ is not waited for.
JOIN_TIMEOUT = 0.5


class _InfiniteConstantSampler(Sampler):
    """The "sampler" of an iterable dataset: ``None`` forever (the fetcher reads the stream)."""

    def __iter__(self):
        return itertools.repeat(None)


def _default_context():
    # fork starts workers in milliseconds and shares the dataset copy-on-write; elsewhere
    # (macOS, Windows) the platform's default applies and the dataset is pickled.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class DataLoader:
    """Iterate over ``dataset`` in batches (as ``torch.utils.data.DataLoader``).

    ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, generator=None, prefetch_factor=None, persistent_workers=False)``.

    A ``TensorDataset(images (N, 1, 28, 28), labels (N,))`` yields
    ``[images (B, 1, 28, 28), labels (B,)]`` (a list, as PyTorch's ``default_collate`` makes
    of tuple samples) with ``B = batch_size``; the last batch may be smaller unless
    ``drop_last``. ``batch_size=None`` turns batching off (samples are converted one by one).
    ``len(loader)`` is the number of batches per epoch.

    The order: ``sampler`` (default ``SequentialSampler``, or ``RandomSampler`` with
    ``shuffle=True``) grouped by a ``BatchSampler``, or a user's ``batch_sampler``.
    ``generator`` (a ``numpy.random.Generator`` or ``tinygrad_cnn.Generator``; default the
    library's seeded generator) drives shuffling and the workers' seeds.

    ``num_workers > 0`` loads batches in that many worker processes (fork on Linux): batch
    ``k`` goes to worker ``k mod num_workers`` (skipping finished workers), at most
    ``prefetch_factor * num_workers`` batches are in flight, and the results are reordered,
    so the batches and their order are those of ``num_workers=0``. Each epoch draws a base
    seed from ``generator``; worker ``i`` seeds ``random``, ``tinygrad_cnn.manual_seed`` and
    numpy's global generator from ``base_seed + i`` (see ``get_worker_info()``), so random
    transforms differ between workers and repeat run to run. A worker's exception is raised
    again in this process, of the same type, with the worker's traceback in its message;
    after it (or ``timeout`` seconds without a batch: ``RuntimeError``, or Ctrl-C) the
    workers are terminated, as they are when the iterator is exhausted, closed or collected.
    ``persistent_workers=True`` keeps them alive between epochs. ``pin_memory`` has no
    effect (there is no GPU).

    Argument checks are PyTorch's: ``shuffle``, ``pin_memory`` and ``persistent_workers`` are
    read by truth value (``shuffle=1`` works), a ``batch_size`` or ``drop_last`` of the wrong
    kind is a ``ValueError``, and a ``timeout`` > 0 without workers fails at ``iter()``
    (PyTorch's ``AssertionError``; here a ``ValueError`` that is also one).

    Differences: a NaN ``timeout`` is refused, as is more than 2**62 workers; ``shuffle``
    defaults to False (PyTorch: None, meaning False); ``multiprocessing_context`` (a start
    method name or a context) and ``generator_seed`` (an int: the same as
    ``generator=numpy.random.default_rng(generator_seed)``) are keyword-only.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, prefetch_factor=None,
                 persistent_workers=False, *, multiprocessing_context=None,
                 generator_seed=None):
        if not hasattr(dataset, "__getitem__") and not isinstance(dataset, IterableDataset):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__ (or be an "
                f"IterableDataset), got {type(dataset).__name__}"
            )
        op = "DataLoader"
        # as PyTorch: shuffle, pin_memory and persistent_workers are read by truth value (an
        # int works), drop_last and batch_size are checked with a ValueError
        for name, flag in (("shuffle", shuffle), ("pin_memory", pin_memory),
                           ("persistent_workers", persistent_workers)):
            check_flag(op, name, flag)
        if not isinstance(drop_last, (bool, np.bool_)):
            raise ValueError(f"{op}: drop_last must be a bool, got {drop_last!r}")
        if batch_size is not None and (not is_int(batch_size) or not
                                       1 <= batch_size <= MAX_INT_ARGUMENT):
            raise ValueError(f"{op}: batch_size must be a positive int (at most 2**62) or "
                             f"None, got {batch_size!r}")
        check_int(op, "num_workers", num_workers, minimum=0)
        # a NaN timeout is refused (PyTorch takes it); a timeout > 0 needs workers, which
        # iter() checks, as PyTorch
        check_real(op, "timeout", timeout, low=0)
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor must be None without workers (it could only be "
                f"specified in multiprocessing: let num_workers > 0), got {prefetch_factor!r}"
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None:
            check_int(op, "prefetch_factor", prefetch_factor, minimum=1)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers must be False without workers "
                             "(the option needs num_workers > 0), got True")
        for name, function in (("worker_init_fn", worker_init_fn), ("collate_fn", collate_fn)):
            if function is not None and not callable(function):
                raise TypeError(f"DataLoader: {name} must be callable, got "
                                f"{type(function).__name__}")
        if generator_seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: generator_seed must be None when generator is "
                                 "given (pass one of them), got both")
            generator_seed = check_int(op, "generator_seed", generator_seed, minimum=0)
            generator = np.random.default_rng(generator_seed)
        if generator is not None:
            numpy_generator(generator)  # a bad generator fails here, not at the first epoch

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle:
                raise ValueError("DataLoader: shuffle must be unspecified with an "
                                 f"IterableDataset, got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader: sampler must be unspecified with an "
                                 f"IterableDataset, got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader: batch_sampler must be unspecified with an "
                                 f"IterableDataset, got batch_sampler={batch_sampler}")
        else:
            self._dataset_kind = "map"
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: shuffle must be False when a sampler is given (the "
                             "options are mutually exclusive), got True")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last must be False when batch_size=None "
                             "(which disables auto-batching), got True")
        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.persistent_workers = bool(persistent_workers)
        if isinstance(multiprocessing_context, str):
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
        self.multiprocessing_context = multiprocessing_context
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterator = None
        self._initialized = True

    def __setattr__(self, name, value):
        # as PyTorch: the order of an epoch is fixed at construction
        if getattr(self, "_initialized", False) and name in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                "persistent_workers"):
            raise ValueError(f"{type(self).__name__}: {name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == "iterable":
            count = len(self.dataset)
            if self.batch_size is not None:
                return count // self.batch_size if self.drop_last else -(-count
                                                                         // self.batch_size)
            return count
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None or self._iterator._finished:
                self._iterator = _MultiProcessIter(self)
            else:
                # the workers keep their first seeds; a seed is still drawn for the epoch so
                # the shuffling stream matches num_workers=0
                draw_seed(self.generator)
                self._iterator._reset(first_epoch=False)
            return self._iterator
        return _MultiProcessIter(self)


def _index_stream(loader):
    """The epoch's sampler output; numpy index arrays when a built-in BatchSampler allows."""
    sampler = loader._index_sampler
    if type(sampler) is BatchSampler:
        batches = sampler._index_batches()
        if batches is not None:
            return iter(batches)
    return iter(sampler)


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._dataset_kind = loader._dataset_kind
        # drawn every epoch with or without workers, so both see the same shuffling stream
        self._base_seed = draw_seed(loader.generator)
        self._finished = False

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        if loader.timeout != 0:  # PyTorch: an AssertionError here
            raise OptionConflictError(
                f"DataLoader: timeout must be 0 without workers (num_workers=0), got "
                f"{loader.timeout}")
        self._indices = _index_stream(loader)
        self._fetcher = make_fetcher(loader._dataset_kind, loader.dataset,
                                     loader._auto_collation, loader.collate_fn,
                                     loader.drop_last)

    def __next__(self):
        return self._fetcher.fetch(next(self._indices))


class _WorkerPool:
    """The worker processes and queues of one multi-process iterator; ``shutdown`` ends them.

    Kept apart from the iterator so a ``weakref.finalize`` on the iterator can call
    ``shutdown`` without keeping the iterator alive.
    """

    def __init__(self, loader, base_seed: int):
        context = loader.multiprocessing_context or _default_context()
        self.done_event = context.Event()
        self.data_queue = context.Queue()
        self.index_queues, self.workers = [], []
        self.closed = False
        # batches' arrays travel through shared memory where its slot rule holds (forked
        # workers, strict round-robin: map-style datasets); see transfer.py
        self.slots = None
        if loader._dataset_kind == "map" and context.get_start_method() == "fork":
            self.slots = transfer.SharedSlots(loader.num_workers, loader.prefetch_factor)
        try:
            for worker_id in range(loader.num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()  # never block our exit on unsent indices
                worker = context.Process(
                    target=worker_loop, daemon=True,
                    args=(loader._dataset_kind, loader.dataset, index_queue, self.data_queue,
                          self.done_event, loader._auto_collation, loader.collate_fn,
                          loader.drop_last, base_seed, loader.worker_init_fn, worker_id,
                          loader.num_workers, os.getpid(), self.slots))
                worker.start()
                self.index_queues.append(index_queue)
                self.workers.append(worker)
        except BaseException:
            self.shutdown()
            raise

    def shutdown(self) -> None:
        """Tell the workers to exit, wait briefly, terminate the rest; idempotent.

        The termination is in a ``finally``: a second Ctrl-C during the wait still ends
        every worker.
        """
        if self.closed:
            return
        self.closed = True
        try:
            self.done_event.set()
            for index_queue in self.index_queues:
                try:
                    index_queue.put(None)
                except (OSError, ValueError):
                    pass
            deadline = time.monotonic() + JOIN_TIMEOUT
            for worker in self.workers:
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for worker in self.workers:
                if worker.is_alive():
                    worker.terminate()
            for worker in self.workers:
                worker.join()
            for index_queue in self.index_queues:
                index_queue.close()
            self.data_queue.cancel_join_thread()
            self.data_queue.close()


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._num_workers = loader.num_workers
        self._window = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._pool = _WorkerPool(loader, self._base_seed)
        self._finalizer = weakref.finalize(self, self._pool.shutdown)
        self._reset(first_epoch=True)

    def _reset(self, first_epoch: bool) -> None:
        self._indices = _index_stream(self._loader)
        self._send_index = 0      # number of the next task to hand out
        self._receive_index = 0   # number of the next batch to return
        self._tasks = {}          # task number -> (worker id,) or (worker id, result)
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._epoch_done = False
        if not first_epoch:
            # persistent workers: start the new epoch; drop what the last one left in flight
            for index_queue in self._pool.index_queues:
                index_queue.put(ResumeIteration())
            waiting = self._num_workers
            while waiting:
                task_number, _ = self._get()
                if isinstance(task_number, ResumeIteration):
                    waiting -= 1
        for _ in range(self._window):
            self._put_task()

    def _put_task(self) -> None:
        if self._send_index - self._receive_index >= self._window:
            return
        try:
            indices = next(self._indices)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._next_worker)
            if self._active[worker_id]:
                break
        else:
            return
        self._pool.index_queues[worker_id].put((self._send_index, indices))
        self._tasks[self._send_index] = (worker_id,)
        self._send_index += 1

    def _get(self):
        """The next ``(task number, payload)`` from the workers, watching time and health."""
        waited = 0.0
        while True:
            interval = STATUS_CHECK_INTERVAL
            if self._timeout > 0:
                interval = min(interval, self._timeout - waited)
            try:
                return self._pool.data_queue.get(timeout=interval)
            except queue.Empty:
                waited += interval
            dead = [w.pid for w in self._pool.workers if not w.is_alive()]
            if dead:
                raise RuntimeError(
                    f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                    "unexpectedly"
                )
            if self._timeout > 0 and waited >= self._timeout:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_batch(self):
        while True:
            while self._receive_index < self._send_index:
                task = self._tasks[self._receive_index]
                if len(task) == 2 or self._active[task[0]]:
                    break
                # the task of a worker whose stream ended: it will never be answered
                del self._tasks[self._receive_index]
                self._receive_index += 1
                self._put_task()
            else:
                raise StopIteration
            task = self._tasks[self._receive_index]
            if len(task) == 2:
                del self._tasks[self._receive_index]
                return self._deliver(task[1])
            task_number, payload = self._get()
            if isinstance(task_number, ResumeIteration):
                continue
            data = transfer.loads(payload, self._pool.slots)
            if isinstance(data, IterableStop):
                self._active[data.worker_id] = False
                continue
            if task_number != self._receive_index:
                self._tasks[task_number] += (data,)
                continue
            del self._tasks[task_number]
            return self._deliver(data)

    def _deliver(self, data):
        self._receive_index += 1
        self._put_task()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def __next__(self):
        if self._finished or self._epoch_done:
            raise StopIteration
        try:
            return self._next_batch()
        except StopIteration:
            if not self._persistent:
                self._close()
            else:
                self._epoch_done = True
            raise
        except BaseException:
            # a worker's error, a timeout, Ctrl-C: end the workers before the error travels
            self._close()
            raise

    def _close(self) -> None:
        self._finished = True
        self._finalizer()

    close = _close
