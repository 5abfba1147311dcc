"""2-D convolution as three Functions that are each other's derivatives (as in PyTorch and
Chainer), so ``grad(..., create_graph=True)`` differentiates convolutions any number of times.

With ``C`` the correlation ``y = conv2d(x, w)`` (linear in ``x`` and in ``w``):

* :class:`Conv2d`           ``y = C(x, w)``       backward: ``dx = T(dy, w)``, ``dw = G(x, dy)``
* :class:`ConvTranspose2d`  ``x' = T(y, w)``      backward: ``dy = C(dx', w)``, ``dw = G(dx', y)``
* :class:`Conv2dWeightGrad` ``w' = G(x, dy)``     backward: ``dx = T(dy, dw')``, ``ddy = C(x, dw')``

``T`` (the transposed convolution, the lecture's full correlation with the kernel rotated 180
degrees) is the adjoint of ``C`` in ``x``, and ``G`` (the correlation of the input with the
output gradient) its adjoint in ``w``; bias gradients are sums over ``(N, H, W)``.  All three
share one :class:`~tinygrad_cnn.ops.geometry.WindowGeometry` and one algorithm name; ``"auto"``
is resolved per op by :func:`.conv_select.resolve_conv_algorithm` from the op's two operands;
when it picks FFT for float32 data, the FFT runs in float64 (:class:`.conv_fft.Widened`), so "auto"
is never less accurate than im2col (:mod:`.conv_accuracy`); the Winograd kernels
(:mod:`.conv_winograd`, 3x3 stride-1 undilated only) are one more numeric kernel behind the
same triad, so double backward stays exact under every algorithm. A forward that records
a graph keeps the transforms of its operands (FFT spectra, stride-phase planes) for its
backward, whose two ops share what they both need (:mod:`.conv_memo`).
"""

from __future__ import annotations

import contextlib

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import conv_fft, conv_gemm, conv_memo, conv_strided, conv_tune, conv_winograd, im2col_flat
from .conv_select import benchmark_candidates, reduced_precision, resolve_conv_algorithm
from .threads import governed

_KERNELS = {"im2col": conv_gemm, "fft": conv_fft, "winograd": conv_winograd.F4,
            "winograd_f2": conv_winograd.F2, "im2col_flat": im2col_flat,
            "im2col_phases": conv_strided}


def _kernels(algorithm: str, batch: int, channels: int, out_channels: int, geometry, role,
             operands, compute):
    """The kernels module that computes the op: ``algorithm`` resolved for its ``role`` and
    two ``operands``; in benchmark mode (:mod:`.conv_tune`) "auto" is resolved by timing
    ``compute(kernels)`` under each candidate (:func:`_trial`) on the op's first call with
    its configuration."""
    if algorithm == "auto" and conv_tune.enabled():
        candidates = benchmark_candidates(batch, channels, out_channels, geometry, operands,
                                          role)
        paired = role == "forward" and conv_memo.keeps_input()
        configuration = (role, geometry, tuple(a.shape for a in operands),
                         tuple(a.dtype.str for a in operands), paired)
        name = conv_tune.fastest(configuration, candidates, lambda candidate: _trial(
            candidate, geometry, operands, compute, paired))
    else:
        name = resolve_conv_algorithm(algorithm, batch, channels, out_channels, geometry,
                                      operands, role)
    return _module(algorithm, name, operands)


def _trial(name: str, geometry, operands, compute, paired: bool) -> None:
    """One timed run of benchmark mode: ``compute`` under "auto"'s kernels for ``name``,
    seeing what the step's earlier ops kept but keeping nothing for it (a copy of the memo,
    :mod:`.conv_memo`). A forward whose backward computes the weight gradient (``paired``)
    runs with that weight gradient, as "auto" would take it after this forward (the
    forward's output standing in for the output gradient), so that what the forward keeps
    for it (im2col's columns, Winograd's tiles, phase planes) counts."""
    memo = conv_memo.active()
    scratch = {} if memo is None else dict(memo)
    with conv_memo.reuse(scratch, keep_input=paired), governed():
        out = compute(_module("auto", name, operands))
        if paired:
            x = operands[0]
            follow = resolve_conv_algorithm("auto", x.shape[0], x.shape[1], out.shape[1],
                                            geometry, (x, out), "weight_grad")
            _module("auto", follow, (x, out)).conv2d_weight_grad(x, out, geometry)


def _module(algorithm: str, name: str, operands):
    """The kernels module of the resolved algorithm ``name`` (``algorithm`` as set)."""
    if algorithm == "auto" and name == "fft" and not reduced_precision(operands):
        return conv_fft.Widened   # float64 FFT: im2col's accuracy (:mod:`.conv_accuracy`)
    return _KERNELS[name]


def _forward_memo(ctx, keep_input: bool = False):
    """Where an op's transforms go (:mod:`.conv_memo`): the enclosing backward's memo (its
    ops share what it kept), else, when the op records a graph, a new one its own backward
    reuses; ``keep_input`` when that backward computes a weight gradient from the op's
    input (the kernels then keep their input chunks' transforms for it)."""
    memo = conv_memo.active()
    if memo is None and any(ctx.needs_input_grad):
        memo = {}
    ctx._transforms = memo
    return conv_memo.reuse(memo, keep_input)


