"""Every layer of issue 10 against PyTorch's from the same state: the same state-dict keys, the
same outputs, the same gradients (input and parameters); containers, hooks, the Module
methods, DataParallel, and a few SGD steps of a model built from these layers."""

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TIGHT = dict(rtol=1e-9, atol=1e-11)
WEIGHT3 = np.array([0.5, 2.0, 1.0])


def _pair(name, *args, **kwargs):
    """The layer ``name`` built in both libraries (numpy arguments become each one's tensor)."""
    def convert(value, make):
        return make(value) if isinstance(value, np.ndarray) else value
    ours = getattr(nn, name)(*[convert(a, tg.Tensor) for a in args],
                             **{k: convert(v, tg.Tensor) for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(*[convert(a, torch.from_numpy) for a in args],
                                     **{k: convert(v, torch.from_numpy)
                                        for k, v in kwargs.items()})
    return ours.double(), theirs.double()


def _same_state(ours, theirs):
    """Copy PyTorch's state into ours (after checking the keys and shapes agree)."""
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})


LAYERS = [  # name, args, kwargs, input shape
    ("ReLU6", (), {}, (3, 4)), ("ELU", (0.7,), {}, (3, 4)), ("GELU", (), {}, (3, 4)),
    ("GELU", (), dict(approximate="tanh"), (3, 4)), ("SiLU", (), {}, (3, 4)),
    ("Mish", (), {}, (3, 4)), ("Hardswish", (), {}, (3, 4)), ("Hardsigmoid", (), {}, (3, 4)),
    ("Hardtanh", (-0.5, 2.0), {}, (3, 4)), ("Softplus", (2.0, 5.0), {}, (3, 4)),
    ("Softmax", (), dict(dim=1), (2, 3, 4)), ("LogSoftmax", (), dict(dim=-1), (2, 3, 4)),
    ("ReLU", (), dict(inplace=True), (3, 4)), ("LeakyReLU", (0.2, True), {}, (3, 4)),
    ("ELU", (), dict(inplace=True), (3, 4)), ("SiLU", (), dict(inplace=True), (3, 4)),
    ("Hardswish", (), dict(inplace=True), (3, 4)), ("ReLU6", (), dict(inplace=True), (3, 4)),
    ("Identity", (54, "unused"), dict(anything=1), (3, 4)),
    ("Unflatten", (1, (2, 3)), {}, (4, 6, 2)), ("Unflatten", (-1, (2, -1)), {}, (4, 6)),
    ("BatchNorm1d", (3,), {}, (5, 3)), ("BatchNorm1d", (3,), dict(affine=False), (4, 3, 6)),
    ("BatchNorm1d", (3,), dict(momentum=None), (4, 3, 2)),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4)), ("LayerNorm", (4,), dict(bias=False), (2, 4)),
    ("LayerNorm", (4,), dict(elementwise_affine=False, eps=1e-3), (2, 3, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5, 2)), ("GroupNorm", (4, 4), dict(affine=False), (2, 4, 3)),
    ("Dropout2d", (0.5,), {}, (2, 3, 4, 4)),  # compared in eval mode: the identity
]


def _run(module, x_array, lib, training=True):
    module.train(training)
    x = (tg.Tensor(x_array, requires_grad=True) if lib is tg
         else torch.tensor(x_array, requires_grad=True))
    out = module(x * 1.0)  # a non-leaf, so inplace layers may overwrite it in both libraries
    return x, out


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS,
                         ids=[f"{n}-{k}" for k, (n, *_) in enumerate(LAYERS)])
def test_layer_matches_pytorch_from_the_same_state(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    _same_state(ours, theirs)
    training = name != "Dropout2d"
    x_array = np.random.default_rng(0).standard_normal(shape) * 2
    x, out = _run(ours, x_array, tg, training)
    tx, tout = _run(theirs, x_array, torch, training)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), **TIGHT)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(seed)
    tout.backward(torch.from_numpy(seed))
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 even in float64
    np.testing.assert_allclose(x.grad, tx.grad.numpy(),
                               **(dict(rtol=1e-7) if name == "Hardsigmoid" else TIGHT))
    for (key, param), (tkey, tparam) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert key == tkey
        np.testing.assert_allclose(param.grad, tparam.grad.numpy(), **TIGHT)
    for key, value in theirs.state_dict().items():  # running statistics moved alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), **TIGHT)
    assert repr(ours) == repr(theirs)


