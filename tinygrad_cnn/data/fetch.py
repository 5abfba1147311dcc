"""Fetchers: turn one sampler output (an index, or a batch of indices) into a batch.

The same fetcher runs in the main process (``num_workers=0``) and in each worker, so both
produce identical batches. A ``TensorDataset`` (or a ``Subset`` of one) collated by
``default_collate`` is read with one fancy index per array: no Python loop per sample.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .collate import default_collate
from .dataset import Subset, TensorDataset


def _tensor_arrays(dataset):
    """``(arrays, index map or None)`` when ``dataset`` can be batched by fancy indexing."""
    index_map = None
    if type(dataset) is Subset and type(dataset.dataset).__getitem__ is TensorDataset.__getitem__:
        index_map = np.asarray(dataset.indices, dtype=np.intp)
        dataset = dataset.dataset
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return [t._data for t in dataset.tensors], index_map
    return None, None


class MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.arrays, self.index_map = (_tensor_arrays(dataset)
                                       if auto_collation and collate_fn is default_collate
                                       else (None, None))

    def fetch(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.arrays is not None:
            rows = np.asarray(indices, dtype=np.intp)
            if self.index_map is not None:
                rows = self.index_map[rows]
            # default_collate gives a list for tuple samples: so do we
            return [Tensor._make(array[rows]) for array in self.arrays]
        indices = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            samples = getitems(indices)
        else:
            samples = [self.dataset[i] for i in indices]
        return self.collate_fn(samples)


class IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = (auto_collation, collate_fn,
                                                                drop_last)
        self.ended = False

    def fetch(self, indices):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        samples = []
        for _ in indices:
            try:
                samples.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(indices)):
            raise StopIteration
        return self.collate_fn(samples)


def make_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last):
    if dataset_kind == "iterable":
        return IterableFetcher(dataset, auto_collation, collate_fn, drop_last)
    return MapFetcher(dataset, auto_collation, collate_fn)
