"""Module buffers as PyTorch scripts use them, written once in PyTorch's spelling and run under
both libraries (the ``lib`` fixture), compared with PyTorch's run (``reference``).

Buffers are Tensors that do not require grad: BatchNorm's running statistics are reset with
``zero_()``/``fill_()`` or ``nn.init``, copied with ``clone()``, compared with
``torch.allclose``; ``num_batches_tracked`` is a 0-d int64 tensor; ``register_buffer`` keeps
the tensor it is given (or ``None``), ``persistent=False`` keeps a buffer out of the state
dict; ``double()``/``to(dtype)`` convert the floating buffers only, each into a new tensor;
state dicts share the buffers' memory, so training steps show in a state dict taken before.
Each ``*_program(L)`` is what a user writes, ``L.torch``/``L.nn``/``L.F`` standing for
``torch``, ``torch.nn`` and ``torch.nn.functional``.
"""

import copy

import numpy as np
from compat_lib import assert_same


def check(program, lib, reference, **tolerances):
    assert_same(program(lib), program(reference), **tolerances)


def dtype_name(tensor) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1]


def small_cnn(L, seed=0):
    """``Conv2d -> BatchNorm2d -> ReLU -> Flatten -> Linear`` with numpy-drawn weights."""
    nn, torch = L.nn, L.torch
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 2 * 2, 4))
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.from_numpy(
                (rng.standard_normal(tuple(param.shape)) * 0.5).astype(np.float32)))
    return model


def batches(L, count=3, seed=1):
    rng = np.random.default_rng(seed)
    return [(L.torch.from_numpy(rng.standard_normal((6, 2, 4, 4)).astype(np.float32) * 2 + 1),
             L.torch.from_numpy(rng.integers(0, 4, 6))) for _ in range(count)]


def train(L, model, steps, dtype=None):
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    losses = []
    for x, y in batches(L, steps):
        x = x if dtype is None else x.to(dtype)
        optimizer.zero_grad()
        loss = L.F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ----------------------------------------------------------------------------- basic facts
def buffer_facts_program(L):
    nn, torch = L.nn, L.torch
    model = small_cnn(L)
    bn = model[1]
    return {
        "tensors": [isinstance(b, torch.Tensor) for b in model.buffers()],
        "no grad": [b.requires_grad for b in model.buffers()],
        "names": [name for name, _ in model.named_buffers()],
        "shapes": [tuple(b.shape) for _, b in model.named_buffers()],
        "dtypes": [dtype_name(b) for b in model.buffers()],
        "count": bn.num_batches_tracked, "count dim": bn.num_batches_tracked.dim(),
        "count item": bn.num_batches_tracked.item(),
        "mean": bn.running_mean, "var": bn.running_var,
        "get_buffer": model.get_buffer("1.running_var") is bn.running_var,
        "not parameters": len(list(model.parameters())),
        "prefixed": [name for name, _ in model[1].named_buffers(prefix="bn")],
        "no recursion": [name for name, _ in model.named_buffers(recurse=False)],
        "buffer is a leaf": bn.running_mean.is_leaf,
        "numel": bn.running_mean.numel(),
        "a parameter of nn.Linear is not a buffer": isinstance(model[4].weight, nn.Parameter),
    }


def test_buffers_are_tensors_without_grad(lib, reference):
    check(buffer_facts_program, lib, reference)


def in_place_program(L):
    nn, torch = L.nn, L.torch
    model = small_cnn(L)
    bn = model[1]
    state = model.state_dict()
    with torch.no_grad():
        bn.running_mean.fill_(0.5)
        bn.running_var.mul_(3.0)
        bn.num_batches_tracked.add_(2)
    seen = {"state dict sees fill_": state["1.running_mean"].clone(),
            "state dict sees mul_": state["1.running_var"].clone(),
            "state dict sees add_": state["1.num_batches_tracked"].item()}
    snapshot = bn.running_mean.clone()
    bn.running_mean.zero_()
    bn.running_var.fill_(1)
    nn.init.constant_(bn.running_mean, 0.25)
    after_init = bn.running_mean.clone()
    nn.init.zeros_(bn.running_mean)
    nn.init.ones_(bn.running_var)
    return {**seen, "clone kept": snapshot, "after nn.init.constant_": after_init,
            "mean": bn.running_mean, "var": bn.running_var,
            "allclose to fresh": torch.allclose(bn.running_var, nn.BatchNorm2d(3).running_var),
            "equal to fresh": torch.equal(bn.running_mean, nn.BatchNorm2d(3).running_mean)}


