"""The backward pass: walk the recorded graph from the outputs to the leaves.

Two steps, both iterative so that a chain of 100,000 ops needs no recursion:

1. ``_topological_order``: a depth-first walk from the output nodes with an explicit stack,
   listing every node after all the nodes it leads to (post-order).  Reversed, that list is
   a topological order: a node comes only after every node that sends it gradient.
2. ``_run``: in that order, each node takes the sum of the gradients that reached it, runs
   the hooks of its tensors (if any), calls its backward, and adds the results into the
   buffers of the nodes on its edges.  Summing *before* a node runs is what makes a reused
   intermediate correct (a walk that called each parent's backward as soon as one gradient
   arrived would get it wrong; ``docs/autograd.md`` has the counter-example).

A node's buffer is one Tensor, or for a node with several outputs a list with one entry per
output (None where nothing arrived).  ``backward`` accumulates what reaches the leaves into
their ``.grad``; ``grad`` *captures* what reaches the requested tensors instead, running only
the part of the graph that leads to them.

A gradient reaching a leaf whose ``.grad`` is None becomes that ``.grad``.  It is copied,
unless nothing else can see it (PyTorch's AccumulateGrad "steals" it in the same case): the
engine's own variable is its only reference and its array is owned by it alone (no views, no
other Tensor).  Stealing saves a full-size copy per leaf, e.g. of a large input gradient.
"""

import sys

import numpy as np

from ..tensor import Tensor
from .float_errors import quiet
from .function import AccumulateGrad
from .grad_mode import AnomalyError, current_mode, set_grad_enabled
from .hooks import run_hooks


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each after all the nodes it leads to (post-order)."""
    order = []
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        # Two parallel stacks (the path from the root, and where each of its nodes is in
        # its edges) rather than one of (node, iterator) pairs: no tuple per node.
        path = [root]
        pending = [iter(root.edges)]
        visit, push_path, push_pending = visited.add, path.append, pending.append
        while pending:
            for child in pending[-1]:
                if child is not None and child not in visited:
                    visit(child)
                    push_path(child)
                    push_pending(iter(child.edges))
                    break
            else:
                pending.pop()
                order.append(path.pop())
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
    mode = current_mode.get()
    current_mode.set(mode.replace(anomaly=False))
    try:
        gradients = node.apply_backward(gradient, create_graph)
    finally:
        current_mode.set(mode)
    if not mode.anomaly_check_nan:
        return gradients
    for result in gradients:
        if result is not None and not np.isfinite(result._data).all():
            raise AnomalyError(
                f"{node.name()}: backward produced a non-finite gradient (NaN or inf); "
                f"the op was called at {node.site or '<created outside detect_anomaly>'}"
            )
    return gradients


def _add(buffers, node, number, gradient) -> None:
    """Add ``gradient`` into ``node``'s buffer at output ``number``."""
    if node.n_outputs == 1:
        previous = buffers.get(node)
        buffers[node] = gradient if previous is None else previous + gradient
        return
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.n_outputs
    slots[number] = gradient if slots[number] is None else slots[number] + gradient


