"""A corpus of hostile files, generated here, against ``load`` and ``read_idx``.

Every damaged, foreign or crafted file must give ``ValueError`` naming the file (never another
exception, never a silently wrong result) with bounded memory (``tracemalloc``, which sees
numpy's allocations too), and a FIFO must be refused at once instead of blocking.
"""

import gzip
import hashlib
import io
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import tinygrad_cnn.io as tio
from tinygrad_cnn import load, save
from tinygrad_cnn.data.idx import read_idx

MEMORY_BOUND = 8 << 20  # bytes any rejected file may cost (the files themselves are smaller)


def small_state():
    return {
        "conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
        "conv.bias": np.array([0.5, -1.5], dtype=np.float32),
        "bn.num_batches_tracked": np.int64(7),
        "optimizer": {"state": {0: {"step": 3, "buf": np.ones(4)}},
                      "param_groups": [{"lr": 0.1, "params": [0], "nesterov": False}]},
    }


@pytest.fixture
def scratch(tmp_path):
    """A directory for the thousands of small files of the exhaustive tests: in memory
    (/dev/shm) where there is one, since a disk-backed /tmp costs milliseconds per write."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        directory = tempfile.mkdtemp(dir="/dev/shm", prefix="tinygrad_cnn-hostile-")
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    else:
        yield str(tmp_path)


@pytest.fixture
def checkpoint_bytes(tmp_path):
    path = tmp_path / "good.pt"
    save(small_state(), path)
    return path.read_bytes()


def rejected(path, *fragments):
    """Load ``path``: assert ValueError naming it, with bounded memory."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message and message.startswith("load: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert peak < MEMORY_BOUND, f"rejecting {path} took {peak} bytes"
    return message


def stamped(zip_bytes_without_comment_writer) -> bytes:
    """A zip written by ``writer(archive)`` carrying a valid digest, as save stamps it: the
    crafted content passes the checksum, so the structural checks must catch it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        zip_bytes_without_comment_writer(archive)
        archive.comment = tio.DIGEST_PREFIX + b"0" * tio.DIGEST_HEX_LENGTH
    content = buffer.getvalue()
    digest = hashlib.sha256(content[:-tio.DIGEST_HEX_LENGTH]).hexdigest().encode()
    return content[:-tio.DIGEST_HEX_LENGTH] + digest


def meta_bytes(tree, version=tio.FORMAT_VERSION):
    return json.dumps({"format": tio.FORMAT_NAME, "version": version, "tree": tree}).encode()


def npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def write_members(members: dict, compress=zipfile.ZIP_STORED):
    def writer(archive):
        for name, content in members.items():
            archive.writestr(name, content, compress_type=compress)
    return stamped(writer)


def with_meta(tree, **members):
    return {tio.META_KEY + ".npy": npy_bytes(np.frombuffer(meta_bytes(tree), np.uint8)),
            **members}


# ----------------------------------------------------------------------------- damage


def test_the_corpus_base_file_loads(tmp_path, checkpoint_bytes):
    path = tmp_path / "copy.pt"
    path.write_bytes(checkpoint_bytes)
    loaded = load(path)
    np.testing.assert_array_equal(loaded["conv.weight"], small_state()["conv.weight"])
    assert loaded["optimizer"]["state"][0]["step"] == 3


def write(path, content: bytes) -> None:
    with open(path, "wb") as stream:
        stream.write(content)


def test_truncation_at_every_offset_is_a_value_error(scratch, checkpoint_bytes):
    path = os.path.join(scratch, "cut.pt")
    for keep in range(len(checkpoint_bytes)):
        write(path, checkpoint_bytes[:keep])
        with pytest.raises(ValueError, match="load: "):
            load(path)


def test_a_flipped_bit_at_every_byte_is_found(scratch, checkpoint_bytes):
    """One random bit flipped in each byte in turn (headers, central directory, data,
    comment): the SHA-256 over the whole file finds every one."""
    rng = random.Random(11)
    path = os.path.join(scratch, "flipped.pt")
    for position in range(len(checkpoint_bytes)):
        damaged = bytearray(checkpoint_bytes)
        damaged[position] ^= 1 << rng.randrange(8)
        write(path, bytes(damaged))
        with pytest.raises(ValueError, match="load: "):
            load(path)


def test_a_flipped_bit_in_a_large_members_header_is_found(tmp_path):
    """The issue's case: a member over 4 KiB whose .npy header (shape, dtype) is damaged."""
    path = tmp_path / "large.pt"
    save({"w": np.zeros((64, 64), dtype=np.float32)}, path)
    content = bytearray(path.read_bytes())
    position = content.index(b"'shape': (64, 64)") + len("'shape': (6")
    content[position] ^= 0x01  # (64, 64) -> (65, 64)... a header that still parses
    path.write_bytes(bytes(content))
    rejected(path, "checksum")


