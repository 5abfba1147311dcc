"""utils.data against torch.utils.data: the same datasets, samplers and collation."""

import collections

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.data as tdata
from tinygrad_cnn import Tensor

torch = pytest.importorskip("torch")
import torch.utils.data as udata  # noqa: E402

Point = collections.namedtuple("Point", "x y")


def plain(value):
    """A comparable picture of a batch: container types kept, tensors as (dtype, values)."""
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype).replace("torch.", ""), value.numpy().tolist())
    if isinstance(value, Tensor):
        return ("tensor", str(value.numpy().dtype).replace("bool", "bool"),
                value.numpy().tolist())
    if isinstance(value, dict):
        return ("dict", {key: plain(item) for key, item in value.items()})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(item) for item in value])
    return value


def both(make_dataset, **kwargs):
    """The batches of ``DataLoader(dataset, **kwargs)`` under torch and under tinygrad_cnn."""
    torch_kwargs = {key: (value[0] if isinstance(value, tuple) and len(value) == 2
                          and key.endswith("sampler") else value)
                    for key, value in kwargs.items()}
    ours_kwargs = {key: (value[1] if isinstance(value, tuple) and len(value) == 2
                         and key.endswith("sampler") else value)
                   for key, value in kwargs.items()}
    theirs = [plain(b) for b in udata.DataLoader(make_dataset(udata.Dataset)(), **torch_kwargs)]
    ours = [plain(b) for b in tdata.DataLoader(make_dataset(tdata.Dataset)(), **ours_kwargs)]
    return theirs, ours


def records(base):
    class Records(base):
        def __len__(self):
            return 11

        def __getitem__(self, index):
            return {"image": np.full((2, 2), index, np.uint8),
                    "pair": (index, index * 0.5),
                    "point": Point(np.float32(index), np.int64(-index)),
                    "name": f"item{index}", "flag": index % 2 == 0,
                    "nested": [np.arange(3, dtype=np.float64) * index, {"k": index}]}
    return Records


def pairs(base):
    class Pairs(base):
        def __len__(self):
            return 10

        def __getitem__(self, index):
            return np.arange(4, dtype=np.float32) + index, index
    return Pairs


@pytest.mark.parametrize("kwargs", [
    {},
    {"batch_size": 3},
    {"batch_size": 4, "drop_last": True},
    {"batch_size": 11},
    {"batch_size": None},
])
def test_collated_batches_equal_torchs(kwargs):
    theirs, ours = both(records, **kwargs)
    assert ours == theirs


@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_sampler_and_batch_sampler_equal_torchs(drop_last):
    theirs, ours = both(
        pairs,
        batch_sampler=(udata.BatchSampler(udata.SequentialSampler(range(10)), 3, drop_last),
                       tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last)))
    assert ours == theirs
    theirs, ours = both(pairs, batch_size=4, drop_last=drop_last,
                        sampler=(udata.SequentialSampler(range(10)),
                                 tdata.SequentialSampler(range(10))))
    assert ours == theirs


def test_a_plain_list_as_sampler_and_as_batch_sampler_equal_torchs():
    order = [7, 2, 9, 0, 4]
    theirs, ours = both(pairs, batch_size=2, sampler=order)
    assert ours == theirs
    theirs, ours = both(pairs, batch_sampler=[[3, 1], [0], [9, 8, 7]])
    assert ours == theirs


def test_tensor_dataset_fast_path_equals_torchs():
    images = np.random.default_rng(0).normal(size=(13, 1, 3, 3)).astype(np.float32)
    labels = np.arange(13)
    theirs = [plain(b) for b in udata.DataLoader(
        udata.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=5)]
    ours = [plain(b) for b in tdata.DataLoader(tdata.TensorDataset(images, labels),
                                               batch_size=5)]
    assert ours == theirs
    subset = [plain(b) for b in tdata.DataLoader(
        tdata.Subset(tdata.TensorDataset(images, labels), [4, 0, 12]), batch_size=2)]
    their_subset = [plain(b) for b in udata.DataLoader(
        udata.Subset(udata.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
                     [4, 0, 12]), batch_size=2)]
    assert subset == their_subset


