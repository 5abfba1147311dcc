"""What only the pixel shuffles, PReLU and the other added activations, embedding,
instance_norm and the distances have, beyond the registry's generic tests: hypothesis against
the loop references of ``tests/reference.py``, PyTorch's gradient rules (padding_idx,
scale_grad_by_freq, the clamped norms of cosine_similarity), running statistics, ``inplace=``,
and the layers against PyTorch's (state-dict keys, defaults, outputs after loading weights)."""

import warnings

import numpy as np
import pytest
import reference as loops
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn

FINITE = st.floats(-30, 30, allow_nan=False, width=64)
TIGHT = dict(rtol=1e-9, atol=1e-12)


def _tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ hypothesis vs loops
@st.composite
def shuffle_case(draw):
    """An input (*lead, C r^2, H, W) and its factor r."""
    factor = draw(st.integers(1, 3))
    lead = draw(st.lists(st.integers(1, 2), max_size=2))
    channels = draw(st.integers(1, 2)) * factor * factor
    height, width = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = draw(hnp.arrays(np.float64, (*lead, channels, height, width), elements=FINITE))
    return x, factor


@settings(max_examples=30, deadline=None)
@given(case=shuffle_case())
def test_pixel_shuffle_matches_the_loop_reference_and_unshuffle_inverts_it(case):
    x, factor = case
    shuffled = F.pixel_shuffle(_tensor(x), factor)
    np.testing.assert_array_equal(shuffled._data, loops.pixel_shuffle_ref(x, factor))
    back = F.pixel_unshuffle(shuffled, factor)
    np.testing.assert_array_equal(back._data, x)
    np.testing.assert_array_equal(back._data, loops.pixel_unshuffle_ref(shuffled._data, factor))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_prelu_matches_the_loop_reference(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=FINITE))
    slopes = shape[1] if len(shape) >= 2 and data.draw(st.booleans()) else 1
    weight = data.draw(hnp.arrays(np.float64, (slopes,), elements=st.floats(-2, 2)))
    result = F.prelu(_tensor(x), _tensor(weight))
    np.testing.assert_allclose(result._data, loops.prelu_ref(x, weight), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=FINITE), threshold=st.floats(-5, 5), value=st.floats(-5, 5))
def test_threshold_matches_the_loop_reference(x, threshold, value):
    np.testing.assert_array_equal(F.threshold(_tensor(x), threshold, value)._data,
                                  loops.threshold_ref(x, threshold, value))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_glu_matches_the_loop_reference(data):
    shape = list(data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] *= 2
    x = data.draw(hnp.arrays(np.float64, tuple(shape), elements=FINITE))
    np.testing.assert_allclose(F.glu(_tensor(x), dim)._data, loops.glu_ref(x, dim), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_embedding_values_and_accumulated_gradients_match_the_loop_reference(data):
    rows, width = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    weight = data.draw(hnp.arrays(np.float64, (rows, width), elements=FINITE))
    indices = data.draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3,
                                                              max_side=4),
                                   elements=st.integers(0, rows - 1)))
    table = _tensor(weight, requires_grad=True)
    out = F.embedding(tg.tensor(indices), table)
    np.testing.assert_array_equal(out._data, loops.embedding_ref(weight, indices))
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    expected = np.zeros_like(weight)
    for position in np.ndindex(*indices.shape):  # each lookup adds its gradient row
        expected[indices[position]] += seed[position]
    np.testing.assert_allclose(table.grad, expected, **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_instance_norm_matches_the_loop_reference(data):
    batch, channels = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    spatial = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).filter(
        lambda sizes: np.prod(sizes) > 1))
    x = data.draw(hnp.arrays(np.float64, (batch, channels, *spatial),
                             elements=st.floats(-5, 5)))
    weight = data.draw(hnp.arrays(np.float64, (channels,), elements=st.floats(-2, 2)))
    result = F.instance_norm(_tensor(x), weight=_tensor(weight))
    np.testing.assert_allclose(result._data, loops.instance_norm_ref(x, weight), rtol=1e-7,
                               atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_distances_match_the_loop_references(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                         max_side=3)).input_shapes
    x1 = data.draw(hnp.arrays(np.float64, shapes[0], elements=st.floats(-5, 5)))
    x2 = data.draw(hnp.arrays(np.float64, shapes[1], elements=st.floats(-5, 5)))
    ndim = max(x1.ndim, x2.ndim)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    np.testing.assert_allclose(F.cosine_similarity(_tensor(x1), _tensor(x2), dim)._data,
                               loops.cosine_similarity_ref(x1, x2, dim), rtol=1e-9, atol=1e-9)
    p = data.draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, np.inf, -np.inf, 0]))
    keepdim = data.draw(st.booleans())
    np.testing.assert_allclose(
        F.pairwise_distance(_tensor(x1), _tensor(x2), p, keepdim=keepdim)._data,
        loops.pairwise_distance_ref(x1, x2, p, keepdim=keepdim), rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ specific behaviour
def test_logsigmoid_is_finite_with_finite_gradients_for_huge_inputs():
    x = _tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True)
    y = F.logsigmoid(x)
    y.sum().backward()
    np.testing.assert_allclose(y._data, [-1e4, -50.0, -np.log(2), -np.exp(-50.0), 0.0],
                               rtol=1e-12)
    np.testing.assert_allclose(x.grad, [1.0, 1.0, 0.5, np.exp(-50.0), 0.0], rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", [("selu", {}), ("celu", dict(alpha=0.5)),
                                          ("threshold", dict(threshold=0.2, value=-1.0))])
