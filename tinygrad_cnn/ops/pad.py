"""Padding as differentiable ops: constant padding and the three border-copying modes.

* ``Pad`` fills with a constant; a negative width crops.  Its adjoint is ``Pad`` with the
  widths negated and value 0 (crop what was padded, zero-fill what was cropped), so it is its
  own backward and every derivative order works.
* ``PadEdges`` (modes ``reflect``, ``replicate``, ``circular``) copies border elements of the
  input into the new border: along each padded axis, output position ``j`` reads input
  position ``source_index(...)[j]``.  Its adjoint ``PadEdgesAdjoint`` folds each border
  element back onto the input element it was copied from (adding); each is the other's
  backward.  Widths here are non-negative: the entry point crops with ``Pad`` first, as
  PyTorch does for negative widths.

Widths are one ``(before, after)`` pair per axis, first axis first.  The entry point that
checks them (PyTorch's flat tuple, last axis first) is :func:`tinygrad_cnn.nn.functional.pad`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each of the ``before + size + after`` output positions of one axis, the input
    position it copies (``before <= size - 1`` for reflect, ``<= size`` for circular)."""
    p = np.arange(-before, size + after)
    if mode == "reflect":  # mirror about the first and last element, which are not repeated
        p = np.abs(p)
        return (size - 1) - np.abs((size - 1) - p)
    if mode == "replicate":
        return np.clip(p, 0, size - 1)
    return p % size  # circular


class Pad(Function):
    """``(d0, d1, ...) -> (d0 + b0 + a0, ...)`` filled with ``value``; negative widths crop."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        source, target = [], []
        for n, (b, a) in zip(x.shape, widths):
            start, stop = max(-b, 0), n - max(-a, 0)
            if stop <= start:
                return out  # everything cropped: only the fill remains
            source.append(slice(start, stop))
            target.append(slice(max(b, 0), max(b, 0) + stop - start))
        out[tuple(target)] = x[tuple(source)]
        return out

    @staticmethod
    def backward(ctx, grad):
        negated = tuple((-b, -a) for b, a in ctx.widths)
        return Pad.apply(grad, negated, 0), None, None


def _blocks(size: int, before: int, after: int, mode: str, offset: int):
    """The border of one axis as ``(target, source, count)``: ``target`` a slice of border
    positions of the padded axis, ``source`` the slice of the positions they copy, in the
    same order (reversed for reflect), counted from ``offset`` (``before``: positions of
    the padded axis; 0: of the input), and ``count`` the block's length when it copies one
    position (replicate), else 0.  Every mode's sources of one side are evenly spaced (step
    -1, 0 or +1 in :func:`source_index`), so slices replace fancy indexing, which is
    several times slower on the short strided runs of the last axes."""
    index = source_index(size, before, after, mode) + offset
    blocks = []
    for target in (slice(0, before), slice(before + size, before + size + after)):
        sources = index[target]
        if sources.size == 0:
            continue
        first, last = int(sources[0]), int(sources[-1])
        if first == last:
            blocks.append((target, slice(first, first + 1), sources.size))
            continue
        step = 1 if last > first else -1
        stop = last + step
        blocks.append((target, slice(first, None if stop < 0 else stop, step), 0))
    return blocks


def pad_edges(x: np.ndarray, widths, mode: str) -> np.ndarray:
    """Border-copying padding (non-negative widths): the input is copied once into the
    interior of the output, then each axis's border is filled from the output itself
    (full extent along the axes already done), so every border cell gets its final value:
    one slice assignment per border block (:func:`_blocks`)."""
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    out = np.empty(shape, dtype=x.dtype)
    out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, widths))] = x
    for axis, (before, after) in enumerate(widths):
        lead = (slice(None),) * axis
        for target, source, _ in _blocks(x.shape[axis], before, after, mode, before):
            out[lead + (target,)] = out[lead + (source,)]
    return out


def pad_edges_adjoint(g: np.ndarray, widths, mode: str) -> np.ndarray:
    """Adjoint of :func:`pad_edges`: every border element is added back onto its source,
    one block at a time (a replicated block one position at a time onto its one source)."""
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        size = g.shape[axis] - before - after
        lead = (slice(None),) * axis
        out = g[lead + (slice(before, before + size),)].copy()
        for target, source, count in _blocks(size, before, after, mode, 0):
            if count > 1:  # one slice at a time: a sum over a short strided axis is slower
                for k in range(target.start, target.stop):
                    out[lead + (source,)] += g[lead + (slice(k, k + 1),)]
            else:
                out[lead + (source,)] += g[lead + (target,)]
        g = out
    return g


class PadEdges(Function):
    """Pad by copying border elements (``mode``: reflect, replicate, circular)."""

    @staticmethod
    def forward(ctx, x, widths, mode):
        ctx.widths, ctx.mode = widths, mode
        return pad_edges(x, widths, mode)

    @staticmethod
    def backward(ctx, grad):
        return PadEdgesAdjoint.apply(grad, ctx.widths, ctx.mode), None, None


class PadEdgesAdjoint(Function):
    """Adjoint of :class:`PadEdges`: fold the padded border back onto the input."""

    @staticmethod
    def forward(ctx, g, widths, mode):
        ctx.widths, ctx.mode = widths, mode
        return pad_edges_adjoint(g, widths, mode)

    @staticmethod
    def backward(ctx, grad):
        return PadEdges.apply(grad, ctx.widths, ctx.mode), None, None
