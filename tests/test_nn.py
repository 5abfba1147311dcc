"""nn: Module machinery, Parameter, initialisation and the layers (no PyTorch needed).

The PyTorch comparisons live in test_torch_equivalence.py.
"""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn import nn
from tinygrad_cnn.tensor import Tensor


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", np.zeros(1))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8, 3),
    )


# ------------------------------------------------------------------ registration, traversal

def test_parameters_are_registered_in_assignment_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


def test_parameter_is_a_tensor_that_requires_grad():
    param = nn.Parameter(np.zeros(3, dtype=np.float32))
    assert isinstance(param, Tensor)
    assert param.requires_grad and param.is_leaf
    assert repr(param).startswith("Parameter containing:")


def test_parameter_from_a_tensor_shares_its_data():
    tensor = tg.zeros(2)
    param = nn.Parameter(tensor)
    param.data[0] = 5
    assert tensor.data[0] == 5


def test_children_and_modules_follow_the_tree():
    model = TwoLayer()
    assert [name for name, _ in model.named_children()] == ["fc1", "act", "fc2"]
    assert [name for name, _ in model.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(model.modules())[0] is model


def test_shared_parameter_is_listed_once():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].weight = model[0].weight
    assert len(list(model.parameters())) == 3


def test_reassigning_a_submodule_keeps_its_state_dict_position():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = nn.Linear(2, 2)
    model.a = nn.Linear(2, 2)
    assert list(model.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_reassigning_a_parameter_keeps_its_state_dict_position():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].weight = model[0].weight
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_a_module_used_twice_has_both_key_sets_in_the_state_dict():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, layer)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    np.testing.assert_array_equal(state["0.weight"], state["1.weight"])
    assert len(list(model.parameters())) == 2 and len(list(model.modules())) == 2


def test_a_module_used_twice_loads_from_a_state_dict_with_both_key_sets():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, layer)
    state = {"0.weight": np.ones((2, 2)), "0.bias": np.ones(2),
             "1.weight": np.full((2, 2), 3.0), "1.bias": np.full(2, 3.0)}
    assert model.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(layer.weight.data, np.full((2, 2), 3.0))  # last key wins


def test_buffer_is_state_but_not_a_parameter():
    model = TwoLayer()
    assert [name for name, _ in model.named_buffers()] == ["steps"]
    assert "steps" in model.state_dict()
    assert all(p is not model.steps for p in model.parameters())


def test_non_persistent_buffer_stays_out_of_the_state_dict():
    model = nn.Module()
    model.register_buffer("cache", np.ones(2), persistent=False)
    assert "cache" not in model.state_dict()
    assert len(list(model.buffers())) == 1


def test_assigning_a_plain_value_to_a_parameter_name_raises():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = np.zeros((2, 2))


def test_assigning_none_to_a_parameter_removes_it_from_the_state_dict():
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert list(layer.state_dict()) == ["weight"]


