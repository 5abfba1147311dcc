"""The main job (examples/train_cnn.py) respects its user: --resume takes the stored settings,
a run is never overwritten by accident, the progress bar stays off log files, --export leaves
files that onnxruntime and PyTorch load with the three lines its README.txt gives."""

import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc

pytest.importorskip("sklearn")  # the digits data set

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "examples", "train_cnn.py")
SMALLEST = ["--limit", "48", "--batch-size", "16", "--lr-step", "1"]


@pytest.fixture(scope="module")
def job():
    """examples/train_cnn.py imported as a module: ``job.main(argv)`` runs it in-process."""
    spec = importlib.util.spec_from_file_location("train_cnn_job", TRAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def weights(folder):
    return tc.load(os.path.join(folder, "checkpoint.npz"))["model"]


@pytest.fixture(scope="module")
def uninterrupted(job, tmp_path_factory):
    out = tmp_path_factory.mktemp("job") / "whole"
    assert job.main([*SMALLEST, "--epochs", "2", "--out", str(out)]) == 0
    return out


def run_interrupted(job, out):
    """The uninterrupted run's command, stopped by Ctrl-C in its second epoch."""
    original, calls = job.train_one_epoch, []

    def interrupt_second_epoch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args)

    job.train_one_epoch = interrupt_second_epoch
    try:
        return job.main([*SMALLEST, "--epochs", "2", "--out", str(out)])
    finally:
        job.train_one_epoch = original


@pytest.fixture(scope="module")
def interrupted(job, tmp_path_factory):
    out = tmp_path_factory.mktemp("job") / "cut"
    assert run_interrupted(job, out) == 130
    assert tc.load(out / "checkpoint.npz")["epoch"] == 1
    return out


def test_resume_with_no_arguments_equals_an_uninterrupted_run(job, interrupted,
                                                              uninterrupted, tmp_path, capsys):
    out = tmp_path / "resumed"
    shutil.copytree(interrupted, out)
    assert job.main(["--resume", "--out", str(out)]) == 0
    assert "resumed from" in capsys.readouterr().out
    resumed, whole = tc.load(out / "checkpoint.npz"), tc.load(uninterrupted / "checkpoint.npz")
    assert resumed["epoch"] == whole["epoch"] == 2
    assert resumed["config"] == whole["config"]
    for key, value in whole["model"].items():
        np.testing.assert_allclose(resumed["model"][key], value, rtol=0, atol=1e-6, err_msg=key)
    assert resumed["history"]["test_loss"] == pytest.approx(whole["history"]["test_loss"])


def test_interrupting_says_how_to_continue(job, tmp_path, capsys):
    assert run_interrupted(job, tmp_path / "cut") == 130
    error = capsys.readouterr().err
    assert "interrupted in epoch 2" in error and "holds epoch 1" in error
    assert f"--resume --out {tmp_path / 'cut'}" in error


def test_epochs_may_change_on_resume(job, interrupted, tmp_path):
    shutil.copytree(interrupted, tmp_path / "cut")
    assert job.main(["--resume", "--out", str(tmp_path / "cut"), "--epochs", "1"]) == 0
    assert tc.load(tmp_path / "cut" / "checkpoint.npz")["epoch"] == 1  # nothing left to train


def test_a_setting_given_on_resume_that_differs_is_an_error_naming_both_values(
        job, uninterrupted, capsys):
    before = (uninterrupted / "checkpoint.npz").read_bytes()
    status = job.main(["--resume", "--out", str(uninterrupted), "--lr", "0.5", "--seed", "0",
                       "--batch-size", "8"])
    assert status == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert "written with --batch-size 16 and --lr 0.003, but the command line gives " \
           "--batch-size 8 and --lr 0.5" in error
    assert (uninterrupted / "checkpoint.npz").read_bytes() == before


