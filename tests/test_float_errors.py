"""Non-finite values are computed silently, as PyTorch computes them (autograd/float_errors.py):
``x / 0``, ``exp(1000)``, ``0 * inf`` give inf and NaN without numpy's RuntimeWarnings (an
exception under ``-W error``), in every op's forward and backward, the in-place arithmetic,
casts, an empty mean and the optimizers; a user's own Function and numpy outside the library
keep numpy's settings."""

import warnings

import numpy as np
import pytest
from op_registry import BY_NAME, CASES, spiked_inputs

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim
from tinygrad_cnn.autograd import Function

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the optional oracle")


@pytest.fixture
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# Ops that reject non-finite inputs as PyTorch does (an error, not a silent value; a
# negative variance, -inf included, for gaussian_nll_loss).
REJECTS_NON_FINITE = {"binary_cross_entropy", "gaussian_nll_loss"}


@pytest.mark.parametrize("name", sorted({info.name for info, _ in CASES} - REJECTS_NON_FINITE))
def test_every_op_computes_non_finite_values_silently(warnings_are_errors, name):
    info = BY_NAME[name]
    for sample in info.samples():
        tensors = [tg.tensor(a, requires_grad=True) for a in spiked_inputs(info, sample)]
        out = info.op(*tensors, **sample.kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            if o.requires_grad:
                o.sum().backward(retain_graph=True)


@pytest.mark.parametrize("name", sorted(REJECTS_NON_FINITE))
def test_the_rejecting_ops_still_reject(name):
    info = BY_NAME[name]
    sample = info.samples()[0]
    with pytest.raises(Exception, match=name):
        info.op(*[tg.tensor(a) for a in spiked_inputs(info, sample)], **sample.kwargs)


def _specials():
    return np.array([0.0, np.inf, -np.inf, np.nan, 1e30, -1.0, 1.0], np.float32)


ELEMENTWISE = {
    "div by zero": lambda lib, x: x / lib.zeros_like(x),
    "reciprocal": lambda lib, x: x.reciprocal(),
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: x.log(),
    "sqrt": lambda lib, x: x.sqrt(),
    "rsqrt": lambda lib, x: x.rsqrt(),
    "pow -1": lambda lib, x: x ** -1,
    "pow 0.5": lambda lib, x: x ** 0.5,
    "pow -0.5": lambda lib, x: x ** -0.5,
    "pow 1.5": lambda lib, x: x ** 1.5,
    "pow 3": lambda lib, x: x ** 3,
    "times zero": lambda lib, x: x * 0,
    "minus itself": lambda lib, x: x - x,
    "square": lambda lib, x: x * x,
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, 0),
}


@needs_torch
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_values_and_gradients_are_pytorchs(warnings_are_errors, name):
    program = ELEMENTWISE[name]
    results = []
    for lib in (tg, torch):
        x = lib.tensor(_specials(), requires_grad=True)
        y = program(lib, x)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0, equal_nan=True)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))


INPLACE = {
    "mul_": lambda lib, x: x.mul_(0),
    "div_": lambda lib, x: x.div_(0),
    "sub_": lambda lib, x: x.sub_(lib.tensor(_specials())),
    "add_": lambda lib, x: x.add_(lib.tensor(_specials())),
    "long": lambda lib, x: x.long().clamp(0, 0),   # NaN -> int: some value; compare none
    "mean of nothing": lambda lib, x: x[:0].mean(),
    "mean over an empty axis": lambda lib, x: x.reshape(7, 1)[:, :0].mean(1),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_arithmetic_casts_and_empty_means_are_silent(warnings_are_errors, name):
    INPLACE[name](tg, tg.tensor(_specials()))


@needs_torch
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_arithmetic_casts_and_empty_means_give_pytorchs_values(name):
    ours = INPLACE[name](tg, tg.tensor(_specials())).numpy()
    theirs = INPLACE[name](torch, torch.tensor(_specials())).numpy()
    np.testing.assert_array_equal(ours, theirs)


OPTIMIZERS = {
    "SGD": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "Adam": lambda lib, p: lib.optim.Adam(p, lr=0.1),
    "AdamW": lambda lib, p: lib.optim.AdamW(p, lr=0.1),
    "RMSprop": lambda lib, p: lib.optim.RMSprop(p, lr=0.1),
    "Adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
    "Adadelta": lambda lib, p: lib.optim.Adadelta(p),
}


def _optimized(lib, name):
    weight = lib.nn.Parameter(lib.ones(7))
    optimizer = OPTIMIZERS[name](lib, [weight])
    for _ in range(2):
        weight.grad = lib.tensor(_specials())
        optimizer.step()
    return weight.detach().numpy()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_step_on_non_finite_gradients_silently(warnings_are_errors, name):
    _optimized(tg, name)


@needs_torch
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_on_non_finite_gradients_give_pytorchs_values(name):
    np.testing.assert_allclose(_optimized(tg, name), _optimized(torch, name), rtol=1e-6,
                               equal_nan=True)


class UserDivide(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x / y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_a_users_function_keeps_numpys_settings():
    x, zero = tg.tensor([1.0], requires_grad=True), tg.tensor([0.0])
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        UserDivide.apply(x, zero)
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert UserDivide.apply(x, zero).item() == np.inf


def test_numpys_settings_are_the_callers_after_every_op(warnings_are_errors):
    before = np.geterr()
    x = tg.tensor(_specials(), requires_grad=True)
    (x / 0).sum().backward()
    assert np.geterr() == before
    with pytest.raises(RuntimeError):   # an op that raises inside its forward
        tg.tensor(np.ones((2, 3))) @ tg.tensor(np.ones((2, 3)))
    assert np.geterr() == before
    with pytest.raises(RuntimeWarning):  # numpy outside the library: as set
        np.float32(1.0) / np.float32(0.0)


def test_a_user_hook_sees_numpys_settings():
    seen = []
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda grad: seen.append(np.geterr()["divide"]) or grad)
    with np.errstate(divide="raise"):
        y.sum().backward()
    assert seen == ["raise"]


def test_a_large_convolution_split_over_threads_is_silent(warnings_are_errors):
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(2)
        x = np.ones((8, 4, 12, 12), np.float32)
        x[5, 1, 3, 3] = np.inf
        out = nn.functional.conv2d(tg.tensor(x, requires_grad=True),
                                   tg.tensor(np.ones((3, 4, 3, 3), np.float32) * -1),
                                   padding=1)
        out.sum().backward()
    finally:
        tg.set_num_threads(before)


def test_optimizer_closure_keeps_numpys_settings():
    weight = nn.Parameter(tg.ones(2))
    optimizer = optim.SGD([weight], lr=0.1)

    def closure():
        assert np.geterr()["divide"] == "raise"
        weight.grad = tg.ones(2)
        return 0.0

    with np.errstate(divide="raise"):
        optimizer.step(closure)
