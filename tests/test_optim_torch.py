"""Optimizers, schedulers and nn.utils gradient clipping against PyTorch, step for step.

Every optimizer and option combination runs 16 steps from the same parameters on the same
gradient sequence (float64) under both libraries; the parameters, the per-parameter state and
the state-dict layout must agree after every step, also across a state-dict round trip in the
middle (ours -> ours, PyTorch's -> ours, ours -> PyTorch).  Every scheduler's learning-rate
sequence is compared over 30 epochs, also across its own state-dict round trip.
"""

import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.optim import lr_scheduler

torch = pytest.importorskip("torch")

TIGHT = dict(rtol=1e-10, atol=1e-12)
STEPS, HALF = 16, 8

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.6, 0.95), weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True, eps=1e-3)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, weight_decay=0.05)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("Adadelta", dict(rho=0.95, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, foreach=False, differentiable=False)),
    # flags read by truth value: an int works, as in PyTorch
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=1)),
    ("Adam", dict(lr=0.01, amsgrad=1)),
    ("Adam", dict(lr=0.01, foreach=True, capturable=False, fused=None)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.5, 0.9), momentum_decay=0.3, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True,
                   eps=1e-3)),
    ("NAdam", dict(lr=0.01, momentum_decay=0)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.6, 0.7), weight_decay=0.1, eps=1e-3)),  # rho_t > 5 soon
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.5), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, eps=1e-3)),
    ("Adamax", dict(lr=0.01, maximize=True, foreach=False)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in options.items())}"
       for name, options in OPTIMIZERS]


def problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal((3, 2)), rng.standard_normal(4), rng.standard_normal(2)]
    grads = [[rng.standard_normal(s.shape) for s in starts] for _ in range(STEPS)]
    return [s.astype(dtype) for s in starts], [[g.astype(dtype) for g in gs] for gs in grads]


