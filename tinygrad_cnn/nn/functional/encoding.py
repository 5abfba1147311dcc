"""Encodings of class indices: ``one_hot`` (``torch.nn.functional.one_hot``)."""

import numpy as np

from ..._checks import check_int, check_tensor
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
