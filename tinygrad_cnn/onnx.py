"""``export``: a model's forward pass as an ONNX file, for onnxruntime and every other runtime.

    import tinygrad_cnn.onnx
    tinygrad_cnn.onnx.export(model, example_input, "model.onnx")   # as torch.onnx.export

How it works: the model runs once on ``example_input`` with grad recording on and every op
keeping its arguments and output (``set_tracing``); the exporter then walks the recorded
graph back from the output, as ``backward`` would, and writes each primitive ``Function`` it
meets as ONNX nodes (the table ``CONVERTERS``, by Function name).  Batch norm layers (eval
mode) and Linear layers on ``(N, in)`` input are written whole, as one BatchNormalization or
Gemm node (their calls are recorded during the trace).  The model's parameters and buffers
become initializers named by their state-dict keys, the example input the graph input,
tensors computed outside the graph (a scalar, a numpy array) constants.  The batch
dimension is symbolic (``dynamic_batch=True``), so the file runs on any batch size.

Limits: what the forward computes outside recorded ops is frozen into the file as a
constant; a constant that depends on the batch size (one whose first dimension is the
example's batch) is refused under ``dynamic_batch``, so export with a batch of 2 or more.
Interpolation is one Resize node where ONNX's rule is PyTorch's, adaptive pooling a
pooling node where its windows tile the input; otherwise (irregular windows, antialiasing,
nearest with a fractional scale) the exact recorded per-axis matrices or indices are written
(MatMul, Gather, Slice + ReduceMax).  Training-mode batch norm, ``unfold``/``fold`` and
backward-only ops have no ONNX equivalent here: the error names the op
and the line of model code that called it.
Needs the optional ``onnx`` package (``pip install "tinygrad_cnn[onnx]"``; onnxruntime to run
the file).
"""

from __future__ import annotations

import os

import numpy as np

from .autograd.function import AccumulateGrad, Context
from .autograd.grad_mode import enable_grad, set_tracing
from .tensor import Tensor, to_numpy

__all__ = ["export", "CONVERTERS", "ExportError"]

_INT64_MAX = np.iinfo(np.int64).max


class ExportError(RuntimeError):
    """An op or a value that cannot be written as ONNX; the message names it."""


def _onnx(op: str = "export"):
    try:
        import onnx
    except ImportError:
        raise ImportError(f"tinygrad_cnn.onnx.{op}: needs the onnx package: pip install onnx "
                          "(or pip install \"tinygrad_cnn[onnx]\")") from None
    return onnx


# ----------------------------------------------------------------------------- values


class Value:
    """A tensor of the exported graph: its value in the traced run (``array``), where it comes
    from (``constant``: computed outside the graph), and its ONNX name once written."""

    __slots__ = ("array", "constant", "name", "hint")

    def __init__(self, array, constant: bool, name: str | None = None, hint: str = "const"):
        self.array = np.asarray(array)
        self.constant = constant
        self.name = name
        self.hint = hint

    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype


class Graph:
    """The ONNX graph being written: nodes, initializers, unique names."""

    def __init__(self, onnx, opset: int, batch: int | None):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset = opset
        self.batch = batch  # the example's batch size when the batch dimension is dynamic
        self.nodes, self.initializers, self._names = [], [], set()
        self._constants = {}
        self.pool_indices = {}  # id(index array of max_pool2d) -> (ONNX name, input plane)

    def unique(self, hint: str) -> str:
        name, index = hint, 1
        while name in self._names:
            name, index = f"{hint}_{index}", index + 1
        self._names.add(name)
        return name

    def initializer(self, array, hint: str) -> str:
        array = np.asarray(array)
        name = self.unique(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array),
                                                                   name))
        return name

    def const(self, array, dtype=None) -> str:
        """An initializer holding ``array`` (cast to ``dtype``), shared between uses."""
        array = np.asarray(array, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            self._constants[key] = self.initializer(array, "const")
        return self._constants[key]

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def name_of(self, value: Value, dtype=None) -> str:
        """The ONNX name of ``value``; a constant is written on first use (in ``dtype``)."""
        if value.constant and (value.name is None or dtype is not None):
            if dtype is not None and np.dtype(dtype) != value.dtype:
                return self.const(value.array, dtype)
            if value.name is None:
                value.name = self.const(value.array)
        return value.name

    def node(self, op_type: str, inputs, outputs: int = 1, **attributes):
        names = [self.unique(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    # opset-dependent spellings ---------------------------------------------------------
    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """A reduction: ReduceSum takes its axes as an input from opset 13, the others from
        opset 18 (an attribute before)."""
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes)], keepdims=int(keepdims))
        return self.node(op_type, [x], axes=axes, keepdims=int(keepdims))


class Call:
    """One recorded op call as a converter sees it: ``inputs`` holds a :class:`Value` for each
    tensor argument and the Python value of every other argument; ``output`` its result."""

    def __init__(self, ctx: Context, inputs: list, output: Value, site: str):
        self.ctx, self.inputs, self.output, self.site = ctx, inputs, output, site

    @property
    def op(self) -> str:
        return self.ctx._function.__name__


# ----------------------------------------------------------------------------- converters

CONVERTERS = {}


def converts(*names):
    """Register a converter ``fn(graph, call) -> output name`` for Functions named ``names``."""
    def register(function):
        for name in names:
            CONVERTERS[name] = function
        return function
    return register


def _out_dtype(call: Call):
    return call.output.dtype


@converts("Add", "Sub", "Mul", "Div", "Pow")
def _binary(g: Graph, call: Call) -> str:
    a, b = call.inputs[:2]
    shift = _softmax_shift(call)
    if shift is not None:  # softmax's x - max(x): the max of the input, not a constant
        maximum = g.reduce("ReduceMax", g.name_of(a), [shift], True)
        return g.node("Sub", [g.name_of(a), maximum])
    dtype = _out_dtype(call)
    return g.node(call.op, [g.name_of(a, dtype), g.name_of(b, dtype)])


def _softmax_shift(call: Call):
    """For ``x - c`` with ``c`` a constant equal to ``x``'s maximum along one axis (softmax's
    overflow guard, taken outside the graph), that axis; else None."""
    if call.op != "Sub" or not all(isinstance(v, Value) for v in call.inputs[:2]):
        return None
    x, shift = call.inputs[:2]
    if x.constant or not shift.constant or shift.array.ndim != x.array.ndim \
            or x.array.size == 0:
        return None
    for axis in range(x.array.ndim):
        kept = x.shape[:axis] + (1,) + x.shape[axis + 1:]
        if shift.shape == kept and np.array_equal(shift.array,
                                                  x.array.max(axis=axis, keepdims=True)):
            return axis
    return None


