"""A bad-input sweep over the public callables, with PyTorch as the oracle.

Each call spec names a callable, a valid call, and the arguments to spoil. Every spoiled call
(wrong types, ranks, sizes, NaN/inf, empty, int/bool tensors, huge values such as a stride of
``10**20``) runs under PyTorch and here: where PyTorch raises, we must raise an exception of
the same type (our shape errors are ``ShapeError``, both ``ValueError`` and PyTorch's
``RuntimeError``; dtype errors ``DtypeError``, both ``TypeError`` and ``RuntimeError``) with
a message that starts with the op's name; where PyTorch computes, so must we. The number of
inputs checked is printed (``-s``).

Where PyTorch's exception type is an accident of its implementation, the type that names the
mistake is expected instead (:data:`ACCIDENTAL`): ``AttributeError`` from calling a tensor
method on a string (we: ``TypeError``), ``NotImplementedError`` for a kernel missing for
a dtype (we: ``TypeError``), ``IndexError`` from looking up a dimension of an input of the
wrong rank (we: ``ValueError`` naming the rank; a dim out of range is PyTorch's
``IndexError`` here too, as :class:`~tinygrad_cnn._checks.AxisError`), ``TypeError`` for an
int beyond int64 in some ops where others raise ``ValueError`` (we: ``ValueError``
everywhere). :data:`DELIBERATE` lists where we refuse what
PyTorch computes, on purpose (the API's "never a silently wrong result"), and
:data:`DELIBERATE_SPOILERS` the spoiled values (a string or None as a flag, NaN as a rate)
we always refuse; :data:`DELIBERATE_ACCEPTS` where PyTorch raises and we compute, on purpose
(a numpy type as a dtype); :data:`KNOWN_GAPS` what PyTorch computes and we refuse for want of the
feature. ``bad_input_pending.txt`` lists the inputs still to fix, one a line: the sweep fails
on any difference not listed there and on any listed input that no longer differs.
``bad_input_differs.txt`` lists, each with its reason, the inputs where we differ on purpose
(PyTorch takes a value that is a mistake: a negative period, a NaN timeout): each must still
differ, with our error naming the op, and be listed in ``docs/coming_from_pytorch.md``.

The specs cover the CNN functional ops and layers, the factories, the Tensor methods and
``torch.*`` functions (reductions along a dim, shape ops, indexing, in-place ops, dtype
conversions), the optimizers' and schedulers' constructors, ``DataLoader``, ``save``/``load``
and ``gradcheck``. Not yet: the vision transforms (torchvision, their oracle, is not
installed here; ``tests/test_vision.py`` checks their constructors against the types
torchvision's source raises).
"""

import math
import pathlib

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")
TF, TNN = torch.nn.functional, torch.nn

RNG = np.random.default_rng(0)

# a layer's error may come from the functional op it runs (BatchNorm2d -> batch_norm)
ALIASES = {"BatchNorm2d": "batch_norm", "Linear": "linear", "Dropout": "dropout",
           "LeakyReLU": "leaky_relu", "Conv2d": "conv2d", "Conv1d": "conv1d",
           "ConvTranspose2d": "conv_transpose2d", "MaxPool2d": "max_pool2d",
           "AvgPool2d": "avg_pool2d"}


def names_op(message: str, name: str) -> bool:
    name = name.split("(")[0].removeprefix("torch.")  # "sum(dims)", "torch.flatten": the op
    return message.startswith((name, ALIASES.get(name, name)))


ACCIDENTAL = {AttributeError: TypeError, NotImplementedError: TypeError}


def accepted(expected, label):
    """The exception type we must raise where PyTorch raised ``expected``."""
    if isinstance(expected, IndexError) and ("0-d" in label or "rank" in label):
        return ValueError  # PyTorch looked up a dim the input lacks: a bad rank to us
    return ACCIDENTAL.get(type(expected), type(expected))
# PyTorch computes these (NaN everywhere, silently); we raise ValueError naming the argument.
DELIBERATE = {"batch_norm(momentum=nan)", "batch_norm(momentum=inf)", "batch_norm(eps=nan)",
              "batch_norm(eps=inf)", "BatchNorm2d(momentum=nan)", "BatchNorm2d(momentum=inf)",
              "BatchNorm2d(eps=nan)", "BatchNorm2d(eps=inf)"}
# PyTorch computes these; we raise, naming the op (a feature we lack, listed so it is seen).
KNOWN_GAPS = {
    "avg_pool2d(0=int tensor)": "integer average pooling (PyTorch truncates each mean)",
    "lp_pool2d(0=int tensor)": "integer power-average pooling",
    "lp_pool2d(0=bool tensor)": "bool power-average pooling",
    "leaky_relu(negative_slope=huge)": "PyTorch refuses a slope beyond float32's range at "
                                       "run time; we compute with it (inf/NaN outputs)",
    "LeakyReLU(negative_slope=huge)": "as leaky_relu(negative_slope=huge)",
    "lp_pool2d(2=string)": "PyTorch's ValueError comes from unpacking the string; we say "
                           "TypeError, kernel_size must be an int or a pair",
    "lp_pool2d(2=none-ish list)": "as lp_pool2d(2=string)",
    "lp_pool2d(2=long tuple)": "as lp_pool2d(2=string)",
    "BatchNorm2d(0=long tuple)": "PyTorch fails at run time (RuntimeError); we refuse the "
                                 "tuple when the layer is built (TypeError)",
}
# PyTorch raises; we compute, on purpose: each a documented difference (API.md's "numpy dtypes
# are used for these names", docs/coming_from_pytorch.md), checked to still differ.
DELIBERATE_ACCEPTS = {
    label: "a numpy type (np.float64) is a dtype here: the library's dtypes are numpy's"
    for label in ("tensor(dtype=numpy type)", "zeros(dtype)(dtype=numpy type)",
                  "to(1=numpy type)", "type(1=numpy type)")
}
# Where PyTorch computes with these spoiled values (a string or None as a flag, NaN as a
# learning rate, a third beta) we refuse, naming the op, with TypeError or ValueError: the
# API's "never a silently wrong result" (counted as deliberate refusals).
DELIBERATE_SPOILERS = {"string", "none", "nan", "inf", "list", "float entry", "bool entry",
                       "none entry", "string entry", "three values", "none-ish list",
                       "long tuple", "float tuple", "numpy type"}