def groups(params):
    """Two groups, the second with its own learning rate."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]


def set_grads(ours, theirs, grad, step):
    """Parameter 1 has no gradient on odd steps: both libraries must then skip it."""
    for index, g in enumerate(grad):
        skip = index == 1 and step % 2
        if ours is not None:
            ours[index].grad = None if skip else Tensor(g.copy())
        if theirs is not None:
            theirs[index].grad = None if skip else torch.from_numpy(g.copy())


def to_torch(state_dict):
    return {"state": {i: {k: torch.tensor(np.array(v)) for k, v in s.items()}
                      for i, s in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


def assert_same_params(ours, theirs, where):
    for index, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a._data, b.detach().numpy(), **TIGHT,
                                   err_msg=f"{where}, parameter {index}")


def assert_same_state_dict(ours, theirs):
    """Same layout (group keys and values, state keys) and the same state values."""
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for our_group, their_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert list(our_group) == list(their_group)
        assert our_group == their_group
    assert sorted(ours["state"]) == sorted(
        i for i, s in theirs["state"].items() if s.get("momentum_buffer", 0) is not None)
    for index, entries in ours["state"].items():
        their_entries = {k: v for k, v in theirs["state"][index].items() if v is not None}
        assert list(entries) == list(their_entries), index
        for key, value in entries.items():
            their_value = their_entries[key].numpy()
            assert np.asarray(value).dtype == their_value.dtype, (index, key)
            np.testing.assert_allclose(value, their_value, **TIGHT, err_msg=f"{index}.{key}")


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=IDS)
def test_optimizer_matches_pytorch_step_for_step_and_across_state_dicts(name, options):
    starts, grads = problem()
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in starts]
    our_opt = getattr(optim, name)(groups(ours), **options)
    their_opt = getattr(torch.optim, name)(groups(theirs), **options)
    assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())
    for step in range(HALF):
        set_grads(ours, theirs, grads[step], step)
        our_opt.step()
        their_opt.step()
        assert_same_params(ours, theirs, f"step {step}")
        assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())

    # Resume three ways from the middle: our state dict into ours, PyTorch's into ours, and
    # ours into PyTorch; all must carry on exactly as the uninterrupted runs.
    saved = our_opt.state_dict()
    resumed = [nn.Parameter(p._data.copy()) for p in ours]
    resumed_opt = getattr(optim, name)(groups(resumed), **options)
    resumed_opt.load_state_dict(saved)
    from_torch = [nn.Parameter(p.detach().numpy().copy()) for p in theirs]
    from_torch_opt = getattr(optim, name)(groups(from_torch), **options)
    from_torch_opt.load_state_dict(their_opt.state_dict())
    into_torch = [torch.nn.Parameter(torch.from_numpy(p._data.copy())) for p in ours]
    into_torch_opt = getattr(torch.optim, name)(groups(into_torch), **options)
    into_torch_opt.load_state_dict(to_torch(saved))
    for step in range(HALF, STEPS):
        for run_ours, run_theirs in ((ours, theirs), (resumed, into_torch), (from_torch, None)):
            set_grads(run_ours, run_theirs, grads[step], step)
        for opt in (our_opt, their_opt, resumed_opt, from_torch_opt, into_torch_opt):
            opt.step()
        for params, where in ((ours, "straight"), (resumed, "ours -> ours"),
                              (from_torch, "PyTorch's -> ours")):
            assert_same_params(params, theirs, f"{where}, step {step}")
        assert_same_params(ours, into_torch, f"ours -> PyTorch, step {step}")
    assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())
    assert_same_state_dict(resumed_opt.state_dict(), their_opt.state_dict())


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("Adam", dict(lr=0.01, amsgrad=True)),
                                           ("RMSprop", dict(momentum=0.5, centered=True)),
                                           ("Adagrad", dict(lr_decay=0.1)),
                                           ("Adadelta", dict()),
                                           ("NAdam", dict(lr=0.01, weight_decay=0.1)),
                                           ("RAdam", dict(lr=0.01, betas=(0.5, 0.6))),
                                           ("Adamax", dict(lr=0.01))])
def test_float32_parameters_follow_pytorch_in_float32(name, options):
    starts, grads = problem(1, np.float32)
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in starts]
    our_opt = getattr(optim, name)(ours, **options)
    their_opt = getattr(torch.optim, name)(theirs, **options)
    for step, grad in enumerate(grads):
        set_grads(ours, theirs, grad, step)
        our_opt.step()
        their_opt.step()
    for a, b in zip(ours, theirs):
        assert a._data.dtype == np.float32
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for entries in our_opt.state_dict()["state"].values():
        assert all(np.asarray(v).dtype == np.float32 for v in entries.values())


def test_added_param_group_and_closure_match_pytorch():
    starts, grads = problem(2)
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in starts]
    our_opt = optim.RMSprop(ours[:2], lr=0.01, momentum=0.5)
    their_opt = torch.optim.RMSprop(theirs[:2], lr=0.01, momentum=0.5)
    our_opt.add_param_group({"params": ours[2:], "centered": True, "lr": 0.03})
    their_opt.add_param_group({"params": theirs[2:], "centered": True, "lr": 0.03})
    for step, grad in enumerate(grads):
        def our_closure(grad=grad, step=step):
            set_grads(ours, None, grad, step)
            return 1.5

        def their_closure(grad=grad, step=step):
            set_grads(None, theirs, grad, step)
            return 1.5

        assert our_opt.step(our_closure) == their_opt.step(their_closure) == 1.5
    assert_same_params(ours, theirs, "after the steps")
    assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "NAdam", "RAdam", "Adamax"])
def test_constructor_defaults_and_signature_are_pytorchs(name):
    import inspect

    ours = inspect.signature(getattr(optim, name))
    theirs = inspect.signature(getattr(torch.optim, name))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()]
    our_opt = getattr(optim, name)([nn.Parameter(np.zeros(2))])
    their_param = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    their_opt = getattr(torch.optim, name)([their_param])
    assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_matches_pytorch(set_to_none):
    ours, theirs = nn.Parameter(np.ones(3)), torch.nn.Parameter(torch.ones(3))
    ours.grad, theirs.grad = Tensor(np.full(3, 2.0)), torch.full((3,), 2.0)
    optim.Adagrad([ours]).zero_grad(set_to_none)
    torch.optim.Adagrad([theirs]).zero_grad(set_to_none)
    if set_to_none:
        assert ours.grad is None and theirs.grad is None
    else:
        np.testing.assert_array_equal(np.asarray(ours.grad), theirs.grad.numpy())


INVALID = [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.1)),
    ("AdamW", dict(lr=float("nan"))), ("AdamW", dict(betas=(0.9, 1.0))),
    ("RMSprop", dict(lr=-0.1)), ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-0.5)),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(rho=-0.1)),
    ("Adadelta", dict(eps=-1)), ("Adadelta", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1)), ("NAdam", dict(eps=-1)), ("NAdam", dict(betas=(1.0, 0.9))),
    ("NAdam", dict(betas=(0.9, 1.5))), ("NAdam", dict(weight_decay=-1)),
    ("NAdam", dict(momentum_decay=-0.1)),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(eps=-1)), ("RAdam", dict(betas=(-0.1, 0.9))),
    ("RAdam", dict(betas=(0.9, 1.0))), ("RAdam", dict(weight_decay=-1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -1.0))), ("Adamax", dict(weight_decay=-1)),
]


@pytest.mark.parametrize("name, options", INVALID)
def test_invalid_options_raise_pytorchs_value_error(name, options):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))], **options)
    message = str(theirs.value)
    if "Nesterov" in message:
        message = "Nesterov momentum requires a momentum and zero dampening"
    with pytest.raises(ValueError, match=f"^{name}: " + message.replace("(", r"\(")
                       .replace(")", r"\)")):
        getattr(optim, name)([nn.Parameter(np.zeros(1))], **options)


def test_non_numeric_options_are_type_errors():
    with pytest.raises(TypeError, match="RMSprop: alpha value must be a number"):
        optim.RMSprop([nn.Parameter(np.zeros(1))], alpha="0.9")
    with pytest.raises(TypeError, match="Adam: amsgrad must be a bool"):
        optim.Adam([nn.Parameter(np.zeros(1))], amsgrad="yes")


def test_loading_amsgrad_state_needs_its_maximum_and_changes_nothing():
    params = [nn.Parameter(np.ones(2))]
    params[0].grad = Tensor(np.ones(2))
    opt = optim.Adam(params, amsgrad=True)
    opt.step()
    saved = opt.state_dict()
    del saved["state"][0]["max_exp_avg_sq"]
    saved["param_groups"][0]["lr"] = 0.5
    with pytest.raises(ValueError, match="parameter 0: missing 'max_exp_avg_sq'"):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 1e-3


def test_nadam_mu_product_loads_as_pytorchs_float32_scalar_and_is_checked():
    params = [nn.Parameter(np.ones(2))]
    params[0].grad = Tensor(np.ones(2))
    opt = optim.NAdam(params)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["mu_product"] = np.float64(0.5)
    opt.load_state_dict(saved)
    mu_product = opt.state[params[0]]["mu_product"]
    assert isinstance(mu_product, Tensor) and mu_product._data.dtype == np.float32
    assert mu_product.shape == () and float(mu_product) == 0.5
    saved["state"][0]["mu_product"] = np.ones(2)
    with pytest.raises(ValueError, match="parameter 0: 'mu_product' must be a 0-d number"):
        opt.load_state_dict(saved)
    del saved["state"][0]["mu_product"]
    with pytest.raises(ValueError, match="parameter 0: missing 'mu_product'"):
        opt.load_state_dict(saved)


# ------------------------------------------------------------------ schedulers

def lambda_lr(opt, lib):
    return lib.LambdaLR(opt, lr_lambda=lambda epoch: 0.95 ** epoch + 0.01 * (epoch % 3))


def lambda_lr_per_group(opt, lib):
    return lib.LambdaLR(opt, lr_lambda=[lambda e: 1 / (1 + e), lambda e: 0.9 ** e])


def sequential(opt, lib):
    warmup = lib.LinearLR(opt, start_factor=0.1, total_iters=4)
    decay = lib.MultiStepLR(opt, milestones=[5, 9], gamma=0.5)
    cosine = lib.CosineAnnealingLR(opt, T_max=6, eta_min=0.001)
    return lib.SequentialLR(opt, schedulers=[warmup, decay, cosine], milestones=[5, 15])


def sequential_exponential(opt, lib):
    return lib.SequentialLR(opt, [lib.ExponentialLR(opt, gamma=0.9),
                                  lib.StepLR(opt, step_size=3, gamma=0.3)], milestones=[7])


def multiplicative(opt, lib):
    return lib.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.9 + 0.05 * (epoch % 3))


def multiplicative_per_group(opt, lib):
    return lib.MultiplicativeLR(opt, lr_lambda=[lambda e: 0.95, lambda e: 1 / (1 + 0.1 * e)])


class Halving:
    """A callable object as CyclicLR's scale_fn: its attributes go into the state dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base ** x


