"""Derivatives of whole functions: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``,
``vhp``, as ``torch.autograd.functional``.

Everything here is built on ``grad`` and Tensor operations, so it works for any function of
Tensors written with this library.  The forward-mode products (``jvp``, ``hvp``, and a
``jacobian`` with ``strategy="forward-mode"``) use the double-backward trick, as PyTorch's
do: ``u -> J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` in the
direction ``v`` gives ``J v``.  That needs every backward on the way to be differentiable,
which the library's ops are.

Structure of results, as PyTorch's: a function of one Tensor and a Tensor-valued function
give Tensors; a tuple of inputs or outputs gives tuples (``jacobian``: indexed
``[output][input]``, each of shape ``output.shape + input.shape``).  Results are detached
unless ``create_graph=True``, in which case they are differentiable with respect to the
inputs.  ``strict=True`` raises ``RuntimeError`` when an output does not depend on an
input (instead of giving zeros).  ``vectorize`` is accepted: rows are computed one after
another either way (PyTorch batches them with vmap; the values are the same).
"""

import numpy as np

from ..tensor import Tensor
from .engine import grad as _grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled


class _Alias(Function):
    """A new tensor for the same values, differentiable: keeps an input's graph while giving
    the function its own tensor (PyTorch's ``view_as`` trick)."""

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        return grad


def stack(tensors) -> Tensor:
    """Differentiable ``stack`` along a new axis 0 of same-shaped tensors."""
    # The one op this module needs, imported at call time: ops import autograd, so
    # autograd must not import ops while loading.
    from ..ops.shape import Concatenate

    return Concatenate.apply(0, *[t.reshape((1,) + t.shape) for t in tensors])


def _zeros_like(tensor: Tensor, requires_grad=False) -> Tensor:
    zeros = Tensor._make(np.zeros_like(tensor._data))
    if requires_grad:
        zeros.requires_grad = True
    return zeros


def _as_tuple(value, arg_name: str, fn_name: str):
    """(was it a tuple, value as a tuple of Tensors), checking the types."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {index} has" if is_tuple else "the given"
            raise TypeError(
                f"{fn_name}: the {arg_name} must be either a Tensor or a tuple of Tensors but "
                f"{where} type {type(item).__name__}"
            )
    return is_tuple, items


def _tuple_postprocess(result, to_unpack):
    """Unwrap the 1-tuples that stand for arguments that were not tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            result = tuple(row[0] for row in result)
        if not to_unpack[0]:
            result = result[0]
        return result
    return result if to_unpack else result[0]