# Inputs found by the sweep where we still differ from PyTorch (the wrong exception type, a
# message that does not name the op, or a refusal/acceptance mismatch): one label a line in
# bad_input_pending.txt, a work list to burn down. Listed inputs must still differ (a fixed
# one fails the test until its line is removed), and any new difference fails it.
PENDING_FILE = pathlib.Path(__file__).with_name("bad_input_pending.txt")
PENDING = {line.strip() for line in PENDING_FILE.read_text().splitlines()
           if line.strip() and not line.startswith("#")}
# Inputs where we differ from PyTorch on purpose: "label -- reason", one a line in
# bad_input_differs.txt, each also listed in docs/coming_from_pytorch.md.
DIFFERS_FILE = pathlib.Path(__file__).with_name("bad_input_differs.txt")
DIFFERS = dict(line.strip().split(" -- ", 1) for line in DIFFERS_FILE.read_text().splitlines()
               if line.strip() and not line.startswith("#"))
DOCS_FILE = pathlib.Path(__file__).parents[1] / "docs" / "coming_from_pytorch.md"
COUNTS = {"inputs": 0}


class Arr:
    """An array argument, built for each library (Tensor here, torch.tensor there)."""

    def __init__(self, array):
        self.array = np.asarray(array)

    def ours(self):
        return tg.tensor(self.array.copy())

    def theirs(self):
        return torch.tensor(self.array.copy())


def arr(*shape, dtype=np.float32):
    return Arr(RNG.standard_normal(shape).astype(dtype))


def applied(layer, input_shape):
    """A callable building ``layer(*args, **kwargs)`` and applying it to a float32 input of
    ``input_shape`` (of whichever library ``layer`` belongs to)."""
    data = RNG.standard_normal(input_shape).astype(np.float32)

    def build_and_apply(*args, **kwargs):
        module = layer(*args, **kwargs)
        wrap = torch.tensor if isinstance(module, torch.nn.Module) else tg.tensor
        return module(wrap(data.copy()))

    return build_and_apply


def build(value, side):
    if isinstance(value, (Arr, DType, Tensors, Params, GradInput)):
        return value.ours() if side == "ours" else value.theirs()
    if isinstance(value, tuple):
        return tuple(build(v, side) for v in value)
    if isinstance(value, list):
        return [build(v, side) for v in value]
    if isinstance(value, dict):  # keyword arguments (a DType given as dtype=)
        return {k: build(v, side) for k, v in value.items()}
    return value


def tensor_spoilers(value: Arr):
    """Ways to spoil an array argument."""
    array = value.array
    yield "none", None
    yield "string", "x"
    yield "list", array.tolist() if array.size < 50 else [1.0, 2.0]
    yield "int tensor", Arr(array.astype(np.int64))
    yield "bool tensor", Arr(array > 0)
    floating = array.dtype if array.dtype.kind in "fc" else np.float64  # nan in an int array
    yield "nan", Arr(np.full_like(array, np.nan, dtype=floating))
    yield "inf", Arr(np.full_like(array, np.inf, dtype=floating))
    if array.ndim:
        yield "rank -1", Arr(array.reshape(array.shape[1:]) if array.shape[0] == 1
                             else array[0])
        yield "rank +1", Arr(array[None])
        yield "empty batch", Arr(array[:0])
        yield "size +1", Arr(np.concatenate([array, array[..., -1:]], axis=-1))
    yield "0-d", Arr(np.float32(1.0))


def int_spoilers(value):
    yield "float", 1.5
    yield "string", "2"
    yield "none-ish list", [None]
    yield "zero", 0
    yield "negative", -1
    yield "huge", 10 ** 20
    yield "seven", 7  # beyond every dim of these inputs, a fine size
    yield "bool", True
    yield "long tuple", (1, 1, 1)
    yield "float tuple", (1.0, 1.0)


def float_spoilers(value):
    yield "string", "0.1"
    yield "none", None
    yield "negative", -1.0
    yield "nan", math.nan
    yield "inf", math.inf
    yield "huge", 1e300
    yield "list", [0.1]


def flag_spoilers(value):
    yield "string", "no"
    yield "int", 1
    yield "none", None


def word_spoilers(value):
    yield "unknown", "frobnicate"
    yield "int", 3
    yield "none", None


class DType:
    """A dtype argument: ``tg.<name>`` here, ``torch.<name>`` there."""

    def __init__(self, name):
        self.name = name

    def ours(self):
        return getattr(tg, self.name)

    def theirs(self):
        return getattr(torch, self.name)


class Tensors:
    """A list of array arguments (``cat``'s and ``stack``'s ``tensors``)."""

    def __init__(self, *arrays):
        self.arrays = list(arrays)

    def ours(self):
        return [build(a, "ours") for a in self.arrays]

    def theirs(self):
        return [build(a, "theirs") for a in self.arrays]


