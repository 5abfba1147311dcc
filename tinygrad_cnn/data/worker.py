"""What runs inside a ``DataLoader`` worker process, and what it sends back.

A worker reads ``(task number, indices)`` from its own index queue, loads and collates that
batch, and puts ``(task number, payload)`` on the shared result queue (the payload: the
pickled batch, its arrays in shared memory, see :mod:`.transfer`); the main process puts the
results back in task order. ``None`` on the index queue means "exit"; a
:class:`ResumeIteration` starts a new epoch for persistent workers. Errors travel as an
:class:`ExceptionWrapper` carrying the worker's formatted traceback.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import signal
import sys
import traceback

import numpy as np

from .. import random as _random
from . import transfer
from .fetch import make_fetcher

__all__ = ["WorkerInfo", "get_worker_info"]

# How often (seconds) a blocked worker checks that the main process is still alive.
STATUS_CHECK_INTERVAL = 1.0

_worker_info = None


class WorkerInfo:
    """Facts about the current worker (as ``torch.utils.data.get_worker_info()``'s result).

    ``id`` (0 .. num_workers - 1), ``num_workers``, ``seed`` (the base seed of this epoch
    plus ``id``: the seed of ``random``, ``tinygrad_cnn.manual_seed`` and, through a
    ``SeedSequence``, numpy's legacy global generator in this worker) and ``dataset`` (this
    process's copy of the dataset). Read-only.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset", "_frozen")

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 (PyTorch's name)
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


def get_worker_info():
    """The :class:`WorkerInfo` of this ``DataLoader`` worker process; None in the main one."""
    return _worker_info


class ResumeIteration:
    """Sent to persistent workers at a new epoch; each echoes it back when ready."""


class IterableStop:
    """A worker's iterable dataset is exhausted (the main process stops asking it)."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class ExceptionWrapper:
    """An exception caught in a worker, with the worker's traceback as text.

    ``reraise()`` in the main process raises the same exception type (``RuntimeError`` when
    that type cannot be rebuilt from a message) whose message holds the original traceback.
    """

    def __init__(self, where: str):
        exc_type, exc_value, exc_tb = sys.exc_info()
        self.exc_type = exc_type
        self.message = (f"Caught {exc_type.__name__} {where}.\nOriginal "
                        + "".join(traceback.format_exception(exc_type, exc_value, exc_tb)))

    def reraise(self):
        try:
            error = self.exc_type(self.message)
        except Exception:
            raise RuntimeError(self.message) from None
        if isinstance(error, KeyError):  # KeyError's str() would show the message's repr
            error = _KeyErrorMessage(self.message)
        raise error


class _KeyErrorMessage(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def _pickled(data, worker_id: int, slots=None):
    """``data`` as a queue payload now, so a failure is reported as this worker's error."""
    try:
        return transfer.dumps(data, slots, worker_id)
    except Exception:
        if isinstance(data, ExceptionWrapper):
            # an exception class that does not pickle (defined in a function): its message
            # and traceback still travel, as a RuntimeError
            data.exc_type = RuntimeError
            return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        return _pickled(ExceptionWrapper(f"in DataLoader worker process {worker_id} "
                                         "while sending a batch to the main process"),
                        worker_id)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed every random source in this worker from the epoch's base seed (PyTorch's rule)."""
    seed = (base_seed + worker_id) % 2**63
    random.seed(seed)
    _random.manual_seed(seed)
    # numpy's legacy global generator: a SeedSequence of (worker, base seed), as PyTorch does
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                parent_pid, slots=None):
    """The body of worker process ``worker_id`` (runs until told to exit or orphaned)."""
    global _worker_info
    # Ctrl-C reaches the whole process group: the main process handles it and ends us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    seed = _seed_worker(base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    pending_error = None
    fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = make_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        pending_error = ExceptionWrapper(where)
    iteration_end = False
    while True:
        try:
            task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the main process died without telling us
                break
            continue
        if task is None:
            break
        if isinstance(task, ResumeIteration):
            iteration_end = False
            if pending_error is None:
                try:
                    fetcher = make_fetcher(dataset_kind, dataset, auto_collation, collate_fn,
                                           drop_last)
                except Exception:
                    pending_error = ExceptionWrapper(where)
            data_queue.put((task, None))
            continue
        if done_event.is_set() or iteration_end:
            continue
        task_number, indices = task
        if pending_error is not None:
            data, pending_error = pending_error, None
        else:
            try:
                data = fetcher.fetch(indices)
            except StopIteration:
                if dataset_kind != "iterable":
                    data = ExceptionWrapper(where)
                else:
                    data, iteration_end = IterableStop(worker_id), True
            except Exception:
                data = ExceptionWrapper(where)
        data_queue.put((task_number, _pickled(data, worker_id, slots)))
        del data, task, indices
    if done_event.is_set():
        # the main process no longer reads: do not wait for our queued results to be taken
        data_queue.cancel_join_thread()
    data_queue.close()
