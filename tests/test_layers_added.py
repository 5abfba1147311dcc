"""The padding, fold, 1-d pooling, ConvTranspose1d, Dropout1d, InstanceNorm1d, Softmin and
Softmax2d layers, and the in-place and deprecated functional spellings, against PyTorch's:
repr, constructor defaults, state-dict keys, outputs and gradients from the same state."""

import inspect
import warnings

import numpy as np
import pytest
from test_layers import TIGHT, _pair, _run, _same_state

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

LAYERS = [  # name, args, kwargs, input shape
    ("ZeroPad1d", (2,), {}, (2, 3, 4)), ("ZeroPad1d", ((1, -1),), {}, (3, 4)),
    ("ZeroPad2d", (1,), {}, (2, 3, 4, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), {}, (3, 4, 5)),
    ("ConstantPad1d", (2, 1.5), {}, (2, 3, 4)), ("ConstantPad1d", ((0, 3), -2), {}, (3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), 0.5), {}, (2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 4)), ("ReflectionPad1d", ((3, 1),), {}, (3, 4)),
    ("ReflectionPad2d", (1,), {}, (2, 3, 4, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), {}, (3, 4, 5)),
    ("ReplicationPad1d", ((0, 4),), {}, (2, 3, 4)), ("ReplicationPad2d", (2,), {}, (3, 4, 5)),
    ("CircularPad1d", ((4, 1),), {}, (2, 3, 4)), ("CircularPad2d", (1,), {}, (2, 3, 4, 5)),
    ("CircularPad2d", ((2, 0, 1, 3),), {}, (3, 4, 5)),
    ("Unfold", (2,), {}, (2, 3, 4, 5)),
    ("Unfold", ((2, 3),), dict(dilation=(1, 2), padding=1, stride=2), (2, 3, 6, 7)),
    ("Fold", ((4, 5), 2), {}, (2, 12, 12)),
    ("Fold", (5, (2, 3)), dict(padding=1, stride=(2, 1)), (3 * 6, 15)),
    ("Softmin", (1,), {}, (2, 3, 4)), ("Softmin", (-1,), {}, (3, 4)),
    ("Softmax2d", (), {}, (2, 3, 4, 5)), ("Softmax2d", (), {}, (3, 4, 5)),
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3, 2, 1, 2), dict(ceil_mode=True), (2, 3, 10)),
    ("AvgPool1d", (3,), {}, (2, 3, 10)),
    ("AvgPool1d", ((3,), 2, 1), dict(ceil_mode=True, count_include_pad=False), (3, 10)),
    ("ConvTranspose1d", (3, 4, 3), {}, (2, 3, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2,
                                        bias=False, dilation=2), (2, 4, 5)),
    ("ConvTranspose1d", (3, 2, (2,)), dict(stride=(3,)), (3, 5)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True), (3, 6)),
    ("Dropout1d", (0.3,), {}, (2, 3, 4)),  # compared in eval mode: the identity
]


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS,
                         ids=[f"{n}-{k}" for k, (n, *_) in enumerate(LAYERS)])
def test_layer_matches_pytorch_from_the_same_state(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    _same_state(ours, theirs)
    training = name != "Dropout1d"
    x_array = np.random.default_rng(0).standard_normal(shape) * 2
    x, out = _run(ours, x_array, tg, training)
    tx, tout = _run(theirs, x_array, torch, training)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TIGHT)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(seed)
    tout.backward(torch.from_numpy(seed))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)
    for (key, param), (tkey, tparam) in zip(ours.named_parameters(), theirs.named_parameters(),
                                            strict=True):
        assert key == tkey
        np.testing.assert_allclose(param.grad, tparam.grad.numpy(), **TIGHT)
    for key, value in theirs.state_dict().items():  # running statistics moved alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), **TIGHT)


NEW_LAYERS = sorted({name for name, *_ in LAYERS})