def _grad_preprocess(inputs, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh tensors for ``inputs``: graph-connected aliases when the caller's graph must be
    kept (``create_graph`` and the input requires grad), else detached leaves that require
    grad when ``need_graph``."""
    result = []
    for tensor in inputs:
        if create_graph and tensor.requires_grad:
            result.append(_Alias.apply(tensor))
        else:
            leaf = Tensor._make(tensor._data)
            if need_graph and tensor.dtype.kind == "f":
                leaf.requires_grad = True
            result.append(leaf)
    return tuple(result)


def _grad_postprocess(values, create_graph: bool):
    """Detach results unless ``create_graph`` (nested tuples as given)."""
    if isinstance(values, Tensor):
        return values if create_graph else Tensor._make(values._data)
    if values is None:
        return None
    return tuple(_grad_postprocess(value, create_graph) for value in values)


def _validate_v(v, other, is_other_tuple: bool, fn_name: str) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"{fn_name}: v is a tuple of invalid length: should be "
                               f"{len(other)} but got {len(v)}")
        raise RuntimeError(f"{fn_name}: the given v should contain a single Tensor")
    for index, (vector, reference) in enumerate(zip(v, other)):
        if vector.shape != reference.shape:
            where = f" at index {index}" if is_other_tuple else ""
            raise RuntimeError(f"{fn_name}: entry in v{where} has invalid size: should be "
                               f"{reference.shape} but got {vector.shape}")


def _check_requires_grad(values, what: str, strict: bool, fn_name: str) -> None:
    if not strict:
        return
    for index, value in enumerate(values):
        if value is None:
            raise RuntimeError(
                f"{fn_name}: the {what} {index} of the user-provided function is independent "
                "of the input; this is not allowed in strict mode"
            )
        if not value.requires_grad:
            raise RuntimeError(
                f"{fn_name}: the {what} {index} of the user-provided function does not "
                "require gradients; it must be computed in a differentiable manner from the "
                "input when running in strict mode"
            )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``grad`` over the outputs that require grad, None for inputs that get nothing."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs)
             if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([out for out, _ in pairs], list(inputs), [g for _, g in pairs],
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


_STRICT_MESSAGES = {
    "back": "the output of the user-provided function is independent of input {index}",
    "back_trick": "the gradient with respect to the input is independent of entry {index} "
                  "in the grad_outputs when using the double backward trick to compute "
                  "forward mode gradients",
    "double_back": "the jacobian of the user-provided function is independent of input "
                   "{index}",
    "double_back_trick": "the hessian of the user-provided function is independent of entry "
                         "{index} in the grad_jacobian",
}


def _fill_in_zeros(grads, references, strict: bool, stage: str, fn_name: str) -> tuple:
    """Zeros where a gradient is None (``strict``: raise instead)."""
    result = []
    for index, (gradient, reference) in enumerate(zip(grads, references)):
        if gradient is None:
            if strict:
                raise RuntimeError(f"{fn_name}: {_STRICT_MESSAGES[stage].format(index=index)}; "
                                   "this is not allowed in strict mode")
            gradient = _zeros_like(reference)
        result.append(gradient)
    return tuple(result)


def _vectors(v, references, is_references_tuple, fn_name, none_message, create_graph):
    if v is None:
        if len(references) != 1 or references[0]._data.size != 1:
            raise RuntimeError(f"{fn_name}: {none_message}")
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _grad_preprocess(v, create_graph, need_graph=False)
    _validate_v(v, references, is_references_tuple, fn_name)
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product (``torch.autograd.functional.vjp``).

    inputs: a Tensor or a tuple of them; v: like func's output (may be omitted when func
    returns one one-element Tensor).  The product has the structure of ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "output", strict, "vjp")
        v = _vectors(v, outputs, is_outputs_tuple, "vjp",
                     "the vector v can only be None if the user-provided function returns a "
                     "single Tensor with a single element", create_graph)
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            gradients = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
            products = _fill_in_zeros(gradients, inputs, strict, "back", "vjp")
    outputs = _grad_postprocess(outputs, create_graph)
    products = _grad_postprocess(products, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(products, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product (``torch.autograd.functional.jvp``),
    by the double-backward trick.

    inputs: a Tensor or a tuple of them; v: like ``inputs`` (may be omitted for one
    one-element input).  The product has the structure of func's output.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        v = _vectors(v, inputs, is_inputs_tuple, "jvp",
                     "the vector v can only be None if the input to the user-provided "
                     "function is a single Tensor with a single element", create_graph)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "output", strict, "jvp")
        dummies = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        transposed = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(transposed, "grad_input", strict, "jvp")
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            gradients = _autograd_grad(transposed, dummies, v, create_graph=create_graph)
            products = _fill_in_zeros(gradients, outputs, strict, "back_trick", "jvp")
    outputs = _grad_postprocess(outputs, create_graph)
    products = _grad_postprocess(products, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(products, is_outputs_tuple))


def _basis(tensor: Tensor):
    """The one-hot tensors of ``tensor``'s shape, one per element, in row-major order."""
    eye = np.eye(tensor._data.size, dtype=tensor._data.dtype)
    return [Tensor._make(row.reshape(tensor.shape)) for row in eye]


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    inputs: a Tensor or a tuple of them.  For one input and one output a Tensor of shape
    ``output.shape + input.shape``; tuples of them (``[output][input]``) otherwise.
    ``strategy="reverse-mode"`` computes one row per output element (a backward each),
    ``"forward-mode"`` one column per input element (a double-backward jvp each; needs
    ``vectorize=True``, as PyTorch's).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('jacobian: expected strategy to be either "forward-mode" or '
                         f'"reverse-mode", got {strategy!r}')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('jacobian: create_graph=True and strategy="forward-mode" '
                                      'are not supported together; use "reverse-mode"')
        if strict:
            raise RuntimeError('jacobian: strict=True and strategy="forward-mode" are not '
                               'supported together; use strict=False or "reverse-mode"')
        if not vectorize:
            raise NotImplementedError('jacobian: strategy="forward-mode" is only implemented '
                                      "for vectorize=True")
    if strict and vectorize:
        raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                           "together; set strict=False or vectorize=False")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "output", strict, "jacobian")
        if strategy == "forward-mode":
            result = _forward_jacobian(func, inputs, outputs)
        else:
            result = tuple(_jacobian_rows(index, out, inputs, create_graph, strict)
                           for index, out in enumerate(outputs))
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(index, out, inputs, create_graph, strict) -> tuple:
    """d out / d input for each input, one backward per element of ``out``."""
    rows = [[] for _ in inputs]
    for direction in _basis(out):
        gradients = _autograd_grad((out,), inputs, (direction,), create_graph=create_graph,
                                   retain_graph=True)
        for number, (gradient, tensor) in enumerate(zip(gradients, inputs)):
            if gradient is None:
                if strict:
                    raise RuntimeError(f"jacobian: output {index} of the user-provided function "
                                       f"is independent of input {number}; this is not "
                                       "allowed in strict mode")
                gradient = _zeros_like(tensor)
            elif strict and create_graph and not gradient.requires_grad:
                raise RuntimeError("jacobian: the jacobian of the user-provided function is not "
                                   f"differentiable with respect to input {number}; this is "
                                   "not allowed in strict mode when create_graph=True")
            rows[number].append(gradient)
    return tuple(_assemble(row, out.shape, tensor) for row, tensor in zip(rows, inputs))