@pytest.mark.parametrize("batch", [
    [1, 2, 3],
    [1.5, 2.5],
    [True, False],
    [np.float32(1.5), np.float32(2)],
    [np.int32(3), np.int32(4)],
    ["a", "b"],
    [(1, "x"), (2, "y")],
    [[1, 2.0], [3, 4.0]],
    [{"a": 1, "b": np.ones(2, np.float16)}, {"a": 2, "b": np.zeros(2, np.float16)}],
    [Point(1, 2.0), Point(3, 4.0)],
    [np.array(5), np.array(6)],
])
def test_default_collate_equals_torchs(batch):
    assert plain(tdata.default_collate(batch)) == plain(udata.default_collate(batch))


@pytest.mark.parametrize("batch, error", [
    ([np.zeros(2), np.zeros(3)], RuntimeError),
    ([[1, 2], [3]], RuntimeError),
    ([object(), object()], TypeError),
    ([np.array(["a"]), np.array(["b"])], TypeError),
])
def test_default_collate_rejects_what_torch_rejects(batch, error):
    with pytest.raises(error):
        udata.default_collate(batch)
    with pytest.raises(error):
        tdata.default_collate(batch)


@pytest.mark.parametrize("sample", [
    np.arange(3), (np.arange(2), 5), {"a": np.ones(1)}, Point(np.zeros(1), "s"), "text", 3.5,
])
def test_default_convert_equals_torchs(sample):
    assert plain(tdata.default_convert(sample)) == plain(udata.default_convert(sample))


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.1] * 10,
                                     [1.0, 0.0]])
def test_random_split_sizes_equal_torchs_and_cover_the_dataset(lengths):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = udata.random_split(range(10), lengths)
        ours = tdata.random_split(range(10), lengths, generator=np.random.default_rng(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))


def test_random_split_repeats_with_the_same_seed():
    tc.manual_seed(4)
    first = [list(s) for s in tdata.random_split(range(20), [0.5, 0.5])]
    tc.manual_seed(4)
    assert [list(s) for s in tdata.random_split(range(20), [0.5, 0.5])] == first


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [11]])
def test_random_split_rejects_what_torch_rejects(lengths):
    with pytest.raises(ValueError):
        udata.random_split(range(10), lengths)
    with pytest.raises(ValueError):
        tdata.random_split(range(10), lengths)


def test_concat_dataset_indexes_as_torchs():
    parts = [list(range(3)), list(range(10, 15)), [], list(range(20, 22))]
    theirs, ours = udata.ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    for index in range(-len(theirs), len(theirs)):
        assert ours[index] == theirs[index]
    added = tdata.Subset(list(range(5)), [1, 2]) + tdata.Subset(list(range(5)), [0])
    assert [added[i] for i in range(3)] == [1, 2, 0]


