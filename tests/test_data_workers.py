"""DataLoader(num_workers > 0): same batches as in-process, seeding, errors, no orphans."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="process checks read /proc")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children() -> set:
    pids = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            with open(f"/proc/{os.getpid()}/task/{task}/children") as stream:
                pids.update(int(pid) for pid in stream.read().split())
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return pids


class Records(Dataset):
    """Sample ``i``: a dict of an array, an int, a float, a string and the loading pid."""

    def __init__(self, count=23, failing=None, delay=0.0):
        self.count, self.failing, self.delay = count, failing, delay

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index == self.failing:
            raise KeyError(f"sample {index} is missing")
        if self.delay:
            time.sleep(self.delay)
        return {"x": np.full((2, 3), index, np.float32), "y": index, "w": index / 4,
                "name": f"s{index}", "pid": os.getpid()}


def without_pid(batch):
    return {key: (value.numpy().tolist() if hasattr(value, "numpy") else value)
            for key, value in batch.items() if key != "pid"}


@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (1, False), (23, False)])
def test_two_workers_give_exactly_the_in_process_batches(batch_size, drop_last):
    dataset = Records()
    serial = [without_pid(b) for b in DataLoader(dataset, batch_size=batch_size,
                                                 drop_last=drop_last)]
    loader = DataLoader(dataset, batch_size=batch_size, drop_last=drop_last, num_workers=2)
    parallel = list(loader)
    assert [without_pid(b) for b in parallel] == serial
    assert len(parallel) == len(loader)
    assert {int(b["pid"].numpy()[0]) for b in parallel} - {os.getpid()}  # loaded elsewhere


def test_workers_take_batches_round_robin_and_know_their_info():
    class WhoLoads(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, index):
            info = get_worker_info()
            return np.array([info.id, info.num_workers, info.seed % 1000])

    batches = [b.numpy() for b in DataLoader(WhoLoads(), batch_size=2, num_workers=3)]
    assert [int(b[0, 0]) for b in batches] == [0, 1, 2, 0, 1, 2]
    assert all((b[:, 1] == 3).all() for b in batches)
    assert get_worker_info() is None  # in the main process


def test_shuffled_batches_match_in_process_for_the_same_seed():
    dataset = TensorDataset(np.arange(50.0).reshape(25, 2), np.arange(25))

    def epochs(workers):
        loader = DataLoader(dataset, batch_size=4, shuffle=True, num_workers=workers,
                            generator=np.random.default_rng(7))
        return [[b[1].numpy().tolist() for b in loader] for _ in range(2)]

    serial = epochs(0)
    assert serial == epochs(2)
    assert serial[0] != serial[1]


def test_worker_seeds_make_random_draws_differ_between_workers_and_repeat_run_to_run():
    class Noise(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            return np.array([tc.random.generator().random(), np.random.random()])

    def run():
        tc.manual_seed(3)
        return np.concatenate([b.numpy() for b in DataLoader(Noise(), batch_size=2,
                                                             num_workers=2)])

    first, second = run(), run()
    np.testing.assert_array_equal(first, second)
    assert len(np.unique(first[:, 0])) == 8 and len(np.unique(first[:, 1])) == 8


def test_worker_init_fn_runs_in_each_worker_with_its_id():
    class Marks(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return np.array(os.environ["MARK"] == str(get_worker_info().id))

    def init(worker_id):
        os.environ["MARK"] = str(worker_id)

    batches = list(DataLoader(Marks(), batch_size=1, num_workers=2, worker_init_fn=init))
    assert all(bool(b.numpy()[0]) for b in batches)


def test_a_worker_exception_is_raised_again_with_the_worker_traceback():
    with pytest.raises(KeyError) as caught:
        list(DataLoader(Records(failing=9), batch_size=4, num_workers=2))
    message = str(caught.value)
    assert "Caught KeyError in DataLoader worker process 0" in message
    assert "Original Traceback" in message and "sample 9 is missing" in message
    assert "__getitem__" in message and "test_data_workers.py" in message


def test_an_exception_class_that_does_not_pickle_arrives_as_runtime_error():
    class LocalError(Exception):
        pass

    class Failing(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            raise LocalError("cannot load")

    with pytest.raises(RuntimeError, match="cannot load"):
        list(DataLoader(Failing(), num_workers=1))


def test_no_worker_survives_breaking_out_of_the_loop():
    before = children()
    loader = DataLoader(Records(delay=0.01), batch_size=2, num_workers=2)
    for batch in loader:
        pid = int(batch["pid"].numpy()[0])
        break
    gc.collect()
    assert not alive(pid)
    assert children() <= before


def test_no_worker_survives_an_exception_even_while_it_is_referenced():
    before = children()
    loader = DataLoader(Records(failing=5, delay=0.01), batch_size=2, num_workers=2)
    pids = []
    with pytest.raises(KeyError) as caught:
        for batch in loader:
            pids.append(int(batch["pid"].numpy()[0]))
    assert caught.traceback  # the traceback (and so the iterator's frame) is still alive
    assert pids and not any(alive(pid) for pid in pids)
    assert children() <= before


def test_explicit_close_ends_the_workers():
    iterator = iter(DataLoader(Records(delay=0.01), batch_size=2, num_workers=2))
    pid = int(next(iterator)["pid"].numpy()[0])
    iterator.close()
    assert not alive(pid)
    with pytest.raises(StopIteration):
        next(iterator)


def test_ctrl_c_leaves_no_worker_behind(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys, time
        # A shell's background jobs start with SIGINT ignored (and Python then keeps it so);
        # a terminal's foreground program has Python's handler, as restored here.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, {REPO!r})
        import numpy as np
        from tinygrad_cnn.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 1000
            def __getitem__(self, index):
                time.sleep(0.05)
                return np.array(os.getpid())

        def children():
            pids = []
            for task in os.listdir(f"/proc/{{os.getpid()}}/task"):
                try:
                    with open(f"/proc/{{os.getpid()}}/task/{{task}}/children") as stream:
                        pids += stream.read().split()
                except FileNotFoundError:
                    pass
            return pids

        try:
            for batch in DataLoader(Slow(), batch_size=2, num_workers=2):
                print("worker", int(batch.numpy()[0]), flush=True)
        except KeyboardInterrupt as interrupt:
            kept = interrupt  # keeps the loop's frames alive: workers must be gone anyway
            print("children", len(children()), flush=True)
    """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        first = process.stdout.readline()
        assert first.startswith("worker"), first
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert "children 0" in output, output
    assert not alive(int(first.split()[1]))