def test_parameter_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.zeros(1, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Forgetful()


def test_register_buffer_rejects_a_dotted_name():
    with pytest.raises(KeyError, match="contain"):
        nn.Module().register_buffer("a.b", np.zeros(1))


@pytest.mark.parametrize("value", ["abc", np.array(["a", "b"]), 3, object()])
def test_register_buffer_rejects_what_is_not_a_numeric_array(value):
    with pytest.raises(TypeError, match="buffer 'x'"):
        nn.Module().register_buffer("x", value)


@pytest.mark.parametrize("value", [np.zeros(2, dtype=np.int64), tg.zeros(2), None])
def test_register_buffer_accepts_numeric_arrays_tensors_and_none(value):
    module = nn.Module()
    module.register_buffer("x", value)
    assert module.x is None if value is None else isinstance(module.x, np.ndarray)


def test_assigning_a_non_numeric_array_to_a_buffer_raises():
    module = nn.Module()
    module.register_buffer("x", np.zeros(2))
    with pytest.raises(TypeError, match="dtype <U1 to buffer 'x'"):
        module.x = np.array(["a", "b"])


def test_deleting_a_submodule_unregisters_it():
    model = TwoLayer()
    del model.act
    assert [name for name, _ in model.named_children()] == ["fc1", "fc2"]


def test_forward_missing_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ------------------------------------------------------------------ modes, grads, dtype

def test_train_and_eval_reach_every_submodule():
    model = small_cnn()
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_train_rejects_a_non_bool():
    with pytest.raises(TypeError, match="bool"):
        TwoLayer().train(1)


def test_zero_grad_sets_grads_to_none():
    model = TwoLayer()
    model(tg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_double_casts_parameters_and_float_buffers():
    model = small_cnn().double()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64


# ------------------------------------------------------------------ state dicts

def test_state_dict_uses_pytorch_keys_in_pytorch_order():
    keys = list(small_cnn().state_dict())
    assert keys == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                    "1.running_var", "1.num_batches_tracked", "5.weight", "5.bias"]


def test_state_dict_values_are_detached_tensors_sharing_the_parameters_memory():
    model = TwoLayer()
    state = model.state_dict()
    assert all(type(value) is Tensor and not value.requires_grad for value in state.values())
    state["fc1.weight"][...] = 7
    assert np.all(model.fc1.weight.numpy() == 7)
    with tg.no_grad():
        model.fc2.weight.add_(1.0)
    np.testing.assert_array_equal(state["fc2.weight"], model.fc2.weight.detach())


def test_state_dict_buffers_share_the_buffers_memory():
    layer = nn.BatchNorm1d(2)
    state = layer.state_dict()
    state["running_mean"].fill_(3.0)
    state["num_batches_tracked"].add_(4)
    np.testing.assert_array_equal(layer.running_mean, [3.0, 3.0])
    assert int(layer.num_batches_tracked) == 4


def test_state_dict_values_share_the_parameters_version_counter():
    layer = nn.Linear(2, 2)
    before = layer.weight._version
    layer.state_dict()["weight"].mul_(2.0)
    assert layer.weight._version == before + 1


def test_a_cast_to_the_dtype_already_held_keeps_the_state_dict_shared():
    model = TwoLayer()
    state = model.state_dict()
    model.float()
    with tg.no_grad():
        model.fc1.weight.fill_(2.0)
    assert np.all(state["fc1.weight"].numpy() == 2.0)


def test_clone_and_deepcopy_of_a_state_dict_are_real_copies():
    import copy

    model = TwoLayer()
    cloned = {key: value.clone() for key, value in model.state_dict().items()}
    deep = copy.deepcopy(model.state_dict())
    with tg.no_grad():
        model.fc1.weight.fill_(5.0)
    assert not np.any(cloned["fc1.weight"].numpy() == 5.0)
    assert not np.any(deep["fc1.weight"].numpy() == 5.0)
    assert deep._metadata == model.state_dict()._metadata


def test_state_dict_is_an_ordered_dict_with_pytorch_metadata():
    from collections import OrderedDict

    state = small_cnn().state_dict()
    assert type(state) is OrderedDict
    assert dict(state._metadata) == {"": {"version": 1}, "0": {"version": 1},
                                     "1": {"version": 2}, "2": {"version": 1},
                                     "3": {"version": 1}, "4": {"version": 1},
                                     "5": {"version": 1}}


def test_state_dict_keep_vars_gives_the_parameters_themselves():
    model = TwoLayer()
    state = model.state_dict(keep_vars=True)
    assert state["fc1.weight"] is model.fc1.weight and state["fc1.weight"].requires_grad


def test_state_dict_prefix_and_destination():
    layer = nn.Linear(2, 1)
    destination = {"other": 1}
    assert layer.state_dict(destination=destination, prefix="head.") is destination
    assert list(destination) == ["other", "head.weight", "head.bias"]
    assert list(layer.state_dict(prefix="m.")._metadata) == ["m"]


def test_state_dict_positional_arguments_warn_as_pytorch():
    layer = nn.Linear(2, 1)
    with pytest.warns(FutureWarning, match="positional args"):
        state = layer.state_dict(None, "p.", True)
    assert list(state) == ["p.weight", "p.bias"] and state["p.weight"] is layer.weight


def test_load_state_dict_round_trips_and_keeps_parameter_objects():
    source, target = TwoLayer(), TwoLayer()
    weight = target.fc1.weight
    target.load_state_dict(source.state_dict())
    assert target.fc1.weight is weight
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)