def _assemble(row, out_shape, tensor) -> Tensor:
    shape = tuple(out_shape) + tuple(tensor.shape)
    if not row:  # an empty output
        return Tensor._make(np.zeros(shape, tensor._data.dtype))
    return stack(row).reshape(shape)


def _forward_jacobian(func, inputs, outputs) -> tuple:
    """Columns by jvp: for each input element, J e_k through every output."""
    columns = [[[] for _ in inputs] for _ in outputs]
    for number, tensor in enumerate(inputs):
        for direction in _basis(tensor):
            v = tuple(direction if k == number else _zeros_like(other)
                      for k, other in enumerate(inputs))
            _, products = jvp(func, inputs, v)
            products = products if isinstance(products, tuple) else (products,)
            for index, product in enumerate(products):
                columns[index][number].append(product)
    result = []
    for index, out in enumerate(outputs):
        row = []
        for number, tensor in enumerate(inputs):
            shape = tuple(tensor.shape) + tuple(out.shape)
            if columns[index][number]:
                stacked = np.stack([c._data for c in columns[index][number]]).reshape(shape)
            else:
                stacked = np.zeros(shape, out._data.dtype)
            order = tuple(range(tensor.ndim, tensor.ndim + out.ndim)) + tuple(range(tensor.ndim))
            row.append(Tensor._make(np.ascontiguousarray(stacked.transpose(order))))
        result.append(tuple(row))
    return tuple(result)


def _single_output(func, fn_name, strict, squeeze):
    """``func`` checked to return one one-element Tensor (squeezed to 0-d if asked)."""
    def wrapped(*inputs):
        out = func(*inputs)
        is_tuple, outputs = _as_tuple(out, "outputs of the user-provided function", fn_name)
        _check_requires_grad(outputs, "output", strict, fn_name)
        if is_tuple:
            raise RuntimeError(f"{fn_name}: the function given to {fn_name} should return a "
                               "single Tensor")
        if out._data.size != 1:
            raise RuntimeError(f"{fn_name}: the Tensor returned by the function given to "
                               f"{fn_name} should contain a single element, got shape "
                               f"{out.shape}")
        return out.reshape(()) if squeeze else out

    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function (``torch.autograd.functional.hessian``).

    func returns one one-element Tensor.  For one input a Tensor of shape
    ``input.shape + input.shape``; for a tuple of inputs a tuple of tuples ``[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape``.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('hessian: expected outer_jacobian_strategy to be either '
                         f'"forward-mode" or "reverse-mode", got {outer_jacobian_strategy!r}')
    scalar = _single_output(func, "hessian", strict, squeeze=True)

    def gradient_function(*values):
        gradients = jacobian(scalar, values, create_graph=True)
        _check_requires_grad(gradients, "jacobian", strict, "hessian")
        return gradients

    result = jacobian(gradient_function, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))


def _hessian_products(func, inputs, v, create_graph, strict, fn_name):
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
    v = _vectors(v, inputs, is_inputs_tuple, fn_name,
                 "the vector v can only be None if the input to the user-provided function "
                 "is a single Tensor with a single element", create_graph)
    output = _single_output(func, fn_name, strict, squeeze=False)(*inputs)
    gradients = _autograd_grad((output,), inputs, create_graph=True)
    _check_requires_grad(gradients, "jacobian", strict, fn_name)
    return is_inputs_tuple, inputs, v, output, gradients


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar function (``torch.autograd.functional.vhp``);
    the product has the structure of ``inputs``."""
    with enable_grad():
        is_inputs_tuple, inputs, v, output, gradients = _hessian_products(
            func, inputs, v, create_graph, strict, "vhp")
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            products = _autograd_grad(gradients, inputs, v, create_graph=create_graph)
            products = _fill_in_zeros(products, inputs, strict, "double_back", "vhp")
    return (_grad_postprocess(output, create_graph),
            _tuple_postprocess(_grad_postprocess(products, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar function (``torch.autograd.functional.hvp``), by
    the double-backward trick; the product has the structure of ``inputs``."""
    with enable_grad():
        is_inputs_tuple, inputs, v, output, gradients = _hessian_products(
            func, inputs, v, create_graph, strict, "hvp")
        dummies = tuple(_zeros_like(tensor, requires_grad=True) for tensor in inputs)
        double_back = _autograd_grad(gradients, inputs, dummies, create_graph=True)
        _check_requires_grad(double_back, "hessian", strict, "hvp")
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            products = _autograd_grad(double_back, dummies, v, create_graph=create_graph)
            products = _fill_in_zeros(products, inputs, strict, "double_back_trick", "hvp")
    return (_grad_postprocess(output, create_graph),
            _tuple_postprocess(_grad_postprocess(products, create_graph), is_inputs_tuple))


__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]