CLASS_TARGET = np.array([2, 0, 1, 2])
K_TARGET = np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])
LOSSES = [  # name, kwargs, input shape, target (an array, or a shape for a uniform draw)
    ("CrossEntropyLoss", {}, (4, 3), CLASS_TARGET),
    ("CrossEntropyLoss", dict(weight=WEIGHT3, label_smoothing=0.2, ignore_index=0), (4, 3),
     CLASS_TARGET),
    ("CrossEntropyLoss", dict(weight=WEIGHT3, reduction="none"), (2, 3, 2, 2), K_TARGET),
    ("CrossEntropyLoss", dict(label_smoothing=0.1), (4, 3), (4, 3)),
    ("CrossEntropyLoss", dict(size_average=False), (4, 3), CLASS_TARGET),
    ("NLLLoss", dict(weight=WEIGHT3), (4, 3), CLASS_TARGET),
    ("NLLLoss", dict(reduction="sum"), (2, 3, 2, 2), K_TARGET),
    ("MSELoss", {}, (3, 4), (3, 4)), ("MSELoss", dict(reduction="none"), (3, 4), (3, 4)),
    ("L1Loss", dict(reduction="sum"), (3, 4), (3, 4)),
    ("SmoothL1Loss", dict(beta=0.5), (3, 4), (3, 4)), ("HuberLoss", dict(delta=0.7), (3, 4),
                                                        (3, 4)),
    ("BCELoss", dict(weight=np.array([1.0, 0.5, 2.0, 1.0])), (3, 4), (3, 4)),
    ("BCEWithLogitsLoss", dict(pos_weight=np.array([1.0, 3.0, 0.5, 2.0])), (3, 4), (3, 4)),
    ("BCEWithLogitsLoss", dict(weight=np.array([[2.0], [1.0], [0.5]]), reduction="sum"),
     (3, 4), (3, 4)),
    ("KLDivLoss", dict(reduction="batchmean"), (3, 4), (3, 4)),
    ("KLDivLoss", dict(reduction="sum", log_target=True), (3, 4), (3, 4)),
]


@pytest.mark.parametrize("name, kwargs, shape, target", LOSSES,
                         ids=[f"{n}-{k}" for k, (n, *_) in enumerate(LOSSES)])
def test_loss_layer_matches_pytorch(name, kwargs, shape, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # size_average's deprecation warning in PyTorch
        ours, theirs = _pair(name, **kwargs)
    _same_state(ours, theirs)
    rng = np.random.default_rng(2)
    x_array = rng.uniform(0.05, 0.95, shape) if name == "BCELoss" else rng.standard_normal(shape)
    if name == "KLDivLoss" and not kwargs.get("log_target"):
        x_array = np.log(rng.uniform(0.1, 1, shape))
    if isinstance(target, tuple):
        target = rng.uniform(0.05, 0.95, target)
    x, tx = tg.Tensor(x_array, requires_grad=True), torch.tensor(x_array, requires_grad=True)
    t_ours = target if target.dtype.kind == "i" else tg.Tensor(target)
    loss, tloss = ours(x, t_ours), theirs(tx, torch.from_numpy(target))
    np.testing.assert_allclose(loss._data, tloss.detach().numpy(), **TIGHT)
    seed = np.random.default_rng(3).standard_normal(loss.shape)
    loss.backward(seed)
    tloss.backward(torch.from_numpy(seed))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)
    assert ours.reduction == theirs.reduction


def test_loss_modules_reject_an_unknown_reduction():
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="avg")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


