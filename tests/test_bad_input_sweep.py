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
a dtype (we: ``TypeError``), ``IndexError`` from looking up a dimension of a 0-d input
(we: ``ValueError``), ``TypeError`` for an int beyond int64 in some ops where others raise
``ValueError`` (we: ``ValueError`` everywhere). :data:`DELIBERATE` lists where we refuse what
PyTorch computes, on purpose (the API's "never a silently wrong result"); :data:`KNOWN_GAPS`
what PyTorch computes and we refuse for want of the feature.
"""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F

torch = pytest.importorskip("torch")
TF, TNN = torch.nn.functional, torch.nn

RNG = np.random.default_rng(0)

ACCIDENTAL = {AttributeError: TypeError, NotImplementedError: TypeError,
              IndexError: ValueError}
# PyTorch computes these (NaN everywhere, silently); we raise ValueError naming the argument.
DELIBERATE = {"batch_norm(momentum=nan)", "batch_norm(momentum=inf)", "batch_norm(eps=nan)",
              "batch_norm(eps=inf)"}
# PyTorch computes these; we raise, naming the op (a feature we lack, listed so it is seen).
KNOWN_GAPS = {"avg_pool2d(0=int tensor)": "integer average pooling (PyTorch truncates each "
                                          "mean to an integer)"}
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
        if label in KNOWN_GAPS:
            assert got is not None and str(got).startswith(name), (label, got)
            continue
        if label in DELIBERATE:
            if not isinstance(got, ValueError) or not str(got).startswith(name):
                problems.append(f"{label}: expected our deliberate ValueError, got {got!r}")
            continue
        if expected is None:
            if got is not None:
                problems.append(f"{label}: PyTorch computes, we raise "
                                f"{type(got).__name__}: {got}")
            continue
        if got is None:
            problems.append(f"{label}: PyTorch raises {type(expected).__name__}, we compute")
        elif not isinstance(got, ACCIDENTAL.get(type(expected), type(expected))) and not (
                "huge" in label and isinstance(got, ValueError)):
            problems.append(f"{label}: PyTorch raises {type(expected).__name__}, we raise "
                            f"{type(got).__name__}: {got}")
        elif not str(got).startswith(name):
            problems.append(f"{label}: message does not name {name}: {got}")
    assert not problems, "\n".join(problems)


def test_zz_report_the_count():
    print(f"\nbad-input sweep: {COUNTS['inputs']} inputs over {len(SPECS)} call specs, each "
          "also run on PyTorch")
