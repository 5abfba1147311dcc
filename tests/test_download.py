"""MNIST download against a local HTTP server on 127.0.0.1: all or nothing, checksummed.

The server runs in a daemon thread for one test at a time and is shut down by the fixture;
every request has a short client timeout, so no test can hang.
"""

import gzip
import hashlib
import http.server
import os
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import datasets
from tinygrad_cnn.data.datasets import MNIST_FILES, download_mnist, mnist
from tinygrad_cnn.data.download import DownloadError, fetch

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def idx_gz(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.tobytes(), mtime=0)


def small_mnist_files() -> dict:
    """Four tiny, valid MNIST-shaped .gz files: 6 training and 4 test images."""
    rng = np.random.default_rng(0)
    files = {}
    for prefix, count in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = np.arange(count, dtype=np.uint8) % 10
        files[f"{prefix}-images-idx3-ubyte.gz"] = idx_gz(images, 0x08)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = idx_gz(labels, 0x08)
    return files


def checksum_table(files: dict) -> dict:
    return {
        name: (hashlib.sha256(content).hexdigest(),
               hashlib.sha256(gzip.decompress(content)).hexdigest())
        for name, content in files.items()
    }


class Server:
    """What the test server serves: ``files`` by name; names in ``drop`` are cut short."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.drop: set[str] = set()
        self.requests: list[str] = []
        self.url = ""


@pytest.fixture
def server():
    state = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            name = self.path.rsplit("/", 1)[-1]
            state.requests.append(name)
            content = state.files.get(name)
            if content is None:
                self.send_error(404, "no such file")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if name in state.drop:
                # promise the whole file, send half, hang up
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/mnist/"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_download_fetches_all_four_files_and_mnist_reads_them(server, tmp_path):
    server.files = small_mnist_files()
    root = tmp_path / "mnist"
    download_mnist(root, base_url=server.url, files=checksum_table(server.files),
                   progress=False, timeout=5)
    assert sorted(os.listdir(root)) == sorted(server.files)
    for name, content in server.files.items():
        assert (root / name).read_bytes() == content
    images, labels = mnist(root, train=True)
    assert images.shape == (6, 1, 28, 28) and labels.tolist() == [0, 1, 2, 3, 4, 5]


def test_mnist_download_flag_uses_base_url_and_the_checksum_table(server, tmp_path,
                                                                  monkeypatch):
    server.files = small_mnist_files()
    monkeypatch.setattr(datasets, "MNIST_FILES", checksum_table(server.files))
    images, labels = mnist(tmp_path, train=False, download=True, base_url=server.url)
    assert images.shape == (4, 1, 28, 28) and labels.dtype == np.int64


def test_download_with_progress_bar_succeeds(server, tmp_path, capsys):
    pytest.importorskip("tqdm")
    server.files = small_mnist_files()
    download_mnist(tmp_path, base_url=server.url, files=checksum_table(server.files),
                   progress=True, timeout=5)
    assert len(os.listdir(tmp_path)) == 4
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err


def test_download_without_tqdm_is_silent(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    server.files = small_mnist_files()
    download_mnist(tmp_path, base_url=server.url, files=checksum_table(server.files),
                   progress=True, timeout=5)
    assert len(os.listdir(tmp_path)) == 4
    assert capsys.readouterr().err == ""


def test_files_already_present_are_not_fetched_again(server, tmp_path):
    server.files = small_mnist_files()
    table = checksum_table(server.files)
    download_mnist(tmp_path, base_url=server.url, files=table, progress=False, timeout=5)
    server.requests.clear()
    download_mnist(tmp_path, base_url=server.url, files=table, progress=False, timeout=5)
    assert server.requests == []


def test_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    server.files = {"t10k-labels-idx1-ubyte.gz": idx_gz(np.arange(4, dtype=np.uint8), 0x08)}
    wrong = {"t10k-labels-idx1-ubyte.gz": ("0" * 64, "1" * 64)}
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        download_mnist(tmp_path, base_url=server.url, files=wrong, progress=False, timeout=5)
    assert "0" * 64 in str(info.value)
    assert os.listdir(tmp_path) == []


def test_recompressed_copy_with_the_same_content_is_accepted(server, tmp_path):
    labels = np.arange(4, dtype=np.uint8)
    published = idx_gz(labels, 0x08)
    header = bytes([0, 0, 8, 1]) + np.asarray([4], dtype=">u4").tobytes()
    recompressed = gzip.compress(header + labels.tobytes(), compresslevel=1, mtime=12345)
    assert recompressed != published
    server.files = {"t10k-labels-idx1-ubyte.gz": recompressed}
    table = {"t10k-labels-idx1-ubyte.gz": checksum_table({"x": published})["x"]}
    download_mnist(tmp_path, base_url=server.url, files=table, progress=False, timeout=5)
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == recompressed


def test_connection_dropped_midway_raises_and_leaves_no_file(server, tmp_path):
    server.files = small_mnist_files()
    server.drop = {"t10k-images-idx3-ubyte.gz"}  # the third of the four files
    with pytest.raises(DownloadError, match="dropped midway") as info:
        download_mnist(tmp_path, base_url=server.url, files=checksum_table(server.files),
                       progress=False, timeout=5)
    assert isinstance(info.value, ConnectionError)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    # the two files completed before the drop are whole and verified; nothing else is there
    assert sorted(os.listdir(tmp_path)) == ["train-images-idx3-ubyte.gz",
                                            "train-labels-idx1-ubyte.gz"]


def test_http_error_raises_download_error_and_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(server.url + "missing.gz", tmp_path / "missing.gz", "0" * 64, timeout=5,
              progress=False)
    assert os.listdir(tmp_path) == []


def test_unreachable_host_raises_download_error(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot reach"):
        fetch(f"http://127.0.0.1:{port}/x.gz", tmp_path / "x.gz", "0" * 64, timeout=5,
              progress=False)
    assert os.listdir(tmp_path) == []


def test_checksum_table_matches_the_real_mnist_test_files(server, tmp_path):
    """The shared copies are re-compressed: their content digest is what must match."""
    names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    if not all((MNIST_DIR / name).is_file() for name in names):
        pytest.skip(f"MNIST test set not found in {MNIST_DIR}")
    server.files = {name: (MNIST_DIR / name).read_bytes() for name in names}
    download_mnist(tmp_path, base_url=server.url, files={n: MNIST_FILES[n] for n in names},
                   progress=False, timeout=10)
    assert sorted(os.listdir(tmp_path)) == sorted(names)
