"""Where sliding windows lie: :class:`WindowGeometry`, the value type every CNN kernel takes,
and PyTorch's output-size formula.

Validated and built by the entry points in :mod:`tinygrad_cnn.nn.functional` (e.g.
``conv_geometry``), read by the Functions and numpy kernels of :mod:`tinygrad_cnn.ops`; this
module checks nothing and imports nothing of the library.
"""

from __future__ import annotations

from typing import NamedTuple


def conv_output_size(size: int, kernel: int, stride: int, pad, dilation: int,
                     ceil_mode: bool = False) -> int:
    """PyTorch's output size along one axis: ``floor`` (or with ``ceil_mode``, ``ceil``) of
    ``(size + before + after - dilation*(kernel-1) - 1) / stride``, plus one.  ``pad`` is an
    int (both sides) or a ``(before, after)`` pair.  In ceil mode a last window that would
    start past the input and its left padding is dropped (PyTorch's ``pooling_output_shape``).
    """
    before, after = pad if isinstance(pad, (tuple, list)) else (pad, pad)
    span = size + before + after - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1
    return out


class WindowGeometry(NamedTuple):
    """Where the sliding windows of a 2-D convolution, pooling or unfold lie; each field an
    ``(h, w)`` pair but ``padding`` and ``groups``.

    ``padding`` is ``((top, bottom), (left, right))``.  How far the windows really reach is
    :meth:`padded_extent`: a ceil-mode pooling window may hang past the bottom padding, and
    ``bottom`` / ``right`` may be negative, meaning the last input rows / columns are read by no
    window (a transposed convolution's ``output_padding`` beyond its ``padding``).  A 1-D
    convolution is the 2-D one with ``in_size[0] == kernel[0] == 1``.

    The same geometry serves all three ops of the convolution triad: ``conv2d`` maps an input
    of ``in_size`` to an output of ``out_size``, its transpose maps back, and the weight
    gradient correlates the two.
    """

    in_size: tuple[int, int]
    out_size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int = 1

    def padded_extent(self, axis: int) -> int:
        """Rows (axis 0) or columns (axis 1) the windows span, from the start of the padding:
        the last window starts at ``(out-1)*stride`` and spans ``dilation*(kernel-1) + 1``."""
        return ((self.out_size[axis] - 1) * self.stride[axis]
                + self.dilation[axis] * (self.kernel[axis] - 1) + 1)

    def offsets(self):
        """Kernel offsets ``(k, i, j)`` in row-major window order (``k = i*kW + j``), the
        order PyTorch scans a window in, so "first maximum" means the same thing."""
        kh, kw = self.kernel
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, i, j

    def group_slices(self, channels: int) -> list[slice]:
        """``channels`` split into ``groups`` consecutive equal slices, one per group."""
        size = channels // self.groups
        return [slice(g * size, (g + 1) * size) for g in range(self.groups)]


def lift(rank: int, in_size, out_size, kernel, stride, padding, dilation,
          groups) -> WindowGeometry:
    """A ``rank``-D geometry (``rank`` 1 or 2) as the 2-D one that computes it."""
    if rank == 1:
        return WindowGeometry((1,) + tuple(in_size), (1,) + tuple(out_size), (1,) + kernel,
                              (1,) + stride, ((0, 0),) + tuple(padding), (1,) + dilation,
                              int(groups))
    return WindowGeometry(tuple(in_size), tuple(out_size), tuple(kernel), stride,
                          tuple(padding), dilation, int(groups))


def dilated_kernel(kernel, dilation) -> tuple:
    """The span of each kernel axis once dilated: ``dilation*(kernel-1) + 1``."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
