"""Train a small CNN on handwritten digits, with a progress bar, a checkpoint and pictures.

    python examples/train_cnn.py                                      # scikit-learn digits, offline
    python examples/train_cnn.py --dataset mnist --data-dir data/mnist --download
    python examples/train_cnn.py --resume                             # continue an interrupted run
    python examples/train_cnn.py --resume --epochs 40                 # ... or train it longer
    python examples/train_cnn.py --resume --export model/             # take the model elsewhere

The default trains on scikit-learn's 8x8 digits (1,797 images; 20% held out for testing,
split by ``--seed``) and reaches 99.2% test accuracy with the default seed, after about 4 s
of training (about 6 s in all, imports included, on a quiet two-core machine).
``--dataset mnist`` trains the larger MNIST network on the 60,000 MNIST training images and
tests on the 10,000 test images.

Everything the run produces goes to ``--out`` (default ``runs/<dataset>``):

* ``checkpoint.npz``, written atomically after every epoch, holding ``model`` (the state
  dict), ``optimizer`` and ``scheduler`` (their state dicts), ``epoch`` (epochs done),
  ``history`` (per-epoch losses and accuracies), ``seconds`` (training time so far, over
  all runs that built it), ``normalization`` (the training images' ``mean`` and ``std``:
  a reloaded model expects images as ``(images - mean) / std``), ``config`` (the settings
  of the run) and ``rng`` (the data loader's and the library's random generator states).
  ``--resume`` continues from it with the settings stored there (a setting given again
  must be the same; only ``--epochs`` may change, to train longer) and ends with the same
  weights as a run that was never interrupted;
* ``metrics.json``: test accuracy and loss, epochs, total training seconds, the settings,
  per-epoch history;
* ``curves.png`` (loss on a logarithmic axis, accuracy), ``kernels.png`` (the first
  layer's kernels on one colour scale), ``confusion.png`` (counts per true and predicted
  class) (needs matplotlib; without it the run trains anyway and says so).

A folder that already holds a run is never overwritten: ``--resume`` continues it,
``--overwrite`` replaces it. ``--export DIR`` writes ``model.safetensors`` (the weights, with
the input normalisation in its metadata), ``model.onnx`` (the network with the
normalisation built in) and ``README.txt`` (three lines to load each in PyTorch and in
onnxruntime); it needs the ``safetensors`` and ``onnx`` packages. The progress bar is drawn
only when stderr is a terminal, so a log file gets the per-epoch lines alone.

The same ``--seed`` gives the same numbers. Needs the ``examples`` extra:
``pip install -e ".[examples]"`` (scikit-learn, tqdm, matplotlib; ``.[all]`` adds what
``--export`` needs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader, TensorDataset, datasets
from tinygrad_cnn.optim.lr_scheduler import StepLR
from tinygrad_cnn.random import generator

# Per-dataset defaults for the flags left unset on the command line.
DEFAULTS = {
    "digits": {"epochs": 25, "batch_size": 32, "optimizer": "adam", "lr": 3e-3, "lr_step": 10},
    "mnist": {"epochs": 3, "batch_size": 64, "optimizer": "adam", "lr": 1e-3, "lr_step": 2},
}


# ----------------------------------------------------------------------------- models


def digits_cnn() -> nn.Sequential:
    """(N, 1, 8, 8) -> (N, 10) class scores."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10),
    )


