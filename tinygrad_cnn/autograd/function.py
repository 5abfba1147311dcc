"""``Function``: the one way an operation enters the graph.

A ``Function`` subclass has a static ``forward(ctx, *args)`` that computes with numpy arrays
and a static ``backward(ctx, *grad_outputs)`` that computes with Tensors.  ``apply`` runs the
forward and, when grad recording is on and an input requires grad, makes the ``ctx`` a node
of the graph:

    input tensors --(edges)--> ctx (node) --> output tensor(s), whose grad_fn is ctx

Each edge points at the node that produced an input (its ``grad_fn``, and in
``edge_outputs`` which of that node's outputs the input was) or, for a leaf that requires
grad, at that leaf's ``AccumulateGrad`` node.  Nodes hold no reference to the intermediate
*tensors* of the graph, only to the arrays they saved; that is what lets ``backward`` free
a graph's memory while the tensors are still alive.  A forward may return several arrays:
the outputs share the node and are told apart by their output number (``_output_nr``), as
PyTorch's.
"""

import contextlib
import functools
import os
import sys
import weakref

import numpy as np

from ..tensor import Tensor
from .float_errors import quiet, quietly
from .grad_mode import AnomalyError, current_mode, no_grad

_LIBRARY = __name__.split(".")[0]
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_call_site() -> str:
    """'file:line' of the innermost stack frame outside this package (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


class Node:
    """A vertex of the backward graph.  The engine only uses what is defined here.

    ``edges`` are the nodes gradients go to (None where none goes), ``edge_outputs`` which
    output of each of them (None: output 0 everywhere, the common case, kept cheap);
    ``n_outputs`` how many gradients the node receives; ``hooks`` the hooks of the tensors
    it produced (None until a tensor's ``register_hook`` or ``retain_grad`` is called).
    For readers of the graph (``viz``): ``input_meta``, the ``(shape, dtype)`` of each input
    of an op (None for an argument outside the graph; empty on nodes that record none), and
    ``variable``, the leaf an ``AccumulateGrad`` stands for (None elsewhere).

    ``owns_grad`` is set by the engine just before it runs the node's backward: True when
    the output gradient it passes is a graph-free Tensor whose array nothing else refers to
    (no other buffer, hook, view or saved tensor), so a first-order backward may overwrite
    that array in place (and return it) instead of allocating a result.
    """

    edges: tuple = ()
    edge_outputs = None
    n_outputs = 1
    hooks = None
    owns_grad = False
    site = None
    input_meta = ()
    variable = None

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """``((node, output_number), ...)``, one pair per Tensor input, ``(None, 0)`` for an
        input that needs no gradient (as PyTorch's ``grad_fn.next_functions``)."""
        numbers = self.edge_outputs or (0,) * len(self.edges)
        return tuple((edge, number if edge is not None else 0)
                     for edge, number in zip(self.edges, numbers))

    def release(self) -> None:
        """Drop what backward needed, after a backward without ``retain_graph``."""

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node behind a leaf that requires grad: gradients arriving here end on ``.grad``."""

    def __init__(self, variable: Tensor):
        self.variable = variable

    @staticmethod
    def of(leaf: Tensor) -> "AccumulateGrad":
        """The leaf's accumulator, shared by every edge into it (the leaf keeps it weakly)."""
        node = leaf._accumulator() if leaf._accumulator is not None else None
        if node is None:
            node = AccumulateGrad(leaf)
            leaf._accumulator = weakref.ref(node)
        return node


class FirstOrderOnly(Node):
    """Stands behind a gradient that cannot be differentiated again.

    Made when ``create_graph=True`` meets a ``backward`` that returned plain arrays, used a
    float array stashed on ``ctx`` or is marked ``@once_differentiable``: the gradient's value
    is right, but the graph behind it would be missing terms, so a second derivative through
    it raises instead of being silently wrong.
    """

    def __init__(self, op_name: str, reason: str, origin: Node):
        self.op_name = op_name
        self.reason = reason
        self.edges = origin.edges  # the op's inputs: where a true second derivative would lead
        self.edge_outputs = origin.edge_outputs

    def name(self) -> str:
        return f"FirstOrderOnly[{self.op_name}]"

    def apply_backward(self, grad, create_graph):
        raise RuntimeError(
            f"{self.op_name}: its backward is first-order only ({self.reason}), so it cannot "
            "be differentiated again; write its backward with Tensor operations on "
            "ctx.saved_tensors (without @once_differentiable) to make second derivatives work"
        )


def once_differentiable(fn):
    """Decorator of a ``Function.backward`` (as ``torch.autograd.function.once_differentiable``):
    the backward runs without recording, and a second derivative through it raises
    ``RuntimeError`` naming the op (PyTorch raises too)."""

    @functools.wraps(fn)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return fn(ctx, *grad_outputs)

    wrapper.once_differentiable = True
    return wrapper


class _StashPolicy:
    """gradgradcheck's switch: while ``trusted``, float arrays stashed on ``ctx`` are taken as
    constants, so that it can decide numerically whether they are."""

    trusted = False


class Context(Node):
    """The ``ctx`` of one ``Function`` call; once recorded, the call's node in the graph.

    Users may store non-tensor facts on it (ints, shapes, integer index arrays) and must
    save input and output arrays with :meth:`save_for_backward`.
    """

    _function = None  # set on the per-Function subclass made by Function.__init_subclass__
    _to_save = ()
    _saved = None
    _released = False
    _non_differentiable = ()
    _output_meta = None  # ((shape, dtype, differentiable), ...) per output, when several
    _non_tensor_args = ()  # positions of the arguments that were not Tensors
    # A user's Function has its backward checked as PyTorch checks it; the library's own ops
    # pass numpy constants as arguments and may return gradients for them, which are dropped.
    _user_op = True
    materialize_grads = True
    _constants = ()

    def __init__(self, inputs, needs_input_grad):
        self._inputs = inputs  # the forward's input arrays, only while forward runs
        self.needs_input_grad = needs_input_grad

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        numbers = self.edge_outputs or (0,) * len(self.edges)
        return tuple((edge, number if edge is not None else 0)
                     for index, (edge, number) in enumerate(zip(self.edges, numbers))
                     if index not in self._non_tensor_args)

    def save_for_backward(self, *arrays) -> None:
        """Keep forward input arrays and/or output arrays for backward."""
        self._to_save = arrays

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs (arrays the forward returns) that get no gradient: they do not require
        grad, and backward receives zeros for them (None without materialized grads)."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """With ``False``, backward receives None (not zeros) for an output that got no
        gradient; several-output Functions only, as the engine runs a node only when some
        gradient reached it."""
        self.materialize_grads = bool(value)

    def _resolve_saved(self, output, raw_output, args, results, outputs=None,
                       raw_outputs=None) -> None:
        """Turn the arrays given to ``save_for_backward`` into (array, slot, counter, version)
        entries: slot i >= 0 is input i, slot -1 - j is output j (``output`` for one output,
        ``outputs`` for several); ``counter`` is the version counter of the tensor the array
        belongs to (an argument in ``args``, or the output tensor in ``results``) and
        ``version`` its value now, so that backward can tell whether it was changed in place
        since."""
        saved = []
        for array in self._to_save:
            if array is None:
                saved.append(None)
                continue
            if outputs is None:  # one output: the common case, without a loop
                if array is output or array is raw_output:
                    counter = results._counter
                    if counter is None:
                        counter = results._counter = [0]
                    saved.append((output, -1, counter, 0))
                    continue
            else:
                number = _output_number(array, outputs, raw_outputs)
                if number is not None:
                    counter = results[number]._counter
                    if counter is None:
                        counter = results[number]._counter = [0]
                    saved.append((outputs[number], -1 - number, counter, 0))
                    continue
            for slot, candidate in enumerate(self._inputs):
                if array is candidate:
                    arg = args[slot]
                    if isinstance(arg, Tensor):
                        counter = arg._counter
                        if counter is None:
                            counter = arg._counter = [0]
                        saved.append((array, slot, counter, counter[0]))
                    else:
                        saved.append((array, slot, None, 0))
                    break
            else:
                raise ValueError(
                    f"{self._function.__name__}.forward: save_for_backward takes the "
                    "forward's input arrays and its outputs; recompute intermediates in "
                    "backward from them"
                )
        self._saved = tuple(saved)
        self._to_save = ()

    @property
    def saved_tensors(self) -> tuple:
        """The saved arrays as Tensors connected to the graph (so backward is differentiable)."""
        if self._released:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (its saved "
                "arrays were freed by the first backward); pass retain_graph=True to the "
                "first backward or grad() call if you need to go through it twice"
            )
        tensors = []
        for entry in self._saved:
            if entry is None:
                tensors.append(None)
                continue
            array, slot, counter, version = entry
            if counter is not None and counter[0] != version:
                raise self._modified_error(slot, array, counter, version)
            # An input's tensor is rebuilt around the same array and the same graph node, so
            # gradients of a differentiable backward flow where the original input's would.
            if slot == -1 and self._output_meta is None:  # the one output
                tensors.append(Tensor._make(array, self))
                continue
            if slot < 0:
                number = -1 - slot
                node = self if self._output_meta[number][2] else None
            else:
                node = self.edges[slot]
                number = self.edge_outputs[slot] if self.edge_outputs else 0
            tensor = Tensor._make(array, node)
            tensor._output_nr = number
            tensors.append(tensor)
        return tuple(tensors)

    def _modified_error(self, slot, array, counter, version) -> RuntimeError:
        what = f"output {-1 - slot}" if slot < 0 else f"input {slot}"
        if slot == -1 and self._output_meta is None:
            what = "output"
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: the {what} of {self.name()} (a tensor of shape "
            f"{tuple(array.shape)}, dtype {array.dtype}) is at version {counter[0]}; expected "
            f"version {version} instead (it was changed in place after {self.name()} saved "
            "it; clone() it before changing it, or change it after backward)"
        )

    def mark_constant(self, *names) -> None:
        """Declare float arrays stashed on ctx under these attribute names constants (a dropout
        mask, a fixed weight): they do not depend on the inputs, so a backward using them
        can still be differentiated again.  ``gradgradcheck`` checks the claim numerically."""
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"{self.name()}.mark_constant: names must be attribute names "
                                f"(str), got {type(name).__name__}")
        self._constants = self._constants + names

    def _stashed_float_arrays(self) -> list:
        if _StashPolicy.trusted:
            return []
        return [
            key for key, value in vars(self).items()
            if not key.startswith("_") and key not in self._constants
            and isinstance(value, np.ndarray) and value.dtype.kind in "fc"
        ]

    def _output_gradients(self, grads) -> list:
        """One gradient per output, zeros (or None) where none arrived."""
        grads = list(grads)
        if self.materialize_grads:
            for number, (shape, dtype, _) in enumerate(self._output_meta):
                if grads[number] is None:
                    grads[number] = Tensor._make(np.zeros(shape, dtype))
        return grads

    def apply_backward(self, grad, create_graph):
        """Run the Function's backward on the output gradient(s) (a Tensor, or one entry per
        output for a forward with several); one result per input."""
        function = self._function
        backward = function.backward
        with contextlib.nullcontext() if self._user_op else quiet():   # (.float_errors)
            if self.n_outputs == 1:
                grads = backward(self, grad)
            else:
                grads = backward(self, *self._output_gradients(grad))
        if not isinstance(grads, tuple):
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        edges = self.edges
        if len(grads) != len(edges):
            raise RuntimeError(
                f"{function.__name__}.backward returned {len(grads)} gradient(s) but forward "
                f"took {len(edges)} argument(s); return one per argument (None for "
                "arguments that need no gradient)"
            )
        reason = None
        if create_graph:
            reason = self._first_order_reason(backward)
        results = []  # (argument i's result is results[i]: len(results) is its index)
        for edge, gradient, meta in zip(edges, grads, self.input_meta):
            if edge is None or gradient is None:
                if (gradient is not None and self._user_op
                        and len(results) in self._non_tensor_args):
                    raise RuntimeError(
                        f"{function.__name__}.backward returned a gradient for argument "
                        f"{len(results)}, which was not a Tensor; return None for it"
                    )
                results.append(None)
                continue
            if not isinstance(gradient, Tensor):
                gradient = np.asarray(gradient)
                node = None
                if create_graph:
                    node = FirstOrderOnly(function.__name__, "its backward returned plain "
                                          "arrays, not Tensors", self)
                gradient = Tensor._make(gradient, node)
            elif reason is not None:
                gradient = Tensor._make(gradient._data, FirstOrderOnly(function.__name__,
                                                                       reason, self))
            data = gradient._data
            if data.shape != meta[0]:
                raise RuntimeError(
                    f"{function.__name__}.backward returned a gradient of shape "
                    f"{data.shape} for argument {len(results)}, whose shape is {meta[0]}"
                )
            if data.dtype != meta[1]:
                gradient = gradient.astype(meta[1])
            results.append(gradient)
        return results

    def _first_order_reason(self, backward):
        """Why the gradients of this node cannot be differentiated again (None if they can)."""
        if getattr(backward, "once_differentiable", False):
            return "its backward is marked @once_differentiable"
        stashed = self._stashed_float_arrays()
        if stashed:
            return (f"it uses float array(s) stashed on ctx: {', '.join(stashed)}; if they do "
                    "not depend on the inputs, declare them with "
                    f"ctx.mark_constant({', '.join(map(repr, stashed))})")
        return None

    def release(self) -> None:
        self._saved = None
        self._released = True


def _output_number(array, outputs, raw_outputs):
    """Which output ``array`` is (None if none)."""
    for number, (output, raw) in enumerate(zip(outputs, raw_outputs)):
        if array is output or array is raw:
            return number
    return None


class Function:
    """Base class of every differentiable op, the library's own and the user's.

    Subclasses define ``forward(ctx, *args)`` (numpy arrays in, an array or a tuple of arrays
    out) and ``backward(ctx, *grad_outputs)`` (Tensors in, one per output; one gradient per
    forward argument out) as static methods and are called as ``MyOp.apply(*args)``; Tensor
    arguments arrive in forward as their arrays, anything else unchanged.  ``apply`` returns a
    Tensor, or a tuple of Tensors when forward returned a tuple.  See ``docs/autograd.md``.
    """

    _context_class = Context

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Each Function gets its own node class, named as PyTorch names them: the library's
        # own ops "MulBackward0" (PyTorch numbers its built-in overloads), a user's Function
        # "MyOpBackward".
        user_op = not cls.__module__.startswith(_LIBRARY + ".")
        cls._context_class = type(f"{cls.__name__}Backward{'' if user_op else '0'}",
                                  (Context,), {"_function": cls, "_user_op": user_op})
        run_forward = _forward_runner(cls)
        # The library's own ops compute as PyTorch's: inf and NaN silently (.float_errors).
        cls._run_forward = staticmethod(run_forward if user_op else quietly(run_forward))

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's other style: ``forward(*args)`` without ``ctx``, then
        ``setup_context(ctx, inputs, output)`` saves what backward needs (``inputs`` are the
        arrays forward received, ``output`` what it returned)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` on the arrays of ``args`` and record the call when grad is on."""
        mode = current_mode.get()
        if not mode.grad_enabled:  # nothing is recorded: only the arrays are needed
            ctx = object.__new__(cls._context_class)  # (what Context.__init__ does, inline)
            ctx._inputs = [arg._data if isinstance(arg, Tensor) else arg for arg in args]
            ctx.needs_input_grad = (False,) * len(args)
            output = cls._run_forward(ctx, *ctx._inputs)
            if type(output) is np.ndarray and not mode.anomaly and not mode.tracing:
                return Tensor._make(output)
            return _finish(cls, ctx, args, (False,) * len(args), False, output, mode, None)
        # Hot: one pass over the arguments gives their arrays, which of them need a gradient,
        # and the graph edge each gradient would take with its shape and dtype (kept only if
        # the call is recorded).  Edges to a node with several outputs and arguments that are
        # not Tensors are rare: they are only noted here, and handled by _connect_rare.
        arrays, needs, edges, input_meta = [], [], [], []
        record = rare = False
        for arg in args:
            if isinstance(arg, Tensor):
                data = arg._data
                arrays.append(data)
                if arg._requires_grad:
                    record = True
                    needs.append(True)
                    producer = arg.grad_fn
                    if producer is None:
                        producer = AccumulateGrad.of(arg)
                    elif producer.n_outputs != 1:
                        rare = True
                    edges.append(producer)
                    input_meta.append((data.shape, data.dtype))
                    continue
            else:
                arrays.append(arg)
                rare = True
            needs.append(False)
            edges.append(None)
            input_meta.append(None)
        ctx = object.__new__(cls._context_class)
        ctx._inputs = arrays
        ctx.needs_input_grad = needs = tuple(needs)
        raw_output = output = cls._run_forward(ctx, *arrays)
        if type(output) is not np.ndarray or mode.anomaly or mode.tracing:
            return _finish(cls, ctx, args, needs, record, output, mode,
                           (edges, input_meta, rare))
        if not record or output.dtype.kind != "f" or (
                ctx._non_differentiable and _is_marked(ctx, output, raw_output)):
            return Tensor._make(output)
        ctx.edges = tuple(edges)  # (what _connect does, inline)
        ctx.input_meta = input_meta
        if rare:
            _connect_rare(ctx, args)
        result = Tensor._make(output, ctx)
        if ctx._to_save:
            ctx._resolve_saved(output, raw_output, args, result)
        ctx._inputs = None
        return result


def _finish(cls, ctx, args, needs, record, output, mode, graph):
    """``apply`` past the forward, for the cases its fast path leaves out: a forward that
    returned a tuple or a numpy scalar, anomaly mode, tracing, or nothing to record."""
    raw_output = output
    if type(output) is not np.ndarray:
        if type(output) is tuple:
            return _apply_several(cls, ctx, args, needs, record, output, mode, graph)
        output = _as_output_array(cls, output)  # numpy returns scalars for 0-d results
    if mode.anomaly:
        _check_forward(cls, ctx, output, mode)
    if mode.tracing:  # the call as tinygrad_cnn.onnx.export reads it off the graph
        ctx._traced = (args, output, user_call_site())
    if not record or output.dtype.kind != "f" or (
            ctx._non_differentiable and _is_marked(ctx, output, raw_output)):
        return Tensor._make(output)
    _connect(ctx, args, graph)
    result = Tensor._make(output, ctx)
    if ctx._to_save:
        ctx._resolve_saved(output, raw_output, args, result)
    ctx._inputs = None
    return result


def _forward_runner(cls):
    """``forward(ctx, *arrays)``, or for a Function that defines ``setup_context``,
    ``forward(*arrays)`` followed by ``setup_context(ctx, arrays, output)``."""
    if cls.setup_context is Function.setup_context:
        return cls.forward
    forward, setup_context = cls.forward, cls.setup_context

    def run(ctx, *arrays):
        output = forward(*arrays)
        setup_context(ctx, arrays, output)
        return output

    return run


def _connect(ctx, args, graph) -> None:
    """Make ``ctx`` a node: ``graph`` is ``(edges, input_meta, rare)`` from ``apply``, one
    entry per argument: the node its gradient goes to (None where none goes), the argument's
    ``(shape, dtype)``, and whether some argument needs :func:`_connect_rare`."""
    edges, input_meta, rare = graph
    ctx.edges = tuple(edges)
    ctx.input_meta = input_meta
    if rare:
        _connect_rare(ctx, args)


def _connect_rare(ctx, args) -> None:
    """The rare parts of a node's edges, set only when needed: which output of a node with
    several outputs an edge leads to (``edge_outputs``), and which arguments were not
    Tensors (``_non_tensor_args``, left out of ``next_functions``)."""
    for index, (arg, edge) in enumerate(zip(args, ctx.edges)):
        if not isinstance(arg, Tensor):
            ctx._non_tensor_args += (index,)
        elif edge is not None and edge.n_outputs != 1:
            if ctx.edge_outputs is None:
                ctx.edge_outputs = [0] * len(args)
            ctx.edge_outputs[index] = arg._output_nr


def _is_marked(ctx, output, raw_output) -> bool:
    return any(marked is output or marked is raw_output for marked in ctx._non_differentiable)


def _apply_several(cls, ctx, args, needs, record, raw_outputs, mode, graph) -> tuple:
    """``apply`` for a forward that returned a tuple: one Tensor per output, all sharing the
    node, each knowing its output number."""
    outputs = tuple(_as_output_array(cls, output) for output in raw_outputs)
    if mode.anomaly:
        for output in outputs:
            _check_forward(cls, ctx, output, mode)
    differentiable = [
        record and output.dtype.kind == "f" and not _is_marked(ctx, output, raw)
        for output, raw in zip(outputs, raw_outputs)
    ]
    if not any(differentiable):
        return tuple(Tensor._make(output) for output in outputs)
    _connect(ctx, args, graph)
    ctx.n_outputs = len(outputs)
    ctx._output_meta = tuple((output.shape, output.dtype, flag)
                             for output, flag in zip(outputs, differentiable))
    tensors = []
    for number, (output, flag) in enumerate(zip(outputs, differentiable)):
        tensor = Tensor._make(output, ctx if flag else None)
        if flag:
            tensor._output_nr = number
        tensors.append(tensor)
    if ctx._to_save:
        ctx._resolve_saved(None, None, args, tensors, outputs, raw_outputs)
    ctx._inputs = None
    return tuple(tensors)


def _check_forward(cls, ctx, output, mode) -> None:
    """Anomaly mode: remember the user's line; a NaN or inf result raises naming it."""
    ctx.site = user_call_site()
    if mode.anomaly_check_nan and output.dtype.kind == "f" and not np.isfinite(output).all():
        raise AnomalyError(
            f"{cls.__name__}: forward produced {_nonfinite_kind(output)}; the op was "
            f"called at {ctx.site}"
        )


def _as_output_array(function, output) -> np.ndarray:
    if isinstance(output, np.ndarray):
        return output
    if isinstance(output, (np.generic, float, int, bool)):
        return np.asarray(output)
    raise TypeError(
        f"{function.__name__}.forward must return a numpy array or a tuple of them, got "
        f"{type(output).__name__}"
    )


def _nonfinite_kind(array: np.ndarray) -> str:
    has_nan = bool(np.isnan(array).any())
    has_inf = bool(np.isinf(array).any())
    return " and ".join(k for k, present in (("NaN", has_nan), ("inf", has_inf)) if present)
