"""Datasets and batching, as ``torch.utils.data`` (plus ``datasets``: digits, MNIST, IDX).

``tinygrad_cnn.utils.data`` is the same module under PyTorch's path; ``__all__`` lists every
public name, and that alias re-exports exactly these.
"""

from . import datasets
from .collate import default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .loader import DataLoader
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
    "default_collate", "default_convert", "get_worker_info", "WorkerInfo", "DataLoader",
    "datasets",
]