def mnist_cnn() -> nn.Sequential:
    """(N, 1, 28, 28) -> (N, 10) class scores (the network of benchmarks/bench_train.py)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 14 x 14
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 7 x 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


MODELS = {"digits": digits_cnn, "mnist": mnist_cnn}
HISTORY_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


def make_optimizer(name: str, parameters, lr: float):
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    return optim.AdamW(parameters, lr=lr)


# ----------------------------------------------------------------------------- data


def load_data(args):
    """((train_images, train_labels), (test_images, test_labels)) as numpy arrays."""
    if args.dataset == "digits":
        images, labels = datasets.digits()
        # A seeded 80/20 split: the same --seed always holds out the same images.
        order = np.random.default_rng(args.seed).permutation(len(labels))
        n_test = len(labels) // 5
        test, train = order[:n_test], order[n_test:]
        train_set, test_set = (images[train], labels[train]), (images[test], labels[test])
    else:
        train_set = datasets.mnist(args.data_dir, train=True, download=args.download)
        test_set = datasets.mnist(args.data_dir, train=False, download=args.download)
    if args.limit:  # quick tries and tests: a slice of each split
        train_set = tuple(a[:args.limit] for a in train_set)
        test_set = tuple(a[:max(1, args.limit // 4)] for a in test_set)
    return train_set, test_set


def normalization(train_images):
    """The training images' mean and standard deviation, as Python floats (stored in the
    checkpoint: a model trained here expects its input as ``(images - mean) / std``)."""
    return {"mean": float(train_images.mean()), "std": float(train_images.std())}


def standardize(train_images, test_images, mean=None, std=None):
    """Scale both splits by ``mean`` and ``std`` (default: the training set's own)."""
    if mean is None:
        stats = normalization(train_images)
        mean, std = stats["mean"], stats["std"]
    return (train_images - mean) / std, (test_images - mean) / std


# ----------------------------------------------------------------------------- train / test


def progress(loader, description):
    """tqdm's progress bar over ``loader`` when tqdm is installed and stderr is a terminal
    (a log file would fill with the bar's refreshes), else the loader itself."""
    if not sys.stderr.isatty():
        return loader
    try:
        from tqdm import tqdm
    except ImportError:
        return loader
    return tqdm(loader, desc=description, leave=False, unit="batch")


def train_one_epoch(model, optimizer, loader, description):
    """One pass over ``loader``; returns (mean loss, accuracy) over the epoch."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = progress(loader, description)
    for images, labels in bar:
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
        if bar is not loader:
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}")
    return total_loss / seen, correct / seen


@tc.no_grad()
def evaluate(model, images, labels, batch_size=500):
    """(mean loss, accuracy, predicted classes) of ``model`` on a whole split."""
    model.eval()
    total_loss, predictions = 0.0, []
    for start in range(0, len(labels), batch_size):
        logits = model(tc.Tensor(images[start:start + batch_size]))
        target = labels[start:start + batch_size]
        total_loss += F.cross_entropy(logits, target, reduction="sum").item()
        predictions.append(logits.argmax(1).numpy())
    predicted = np.concatenate(predictions)
    return total_loss / len(labels), float((predicted == labels).mean()), predicted


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(path, model, optimizer, scheduler, loader, epoch, history, seconds,
                    stats, config):
    """Everything a resumed run needs to continue exactly where this one stopped.

    Besides the model, optimizer and scheduler states that is the training ``seconds`` so
    far (a resumed run adds to them), the input normalisation ``stats`` (a model reloaded
    from here needs them to scale new images) and the two random generators still in use:
    the loader's (the order of the next epochs' batches) and the library's (dropout masks).
    A numpy Generator's state is a dict of ints, which ``tc.save`` stores exactly.
    """
    tc.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "history": history,
        "seconds": seconds,
        "normalization": stats,
        "config": config,
        "rng": {
            "loader": loader.generator.bit_generator.state,
            "library": generator().bit_generator.state,
        },
    }, path)


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; its message is one line for the user."""


# What reading a damaged checkpoint, another program's file or one written by an older
# version of this script can raise: a missing entry, a value of the wrong type or shape.
MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, OSError)


def read_checkpoint(path, given):
    """The checkpoint at ``path`` as a dict, after checking that the settings ``given`` on
    the command line (a dict, e.g. ``{"lr": 0.5}``) are those it was written with."""
    try:
        checkpoint = tc.load(path)
        written_with = checkpoint["config"]
        changed = [key for key in sorted(given) if written_with.get(key) != given[key]]
        if changed:
            theirs = " and ".join(f"{flag(key)} {written_with.get(key)}" for key in changed)
            ours = " and ".join(f"{flag(key)} {given[key]}" for key in changed)
    except MALFORMED as error:
        raise unusable(path, error) from error
    if changed:
        raise CheckpointError(
            f"--resume: {path} was written with {theirs}, but the command line gives {ours}; "
            "leave them out to continue that run with its settings, or start another run "
            "with --out")
    return checkpoint


def flag(setting: str) -> str:
    """The command-line flag of a setting: ``lr_step`` -> ``--lr-step``."""
    return "--" + setting.replace("_", "-")


