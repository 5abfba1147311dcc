"""What only softshrink, hardshrink, rrelu, the alpha dropouts, channel_shuffle and
local_response_norm have, beyond the registry's generic tests: hypothesis against the loop
references of ``tests/reference.py``, the random ones' seeding, statistics and structure, and
the layers against PyTorch's (repr, defaults, no state, eval-mode outputs)."""

import numpy as np
import pytest
import reference as loops
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn

FINITE = st.floats(-5, 5, allow_nan=False, width=64)
TIGHT = dict(rtol=1e-9, atol=1e-12)


def _tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def _torch():
    return pytest.importorskip("torch")


def _normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ hypothesis vs loops
@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=FINITE),
       lambd=st.floats(0, 3))
def test_the_shrinkages_match_the_loop_references(x, lambd):
    np.testing.assert_array_equal(F.softshrink(_tensor(x), lambd)._data,
                                  loops.softshrink_ref(x, lambd))
    np.testing.assert_array_equal(F.hardshrink(_tensor(x), lambd)._data,
                                  loops.hardshrink_ref(x, lambd))


@st.composite
def grouped_input(draw):
    groups, per_group = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    spatial = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shape = (draw(st.integers(1, 2)), groups * per_group, *spatial)
    return draw(hnp.arrays(np.float64, shape, elements=FINITE)), groups, per_group


@settings(max_examples=40, deadline=None)
@given(case=grouped_input())
def test_channel_shuffle_matches_the_loop_reference_and_its_transpose_undoes_it(case):
    x, groups, per_group = case
    shuffled = F.channel_shuffle(_tensor(x), groups)
    np.testing.assert_array_equal(shuffled._data, loops.channel_shuffle_ref(x, groups))
    np.testing.assert_array_equal(F.channel_shuffle(shuffled, per_group)._data, x)


@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 2), st.integers(1, 6),
                                          st.integers(1, 3), st.integers(1, 2)),
                    elements=FINITE),
       size=st.integers(1, 9), alpha=st.floats(1e-4, 2), beta=st.floats(0.1, 2),
       k=st.floats(0.5, 3))
def test_local_response_norm_matches_the_loop_reference(x, size, alpha, beta, k):
    got = F.local_response_norm(_tensor(x), size, alpha, beta, k)
    np.testing.assert_allclose(got._data, loops.local_response_norm_ref(x, size, alpha, beta, k),
                               **TIGHT)


# ------------------------------------------------------------------ shrinkages and LRN
@pytest.mark.torch
def test_shrinkage_gradients_at_the_threshold_match_pytorch():
    torch = _torch()
    values = np.array([0.5, -0.5, 0.6, -0.7, 0.0, 0.2])
    for name in ("softshrink", "hardshrink"):
        ours, theirs = _tensor(values, True), torch.tensor(values, requires_grad=True)
        getattr(F, name)(ours).sum().backward()
        getattr(torch.nn.functional, name)(theirs).sum().backward()
        np.testing.assert_array_equal(ours.grad._data, theirs.grad.numpy())


def test_the_shrinkages_keep_nan():
    x = _tensor([np.nan, 1.0])
    assert np.isnan(F.softshrink(x)._data[0]) and np.isnan(F.hardshrink(x)._data[0])


@pytest.mark.torch
def test_local_response_norm_of_a_window_wider_than_the_channels_and_of_integers():
    torch = _torch()
    x = _normal((2, 3, 4))
    for size in (1, 4, 7, 10**6):
        np.testing.assert_allclose(
            F.local_response_norm(_tensor(x), size, alpha=2.0)._data,
            torch.nn.functional.local_response_norm(torch.tensor(x), size, alpha=2.0).numpy(),
            **TIGHT)
    integers = np.arange(12).reshape(1, 3, 4)
    got = F.local_response_norm(tg.tensor(integers), 2)
    expected = torch.nn.functional.local_response_norm(torch.tensor(integers), 2)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got._data, expected.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ rrelu
def test_rrelu_in_training_is_reproducible_under_manual_seed_and_draws_slopes_in_range():
    x = _tensor(-np.ones((200, 50)))
    tg.manual_seed(3)
    first = F.rrelu(x, 0.1, 0.4, training=True)._data
    tg.manual_seed(3)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.4, training=True)._data, first)
    slopes = -first
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    assert abs(slopes.mean() - 0.25) < 0.005  # U(0.1, 0.4): std of the mean ~0.001
    assert abs(slopes.var() - 0.3 ** 2 / 12) < 0.0005
    assert len(np.unique(slopes)) > 9000  # one slope per element


def test_rrelu_leaves_positives_and_its_gradient_is_the_slope_used():
    x = _tensor([[2.0, -1.0, 3.0, -4.0]], requires_grad=True)
    tg.manual_seed(0)
    out = F.rrelu(x, training=True)
    out.sum().backward()
    slopes = out._data / x._data
    np.testing.assert_array_equal(out._data[0, [0, 2]], [2.0, 3.0])
    np.testing.assert_allclose(x.grad._data, slopes, **TIGHT)