# Softmax2d has no constructor of its own (PyTorch's shows Module's *args, **kwargs); device
# is left out (CPU only, as the other layers here)
@pytest.mark.parametrize("name", [name for name in NEW_LAYERS if name != "Softmax2d"])
def test_constructor_arguments_and_defaults_are_pytorchs(name):
    def parameters(cls):
        return [(p.name, p.default, p.kind) for p in
                inspect.signature(cls.__init__).parameters.values() if p.name != "device"]
    assert parameters(getattr(nn, name)) == parameters(getattr(torch.nn, name))


@pytest.mark.parametrize("name", NEW_LAYERS)
def test_class_hierarchy_names_pytorchs_bases(name):
    """isinstance checks of model code (ZeroPad2d is a ConstantPad2d) hold as in PyTorch."""
    theirs = getattr(torch.nn, name)
    for other in NEW_LAYERS:
        assert issubclass(getattr(nn, name), getattr(nn, other)) == \
            issubclass(theirs, getattr(torch.nn, other)), other


def test_padding_layers_keep_pytorchs_attributes():
    assert nn.ZeroPad2d(1).padding == (1, 1, 1, 1) == torch.nn.ZeroPad2d(1).padding
    assert nn.ZeroPad2d(1).value == torch.nn.ZeroPad2d(1).value == 0.0
    assert nn.ReflectionPad1d([1, 2]).padding == (1, 2)
    assert nn.ConstantPad1d(3, 2.5).value == 2.5


@pytest.mark.parametrize("layer, shape, error, match", [
    (nn.CircularPad1d(1), (1, 2, 3, 4), ValueError,
     r"CircularPad1d: expected 2D or 3D input \(got 4D input"),
    (nn.CircularPad2d(1), (3, 4), ValueError,
     r"CircularPad2d: expected 3D or 4D input \(got 2D input"),
    (nn.ReflectionPad2d(1), (3, 4), NotImplementedError,
     "pad: pad of length 4 is not supported for a 2-D input"),
    (nn.ReflectionPad1d(4), (2, 3, 4), RuntimeError,
     "pad: in mode 'reflect' the padding must be smaller than"),
    (nn.ZeroPad2d((1, 2, 3)), (2, 3, 4), RuntimeError, "pad: pad length must be divisible"),
    (nn.ZeroPad1d(1.5), (2, 3, 4), TypeError, "pad: pad must be a tuple of ints"),
    (nn.Softmax2d(), (3, 4), ValueError, "Softmax2d: expected input to be 3D or 4D, got 2D"),
    (nn.InstanceNorm1d(3), (1, 3, 4, 5), ValueError,
     r"InstanceNorm1d: expected 2D or 3D input \(got 4D input"),
    (nn.InstanceNorm1d(3, affine=True), (2, 4, 5), ValueError,
     r"InstanceNorm1d: expected input's size at dim=1 to match num_features \(3\)"),
    (nn.Dropout1d(), (2, 3, 4, 5), RuntimeError, "dropout1d: expected 2D or 3D input"),
    (nn.Fold(4, 2), (2, 7, 9), RuntimeError, "fold: input's dimension 1 .7."),
    (nn.MaxPool1d(2), (2, 3, 4, 5), RuntimeError, "max_pool1d: input must be 2-D"),
    (nn.AvgPool1d(2), (9,), RuntimeError, "avg_pool1d: input must be 2-D"),
    (nn.ConvTranspose1d(3, 2, 2), (2, 4, 5), RuntimeError,
     "conv_transpose1d: input has 4 channels but weight expects 3"),
])
def test_bad_input_raises_pytorchs_type_naming_the_layer_or_its_op(layer, shape, error, match):
    x = np.zeros(shape, dtype=np.float32)
    with pytest.raises(error, match=match):
        layer(tg.tensor(x))
    with pytest.raises(error):  # the same layer in PyTorch
        _torch_twin(layer)(torch.tensor(x))