# ------------------------------------------------------------------ containers
def test_module_list_behaves_as_pytorchs():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    reference = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.ReLU()])
    for lib_list, lib in ((layers, nn), (reference, torch.nn)):
        lib_list.append(lib.Linear(2, 3))
        lib_list.extend([lib.Tanh(), lib.Linear(3, 1)])
        lib_list.insert(1, lib.Sigmoid())
        lib_list += [lib.Identity()]
        del lib_list[2]
    assert [type(m).__name__ for m in layers] == [type(m).__name__ for m in reference]
    assert list(layers.state_dict()) == list(reference.state_dict())
    assert len(layers) == len(reference) == 6
    assert isinstance(layers[1:3], nn.ModuleList) and layers[-1] is list(layers)[-1]
    assert layers.pop(0) is not None and len(layers) == 5
    with pytest.raises(IndexError, match="ModuleList: index 9 is out of range"):
        layers[9]
    with pytest.raises(TypeError, match="ModuleList: int is not a Module"):
        layers.append(3)


def test_module_dict_behaves_as_pytorchs():
    ours = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"conv": torch.nn.Conv2d(1, 2, 3), "act": torch.nn.ReLU()})
    ours.update([("fc", nn.Linear(2, 2))])
    theirs.update([("fc", torch.nn.Linear(2, 2))])
    ours["extra"] = nn.Identity()
    theirs["extra"] = torch.nn.Identity()
    del ours["act"], theirs["act"]
    assert list(ours) == list(theirs) == list(ours.keys())
    assert [k for k, _ in ours.items()] == [k for k, _ in theirs.items()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "fc" in ours and "act" not in ours and len(ours) == 3
    assert isinstance(ours.pop("extra"), nn.Identity) and len(ours) == 2
    assert all(isinstance(m, nn.Module) for m in ours.values())
    ours.clear()
    assert len(ours) == 0


def test_data_parallel_runs_the_module_and_prefixes_its_state_dict_keys():
    inner = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    wrapped = nn.DataParallel(inner, device_ids=[0])
    reference = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 2),
                                                          torch.nn.BatchNorm1d(2)))
    assert list(wrapped.state_dict()) == list(reference.state_dict())
    assert wrapped.module is inner
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    wrapped.eval()
    np.testing.assert_array_equal(wrapped(x)._data, inner(x)._data)
    wrapped.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})


# ------------------------------------------------------------------ hooks
def test_forward_hooks_see_and_may_replace_arguments_and_outputs():
    layer = nn.Linear(2, 2).double()
    seen = []
    pre = layer.register_forward_pre_hook(lambda module, args: (args[0] * 0.0,))
    post = layer.register_forward_hook(lambda module, args, out: seen.append(out) or out + 1.0)
    out = layer(tg.Tensor(np.ones((1, 2))))
    np.testing.assert_allclose(out._data, layer.bias._data[None] + 1.0)
    np.testing.assert_allclose(seen[0]._data, layer.bias._data[None])
    pre.remove()
    post.remove()
    np.testing.assert_allclose(layer(tg.Tensor(np.zeros((1, 2))))._data, layer.bias._data[None])
    assert len(seen) == 1


def test_hooks_run_in_order_prepend_first_and_with_kwargs():
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda m, a, o: order.append("first"))
    layer.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True)
    layer.register_forward_pre_hook(
        lambda m, args, kwargs: (args, kwargs) if order.append(sorted(kwargs)) is None else None,
        with_kwargs=True)
    with layer.register_forward_hook(lambda m, a, k, o: order.append("kwargs"),
                                     with_kwargs=True):
        layer.forward = lambda x, scale=1: x  # noqa: E731  a forward taking a keyword
        layer(tg.Tensor([1.0]), scale=2)
    layer(tg.Tensor([1.0]))
    assert order == [["scale"], "prepended", "first", "kwargs", [], "prepended", "first"]


def test_a_hook_collects_intermediate_activations_as_in_pytorch_tutorials():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    features = {}
    model[1].register_forward_hook(lambda m, a, o: features.__setitem__("relu", o))
    model(tg.randn(2, 1, 4, 4))
    assert features["relu"].shape == (2, 2, 2, 2)


# ------------------------------------------------------------------ Module methods
class Net(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.features = lib.Sequential(lib.Conv2d(1, 2, 3), lib.BatchNorm2d(2))
        self.heads = lib.ModuleDict({"a": lib.Linear(2, 2)})
        self.register_buffer("scale", np.ones(2) if lib is nn else torch.ones(2))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 2)})
        self.register_buffer("scale", torch.ones(2))