@converts("Neg", "Exp", "Log", "Sqrt", "Abs", "Relu", "Sigmoid", "Tanh")
def _unary(g: Graph, call: Call) -> str:
    return g.node(call.op, [g.name_of(call.inputs[0])])


@converts("Sin", "Cos")
def _trigonometric(g: Graph, call: Call) -> str:
    return g.node(call.op, [g.name_of(call.inputs[0])])


@converts("Log1p")
def _log1p(g: Graph, call: Call) -> str:
    x = call.inputs[0]
    return g.node("Log", [g.node("Add", [g.name_of(x), g.const(1, x.dtype)])])


@converts("Expm1")
def _expm1(g: Graph, call: Call) -> str:
    x = call.inputs[0]
    return g.node("Sub", [g.node("Exp", [g.name_of(x)]), g.const(1, x.dtype)])


_PIECEWISE = {"floor": "Floor", "ceil": "Ceil", "sign": "Sign", "rint": "Round",
              "round": "Round", "around": "Round"}


@converts("Piecewise")
def _piecewise(g: Graph, call: Call) -> str:
    x, function = call.inputs[:2]
    op_type = _PIECEWISE.get(getattr(function, "__name__", ""))
    if op_type is None:
        raise _unsupported(call, f"the piecewise function {function!r} has no ONNX operator")
    return g.node(op_type, [g.name_of(x)])


@converts("Extreme2")
def _extreme2(g: Graph, call: Call) -> str:
    a, b, largest = call.inputs[:3]
    dtype = _out_dtype(call)
    return g.node("Max" if largest else "Min", [g.name_of(a, dtype), g.name_of(b, dtype)])


@converts("ClampTensor")
def _clamp_tensor(g: Graph, call: Call) -> str:
    x, lo, hi = call.inputs[:3]
    dtype = _out_dtype(call)
    out = g.name_of(x, dtype)
    if lo is not None:
        out = g.node("Max", [out, g.name_of(lo, dtype)])
    if hi is not None:
        out = g.node("Min", [out, g.name_of(hi, dtype)])
    return out


@converts("Clone")
def _clone(g: Graph, call: Call) -> str:
    return g.node("Identity", [g.name_of(call.inputs[0])])


@converts("Flip")
def _flip(g: Graph, call: Call) -> str:
    x, axes = call.inputs[:2]
    axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
    count = len(axes)
    return g.node("Slice", [g.name_of(x), g.ints([-1] * count), g.ints([-_INT64_MAX] * count),
                            g.ints(axes), g.ints([-1] * count)])


@converts("Erf")
def _erf(g: Graph, call: Call) -> str:
    x, complement = call.inputs[:2]
    erf = g.node("Erf", [g.name_of(x)])
    return g.node("Sub", [g.const(1, x.dtype), erf]) if complement else erf


@converts("Lerp")
def _lerp(g: Graph, call: Call) -> str:
    start, end, weight = (g.name_of(value, _out_dtype(call)) for value in call.inputs[:3])
    return g.node("Add", [start, g.node("Mul", [weight, g.node("Sub", [end, start])])])


@converts("Cumsum")
def _cumsum(g: Graph, call: Call) -> str:
    x, axis = call.inputs[:2]
    return g.node("CumSum", [g.name_of(x), g.const(np.asarray(int(axis), np.int64))])


@converts("PowScalar")
def _pow_scalar(g: Graph, call: Call) -> str:
    x, exponent = call.inputs[:2]
    return g.node("Pow", [g.name_of(x), g.const(exponent, x.dtype)])


@converts("Rsqrt")
def _rsqrt(g: Graph, call: Call) -> str:
    return g.node("Reciprocal", [g.node("Sqrt", [g.name_of(call.inputs[0])])])


@converts("LeakyRelu")
def _leaky_relu(g: Graph, call: Call) -> str:
    return g.node("LeakyRelu", [g.name_of(call.inputs[0])], alpha=float(call.inputs[1]))


