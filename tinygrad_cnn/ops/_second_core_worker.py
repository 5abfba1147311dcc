"""The helper process of :mod:`.second_core`: reads jobs on stdin, answers on stdout.

Each job is ``(new_arena, function, placed, params)``: ``new_arena`` is None or the
``(path, size)`` of a shared file to map from now on, ``function`` a ``"module:name"`` in
:mod:`tinygrad_cnn.ops`, ``placed`` maps each argument name to ``(offset, shape, dtype)``
in the arena, ``params`` are further keyword arguments. The answer is ``("ok", returned)``
or ``("error", text)``. It ends when its stdin closes (its parent is gone).
"""

from __future__ import annotations

import importlib
import mmap
import os
import sys
import traceback

from .second_core import _receive, _send, array_at


def _function(name: str):
    module, _, attribute = name.partition(":")
    if not module.isidentifier():
        raise ValueError(f"not a module of tinygrad_cnn.ops: {name!r}")
    return getattr(importlib.import_module(f"tinygrad_cnn.ops.{module}"), attribute)


def main() -> None:
    import numpy as np

    from . import conv_winograd  # noqa: F401  (imported before the first job is timed)
    from .threads import keep_heap

    keep_heap()                      # as the parent's first map_chunks does (page faults)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr          # nothing else may write on the answer channel
    arena = None
    _send(stdout, "ready")
    while True:
        job = _receive(stdin)
        if job is None:
            return
        new_arena, name, placed, params = job
        try:
            if new_arena is not None:
                path, size = new_arena
                fd = os.open(path, os.O_RDWR)
                try:
                    arena = np.frombuffer(mmap.mmap(fd, size), np.uint8)
                finally:
                    os.close(fd)
            arrays = {key: array_at(arena, *where) for key, where in placed.items()}
            with np.errstate(all="ignore"):   # as the parent's ops (autograd.float_errors)
                answer = ("ok", _function(name)(**arrays, **params))
        except Exception:  # noqa: BLE001  (reported to the parent, which stops using us)
            answer = ("error", traceback.format_exc())
        _send(stdout, answer)


if __name__ == "__main__":
    main()
