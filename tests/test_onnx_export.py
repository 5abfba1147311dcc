"""ONNX export: every exportable op and layer, the example CNN and a ResNet-style model run in
onnxruntime, outputs equal to ours within 1e-5 (float32) on two batch sizes."""

import importlib.util
import os

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
tonnx = importlib.import_module("tinygrad_cnn.onnx")

BATCHES = (3, 5)  # the export traces the first; onnxruntime runs both


class Lambda(nn.Module):
    """A function of the input as a Module (holds optional parameters)."""

    def __init__(self, function, **parameters):
        super().__init__()
        self.function = function
        for name, value in parameters.items():
            setattr(self, name, value)

    def forward(self, x):
        return self.function(self, x)


def sample(shape, seed=0, positive=False):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return np.abs(x) + 0.1 if positive else x


def ours(model, x):
    if hasattr(model, "eval"):
        model.eval()
    with tc.no_grad():
        out = model(tc.Tensor(x))
    return out.numpy()


def run_onnx(path, x, name="input"):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {name: x})


def assert_exports(model, shape, tmp_path, positive=False, opset=17, atol=1e-5, **options):
    """Export ``model`` traced at batch BATCHES[0]; compare onnxruntime with ours on both."""
    path = tmp_path / "model.onnx"
    proto = tonnx.export(model, tc.Tensor(sample((BATCHES[0],) + shape, positive=positive)),
                         path, opset_version=opset, **options)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for seed, batch in enumerate(BATCHES):
        x = sample((batch,) + shape, seed=seed + 10, positive=positive)
        (result,) = run_onnx(path, x)
        expected = ours(model, x)
        assert result.shape == expected.shape and result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=atol)
    return proto


def op_types(proto):
    return [node.op_type for node in proto.graph.node]


# ----------------------------------------------------------------------------- layers