@converts("Clip", "HardClip")  # HardClip: Clip whose gradient stops at the bounds
def _clip(g: Graph, call: Call) -> str:
    x, lo, hi = call.inputs[:3]
    bounds = ["" if bound is None else g.const(bound, x.dtype) for bound in (lo, hi)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return g.node("Clip", [g.name_of(x), *bounds])


@converts("Where")
def _where(g: Graph, call: Call) -> str:
    condition, a, b = call.inputs[:3]
    dtype = _out_dtype(call)
    compared = _sign_mask(call)
    mask = _mask(g, condition) if compared is None else g.node(
        compared[1], [g.name_of(compared[0]), g.const(0, compared[0].dtype)])
    return g.node("Where", [mask, g.name_of(a, dtype), g.name_of(b, dtype)])


_COMPARISONS = (("Greater", np.greater), ("Less", np.less),
                ("GreaterOrEqual", np.greater_equal), ("LessOrEqual", np.less_equal))


def _sign_mask(call: Call):
    """For ``where(v > 0, ...)`` with the mask computed outside the graph from an operand
    ``v`` of the graph (elu's, taken on the array), ``(v, comparison)``; else None."""
    if call.op != "Where" or isinstance(call.inputs[0], Value):
        return None
    condition = np.asarray(call.inputs[0])
    if condition.dtype != bool:
        return None
    for value in call.inputs[1:3]:
        if isinstance(value, Value) and not value.constant and \
                value.shape == condition.shape and value.array.size:
            for op_type, compare in _COMPARISONS:
                if np.array_equal(condition, compare(value.array, 0)):
                    return value, op_type
    return None




def _mask(g: Graph, mask) -> str:
    array = mask.array if isinstance(mask, Value) else np.asarray(mask)
    return g.const(array, bool)


@converts("MaskBy")
def _mask_by(g: Graph, call: Call) -> str:
    x, mask = call.inputs[:2]
    return g.node("Where", [_mask(g, mask), g.name_of(x), g.const(0, x.dtype)])


@converts("MatMul")
def _matmul(g: Graph, call: Call) -> str:
    dtype = _out_dtype(call)
    return g.node("MatMul", [g.name_of(call.inputs[0], dtype), g.name_of(call.inputs[1], dtype)])


def _pads(geometry) -> list:
    (top, bottom), (left, right) = geometry.padding
    return [top, left, bottom, right]


@converts("Conv2d")
def _conv(g: Graph, call: Call) -> str:
    x, weight, bias, geometry = call.inputs[:4]
    inputs = [g.name_of(x), g.name_of(weight)] + ([] if bias is None else [g.name_of(bias)])
    return g.node("Conv", inputs, kernel_shape=list(geometry.kernel),
                  strides=list(geometry.stride), pads=_pads(geometry),
                  dilations=list(geometry.dilation), group=geometry.groups)


@converts("ConvTranspose2d")
def _conv_transpose(g: Graph, call: Call) -> str:
    y, weight, bias, geometry = call.inputs[:4]
    # The geometry is the forward convolution's: the transpose maps out_size back to in_size.
    begins, ends, extra = [], [], []
    for axis in (0, 1):
        before = geometry.padding[axis][0]
        reach = geometry.padded_extent(axis) - before  # rows the windows cover past the start
        after = reach - geometry.in_size[axis]
        begins.append(before)
        ends.append(max(after, 0))
        extra.append(max(-after, 0))  # rows no window reads: PyTorch's output_padding
    inputs = [g.name_of(y), g.name_of(weight)] + ([] if bias is None else [g.name_of(bias)])
    return g.node("ConvTranspose", inputs, kernel_shape=list(geometry.kernel),
                  strides=list(geometry.stride), pads=begins + ends, output_padding=extra,
                  dilations=list(geometry.dilation), group=geometry.groups)


def _pool_pads(geometry) -> list:
    """Pads that give exactly the geometry's output size without ceil mode: the end padding
    reaches as far as the last window does (ceil mode's overhang included)."""
    ends = [geometry.padded_extent(axis) - geometry.padding[axis][0] - geometry.in_size[axis]
            for axis in (0, 1)]
    return [geometry.padding[0][0], geometry.padding[1][0], max(ends[0], 0), max(ends[1], 0)]


def _pad_fits(pads, kernel) -> bool:
    return all(p < k for p, k in zip(pads, list(kernel) * 2))  # onnxruntime's rule


def _explicit_pad(g: Graph, x: str, pads, rank: int, value) -> str:
    """Pad the last two axes of ``x`` (rank ``rank``) by ``pads`` [top, left, bottom, right]."""
    full = [0] * (rank - 2) + pads[:2] + [0] * (rank - 2) + pads[2:]
    return g.node("Pad", [x, g.ints(full), g.const(value)], mode="constant")


@converts("MaxPool2d")
def _max_pool(g: Graph, call: Call) -> str:
    x, geometry = call.inputs[:2]
    _check_4d(call, x)
    pads = _pool_pads(geometry)
    name = g.name_of(x)
    if not _pad_fits(pads, geometry.kernel):
        name = _explicit_pad(g, name, pads, 4, np.asarray(-np.inf, x.dtype))
        pads = [0, 0, 0, 0]
    return g.node("MaxPool", [name], kernel_shape=list(geometry.kernel),
                  strides=list(geometry.stride), pads=pads,
                  dilations=list(geometry.dilation))


@converts("WindowSum")
def _window_sum(g: Graph, call: Call) -> str:
    """Average pooling (``divisor``: the count of each window) or a plain window sum (Lp
    pooling): AveragePool counting the padding, times the window's size, over the count."""
    x, geometry, divisor = call.inputs[:3]
    _check_4d(call, x)
    if geometry.dilation != (1, 1):
        raise _unsupported(call, "a dilated window sum has no ONNX pooling")
    pads = _pool_pads(geometry)
    name = g.name_of(x)
    if not _pad_fits(pads, geometry.kernel):
        name = _explicit_pad(g, name, pads, 4, np.asarray(0, x.dtype))
        pads = [0, 0, 0, 0]
    area = geometry.kernel[0] * geometry.kernel[1]
    average = g.node("AveragePool", [name], kernel_shape=list(geometry.kernel),
                     strides=list(geometry.stride), pads=pads, count_include_pad=1)
    if divisor is not None and np.all(np.asarray(divisor) == area):
        return average
    total = g.node("Mul", [average, g.const(area, x.dtype)])
    if divisor is None:
        return total
    return g.node("Div", [total, g.const(divisor, x.dtype)])


def _check_4d(call: Call, x: Value) -> None:
    if x.array.ndim != 4:
        raise _unsupported(call, f"ONNX pooling needs (N, C, H, W) input, got {x.shape}")


def _reshape_target(g: Graph, before, after, constant: bool = False) -> list:
    """The shape input of a Reshape from shape ``before`` to ``after``, the batch kept
    dynamic: a first dimension equal to the input's is copied from it (0), one that merged
    the batch into itself is inferred (-1)."""
    target = [int(size) for size in after]
    if g.batch is not None and not constant and before and target:
        if target[0] == before[0]:
            target[0] = 0  # ONNX: copy the (batch) dimension from the input
        elif target[0] % max(before[0], 1) == 0:
            target[0] = -1  # the batch merged into the first dimension: inferred
    return target


@converts("Reshape")
def _reshape(g: Graph, call: Call) -> str:
    x = call.inputs[0]
    target = _reshape_target(g, x.shape, call.output.shape, x.constant)
    return g.node("Reshape", [g.name_of(x), g.ints(target)])


@converts("Permute")
def _permute(g: Graph, call: Call) -> str:
    return g.node("Transpose", [g.name_of(call.inputs[0])], perm=[int(d) for d in
                                                                   call.inputs[1]])


@converts("BroadcastTo")
def _broadcast_to(g: Graph, call: Call) -> str:
    x, shape = call.inputs[0], tuple(call.output.shape)
    # Expand broadcasts both ways: a 1 keeps the input's size there (the batch stays dynamic).
    lead = len(shape) - x.array.ndim
    target = [1 if i >= lead and x.shape[i - lead] == size else size
              for i, size in enumerate(shape)]
    return g.node("Expand", [g.name_of(x), g.ints(target)])


@converts("SumTo")
def _sum_to(g: Graph, call: Call) -> str:
    x, shape = call.inputs[0], tuple(call.output.shape)
    lead = x.array.ndim - len(shape)
    axes = list(range(lead)) + [lead + i for i, size in enumerate(shape)
                                if size == 1 and x.shape[lead + i] != 1]
    summed = g.reduce("ReduceSum", g.name_of(x), axes, True) if axes else g.name_of(x)
    kept = tuple(1 if axis in axes else size for axis, size in enumerate(x.shape))
    return g.node("Reshape", [summed, g.ints(_reshape_target(g, kept, shape, x.constant))])


@converts("Sum", "Mean", "Extremum", "Prod")
def _reduction(g: Graph, call: Call) -> str:
    x, axes, keepdims = call.inputs[:3]
    axes = tuple(axes) if axes is not None else tuple(range(x.array.ndim))
    if not axes:
        return g.node("Identity", [g.name_of(x)])
    op_type = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Prod": "ReduceProd"}.get(call.op)
    if op_type is None:
        op_type = "ReduceMax" if call.inputs[3] else "ReduceMin"
    return g.reduce(op_type, g.name_of(x), axes, bool(keepdims))


@converts("Concatenate")
def _concatenate(g: Graph, call: Call) -> str:
    axis, *parts = call.inputs
    dtype = _out_dtype(call)
    return g.node("Concat", [g.name_of(part, dtype) for part in parts], axis=int(axis))


@converts("Cast")
def _cast(g: Graph, call: Call) -> str:
    to = g.helper.np_dtype_to_tensor_dtype(np.dtype(call.output.dtype))
    return g.node("Cast", [g.name_of(call.inputs[0])], to=to)


@converts("Pad")
def _pad(g: Graph, call: Call) -> str:
    x, widths, value = call.inputs[:3]
    pads = [before for before, _ in widths] + [after for _, after in widths]
    return g.node("Pad", [g.name_of(x), g.ints(pads), g.const(value, x.dtype)],
                  mode="constant")


@converts("UpsampleNearest")
def _upsample_nearest(g: Graph, call: Call) -> str:
    x, scale = call.inputs[:2]
    scales = np.asarray([1.0, 1.0, *scale], dtype=np.float32)
    return g.node("Resize", [g.name_of(x), "", g.const(scales)], mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")


# ----------------------------------------------------------------------------- activations, norms


@converts("Softmax", "LogSoftmax")
def _softmax(g: Graph, call: Call) -> str:
    x, axis = call.inputs[:2]
    return g.node(call.op, [g.name_of(x)], axis=int(axis))


@converts("Softplus")
def _softplus(g: Graph, call: Call) -> str:
    """``softplus(beta * x) / beta``, and ``x`` where ``beta * x > threshold``."""
    x, beta, threshold = call.inputs[:3]
    name = g.name_of(x)
    scaled = name if beta == 1 else g.node("Mul", [name, g.const(beta, x.dtype)])
    smooth = g.node("Softplus", [scaled])
    if beta != 1:
        smooth = g.node("Div", [smooth, g.const(beta, x.dtype)])
    if not np.isfinite(threshold):
        return smooth
    linear = g.node("Greater", [scaled, g.const(threshold, x.dtype)])
    return g.node("Where", [linear, name, smooth])


@converts("Gelu")
def _gelu(g: Graph, call: Call) -> str:
    """Gelu (opset 20), else its formula: ``x * (1 + erf(x / sqrt 2)) / 2`` or the tanh
    approximation ``x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``."""
    x, approximate = call.inputs[:2]
    name, dtype = g.name_of(x), x.dtype
    if g.opset >= 20:
        return g.node("Gelu", [name], approximate=str(approximate))
    if approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [name, name]), name])
        inner = g.node("Add", [name, g.node("Mul", [cube, g.const(0.044715, dtype)])])
        gate = g.node("Tanh", [g.node("Mul", [inner, g.const(np.sqrt(2 / np.pi), dtype)])])
    else:
        gate = g.node("Erf", [g.node("Mul", [name, g.const(np.sqrt(0.5), dtype)])])
    half = g.node("Mul", [name, g.const(0.5, dtype)])
    return g.node("Mul", [half, g.node("Add", [gate, g.const(1, dtype)])])


