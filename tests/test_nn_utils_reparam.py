"""``nn.utils.weight_norm``/``spectral_norm`` (and their ``remove_*``) against PyTorch: the
same layer in both libraries, our parameters and u/v buffers loaded into torch's, then
forward outputs, gradients, buffer updates in training mode, eval mode, state-dict keys,
removal and the bad-argument errors compared; float64 gradcheck of the reparametrised
forward."""

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn
from tinygrad_cnn.gradcheck import gradcheck

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore::FutureWarning")]

LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(5, 4), (2, 5)),
    "conv2d": (lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
    "conv1d": (lambda lib: lib.nn.Conv1d(3, 4, 3), (2, 3, 7)),
    "convtranspose2d": (lambda lib: lib.nn.ConvTranspose2d(3, 4, 3, stride=2), (2, 3, 4, 4)),
    "convtranspose1d": (lambda lib: lib.nn.ConvTranspose1d(3, 5, 3), (2, 3, 6)),
}


def _np(tensor):
    return np.array(tensor.detach().numpy())


def _to_torch_state(module):
    return {key: torch.from_numpy(_np(value)) for key, value in module.state_dict().items()}


def _pair(layer, reparam, **kwargs):
    """Our layer and torch's (float64), reparametrised, with our state loaded into torch's."""
    build, shape = LAYERS[layer]
    ours = getattr(nn.utils, reparam)(build(tg).double(), **kwargs)
    theirs = getattr(torch.nn.utils, reparam)(build(torch).double(), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
    theirs.load_state_dict(_to_torch_state(ours))
    x = np.random.default_rng(0).standard_normal(shape)
    return ours, theirs, x


def _forward_backward(ours, theirs, x):
    ours_x, theirs_x = tg.Tensor(x), torch.from_numpy(x)
    ours_y, theirs_y = ours(ours_x), theirs(theirs_x)
    np.testing.assert_allclose(_np(ours_y), theirs_y.detach().numpy(), rtol=1e-10, atol=1e-12)
    cotangent = np.random.default_rng(1).standard_normal(ours_y.shape)
    ours_y.backward(tg.Tensor(cotangent))
    theirs_y.backward(torch.from_numpy(cotangent))


def _assert_grads_equal(ours, theirs):
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(_np(param.grad), theirs_params[name].grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------------------- weight_norm
@pytest.mark.parametrize("layer", sorted(LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_matches_torch(layer, dim):
    ours, theirs, x = _pair(layer, "weight_norm", dim=dim)
    _forward_backward(ours, theirs, x)
    _assert_grads_equal(ours, theirs)
    # the weight is recomputed from g and v before every forward
    with tg.no_grad():
        ours.weight_g.mul_(2.0)
    with torch.no_grad():
        theirs.weight_g.mul_(2.0)
    _forward_backward(ours, theirs, x)
    np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)
    _assert_grads_equal(ours, theirs)


def test_weight_norm_keys_shapes_and_remove():
    ours, theirs, _ = _pair("conv2d", "weight_norm")
    assert list(ours.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert ours.weight_g.shape == (4, 1, 1, 1) and ours.weight_v.shape == (4, 3, 3, 3)
    assert "weight" not in dict(ours.named_parameters())
    assert nn.utils.remove_weight_norm(ours) is ours
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)
    assert not ours._forward_pre_hooks
    # removable once only, then reapplicable
    with pytest.raises(ValueError, match="remove_weight_norm.*weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(ours)
    nn.utils.weight_norm(ours, dim=None)
    assert ours.weight_g.shape == ()


def test_weight_norm_warns_as_pytorch():
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(nn.Linear(3, 2))


def test_weight_norm_gradcheck_float64():
    module = nn.utils.weight_norm(nn.Conv2d(2, 3, 2).double(), dim=1)
    x = tg.Tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 4)), requires_grad=True)

    def fn(x, g, v):
        module._parameters["weight_g"], module._parameters["weight_v"] = g, v
        return module(x)

    g = tg.Tensor(_np(module.weight_g), requires_grad=True)
    v = tg.Tensor(_np(module.weight_v), requires_grad=True)
    assert gradcheck(fn, (x, g, v))


# --------------------------------------------------------------------------- spectral_norm
@pytest.mark.parametrize("layer", sorted(LAYERS))
@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_training_matches_torch(layer, n_power_iterations):
    ours, theirs, x = _pair(layer, "spectral_norm", n_power_iterations=n_power_iterations)
    expected_dim = 1 if layer.startswith("convtranspose") else 0
    weight = _np(ours.weight_orig)
    h = weight.shape[expected_dim]
    assert ours.weight_u.shape == (h,) and ours.weight_v.shape == (weight.size // h,)
    for step in range(4):
        for module in (ours, theirs):
            module.zero_grad()
        _forward_backward(ours, theirs, x)
        for buffer in ("weight_u", "weight_v"):
            np.testing.assert_allclose(_np(getattr(ours, buffer)),
                                       getattr(theirs, buffer).numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"{buffer} after step {step}")
        _assert_grads_equal(ours, theirs)
        with tg.no_grad():  # move the weights so the power iteration has work to do
            ours.weight_orig.add_(0.05 * (step + 1))
        with torch.no_grad():
            theirs.weight_orig.add_(0.05 * (step + 1))


@pytest.mark.parametrize("layer", ["linear", "convtranspose2d"])
def test_spectral_norm_eval_uses_stored_vectors(layer):
    ours, theirs, x = _pair(layer, "spectral_norm")
    ours(tg.Tensor(x))
    theirs(torch.from_numpy(x))
    ours.eval()
    theirs.eval()
    u, v = _np(ours.weight_u), _np(ours.weight_v)
    for _ in range(3):
        for module in (ours, theirs):
            module.zero_grad()
        _forward_backward(ours, theirs, x)
        _assert_grads_equal(ours, theirs)
    np.testing.assert_array_equal(_np(ours.weight_u), u)
    np.testing.assert_array_equal(_np(ours.weight_v), v)
    np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)
    assert ours.weight_u.grad is None and not ours.weight_u.requires_grad


def test_spectral_norm_keys_init_and_remove():
    tg.manual_seed(7)
    first = nn.utils.spectral_norm(nn.Conv2d(3, 4, 3))
    tg.manual_seed(7)
    second = nn.utils.spectral_norm(nn.Conv2d(3, 4, 3))
    np.testing.assert_array_equal(_np(first.weight_u), _np(second.weight_u))
    np.testing.assert_array_equal(_np(first.weight_v), _np(second.weight_v))
    assert list(first.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [name for name, _ in first.named_buffers()] == ["weight_u", "weight_v"]
    assert first.weight_u.dtype == np.float32 and first.weight_u.shape == (4,)
    assert first.weight_v.shape == (27,)
    for buffer in (first.weight_u, first.weight_v):
        assert np.linalg.norm(_np(buffer)) == pytest.approx(1.0, rel=1e-6)
    assert first.weight.shape == (4, 3, 3, 3)  # set at once, as PyTorch
    ours, theirs, x = _pair("convtranspose2d", "spectral_norm", n_power_iterations=2)
    for _ in range(2):
        ours(tg.Tensor(x))
        theirs(torch.from_numpy(x))
    assert nn.utils.remove_spectral_norm(ours) is ours
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter) and not list(ours.buffers())
    np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="remove_spectral_norm.*spectral_norm of 'weight'"):
        nn.utils.remove_spectral_norm(ours)