def _run(roots, root_grads, retain_graph, create_graph, capture=None) -> dict:
    """Propagate ``root_grads`` from ``roots`` (``(node, output number)`` pairs).

    Without ``capture`` the gradients reaching leaves accumulate into their ``.grad``.
    With ``capture`` (a set of nodes) the total gradient reaching each of those nodes (after
    its tensors' hooks) is returned instead, and only the part of the graph that leads to
    them is run.
    """
    order = _topological_order([node for node, _ in roots])
    needed = _reaching(order, capture) if capture is not None else None
    buffers = {}
    for (root, number), gradient in zip(roots, root_grads):
        _add(buffers, root, number, gradient)
    captured = {}
    anomaly = current_mode.get().anomaly
    pop, get = buffers.pop, buffers.get  # (hot: once per node and once per edge)
    refcount = sys.getrefcount
    with set_grad_enabled(create_graph):
        for node in reversed(order):
            gradient = pop(node, None)
            if gradient is None:
                continue
            if node.hooks is not None:
                gradient = run_hooks(node, gradient, _accumulate)
            if capture is not None:
                if node in capture:
                    captured[node] = gradient
                if node not in needed:
                    continue
            if type(node) is AccumulateGrad:
                if capture is None:
                    sole = refcount(gradient) <= _SOLE_LOCAL_REFS  # (before any other use)
                    _accumulate(node.variable, gradient, sole)
                continue
            # The node may overwrite its gradient's array (first order only) when nothing
            # else can see it: the buffers gave it up, and no hook kept it.
            node.owns_grad = (not create_graph and node.n_outputs == 1
                              and refcount(gradient) <= _SOLE_LOCAL_REFS
                              and _owned_array(gradient))
            if anomaly:
                gradients = _checked_backward(node, gradient, create_graph)
            else:
                gradients = node.apply_backward(gradient, create_graph)
            if not retain_graph:
                node.release()
            numbers = node.edge_outputs
            if numbers is not None:  # some edge leads to a node with several outputs
                for child, number, child_gradient in zip(node.edges, numbers, gradients):
                    if child is not None and child_gradient is not None and (
                            capture is None or child in needed):
                        _add(buffers, child, number, child_gradient)
                continue
            for child, child_gradient in zip(node.edges, gradients):  # the common case
                if child is None or child_gradient is None:
                    continue
                if capture is not None and child not in needed:
                    continue
                previous = get(child)
                if previous is None:
                    buffers[child] = child_gradient
                elif create_graph or not (refcount(previous) <= _SOLE_LOCAL_REFS + 1
                                          and _add_into(previous, child_gradient)):
                    buffers[child] = previous + child_gradient
            # Only the buffers may keep the gradients now, so a leaf can tell it is their
            # sole holder (and take its gradient without a copy).
            gradients = child_gradient = previous = None
    return captured


def _owned_array(gradient: Tensor) -> bool:
    """True when ``gradient``'s array may be written in place by whoever holds ``gradient``
    alone: a writeable, C-contiguous array owning its memory (not a view), to which only
    ``gradient`` refers (no view of it, no other Tensor, no saved copy)."""
    data = gradient._data
    return (data.base is None and sys.getrefcount(data) <= _SOLE_ATTRIBUTE_REFS
            and data.flags.c_contiguous and data.flags.writeable)


def _add_into(total: Tensor, gradient: Tensor) -> bool:
    """Add ``gradient`` into ``total``'s array in place if ``total`` (held by the engine's
    buffer alone, as the caller checked) owns its array and the sum keeps its shape and
    dtype; False (nothing done) otherwise.  Graph-free gradients only."""
    if total.grad_fn is not None or gradient.grad_fn is not None or not _owned_array(total):
        return False
    data, other = total._data, gradient._data
    if data.shape != other.shape or np.result_type(data, other) != data.dtype:
        return False
    with quiet():  # inf + -inf accumulates to NaN silently, as PyTorch's (and the ops')
        np.add(data, other, out=data)
    return True


def _accumulate(leaf: Tensor, gradient: Tensor, sole: bool = False) -> None:
    """Add ``gradient`` into ``leaf.grad`` (a Tensor of the leaf's shape and dtype).

    A first gradient is copied (the engine's gradients may share memory with each other),
    unless ``sole`` (the caller's variable is the only reference to ``gradient``) and its
    array is a C-contiguous, writeable array of the leaf's dtype that no other object refers
    to: then it is taken as it is.  Later gradients are added in place, as PyTorch does.  A
    gradient that is part of a graph (``create_graph=True``) is kept with its graph, and
    added out of place, so ``.grad`` can be differentiated again.
    """
    existing = leaf._grad
    dtype = leaf._data.dtype
    if gradient.grad_fn is not None:
        if gradient._data.dtype != dtype:
            gradient = gradient.astype(dtype)
        leaf._grad = gradient if existing is None else existing + gradient
    elif existing is None:
        data = gradient._data
        if sole and data.base is None and data.dtype == dtype and \
                sys.getrefcount(data) <= _SOLE_ATTRIBUTE_REFS and \
                data.flags.c_contiguous and data.flags.writeable:
            leaf._grad = Tensor._make(data)
        else:  # laid out as the leaf when it is C-contiguous (PyTorch's gradient layout)
            order = "C" if leaf._data.flags.c_contiguous else "K"
            leaf._grad = Tensor._make(np.array(data, dtype=dtype, copy=True, order=order))
    elif existing.grad_fn is not None:
        leaf._grad = existing + gradient
    else:
        existing._data += gradient._data
        existing._bump_version()