@converts("Silu")
def _silu(g: Graph, call: Call) -> str:
    name = g.name_of(call.inputs[0])
    return g.node("Mul", [name, g.node("Sigmoid", [name])])


@converts("Hardswish")
def _hardswish(g: Graph, call: Call) -> str:
    name = g.name_of(call.inputs[0])
    if g.opset >= 14:
        return g.node("HardSwish", [name])
    return g.node("Mul", [name, g.node("HardSigmoid", [name], alpha=1 / 6, beta=0.5)])


@converts("Standardize")
def _standardize(g: Graph, call: Call) -> str:
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (layer_norm, group_norm; their affine
    parts are separate ops): LayerNormalization (opset 17) with a unit scale when the axes
    are the trailing ones, else the reductions."""
    x, axes, eps = call.inputs[:3]
    rank, name, dtype = x.array.ndim, g.name_of(x), x.dtype
    axes = sorted(int(a) % rank for a in axes)
    if g.opset >= 17 and axes == list(range(axes[0], rank)):
        ones = g.const(np.ones(x.shape[axes[0]:]), dtype)
        return g.node("LayerNormalization", [name, ones], axis=axes[0], epsilon=float(eps))
    centered = g.node("Sub", [name, g.reduce("ReduceMean", name, axes, True)])
    variance = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), axes, True)
    spread = g.node("Sqrt", [g.node("Add", [variance, g.const(eps, dtype)])])
    return g.node("Div", [centered, spread])


# ----------------------------------------------------------------------------- resampling


@converts("Resample")
def _resample(g: Graph, call: Call) -> str:
    """Interpolation (linear family, bicubic) as one Resize node when ONNX's rule matches
    PyTorch's; adaptive average pooling as GlobalAveragePool / AveragePool when its windows
    tile the input; anything else (irregular adaptive windows, antialiasing, scale factors
    whose float32 rounding could change the output size) as the exact per-axis products
    with the recorded matrices."""
    x, matrices = call.inputs[:2]
    if all(m is None for m in matrices):
        return g.node("Identity", [g.name_of(x)])
    spec = getattr(call.ctx, "interpolation", None)
    if spec is not None:
        name = _resize(g, call, x, matrices, spec)
        if name is not None:
            return name
    name = _adaptive_average(g, x, matrices)
    if name is not None:
        return name
    return _per_axis_products(g, g.name_of(x), x.array.ndim, matrices, x.dtype)


def _resize(g: Graph, call: Call, x: Value, matrices, spec):
    from .ops.resample import source_scale

    mode, align_corners, antialias, factors = spec
    if antialias or mode not in ("linear", "bilinear", "trilinear", "bicubic"):
        return None
    first = x.array.ndim - len(matrices)
    out_sizes = call.output.shape[first:]
    in_sizes = x.shape[first:]
    # Resize takes the output sizes (its coordinate scale then out/in) or scales (its output
    # size floor(in * scale) in float32): sizes when PyTorch's scale is in/out, else scales
    # when the float32 product cannot round across an integer.
    use_scales = False
    for n, m, f, matrix in zip(in_sizes, out_sizes, factors, matrices):
        if matrix is None or align_corners or f is None:
            continue
        if abs(source_scale(n, m, False, f) - n / m) > 1e-12 * (n / m):
            use_scales = True
    if use_scales:
        scales = []
        for n, f, matrix in zip(in_sizes, factors, matrices):
            if matrix is None:
                scales.append(1.0)
                continue
            exact = float(np.float32(f)) == float(f) and (n * float(f)).is_integer()
            fraction = (n * float(np.float32(f))) % 1.0
            if not (exact or 1e-3 < fraction < 1 - 1e-3):
                return None
            scales.append(float(f))
        sizes_or_scales = ["", g.const(np.asarray([1.0] * first + scales, np.float32))]
    else:
        shape = g.node("Shape", [g.name_of(x)])
        lead = g.node("Slice", [shape, g.ints([0]), g.ints([first]), g.ints([0])])
        sizes = g.node("Concat", [lead, g.ints(out_sizes)], axis=0)
        sizes_or_scales = ["", "", sizes]
    attributes = {"coordinate_transformation_mode":
                  "align_corners" if align_corners else "half_pixel"}
    if mode == "bicubic":
        attributes.update(mode="cubic", cubic_coeff_a=-0.75, exclude_outside=0)
    else:
        attributes.update(mode="linear")
    return g.node("Resize", [g.name_of(x), *sizes_or_scales], **attributes)


def _adaptive_average(g: Graph, x: Value, matrices):
    """Adaptive average pooling of an (N, C, ...) input whose windows tile each axis (or
    cover it whole) as one pooling node; None otherwise."""
    from .ops.resample import area_matrix

    rank, first = x.array.ndim, x.array.ndim - len(matrices)
    if first != 2 or rank < 3:
        return None
    kernel = []
    for n, matrix in zip(x.shape[first:], matrices):
        if matrix is None:
            kernel.append(1)
            continue
        m = matrix.shape[0]
        if n % m or matrix.shape[1] != n or not np.array_equal(matrix, area_matrix(n, m)):
            return None
        kernel.append(n // m)
    if all(matrix is not None for matrix in matrices) and \
            all(k == n for k, n in zip(kernel, x.shape[first:])):
        return g.node("GlobalAveragePool", [g.name_of(x)])
    return g.node("AveragePool", [g.name_of(x)], kernel_shape=kernel, strides=kernel)


def _per_axis_products(g: Graph, name: str, rank: int, matrices, dtype) -> str:
    """``matrices[k]`` ``(out, in)`` applied along the k-th of the trailing axes: MatMul with
    the matrix's transpose on the last axis, with the matrix on the second last, and on
    another axis between two Transposes."""
    first = rank - len(matrices)
    for k, matrix in enumerate(matrices):
        if matrix is None:
            continue
        axis = first + k
        if axis == rank - 1:
            name = g.node("MatMul", [name, g.const(matrix.T, dtype)])
        elif axis == rank - 2:
            name = g.node("MatMul", [g.const(matrix, dtype), name])
        else:
            perm = list(range(rank))
            perm[axis], perm[-1] = perm[-1], perm[axis]
            moved = g.node("Transpose", [name], perm=perm)
            name = g.node("Transpose", [g.node("MatMul", [moved, g.const(matrix.T, dtype)])],
                          perm=perm)
    return name


@converts("NearestGather")
def _nearest_gather(g: Graph, call: Call) -> str:
    """Nearest interpolation with a non-integer scale: one Gather of the recorded source
    indices per axis.  (Resize's nearest modes compute those indices in float32 in the
    runtime, which can round differently from PyTorch's formula at a tie; the gather is exact.)"""
    x, indices = call.inputs[:2]
    rank, name = x.array.ndim, g.name_of(x)
    first = rank - len(indices)
    for k, index in enumerate(indices):
        if index is not None:
            name = g.node("Gather", [name, g.const(np.asarray(index, np.int64))],
                          axis=first + k)
    return name


# ----------------------------------------------------------------------------- pooling, padding


@converts("PlaneGather")
def _plane_gather(g: Graph, call: Call) -> str:
    """Adaptive max pooling (the recorded indices are the adaptive windows' maxima):
    GlobalMaxPool, MaxPool when the windows tile the plane, else per axis the maximum of
    each window's slice (max is separable).  Other gathers (``max_pool2d`` with
    ``return_indices``) pick data-dependent positions the file cannot hold."""
    from .ops.pool_windows import adaptive_max_indices

    x, index = call.inputs[:2]
    rank = x.array.ndim
    (height, width), (oh, ow) = x.shape[-2:], call.output.shape[-2:]
    geometry = getattr(call.ctx, "pool_geometry", None)
    if geometry is not None:
        return _max_pool_with_indices(g, call, x, index, geometry)
    if rank < 3 or not np.array_equal(np.asarray(index),
                                      adaptive_max_indices(x.array, (oh, ow))):
        raise _unsupported(call, "this gather reads data-dependent positions the file cannot "
                                 "hold (max pooling with return_indices=True exports through "
                                 "max_pool2d; adaptive max pooling exports)")
    name = g.name_of(x)
    if rank == 4 and (oh, ow) == (1, 1):
        return g.node("GlobalMaxPool", [name])
    if rank == 4 and height % oh == 0 and width % ow == 0:
        kernel = [height // oh, width // ow]
        return g.node("MaxPool", [name], kernel_shape=kernel, strides=kernel)
    from .ops.resample import adaptive_bounds

    for axis, n, m in ((rank - 1, width, ow), (rank - 2, height, oh)):
        if n == m:
            continue
        starts, ends = adaptive_bounds(n, m)
        parts = [g.reduce("ReduceMax", g.node("Slice", [name, g.ints([start]), g.ints([end]),
                                                         g.ints([axis])]), [axis], True)
                 for start, end in zip(starts, ends)]
        name = parts[0] if len(parts) == 1 else g.node("Concat", parts, axis=axis)
    return name


def _max_pool_with_indices(g: Graph, call: Call, x: Value, index, geometry) -> str:
    """``max_pool2d(..., return_indices=True)``: MaxPool with its Indices output, kept for a
    later ``max_unpool2d`` of those indices (ONNX's count every element of the tensor, not of
    one plane; MaxUnpool reads them so)."""
    _check_4d(call, x)
    pads = _pool_pads(geometry)
    if not _pad_fits(pads, geometry.kernel):
        raise _unsupported(call, "max_pool2d with return_indices=True and ceil_mode windows "
                                 "reaching past the padding (ONNX's MaxPool would need "
                                 "explicit padding, which moves its indices)")
    values, indices = g.node("MaxPool", [g.name_of(x)], outputs=2,
                             kernel_shape=list(geometry.kernel),
                             strides=list(geometry.stride), pads=pads,
                             dilations=list(geometry.dilation))
    g.pool_indices[id(index)] = (indices, tuple(x.shape[-2:]), geometry)
    return values


@converts("MaxUnpool2d")
def _max_unpool(g: Graph, call: Call) -> str:
    """``max_unpool2d`` of the indices of a ``max_pool2d`` in the same graph: MaxUnpool to
    the pooled input's size."""
    x, index, size = call.inputs[:3]
    pooled = g.pool_indices.get(id(index))
    if pooled is None:
        raise _unsupported(call, "max_unpool2d writes at indices that do not come from a "
                                 "max_pool2d(..., return_indices=True) of the exported graph: "
                                 "the file cannot hold data-dependent positions")
    indices, plane, geometry = pooled
    if tuple(size) != plane or x.array.ndim != 4:
        raise _unsupported(call, f"max_unpool2d to a size {tuple(size)} other than the pooled "
                                 f"input's {plane} (ONNX's indices count whole tensors)")
    name = g.name_of(x)
    shape = g.node("Shape", [name])
    lead = g.node("Slice", [shape, g.ints([0]), g.ints([2]), g.ints([0])])
    output_shape = g.node("Concat", [lead, g.ints(plane)], axis=0)
    return g.node("MaxUnpool", [name, indices, output_shape],
                  kernel_shape=list(geometry.kernel), strides=list(geometry.stride),
                  pads=_pool_pads(geometry))


_EDGE_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@converts("PadEdges")
def _pad_edges(g: Graph, call: Call) -> str:
    """reflect / replicate / circular padding (also Conv2d's ``padding_mode``): Pad in mode
    reflect / edge / wrap (wrap from opset 19; below, each axis as the Concat of its wrapped
    end, itself and its wrapped start)."""
    x, widths, mode = call.inputs[:3]
    name = g.name_of(x)
    if mode != "circular" or g.opset >= 19:
        pads = [before for before, _ in widths] + [after for _, after in widths]
        return g.node("Pad", [name, g.ints(pads)], mode=_EDGE_MODES[mode])
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        parts = [name]
        if before:
            parts.insert(0, g.node("Slice", [name, g.ints([-before]), g.ints([_INT64_MAX]),
                                             g.ints([axis])]))
        if after:
            parts.append(g.node("Slice", [name, g.ints([0]), g.ints([after]),
                                          g.ints([axis])]))
        name = g.node("Concat", parts, axis=axis)
    return name


@converts("GetItem")
def _get_item(g: Graph, call: Call) -> str:
    x, index = call.inputs[:2]
    items = list(index) if isinstance(index, tuple) else [index]
    if any(item is Ellipsis for item in items):
        at = items.index(Ellipsis)
        fill = x.array.ndim - (len(items) - 1 - sum(item is None for item in items))
        items[at:at + 1] = [slice(None)] * fill
    name, axis, starts, ends, axes, steps, squeeze, unsqueeze, out_axis = (
        g.name_of(x), 0, [], [], [], [], [], [], 0)
    gathers = []
    for item in items:
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            size = x.shape[axis]
            start, stop, step = item.indices(size)
            if (start, stop, step) != (0, size, 1):
                if step < 0 and stop < 0:
                    stop = -_INT64_MAX  # slice down to the first element inclusive
                elif step > 0 and stop >= size:
                    stop = _INT64_MAX  # to the end, whatever the size (the batch)
                starts.append(start)
                ends.append(stop)
                axes.append(axis)
                steps.append(step)
            axis += 1
            out_axis += 1
            continue
        if isinstance(item, (int, np.integer)):
            starts.append(int(item))
            ends.append(int(item) + 1 if int(item) != -1 else _INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
            axis += 1
            continue
        array = np.asarray(item)
        if array.dtype.kind in "iu" and not gathers:
            gathers.append((axis, array))
            axis += 1
            out_axis += array.ndim
            continue
        raise _unsupported(call, f"indexing with {type(item).__name__} {item!r} (only slices, "
                                 "ints, None, ... and one integer array export)")
    if starts:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes),
                                g.ints(steps)])
    if gathers:
        gather_axis, array = gathers[0]
        name = g.node("Gather", [name, g.const(array.astype(np.int64))], axis=gather_axis)
        if squeeze:
            raise _unsupported(call, "integer-array indexing mixed with integer indices")
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze)])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze)])
    return name


