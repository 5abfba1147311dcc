"""``MNIST``, ``FashionMNIST`` and ``CIFAR10`` with torchvision's constructor and folders.

``Dataset(root, train=True, transform=None, target_transform=None, download=False)``; an
item is ``(image, target)``: the image a numpy ``uint8`` array — ``(28, 28)`` for the MNISTs,
``(32, 32, 3)`` for CIFAR-10 — where torchvision gives a PIL image (the deliberate
difference), the target an ``int``. Files are read where torchvision keeps them:
``root/MNIST/raw`` and ``root/FashionMNIST/raw`` (IDX files, raw or ``.gz``) and
``root/cifar-10-batches-bin`` (CIFAR-10's *binary* version: 3073-byte records, a label byte
then the red, green and blue 32x32 planes; nothing is unpickled). ``download=True`` fetches
missing files from torchvision's mirrors, each checked against its published checksum
before it is kept.
"""

from __future__ import annotations

import os
import tarfile

import numpy as np

from .._atomic import atomic_write
from ..data import download as _download
from ..data.dataset import Dataset
from ..data.datasets import MNIST_FILES
from ..data.idx import read_idx
from ..tensor import Tensor

__all__ = ["MNIST", "FashionMNIST", "CIFAR10"]

# CIFAR-10's binary archive is ~170 MB and each extracted batch ~30 MB: far below these.
MAX_ARCHIVE_BYTES = 1 << 30
MAX_MEMBER_BYTES = 1 << 28


def _fetch(mirrors, name: str, destination: str, md5: str, sha256=None) -> None:
    """Try each mirror in turn; the SHA-256 check when known, else the MD5 one."""
    errors = []
    for mirror in mirrors:
        url = mirror + name
        try:
            if sha256 is not None:
                _download.fetch(url, destination, sha256[0], sha256[1])
            else:
                _download.fetch(url, destination, md5=md5, max_bytes=MAX_ARCHIVE_BYTES)
            return
        except (_download.DownloadError, ValueError) as error:
            errors.append(f"{url}: {error}")
    raise RuntimeError(f"Error downloading {name}:\n" + "\n".join(errors))


class MNIST(Dataset):
    """MNIST handwritten digits (as ``torchvision.datasets.MNIST``).

    ``data``: uint8 ``Tensor`` ``(N, 28, 28)``; ``targets``: int64 ``Tensor`` ``(N,)``
    (N = 60000 for ``train=True``, 10000 otherwise); ``classes``, ``class_to_idx`` as
    torchvision. ``dataset[i]`` is ``(image uint8 (28, 28), int)`` after ``transform`` /
    ``target_transform``.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    # (file, MD5 as torchvision lists it); the SHA-256 pair of MNIST_FILES is checked first
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    sha256 = MNIST_FILES
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it "
                               f"(looked for the IDX files in {self.raw_folder})")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def _stems(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _path(self, stem: str):
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._path(stem) is not None for stem in self._stems())

    def _load_data(self):
        image_path, label_path = (self._path(stem) for stem in self._stems())
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{type(self).__name__}: {image_path} holds {images.dtype} data "
                             f"of shape {images.shape}; expected uint8 images (N, H, W)")
        if labels.shape != images.shape[:1] or labels.dtype != np.uint8:
            raise ValueError(f"{type(self).__name__}: {label_path} holds {labels.dtype} data "
                             f"of shape {labels.shape}; expected {images.shape[0]} uint8 "
                             f"labels to match {image_path}")
        return Tensor._make(images), Tensor._make(labels.astype(np.int64))

    def download(self) -> None:
        """Fetch the missing ``.gz`` files into ``raw_folder``, each checked before kept."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for name, md5 in self.resources:
            if self._path(name[:-3]) is not None:
                continue
            _fetch(self.mirrors, name, os.path.join(self.raw_folder, name), md5,
                   self.sha256.get(name))

    def __len__(self) -> int:
        return len(self.targets._data)

    def __getitem__(self, index):
        image, target = self.data._data[index], int(self.targets._data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (as ``torchvision.datasets.FashionMNIST``): MNIST's format,
    10 clothing classes, files in ``root/FashionMNIST/raw``; downloads checked by MD5."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    sha256 = {}
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(Dataset):
    """CIFAR-10 from its binary version (as ``torchvision.datasets.CIFAR10``, which reads the
    pickled Python version: same images, same order, nothing unpickled here).

    ``data``: uint8 array ``(N, 32, 32, 3)``; ``targets``: a list of ``int``; ``classes``
    and ``class_to_idx`` as torchvision. Each ``.bin`` file may hold any whole number of
    3073-byte records (the official ones hold 10000).
    """

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                  "data_batch_4.bin", "data_batch_5.bin"]
    test_list = ["test_batch.bin"]
    extra_files = ["batches.meta.txt"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]
    record_bytes = 1 + 3 * 32 * 32

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to "
                               f"download it (looked in {self._folder})")
        images, labels = zip(*(self._read(name) for name in self._files))
        self.data = np.concatenate(images)
        self.targets = np.concatenate(labels).astype(np.int64).tolist()

    @property
    def _folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    @property
    def _files(self) -> list:
        return self.train_list if self.train else self.test_list

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        return all(os.path.isfile(os.path.join(self._folder, name)) for name in self._files)

    def _read(self, name: str):
        path = os.path.join(self._folder, name)
        size = os.path.getsize(path)
        if size % self.record_bytes or size > MAX_MEMBER_BYTES:
            raise ValueError(f"CIFAR10: {path} is {size} bytes, not a whole number of "
                             f"{self.record_bytes}-byte records (label + 3x32x32 pixels)"
                             + (" within the size limit" if size > MAX_MEMBER_BYTES else ""))
        records = np.fromfile(path, dtype=np.uint8).reshape(size // self.record_bytes,
                                                          self.record_bytes)
        labels = records[:, 0]
        if labels.size and labels.max() >= len(self.classes):
            bad = int(np.argmax(labels >= len(self.classes)))
            raise ValueError(f"CIFAR10: {path}: record {bad} has label {labels[bad]}; labels "
                             f"are 0..{len(self.classes) - 1}")
        images = records[:, 1:].reshape(len(records), 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), labels

    def download(self) -> None:
        """Fetch and unpack the binary archive (MD5-checked) unless the files are present.

        Only the expected regular files inside ``cifar-10-batches-bin/`` are extracted, each
        size-bounded and written atomically; other archive members are ignored.
        """
        wanted = set(self.train_list + self.test_list + self.extra_files)
        if all(os.path.isfile(os.path.join(self._folder, name))
               for name in self.train_list + self.test_list):
            return
        os.makedirs(self._folder, exist_ok=True)
        archive = os.path.join(self.root, self.filename)
        if not os.path.isfile(archive):
            _fetch([self.url[:-len(self.filename)]], self.filename, archive, self.tgz_md5)
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if (not member.isfile() or len(parts) != 2 or parts[0] != self.base_folder
                        or parts[1] not in wanted):
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise ValueError(f"CIFAR10: {archive}: member {member.name} is "
                                     f"{member.size} bytes, above the {MAX_MEMBER_BYTES} limit")
                source = tar.extractfile(member)

                def copy(stream, source=source):
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        stream.write(chunk)

                atomic_write(os.path.join(self._folder, parts[1]), copy)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset CIFAR10\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")
