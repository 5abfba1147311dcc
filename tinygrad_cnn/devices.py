"""Devices, as PyTorch spells them, for a library that runs on the CPU only.

``device("cpu")`` is the one device; ``device("cuda")`` can be named (so
``torch.device("cuda" if torch.cuda.is_available() else "cpu")`` runs unchanged) but asking
for data on it raises ``RuntimeError``.  ``cuda.is_available()`` is False,
``cuda.device_count()`` 0; of the ``backends.cudnn`` flags, ``benchmark = True`` makes
"auto" time its convolution algorithms on each new configuration and keep the fastest, as
cuDNN's benchmark mode does (:mod:`tinygrad_cnn.ops.conv_tune`); the others are accepted and
change nothing; ``backends.mps.is_available()`` is False.
"""

import types

from .ops.conv_tune import cudnn  # noqa: F401  (torch.backends.cudnn's flags)

_GPU_MESSAGE = ("this library runs on the CPU with numpy; there is no GPU device "
                "(check torch.cuda.is_available(), which is False here)")
_KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")


class device:
    """A device name (as ``torch.device``): ``device("cpu")``, ``device("cuda:0")``,
    ``device("cuda", 0)``.  Only ``"cpu"`` can hold tensors."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or a device, got {type!r}")
        name, _, number = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_KNOWN_TYPES)} device "
                               f"type at start of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"device: invalid device string: {type!r}")
            index = int(number)
        self.type = name
        self.index = index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                         other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def is_device_like(value) -> bool:
    """True for a ``device`` or a string naming one (``"cpu"``, ``"cuda:1"``)."""
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in _KNOWN_TYPES
    return False


def check_device(op: str, value) -> device:
    """``value`` (a device, a device string, an int GPU index or None) as the CPU device, or
    ``RuntimeError`` for anything else (there is no GPU)."""
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        raise RuntimeError(f"{op}: device {value} is a GPU index; {_GPU_MESSAGE}")
    target = device(value)
    if target.type != "cpu":
        raise RuntimeError(f"{op}: cannot use device '{target}': {_GPU_MESSAGE}")
    return CPU


# ------------------------------------------------------------------ torch.cuda
def _is_available() -> bool:
    """False: there is no GPU."""
    return False


def _device_count() -> int:
    """0: there is no GPU."""
    return 0


def _no_gpu(*args, **kwargs):
    """Raises: there is no GPU."""
    raise RuntimeError(f"cuda: {_GPU_MESSAGE}")


def _accepted(*args, **kwargs) -> None:
    """Accepted and ignored (seeding or synchronising a GPU that is not there)."""


cuda = types.SimpleNamespace(
    is_available=_is_available, device_count=_device_count, current_device=_no_gpu,
    set_device=_no_gpu, get_device_name=_no_gpu, synchronize=_accepted,
    manual_seed=_accepted, manual_seed_all=_accepted, empty_cache=_accepted,
    is_initialized=_is_available,
)
mps = types.SimpleNamespace(is_available=_is_available, is_built=_is_available)


def device_methods():
    """The Tensor methods of this module (bound by ``tensor_methods.install``)."""
    return {"device": property(_tensor_device), "is_cuda": property(_tensor_is_cuda),
            "get_device": _tensor_get_device}


def _tensor_device(self) -> device:
    """The tensor's device: always the CPU."""
    return CPU


def _tensor_is_cuda(self) -> bool:
    """False: tensors live on the CPU."""
    return False


def _tensor_get_device(self) -> int:
    """-1: the CPU, as PyTorch numbers it."""
    return -1