def test_inplace_writes_into_the_input_and_returns_it(name, kwargs):
    x = _tensor(np.linspace(-2, 2, 12).reshape(3, 4), requires_grad=True)
    expected = getattr(F, name)(x, **kwargs)._data
    target = x * 1.0
    result = getattr(F, name)(target, inplace=True, **kwargs)
    assert result is target
    np.testing.assert_array_equal(target._data, expected)
    result.sum().backward()
    assert x.grad is not None


def test_embedding_padding_row_gets_no_gradient_and_frequencies_scale():
    torch = _torch()
    weight = np.random.default_rng(0).standard_normal((6, 3))
    indices = np.array([[1, 2, 1, 1], [5, 2, 0, 1]])
    for options in (dict(padding_idx=1), dict(padding_idx=-1, scale_grad_by_freq=True),
                    dict(scale_grad_by_freq=True)):
        ours = _tensor(weight, requires_grad=True)
        theirs = torch.tensor(weight, requires_grad=True)
        out = F.embedding(tg.tensor(indices), ours, **options)
        expected = torch.nn.functional.embedding(torch.tensor(indices), theirs, **options)
        seed = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(seed)
        expected.backward(torch.tensor(seed))
        np.testing.assert_array_equal(out._data, expected.detach().numpy())
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **TIGHT)


def test_embedding_padding_gradient_rule_holds_at_second_order():
    weight = _tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(tg.tensor([0, 2, 2]), weight, padding_idx=2)
    (gradient,) = tg.grad((out * out).sum(), [weight], create_graph=True)
    np.testing.assert_array_equal(gradient._data[2], 0.0)
    (second,) = tg.grad(gradient.sum(), [weight])
    np.testing.assert_array_equal(second._data, [[2.0] * 3, [0.0] * 3, [0.0] * 3, [0.0] * 3])


def test_embedding_max_norm_renormalises_the_looked_up_rows_in_place_as_pytorch():
    torch = _torch()
    weight = np.random.default_rng(2).standard_normal((5, 4)) * 3
    ours, theirs = _tensor(weight.copy()), torch.tensor(weight.copy())
    indices = np.array([0, 3, 3])
    for norm_type in (2.0, 1.0):
        out = F.embedding(tg.tensor(indices), ours, max_norm=1.5, norm_type=norm_type)
        expected = torch.nn.functional.embedding(torch.tensor(indices), theirs, max_norm=1.5,
                                                 norm_type=norm_type)
        np.testing.assert_allclose(out._data, expected.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours._data, theirs.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours._data[1], weight[1])  # rows not looked up: untouched


def test_cosine_similarity_gives_an_integer_operand_the_other_ones_float_dtype():
    x = tg.tensor(np.array([[1, 2, 2]]))
    y = tg.tensor(np.array([[2.0, 4.0, 4.0]], np.float32))
    result = F.cosine_similarity(x, y)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result._data, [1.0], rtol=1e-6)


def test_embedding_takes_int32_indices():
    weight = _tensor(np.arange(6.0).reshape(3, 2))
    out = F.embedding(tg.tensor(np.array([2, 0], np.int32)), weight)
    np.testing.assert_array_equal(out._data, [[4.0, 5.0], [0.0, 1.0]])


