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


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected by content, not by name).

    Returns a writable, native-endian ndarray whose shape is the header's sizes and whose
    dtype is the header's type (uint8, int8, int16, int32, float32 or float64). Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` naming the path and the
    problem for a corrupt gzip stream, a bad magic number, an unknown type code, rank 0, or
    a length that disagrees with the header (truncated or padded: with the expected and
    actual byte counts).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_idx: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    with open(path, "rb") as stream:
        content = stream.read()
    if content[:2] == _GZIP_MAGIC:
        content = _gunzip(path, content)
    return parse_idx(content, path)


def _gunzip(path: str, compressed: bytes) -> bytes:
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as error:
        # gzip raises BadGzipFile (an OSError) for a bad header or CRC, EOFError for a cut
        # stream and zlib.error for garbled deflate data: all are one problem to the user.
        raise ValueError(
            f"read_idx: {path}: corrupt gzip stream ({type(error).__name__}: {error})"
        ) from None


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``source`` names it in errors."""
    size = len(content)
    if size < 4:
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
    if size < header_size:
        raise ValueError(
            f"read_idx: {source}: header truncated: rank {rank} needs {header_size} header "
            f"bytes, the file has {size}"
        )
    shape = tuple(int(s) for s in np.frombuffer(content, dtype=">u4", count=rank, offset=4))
    dtype, type_name = IDX_DTYPES[type_code]
    count = 1
    for dimension in shape:  # Python ints: the product cannot overflow
        count *= dimension
    expected = header_size + count * dtype.itemsize
    if size != expected:
        problem = "truncated" if size < expected else "padded"
        difference = abs(size - expected)
        detail = "missing" if size < expected else "extra after the data"
        raise ValueError(
            f"read_idx: {source}: file {problem}: the header says shape {shape} of {type_name} "
            f"({expected} bytes in all), the file has {size} bytes ({difference} bytes {detail})"
        )
    data = np.frombuffer(content, dtype=dtype, count=count, offset=header_size)
    # astype copies: the result is writable and in native byte order.
    return data.astype(dtype.newbyteorder("=")).reshape(shape)