def cyclic_custom(opt, lib):
    return lib.CyclicLR(opt, base_lr=[0.01, 0.02], max_lr=0.3, step_size_up=3,
                        step_size_down=5, scale_fn=Halving(0.9), scale_mode="iterations",
                        base_momentum=[0.7, 0.75], max_momentum=0.95)


def chained(opt, lib):
    return lib.ChainedScheduler([lib.ConstantLR(opt, factor=0.5, total_iters=4),
                                 lib.ExponentialLR(opt, gamma=0.9)])


def chained_cyclic(opt, lib):
    return lib.ChainedScheduler([lib.CyclicLR(opt, 0.01, 0.2, step_size_up=4),
                                 lib.PolynomialLR(opt, total_iters=20, power=2.0)],
                                optimizer=opt)


SCHEDULERS = [
    ("StepLR", dict(step_size=3)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20])),
    ("MultiStepLR", dict(milestones=[10, 2], gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.5, total_iters=12)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=20)),
    ("LambdaLR", lambda_lr),
    ("LambdaLR", lambda_lr_per_group),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.1], epochs=3, steps_per_epoch=11,
                        anneal_strategy="linear", pct_start=0.4)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=40, three_phase=True, div_factor=10.0,
                        final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=31, three_phase=True,
                        anneal_strategy="linear", cycle_momentum=False)),
    ("SequentialLR", sequential),
    ("SequentialLR", sequential_exponential),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    # periods and counts of any size, and LinearLR's total_iters=0, as PyTorch
    ("StepLR", dict(step_size=10**20)),
    ("CosineAnnealingLR", dict(T_max=10**20)),
    ("LinearLR", dict(start_factor=0.5, total_iters=0)),
    ("LinearLR", dict(start_factor=0.5, total_iters=10**20)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=7)),
    ("ConstantLR", dict(factor=0.5, total_iters=0)),
    ("MultiplicativeLR", multiplicative),
    ("MultiplicativeLR", multiplicative_per_group),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=20, power=0.5)),
    ("PolynomialLR", dict(total_iters=0, power=2.0)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=[0.2, 0.1], step_size_up=3,
                      step_size_down=2, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2.5, mode="exp_range",
                      gamma=0.9, base_momentum=0.6, max_momentum=0.85)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=0,
                      cycle_momentum=False)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=-3, step_size_down=7)),
    ("ConstantLR", dict(factor=0.5, total_iters=-2)),
    ("PolynomialLR", dict(total_iters=-1)),
    ("CyclicLR", cyclic_custom),
    ("ChainedScheduler", chained),
    ("ChainedScheduler", chained_cyclic),
]
SCHEDULER_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULERS)]
OPTIMIZER_FOR = {"SGD": dict(lr=0.5, momentum=0.9), "Adam": dict(lr=0.5),
                 "RMSprop": dict(lr=0.5, momentum=0.3)}


def make_scheduler(lib, opt, name, options):
    if callable(options):
        return options(opt, lib)
    return getattr(lib, name)(opt, **options)