# ----------------------------------------------------------------------------- foreign


@pytest.mark.parametrize("content, fragment", [
    (b"", "not a zip"),
    (b"hello, this is plain text\n", "not a zip"),
    (pickle.dumps({"w": [1.0, 2.0]}), "not a zip"),
    (npy_bytes(np.zeros(3)), ".npy"),
    (b"PK\x05\x06" + b"\x00" * 18, ""),  # an empty zip
])
def test_foreign_bytes_are_rejected(tmp_path, content, fragment):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    rejected(path, fragment)


def test_numpy_savez_compressed_file_is_rejected(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez_compressed(path, w=np.zeros(10))
    rejected(path)


@pytest.mark.parametrize("members, fragment", [
    ({"notes.txt": b"raw text"}, "foreign member"),
    ({"x.npy": b"just some text, not an array"}, ""),
    ({"x.npy": pickle.dumps([1, 2, 3])}, ""),
    ({"x.npy": npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)},
     "allow_pickle"),
])
def test_foreign_members_are_rejected_not_returned(tmp_path, members, fragment):
    path = tmp_path / "crafted.pt"
    path.write_bytes(write_members(with_meta({"t": "array", "key": "x"}, **members)))
    rejected(path, fragment)


def test_member_not_in_metadata_is_rejected(tmp_path):
    path = tmp_path / "extra.pt"
    path.write_bytes(write_members(with_meta({"t": "none"}, **{"x.npy": npy_bytes(np.ones(2))})))
    rejected(path, "not described")


def test_missing_checksum_in_a_current_version_file_is_rejected(tmp_path):
    path = tmp_path / "unstamped.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in with_meta({"t": "none"}).items():
            archive.writestr(name, content)
    path.write_bytes(buffer.getvalue())
    rejected(path, "checksum")


def test_version_1_files_still_load(tmp_path):
    """Files written before the checksum existed (format version 1) stay readable."""
    path = tmp_path / "old.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        tree = {"t": "dict", "items": [["s", "w", {"t": "array", "key": "w"}]]}
        archive.writestr(tio.META_KEY + ".npy",
                         npy_bytes(np.frombuffer(meta_bytes(tree, version=1), np.uint8)))
        archive.writestr("w.npy", npy_bytes(np.arange(3.0)))
    path.write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(load(path)["w"], np.arange(3.0))


# ----------------------------------------------------------------------------- crafted


