"""Samplers: the order in which a ``DataLoader`` reads a map-style dataset (as PyTorch's).

A sampler iterates over dataset indices; a batch sampler over lists of indices. The
built-in ones can also hand out their order as numpy index arrays (``_index_array`` /
``_index_batches``), which is what lets a ``DataLoader`` over a ``TensorDataset`` batch
without a Python loop per sample.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, to_numpy
from ._rng import draw_seed, numpy_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


class Sampler:
    """Base class of samplers (as ``torch.utils.data.Sampler``): define ``__iter__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order (as ``torch.utils.data.RandomSampler``).

    Without ``replacement``: a fresh permutation each epoch (``num_samples`` larger than the
    dataset concatenates permutations). With ``replacement``: ``num_samples`` independent
    uniform draws. Each epoch's numbers come from a new generator seeded by one draw from
    ``generator`` (default: the library's seeded generator), as PyTorch seeds its own.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if generator is not None:
            numpy_generator(generator)  # reject a bad generator now, not at the first epoch
        if (isinstance(self.num_samples, bool) or not isinstance(self.num_samples, numbers.Integral)
                or self.num_samples <= 0):
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self) -> np.ndarray:
        count, wanted = len(self.data_source), self.num_samples
        epoch = np.random.default_rng(draw_seed(self.generator))
        if self.replacement:
            return epoch.integers(0, count, size=wanted)
        rounds = [epoch.permutation(count) for _ in range(wanted // count)]
        rounds.append(epoch.permutation(count)[:wanted % count])
        return np.concatenate(rounds)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch (as PyTorch's)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _index_array(self) -> np.ndarray:
        order = np.random.default_rng(draw_seed(self.generator)).permutation(len(self.indices))
        return np.asarray(self.indices)[order] if len(order) else np.zeros(0, dtype=np.intp)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``weights`` (a 1-d sequence), each drawn with probability
    proportional to its weight (as PyTorch's, which draws with ``torch.multinomial``).

    With ``replacement`` the draws are independent; without it an index is drawn at most
    once, and zero-weight indices come only after every positive one (so ``num_samples`` may
    be up to ``len(weights)``). Bad weights (negative, NaN, inf, none positive) or too many
    samples without replacement raise PyTorch's ``RuntimeError`` (also a ``ValueError``) when
    the sampler is built, where PyTorch raises at the first epoch. Each epoch's numbers come
    from a new generator seeded by one draw from ``generator``, as in :class:`RandomSampler`.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        name = "WeightedRandomSampler"
        if (isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral)
                or num_samples <= 0):
            raise ValueError(f"{name}: num_samples should be a positive integer value, but "
                             f"got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"{name}: replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        try:
            array = np.array(to_numpy(weights) if isinstance(weights, Tensor) else weights,
                             dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: weights should be a 1d sequence of numbers, got "
                             f"{type(weights).__name__}") from None
        if array.ndim != 1:
            raise ValueError(f"{name}: weights should be a 1d sequence but given weights have "
                             f"shape {array.shape}")
        if not np.isfinite(array).all() or (array < 0).any():
            raise ShapeError(f"{name}: weights must be finite and >= 0 (an invalid "
                             "multinomial distribution)")
        if not array.sum() > 0:
            raise ShapeError(f"{name}: weights must have a positive sum (an invalid "
                             "multinomial distribution)")
        if not replacement and num_samples > len(array):
            raise ShapeError(f"{name}: cannot sample num_samples={num_samples} > "
                             f"len(weights)={len(array)} samples without replacement")
        if generator is not None:
            numpy_generator(generator)  # reject a bad generator now, not at the first epoch
        self.weights = Tensor(array)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _index_array(self) -> np.ndarray:
        weights = self.weights.numpy()
        epoch = np.random.default_rng(draw_seed(self.generator))
        if self.replacement:
            return epoch.choice(len(weights), size=self.num_samples, p=weights / weights.sum())
        # the smallest exponential keys E_i / w_i: weighted sampling without replacement
        with np.errstate(divide="ignore"):
            keys = epoch.standard_exponential(len(weights)) / weights
        return np.argsort(keys, kind="stable")[:self.num_samples]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group a sampler's indices into lists of ``batch_size`` (as PyTorch's).

    The last, shorter list is kept unless ``drop_last``. ``len`` is the number of batches.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                or batch_size <= 0):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _index_batches(self):
        """The batches as numpy index arrays, or None when the sampler cannot give an array."""
        index_array = getattr(self.sampler, "_index_array", None)
        if index_array is None:
            return None
        order = index_array()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return (order[start:start + self.batch_size]
                for start in range(0, stop, self.batch_size))

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