def restore_checkpoint(path, checkpoint, model, optimizer, scheduler, loader):
    """Load ``checkpoint`` (from :func:`read_checkpoint`) into the objects; returns
    (epochs done, history, training seconds so far)."""
    try:
        done, history, seconds = checkpoint["epoch"], checkpoint["history"], checkpoint["seconds"]
        if not (type(done) is int and done >= 0):
            raise ValueError(f"'epoch' is {done!r}, not a count of epochs")
        lengths = {key: len(history[key]) for key in HISTORY_KEYS}
        if any(length != done for length in lengths.values()):
            raise ValueError(f"'history' lengths {lengths} do not match epoch {done}")
        if not (isinstance(seconds, float) and seconds >= 0):
            raise ValueError(f"'seconds' is {seconds!r}, not a duration")
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        loader.generator.bit_generator.state = checkpoint["rng"]["loader"]
        generator().bit_generator.state = checkpoint["rng"]["library"]
    except MALFORMED as error:
        raise unusable(path, error) from error
    return done, {key: list(history[key]) for key in HISTORY_KEYS}, seconds


def checkpoint_normalization(path, checkpoint):
    """The (mean, std) a checkpoint's model was trained with."""
    try:
        mean, std = checkpoint["normalization"]["mean"], checkpoint["normalization"]["std"]
        if not (isinstance(mean, float) and isinstance(std, float) and std > 0):
            raise ValueError(f"'normalization' is {checkpoint['normalization']!r}")
    except MALFORMED as error:
        raise unusable(path, error) from error
    return mean, std


def unusable(path, error):
    """A one-line CheckpointError for a checkpoint that is damaged or of another format
    (an older version of this script, or another program's file)."""
    if isinstance(error, KeyError):
        problem = f"it has no {error.args[0]!r} entry"
    else:
        problem = " ".join(str(error).split()) or type(error).__name__
    return CheckpointError(f"--resume: cannot resume from {path}: {problem}; "
                           f"start afresh with another --out (or without --resume)")


# ----------------------------------------------------------------------------- pictures


def save_plots(out, history, first_layer_weight, labels, predicted):
    """curves.png, kernels.png and confusion.png in ``out``; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    for name, figure in (("curves.png", curves_figure(history)),
                         ("kernels.png", kernels_figure(first_layer_weight)),
                         ("confusion.png", confusion_figure(labels, predicted))):
        figure.savefig(os.path.join(out, name), dpi=100)
        plt.close(figure)
    return True


def curves_figure(history):
    """Loss (a logarithmic axis: the late epochs' small changes stay visible) and accuracy
    per epoch, training and test."""
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    # Training figures are running means over each epoch (dropout on); test ones are
    # measured after it, which is why test can sit above train early on.
    left.plot(epochs, history["train_loss"], "o-", label="train")
    left.plot(epochs, history["test_loss"], "o-", label="test")
    left.set_yscale("log")
    left.set(xlabel="epoch", ylabel="cross-entropy loss (log scale)", title="Loss")
    right.plot(epochs, history["train_accuracy"], "o-", label="train")
    right.plot(epochs, history["test_accuracy"], "o-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3, which="both")
    figure.tight_layout()
    return figure


def kernels_figure(first_layer_weight):
    """The first layer's kernels (the lecture's point: they learn small strokes, edges and
    blobs), all on one symmetric colour scale, shown by a colour bar."""
    import matplotlib.pyplot as plt

    kernels = first_layer_weight[:, 0]  # (C_out, kH, kW)
    limit = float(np.abs(kernels).max()) or 1.0
    columns = 8
    rows = -(-len(kernels) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(columns * 1.2 + 1.2, rows * 1.2 + 0.5),
                                squeeze=False, constrained_layout=True)
    image = None
    for index, axes in enumerate(grid.flat):
        axes.axis("off")
        if index < len(kernels):
            image = axes.imshow(kernels[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes.set_title(str(index), fontsize=8)
    figure.colorbar(image, ax=grid, label="weight", shrink=0.9)
    figure.suptitle("First-layer kernels (red positive, blue negative)")
    return figure


def confusion_figure(labels, predicted, classes=10):
    """Counts of (true, predicted) class pairs, each written in its cell."""
    import matplotlib.pyplot as plt

    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    figure, axes = plt.subplots(figsize=(6, 5.5))
    image = axes.imshow(confusion, cmap="Blues")
    for true_class in range(classes):
        for predicted_class in range(classes):
            count = confusion[true_class, predicted_class]
            bright = count > confusion.max() / 2
            axes.text(predicted_class, true_class, str(count), ha="center", va="center",
                      fontsize=8, color="white" if bright else ("black" if count else "0.7"))
    axes.set(xticks=range(classes), yticks=range(classes), xlabel="predicted", ylabel="true",
             title=f"Confusion matrix ({int(np.trace(confusion))}/{len(labels)} correct)")
    figure.colorbar(image, label="images")
    figure.tight_layout()
    return figure


# ----------------------------------------------------------------------------- export


def export_available() -> bool:
    """True when the packages --export writes with (safetensors, onnx) are installed."""
    try:
        import onnx  # noqa: F401
        import safetensors  # noqa: F401
    except ImportError:
        return False
    return True


class NormalizedInput(nn.Sequential):
    """The network with the input normalisation in front: raw images in [0, 1] in, class
    scores out (what model.onnx holds). Its layers keep the network's state-dict keys."""

    def __init__(self, network, mean, std):
        super().__init__(*network)
        self.mean, self.std = mean, std

    def forward(self, images):
        return super().forward((images - self.mean) / self.std)