def scheduler_pair(name, options, optimizer="SGD"):
    """The scheduler on an optimizer of two groups (lr 0.5 and 0.1), in both libraries."""
    ours = [nn.Parameter(np.zeros(1)) for _ in range(2)]
    theirs = [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in range(2)]
    our_opt = getattr(optim, optimizer)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.1}],
                                        **OPTIMIZER_FOR[optimizer])
    their_opt = getattr(torch.optim, optimizer)(
        [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.1}], **OPTIMIZER_FOR[optimizer])
    return (make_scheduler(lr_scheduler, our_opt, name, options),
            make_scheduler(torch.optim.lr_scheduler, their_opt, name, options))


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def assert_same_schedule(ours, theirs, epochs):
    for epoch in range(epochs):
        # (a ChainedScheduler has no last_epoch of its own, as PyTorch's)
        assert getattr(ours, "last_epoch", None) == getattr(theirs, "last_epoch", None)
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12,
                                   atol=1e-15, err_msg=f"epoch {epoch}")
        for our_group, their_group in zip(ours.optimizer.param_groups,
                                          theirs.optimizer.param_groups):
            assert our_group["lr"] == pytest.approx(their_group["lr"], rel=1e-12, abs=1e-15)
            assert momentum_of(our_group) == pytest.approx(momentum_of(their_group), rel=1e-12)
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name, options", SCHEDULERS, ids=SCHEDULER_IDS)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
def test_scheduler_lr_sequence_matches_pytorch(name, options, optimizer):
    ours, theirs = scheduler_pair(name, options, optimizer)
    assert_same_schedule(ours, theirs, 12)
    # Save in the middle, restore into a fresh scheduler on a fresh optimizer, continue.
    saved = ours.state_dict()
    assert sorted(saved) == sorted(theirs.state_dict())
    copy_ours, copy_theirs = scheduler_pair(name, options, optimizer)
    copy_ours.optimizer.load_state_dict(ours.optimizer.state_dict())
    copy_theirs.optimizer.load_state_dict(theirs.optimizer.state_dict())
    copy_ours.load_state_dict(copy.deepcopy(saved))
    copy_theirs.load_state_dict(theirs.state_dict())
    epochs = 30 - 12 if name != "OneCycleLR" else ours.total_steps - 12
    assert_same_schedule(copy_ours, copy_theirs, epochs)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name, options", SCHEDULERS, ids=SCHEDULER_IDS)
def test_state_dicts_cross_between_the_libraries(name, options):
    ours, theirs = scheduler_pair(name, options, "Adam")
    assert_same_schedule(ours, theirs, 9)
    # PyTorch's scheduler state into ours, ours into PyTorch's; both carry on alike.
    into_ours, into_theirs = scheduler_pair(name, options, "Adam")
    into_ours.optimizer.load_state_dict(to_ours(theirs.optimizer.state_dict()))
    into_theirs.optimizer.load_state_dict(to_torch(ours.optimizer.state_dict()))
    into_ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    into_theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    epochs = 20 if name != "OneCycleLR" else ours.total_steps - 9
    assert_same_schedule(into_ours, into_theirs, epochs)


def to_ours(state_dict):
    return {"state": {i: {k: v.numpy() for k, v in s.items()}
                      for i, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}


@pytest.mark.parametrize("name, options", [
    ("StepLR", dict(step_size=3)), ("MultiStepLR", dict(milestones=[2, 5, 5])),
    ("ExponentialLR", dict(gamma=0.8)), ("LinearLR", dict(total_iters=4)),
    ("CosineAnnealingLR", dict(T_max=5)), ("LambdaLR", lambda_lr),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=8, power=1.5))])
def test_step_with_an_epoch_jumps_by_the_closed_form_with_a_warning(name, options):
    ours, theirs = scheduler_pair(name, options)
    ours.optimizer.step()
    theirs.optimizer.step()
    for epoch in (3, 7, 1, 6, 6, 12):
        with pytest.warns(UserWarning, match="epoch parameter"):
            ours.step(epoch)
        with pytest.warns(UserWarning):
            theirs.step(epoch)
        assert ours.last_epoch == theirs.last_epoch == epoch
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("options", [dict(T_0=3), dict(T_0=2, T_mult=3, eta_min=0.05)])
def test_warm_restarts_stepped_by_fractional_epochs_follow_pytorch(options):
    """SGDR's per-batch idiom, ``scheduler.step(epoch + i / iters)``, then plain steps and a
    jump, as PyTorch's ``CosineAnnealingWarmRestarts`` (which does not warn on an epoch)."""
    ours, theirs = scheduler_pair("CosineAnnealingWarmRestarts", options)
    epochs = [epoch + i / 5 for epoch in range(9) for i in range(5)] + [None, None, 26, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in epochs:
            ours.optimizer.step()
            theirs.optimizer.step()
            ours.step(epoch)
            theirs.step(epoch)
            assert (ours.last_epoch, ours.T_i) == (theirs.last_epoch, theirs.T_i)
            assert ours.T_cur == pytest.approx(theirs.T_cur, rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
    with pytest.raises(ValueError, match="^CosineAnnealingWarmRestarts: epoch must be >= 0"):
        ours.step(-1)
    with pytest.raises(ValueError):
        theirs.step(-1)


HOLDING = ("SequentialLR", "ChainedScheduler")  # state dicts holding other schedulers'


@pytest.mark.parametrize("name, options", [s for s in SCHEDULERS if s[0] not in HOLDING],
                         ids=[i for i, s in zip(SCHEDULER_IDS, SCHEDULERS)
                              if s[0] not in HOLDING])
def test_scheduler_state_dict_matches_pytorchs(name, options):
    ours, theirs = scheduler_pair(name, options)
    for _ in range(5):
        ours.optimizer.step()
        ours.step()
        theirs.optimizer.step()
        theirs.step()
    mine, yours = ours.state_dict(), theirs.state_dict()
    assert sorted(mine) == sorted(yours)
    for key, value in yours.items():
        if key == "milestones":
            assert dict(mine[key]) == dict(value)
        elif key in ("_schedulers", "_schedule_phases", "lr_lambdas", "_scale_fn_custom"):
            assert mine[key] == value
        elif isinstance(value, float):
            assert mine[key] == pytest.approx(value, rel=1e-12), key
        elif isinstance(value, list):
            np.testing.assert_allclose(mine[key], value, rtol=1e-12, err_msg=key)
        else:
            assert mine[key] == value, key


def test_sequential_state_dict_holds_its_schedulers_like_pytorchs():
    ours, theirs = scheduler_pair("SequentialLR", sequential)
    for _ in range(7):
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()
    mine, yours = ours.state_dict(), theirs.state_dict()
    assert sorted(mine) == sorted(yours)
    assert [sorted(s) for s in mine["_schedulers"]] == [sorted(s) for s in yours["_schedulers"]]
    assert [s["last_epoch"] for s in mine["_schedulers"]] == [
        s["last_epoch"] for s in yours["_schedulers"]]


def test_lambda_lr_state_dict_leaves_functions_out_and_keeps_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    for lib, opt in ((lr_scheduler, optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)),
                     (torch.optim.lr_scheduler,
                      torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))):
        opt.add_param_group({"params": [nn.Parameter(np.zeros(1)) if lib is lr_scheduler
                                        else torch.nn.Parameter(torch.zeros(1))]})
        scheduler = lib.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
        saved = scheduler.state_dict()
        assert saved["lr_lambdas"] == [None, {"rate": 0.5}]
        fresh = lib.LambdaLR(opt, [lambda e: 2.0, Decay(0.9)])
        fresh.load_state_dict(saved)
        assert fresh.lr_lambdas[1].rate == 0.5


