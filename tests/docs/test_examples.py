"""The example scripts, run as a user runs them (a subprocess in a fresh folder), tiny settings."""

import importlib.util
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc

ROOT = str(pathlib.Path(__file__).resolve().parents[2])
EXAMPLES = os.path.join(ROOT, "examples")
TRAIN = os.path.join(EXAMPLES, "train_cnn.py")
TINY = ["--limit", "160", "--batch-size", "32"]


def environment(*paths):
    """The environment with this checkout's library first on the path (a subprocess runs in
    another folder, where an installed copy of tinygrad_cnn would be found instead)."""
    current = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, ROOT] + ([current] if current
                                                                          else [])))


def run(script, *args, cwd):
    return subprocess.run([sys.executable, script, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=environment())


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
    assert "test accuracy" in result.stdout and " s of training;" in result.stdout


@needs_sklearn
def test_train_cnn_leaves_a_loadable_checkpoint(one_epoch_run):
    _, out = one_epoch_run
    checkpoint = tc.load(out / "checkpoint.npz")
    assert checkpoint["epoch"] == 1
    assert set(checkpoint) == {"model", "optimizer", "scheduler", "epoch", "history", "seconds",
                               "normalization", "config", "rng"}
    assert checkpoint["model"]["0.weight"].shape == (16, 1, 3, 3)


@needs_sklearn
def test_checkpoint_holds_the_input_normalization_of_the_training_images(one_epoch_run):
    # --limit 160 with the default seed: the first 160 images of the seeded 80/20 split.
    from tinygrad_cnn.data import datasets

    _, out = one_epoch_run
    images, labels = datasets.digits()
    order = np.random.default_rng(0).permutation(len(labels))
    train = images[order[len(labels) // 5:]][:160]
    stats = tc.load(out / "checkpoint.npz")["normalization"]
    assert stats == {"mean": float(train.mean()), "std": float(train.std())}


@needs_sklearn
def test_checkpoint_and_metrics_agree_on_the_training_seconds(one_epoch_run):
    _, out = one_epoch_run
    seconds = tc.load(out / "checkpoint.npz")["seconds"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert seconds > 0 and metrics["seconds"] == round(seconds, 3)


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


@pytest.fixture(scope="module")
def resumed_run(one_epoch_run, tmp_path_factory):
    """One epoch (the one-epoch run), then --resume to two."""
    _, out = one_epoch_run
    folder = tmp_path_factory.mktemp("resume")
    shutil.copytree(out, folder / "resumed")
    result = run(TRAIN, *TINY, "--epochs", "2", "--lr-step", "1", "--out", "resumed",
                 "--resume", cwd=folder)
    assert result.returncode == 0, result.stderr
    return result, folder / "resumed"


@needs_sklearn
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(resumed_run,
                                                                   two_epoch_run):
    # One epoch, then --resume to two, versus two epochs at once. Dropout is on and the data
    # are reshuffled every epoch, so this holds only if both RNG states are restored.
    result, resumed = resumed_run
    assert "resumed" in result.stdout
    expected = tc.load(two_epoch_run / "checkpoint.npz")
    actual = tc.load(resumed / "checkpoint.npz")
    assert actual["epoch"] == expected["epoch"] == 2
    for key, value in expected["model"].items():
        np.testing.assert_allclose(actual["model"][key], value, rtol=0, atol=1e-6, err_msg=key)


@needs_sklearn
def test_resumed_run_reports_the_training_seconds_of_both_runs(one_epoch_run, resumed_run):
    _, out = one_epoch_run
    _, resumed = resumed_run
    first = tc.load(out / "checkpoint.npz")["seconds"]
    total = tc.load(resumed / "checkpoint.npz")["seconds"]
    assert total > first
    assert json.loads((resumed / "metrics.json").read_text())["seconds"] == round(total, 3)


@needs_sklearn
def test_resuming_a_finished_run_keeps_its_training_seconds_and_accuracy(one_epoch_run,
                                                                           tmp_path):
    # No epoch is left to run: the metrics are those of the finished run, not 0 seconds.
    _, out = one_epoch_run
    shutil.copytree(out, tmp_path / "again")
    result = run(TRAIN, *TINY, "--epochs", "1", "--lr-step", "1", "--out", "again",
                 "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    before = json.loads((out / "metrics.json").read_text())
    after = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert after["seconds"] == before["seconds"] > 0
    assert after["test_accuracy"] == before["test_accuracy"]
    assert after["test_loss"] == pytest.approx(before["test_loss"], rel=1e-6)


# Ways a checkpoint can be unusable: each takes a good one (a dict) and returns a bad one.
def drop_normalization(checkpoint):  # as written by an older version of the script
    del checkpoint["normalization"]
    return checkpoint


def wrong_weight_shape(checkpoint):
    checkpoint["model"]["0.weight"] = np.zeros((3, 1, 3, 3), dtype=np.float32)
    return checkpoint


def garbled_rng(checkpoint):
    checkpoint["rng"]["loader"] = {"bit_generator": "nonsense"}
    return checkpoint


def history_as_a_number(checkpoint):
    checkpoint["history"] = 3
    return checkpoint


def not_a_dict(checkpoint):
    return [1, 2, 3]


@pytest.fixture(scope="module")
def train_cnn():
    """examples/train_cnn.py imported as a module, to call its checkpoint functions."""
    spec = importlib.util.spec_from_file_location("train_cnn_example", TRAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_sklearn
@pytest.mark.parametrize("change", [drop_normalization, wrong_weight_shape, garbled_rng,
                                    history_as_a_number, not_a_dict])
def test_a_malformed_checkpoint_is_one_checkpoint_error(one_epoch_run, train_cnn, tmp_path,
                                                        change):
    from tinygrad_cnn.data import DataLoader, TensorDataset
    from tinygrad_cnn.optim.lr_scheduler import StepLR
    from tinygrad_cnn.random import generator

    _, out = one_epoch_run
    checkpoint = tc.load(out / "checkpoint.npz")
    config = checkpoint["config"]
    path = tmp_path / "checkpoint.npz"
    tc.save(change(checkpoint), path)
    model = train_cnn.MODELS["digits"]()
    optimizer = train_cnn.make_optimizer("adam", model.parameters(), 3e-3)
    images, labels = np.zeros((4, 1, 8, 8), np.float32), np.zeros(4, np.int64)
    loader = DataLoader(TensorDataset(images, labels), batch_size=2, generator_seed=0)
    library_state = generator().bit_generator.state
    try:
        with pytest.raises(train_cnn.CheckpointError) as raised:
            loaded = train_cnn.read_checkpoint(path, config)
            train_cnn.checkpoint_normalization(path, loaded)
            train_cnn.restore_checkpoint(path, loaded, model, optimizer,
                                         StepLR(optimizer, step_size=1), loader)
    finally:  # restoring a checkpoint sets the library's generator: undo that
        generator().bit_generator.state = library_state
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"--resume: cannot resume from {path}: ")


@needs_sklearn
def test_a_checkpoint_of_other_settings_is_refused_naming_both_values(one_epoch_run,
                                                                      train_cnn):
    _, out = one_epoch_run
    config = dict(tc.load(out / "checkpoint.npz")["config"], lr=0.5, seed=7)
    with pytest.raises(train_cnn.CheckpointError,
                       match=r"written with --lr 0.003 and --seed 0, but the command line "
                             r"gives --lr 0.5 and --seed 7"):
        train_cnn.read_checkpoint(out / "checkpoint.npz", config)


@needs_sklearn
def test_resume_from_a_checkpoint_of_an_older_version_is_a_one_line_error(one_epoch_run,
                                                                          tmp_path):
    _, out = one_epoch_run
    shutil.copytree(out, tmp_path / "old")
    checkpoint = drop_normalization(tc.load(out / "checkpoint.npz"))
    tc.save(checkpoint, tmp_path / "old" / "checkpoint.npz")
    result = run(TRAIN, *TINY, "--epochs", "2", "--lr-step", "1", "--out", "old", "--resume",
                 cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "Traceback" not in message and "\n" not in message
    assert message.startswith("train_cnn.py: error: --resume: cannot resume from "), message
    assert "'normalization'" in message


@needs_sklearn
def test_train_cnn_without_matplotlib_and_tqdm_says_so_once_and_trains(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for module in ("matplotlib", "tqdm"):  # shadow the installed packages
        (hidden / f"{module}.py").write_text(f"raise ImportError('no {module} here')\n")
    env = environment(str(hidden))
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
