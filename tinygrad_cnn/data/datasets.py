"""Ready-made datasets: scikit-learn's 8x8 digits (offline) and MNIST from IDX files.

Both return ``(images, labels)`` as numpy arrays: float32 images ``(N, 1, H, W)`` scaled to
[0, 1] and int64 labels ``(N,)``; wrap them in a :class:`~tinygrad_cnn.data.TensorDataset`
to batch them with a :class:`~tinygrad_cnn.data.DataLoader`.
"""

from __future__ import annotations

import os

import numpy as np

from .download import fetch
from .idx import read_idx

__all__ = ["digits", "mnist", "read_idx", "download_mnist", "MNIST_BASE_URL", "MNIST_FILES"]

# The first mirror torchvision tries; the original host (yann.lecun.com) often refuses
# downloads now. Pass ``base_url=`` to use another mirror (or a local server in tests).
MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

# file name -> (SHA-256 of the .gz as published, SHA-256 of its decompressed content).
# The first digest is the one the original files and their mirrors are known by; the second
# identifies the same data re-compressed (the copies in ../shared/data/mnist are such
# re-compressed files: different .gz bytes, identical content), which is accepted too.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}


# Bounds on one MNIST download: the largest file is 9.9 MB compressed, 47 MB decompressed;
# a server sending more (with or without Content-Length) is stopped at these sizes.
MNIST_MAX_BYTES = 64 << 20
MNIST_MAX_RAW_BYTES = 64 << 20


def digits():
    """scikit-learn's bundled handwritten digits (``sklearn.datasets.load_digits``).

    Works offline (the data ships inside scikit-learn). Returns float32 images
    ``(1797, 1, 8, 8)`` scaled from 0..16 to [0, 1] and int64 labels ``(1797,)`` in 0..9.
    Raises ``ImportError`` when scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "digits() needs scikit-learn: pip install 'tinygrad_cnn[examples]' "
            "(or pip install scikit-learn)"
        ) from error
    bunch = load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0))[:, None, :, :]
    labels = np.asarray(bunch.target, dtype=np.int64)
    return np.ascontiguousarray(images), labels


def _split_files(train: bool) -> tuple[str, str]:
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(root: str, stem: str) -> str | None:
    """Path of ``stem.gz`` or ``stem`` (uncompressed) in ``root``, whichever exists."""
    for name in (stem + ".gz", stem):
        candidate = os.path.join(root, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def download_mnist(root, base_url: str = MNIST_BASE_URL, files=None, progress: bool = True,
                   timeout: float = 30.0) -> None:
    """Fetch the four MNIST ``.gz`` files into ``root`` (created if needed).

    A file already present in ``root`` (``.gz`` or uncompressed) is kept as it is. Each
    download is checked against ``files`` (default :data:`MNIST_FILES`: name -> (SHA-256 of
    the ``.gz``, SHA-256 of its decompressed content)) and written atomically; on failure
    nothing partial is left (see :func:`tinygrad_cnn.data.download.fetch`); a body larger
    than :data:`MNIST_MAX_BYTES` is refused before its checksum is computed. Raises
    ``TypeError`` for a ``root`` or ``base_url`` of the wrong type and ``ValueError`` for an
    empty ``base_url``.
    """
    root = _root("download_mnist", root)
    if not isinstance(base_url, str):
        raise TypeError(
            f"download_mnist: base_url must be a str (a URL such as {MNIST_BASE_URL!r}), got "
            f"{type(base_url).__name__}"
        )
    if not base_url.strip():
        raise ValueError("download_mnist: base_url must be a URL, got an empty string")
    files = MNIST_FILES if files is None else files
    if not base_url.endswith("/"):
        base_url += "/"
    os.makedirs(root, exist_ok=True)
    for name, (gz_sha256, raw_sha256) in files.items():
        stem = name[:-3] if name.endswith(".gz") else name
        if _find(root, stem) is not None:
            continue
        fetch(base_url + name, os.path.join(root, name), gz_sha256, raw_sha256,
              timeout=timeout, progress=progress, max_bytes=MNIST_MAX_BYTES,
              max_raw_bytes=MNIST_MAX_RAW_BYTES)


def _root(op: str, root) -> str:
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"{op}: root must be a str or os.PathLike, got {type(root).__name__}")
    root = os.fspath(root)
    if not isinstance(root, str):
        raise TypeError(f"{op}: root must be a text path, got {type(root).__name__}")
    return root


def mnist(root, train: bool = True, download: bool = False, base_url: str = MNIST_BASE_URL):
    """MNIST from its IDX files in ``root`` (as ``torchvision.datasets.MNIST``, minus the class).

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``train=True``) or the
    ``t10k-`` pair, each gzip-compressed (``.gz``) or raw. Returns float32 images
    ``(N, 1, 28, 28)`` scaled to [0, 1] and int64 labels ``(N,)`` (N = 60000 or 10000).
    ``download=True`` first fetches missing files from ``base_url`` into ``root``, checking
    each SHA-256 (see :func:`download_mnist`). Raises ``FileNotFoundError`` naming the missing
    files when they are absent and ``download`` is False, and ``ValueError`` for files that
    are corrupt or do not hold MNIST-shaped data.
    """
    root = _root("mnist", root)
    if download:
        download_mnist(root, base_url=base_url)
    image_stem, label_stem = _split_files(train)
    image_path, label_path = _find(root, image_stem), _find(root, label_stem)
    missing = [stem for stem, path in ((image_stem, image_path), (label_stem, label_path))
               if path is None]
    if missing:
        names = ", ".join(f"{stem}(.gz)" for stem in missing)
        raise FileNotFoundError(
            f"mnist: {names} not found in {root}; pass download=True "
            "(--download in the examples) to fetch the MNIST files there"
        )
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"mnist: {image_path} holds {images.dtype} data of shape {images.shape}; "
            "expected uint8 images (N, H, W)"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8 or labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"mnist: {label_path} holds {labels.dtype} data of shape {labels.shape}; "
            f"expected {images.shape[0]} uint8 labels to match {image_path}"
        )
    scaled = images.astype(np.float32)
    scaled /= np.float32(255.0)
    return scaled[:, None, :, :], labels.astype(np.int64)