PLATEAU = [
    dict(),
    dict(patience=10**20, cooldown=10**20),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=2, min_lr=0.05),
    dict(mode="max", patience=0, threshold=0.05, threshold_mode="rel", min_lr=[0.1, 0.001],
         eps=1e-3),
    dict(factor=0.7, patience=3, cooldown=1, eps=0.02),
]


@pytest.mark.parametrize("options", PLATEAU)
def test_reduce_lr_on_plateau_follows_pytorch_on_a_metric_sequence(options):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1, 0.5, 6), 0.5 + 0.02 * rng.standard_normal(30),
                              np.linspace(0.5, 0.2, 6), np.full(8, 0.2)])
    ours, theirs = scheduler_pair("ReduceLROnPlateau", options)
    for index, metric in enumerate(metrics):
        ours.step(metric if index % 2 else Tensor(metric))
        theirs.step(torch.tensor(metric) if index % 2 else metric)
        assert ours.get_last_lr() == theirs.get_last_lr(), index
        assert (ours.last_epoch, ours.num_bad_epochs, ours.cooldown_counter, ours.best) == (
            theirs.last_epoch, theirs.num_bad_epochs, theirs.cooldown_counter, theirs.best)
        if index == 20:
            saved = ours.state_dict()
            assert sorted(saved) == sorted(theirs.state_dict())
            restored, _ = scheduler_pair("ReduceLROnPlateau", options)
            restored.optimizer.load_state_dict(ours.optimizer.state_dict())
            restored.load_state_dict(saved)
            ours = restored
    assert [g["lr"] for g in ours.optimizer.param_groups] == [
        g["lr"] for g in theirs.optimizer.param_groups]


SCHEDULER_ERRORS = [
    ("LinearLR", dict(start_factor=0)),
    ("LinearLR", dict(start_factor=1.5)),
    ("LinearLR", dict(end_factor=-0.1)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1.0] * 3)),
    ("OneCycleLR", dict(max_lr=1.0)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=0)),
    ("OneCycleLR", dict(max_lr=1.0, epochs=0, steps_per_epoch=2)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10, pct_start=1.5)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10, anneal_strategy="square")),
    ("OneCycleLR", dict(max_lr=[1.0, 2.0, 3.0], total_steps=10)),
    ("ReduceLROnPlateau", dict(factor=1.0)),
    ("ReduceLROnPlateau", dict(mode="middle")),
    ("ReduceLROnPlateau", dict(threshold_mode="log")),
    ("ReduceLROnPlateau", dict(min_lr=[0.1])),
    ("SequentialLR", dict(schedulers=[], milestones=[])),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=-2)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, eta_min="0.1")),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, eta_min=None)),
    # PyTorch's type, whatever raised it: a TypeError for a value of the wrong kind...
    ("ReduceLROnPlateau", dict(mode=3)),
    ("ReduceLROnPlateau", dict(threshold_mode=None)),
    ("OneCycleLR", dict(max_lr=None, total_steps=10)),
    ("OneCycleLR", dict(max_lr="1.0", total_steps=10)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps="10")),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10, pct_start=None)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10, pct_start=[0.3])),
    # ... a ValueError for a string pct_start (float() of it) and a float total_steps ...
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10, pct_start="0.3")),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10.0)),
    ("ConstantLR", dict(factor=1.5)),
    ("ConstantLR", dict(factor=-0.1)),
    ("ConstantLR", dict(factor="0.5")),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 1.0] * 3)),
    ("MultiplicativeLR", dict(lr_lambda=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, mode="cosine")),
    ("CyclicLR", dict(base_lr=[0.01], max_lr=0.1)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2, 0.3])),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=None)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=0)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, base_momentum=[0.8])),
]


@pytest.mark.parametrize("name, options", SCHEDULER_ERRORS)
def test_invalid_scheduler_arguments_raise_as_pytorch(name, options):
    ours, theirs = scheduler_pair("StepLR", dict(step_size=1))
    with pytest.raises(Exception) as their_error:
        getattr(torch.optim.lr_scheduler, name)(theirs.optimizer, **options)
    with pytest.raises(type(their_error.value)):
        getattr(lr_scheduler, name)(ours.optimizer, **options)


@pytest.mark.parametrize("name, options", [("StepLR", dict(step_size=0)),
                                           ("CosineAnnealingLR", dict(T_max=0))])
