"""Devices as PyTorch spells them, on a CPU-only library: the usual device-selection code
runs unchanged, and asking for a GPU raises a clear RuntimeError."""

import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

GPU = "runs on the CPU with numpy"


def test_the_usual_device_selection_runs_unchanged():
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    x = tg.ones(4, 3).to(device)
    assert model(x).shape == (4, 2)
    assert device == tg.device("cpu") and device == "cpu" and str(device) == "cpu"
    assert x.device == tg.device("cpu") and not x.is_cuda and x.get_device() == -1
    assert tg.cuda.device_count() == 0 and not tg.backends.mps.is_available()


def test_cudnn_flags_are_accepted():
    # benchmark mode itself: tests/test_conv_tune.py
    tg.backends.cudnn.benchmark = True
    tg.backends.cudnn.deterministic = True
    assert tg.backends.cudnn.enabled
    tg.backends.cudnn.benchmark = False
    tg.backends.cudnn.deterministic = False
    tg.cuda.manual_seed_all(0)


def test_the_deterministic_algorithms_switch_reads_back_as_pytorchs():
    assert not tg.are_deterministic_algorithms_enabled()
    try:
        tg.use_deterministic_algorithms(True, warn_only=True)
        assert tg.are_deterministic_algorithms_enabled()
        assert tg.is_deterministic_algorithms_warn_only_enabled()
        tg.use_deterministic_algorithms(True)
        assert not tg.is_deterministic_algorithms_warn_only_enabled()
        for bad in (dict(mode=1), dict(mode="yes"), dict(mode=True, warn_only=1)):
            with pytest.raises(TypeError, match=r"^use_deterministic_algorithms: \w+ must be a "
                                                r"bool"):
                tg.use_deterministic_algorithms(**bad)
        assert tg.are_deterministic_algorithms_enabled()  # a refused call changes nothing
    finally:
        tg.use_deterministic_algorithms(False)
    assert not tg.are_deterministic_algorithms_enabled()


def test_float32_precision_switches_inherit_and_refuse_unknown_values():
    mkldnn, backends = tg.backends.mkldnn, tg.backends
    assert (mkldnn.conv.fp32_precision, mkldnn.fp32_precision, backends.fp32_precision) == \
        ("none", "none", "none")
    try:
        backends.fp32_precision = "bf16"
        assert [mkldnn.conv.fp32_precision, mkldnn.matmul.fp32_precision] == ["bf16", "bf16"]
        mkldnn.matmul.fp32_precision = "ieee"            # an op's own setting wins
        assert [mkldnn.conv.fp32_precision, mkldnn.matmul.fp32_precision] == ["bf16", "ieee"]
        with pytest.raises(RuntimeError, match="Unknown precision: fast"):
            mkldnn.rnn.fp32_precision = "fast"
        with pytest.raises(RuntimeError, match="Unknown precision: 32"):
            backends.fp32_precision = 32
        with pytest.raises(AttributeError, match="Unknown attribute precision"):
            mkldnn.conv.precision = "tf32"
    finally:
        backends.fp32_precision = "none"
        for target in (mkldnn, mkldnn.conv, mkldnn.matmul, mkldnn.rnn):
            target.fp32_precision = "none"
    mkldnn.enabled = False
    mkldnn.enabled = True
    assert mkldnn.is_available() is False                # no oneDNN here


@pytest.mark.parametrize("ask", [
    lambda: tg.ones(2).cuda(), lambda: tg.ones(2).to("cuda"), lambda: tg.ones(2).to("cuda:0"),
    lambda: tg.zeros(2, device="cuda"), lambda: tg.tensor([1.0], device=tg.device("cuda")),
    lambda: tg.randn(2, device="cuda"), lambda: tg.ones(2).to(tg.device("cuda", 1)),
    lambda: tg.cuda.current_device(), lambda: tg.ones(2).to(0),
])
def test_asking_for_a_gpu_raises_a_clear_runtime_error(ask):
    with pytest.raises(RuntimeError, match=GPU):
        ask()


def test_device_objects_compare_and_print_as_pytorchs():
    assert tg.device("cuda:1") == tg.device("cuda", 1) and tg.device("cuda:1").index == 1
    assert repr(tg.device("cpu")) == "device(type='cpu')"
    assert tg.device("cpu").type == "cpu"
    with pytest.raises(RuntimeError, match="device type"):
        tg.device("gpu")


def test_module_paths_of_pytorch():
    import tinygrad_cnn.utils.data as data_module
    from tinygrad_cnn.utils.data import DataLoader, TensorDataset

    assert DataLoader is tg.data.DataLoader and TensorDataset is tg.data.TensorDataset
    assert set(tg.data.__all__) <= set(dir(data_module))
    import tinygrad_cnn.functional as F

    assert F.relu(tg.tensor([-1.0, 1.0])).tolist() == [0.0, 1.0]