LAYERS = {
    "conv2d": (lambda: nn.Conv2d(3, 4, 3), (3, 7, 7)),
    "conv2d stride padding": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (3, 8, 9)),
    "conv2d dilation no bias": (lambda: nn.Conv2d(3, 4, 3, dilation=2, bias=False), (3, 9, 9)),
    "conv2d groups": (lambda: nn.Conv2d(4, 6, 3, groups=2, padding=(0, 1)), (4, 6, 6)),
    "conv2d same even kernel": (lambda: nn.Conv2d(2, 3, 4, padding="same"), (2, 7, 6)),
    "conv1d": (lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), (3, 11)),
    "conv transpose": (lambda: nn.ConvTranspose2d(3, 4, 3), (3, 5, 5)),
    "conv transpose stride output padding": (
        lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (3, 4, 5)),
    "conv transpose output padding past padding": (
        lambda: nn.ConvTranspose2d(2, 2, 3, stride=3, padding=0, output_padding=2), (2, 3, 3)),
    "conv transpose groups dilation": (
        lambda: nn.ConvTranspose2d(4, 2, 3, groups=2, dilation=2), (4, 4, 4)),
    "max pool": (lambda: nn.MaxPool2d(2), (2, 6, 6)),
    "max pool stride padding": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 8)),
    "max pool ceil mode": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 8, 8)),
    "max pool dilation": (lambda: nn.MaxPool2d(2, dilation=2), (2, 7, 7)),
    "max pool dilated ceil overhang past the kernel": (
        lambda: nn.MaxPool2d(2, stride=4, dilation=4, ceil_mode=True), (2, 6, 6)),
    "avg pool": (lambda: nn.AvgPool2d(2), (2, 6, 6)),
    "avg pool padding": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 7)),
    "avg pool padding not counted": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 7, 7)),
    "avg pool ceil mode": (lambda: nn.AvgPool2d(3, stride=2, ceil_mode=True), (2, 8, 8)),
    "lp pool": (lambda: nn.LPPool2d(2, 2), (2, 6, 6)),
    "linear": (lambda: nn.Linear(6, 4), (6,)),
    "linear no bias": (lambda: nn.Linear(6, 4, bias=False), (6,)),
    "linear on 3-D input": (lambda: nn.Linear(6, 4), (5, 6)),
    "relu": (lambda: nn.ReLU(), (4, 5)),
    "leaky relu": (lambda: nn.LeakyReLU(0.2), (4, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), (4, 5)),
    "tanh": (lambda: nn.Tanh(), (4, 5)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "dropout (eval)": (lambda: nn.Dropout(0.5), (4, 5)),
    "batch norm without affine": (lambda: nn.BatchNorm2d(2, affine=False), (2, 3, 3)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_exports_and_runs_in_onnxruntime(name, tmp_path):
    build, shape = LAYERS[name]
    tc.manual_seed(1)
    assert_exports(build(), shape, tmp_path)


def test_batch_norm_in_eval_mode_exports(tmp_path):
    tc.manual_seed(2)
    layer = nn.BatchNorm2d(3)
    rng = np.random.default_rng(5)
    state = layer.state_dict()
    state.update({"running_mean": rng.standard_normal(3).astype(np.float32),
                  "running_var": rng.uniform(0.5, 2.0, 3).astype(np.float32),
                  "weight": rng.standard_normal(3).astype(np.float32),
                  "bias": rng.standard_normal(3).astype(np.float32)})
    layer.load_state_dict(state)
    proto = assert_exports(layer, (3, 4, 4), tmp_path)
    assert op_types(proto) == ["BatchNormalization", "Identity"]
    names = {init.name for init in proto.graph.initializer}
    assert {"weight", "bias", "running_mean", "running_var"} <= names


# ----------------------------------------------------------------------------- functional ops


def pad(x):
    # PyTorch's flat form from the last dimension, or numpy's pairs on versions taking those.
    try:
        return F.pad(x, (2, 1, 1, 2), value=0.5)
    except (TypeError, ValueError):
        return F.pad(x, ((0, 0), (0, 0), (1, 2), (2, 1)), value=0.5)


FUNCTIONS = {
    "softmax": (lambda m, x: F.softmax(x, 1), (6,)),
    "softmax last axis of 4-D": (lambda m, x: F.softmax(x, -1), (2, 3, 4)),
    "log softmax": (lambda m, x: F.log_softmax(x, 1), (6,)),
    "exp log sqrt abs neg": (lambda m, x: -((x.abs() + 1.0).sqrt().log() + x.exp()), (4,)),
    "arithmetic with constants": (lambda m, x: (x * 2.0 + 1.0) / 3.0 - 0.5, (4, 3)),
    "reflected arithmetic": (lambda m, x: 1.0 - 2.0 / x, (4, 3)),
    "power": (lambda m, x: x ** 2 + x ** 0.5 + x ** -0.5 + x.rsqrt(), (4, 3)),
    "constant tensor operand": (lambda m, x: x * tc.Tensor(np.arange(1, 4, dtype=np.float32)),
                                (4, 3)),
    "clip": (lambda m, x: x.clip(-0.5, 0.7), (4, 3)),
    "clip one side": (lambda m, x: x.clip(-0.5), (4, 3)),
    "matmul with a parameter": (lambda m, x: x @ m.w, (2, 3)),
    "reshape": (lambda m, x: x.reshape(x.shape[0], 2, 6), (3, 4)),
    "flatten method": (lambda m, x: x.flatten(1), (2, 3, 2)),
    "transpose": (lambda m, x: x.transpose(1, 2), (2, 3, 4)),
    "permute": (lambda m, x: x.permute(0, 3, 1, 2), (2, 3, 4)),
    "cat": (lambda m, x: tc.cat([x, x * 2.0, F.relu(x)], 1), (2, 3)),
    "pad": (lambda m, x: pad(x), (2, 3, 3)),
    "interpolate nearest": (lambda m, x: F.interpolate(x, scale_factor=2), (2, 3, 4)),
    "sum and mean": (lambda m, x: x.sum(1, keepdims=True) + x.mean((2, 3), keepdims=True),
                     (2, 3, 4)),
    "global average pool": (lambda m, x: x.mean((2, 3)), (4, 3, 3)),
    "slicing": (lambda m, x: x[:, 1:3, ::2] + x[:, :2, 1::2], (4, 4)),
    "integer and none index": (lambda m, x: x[:, 0][:, None] * x[..., -1:], (3, 4)),
    "batch norm function": (
        lambda m, x: F.batch_norm(x, np.full(3, 0.5, np.float32), np.full(3, 2.0, np.float32),
                                  m.w[0], m.w[1], training=False), (3, 2, 2)),
}


def primitive(name):
    """A primitive Function applied directly (what a Tensor method would record)."""
    from tinygrad_cnn.ops import elementwise, shape

    return getattr(elementwise, name, None) or getattr(shape, name)


FUNCTIONS.update({
    "stack": (lambda m, x: tc.stack([x, -x], 1), (3, 2)),
    "cast to float64 and back": (lambda m, x: (x.astype(np.float64) * 2.0).astype(np.float32),
                                 (3,)),
    "integer array index": (lambda m, x: x[:, np.array([2, 0, 2])], (4, 2)),
    "expand (BroadcastTo)": (lambda m, x: primitive("BroadcastTo").apply(
        x.reshape(x.shape[0], 1, 3), (x.shape[0], 4, 3)), (3,)),
    "sum to (SumTo)": (lambda m, x: primitive("SumTo").apply(x, (x.shape[0], 1, 3)), (4, 3)),
    "sum to over the batch": (lambda m, x: m.w * primitive("SumTo").apply(x, (3,)), (3,)),
    "where with a constant mask": (lambda m, x: primitive("Where").apply(
        np.array([True, False, True]), x, x * 3.0), (2, 3)),
    "mask by a constant mask": (lambda m, x: primitive("MaskBy").apply(
        x, np.array([[True], [False]])), (2, 3)),
})


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_exports_and_runs_in_onnxruntime(name, tmp_path):
    function, shape = FUNCTIONS[name]
    tc.manual_seed(3)
    weight = nn.Parameter(tc.Tensor(sample((3, 3), seed=4)))
    positive = name in ("reflected arithmetic", "power")
    assert_exports(Lambda(function, w=weight), shape, tmp_path, positive=positive)


# Ops of the fuller Tensor API, tested where this version has them.
METHODS = {
    "sin cos": (lambda x: x.sin() + x.cos(), "sin"),
    "log1p expm1": (lambda x: x.abs().log1p() + x.expm1(), "log1p"),
    "floor ceil sign": (lambda x: (x * 3.0).floor() + (x * 3.0).ceil() + x.sign(), "floor"),
    "maximum minimum": (lambda x: tc.maximum(x, x * 0.5) + tc.minimum(x, -x), "maximum"),
    "flip": (lambda x: x.flip(1), "flip"),
    "cumsum": (lambda x: x.cumsum(1), "cumsum"),
    "prod": (lambda x: x.prod(1, keepdim=True) * x, "prod"),
    "clone": (lambda x: x.clone() * 2.0, "clone"),
    "erf erfc": (lambda x: x.erf() + x.erfc() * 2.0, "erf"),
    "lerp": (lambda x: tc.lerp(x, x * 2.0 + 1.0, x.sigmoid()) + x.lerp(-x, 0.75), "lerp"),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_tensor_method_exports(name, tmp_path):
    function, method = METHODS[name]
    if not (hasattr(tc.Tensor, method) or hasattr(tc, method)):
        pytest.skip(f"Tensor.{method} is not in this version")
    assert_exports(Lambda(lambda m, x: function(x)), (4,), tmp_path)


def test_softmax_shift_is_computed_from_the_input_not_frozen(tmp_path):
    proto = assert_exports(Lambda(lambda m, x: F.softmax(x, 1)), (5,), tmp_path)
    # softmax is one primitive now, exported as ONNX's Softmax (a composed one: ReduceMax)
    assert {"Softmax", "ReduceMax"} & set(op_types(proto))


@pytest.mark.parametrize("opset", [13, 17, 18, 20])
def test_opsets(opset, tmp_path):
    model = Lambda(lambda m, x: F.log_softmax(x.mean((2, 3)), 1) + x.sum((1, 2, 3))[:, None])
    proto = assert_exports(model, (3, 4, 4), tmp_path, opset=opset)
    assert proto.opset_import[0].version == opset


# ----------------------------------------------------------------------------- whole models


def digits_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10),
    )


class Block(nn.Module):
    """A ResNet basic block: conv-bn-relu-conv-bn plus the (projected) input, relu."""

    def __init__(self, channels_in, channels_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.project = None
        if stride != 1 or channels_in != channels_out:
            self.project = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.project is None else self.project(x)
        return F.relu(out + shortcut)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.block1 = Block(8, 8, 1)
        self.block2 = Block(8, 16, 2)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.head(x.mean((2, 3)))


def trained_a_little(model, shape, steps=3):
    """A few SGD steps in training mode, so batch norm's running statistics are not trivial."""
    optimizer = tc.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    for step in range(steps):
        x = tc.Tensor(sample((8,) + shape, seed=100 + step))
        loss = (model(x) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_the_example_cnn_exports(tmp_path):
    tc.manual_seed(0)
    model = digits_cnn()
    proto = assert_exports(model, (1, 8, 8), tmp_path)
    initializers = {init.name for init in proto.graph.initializer}
    assert set(model.state_dict()) <= initializers
    assert op_types(proto) == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape",
                               "Gemm", "Identity"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 8, 8]


def test_a_resnet_style_model_with_batch_norm_and_residuals_exports(tmp_path):
    tc.manual_seed(0)
    model = trained_a_little(TinyResNet(), (3, 8, 8))
    assert not np.allclose(np.asarray(model.block2.bn1.running_var), 1.0)
    proto = assert_exports(model, (3, 8, 8), tmp_path)
    assert op_types(proto).count("Conv") == 6
    assert op_types(proto).count("BatchNormalization") == 6
    assert op_types(proto).count("Add") == 2  # the residual additions
    assert op_types(proto).count("Gemm") == 1  # the head
    initializers = {init.name for init in proto.graph.initializer}
    assert {key for key in model.state_dict() if "num_batches" not in key} <= initializers


def test_the_example_script_model_with_train_cnn_digits_cnn(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "train_cnn_for_onnx", os.path.join(os.path.dirname(__file__), "..", "examples",
                                           "train_cnn.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tc.manual_seed(1)
    assert_exports(module.digits_cnn(), (1, 8, 8), tmp_path)


# ----------------------------------------------------------------------------- options


def test_fixed_batch_when_dynamic_batch_is_off(tmp_path):
    tc.manual_seed(0)
    proto = tonnx.export(nn.Linear(4, 2), tc.Tensor(sample((3, 4))), tmp_path / "m.onnx",
                         dynamic_batch=False)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3


def test_export_runs_in_eval_mode_and_restores_training_flags():
    model = digits_cnn()
    model[7].training = False  # a mix of flags, each restored as it was
    proto = tonnx.export(model, sample((2, 1, 8, 8)), None)
    assert "Dropout" not in op_types(proto) and "Mul" not in op_types(proto)
    assert [m.training for m in model.modules()] == [True] * 8 + [False, True]


def test_pytorch_spelling_runs_with_only_the_import_changed(tmp_path):
    import tinygrad_cnn as torch

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten())
    x = torch.randn(2, 1, 5, 5)
    torch.onnx.export(model, x, str(tmp_path / "m.onnx"), input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=17)
    (result,) = run_onnx(tmp_path / "m.onnx", sample((4, 1, 5, 5)), name="x")
    np.testing.assert_allclose(result, ours(model, sample((4, 1, 5, 5))), rtol=1e-5, atol=1e-6)


def test_dynamic_axes_other_than_the_batch_are_refused():
    with pytest.raises(ValueError, match="only the batch dimension"):
        tonnx.export(nn.ReLU(), sample((2, 3)), None, dynamic_axes={"input": {1: "width"}})


def test_without_dynamic_axes_entries_the_shape_is_fixed():
    proto = tonnx.export(nn.ReLU(), sample((2, 3)), None, dynamic_axes={})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2


def test_names_and_several_inputs_and_outputs(tmp_path):
    class TwoInTwoOut(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 3)

        def forward(self, a, b):
            return self.linear(a) + b, F.relu(b)

    model = TwoInTwoOut()
    a, b = sample((2, 4)), sample((2, 3), seed=1)
    tonnx.export(model, (tc.Tensor(a), b), tmp_path / "m.onnx", input_names=["a", "b"],
                 output_names=["sum", "relu"])
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert [i.name for i in session.get_inputs()] == ["a", "b"]
    assert [o.name for o in session.get_outputs()] == ["sum", "relu"]
    first, second = session.run(None, {"a": a, "b": b})
    with tc.no_grad():
        expected = model(tc.Tensor(a), tc.Tensor(b))
    np.testing.assert_allclose(first, expected[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, expected[1].numpy(), rtol=1e-5, atol=1e-6)


def test_export_returns_the_model_without_a_path(tmp_path):
    proto = tonnx.export(nn.ReLU(), sample((2, 3)), None)
    assert isinstance(proto, onnx.ModelProto) and not os.listdir(tmp_path)


def test_wrong_names_count_is_a_value_error():
    with pytest.raises(ValueError, match="output_names"):
        tonnx.export(nn.ReLU(), sample((2, 3)), None, output_names=["a", "b"])


def test_an_unsupported_opset_is_a_value_error():
    with pytest.raises(ValueError, match="opset_version"):
        tonnx.export(nn.ReLU(), sample((2, 3)), None, opset_version=9)


# ----------------------------------------------------------------------------- refusals


def test_an_op_without_onnx_equivalent_is_named_with_its_line():
    model = Lambda(lambda m, x: F.unfold(x, 2))
    with pytest.raises(tonnx.ExportError, match=r"cannot export Unfold \(called at .*"
                                                r"test_onnx_export\.py:\d+\)"):
        tonnx.export(model, sample((2, 1, 4, 4)), None)


def test_training_mode_batch_norm_is_refused_with_advice():
    model = Lambda(lambda m, x: F.batch_norm(x, None, None, training=True))
    with pytest.raises(tonnx.ExportError, match="BatchNormTraining.*model.eval"):
        tonnx.export(model, sample((4, 3, 2, 2)), None)


def test_a_constant_that_depends_on_the_batch_size_is_refused():
    model = Lambda(lambda m, x: x + tc.Tensor(np.ones((3, 4), np.float32)))
    with pytest.raises(tonnx.ExportError, match="batch size"):
        tonnx.export(model, sample((3, 4)), None)
    tonnx.export(model, sample((3, 4)), None, dynamic_batch=False)  # fine at a fixed size


def test_an_integer_output_is_refused_not_frozen():
    with pytest.raises(tonnx.ExportError, match="output 0 .* argmax"):
        tonnx.export(Lambda(lambda m, x: x.argmax(1)), sample((3, 4)), None)


def test_a_trainable_tensor_of_batch_size_is_a_weight_not_a_frozen_constant(tmp_path):
    weight = tc.Tensor(sample((3, 3), seed=2), requires_grad=True)
    assert_exports(Lambda(lambda m, x: x @ weight), (3,), tmp_path)


def test_the_input_itself_as_an_output(tmp_path):
    proto = assert_exports(Lambda(lambda m, x: x), (3,), tmp_path)
    assert op_types(proto) == ["Identity"]


def test_an_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match="floating point"):
        tonnx.export(nn.ReLU(), np.zeros((2, 3), np.int64), None)


def test_export_leaves_no_tracing_on_after_an_error():
    from tinygrad_cnn.autograd.grad_mode import set_tracing

    with pytest.raises(tonnx.ExportError):
        tonnx.export(Lambda(lambda m, x: F.unfold(x, 2)), sample((2, 1, 4, 4)), None)
    assert set_tracing(False) is False


# ----------------------------------------------------------------------------- resampling, padding

def interpolate(**options):
    return lambda m, x: F.interpolate(x, **options)


# name -> (function, input shape without the batch, the ONNX op that must carry it)
RESAMPLING = {
    "bilinear x2": (interpolate(scale_factor=2, mode="bilinear"), (2, 5, 6), "Resize"),
    "bilinear align_corners": (
        interpolate(scale_factor=2, mode="bilinear", align_corners=True), (2, 5, 6), "Resize"),
    "bilinear to a size": (interpolate(size=(7, 3), mode="bilinear"), (2, 5, 6), "Resize"),
    "bilinear to one row": (interpolate(size=(1, 3), mode="bilinear"), (2, 5, 6), "Resize"),
    "bilinear size align_corners": (
        interpolate(size=(7, 3), mode="bilinear", align_corners=True), (2, 5, 6), "Resize"),
    "bilinear scale 1.5": (interpolate(scale_factor=1.5, mode="bilinear"), (2, 5, 6), "Resize"),
    "bilinear scale kept on one axis": (
        interpolate(scale_factor=(1.3, 2), mode="bilinear"), (2, 2, 6), "Resize"),
    "bilinear recompute_scale_factor": (
        interpolate(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True), (2, 5, 6),
        "Resize"),
    # float32 10 * 0.7 could round under 7 in the runtime: the exact matrices instead
    "bilinear scale 0.7": (interpolate(scale_factor=0.7, mode="bilinear"), (2, 10, 6),
                           "MatMul"),
    "bilinear antialias": (interpolate(size=(3, 2), mode="bilinear", antialias=True),
                           (2, 7, 6), "MatMul"),
    "bicubic x2": (interpolate(scale_factor=2, mode="bicubic"), (2, 5, 6), "Resize"),
    "bicubic to a size": (interpolate(size=(3, 9), mode="bicubic"), (2, 5, 6), "Resize"),
    "bicubic align_corners": (
        interpolate(size=(8, 9), mode="bicubic", align_corners=True), (2, 5, 6), "Resize"),
    "bicubic scale 1.5": (interpolate(scale_factor=1.5, mode="bicubic"), (2, 5, 6), "Resize"),
    "linear": (interpolate(scale_factor=2, mode="linear"), (2, 5), "Resize"),
    "linear align_corners": (interpolate(size=9, mode="linear", align_corners=True), (2, 5),
                             "Resize"),
    "trilinear": (interpolate(scale_factor=2, mode="trilinear"), (2, 3, 4, 5), "Resize"),
    "trilinear align_corners": (
        interpolate(size=(2, 5, 7), mode="trilinear", align_corners=True), (2, 3, 4, 5),
        "Resize"),
    "area tiling": (interpolate(size=(3, 2), mode="area"), (2, 6, 6), "AveragePool"),
    "area irregular": (interpolate(size=(4, 5), mode="area"), (2, 6, 7), "MatMul"),
    "nearest scale 1.5": (interpolate(scale_factor=1.5), (2, 5, 6), "Gather"),
    "nearest to a size": (interpolate(size=(7, 4)), (2, 5, 6), "Gather"),
    "nearest 1-D": (interpolate(size=7), (2, 5), "Gather"),
    "nearest-exact to a size": (interpolate(size=(7, 4), mode="nearest-exact"), (2, 5, 6),
                                "Gather"),
    "nearest-exact x2": (interpolate(scale_factor=2, mode="nearest-exact"), (2, 5, 6),
                         "Resize"),
    "adaptive avg pool to 1": (lambda m, x: F.adaptive_avg_pool2d(x, 1), (2, 5, 6),
                               "GlobalAveragePool"),
    "adaptive avg pool tiling": (lambda m, x: F.adaptive_avg_pool2d(x, (5, 3)), (2, 10, 6),
                                 "AveragePool"),
    "adaptive avg pool one axis kept": (lambda m, x: F.adaptive_avg_pool2d(x, (None, 2)),
                                        (2, 7, 6), "AveragePool"),
    "adaptive avg pool irregular": (lambda m, x: F.adaptive_avg_pool2d(x, (3, 4)), (2, 7, 6),
                                    "MatMul"),
    "adaptive avg pool 1-D": (lambda m, x: F.adaptive_avg_pool1d(x, 3), (2, 9), "AveragePool"),
    "adaptive avg pool 1-D irregular": (lambda m, x: F.adaptive_avg_pool1d(x, 3), (2, 7),
                                        "MatMul"),
    "adaptive max pool to 1": (lambda m, x: F.adaptive_max_pool2d(x, 1), (2, 5, 6),
                               "GlobalMaxPool"),
    "adaptive max pool tiling": (lambda m, x: F.adaptive_max_pool2d(x, (5, 3)), (2, 10, 6),
                                 "MaxPool"),
    "adaptive max pool irregular": (lambda m, x: F.adaptive_max_pool2d(x, (3, 4)), (2, 7, 6),
                                    "ReduceMax"),
    "adaptive max pool 1-D": (lambda m, x: F.adaptive_max_pool1d(x, 3), (2, 7), "ReduceMax"),
    "max pool return_indices values": (
        lambda m, x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[0], (2, 7, 8), "MaxPool"),
}


@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("name", sorted(RESAMPLING))
def test_resampling_exports_and_runs_in_onnxruntime(name, opset, tmp_path):
    function, shape, op_type = RESAMPLING[name]
    proto = assert_exports(Lambda(function), shape, tmp_path, opset=opset)
    assert op_type in op_types(proto)


@pytest.mark.parametrize("options", [
    dict(scale_factor=2, mode="bilinear"), dict(size=(7, 3), mode="bilinear", align_corners=True),
    dict(scale_factor=1.5, mode="bicubic"), dict(size=(4, 9), mode="bicubic"),
    dict(size=(7, 4), mode="nearest"), dict(size=(7, 4), mode="nearest-exact"),
    dict(size=(3, 4), mode="area")])
def test_onnxruntime_gives_pytorchs_interpolation(options, tmp_path):
    torch = pytest.importorskip("torch")
    model = Lambda(lambda m, x: F.interpolate(x, **options))
    tonnx.export(model, sample((2, 2, 5, 6)), tmp_path / "m.onnx")
    x = sample((4, 2, 5, 6), seed=3)
    (result,) = run_onnx(tmp_path / "m.onnx", x)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), **options).numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


RESAMPLING_LAYERS = {
    "upsample bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), "Resize"),
    "upsample nearest": (lambda: nn.Upsample(size=(7, 9)), "Gather"),
    "adaptive avg pool (1, 1)": (lambda: nn.AdaptiveAvgPool2d((1, 1)), "GlobalAveragePool"),
    "adaptive avg pool 3": (lambda: nn.AdaptiveAvgPool2d(3), "MatMul"),
    "adaptive max pool (2, 3)": (lambda: nn.AdaptiveMaxPool2d((2, 3)), "MaxPool"),
}


@pytest.mark.parametrize("name", sorted(RESAMPLING_LAYERS))
def test_resampling_layers_export(name, tmp_path):
    build, op_type = RESAMPLING_LAYERS[name]
    proto = assert_exports(build(), (2, 4, 6), tmp_path)
    assert op_type in op_types(proto)


@pytest.mark.parametrize("opset", [13, 17, 19, 20])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_border_padding_modes_export(mode, opset, tmp_path):
    proto = assert_exports(Lambda(lambda m, x: F.pad(x, (2, 1, 1, 3), mode=mode)), (2, 5, 6),
                           tmp_path, opset=opset)
    # circular is Pad's 'wrap' from opset 19, slices of the input put together before it
    wrapped = mode == "circular" and opset < 19
    assert ("Concat" in op_types(proto)) == wrapped and ("Pad" in op_types(proto)) != wrapped


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_border_padding_of_sequences_and_with_crops_exports(mode, tmp_path):
    assert_exports(Lambda(lambda m, x: F.pad(x, (2, 1), mode=mode)), (2, 5), tmp_path)
    assert_exports(Lambda(lambda m, x: F.pad(x, (2, -1, 1, 0), mode=mode)), (2, 5, 6),
                   tmp_path)


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes_export(padding_mode, tmp_path):
    tc.manual_seed(4)
    layer = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=padding_mode)
    proto = assert_exports(layer, (2, 5, 6), tmp_path, opset=17)
    assert "Conv" in op_types(proto)