def test_a_zero_period_is_pytorchs_zero_division_error_when_the_scheduler_is_built(name,
                                                                                  options):
    ours, theirs = scheduler_pair("StepLR", dict(step_size=1))
    scheduler = getattr(torch.optim.lr_scheduler, name)(theirs.optimizer, **options)
    theirs.optimizer.step()
    with pytest.raises(ZeroDivisionError):  # PyTorch: at the first step, on epoch % 0
        scheduler.step()
    with pytest.raises(ZeroDivisionError, match=f"^{name}: .* must be >= 1, got 0"):
        getattr(lr_scheduler, name)(ours.optimizer, **options)
    with pytest.raises(ValueError):
        getattr(lr_scheduler, name)(ours.optimizer, **options)


@pytest.mark.parametrize("name, options", [
    ("StepLR", dict(step_size=0)), ("CosineAnnealingLR", dict(T_max=0)),
    ("ReduceLROnPlateau", dict(mode=None)), ("OneCycleLR", dict(max_lr=None, total_steps=9))])
def test_scheduler_errors_name_the_scheduler_and_the_argument(name, options):
    ours, _ = scheduler_pair("StepLR", dict(step_size=1))
    argument = [key for key in options if key != "total_steps"][0]
    with pytest.raises((TypeError, ValueError), match=f"^{name}: {argument} must be"):
        getattr(lr_scheduler, name)(ours.optimizer, **options)


@pytest.mark.parametrize("options, error", [
    (dict(betas=(0.9,)), IndexError), (dict(betas=()), IndexError),
    (dict(betas=None), TypeError), (dict(betas=0.9), TypeError),
    (dict(initial_accumulator_value=1e300), RuntimeError)])
def test_optimizer_errors_have_pytorchs_type_and_name_the_argument(options, error):
    name = "Adagrad" if "initial_accumulator_value" in options else "Adam"
    with pytest.raises(error):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))], **options)
    argument = next(iter(options))
    with pytest.raises(error, match=f"^{name}: {argument} must"):
        getattr(optim, name)([nn.Parameter(np.zeros(2, np.float32))], **options)
    if error is IndexError:  # a wrong number of values is also a TypeError here
        with pytest.raises(TypeError):
            getattr(optim, name)([nn.Parameter(np.zeros(2, np.float32))], **options)


def test_adagrad_accepts_a_large_accumulator_its_dtype_can_hold():
    optim.Adagrad([nn.Parameter(np.zeros(2))], initial_accumulator_value=1e300)  # float64
    with pytest.raises(RuntimeError, match="float32"):
        optim.Adagrad([nn.Parameter(np.zeros(2, np.float32))], initial_accumulator_value=1e39)


def test_stepping_the_scheduler_before_the_optimizer_warns_as_pytorch():
    ours, theirs = scheduler_pair("StepLR", dict(step_size=2))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        theirs.step()
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        ours.step()
    ours, theirs = scheduler_pair("StepLR", dict(step_size=2))
    ours.optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours.step()
        ours.step()


def test_one_cycle_needs_momentum_and_refuses_steps_past_the_end():
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([nn.Parameter(np.zeros(1))]), max_lr=1.0,
                                total_steps=5)
    scheduler = lr_scheduler.OneCycleLR(optim.SGD([nn.Parameter(np.zeros(1))], momentum=0.9),
                                        max_lr=1.0, total_steps=3)
    scheduler.optimizer.step()
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_new_scheduler_errors_name_the_scheduler():
    ours, _ = scheduler_pair("StepLR", dict(step_size=1))
    opt = ours.optimizer
    with pytest.raises(ValueError, match="^ConstantLR: Constant multiplicative factor"):
        lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(TypeError, match="^MultiplicativeLR: lr_lambda should be a function"):
        lr_scheduler.MultiplicativeLR(opt, lr_lambda=0.9)
    with pytest.raises(ValueError, match="^CyclicLR: mode is invalid"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="cosine")
    for up, down in ((0, None), (0, 3), (2, -2)):
        with pytest.raises(ZeroDivisionError):
            torch_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], momentum=0.9)
            torch.optim.lr_scheduler.CyclicLR(torch_opt, 0.01, 0.1, up, down)
        with pytest.raises(ZeroDivisionError, match="^CyclicLR: step_size_up must be > 0"):
            lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=up, step_size_down=down)
    with pytest.raises(ValueError, match="^CyclicLR: optimizer must support momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([nn.Parameter(np.zeros(1))]), 0.01, 0.1)
    with pytest.raises(TypeError, match="^PolynomialLR: power must be"):
        lr_scheduler.PolynomialLR(opt, power=None)


def test_chained_scheduler_checks_its_schedulers_as_pytorch():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    other = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    their_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    their_other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    T = torch.optim.lr_scheduler
    cases = [
        (lambda: lr_scheduler.ChainedScheduler([]), lambda: T.ChainedScheduler([]),
         ValueError, "at least one scheduler"),
        (lambda: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)]),
         lambda: T.ChainedScheduler([T.ReduceLROnPlateau(their_opt)]),
         ValueError, "ReduceLROnPlateau"),
        (lambda: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, 2),
                                                lr_scheduler.StepLR(other, 2)]),
         lambda: T.ChainedScheduler([T.StepLR(their_opt, 2), T.StepLR(their_other, 2)]),
         ValueError, "same optimizer"),
        (lambda: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, 2)], optimizer=other),
         lambda: T.ChainedScheduler([T.StepLR(their_opt, 2)], optimizer=their_other),
         ValueError, "same optimizer"),
        (lambda: lr_scheduler.ChainedScheduler([object()]),
         lambda: T.ChainedScheduler([object()]), AttributeError, "optimizer"),
        (lambda: lr_scheduler.ChainedScheduler([object()], optimizer=opt),
         lambda: T.ChainedScheduler([object()], optimizer=their_opt), TypeError, "optimizer"),
    ]
    for ours, theirs, error, message in cases:
        with pytest.raises(error):
            theirs()
        with pytest.raises(error, match=f"^ChainedScheduler.*{message}"):
            ours()


