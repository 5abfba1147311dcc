"""The compatibility suite's machinery: the same PyTorch-spelled code, run under ``torch`` and
under ``tinygrad_cnn``, and the two runs' results compared.

``load(name)`` gives a ``Library``: the names a PyTorch program imports (``torch``, ``nn``,
``F``, ``optim``) bound to that library, plus ``to_numpy``.  ``run_script(path, name)`` runs
a PyTorch script file unchanged: under ``tinygrad_cnn`` its ``import torch...`` statements
import ``tinygrad_cnn...`` instead (the rule of API.md: only the import changes).
"""

import builtins
import functools
import importlib
import numbers
from dataclasses import dataclass
from types import ModuleType

import numpy as np

LIBRARIES = ("torch", "tinygrad_cnn")
TENSOR_HALF = "needs tensor semantics (issue 9 Tensor half)"


@dataclass(frozen=True)
class Library:
    name: str
    torch: ModuleType
    nn: ModuleType
    F: ModuleType
    optim: ModuleType

    @staticmethod
    def to_numpy(value):
        return to_numpy(value)


def _module(*candidates) -> ModuleType:
    """The first of ``candidates`` that imports (``tinygrad_cnn.nn.functional`` is the module
    path API.md promises; ``tinygrad_cnn.functional`` the older one)."""
    for name in candidates:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {candidates} can be imported")


@functools.cache
def load(name: str) -> Library:
    if name == "torch":
        import torch

        return Library("torch", torch, _module("torch.nn"), _module("torch.nn.functional"),
                       _module("torch.optim"))
    import tinygrad_cnn

    return Library("tinygrad_cnn", tinygrad_cnn, _module("tinygrad_cnn.nn"),
                   _module("tinygrad_cnn.nn.functional", "tinygrad_cnn.functional"),
                   _module("tinygrad_cnn.optim"))


def to_numpy(value):
    """Tensors of either library (and nested lists, tuples, dicts of them, and numbers) as
    numpy arrays, to compare the two runs."""
    if isinstance(value, dict):
        return {key: to_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(to_numpy(item) for item in value)
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Number):
        return np.asarray(value)
    if hasattr(value, "detach") and hasattr(value, "cpu") and not _is_ours(value):
        return value.detach().cpu().numpy()
    if _is_ours(value):
        return np.array(value.numpy(), copy=True)
    return np.asarray(value)


def _is_ours(value) -> bool:
    return type(value).__module__.startswith("tinygrad_cnn")


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6, where="result"):
    """``ours`` equals ``theirs`` (after ``to_numpy``) in structure, shape and value."""
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), \
            f"{where}: keys {sorted(ours)} != {sorted(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], rtol, atol, f"{where}[{key!r}]")
        return
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), \
            f"{where}: {ours!r} != {theirs!r}"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, rtol, atol, f"{where}[{index}]")
        return
    if theirs is None or isinstance(theirs, (str, bool)):
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"
        return
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != {theirs.shape}"
    if theirs.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=where)


def _redirecting_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` for which ``torch`` and ``torch.x.y`` are ``tinygrad_cnn[.x.y]``."""
    if level == 0 and (name == "torch" or name.startswith("torch.")):
        name = "tinygrad_cnn" + name[len("torch"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


def run_script(path: str, library: str):
    """Run the PyTorch script at ``path`` under ``library`` and return what its ``main()``
    returns.  The script's text is the same for both libraries."""
    with open(path, encoding="utf-8") as stream:
        source = stream.read()
    script_builtins = dict(vars(builtins))
    if library != "torch":
        script_builtins["__import__"] = _redirecting_import
    namespace = {"__name__": "compat_script", "__file__": path,
                 "__builtins__": script_builtins}
    exec(compile(source, path, "exec"), namespace)  # noqa: S102 - our own test scripts
    return namespace["main"]()