def test_random_sampler_semantics_as_torchs():
    generator = np.random.default_rng(1)
    sampler = tdata.RandomSampler(range(6), generator=generator)
    epochs = [list(sampler) for _ in range(3)]
    assert all(sorted(epoch) == list(range(6)) for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) > 1
    assert len(tdata.RandomSampler(range(6), num_samples=15)) == 15
    longer = list(tdata.RandomSampler(range(6), num_samples=15))
    assert sorted(longer[:12]) == sorted(list(range(6)) * 2)
    drawn = list(tdata.RandomSampler(range(3), replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2}
    subset = list(tdata.SubsetRandomSampler([5, 9, 11]))
    assert sorted(subset) == [5, 9, 11]


def test_weighted_random_sampler_draws_in_proportion_to_the_weights():
    weights = [1.0, 0.0, 3.0, 6.0]
    sampler = tdata.WeightedRandomSampler(weights, num_samples=20000,
                                          generator=tc.Generator().manual_seed(0))
    drawn = np.array(list(sampler))
    assert len(sampler) == len(drawn) == 20000
    np.testing.assert_allclose(np.bincount(drawn, minlength=4) / 20000, [0.1, 0, 0.3, 0.6],
                               atol=0.015)
    assert list(sampler) != list(drawn)  # a new draw each epoch
    again = tdata.WeightedRandomSampler(weights, 20000, generator=tc.Generator().manual_seed(0))
    assert list(again) == drawn.tolist()
    their_weights = udata.WeightedRandomSampler(weights, 4).weights
    ours = tdata.WeightedRandomSampler(np.array(weights, dtype=np.float32), 4).weights
    assert isinstance(ours, Tensor) and ours.dtype == np.float64
    np.testing.assert_array_equal(ours.numpy(), their_weights.numpy())


def test_weighted_random_sampler_without_replacement_takes_zero_weights_last():
    for seed in range(20):
        generator = tc.Generator().manual_seed(seed)
        order = list(tdata.WeightedRandomSampler([0.0, 5.0, 0.0, 1.0, 2.0], 5,
                                                 replacement=False, generator=generator))
        assert sorted(order[:3]) == [1, 3, 4] and sorted(order[3:]) == [0, 2]
    theirs = list(udata.WeightedRandomSampler([0.0, 5.0, 0.0, 1.0, 2.0], 5, replacement=False))
    assert sorted(theirs[:3]) == [1, 3, 4]
    first = collections.Counter(
        next(iter(tdata.WeightedRandomSampler([1.0, 9.0], 1, replacement=False)))
        for _ in range(2000))
    assert 0.85 < first[1] / 2000 < 0.95


def test_weighted_random_sampler_batches_a_loader_like_torchs():
    dataset = tdata.TensorDataset(Tensor(np.arange(10.0)), Tensor(np.arange(10) % 2))
    weights = [0.0 if label else 1.0 for label in np.arange(10) % 2]  # only even rows
    loader = tdata.DataLoader(dataset, batch_size=4,
                              sampler=tdata.WeightedRandomSampler(weights, num_samples=10))
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    assert all((y.numpy() == 0).all() for _, y in batches)


@pytest.mark.parametrize("args, kwargs", [
    (([1.0, -1.0], 3), {}), (([0.0, 0.0], 3), {}), (([1.0, float("nan")], 3), {}),
    (([1.0, float("inf")], 3), {}), (([], 2), {}), (([1.0, 1.0], 3), {"replacement": False}),
    (([[1.0]], 1), {}), ((["a"], 1), {}), (([1, 2], 2.0), {}), (([1, 2], 0), {}),
    (([1, 2], True), {}), (([1, 2], 2), {"replacement": 1})])
def test_weighted_random_sampler_refuses_what_torch_refuses_naming_the_sampler(args, kwargs):
    """PyTorch refuses bad weights at the first epoch (``torch.multinomial``), the rest when
    built; ours all when built, with PyTorch's type."""
    with pytest.raises((ValueError, RuntimeError)) as theirs:
        list(udata.WeightedRandomSampler(*args, **kwargs))
    with pytest.raises(theirs.type, match="^WeightedRandomSampler: "):
        tdata.WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize("make", [
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.BatchSampler(range(3), 0, False),
    lambda m: m.BatchSampler(range(3), 2, 1),
])
def test_samplers_reject_what_torch_rejects(make):
    with pytest.raises((ValueError, TypeError)) as theirs:
        make(udata)
    with pytest.raises(theirs.type):
        make(tdata)


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
])
def test_loader_rejects_what_torch_rejects_with_the_same_type(kwargs):
    dataset = list(range(4))
    with pytest.raises(ValueError) as theirs:
        udata.DataLoader(dataset, **kwargs)
    with pytest.raises(ValueError) as ours:
        tdata.DataLoader(dataset, **kwargs)
    # ours names the op first, then the argument PyTorch's message starts with
    assert str(ours.value).startswith("DataLoader: ")
    assert str(theirs.value).split()[0] in str(ours.value)


def test_iterable_dataset_options_rejected_as_torchs():
    class Stream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="IterableDataset"):
            tdata.DataLoader(Stream(), **kwargs)
    assert [b.numpy().tolist() for b in tdata.DataLoader(Stream(), batch_size=2)] == [[0, 1],
                                                                                      [2]]


def test_len_of_loader_equals_torchs():
    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                   {"batch_size": None}, {"batch_sampler": [[0, 1], [2]]}):
        assert len(tdata.DataLoader(list(range(10)), **kwargs)) == len(
            udata.DataLoader(list(range(10)), **kwargs))


def test_epoch_defining_attributes_are_frozen_as_torchs():
    for module in (udata, tdata):
        loader = module.DataLoader(list(range(4)), batch_size=2)
        with pytest.raises(ValueError, match="batch_size attribute should not be set"):
            loader.batch_size = 3
        loader.num_workers = 0  # others may change


def test_utils_data_alias_exports_the_contract_names_of_torch_utils_data():
    import tinygrad_cnn.utils.data as alias

    contract = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split",
                "ConcatDataset", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                "WeightedRandomSampler", "BatchSampler", "get_worker_info", "default_collate",
                "DataLoader"]
    assert sorted(alias.__all__) == sorted(tdata.__all__)
    for name in contract:
        assert name in udata.__all__ or hasattr(udata, name)
        assert getattr(alias, name) is getattr(tdata, name)
