"""Encodings of class indices (PyTorch's "sparse functions"): ``one_hot`` and ``embedding``
(``torch.nn.functional``)."""

import numpy as np

from ..._checks import (
    DtypeError,
    OptionConflictError,
    ShapeError,
    check_bool,
    check_int,
    check_real,
    check_tensor,
    is_int,
)
from ...ops.embedding import EmbeddingLookup
from ...tensor import Tensor


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices of any shape ``(*)`` -> int64 ``(*, num_classes)``, 1 at each index.

    ``num_classes=-1``: one more than the largest index.  Not differentiable (an integer
    result), as PyTorch's.
    """
    op = "one_hot"
    check_tensor(op, "tensor", tensor)
    num_classes = check_int(op, "num_classes", num_classes, minimum=-1)
    indices = tensor._data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: is only applicable to index tensors (integer dtype), got "
                           f"{indices.dtype}")
    if indices.size and indices.min() < 0:
        raise RuntimeError(f"{op}: class values must be non-negative, got {indices.min()}")
    if num_classes == -1:
        if not indices.size:
            raise RuntimeError(f"{op}: can not infer the total number of classes from an "
                               "empty tensor")
        num_classes = int(indices.max()) + 1
    elif indices.size and indices.max() >= num_classes:
        raise RuntimeError(f"{op}: class values must be smaller than num_classes "
                           f"({num_classes}), got {indices.max()}")
    encoded = np.zeros(indices.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(encoded, indices[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(encoded)


def padding_index(op: str, padding_idx, num_embeddings: int):
    """``padding_idx`` in ``[-num_embeddings, num_embeddings)`` as a row number (a negative
    one counts from the end), or None; PyTorch refuses others with an ``assert``."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx):
        raise TypeError(f"{op}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise OptionConflictError(f"{op}: padding_idx must be within num_embeddings "
                                  f"({num_embeddings}), got {padding_idx}")
    return int(padding_idx) % num_embeddings


def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` looked up whose ``norm_type``-norm exceeds ``max_norm``
    down to it, in place and outside the graph (PyTorch's ``embedding_renorm_``)."""
    table = weight._data
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        table[rows[over]] *= scale[:, None].astype(table.dtype)
        weight._bump_version()


def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` by index (``torch.nn.functional.embedding``).

    input: integer indices ``(*)`` in ``[0, num_embeddings)``; weight
    ``(num_embeddings, embedding_dim)`` -> ``(*, embedding_dim)``.  The gradient of a row is
    the sum over its occurrences; the ``padding_idx`` row gets none; ``scale_grad_by_freq``
    divides it by the row's count in ``input``.  ``max_norm``: the looked-up rows whose
    ``norm_type``-norm exceeds it are scaled down to it in ``weight`` itself first.
    ``sparse=True`` is accepted; the gradient is dense here (there are no sparse tensors).
    """
    op = "embedding"
    check_tensor(op, "input", input)
    check_tensor(op, "weight", weight)
    if input.dtype.kind not in "iu":
        raise DtypeError(f"{op}: input must hold integer indices (int64 or int32), got "
                         f"{input.dtype}")
    if weight.ndim >= 1:  # PyTorch checks padding_idx against weight.size(0) first
        padding_idx = padding_index(op, padding_idx, weight.shape[0])
    if weight.ndim != 2:
        raise ShapeError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{weight.shape}")
    num_embeddings = weight.shape[0]
    scale_grad_by_freq = check_bool(op, "scale_grad_by_freq", scale_grad_by_freq)
    check_bool(op, "sparse", sparse)
    check_real(op, "norm_type", norm_type)
    indices = input._data.astype(np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"{op}: index {bad} is out of range for weight of shape "
                         f"{weight.shape} (input shape {input.shape})")
    if max_norm is not None:
        check_real(op, "max_norm", max_norm)
        _renorm_rows(weight, np.unique(indices), float(max_norm), float(norm_type))
    counted = None if padding_idx is None else indices != padding_idx
    row_scale = None
    if scale_grad_by_freq:
        counts = np.bincount(indices.ravel(), minlength=num_embeddings)
        row_scale = 1.0 / counts[indices]
    return EmbeddingLookup.apply(weight, indices, counted, row_scale)