def _local_refs() -> int:
    """``sys.getrefcount`` of an object held by one local variable only (its value depends
    on the Python version)."""
    held = object()
    return sys.getrefcount(held)


def _attribute_refs() -> int:
    """``sys.getrefcount`` of an array held by one Tensor and one local variable, as
    ``_accumulate`` sees a gradient's array that nothing else refers to."""
    gradient = Tensor._make(np.empty(1))
    data = gradient._data
    return sys.getrefcount(data)


_SOLE_LOCAL_REFS = _local_refs()
_SOLE_ATTRIBUTE_REFS = _attribute_refs()


def _node_of(tensor: Tensor):
    """``(node, output number)`` where gradients for ``tensor`` gather: its ``grad_fn``, or
    a leaf's accumulator."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    return AccumulateGrad.of(tensor), 0


def _gradient_at(captured, node, number):
    """The captured gradient of output ``number`` of ``node``, or None."""
    gradient = captured.get(node)
    if gradient is None or node.n_outputs == 1:
        return gradient
    return gradient[number]


def _as_tensors(what: str, name: str, items) -> list:
    items = [items] if isinstance(items, Tensor) else list(items)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{what}: {name} must be Tensors, got {type(item).__name__} at "
                            f"index {index}")
    return items


def _roots(what: str, outputs) -> list:
    roots = []
    for index, tensor in enumerate(outputs):
        if not tensor._requires_grad:
            raise RuntimeError(
                f"{what}: the tensor at index {index} (shape {tensor.shape}) does not require "
                "grad and does not have a grad_fn, so there is nothing to differentiate"
            )
        roots.append(_node_of(tensor))
    return roots


def _seed_gradients(what: str, outputs, gradients) -> list:
    """One seed gradient per output: ``gradients`` checked, or ones for one-element outputs."""
    if gradients is None:
        gradients = [None] * len(outputs)
    elif isinstance(gradients, Tensor) or not isinstance(gradients, (list, tuple)):
        gradients = [gradients]
    if len(gradients) != len(outputs):
        raise RuntimeError(f"{what}: got {len(gradients)} gradients for {len(outputs)} "
                           "outputs; pass one per output")
    return [_seed_gradient(what, index, tensor, gradient)
            for index, (tensor, gradient) in enumerate(zip(outputs, gradients))]


def _seed_gradient(what: str, index: int, tensor: Tensor, gradient) -> Tensor:
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"{what}: a gradient can be created implicitly only for one-element outputs; "
                f"output {index} has shape {tensor.shape}, so pass a gradient of that shape"
            )
        return Tensor._make(np.ones_like(tensor._data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(np.asarray(gradient, dtype=tensor._data.dtype))
    if gradient.shape != tensor.shape:
        raise RuntimeError(
            f"{what}: gradient has shape {gradient.shape} but output {index} has shape "
            f"{tensor.shape} (a mismatch in shape)"
        )
    return gradient


def _input_targets(what: str, inputs) -> list:
    targets = []
    for index, tensor in enumerate(inputs):
        if not tensor._requires_grad:
            raise RuntimeError(f"{what}: input {index} (shape {tensor.shape}) does not "
                               "require grad; one of the differentiated Tensors must")
        targets.append(_node_of(tensor))
    return targets


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into ``.grad`` of the leaves (as
    ``torch.autograd.backward``).

    tensors: a Tensor or a sequence of them; grad_tensors: one gradient per tensor (may be
    omitted, or None, for one-element tensors); retain_graph: keep the graph for another
    backward (default: ``create_graph``); create_graph: record the backward, so ``.grad`` can
    be differentiated again; inputs: only these tensors (leaves or not) get ``.grad``.
    ``grad_variables`` is the old name of ``grad_tensors``.
    """
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("backward: pass grad_tensors or grad_variables, not both")
        grad_tensors = grad_variables
    outputs = _as_tensors("backward", "tensors", tensors)
    roots = _roots("backward", outputs)
    seeds = _seed_gradients("backward", outputs, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        _run(roots, seeds, retain_graph, create_graph)
        return
    inputs = _as_tensors("backward", "inputs", inputs)
    if not inputs:
        raise RuntimeError("backward: the 'inputs' argument cannot be empty")
    targets = _input_targets("backward", inputs)
    captured = _run(roots, seeds, retain_graph, create_graph,
                    capture={node for node, _ in targets})
    for tensor, (node, number) in zip(inputs, targets):
        gradient = _gradient_at(captured, node, number)
        if gradient is not None:
            _accumulate(tensor, gradient)


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor into ``.grad`` of every leaf that needs it (as
    ``torch.Tensor.backward``); ``gradient`` may be omitted only for one-element tensors."""
    backward(self, None if gradient is None else [gradient], retain_graph, create_graph,
             inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    outputs: a Tensor or a sequence of Tensors; inputs: a Tensor or a sequence of Tensors
    that require grad; grad_outputs: one gradient per output (may be omitted for
    one-element outputs).  Returns a tuple with one Tensor per input.  An input the outputs
    do not depend on raises ``RuntimeError``, unless ``allow_unused=True`` (its entry is
    then None) or ``materialize_grads=True`` (zeros).  ``.grad`` attributes are not touched.
    With ``create_graph=True`` the results are themselves differentiable.  With
    ``is_grads_batched=True`` each grad_output has an extra leading batch dimension and the
    results one too (computed one batch entry after another).  ``only_inputs`` is accepted
    and ignored, as PyTorch's.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: allow_unused cannot be False when materialize_grads=True; "
                         "leave it out or pass True")
    allow_unused = materialize_grads if allow_unused is None else bool(allow_unused)
    outputs = _as_tensors("grad", "outputs", outputs)
    inputs = _as_tensors("grad", "inputs", inputs)
    if not inputs:
        raise RuntimeError("grad: the 'inputs' argument cannot be empty")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    roots = _roots("grad", outputs)
    seeds = _seed_gradients("grad", outputs, grad_outputs)
    targets = _input_targets("grad", inputs)
    captured = _run(roots, seeds, retain_graph, create_graph,
                    capture={node for node, _ in targets})
    results = []
    for index, (tensor, (node, number)) in enumerate(zip(inputs, targets)):
        gradient = _gradient_at(captured, node, number)
        if gradient is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: the differentiated Tensor at index {index} (shape {tensor.shape}) "
                    "appears to not have been used in the graph; set allow_unused=True if "
                    "this is the desired behavior"
                )
            if materialize_grads:
                gradient = Tensor._make(np.zeros_like(tensor._data))
        results.append(gradient)
    return tuple(results)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    from .functional import stack  # stacking is a Tensor op, above the engine

    if grad_outputs is None:
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs")
    if isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    sizes = {len(g) for g in grad_outputs if g is not None}
    if len(sizes) != 1:
        raise RuntimeError("grad: with is_grads_batched=True every grad_output needs the same "
                           f"leading batch size, got {sorted(sizes)}")
    rows = []
    for entry in range(sizes.pop()):
        rows.append(grad(outputs, inputs, [None if g is None else g[entry] for g in
                                           grad_outputs],
                         retain_graph=True if not retain_graph else retain_graph,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    return tuple(None if column[0] is None else stack(list(column)) for column in zip(*rows))


__all__ = ["backward", "grad"]
