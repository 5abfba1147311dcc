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
PyTorch computes, on purpose (the API's "never a silently wrong result"); :data:`KNOWN_GAPS`
what PyTorch computes and we refuse for want of the feature.
"""

import math

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
    if isinstance(value, Arr):
        return value.ours() if side == "ours" else value.theirs()
    if isinstance(value, tuple):
        return tuple(build(v, side) for v in value)
    if isinstance(value, list):
        return [build(v, side) for v in value]
    return value


def tensor_spoilers(value: Arr):
    """Ways to spoil an array argument."""
    array = value.array
    yield "none", None
    yield "string", "x"
    yield "list", array.tolist() if array.size < 50 else [1.0, 2.0]
    yield "int tensor", Arr(array.astype(np.int64))
    yield "bool tensor", Arr(array > 0)
    yield "nan", Arr(np.full_like(array, np.nan))
    yield "inf", Arr(np.full_like(array, np.inf))
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


SPOILERS = {"tensor": tensor_spoilers, "int": int_spoilers, "float": float_spoilers,
            "flag": flag_spoilers, "word": word_spoilers}

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
        value = args[argument] if isinstance(argument, int) else kwargs[argument]
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
        if label in DELIBERATE:
            if not isinstance(got, ValueError) or not names_op(str(got), name):
                problems.append(f"{label}: expected our deliberate ValueError, got {got!r}")
            continue
        if expected is None:
            if got is not None:
                problems.append(f"{label}: PyTorch computes, we raise "
                                f"{type(got).__name__}: {got}")
            continue
        if got is None:
            problems.append(f"{label}: PyTorch raises {type(expected).__name__}, we compute")
        elif not isinstance(got, accepted(expected, label)) and not (
                "huge" in label and isinstance(got, ValueError)):
            problems.append(f"{label}: PyTorch raises {type(expected).__name__}, we raise "
                            f"{type(got).__name__}: {got}")
        elif not names_op(str(got), name):
            problems.append(f"{label}: message does not name {name}: {got}")
    assert not problems, "\n".join(problems)


def test_zz_report_the_count(capsys):
    """Shown in the test output (capture disabled): how many inputs the sweep checked."""
    with capsys.disabled():
        print(f"\nbad-input sweep: {COUNTS['inputs']} inputs over {len(SPECS)} call specs, "
              f"each also run on PyTorch ({COUNTS.get('known gaps', 0)} listed known gaps)")
