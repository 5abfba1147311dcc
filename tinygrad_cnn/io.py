"""``save`` / ``load``: state dicts to and from checksummed ``.npz`` files, written atomically.

The file is an ordinary ``.npz`` (a zip of uncompressed ``.npy`` members), so ``numpy.load``
opens it without this library. It holds

* one member per array, named by the array's key path: a flat model state dict keeps its
  keys as they are (``"conv1.weight"``), nested containers join their keys with ``/``
  (an optimizer's ``"state/0/momentum_buffer"``, ``"param_groups/0/params"``); a name that
  would collide with one already taken gets a ``~N`` suffix;
* one member, ``"__tinygrad_cnn__"``, a uint8 array holding UTF-8 JSON that describes the
  whole object: its container structure (dicts with their ``str`` / ``int`` keys in order,
  lists, tuples), every scalar exactly (``bool``, ``int``, ``float`` as ``float.hex``,
  ``str``, ``None``) and, for each array leaf, the member that holds it;
* the zip comment ``tinygrad_cnn sha256=<64 hex digits>``: the SHA-256 of every byte of the
  file before the digest (members, their headers, the central directory and the comment's
  own prefix), so a flipped bit anywhere is found before anything is decoded (since format
  version 2; version-1 files, written before the digest existed, still load, checked by the
  zip's CRC-32s only). Version 3 added tensor leaves (version-2 files still load).

``load`` rebuilds the object from that description: ints stay ints, tuples stay tuples,
integer dict keys stay integers, numpy scalars come back as numpy scalars of their dtype,
arrays keep dtype and shape. A ``Tensor`` (our own, or a torch tensor) comes back as a
``Tensor`` (a ``Parameter`` as a ``Parameter``, ``requires_grad`` kept), as ``torch.load``
gives tensors back, so ``load(path)`` of a saved ``model.state_dict()`` is a state dict of
Tensors; a ``numpy.ndarray`` (or another object exposing ``__array__``) comes back as a
``numpy.ndarray``. ``Module.load_state_dict`` and ``Optimizer.load_state_dict`` take both.

Guarantees (see :mod:`tinygrad_cnn._atomic`): ``save`` writes a temporary file beside the
destination, fsyncs it and renames it into place, so a crash (even ``kill -9``) leaves the
old or the new file at ``path``; a temporary file left by a killed process is removed by the
next save to that folder; a symlink is written through (the link stays) and an existing
file's permissions are kept. ``load`` validates the whole file before returning anything
and never unpickles: every way a file can be wrong (not a regular file, not a zip, a zip
that is not ours, compressed, encrypted or unexpected members, a checksum mismatch, object
arrays, crafted ``.npy`` headers, garbled or too deeply nested metadata) is a ``ValueError``
naming the path and the problem, found with memory bounded by the file's size: members are
stored uncompressed and every array's size is checked against its member before it is
allocated. The file is written exactly at ``path``: no ``.npz`` suffix is appended.
``save`` and ``load`` also take a binary file-like object in place of ``path`` (as
``torch.save`` / ``torch.load`` do): the same bytes, written to or read from the stream.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np

from . import io_safetensors
from ._atomic import atomic_write, open_regular_file
from ._checks import PathError
from .nn.parameter import Parameter
from .tensor import Tensor, _is_torch_tensor, to_numpy

__all__ = ["save", "load"]

META_KEY = "__tinygrad_cnn__"
FORMAT_NAME = "tinygrad_cnn.state"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
DIGEST_PREFIX = b"tinygrad_cnn sha256="
DIGEST_HEX_LENGTH = 64
MAX_DEPTH = 100  # containers nested deeper than this are refused by save and load
MAX_META_BYTES = 64 << 20
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------- save


def save(obj, path) -> None:
    """Write ``obj`` (a state dict) to ``path`` as ``.npz``, atomically (as ``torch.save``).

    ``obj`` is a dict of tensors and arrays (``Tensor``s, torch tensors, ``numpy`` arrays,
    numpy scalars) such as ``Module.state_dict()``, or any nesting (up to 100 levels) of
    dicts (``str`` or ``int`` keys), lists and tuples of those and of ``bool`` / ``int`` /
    ``float`` / ``str`` / ``None``, such as ``Optimizer.state_dict()``; the values are
    written as they are at the call. ``path`` is a ``str`` or ``os.PathLike``;
    the file is written exactly there (no suffix is added; through a symlink, its target).
    ``path`` may also be, as in ``torch.save``, a binary file-like object with ``write`` and
    ``flush`` (an ``io.BytesIO``, a file opened ``"wb"``): the checkpoint's bytes are
    written at its position, nothing when encoding ``obj`` fails.
    Raises ``TypeError`` naming the key path of a value that cannot be stored without
    pickling (object arrays, arbitrary objects), and :class:`~tinygrad_cnn._checks.PathError`
    (a ``FileNotFoundError`` and, as PyTorch's, a ``RuntimeError``) for an empty path or one
    whose folder does not exist.
    """
    if _is_stream(path, ("write", "flush")):
        buffer = io.BytesIO()
        _write_npz(buffer, _members(obj))
        view = buffer.getbuffer()
        for start in range(0, len(view), _CHUNK):
            path.write(bytes(view[start:start + _CHUNK]))
        path.flush()
        return None
    path = _fspath("save", path, "write and flush")
    _check_destination(path)
    if io_safetensors.is_safetensors_path(path):  # a flat dict of tensors, PyTorch's format
        return io_safetensors.save_file(obj, path)
    members = _members(obj)
    atomic_write(path, lambda stream: _write_npz(stream, members))
    return None


def _members(obj) -> dict:
    """The ``.npy`` members of ``obj``'s file: the metadata first, then its array leaves."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, (), arrays)
    meta = json.dumps(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree},
        ensure_ascii=True,
        allow_nan=False,
    )
    meta_array = np.frombuffer(meta.encode("ascii"), dtype=np.uint8)
    return {META_KEY: meta_array, **arrays}


