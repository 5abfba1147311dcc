"""Benchmark mode (``backends.cudnn.benchmark = True``): "auto" keeps the algorithm that ran
fastest on a configuration's first call (tinygrad_cnn/ops/conv_tune.py)."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_cnn.nn.functional._windows import conv_geometry
from tinygrad_cnn.ops import conv as conv_ops
from tinygrad_cnn.ops import conv_tune
from tinygrad_cnn.ops.conv_select import benchmark_candidates


@pytest.fixture(autouse=True)
def benchmark_mode():
    conv_tune.forget()
    tg.backends.cudnn.benchmark = True
    yield
    tg.backends.cudnn.benchmark = False
    tg.backends.mkldnn.conv.fp32_precision = "none"
    conv_tune.forget()


def _layer(seed=0, shape=(4, 8, 10, 10), out_channels=16, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((out_channels, shape[1], 3, 3)).astype(dtype)
    return x, w


class _Clocked:
    """A kernels module that counts its calls and sleeps ``delay`` seconds in each."""

    def __init__(self, module, delay, calls):
        self.module, self.delay, self.calls = module, delay, calls

    def __getattr__(self, name):
        function = getattr(self.module, name)

        def run(*args, **kwargs):
            self.calls.append((self, name))
            time.sleep(self.delay)
            return function(*args, **kwargs)
        return run


def _slow_all_but(monkeypatch, fast: str, calls: list) -> dict:
    kernels = {name: _Clocked(module, 0.0 if name == fast else 0.03, calls)
               for name, module in conv_ops._KERNELS.items()}
    monkeypatch.setattr(conv_ops, "_KERNELS", kernels)
    return kernels


def test_the_candidates_are_the_algorithms_auto_may_use():
    x, w = _layer()
    geometry = conv_geometry("conv2d", x, w, padding=1)
    candidates = benchmark_candidates(4, 8, 16, geometry, (x, w), "forward")
    assert {"im2col", "winograd_f2"} <= set(candidates)
    assert "winograd" not in candidates and "im2col_phases" not in candidates
    x[0, 0, 0, 0] = np.inf    # Winograd would spread a NaN over the tile: direct method only
    assert set(benchmark_candidates(4, 8, 16, geometry, (x, w), "forward")) <= {
        "im2col", "im2col_flat"}
    x[0, 0, 0, 0] = 0.0
    tg.backends.mkldnn.conv.fp32_precision = "tf32"   # F(4x4) allowed
    assert "winograd" in benchmark_candidates(4, 8, 16, geometry, (x, w), "forward")


@pytest.mark.parametrize("fast", ["im2col", "winograd_f2"])
def test_it_keeps_the_fastest_and_times_a_configuration_once(monkeypatch, fast):
    x, w = _layer()
    calls = []
    kernels = _slow_all_but(monkeypatch, fast, calls)
    y = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    (choice,) = conv_tune.choices().values()
    assert choice == fast
    assert calls[-1] == (kernels[fast], "conv2d_forward")   # the op's own run
    timed = len(calls)
    assert timed > 2     # every candidate ran
    y2 = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    assert calls[timed:] == [(kernels[fast], "conv2d_forward")]   # remembered: no trials
    with conv_algorithm("im2col"):
        expected = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), y2.numpy())


def test_a_new_configuration_or_thread_count_is_timed_again(monkeypatch):
    x, w = _layer()
    _slow_all_but(monkeypatch, "im2col", [])
    F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    F.conv2d(tg.tensor(x[:2]), tg.tensor(w), padding=1)           # another batch size
    F.conv2d(tg.tensor(x.astype(np.float64)), tg.tensor(w.astype(np.float64)), padding=1)
    threads = tg.get_num_threads()
    tg.set_num_threads(1 if threads > 1 else 2)
    try:
        F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    finally:
        tg.set_num_threads(threads)
    assert len(conv_tune.choices()) == 4


def test_off_by_default_and_only_for_auto(monkeypatch):
    x, w = _layer()
    calls = []
    _slow_all_but(monkeypatch, "im2col", calls)
    tg.backends.cudnn.benchmark = False
    F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    assert len(calls) == 1 and not conv_tune.choices()
    tg.backends.cudnn.benchmark = True
    with conv_algorithm("winograd_f2"):
        F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    assert len(calls) == 2 and not conv_tune.choices()


def test_a_training_forward_is_timed_with_its_weight_gradient(monkeypatch):
    # What a forward keeps for the weight gradient (im2col's columns, Winograd's tiles)
    # counts only when the two are timed together.
    x, w = _layer()
    calls = []
    _slow_all_but(monkeypatch, "im2col", calls)
    F.conv2d(tg.tensor(x), tg.tensor(w, requires_grad=True), padding=1)
    trials = [name for _, name in calls[:-1]]
    assert trials.count("conv2d_forward") == trials.count("conv2d_weight_grad") > 2
    calls.clear()
    conv_tune.forget()
    with tg.no_grad():
        F.conv2d(tg.tensor(x), tg.tensor(w, requires_grad=True), padding=1)
    assert {name for _, name in calls} == {"conv2d_forward"}


def test_a_training_step_matches_the_cost_models_to_rounding():
    x, w = _layer(seed=1)
    results = []
    for benchmark in (False, True):
        tg.backends.cudnn.benchmark = benchmark
        xt = tg.tensor(x, requires_grad=True)
        wt = tg.tensor(w, requires_grad=True)
        bt = tg.tensor(np.arange(16, dtype=np.float32), requires_grad=True)
        y = F.conv2d(xt, wt, bt, padding=1)
        (y * y).sum().backward()
        results.append((y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()))
    for ours, auto in zip(*results, strict=True):
        np.testing.assert_allclose(ours, auto, rtol=2e-5, atol=2e-5 * np.abs(auto).max())
    roles = {configuration[0] for configuration, _, _ in conv_tune.choices()}
    assert roles == {"forward", "input_grad", "weight_grad"}


@pytest.mark.parametrize("options", [dict(padding=1), dict(padding=2, dilation=2),
                                     dict(stride=2, padding=1)])
def test_a_second_backward_gives_the_first_ones_bits(options):
    # One op on one input runs one algorithm, whatever the step kept when it was timed (a
    # second backward with retain_graph finds nothing kept), as gradcheck requires.
    x, w = _layer(seed=3, shape=(3, 4, 9, 9), out_channels=5, dtype=np.float64)
    xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, **options)
    g = tg.tensor(np.cos(np.arange(y.numel())).reshape(y.shape))
    y.backward(g, retain_graph=True)
    first = xt.grad.numpy().copy(), wt.grad.numpy().copy()
    xt.grad = wt.grad = None
    y.backward(g)
    np.testing.assert_array_equal(xt.grad.numpy(), first[0])
    np.testing.assert_array_equal(wt.grad.numpy(), first[1])


@pytest.mark.parametrize("options", [dict(padding=1), dict(stride=2, padding=1),
                                     dict(padding=2, dilation=2)])
def test_gradients_under_benchmark_mode_are_exact(options):
    x, w = _layer(seed=2, shape=(2, 3, 7, 7), out_channels=4, dtype=np.float64)
    xt = tg.tensor(x, requires_grad=True)
    wt = tg.tensor(w, requires_grad=True)

    def conv(a, b):
        return F.conv2d(a, b, **options)
    assert gradcheck(conv, (xt, wt))
    assert gradgradcheck(conv, (xt, wt))
    assert conv_tune.choices()


def test_a_candidate_out_of_memory_is_left_out(monkeypatch):
    x, w = _layer()
    calls = []
    kernels = _slow_all_but(monkeypatch, "winograd_f2", calls)

    def no_memory(*args, **kwargs):
        raise MemoryError("winograd_f2 trial")
    monkeypatch.setattr(kernels["winograd_f2"], "conv2d_forward", no_memory, raising=False)
    y = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    (choice,) = conv_tune.choices().values()
    assert choice != "winograd_f2" and y.shape == (4, 16, 10, 10)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), channels=st.integers(1, 5), out_channels=st.integers(1, 5),
       size=st.integers(3, 12), kernel=st.sampled_from([1, 2, 3, 5]),
       stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_benchmark_mode_computes_what_im2col_does(batch, channels, out_channels, size, kernel,
                                                  stride, padding, dilation, dtype, seed):
    # Whatever wins the trials, the forward and both gradients are im2col's to rounding.
    if dilation * (kernel - 1) + 1 > size + 2 * padding:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size)).astype(dtype)
    w = rng.standard_normal((out_channels, channels, kernel, kernel)).astype(dtype)
    options = dict(stride=stride, padding=padding, dilation=dilation)
    results = []
    for algorithm in ("auto", "im2col"):
        xt, wt = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
        with conv_algorithm(algorithm):
            y = F.conv2d(xt, wt, **options)
            (y * y).sum().backward()
        results.append((y.numpy(), xt.grad.numpy(), wt.grad.numpy()))
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    for ours, reference in zip(*results, strict=True):
        scale = max(1.0, float(np.abs(reference).max()))
        np.testing.assert_allclose(ours, reference, rtol=0, atol=tolerance * scale)
