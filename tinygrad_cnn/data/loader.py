"""``DataLoader``: batches of a dataset, optionally shuffled, as ``torch.utils.data``'s."""

from __future__ import annotations

import numbers

import numpy as np

from ..random import generator
from ..tensor import Tensor
from .dataset import TensorDataset

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over ``dataset`` in batches (as ``torch.utils.data.DataLoader``, one process).

    Each batch is a tuple of ``Tensor``s that do not require grad, one per field of a sample:
    a ``TensorDataset(images (N, 1, 28, 28), labels (N,))`` yields
    ``(images (B, 1, 28, 28), labels (B,))`` with ``B = batch_size`` (the last batch may be
    smaller unless ``drop_last``). A generic dataset whose samples are single arrays yields
    single ``Tensor``s and one whose samples are dicts yields dicts, as PyTorch's
    ``default_collate`` does. ``len(loader)`` is the number of batches per epoch.

    ``shuffle=True`` draws a new permutation every epoch from the loader's own
    ``numpy.random.Generator``, seeded by ``generator_seed``, so the same seed gives the same
    sequence of epoch orders; with ``generator_seed=None`` the seed is drawn from the
    library's generator (repeatable after ``tinygrad_cnn.manual_seed``).

    A ``TensorDataset`` (not overriding ``__getitem__``) is batched by indexing its arrays
    with the batch's index array: no per-sample Python loop. Other datasets are read sample
    by sample and stacked with ``np.stack``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False,
                 generator_seed=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(
                f"DataLoader: batch_size must be an int, got {type(batch_size).__name__}"
            )
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be a bool, got {type(flag).__name__}")
        if generator_seed is None:
            generator_seed = int(generator().integers(2**63))
        elif isinstance(generator_seed, bool) or not isinstance(generator_seed, numbers.Integral):
            raise TypeError(
                f"DataLoader: generator_seed must be an int or None, got "
                f"{type(generator_seed).__name__}"
            )
        elif generator_seed < 0:
            raise ValueError(f"DataLoader: generator_seed must be >= 0, got {generator_seed}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(int(generator_seed))

    def __len__(self) -> int:
        count = len(self.dataset)
        if self.drop_last:
            return count // self.batch_size
        return -(-count // self.batch_size)

    def _batch_indices(self):
        count = len(self.dataset)
        order = self.generator.permutation(count) if self.shuffle else np.arange(count)
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, count), self.batch_size):
            yield order[start:start + self.batch_size]

    def __iter__(self):
        # Each iter() is a new epoch: _batch_indices draws a fresh permutation when shuffling.
        if type(self.dataset).__getitem__ is TensorDataset.__getitem__:
            arrays = [t._data for t in self.dataset.tensors]
            for indices in self._batch_indices():
                yield tuple(Tensor(array[indices]) for array in arrays)
        else:
            for indices in self._batch_indices():
                yield _collate([self.dataset[int(i)] for i in indices])


def _plain(value):
    return value._data if isinstance(value, Tensor) else value


def _collate(samples: list, field: str = "sample"):
    """Stack a list of samples of one structure into a batch of the same structure."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        widths = {len(sample) for sample in samples}
        if len(widths) != 1:
            raise ValueError(f"DataLoader: samples have different numbers of fields {widths}")
        return tuple(
            _collate([sample[i] for sample in samples], f"field {i}") for i in range(len(first))
        )
    if isinstance(first, dict):
        return {key: _collate([sample[key] for sample in samples], f"field {key!r}")
                for key in first}
    arrays = [np.asarray(_plain(sample)) for sample in samples]
    shapes = {array.shape for array in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"DataLoader: cannot stack {field} of different shapes {sorted(shapes)} "
            "into one batch"
        )
    return Tensor(np.stack(arrays))