def test_spectral_norm_gradcheck_float64_eval():
    module = nn.utils.spectral_norm(nn.ConvTranspose2d(2, 3, 2).double()).eval()
    x = tg.Tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 3)), requires_grad=True)

    def fn(x, weight):
        module._parameters["weight_orig"] = weight
        return module(x)

    weight = tg.Tensor(_np(module.weight_orig), requires_grad=True)
    assert gradcheck(fn, (x, weight))


def test_spectral_norm_divides_by_largest_singular_value():
    module = nn.utils.spectral_norm(nn.Linear(6, 5).double(), n_power_iterations=50)
    module(tg.Tensor(np.zeros((1, 6))))
    assert np.linalg.norm(_np(module.weight), 2) == pytest.approx(1.0, rel=1e-6)


def test_both_reparametrisations_on_one_module_and_state_dict_round_trip():
    module = nn.utils.weight_norm(nn.Linear(4, 3))
    nn.utils.spectral_norm(module, name="bias", dim=0)
    assert list(module.state_dict()) == ["weight_g", "weight_v", "bias_orig", "bias_u",
                                         "bias_v"]
    other = nn.utils.spectral_norm(nn.utils.weight_norm(nn.Linear(4, 3)), name="bias")
    other.load_state_dict(module.state_dict())
    x = tg.randn(2, 4)
    np.testing.assert_array_equal(_np(module.eval()(x)), _np(other.eval()(x)))


# ------------------------------------------------------------------------------- bad input
BAD = [
    ("weight_norm", lambda lib: lib.nn.Linear(3, 4), {"name": "foo"}),
    ("weight_norm", lambda lib: lib.nn.Linear(3, 4, bias=False), {"name": "bias"}),
    ("weight_norm", lambda lib: lib.nn.BatchNorm1d(3), {"name": "running_mean"}),
    ("weight_norm", lambda lib: lib.nn.Linear(3, 4), {"dim": 5}),
    ("weight_norm", lambda lib: lib.utils_applied("weight_norm", lib.nn.Linear(3, 4)), {}),
    ("spectral_norm", lambda lib: lib.nn.Linear(3, 4), {"name": "foo"}),
    ("spectral_norm", lambda lib: lib.nn.Linear(3, 4, bias=False), {"name": "bias"}),
    ("spectral_norm", lambda lib: lib.nn.BatchNorm1d(3), {"name": "running_mean"}),
    ("spectral_norm", lambda lib: lib.nn.Linear(3, 4), {"n_power_iterations": -1}),
    ("spectral_norm", lambda lib: lib.nn.Linear(3, 4), {"n_power_iterations": 0}),
    ("spectral_norm", lambda lib: lib.nn.Linear(3, 4), {"dim": 5}),
    ("spectral_norm", lambda lib: lib.utils_applied("spectral_norm", lib.nn.Linear(3, 4)), {}),
    ("remove_weight_norm", lambda lib: lib.nn.Linear(3, 4), {}),
    ("remove_spectral_norm", lambda lib: lib.nn.Linear(3, 4), {}),
    ("remove_spectral_norm", lambda lib: lib.utils_applied("weight_norm", lib.nn.Linear(3, 4)),
     {}),
]


class _Lib:
    def __init__(self, lib):
        self.nn = lib.nn

    def utils_applied(self, function, module):
        return getattr(self.nn.utils, function)(module)


@pytest.mark.parametrize("function, build, kwargs", BAD)
def test_bad_arguments_raise_pytorch_types(function, build, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as expected:
            getattr(torch.nn.utils, function)(build(_Lib(torch)), **kwargs)
        module = build(_Lib(tg))
        before = list(module.state_dict())
        with pytest.raises(expected.type) as got:
            getattr(nn.utils, function)(module, **kwargs)
    assert got.type is expected.type
    assert function in str(got.value)
    argument = next(iter(kwargs), "name")
    if "two" not in str(got.value) and "not found" not in str(got.value):
        assert argument in str(got.value)
    assert list(module.state_dict()) == before  # nothing changed on failure
