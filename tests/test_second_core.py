"""The second core (ops/second_core.py): at two threads the Winograd kernels give half their
images to a helper process and get the same bits as at one thread; a helper that fails or
cannot start leaves the kernels computing everything themselves; the governor counts the
helper's CPU time as the process's own."""

import os
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.nn.functional._windows import conv_geometry
from tinygrad_cnn.ops import conv_winograd, second_core, threads
from tinygrad_cnn.ops.second_core import SecondCore, SecondCoreError

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"),
                                reason="the helper's CPU time and the governor read /proc")


def _started(core: SecondCore) -> SecondCore:
    if not core.start(wait=30.0):
        pytest.skip("the helper process did not start here")
    return core


@pytest.fixture
def helper(monkeypatch):
    """A fresh helper the Winograd kernels use, two threads, every op big enough and cut
    into several groups."""
    core = SecondCore()
    core.enabled = True
    monkeypatch.setattr(second_core, "second_core", core)
    monkeypatch.setattr(conv_winograd, "second_core", core)
    monkeypatch.setattr(second_core, "MIN_MACS", 0)
    # bands of one image each (a plan of several groups, as big layers have)
    monkeypatch.setattr(conv_winograd, "CHUNK_BYTES", 1 << 10)
    monkeypatch.setattr(conv_winograd, "MIN_TILES", 1)
    monkeypatch.setattr(conv_winograd, "MIN_BAND_MACS", 0)
    before = tg.get_num_threads()
    tg.set_num_threads(2)
    monkeypatch.setattr(threads.governor, "enabled", False)   # two threads, whatever the load
    jobs = []
    submit = core.submit

    def counted(function, *args, **kwargs):
        job = submit(function, *args, **kwargs)
        jobs.append((function, job is not None))
        return job

    monkeypatch.setattr(core, "submit", counted)
    _started(core)
    core.jobs = jobs
    yield core
    core.close()
    tg.set_num_threads(before)


def _operands(dtype, groups=1, batch=6, channels=4, size=9):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch, channels, size, size)).astype(dtype)
    w = rng.standard_normal((6, channels // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    g = rng.standard_normal((batch, 6, size, size)).astype(dtype)
    geometry = conv_geometry("conv2d", tg.Tensor(x), tg.Tensor(w), padding=1, groups=groups)
    return x, w, b, g, geometry


def _three(x, w, b, g, geometry, m):
    with threads.governed():
        return (conv_winograd.conv2d_forward(x, w, geometry, b, m=m),
                conv_winograd.conv2d_input_grad(g, w, geometry, m=m),
                conv_winograd.conv2d_weight_grad(x, g, geometry, m=m))


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype, groups", [(np.float32, 1), (np.float64, 2)])
def test_the_helper_computes_half_and_the_bits_are_one_threads(helper, m, dtype, groups):
    operands = _operands(dtype, groups)
    shared = _three(*operands, m)
    sent = [function for function, taken in helper.jobs if taken]
    assert sent == ["conv_winograd:forward_share"] * 2 + ["conv_winograd:weight_grad_share"]
    tg.set_num_threads(1)
    alone = _three(*operands, m)
    for two, one in zip(shared, alone, strict=True):
        assert two.dtype == one.dtype
        np.testing.assert_array_equal(two, one)


def test_a_training_steps_gradients_are_one_threads_with_the_helper(helper):
    x, w, b, g, _ = _operands(np.float32)

    def gradients():
        xt, wt, bt = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))
        with conv_algorithm("winograd_f2"):
            out = F.conv2d(xt, wt, bt, padding=1)
            out.backward(tg.Tensor(g))
        return out._data, xt.grad._data, wt.grad._data, bt.grad._data

    shared = gradients()
    assert any(taken for _, taken in helper.jobs)
    tg.set_num_threads(1)
    for two, one in zip(shared, gradients(), strict=True):
        np.testing.assert_array_equal(two, one)


@pytest.fixture
def warnings_are_errors(monkeypatch):
    """Python warnings as errors, in this process and in a helper started after it."""
    monkeypatch.setenv("PYTHONWARNINGS", "error::RuntimeWarning")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def test_the_helpers_share_of_non_finite_data_is_as_silent_as_ours(warnings_are_errors,
                                                                   helper):
    # An inf in the helper's images: Winograd spreads a NaN over its tile, which numpy
    # reports ("invalid value"), an error under -W error, where PyTorch is silent. The
    # helper must compute its share and stay up, as the kernel's own share does.
    x, w, b, _, _ = _operands(np.float32)
    x[-1, 0, 4, 4] = np.inf
    with conv_algorithm("winograd_f2"):
        out = F.conv2d(tg.Tensor(x), tg.Tensor(w), tg.Tensor(b), padding=1)
    assert any(taken for _, taken in helper.jobs)
    assert helper.ready()
    assert np.isnan(out._data[-1]).any() and np.isfinite(out._data[0]).all()


def test_a_helper_that_dies_leaves_the_kernel_computing_its_share(helper):
    operands = _operands(np.float32)
    helper._process.kill()
    helper._process.wait()
    shared = _three(*operands, 2)
    assert helper._failed and not helper.ready()
    tg.set_num_threads(1)
    for two, one in zip(shared, _three(*operands, 2), strict=True):
        np.testing.assert_array_equal(two, one)


