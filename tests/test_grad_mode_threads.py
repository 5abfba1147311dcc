"""Grad mode, inference mode and anomaly mode: every form PyTorch offers, and per thread."""

import threading

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import autograd


def leaf():
    return tg.Tensor(np.ones(2), requires_grad=True)


def records() -> bool:
    return (leaf() * 2.0).requires_grad


# ----------------------------------------------------------------------------- forms
def test_no_grad_context_manager_and_both_decorator_spellings():
    with tg.no_grad():
        assert not records() and not tg.is_grad_enabled()
    assert records()

    @tg.no_grad()
    def called():
        return records()

    @tg.no_grad
    def bare():
        return records()

    assert called() is False and bare() is False and records()


def test_enable_grad_inside_no_grad_and_as_decorator():
    @tg.enable_grad
    def inner():
        return records()

    with tg.no_grad():
        with tg.enable_grad():
            assert records()
        assert not records()
        assert inner()


def test_set_grad_enabled_as_a_call_switches_at_once():
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled() and not records()
    finally:
        tg.set_grad_enabled(True)
    assert records()


def test_set_grad_enabled_as_a_context_manager_restores():
    with tg.set_grad_enabled(False):
        assert not records()
        with tg.set_grad_enabled(True):
            assert records()
        assert not records()
    assert records()


def test_set_grad_enabled_as_a_decorator_does_not_switch_at_decoration():
    @tg.set_grad_enabled(False)
    def off():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled()
    assert off() is False
    assert tg.is_grad_enabled()


def test_inference_mode_forms():
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() and not records()
    assert not tg.is_inference_mode_enabled() and records()

    @tg.inference_mode
    def bare():
        return tg.is_inference_mode_enabled(), records()

    @tg.inference_mode()
    def called():
        return tg.is_inference_mode_enabled(), records()

    assert bare() == (True, False) and called() == (True, False)


def test_inference_mode_false_turns_grad_on_as_pytorch():
    with tg.no_grad(), tg.inference_mode(False):
        assert tg.is_grad_enabled() and not tg.is_inference_mode_enabled()
    with tg.inference_mode():
        with tg.inference_mode(False):
            assert tg.is_grad_enabled() and not tg.is_inference_mode_enabled()
        assert tg.is_inference_mode_enabled()


def test_modes_are_restored_when_the_block_raises():
    with pytest.raises(KeyError), tg.no_grad():
        raise KeyError
    assert tg.is_grad_enabled()


def test_decorated_generator_keeps_the_mode_across_yields():
    @tg.no_grad()
    def values():
        yield tg.is_grad_enabled()
        yield tg.is_grad_enabled()

    assert list(values()) == [False, False]
    assert tg.is_grad_enabled()


def test_guards_of_different_modes_nest_in_any_order():
    detector = tg.detect_anomaly()
    guard = tg.no_grad()
    guard.__enter__()
    detector.__enter__()
    guard.__exit__(None, None, None)  # leaving no_grad first must not end anomaly mode
    assert tg.is_grad_enabled() and autograd.is_anomaly_enabled()
    detector.__exit__(None, None, None)
    assert not autograd.is_anomaly_enabled()


def test_no_grad_has_no_effect_on_the_backward_of_an_existing_graph():
    x = leaf()
    y = (x * 3.0).sum()
    with tg.no_grad():
        y.backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


# ----------------------------------------------------------------------------- threads
def run_in_thread(function):
    results, errors = [], []

    def target():
        try:
            results.append(function())
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def test_no_grad_in_one_thread_leaves_other_threads_recording():
    with tg.no_grad():
        assert run_in_thread(records) is True
        assert not records()


def test_a_new_thread_starts_with_grad_on_and_anomaly_off():
    with tg.no_grad(), tg.inference_mode(), tg.detect_anomaly():
        state = run_in_thread(lambda: (tg.is_grad_enabled(), tg.is_inference_mode_enabled(),
                                       autograd.is_anomaly_enabled()))
    assert state == (True, False, False)


def test_no_grad_in_a_thread_does_not_reach_the_main_thread():
    def worker():
        with tg.no_grad():
            return records()

    assert run_in_thread(worker) is False
    assert records()


def test_set_grad_enabled_call_in_a_thread_stays_in_that_thread():
    def worker():
        tg.set_grad_enabled(False)
        return tg.is_grad_enabled()

    assert run_in_thread(worker) is False
    assert tg.is_grad_enabled()


def test_interleaved_no_grad_blocks_in_two_threads_restore_each_their_own():
    # Thread A enters no_grad, then B enters, then A leaves, then B leaves: with one global
    # switch A's exit would restore "on" while B is still inside, and B's exit would then
    # restore A's "off" for good.
    a_entered, b_entered, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with tg.no_grad():
            a_entered.set()
            b_entered.wait(5)
        a_left.set()
        seen["a_after"] = records()

    def thread_b():
        a_entered.wait(5)
        with tg.no_grad():
            b_entered.set()
            a_left.wait(5)
            seen["b_inside_after_a_left"] = records()
        seen["b_after"] = records()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"a_after": True, "b_inside_after_a_left": False, "b_after": True}
    assert records()


def test_one_decorated_function_run_by_many_threads_at_once():
    barrier = threading.Barrier(4)

    @tg.no_grad()
    def work():
        barrier.wait(5)  # all four threads are inside the same decorated function
        inside = records()
        barrier.wait(5)
        return inside

    results = []
    threads = [threading.Thread(target=lambda: results.append((work(), records())))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [(False, True)] * 4
    assert records()


def test_training_in_a_thread_while_another_thread_evaluates_under_no_grad():
    stop = threading.Event()
    failures = []

    def evaluate():
        with tg.no_grad():
            while not stop.is_set():
                if records():
                    failures.append("recorded under no_grad")

    evaluator = threading.Thread(target=evaluate)
    evaluator.start()
    try:
        w = leaf()
        for _ in range(50):
            loss = (w * w).sum()
            assert loss.requires_grad
            loss.backward()
    finally:
        stop.set()
        evaluator.join(10)
    assert not failures
    np.testing.assert_allclose(w.grad, [100.0, 100.0])


def test_anomaly_mode_is_per_thread():
    with tg.detect_anomaly():
        assert run_in_thread(lambda: np.isnan(tg.Tensor([-1.0]).log().item()))
        with pytest.raises(RuntimeError, match="forward produced NaN"):
            tg.Tensor([-1.0]).log()


def test_mode_attributes_read_and_set_the_current_threads_switches():
    from tinygrad_cnn.autograd.grad_mode import mode

    assert mode.grad_enabled is True
    mode.grad_enabled = False
    try:
        assert not tg.is_grad_enabled() and not records()
        assert run_in_thread(lambda: mode.grad_enabled) is True
    finally:
        mode.grad_enabled = True
    with pytest.raises(AttributeError):
        mode.nonsense = True
