"""PyTorch's ``nn.Module`` and optimizer idioms from training scripts, written once in
PyTorch's spelling and run under both libraries (the ``lib`` fixture), compared with PyTorch's
run (``reference``): state dicts, freezing and replacing layers, hooks, ``apply``, manual
learning-rate changes, gradient clipping.  Each ``*_program(L)`` is what a user writes, with
``L.torch``, ``L.nn`` and ``L.optim`` standing for ``torch``, ``torch.nn`` and ``torch.optim``.
"""

import copy

import numpy as np
import pytest
from compat_lib import assert_same


def check(program, lib, reference, **tolerances):
    assert_same(program(lib), program(reference), **tolerances)


def small_model(L, seed=0):
    """``Conv2d -> BatchNorm2d -> ReLU -> Flatten -> Linear`` with numpy-drawn weights."""
    nn, torch = L.nn, L.torch
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 2 * 2, 4))
    rng = np.random.default_rng(seed)
    model.load_state_dict({
        name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.5
                            + name.endswith("running_var")).astype(np.float32))
        for name, v in sorted(model.state_dict().items()) if "batches" not in name},
        strict=False)
    return model


def batch(L, seed=1):
    rng = np.random.default_rng(seed)
    return (L.torch.from_numpy(rng.standard_normal((5, 2, 4, 4)).astype(np.float32)),
            L.torch.from_numpy(rng.integers(0, 4, 5)))


# ----------------------------------------------------------------------------- state dicts
def state_dict_values_program(L):
    torch = L.torch
    model = small_model(L)
    state = model.state_dict()
    facts = {
        "keys": list(state),
        "sizes": [tuple(v.size()) for v in state.values()],
        "dtypes": [str(v.dtype).rsplit(".", 1)[-1] for v in state.values()],
        "floating": [v.is_floating_point() for v in state.values()],
        "clones": {k: v.clone() for k, v in state.items()},
        "on cpu": {k: v.cpu() for k, v in state.items()},
        "equal to the parameter": torch.equal(state["0.weight"], model[0].weight),
        "requires no grad": not any(v.requires_grad for v in state.values()),
    }
    # the values share memory with the model (hence deepcopy in best-model tracking)
    snapshot = copy.deepcopy(model.state_dict())
    state["4.bias"].zero_()
    facts["the model sees the change"] = model[4].bias.detach().abs().sum().item() == 0
    facts["the deepcopy does not"] = snapshot["4.bias"].abs().sum().item() > 0
    return facts


def test_state_dict_values_are_tensors_sharing_memory(lib, reference):
    check(state_dict_values_program, lib, reference)


def edit_clone_and_reload_program(L):
    """Change a model through its state dict, keep a real copy of it (as best-model tracking
    does), let the model move on, then load the copy into a fresh model."""
    torch = L.torch
    model = small_model(L).eval()
    x, _ = batch(L)
    state = model.state_dict()
    with torch.no_grad():
        state["0.weight"].mul_(0.5)
        state["1.running_mean"].add_(0.25)
        state["4.bias"].copy_(torch.arange(4.0))
    edited = model(x)
    best = {key: value.clone() for key, value in state.items()}
    with torch.no_grad():
        for param in model.parameters():
            param.add_(1.0)
    fresh = small_model(L, seed=7).eval()
    result = fresh.load_state_dict(best)
    return {"edited output": edited, "fresh output": fresh(x), "moved output": model(x),
            "the state dict sees the model move": state["4.bias"],
            "the clone does not": best["4.bias"], "result": repr(result),
            "fresh weight is a Parameter still": isinstance(fresh[0].weight, L.nn.Parameter)}


def test_edit_through_the_state_dict_clone_it_and_load_it_into_a_fresh_model(lib, reference):
    check(edit_clone_and_reload_program, lib, reference)


def state_dict_arguments_program(L):
    nn, torch = L.nn, L.torch
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    kept = model.state_dict(keep_vars=True)
    destination = {}
    returned = model.state_dict(destination=destination, prefix="net.")
    plain = model.state_dict()
    return {"keep_vars gives the parameters": kept["0.weight"] is model[0].weight,
            "keep_vars keeps requires_grad": kept["0.weight"].requires_grad,
            "default is detached": plain["0.weight"].requires_grad,
            "destination is returned": returned is destination,
            "prefixed keys": list(destination),
            "plain dict has no metadata": hasattr(destination, "_metadata"),
            "metadata": {key: value["version"] for key, value in plain._metadata.items()},
            "an OrderedDict": type(plain).__name__,
            "value types": sorted({type(v).__name__ for v in plain.values()}),
            "buffer dtype": str(plain["1.num_batches_tracked"].dtype).rsplit(".", 1)[-1],
            "bias": torch.equal(plain["0.bias"], model[0].bias.detach())}


def test_state_dict_keep_vars_prefix_destination_and_metadata(lib, reference):
    check(state_dict_arguments_program, lib, reference)


