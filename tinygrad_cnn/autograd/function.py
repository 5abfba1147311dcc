"""``Function``: the one way an operation enters the graph.

A ``Function`` subclass has a static ``forward(ctx, *args)`` that computes with numpy arrays
and a static ``backward(ctx, *grad_outputs)`` that computes with Tensors.  ``apply`` runs the
forward and, when grad recording is on and an input requires grad, makes the ``ctx`` a node
of the graph:

    input tensors --(edges)--> ctx (node) --> output tensor.grad_fn is ctx

Each edge points at the node that produced an input (its ``grad_fn``) or, for a leaf that
requires grad, at that leaf's ``AccumulateGrad`` node.  Nodes hold no reference to the
intermediate *tensors* of the graph, only to the arrays they saved; that is what lets
``backward`` free a graph's memory while the tensors are still alive.
"""

import os
import sys
import weakref

import numpy as np

from ..tensor import Tensor
from .grad_mode import mode

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OUTPUT = -1  # the slot of a saved array that is the forward's output


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
    """A vertex of the backward graph.  The engine only uses what is defined here."""

    edges: tuple = ()
    site = None

    def name(self) -> str:
        return type(self).__name__

    def release(self) -> None:
        """Drop what backward needed, after a backward without ``retain_graph``."""


class AccumulateGrad(Node):
    """The node behind a leaf that requires grad: gradients arriving here end on ``.grad``."""

    __slots__ = ("variable",)

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

    Made when ``create_graph=True`` meets a ``backward`` that returned plain arrays or used a
    float array stashed on ``ctx``: the gradient's value is right, but the graph behind it
    would be missing terms, so a second derivative through it raises instead of being
    silently wrong.
    """

    def __init__(self, op_name: str, reason: str, edges: tuple):
        self.op_name = op_name
        self.reason = reason
        self.edges = edges  # the op's inputs: where a true second derivative would lead

    def name(self) -> str:
        return f"FirstOrderOnly[{self.op_name}]"

    def apply_backward(self, grad, create_graph):
        raise RuntimeError(
            f"{self.op_name}: its backward is first-order only ({self.reason}), so it cannot "
            "be differentiated again; write its backward with Tensor operations on "
            "ctx.saved_tensors to make second derivatives work"
        )


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
    _constants = ()

    def __init__(self, inputs, needs_input_grad):
        self._inputs = inputs  # the forward's input arrays, only while forward runs
        self.needs_input_grad = needs_input_grad

    def name(self) -> str:
        return type(self).__name__

    def save_for_backward(self, *arrays) -> None:
        """Keep forward input arrays and/or the output array for backward."""
        self._to_save = arrays

    def _resolve_saved(self, output, raw_output) -> None:
        """Turn the arrays given to ``save_for_backward`` into (array, slot) pairs."""
        saved = []
        for array in self._to_save:
            if array is None:
                saved.append(None)
                continue
            if array is output or array is raw_output:
                saved.append((output, _OUTPUT))
                continue
            for slot, candidate in enumerate(self._inputs):
                if array is candidate:
                    saved.append((array, slot))
                    break
            else:
                raise ValueError(
                    f"{self._function.__name__}.forward: save_for_backward takes the forward's "
                    "input arrays and its output; recompute intermediates in backward from them"
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
            array, slot = entry
            # An input's tensor is rebuilt around the same array and the same graph node, so
            # gradients of a differentiable backward flow where the original input's would.
            node = self if slot == _OUTPUT else self.edges[slot]
            tensors.append(Tensor._make(array, node))
        return tuple(tensors)

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

    def apply_backward(self, grad, create_graph):
        """Run the Function's backward for one output gradient; one result per input."""
        function = self._function
        grads = function.backward(self, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.edges):
            raise RuntimeError(
                f"{function.__name__}.backward returned {len(grads)} gradient(s) but forward "
                f"took {len(self.edges)} argument(s); return one per argument (None for "
                "arguments that need no gradient)"
            )
        reason = None
        if create_graph:
            stashed = self._stashed_float_arrays()
            if stashed:
                reason = (f"it uses float array(s) stashed on ctx: {', '.join(stashed)}; if "
                          "they do not depend on the inputs, declare them with "
                          f"ctx.mark_constant({', '.join(map(repr, stashed))})")
        results = []
        for index, (edge, gradient) in enumerate(zip(self.edges, grads)):
            if edge is None or gradient is None:
                results.append(None)
                continue
            expected_shape, expected_dtype = self.input_meta[index]
            if not isinstance(gradient, Tensor):
                gradient = np.asarray(gradient)
                node = None
                if create_graph:
                    node = FirstOrderOnly(function.__name__, "its backward returned plain "
                                          "arrays, not Tensors", self.edges)
                gradient = Tensor._make(gradient, node)
            elif reason is not None:
                gradient = Tensor._make(gradient._data, FirstOrderOnly(function.__name__, reason,
                                                                  self.edges))
            if gradient._data.shape != expected_shape:
                raise RuntimeError(
                    f"{function.__name__}.backward returned a gradient of shape "
                    f"{gradient._data.shape} for argument {index}, whose shape is "
                    f"{expected_shape}"
                )
            if gradient._data.dtype != expected_dtype:
                gradient = gradient.astype(expected_dtype)
            results.append(gradient)
        return results

    def release(self) -> None:
        self._saved = None
        self._released = True