def test_a_setting_given_on_resume_that_agrees_is_accepted(job, uninterrupted, tmp_path):
    out = tmp_path / "again"
    os.makedirs(out)
    (out / "checkpoint.npz").write_bytes((uninterrupted / "checkpoint.npz").read_bytes())
    assert job.main(["--resume", "--out", str(out), "--seed", "0", "--limit", "48",
                     "--epochs", "3"]) == 0
    assert tc.load(out / "checkpoint.npz")["epoch"] == 3


def test_a_checkpoint_with_invalid_stored_settings_is_a_one_line_error(job, uninterrupted,
                                                                      tmp_path, capsys):
    checkpoint = tc.load(uninterrupted / "checkpoint.npz")
    checkpoint["config"]["dataset"] = "cifar"
    checkpoint["config"]["batch_size"] = 0
    os.makedirs(tmp_path / "bad")
    tc.save(checkpoint, tmp_path / "bad" / "checkpoint.npz")
    assert job.main(["--resume", "--out", str(tmp_path / "bad")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "cannot resume" in error
    assert "stored settings are not valid (dataset, batch_size)" in error


def test_a_run_folder_is_never_overwritten_without_overwrite(job, uninterrupted, capsys):
    before = {name: (uninterrupted / name).read_bytes() for name in os.listdir(uninterrupted)}
    status = job.main([*SMALLEST, "--epochs", "1", "--out", str(uninterrupted)])
    assert status == 2
    error = capsys.readouterr().err
    assert "already holds a run" in error and "--overwrite" in error and "--resume" in error
    assert {name: (uninterrupted / name).read_bytes()
            for name in os.listdir(uninterrupted)} == before


def test_overwrite_replaces_a_run(job, tmp_path):
    out = tmp_path / "run"
    assert job.main([*SMALLEST, "--epochs", "2", "--out", str(out)]) == 0
    assert job.main([*SMALLEST, "--epochs", "1", "--out", str(out), "--overwrite"]) == 0
    assert tc.load(out / "checkpoint.npz")["epoch"] == 1


def test_an_empty_existing_folder_is_used(job, tmp_path):
    assert job.main([*SMALLEST, "--epochs", "1", "--out", str(tmp_path)]) == 0


def test_resume_and_overwrite_together_are_refused(job, tmp_path):
    with pytest.raises(SystemExit) as raised:
        job.main(["--resume", "--overwrite", "--out", str(tmp_path)])
    assert raised.value.code == 2


# ----------------------------------------------------------------------------- progress bar


def environment():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))


def test_no_progress_bar_when_stderr_is_a_file(tmp_path):
    result = subprocess.run([sys.executable, TRAIN, *SMALLEST, "--epochs", "1", "--out", "o"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env=environment())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "epoch   1/1" in result.stdout


def test_a_progress_bar_on_a_terminal(tmp_path):
    pytest.importorskip("tqdm")
    pty, fcntl, termios = (pytest.importorskip(name) for name in ("pty", "fcntl", "termios"))
    leader, follower = pty.openpty()
    # a terminal 80 columns wide (a new pseudo-terminal has none: tqdm would draw nothing)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([sys.executable, TRAIN, *SMALLEST, "--epochs", "1", "--out",
                                "o"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=follower, env=environment())
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    assert b"epoch 1/1" in b"".join(chunks) and b"batch" in b"".join(chunks)


# ----------------------------------------------------------------------------- export


@pytest.fixture(scope="module")
def exported(job, tmp_path_factory):
    pytest.importorskip("safetensors")
    pytest.importorskip("onnx")
    folder = tmp_path_factory.mktemp("export")
    assert job.main([*SMALLEST, "--epochs", "1", "--out", str(folder / "run"), "--export",
                     str(folder / "model")]) == 0
    return folder


def our_logits(job, run_folder, images):
    checkpoint = tc.load(os.path.join(run_folder, "checkpoint.npz"))
    model = job.digits_cnn()
    model.load_state_dict(checkpoint["model"])
    model.eval()
    mean, std = checkpoint["normalization"]["mean"], checkpoint["normalization"]["std"]
    with tc.no_grad():
        return model(tc.Tensor((images - mean) / std)).numpy()