def test_cosine_similarity_clamps_each_norm_and_passes_its_gradient_as_pytorch():
    torch = _torch()
    rng = np.random.default_rng(3)
    x1 = np.concatenate([np.zeros((1, 4)), 1e-9 * rng.standard_normal((1, 4)),
                         rng.standard_normal((2, 4))])
    x2 = rng.standard_normal((4, 4))
    for eps in (1e-8, 0.5):
        ours = [_tensor(x1, requires_grad=True), _tensor(x2, requires_grad=True)]
        theirs = [torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)]
        out = F.cosine_similarity(*ours, eps=eps)
        expected = torch.nn.functional.cosine_similarity(*theirs, eps=eps)
        np.testing.assert_allclose(out._data, expected.detach().numpy(), rtol=1e-12,
                                   atol=1e-15)
        out.sum().backward()
        expected.sum().backward()
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(np.float64, (2, 5), elements=st.floats(-1e150, 1e150)),
       y=hnp.arrays(np.float64, (2, 5), elements=st.floats(-1e150, 1e150)))
def test_cosine_similarity_stays_within_one(x, y):
    # each operand is divided by its own norm before the product (PyTorch 2.x's order)
    result = F.cosine_similarity(_tensor(x), _tensor(y))._data
    assert np.all(np.abs(result) <= 1.0 + 1e-12)


def test_instance_norm_running_statistics_move_as_pytorch():
    torch = _torch()
    x = np.random.default_rng(4).standard_normal((3, 2, 4, 5)) * 2 + 1
    mean, var = np.zeros(2), np.ones(2)
    torch_mean, torch_var = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    for use_input_stats in (True, True, False):
        out = F.instance_norm(_tensor(x), mean, var, use_input_stats=use_input_stats,
                              momentum=0.3)
        expected = torch.nn.functional.instance_norm(
            torch.tensor(x), torch_mean, torch_var, use_input_stats=use_input_stats,
            momentum=0.3)
        np.testing.assert_allclose(out._data, expected.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mean, torch_mean.numpy(), **TIGHT)
        np.testing.assert_allclose(var, torch_var.numpy(), **TIGHT)


# ------------------------------------------------------------------ layers against PyTorch
LAYERS = [  # name, args, kwargs, input shape
    ("PReLU", (), {}, (2, 3, 4)), ("PReLU", (3,), dict(init=0.1), (2, 3, 4)),
    ("SELU", (), {}, (3, 4)), ("SELU", (), dict(inplace=True), (3, 4)),
    ("CELU", (0.5,), {}, (3, 4)), ("CELU", (), dict(inplace=True), (3, 4)),
    ("Threshold", (0.1, 20.0), {}, (3, 4)), ("Threshold", (-0.5, 2), dict(inplace=True), (3, 4)),
    ("GLU", (), {}, (3, 4)), ("GLU", (0,), {}, (4, 3)), ("LogSigmoid", (), {}, (3, 4)),
    ("Softsign", (), {}, (3, 4)), ("Tanhshrink", (), {}, (3, 4)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 2)), ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("InstanceNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(affine=True), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True, momentum=0.2),
     (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(track_running_stats=True, momentum=None), (3, 4, 5)),
]


def _pair(torch, name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs).double(), \
        getattr(torch.nn, name)(*args, **kwargs).double()


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS,
                         ids=[f"{n}-{k}" for k, (n, *_) in enumerate(LAYERS)])
def test_layer_matches_pytorch_from_the_same_state(name, args, kwargs, shape):
    torch = _torch()
    ours, theirs = _pair(torch, name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    for key, value in state.items():  # PyTorch's defaults
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())
    for parameter in theirs.parameters():  # a state of its own, loaded into ours
        parameter.data.uniform_(-1, 1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        x_array = np.random.default_rng(0).standard_normal(shape) * 2
        x, tx = _tensor(x_array, requires_grad=True), torch.tensor(x_array, requires_grad=True)
        out, tout = ours(x * 1.0), theirs(tx * 1.0)
        np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-9, atol=1e-11)
        seed = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(seed)
        tout.backward(torch.from_numpy(seed))
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for (key, param), (tkey, tparam) in zip(ours.named_parameters(),
                                                theirs.named_parameters()):
            assert key == tkey
            np.testing.assert_allclose(param.grad, tparam.grad.numpy(), rtol=1e-9, atol=1e-11)
        for key, value in theirs.state_dict().items():  # running statistics moved alike
            np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), **TIGHT)