def pytorch_spelling(network) -> str:
    """``network`` (an nn.Sequential) as the PyTorch expression that builds it: each layer's
    repr is a constructor call PyTorch accepts (PyTorch's own reprs)."""
    return "nn.Sequential(" + ", ".join(f"nn.{layer!r}" for layer in network) + ")"


README_TEXT = """\
A CNN for {dataset} trained with tinygrad_cnn (examples/train_cnn.py): test accuracy
{accuracy:.4f} on {tested} held-out images.

Input: float32 images of shape (N, {shape}), pixel values in [0, 1].
Output: (N, 10) class scores (logits); the predicted digit is their argmax.

model.safetensors  the weights (PyTorch's state-dict keys) and, in its metadata, the input
                   normalisation: the network expects (images - mean) / std, with
                   mean = {mean!r} and std = {std!r}.
model.onnx         the same network with the normalisation built in: give it the raw images.

In PyTorch (pip install torch safetensors), run in this folder, images a float32 torch tensor:

    {torch_lines}

In onnxruntime (pip install onnxruntime), run in this folder, images a float32 numpy array:

    import onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    logits = session.run(None, {{"images": images}})[0]
"""


def export_model(folder, network, stats, dataset, image_shape, accuracy, tested):
    """Write model.safetensors (weights; normalisation in the metadata), model.onnx
    (normalisation built in; input "images", output "logits") and README.txt to ``folder``."""
    import tinygrad_cnn.onnx as tc_onnx
    from tinygrad_cnn.io_safetensors import save_file

    os.makedirs(folder, exist_ok=True)
    mean, std = stats["mean"], stats["std"]
    metadata = {"mean": repr(mean), "std": repr(std), "dataset": dataset,
                "input": f"float32 (N, {', '.join(map(str, image_shape))}) images in [0, 1]; "
                         "the network expects (images - mean) / std"}
    save_file(network.state_dict(), os.path.join(folder, "model.safetensors"), metadata)
    example = tc.zeros((2, *image_shape))
    tc_onnx.export(NormalizedInput(network, mean, std), example,
                   os.path.join(folder, "model.onnx"), input_names=["images"],
                   output_names=["logits"])
    torch_lines = [
        "import torch; from torch import nn; from safetensors import safe_open; "
        "from safetensors.torch import load_file",
        f"model = {pytorch_spelling(network)}; "
        'model.load_state_dict(load_file("model.safetensors")); model.eval()',
        'meta = safe_open("model.safetensors", "pt").metadata(); '
        'logits = model((images - float(meta["mean"])) / float(meta["std"]))',
    ]
    text = README_TEXT.format(torch_lines="\n    ".join(torch_lines), dataset=dataset,
                              accuracy=accuracy, tested=tested, mean=mean, std=std,
                              shape=", ".join(map(str, image_shape)))
    with open(os.path.join(folder, "README.txt"), "w") as stream:
        stream.write(text)


# ----------------------------------------------------------------------------- main


# The settings of a run: stored in its checkpoint, taken from there by --resume.
SETTINGS = ("dataset", "epochs", "batch_size", "optimizer", "lr", "lr_step", "seed", "limit")


