"""State dicts as ``.safetensors`` files: the format PyTorch, Hugging Face and others read.

``tinygrad_cnn.save(state_dict, "model.safetensors")`` and ``tinygrad_cnn.load(...)`` come
here for a path ending in ``.safetensors`` (``load`` gives a dict of ``Tensor``s, as
``safetensors.torch.load_file``); the functions below are the ``safetensors`` package's numpy
ones, with string metadata in the file's header (its own names and arguments):

    save_file({"0.weight": w, ...}, "model.safetensors", metadata={"mean": "0.1"})
    load_file("model.safetensors")        # {"0.weight": ndarray, ...}
    load_metadata("model.safetensors")    # {"mean": "0.1"}

A ``.safetensors`` file holds a flat dict of name -> array and a dict of str -> str; nothing
else (no nested optimizer state, no Python numbers: use ``.npz`` for those).  PyTorch reads
it with ``safetensors.torch.load_file(path)`` into a ``torch.nn`` model's
``load_state_dict``, since state-dict keys and layouts are PyTorch's; files PyTorch writes
load here (bfloat16, which numpy lacks, comes back as float32, exactly).

The file is written atomically (as :func:`tinygrad_cnn.save`).  Reading never runs code; a
missing file raises ``FileNotFoundError``; anything that is not a valid ``.safetensors``
file raises ``ValueError`` naming the path and the problem.  Unlike the ``.npz`` format the
format has no checksum, so a flipped bit inside the tensor data is not detected.
Needs the optional ``safetensors`` package (``pip install "tinygrad_cnn[safetensors]"``).
"""

from __future__ import annotations

import json
import os

import numpy as np

from ._atomic import atomic_write, open_regular_file
from .tensor import Tensor, to_numpy

__all__ = ["save_file", "load_file", "load_metadata", "is_safetensors_path"]

SUFFIX = ".safetensors"

# safetensors' dtype names and the numpy dtypes they hold (little-endian, as the format).
_DTYPES = {
    "BOOL": np.dtype(bool), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
}
_HEADER_LIMIT = 100_000_000  # the safetensors package's own limit on the JSON header


def is_safetensors_path(path) -> bool:
    """True when ``path`` (str or PathLike) ends in ``.safetensors`` (any letter case)."""
    return isinstance(path, (str, os.PathLike)) and \
        str(os.fspath(path)).lower().endswith(SUFFIX)


def _package(op: str):
    try:
        import safetensors
    except ImportError:
        raise ImportError(
            f"{op}: .safetensors files need the safetensors package: pip install safetensors "
            "(or pip install \"tinygrad_cnn[safetensors]\"), or save to a .npz path"
        ) from None
    return safetensors


# ----------------------------------------------------------------------------- save


def save_file(tensors, path, metadata=None) -> None:
    """Write ``tensors`` (a flat dict str -> array-like, e.g. ``model.state_dict()``) to
    ``path`` in the safetensors format, atomically, with ``metadata`` (a dict str -> str, or
    None) in the header (as ``safetensors.torch.save_file``).

    Values may be Tensors, numpy arrays or scalars, torch tensors: anything with an array.
    Raises ``TypeError`` naming the key of a value the format cannot hold (a nested dict, a
    Python number, an object array) and for metadata that is not str -> str.
    """
    _package("save")
    import safetensors.numpy as safetensors_numpy

    path = os.fspath(path)
    if not isinstance(tensors, dict):
        raise TypeError(f"save: a .safetensors file holds a dict of name -> tensor, got "
                        f"{type(tensors).__name__}; save other objects to a .npz path")
    arrays = {}
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"save: .safetensors keys must be str, got {key!r}")
        if key == "__metadata__":
            raise ValueError("save: '__metadata__' is reserved by the safetensors format; "
                             "pass metadata=... instead")
        arrays[key] = _array_for_file(key, value)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must be a dict of str -> str (encode other values, "
                            f"e.g. with json.dumps), got {metadata!r}")
    data = safetensors_numpy.save(arrays, metadata=metadata)
    atomic_write(path, lambda stream: stream.write(data))


