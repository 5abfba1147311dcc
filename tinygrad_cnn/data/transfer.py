"""How a worker's batch reaches the main process: pickled, with its arrays in shared memory.

The batch is pickled with protocol 5, which hands every large contiguous buffer (the numpy
arrays inside Tensors) to a callback instead of copying it into the pickle: those buffers
are written into the worker's slots of a :class:`SharedSlots` block and only their places
travel through the queue. The main process copies them out and unpickles. One copy on each
side, instead of pickling the arrays into bytes and pushing them through a pipe.

The block is an anonymous shared ``mmap`` made before the workers are forked: nothing is
named, nothing can leak, the kernel frees it when the last process exits. Each worker owns
``slots_per_worker`` slots and writes its batches into them in turn. A slot is reused only
after the main process has read it: a worker's batches are tasks ``k`` and later tasks
``>= k + num_workers * slots_per_worker`` (round-robin); the later one was only sent once
fewer than ``prefetch_factor * num_workers`` tasks were in flight, which means task ``k``'s
message had been read. Hence ``slots_per_worker = prefetch_factor``, and this path is used
only where the round-robin is strict (map-style datasets, fork start method); anything that
does not fit in a slot travels inside the pickle.
"""

from __future__ import annotations

import mmap
import pickle

__all__ = ["SharedSlots", "dumps", "loads"]

# Virtual size of one slot; pages are committed only when a batch first touches them.
SLOT_BYTES = 32 << 20
# Buffers smaller than this stay inside the pickle (not worth a slot entry).
MIN_SHARED_BYTES = 4096
_ALIGN = 64


class SharedSlots:
    """``num_workers * slots_per_worker`` slots of ``slot_bytes`` in one shared mapping."""

    def __init__(self, num_workers: int, slots_per_worker: int, slot_bytes: int | None = None):
        slot_bytes = SLOT_BYTES if slot_bytes is None else slot_bytes
        self.slots_per_worker, self.slot_bytes = slots_per_worker, slot_bytes
        self.memory = mmap.mmap(-1, num_workers * slots_per_worker * slot_bytes)
        self.view = memoryview(self.memory)
        self.used = 0  # in a worker: how many of its batches used a slot

    def next_slot(self, worker_id: int) -> int:
        """Offset of this worker's next slot (called in the worker)."""
        slot = worker_id * self.slots_per_worker + self.used % self.slots_per_worker
        return slot * self.slot_bytes


def dumps(data, slots: SharedSlots | None, worker_id: int):
    """``data`` as a queue payload: pickle bytes, or ``(pickle bytes, [(offset, length)])``
    with the large buffers written into the worker's next slot."""
    if slots is None:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    base = slots.next_slot(worker_id)
    places, cursor = [], 0

    def place(buffer: pickle.PickleBuffer) -> bool:
        nonlocal cursor
        raw = buffer.raw()
        start = -(-cursor // _ALIGN) * _ALIGN
        if raw.nbytes < MIN_SHARED_BYTES or start + raw.nbytes > slots.slot_bytes:
            return True  # in-band: copied into the pickle
        slots.view[base + start:base + start + raw.nbytes] = raw
        places.append((base + start, raw.nbytes))
        cursor = start + raw.nbytes
        return False

    header = pickle.dumps(data, protocol=5, buffer_callback=place)
    if not places:
        return header
    slots.used += 1
    return header, places


def loads(payload, slots: SharedSlots | None):
    """The batch from a payload of :func:`dumps`; shared buffers are copied out at once."""
    if isinstance(payload, bytes):
        return pickle.loads(payload)
    header, places = payload
    return pickle.loads(header, buffers=[bytearray(slots.view[offset:offset + length])
                                         for offset, length in places])
