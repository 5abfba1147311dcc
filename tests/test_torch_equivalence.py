"""nn and optim against PyTorch: same keys, same outputs, same gradients, same updates.

Everything runs in float64 so the tolerances can be tight.  Skipped without torch.
"""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.optim import lr_scheduler
from tinygrad_cnn.tensor import Tensor

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TIGHT = dict(rtol=1e-10, atol=1e-12)


def build(lib, dropout=0.5, momentum=0.1):
    """The same CNN in either library: 8x8 input -> 3 classes."""
    return lib.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4, momentum=momentum), lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, padding=1, bias=False), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(24, 10), lib.ReLU(), lib.Dropout(dropout), lib.Linear(10, 3),
    )


def pair(dropout=0.5, momentum=0.1, seed=0):
    """A PyTorch model and ours holding PyTorch's weights, both float64."""
    torch.manual_seed(seed)
    theirs = build(torch.nn, dropout, momentum).double()
    ours = build(nn, dropout, momentum).double()
    ours.load_state_dict(theirs.state_dict())  # torch tensors straight in
    return theirs, ours


def images(seed=0, n=5):
    return np.random.default_rng(seed).standard_normal((n, 1, 8, 8))


def to_torch(state):
    return {key: torch.from_numpy(np.asarray(value)) for key, value in state.items()}


# ------------------------------------------------------------------ models

def test_state_dict_keys_and_shapes_match():
    theirs, ours = build(torch.nn), build(nn)
    assert {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == {
        k: v.shape for k, v in ours.state_dict().items()}
    assert list(theirs.state_dict()) == list(ours.state_dict())


def test_dtypes_of_the_state_match():
    theirs, ours = build(torch.nn), build(nn)
    for key, value in theirs.state_dict().items():
        assert str(value.dtype).replace("torch.", "") == str(ours.state_dict()[key].dtype)


def test_repr_matches():
    assert repr(build(nn)) == repr(build(torch.nn))


def test_eval_outputs_match_with_pytorch_weights():
    theirs, ours = pair()
    x = images()
    theirs.eval(), ours.eval()
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, **TIGHT)


def test_train_outputs_match_with_pytorch_weights():
    theirs, ours = pair(dropout=0.0)
    x = images()
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, **TIGHT)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradients_match(mode):
    theirs, ours = pair(dropout=0.0)
    getattr(theirs, mode)(), getattr(ours, mode)()
    x = images()
    target = np.array([0, 2, 1, 1, 0])
    x_theirs = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.cross_entropy(theirs(x_theirs), torch.from_numpy(target)).backward()
    x_ours = Tensor(x, requires_grad=True)
    F.cross_entropy(ours(x_ours), target).backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **TIGHT)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), **TIGHT,
                                   err_msg=name)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_match_after_several_steps(momentum):
    theirs, ours = pair(dropout=0.0, momentum=momentum)
    for seed in range(4):
        x = images(seed)
        theirs(torch.from_numpy(x))
        ours(Tensor(x))
    reference = theirs.state_dict()
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        np.testing.assert_allclose(ours.state_dict()[key], reference[key].numpy(), **TIGHT)


def test_our_state_dict_loads_into_pytorch_by_array_conversion():
    tg.manual_seed(1)
    ours = build(nn).double()
    for _ in range(2):
        ours(Tensor(images()))  # move the running statistics off their start
    theirs = build(torch.nn).double()
    theirs.load_state_dict(to_torch(ours.state_dict()))
    ours.eval(), theirs.eval()
    x = images(seed=3)
    np.testing.assert_allclose(ours(Tensor(x)).data,
                               theirs(torch.from_numpy(x)).detach().numpy(), **TIGHT)


@pytest.mark.parametrize("shape", [(5, 3), (8, 3, 3, 3), (6, 2, 5), (4, 2, 3, 3)])
def test_fan_in_and_fan_out_match(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert nn.init.calculate_fan_in_and_fan_out(tg.zeros(*shape)) == expected


def test_transposed_conv_weight_shape_and_init_bound_match():
    theirs = torch.nn.ConvTranspose2d(6, 4, 3, groups=2)
    ours = nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert tuple(theirs.weight.shape) == ours.weight.shape
    bound = 1 / np.sqrt(2 * 9)  # fan_in from weight.shape[1] * kH * kW
    assert theirs.weight.abs().max().item() <= bound and np.abs(ours.weight.data).max() <= bound


# ------------------------------------------------------------------ optimizers

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.99), weight_decay=0.3)),
]