def _is_stream(value, methods: tuple) -> bool:
    """Whether ``value`` is a file-like object (not a path) with all of ``methods``."""
    return not isinstance(value, (str, bytes, os.PathLike)) and \
        all(callable(getattr(value, method, None)) for method in methods)


def _fspath(op: str, path, methods: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str, an os.PathLike or a binary file-like "
                        f"object with {methods}, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"{op}: path must be a text path, got {type(path).__name__}")
    return path


def _check_destination(path: str) -> None:
    """Refuse, before anything is written, a path ``save`` cannot create a file at."""
    if not path:
        raise PathError("save: path must name a file, got ''", path)
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise PathError(f"save: path must be in an existing folder, got {path!r} (there is no "
                        f"folder {folder!r})", path)


def _key_path(keys: tuple) -> str:
    return "/".join(str(k) for k in keys) if keys else "<root>"


def _as_array(value):
    """The ndarray behind an array-like leaf (dtype kept), or None when ``value`` is not one."""
    if isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "__array__"):
        return to_numpy(value)
    return None


def _encode(value, keys: tuple, arrays: dict):
    """JSON description of ``value``; array leaves are added to ``arrays``."""
    if len(keys) > MAX_DEPTH:
        raise ValueError(f"save: containers nested deeper than {MAX_DEPTH} levels at "
                         f"{_key_path(keys[:5])}/...")
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return _encode_array(np.asarray(value), keys, arrays, kind="scalar")
    if isinstance(value, Tensor) or _is_torch_tensor(value):
        node = _encode_array(to_numpy(value), keys, arrays, kind="tensor")
        if value.requires_grad:
            node["requires_grad"] = True
        if isinstance(value, Parameter):
            node["parameter"] = True
        return node
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
    """Write ``arrays`` as stored ``.npy`` members, then stamp the file's SHA-256 into the
    zip comment. ``stream`` must be readable and seekable (the digest is computed by
    reading back what was written)."""
    # Written member by member (as numpy.savez does) rather than through np.savez, whose
    # own keyword names ("file", "allow_pickle") would clash with state-dict keys.
    start = stream.tell()
    with zipfile.ZipFile(stream, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
        archive.comment = DIGEST_PREFIX + b"0" * DIGEST_HEX_LENGTH
    end = stream.tell()
    stream.seek(start)
    digest = _sha256_of_stream(stream, end - start - DIGEST_HEX_LENGTH)
    stream.seek(end - DIGEST_HEX_LENGTH)
    stream.write(digest.encode("ascii"))


def _sha256_of_stream(stream, length: int) -> str:
    digest = hashlib.sha256()
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        remaining -= len(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- load


class _CorruptFile(Exception):
    """Internal: a problem found while validating; ``load`` re-raises it as ValueError."""


def load(path, map_location=None, weights_only=True):
    """Read an object written by :func:`save` (as ``torch.load``); never unpickles.

    Returns the object with its structure and scalar types restored: tensors come back as
    ``Tensor``s (``Parameter``s as ``Parameter``s), arrays as ``numpy.ndarray``, numpy
    scalars as numpy scalars; a ``.safetensors`` file gives a dict of ``Tensor``s.
    ``map_location`` may be ``None`` or a CPU location (``"cpu"``, ``device("cpu")``); a GPU
    location raises ``RuntimeError``.
    ``weights_only`` is accepted for PyTorch's spelling: nothing is ever unpickled either way.
    ``path`` may also be, as in ``torch.load``, a binary file-like object (an ``io.BytesIO``
    that ``save`` wrote into, after ``seek(0)``): it is read from its position to its end
    (``read()`` is all it needs; PyTorch also wants ``seek``).

    The whole file is validated (checksum, zip structure, every member's ``.npy`` header and
    size, the metadata) before anything is returned. Raises ``FileNotFoundError`` for a
    missing file, ``IsADirectoryError`` for a directory and ``ValueError`` naming ``path`` and
    the problem for anything else that is not an intact checkpoint written by :func:`save`
    (including FIFOs and devices, refused without reading them).
    """
    stream = path if _is_stream(path, ("read",)) else None
    if stream is None:
        path = _fspath("load", path, "read")
    _check_map_location(map_location)
    if not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be a bool, got {type(weights_only).__name__}")
    if stream is not None:
        data = stream.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"load: the stream must be opened in binary mode, its read() "
                            f"returned {type(data).__name__}")
        return _read_checked(io.BytesIO(data), len(data), _stream_name(stream))
    if io_safetensors.is_safetensors_path(path):  # PyTorch's format: a flat dict of tensors
        return {name: Tensor._make(array)
                for name, array in io_safetensors.load_file(path).items()}
    with open_regular_file(path, "load") as stream:
        return _read_checked(stream, os.fstat(stream.fileno()).st_size, path)


def _stream_name(stream) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else f"the {type(stream).__name__} stream"


def _read_checked(stream, size: int, name: str):
    """The object in the checkpoint ``stream`` (``size`` bytes from its start) holds; every
    problem a ``ValueError`` naming ``name`` (a path, or which stream)."""
    try:
        return _read_checkpoint(stream, size)
    except _CorruptFile as error:
        raise ValueError(f"load: {name} is not a valid tinygrad_cnn checkpoint: {error}") \
            from None
    except Exception as error:  # noqa: BLE001 - any decoder failure means a bad file
        raise ValueError(
            f"load: {name} is corrupt or truncated ({type(error).__name__}: {error})"
        ) from None


def _check_map_location(map_location) -> None:
    locations = map_location.values() if isinstance(map_location, dict) else [map_location]
    for location in locations:
        if location is None:
            continue
        if not isinstance(location, str) and type(location).__name__ != "device":
            raise TypeError(
                "load: map_location must be None, a device string such as 'cpu', a device or "
                f"a dict of them, got {type(location).__name__}"
            )
        if str(location).split(":")[0] != "cpu":
            raise RuntimeError(
                f"load: map_location {str(location)!r}: this library runs on the CPU with "
                "numpy; use map_location='cpu' (or leave it None)"
            )


def _read_checkpoint(stream, size: int):
    head = stream.read(4)
    if head[:2] != b"PK":
        what = "a .npy array" if head[:4] == b"\x93NUM" else "not a zip/.npz file"
        raise _CorruptFile(what)
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        digest_checked = _verify_digest(archive, stream, size)
        members = _check_members(archive, size)
        if META_KEY not in members:
            raise _CorruptFile(
                f"a .npz without the {META_KEY!r} metadata entry, so not written by "
                "tinygrad_cnn.save (a plain numpy.savez file opens with dict(numpy.load(path)))"
            )
        layouts = {name: _member_layout(archive, info) for name, info in members.items()}
        version, tree = _read_meta(_read_member(archive, members[META_KEY], layouts[META_KEY]))
        if version >= 2 and not digest_checked:
            raise _CorruptFile("its SHA-256 checksum (the zip comment) is missing or garbled")
        used: set[str] = set()
        obj = _decode(tree, archive, members, layouts, used, 0)
        unused = set(members) - used - {META_KEY}
        if unused:
            raise _CorruptFile(f"entries not described by the metadata: {sorted(unused)}")
        return obj


def _verify_digest(archive: zipfile.ZipFile, stream, size: int) -> bool:
    """Check the SHA-256 in the zip comment against the file; False when there is none."""
    comment = archive.comment
    if not (comment.startswith(DIGEST_PREFIX)
            and len(comment) == len(DIGEST_PREFIX) + DIGEST_HEX_LENGTH):
        return False
    stated = comment[len(DIGEST_PREFIX):].decode("ascii", errors="replace")
    stream.seek(0)
    actual = _sha256_of_stream(stream, size - DIGEST_HEX_LENGTH)
    if actual != stated:
        raise _CorruptFile(
            f"corrupt: checksum mismatch (SHA-256 {actual}, the file states {stated}): the "
            "file was damaged after it was written"
        )
    return True


def _check_members(archive: zipfile.ZipFile, size: int) -> dict:
    """name (without ``.npy``) -> ZipInfo, after checking every member is one save writes."""
    members = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy"):
            raise _CorruptFile(f"foreign member {name!r} (only .npy arrays and the metadata "
                               "written by tinygrad_cnn.save belong here)")
        if info.flag_bits & 0x1:
            raise _CorruptFile(f"member {name!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise _CorruptFile(
                f"member {name!r} is compressed (method {info.compress_type}); save stores "
                "members uncompressed"
            )
        if info.header_offset + info.compress_size > size:
            raise _CorruptFile(f"member {name!r} extends past the end of the file")
        if name[:-4] in members:
            raise _CorruptFile(f"member {name!r} appears twice")
        members[name[:-4]] = info
    return members


def _member_layout(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """``(shape, fortran_order, dtype, data_offset)`` of a stored ``.npy`` member, its header
    checked against the member's size (so nothing larger than the file is ever allocated)."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise _CorruptFile(f"member {info.filename!r} has .npy format version {version}")
        offset = member.tell()
    if dtype.hasobject:
        raise _CorruptFile(
            f"member {info.filename!r} holds an object array (pickled Python objects; "
            "reading it would need allow_pickle=True, which load never does)"
        )
    count = 1
    for extent in shape:  # Python ints: the product cannot overflow
        count *= extent
    data_bytes = count * dtype.itemsize
    if offset + data_bytes != info.file_size or (dtype.itemsize == 0 and count):
        raise _CorruptFile(
            f"member {info.filename!r}: its header declares {dtype} data of shape {shape} "
            f"({data_bytes} bytes), the member holds {info.file_size - offset}"
        )
    return shape, fortran, dtype, offset


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, layout) -> np.ndarray:
    """The array in a stored ``.npy`` member whose ``layout`` was checked."""
    shape, fortran, dtype, offset = layout
    data_bytes = info.file_size - offset
    array = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
    view = memoryview(array.reshape(-1).view(np.uint8)) if data_bytes else memoryview(b"")
    with archive.open(info) as member:
        member.read(offset)
        filled = 0
        while filled < data_bytes:
            chunk = member.read(min(_CHUNK, data_bytes - filled))
            if not chunk:
                raise _CorruptFile(f"member {info.filename!r} is truncated")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if member.read(1):  # reaching the end also verifies the member's CRC-32
            raise _CorruptFile(f"member {info.filename!r} has data after its array")
    return array.T if fortran else array


def _read_meta(meta: np.ndarray):
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise _CorruptFile(f"metadata entry has dtype {meta.dtype} and shape {meta.shape}")
    if meta.size > MAX_META_BYTES:
        raise _CorruptFile(f"metadata of {meta.size} bytes exceeds {MAX_META_BYTES}")
    try:
        header = json.loads(meta.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _CorruptFile(f"metadata is not valid JSON ({error})") from None
    except RecursionError:
        raise _CorruptFile("metadata nested too deeply") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _CorruptFile("metadata does not name the tinygrad_cnn.state format")
    version = header.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise _CorruptFile(
            f"format version {version!r}, this library reads versions {READABLE_VERSIONS}"
        )
    if "tree" not in header:
        raise _CorruptFile("metadata has no object tree")
    return version, header["tree"]


def _decode(node, archive, members: dict, layouts: dict, used: set, depth: int):
    if depth > MAX_DEPTH + 1:
        raise _CorruptFile(f"metadata nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _CorruptFile(f"garbled metadata node {str(node)[:80]}")
    kind = node["t"]
    if kind in ("array", "scalar", "tensor"):
        name = _field(node, "key", str)
        if name not in members or name in used or name == META_KEY:
            raise _CorruptFile(f"metadata refers to a missing or repeated entry {name!r}")
        used.add(name)
        array = _read_member(archive, members[name], layouts[name])
        if kind == "scalar":
            if array.ndim != 0:
                raise _CorruptFile(f"scalar entry {name!r} has shape {array.shape}")
            return array[()]
        if kind == "tensor":
            return _tensor(node, array, name)
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
                value, archive, members, layouts, used, depth + 1
            )
        return result
    if kind in ("list", "tuple"):
        items = [_decode(item, archive, members, layouts, used, depth + 1)
                 for item in _field(node, "items", list)]
        return tuple(items) if kind == "tuple" else items
    raise _CorruptFile(f"unknown metadata node kind {kind!r}")


def _tensor(node: dict, array: np.ndarray, name: str) -> Tensor:
    """The ``Tensor`` (or ``Parameter``) a tensor leaf describes."""
    requires_grad = node.get("requires_grad", False) is True
    if requires_grad and array.dtype.kind != "f":
        raise _CorruptFile(f"tensor entry {name!r} of dtype {array.dtype} is marked as "
                           "requiring grad (only floating point tensors can)")
    if node.get("parameter", False) is True:
        return Parameter(array, requires_grad=requires_grad)
    tensor = Tensor._make(array)
    tensor.requires_grad = requires_grad
    return tensor


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