def test_load_state_dict_copies_so_the_source_stays_independent():
    source, target = nn.Linear(2, 2), nn.Linear(2, 2)
    target.load_state_dict(source.state_dict())
    with tg.no_grad():
        source.weight.fill_(9.0)
    assert not np.any(target.weight.numpy() == 9.0)


def test_a_module_loads_its_own_state_dict():
    model = TwoLayer()
    expected = {key: value.clone() for key, value in model.state_dict().items()}
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    for key, value in expected.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_lists():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": [[1, 2]], "bias": np.array([0.5], dtype=np.float64)})
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, [[1, 2]])


def test_load_state_dict_accepts_tensors_of_another_dtype():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": tg.tensor([[1.0, 2.0]], dtype=tg.float64),
                           "bias": tg.zeros(1)})
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.numpy(), [[1, 2]])


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = TwoLayer()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    bad = dict(model.state_dict())
    del bad["fc1.bias"], bad["steps"]
    bad["fc1.weight"] = np.full((4, 3), 8.0)  # fits: must not be copied either
    bad["fc2.weight"] = np.zeros((5, 5))
    bad["extra.weight"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(bad)
    assert isinstance(error.value, RuntimeError)
    message = str(error.value)
    for text in ("Error(s) in loading state_dict for TwoLayer",
                 'Missing key(s) in state_dict: "steps", "fc1.bias". ',  # PyTorch's walk order
                 'Unexpected key(s) in state_dict: "extra.weight". ',
                 "size mismatch for fc2.weight: copying a param with shape (5, 5) from "
                 "checkpoint, the shape in current model is (2, 4)."):
        assert text in message
    for key, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)