def parse_args(argv=None):
    """The command line; ``args.given`` holds the settings it names (before defaults)."""
    parser = argparse.ArgumentParser(
        description="Train a small CNN on handwritten digits (scikit-learn digits or MNIST).")
    parser.add_argument("--dataset", choices=sorted(MODELS), help="(default digits)")
    parser.add_argument("--data-dir", default=os.path.join("data", "mnist"),
                        help="folder with the MNIST IDX files (--dataset mnist)")
    parser.add_argument("--download", action="store_true",
                        help="fetch the MNIST files into --data-dir if missing")
    parser.add_argument("--epochs", type=int, help="total epochs (default per dataset)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"])
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--lr-step", type=int,
                        help="multiply the learning rate by 0.2 every this many epochs")
    parser.add_argument("--seed", type=int, help="(default 0)")
    parser.add_argument("--out", help="output folder (default runs/<dataset>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out with its stored settings (--epochs "
                             "may be raised to train longer)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run already in --out instead of refusing")
    parser.add_argument("--export", metavar="DIR",
                        help="write model.safetensors, model.onnx and README.txt to DIR")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1: fastest for these small layers, "
                             "and on a busy machine)")
    parser.add_argument("--limit", type=int,
                        help="use only this many training images (and a quarter as many "
                             "test images): for quick tries")
    args = parser.parse_args(argv)
    args.given = {key: getattr(args, key) for key in SETTINGS if getattr(args, key) is not None}
    positive = ("epochs", "batch_size", "lr", "lr_step")
    if any(args.given.get(key, 1) <= 0 for key in positive) or args.threads <= 0 \
            or args.given.get("limit", 0) < 0:
        parser.error("--epochs, --batch-size, --lr, --lr-step and --threads must be positive "
                     "(and --limit not negative)")
    if args.resume and args.overwrite:
        parser.error("--resume continues the run in --out and --overwrite replaces it: "
                     "choose one")
    args.out = args.out or os.path.join("runs", args.dataset or "digits")
    return args


def apply_settings(args, stored=None):
    """Fill every setting: from the checkpoint's ``stored`` settings when resuming (an older
    checkpoint lacks ``epochs``), then the per-dataset defaults."""
    if stored is not None:
        for key in SETTINGS:
            if key in stored and key not in args.given:
                setattr(args, key, stored[key])
        check_stored_settings(args)
    if args.dataset is None:
        args.dataset = "digits"
    for key, value in {**DEFAULTS[args.dataset], "seed": 0, "limit": 0}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def check_stored_settings(args) -> None:
    """Settings read from a checkpoint, checked as the command line checks them."""
    minimum = {"epochs": 1, "batch_size": 1, "lr_step": 1, "seed": 0, "limit": 0}
    valid = {"dataset": args.dataset in MODELS,
             "optimizer": args.optimizer in ("sgd", "adam", "adamw"),
             "lr": isinstance(args.lr, float) and args.lr > 0}
    for key, least in minimum.items():
        value = getattr(args, key)
        valid[key] = type(value) is int and value >= least
    problems = [key for key, ok in valid.items() if not ok and getattr(args, key) is not None]
    if problems:
        raise ValueError(f"its stored settings are not valid ({', '.join(problems)})")


def holds_a_run(folder) -> bool:
    """True when ``folder`` exists and is not empty (a run, or anything else, lives there)."""
    return os.path.isdir(folder) and bool(os.listdir(folder))


