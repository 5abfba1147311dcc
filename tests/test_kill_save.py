"""``save`` under ``kill -9``: the file is always the old or the new version, and whatever
temporary file a killed save leaves is removed by the next save to that folder.

Plus the file-system promises of ``save``: a symlink is written through (the link stays),
re-saving keeps the file's permission bits.
"""

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn import load, save
from tinygrad_cnn._atomic import remove_stale_temporaries

REPO = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("TINYGRAD_CNN_KILLS", "6"))

# The child saves version 1, 2, 3, ... of a 4 MiB checkpoint in a loop, announcing each
# version before it starts writing it.
CHILD = r"""
import sys
import numpy as np
from tinygrad_cnn import save
path = sys.argv[1]
version = int(sys.argv[2])
payload = np.empty(1 << 19)
print("ready", flush=True)
while True:
    version += 1
    payload.fill(version)
    print(version, flush=True)
    save({"version": version, "payload": payload}, path)
"""


def temporaries(directory):
    return [name for name in os.listdir(directory) if ".tmp-" in name]


def check_consistent(path):
    state = load(path)
    assert np.all(state["payload"] == state["version"])
    return state["version"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_kill_9_during_save_leaves_old_or_new_file_and_next_save_cleans_up(tmp_path, capsys):
    rng = random.Random(2024)
    path = tmp_path / "ckpt.pt"
    save({"version": 0, "payload": np.zeros(1 << 19)}, path)
    version, leftovers_seen, deadline = 0, 0, time.monotonic() + 20
    kills = 0
    for _ in range(KILLS):
        if time.monotonic() > deadline:
            break
        kills += 1
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(version)],
                                 stdout=subprocess.PIPE, text=True, cwd=REPO)
        try:
            assert child.stdout.readline().strip() == "ready"
            announced = int(child.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.15))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            child.stdout.close()
        on_disk = check_consistent(path)  # the old or the new version, complete
        assert version <= on_disk, (version, on_disk)
        assert on_disk <= announced + 1000
        leftovers_seen += len(temporaries(tmp_path))
        version = on_disk
        # the next save (this process) removes what the killed one left behind
        save({"version": version, "payload": np.full(1 << 19, float(version))}, path)
        assert temporaries(tmp_path) == []
        assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]
    with capsys.disabled():
        print(f"\nkill -9 during save: {kills} kills, {leftovers_seen} temporary files left by "
              "them, all removed by the next save")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_of_a_dead_process_is_removed_by_the_next_save(tmp_path):
    stale = tmp_path / f".other.pt.tmp-{dead_pid()}-0123456789ab"
    stale.write_bytes(b"half a checkpoint")
    save({"a": np.zeros(1)}, tmp_path / "model.pt")
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]


def test_temporary_of_a_live_process_is_left_alone(tmp_path):
    live = tmp_path / f".other.pt.tmp-{os.getppid()}-0123456789ab"
    live.write_bytes(b"a concurrent save in progress")
    save({"a": np.zeros(1)}, tmp_path / "model.pt")
    assert live.exists()


def test_cleanup_ignores_files_that_merely_look_similar(tmp_path):
    for name in ("notes.tmp", ".hidden", ".x.tmp-abc-0123456789ab", "x.tmp-1-0123456789ab"):
        (tmp_path / name).write_bytes(b"keep me")
    assert remove_stale_temporaries(str(tmp_path)) == []
    assert len(os.listdir(tmp_path)) == 4


def test_save_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    target_dir = tmp_path / "real"
    target_dir.mkdir()
    target = target_dir / "model.pt"
    save({"v": np.array([1])}, target)
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    save({"v": np.array([2])}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target)["v"][0] == 2
    assert sorted(os.listdir(target_dir)) == ["model.pt"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "latest.pt"
    link.symlink_to(tmp_path / "new.pt")
    save({"v": np.array([3])}, link)
    assert link.is_symlink() and load(tmp_path / "new.pt")["v"][0] == 3


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_resaving_keeps_the_file_permissions(tmp_path, mode):
    path = tmp_path / "secret.pt"
    save({"v": np.array([1])}, path)
    os.chmod(path, mode)
    save({"v": np.array([2])}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert load(path)["v"][0] == 2


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o077)
    try:
        save({"v": np.array([1])}, tmp_path / "new.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o600
