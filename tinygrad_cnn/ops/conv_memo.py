"""What one training step's convolution ops share: a memo of operand transforms.

A convolution's forward and the two ops its backward runs transform the same arrays: the
FFT kernels (:mod:`.conv_fft`) the input's, kernel's and output gradient's spectra, the
stride-phase kernels (:mod:`.conv_strided`) the input's phase planes and the output
gradient on their grid. Inside :func:`reuse` those transforms are computed once per operand
array: :mod:`.conv` opens a memo in a forward that records a graph and reopens it in that
op's backward (whose ops then add what they share), and empties it when the backward has
run (a second backward, with ``retain_graph``, recomputes).

Entries are keyed by the identity of the operand array (held by the memo, so the identity
cannot be reused while the entry lives), the kind of transform and its parameters. An array
saved for backward cannot change in between without the version counter noticing; an
entry larger than ``MEMO_BYTES`` is not kept.
"""

from __future__ import annotations

import contextlib
import contextvars

MEMO_BYTES = 1 << 26

_memo: contextvars.ContextVar = contextvars.ContextVar("tinygrad_cnn_conv_memo", default=None)


@contextlib.contextmanager
def reuse(memo: dict | None):
    """Inside the block, transforms of the same operand array are kept in ``memo`` (None:
    none are kept)."""
    token = _memo.set(memo)
    try:
        yield
    finally:
        _memo.reset(token)


def active() -> dict | None:
    """The memo of the innermost :func:`reuse` block, or None."""
    return _memo.get()


def remembered(kind: str, array, key, compute):
    """``compute()`` (an array or a numpy scalar), or the value the active memo holds for
    the same ``kind``, operand ``array`` and ``key``."""
    memo = _memo.get()
    if memo is None:
        return compute()
    slot = (kind, id(array), key)
    hit = memo.get(slot)
    if hit is not None and hit[0] is array:
        return hit[1]
    value = compute()
    if getattr(value, "nbytes", 0) <= MEMO_BYTES:
        memo[slot] = (array, value)
    return value