@contextlib.contextmanager
def _backward_memo(ctx):
    """A backward's ops reuse the transforms its forward kept; dropped once it has run (a
    second backward, with ``retain_graph``, recomputes them)."""
    memo = getattr(ctx, "_transforms", None)
    memo = {} if memo is None else memo
    try:
        with conv_memo.reuse(memo):
            yield
    finally:
        memo.clear()


class Conv2d(Function):
    """x ``(N, C, H, W)``, weight ``(C_out, C/groups, kH, kW)``, bias ``(C_out,)`` or None ->
    ``(N, C_out, Ho, Wo)`` (``torch.nn.functional.conv2d`` with a resolved geometry)."""

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, algorithm):
        ctx.geometry, ctx.algorithm = geometry, algorithm
        ctx.save_for_backward(x, weight)
        with _forward_memo(ctx, keep_input=ctx.needs_input_grad[1]):
            def compute(kernels):
                return kernels.conv2d_forward(x, weight, geometry, bias)
            kernels = _kernels(algorithm, x.shape[0], x.shape[1], weight.shape[0], geometry,
                               "forward", (x, weight), compute)
            with governed():
                return compute(kernels)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        geometry, algorithm = ctx.geometry, ctx.algorithm
        grad_x = grad_w = grad_b = None
        with _backward_memo(ctx):
            if ctx.needs_input_grad[0]:
                grad_x = ConvTranspose2d.apply(grad_out, weight, None, geometry, algorithm)
            if ctx.needs_input_grad[1]:
                grad_w = Conv2dWeightGrad.apply(x, grad_out, geometry, algorithm)
            if ctx.needs_input_grad[2]:
                grad_b = _bias_grad(grad_out)
        return grad_x, grad_w, grad_b, None, None


def _bias_grad(grad_out):
    """``grad_out`` summed over ``(N, H, W)``: the sums the weight gradient's kernel took on
    the way, while it had each chunk of ``grad_out`` in the cache (offered to the memo as
    :data:`.conv_memo.CHANNEL_SUMS` by the Winograd kernels, and by im2col's when the
    forward's columns carry a row of ones), else a pass of its own; the differentiable sum
    when the backward records a graph."""
    if not is_grad_enabled():
        sums = conv_memo.recall(conv_memo.CHANNEL_SUMS, grad_out._data, None)
        if sums is not None:
            return Tensor._make(sums)
    return grad_out.sum(axis=(0, 2, 3))


class ConvTranspose2d(Function):
    """The adjoint of :class:`Conv2d` in its input: y ``(N, C_out, Ho, Wo)``, the *convolution's*
    weight ``(C_out, C/groups, kH, kW)``, bias ``(C,)`` or None -> ``(N, C, H, W)`` with
    ``(H, W) = geometry.in_size`` (``torch.nn.functional.conv_transpose2d``)."""

    @staticmethod
    def forward(ctx, y, weight, bias, geometry, algorithm):
        ctx.geometry, ctx.algorithm = geometry, algorithm
        ctx.save_for_backward(y, weight)
        channels = weight.shape[1] * geometry.groups
        with _forward_memo(ctx):
            def compute(kernels):
                return kernels.conv2d_input_grad(y, weight, geometry, bias)
            kernels = _kernels(algorithm, y.shape[0], channels, weight.shape[0], geometry,
                               "input_grad", (y, weight), compute)
            with governed():
                return compute(kernels)

    @staticmethod
    def backward(ctx, grad_image):
        y, weight = ctx.saved_tensors
        geometry, algorithm = ctx.geometry, ctx.algorithm
        grad_y = grad_w = grad_b = None
        with _backward_memo(ctx):
            if ctx.needs_input_grad[0]:
                grad_y = Conv2d.apply(grad_image, weight, None, geometry, algorithm)
            if ctx.needs_input_grad[1]:
                grad_w = Conv2dWeightGrad.apply(grad_image, y, geometry, algorithm)
        if ctx.needs_input_grad[2]:
            grad_b = grad_image.sum(axis=(0, 2, 3))
        return grad_y, grad_w, grad_b, None, None


class Conv2dWeightGrad(Function):
    """The adjoint of :class:`Conv2d` in its weight: x ``(N, C, H, W)``, grad_out
    ``(N, C_out, Ho, Wo)`` -> ``(C_out, C/groups, kH, kW)``, the correlation of the input with
    the output gradient summed over the batch."""

    @staticmethod
    def forward(ctx, x, grad_out, geometry, algorithm):
        ctx.geometry, ctx.algorithm = geometry, algorithm
        ctx.save_for_backward(x, grad_out)
        with _forward_memo(ctx):
            def compute(kernels):
                return kernels.conv2d_weight_grad(x, grad_out, geometry)
            kernels = _kernels(algorithm, x.shape[0], x.shape[1], grad_out.shape[1], geometry,
                               "weight_grad", (x, grad_out), compute)
            with governed():
                return compute(kernels)

    @staticmethod
    def backward(ctx, grad_weight):
        x, grad_out = ctx.saved_tensors
        geometry, algorithm = ctx.geometry, ctx.algorithm
        grad_x = grad_grad_out = None
        with _backward_memo(ctx):
            if ctx.needs_input_grad[0]:
                grad_x = ConvTranspose2d.apply(grad_out, grad_weight, None, geometry,
                                               algorithm)
            if ctx.needs_input_grad[1]:
                grad_grad_out = Conv2d.apply(x, grad_weight, None, geometry, algorithm)
        return grad_x, grad_grad_out, None, None