def optimizer_run(name, options, steps=6):
    """Run both libraries' optimizer on the same parameters and gradient sequences.

    Two groups (the second with its own lr); parameter 1 has no gradient on odd steps, so
    both must skip it then.
    """
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal((3, 2)), rng.standard_normal(4), rng.standard_normal(2)]
    grads = [[rng.standard_normal(s.shape) for s in starts] for _ in range(steps)]
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in starts]

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]

    our_opt = getattr(optim, name)(groups(ours), **options)
    their_opt = getattr(torch.optim, name)(groups(theirs), **options)
    for step, grad in enumerate(grads):
        for index, g in enumerate(grad):
            skip = index == 1 and step % 2
            ours[index].grad = None if skip else g.copy()
            theirs[index].grad = None if skip else torch.from_numpy(g.copy())
        our_opt.step()
        their_opt.step()
    return ours, theirs, our_opt, their_opt


@pytest.mark.parametrize("name, options", OPTIMIZERS)
def test_optimizer_steps_match(name, options):
    ours, theirs, _, _ = optimizer_run(name, options)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TIGHT, err_msg=str(index))


@pytest.mark.parametrize("name, options", OPTIMIZERS)
def test_optimizer_state_matches(name, options):
    _, _, our_opt, their_opt = optimizer_run(name, options)
    ours, theirs = our_opt.state_dict()["state"], their_opt.state_dict()["state"]
    assert set(ours) == {i for i, s in theirs.items() if s.get("momentum_buffer", 0) is not None}
    for index, entries in ours.items():
        for key, value in entries.items():
            np.testing.assert_allclose(value, np.asarray(theirs[index][key]), **TIGHT,
                                       err_msg=f"{index}.{key}")


def test_adam_state_dict_moves_to_pytorch_and_continues_alike():
    ours, theirs, our_opt, their_opt = optimizer_run("Adam", dict(lr=0.01))
    saved = our_opt.state_dict()
    converted = {
        "state": {index: {key: torch.tensor(value.numpy()) for key, value in entries.items()}
                  for index, entries in saved["state"].items()},
        "param_groups": saved["param_groups"],
    }
    fresh = [torch.nn.Parameter(p.detach().clone()) for p in theirs]
    fresh_opt = torch.optim.Adam([{"params": fresh[:2]}, {"params": fresh[2:]}], lr=0.01)
    fresh_opt.load_state_dict(converted)
    grad = np.ones((3, 2))
    for opt, params, make in ((their_opt, theirs, torch.from_numpy),
                              (fresh_opt, fresh, torch.from_numpy)):
        opt.zero_grad()
        params[0].grad = make(grad.copy())
        opt.step()
    our_opt.zero_grad()
    ours[0].grad = grad.copy()
    our_opt.step()
    np.testing.assert_allclose(fresh[0].detach().numpy(), theirs[0].detach().numpy(), **TIGHT)
    np.testing.assert_allclose(ours[0].data, theirs[0].detach().numpy(), **TIGHT)


def test_pytorch_sgd_state_dict_loads_into_ours():
    ours, theirs, our_opt, their_opt = optimizer_run("SGD", dict(lr=0.1, momentum=0.9))
    fresh = [nn.Parameter(p.detach().numpy().copy()) for p in theirs]
    fresh_opt = optim.SGD([{"params": fresh[:2]}, {"params": fresh[2:]}], lr=0.1, momentum=0.9)
    fresh_opt.load_state_dict(their_opt.state_dict())
    for p, q in zip(fresh, ours):
        p.grad = np.ones_like(p.data)
        q.grad = np.ones_like(q.data)
    fresh_opt.step()
    our_opt.step()
    for p, q in zip(fresh, ours):
        np.testing.assert_allclose(p.data, q.data, **TIGHT)