def test_a_job_that_raises_turns_the_helper_off(helper):
    job = helper.submit("conv_winograd:no_such_function", {"x": np.zeros(3)}, {}, {})
    assert job is not None
    assert job.finish(lambda outputs, returned: pytest.fail("no answer to take")) is False
    assert helper._failed
    assert helper.submit("conv_winograd:forward_share", {}, {}, {}) is None


def test_the_arena_file_is_gone_once_the_helper_mapped_it(helper):
    _three(*_operands(np.float32), 2)
    assert helper._arena is not None and helper._arena.path is None


def test_one_thread_or_a_small_op_never_calls_the_helper(helper, monkeypatch):
    tg.set_num_threads(1)
    _three(*_operands(np.float32), 2)
    tg.set_num_threads(2)
    monkeypatch.setattr(second_core, "MIN_MACS", 1 << 40)
    _three(*_operands(np.float32), 2)
    assert helper.jobs == []


def test_the_governor_counts_the_helpers_cpu_as_its_own(helper):
    _three(*_operands(np.float32, batch=32, channels=16, size=32), 2)
    assert helper.cpu_seconds() > 0
    assert threads.governor.cpu_time is threads._own_cpu_time


def test_the_switch_in_the_environment(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CNN_SECOND_CORE", "0")
    core = SecondCore()
    assert not core.enabled and not core.ready() and core._process is None


def test_the_library_helper_is_one_per_process():
    assert second_core.second_core is conv_winograd.second_core


def test_a_share_that_fails_is_computed_here(helper, monkeypatch):
    answer = helper._answer

    def lost():
        answer()
        raise SecondCoreError("lost on the way")

    monkeypatch.setattr(helper, "_answer", lost)
    operands = _operands(np.float32)
    shared = _three(*operands, 2)
    assert any(taken for _, taken in helper.jobs)
    tg.set_num_threads(1)
    for two, one in zip(shared, _three(*operands, 2), strict=True):
        np.testing.assert_array_equal(two, one)


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="no posix_fallocate here")
def test_no_room_for_the_arena_leaves_the_job_here(helper, monkeypatch):
    def full(fd, offset, size):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    before = set(os.listdir(second_core._arena_directory()))
    operands = _operands(np.float32)
    shared = _three(*operands, 2)
    assert not any(taken for _, taken in helper.jobs) and not helper._failed
    assert set(os.listdir(second_core._arena_directory())) <= before   # no file left behind
    tg.set_num_threads(1)
    for two, one in zip(shared, _three(*operands, 2), strict=True):
        np.testing.assert_array_equal(two, one)



def test_the_helpers_forward_share_keeps_its_tiles_for_the_weight_gradients_share():
    """The share functions themselves (as the helper runs them), in this process: the
    forward's share keeps its bands' tiles under the token, keyed by the batch's image
    numbers; the weight gradient's share takes them (and gets what it computes alone)."""
    x, w, _, g, geometry = _operands(np.float32, batch=4)
    xs, gs = x[1:], g[1:]                      # the helper's share: images 1..3
    u = conv_winograd._transform_weight(w, conv_winograd._matrices(2, np.dtype(np.float32))[1])
    options = dict(m=2, offset=(1, 1), tiles=(5, 5), dtype="<f4", groups=1)
    plan = [(slice(k, k + 1), [slice(0, 5)]) for k in range(3)]
    out = np.empty((3, 6, 9, 9), np.float32)
    conv_winograd.forward_share(xs, u, out, plan=plan, first=1, keep="token", **options)
    kept = conv_winograd._helper_kept["token"]
    assert sorted(kept) == [(k, k + 1, 0, 5) for k in (1, 2, 3)]
    runs = [[group] for group in plan]
    sigmas = np.empty((3, 4, 4, 6, 4), np.float32)
    sums = np.empty((3, 6))
    conv_winograd.weight_grad_share(xs, gs, sigmas, sums, runs=runs, first=1, kept="token",
                                    **options)
    assert "token" not in conv_winograd._helper_kept
    alone_sigmas, alone_sums = sigmas.copy(), sums.copy()
    conv_winograd.weight_grad_share(xs, gs, sigmas, sums, runs=runs, first=1, **options)
    np.testing.assert_array_equal(sigmas, alone_sigmas)
    np.testing.assert_array_equal(sums, alone_sums)
    np.testing.assert_array_equal(out, conv_winograd.conv2d_forward(x, w, geometry, m=2)[1:])


def test_a_share_that_raises_here_still_reads_the_helpers_answer(helper, monkeypatch):
    operands = _operands(np.float32)
    group = conv_winograd._forward_group

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(conv_winograd, "_forward_group", interrupted)
    x, w, b, _, geometry = operands
    with pytest.raises(KeyboardInterrupt), threads.governed():
        conv_winograd.conv2d_forward(x, w, geometry, b, m=2)
    monkeypatch.setattr(conv_winograd, "_forward_group", group)
    shared = _three(*operands, 2)              # the helper is free and in step again
    assert [taken for _, taken in helper.jobs] == [True] * 4 and not helper._failed
    tg.set_num_threads(1)
    for two, one in zip(shared, _three(*operands, 2), strict=True):
        np.testing.assert_array_equal(two, one)
