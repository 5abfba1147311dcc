"""Tensor hooks and ``retain_grad``: code the backward walk runs when a gradient reaches a
tensor.

Hooks belong to the node that receives the tensor's gradient, as PyTorch's do: a non-leaf's
``grad_fn`` (at the tensor's output number) or a leaf's ``AccumulateGrad``.  So a hook fires
in every ``backward`` and ``grad`` that passes through the tensor, even after the tensor
itself is gone.  Nodes without hooks carry ``hooks = None`` and the engine checks only that
attribute, so graphs without hooks pay one attribute read per node.
"""

import weakref

from ..tensor import Tensor
from .function import AccumulateGrad


class TensorHooks:
    """The hooks of the tensors one node produced (or, on an ``AccumulateGrad``, of its
    leaf): ``by_output[i]`` the functions registered with ``register_hook`` on output i, run
    in order, each may replace the gradient; ``retained[i]`` a weak reference to a tensor that
    keeps its gradient in ``.grad`` (``retain_grad``), filled after the hooks, as PyTorch's."""

    __slots__ = ("by_output", "retained")

    def __init__(self):
        self.by_output = {}
        self.retained = {}


class RemovableHandle:
    """Returned by ``register_hook``: ``remove()`` takes the hook out (also usable as a context
    manager, as ``torch.utils.hooks.RemovableHandle``)."""

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        for index, registered in enumerate(self._hooks):
            if registered is self._hook:
                del self._hooks[index]
                return

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class _StrongAccumulator:
    """Stands in ``leaf._accumulator`` (normally a weak reference) once the leaf has hooks:
    called, it returns the ``AccumulateGrad`` node, which must now live as long as the leaf
    because it carries the leaf's hooks."""

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def __call__(self):
        return self.node


def _hooks_of(tensor: Tensor, what: str):
    """(TensorHooks, output number) where ``tensor``'s hooks live, created on first use."""
    if not tensor._requires_grad:
        raise RuntimeError(f"{what} on a tensor that doesn't require gradient "
                           f"(shape {tensor.shape}, requires_grad=False)")
    node = tensor.grad_fn
    if node is None:
        node = AccumulateGrad.of(tensor)
        tensor._accumulator = _StrongAccumulator(node)
    if node.hooks is None:
        node.hooks = TensorHooks()
    return node.hooks, tensor._output_nr


def register_hook(self, hook) -> RemovableHandle:
    """Call ``hook(grad)`` whenever a gradient for this tensor is computed (as
    ``torch.Tensor.register_hook``); a hook returning a Tensor replaces the gradient.  Works on
    leaves (before the gradient reaches ``.grad``) and non-leaves.  Returns a handle whose
    ``remove()`` unregisters it."""
    if not callable(hook):
        raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
    hooks, number = _hooks_of(self, "cannot register a hook")
    registered = hooks.by_output.setdefault(number, [])
    registered.append(hook)
    return RemovableHandle(registered, hook)


def retain_grad(self) -> None:
    """Keep this non-leaf tensor's gradient in ``.grad`` during backward (as
    ``torch.Tensor.retain_grad``); a no-op on a leaf, which keeps its gradient anyway."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None:
        return
    hooks, number = _hooks_of(self, "retain_grad")
    hooks.retained[number] = weakref.ref(self)


def retains_grad(self) -> bool:
    """True for a non-leaf tensor on which ``retain_grad()`` was called."""
    node = self.grad_fn
    if node is None or node.hooks is None:
        return False
    reference = node.hooks.retained.get(self._output_nr)
    return reference is not None and reference() is self


def run_hooks(node, gradient, accumulate):
    """``gradient`` (a Tensor, or one entry per output for a node with several) after the
    hooks of ``node``'s tensors; retained tensors get it added to ``.grad`` by
    ``accumulate(tensor, gradient)``."""
    if node.n_outputs == 1:
        return _run_output_hooks(node.hooks, 0, gradient, accumulate)
    gradient = list(gradient)
    for number, entry in enumerate(gradient):
        if entry is not None:
            gradient[number] = _run_output_hooks(node.hooks, number, entry, accumulate)
    return gradient


def _run_output_hooks(hooks, number, gradient, accumulate):
    for hook in tuple(hooks.by_output.get(number, ())):
        result = hook(gradient)
        if result is not None:
            gradient = _checked_replacement(hook, result, gradient)
    reference = hooks.retained.get(number)
    if reference is not None:
        tensor = reference()
        if tensor is not None:
            accumulate(tensor, gradient)
    return gradient


def _checked_replacement(hook, result, gradient):
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(result, Tensor):
        raise TypeError(f"hook '{name}' must return a Tensor or None, got "
                        f"{type(result).__name__}")
    if result.shape != gradient.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape "
                           f"{result.shape} for a gradient of shape {gradient.shape}")
    return result


__all__ = ["RemovableHandle", "register_hook", "retain_grad", "retains_grad"]
