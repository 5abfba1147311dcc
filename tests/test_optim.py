"""optim: parameter groups, update rules by hand, state dicts, schedulers (no PyTorch needed).

Step-for-step agreement with PyTorch is in test_torch_equivalence.py.
"""

import math

import numpy as np
import pytest

from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, StepLR


def param(values, grad=None):
    p = nn.Parameter(np.array(values, dtype=np.float64))
    if grad is not None:
        p.grad = np.array(grad, dtype=np.float64)
    return p


# ------------------------------------------------------------------ groups and validation

def test_a_plain_list_becomes_one_group_with_the_defaults():
    opt = optim.SGD([param([1.0])], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["nesterov"] is False


def test_groups_override_the_defaults():
    a, b = param([1.0], [1.0]), param([1.0], [1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    opt.step()
    np.testing.assert_allclose(a.data, [0.9])
    np.testing.assert_allclose(b.data, [0.0])


def test_add_param_group_rejects_a_parameter_already_present():
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


def test_a_single_tensor_is_not_an_iterable_of_params():
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(param([1.0]), lr=0.1)


def test_an_empty_parameter_list_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "learning rate"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "epsilon"),
    (lambda p: optim.AdamW(p, lr=float("nan")), "learning rate"),
])
def test_invalid_hyperparameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([param([1.0])])


def test_zero_grad_sets_grads_to_none():
    p = param([1.0], [2.0])
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


def test_a_parameter_without_grad_is_left_alone():
    p, q = param([1.0]), param([1.0], [1.0])
    opt = optim.Adam([p, q], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(p.data, [1.0])
    assert p not in opt.state and q in opt.state


def test_step_calls_the_closure_and_returns_its_loss():
    p = param([1.0], [1.0])
    assert optim.SGD([p], lr=0.1).step(lambda: 42.0) == 42.0


# ------------------------------------------------------------------ update rules

def test_sgd_step_is_lr_times_grad():
    p = param([1.0, 2.0], [0.5, -1.0])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, 2.1])


def test_sgd_momentum_buffer_starts_as_the_gradient_without_dampening():
    p = param([0.0], [1.0])
    opt = optim.SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    opt.step()  # buf = g = 1 (dampening not applied on the first step)
    opt.step()  # buf = 0.9 * 1 + 0.5 * 1 = 1.4
    np.testing.assert_allclose(p.data, [-2.4])


def test_sgd_nesterov_adds_momentum_times_buffer_to_the_gradient():
    p = param([0.0], [1.0])
    opt = optim.SGD([p], lr=1.0, momentum=0.5, nesterov=True)
    opt.step()  # buf = 1, step = 1 + 0.5
    opt.step()  # buf = 1.5, step = 1 + 0.75
    np.testing.assert_allclose(p.data, [-3.25])


def test_sgd_weight_decay_adds_to_the_gradient_without_touching_grad():
    p = param([2.0], [1.0])
    optim.SGD([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, [2.0 - 0.1 * (1.0 + 0.5 * 2.0)])
    np.testing.assert_array_equal(p.grad, [1.0])


def test_adam_first_step_moves_each_weight_by_about_lr():
    # After bias correction, m/sqrt(v) = g/|g| on step 1.
    p = param([1.0, 1.0], [1e-3, -50.0])
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01], rtol=1e-6)


def test_adam_weight_decay_is_l2_on_the_gradient():
    p = param([1.0], [0.0])
    optim.Adam([p], lr=0.01, weight_decay=0.1).step()
    # The gradient is 0 + 0.1 * 1 > 0, so the first step is -lr.
    np.testing.assert_allclose(p.data, [0.99], rtol=1e-6)


def test_adamw_decays_the_weight_apart_from_the_gradient():
    p = param([1.0], [0.0])
    optim.AdamW([p], lr=0.01, weight_decay=0.1).step()
    # Zero gradient: only the decoupled decay p *= 1 - lr * wd acts.
    np.testing.assert_allclose(p.data, [1.0 - 0.01 * 0.1])


def test_adamw_default_weight_decay_is_pytorchs():
    assert optim.AdamW([param([1.0])]).param_groups[0]["weight_decay"] == 0.01


# ------------------------------------------------------------------ state dicts