def tensors_spoilers(value: Tensors):
    first = value.arrays[0].array
    yield "none", None
    yield "string", "x"
    yield "empty list", []
    yield "a tensor", value.arrays[0]
    yield "string entry", Tensors(value.arrays[0], "x")
    yield "none entry", Tensors(value.arrays[0], None)
    yield "rank mismatch", Tensors(value.arrays[0], Arr(first[0]))
    yield "size mismatch", Tensors(value.arrays[0], Arr(np.concatenate([first, first], -1)))
    yield "int and float", Tensors(value.arrays[0], Arr(first.astype(np.int64)))


def dtype_spoilers(value: DType):
    yield "string", "float32"
    yield "int", 3
    yield "numpy type", np.float64
    yield "python float", float
    yield "to bool", DType("bool")
    yield "to int64", DType("int64")


def dims_spoilers(value):
    """A sequence of ints argument (sizes, a permutation, split sections)."""
    yield "none", None
    yield "string", "2"
    yield "float entry", (2.0, 3)
    yield "none entry", (None, 3)
    yield "negative entry", (-2, 3)
    yield "huge entry", (10 ** 20, 3)
    yield "empty", ()
    yield "too long", (1, 2, 3, 4, 5)
    yield "bool entry", (True, 3)


def params_spoilers(value):
    yield "none", None
    yield "string", "x"
    yield "int", 3
    yield "empty list", []
    yield "a tensor", Arr(np.ones(3, np.float32))
    yield "list of strings", ["x"]
    yield "list of none", [None]


def path_spoilers(value):
    yield "none", None
    yield "int", -3
    yield "float", 1.5
    yield "list", ["x"]
    yield "missing folder", "/nonexistent-folder-of-the-sweep/x.pt"
    yield "empty string", ""


def callable_spoilers(value):
    yield "none", None
    yield "string", "x"
    yield "int", 3


def pair_spoilers(value):
    """A pair of floats (Adam's ``betas``)."""
    yield "none", None
    yield "string", "0.9"
    yield "one value", (0.9,)
    yield "three values", (0.9, 0.99, 0.999)
    yield "negative", (-0.1, 0.999)
    yield "one", (1.0, 0.999)
    yield "nan", (math.nan, 0.999)
    yield "string entry", ("0.9", 0.999)


class Params:
    """An optimizer's parameters: fresh leaves built for each library."""

    def ours(self):
        return [tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)]

    def theirs(self):
        return [torch.tensor(np.ones((2, 3), np.float32), requires_grad=True)]


def scheduled(name, optimizer_args=None):
    """A callable building ``lr_scheduler.<name>(SGD(params, lr=0.1), *args, **kwargs)``
    and stepping it twice, for either library (the first argument says which)."""
    def build(library, *args, **kwargs):
        params = Params().ours() if library is tg else Params().theirs()
        optimizer = library.optim.SGD(params, lr=0.1, momentum=0.9)
        scheduler = getattr(library.optim.lr_scheduler, name)(optimizer, *args, **kwargs)
        for _ in range(2):
            optimizer.step()
            scheduler.step(*([1.0] if name == "ReduceLROnPlateau" else []))
    return (lambda *a, **k: build(tg, *a, **k)), (lambda *a, **k: build(torch, *a, **k))


def loaded(library):
    """``DataLoader(dataset of 10 float rows, *args, **kwargs)``, then one batch when no
    worker process is asked for (PyTorch checks a few arguments only when it iterates)."""
    def build(*args, **kwargs):
        data = library.utils.data
        rows = np.arange(30, dtype=np.float32).reshape(10, 3)
        dataset = data.TensorDataset(library.tensor(rows))
        loader = data.DataLoader(dataset, *args, **kwargs)
        if not kwargs.get("num_workers"):
            next(iter(loader))
    return build


def saved(library):
    """``save({"w": tensor}, path)`` then ``load(path)`` (the path spoiled)."""
    def build(path):
        library.save({"w": library.ones(2)}, path)
        return library.load(path)
    return build


def gradchecked(library):
    """``gradcheck(sum of squares, (x,), **kwargs)`` on a float64 ``x`` needing grad."""
    check = library.gradcheck.gradcheck if library is tg else torch.autograd.gradcheck

    def build(inputs, **kwargs):
        return check(lambda x: (x * x).sum(), inputs, **kwargs)
    return build


class GradInput:
    """gradcheck's ``inputs``: a tuple with one float64 leaf needing grad."""

    def ours(self):
        return (tg.tensor(np.linspace(-1, 1, 4), requires_grad=True),)

    def theirs(self):
        return (torch.tensor(np.linspace(-1, 1, 4), requires_grad=True),)


SPOILERS = {"tensor": tensor_spoilers, "int": int_spoilers, "float": float_spoilers,
            "flag": flag_spoilers, "word": word_spoilers, "tensors": tensors_spoilers,
            "dtype": dtype_spoilers, "dims": dims_spoilers, "params": params_spoilers,
            "path": path_spoilers, "callable": callable_spoilers, "pair": pair_spoilers}

