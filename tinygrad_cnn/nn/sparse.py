"""``Embedding`` (as ``torch.nn``): a learnable lookup table of vectors, called through
:func:`tinygrad_cnn.nn.functional.embedding`."""

import numpy as np

from .._checks import OptionConflictError, check_bool, check_int, check_real
from ..devices import check_device
from ..tensor import Tensor
from . import functional as F
from . import init
from .functional.encoding import padding_index
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Rows of ``weight`` ``(num_embeddings, embedding_dim)`` by index
    (``torch.nn.Embedding``): integer indices ``(*)`` -> ``(*, embedding_dim)``.

    ``weight`` starts as PyTorch's: standard normal, the ``padding_idx`` row zero (and it gets
    no gradient).  ``_weight`` gives the table itself (shared), ``_freeze`` keeps it fixed.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None):
        super().__init__()
        name = "Embedding"
        check_device(name, device)
        # PyTorch asserts padding_idx against num_embeddings before building the table
        self.padding_idx = padding_index(name, padding_idx,
                                         check_int(name, "num_embeddings", num_embeddings))
        self.num_embeddings = check_int(name, "num_embeddings", num_embeddings, minimum=0)
        self.embedding_dim = check_int(name, "embedding_dim", embedding_dim, minimum=0)
        self.max_norm = None if max_norm is None else check_real(name, "max_norm", max_norm)
        self.norm_type = check_real(name, "norm_type", norm_type)
        self.scale_grad_by_freq = check_bool(name, "scale_grad_by_freq", scale_grad_by_freq)
        self.sparse = check_bool(name, "sparse", sparse)
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = np.dtype(np.float32 if dtype is None else dtype)
            self.weight = Parameter(np.empty(shape, dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(np.shape(_weight)) != shape:
                raise OptionConflictError(f"{name}: shape of weight {tuple(np.shape(_weight))} "
                                          f"does not match (num_embeddings, embedding_dim) = "
                                          f"{shape}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Standard normal entries, the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        if self.sparse:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An ``Embedding`` whose table is ``embeddings`` ``(num_embeddings, embedding_dim)``
        (shared), frozen unless ``freeze=False`` (``torch.nn.Embedding.from_pretrained``)."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise OptionConflictError("Embedding.from_pretrained: embeddings must be a 2-D "
                                      f"Tensor, got {getattr(embeddings, 'shape', embeddings)}")
        rows, columns = embeddings.shape
        return cls(rows, columns, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)