def test_buffers_change_in_place_and_state_dicts_see_it(lib, reference):
    check(in_place_program, lib, reference)


# ----------------------------------------------------------------------------- training
def training_program(L):
    torch = L.torch
    model = small_cnn(L)
    before = model.state_dict()
    kept = model.state_dict(keep_vars=True)
    copied = {key: value.clone() for key, value in before.items()}
    losses = train(L, model, 3)
    bn = model[1]
    twin = small_cnn(L)
    train(L, twin, 3)
    model.eval()
    x, _ = batches(L, 1, seed=5)[0]
    return {
        "losses": losses, "mean": bn.running_mean, "var": bn.running_var,
        "count": bn.num_batches_tracked.item(),
        "earlier state dict sees training": torch.equal(before["1.running_mean"],
                                                        bn.running_mean),
        "earlier count": before["1.num_batches_tracked"].item(),
        "keep_vars gives the buffer itself": kept["1.running_var"] is bn.running_var,
        "plain state dict is a new tensor": before["1.running_var"] is not bn.running_var,
        "clone unchanged": copied["1.running_mean"],
        "same training, same stats": torch.allclose(bn.running_mean, twin[1].running_mean),
        "eval output": model(x),
    }


def test_training_updates_running_stats_in_place(lib, reference):
    check(training_program, lib, reference, rtol=1e-4, atol=1e-5)


def momentum_none_and_reset_program(L):
    nn = L.nn
    model = small_cnn(L)
    model[1].momentum = None  # cumulative average over num_batches_tracked batches
    train(L, model, 3)
    cumulative = model[1].running_mean.clone()

    def reset(module):
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()

    state = model.state_dict()
    model.apply(reset)
    return {"cumulative": cumulative, "after reset": model[1].running_mean,
            "reset count": model[1].num_batches_tracked.item(),
            "state dict sees the reset": state["1.running_var"]}


def test_cumulative_average_and_reset_running_stats(lib, reference):
    check(momentum_none_and_reset_program, lib, reference, rtol=1e-4, atol=1e-5)


def functional_batch_norm_program(L):
    torch, F = L.torch, L.F
    running_mean, running_var = torch.zeros(3), torch.ones(3)
    mean_before = running_mean
    x = batches(L, 1)[0][0][:, :2].reshape(6, 2, 16)[:, :, :3].permute(0, 2, 1)
    out = F.batch_norm(x.contiguous(), running_mean, running_var, training=True,
                       momentum=0.2)
    evaluated = F.batch_norm(x.contiguous(), running_mean, running_var, training=False)
    return {"out": out, "mean": running_mean, "var": running_var, "eval": evaluated,
            "same object": running_mean is mean_before}