def _array_for_file(key: str, value) -> np.ndarray:
    if isinstance(value, (dict, list, tuple, str, bytes)) or value is None or (
            isinstance(value, (bool, int, float)) and not isinstance(value, np.generic)):
        raise TypeError(
            f"save: a .safetensors file holds only tensors, but {key!r} holds a Python "
            f"{type(value).__name__}; save nested or non-tensor values to a .npz path")
    if not isinstance(value, (Tensor, np.ndarray, np.generic)) and not hasattr(value,
                                                                            "__array__"):
        raise TypeError(f"save: cannot store a {type(value).__name__} at {key!r} in a "
                        ".safetensors file")
    array = to_numpy(value)
    if array.dtype.newbyteorder("<") not in _DTYPES.values():
        raise TypeError(f"save: {key!r} has dtype {array.dtype}, which the safetensors format "
                        f"cannot hold (it holds {', '.join(sorted(_DTYPES))})")
    # np.require keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)
    return np.require(array.astype(array.dtype.newbyteorder("<"), copy=False), requirements="C")


# ----------------------------------------------------------------------------- load


def _read(path, op: str) -> bytes:
    # A regular file only (a FIFO or device is a ValueError, not a reader blocked forever);
    # FileNotFoundError and IsADirectoryError propagate.
    with open_regular_file(os.fspath(path), op) as stream:
        return stream.read()


def _header(data: bytes, path, file_size=None) -> dict:
    """The file's JSON header (``data`` starts with the file's first bytes), after the
    checks that keep a hostile file harmless."""
    file_size = len(data) if file_size is None else file_size
    if file_size < 8:
        raise ValueError(f"load: {path} is not a .safetensors file (only {file_size} bytes)")
    size = int.from_bytes(data[:8], "little")
    if size > min(_HEADER_LIMIT, file_size - 8):
        raise ValueError(f"load: {path} is not a valid .safetensors file: its header claims "
                         f"{size} bytes but the file has {file_size}")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"load: {path} is not a valid .safetensors file: its header is not "
                         f"JSON ({error})") from None
    if not isinstance(header, dict):
        raise ValueError(f"load: {path} is not a valid .safetensors file: its header is a "
                         f"{type(header).__name__}, not an object")
    return header


def load_file(path) -> dict:
    """The tensors of the ``.safetensors`` file at ``path`` as a dict name -> writable
    ``numpy.ndarray``, in the file's order (the format sorts tensors by dtype and name, so
    a state dict's order is not kept; ``load_state_dict`` does not need it); bfloat16
    tensors come back as float32.  ``ValueError`` for a file that is not valid."""
    safetensors = _package("load")
    data = _read(path, "load")
    _header(data, path)
    try:
        entries = safetensors.deserialize(data)
    except Exception as error:  # the package's SafetensorError and anything else it raises
        raise ValueError(f"load: {path} is not a valid .safetensors file ({error})") from None
    result = {}
    for name, entry in entries:
        result[name] = _to_array(name, entry, path)
    return result


def _to_array(name: str, entry: dict, path) -> np.ndarray:
    dtype_name, shape, raw = entry["dtype"], tuple(entry["shape"]), entry["data"]
    if dtype_name == "BF16":
        # bfloat16 is the top half of a float32: widen the bits, exactly.
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    if dtype_name not in _DTYPES:
        raise ValueError(f"load: {path}: tensor {name!r} has dtype {dtype_name}, which numpy "
                         "cannot hold; convert it (e.g. to float32) before saving")
    dtype = _DTYPES[dtype_name]
    if len(raw) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"load: {path}: tensor {name!r} holds {len(raw)} bytes, not what "
                         f"{dtype_name} of shape {shape} needs")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def load_metadata(path) -> dict:
    """The header metadata (a dict str -> str; empty when there is none) of the
    ``.safetensors`` file at ``path``, as ``safe_open(path, "np").metadata()``.  Reads the
    header only."""
    with open_regular_file(os.fspath(path), "load_metadata") as stream:
        length = stream.read(8)
        size = int.from_bytes(length, "little") if len(length) == 8 else 0
        file_size = os.fstat(stream.fileno()).st_size
        head = length + stream.read(min(size, _HEADER_LIMIT, max(file_size - 8, 0)))
    metadata = _header(head, path, file_size=file_size).get("__metadata__") or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"load_metadata: {path} is not a valid .safetensors file: its "
                         "__metadata__ is not a dict of str -> str")
    return dict(metadata)