def test_timeout_raises_runtime_error_and_ends_the_workers():
    loader = DataLoader(Records(delay=1.5), batch_size=1, num_workers=1, timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(iter(loader))
    assert time.perf_counter() - started < 1.4


def test_a_killed_worker_is_reported_not_waited_for():
    class Suicidal(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Suicidal(), num_workers=1))


def test_persistent_workers_serve_every_epoch_from_the_same_processes():
    loader = DataLoader(Records(count=8), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [list(loader) for _ in range(3)]
    pids = [{int(b["pid"].numpy()[0]) for b in epoch} for epoch in epochs]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    assert all([without_pid(b) for b in epoch] == [without_pid(b) for b in epochs[0]]
               for epoch in epochs)
    # an epoch abandoned midway: the next one still starts at the beginning
    iterator = iter(loader)
    next(iterator)
    assert [b["y"].numpy().tolist() for b in loader] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    worker = next(iter(pids[0]))
    del loader, iterator, epochs
    gc.collect()
    assert not alive(worker)


@pytest.mark.parametrize("prefetch_factor", [1, 2, 5])
def test_prefetch_factor_changes_nothing_but_timing(prefetch_factor):
    dataset = Records(count=11)
    expected = [without_pid(b) for b in DataLoader(dataset, batch_size=3)]
    loader = DataLoader(dataset, batch_size=3, num_workers=2, prefetch_factor=prefetch_factor)
    assert [without_pid(b) for b in loader] == expected


class Stream(IterableDataset):
    """0..count-1, split between workers by get_worker_info (PyTorch's documented recipe)."""

    def __init__(self, count):
        self.count = count

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.count))
        return iter(range(info.id, self.count, info.num_workers))


def test_iterable_dataset_split_by_worker_info_yields_every_sample_once():
    serial = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=3)]
    assert serial == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    parallel = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=2,
                                                       num_workers=2)]
    # round-robin: worker 0 holds 0,2,4,6,8 and worker 1 holds 1,3,5,7,9
    assert parallel == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]


class Jittery(Dataset):
    """Large distinct samples loaded at uneven speeds, so batches arrive out of order."""

    def __len__(self):
        return 60

    def __getitem__(self, index):
        time.sleep(0.002 * (index * 7 % 5))
        return np.full((64, 64), index, np.float64), {"half": np.arange(700.0) + index}


@pytest.mark.parametrize("workers, prefetch_factor, slot_bytes",
                         [(3, 1, None), (2, 2, None), (2, 1, 40_000), (2, 1, 4_000)])
def test_shared_memory_slots_never_hand_over_a_batch_twice_or_torn(monkeypatch, workers,
                                                                   prefetch_factor, slot_bytes):
    # slot_bytes=40_000 fits one of a batch's two arrays (the rest travels in the pickle);
    # 4_000 fits none: the pure pickle path
    from tinygrad_cnn.data import transfer

    if slot_bytes is not None:
        monkeypatch.setattr(transfer, "SLOT_BYTES", slot_bytes)
    serial = [(b[0].numpy(), b[1]["half"].numpy()) for b in DataLoader(Jittery(), batch_size=3)]
    loader = DataLoader(Jittery(), batch_size=3, num_workers=workers,
                        prefetch_factor=prefetch_factor)
    for position, batch in enumerate(loader):
        if position % 4 == 0:
            time.sleep(0.03)  # a slow consumer: workers run ahead as far as allowed
        np.testing.assert_array_equal(batch[0].numpy(), serial[position][0])
        np.testing.assert_array_equal(batch[1]["half"].numpy(), serial[position][1])
        batch[0].numpy()[...] = -1  # batches are the caller's own memory, writable


def test_iterable_dataset_with_persistent_workers_restarts_each_epoch():
    loader = DataLoader(Stream(7), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [sorted(sum((b.numpy().tolist() for b in loader), [])) for _ in range(2)]
    assert epochs == [list(range(7))] * 2


def test_unbatched_loading_in_workers_equals_in_process():
    serial = [without_pid(b) for b in DataLoader(Records(count=5), batch_size=None)]
    parallel = [without_pid(b) for b in DataLoader(Records(count=5), batch_size=None,
                                                   num_workers=2)]
    assert parallel == serial and serial[3]["y"] == 3  # ints stay ints without batching


def test_loader_over_a_mapping_and_a_torch_free_transform_pipeline():
    from tinygrad_cnn.vision import transforms as T

    images = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)

    class Images(Dataset):
        transform = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(),
                               T.ToTensor()])

        def __len__(self):
            return 16

        def __getitem__(self, index):
            return self.transform(images[index]), index

    def run(workers):
        tc.manual_seed(0)
        return [b[0].numpy() for b in DataLoader(Images(), batch_size=4, num_workers=workers)]

    first, again = run(2), run(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert first[0].shape == (4, 3, 8, 8)
