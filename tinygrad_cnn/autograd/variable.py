"""``Variable``: PyTorch's old name for a tensor that takes part in autograd, kept so old
code runs.  ``Variable(t)`` gives a Tensor; every Tensor is an instance of ``Variable``."""

import warnings

from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a new leaf Tensor sharing ``data``'s memory
    (as ``torch.autograd.Variable``; ``data`` must be a Tensor).  ``volatile`` is accepted
    with PyTorch's warning and has no effect."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "torch.no_grad():` instead.", UserWarning, stacklevel=2)
        tensor = Tensor._make(data._data)
        if requires_grad:
            tensor.requires_grad = True
        return tensor


__all__ = ["Variable"]
