"""Stage 1: the function and its inputs, prepared for differentiation.

``_Problem`` holds float64 copies of the floating-point Tensor inputs, knows which ones are
checked (``requires_grad=True``) and what they are called, and calls ``fn`` with some inputs
replaced: that is all the numerical and analytic stages need from ``fn``.
"""

import inspect

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


def parameter_names(fn, count):
    """Names of ``fn``'s first ``count`` positional parameters, where it has them.

    For ``SomeFunction.apply`` they are the names of ``SomeFunction.forward``'s parameters
    after ``ctx``; for any other callable its own parameter names."""
    names = [f"inputs[{k}]" for k in range(count)]
    target, skip = fn, 0
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, Function) and fn.__name__ == "apply":
        target, skip = owner.forward, 1
    try:
        parameters = list(inspect.signature(target).parameters.values())[skip:]
    except (TypeError, ValueError):
        return names
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for k, parameter in enumerate(parameters[:count]):
        if parameter.kind not in positional:
            break
        names[k] = parameter.name
    return names


class _Problem:
    """``fn`` and its inputs.

    ``base[k]``: the float64 copy of input k when it is a floating-point Tensor (else the
    argument itself); ``original[k]``: the argument as given; ``checked``: the positions of
    the inputs that require grad; ``base_outputs``: fn's floating-point outputs at ``base``
    (float64 arrays); ``linear``: positions of inputs fn is linear in (differenced one-sided).
    """

    def __init__(self, caller, fn, inputs, names=None, output_names=None, notes=(),
                 linear=()):
        if not callable(fn):
            raise TypeError(f"{caller}: fn must be callable, got {type(fn).__name__}")
        self.caller, self.fn = caller, fn
        self.linear = frozenset(linear)  # positions of inputs fn is linear in
        self.names = names or parameter_names(fn, len(inputs))
        self.notes = list(notes)
        self.original = list(inputs)
        self.base, self.is_tensor, self.checked, self.dtypes = [], [], [], []
        for k, item in enumerate(inputs):
            self.dtypes.append(item.dtype if isinstance(item, Tensor) else None)
            if isinstance(item, Tensor) and item.dtype.kind == "f":
                if item.dtype != np.float64 and item.requires_grad:
                    self.notes.append(
                        f"{self.names[k]} is {item.dtype}: both sides were computed on a float64 "
                        f"copy (finite differences in {item.dtype} are too coarse to check); "
                        f"the {item.dtype} backward was compared with the float64 one"
                    )
                self.base.append(np.array(item._data, dtype=np.float64))
                self.is_tensor.append(True)
                if item.requires_grad:
                    self.checked.append(k)
            else:
                self.base.append(item)
                self.is_tensor.append(False)
        if not self.checked:
            raise ValueError(
                f"{caller}: no input requires grad, so there is nothing to check; make the "
                "inputs to check floating-point Tensors with requires_grad=True"
            )
        self._output_names = output_names
        self.base_outputs = self.evaluate({})
        for index, output in enumerate(self.base_outputs):
            if not np.isfinite(output).all():
                raise ValueError(
                    f"{caller}: {self.output_name(index)} of fn is not finite (NaN or inf) at "
                    "the given inputs, so no gradient there can be checked"
                )

    # ---- calling fn
    def arguments(self, overrides, leaves=None):
        """fn's arguments: ``leaves[k]`` (a Tensor) or a Tensor of ``overrides[k]`` or of
        the float64 copy for Tensor inputs, the argument itself otherwise."""
        arguments = []
        for k, item in enumerate(self.base):
            if leaves is not None and k in leaves:
                arguments.append(leaves[k])
            elif self.is_tensor[k]:
                arguments.append(Tensor._make(overrides.get(k, item)))  # float64 arrays
            else:
                arguments.append(item)
        return arguments

    def outputs(self, result):
        """fn's result as a list of floating-point Tensors.  In a tuple, integer and bool
        outputs (indices, masks) have no gradient and are left out, as PyTorch does."""
        several = isinstance(result, (tuple, list))
        outputs = list(result) if several else [result]
        for index, output in enumerate(outputs):
            if not isinstance(output, Tensor):
                where = f" at position {index}" if several else ""
                raise TypeError(f"{self.caller}: fn must return a Tensor or a tuple of Tensors, "
                                f"got {type(output).__name__}{where}")
        floating = [o for o in outputs if o.dtype.kind == "f"]
        if not floating:
            dtypes = ", ".join(str(o.dtype) for o in outputs) or "nothing"
            raise TypeError(f"{self.caller}: fn returned no floating-point tensor ({dtypes}); "
                            "only floating-point outputs have gradients")
        return floating

    def evaluate(self, overrides):
        """fn's outputs as float64 arrays, with input k replaced by ``overrides[k]``."""
        with no_grad():
            outputs = self.outputs(self.fn(*self.arguments(overrides)))
        if not overrides and any(o.dtype != np.float64 for o in outputs):
            self.notes.append(
                f"fn returned {outputs[0].dtype} on float64 inputs: finite differences at that "
                "precision are unreliable; keep fn in float64"
            )
        # copies: an output may be a view of an input array that the caller perturbs next
        return [np.array(o._data, dtype=np.float64) for o in outputs]

    def record(self, leaves):
        """fn's floating-point outputs with grad recording on, the inputs in ``leaves``."""
        with enable_grad():
            return self.outputs(self.fn(*self.arguments({}, leaves)))

    def output_name(self, index):
        if self._output_names is not None:
            return self._output_names[index]
        return "out" if len(self.base_outputs) == 1 else f"out[{index}]"

    @property
    def output_sizes(self):
        return [o.size for o in self.base_outputs]

    def output_element(self, j):
        """(output position, multi-index) of the j-th element of the concatenated outputs."""
        for index, output in enumerate(self.base_outputs):
            if j < output.size:
                return index, tuple(int(i) for i in np.unravel_index(j, output.shape))
            j -= output.size
        raise IndexError(j)

    def basis(self, j):
        """The cotangent that picks output element j (one array per output)."""
        sizes = self.output_sizes
        flat = np.zeros(sum(sizes))
        flat[j] = 1.0
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        return [p.reshape(o.shape) for p, o in zip(parts, self.base_outputs)]

    def weighted(self, cotangents, arrays):
        """sum_o <cotangents[o], arrays[o]>."""
        return sum(np.vdot(w, a) for w, a in zip(cotangents, arrays))