@pytest.mark.torch
def test_rrelu_in_eval_is_the_mean_slope_as_pytorch_and_the_layer_follows_its_mode():
    torch = _torch()
    x = _normal((3, 5))
    expected = torch.nn.functional.rrelu(torch.tensor(x), 0.2, 0.6, training=False).numpy()
    np.testing.assert_allclose(F.rrelu(_tensor(x), 0.2, 0.6)._data, expected, **TIGHT)
    layer = nn.RReLU(0.2, 0.6)
    np.testing.assert_allclose(layer.eval()(_tensor(x))._data, expected, **TIGHT)
    trained = layer.train()(_tensor(x))._data
    negative = x < 0
    assert not np.allclose(trained[negative], expected[negative])
    np.testing.assert_array_equal(trained[~negative], x[~negative])


def test_rrelu_inplace_writes_the_input():
    x = _tensor([-1.0, 2.0])
    out = F.rrelu(x, training=False, inplace=True)
    assert out is x
    np.testing.assert_allclose(x._data, [-(1 / 8 + 1 / 3) / 2, 2.0])


# ------------------------------------------------------------------ alpha dropouts
@pytest.mark.torch
def test_alpha_dropout_gives_pytorchs_two_values_for_a_constant_input():
    torch = _torch()
    x = np.full(20000, 0.3)
    ours = np.unique(F.alpha_dropout(_tensor(x), 0.2, training=True)._data)
    torch.manual_seed(0)
    theirs = np.unique(torch.nn.functional.alpha_dropout(torch.tensor(x), 0.2, True).numpy())
    np.testing.assert_allclose(ours, theirs, **TIGHT)


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    x = _tensor(_normal(400_000))
    tg.manual_seed(1)
    for function in (F.alpha_dropout, F.feature_alpha_dropout):
        out = function(x.reshape(4000, 100), 0.3, training=True)._data
        assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01


def test_alpha_dropouts_are_reproducible_and_drop_at_rate_p():
    x = _tensor(np.full((500, 40), 2.0))
    tg.manual_seed(5)
    first = F.alpha_dropout(x, 0.25, training=True)._data
    tg.manual_seed(5)
    np.testing.assert_array_equal(F.alpha_dropout(x, 0.25, training=True)._data, first)
    dropped = first < first.max()
    assert abs(dropped.mean() - 0.25) < 0.01


def test_feature_alpha_dropout_drops_whole_channels():
    x = _tensor(np.full((30, 8, 3, 3), 1.5))
    tg.manual_seed(2)
    out = F.feature_alpha_dropout(x, 0.5, training=True)._data
    per_channel = out.reshape(30, 8, -1)
    assert (per_channel == per_channel[..., :1]).all()
    assert len(np.unique(out)) == 2


@pytest.mark.torch
def test_alpha_dropouts_in_eval_p0_and_p1_as_pytorch():
    torch = _torch()
    x = _normal((3, 4, 2))
    for name in ("alpha_dropout", "feature_alpha_dropout"):
        ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
        np.testing.assert_array_equal(ours(_tensor(x))._data, theirs(torch.tensor(x)).numpy())
        np.testing.assert_array_equal(ours(_tensor(x), 0.0, True)._data, x)
        np.testing.assert_array_equal(ours(_tensor(x), 1.0, True)._data,
                                      theirs(torch.tensor(x), 1.0, True).numpy())
    layer = nn.AlphaDropout(0.4).eval()
    np.testing.assert_array_equal(layer(_tensor(x))._data, x)


def test_alpha_dropout_gradient_is_the_kept_scale():
    x = _tensor(np.ones((50, 4)), requires_grad=True)
    tg.manual_seed(4)
    out = F.alpha_dropout(x, 0.5, training=True)
    out.sum().backward()
    kept = out._data == out._data.max()
    scale = ((loops.SELU_SATURATION ** 2 * 0.5 + 1) * 0.5) ** -0.5
    np.testing.assert_allclose(x.grad._data, np.where(kept, scale, 0.0), **TIGHT)


# ------------------------------------------------------------------ layers against PyTorch
LAYERS = [
    ("Softshrink", (), (3, 4)), ("Softshrink", (1.2,), (3, 4)), ("Hardshrink", (), (3, 4)),
    ("Hardshrink", (0.1,), (2, 5)), ("ChannelShuffle", (3,), (2, 6, 2, 2)),
    ("LocalResponseNorm", (3,), (2, 5, 3, 3)),
    ("LocalResponseNorm", (4, 0.5, 0.6, 2.0), (2, 5, 3)),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, args, shape", LAYERS,
                         ids=[f"{name}{args}" for name, args, _ in LAYERS])
def test_layers_match_pytorchs_repr_state_and_outputs(name, args, shape):
    torch = _torch()
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    x = _normal(shape)
    np.testing.assert_allclose(ours(_tensor(x))._data, theirs(torch.tensor(x)).numpy(), **TIGHT)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["RReLU", "AlphaDropout", "FeatureAlphaDropout"])
