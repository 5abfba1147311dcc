"""``.safetensors`` files: save/load by suffix, metadata, round trips with PyTorch, bad files."""

import json
import os

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import io_safetensors, nn

pytest.importorskip("safetensors")


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10),
    )


def torch_small_cnn(torch):
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(4 * 4 * 4, 10),
    )


def images(n=5, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, 8, 8)).astype(np.float32)


def test_save_and_load_by_suffix_round_trip_a_state_dict(tmp_path):
    tc.manual_seed(0)
    model = small_cnn()
    path = tmp_path / "model.safetensors"
    tc.save(model.state_dict(), path)
    loaded = tc.load(path)
    assert sorted(loaded) == sorted(model.state_dict())
    for key, value in model.state_dict().items():
        assert type(loaded[key]) is tc.Tensor and loaded[key].numpy().flags.writeable
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], np.asarray(value))
    clone = small_cnn()
    clone.load_state_dict(loaded)
    x = tc.Tensor(images())
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())


def test_the_file_is_a_real_safetensors_file(tmp_path):
    from safetensors.numpy import load_file

    path = tmp_path / "m.safetensors"
    arrays = {"a": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.array([1, 2], np.int64),
              "c": np.array([True, False])}
    tc.save(arrays, path)
    theirs = load_file(str(path))
    for key, value in arrays.items():
        assert theirs[key].dtype == value.dtype
        np.testing.assert_array_equal(theirs[key], value)


def test_zero_dim_and_empty_arrays_keep_their_shapes(tmp_path):
    arrays = {"scalar": np.float32(3.0), "zero_d": np.array(2, np.int64),
              "empty": np.zeros((0, 3))}
    tc.save(arrays, tmp_path / "m.safetensors")
    loaded = tc.load(tmp_path / "m.safetensors")
    for key, value in arrays.items():
        assert loaded[key].shape == np.shape(value) and loaded[key].dtype == value.dtype