def _batch_norm(g: Graph, layer, x: Value, leaf_value) -> str:
    """A batch norm layer in eval mode as one BatchNormalization node, its parameters and
    running statistics initializers named by their state-dict keys."""
    channels = x.shape[1]
    dtype = x.dtype

    def operand(tensor, fill):
        if tensor is None:
            return g.const(np.full(channels, fill), dtype)
        value = leaf_value(tensor)
        return g.name_of(value, dtype if value.dtype != dtype else None)

    inputs = [g.name_of(x), operand(layer.weight, 1.0), operand(layer.bias, 0.0),
              operand(layer.running_mean, 0.0), operand(layer.running_var, 1.0)]
    return g.node("BatchNormalization", inputs, epsilon=float(layer.eps))


def _gemm(g: Graph, layer, x: Value, leaf_value) -> str:
    """A Linear layer on (N, in) input as one Gemm node: x @ weight.T + bias."""
    inputs = [g.name_of(x), g.name_of(leaf_value(layer.weight), x.dtype)]
    if getattr(layer, "bias", None) is not None:
        inputs.append(g.name_of(leaf_value(layer.bias), x.dtype))
    return g.node("Gemm", inputs, transB=1)


@converts("BatchNormTraining")
def _batch_norm_training(g: Graph, call: Call) -> str:
    raise _unsupported(call, "batch norm in training mode normalises with each batch's "
                             "statistics; call model.eval() (export does for Modules) or pass "
                             "training=False")