def test_random_layers_match_pytorchs_repr_defaults_and_eval_outputs(name):
    torch = _torch()
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    for attribute in ("lower", "upper", "p", "inplace"):
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute)
    x = _normal((2, 3, 4))
    np.testing.assert_allclose(ours.eval()(_tensor(x))._data,
                               theirs.eval()(torch.tensor(x)).numpy(), **TIGHT)


def test_layer_constructors_refuse_bad_arguments_naming_the_layer():
    with pytest.raises(TypeError, match="ChannelShuffle: groups must be an int"):
        nn.ChannelShuffle(2.0)
    with pytest.raises(ValueError, match="ChannelShuffle: groups must be positive"):
        nn.ChannelShuffle(0)
    with pytest.raises(TypeError, match="LocalResponseNorm: size must be an int"):
        nn.LocalResponseNorm(2.5)
    with pytest.raises(TypeError, match="Softshrink: lambd must be a number"):
        nn.Softshrink("a")
    with pytest.raises(ValueError, match="AlphaDropout: p must be"):
        nn.AlphaDropout(1.5)


# ------------------------------------------------------------------ bilinear, pdist, gumbel
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_bilinear_and_pdist_match_the_loop_references(data):
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    in1, in2, out = (data.draw(st.integers(1, 3)) for _ in range(3))
    x1 = data.draw(hnp.arrays(np.float64, (*lead, in1), elements=FINITE))
    x2 = data.draw(hnp.arrays(np.float64, (*lead, in2), elements=FINITE))
    weight = data.draw(hnp.arrays(np.float64, (out, in1, in2), elements=FINITE))
    bias = data.draw(hnp.arrays(np.float64, (out,), elements=FINITE))
    np.testing.assert_allclose(
        F.bilinear(_tensor(x1), _tensor(x2), _tensor(weight), _tensor(bias))._data,
        loops.bilinear_ref(x1, x2, weight, bias), rtol=1e-9, atol=1e-9)
    rows = data.draw(hnp.arrays(np.float64, (data.draw(st.integers(0, 5)), in1),
                                elements=st.sampled_from([0.0, 1.0, -2.5, 3.0])))
    p = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, np.inf]))
    np.testing.assert_allclose(F.pdist(_tensor(rows), p)._data, loops.pdist_ref(rows, p),
                               **TIGHT)


@pytest.mark.torch
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, np.inf])
def test_pdist_of_equal_rows_has_pytorchs_zero_distance_and_gradient(p):
    torch = _torch()
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    ours, theirs = _tensor(x, True), torch.tensor(x, requires_grad=True)
    got, expected = F.pdist(ours, p), torch.nn.functional.pdist(theirs, p)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(got._data, expected.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), **TIGHT)


def test_gumbel_softmax_is_a_seeded_sample_of_the_distribution():
    logits = _tensor(np.log([0.1, 0.2, 0.7]))
    tg.manual_seed(8)
    first = F.gumbel_softmax(logits.expand(20000, 3), hard=True)._data
    tg.manual_seed(8)
    np.testing.assert_array_equal(F.gumbel_softmax(logits.expand(20000, 3), hard=True)._data,
                                  first)
    # the Gumbel-max trick: the argmax of logits + Gumbel noise is a categorical sample
    np.testing.assert_allclose(first.mean(0), [0.1, 0.2, 0.7], atol=0.015)
    soft = F.gumbel_softmax(logits.expand(5, 3), tau=0.7)._data
    np.testing.assert_allclose(soft.sum(1), 1.0, **TIGHT)


def test_hard_gumbel_softmax_is_one_hot_with_the_soft_samples_gradient():
    x = _tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    weights = _tensor(np.arange(20.0).reshape(4, 5))
    tg.manual_seed(3)
    hard = F.gumbel_softmax(x, tau=0.5, hard=True, dim=1)
    (hard * weights).sum().backward()
    hard_grad = x.grad._data.copy()
    x.grad = None
    tg.manual_seed(3)
    soft = F.gumbel_softmax(x, tau=0.5, dim=1)
    (soft * weights).sum().backward()
    assert set(np.unique(hard._data)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard._data.sum(1), 1.0)
    np.testing.assert_array_equal(hard._data.argmax(1), soft._data.argmax(1))
    np.testing.assert_allclose(hard_grad, x.grad._data, **TIGHT)


@pytest.mark.torch
def test_bilinear_layer_matches_pytorchs_repr_keys_init_range_and_outputs():
    torch = _torch()
    ours, theirs = nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    bound = 1 / np.sqrt(3)
    assert np.abs(ours.weight._data).max() <= bound and np.abs(ours.bias._data).max() <= bound
    assert ours.weight.dtype == np.float32
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x1, x2 = _normal((2, 6, 3)).astype(np.float32), _normal((2, 6, 4), 1).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x1), tg.tensor(x2))._data,
                               theirs(torch.tensor(x1), torch.tensor(x2)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert nn.Bilinear(2, 2, 3, bias=False).bias is None