def readme_code(folder, library):
    """The indented code lines of README.txt's section for ``library``."""
    text = (folder / "README.txt").read_text()
    section = text[text.index(f"In {library} "):]
    lines = re.findall(r"^    (\S.*)$", section, flags=re.M)
    return lines[:3]


def raw_images(n=6):
    return np.random.default_rng(7).uniform(0, 1, (n, 1, 8, 8)).astype(np.float32)


def test_export_writes_the_three_files(exported):
    assert sorted(os.listdir(exported / "model")) == ["README.txt", "model.onnx",
                                                      "model.safetensors"]


def test_exported_safetensors_holds_the_weights_and_the_normalization(job, exported):
    from tinygrad_cnn.io_safetensors import load_metadata

    checkpoint = tc.load(exported / "run" / "checkpoint.npz")
    metadata = load_metadata(exported / "model" / "model.safetensors")
    assert float(metadata["mean"]) == checkpoint["normalization"]["mean"]
    assert float(metadata["std"]) == checkpoint["normalization"]["std"]
    weights = tc.load(exported / "model" / "model.safetensors")
    for key, value in checkpoint["model"].items():
        np.testing.assert_array_equal(weights[key], value)


def test_readme_onnxruntime_lines_give_our_predictions(job, exported, monkeypatch):
    pytest.importorskip("onnxruntime")
    lines = readme_code(exported / "model", "onnxruntime")
    assert len(lines) == 3
    images = raw_images()
    monkeypatch.chdir(exported / "model")
    namespace = {"images": images}
    exec("\n".join(lines), namespace)
    expected = our_logits(job, exported / "run", images)
    np.testing.assert_allclose(namespace["logits"], expected, rtol=1e-5, atol=1e-5)
    # any batch size: the batch dimension is dynamic
    namespace = {"images": raw_images(1)}
    exec("\n".join(lines), namespace)
    assert namespace["logits"].shape == (1, 10)


def test_readme_pytorch_lines_give_our_predictions(job, exported, monkeypatch):
    torch = pytest.importorskip("torch")
    lines = readme_code(exported / "model", "PyTorch")
    assert len(lines) == 3
    images = raw_images()
    monkeypatch.chdir(exported / "model")
    namespace = {"images": torch.from_numpy(images)}
    exec("\n".join(lines), namespace)
    expected = our_logits(job, exported / "run", images)
    np.testing.assert_allclose(namespace["logits"].detach().numpy(), expected, rtol=1e-5,
                               atol=1e-5)


def test_export_of_a_finished_run_by_resume(job, exported, tmp_path):
    pytest.importorskip("onnx")
    assert job.main(["--resume", "--out", str(exported / "run"), "--export",
                     str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "model.onnx").exists()


# ----------------------------------------------------------------------------- pictures


def test_loss_axis_is_logarithmic(job):
    pytest.importorskip("matplotlib")
    history = {key: [1.0, 0.5, 0.1] for key in job.HISTORY_KEYS}
    figure = job.curves_figure(history)
    assert figure.axes[0].get_yscale() == "log"


def test_kernels_share_one_colour_scale_shown_by_a_colour_bar(job):
    pytest.importorskip("matplotlib")
    weight = np.random.default_rng(0).standard_normal((16, 1, 3, 3))
    figure = job.kernels_figure(weight)
    images = [image for axes in figure.axes for image in axes.get_images()]
    assert len(images) == 16 and len({image.get_clim() for image in images}) == 1
    colour_bars = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]
    assert len(colour_bars) == 1


def test_confusion_matrix_shows_every_count(job):
    pytest.importorskip("matplotlib")
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 2, 0])
    figure = job.confusion_figure(labels, predicted, classes=3)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in figure.axes[0].texts}
    assert texts[(0, 0)] == "1" and texts[(2, 2)] == "2" and texts[(1, 2)] == "0"
    assert len(texts) == 9
