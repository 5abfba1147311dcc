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

Some kernels transform their input chunk by chunk and drop each chunk's transform once its
products are done (im2col's columns, Winograd's input tiles); the weight gradient of the same
input repeats that work. A forward whose backward will compute that weight gradient
(:func:`keeps_input`, set by :class:`.conv.Conv2d`) keeps those chunks in the memo
(:func:`keep`), at most ``KEEP_BYTES`` of them per op, and the weight gradient takes them
back (:func:`kept`). Measured per layer at one thread (forward + weight gradient, Winograd
F(2x2)/F(4x4) on the ResNet-8 layers and bench_conv.py's (b)): 0.85-3.3 ms saved with 4-16
MiB kept; (c)'s 18 and 34 MiB lost (the forward +4.5 ms writing them out). The price is
memory: the kept chunks (im2col's columns ``kH*kW`` times the input, Winograd's tiles
``(m+2)^2/m^2`` times) live from the forward to the backward, as the FFT spectra do.
"""

from __future__ import annotations

import contextlib
import contextvars

MEMO_BYTES = 1 << 26
# The memo's name for an output gradient's per-channel sums (its convolution's bias
# gradient), which a weight gradient's kernel may offer (key None).
CHANNEL_SUMS = "channel sums"
KEEP_BYTES = 1 << 24

_memo: contextvars.ContextVar = contextvars.ContextVar("tinygrad_cnn_conv_memo", default=None)
_keep_input: contextvars.ContextVar = contextvars.ContextVar("tinygrad_cnn_conv_keep_input",
                                                            default=False)


@contextlib.contextmanager
def reuse(memo: dict | None, keep_input: bool = False):
    """Inside the block, transforms of the same operand array are kept in ``memo`` (None:
    none are kept); with ``keep_input``, also the input chunks' transforms a forward would
    drop (:func:`keep`)."""
    token = _memo.set(memo)
    keep_token = _keep_input.set(keep_input and memo is not None)
    try:
        yield
    finally:
        _keep_input.reset(keep_token)
        _memo.reset(token)


def active() -> dict | None:
    """The memo of the innermost :func:`reuse` block, or None."""
    return _memo.get()


def keeps_input() -> bool:
    """Whether the running forward should keep its input's chunk transforms (:func:`keep`):
    its backward computes the weight gradient from the same input."""
    return _keep_input.get()


def keep(kind: str, array, key, nbytes: int) -> dict | None:
    """A dict the running forward fills with the transforms of its input ``array``'s chunks
    (keyed as it likes), which the weight gradient gets back from :func:`kept`; None (keep
    nothing) unless :func:`keeps_input` and ``nbytes`` (their total) is at most
    ``KEEP_BYTES``."""
    if not _keep_input.get() or nbytes > KEEP_BYTES:
        return None
    chunks: dict = {}
    offer(kind, array, key, chunks)
    return chunks


def kept(kind: str, array, key) -> dict:
    """The chunk transforms a forward kept for ``array`` (:func:`keep`), or an empty dict."""
    return recall(kind, array, key) or {}


def offer(kind: str, array, key, value) -> None:
    """Put ``value``, computed from ``array`` on the way to something else (a weight
    gradient's kernel summing the output gradient per channel), into the active memo for
    :func:`recall` (nothing without a memo)."""
    memo = _memo.get()
    if memo is not None:
        memo[(kind, id(array), key)] = (array, value)


def recall(kind: str, array, key):
    """What :func:`offer` or :func:`remembered` put in the active memo for ``array``, or
    None."""
    memo = _memo.get()
    hit = None if memo is None else memo.get((kind, id(array), key))
    return hit[1] if hit is not None and hit[0] is array else None


def holds(array) -> set:
    """The kinds of transform the active memo holds for ``array`` (any key)."""
    memo = _memo.get()
    if memo is None:
        return set()
    return {kind for (kind, ident, _), (held, _) in memo.items()
            if ident == id(array) and held is array}


def remembered(kind: str, array, key, compute):
    """``compute()`` (an array or a numpy scalar), or the value the active memo holds for
    the same ``kind``, operand ``array`` and ``key``."""
    hit = recall(kind, array, key)
    if hit is not None:
        return hit
    value = compute()
    if getattr(value, "nbytes", 0) <= MEMO_BYTES:
        offer(kind, array, key, value)
    return value