def test_pytorch_amsgrad_state_dict_loads_into_ours_and_continues_alike():
    weight = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    their_opt = torch.optim.Adam([weight], amsgrad=True)
    weight.grad = torch.tensor([1.0, -3.0], dtype=torch.float64)
    their_opt.step()
    ours = nn.Parameter(weight.detach().numpy().copy())
    our_opt = optim.Adam([ours])
    our_opt.load_state_dict(their_opt.state_dict())
    assert our_opt.param_groups[0]["amsgrad"] is True
    weight.grad = torch.tensor([0.1, 0.2], dtype=torch.float64)
    ours.grad = np.array([0.1, 0.2])
    their_opt.step()
    our_opt.step()
    np.testing.assert_allclose(ours.data, weight.detach().numpy(), **TIGHT)


def test_pytorch_adamw_state_dict_loads_into_ours_and_continues_alike():
    ours, theirs, our_opt, their_opt = optimizer_run("AdamW", dict(lr=0.01))
    fresh = [nn.Parameter(p.detach().numpy().copy()) for p in theirs]
    fresh_opt = optim.AdamW([{"params": fresh[:2]}, {"params": fresh[2:]}], lr=0.01)
    fresh_opt.load_state_dict(their_opt.state_dict())
    for p, q in zip(fresh, ours):
        p.grad = np.ones_like(p.data)
        q.grad = np.ones_like(q.data)
    fresh_opt.step()
    our_opt.step()
    for p, q in zip(fresh, ours):
        np.testing.assert_allclose(p.data, q.data, **TIGHT)


# ------------------------------------------------------------------ schedulers

SCHEDULERS = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
]


@pytest.mark.parametrize("name, options", SCHEDULERS)
def test_scheduler_lr_sequences_match(name, options):
    ours = getattr(lr_scheduler, name)(optim.SGD([nn.Parameter(np.zeros(1))], lr=0.5), **options)
    their_param = torch.nn.Parameter(torch.zeros(1))
    their_opt = torch.optim.SGD([their_param], lr=0.5)
    theirs = getattr(torch.optim.lr_scheduler, name)(their_opt, **options)
    our_lrs, their_lrs = [ours.get_last_lr()], [theirs.get_last_lr()]
    for _ in range(30):  # past T_max, where cosine annealing turns back up
        ours.optimizer.step()
        their_opt.step()
        ours.step()
        theirs.step()
        our_lrs.append(ours.get_last_lr())
        their_lrs.append(theirs.get_last_lr())
    np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ single layers

LAYERS = [
    ("Conv1d", (2, 4, 3), dict(stride=2, padding=1, dilation=1), (3, 2, 9)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding="valid", dilation=2, groups=2),
     (2, 4, 9, 8)),
    ("Conv2d", (2, 3, 4), dict(padding="same", bias=False), (2, 2, 6, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 4, 5)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 7, 6)),
    ("AvgPool2d", (2,), dict(stride=1, padding=1, count_include_pad=False), (2, 3, 5, 5)),
    ("LPPool2d", (2, 2), dict(), (2, 3, 6, 6)),
    ("LeakyReLU", (0.2,), dict(), (3, 4)),
    ("Sigmoid", (), dict(), (3, 4)),
    ("Tanh", (), dict(), (3, 4)),
    ("Flatten", (0, 1), dict(), (2, 3, 4)),
    ("BatchNorm2d", (3,), dict(momentum=None, affine=False), (4, 3, 2, 2)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name, args, options, shape", LAYERS,
                         ids=[f"{layer[0]}-{i}" for i, layer in enumerate(LAYERS)])
def test_single_layer_outputs_and_gradients_match(name, args, options, shape):
    theirs = getattr(torch.nn, name)(*args, **options).double()
    ours = getattr(nn, name)(*args, **options).double()
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape)
    x_theirs = torch.from_numpy(x).requires_grad_()
    out_theirs = theirs(x_theirs)
    x_ours = Tensor(x, requires_grad=True)
    out_ours = ours(x_ours)
    np.testing.assert_allclose(out_ours.data, out_theirs.detach().numpy(), **TIGHT)
    weights = np.random.default_rng(1).standard_normal(out_ours.shape)
    out_theirs.backward(torch.from_numpy(weights))
    out_ours.backward(weights)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **TIGHT)
    their_params = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, their_params[key].grad.numpy(), **TIGHT,
                                   err_msg=key)