def crafted_npy(header_text: bytes, payload: bytes = b"") -> bytes:
    """A version-1 .npy whose header dict is ``header_text`` verbatim."""
    header = header_text + b" " * (-(len(header_text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload


@pytest.mark.parametrize("header, fragment", [
    (b"{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,), }", ""),
    (b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", "declares"),
    (b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "declares"),
    (b"{'descr': 'O', 'fortran_order': False, 'shape': (1,), }", ""),
    (b"{'descr': '<f8', 'fortran_order': False, 'shape': " + b"(" * 3000 + b")" * 3000
     + b", }", ""),
    (b"[1, 2, 3]", ""),
    (b"{'descr': '<f8', 'fortran_order': 'maybe', 'shape': (1,), }", ""),
    (b"__import__('os').system('echo owned')", ""),
    (b"{'descr': 'V0', 'fortran_order': False, 'shape': (10**9,), }", ""),
    (b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", ""),
], ids=["power", "huge", "too-small", "object", "nested", "list", "fortran-str", "code",
        "zero-itemsize", "negative"])
def test_crafted_npy_headers_are_rejected_before_allocating(tmp_path, header, fragment):
    path = tmp_path / "crafted.pt"
    member = crafted_npy(header, payload=b"\x00" * 8)
    path.write_bytes(write_members(with_meta({"t": "array", "key": "x"}, **{"x.npy": member})))
    rejected(path, fragment)


def test_npy_format_version_9_is_rejected(tmp_path):
    path = tmp_path / "v9.pt"
    member = b"\x93NUMPY\x09\x00" + npy_bytes(np.zeros(1))[8:]
    path.write_bytes(write_members(with_meta({"t": "array", "key": "x"}, **{"x.npy": member})))
    rejected(path)


@pytest.mark.parametrize("meta", [
    b"[" * 200000 + b"]" * 200000,                                    # JSON recursion bomb
    meta_bytes(json.loads('{"t": "list", "items": [' * 150 + "]}" * 150)),  # deep tree
    meta_bytes({"t": "int", "v": "9" * 100000}),                        # huge int literal
    meta_bytes({"t": "float", "v": "0x1p99999999999"}),
    meta_bytes({"t": "dict", "items": [["i", "x", {"t": "none"}]]}),
    meta_bytes({"t": "array", "key": tio.META_KEY}),                    # itself as data
    json.dumps({"format": tio.FORMAT_NAME, "version": True, "tree": {"t": "none"}}).encode(),
    b"\xff" * 100,
], ids=["json-bomb", "deep-tree", "huge-int", "huge-float", "bad-int-key", "self-reference",
        "bool-version", "not-utf8"])
def test_crafted_metadata_is_rejected(tmp_path, meta):
    path = tmp_path / "meta.pt"
    members = {tio.META_KEY + ".npy": npy_bytes(np.frombuffer(meta, np.uint8))}
    path.write_bytes(write_members(members))
    rejected(path)


def test_save_refuses_nesting_deeper_than_load_reads(tmp_path):
    deep = []
    for _ in range(tio.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        save(deep, tmp_path / "deep.pt")
    shallow = []
    for _ in range(tio.MAX_DEPTH - 1):
        shallow = [shallow]
    save(shallow, tmp_path / "ok.pt")
    assert load(tmp_path / "ok.pt") == shallow


def test_encrypted_flag_is_rejected(tmp_path, checkpoint_bytes):
    content = bytearray(write_members(with_meta({"t": "none"})))
    # set the "encrypted" bit in the central directory entry (general purpose flag)
    central = content.index(b"PK\x01\x02")
    content[central + 8] |= 0x01
    digest_at = len(content) - tio.DIGEST_HEX_LENGTH
    content[digest_at:] = hashlib.sha256(bytes(content[:digest_at])).hexdigest().encode()
    path = tmp_path / "encrypted.pt"
    path.write_bytes(bytes(content))
    rejected(path)


# ----------------------------------------------------------------------------- bombs


def test_npz_bomb_is_rejected_without_inflating(tmp_path):
    """A deflated member inflating to 64 MiB, declared by a consistent .npy header: load
    accepts stored members only, so it is refused without decompressing anything."""
    data = npy_bytes(np.zeros(1, dtype=np.uint8))[:-1]
    header = data.replace(b"(1,)", b"(67108864,)")[:len(data)]
    zeros = b"\x00" * (1 << 20)

    def writer(archive):
        archive.writestr(tio.META_KEY + ".npy",
                         npy_bytes(np.frombuffer(meta_bytes({"t": "array", "key": "x"}),
                                                 np.uint8)))
        with archive.open("x.npy", "w", force_zip64=True) as member:
            member.write(header)
            for _ in range(64):
                member.write(zeros)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer(archive)
    path = tmp_path / "bomb.npz"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < (1 << 20)
    rejected(path, "compressed")


def idx_header(shape, code=0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


def idx_rejected(path, *fragments, bound=MEMORY_BOUND):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith("read_idx: ") and str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert peak < bound, f"read_idx took {peak} bytes on {path}"


def test_gzip_bomb_with_a_huge_header_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.gz"
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = stream.compress(idx_header((60000, 4096, 4096)))
    body += stream.compress(b"\x00" * (8 << 20)) + stream.flush()
    path.write_bytes(body)
    idx_rejected(path, "limit")


def test_gzip_bomb_declaring_more_than_it_can_hold_is_refused(tmp_path):
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip.compress(idx_header((1000, 1000, 500)) + b"\x00" * 1000))
    idx_rejected(path, "truncated")


def test_gzip_bomb_beyond_its_header_stops_at_the_header_size(tmp_path):
    """A header of 1 MiB followed by 64 MiB of zeros: read_idx reads what the header
    declares, sees more follow, and stops: memory stays near the declared size."""
    path = tmp_path / "padded.gz"
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [stream.compress(idx_header((1024, 1024)))]
    zeros = b"\x00" * (1 << 20)
    parts += [stream.compress(zeros) for _ in range(64)]
    parts.append(stream.flush())
    path.write_bytes(b"".join(parts))
    assert path.stat().st_size < (1 << 20)
    idx_rejected(path, "padded", bound=8 << 20)


def test_idx_size_limit_is_adjustable(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(idx_header((4, 4)) + bytes(16))
    with pytest.raises(ValueError, match="limit of 8 bytes"):
        read_idx(path, max_bytes=8)
    assert read_idx(path, max_bytes=16).shape == (4, 4)


# ----------------------------------------------------------------------------- special files


def test_symlink_to_a_checkpoint_loads_its_target(tmp_path, checkpoint_bytes):
    target = tmp_path / "real.pt"
    target.write_bytes(checkpoint_bytes)
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    assert load(link)["conv.bias"][1] == -1.5


def test_symlink_loop_and_dangling_link_raise_os_errors(tmp_path):
    loop = tmp_path / "loop.pt"
    loop.symlink_to(loop)
    with pytest.raises(OSError):
        load(loop)
    dangling = tmp_path / "dangling.pt"
    dangling.symlink_to(tmp_path / "nowhere.pt")
    with pytest.raises(FileNotFoundError):
        load(dangling)


def finishes_quickly(function, seconds=5.0):
    """Run ``function`` in a thread; return what it raised (it must finish in time)."""
    outcome = {}

    def run():
        try:
            function()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked on a special file"
    return outcome.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("reader", [load, read_idx], ids=["load", "read_idx"])
def test_fifo_is_refused_immediately(tmp_path, reader):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    try:
        error = finishes_quickly(lambda: reader(fifo))
    finally:
        # unblock a reader stuck in open() (the bug this test guards against)
        descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK) if error is None else None
        if descriptor is not None:
            os.close(descriptor)
    assert isinstance(error, ValueError) and "FIFO" in str(error), error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("reader", [load, read_idx], ids=["load", "read_idx"])
def test_device_files_are_refused(reader):
    error = finishes_quickly(lambda: reader("/dev/zero"))
    assert isinstance(error, ValueError) and "not a regular file" in str(error)


def test_directory_raises_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


# ----------------------------------------------------------------------------- a fresh process


def test_loading_hostile_files_cannot_run_code(tmp_path):
    """A member built from a pickle whose unpickling would create a file: loading it in a
    fresh process raises ValueError and the file never appears."""
    marker = tmp_path / "owned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = npy_bytes(np.array([Exploit()], dtype=object), allow_pickle=True)
    path = tmp_path / "exploit.pt"
    path.write_bytes(write_members(with_meta({"t": "array", "key": "x"},
                                             **{"x.npy": payload})))
    code = ("import sys; from tinygrad_cnn import load\n"
            "try:\n    load(sys.argv[1])\nexcept ValueError:\n    print('refused')\n")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__))))
    assert result.stdout.strip() == "refused", result.stderr
    assert not marker.exists()
