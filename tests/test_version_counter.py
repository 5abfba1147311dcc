"""Version counters: backward through an op whose saved tensor was changed in place raises
``RuntimeError`` naming the op, as PyTorch's "modified by an inplace operation"; never a
silently wrong gradient.  Each case is run under PyTorch too, which must raise as well."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim

MODIFIED = "modified by an inplace operation"


def _both(script):
    """Run ``script(lib)`` under tinygrad_cnn and PyTorch; both must raise RuntimeError."""
    with pytest.raises(RuntimeError, match=MODIFIED) as ours:
        script(tg)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=MODIFIED):
        script(torch)
    return str(ours.value)


def test_saved_input_changed_in_place_raises_naming_the_op():
    def script(lib):
        w = lib.ones(3, requires_grad=True)
        x = w * 2            # x is saved by the next op
        y = x * x
        x.add_(1)
        y.sum().backward()

    message = _both(script)
    assert "MulBackward" in message and "input 0" in message and "version 1" in message


def test_saved_output_changed_in_place_raises():
    def script(lib):
        w = lib.ones(3, requires_grad=True)
        y = (w * 1).exp()    # exp saves its output
        y.mul_(2)
        y.sum().backward()

    assert "ExpBackward" in _both(script)


def test_changing_a_view_bumps_the_base_it_shares_memory_with():
    def script(lib):
        w = lib.ones(2, 3, requires_grad=True)
        x = w * 1
        y = x.sigmoid()      # saves its output y
        y[0].zero_()         # a view of y
        y.sum().backward()

    _both(script)


def test_changing_the_base_bumps_its_views():
    def script(lib):
        w = lib.ones(2, 3, requires_grad=True)
        base = w * 1
        view = base.view(6)
        z = view * view      # saves the view
        base.fill_(3.0)
        z.sum().backward()

    _both(script)


def test_setitem_counts_as_an_in_place_change():
    def script(lib):
        w = lib.ones(4, requires_grad=True)
        x = w * 1
        y = x.tanh()
        y[1] = 0.0
        y.sum().backward()

    _both(script)


def test_optimizer_step_between_forward_and_backward_raises():
    def script(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        x = lib.ones(4, 3, requires_grad=True)
        loss = layer(x).sum()
        loss.backward(retain_graph=True)
        optimizer.step()     # changes the weight the graph saved for x's gradient
        loss.backward()

    assert "version" in _both(script)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p), lambda p: optim.AdamW(p)])
def test_every_optimizer_bumps_the_versions_it_changes(make):
    layer = nn.Linear(3, 2)
    before = layer.weight._version
    layer(tg.ones(1, 3)).sum().backward()
    make(layer.parameters()).step()
    assert layer.weight._version == before + 1


def test_no_change_no_error_and_the_gradient_is_right():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 3
    y = x * x
    z = x.clone()
    z.add_(1)  # a clone has its own counter: x stays valid
    y.sum().backward()
    np.testing.assert_allclose(w.grad, 18 * w.detach())


def test_data_changes_are_not_tracked_as_in_pytorch():
    # PyTorch's .data is an alias outside autograd: its in-place changes do not bump the
    # tensor's version (documented in docs/api.md); .detach() shares the counter.
    w = tg.ones(3, requires_grad=True)
    w.data.mul_(2)
    assert w._version == 0
    w.detach().mul_(2)
    assert w._version == 1
    np.testing.assert_array_equal(w.detach(), [4.0, 4.0, 4.0])


def test_retained_graph_checks_again_on_the_second_backward():
    w = tg.ones(3, requires_grad=True)
    x = w * 1
    y = x * x
    y.sum().backward(retain_graph=True)
    x.sub_(1)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()
