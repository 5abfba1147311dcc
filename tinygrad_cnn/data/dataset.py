"""Datasets as ``torch.utils.data``'s: map-style and iterable, views and splits of them."""

from __future__ import annotations

import bisect
import math
import numbers
import warnings

import numpy as np

from ..tensor import Tensor
from ._rng import numpy_generator

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]


class Dataset:
    """A map-style dataset (as ``torch.utils.data.Dataset``): subclasses define both methods.

    ``__getitem__(index)`` returns one sample (an array, a scalar, or a tuple/dict of them) for
    ``0 <= index < len(dataset)``; :class:`~tinygrad_cnn.data.DataLoader` collates samples
    into batches. ``a + b`` is ``ConcatDataset([a, b])``.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream (as ``torch.utils.data.IterableDataset``): define ``__iter__``.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset; use
    :func:`~tinygrad_cnn.data.get_worker_info` inside ``__iter__`` to split the stream
    between workers, or each sample is loaded once per worker (as in PyTorch).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it cannot be indexed")

    def __add__(self, other):
        raise TypeError("IterableDataset: '+' (ConcatDataset) needs map-style datasets")


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


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (as ``torch.utils.data.Subset``).

    ``subset[i]`` is ``dataset[indices[i]]``; ``indices`` is kept as given (a list, a range or
    an index array).
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]


class ConcatDataset(Dataset):
    """The samples of several map-style datasets one after another (as PyTorch's).

    ``cumulative_sizes[k]`` is the number of samples in ``datasets[:k + 1]``; index ``i``
    goes to the first dataset whose cumulative size exceeds it. Negative indices count from
    the end.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset: does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    "ConcatDataset: absolute value of index should not exceed dataset length"
                )
            index = len(self) + index
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = index if which == 0 else index - self.cumulative_sizes[which - 1]
        return self.datasets[which][offset]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s (as PyTorch's).

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1:
    each fraction gets ``floor(fraction * len(dataset))`` samples and the remainder is dealt
    one by one, round-robin from the first subset (PyTorch's rule). The permutation comes
    from ``generator`` (a ``numpy.random.Generator``, a ``tinygrad_cnn.Generator``, or None
    for the library's seeded generator).
    """
    lengths = list(lengths)
    count = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(count * fraction)) for fraction in lengths]
        for i in range(count - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this "
                              "might result in an empty dataset.", stacklevel=2)
        lengths = sizes
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {lengths}")
    if sum(lengths) != count:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = numpy_generator(generator).permutation(count).tolist()
    splits, start = [], 0
    for length in lengths:
        splits.append(Subset(dataset, order[start:start + length]))
        start += length
    return splits

