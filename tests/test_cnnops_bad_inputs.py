"""The bad-input sweep of ``test_bad_input_sweep.py`` (its spoilers and its PyTorch oracle)
over the pooling-with-indices, unpooling, adaptive pooling, padding and interpolation ops:
where PyTorch raises, we raise the same type (``ShapeError``/``DtypeError``/``ArityError``
for its ``RuntimeError``s) with a message naming the op; where it computes, so do we."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_bad_input_sweep import (  # noqa: E402  (after the importorskip)
    Arr,
    accepted,
    applied,
    arr,
    build,
    outcome,
    spoiled_calls,
)

from tinygrad_cnn import functional as F  # noqa: E402
from tinygrad_cnn import nn  # noqa: E402

TF, TNN = torch.nn.functional, torch.nn
INDICES = Arr(TF.max_pool2d(torch.zeros(2, 3, 8, 8), 2, return_indices=True)[1].numpy())
ALIASES = {"AdaptiveAvgPool2d": "adaptive_avg_pool2d", "AdaptiveMaxPool2d": "adaptive_max_pool2d"}


def with_indices(function):
    return lambda *args, **kwargs: function(*args, return_indices=True, **kwargs)


# name, ours, theirs, valid positional args, valid keyword args, {argument: kind}
SPECS = [
    ("max_pool2d", with_indices(F.max_pool2d), with_indices(TF.max_pool2d),
     (arr(2, 3, 8, 8), 2), dict(stride=2, padding=1, dilation=1, ceil_mode=False),
     {0: "tensor", 1: "int", "stride": "int", "padding": "int", "dilation": "int",
      "ceil_mode": "flag"}),
    ("max_unpool2d", F.max_unpool2d, TF.max_unpool2d, (arr(2, 3, 4, 4), INDICES, 2),
     dict(stride=2, padding=0), {0: "tensor", 1: "tensor", 2: "int", "stride": "int",
                                 "padding": "int"}),
    ("adaptive_avg_pool2d", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d,
     (arr(2, 3, 8, 8), 3), {}, {0: "tensor", 1: "int"}),
    ("adaptive_max_pool2d", F.adaptive_max_pool2d, TF.adaptive_max_pool2d,
     (arr(2, 3, 8, 8), 3), dict(return_indices=False), {0: "tensor", 1: "int"}),
    ("adaptive_avg_pool1d", F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d,
     (arr(2, 3, 8), 3), {}, {0: "tensor", 1: "int"}),
    ("adaptive_max_pool1d", F.adaptive_max_pool1d, TF.adaptive_max_pool1d,
     (arr(2, 3, 8), 3), {}, {0: "tensor", 1: "int"}),
    ("pad", F.pad, TF.pad, (arr(2, 3, 5, 5), (1, 1, 2, 0)), dict(mode="reflect"),
     {0: "tensor", "mode": "word"}),
    ("pad", F.pad, TF.pad, (arr(2, 3, 5, 5), (1, 1, 2, 0)), dict(value=1.0),
     {0: "tensor", "value": "float"}),
    ("interpolate", F.interpolate, TF.interpolate, (arr(2, 3, 5, 5),),
     dict(size=7, mode="bilinear", align_corners=False),
     {0: "tensor", "size": "int", "mode": "word", "align_corners": "flag"}),
    ("interpolate", F.interpolate, TF.interpolate, (arr(2, 3, 5, 5),), dict(scale_factor=1.5),
     {"scale_factor": "float"}),
    ("AdaptiveAvgPool2d", applied(nn.AdaptiveAvgPool2d, (2, 3, 8, 8)),
     applied(TNN.AdaptiveAvgPool2d, (2, 3, 8, 8)), (3,), {}, {0: "int"}),
    ("AdaptiveMaxPool2d", applied(nn.AdaptiveMaxPool2d, (2, 3, 8, 8)),
     applied(TNN.AdaptiveMaxPool2d, (2, 3, 8, 8)), (3,), {}, {0: "int"}),
]


def expected_type(error, label):
    """The main sweep's rule (:func:`accepted`: PyTorch's accidental types mapped to the one
    naming the mistake), except that PyTorch's deliberate ``NotImplementedError`` (an
    unknown mode, a rank a mode does not take) stays; ``IndexError`` from indexing a tuple
    argument of the wrong length is our ``TypeError`` (``ArityError``)."""
    if isinstance(error, NotImplementedError) and "not implemented for" not in str(error):
        return NotImplementedError
    if isinstance(error, IndexError) and "tuple" in label:
        return TypeError
    return accepted(error, label)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("spec", SPECS, ids=[f"{s[0]}-{','.join(map(str, s[5]))}" for s in SPECS])
def test_bad_inputs_raise_what_pytorch_raises_naming_the_op(spec):
    name, ours, theirs = spec[:3]
    problems = []
    for label, args, kwargs in spoiled_calls(spec):
        expected = outcome(theirs, build(args, "theirs"), build(kwargs, "theirs"))
        with np.errstate(all="ignore"):
            got = outcome(ours, build(args, "ours"), build(kwargs, "ours"))
        if label.endswith(("=bool)", "=float)")) and isinstance(got, TypeError):
            continue  # a bool or a float is never an int here (as the main sweep)
        if expected is None:
            if got is not None:
                problems.append(f"{label}: PyTorch computes, we raise "
                                f"{type(got).__name__}: {got}")
        elif got is None:
            problems.append(f"{label}: PyTorch raises {type(expected).__name__}, we compute")
        elif not isinstance(got, expected_type(expected, label)) and not (
                "huge" in label and isinstance(got, ValueError)):
            problems.append(f"{label}: PyTorch raises {type(expected).__name__} ({expected}), "
                            f"we raise {type(got).__name__}: {got}")
        elif not str(got).startswith((name, ALIASES.get(name, name))):
            problems.append(f"{label}: message does not name {name}: {got}")
    assert not problems, "\n".join(problems)
