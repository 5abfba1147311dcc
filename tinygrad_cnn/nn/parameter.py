"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights;
``Buffer``: one it registers as a buffer (state that is not learned)."""

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


class Buffer(Tensor):
    """A ``Tensor`` that a :class:`~tinygrad_cnn.nn.Module` registers as a buffer when
    assigned to one of its attributes (``torch.nn.Buffer``, PyTorch 2.5+): ``self.mean =
    nn.Buffer(t)`` is ``self.register_buffer("mean", t, persistent)``.

    ``Buffer(data=None, *, persistent=True)`` shares ``data``'s memory and keeps its
    ``requires_grad`` (detached from its graph, as PyTorch's); ``persistent=False`` leaves it
    out of ``state_dict()``.
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = Tensor([])._data
        super().__init__(data._data if isinstance(data, Tensor) else data,
                         requires_grad=bool(getattr(data, "requires_grad", False)))
        self.persistent = persistent