def _check_batch_free(g: Graph, call: Call) -> None:
    """Refuse a constant operand that spans the batch: frozen into the file, it would fit
    only the example's batch size (a mask or shift computed from the data outside the
    graph, a tensor made with the input's size)."""
    out = call.output.shape
    if g.batch is None or g.batch < 2 or not out or out[0] != g.batch:
        return
    for item in call.inputs:
        array = item.array if isinstance(item, Value) and item.constant and \
            item.hint == "const" else item if isinstance(item, np.ndarray) else None
        if array is not None and array.ndim == len(out) and array.shape[0] == g.batch:
            raise _unsupported(
                call, f"an operand computed outside the recorded graph, of shape "
                f"{array.shape}, spans the example's batch ({g.batch}): frozen into the file "
                "it would fit that batch size only; compute it from the input with tensor "
                "ops, or export with dynamic_batch=False")


# ops whose array arguments are checked by their converter (indices recomputed from the input)
_OWN_CONSTANTS = ("PlaneGather", "MaxUnpool2d")


def _unsupported(call: Call, reason: str) -> ExportError:
    return ExportError(f"onnx.export: cannot export {call.op} (called at {call.site}): "
                       f"{reason}")


# ----------------------------------------------------------------------------- the walk


def _post_order(roots, composites) -> list:
    """The graph's op nodes reachable from ``roots``, each after the nodes it reads from
    (an iterative walk, so deep graphs do not hit the recursion limit).  The node ending a
    composite (a layer written as one ONNX node) reads from the layer's input alone."""
    order, seen = [], set()
    stack = [(root, False) for root in reversed(roots) if isinstance(root, Context)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        composite = composites.get(id(node))
        edges = node.edges if composite is None else (composite.input.grad_fn,)
        for edge in reversed(edges):
            if isinstance(edge, Context) and id(edge) not in seen:
                stack.append((edge, False))
    return order


def _parameter_names(model) -> dict:
    """id(tensor) -> state-dict name of every parameter and buffer of ``model``."""
    names = {}
    for getter in ("named_parameters", "named_buffers"):
        if hasattr(model, getter):
            for name, tensor in getattr(model, getter)():
                if tensor is not None:
                    names.setdefault(id(tensor), name)
    return names


def _as_inputs(example_input) -> list:
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    if not items:
        raise ValueError("onnx.export: example_input must be a tensor or a tuple of tensors, "
                         "got an empty sequence")
    inputs = []
    for item in items:
        array = item._data if isinstance(item, Tensor) else np.asarray(item)
        if array.dtype.kind != "f":
            raise TypeError(f"onnx.export: example_input must be floating point, got "
                            f"{array.dtype}")
        inputs.append(Tensor(np.array(array), requires_grad=True))
    return inputs


class Composite:
    """A layer call written as one ONNX node: the layer, its input tensor and the ctx that
    produced its output (the ops in between are not written)."""

    def __init__(self, layer, input_tensor):
        self.layer, self.input = layer, input_tensor


def _is_batch_norm(module) -> bool:
    return type(module).__name__.startswith("BatchNorm") and all(
        getattr(module, name, None) is not None for name in ("running_mean", "running_var"))


def _composite_kind(module):
    """How a layer is written as one ONNX node, or None (its ops are written one by one)."""
    if _is_batch_norm(module):
        return "BatchNormalization"
    if type(module).__name__ == "Linear" and getattr(module, "weight", None) is not None:
        return "Gemm"
    return None


def _recording(module, composites):
    """``module.forward`` that records its call as a :class:`Composite`."""
    forward = module.forward
    matrices_only = _composite_kind(module) == "Gemm"  # Gemm takes (N, in) input only

    def recorded(x, *args, **kwargs):
        out = forward(x, *args, **kwargs)
        if isinstance(x, Tensor) and isinstance(out, Tensor) and out.grad_fn is not None \
                and not args and not kwargs and (x.ndim == 2 or not matrices_only):
            composites[id(out.grad_fn)] = Composite(module, x)
        return out
    return recorded


def _trace(model, inputs):
    """Run ``model(*inputs)`` recording the graph with every op's arguments (eval mode);
    returns the outputs and the composites (batch norm layers, as BatchNormalization)."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    training = [module.training for module in modules]
    composites, wrapped = {}, []
    previous = None
    try:
        for module in modules:
            module.training = False
            if _composite_kind(module) and "forward" not in vars(module):
                object.__setattr__(module, "forward", _recording(module, composites))
                wrapped.append(module)
        previous = set_tracing(True)
        with enable_grad():
            outputs = model(*inputs)
    finally:
        if previous is not None:
            set_tracing(previous)
        for module in wrapped:
            del module.__dict__["forward"]
        for module, flag in zip(modules, training):
            module.training = flag
    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs) if isinstance(outputs, (tuple, list)) \
        else None
    if outputs is None or not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError("onnx.export: the model must return a Tensor or a tuple of Tensors")
    return outputs, composites


def export(model, example_input, path, opset_version: int = 17, dynamic_batch: bool = True,
           input_names=None, output_names=None, verbose: bool = False, dynamic_axes=None):
    """Write ``model``'s forward pass on inputs like ``example_input`` to ``path`` as ONNX
    (as ``torch.onnx.export(model, args, f, ...)``); returns the ``onnx.ModelProto``.

    ``model``: a Module (exported in eval mode, its training flags restored afterwards) or
    any callable of Tensors; ``example_input``: a float Tensor or array ``(N, ...)``, or a
    tuple of them (one per model argument); ``path``: a str/PathLike or None (no file).
    ``opset_version``: 13 to 20.  ``dynamic_batch``: the first dimension of every input
    (and of outputs that share it) is the symbolic ``"batch"``.  ``input_names`` /
    ``output_names`` default to ``input`` / ``output`` (``input_0``, ... for several).
    ``dynamic_axes`` (PyTorch's spelling, ``{name: {0: "batch"}}`` or ``{name: [0]}``), when
    given, decides instead: only the first dimension can be dynamic.  Raises
    :class:`ExportError` naming the op and the model line for what ONNX cannot hold.
    """
    onnx = _onnx()
    if dynamic_axes is not None:
        dynamic_batch = _batch_from_dynamic_axes(dynamic_axes)
    if not 13 <= int(opset_version) <= 20:
        raise ValueError(f"onnx.export: opset_version must be 13..20, got {opset_version}")
    inputs = _as_inputs(example_input)
    outputs, composites = _trace(model, inputs)
    input_names = list(input_names) if input_names is not None else (
        ["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    output_names = list(output_names) if output_names is not None else (
        ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))])
    if len(input_names) != len(inputs) or len(output_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(inputs)} input(s) and {len(outputs)} output(s), "
                         f"but input_names={input_names} and output_names={output_names}")
    batch = inputs[0].shape[0] if dynamic_batch and inputs[0].ndim else None
    g = Graph(onnx, int(opset_version), batch)
    for name in input_names + output_names:
        if name in g._names:
            raise ValueError(f"onnx.export: the name {name!r} is given twice")
        g._names.add(name)

    parameters = _parameter_names(model)
    leaves = {}  # id(leaf tensor) -> Value
    for tensor, name in zip(inputs, input_names):
        leaves[id(tensor)] = Value(tensor._data, constant=False, name=name)

    def leaf_value(tensor) -> Value:
        """A parameter, buffer or other leaf (Tensor or array): an initializer."""
        if id(tensor) not in leaves:
            name = parameters.get(id(tensor))
            array = to_numpy(tensor)
            trained = name is not None or getattr(tensor, "requires_grad", False)
            value = Value(array, constant=True, hint="param" if trained else "const")
            if name is not None:
                value.name = g.initializer(array, name)
            leaves[id(tensor)] = value
        return leaves[id(tensor)]

    def input_value(tensor: Tensor) -> Value:
        """What the graph knows ``tensor`` as: an op's output, an input, a leaf."""
        if tensor.grad_fn is not None:
            return values[id(tensor.grad_fn)]
        return leaves[id(tensor)] if id(tensor) in leaves else leaf_value(tensor)

    values = {}  # id(ctx) -> Value of its output
    for ctx in _post_order([o.grad_fn for o in outputs], composites):
        composite = composites.get(id(ctx))
        if composite is not None:
            output = Value(ctx._traced[1], constant=False)
            write = _batch_norm if _composite_kind(composite.layer) == "BatchNormalization" \
                else _gemm
            output.name = write(g, composite.layer, input_value(composite.input), leaf_value)
            values[id(ctx)] = output
            continue
        traced = getattr(ctx, "_traced", None)
        if traced is None:
            if getattr(ctx, "n_outputs", 1) > 1:
                raise ExportError(f"onnx.export: cannot export {ctx.name()}: an op with several "
                                  "outputs (such as max_pool2d with return_indices=True)")
            raise ExportError(f"onnx.export: the op {ctx.name()} ran before export started "
                              "(the model's output was computed outside its forward)")
        args, output, site = traced
        call_inputs = []
        for index, arg in enumerate(args):
            edge = ctx.edges[index] if index < len(ctx.edges) else None
            if isinstance(edge, Context):
                call_inputs.append(values[id(edge)])
            elif isinstance(edge, AccumulateGrad):
                call_inputs.append(leaf_value(edge.variable))
            elif isinstance(arg, Tensor):
                call_inputs.append(leaf_value(arg))
            else:
                call_inputs.append(arg)
        call = Call(ctx, call_inputs, Value(output, constant=False), site)
        if _softmax_shift(call) is None and call.op not in _OWN_CONSTANTS and \
                _sign_mask(call) is None:
            # (the softmax shift is rebuilt from the input; _OWN_CONSTANTS check theirs)
            _check_batch_free(g, call)
        converter = CONVERTERS.get(call.op)
        if converter is None:
            raise _unsupported(call, "no ONNX conversion is known for this op (add one to "
                                     "tinygrad_cnn.onnx.CONVERTERS)")
        call.output.name = converter(g, call)
        values[id(ctx)] = call.output

    graph_outputs = []
    for index, (tensor, name) in enumerate(zip(outputs, output_names)):
        if tensor.grad_fn is None and id(tensor) not in leaves:
            raise ExportError(
                f"onnx.export: output {index} ({name!r}, {tensor.dtype} {tensor.shape}) is not "
                "computed from the input by recorded ops (an integer or boolean result such "
                "as argmax, or a constant); return the float scores and post-process them")
        value = input_value(tensor)
        g.nodes.append(g.helper.make_node("Identity", [g.name_of(value)], [name]))
        graph_outputs.append(_value_info(g, name, tensor._data, batch,
                                         shares_batch=not value.constant))
    graph_inputs = [_value_info(g, name, tensor._data, batch, shares_batch=True)
                    for tensor, name in zip(inputs, input_names)]
    graph = g.helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs,
                                g.initializers)
    proto = g.helper.make_model(graph, opset_imports=[g.helper.make_opsetid("", g.opset)],
                                producer_name="tinygrad_cnn")
    proto.ir_version = min(proto.ir_version, 8 if g.opset <= 17 else 9)
    onnx.checker.check_model(proto, full_check=True)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    if path is not None:
        _write(proto, path)
    return proto


def _batch_from_dynamic_axes(dynamic_axes) -> bool:
    """PyTorch's ``dynamic_axes`` as ``dynamic_batch``: only axis 0 may be listed."""
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"onnx.export: dynamic_axes must be a dict name -> axes, got "
                        f"{type(dynamic_axes).__name__}")
    axes = set()
    for listed in dynamic_axes.values():
        axes.update(int(axis) for axis in (listed.keys() if isinstance(listed, dict)
                                           else listed))
    if axes - {0}:
        raise ValueError(f"onnx.export: only the batch dimension (axis 0) can be dynamic, "
                         f"got dynamic_axes={dynamic_axes!r}")
    return bool(axes)


def _value_info(g: Graph, name: str, array: np.ndarray, batch, shares_batch: bool):
    shape = list(array.shape)
    if batch is not None and shares_batch and shape and shape[0] == batch:
        shape[0] = "batch"
    element = g.helper.np_dtype_to_tensor_dtype(array.dtype)
    return g.helper.make_tensor_value_info(name, element, shape)


def _write(proto, path) -> None:
    from ._atomic import atomic_write

    data = proto.SerializeToString()
    atomic_write(os.fspath(path), lambda stream: stream.write(data))
