"""The backward pass: walk the recorded graph from the outputs to the leaves.

Two steps, both iterative so that a chain of 100,000 ops needs no recursion:

1. ``_topological_order``: a depth-first walk from the output nodes with an explicit stack,
   listing every node after all the nodes it leads to (post-order).  Reversed, that list is
   a topological order: a node comes only after every node that sends it gradient.
2. ``_run``: in that order, each node takes the sum of the gradients that reached it, calls
   its backward, and adds the results into the buffers of the nodes on its edges.  Summing
   *before* a node runs is what makes a reused intermediate correct (micrograd's naive
   recursion gets this wrong; ``docs/autograd.md`` has the counter-example).
"""

import numpy as np

from ..tensor import Tensor
from .function import AccumulateGrad
from .grad_mode import mode, set_grad_enabled


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each after all the nodes it leads to (post-order)."""
    order = []
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.edges))]
        while stack:
            node, edges = stack[-1]
            for child in edges:
                if child is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _reaching(order, targets) -> set:
    """The nodes of ``order`` (post-order) from which some node of ``targets`` is reachable."""
    reaching = set()
    for node in order:  # children come first in post-order
        if node in targets or any(child in reaching for child in node.edges):
            reaching.add(node)
    return reaching


def _checked_backward(node, gradient, create_graph) -> list:
    """``node``'s backward under anomaly mode: its results are checked, and blamed on the
    node (the ops it runs inside are not checked one by one)."""
    mode.anomaly = False
    try:
        gradients = node.apply_backward(gradient, create_graph)
    finally:
        mode.anomaly = True
    for result in gradients:
        if result is not None and not np.isfinite(result._data).all():
            raise FloatingPointError(
                f"{node.name()}: backward produced a non-finite gradient (NaN or inf); "
                f"the op was called at {node.site or '<created outside detect_anomaly>'}"
            )
    return gradients


def _run(roots, root_grads, retain_graph, create_graph, capture=None) -> dict:
    """Propagate ``root_grads`` from ``roots`` through the graph.

    Without ``capture`` the gradients reaching leaves accumulate into their ``.grad``.
    With ``capture`` (a set of nodes) the total gradient reaching each of those nodes is
    returned instead, and only the part of the graph that leads to them is run.
    """
    order = _topological_order(roots)
    needed = _reaching(order, capture) if capture is not None else None
    buffers = {}
    for root, gradient in zip(roots, root_grads):
        buffers[root] = buffers[root] + gradient if root in buffers else gradient
    captured = {}
    with set_grad_enabled(create_graph):
        for node in reversed(order):
            gradient = buffers.pop(node, None)
            if gradient is None:
                continue
            if capture is not None:
                if node in capture:
                    captured[node] = gradient
                if node not in needed:
                    continue
            if isinstance(node, AccumulateGrad):
                if capture is None:
                    _accumulate(node.variable, gradient)
                continue
            if mode.anomaly:
                gradients = _checked_backward(node, gradient, create_graph)
            else:
                gradients = node.apply_backward(gradient, create_graph)
            if not retain_graph:
                node.release()
            for child, child_gradient in zip(node.edges, gradients):
                if child is None or child_gradient is None:
                    continue
                if capture is not None and child not in needed:
                    continue
                previous = buffers.get(child)
                buffers[child] = child_gradient if previous is None else previous + child_gradient
    return captured


def _accumulate(leaf: Tensor, gradient: Tensor) -> None:
    """Add ``gradient`` into ``leaf.grad`` (a Tensor of the leaf's shape and dtype).

    A first gradient is copied (the engine's gradients may share memory with each other);
    later ones are added in place, as PyTorch does.  A gradient that is part of a graph
    (``create_graph=True``) is kept with its graph, and added out of place, so ``.grad``
    can be differentiated again.
    """
    existing = leaf._grad
    dtype = leaf._data.dtype
    if gradient.grad_fn is not None:
        if gradient._data.dtype != dtype:
            gradient = gradient.astype(dtype)
        leaf._grad = gradient if existing is None else existing + gradient
    elif existing is None:
        leaf._grad = Tensor._make(np.array(gradient._data, dtype=dtype, copy=True))
    elif existing.grad_fn is not None:
        leaf._grad = existing + gradient
    else:
        existing._data += gradient._data
        existing._bump_version()


def _node_of(tensor: Tensor):
    """Where gradients for ``tensor`` gather: its ``grad_fn``, or a leaf's accumulator."""
    return tensor.grad_fn if tensor.grad_fn is not None else AccumulateGrad.of(tensor)


def _root_node(tensor: Tensor, what: str):
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{what}: the tensor (shape {tensor.shape}) does not require grad and has no "
            "grad_fn, so there is nothing to differentiate"
        )
    return _node_of(tensor)


def _seed_gradient(tensor: Tensor, gradient, what: str) -> Tensor:
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"{what}: a gradient can be created implicitly only for one-element outputs; "
                f"this output has shape {tensor.shape}, so pass a gradient of that shape"
            )
        return Tensor._make(np.ones_like(tensor._data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(np.asarray(gradient, dtype=tensor._data.dtype))
    if gradient.shape != tensor.shape:
        raise ValueError(
            f"{what}: gradient has shape {gradient.shape} but the output has shape {tensor.shape}"
        )
    return gradient


def backward(tensor: Tensor, gradient=None, retain_graph=False, create_graph=False) -> None:
    """``tensor.backward()``: accumulate d(tensor)/d(leaf) into every leaf's ``.grad``."""
    root = _root_node(tensor, "backward")
    seed = _seed_gradient(tensor, gradient, "backward")
    _run([root], [seed], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    outputs: a Tensor or a sequence of Tensors; inputs: a Tensor or a sequence of Tensors
    that require grad; grad_outputs: one gradient per output (may be omitted for
    one-element outputs).  Returns a tuple with one Tensor per input (zeros where an input
    does not influence the outputs).  ``.grad`` attributes are not touched.  With
    ``create_graph=True`` the results are themselves differentiable.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for what, items in (("outputs", outputs), ("inputs", inputs)):
        for item in items:
            if not isinstance(item, Tensor):
                raise TypeError(f"grad: {what} must be Tensors, got {type(item).__name__}")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_root_node(out, "grad") for out in outputs]
    seeds = [_seed_gradient(out, g, "grad") for out, g in zip(outputs, grad_outputs)]
    targets = []
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(
                f"grad: input {index} (shape {tensor.shape}) does not require grad"
            )
        targets.append(_node_of(tensor))
    captured = _run(roots, seeds, retain_graph, create_graph, capture=set(targets))
    results = []
    for tensor, target in zip(inputs, targets):
        gradient = captured.get(target)
        if gradient is None:
            gradient = Tensor._make(np.zeros_like(tensor._data))
        results.append(gradient)
    return tuple(results)


__all__ = ["backward", "grad"]
