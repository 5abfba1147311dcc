"""``default_collate`` and ``default_convert``: samples -> batch, PyTorch's rules.

``default_collate(samples)`` looks at the first sample and recurses into its structure:

| sample element                  | batch                                              |
| ------------------------------- | -------------------------------------------------- |
| ``Tensor``                      | ``Tensor`` stacked on a new first dimension        |
| numpy array / numpy scalar      | ``Tensor`` stacked (dtype kept); str/object arrays rejected |
| Python ``float``                | float64 ``Tensor`` ``(B,)``                        |
| Python ``int`` (``bool``)       | int64 (bool) ``Tensor`` ``(B,)``                   |
| ``str`` / ``bytes``             | the list of them, unchanged                        |
| mapping                         | a mapping of the same type, each key collated      |
| namedtuple                      | the same namedtuple, each field collated           |
| tuple                           | a *list* of collated fields (PyTorch's rule)       |
| other sequence (list)           | the same type if it can be built, else a list      |
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _rejected_numpy(array: np.ndarray) -> bool:
    return array.dtype.kind in "SaUO"


def _type_error(found) -> TypeError:
    return TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {found}"
    )


def _stack(arrays: list, what: str) -> Tensor:
    first = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(array.shape)} at entry {position} ({what})"
            )
    return Tensor._make(np.stack(arrays))


def default_collate(batch):
    """Collate a list of samples into a batch (as ``torch.utils.data.default_collate``).

    See the module's table for the rules; samples must share their structure, and arrays
    their shapes (else ``RuntimeError``, as ``torch.stack``).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([sample._data for sample in batch], "tensors")
    if isinstance(elem, np.ndarray):
        if _rejected_numpy(elem):
            raise _type_error(elem.dtype)
        return _stack([np.asarray(sample) for sample in batch], "numpy arrays")
    if isinstance(elem, np.generic):
        if _rejected_numpy(np.asarray(elem)):
            raise _type_error(np.asarray(elem).dtype)
        return Tensor._make(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # each field is a tuple from zip: strings come back as that tuple, as PyTorch's do
        fields = [default_collate(field) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise _type_error(type(elem))


def default_convert(data):
    """Convert one sample without batching (as PyTorch's; used when ``batch_size=None``).

    numpy arrays and numpy scalars become ``Tensor``s (str/object arrays are kept);
    mappings, namedtuples and sequences are converted element by element; anything else
    is returned unchanged.
    """
    if isinstance(data, np.ndarray):
        return data if _rejected_numpy(data) else Tensor._make(data)
    if isinstance(data, np.generic):
        array = np.asarray(data)
        return data if _rejected_numpy(array) else Tensor._make(array)
    if isinstance(data, (str, bytes, Tensor)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(value) for value in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data
