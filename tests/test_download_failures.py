"""Every way a download can go wrong, against a local HTTP server (127.0.0.1 only).

The server runs ``http.server`` in a daemon thread; each path selects a behaviour (endless
body without Content-Length, lying Content-Length, stall, HTTP error, gzip bomb, ...).
Every request has a short client timeout, so no test can hang. After every failure nothing
is left at the destination or beside it, and memory stays bounded.
"""

import gzip
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib

import numpy as np
import pytest

from tinygrad_cnn.data import datasets
from tinygrad_cnn.data.download import DownloadError, fetch, gunzipped_sha256

GOOD = b"the real file\n" * 1000
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
GOOD_MD5 = hashlib.md5(GOOD).hexdigest()


def gzip_bomb(size: int) -> bytes:
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\x00" * (1 << 20)
    parts = [stream.compress(zeros) for _ in range(size >> 20)]
    return b"".join(parts) + stream.flush()


BOMB = gzip_bomb(64 << 20)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        mode = self.path.strip("/").split("/")[0]
        try:
            getattr(self, "serve_" + mode.replace("-", "_"))()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def headers_only(self, length=None, code=200):
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def serve_good(self):
        self.headers_only(len(GOOD))
        self.wfile.write(GOOD)

    def serve_good_no_length(self):
        self.headers_only()
        self.wfile.write(GOOD)

    def serve_endless(self):
        """No Content-Length, a body that never ends (until the client hangs up)."""
        self.headers_only()
        chunk = b"\x00" * (1 << 16)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.wfile.write(chunk)

    def serve_huge_length(self):
        self.headers_only(1 << 40)
        self.wfile.write(b"\x00" * 1024)

    def serve_short(self):
        self.headers_only(len(GOOD))
        self.wfile.write(GOOD[: len(GOOD) // 3])

    def serve_stall(self):
        self.headers_only(len(GOOD))
        self.wfile.write(GOOD[:100])
        self.wfile.flush()
        time.sleep(3)

    def serve_missing(self):
        self.send_error(404, "no such file")

    def serve_broken(self):
        self.send_error(500, "server on fire")

    def serve_wrong(self):
        body = GOOD.replace(b"real", b"fake")
        self.headers_only(len(body))
        self.wfile.write(body)

    def serve_bomb(self):
        self.headers_only(len(BOMB))
        self.wfile.write(BOMB)

    def serve_garbage(self):
        self.wfile.write(b"this is not HTTP at all\r\n\r\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def nothing_left(directory):
    assert os.listdir(directory) == [], os.listdir(directory)


def fetch_fails(url, directory, error, fragment, **options):
    options.setdefault("timeout", 2.0)
    options.setdefault("progress", False)
    tracemalloc.start()
    try:
        with pytest.raises(error, match=fragment):
            fetch(url, os.path.join(directory, "file.bin"), options.pop("sha256", GOOD_SHA),
                  **options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{url} cost {peak} bytes"
    nothing_left(directory)


def test_good_download_with_and_without_content_length(base_url, tmp_path):
    for mode in ("good", "good-no-length"):
        destination = tmp_path / mode
        fetch(f"{base_url}/{mode}/f", destination, GOOD_SHA, progress=False, timeout=5)
        assert destination.read_bytes() == GOOD
    assert sorted(os.listdir(tmp_path)) == ["good", "good-no-length"]


def test_endless_body_without_content_length_stops_at_the_size_limit(base_url, tmp_path):
    start = time.monotonic()
    fetch_fails(f"{base_url}/endless/f", tmp_path, ValueError, "more than 1048576 bytes",
                max_bytes=1 << 20)
    assert time.monotonic() - start < 15


def test_content_length_beyond_the_limit_is_refused_before_reading(base_url, tmp_path):
    fetch_fails(f"{base_url}/huge-length/f", tmp_path, ValueError, "announces",
                max_bytes=1 << 30)


def test_a_known_size_bounds_a_body_without_content_length(base_url, tmp_path):
    start = time.monotonic()
    fetch_fails(f"{base_url}/endless/f", tmp_path, ValueError, "more than 4096 bytes",
                size=4096)
    assert time.monotonic() - start < 15


def test_a_content_length_that_contradicts_the_known_size_is_refused(base_url, tmp_path):
    fetch_fails(f"{base_url}/good/f", tmp_path, ValueError, "known to have 10",
                size=10)


def test_a_body_shorter_than_the_known_size_is_a_dropped_transfer(base_url, tmp_path):
    fetch_fails(f"{base_url}/good-no-length/f", tmp_path, DownloadError, "dropped midway",
                size=len(GOOD) + 1)


def test_the_known_size_accepts_the_right_file(base_url, tmp_path):
    fetch(f"{base_url}/good-no-length/f", tmp_path / "f", GOOD_SHA, progress=False,
          timeout=5, size=len(GOOD))
    assert (tmp_path / "f").read_bytes() == GOOD


def test_connection_dropped_midway_is_a_download_error(base_url, tmp_path):
    fetch_fails(f"{base_url}/short/f", tmp_path, DownloadError, "dropped midway")


def test_stalled_server_times_out(base_url, tmp_path):
    fetch_fails(f"{base_url}/stall/f", tmp_path, DownloadError, "failed after",
                timeout=0.5)


@pytest.mark.parametrize("mode, code", [("missing", "404"), ("broken", "500")])
def test_http_errors_are_download_errors(base_url, tmp_path, mode, code):
    fetch_fails(f"{base_url}/{mode}/f", tmp_path, DownloadError, code)


def test_garbage_response_is_a_download_error(base_url, tmp_path):
    fetch_fails(f"{base_url}/garbage/f", tmp_path, DownloadError, "download: ")


def test_unreachable_port_is_a_download_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetch_fails(f"http://127.0.0.1:{port}/f", tmp_path, DownloadError, "cannot reach")


def test_checksum_mismatch_keeps_nothing(base_url, tmp_path):
    fetch_fails(f"{base_url}/wrong/f", tmp_path, ValueError, "checksum mismatch")


def test_md5_checked_download_keeps_the_right_file(base_url, tmp_path):
    for mode in ("good", "good-no-length"):
        fetch(f"{base_url}/{mode}/f", tmp_path / mode, md5=GOOD_MD5.upper(), progress=False,
              timeout=5)
        assert (tmp_path / mode).read_bytes() == GOOD


def test_md5_mismatch_keeps_nothing_and_names_md5(base_url, tmp_path):
    fetch_fails(f"{base_url}/good/f", tmp_path, ValueError, f"MD5 {GOOD_MD5}, expected 0{{32}}",
                sha256=None, md5="0" * 32)


def test_md5_checked_download_is_bounded_like_a_sha256_one(base_url, tmp_path):
    fetch_fails(f"{base_url}/endless/f", tmp_path, ValueError, "more than 1048576 bytes",
                sha256=None, md5=GOOD_MD5, max_bytes=1 << 20)
    fetch_fails(f"{base_url}/short/f", tmp_path, DownloadError, "dropped midway",
                sha256=None, md5=GOOD_MD5)


@pytest.mark.parametrize("checksums, fragment", [
    (dict(sha256=None), "exactly one of sha256 and md5 must be given, got neither"),
    (dict(sha256=GOOD_SHA, md5=GOOD_MD5), "exactly one of sha256 and md5 must be given, got both"),
    (dict(sha256=None, md5=GOOD_MD5, raw_sha256="0" * 64), "raw_sha256 must come with sha256"),
    (dict(sha256=None, md5=b"0" * 32), "md5 must be a hex digest str"),
])
def test_fetch_requires_exactly_one_checksum(base_url, tmp_path, checksums, fragment):
    with pytest.raises(TypeError, match=f"download: {fragment}"):
        fetch(f"{base_url}/good/f", tmp_path / "f", progress=False, timeout=5, **checksums)
    nothing_left(tmp_path)


def test_gzip_bomb_checked_by_content_is_decompressed_with_bounded_memory(base_url, tmp_path):
    fetch_fails(f"{base_url}/bomb/f", tmp_path, ValueError, "checksum mismatch",
                raw_sha256="0" * 64, max_raw_bytes=8 << 20)


def test_gunzipped_sha256_of_a_bomb_stops_at_its_limit():
    expected = hashlib.sha256(b"\x00" * (64 << 20)).hexdigest()
    tracemalloc.start()
    try:
        assert gunzipped_sha256(BOMB, max_bytes=4 << 20) is None
        assert gunzipped_sha256(BOMB) == expected
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(BOMB) + (4 << 20)


def test_partial_file_of_a_killed_download_is_removed_by_the_next_download(base_url,
                                                                           tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    partial = tmp_path / f".train-images-idx3-ubyte.gz.tmp-{process.pid}-00000000beef"
    partial.write_bytes(b"\x00" * 4096)
    fetch(f"{base_url}/good/f", tmp_path / "other.bin", GOOD_SHA, progress=False, timeout=5)
    assert sorted(os.listdir(tmp_path)) == ["other.bin"]


@pytest.mark.parametrize("base_url_value, error", [
    (None, TypeError), (b"http://x/", TypeError), (42, TypeError), ("", ValueError),
])
def test_download_mnist_checks_base_url(tmp_path, base_url_value, error):
    with pytest.raises(error, match="download_mnist: base_url"):
        datasets.download_mnist(tmp_path, base_url=base_url_value, progress=False)
    nothing_left(tmp_path)


def test_download_mnist_checks_root(tmp_path):
    with pytest.raises(TypeError, match="download_mnist: root"):
        datasets.download_mnist(None, progress=False)
    with pytest.raises(TypeError, match="mnist: root"):
        datasets.mnist(3)


def test_mnist_downloads_are_bounded(base_url, tmp_path, monkeypatch):
    """download_mnist passes its size bound: a server that streams without end is cut off
    at MNIST_MAX_BYTES (lowered here to keep the test fast)."""
    monkeypatch.setattr(datasets, "MNIST_MAX_BYTES", 1 << 20)
    files = {"t10k-labels-idx1-ubyte.gz": ("0" * 64, "0" * 64)}
    with pytest.raises(ValueError, match="more than 1048576 bytes"):
        datasets.download_mnist(tmp_path, base_url=f"{base_url}/endless/", files=files,
                                progress=False, timeout=2.0)
    nothing_left(tmp_path)


def test_downloaded_gzip_is_read_back_exactly(base_url, tmp_path):
    """A sanity check of the whole path with a real IDX payload: fetch, then read_idx."""
    from tinygrad_cnn.data.idx import read_idx
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    payload = gzip.compress(bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + array.tobytes())
    path = tmp_path / "a.gz"
    path.write_bytes(payload)
    np.testing.assert_array_equal(read_idx(path), array)