def run_steps(opt, params, grads):
    for grad in grads:
        for p, g in zip(params, grad):
            p.grad = g.copy()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1),
])
def test_resuming_from_a_state_dict_continues_exactly(make):
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(3), rng.standard_normal(2)] for _ in range(6)]
    start = [rng.standard_normal(3), rng.standard_normal(2)]

    straight = [param(a) for a in start]
    run_steps(make(straight), straight, grads)

    first = [param(a) for a in start]
    opt = make(first)
    run_steps(opt, first, grads[:3])
    saved = opt.state_dict()
    resumed = [param(p.numpy().copy()) for p in first]
    opt2 = make(resumed)
    opt2.load_state_dict(saved)
    run_steps(opt2, resumed, grads[3:])

    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_has_pytorchs_layout():
    p, q = param([1.0], [1.0]), param([2.0], [1.0])
    opt = optim.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}])
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(state["state"][0]["step"]) == 1.0


STATE_KINDS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9), {"momentum_buffer"}),
    (optim.Adam, dict(amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (optim.AdamW, {}, {"step", "exp_avg", "exp_avg_sq"}),
    (optim.RMSprop, dict(momentum=0.5, centered=True),
     {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (optim.Adagrad, {}, {"step", "sum"}),
    (optim.Adadelta, {}, {"step", "square_avg", "acc_delta"}),
]


@pytest.mark.parametrize("cls, options, keys", STATE_KINDS)
def test_state_entries_are_tensors_updated_in_place(cls, options, keys):
    p = param([1.0, -2.0], [0.5, 0.25])
    opt = cls([p], **options)
    opt.step()
    state = opt.state[p]
    assert set(state) == keys
    held = dict(state)
    before = {key: value.numpy().copy() for key, value in held.items()}
    for key, value in held.items():
        assert isinstance(value, Tensor) and not value.requires_grad, key
        if key == "step":  # PyTorch's: a float32 0-d tensor
            assert value.shape == () and value.dtype == np.float32 and float(value) == 1.0
        else:
            assert value.shape == p.shape and value.dtype == p.dtype, key
    opt.step()
    for key, value in held.items():
        assert opt.state[p][key] is value, key  # the same Tensors, changed in place
    assert float(held.get("step", Tensor(np.float32(2.0)))) == 2.0
    assert any(not np.array_equal(held[k].numpy(), before[k]) for k in held if k != "step")


@pytest.mark.parametrize("cls, options, keys", STATE_KINDS)
def test_state_dict_is_by_reference_and_load_state_dict_copies(cls, options, keys):
    p = param([1.0, -2.0], [0.5, 0.25])
    opt = cls([p], **options)
    opt.step()
    saved = opt.state_dict()
    assert saved["state"][0] is opt.state[p]  # PyTorch's: the state itself, not copies
    assert saved["param_groups"][0] is not opt.param_groups[0]
    q = param([1.0, -2.0], [0.5, 0.25])
    other = cls([q], **options)
    other.load_state_dict(saved)
    for key in keys:
        theirs, ours = saved["state"][0][key], other.state[q][key]
        assert isinstance(ours, Tensor) and ours is not theirs
        assert not np.shares_memory(ours.numpy(), theirs.numpy()), key
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    opt.step()  # moves opt's state (and so saved's), not other's
    for key in keys:
        assert not np.array_equal(other.state[q][key].numpy(), saved["state"][0][key].numpy())


def test_load_state_dict_rejects_a_different_group_layout():
    opt = optim.SGD([param([1.0]), param([1.0])], lr=0.1)
    other = optim.SGD([param([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="group 0 holds 1 parameters"):
        opt.load_state_dict(other.state_dict())


def stepped(make):
    """An optimizer over two parameters after one step, and its state dict."""
    params = [param([1.0, 2.0], [0.5, 0.5]), param([[1.0]], [[1.0]])]
    opt = make(params)
    opt.step()
    return opt, opt.state_dict()


@pytest.mark.parametrize("option, value", [("foreach", "yes"), ("fused", 1), ("capturable", None)])
def test_load_state_dict_rejects_an_implementation_switch_that_is_not_a_bool(option, value):
    opt, saved = stepped(lambda ps: optim.Adam(ps))
    saved["param_groups"][0][option] = value
    with pytest.raises(ValueError, match=f"param group 0: option {option}={value!r}"):
        opt.load_state_dict(saved)


def test_load_state_dict_takes_maximize_and_weight_decay_style_from_the_saved_groups():
    opt, saved = stepped(lambda ps: optim.SGD(ps, lr=0.1))
    saved["param_groups"][0]["maximize"] = True
    opt.load_state_dict(saved)
    p = opt.param_groups[0]["params"][0]
    before = p.numpy().copy()
    opt.step()
    np.testing.assert_allclose(p.data, before + 0.1 * 0.5)  # ascends the gradient
    opt, saved = stepped(lambda ps: optim.Adam(ps, weight_decay=0.5))
    saved["param_groups"][0]["decoupled_weight_decay"] = True
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_load_state_dict_accepts_pytorch_options_at_their_defaults():
    opt, saved = stepped(lambda ps: optim.Adam(ps, lr=0.1))
    saved["param_groups"][0].update(amsgrad=False, maximize=False, foreach=None,
                                    capturable=False, differentiable=False, fused=None,
                                    decoupled_weight_decay=False, lr=0.5)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.5


def test_load_state_dict_accepts_pytorchs_implementation_switches_at_any_value():
    opt, saved = stepped(lambda ps: optim.Adam(ps, lr=0.1))
    saved["param_groups"][0].update(foreach=True, capturable=True, differentiable=True,
                                    fused=True)
    opt.load_state_dict(saved)


def test_adamw_accepts_pytorchs_decoupled_weight_decay_flag():
    opt, saved = stepped(lambda ps: optim.AdamW(ps))
    saved["param_groups"][0]["decoupled_weight_decay"] = True
    opt.load_state_dict(saved)


def test_a_param_group_may_set_its_own_amsgrad():
    p, q = param([1.0], [1.0]), param([1.0], [1.0])
    opt = optim.Adam([{"params": [p], "amsgrad": True}, {"params": [q]}])
    opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert set(opt.state[q]) == {"step", "exp_avg", "exp_avg_sq"}


def test_load_state_dict_rejects_a_group_without_params():
    opt, saved = stepped(lambda ps: optim.SGD(ps, lr=0.1))
    del saved["param_groups"][0]["params"]
    with pytest.raises(ValueError, match="param group 0 has no 'params'"):
        opt.load_state_dict(saved)


def test_load_state_dict_rejects_a_state_array_of_the_wrong_shape_and_changes_nothing():
    opt, saved = stepped(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    before = opt.state_dict()
    saved["state"][1]["momentum_buffer"] = np.zeros((3, 3))
    saved["param_groups"][0]["lr"] = 0.7
    with pytest.raises(ValueError, match=r"parameter 1: 'momentum_buffer' has shape \(3, 3\) "
                                         r"but the parameter has shape \(1, 1\)"):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state_dict()["state"][1]["momentum_buffer"],
                                  before["state"][1]["momentum_buffer"])


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["state"][0].pop("exp_avg_sq"), "parameter 0: missing 'exp_avg_sq'"),
    (lambda s: s["state"][0].update(max_exp_avg_sq=np.zeros(2)),
     "parameter 0: unexpected entry 'max_exp_avg_sq'"),
    (lambda s: s["state"][0].update(step=np.array([1.0, 2.0])), "'step' must be"),
    (lambda s: s["state"][0].update(step=-1), "'step' must be"),
    (lambda s: s["state"][0].update(exp_avg=np.array(["a", "b"])), "numeric"),
    (lambda s: s["state"].update({5: {}}), "unknown parameter 5"),
    (lambda s: s["state"].update({"x": {}}), "state key 'x'"),
    (lambda s: s["param_groups"][1].update(params=[0]), "more than once"),
    (lambda s: s["param_groups"][0].update(params=["a", 1]), "param group 0: 'params'"),
    (lambda s: s["param_groups"][0].update(lr=-1.0), "learning rate"),
    (lambda s: s["param_groups"].append({"params": []}), "3 parameter groups"),
    (lambda s: s.update(param_groups="abc"), "'param_groups' must be a list"),
])
def test_load_state_dict_rejects_a_malformed_state_dict_clearly(edit, message):
    params = [param([1.0, 2.0], [0.5, 0.5]), param([[1.0]], [[1.0]])]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    opt.step()
    saved = opt.state_dict()
    edit(saved)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)


def test_a_subclass_without_a_state_spec_loads_whatever_it_saved():
    class Counting(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def _update(self):
            for group in self.param_groups:
                for p, _, state in self._params_with_grad(group):
                    state["step"] = state.get("step", 0) + 1
                    state["total"] = state.get("total", np.zeros_like(p.data)) + p.grad
                    state["note"] = "seen"

    p = param([1.0, 2.0], [1.0, 1.0])
    opt = Counting([p])
    opt.step()
    fresh = Counting([param([1.0, 2.0])])
    fresh.load_state_dict(opt.state_dict())
    state = next(iter(fresh.state.values()))
    assert state["step"] == 1 and state["note"] == "seen"
    np.testing.assert_array_equal(state["total"], [1.0, 1.0])


def test_load_state_dict_accepts_string_indices_and_casts_to_the_parameter_dtype():
    opt, saved = stepped(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    saved["state"] = {str(k): {"momentum_buffer": v["momentum_buffer"].astype(np.float32)}
                      for k, v in saved["state"].items()}
    opt.load_state_dict(saved)
    buffers = [opt.state[p]["momentum_buffer"] for p in opt.param_groups[0]["params"]]
    assert [b.dtype for b in buffers] == [np.float64, np.float64]


# ------------------------------------------------------------------ schedulers

def lrs(scheduler, steps):
    values = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr()[0])
    return values


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    opt = optim.SGD([param([1.0])], lr=1.0)
    values = lrs(StepLR(opt, step_size=3, gamma=0.5), 7)
    np.testing.assert_allclose(values, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    assert opt.param_groups[0]["lr"] == values[-1]


def test_cosine_annealing_follows_the_closed_form_within_t_max():
    opt = optim.SGD([param([1.0])], lr=1.0)
    values = lrs(CosineAnnealingLR(opt, T_max=10, eta_min=0.1), 10)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(values, expected, atol=1e-12)


def test_scheduler_records_initial_lr_and_last_epoch():
    opt = optim.SGD([param([1.0])], lr=0.3)
    scheduler = StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == 0.3 and scheduler.last_epoch == 0


def test_scheduler_state_dict_round_trips():
    opt = optim.SGD([param([1.0])], lr=1.0)
    scheduler = CosineAnnealingLR(opt, T_max=5)
    lrs(scheduler, 2)
    saved = scheduler.state_dict()
    assert "optimizer" not in saved
    opt2 = optim.SGD([param([1.0])], lr=1.0)
    restored = CosineAnnealingLR(opt2, T_max=5)
    restored.load_state_dict(saved)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    assert lrs(restored, 3) == lrs(scheduler, 3)


@pytest.mark.parametrize("make, error", [
    (lambda o: StepLR(o, step_size=0), ValueError),
    (lambda o: StepLR(o, step_size=1.5), TypeError),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError),
    (lambda o: StepLR(object(), step_size=1), TypeError),
])
def test_scheduler_arguments_are_validated(make, error):
    with pytest.raises(error):
        make(optim.SGD([param([1.0])], lr=1.0))


# ------------------------------------------------------------------ more optimizers by hand

def test_rmsprop_first_step_divides_by_the_root_of_the_mean_square():
    p = param([1.0, -2.0], [0.5, -4.0])
    optim.RMSprop([p], lr=0.1, alpha=0.9, eps=0.0).step()
    v = 0.1 * np.array([0.25, 16.0])
    np.testing.assert_allclose(p.data, [1.0, -2.0] - 0.1 * np.array([0.5, -4.0]) / np.sqrt(v))


def test_centered_rmsprop_subtracts_the_squared_mean():
    p = param([0.0], [2.0])
    optim.RMSprop([p], lr=1.0, alpha=0.5, eps=0.0, centered=True).step()
    # v = 0.5 * 4 = 2, m = 0.5 * 2 = 1, avg = sqrt(2 - 1) = 1.
    np.testing.assert_allclose(p.data, [-2.0])


def test_adagrad_accumulates_squares_and_decays_the_rate():
    p = param([0.0], [3.0])
    opt = optim.Adagrad([p], lr=1.0, lr_decay=0.5, initial_accumulator_value=16.0, eps=0.0)
    assert float(opt.state_dict()["state"][0]["step"]) == 0.0  # state from the start
    opt.step()
    np.testing.assert_allclose(p.data, [-3.0 / 5.0])          # sqrt(16 + 9) = 5
    p.grad = np.array([0.0])
    opt.step()
    np.testing.assert_allclose(p.data, [-3.0 / 5.0])
    np.testing.assert_allclose(opt.state[p]["sum"], [25.0])


def test_adadelta_first_step_is_sqrt_eps_over_the_rms_of_the_gradient():
    p = param([0.0], [2.0])
    optim.Adadelta([p], lr=1.0, rho=0.75, eps=1e-2).step()
    expected = np.sqrt(1e-2) / np.sqrt(0.25 * 4.0 + 1e-2) * 2.0
    np.testing.assert_allclose(p.data, [-expected])


def test_amsgrad_keeps_the_largest_second_moment():
    p = param([0.0], [10.0])
    opt = optim.Adam([p], amsgrad=True)
    opt.step()
    p.grad = np.array([0.0])
    opt.step()
    state = opt.state[p]
    assert state["max_exp_avg_sq"][0] == pytest.approx(0.001 * 100.0)
    assert state["exp_avg_sq"][0] < state["max_exp_avg_sq"][0]


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, maximize=True), lambda ps: optim.Adam(ps, maximize=True),
    lambda ps: optim.RMSprop(ps, maximize=True), lambda ps: optim.Adagrad(ps, maximize=True),
    lambda ps: optim.Adadelta(ps, maximize=True)])
