"""``save`` / ``load``: state dicts to and from ``.npz`` files, written atomically.

The file is an ordinary ``.npz`` (a zip of ``.npy`` members), so ``numpy.load`` opens it
without this library. It holds

* one member per array, named by the array's key path: a flat model state dict keeps its
  keys as they are (``"conv1.weight"``), nested containers join their keys with ``/``
  (an optimizer's ``"state/0/momentum_buffer"``, ``"param_groups/0/params"``); a name that
  would collide with one already taken gets a ``~N`` suffix;
* one member, ``"__tinygrad_cnn__"``, a uint8 array holding UTF-8 JSON that describes the
  whole object: its container structure (dicts with their ``str`` / ``int`` keys in order,
  lists, tuples), every scalar exactly (``bool``, ``int``, ``float`` as ``float.hex``,
  ``str``, ``None``) and, for each array leaf, the member that holds it.

``load`` rebuilds the object from that description: ints stay ints, tuples stay tuples,
integer dict keys stay integers, numpy scalars come back as numpy scalars of their dtype,
arrays keep dtype and shape. Our ``Tensor`` (and anything else exposing ``__array__``,
torch tensors included) is stored as its array and comes back as a ``numpy.ndarray``, which
``Module.load_state_dict`` and ``Optimizer.load_state_dict`` accept.

Guarantees: ``save`` writes to a temporary file in the destination directory, fsyncs it
and renames it into place with ``os.replace``, so a crash or error mid-write leaves any
previous file at ``path`` untouched and no temporary file behind. ``load`` never unpickles
(``allow_pickle=False``) and turns every way a file can be wrong (not a zip, a zip that is
not ours, a damaged member, garbled metadata, object arrays) into a ``ValueError`` naming
the path and the problem. The file is written exactly at ``path``: unlike ``numpy.savez``,
no ``.npz`` suffix is appended.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import numpy as np

from . import io_safetensors
from ._atomic import atomic_write
from .tensor import Tensor, to_numpy

__all__ = ["save", "load"]

META_KEY = "__tinygrad_cnn__"
FORMAT_NAME = "tinygrad_cnn.state"
FORMAT_VERSION = 1


# ----------------------------------------------------------------------------- save


def save(obj, path) -> None:
    """Write ``obj`` (a state dict) to ``path`` as ``.npz``, atomically (as ``torch.save``).

    ``obj`` is a dict of arrays (``numpy`` arrays, ``Tensor``s, numpy scalars) such as
    ``Module.state_dict()``, or any nesting of dicts (``str`` or ``int`` keys), lists and
    tuples of those and of ``bool`` / ``int`` / ``float`` / ``str`` / ``None``, such as
    ``Optimizer.state_dict()``. ``path`` is a ``str`` or ``os.PathLike``; the file is
    written exactly there (no suffix is added). Raises ``TypeError`` naming the key path of
    a value that cannot be stored without pickling (object arrays, arbitrary objects).
    """
    path = _fspath("save", path)
    if io_safetensors.is_safetensors_path(path):  # a flat dict of tensors, PyTorch's format
        return io_safetensors.save_file(obj, path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, (), arrays)
    meta = json.dumps(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree},
        ensure_ascii=True,
        allow_nan=False,
    )
    meta_array = np.frombuffer(meta.encode("ascii"), dtype=np.uint8)
    atomic_write(path, lambda stream: _write_npz(stream, {META_KEY: meta_array, **arrays}))


def _fspath(op: str, path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"{op}: path must be a text path, got {type(path).__name__}")
    return path


def _key_path(keys: tuple) -> str:
    return "/".join(str(k) for k in keys) if keys else "<root>"


def _as_array(value):
    """The ndarray behind an array-like leaf (dtype kept), or None when ``value`` is not one."""
    if isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "__array__"):
        return to_numpy(value)
    return None


def _encode(value, keys: tuple, arrays: dict):
    """JSON description of ``value``; array leaves are added to ``arrays``."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return _encode_array(np.asarray(value), keys, arrays, kind="scalar")
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}  # a string keeps ints of any size exact
    if isinstance(value, float):
        return {"t": "float", "v": value.hex()}  # exact, including inf and nan
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, str):
                key_node = ["s", key]
            elif isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
                key_node = ["i", str(int(key))]
            else:
                raise TypeError(
                    f"save: dict key {key!r} at {_key_path(keys)} is a {type(key).__name__}; "
                    "only str and int keys can be stored"
                )
            items.append([*key_node, _encode(item, (*keys, key), arrays)])
        return {"t": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {
            "t": kind,
            "items": [_encode(item, (*keys, i), arrays) for i, item in enumerate(value)],
        }
    array = _as_array(value)
    if array is None:
        raise TypeError(
            f"save: cannot store a {type(value).__name__} at {_key_path(keys)}; values must be "
            "arrays, Tensors, numpy scalars, bool/int/float/str/None, or dicts/lists/tuples of them"
        )
    return _encode_array(array, keys, arrays, kind="array")


def _encode_array(array: np.ndarray, keys: tuple, arrays: dict, kind: str):
    if array.dtype.hasobject:
        raise TypeError(
            f"save: the array at {_key_path(keys)} has dtype object, which cannot be stored "
            "without pickling"
        )
    name = _key_path(keys) if keys else "<root>"
    unique, suffix = name, 1
    while unique in arrays or unique == META_KEY:
        unique, suffix = f"{name}~{suffix}", suffix + 1
    arrays[unique] = array
    return {"t": kind, "key": unique}


def _write_npz(stream, arrays: dict) -> None:
    # Written member by member (as numpy.savez does) rather than through np.savez, whose
    # own keyword names ("file", "allow_pickle") would clash with state-dict keys.
    with zipfile.ZipFile(stream, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


# ----------------------------------------------------------------------------- load


class _CorruptFile(Exception):
    """Internal: a problem found while decoding; ``load`` re-raises it as ValueError."""


def load(path):
    """Read an object written by :func:`save` (as ``torch.load``); never unpickles.

    Returns the object with its structure and scalar types restored; array leaves come back
    as ``numpy.ndarray`` (numpy scalars as numpy scalars). Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` naming ``path`` and the problem for a file that is not a
    checkpoint written by :func:`save` or is damaged.
    """
    path = _fspath("load", path)
    if io_safetensors.is_safetensors_path(path):
        return io_safetensors.load_file(path)
    with open(path, "rb") as stream:
        head = stream.read(4)
    if head[:2] != b"PK":
        what = "a .npy array" if head[:4] == b"\x93NUM" else "not a zip/.npz file"
        raise ValueError(f"load: {path} is not a tinygrad_cnn checkpoint ({what})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            if META_KEY not in names:
                raise _CorruptFile(
                    f"a .npz without the {META_KEY!r} metadata entry, so not written by "
                    "tinygrad_cnn.save (a plain numpy.savez file opens with dict(numpy.load(path)))"
                )
            tree = _read_meta(archive[META_KEY])
            used: set[str] = set()
            obj = _decode(tree, archive, names, used)
            unused = names - used - {META_KEY}
            if unused:
                raise _CorruptFile(f"entries not described by the metadata: {sorted(unused)}")
            return obj
    except _CorruptFile as error:
        raise ValueError(f"load: {path} is not a valid tinygrad_cnn checkpoint: {error}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError) as error:
        if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(
            f"load: {path} is corrupt or truncated ({type(error).__name__}: {error})"
        ) from error


def _read_meta(meta: np.ndarray):
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise _CorruptFile(f"metadata entry has dtype {meta.dtype} and shape {meta.shape}")
    try:
        header = json.loads(meta.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _CorruptFile(f"metadata is not valid JSON ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _CorruptFile("metadata does not name the tinygrad_cnn.state format")
    if header.get("version") != FORMAT_VERSION:
        raise _CorruptFile(
            f"format version {header.get('version')!r}, this library reads {FORMAT_VERSION}"
        )
    if "tree" not in header:
        raise _CorruptFile("metadata has no object tree")
    return header["tree"]


def _decode(node, archive, names: set, used: set):
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _CorruptFile(f"garbled metadata node {str(node)[:80]}")
    kind = node["t"]
    if kind in ("array", "scalar"):
        name = _field(node, "key", str)
        if name not in names or name in used:
            raise _CorruptFile(f"metadata refers to a missing or repeated entry {name!r}")
        used.add(name)
        array = archive[name]  # zip and .npy errors propagate to load's handler
        if kind == "scalar":
            if array.ndim != 0:
                raise _CorruptFile(f"scalar entry {name!r} has shape {array.shape}")
            return array[()]
        return array
    if kind == "none":
        return None
    if kind == "bool":
        return _field(node, "v", bool)
    if kind == "int":
        return _parse(int, _field(node, "v", str))
    if kind == "float":
        return _parse(float.fromhex, _field(node, "v", str))
    if kind == "str":
        return _field(node, "v", str)
    if kind == "dict":
        result = {}
        for item in _field(node, "items", list):
            if not (isinstance(item, list) and len(item) == 3 and item[0] in ("s", "i")):
                raise _CorruptFile(f"garbled dict item {str(item)[:80]}")
            key_kind, key, value = item
            key = _expect(key, str)
            result[_parse(int, key) if key_kind == "i" else key] = _decode(
                value, archive, names, used
            )
        return result
    if kind in ("list", "tuple"):
        items = [_decode(item, archive, names, used) for item in _field(node, "items", list)]
        return tuple(items) if kind == "tuple" else items
    raise _CorruptFile(f"unknown metadata node kind {kind!r}")


def _field(node: dict, name: str, kind):
    if name not in node:
        raise _CorruptFile(f"metadata node of kind {node['t']!r} lacks its {name!r} field")
    return _expect(node[name], kind)


def _parse(parse, text: str):
    try:
        return parse(text)
    except (ValueError, OverflowError):
        raise _CorruptFile(f"garbled number {text[:40]!r} in the metadata") from None


def _expect(value, kind):
    if not isinstance(value, kind):
        raise _CorruptFile(
            f"metadata holds a {type(value).__name__} where a {kind.__name__} belongs"
        )
    return value