def test_cyclic_state_dict_keeps_a_callable_objects_attributes_as_pytorchs():
    for lib, opt in ((lr_scheduler, optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0,
                                              momentum=0.9)),
                     (torch.optim.lr_scheduler,
                      torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0,
                                      momentum=0.9))):
        scheduler = lib.CyclicLR(opt, 0.1, 1.0, scale_fn=Halving(0.5))
        saved = scheduler.state_dict()
        assert saved["_scale_fn_custom"] == {"base": 0.5}
        assert "_scale_fn_ref" not in saved
        fresh = lib.CyclicLR(opt, 0.1, 1.0, scale_fn=Halving(0.9))
        fresh.load_state_dict(saved)
        assert fresh._scale_fn_custom.base == 0.5
        plain = lib.CyclicLR(opt, 0.1, 1.0, mode="exp_range", gamma=0.5)
        assert plain.state_dict()["_scale_fn_custom"] is None


def test_sequential_rejects_plateau_and_foreign_optimizers():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    other = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(other, 2)], milestones=[])


# ------------------------------------------------------------------ nn.utils

def grads_pair(seed, dtype=np.float64, missing=()):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 1, 3)]
    ours, theirs = [], []
    for index, shape in enumerate(shapes):
        value, grad = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape)
        ours.append(nn.Parameter(value.copy()))
        theirs.append(torch.nn.Parameter(torch.from_numpy(value.copy())))
        if index not in missing:
            ours[-1].grad = Tensor(grad.astype(dtype))
            theirs[-1].grad = torch.from_numpy(grad.astype(dtype))
    return ours, theirs


def grad_of(p):
    return None if p.grad is None else np.asarray(p.grad._data if isinstance(p.grad, Tensor)
                                                  else p.grad)


@pytest.mark.parametrize("max_norm", [0.5, 1.0, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("missing", [(), (1,)])
def test_clip_grad_norm_matches_pytorch(max_norm, norm_type, missing):
    ours, theirs = grads_pair(0, missing=missing)
    our_norm = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(our_norm, Tensor) and our_norm.shape == ()
    assert our_norm.dtype == np.float64
    np.testing.assert_allclose(our_norm._data, their_norm.numpy(), **TIGHT)
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_allclose(grad_of(a), b.grad.numpy(), **TIGHT)


def test_clip_grad_norm_of_one_tensor_a_generator_float32_and_no_grads():
    ours, theirs = grads_pair(1, dtype=np.float32)
    our_norm = nn.utils.clip_grad_norm_(ours[0], 0.1)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    assert our_norm.dtype == np.float32
    np.testing.assert_allclose(our_norm._data, their_norm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad_of(ours[0]), theirs[0].grad.numpy(), rtol=1e-6)
    our_norm = nn.utils.clip_grad_norm_((p for p in ours), 0.1, foreach=False)
    their_norm = torch.nn.utils.clip_grad_norm_((p for p in theirs), 0.1, foreach=False)
    np.testing.assert_allclose(our_norm._data, their_norm.numpy(), rtol=1e-6)
    empty = nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0)
    assert empty._data == 0.0 and empty.dtype == np.float32


def test_clip_grad_norm_of_a_nonfinite_norm():
    ours, theirs = grads_pair(2)
    ours[0].grad._data[0, 0] = np.inf
    theirs[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    our_norm = nn.utils.clip_grad_norm_(ours, 1.0)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isinf(our_norm._data) and np.isinf(their_norm.numpy())
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(grad_of(a), b.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.3, 1, 5.0])
def test_clip_grad_value_matches_pytorch(clip_value):
    ours, theirs = grads_pair(3, missing=(2,))
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_array_equal(grad_of(a), b.grad.numpy())
    nn.utils.clip_grad_value_(ours[0], 0.1, foreach=None)
    assert np.abs(grad_of(ours[0])).max() <= 0.1


def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = grads_pair(4)
    our_vec = nn.utils.parameters_to_vector(ours)
    their_vec = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(our_vec._data, their_vec.detach().numpy())
    assert our_vec.requires_grad and our_vec.shape == (23,)
    # Gradients flow back to the parameters through the vector, as in PyTorch.
    weights = np.arange(23.0)
    for p in ours:
        p.grad = None
    (our_vec * Tensor(weights)).sum().backward()
    np.testing.assert_array_equal(np.concatenate([grad_of(p).ravel() for p in ours]), weights)

    new = np.linspace(-1, 1, 23)
    nn.utils.vector_to_parameters(Tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a._data, b.detach().numpy())
    with pytest.raises(TypeError, match="expected Tensor"):
        nn.utils.vector_to_parameters(new, ours)
    with pytest.raises(RuntimeError, match="vector_to_parameters"):
        nn.utils.vector_to_parameters(Tensor(np.zeros(22)), ours)


# ------------------------------------------------------------------ random hyper-parameters

rate, fraction = st.floats(1e-4, 0.5), st.floats(0.0, 0.99)
flag, decay = st.booleans(), st.sampled_from([0, 1e-3, 0.1])
RANDOM_OPTIONS = {
    "SGD": st.fixed_dictionaries({"lr": rate, "momentum": fraction, "weight_decay": decay,
                                  "maximize": flag}),
    "Adam": st.fixed_dictionaries({"lr": rate, "betas": st.tuples(fraction, fraction),
                                   "eps": st.floats(1e-10, 1e-2), "weight_decay": decay,
                                   "amsgrad": flag, "maximize": flag,
                                   "decoupled_weight_decay": flag}),
    # alpha near 0 with centered=True makes v - m*m a rounding error around 0, whose sign
    # (so NaN or not) depends on PyTorch's fused multiply-add.
    "RMSprop": st.fixed_dictionaries({"lr": rate, "alpha": st.floats(0.5, 0.999),
                                      "momentum": fraction,
                                      "centered": flag, "weight_decay": decay,
                                      "eps": st.floats(1e-8, 1e-2)}),
    "Adagrad": st.fixed_dictionaries({"lr": rate, "lr_decay": st.floats(0, 1),
                                      "initial_accumulator_value": st.floats(0, 1),
                                      "weight_decay": decay, "eps": st.floats(1e-10, 1e-2)}),
    "Adadelta": st.fixed_dictionaries({"lr": st.floats(1e-3, 2), "rho": fraction,
                                       "eps": st.floats(1e-8, 1e-2), "weight_decay": decay}),
    "NAdam": st.fixed_dictionaries({"lr": rate, "betas": st.tuples(fraction, fraction),
                                    "eps": st.floats(1e-10, 1e-2), "weight_decay": decay,
                                    "momentum_decay": st.floats(0, 0.5), "maximize": flag,
                                    "decoupled_weight_decay": flag}),
    "RAdam": st.fixed_dictionaries({"lr": rate, "betas": st.tuples(fraction, fraction),
                                    "eps": st.floats(1e-10, 1e-2), "weight_decay": decay,
                                    "maximize": flag, "decoupled_weight_decay": flag}),
    "Adamax": st.fixed_dictionaries({"lr": rate, "betas": st.tuples(fraction, fraction),
                                     "eps": st.floats(1e-10, 1e-2), "weight_decay": decay,
                                     "maximize": flag}),
}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(RANDOM_OPTIONS))
def test_random_hyper_parameters_match_pytorch(name, data, seed):
    options = data.draw(RANDOM_OPTIONS[name])
    starts, grads = problem(seed)
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in starts]
    our_opt = getattr(optim, name)(ours, **options)
    their_opt = getattr(torch.optim, name)(theirs, **options)
    for step in range(6):
        set_grads(ours, theirs, grads[step], step)
        our_opt.step()
        their_opt.step()
    assert_same_params(ours, theirs, str(options))
    assert_same_state_dict(our_opt.state_dict(), their_opt.state_dict())


