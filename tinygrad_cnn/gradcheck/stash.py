"""Values a ``Function`` kept on its ``ctx`` outside ``save_for_backward``, for gradgradcheck.

A float array or Python float stashed on ``ctx`` is a constant to the graph of the backward.
That is right for a dropout mask and wrong for anything computed from an input (its
dependence on the input goes missing from the second derivative).  The library refuses
``create_graph=True`` through an undeclared float array (``FirstOrderOnly``);
``gradgradcheck`` instead decides numerically, with :func:`trusted`, and names the stash
when it is the likely cause of a failure.
"""

import contextlib

import numpy as np

from ..autograd.function import Context, _StashPolicy
from ..tensor import Tensor

_CONTEXT_FIELDS = {"needs_input_grad", "edges", "input_meta", "site"}


@contextlib.contextmanager
def trusted():
    """Within: float arrays stashed on ctx are taken as constants (no FirstOrderOnly)."""
    previous = _StashPolicy.trusted
    _StashPolicy.trusted = True
    try:
        yield
    finally:
        _StashPolicy.trusted = previous


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a float array of shape {value.shape}"
    return f"= {float(value):.6g}, a Python float"


def find(outputs):
    """``["Op: ctx.name (what)", ...]`` for every float value stashed on a ctx in the graph
    behind ``outputs`` (Tensors), marked constants included."""
    found, seen = [], set()
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Context):
            op = node._function.__name__ if node._function is not None else node.name()
            for key, value in vars(node).items():
                if key.startswith("_") or key in _CONTEXT_FIELDS:
                    continue
                floating_array = isinstance(value, np.ndarray) and value.dtype.kind in "fc"
                number = isinstance(value, (float, np.floating))
                if floating_array or number:
                    declared = " (declared constant)" if key in node._constants else ""
                    found.append(f"{op}: ctx.{key} ({_describe(value)}){declared}")
        stack.extend(getattr(node, "edges", ()) or ())
    return found