def max_pool_and_unpool(kernel, stride, padding, ceil_mode=False):
    def pool_unpool(m, x):
        values, indices = F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode,
                                       return_indices=True)
        return F.max_unpool2d(values * 2.0, indices, kernel, stride, padding,
                              output_size=x.shape[-2:])
    return pool_unpool


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, shape", [
    (2, 2, 0, False, (2, 6, 6)), (2, 2, 0, False, (2, 7, 7)), (3, 2, 1, False, (2, 7, 8)),
    (3, 3, 0, True, (2, 7, 8))])
def test_max_unpool_of_max_pool_indices_exports(kernel, stride, padding, ceil_mode, shape,
                                                tmp_path):
    proto = assert_exports(Lambda(max_pool_and_unpool(kernel, stride, padding, ceil_mode)),
                           shape, tmp_path)
    assert {"MaxPool", "MaxUnpool"} <= set(op_types(proto))


def test_max_unpool_of_indices_from_outside_the_graph_is_refused():
    def unpool(m, x):
        values = F.max_pool2d(x, 2, 2)
        indices = tc.Tensor(np.zeros(values.shape, np.int64))
        return F.max_unpool2d(values, indices, 2)

    with pytest.raises(tonnx.ExportError, match="MaxUnpool2d.*indices"):
        tonnx.export(Lambda(unpool), sample((2, 1, 6, 6)), None)