def test_maximize_climbs_the_gradient(make):
    p = param([0.0], [1.0])
    make([p]).step()
    assert p.data[0] > 0


# ------------------------------------------------------------------ more schedulers by hand

def test_multistep_exponential_and_linear_schedules():
    from tinygrad_cnn.optim.lr_scheduler import ExponentialLR, LinearLR, MultiStepLR

    values = lrs(MultiStepLR(optim.SGD([param([1.0])], lr=1.0), milestones=[3, 1, 3]), 4)
    np.testing.assert_allclose(values, [1, 0.1, 0.1, 0.001, 0.001])
    values = lrs(ExponentialLR(optim.SGD([param([1.0])], lr=2.0), gamma=0.5), 3)
    np.testing.assert_allclose(values, [2, 1, 0.5, 0.25])
    values = lrs(LinearLR(optim.SGD([param([1.0])], lr=1.0), start_factor=0.25,
                          total_iters=3), 5)
    np.testing.assert_allclose(values, [0.25, 0.5, 0.75, 1, 1, 1])


def test_one_cycle_rises_to_max_lr_then_falls_to_the_floor():
    from tinygrad_cnn.optim.lr_scheduler import OneCycleLR

    opt = optim.SGD([param([1.0])], lr=1.0, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=3 / 11 * 1.0,
                           anneal_strategy="linear")
    values = lrs(scheduler, 10)
    assert values[0] == pytest.approx(1.0 / 25)
    assert values[2] == pytest.approx(1.0) and max(values) == pytest.approx(1.0)
    assert values[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


def test_reduce_on_plateau_waits_patience_epochs_then_cools_down():
    from tinygrad_cnn.optim.lr_scheduler import ReduceLROnPlateau

    opt = optim.SGD([param([1.0])], lr=1.0)
    scheduler = ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5)
    seen = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]:
        scheduler.step(metric)
        seen.append(scheduler.get_last_lr()[0])
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_lambda_lr_multiplies_the_initial_rate():
    from tinygrad_cnn.optim.lr_scheduler import LambdaLR

    values = lrs(LambdaLR(optim.SGD([param([1.0])], lr=2.0), lambda epoch: 1 / (epoch + 1)), 3)
    np.testing.assert_allclose(values, [2, 1, 2 / 3, 0.5])


# ------------------------------------------------------------------ nn.utils by hand

def test_clip_grad_norm_scales_all_gradients_together():
    a, b = param([0.0, 0.0], [3.0, 0.0]), param([0.0], [4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(np.asarray(a.grad), [3.0 * scale, 0.0])
    np.testing.assert_allclose(np.asarray(b.grad), [4.0 * scale])


def test_clip_grad_value_and_vector_round_trip():
    a, b = param([1.0, 2.0], [-3.0, 0.5]), param([[3.0]], [[9.0]])
    nn.utils.clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(np.asarray(a.grad), [-1.0, 0.5])
    np.testing.assert_array_equal(np.asarray(b.grad), [[1.0]])
    vector = nn.utils.parameters_to_vector([a, b])
    np.testing.assert_array_equal(vector.data, [1.0, 2.0, 3.0])
    nn.utils.vector_to_parameters(vector * 2, [a, b])
    np.testing.assert_array_equal(a.data, [2.0, 4.0])
    assert b.shape == (1, 1) and b.data[0, 0] == 6.0
