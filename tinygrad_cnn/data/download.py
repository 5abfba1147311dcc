"""Fetching a file over HTTP(S) with a checksum, atomically: all or nothing.

``fetch`` streams the response into a temporary file beside the destination while hashing
it, checks the length against ``Content-Length`` and the SHA-256 against the expected
digest, and only then renames the file into place. On any failure (connection refused or
dropped midway, HTTP error, checksum mismatch, Ctrl-C) the temporary file is removed, so the
destination either holds a verified file or nothing. urllib only; a ``tqdm`` progress bar
when tqdm is installed, silence otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib

from .._atomic import atomic_write

__all__ = ["fetch", "DownloadError", "sha256_of"]

CHUNK_BYTES = 1 << 16


class DownloadError(ConnectionError):
    """A transfer failed (unreachable host, HTTP error, connection dropped midway)."""


def sha256_of(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gunzipped_sha256(content: bytes) -> str | None:
    """Hex SHA-256 of the decompressed content of gzip bytes, or None when not valid gzip."""
    try:
        return hashlib.sha256(gzip.decompress(content)).hexdigest()
    except (OSError, EOFError, zlib.error):
        return None


def fetch(url: str, destination, sha256: str, raw_sha256: str | None = None,
          timeout: float = 30.0, progress: bool = True) -> None:
    """Download ``url`` to ``destination`` (a file path) if its SHA-256 is ``sha256``.

    ``raw_sha256``, when given, is the digest of the *decompressed* content of a gzip file:
    a mirror that re-compressed the same data (different bytes, same content) is accepted
    too. Raises :class:`DownloadError` (a ``ConnectionError``) when the transfer fails and
    ``ValueError`` on a checksum mismatch; in both cases nothing is left at ``destination``
    or beside it.
    """
    destination = os.fspath(destination)
    base = os.path.basename(destination)

    def write_verified(stream):
        digest = _stream_to(url, stream, timeout, progress, base)
        if digest == sha256.lower():
            return
        raw_digest = None
        if raw_sha256 is not None:
            stream.seek(0)
            raw_digest = gunzipped_sha256(stream.read())
        if raw_digest is None or raw_digest != raw_sha256.lower():
            raise ValueError(
                f"download: checksum mismatch for {url}: SHA-256 {digest}, expected "
                f"{sha256}" + (" (nor does its decompressed content match)"
                               if raw_sha256 is not None else "")
                + "; the file was not kept (a wrong mirror or a corrupted transfer)"
            )

    atomic_write(destination, write_verified)


def _stream_to(url: str, stream, timeout: float, progress: bool, label: str) -> str:
    """Copy the body of ``url`` into ``stream``; return its SHA-256 hex digest.

    Network failures become :class:`DownloadError`; a failing write (disk full) keeps its
    own ``OSError``, so the message blames the right side.
    """
    digest = hashlib.sha256()
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
                digest.update(chunk)
                stream.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
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