def load_state_dict_rules_program(L):
    nn, torch = L.nn, L.torch
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.BatchNorm1d(3))
    model.register_buffer("scratch", torch.zeros(1), persistent=False)
    state = {"1.weight": torch.ones(3), "0.bias": torch.zeros(3), "scratch": torch.ones(1),
             "0.weight": torch.full((3, 2), 0.5), "2.weight": torch.zeros(1),
             "1.bias": torch.zeros(3), "1.running_mean": torch.zeros(3)}
    loose = model.load_state_dict(state, strict=False)
    without_count = {key: value for key, value in model.state_dict().items()
                     if "num_batches" not in key}
    full = model.state_dict()
    del full["1.num_batches_tracked"]  # its _metadata says BatchNorm's layout has the count
    try:
        model.load_state_dict(full)
        message = ""
    except RuntimeError as error:
        message = str(error)
    return {"missing": loose.missing_keys, "unexpected": loose.unexpected_keys,
            "repr": repr(loose), "weight": model[0].weight,
            "a plain dict may lack num_batches_tracked": repr(
                model.load_state_dict(without_count)),
            "a state dict with metadata may not": [
                'Missing key(s) in state_dict: "1.num_batches_tracked". ' in message,
                "Error(s) in loading state_dict for Sequential:" in message],
            "strict=0 is not strict": model.load_state_dict({}, strict=0).missing_keys[:1]}


def test_load_state_dict_strictness_and_key_rules(lib, reference):
    check(load_state_dict_rules_program, lib, reference)


def assign_program(L):
    nn, torch = L.nn, L.torch
    layer = nn.Linear(2, 3)
    layer.bias.requires_grad_(False)
    weight = torch.full((3, 2), 2.0, dtype=torch.float64)
    layer.load_state_dict({"weight": weight, "bias": torch.ones(3)}, assign=True)
    with torch.no_grad():
        weight.add_(1.0)  # the assigned tensor is the parameter's memory now
    return {"weight": layer.weight, "dtype kept": str(layer.weight.dtype).rsplit(".", 1)[-1],
            "a Parameter": isinstance(layer.weight, nn.Parameter),
            "requires_grad kept": [layer.weight.requires_grad, layer.bias.requires_grad],
            "in parameters()": len(list(layer.parameters()))}


def test_load_state_dict_assign_makes_the_values_the_parameters(lib, reference):
    check(assign_program, lib, reference)


def state_dict_hooks_program(L):
    nn, torch = L.nn, L.torch
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.linspace(-1, 1, param.numel()).reshape(param.shape))
    calls = []
    model[0].register_state_dict_pre_hook(
        lambda module, prefix, keep_vars: calls.append(("pre", prefix, keep_vars)))

    def note(module, state, prefix, local_metadata):
        calls.append(("post", prefix, local_metadata["version"]))
        state[prefix + "note"] = torch.tensor(1.0)

    model.register_state_dict_post_hook(note)
    state = model.state_dict()

    def rename(module, state, prefix, local_metadata, strict, missing, unexpected, errors):
        for key in list(state):
            if key == prefix + "w":  # an old checkpoint's name
                state[prefix + "weight"] = state.pop(key)

    model[0].register_load_state_dict_pre_hook(rename)
    old = {key: value.clone() for key, value in state.items() if key != "note"}
    old["0.w"] = old.pop("0.weight") * 2
    old["extra"] = torch.zeros(1)

    def forgive(module, incompatible):
        calls.append(("load post", list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.clear()

    handle = model.register_load_state_dict_post_hook(forgive)
    result = model.load_state_dict(old)
    handle.remove()
    return {"calls": calls, "keys": list(state), "weight": model[0].weight,
            "result": repr(result), "strict without the post-hook": _raises(
                RuntimeError, model.load_state_dict, old),
            "the caller's dict is not renamed": sorted(old)}


def test_state_dict_and_load_state_dict_hooks(lib, reference):
    check(state_dict_hooks_program, lib, reference)


def save_and_load_program(L, folder):
    torch = L.torch
    model = small_model(L).eval()
    x, _ = batch(L)
    path = str(folder / f"{L.name}.pt")
    torch.save(model.state_dict(), path)
    loaded = torch.load(path)
    fresh = small_model(L, seed=3).eval()
    fresh.load_state_dict(loaded)
    return {"types": sorted({type(v).__name__ for v in loaded.values()}),
            "keys": list(loaded), "output": fresh(x), "same as saved": model(x)}


def test_save_a_state_dict_and_load_it_into_a_fresh_model(lib, reference, tmp_path):
    check(lambda L: save_and_load_program(L, tmp_path), lib, reference)


def load_state_dict_result_program(L):
    nn = L.nn
    model = small_model(L)
    state = model.state_dict()
    del state["4.bias"]
    state["extra"] = state["4.weight"]
    result = model.load_state_dict(state, strict=False)
    return {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys),
            "as a tuple": tuple(map(list, result)),
            "strict raises": _raises(RuntimeError, model.load_state_dict, state),
            "a fresh model loads its own": nn.Linear(2, 3).load_state_dict(
                nn.Linear(2, 3).state_dict()).missing_keys == []}


def _raises(error, fn, *args):
    try:
        fn(*args)
    except error:
        return True
    return False


def test_load_state_dict_reports_missing_and_unexpected_keys(lib, reference):
    check(load_state_dict_result_program, lib, reference)


# ----------------------------------------------------------------------------- fine-tuning
def freeze_and_replace_program(L):
    nn, torch = L.nn, L.torch
    model = small_model(L)
    for param in model.parameters():
        param.requires_grad = False
    model[4] = nn.Linear(model[4].in_features, 2)
    model[4].load_state_dict({"weight": torch.full((2, 12), 0.1), "bias": torch.zeros(2)})
    x, y = batch(L)
    loss = nn.functional.cross_entropy(model(x), y % 2)
    loss.backward()
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": trainable, "count": params,
            "frozen have no grad": all(p.grad is None for p in model[0].parameters()),
            "head grad": model[4].weight.grad, "loss": loss}