def test_non_strict_load_returns_missing_and_unexpected_keys():
    model = TwoLayer()
    state = model.state_dict()
    del state["steps"]
    state["other"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["steps"] and result.unexpected_keys == ["other"]
    assert repr(result) == ("_IncompatibleKeys(missing_keys=['steps'], "
                            "unexpected_keys=['other'])")


def test_non_strict_load_still_rejects_a_shape_mismatch():
    with pytest.raises(ValueError, match="size mismatch for weight"):
        nn.Linear(2, 2).load_state_dict({"weight": np.zeros((3, 2))}, strict=False)


def test_load_state_dict_rejects_what_is_not_dict_like():
    with pytest.raises(TypeError, match="dict-like, got list"):
        nn.Linear(2, 2).load_state_dict([np.zeros((2, 2))])


def test_load_state_dict_rejects_a_non_numeric_value_by_key():
    with pytest.raises(RuntimeError, match='parameter named "bias"'):
        nn.Linear(2, 2).load_state_dict({"weight": np.zeros((2, 2)), "bias": "zeros"})


def test_unexpected_keys_follow_pytorchs_walk():
    model = nn.Sequential(nn.Linear(2, 2, bias=False))
    model.add_module("gone", None)
    model.register_buffer("cache", np.zeros(1), persistent=False)
    state = {"0.weight": np.zeros((2, 2)), "0.bias": np.zeros(2), "gone.weight": np.zeros(1),
             "cache": np.zeros(1), "1.weight": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    # a None parameter and a non-persistent buffer are unexpected; a None child's keys not
    assert result.unexpected_keys == ["cache", "1.weight", "0.bias"]


def test_batchnorm_loads_a_plain_dict_without_num_batches_tracked_keeping_its_count():
    layer = nn.BatchNorm1d(2)
    layer.num_batches_tracked += 3
    state = {k: v.clone() for k, v in layer.state_dict().items() if "batches" not in k}
    assert layer.load_state_dict(state).missing_keys == []
    assert int(layer.num_batches_tracked) == 3


def test_batchnorm_state_dict_with_metadata_must_have_num_batches_tracked():
    layer = nn.BatchNorm1d(2)
    state = layer.state_dict()
    del state["num_batches_tracked"]
    with pytest.raises(RuntimeError, match='Missing key.*"num_batches_tracked"'):
        layer.load_state_dict(state)


def test_a_one_element_vector_loads_into_a_scalar_buffer():
    layer = nn.BatchNorm1d(2)
    state = dict(layer.state_dict())
    state["num_batches_tracked"] = np.array([5])
    layer.load_state_dict(state)
    assert layer.num_batches_tracked.shape == () and int(layer.num_batches_tracked) == 5


def test_load_state_dict_assign_makes_the_values_the_parameters_and_buffers():
    layer = nn.BatchNorm1d(2)
    layer.bias.requires_grad_(False)
    weight = tg.tensor([2.0, 3.0], dtype=tg.float64)
    mean = np.array([1.0, 1.0], dtype=np.float32)
    state = dict(layer.state_dict(), weight=weight, running_mean=mean)
    layer.load_state_dict(state, assign=True)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.dtype == np.float64
    assert layer.weight.requires_grad and not layer.bias.requires_grad
    weight.add_(1.0)
    mean += 1.0
    np.testing.assert_array_equal(layer.weight.detach(), [3.0, 4.0])
    np.testing.assert_array_equal(layer.running_mean, [2.0, 2.0])
    assert list(layer.state_dict())[0] == "weight"


def test_load_state_dict_assign_refuses_an_integer_parameter_that_requires_grad():
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match="floating point"):
        layer.load_state_dict({"weight": np.ones((1, 2), dtype=np.int64),
                               "bias": np.zeros(1)}, assign=True)
    assert layer.weight.dtype == np.float32


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.calls = 0

    def get_extra_state(self):
        return {"calls": self.calls}

    def set_extra_state(self, state):
        self.calls = state["calls"]


def test_extra_state_is_saved_and_loaded_as_pytorch():
    source = Counter()
    source.calls = 4
    state = source.state_dict()
    assert list(state) == ["_extra_state", "linear.weight", "linear.bias"]
    target = Counter()
    target.load_state_dict(state)
    assert target.calls == 4
    with pytest.raises(RuntimeError, match='Missing key.*"_extra_state"'):
        Counter().load_state_dict({k: v for k, v in state.items() if k != "_extra_state"})


def test_a_load_post_hook_sees_the_loaded_module_and_may_clear_the_keys():
    layer = nn.Linear(2, 1)
    seen = []

    def hook(module, incompatible):
        seen.append(module.weight.numpy().copy())
        incompatible.unexpected_keys.clear()

    layer.register_load_state_dict_post_hook(hook)
    result = layer.load_state_dict({"weight": np.ones((1, 2)), "bias": np.zeros(1),
                                    "old": np.zeros(1)})
    np.testing.assert_array_equal(seen[0], [[1, 1]])
    assert result.unexpected_keys == []


def test_a_state_dict_post_hook_must_return_none():
    layer = nn.Linear(2, 1)
    layer.register_state_dict_post_hook(lambda module, state, prefix, metadata: {})
    with pytest.raises(RuntimeError, match="must return None"):
        layer.state_dict()


def test_a_removed_state_dict_hook_is_not_called():
    layer = nn.Linear(2, 1)
    calls = []
    handle = layer.register_state_dict_pre_hook(lambda *args: calls.append(args))
    layer.state_dict()
    handle.remove()
    layer.state_dict()
    assert calls == [(layer, "", False)]


# ------------------------------------------------------------------ repr

def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.Sequential(nn.ReLU()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "  )\n"
        ")"
    )


@pytest.mark.parametrize("layer, text", [
    (nn.Linear(2, 3), "Linear(in_features=2, out_features=3, bias=True)"),
    (nn.Conv1d(1, 2, 3, bias=False), "Conv1d(1, 2, kernel_size=(3,), stride=(1,), bias=False)"),
    (nn.ConvTranspose2d(2, 4, 3, 2, 1, 1),
     "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
     "output_padding=(1, 1))"),
    (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (nn.LPPool2d(2, 2), "LPPool2d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)"),
    (nn.BatchNorm2d(3), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)"),
    (nn.Dropout(), "Dropout(p=0.5, inplace=False)"),
    (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (nn.Tanh(), "Tanh()"),
])
def test_layer_repr_matches_pytorch(layer, text):
    assert repr(layer) == text


# ------------------------------------------------------------------ initialisation

@pytest.mark.parametrize("make_layer, fan_in", [
    (lambda: nn.Linear(60, 70), 60),
    (lambda: nn.Conv2d(6, 40, 3, groups=2), 3 * 9),
    (lambda: nn.Conv1d(4, 50, 5), 20),
    # PyTorch takes a transposed conv's fan_in from weight.shape[1] = out_channels/groups.
    (lambda: nn.ConvTranspose2d(6, 40, 3), 40 * 9),
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(make_layer, fan_in):
    tg.manual_seed(0)
    layer = make_layer()
    bound = 1 / math.sqrt(fan_in)
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound
    weights = layer.weight.numpy().ravel()
    # A uniform sample of thousands reaches near both ends and has variance bound**2 / 3.
    assert weights.max() > 0.95 * bound and weights.min() < -0.95 * bound
    assert abs(weights.var() / (bound**2 / 3) - 1) < 0.1


def test_manual_seed_makes_initialisation_repeatable():
    tg.manual_seed(3)
    first = small_cnn().state_dict()
    tg.manual_seed(3)
    second = small_cnn().state_dict()
    tg.manual_seed(4)
    third = small_cnn().state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["0.weight"], third["0.weight"])


def test_calculate_fan_in_and_fan_out_of_a_conv_weight():
    weight = tg.zeros(8, 3, 5, 5)
    assert nn.init.calculate_fan_in_and_fan_out(weight) == (75, 200)


# ------------------------------------------------------------------ layers

def test_linear_computes_x_times_weight_transposed_plus_bias():
    layer = nn.Linear(3, 2)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(Tensor(x)).data, expected, rtol=1e-6)


def test_linear_on_the_wrong_width_gives_the_functional_error():
    with pytest.raises(ValueError, match="linear"):
        nn.Linear(3, 2)(tg.zeros(4, 5))


def test_conv2d_on_the_wrong_channels_gives_the_functional_error():
    with pytest.raises(ValueError, match="conv2d: input has 1 channels but weight expects 3"):
        nn.Conv2d(3, 8, 3)(tg.zeros(1, 1, 5, 5))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(-1, 2), "in_features"),
    (lambda: nn.Linear(2.0, 2), "in_features"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels \\(3\\) must be divisible"),
    (lambda: nn.Conv2d(2, 3, 3, groups=2), "out_channels \\(3\\) must be divisible"),
    (lambda: nn.Conv2d(1, 1, 0), "kernel_size"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"), "same"),
    (lambda: nn.Conv2d(1, 1, 3, padding=-1), "padding"),
    (lambda: nn.MaxPool2d(2, stride=0), "stride"),
    (lambda: nn.Dropout(1.5), "Dropout: p must be >= 0 and <= 1"),
    (lambda: nn.BatchNorm2d(0), "num_features"),
])
def test_bad_constructor_arguments_raise_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.MaxPool2d(2, padding=2), ValueError, "MaxPool2d: padding"),
    (lambda: nn.AvgPool2d(3, padding=2), ValueError, "AvgPool2d: padding"),
    (lambda: nn.MaxPool2d(2, stride=(1, 2, 3)), TypeError, "MaxPool2d: stride"),
    (lambda: nn.MaxPool2d(2, ceil_mode=1), TypeError, "MaxPool2d: ceil_mode"),
    (lambda: nn.AvgPool2d(2, count_include_pad=None), TypeError, "count_include_pad"),
    (lambda: nn.LPPool2d(float("inf"), 2), ValueError, "norm_type"),
    (lambda: nn.LPPool2d(2, 0), ValueError, "LPPool2d: kernel_size"),
])
def test_pool_layers_check_their_arguments_at_construction(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_pool_layer_with_half_kernel_padding_constructs_and_runs():
    layer = nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
    assert layer(tg.zeros(1, 1, 4, 4)).shape == (1, 1, 4, 4)


def test_flatten_keeps_the_batch_dimension():
    assert nn.Flatten()(tg.zeros(2, 3, 4, 5)).shape == (2, 60)


def test_dropout_is_the_identity_in_eval_mode():
    layer = nn.Dropout(0.5).eval()
    x = tg.ones(100)
    np.testing.assert_array_equal(layer(x).data, x.data)


def test_dropout_in_training_zeroes_and_rescales():
    tg.manual_seed(0)
    out = nn.Dropout(0.25)(tg.ones(10000)).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.03


def test_activations_apply_their_function():
    x = Tensor(np.array([-2.0, 0.5], dtype=np.float32))
    np.testing.assert_allclose(nn.ReLU()(x).data, [0, 0.5])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [-0.2, 0.5])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp([2.0, -0.5])), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh([-2.0, 0.5]), rtol=1e-6)