def limit_blas_threads(threads):
    """Cap numpy's BLAS threads (threadpoolctl comes with scikit-learn); a no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def fail(message) -> int:
    print(f"train_cnn.py: error: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    args = parse_args(argv)
    checkpoint_path = os.path.join(args.out, "checkpoint.npz")
    checkpoint = None
    if args.resume:
        if not os.path.exists(checkpoint_path):
            return fail(f"--resume: no checkpoint at {checkpoint_path}")
        try:
            # Every setting comes from the checkpoint; one given again must agree with it.
            checkpoint = read_checkpoint(checkpoint_path,
                                         {k: v for k, v in args.given.items() if k != "epochs"})
            apply_settings(args, checkpoint["config"])
        except CheckpointError as error:
            return fail(error)
        except MALFORMED as error:
            return fail(unusable(checkpoint_path, error))
    else:
        if holds_a_run(args.out) and not args.overwrite:
            return fail(f"{args.out} already holds a run; continue it with --resume, replace "
                        "it with --overwrite, or choose another --out")
        apply_settings(args)
    if args.export and not export_available():
        return fail("--export needs the safetensors and onnx packages: "
                    "pip install safetensors onnx (or pip install -e \".[all]\")")
    try:
        (train_images, train_labels), (test_images, test_labels) = load_data(args)
    except (FileNotFoundError, ImportError, ValueError, OSError) as error:
        return fail(error)
    config = {key: getattr(args, key) for key in SETTINGS}
    stats = normalization(train_images)
    if checkpoint is not None:
        try:
            # The model was trained on images scaled by these: keep using them.
            stats["mean"], stats["std"] = checkpoint_normalization(checkpoint_path, checkpoint)
        except CheckpointError as error:
            return fail(error)
    raw_test_images = test_images
    train_images, test_images = standardize(train_images, test_images, **stats)
    limit_blas_threads(args.threads)

    tc.manual_seed(args.seed)
    model = MODELS[args.dataset]()
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    # Smaller steps late in training settle the weights (a schedule that does not depend on
    # --epochs, so a run can be resumed with more epochs).
    scheduler = StepLR(optimizer, step_size=args.lr_step, gamma=0.2)
    loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=args.batch_size,
                        shuffle=True, generator_seed=args.seed)

    os.makedirs(args.out, exist_ok=True)
    history = {key: [] for key in HISTORY_KEYS}
    done, seconds_before = 0, 0.0
    if checkpoint is not None:
        try:
            done, history, seconds_before = restore_checkpoint(
                checkpoint_path, checkpoint, model, optimizer, scheduler, loader)
        except CheckpointError as error:
            return fail(error)
        print(f"resumed from {checkpoint_path} after epoch {done}")

    print(f"{args.dataset}: {len(train_labels)} training and {len(test_labels)} test images; "
          f"{sum(p.numel() for p in model.parameters())} parameters; {args.optimizer} lr={args.lr}")
    start = time.perf_counter()
    seconds = seconds_before
    predicted = None  # the test set's predicted classes after the last epoch
    epoch = done
    try:
        for epoch in range(done + 1, args.epochs + 1):
            train_loss, train_accuracy = train_one_epoch(model, optimizer, loader,
                                                         f"epoch {epoch}/{args.epochs}")
            test_loss, test_accuracy, predicted = evaluate(model, test_images, test_labels)
            for key, value in (("train_loss", train_loss), ("train_accuracy", train_accuracy),
                               ("test_loss", test_loss), ("test_accuracy", test_accuracy)):
                history[key].append(value)
            scheduler.step()
            # Training time over every run that built this checkpoint, not just this one.
            seconds = seconds_before + time.perf_counter() - start
            save_checkpoint(checkpoint_path, model, optimizer, scheduler, loader, epoch,
                            history, seconds, stats, config)
            print(f"epoch {epoch:3d}/{args.epochs}  train loss {train_loss:.4f}  "
                  f"acc {train_accuracy:.4f}  |  test loss {test_loss:.4f}  "
                  f"acc {test_accuracy:.4f}  ({seconds:.1f} s)")
    except KeyboardInterrupt:
        print(f"\ninterrupted in epoch {epoch}; {checkpoint_path} holds epoch {epoch - 1}: "
              f"continue with  python {sys.argv[0]} --resume --out {args.out}",
              file=sys.stderr)
        return 130
    if predicted is None:  # resumed a finished run: no epoch evaluated the final weights
        test_loss, test_accuracy, predicted = evaluate(model, test_images, test_labels)

    metrics = {"dataset": args.dataset, "test_accuracy": test_accuracy, "test_loss": test_loss,
               "epochs": args.epochs, "seconds": round(seconds, 3),
               "train_size": len(train_labels), "test_size": len(test_labels),
               "optimizer": args.optimizer, "lr": args.lr, "batch_size": args.batch_size,
               "seed": args.seed, "history": history}
    with open(os.path.join(args.out, "metrics.json"), "w") as stream:
        json.dump(metrics, stream, indent=2)
    first_layer = model[0].weight.numpy()  # (C_out, 1, 3, 3): what kernels.png shows
    if not save_plots(args.out, history, first_layer, test_labels, predicted):
        print("matplotlib is not installed: no plots (pip install matplotlib)")
    print(f"test accuracy {test_accuracy:.4f} ({int((predicted == test_labels).sum())}/"
          f"{len(test_labels)}), {seconds:.1f} s of training; results in {args.out}")
    if args.export:
        export_model(args.export, model, stats, args.dataset, raw_test_images.shape[1:],
                     test_accuracy, len(test_labels))
        print(f"exported model.safetensors, model.onnx and README.txt to {args.export}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