def test_prelu_layer_defaults_to_one_float32_slope_of_a_quarter():
    layer = nn.PReLU()
    assert list(layer.state_dict()) == ["weight"]
    assert layer.weight.dtype == np.float32 and layer.weight.shape == (1,)
    np.testing.assert_array_equal(layer.weight._data, [0.25])


def test_embedding_layer_matches_pytorch_from_the_same_state():
    torch = _torch()
    for kwargs in ({}, dict(padding_idx=2), dict(padding_idx=-1, scale_grad_by_freq=True),
                   dict(max_norm=1.0)):
        ours, theirs = _pair(torch, "Embedding", 6, 3, **kwargs)
        assert repr(ours) == repr(theirs) and ours.padding_idx == theirs.padding_idx
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        indices = np.array([[0, 2, 5], [2, 2, 1]])
        out, tout = ours(tg.tensor(indices)), theirs(torch.tensor(indices))
        np.testing.assert_array_equal(out._data, tout.detach().numpy())
        seed = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(seed)
        tout.backward(torch.from_numpy(seed))
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **TIGHT)
        np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), **TIGHT)


def test_embedding_layer_starts_standard_normal_with_a_zero_padding_row():
    tg.manual_seed(0)
    layer = nn.Embedding(2000, 8, padding_idx=3)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    np.testing.assert_array_equal(layer.weight._data[3], 0.0)
    assert abs(layer.weight._data.mean()) < 0.02 and abs(layer.weight._data.std() - 1) < 0.02


def test_embedding_from_pretrained_shares_the_table_and_freezes_it():
    table = tg.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.num_embeddings == 3
    np.testing.assert_array_equal(frozen(tg.tensor([2]))._data, [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Embedding.from_pretrained: embeddings must be"):
        nn.Embedding.from_pretrained(tg.tensor([1.0, 2.0]))


def test_embedding_layer_rejects_a_padding_index_out_of_range_and_a_misshapen_weight():
    with pytest.raises(AssertionError, match=r"Embedding: padding_idx must be within "
                                             r"num_embeddings \(5\), got -6"):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(AssertionError, match=r"Embedding: shape of weight \(4, 3\) does not"):
        nn.Embedding(5, 3, _weight=tg.tensor(np.zeros((4, 3))))


def test_instance_norm_layer_checks_rank_and_channels_as_pytorch():
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input \(got 5D"):
        nn.InstanceNorm2d(3)(tg.tensor(np.zeros((1, 3, 2, 2, 2))))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected input's size at dim=1 to "
                                         r"match num_features \(3\), but got: 4"):
        nn.InstanceNorm2d(3, affine=True)(tg.tensor(np.zeros((1, 4, 2, 2))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.InstanceNorm2d(3)(tg.tensor(np.random.default_rng(0).standard_normal((1, 4, 2, 2))))
    assert any("InstanceNorm2d: input's size at dim=1 does not match num_features"
               in str(w.message) for w in caught)


def test_distance_layers_match_their_functions():
    rng = np.random.default_rng(5)
    x1, x2 = _tensor(rng.standard_normal((3, 4))), _tensor(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(nn.CosineSimilarity(dim=0, eps=1e-6)(x1, x2)._data,
                                  F.cosine_similarity(x1, x2, 0, 1e-6)._data)
    np.testing.assert_array_equal(nn.PairwiseDistance(p=1.0, keepdim=True)(x1, x2)._data,
                                  F.pairwise_distance(x1, x2, 1.0, keepdim=True)._data)
    torch = _torch()
    assert repr(nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    assert repr(nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    assert list(nn.PairwiseDistance().state_dict()) == []


@pytest.mark.parametrize("build, error, match", [
    (lambda: nn.PixelShuffle(0), RuntimeError, "PixelShuffle: upscale_factor must be positive"),
    (lambda: nn.PixelUnshuffle(1.5), TypeError, "PixelUnshuffle: downscale_factor must be an"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be >= 1"),
    (lambda: nn.CELU("a"), TypeError, "CELU: alpha must be a number"),
    (lambda: nn.Threshold(0.1, None), TypeError, "Threshold: value must be a number"),
    (lambda: nn.GLU(1.0), TypeError, "GLU: dim must be an int"),
])
def test_layer_constructors_reject_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