def test_module_traversal_names_match_pytorch():
    ours, theirs = Net(nn), TorchNet()
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.get_submodule("features.1") is ours.features[1]
    assert ours.get_parameter("heads.a.bias") is ours.heads["a"].bias
    assert ours.get_buffer("features.1.running_var").shape == (2,)
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        ours.get_submodule("features.7")


def test_apply_visits_children_first_and_init_in_place():
    ours = Net(nn)
    visited = []
    ours.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited.index("Conv2d") < visited.index("Sequential")

    def init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.ones_(module.weight)
    ours.apply(init_weights)
    assert (ours.heads["a"].weight._data == 1).all()


def test_to_float_double_half_type_and_devices():
    model = Net(nn)
    assert model.to(np.float64) is model and model.heads["a"].weight.dtype == np.float64
    assert model.features[1].running_mean.dtype == np.float64
    assert model.features[1].num_batches_tracked.dtype == np.int64  # ints stay
    model.to("cpu").cpu().to(tg.Tensor(np.zeros(1, np.float32)))
    assert model.heads["a"].weight.dtype == np.float32
    model.half()
    assert model.scale.dtype == np.float16
    model.type(np.float64)
    assert model.features[1].num_batches_tracked.dtype == np.float64  # type() casts all
    with pytest.raises(RuntimeError, match="cuda: .*runs on the CPU"):
        model.cuda()
    with pytest.raises(RuntimeError, match="to: .*cuda:0"):
        model.to("cuda:0")
    with pytest.raises(TypeError, match="to: only floating point dtypes are accepted"):
        model.to(np.int64)


def test_requires_grad_zero_grad_train_eval_and_extra_repr():
    model = Net(nn)
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    model.eval()
    assert not model.features[1].training
    model.train()
    assert model.heads["a"].training
    assert nn.Hardtanh(-2.0, 2.0).extra_repr() == "min_val=-2.0, max_val=2.0"
    assert repr(nn.Softmax(dim=1)) == repr(torch.nn.Softmax(dim=1))


# ------------------------------------------------------------------ training
def _model(lib):
    return lib.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.GroupNorm(2, 4), lib.GELU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 4, 3, padding=1), lib.BatchNorm2d(4), lib.Hardswish(), lib.Dropout2d(0.0),
        lib.Flatten(), lib.Linear(16 * 4, 8), lib.LayerNorm(8), lib.SiLU(),
        lib.Linear(8, 8), lib.BatchNorm1d(8), lib.ELU(), lib.Mish(), lib.Linear(8, 3),
        lib.LogSoftmax(dim=1))


def test_sgd_steps_of_a_model_built_from_these_layers_match_pytorch():
    torch.manual_seed(0)
    theirs = _model(torch.nn).double()
    ours = _model(nn).double()
    _same_state(ours, theirs)
    opt = tg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    weight = np.array([1.0, 2.0, 0.5])
    for _ in range(4):
        x = rng.standard_normal((6, 1, 8, 8))
        y = rng.integers(0, 3, 6)
        loss = nn.NLLLoss(weight=tg.Tensor(weight))(ours(tg.Tensor(x)), y) + \
            nn.CrossEntropyLoss(label_smoothing=0.1)(ours(tg.Tensor(x)), y)
        tloss = torch.nn.NLLLoss(weight=torch.from_numpy(weight))(
            theirs(torch.from_numpy(x)), torch.from_numpy(y)) + \
            torch.nn.CrossEntropyLoss(label_smoothing=0.1)(theirs(torch.from_numpy(x)),
                                                           torch.from_numpy(y))
        opt.zero_grad()
        topt.zero_grad()
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-9)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-8, atol=1e-10)


def test_an_always_call_hook_runs_when_forward_raises():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_forward_hook(lambda m, a, o: calls.append(o), always_call=True)
    layer.register_forward_hook(lambda m, a, o: calls.append("not always"))
    with pytest.raises(ValueError, match="linear: input has 3 features"):
        layer(tg.zeros(1, 3))
    assert calls == [None]