def _torch_twin(layer):
    """PyTorch's layer of the same name and constructor arguments as ``layer``."""
    twin = {
        "CircularPad1d": lambda: torch.nn.CircularPad1d(layer.padding),
        "CircularPad2d": lambda: torch.nn.CircularPad2d(layer.padding),
        "ReflectionPad1d": lambda: torch.nn.ReflectionPad1d(layer.padding),
        "ReflectionPad2d": lambda: torch.nn.ReflectionPad2d(layer.padding),
        "ZeroPad1d": lambda: torch.nn.ZeroPad1d(layer.padding),
        "ZeroPad2d": lambda: torch.nn.ZeroPad2d(layer.padding),
        "Softmax2d": torch.nn.Softmax2d,
        "InstanceNorm1d": lambda: torch.nn.InstanceNorm1d(layer.num_features,
                                                          affine=layer.affine),
        "Dropout1d": torch.nn.Dropout1d,
        "Fold": lambda: torch.nn.Fold(layer.output_size, layer.kernel_size),
        "MaxPool1d": lambda: torch.nn.MaxPool1d(layer.kernel_size),
        "AvgPool1d": lambda: torch.nn.AvgPool1d(layer.kernel_size),
        "ConvTranspose1d": lambda: torch.nn.ConvTranspose1d(3, 2, 2),
    }[type(layer).__name__]
    return twin()


def test_max_pool1d_layer_returns_pytorchs_indices():
    x = np.random.default_rng(2).standard_normal((2, 3, 11))
    out, indices = nn.MaxPool1d(3, 2, 1, return_indices=True)(tg.tensor(x))
    want, want_indices = torch.nn.MaxPool1d(3, 2, 1, return_indices=True)(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), want.numpy())
    np.testing.assert_array_equal(indices.numpy(), want_indices.numpy())


def test_dropout1d_layer_drops_whole_channels_in_training():
    layer = nn.Dropout1d(0.5)
    tg.manual_seed(1)
    out = layer(tg.ones(8, 4, 6)).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and (out == out[..., :1]).all()
    assert repr(layer) == repr(torch.nn.Dropout1d(0.5))


# ------------------------------------------------------------------ functional spellings
INPLACE = [("relu_", {}), ("elu_", dict(alpha=0.5)), ("leaky_relu_", dict(negative_slope=0.2)),
           ("hardtanh_", dict(min_val=-0.5, max_val=0.7)), ("selu_", {}),
           ("celu_", dict(alpha=1.5)), ("threshold_", dict(threshold=0.1, value=-3.0))]


@pytest.mark.parametrize("name, kwargs", INPLACE, ids=[name for name, _ in INPLACE])
def test_inplace_spelling_overwrites_and_returns_its_input_as_pytorch(name, kwargs):
    x_array = np.random.default_rng(3).standard_normal((3, 4))
    x, tx = tg.tensor(x_array.copy()), torch.tensor(x_array.copy())
    out = getattr(F, name)(x, **kwargs)
    assert getattr(torch.nn.functional, name)(tx, **kwargs) is tx
    assert out is x
    np.testing.assert_allclose(x.numpy(), tx.numpy(), **TIGHT)
    op = getattr(F, name.rstrip("_"))
    np.testing.assert_allclose(x.numpy(), op(tg.tensor(x_array), **kwargs).numpy(), **TIGHT)


def test_inplace_spelling_gradient_flows_through_a_non_leaf_as_pytorch():
    x_array = np.random.default_rng(4).standard_normal((3, 4))
    x, tx = tg.tensor(x_array, requires_grad=True), torch.tensor(x_array, requires_grad=True)
    F.elu_(x * 2.0, 0.5).sum().backward()
    torch.nn.functional.elu_(tx * 2.0, 0.5).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)


@pytest.mark.parametrize("name, kwargs", [
    ("upsample", dict(scale_factor=2)), ("upsample", dict(size=(5, 3), mode="bilinear")),
    ("upsample_nearest", dict(scale_factor=3)), ("upsample_nearest", dict(size=7)),
    ("upsample_bilinear", dict(scale_factor=2)), ("upsample_bilinear", dict(size=(3, 5))),
])
def test_deprecated_upsample_spellings_warn_and_match_pytorch(name, kwargs):
    x_array = np.random.default_rng(5).standard_normal((2, 3, 4, 4))
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        out = getattr(F, name)(tg.tensor(x_array), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(torch.nn.functional, name)(torch.tensor(x_array), **kwargs)
    np.testing.assert_allclose(out.numpy(), want.numpy(), **TIGHT)
