"""``Dataset`` and ``TensorDataset``, as ``torch.utils.data``'s."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset"]


class Dataset:
    """A map-style dataset (as ``torch.utils.data.Dataset``): subclasses define both methods.

    ``__getitem__(index)`` returns one sample (an array, a scalar, or a tuple of them) for
    ``0 <= index < len(dataset)``; :class:`~tinygrad_cnn.data.DataLoader` stacks samples
    into batches.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of the given arrays (as ``torch.utils.data.TensorDataset``).

    ``TensorDataset(images, labels)`` with ``images (N, ...)`` and ``labels (N, ...)``:
    ``dataset[i]`` is ``(Tensor(images[i]), Tensor(labels[i]))``. Arguments are numpy arrays,
    ``Tensor``s or array-likes; all must share the first dimension ``N``. ``tensors`` holds
    them as ``Tensor``s (sharing the numpy data, not copying it).
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        tensors = tuple(a if isinstance(a, Tensor) else Tensor(a) for a in arrays)
        shapes = [t.shape for t in tensors]
        if any(len(shape) == 0 for shape in shapes):
            raise ValueError(
                f"TensorDataset: every array needs a first (sample) dimension; shapes {shapes}"
            )
        if len({shape[0] for shape in shapes}) != 1:
            raise ValueError(
                f"TensorDataset: arrays must have the same first dimension (the number of "
                f"samples); got shapes {shapes}"
            )
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor(np.asarray(t._data[index])) for t in self.tensors)