def test_suffix_is_case_insensitive_and_other_suffixes_stay_npz(tmp_path):
    tc.save({"w": np.ones(3, np.float32)}, tmp_path / "M.SafeTensors")
    assert (tmp_path / "M.SafeTensors").read_bytes()[8:9] == b"{"
    tc.save({"w": np.ones(3, np.float32)}, tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes()[:2] == b"PK"


def test_metadata_travels_in_the_header(tmp_path):
    path = tmp_path / "m.safetensors"
    metadata = {"normalization": json.dumps({"mean": 0.25, "std": 1.5}), "note": "hi"}
    io_safetensors.save_file({"w": np.ones(2, np.float32)}, path, metadata=metadata)
    assert io_safetensors.load_metadata(path) == metadata
    assert list(io_safetensors.load_file(path)) == ["w"]
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as handle:
        assert handle.metadata() == metadata


def test_no_metadata_reads_as_an_empty_dict(tmp_path):
    tc.save({"w": np.ones(2, np.float32)}, tmp_path / "m.safetensors")
    assert io_safetensors.load_metadata(tmp_path / "m.safetensors") == {}


@pytest.mark.parametrize("metadata", [{"a": 1}, {1: "a"}, ["a"]])
def test_metadata_must_be_str_to_str(tmp_path, metadata):
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        io_safetensors.save_file({"w": np.ones(2)}, tmp_path / "m.safetensors", metadata)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("obj, message", [
    ({"state": {"a": np.ones(2)}}, "holds only tensors, but 'state' holds a Python dict"),
    ({"epoch": 3}, "'epoch' holds a Python int"),
    ({"x": np.array(["a"], dtype=object)}, "dtype object"),
    ({1: np.ones(2)}, "keys must be str"),
    ([np.ones(2)], "holds a dict of name -> tensor"),
])
def test_what_the_format_cannot_hold_is_a_type_error_naming_it(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        tc.save(obj, tmp_path / "m.safetensors")
    assert not os.listdir(tmp_path)


def test_a_tensor_that_requires_grad_and_a_non_contiguous_array_are_saved(tmp_path):
    weight = tc.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    transposed = np.arange(6, dtype=np.float32).reshape(2, 3).T
    tc.save({"w": weight, "t": transposed}, tmp_path / "m.safetensors")
    loaded = tc.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded["w"], weight.numpy())
    np.testing.assert_array_equal(loaded["t"], transposed)


def test_saving_replaces_a_file_atomically(tmp_path):
    path = tmp_path / "m.safetensors"
    tc.save({"w": np.zeros(2, np.float32)}, path)
    tc.save({"w": np.ones(2, np.float32)}, path)
    np.testing.assert_array_equal(tc.load(path)["w"], np.ones(2, np.float32))
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tc.load(tmp_path / "none.safetensors")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.safetensors"
    os.mkfifo(path)
    with pytest.raises(ValueError, match="FIFO"):
        tc.load(path)
    with pytest.raises(ValueError, match="FIFO"):
        io_safetensors.load_metadata(path)


def test_map_location_cpu_is_accepted(tmp_path):
    tc.save({"w": np.ones(2, np.float32)}, tmp_path / "m.safetensors")
    assert set(tc.load(tmp_path / "m.safetensors", map_location="cpu")) == {"w"}


def good_file_bytes():
    from safetensors.numpy import save

    return save({"w": np.arange(12, dtype=np.float32).reshape(3, 4),
                 "b": np.ones(3, np.float32)}, metadata={"k": "v"})


def corruptions():
    good = good_file_bytes()
    size = int.from_bytes(good[:8], "little")
    return {
        "empty": b"",
        "short": good[:5],
        "truncated data": good[:-4],
        "truncated header": good[:8 + size // 2],
        "huge header length": (2 ** 62).to_bytes(8, "little") + good[8:],
        "header not json": good[:8] + b"#" * size + good[8 + size:],
        "header a list": len(b"[1]").to_bytes(8, "little") + b"[1]",
        "npz file": b"PK\x03\x04" + b"\x00" * 60,
        "offsets out of range": good.replace(b'"data_offsets":[0,', b'"data_offsets":[9,', 1),
        "unknown dtype": good.replace(b'"F32"', b'"Q32"', 1),
        "random bytes": np.random.default_rng(1).bytes(300),
    }


@pytest.mark.parametrize("name", sorted(corruptions()))
def test_a_corrupt_file_is_a_value_error(tmp_path, name):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(corruptions()[name])
    with pytest.raises(ValueError, match="bad.safetensors"):
        tc.load(path)


@pytest.mark.parametrize("name", ["short", "huge header length", "header not json",
                                  "header a list"])
def test_a_corrupt_header_is_a_value_error_for_the_metadata_too(tmp_path, name):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(corruptions()[name])
    with pytest.raises(ValueError, match="bad.safetensors"):
        io_safetensors.load_metadata(path)


# ----------------------------------------------------------------------------- PyTorch


def test_our_file_loads_into_a_torch_model_with_identical_predictions(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    tc.manual_seed(3)
    model = small_cnn()
    path = tmp_path / "model.safetensors"
    tc.save(model.state_dict(), path)
    theirs = torch_small_cnn(torch)
    theirs.load_state_dict(load_file(str(path)))
    x = images(7)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    ours = model(tc.Tensor(x)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert (ours.argmax(1) == expected.argmax(1)).all()


def test_a_file_written_by_pytorch_loads_here_with_identical_predictions(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    torch.manual_seed(4)
    theirs = torch_small_cnn(torch)
    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), str(path), metadata={"from": "torch"})
    model = small_cnn()
    model.load_state_dict(tc.load(path))
    assert io_safetensors.load_metadata(path) == {"from": "torch"}
    x = images(6, seed=2)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(tc.Tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_bfloat16_and_float16_written_by_pytorch_load_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    values = torch.tensor([1.0, -2.5, 3.140625, 1e-3])
    path = tmp_path / "half.safetensors"
    save_file({"bf": values.to(torch.bfloat16), "f16": values.to(torch.float16)}, str(path))
    loaded = tc.load(path)
    assert loaded["bf"].dtype == np.float32 and loaded["f16"].dtype == np.float16
    np.testing.assert_array_equal(loaded["bf"], values.to(torch.bfloat16).float().numpy())
    np.testing.assert_array_equal(loaded["f16"], values.to(torch.float16).numpy())


def test_torch_tensors_save_directly(tmp_path):
    torch = pytest.importorskip("torch")
    theirs = torch_small_cnn(torch)
    tc.save(theirs.state_dict(), tmp_path / "m.safetensors")
    loaded = tc.load(tmp_path / "m.safetensors")
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(loaded[key], value.numpy())