def test_functional_batch_norm_updates_tensor_stats_in_place(lib, reference):
    check(functional_batch_norm_program, lib, reference, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- dtypes
def dtype_program(L):
    torch = L.torch
    model = small_cnn(L)
    state = model.state_dict()
    old_mean = model[1].running_mean
    model.double()
    facts = {"double": [dtype_name(b) for b in model.buffers()],
             "a new tensor": model[1].running_mean is not old_mean,
             "earlier state dict keeps float32": dtype_name(state["1.running_mean"]),
             "count kept": model[1].num_batches_tracked is state["1.num_batches_tracked"]
             or torch.equal(model[1].num_batches_tracked, state["1.num_batches_tracked"])}
    facts["losses float64"] = train(L, model, 2, dtype=torch.float64)
    facts["earlier state dict misses float64 training"] = state["1.running_mean"]
    facts["trained stats"] = model[1].running_mean
    model.float()
    facts["float"] = [dtype_name(b) for b in model.buffers()]
    model.to(torch.float64)
    facts["to(float64)"] = [dtype_name(b) for b in model.buffers()]
    model.half()
    facts["half"] = [dtype_name(b) for b in model.buffers()]
    model.to(dtype=torch.float32)
    facts["back"] = model[1].running_var
    return facts


def test_double_float_half_and_to_convert_floating_buffers_only(lib, reference):
    check(dtype_program, lib, reference, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- registering
def register_program(L):
    nn, torch = L.nn, L.torch

    class Scaler(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 3)
            self.register_buffer("scale", torch.full((3,), 2.0))
            self.register_buffer("cache", torch.zeros(3), persistent=False)
            self.register_buffer("mask", None)
            self.register_buffer("steps", torch.tensor(0))

        def forward(self, x):
            self.steps += 1
            self.cache = x.detach().mean(0)
            out = self.linear(x) * self.scale
            return out if self.mask is None else out * self.mask

    model = Scaler()
    with torch.no_grad():
        model.linear.weight.copy_(torch.eye(3) - 0.5)
        model.linear.bias.fill_(0.25)
    scale = model.scale
    x = torch.arange(6.0).reshape(2, 3)
    first = model(x)
    names = [name for name, _ in model.named_buffers()]
    keys = list(model.state_dict())
    model.mask = torch.tensor([1.0, 0.0, 1.0])  # a None buffer takes a tensor
    masked = model(x)
    try:
        model.scale = [1.0, 2.0, 3.0]
        error = ""
    except TypeError as caught:
        error = type(caught).__name__
    duplicate = copy.deepcopy(model)
    duplicate.scale.fill_(5.0)
    model.double()
    return {"first": first, "masked": masked, "names": names, "state keys": keys,
            "keys with the mask": list(model.state_dict()),
            "scale is the registered tensor": scale is not None and names[0] == "scale",
            "cache": model.cache, "steps": model.steps.item(),
            "steps stays int64": dtype_name(model.steps),
            "cache is float64 now": dtype_name(model.cache),
            "a list is refused": error, "deepcopy is separate": model.scale,
            "deepcopy buffer": duplicate.scale,
            "deepcopy names": [name for name, _ in duplicate.named_buffers()]}


def test_register_buffer_none_persistent_and_reassignment(lib, reference):
    check(register_program, lib, reference)


def register_keeps_the_tensor_program(L):
    nn, torch = L.nn, L.torch
    module = nn.Module()
    table = torch.arange(4.0)
    module.register_buffer("table", table)
    same = module.table is table
    replacement = torch.ones(2)
    module.table = replacement
    return {"same object": same, "reassigned object": module.table is replacement,
            "buffers": list(module.buffers()),
            "not a parameter": list(module.parameters()) == []}


def test_register_buffer_keeps_the_tensor_object(lib, reference):
    check(register_keeps_the_tensor_program, lib, reference)


def loss_weight_program(L):
    nn, torch = L.nn, L.torch
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0])
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    x, y = batches(L, 1)[0]
    logits = x.reshape(6, -1)[:, :4]
    first = loss_fn(logits, y)
    loss_fn.weight.mul_(2.0)
    loss_fn.double()
    return {"first": first, "names": [name for name, _ in loss_fn.named_buffers()],
            "keys": list(loss_fn.state_dict()),
            "weight changed in place": weight,
            "converted": dtype_name(loss_fn.weight),
            "second": loss_fn(logits.double(), y),
            "bce pos_weight": [name for name, _ in nn.BCEWithLogitsLoss(
                pos_weight=torch.ones(3)).named_buffers()]}


def test_a_loss_weight_is_a_buffer(lib, reference):
    check(loss_weight_program, lib, reference)


def load_into_buffers_program(L):
    torch = L.torch
    source = small_cnn(L, seed=3)
    train(L, source, 2)
    target = small_cnn(L, seed=4)
    target_mean = target[1].running_mean
    target.load_state_dict(source.state_dict())
    copied_in_place = target[1].running_mean is target_mean
    assigned = small_cnn(L, seed=4)
    state = {key: value.clone() for key, value in source.state_dict().items()}
    assigned.load_state_dict(state, assign=True)
    return {"copied in place": copied_in_place, "loaded mean": target[1].running_mean,
            "loaded count": target[1].num_batches_tracked.item(),
            "assign keeps the given tensor": assigned[1].running_var is state["1.running_var"],
            "assigned var": assigned[1].running_var,
            "equal": torch.equal(assigned[1].running_mean, target[1].running_mean)}


def test_load_state_dict_fills_buffers_in_place_or_assigns_them(lib, reference):
    check(load_into_buffers_program, lib, reference, rtol=1e-4, atol=1e-5)


def shared_buffer_program(L):
    nn, torch = L.nn, L.torch
    bn = nn.BatchNorm1d(2)
    model = nn.Sequential(bn, nn.ReLU(), bn)
    shared = torch.ones(2)
    model[1].register_buffer("shared", shared)
    model.register_buffer("shared", shared)
    return {"once": [name for name, _ in model.named_buffers()],
            "every name": [name for name, _ in model.named_buffers(remove_duplicate=False)],
            "parameters every name": [
                name for name, _ in model.named_parameters(remove_duplicate=False)],
            "state keys": list(model.state_dict())}


def test_shared_buffers_once_or_under_every_name(lib, reference):
    check(shared_buffer_program, lib, reference)