# ------------------------------------------------------------------ a training loop, both libraries

def train(lib, F, weights, steps=25):
    """The same PyTorch-spelled loop: a small MLP, AdamW, OneCycleLR, gradient clipping."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1)).double()
    model.load_state_dict({k: lib_tensor(lib, v) for k, v in weights.items()})
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)
    scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=steps)
    losses, norms = [], []
    inputs, targets = lib_tensor(lib, x), lib_tensor(lib, y)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        norms.append(float(lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)))
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    vector = lib.nn.utils.parameters_to_vector(model.parameters())
    return losses, norms, np.array(vector.detach().numpy())


def lib_tensor(lib, array):
    return torch.from_numpy(np.array(array)) if lib is torch else Tensor(np.array(array))


def test_a_pytorch_training_loop_runs_alike_in_both_libraries():
    import tinygrad_cnn
    import tinygrad_cnn.functional as our_F

    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                    torch.nn.Linear(8, 1)).double()
    weights = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    ours = train(tinygrad_cnn, our_F, weights)
    theirs = train(torch, torch.nn.functional, weights)
    for mine, yours in zip(ours, theirs):
        np.testing.assert_allclose(mine, yours, rtol=1e-9, atol=1e-12)
    assert ours[0][-1] < ours[0][0]


def _state_dict_by_reference(lib, optim_mod, make_param):
    """The same PyTorch-spelled code, run with ``lib`` (torch or us)."""
    p = make_param()
    opt = optim_mod.SGD([p], lr=0.1, momentum=0.9)
    p.grad = lib.ones(3, dtype=lib.float64)
    opt.step()
    sd = opt.state_dict()
    first = sd["state"][0]["momentum_buffer"].clone()
    opt.step()
    later = sd["state"][0]["momentum_buffer"]  # the optimizer's own buffer: sees the step
    adam = optim_mod.Adam([p], lr=0.1)
    adam.step()
    step = adam.state[p]["step"]
    return {"first": first.numpy(), "later": later.numpy(),
            "same object": later is opt.state[p]["momentum_buffer"],
            "buffer is a tensor": isinstance(later, lib.Tensor),
            "buffer requires grad": later.requires_grad,
            "step": float(step), "step shape": tuple(step.shape),
            "step dtype": str(step.numpy().dtype), "step is a tensor": isinstance(step, lib.Tensor),
            "exp_avg": adam.state[p]["exp_avg"].numpy()}


def test_optimizer_state_is_tensors_and_state_dict_is_by_reference_as_pytorchs():
    import tinygrad_cnn
    theirs = _state_dict_by_reference(
        torch, torch.optim,
        lambda: torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)))
    ours = _state_dict_by_reference(
        tinygrad_cnn, optim, lambda: nn.Parameter(Tensor(np.array([1.0, 2.0, 3.0]))))
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(ours[key], value, **TIGHT, err_msg=key)
        else:
            assert ours[key] == value, key
    assert not np.array_equal(ours["first"], ours["later"])
