"""Datasets and batching, as ``torch.utils.data`` (plus ``datasets``: digits, MNIST, IDX)."""

from . import datasets
from .dataset import Dataset, TensorDataset
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "DataLoader", "datasets"]