def test_max_unpool_to_another_size_is_refused():
    def unpool(m, x):
        values, indices = F.max_pool2d(x, 2, 2, return_indices=True)
        return F.max_unpool2d(values, indices, 2, output_size=(7, 7))

    with pytest.raises(tonnx.ExportError, match="MaxUnpool2d.*size"):
        tonnx.export(Lambda(unpool), sample((2, 1, 6, 6)), None)


class TinySegmenter(nn.Module):
    """An encoder-decoder: convolutions, a strided downsampling, a bilinear upsampling and a
    skip connection concatenated along the channels."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.down = nn.Sequential(nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.ReLU())
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec = nn.Conv2d(14, 4, 3, padding=1, padding_mode="reflect")

    def forward(self, x):
        skip = self.enc(x)
        deep = self.up(self.down(skip))
        out = self.dec(tc.cat([skip, deep], 1))
        return F.interpolate(out, size=(x.shape[2] * 2, x.shape[3] * 2), mode="bilinear",
                             align_corners=True)


def test_a_segmentation_model_with_upsampling_and_skip_concatenation_exports(tmp_path):
    tc.manual_seed(6)
    model = trained_a_little(TinySegmenter(), (3, 8, 10))
    proto = assert_exports(model, (3, 8, 10), tmp_path)
    assert op_types(proto).count("Resize") == 2 and "Concat" in op_types(proto)


class ResNetHead(nn.Module):
    """A ResNet-style stem and block ending in AdaptiveAvgPool2d((1, 1)), flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
        self.block = Block(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(tc.flatten(self.pool(self.block(self.stem(x))), 1))


def test_a_resnet_head_with_adaptive_average_pooling_exports(tmp_path):
    tc.manual_seed(7)
    model = trained_a_little(ResNetHead(), (3, 9, 11))
    proto = assert_exports(model, (3, 9, 11), tmp_path)
    assert "GlobalAveragePool" in op_types(proto) and "Gemm" in op_types(proto)


# ----------------------------------------------------------------------------- activations, norms

# name -> (the layer, given nn; input shape without the batch); tested where this version has it
ACTIVATIONS = {
    "gelu": (lambda nn: nn.GELU(), (3, 4)),
    "gelu tanh": (lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
    "silu": (lambda nn: nn.SiLU(), (3, 4)),
    "elu": (lambda nn: nn.ELU(alpha=0.7), (3, 4)),
    "hardswish": (lambda nn: nn.Hardswish(), (3, 4)),
    "hardsigmoid": (lambda nn: nn.Hardsigmoid(), (3, 4)),
    "hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.8), (3, 4)),
    "relu6": (lambda nn: nn.ReLU6(), (3, 4)),
    "softplus": (lambda nn: nn.Softplus(), (3, 4)),
    "softplus beta threshold": (lambda nn: nn.Softplus(beta=2.0, threshold=1.5), (3, 4)),
    "mish": (lambda nn: nn.Mish(), (3, 4)),
    "softmax layer": (lambda nn: nn.Softmax(dim=1), (3, 4)),
    "log softmax layer": (lambda nn: nn.LogSoftmax(dim=-1), (3, 4)),
    "layer norm": (lambda nn: nn.LayerNorm(4), (3, 4)),
    "layer norm over two axes": (lambda nn: nn.LayerNorm((3, 4), eps=1e-3), (3, 4)),
    "layer norm without affine": (lambda nn: nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    "group norm": (lambda nn: nn.GroupNorm(2, 4), (4, 3, 3)),
    "group norm one group per channel": (lambda nn: nn.GroupNorm(4, 4, affine=False),
                                         (4, 3, 3)),
    "prelu": (lambda nn: nn.PReLU(), (3, 4)),
    "prelu per channel": (lambda nn: nn.PReLU(3), (3, 4, 2)),
    "selu": (lambda nn: nn.SELU(), (3, 4)),
    "celu": (lambda nn: nn.CELU(0.5), (3, 4)),
    "glu": (lambda nn: nn.GLU(dim=1), (4, 3)),
    "logsigmoid": (lambda nn: nn.LogSigmoid(), (3, 4)),
    "softsign": (lambda nn: nn.Softsign(), (3, 4)),
    "tanhshrink": (lambda nn: nn.Tanhshrink(), (3, 4)),
    "pixel shuffle": (lambda nn: nn.PixelShuffle(2), (8, 3, 2)),
    "pixel unshuffle": (lambda nn: nn.PixelUnshuffle(2), (2, 4, 6)),
    "instance norm": (lambda nn: nn.InstanceNorm2d(3, affine=True), (3, 4, 5)),
}


def _layer_or_skip(build):
    try:
        return build(nn)
    except AttributeError as error:
        pytest.skip(f"not in this version: {error}")


@pytest.mark.parametrize("opset", [13, 17, 20])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_and_norms_export(name, opset, tmp_path):
    build, shape = ACTIVATIONS[name]
    tc.manual_seed(8)
    layer = _layer_or_skip(build)
    for parameter in layer.parameters():  # not the trivial ones and zeros
        parameter._data[...] = sample(parameter.shape, seed=9)
    # inputs spread wide enough to reach every branch (clips, thresholds, signs)
    model = nn.Sequential(Lambda(lambda m, x: x * 4.0), layer)
    assert_exports(model, shape, tmp_path, opset=opset)


def test_elu_mask_is_computed_from_the_input_not_frozen(tmp_path):
    layer = _layer_or_skip(lambda nn: nn.ELU())
    proto = assert_exports(layer, (6,), tmp_path)
    assert "Greater" in op_types(proto)


def test_norm_layers_use_their_onnx_operators_from_opset_17(tmp_path):
    layer = _layer_or_skip(lambda nn: nn.LayerNorm(4))
    assert "LayerNormalization" in op_types(assert_exports(layer, (3, 4), tmp_path))
    assert "LayerNormalization" not in op_types(assert_exports(layer, (3, 4), tmp_path,
                                                               opset=13))
    gelu = _layer_or_skip(lambda nn: nn.GELU())
    assert "Gelu" in op_types(assert_exports(gelu, (3,), tmp_path, opset=20))
    assert "Erf" in op_types(assert_exports(gelu, (3,), tmp_path, opset=17))


@pytest.mark.parametrize("opset", [13, 20])
def test_the_fused_activations_and_norms_export(opset, tmp_path):
    # gelu (both forms), silu, hardswish, softplus (beta, threshold), layer/group norm
    model = Lambda(lambda m, x: F.gelu(x) + F.gelu(x, approximate="tanh") + F.silu(x)
                   + F.hardswish(x) + F.softplus(x, 2.0, 1.0) + F.group_norm(x, 2)
                   + F.layer_norm(x, (4, 4)))
    assert_exports(model, (4, 4, 4), tmp_path, opset=opset)


def test_clamp_with_tensor_bounds_exports(tmp_path):
    """``clamp`` by tensors (ClampTensor) exports as Max then Min."""
    lo = tc.tensor(np.array([-0.5, 0.0, -1.0, 0.2], np.float32))
    hi = tc.tensor(np.array([0.5, 1.0, 0.0, 0.3], np.float32))
    model = Lambda(lambda self, x: x.clamp(lo, hi) + x.clamp(lo, None) + x.clamp(None, hi))
    proto = assert_exports(model, (3, 4), tmp_path)
    assert "Max" in op_types(proto) and "Min" in op_types(proto)