class Function:
    """Base class of every differentiable op, the library's own and the user's.

    Subclasses define ``forward(ctx, *args)`` (numpy arrays in, one array out) and
    ``backward(ctx, grad_output)`` (Tensors in, one gradient per forward argument out) as
    static methods and are called as ``MyOp.apply(*args)``; Tensor arguments arrive in
    forward as their arrays, anything else unchanged.  See ``docs/gradcheck.md``.
    """

    _context_class = Context

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Each Function gets its own node class, named as PyTorch names them ("MulBackward").
        cls._context_class = type(f"{cls.__name__}Backward", (Context,), {"_function": cls})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args) -> Tensor:
        """Run ``forward`` on the arrays of ``args`` and record the call when grad is on."""
        arrays = [arg._data if isinstance(arg, Tensor) else arg for arg in args]
        record = False
        if mode.grad_enabled:
            needs = tuple(isinstance(arg, Tensor) and arg._requires_grad for arg in args)
            record = True in needs
        else:
            needs = (False,) * len(args)
        ctx = cls._context_class(arrays, needs)
        raw_output = output = cls.forward(ctx, *arrays)
        if type(output) is not np.ndarray:
            output = _as_output_array(cls, output)  # numpy returns scalars for 0-d results
        if mode.anomaly:
            ctx.site = user_call_site()
            if output.dtype.kind == "f" and not np.isfinite(output).all():
                raise FloatingPointError(
                    f"{cls.__name__}: forward produced {_nonfinite_kind(output)}; the op was "
                    f"called at {ctx.site}"
                )
        if not record or output.dtype.kind != "f":
            return Tensor._make(output)
        edges, input_meta = [], []
        for arg, needed in zip(args, needs):
            if needed:
                edges.append(arg.grad_fn or AccumulateGrad.of(arg))
                input_meta.append((arg._data.shape, arg._data.dtype))
            else:
                edges.append(None)
                input_meta.append(None)
        ctx.edges = tuple(edges)
        ctx.input_meta = input_meta
        if ctx._to_save:
            ctx._resolve_saved(output, raw_output)
        ctx._inputs = None
        return Tensor._make(output, ctx)


def _as_output_array(function, output) -> np.ndarray:
    if isinstance(output, np.ndarray):
        return output
    if isinstance(output, (np.generic, float, int, bool)):
        return np.asarray(output)
    raise TypeError(
        f"{function.__name__}.forward must return one numpy array, got {type(output).__name__}"
    )


def _nonfinite_kind(array: np.ndarray) -> str:
    has_nan = bool(np.isnan(array).any())
    has_inf = bool(np.isinf(array).any())
    return " and ".join(k for k, present in (("NaN", has_nan), ("inf", has_inf)) if present)
