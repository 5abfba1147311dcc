"""ParameterList, ParameterDict and Buffer against PyTorch's: state-dict keys, parameters()
order, append / extend / update semantics, repr, and buffer registration by assignment."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _arrays(*shapes):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape) for shape in shapes]


def _both(make):
    """The same construction in both libraries: ``make(lib_nn, tensor)``."""
    return make(nn, tg.tensor), make(torch.nn, torch.tensor)


def _same(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_parameters()] == \
        [name for name, _ in theirs.named_parameters()]
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
    assert repr(ours) == repr(theirs).replace("torch.", "tinygrad_cnn.")


def test_parameter_list_registers_entries_as_0_1_and_wraps_tensors():
    a, b, c = _arrays((2, 3), (4,), (1,))

    def make(lib, tensor):
        entries = lib.ParameterList([lib.Parameter(tensor(a)), tensor(b)])
        entries.append(tensor(c))
        entries.extend([lib.Parameter(tensor(b))])
        entries += [tensor(a)]
        entries[1] = tensor(c)
        return entries

    ours, theirs = _both(make)
    _same(ours, theirs)
    assert len(ours) == 5 and all(isinstance(p, nn.Parameter) for p in ours)
    assert ours[-1].requires_grad and isinstance(ours[1:3], nn.ParameterList)
    assert [p.shape for p in ours[::2]] == [tuple(p.shape) for p in theirs[::2]]


def test_parameter_list_keeps_other_objects_outside_the_parameters():
    ours = nn.ParameterList([tg.zeros(2), "text", None])
    theirs = torch.nn.ParameterList([torch.zeros(2), "text", None])
    _same(ours, theirs)
    assert ours[1] == "text" and ours[2] is None


def test_parameter_list_shares_the_data_of_a_tensor_it_wraps():
    tensor = tg.zeros(3)
    entries = nn.ParameterList([tensor])
    tensor._data[0] = 5.0
    assert entries[0].numpy()[0] == 5.0


@pytest.mark.parametrize("call, error, match", [
    (lambda p: p.extend(tg.zeros(3)), TypeError,
     "ParameterList.extend should be called with an iterable"),
    (lambda p: p.extend(5), TypeError, "ParameterList.extend should be called"),
    (lambda p: p[2], IndexError, "ParameterList: index 2 is out of range"),
    (lambda p: p(tg.zeros(2)), RuntimeError, "ParameterList should not be called"),
])
def test_parameter_list_rejects_what_pytorch_rejects(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.ParameterList([tg.zeros(2), tg.zeros(3)]))


def test_parameter_dict_orders_keys_as_pytorch():
    a, b, c = _arrays((2, 3), (4,), (1,))

    def make(lib, tensor):
        entries = lib.ParameterDict({"zeta": tensor(a), "alpha": tensor(b)})  # sorted
        entries.update(OrderedDict([("mid", tensor(c)), ("beta", lib.Parameter(tensor(a)))]))
        entries.update([("gamma", tensor(b)), ("alpha", tensor(c))])  # kept in place
        entries["omega"] = tensor(a)
        entries.setdefault("delta", tensor(b))
        return entries

    ours, theirs = _both(make)
    _same(ours, theirs)
    assert list(ours) == list(theirs) and list(reversed(ours)) == list(reversed(theirs))
    assert list(ours.keys()) == list(theirs.keys())


def test_parameter_dict_removal_copy_and_union_as_pytorch():
    a, b, c = _arrays((2,), (3,), (4,))

    def make(lib, tensor):
        entries = lib.ParameterDict(OrderedDict(a=tensor(a), b=tensor(b), c=tensor(c)))
        popped = entries.pop("b")
        key, _ = entries.popitem()
        del entries["a"]
        merged = entries | lib.ParameterDict(OrderedDict(x=tensor(b)))
        merged |= OrderedDict(y=tensor(c))
        return merged, popped.shape, key, entries.get("a", "missing"), "x" in merged

    (ours, *facts), (theirs, *their_facts) = _both(make)
    _same(ours, theirs)
    assert facts[0] == tuple(their_facts[0]) and facts[1:] == their_facts[1:]
    copied = ours.copy()
    assert list(copied) == list(ours) and copied["x"] is ours["x"]
    assert list(nn.ParameterDict().fromkeys(["p", "q"])) == ["p", "q"]
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []


@pytest.mark.parametrize("call, error, match", [
    (lambda d: d.update(5), TypeError, "ParameterDict.update should be called with an "
                                       "iterable"),
    (lambda d: d.update([("a", tg.zeros(1), 3)]), ValueError,
     "ParameterDict.update: element #0 has length 3; 2 is required"),
    (lambda d: d.update([5]), TypeError, "ParameterDict.update: element #0 should be"),
    (lambda d: d.__setitem__(3, tg.zeros(1)), TypeError, "ParameterDict: a key must be a str"),
    (lambda d: d["missing"], AttributeError, "missing"),
    (lambda d: d(tg.zeros(1)), RuntimeError, "ParameterDict should not be called"),
])
def test_parameter_dict_rejects_what_pytorch_rejects(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.ParameterDict({"w": tg.zeros(2)}))


def test_containers_nested_in_a_model_give_pytorchs_state_dict_keys_and_load_its_weights():
    def make(lib):
        model = lib.Module()
        model.scales = lib.ParameterList([lib.Parameter(lib_zeros(lib, 3)) for _ in range(2)])
        model.named = lib.ParameterDict({"bias": lib.Parameter(lib_zeros(lib, 2))})
        model.linear = lib.Linear(3, 2)
        return model

    def lib_zeros(lib, size):
        return tg.zeros(size) if lib is nn else torch.zeros(size)

    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["scales.0", "scales.1", "named.bias", "linear.weight", "linear.bias"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.linear.weight.numpy(), theirs.linear.weight.detach())


# ------------------------------------------------------------------ Buffer
def _with_buffers(lib, tensor):
    class Model(lib.Module):
        def __init__(self):
            super().__init__()
            self.linear = lib.Linear(2, 2)
            self.mean = lib.Buffer(tensor(np.zeros(3)))
            self.scratch = lib.Buffer(tensor(np.ones(2)), persistent=False)
    return Model()


def test_assigning_a_buffer_registers_it_as_pytorch():
    ours, theirs = _with_buffers(nn, tg.tensor), _with_buffers(torch.nn, torch.tensor)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["mean", "linear.weight", "linear.bias"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert isinstance(ours.mean, nn.Buffer) and ours.scratch.persistent is False


def test_a_buffer_shares_its_data_and_keeps_requires_grad():
    source = tg.zeros(3, requires_grad=True)
    buffer = nn.Buffer(source)
    assert buffer.requires_grad and buffer.grad_fn is None
    source._data[1] = 4.0
    assert buffer.numpy()[1] == 4.0
    assert nn.Buffer().shape == torch.nn.Buffer().shape == (0,)


def test_a_buffer_replaces_an_attribute_and_a_tensor_keeps_the_buffer_slot():
    model = nn.Module()
    model.stats = 5
    model.stats = nn.Buffer(tg.zeros(2), persistent=False)
    assert "stats" not in model.state_dict() and "stats" in dict(model.named_buffers())
    model.stats = tg.ones(2)  # a plain Tensor into a buffer's name: still that buffer
    assert dict(model.named_buffers())["stats"].numpy().tolist() == [1.0, 1.0]
    model.stats = nn.Buffer(tg.ones(2))
    assert list(model.state_dict()) == ["stats"]