# ------------------------------------------------------------------ Sequential

def test_sequential_indexing_len_and_iteration():
    relu, tanh, sigmoid = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    model = nn.Sequential(relu, tanh, sigmoid)
    assert len(model) == 3 and model[-1] is sigmoid and list(model) == [relu, tanh, sigmoid]
    assert list(model[1:]) == [tanh, sigmoid]
    with pytest.raises(IndexError):
        model[3]


def test_sequential_delete_renumbers_like_pytorch():
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    del model[1]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_sequential_from_a_dict_uses_its_names():
    model = nn.Sequential({"fc": nn.Linear(1, 1)}).append(nn.ReLU())
    assert [name for name, _ in model.named_children()] == ["fc", "1"]


def test_sequential_rejects_a_non_module():
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# ------------------------------------------------------------------ BatchNorm2d

def batch(shape=(4, 3, 5, 5), seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return Tensor((rng.standard_normal(shape) * 2 + 3).astype(dtype))


def test_batchnorm_training_output_has_zero_mean_and_unit_variance():
    out = nn.BatchNorm2d(3)(batch()).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm_running_stats_use_momentum_and_unbiased_variance():
    layer = nn.BatchNorm2d(3, momentum=0.3)
    x = batch()
    layer(x)
    data = x.numpy().astype(np.float64)
    np.testing.assert_allclose(layer.running_mean, 0.3 * data.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var, 0.7 + 0.3 * data.var(axis=(0, 2, 3), ddof=1),
                               rtol=1e-5)
    assert layer.num_batches_tracked == 1


def test_batchnorm_momentum_none_keeps_the_cumulative_average():
    layer = nn.BatchNorm2d(3, momentum=None)
    batches = [batch(seed=s) for s in range(3)]
    for x in batches:
        layer(x)
    means = [x.data.astype(np.float64).mean(axis=(0, 2, 3)) for x in batches]
    np.testing.assert_allclose(layer.running_mean, np.mean(means, axis=0), rtol=1e-5)
    assert layer.num_batches_tracked == 3


def test_batchnorm_eval_normalises_with_running_stats():
    layer = nn.BatchNorm2d(3).eval()
    layer.running_mean[...] = [1, 2, 3]
    layer.running_var[...] = [4, 9, 16]
    x = batch()
    expected = (x.data - np.array([1, 2, 3]).reshape(1, 3, 1, 1)) / np.sqrt(
        np.array([4, 9, 16]).reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-5)
    assert layer.num_batches_tracked == 0


def test_batchnorm_without_running_stats_has_no_buffers_and_uses_batch_stats_in_eval():
    layer = nn.BatchNorm2d(3, track_running_stats=False).eval()
    assert layer.running_mean is None and list(layer.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(layer(batch()).data.mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_batchnorm_without_affine_has_no_parameters():
    assert list(nn.BatchNorm2d(3, affine=False).parameters()) == []


@pytest.mark.parametrize("x, message", [
    (tg.zeros(2, 3, 4), "expected 4D input"),
    (tg.zeros(2, 4, 3, 3), "input has 4 channels but num_features is 3"),
    (tg.zeros(1, 3, 1, 1), "more than 1 value per channel"),
])
def test_batchnorm_bad_input_raises_clearly(x, message):
    with pytest.raises(ValueError, match=message):
        nn.BatchNorm2d(3)(x)


def test_batchnorm2d_module_forward_is_functional_batch_norm():
    layer = nn.BatchNorm2d(3)
    layer.weight.data[...] = [1, 2, 3]
    x = batch()
    expected = F.batch_norm(x, None, None, layer.weight, layer.bias, training=True)
    np.testing.assert_array_equal(layer(x).data, expected.data)


def test_functional_batch_norm_rejects_wrong_statistics_shapes():
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        F.batch_norm(tg.zeros(2, 3, 4, 4), np.zeros(2), np.ones(3))


def _expected_running_stats(x, momentum=0.1):
    data = x.numpy().astype(np.float64)
    return (momentum * data.mean(axis=(0, 2, 3)),
            (1 - momentum) + momentum * data.var(axis=(0, 2, 3), ddof=1))


@pytest.mark.parametrize("wrap", [np.asarray, Tensor], ids=["ndarray", "Tensor"])
def test_functional_batch_norm_updates_running_stats_in_place(wrap):
    running_mean, running_var = wrap(np.zeros(3, np.float32)), wrap(np.ones(3, np.float32))
    mean_array = running_mean.numpy() if isinstance(running_mean, Tensor) else running_mean
    x = batch()
    F.batch_norm(x, running_mean, running_var, training=True)
    expected_mean, expected_var = _expected_running_stats(x)
    as_array = (lambda v: v.numpy()) if isinstance(running_mean, Tensor) else np.asarray
    assert as_array(running_mean) is mean_array  # updated in place, not rebound
    np.testing.assert_allclose(as_array(running_mean), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(as_array(running_var), expected_var, rtol=1e-5)


def test_functional_batch_norm_eval_accepts_tensor_running_stats():
    x = batch()
    mean, var = np.array([1.0, 2.0, 3.0], np.float32), np.array([4.0, 9.0, 16.0], np.float32)
    expected = F.batch_norm(x, mean, var).data
    np.testing.assert_allclose(F.batch_norm(x, Tensor(mean), Tensor(var)).data, expected)


@pytest.mark.parametrize("running_mean, words", [
    ([0.0, 0.0, 0.0], "list"),
    (np.zeros(3, np.int64), "int64"),
    ((0.0, 0.0, 0.0), "tuple"),
])
def test_functional_batch_norm_rejects_running_stats_it_cannot_update(running_mean, words):
    with pytest.raises(TypeError, match=rf"batch_norm: running_mean must be .*{words}"):
        F.batch_norm(batch(), running_mean, np.ones(3, np.float32), training=True)
