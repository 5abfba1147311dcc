"""``read_idx``: the IDX format of the MNIST files, raw or gzip-compressed.

An IDX file is a 4-byte magic number ``00 00 TT RR`` (``TT`` the element type code, ``RR``
the number of dimensions), then ``RR`` big-endian uint32 sizes, then the elements in C order,
big-endian. Nothing else may follow the data, so the file length is fully determined by the
header; that is what lets us tell a truncated or padded file from a good one.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from .._atomic import open_regular_file

__all__ = ["read_idx"]

# type code -> (big-endian numpy dtype, name used in messages)
IDX_DTYPES = {
    0x08: (np.dtype(">u1"), "unsigned byte"),
    0x09: (np.dtype(">i1"), "signed byte"),
    0x0B: (np.dtype(">i2"), "short (int16)"),
    0x0C: (np.dtype(">i4"), "int (int32)"),
    0x0D: (np.dtype(">f4"), "float (float32)"),
    0x0E: (np.dtype(">f8"), "double (float64)"),
}

# numpy 1.x allows 32 dimensions (numpy 2 allows 64); the smaller bound works on both.
MAX_RANK = 32

_GZIP_MAGIC = b"\x1f\x8b"
# Default bound on the data a header may declare (MNIST's largest file holds 47 MB).
MAX_BYTES = 1 << 30
# deflate expands by at most 1032:1, so a gzip file of n bytes holds at most this much.
_DEFLATE_MAX_RATIO = 1032
_CHUNK = 1 << 20


def read_idx(path, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected by content, not by name).

    Returns a writable, native-endian ndarray whose shape is the header's sizes and whose
    dtype is the header's type (uint8, int8, int16, int32, float32 or float64). The file is
    streamed: the header is read first, it fixes the size of the data, and memory never
    exceeds that size (a gzip bomb is refused once its content outgrows its header).
    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the path and
    the problem for a corrupt gzip stream, a bad magic number, an unknown type code, rank
    0, a header declaring more than ``max_bytes`` of data (default 1 GiB), a FIFO or
    device, or a length that disagrees with the header (truncated or padded: with the
    expected and actual byte counts).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_idx: path must be a str or os.PathLike, got {type(path).__name__}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"read_idx: max_bytes must be a non-negative int, got {max_bytes!r}")
    path = os.fspath(path)
    with open_regular_file(path, "read_idx") as raw:
        file_size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, path, file_size, None, max_bytes)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, None, file_size, max_bytes)
        except (OSError, EOFError, zlib.error) as error:
            # gzip raises BadGzipFile (an OSError) for a bad header or CRC, EOFError for a
            # cut stream and zlib.error for garbled deflate data: one problem to the user.
            raise ValueError(
                f"read_idx: {path}: corrupt gzip stream ({type(error).__name__}: {error})"
            ) from None


def _read_exact(stream, count: int) -> bytes:
    parts, got = [], 0
    while got < count:
        part = stream.read(count - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_stream(stream, source: str, size, compressed_size, max_bytes: int) -> np.ndarray:
    """Read an IDX stream; ``size`` is the file's length when it is known up front (a raw
    file), None for a gzip stream, whose ``compressed_size`` bounds what it can hold."""
    head = _read_exact(stream, 4)
    rank = head[3] if len(head) == 4 else 0
    header = head + _read_exact(stream, 4 * rank)
    known = size if size is not None else len(header)
    dtype, shape, header_size = _parse_header(header, known, source)
    count = 1
    for dimension in shape:  # Python ints: the product cannot overflow
        count *= dimension
    data_bytes = count * dtype.itemsize
    expected = header_size + data_bytes
    if data_bytes > max_bytes:
        raise ValueError(
            f"read_idx: {source}: the header declares shape {shape} ({data_bytes} bytes of "
            f"data), more than the limit of {max_bytes} bytes (pass max_bytes= to raise it)"
        )
    if size is not None and size != expected:
        _raise_length(source, shape, dtype, expected, size)
    if compressed_size is not None and expected > _DEFLATE_MAX_RATIO * compressed_size + 1024:
        raise ValueError(
            f"read_idx: {source}: file truncated: the header says {expected} bytes in all, "
            f"more than a gzip stream of {compressed_size} bytes can hold"
        )
    data = np.empty(count, dtype=dtype)
    view = memoryview(data.view(np.uint8)) if data_bytes else memoryview(b"")
    filled = 0
    while filled < data_bytes:
        chunk = stream.read(min(_CHUNK, data_bytes - filled))
        if not chunk:
            _raise_length(source, shape, dtype, expected, header_size + filled)
        view[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    extra = len(_read_exact(stream, _CHUNK))  # reaching the end also checks a gzip CRC
    if extra:
        _raise_length(source, shape, dtype, expected, expected + extra,
                      at_least=extra == _CHUNK)
    # astype copies: the result is writable and in native byte order.
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``source`` names it in errors."""
    size = len(content)
    dtype, shape, header_size = _parse_header(content, size, source)
    count = 1
    for dimension in shape:
        count *= dimension
    expected = header_size + count * dtype.itemsize
    if size != expected:
        _raise_length(source, shape, dtype, expected, size)
    data = np.frombuffer(content, dtype=dtype, count=count, offset=header_size)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def _raise_length(source: str, shape, dtype, expected: int, size: int,
                  at_least: bool = False):
    type_name = IDX_DTYPES[_TYPE_CODES[dtype]][1]
    problem = "truncated" if size < expected else "padded"
    difference = abs(size - expected)
    detail = "missing" if size < expected else "extra after the data"
    more = "at least " if at_least else ""
    raise ValueError(
        f"read_idx: {source}: file {problem}: the header says shape {shape} of {type_name} "
        f"({expected} bytes in all), the file has {more}{size} bytes ({more}{difference} "
        f"bytes {detail})"
    )


def _parse_header(content: bytes, size: int, source: str):
    """``(dtype, shape, header_size)`` from the first bytes of an IDX file; ``size`` is the
    file's length, named in the messages."""
    if len(content) < 4:
        raise ValueError(
            f"read_idx: {source}: file is {size} bytes, too short for the 4-byte IDX magic number"
        )
    if content[0] != 0 or content[1] != 0:
        raise ValueError(
            f"read_idx: {source}: bad magic number 0x{content[:4].hex()}: an IDX file starts "
            "with two zero bytes (not an IDX file, or a compressed format other than gzip)"
        )
    type_code, rank = content[2], content[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(
            f"read_idx: {source}: unknown data type code 0x{type_code:02X} "
            f"(expected one of {known})"
        )
    if rank == 0:
        raise ValueError(f"read_idx: {source}: rank 0 in the header; an IDX file has rank >= 1")
    if rank > MAX_RANK:
        raise ValueError(
            f"read_idx: {source}: rank {rank} in the header exceeds the {MAX_RANK} dimensions "
            "numpy supports everywhere"
        )
    header_size = 4 + 4 * rank
    if len(content) < header_size:
        raise ValueError(
            f"read_idx: {source}: header truncated: rank {rank} needs {header_size} header "
            f"bytes, the file has {size}"
        )
    shape = tuple(int(s) for s in np.frombuffer(content, dtype=">u4", count=rank, offset=4))
    return IDX_DTYPES[type_code][0], shape, header_size


_TYPE_CODES = {dtype: code for code, (dtype, _) in IDX_DTYPES.items()}
