"""The example scripts, run as a user runs them (a subprocess in a fresh folder), tiny settings."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
TRAIN = os.path.join(EXAMPLES, "train_cnn.py")
TINY = ["--limit", "160", "--batch-size", "32"]


def run(script, *args, cwd):
    return subprocess.run([sys.executable, script, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def has(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


needs_sklearn = pytest.mark.skipif(not has("sklearn"), reason="digits need scikit-learn")


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    result = run(TRAIN, *TINY, "--epochs", "1", "--lr-step", "1", "--out", "out", cwd=folder)
    return result, folder / "out"


@pytest.fixture(scope="module")
def two_epoch_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    result = run(TRAIN, *TINY, "--epochs", "2", "--lr-step", "1", "--out", "out", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "out"


@needs_sklearn
def test_train_cnn_exits_cleanly_and_reports_accuracy_and_time(one_epoch_run):
    result, _ = one_epoch_run
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and " s;" in result.stdout


@needs_sklearn
def test_train_cnn_leaves_a_loadable_checkpoint(one_epoch_run):
    _, out = one_epoch_run
    checkpoint = tc.load(out / "checkpoint.npz")
    assert checkpoint["epoch"] == 1
    assert {"model", "optimizer", "scheduler", "rng", "history"} <= set(checkpoint)
    assert checkpoint["model"]["0.weight"].shape == (16, 1, 3, 3)


@needs_sklearn
def test_train_cnn_writes_metrics_json(one_epoch_run):
    _, out = one_epoch_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"test_accuracy", "epochs", "seconds"} <= set(metrics)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0


@needs_sklearn
@pytest.mark.skipif(not has("matplotlib"), reason="plots need matplotlib")
def test_train_cnn_draws_the_three_pictures(one_epoch_run):
    _, out = one_epoch_run
    for name in ("curves.png", "kernels.png", "confusion.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


@needs_sklearn
def test_same_seed_gives_the_same_numbers(one_epoch_run, two_epoch_run):
    # The first epoch of a two-epoch run repeats the one-epoch run number for number.
    _, out = one_epoch_run
    first = json.loads((out / "metrics.json").read_text())["history"]
    second = json.loads((two_epoch_run / "metrics.json").read_text())["history"]
    assert {key: values[:1] for key, values in second.items()} == first


@needs_sklearn
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(one_epoch_run,
                                                                   two_epoch_run, tmp_path):
    # One epoch, then --resume to two, versus two epochs at once. Dropout is on and the data
    # are reshuffled every epoch, so this holds only if both RNG states are restored.
    _, out = one_epoch_run
    shutil.copytree(out, tmp_path / "resumed")
    second = run(TRAIN, *TINY, "--epochs", "2", "--lr-step", "1", "--out", "resumed",
                 "--resume", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resumed" in second.stdout
    expected = tc.load(two_epoch_run / "checkpoint.npz")
    actual = tc.load(tmp_path / "resumed" / "checkpoint.npz")
    assert actual["epoch"] == expected["epoch"] == 2
    for key, value in expected["model"].items():
        np.testing.assert_allclose(actual["model"][key], value, rtol=0, atol=1e-6, err_msg=key)


@needs_sklearn
def test_train_cnn_without_matplotlib_and_tqdm_says_so_once_and_trains(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for module in ("matplotlib", "tqdm"):  # shadow the installed packages
        (hidden / f"{module}.py").write_text(f"raise ImportError('no {module} here')\n")
    env = dict(os.environ, PYTHONPATH=str(hidden))
    result = subprocess.run([sys.executable, TRAIN, *TINY, "--epochs", "1", "--out", "out"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("matplotlib is not installed") == 1
    assert "epoch   1/1" in result.stdout
    assert (tmp_path / "out" / "metrics.json").exists()
    assert not list((tmp_path / "out").glob("*.png"))


def test_mnist_without_data_is_a_one_line_error(tmp_path):
    result = run(TRAIN, "--dataset", "mnist", "--data-dir", "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert "\n" not in message and "not found" in message and "--download" in message


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    result = run(TRAIN, *TINY, "--resume", "--out", "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert "no checkpoint" in result.stderr and "Traceback" not in result.stderr


@needs_sklearn
def test_to_pytorch_shows_equal_predictions_or_says_torch_is_missing(tmp_path):
    result = run(os.path.join(EXAMPLES, "to_pytorch.py"), "--epochs", "1", "--limit", "200",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    if has("torch"):
        count = re.search(r"same predicted class for (\d+)/(\d+) images", result.stdout)
        assert count and count.group(1) == count.group(2), result.stdout
    else:
        assert "PyTorch is not installed" in result.stdout