# name, ours, theirs, valid positional args, valid keyword args, {argument: kind}
SPECS = [
    ("conv2d", F.conv2d, TF.conv2d, (arr(2, 4, 8, 8), arr(6, 4, 3, 3), arr(6)),
     dict(stride=1, padding=1, dilation=1, groups=1),
     {0: "tensor", 1: "tensor", 2: "tensor", "stride": "int", "padding": "int",
      "dilation": "int", "groups": "int"}),
    ("conv1d", F.conv1d, TF.conv1d, (arr(2, 4, 10), arr(6, 4, 3), arr(6)),
     dict(stride=1, padding=0, dilation=1, groups=1),
     {0: "tensor", 1: "tensor", 2: "tensor", "stride": "int", "padding": "int",
      "dilation": "int", "groups": "int"}),
    ("conv_transpose2d", F.conv_transpose2d, TF.conv_transpose2d,
     (arr(2, 4, 5, 5), arr(4, 3, 3, 3), arr(3)), dict(stride=2, padding=1),
     {0: "tensor", 1: "tensor", 2: "tensor", "stride": "int", "padding": "int"}),
    ("max_pool2d", F.max_pool2d, TF.max_pool2d, (arr(2, 3, 8, 8), 2),
     dict(stride=2, padding=0, dilation=1, ceil_mode=False),
     {0: "tensor", 1: "int", "stride": "int", "padding": "int", "dilation": "int",
      "ceil_mode": "flag"}),
    ("avg_pool2d", F.avg_pool2d, TF.avg_pool2d, (arr(2, 3, 8, 8), 2),
     dict(stride=2, padding=1, ceil_mode=False, count_include_pad=True),
     {0: "tensor", 1: "int", "stride": "int", "padding": "int", "ceil_mode": "flag",
      "count_include_pad": "flag"}),
    ("unfold", F.unfold, TF.unfold, (arr(2, 3, 6, 6), 3),
     dict(dilation=1, padding=1, stride=1),
     {0: "tensor", 1: "int", "dilation": "int", "padding": "int", "stride": "int"}),
    ("fold", F.fold, TF.fold, (arr(2, 27, 16), (6, 6), 3), dict(dilation=1, padding=0,
                                                             stride=1),
     {0: "tensor", 2: "int", "dilation": "int", "padding": "int", "stride": "int"}),
    ("batch_norm", F.batch_norm, TF.batch_norm,
     (arr(4, 3, 5, 5), Arr(np.zeros(3, np.float32)), Arr(np.ones(3, np.float32)), arr(3),
      arr(3)), dict(training=True, momentum=0.1, eps=1e-5),
     {0: "tensor", 3: "tensor", 4: "tensor", "training": "flag", "momentum": "float",
      "eps": "float"}),
    ("dropout", F.dropout, TF.dropout, (arr(4, 5),), dict(p=0.5, training=False),
     {0: "tensor", "p": "float", "training": "flag"}),
    ("linear", F.linear, TF.linear, (arr(4, 5), arr(3, 5), arr(3)), {},
     {0: "tensor", 1: "tensor", 2: "tensor"}),
    ("relu", F.relu, TF.relu, (arr(3, 4),), {}, {0: "tensor"}),
    ("mse_loss", F.mse_loss, TF.mse_loss, (arr(4, 3), arr(4, 3)), dict(reduction="mean"),
     {0: "tensor", 1: "tensor", "reduction": "word"}),
    ("cross_entropy", F.cross_entropy, TF.cross_entropy,
     (arr(4, 5), Arr(np.array([0, 1, 4, 2]))), dict(reduction="mean"),
     {0: "tensor", "reduction": "word"}),
    ("nll_loss", F.nll_loss, TF.nll_loss, (arr(4, 5), Arr(np.array([0, 1, 4, 2]))),
     dict(reduction="sum"), {0: "tensor", "reduction": "word"}),
    ("leaky_relu", F.leaky_relu, TF.leaky_relu, (arr(3, 4),), dict(negative_slope=0.1),
     {0: "tensor", "negative_slope": "float"}),
    ("sigmoid", F.sigmoid, torch.sigmoid, (arr(3, 4),), {}, {0: "tensor"}),
    ("tanh", F.tanh, torch.tanh, (arr(3, 4),), {}, {0: "tensor"}),
    ("lp_pool2d", F.lp_pool2d, TF.lp_pool2d, (arr(2, 3, 8, 8), 2.0, 2), dict(stride=2),
     {0: "tensor", 2: "int", "stride": "int"}),
    # layers: built and applied to a valid input (PyTorch checks most arguments only when
    # the layer runs; we check them when it is built: both must fail, or neither)
    ("Conv2d", applied(nn.Conv2d, (2, 4, 8, 8)), applied(TNN.Conv2d, (2, 4, 8, 8)), (4, 6, 3),
     dict(stride=1, padding=1, dilation=1, groups=2),
     {0: "int", 1: "int", 2: "int", "stride": "int", "padding": "int", "dilation": "int",
      "groups": "int"}),
    ("Conv1d", applied(nn.Conv1d, (2, 4, 9)), applied(TNN.Conv1d, (2, 4, 9)), (4, 6, 3),
     dict(stride=1), {0: "int", 1: "int", 2: "int", "stride": "int"}),
    ("ConvTranspose2d", applied(nn.ConvTranspose2d, (2, 4, 5, 5)),
     applied(TNN.ConvTranspose2d, (2, 4, 5, 5)), (4, 6, 3), dict(stride=2),
     {0: "int", 1: "int", 2: "int", "stride": "int"}),
    ("Linear", applied(nn.Linear, (3, 4)), applied(TNN.Linear, (3, 4)), (4, 6),
     dict(bias=True), {0: "int", 1: "int", "bias": "flag"}),
    ("BatchNorm2d", applied(nn.BatchNorm2d, (2, 4, 3, 3)), applied(TNN.BatchNorm2d,
                                                                   (2, 4, 3, 3)),
     (4,), dict(eps=1e-5, momentum=0.1), {0: "int", "eps": "float", "momentum": "float"}),
    ("MaxPool2d", applied(nn.MaxPool2d, (2, 3, 8, 8)), applied(TNN.MaxPool2d, (2, 3, 8, 8)),
     (2,), dict(stride=2, padding=1), {0: "int", "stride": "int", "padding": "int"}),
    ("AvgPool2d", applied(nn.AvgPool2d, (2, 3, 8, 8)), applied(TNN.AvgPool2d, (2, 3, 8, 8)),
     (2,), dict(stride=2, padding=1), {0: "int", "stride": "int", "padding": "int"}),
    ("Dropout", applied(nn.Dropout, (3, 4)), applied(TNN.Dropout, (3, 4)), (), dict(p=0.5),
     {"p": "float"}),
    ("LeakyReLU", applied(nn.LeakyReLU, (3, 4)), applied(TNN.LeakyReLU, (3, 4)), (),
     dict(negative_slope=0.1), {"negative_slope": "float"}),
    # factories and tensor methods
    ("zeros", tg.zeros, torch.zeros, (2, 3), {}, {0: "int", 1: "int"}),
    ("ones", tg.ones, torch.ones, (2, 3), {}, {0: "int", 1: "int"}),
    ("randn", tg.randn, torch.randn, (2, 3), {}, {0: "int", 1: "int"}),
    ("arange", tg.arange, torch.arange, (0, 10, 2), {}, {0: "int", 1: "int", 2: "int"}),
    ("reshape", tg.Tensor.reshape, torch.Tensor.reshape, (arr(2, 6), 3, 4), {},
     {1: "int", 2: "int"}),
    ("transpose", tg.Tensor.transpose, torch.Tensor.transpose, (arr(2, 3, 4), 0, 2), {},
     {1: "int", 2: "int"}),
    ("permute", tg.Tensor.permute, torch.Tensor.permute, (arr(2, 3, 4), 2, 0, 1), {},
     {1: "int", 2: "int", 3: "int"}),
    ("sum", tg.Tensor.sum, torch.Tensor.sum, (arr(2, 3, 4), 1), {}, {1: "int"}),
    ("mean", tg.Tensor.mean, torch.Tensor.mean, (arr(2, 3, 4), 1), {}, {1: "int"}),
    ("unsqueeze", tg.Tensor.unsqueeze, torch.Tensor.unsqueeze, (arr(2, 3), 1), {}, {1: "int"}),
    ("flatten", tg.Tensor.flatten, torch.Tensor.flatten, (arr(2, 3, 4), 1), {}, {1: "int"}),
    # reductions along a dim (methods and torch.* functions)
    ("var", tg.var, torch.var, (arr(2, 3, 4), 1), dict(keepdim=False), {0: "tensor", 1: "int"}),
    ("std", tg.std, torch.std, (arr(2, 3, 4), 1), dict(keepdim=False), {0: "tensor", 1: "int"}),
    ("prod", tg.prod, torch.prod, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("cumsum", tg.cumsum, torch.cumsum, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("logsumexp", tg.logsumexp, torch.logsumexp, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("amax", tg.amax, torch.amax, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("amin", tg.amin, torch.amin, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("argmax", tg.argmax, torch.argmax, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("argmin", tg.argmin, torch.argmin, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("max", tg.max, torch.max, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("min", tg.min, torch.min, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("all", tg.all, torch.all, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("any", tg.any, torch.any, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("count_nonzero", tg.count_nonzero, torch.count_nonzero, (arr(2, 3, 4), 1), {},
     {0: "tensor", 1: "int"}),
    ("sort", tg.sort, torch.sort, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("argsort", tg.argsort, torch.argsort, (arr(2, 3, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("topk", tg.topk, torch.topk, (arr(2, 3, 4), 2), dict(dim=1),
     {0: "tensor", 1: "int", "dim": "int"}),
    ("norm", tg.norm, torch.norm, (arr(2, 3, 4),), dict(p=2, dim=1), {0: "tensor", "dim": "int"}),
    ("sum(dims)", tg.Tensor.sum, torch.Tensor.sum, (arr(2, 3, 4),), dict(dim=(0, 2)),
     {"dim": "dims"}),
    # shape ops
    ("view", tg.Tensor.view, torch.Tensor.view, (arr(2, 6), (3, 4)), {}, {1: "dims"}),
    ("reshape(tuple)", tg.Tensor.reshape, torch.Tensor.reshape, (arr(2, 6), (3, 4)), {},
     {1: "dims"}),
    ("permute(tuple)", tg.Tensor.permute, torch.Tensor.permute, (arr(2, 3, 4), (2, 0, 1)), {},
     {1: "dims"}),
    ("squeeze", tg.squeeze, torch.squeeze, (arr(2, 1, 4), 1), {}, {0: "tensor", 1: "int"}),
    ("torch.unsqueeze", tg.unsqueeze, torch.unsqueeze, (arr(2, 3), 1), {}, {0: "tensor", 1: "int"}),
    ("torch.transpose", tg.transpose, torch.transpose, (arr(2, 3, 4), 0, 2), {},
     {0: "tensor", 1: "int", 2: "int"}),
    ("expand", tg.Tensor.expand, torch.Tensor.expand, (arr(1, 3), (4, 3)), {}, {1: "dims"}),
    ("repeat", tg.Tensor.repeat, torch.Tensor.repeat, (arr(2, 3), (2, 2)), {}, {1: "dims"}),
    ("split", tg.split, torch.split, (arr(6, 4), 2), dict(dim=0),
     {0: "tensor", 1: "int", "dim": "int"}),
    ("split(sections)", tg.split, torch.split, (arr(6, 4), [2, 4]), dict(dim=0), {1: "dims"}),
    ("chunk", tg.chunk, torch.chunk, (arr(6, 4), 3), dict(dim=0),
     {0: "tensor", 1: "int", "dim": "int"}),
    ("cat", tg.cat, torch.cat, (Tensors(arr(2, 3), arr(2, 3)),), dict(dim=0),
     {0: "tensors", "dim": "int"}),
    ("stack", tg.stack, torch.stack, (Tensors(arr(2, 3), arr(2, 3)),), dict(dim=0),
     {0: "tensors", "dim": "int"}),
    ("torch.flatten", tg.flatten, torch.flatten, (arr(2, 3, 4),), dict(start_dim=1, end_dim=2),
     {0: "tensor", "start_dim": "int", "end_dim": "int"}),
    ("unflatten", tg.unflatten, torch.unflatten, (arr(2, 12), 1, (3, 4)), {},
     {0: "tensor", 1: "int", 2: "dims"}),
    ("narrow", tg.narrow, torch.narrow, (arr(4, 5), 1, 1, 2), {},
     {0: "tensor", 1: "int", 2: "int", 3: "int"}),
    ("select", tg.select, torch.select, (arr(4, 5), 1, 2), {}, {0: "tensor", 1: "int", 2: "int"}),
    ("flip", tg.flip, torch.flip, (arr(4, 5), (0,)), {}, {0: "tensor", 1: "dims"}),
    ("broadcast_to", tg.broadcast_to, torch.broadcast_to, (arr(1, 3), (4, 3)), {},
     {0: "tensor", 1: "dims"}),
    # indexing
    ("index_select", tg.index_select, torch.index_select, (arr(4, 5), 1, Arr(np.array([0, 2]))), {},
     {0: "tensor", 1: "int", 2: "tensor"}),
    ("gather", tg.gather, torch.gather, (arr(4, 5), 1, Arr(np.array([[0, 1]] * 4))), {},
     {0: "tensor", 1: "int", 2: "tensor"}),
    ("masked_fill", tg.masked_fill, torch.masked_fill,
     (arr(4, 5), Arr(np.eye(4, 5, dtype=bool)), 0.0), {},
     {0: "tensor", 1: "tensor", 2: "float"}),
    ("where", tg.where, torch.where, (Arr(np.eye(4, 5, dtype=bool)), arr(4, 5), arr(4, 5)), {},
     {0: "tensor", 1: "tensor", 2: "tensor"}),
    # in-place ops
    ("add_", tg.Tensor.add_, torch.Tensor.add_, (arr(4, 5), arr(4, 5)), {}, {1: "tensor"}),
    ("mul_", tg.Tensor.mul_, torch.Tensor.mul_, (arr(4, 5), arr(4, 5)), {}, {1: "tensor"}),
    ("clamp_", tg.Tensor.clamp_, torch.Tensor.clamp_, (arr(4, 5), -0.5, 0.5), {},
     {1: "float", 2: "float"}),
    ("fill_", tg.Tensor.fill_, torch.Tensor.fill_, (arr(4, 5), 1.0), {}, {1: "float"}),
    ("copy_", tg.Tensor.copy_, torch.Tensor.copy_, (arr(4, 5), arr(4, 5)), {}, {1: "tensor"}),
    ("masked_fill_", tg.Tensor.masked_fill_, torch.Tensor.masked_fill_,
     (arr(4, 5), Arr(np.eye(4, 5, dtype=bool)), 0.0), {},
     {1: "tensor", 2: "float"}),
    ("uniform_", tg.Tensor.uniform_, torch.Tensor.uniform_, (arr(4, 5), 0.0, 1.0), {},
     {0: "tensor", 1: "float", 2: "float"}),
    ("normal_", tg.Tensor.normal_, torch.Tensor.normal_, (arr(4, 5), 0.0, 1.0), {},
     {0: "tensor", 1: "float", 2: "float"}),
    # factories
    ("full", tg.full, torch.full, ((2, 3), 1.5), {}, {0: "dims", 1: "float"}),
    ("empty", tg.empty, torch.empty, (2, 3), {}, {0: "int", 1: "int"}),
    ("rand", tg.rand, torch.rand, (2, 3), {}, {0: "int", 1: "int"}),
    ("randint", tg.randint, torch.randint, (0, 5, (2, 3)), {}, {0: "int", 1: "int", 2: "dims"}),
    ("randperm", tg.randperm, torch.randperm, (5,), {}, {0: "int"}),
    ("linspace", tg.linspace, torch.linspace, (0.0, 1.0, 5), {},
     {0: "float", 1: "float", 2: "int"}),
    ("eye", tg.eye, torch.eye, (3, 4), {}, {0: "int", 1: "int"}),
    ("zeros_like", tg.zeros_like, torch.zeros_like, (arr(2, 3),), {}, {0: "tensor"}),
    ("full_like", tg.full_like, torch.full_like, (arr(2, 3), 2.0), {}, {0: "tensor", 1: "float"}),
    ("zeros(dtype)", tg.zeros, torch.zeros, ((2, 3),), dict(dtype=DType("float64")),
     {0: "dims", "dtype": "dtype"}),
    # dtype conversions
    ("to", tg.Tensor.to, torch.Tensor.to, (arr(2, 3), DType("float64")), {}, {1: "dtype"}),
    ("type", tg.Tensor.type, torch.Tensor.type, (arr(2, 3), DType("float64")), {}, {1: "dtype"}),
    ("tensor", tg.tensor, torch.tensor, (np.ones((2, 3)).tolist(),), dict(dtype=DType("float32")),
     {"dtype": "dtype"}),
    # optimizers' constructors
    ("SGD", tg.optim.SGD, torch.optim.SGD, (Params(),), dict(lr=0.1, momentum=0.9,
                                                            weight_decay=0.0),
     {0: "params", "lr": "float", "momentum": "float", "weight_decay": "float",
      "nesterov": "flag"}),
    ("Adam", tg.optim.Adam, torch.optim.Adam, (Params(),), dict(lr=0.1, betas=(0.9, 0.999),
                                                              eps=1e-8, amsgrad=False),
     {0: "params", "lr": "float", "betas": "pair", "eps": "float", "weight_decay": "float",
      "amsgrad": "flag"}),
    ("AdamW", tg.optim.AdamW, torch.optim.AdamW, (Params(),), dict(lr=0.1, weight_decay=0.01),
     {"lr": "float", "betas": "pair", "weight_decay": "float"}),
    ("RMSprop", tg.optim.RMSprop, torch.optim.RMSprop, (Params(),), dict(lr=0.1, alpha=0.99,
                                                                       eps=1e-8),
     {0: "params", "lr": "float", "alpha": "float", "eps": "float", "momentum": "float"}),
    ("Adagrad", tg.optim.Adagrad, torch.optim.Adagrad, (Params(),), dict(lr=0.1, lr_decay=0.0),
     {"lr": "float", "lr_decay": "float", "eps": "float",
      "initial_accumulator_value": "float"}),
    ("Adadelta", tg.optim.Adadelta, torch.optim.Adadelta, (Params(),), dict(lr=1.0, rho=0.9),
     {"lr": "float", "rho": "float", "eps": "float"}),
    ("NAdam", tg.optim.NAdam, torch.optim.NAdam, (Params(),), dict(lr=0.1, momentum_decay=4e-3),
     {0: "params", "lr": "float", "betas": "pair", "eps": "float", "weight_decay": "float",
      "momentum_decay": "float", "decoupled_weight_decay": "flag"}),
    ("RAdam", tg.optim.RAdam, torch.optim.RAdam, (Params(),), dict(lr=0.1, betas=(0.9, 0.999)),
     {"lr": "float", "betas": "pair", "eps": "float", "weight_decay": "float",
      "decoupled_weight_decay": "flag"}),
    ("Adamax", tg.optim.Adamax, torch.optim.Adamax, (Params(),), dict(lr=0.1, eps=1e-8),
     {"lr": "float", "betas": "pair", "eps": "float", "weight_decay": "float"}),
    # schedulers' constructors (built on SGD and stepped twice)
    ("StepLR", *scheduled("StepLR"), (2,), dict(gamma=0.5), {0: "int", "gamma": "float"}),
    ("MultiStepLR", *scheduled("MultiStepLR"), ((1, 3),), dict(gamma=0.5),
     {0: "dims", "gamma": "float"}),
    ("ExponentialLR", *scheduled("ExponentialLR"), (0.9,), {}, {0: "float"}),
    ("CosineAnnealingLR", *scheduled("CosineAnnealingLR"), (10,), dict(eta_min=0.0),
     {0: "int", "eta_min": "float"}),
    ("LinearLR", *scheduled("LinearLR"), (), dict(start_factor=0.5, total_iters=4),
     {"start_factor": "float", "end_factor": "float", "total_iters": "int"}),
    ("ConstantLR", *scheduled("ConstantLR"), (), dict(factor=0.5, total_iters=4),
     {"factor": "float", "total_iters": "int"}),
    ("PolynomialLR", *scheduled("PolynomialLR"), (), dict(total_iters=4, power=2.0),
     {"total_iters": "int", "power": "float"}),
    ("MultiplicativeLR", *scheduled("MultiplicativeLR"), (lambda epoch: 0.9,), {},
     {0: "callable"}),
    ("CyclicLR", *scheduled("CyclicLR"), (0.01, 0.1), dict(step_size_up=4, gamma=0.9),
     {0: "float", 1: "float", "step_size_up": "float", "mode": "word"}),
    ("LambdaLR", *scheduled("LambdaLR"), (lambda epoch: 0.9 ** epoch,), {}, {0: "callable"}),
    ("OneCycleLR", *scheduled("OneCycleLR"), (1.0,), dict(total_steps=10, pct_start=0.3),
     {0: "float", "total_steps": "int", "pct_start": "float"}),
    ("CosineAnnealingWarmRestarts", *scheduled("CosineAnnealingWarmRestarts"), (3,),
     dict(T_mult=2, eta_min=0.0), {0: "int", "T_mult": "int", "eta_min": "float"}),
    ("ReduceLROnPlateau", *scheduled("ReduceLROnPlateau"), (), dict(factor=0.5, patience=2),
     {"mode": "word", "factor": "float", "patience": "int", "threshold": "float",
      "cooldown": "int"}),
    # DataLoader (built on a TensorDataset of 10 rows; one batch drawn without workers)
    ("DataLoader", loaded(tg), loaded(torch), (), dict(batch_size=4, shuffle=False),
     {"batch_size": "int", "shuffle": "flag", "drop_last": "flag", "num_workers": "int",
      "timeout": "float", "collate_fn": "callable"}),
    # save and load (the path spoiled)
    ("save", saved(tg), saved(torch), ("never-written.pt",), {}, {0: "path"}),
    # gradcheck's arguments
    ("gradcheck", gradchecked(tg), gradchecked(torch), (GradInput(),),
     dict(eps=1e-6, atol=1e-5, rtol=1e-3), {"eps": "float", "atol": "float", "rtol": "float"}),
]


def outcome(function, args, kwargs):
    try:
        function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the outcome is what we compare
        return error
    return None


def spoiled_calls(spec):
    name, ours, theirs, args, kwargs, arguments = spec
    for argument, kind in arguments.items():
        value = args[argument] if isinstance(argument, int) else kwargs.get(argument)
        for label, bad in SPOILERS[kind](value):
            new_args, new_kwargs = list(args), dict(kwargs)
            if isinstance(argument, int):
                new_args[argument] = bad
            else:
                new_kwargs[argument] = bad
            yield f"{name}({argument}={label})", tuple(new_args), new_kwargs


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("spec", SPECS, ids=[spec[0] for spec in SPECS])
def test_bad_inputs_raise_what_pytorch_raises_naming_the_op(spec):
    name, ours, theirs = spec[:3]
    problems = []
    for label, args, kwargs in spoiled_calls(spec):
        COUNTS["inputs"] += 1
        expected = outcome(theirs, build(args, "theirs"), build(kwargs, "theirs"))
        with np.errstate(all="ignore"):
            got = outcome(ours, build(args, "ours"), build(kwargs, "ours"))
        if label.endswith(("=bool)", "=float)")) and isinstance(got, TypeError) and \
                not isinstance(expected, TypeError):
            # deliberate: a bool or a float is never an int here (PyTorch takes True as 1 and
            # fails on 1.5 with whatever error its arithmetic gives); ours is a TypeError
            if not names_op(str(got), name):
                problems.append(f"{label}: message does not name {name}: {got}")
            continue
        if label in KNOWN_GAPS:  # listed, with the reason, in KNOWN_GAPS
            COUNTS["known gaps"] = COUNTS.get("known gaps", 0) + 1
            continue
        if label in DELIBERATE_ACCEPTS:
            COUNTS["deliberate"] = COUNTS.get("deliberate", 0) + 1
            if expected is None or got is not None:
                problems.append(f"{label}: listed in DELIBERATE_ACCEPTS (PyTorch raises, we "
                                f"compute) but PyTorch gave {expected!r}, we {got!r}")
            continue
        if label in DELIBERATE:
            if not isinstance(got, ValueError) or not names_op(str(got), name):
                problems.append(f"{label}: expected our deliberate ValueError, got {got!r}")
            continue
        problem = None
        if expected is None:
            spoiler = label[label.rindex("=") + 1:-1]
            if got is not None and spoiler in DELIBERATE_SPOILERS and \
                    isinstance(got, (TypeError, ValueError)) and names_op(str(got), name):
                COUNTS["deliberate"] = COUNTS.get("deliberate", 0) + 1
            elif got is not None:
                problem = f"PyTorch computes, we raise {type(got).__name__}: {got}"
        elif got is None:
            problem = f"PyTorch raises {type(expected).__name__}, we compute"
        elif not isinstance(got, accepted(expected, label)) and not (
                "huge" in label and isinstance(got, ValueError)) and \
                type(got).__name__ != type(expected).__name__:  # GradcheckError: each its own
            problem = (f"PyTorch raises {type(expected).__name__}, we raise "
                       f"{type(got).__name__}: {got}")
        elif not names_op(str(got), name):
            problem = f"message does not name {name}: {got}"
        if label in DIFFERS:
            COUNTS["documented"] = COUNTS.get("documented", 0) + 1
            if problem is None:
                problems.append(f"{label}: no longer differs: remove its line from "
                                f"{DIFFERS_FILE.name} and from {DOCS_FILE.name}")
            elif got is not None and not names_op(str(got), name):
                problems.append(f"{label}: message does not name {name}: {got}")
            continue
        if label in PENDING:
            COUNTS["pending"] = COUNTS.get("pending", 0) + 1
            if problem is None:
                problems.append(f"{label}: fixed: remove its line from {PENDING_FILE.name}")
        elif problem is not None:
            problems.append(f"{label}: {problem}")
    assert not problems, "\n".join(problems)


def test_listed_inputs_exist_and_documented_differences_are_in_the_docs():
    """Every label of the two lists names an input of the sweep (a stale or misspelt one
    would silently cover nothing), no input is in both, and every documented difference is
    listed in docs/coming_from_pytorch.md."""
    labels = {label for spec in SPECS for label, _, _ in spoiled_calls(spec)}
    assert not (PENDING | set(DIFFERS)) - labels, (PENDING | set(DIFFERS)) - labels
    assert not PENDING & set(DIFFERS), PENDING & set(DIFFERS)
    assert all(reason.strip() for reason in DIFFERS.values())
    docs = DOCS_FILE.read_text()
    missing = [label for label in DIFFERS if f"`{label}`" not in docs]
    assert not missing, f"not listed in {DOCS_FILE.name}: {missing}"


def test_zz_report_the_count(capsys):
    """Shown in the test output (capture disabled): how many inputs the sweep checked."""
    with capsys.disabled():
        print(f"\nbad-input sweep: {COUNTS['inputs']} inputs over {len(SPECS)} call specs, "
              f"each also run on PyTorch ({COUNTS.get('known gaps', 0)} listed known gaps, "
              f"{COUNTS.get('deliberate', 0)} deliberate refusals, "
              f"{COUNTS.get('documented', 0)} documented differences, "
              f"{COUNTS.get('pending', 0)} pending in {PENDING_FILE.name})")
