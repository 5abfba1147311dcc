"""save / load: exact round trips, atomic writes, and a clear error for every bad file."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

from tinygrad_cnn import io as tio
from tinygrad_cnn import nn
from tinygrad_cnn.io import load, save
from tinygrad_cnn.tensor import Tensor


def optimizer_like_state():
    return {
        "state": {
            0: {"momentum_buffer": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 3},
            1: {"exp_avg": np.zeros(4), "exp_avg_sq": np.ones(4), "step": np.float32(7.0)},
        },
        "param_groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "nesterov": False,
                "maximize": True,
                "foreach": None,
                "params": [0, 1],
                "name": "backbone",
            }
        ],
    }


def assert_same(actual, expected):
    """Equal values of equal types, recursively; arrays and tensors equal in dtype, shape
    and bits (tensors also in type and ``requires_grad``)."""
    if isinstance(expected, Tensor):
        assert type(actual) is type(expected), (actual, expected)
        assert actual.requires_grad == expected.requires_grad
        actual, expected = actual.numpy(), expected.numpy()
    if isinstance(expected, np.ndarray):
        assert type(actual) is np.ndarray
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_array_equal(actual, expected)
        return
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_same(actual[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e)
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(actual)
    else:
        assert actual == expected


def test_flat_state_dict_round_trips_with_dtypes_and_shapes(tmp_path):
    state = {
        "conv1.weight": np.random.default_rng(0).standard_normal((8, 1, 3, 3)).astype(np.float32),
        "conv1.bias": np.zeros(8, dtype=np.float64),
        "bn.num_batches_tracked": np.array(5, dtype=np.int64),
        "mask": np.array([True, False]),
        "codes": np.array([1, 2], dtype=np.uint8),
        "empty": np.zeros((0, 3), dtype=np.int16),
    }
    save(state, tmp_path / "model.npz")
    assert_same(load(tmp_path / "model.npz"), state)


def test_optimizer_state_dict_round_trips_exactly(tmp_path):
    state = optimizer_like_state()
    save(state, tmp_path / "opt.npz")
    assert_same(load(tmp_path / "opt.npz"), state)


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adagrad", {}),
    ("Adadelta", {})])
def test_a_real_optimizers_state_dict_round_trips_and_resumes_alike(tmp_path, name, options):
    from tinygrad_cnn import optim

    def make():
        model = nn.Linear(3, 2)
        for p, value in zip(model.parameters(), (np.arange(6.0).reshape(2, 3) / 7,
                                                  np.array([0.5, -0.5]))):
            p._data[...] = value
        return model, getattr(optim, name)(model.parameters(), **options)

    def train(model, opt, steps):
        for step in range(steps):
            opt.zero_grad()
            x = Tensor(np.linspace(-1, 1, 12).reshape(4, 3) * (step + 1))
            (model(x) ** 2).sum().backward()
            opt.step()

    model, opt = make()
    train(model, opt, 3)
    saved = opt.state_dict()
    save(saved, tmp_path / "opt.npz")
    loaded = load(tmp_path / "opt.npz")
    assert_same(loaded, saved)  # state Tensors come back as Tensors, bit for bit
    resumed_model, resumed = make()
    resumed_model.load_state_dict(model.state_dict())
    resumed.load_state_dict(loaded)
    train(model, opt, 2)
    train(resumed_model, resumed, 2)
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_scalar_kinds_are_rebuilt_exactly(tmp_path):
    state = {
        "big_int": 2**80,
        "negative": -3,
        "third": 1 / 3,
        "inf": float("inf"),
        "nan": float("nan"),
        "flag": True,
        "none": None,
        "text": "naïve / ünïcode",
        "np_scalar": np.float16(0.5),
        "np_int": np.int32(-7),
        "nested": [(1, 2.0), [], {}, ()],
    }
    save(state, tmp_path / "s.npz")
    assert_same(load(tmp_path / "s.npz"), state)


def test_integer_and_string_keys_stay_distinct(tmp_path):
    state = {0: np.zeros(1), "0": np.ones(1)}
    save(state, tmp_path / "k.npz")
    loaded = load(tmp_path / "k.npz")
    assert set(loaded) == {0, "0"}
    assert loaded[0][0] == 0 and loaded["0"][0] == 1


def test_tensors_come_back_as_tensors_and_arrays_as_arrays(tmp_path):
    state = {"w": Tensor(np.arange(3.0), requires_grad=True), "step": Tensor(np.array(3)),
             "p": nn.Parameter(Tensor(np.ones((2, 2), dtype=np.float64))),
             "frozen": nn.Parameter(Tensor(np.zeros(2)), requires_grad=False),
             "array": np.arange(4, dtype=np.int16)}
    save(state, tmp_path / "t.npz")
    assert_same(load(tmp_path / "t.npz"), state)


def test_a_saved_state_dict_loads_back_as_tensors_into_a_fresh_model(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    save(model.state_dict(), tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert list(loaded) == list(model.state_dict())
    assert all(type(value) is Tensor and not value.requires_grad for value in loaded.values())
    fresh = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    fresh.load_state_dict(loaded)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)


def test_saving_copies_the_values_so_later_changes_do_not_reach_the_file(tmp_path):
    model = nn.Linear(2, 2)
    state = model.state_dict()
    save(state, tmp_path / "m.npz")
    before = state["weight"].clone()
    state["weight"].add_(1.0)  # through the state dict, into the model
    np.testing.assert_array_equal(load(tmp_path / "m.npz")["weight"], before)
    np.testing.assert_array_equal(model.weight.detach(), before + 1.0)


def test_a_file_marking_an_integer_tensor_as_requiring_grad_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    write_with_meta(path, meta({"t": "tensor", "key": "x", "requires_grad": True}),
                    {"x": np.arange(3)})
    assert_rejected(path, "requiring grad")


def test_file_is_a_plain_npz_with_readable_keys(tmp_path):
    save(optimizer_like_state(), tmp_path / "opt.npz")
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as archive:
        assert "state/0/momentum_buffer" in archive.files
        np.testing.assert_array_equal(archive["state/0/momentum_buffer"],
                                      np.arange(6).reshape(2, 3))


def test_keys_that_clash_with_numpy_savez_arguments_are_fine(tmp_path):
    state = {"file": np.zeros(2), "allow_pickle": np.ones(2), tio.META_KEY: np.zeros(1)}
    save(state, tmp_path / "clash.npz")
    assert_same(load(tmp_path / "clash.npz"), state)


def test_path_is_written_exactly_without_adding_a_suffix(tmp_path):
    save({"a": np.zeros(1)}, str(tmp_path / "checkpoint.bin"))
    assert os.listdir(tmp_path) == ["checkpoint.bin"]


def test_unstorable_values_raise_type_error_naming_the_key(tmp_path):
    with pytest.raises(TypeError, match="state/0/fn"):
        save({"state": {0: {"fn": print}}}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="dtype object"):
        save({"obj": np.array([None, 1], dtype=object)}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="key"):
        save({(1, 2): np.zeros(1)}, tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- file-like objects


def test_a_stream_gets_a_files_bytes_and_loads_back(tmp_path):
    state = optimizer_like_state()
    buffer = io.BytesIO()
    save(state, buffer)
    save(state, tmp_path / "opt.pt")
    assert buffer.getvalue() == (tmp_path / "opt.pt").read_bytes()
    buffer.seek(0)
    assert_same(load(buffer, map_location="cpu"), state)


def test_a_stream_is_written_and_read_from_its_position(tmp_path):
    buffer = io.BytesIO(b"header")
    buffer.seek(0, io.SEEK_END)
    save({"w": Tensor(np.arange(3.0))}, buffer)
    assert buffer.getvalue().startswith(b"header")
    buffer.seek(len(b"header"))
    assert_same(load(buffer), {"w": Tensor(np.arange(3.0))})
    with open(tmp_path / "m.pt", "wb") as stream:
        save({"w": np.ones(2)}, stream)
    with open(tmp_path / "m.pt", "rb") as stream:
        assert_same(load(stream), {"w": np.ones(2)})


def test_a_value_that_cannot_be_stored_writes_nothing_to_the_stream():
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match="state/0/fn"):
        save({"state": {0: {"fn": print}}}, buffer)
    assert buffer.getvalue() == b""


def test_a_damaged_or_foreign_stream_is_a_value_error_naming_it(tmp_path):
    buffer = io.BytesIO()
    save({"w": np.arange(4.0)}, buffer)
    damaged = bytearray(buffer.getvalue())
    damaged[len(damaged) // 2] ^= 1
    for data in (bytes(damaged), b"not a checkpoint", b""):
        with pytest.raises(ValueError, match=r"^load: the BytesIO stream is"):
            load(io.BytesIO(data))
    save({"w": np.ones(2)}, tmp_path / "m.pt")
    with open(tmp_path / "m.pt", encoding="latin-1") as text, \
            pytest.raises(TypeError, match=r"^load: the stream must be opened in binary mode"):
        load(text)


class WriteOnly:
    def write(self, data):
        return len(data)


@pytest.mark.parametrize("call", [lambda f: save({"w": np.ones(1)}, f), load])
@pytest.mark.parametrize("target", [None, 3, WriteOnly()])
def test_what_is_neither_a_path_nor_a_stream_is_a_type_error_naming_the_op(call, target):
    if call is load and isinstance(target, WriteOnly):
        target = object()
    with pytest.raises(TypeError, match=r"^(save|load): path must be a str, an os.PathLike "
                                        r"or a binary file-like object with"):
        call(target)


# ----------------------------------------------------------------------------- atomicity


def write_old_checkpoint(directory):
    path = directory / "ckpt.npz"
    save({"version": np.array([1])}, path)
    return path, path.read_bytes()


def test_failure_while_writing_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path, old_bytes = write_old_checkpoint(tmp_path)

    def broken_write_array(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(OSError, match="disk full"):
        save({"version": np.array([2])}, path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failure_at_rename_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path, old_bytes = write_old_checkpoint(tmp_path)

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(tio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        save({"version": np.array([2])}, path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_keyboard_interrupt_mid_write_leaves_no_temp(tmp_path, monkeypatch):
    path, old_bytes = write_old_checkpoint(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"version": np.array([2])}, path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_successful_save_replaces_old_file(tmp_path):
    path, _ = write_old_checkpoint(tmp_path)
    save({"version": np.array([2])}, path)
    assert load(path)["version"][0] == 2
    assert os.listdir(tmp_path) == ["ckpt.npz"]


# ----------------------------------------------------------------------------- bad files


def assert_rejected(path, *fragments):
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_non_zip_file_is_rejected(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert_rejected(path, "not a zip")


def test_npy_file_is_rejected(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    assert_rejected(path, ".npy")


def test_plain_numpy_savez_file_is_rejected_with_a_hint(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.zeros(3))
    assert_rejected(path, tio.META_KEY, "numpy.load")


def test_foreign_zip_is_rejected(tmp_path):
    path = tmp_path / "foreign.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not ours")
    assert_rejected(path, "metadata")


@pytest.mark.parametrize("keep_fraction", [0.0, 0.3, 0.6, 0.95])
def test_truncated_file_is_rejected(tmp_path, keep_fraction):
    path = tmp_path / "ckpt.npz"
    save(optimizer_like_state(), path)
    content = path.read_bytes()
    path.write_bytes(content[: max(2, int(len(content) * keep_fraction))])
    assert_rejected(path)


def test_flipped_data_byte_is_caught_by_the_zip_checksum(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.zeros(1000, dtype=np.float32)}, path)
    content = bytearray(path.read_bytes())
    position = content.index(b"\x00" * 64) + 32  # inside the zero-filled array data
    content[position] ^= 0xFF
    path.write_bytes(bytes(content))
    assert_rejected(path, "corrupt")


def write_with_meta(path, meta_bytes, arrays=None):
    buffer = io.BytesIO()
    entries = {tio.META_KEY: np.frombuffer(meta_bytes, dtype=np.uint8), **(arrays or {})}
    tio._write_npz(buffer, entries)
    path.write_bytes(buffer.getvalue())


def meta(tree, version=tio.FORMAT_VERSION, name=tio.FORMAT_NAME):
    return json.dumps({"format": name, "version": version, "tree": tree}).encode()


@pytest.mark.parametrize(
    "meta_bytes, fragment",
    [
        (b"\xff\xfe not json", "JSON"),
        (b"[1, 2]", "format"),
        (meta({"t": "none"}, name="other.format"), "format"),
        (meta({"t": "none"}, version=99), "version"),
        (meta({"t": "array", "key": "missing"}), "missing"),
        (meta({"t": "frobnicate"}), "unknown"),
        (meta({"t": "int", "v": "12x"}), "garbled"),
        (meta({"t": "dict", "items": [["q", "k", {"t": "none"}]]}), "garbled"),
        (meta({"t": "list"}), "items"),
        (meta({"t": "bool", "v": "yes"}), "bool"),
        (meta({"t": "none"}), "not described"),
    ],
)
def test_garbled_metadata_is_rejected(tmp_path, meta_bytes, fragment):
    path = tmp_path / "bad.npz"
    write_with_meta(path, meta_bytes, {"stray": np.zeros(1)} if fragment == "not described"
                    else None)
    assert_rejected(path, fragment)


def test_object_array_entry_is_rejected_without_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with archive.open(tio.META_KEY + ".npy", "w") as member:
            np.lib.format.write_array(
                member, np.frombuffer(meta({"t": "array", "key": "x"}), np.uint8)
            )
        with archive.open("x.npy", "w") as member:
            np.lib.format.write_array(member, np.array([{"a": 1}], dtype=object),
                                      allow_pickle=True)
    path.write_bytes(buffer.getvalue())
    assert_rejected(path, "allow_pickle")


def test_save_into_a_missing_directory_names_the_path_not_the_temp_file(tmp_path):
    path = tmp_path / "no_such_dir" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as info:
        save({"w": np.zeros(1)}, path)
    assert info.value.filename == str(path)
    assert str(tmp_path / "no_such_dir") in str(info.value)
    assert ".tmp" not in str(info.value)


def test_save_into_a_missing_folder_or_to_an_empty_path_is_also_pytorchs_runtime_error(
        tmp_path):
    path = tmp_path / "no_such_dir" / "ckpt.pt"
    with pytest.raises(RuntimeError, match=r"^save: path must be in an existing folder"):
        save({"w": np.zeros(1)}, path)
    with pytest.raises(FileNotFoundError, match=r"^save: path must name a file, got ''$"):
        save({"w": np.zeros(1)}, "")
    with pytest.raises(RuntimeError):
        save({"w": np.zeros(1)}, "")
    assert not (tmp_path / "no_such_dir").exists()


def test_save_onto_a_directory_names_the_path_not_the_temp_file(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        save({"w": np.zeros(1)}, tmp_path)
    assert info.value.filename == str(tmp_path)
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


@pytest.mark.torch
def test_torch_tensors_come_back_as_our_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    weight = torch.arange(4.0, requires_grad=True)
    save({"w": weight, "step": torch.tensor(3)}, tmp_path / "torch.npz")
    loaded = load(tmp_path / "torch.npz")
    assert_same(loaded["w"], Tensor(np.arange(4.0, dtype=np.float32), requires_grad=True))
    assert_same(loaded["step"], Tensor(np.array(3, dtype=np.int64)))
