"""gradcheck's default mode: every input element against random +-1 probes, a stated miss
probability, reproducible from the printed seed, cheaper than one backward per output."""

import importlib.util
import pathlib
import sys
import warnings

import numpy as np
import pytest

from tinygrad_cnn import Function, Tensor
from tinygrad_cnn.gradcheck import GradcheckError, gradcheck, gradgradcheck

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def make_cancelling(width, error):
    """out = x[0] * ones(width); its backward adds error * (g[0] - g[1]): a wrong column
    (+error, -error, 0, ...) that one +-1 probe misses exactly when v[0] == v[1]."""

    class Cancelling(Function):
        @staticmethod
        def forward(ctx, x):
            return np.repeat(x, width)

        @staticmethod
        def backward(ctx, grad_output):
            g = grad_output._data
            return Tensor(np.array([g.sum() + error * (g[0] - g[1])]))

    return Cancelling.apply


def caught(fn, inputs, **options):
    try:
        gradcheck(fn, inputs, **options)
    except GradcheckError:
        return True
    return False


def test_one_probe_misses_a_cancelling_error_about_half_the_time_and_twenty_never():
    fn, x = make_cancelling(30, 0.5), leaf([0.3])
    misses = sum(not caught(fn, (x,), probes=1, seed=seed) for seed in range(200))
    assert 60 <= misses <= 140  # the bound: at most 1/2 per probe (here exactly 1/2)
    assert all(caught(fn, (x,), seed=seed) for seed in range(40))  # 2**-20 each


def test_the_same_seed_repeats_the_outcome_and_the_message():
    fn, x = make_cancelling(30, 0.5), leaf([0.3])
    outcomes = [caught(fn, (x,), probes=1, seed=seed) for seed in range(20)]
    assert outcomes == [caught(fn, (x,), probes=1, seed=seed) for seed in range(20)]
    with pytest.raises(GradcheckError) as first:
        gradcheck(fn, (x,), seed=1234)
    with pytest.raises(GradcheckError) as again:
        gradcheck(fn, (x,), seed=1234)
    assert str(first.value) == str(again.value)
    assert first.value.seed == 1234 and "pass seed=1234 to repeat" in str(first.value)


def test_without_a_seed_one_is_drawn_and_reported():
    with pytest.raises(GradcheckError) as caught_error:
        gradcheck(make_cancelling(30, 0.5), (leaf([0.3]),))
    seed = caught_error.value.seed
    assert isinstance(seed, int) and f"seed={seed}" in str(caught_error.value)


def test_an_error_in_one_element_of_many_is_caught_and_located():
    class SiluWrongAtOne(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x / (1 + np.exp(-x))

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            s = x.sigmoid()
            scale = np.ones(x.shape)
            scale[7, 3] = 1.01  # 1% off in one element of 256: ten times the tolerance
            return grad_output * s * (1 + x * (1 - s)) * Tensor(scale)

    x = leaf(np.random.default_rng(0).uniform(-3, 3, (16, 16)))
    for seed in range(5):
        with pytest.raises(GradcheckError) as error:
            gradcheck(SiluWrongAtOne.apply, (x,), seed=seed)
        assert error.value.index == (7, 3) and error.value.output_index == "out[7, 3]"
    with pytest.raises(GradcheckError):
        gradcheck(SiluWrongAtOne.apply, (x,), probes=None)


class Counting(Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.tanh(x)

    @staticmethod
    def backward(ctx, grad_output):
        Counting.calls += 1
        (x,) = ctx.saved_tensors
        return grad_output * (1 - x.tanh() ** 2)


def test_backward_passes_are_probes_not_output_elements():
    x = leaf(np.random.default_rng(1).normal(size=(10, 10)))
    Counting.calls = 0
    assert gradcheck(Counting.apply, (x,))
    default = Counting.calls
    Counting.calls = 0
    assert gradcheck(Counting.apply, (x,), probes=None)
    exact = Counting.calls
    assert default <= 20 + 3  # probes, a zero cotangent, a second (reentrancy) pass
    assert exact >= 100  # one per output element, as torch's default


def test_small_outputs_use_the_exact_basis():
    with pytest.raises(GradcheckError) as error:
        gradcheck(make_cancelling(3, 0.5), (leaf([0.3]),), probes=5)
    assert "random probes" not in str(error.value)


def test_outputs_that_are_views_of_the_input_are_differenced_correctly():
    x = leaf(np.random.default_rng(2).normal(size=(3, 4)))
    assert gradcheck(lambda x: x.reshape(4, 3), (x,), probes=None)
    assert gradcheck(lambda x: x.T, (x,))
    assert gradgradcheck(lambda x: x.reshape(12) * x.reshape(12), (x,))


# ---------------------------------------------------------------- the benchmark's catalogue
def _catalogue():
    spec = importlib.util.spec_from_file_location("_gradcheck_catalogue",
                                                  BENCHMARKS / "_gradcheck_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_gradcheck_catalogue", module)
    spec.loader.exec_module(module)
    return module


CATALOGUE = _catalogue()


@pytest.mark.parametrize("spec", CATALOGUE.CASES, ids=[c.name[:50] for c in CATALOGUE.CASES])
def test_the_default_catches_every_planted_bug_and_passes_every_correct_op(spec):
    arrays = CATALOGUE.make_inputs(spec)
    fn = CATALOGUE.tiny_function(spec)
    inputs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    check = gradgradcheck if spec.order == 2 else gradcheck
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if not spec.bug:
            assert check(fn, inputs, seed=0)
            return
        with pytest.raises(RuntimeError) as error:
            check(fn, inputs, seed=0)
        if spec.order == 1 and spec.dtype == np.float64:
            # the element named is one whose Jacobian column the exact check finds wrong
            k = error.value.input_index
            only_k = [Tensor(a.copy(), requires_grad=(j == k)) for j, a in enumerate(arrays)]
            with pytest.raises(GradcheckError) as exact:
                check(fn, only_k, probes=None)
            assert error.value.index in [exact.value.index] + exact.value.others


def test_tuple_outputs_larger_than_the_probes_are_split_and_named():
    class TwoOutputs(Function):
        """(2x, x**2) as one op would be; here the second output's gradient is off at x[4]."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            scale = np.ones(x.shape)
            scale[4] = 1.5
            return grad_output * 2.0 * x * Tensor(scale)

    x = leaf(np.random.default_rng(3).uniform(0.5, 1.5, 30))
    both = lambda x: (x * 2.0, TwoOutputs.apply(x))  # noqa: E731
    assert gradcheck(lambda x: (x * 2.0, x * x), (x,), seed=0)
    with pytest.raises(GradcheckError) as error:
        gradcheck(both, (x,), seed=0)
    assert error.value.index == (4,) and error.value.output_index == "out[1][4]"
