"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf ``Tensor`` with ``requires_grad=True`` by default (as ``torch.nn.Parameter``).

    Assigning a ``Parameter`` to an attribute of a :class:`~tinygrad_cnn.nn.Module` registers
    it, so it appears in ``parameters()`` and ``state_dict()``.  ``Parameter(tensor)`` shares
    the tensor's data, as PyTorch's does.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor([])._data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
