"""Dataset, TensorDataset, DataLoader, digits(), mnist() and read_idx()."""

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinygrad_cnn.data.dataset as dataset_module
from tinygrad_cnn.data import (
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)
from tinygrad_cnn.data.datasets import digits, mnist, read_idx
from tinygrad_cnn.data.idx import IDX_DTYPES
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.tensor import Tensor

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
# np.bincount of the 10,000 MNIST test labels (t10k-labels-idx1-ubyte)
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

TYPE_CODES = {np.dtype(dtype.newbyteorder("=")): code for code, (dtype, _) in IDX_DTYPES.items()}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (big-endian header and data)."""
    code = TYPE_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    content = idx_bytes(array)
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


# ----------------------------------------------------------------------------- datasets


class Squares(Dataset):
    """A generic dataset: sample i is (an array filled with i, the int i**2)."""

    def __init__(self, count):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return np.full((2, 3), index, dtype=np.float32), index**2


def test_dataset_base_class_methods_are_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_tensor_dataset_indexes_every_array_along_the_first_axis():
    images = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
    labels = np.array([3, 1, 4, 1])
    dataset = TensorDataset(images, Tensor(labels))
    assert len(dataset) == 4
    image, label = dataset[2]
    assert isinstance(image, Tensor) and isinstance(label, Tensor)
    np.testing.assert_array_equal(image.numpy(), images[2])
    assert label.item() == 4


def test_tensor_dataset_rejects_different_first_dimensions_naming_shapes():
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))


def test_tensor_dataset_rejects_no_arrays_and_zero_dim_arrays():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first"):
        TensorDataset(np.zeros(()))


# ----------------------------------------------------------------------------- DataLoader


def labels_of(loader):
    return [batch[1].numpy().tolist() for batch in loader]


def test_loader_yields_lists_of_tensors_without_grad_in_order():
    images = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    loader = DataLoader(TensorDataset(images, np.arange(10)), batch_size=4)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(b, list) and len(b) == 2 for b in batches)  # as PyTorch
    assert all(isinstance(t, Tensor) and not t.requires_grad for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), images)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last_drops_the_incomplete_batch():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True)
    assert [b[0].numpy().tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9])
@pytest.mark.parametrize("batch_size", [1, 4, 8, 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_counts_batches_as_pytorch(count, batch_size, drop_last):
    loader = DataLoader(TensorDataset(np.zeros((count, 1))), batch_size=batch_size,
                        drop_last=drop_last)
    expected = count // batch_size if drop_last else -(-count // batch_size)
    assert len(loader) == expected == len(list(loader))


def test_shuffle_gives_a_new_permutation_each_epoch():
    loader = DataLoader(TensorDataset(np.zeros(50), np.arange(50)), batch_size=7,
                        shuffle=True, generator_seed=3)
    first, second = labels_of(loader), labels_of(loader)
    assert sorted(sum(first, [])) == list(range(50))
    assert sorted(sum(second, [])) == list(range(50))
    assert first != second
    assert sum(first, []) != list(range(50))


def test_same_generator_seed_gives_the_same_sequence_of_epochs():
    def epochs(seed):
        loader = DataLoader(TensorDataset(np.zeros(30), np.arange(30)), batch_size=8,
                            shuffle=True, generator_seed=seed)
        return [labels_of(loader) for _ in range(3)]

    assert epochs(11) == epochs(11)
    assert epochs(11) != epochs(12)


def test_loader_generator_is_independent_of_the_library_generator():
    def first_epoch(draw_in_between):
        loader = DataLoader(TensorDataset(np.zeros(20), np.arange(20)), batch_size=20,
                            shuffle=True, generator_seed=5)
        if draw_in_between:
            manual_seed(99)
        return labels_of(loader)

    assert first_epoch(False) == first_epoch(True)


def test_default_seed_is_repeatable_after_manual_seed():
    def first_epoch():
        manual_seed(1234)
        return labels_of(DataLoader(TensorDataset(np.zeros(20), np.arange(20)),
                                    batch_size=5, shuffle=True))

    assert first_epoch() == first_epoch()


def test_shuffle_with_drop_last_yields_only_full_batches_of_distinct_samples():
    loader = DataLoader(TensorDataset(np.zeros(10), np.arange(10)), batch_size=3,
                        shuffle=True, drop_last=True, generator_seed=0)
    batches = labels_of(loader)
    assert [len(b) for b in batches] == [3, 3, 3]
    assert len(set(sum(batches, []))) == 9


def test_generic_dataset_is_collated_by_stacking_samples():
    batches = list(DataLoader(Squares(5), batch_size=2))
    images, squares = batches[1]
    assert images.shape == (2, 2, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images.numpy()[:, 0, 0], [2, 3])
    assert squares.numpy().tolist() == [4, 9] and squares.dtype == np.int64
    assert len(batches) == 3 and batches[2][0].shape == (1, 2, 3)


def test_generic_dataset_of_single_arrays_yields_single_tensors():
    class Rows(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.array([index, -index])

    batch = next(iter(DataLoader(Rows(), batch_size=3)))
    assert isinstance(batch, Tensor)
    assert batch.numpy().tolist() == [[0, 0], [1, -1], [2, -2]]


def test_generic_dataset_of_dicts_yields_dicts():
    class Named(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return {"x": np.ones(2) * index, "y": index}

    batch = next(iter(DataLoader(Named(), batch_size=4)))
    assert set(batch) == {"x", "y"}
    assert batch["y"].numpy().tolist() == [0, 1, 2, 3]


def test_samples_of_different_shapes_raise_runtime_error_naming_them():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return np.zeros(index + 1)

    with pytest.raises(RuntimeError, match=r"\[1\].*\[2\]"):  # as torch.stack
        list(DataLoader(Ragged(), batch_size=2))


def test_tensor_dataset_batches_without_per_sample_getitem(monkeypatch):
    dataset = TensorDataset(np.arange(12.0).reshape(6, 2), np.arange(6))

    def no_per_sample_tensors(*args, **kwargs):
        raise AssertionError("the TensorDataset fast path must not build per-sample Tensors")

    monkeypatch.setattr(dataset_module, "Tensor", no_per_sample_tensors)
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True, generator_seed=0))
    assert sorted(sum((b[1].numpy().tolist() for b in batches), [])) == list(range(6))


def test_subclass_overriding_getitem_is_read_through_getitem():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            (value,) = super().__getitem__(index)
            return (Tensor(value.numpy() * 2),)

    batch = next(iter(DataLoader(Doubled(np.arange(3)), batch_size=3)))
    assert batch[0].numpy().tolist() == [0, 2, 4]


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.0}, ValueError, "batch_size"),  # PyTorch's ValueError, as any
        ({"batch_size": True}, ValueError, "batch_size"),  # batch_size not a positive int
        ({"batch_size": "2"}, ValueError, "batch_size"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"shuffle": None}, TypeError, "shuffle"),
        ({"drop_last": 1}, ValueError, "drop_last"),  # PyTorch: ValueError for a non-bool
        ({"drop_last": None}, ValueError, "drop_last"),
        ({"timeout": float("nan")}, ValueError, "timeout"),
        ({"generator_seed": -1}, ValueError, "generator_seed"),
        ({"generator_seed": 1.5}, TypeError, "generator_seed"),
    ],
)
def test_loader_validates_its_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        DataLoader(TensorDataset(np.zeros(3)), **kwargs)


def test_flags_read_by_truth_value_take_an_int_as_pytorch():
    dataset = TensorDataset(np.arange(6))
    shuffled = DataLoader(dataset, batch_size=6, shuffle=1, generator_seed=0)
    assert isinstance(shuffled.sampler, RandomSampler)
    assert sorted(next(iter(shuffled))[0].numpy().tolist()) == list(range(6))
    assert isinstance(DataLoader(dataset, shuffle=0).sampler, SequentialSampler)
    assert next(iter(DataLoader(dataset, batch_size=2, pin_memory=1)))[0].shape == (2,)


def test_a_timeout_without_workers_fails_when_iterated_as_pytorch():
    loader = DataLoader(TensorDataset(np.arange(6)), batch_size=2, timeout=5.0)
    assert len(loader) == 3  # built, as PyTorch builds it
    with pytest.raises(ValueError, match=r"^DataLoader: timeout must be 0 without workers"):
        iter(loader)
    with pytest.raises(AssertionError):  # PyTorch's type
        iter(loader)


def test_loader_rejects_a_non_dataset():
    with pytest.raises(TypeError, match="__getitem__"):
        DataLoader(42)


# ----------------------------------------------------------------------------- digits


def test_digits_are_float32_images_in_unit_range_with_int64_labels():
    pytest.importorskip("sklearn")
    images, labels = digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    np.testing.assert_array_equal(np.unique(images * 16), np.arange(17))


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install"):
        digits()


# ----------------------------------------------------------------------------- MNIST files


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip(f"MNIST test set not found in {MNIST_DIR}")
    return MNIST_DIR


def test_read_idx_reads_the_real_mnist_test_set(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_LABEL_COUNTS
    assert images.max() == 255 and images.min() == 0


def test_mnist_test_split_is_scaled_float32_with_int64_labels(mnist_dir):
    images, labels = mnist(mnist_dir, train=False)
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(labels).tolist() == MNIST_TEST_LABEL_COUNTS


def test_mnist_reads_uncompressed_files(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", pixels, compress=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5, dtype=np.uint8), compress=False)
    images, labels = mnist(tmp_path)
    np.testing.assert_allclose(images[:, 0], pixels / 255.0, rtol=1e-6)
    assert labels.tolist() == [0, 1, 2, 3, 4]


def test_mnist_without_files_names_them_and_suggests_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        mnist(tmp_path, train=True)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "download=True" in message


def test_mnist_rejects_label_count_that_disagrees_with_images(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8), True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8), True)
    with pytest.raises(ValueError, match="labels"):
        mnist(tmp_path, train=False)


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (0, 3)])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_every_dtype_and_rank(tmp_path, dtype, shape, compress):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    rng = np.random.default_rng(1)
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype) * 1e3
    result = read_idx(write_idx(tmp_path / "a.idx", array, compress))
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


def test_read_idx_detects_gzip_by_content_not_by_name(tmp_path):
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "plain.gz", array, False)), array)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "packed", array, True)), array)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "too short"),
        (b"\x00\x00\x08", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x00", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x00", "type code 0x07"),
        (b"\x00\x00\x08\x00", "rank 0"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "header truncated"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x02" + b"\x00" * 7, "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02" + b"\x00" * 3, "padded"),
        (b"\x00\x00\x08\x21" + b"\x00" * 132, "rank 33"),
    ],
)
def test_read_idx_names_the_problem(tmp_path, content, fragment):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=fragment) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncation_message_gives_expected_and_actual_byte_counts(tmp_path):
    content = idx_bytes(np.zeros((10, 4), dtype=np.float32))  # 12 + 160 bytes
    (tmp_path / "cut.idx").write_bytes(content[:100])
    with pytest.raises(ValueError, match=r"172 bytes in all.*100 bytes \(72 bytes missing\)"):
        read_idx(tmp_path / "cut.idx")


def test_padding_message_gives_expected_and_actual_byte_counts(tmp_path):
    (tmp_path / "long.idx").write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8)) + b"\n")
    with pytest.raises(ValueError, match=r"11 bytes in all.*12 bytes \(1 bytes extra"):
        read_idx(tmp_path / "long.idx")


def test_truncated_gzip_stream_is_a_value_error(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    (tmp_path / "cut.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(tmp_path / "cut.gz")


# --- properties: whatever the damage, the result is a ValueError or the right array

idx_arrays = st.tuples(
    st.sampled_from(sorted(TYPE_CODES, key=str)),
    st.lists(st.integers(0, 4), min_size=1, max_size=4),
).map(lambda spec: np.arange(int(np.prod(spec[1])), dtype=spec[0]).reshape(spec[1]))


@settings(max_examples=60, deadline=None)
@given(array=idx_arrays, data=st.data())
def test_any_truncation_or_padding_raises_value_error(tmp_path_factory, array, data):
    content = idx_bytes(array)
    if data.draw(st.booleans(), label="pad"):
        damaged = content + data.draw(st.binary(min_size=1, max_size=9), label="padding")
    else:
        damaged = content[: data.draw(st.integers(0, len(content) - 1), label="keep")]
    path = tmp_path_factory.mktemp("idx") / "damaged"
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="read_idx"):
        read_idx(path)


@settings(max_examples=150, deadline=None)
@example(prefix=b"\x00\x00", header=b"\x08\x01\x00\x00\x00\x02", body=b"ab")
@given(prefix=st.sampled_from([b"", b"\x00\x00"]), header=st.binary(max_size=24),
       body=st.binary(max_size=64))
def test_random_bytes_give_value_error_or_a_consistent_array(tmp_path_factory, prefix,
                                                             header, body):
    content = prefix + header + body
    path = tmp_path_factory.mktemp("idx") / "random"
    path.write_bytes(content)
    try:
        result = read_idx(path)
    except ValueError as error:
        assert "read_idx" in str(error)
        return
    # accepted: then the file is exactly the IDX encoding of what came back
    assert idx_bytes(result) == content


@settings(max_examples=60, deadline=None)
@given(array=idx_arrays, data=st.data())
def test_damaged_gzip_gives_value_error_or_the_original_array(tmp_path_factory, array, data):
    packed = bytearray(gzip.compress(idx_bytes(array), mtime=0))
    position = data.draw(st.integers(0, len(packed) - 1), label="position")
    packed[position] ^= data.draw(st.integers(1, 255), label="flip")
    path = tmp_path_factory.mktemp("idx") / "damaged.gz"
    path.write_bytes(bytes(packed))
    try:
        result = read_idx(path)
    except ValueError as error:
        assert "read_idx" in str(error)
        return
    np.testing.assert_array_equal(result, array)
    assert result.dtype == array.dtype
