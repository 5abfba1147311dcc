"""Fetching a file over HTTP(S) with a checksum, atomically: all or nothing.

``fetch`` streams the response into a temporary file beside the destination while hashing
it, checks the length against ``Content-Length`` and the SHA-256 (or, for files whose only
published checksum is one, the MD5) against the expected digest, and only then renames the
file into place. On any failure (connection refused or dropped midway, HTTP error, checksum
mismatch, Ctrl-C) the temporary file is removed, so the destination either holds a verified
file or nothing; a temporary file left by a process killed mid-download is removed by the
next download into that folder (see :mod:`tinygrad_cnn._atomic`). The body is bounded before
any checksum is computed: by ``max_bytes`` always, by ``Content-Length`` when the server sends
one; a gzip body checked by its decompressed content is decompressed as a stream, bounded by
``max_raw_bytes``. urllib only; a ``tqdm`` progress bar when tqdm is installed, silence otherwise.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import urllib.error
import urllib.request
import zlib

from .._atomic import atomic_write

__all__ = ["fetch", "DownloadError", "sha256_of"]

CHUNK_BYTES = 1 << 16
# Defaults of fetch's bounds: far above any dataset file it is used for, far below a disk.
MAX_BYTES = 1 << 30
MAX_RAW_BYTES = 4 << 30


class DownloadError(ConnectionError):
    """A transfer failed (unreachable host, HTTP error, connection dropped midway)."""


def sha256_of(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gunzipped_sha256(content, max_bytes: int = MAX_RAW_BYTES) -> str | None:
    """Hex SHA-256 of the decompressed content of gzip data (bytes or a binary stream), or
    None when it is not valid gzip or decompresses to more than ``max_bytes``.

    Decompressed as a stream (every gzip member in turn), so memory stays bounded whatever
    the compression ratio (a gzip bomb costs time up to ``max_bytes``, never memory)."""
    stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else content
    digest = hashlib.sha256()
    produced = 0
    decompressor = zlib.decompressobj(wbits=31)
    pending = b""
    try:
        while True:
            data = pending or stream.read(CHUNK_BYTES)
            pending = b""
            if not data:
                return digest.hexdigest() if decompressor.eof else None  # else: cut short
            if decompressor.eof:  # the previous gzip member ended: the next one starts
                decompressor = zlib.decompressobj(wbits=31)
            while data:
                # bounded output per call: a bomb never materialises in memory
                chunk = decompressor.decompress(data, CHUNK_BYTES)
                produced += len(chunk)
                if produced > max_bytes:
                    return None
                digest.update(chunk)
                if decompressor.eof:
                    pending = decompressor.unused_data
                    break
                data = decompressor.unconsumed_tail
    except zlib.error:
        return None


def fetch(url: str, destination, sha256: str | None = None, raw_sha256: str | None = None,
          timeout: float = 30.0, progress: bool = True, max_bytes: int = MAX_BYTES,
          max_raw_bytes: int = MAX_RAW_BYTES, size: int | None = None, *,
          md5: str | None = None) -> None:
    """Download ``url`` to ``destination`` (a file path) if its checksum matches.

    Exactly one of ``sha256`` and ``md5`` names the expected hex digest of the file's bytes
    (``md5`` for the files whose only published checksum is an MD5, as torchvision's
    FashionMNIST and CIFAR-10). ``raw_sha256``, with ``sha256`` only, is the digest of the
    *decompressed* content of a gzip file: a mirror that re-compressed the same data
    (different bytes, same content) is accepted too. The transfer stops with ``ValueError``
    as soon as the body exceeds ``max_bytes`` or the ``Content-Length`` the server announced
    (a ``Content-Length`` above ``max_bytes`` is refused before anything is read); a gzip
    body is decompressed for ``raw_sha256`` up to ``max_raw_bytes``. ``size``, when the
    file's size is known, bounds the body too (more is refused as it arrives, less is a
    dropped transfer, whatever the server's ``Content-Length`` says). Raises
    :class:`DownloadError` (a ``ConnectionError``) when the transfer fails and
    ``ValueError`` on a checksum mismatch or a size beyond a bound; in every case nothing is
    left at ``destination`` or beside it.
    """
    if not isinstance(url, str):
        raise TypeError(f"download: url must be a str, got {type(url).__name__}")
    if (sha256 is None) == (md5 is None):
        raise TypeError("download: exactly one of sha256 and md5 must be given, got "
                        + ("both" if sha256 is not None else "neither"))
    for name, value in (("sha256", sha256), ("md5", md5), ("raw_sha256", raw_sha256)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"download: {name} must be a hex digest str, got "
                            f"{type(value).__name__}")
    if raw_sha256 is not None and sha256 is None:
        raise TypeError("download: raw_sha256 must come with sha256, got it with md5")
    for name, value in (("max_bytes", max_bytes), ("max_raw_bytes", max_raw_bytes),
                        ("size", 0 if size is None else size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"download: {name} must be a non-negative int, got {value!r}")
    if size is not None:
        max_bytes = min(max_bytes, size)
    algorithm, expected = ("sha256", sha256) if sha256 is not None else ("md5", md5)
    destination = os.fspath(destination)
    base = os.path.basename(destination)

    def write_verified(stream):
        digest = _stream_to(url, stream, timeout, progress, base, max_bytes, size, algorithm)
        if digest == expected.lower():
            return
        raw_digest = None
        if raw_sha256 is not None:
            stream.seek(0)
            raw_digest = gunzipped_sha256(stream, max_raw_bytes)
        if raw_digest is None or raw_digest != raw_sha256.lower():
            raise ValueError(
                f"download: checksum mismatch for {url}: {_LABELS[algorithm]} {digest}, "
                f"expected {expected}" + (" (nor does its decompressed content match)"
                                          if raw_sha256 is not None else "")
                + "; the file was not kept (a wrong mirror or a corrupted transfer)"
            )

    atomic_write(destination, write_verified)


_LABELS = {"sha256": "SHA-256", "md5": "MD5"}


def _new_digest(algorithm: str):
    # MD5 here only matches a published checksum (integrity, not security)
    return (hashlib.md5(usedforsecurity=False) if algorithm == "md5"
            else hashlib.new(algorithm))


def _stream_to(url: str, stream, timeout: float, progress: bool, label: str,
               max_bytes: int, size: int | None = None, algorithm: str = "sha256") -> str:
    """Copy the body of ``url`` into ``stream``; return its hex digest by ``algorithm``.

    Network failures become :class:`DownloadError`; a failing write (disk full) keeps its
    own ``OSError``, so the message blames the right side.
    """
    digest = _new_digest(algorithm)
    received = 0
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"download: {url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"download: cannot reach {url}: {error.reason}") from None
    except (http.client.HTTPException, OSError) as error:
        raise DownloadError(f"download: cannot reach {url}: {error}") from None
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None and length.strip().isdigit() else None
        if size is not None and expected is not None and expected != size:
            raise ValueError(
                f"download: {url} announces {expected} bytes (Content-Length), the file is "
                f"known to have {size}; nothing was kept"
            )
        if expected is not None and expected > max_bytes:
            raise ValueError(
                f"download: {url} announces {expected} bytes (Content-Length), more than the "
                f"limit of {max_bytes} bytes; nothing was kept"
            )
        limit = max_bytes if expected is None else expected
        with _progress_bar(progress, expected, label) as bar:
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (http.client.HTTPException, OSError) as error:
                    # a peer that resets or stalls mid-body: IncompleteRead, timeout, reset
                    raise DownloadError(
                        f"download: connection to {url} failed after {received} bytes "
                        f"({type(error).__name__}: {error})"
                    ) from None
                if not chunk:
                    break
                if received + len(chunk) > limit:
                    what = ("the Content-Length it announced" if expected is not None
                            else "the size limit")
                    raise ValueError(
                        f"download: {url} sent more than {limit} bytes ({what}); the transfer "
                        "was stopped and nothing was kept"
                    )
                digest.update(chunk)
                stream.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is None and size is not None:
        expected = size
    if expected is not None and received != expected:
        # urllib hands back a short body without complaint when the server closes early.
        raise DownloadError(
            f"download: connection to {url} dropped midway: received {received} of "
            f"{expected} bytes"
        )
    return digest.hexdigest()


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def update(self, count: int) -> None:
        pass


def _progress_bar(enabled: bool, total: int | None, label: str):
    if enabled:
        try:
            from tqdm import tqdm  # optional: the `examples` extra installs it
        except ImportError:
            pass
        else:
            return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label)
    return _NoBar()