def test_freeze_a_backbone_and_replace_the_head(lib, reference):
    check(freeze_and_replace_program, lib, reference)


def apply_and_modules_program(L):
    nn = L.nn
    model = small_model(L)
    seen = []

    def init_weights(m):
        seen.append(type(m).__name__)
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.constant_(m.weight, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    model.apply(init_weights)
    model.eval()
    x, _ = batch(L)
    return {"order": seen, "names": [name for name, _ in model.named_modules()],
            "children": len(list(model.children())),
            "eval everywhere": not any(m.training for m in model.modules()),
            "out": model(x)}


def test_apply_named_modules_and_eval(lib, reference):
    check(apply_and_modules_program, lib, reference)


def forward_hook_program(L):
    model = small_model(L)
    features = {}

    def save_output(name):
        def hook(module, input, output):
            features[name] = output.detach()
        return hook

    handle = model[2].register_forward_hook(save_output("relu"))
    x, _ = batch(L)
    model(x)
    first = features["relu"]
    handle.remove()
    model(x * 2)
    return {"feature": first, "unchanged after remove": features["relu"] is first}


def test_forward_hook_captures_features(lib, reference):
    check(forward_hook_program, lib, reference)


# ----------------------------------------------------------------------------- optimizers
def manual_lr_and_clipping_program(L):
    torch, nn, optim = L.torch, L.nn, L.optim
    model = small_model(L)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(L)
    norms, losses = [], []
    for step in range(4):
        if step == 2:
            for param_group in optimizer.param_groups:
                param_group["lr"] = param_group["lr"] * 0.1
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5))
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        out = model(x)
    return {"norms": norms, "losses": losses, "out": out,
            "lr": optimizer.param_groups[0]["lr"],
            "momentum buffers": len(optimizer.state_dict()["state"])}


def test_manual_lr_change_and_grad_clipping(lib, reference):
    check(manual_lr_and_clipping_program, lib, reference, rtol=1e-5, atol=1e-6)


def zero_grad_program(L, set_to_none=True):
    model = small_model(L)
    optimizer = L.optim.Adam(model.parameters(), lr=0.01)
    x, y = batch(L)
    L.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.zero_grad(set_to_none=set_to_none)
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none(lib, reference, set_to_none):
    assert_same(zero_grad_program(lib, set_to_none), zero_grad_program(reference, set_to_none))


# ------------------------------------------------------------- float32 precision switches
def precision_switches_program(L):
    """The CPU backend's float32 precision settings: defaults, inheritance from the backend
    and the global setting, the names a bad value is refused with; then a conv2d under
    "tf32" (here: Winograd F(4x4) may run) against the same under "ieee"."""
    torch, F = L.torch, L.nn.functional
    backends, mkldnn = torch.backends, torch.backends.mkldnn
    seen = [mkldnn.conv.fp32_precision, mkldnn.fp32_precision, backends.fp32_precision]
    backends.fp32_precision = "tf32"
    seen.append(mkldnn.conv.fp32_precision)
    mkldnn.fp32_precision = "bf16"
    seen.append(mkldnn.conv.fp32_precision)
    mkldnn.conv.fp32_precision = "ieee"
    seen.append(mkldnn.conv.fp32_precision)
    for target in (mkldnn.conv, mkldnn, backends):
        try:
            target.fp32_precision = "highest"
        except RuntimeError as error:
            seen.append(str(error))
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal((8, 16, 12, 12)).astype(np.float32))
    w = torch.from_numpy(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))
    exact = F.conv2d(x, w, padding=1)
    mkldnn.conv.fp32_precision = "tf32"
    fast = F.conv2d(x, w, padding=1)
    for target in (mkldnn.conv, mkldnn, backends):
        target.fp32_precision = "none"
    seen.append(mkldnn.conv.fp32_precision)
    scale = float(exact.abs().max())
    return seen, bool(float((fast - exact).abs().max()) <= 2e-5 * scale)


def test_float32_precision_switches(lib, reference):
    check(precision_switches_program, lib, reference)
