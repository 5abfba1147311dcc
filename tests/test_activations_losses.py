"""What only the activations, losses and normalisations have, beyond the registry's generic
tests: hypothesis against the loop references of ``tests/reference.py``, stability at extreme
inputs, ``inplace=``, the implicit softmax dimension, ``one_hot``, ``dropout2d``'s channel
masks, legacy ``size_average``/``reduce``."""

import warnings

import numpy as np
import pytest
import reference as loops
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

FINITE = st.floats(-30, 30, allow_nan=False, width=64)


def _tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------ hypothesis vs loops
@pytest.mark.parametrize("name", sorted(loops.ACTIVATIONS))
@settings(max_examples=20, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=FINITE))
def test_activation_matches_the_loop_reference(name, x):
    result = getattr(F, name)(_tensor(x))
    np.testing.assert_allclose(result._data, loops.ACTIVATIONS[name](x), rtol=1e-9, atol=1e-12)


@st.composite
def class_problem(draw):
    """Scores (N, C, *K), class indices with some ignored, optional weight and smoothing."""
    batch, classes = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    scores = draw(hnp.arrays(np.float64, (batch, classes, *extra), elements=FINITE))
    target = draw(hnp.arrays(np.int64, (batch, *extra), elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(np.bool_, target.shape))
    ignored.flat[0] = False  # at least one item counts, so "mean" is defined
    target = np.where(ignored, -100, target)
    weight = draw(st.none() | hnp.arrays(np.float64, (classes,), elements=st.floats(0.1, 3)))
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return scores, target, weight, smoothing, reduction


@settings(max_examples=40, deadline=None)
@given(problem=class_problem())
def test_cross_entropy_matches_the_loop_reference(problem):
    scores, target, weight, smoothing, reduction = problem
    result = F.cross_entropy(_tensor(scores), target, weight=weight, reduction=reduction,
                             label_smoothing=smoothing)
    expected = loops.cross_entropy_ref(scores, target, weight, reduction=reduction,
                                       label_smoothing=smoothing)
    np.testing.assert_allclose(result._data, expected, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(problem=class_problem())
def test_nll_loss_matches_the_loop_reference(problem):
    scores, target, weight, _, reduction = problem
    result = F.nll_loss(_tensor(scores), target, weight=weight, reduction=reduction)
    expected = loops.nll_loss_ref(scores, target, weight, reduction=reduction)
    np.testing.assert_allclose(result._data, expected, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_pointwise_losses_match_the_loop_references(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    width = data.draw(st.floats(0.1, 3))
    np.testing.assert_allclose(F.smooth_l1_loss(_tensor(x), _tensor(y), beta=width,
                                                reduction="none")._data,
                               loops.smooth_l1_ref(x, y, width), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.huber_loss(_tensor(x), _tensor(y), delta=width,
                                            reduction="none")._data,
                               loops.huber_ref(x, y, width), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(
        _tensor(x * 20), _tensor(np.abs(y) / 5), reduction="none")._data,
        loops.bce_logits_ref(x * 20, np.abs(y) / 5), rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_layer_and_group_norm_match_the_loop_references(data):
    groups = data.draw(st.integers(1, 3))
    shape = (data.draw(st.integers(1, 3)), groups * data.draw(st.integers(1, 2)),
             data.draw(st.integers(2, 4)))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    np.testing.assert_allclose(F.group_norm(_tensor(x), groups)._data,
                               loops.group_norm_ref(x, groups), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(F.layer_norm(_tensor(x), shape[1:])._data,
                               loops.layer_norm_ref(x, shape[1:]), rtol=1e-7, atol=1e-7)


# ------------------------------------------------------------------ stability
@pytest.mark.parametrize("scale", [1e3, 1e6, 1e30])
def test_cross_entropy_and_its_gradient_are_finite_for_extreme_logits(scale):
    logits = _tensor([[scale, -scale, 0.0], [-scale, -scale, scale]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 2]), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad).all()


@pytest.mark.parametrize("function", [
    lambda x: F.binary_cross_entropy_with_logits(x, _tensor(np.full(x.shape, 0.3))),
    lambda x: F.softplus(x).sum(), lambda x: F.mish(x).sum(), lambda x: F.elu(x).sum(),
    lambda x: F.silu(x).sum(), lambda x: F.gelu(x).sum(),
    lambda x: F.log_softmax(x, dim=0).sum(), lambda x: F.softmax(x, dim=0).sum()])
def test_no_nan_or_inf_from_finite_extreme_inputs(function):
    x = _tensor([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4], requires_grad=True)
    value = function(x)
    value.backward()
    assert np.isfinite(value._data).all() and np.isfinite(x.grad).all()


def test_binary_cross_entropy_at_exact_zero_and_one_is_finite_as_pytorch():
    p = _tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, _tensor([0.0, 1.0, 1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss._data, [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(p.grad).all()


def test_normalize_of_a_zero_row_has_the_finite_gradient_one_over_eps_as_pytorch():
    x = _tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    F.normalize(x, eps=1e-6).sum().backward()
    np.testing.assert_allclose(x.grad[0], [1e6, 1e6])
    np.testing.assert_allclose(x.grad[1], [0.032, -0.024])


# ------------------------------------------------------------------ inplace
@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "silu", "mish", "hardswish",
                                  "hardsigmoid", "hardtanh", "leaky_relu"])
def test_inplace_writes_the_result_into_the_input_and_returns_it(name):
    values = np.array([-2.0, -0.5, 0.5, 7.0])
    x = _tensor(values)
    expected = getattr(F, name)(_tensor(values))
    result = getattr(F, name)(x, inplace=True)
    assert result is x
    np.testing.assert_array_equal(x._data, expected._data)


def test_inplace_must_be_a_bool():
    with pytest.raises(TypeError, match="relu: inplace must be a bool"):
        F.relu(_tensor([1.0]), inplace=1)


def test_dropout_inplace_in_eval_mode_leaves_the_input_alone():
    x = _tensor([1.0, 2.0])
    assert F.dropout(x, 0.5, training=False, inplace=True) is x
    np.testing.assert_array_equal(x._data, [1.0, 2.0])


# ------------------------------------------------------------------ softmax
@pytest.mark.parametrize("shape, dim", [((4,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_softmax_without_dim_uses_pytorchs_implicit_choice_and_warns(shape, dim):
    x = _tensor(np.random.default_rng(0).standard_normal(shape))
    with pytest.warns(UserWarning, match="implicit dimension choice"):
        implicit = F.softmax(x)
    np.testing.assert_allclose(implicit._data, F.softmax(x, dim=dim)._data)


def test_softmax_dtype_casts_first_and_axis_is_an_alias():
    x = tg.Tensor(np.array([[1.0, 2.0], [0.5, 0.0]], dtype=np.float32))
    assert F.softmax(x, dim=1, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(F.log_softmax(x, axis=0)._data, F.log_softmax(x, 0)._data)
    with pytest.raises(TypeError, match="softmax: got both dim and its alias axis"):
        F.softmax(x, dim=0, axis=0)


# ------------------------------------------------------------------ others
def test_one_hot_infers_the_class_count_and_checks_indices():
    encoded = F.one_hot(tg.Tensor(np.array([[0, 2], [1, 1]])))
    assert encoded.dtype == np.int64 and encoded.shape == (2, 2, 3)
    np.testing.assert_array_equal(encoded._data.argmax(-1), [[0, 2], [1, 1]])
    assert F.one_hot(tg.Tensor(np.array([1])), num_classes=4).shape == (1, 4)
    with pytest.raises(RuntimeError, match="one_hot: class values must be smaller"):
        F.one_hot(tg.Tensor(np.array([0, 3])), 2)
    with pytest.raises(RuntimeError, match="one_hot: class values must be non-negative"):
        F.one_hot(tg.Tensor(np.array([0, -1])))
    with pytest.raises(RuntimeError, match="one_hot: is only applicable to index tensors"):
        F.one_hot(tg.Tensor(np.array([0.0])))


def test_dropout2d_zeroes_whole_channels_at_rate_p():
    tg.manual_seed(0)
    out = F.dropout2d(tg.ones(200, 10, 3, 3), p=0.3)._data
    per_channel = out.reshape(200, 10, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # a channel is all or nothing
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert abs(dropped - 0.3) < 0.03
    np.testing.assert_allclose(per_channel[per_channel != 0], 1 / 0.7)


def test_dropout2d_takes_a_3d_input_as_batched_1d_with_pytorchs_warning():
    with pytest.warns(UserWarning, match="dropout2d: received a 3D input"):
        out = F.dropout2d(tg.ones(4, 5, 6), p=0.5)
    rows = out._data
    assert (rows.min(-1) == rows.max(-1)).all()


def test_legacy_size_average_and_reduce_map_to_reduction():
    x, y = _tensor([1.0, 2.0]), _tensor([0.0, 0.0])
    assert F.mse_loss(x, y, size_average=False).item() == 5.0
    assert F.mse_loss(x, y, reduce=False).shape == (2,)
    assert F.l1_loss(x, y, size_average=True).item() == 1.5


def test_mse_loss_broadcasts_a_differently_shaped_target_with_a_warning():
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(_tensor([[1.0, 2.0], [3.0, 4.0]]), _tensor([1.0, 2.0]))
    assert loss.item() == pytest.approx((0 + 0 + 4 + 4) / 4)


def test_kl_div_mean_warns_and_batchmean_divides_by_the_batch():
    q = _tensor(np.log([[0.5, 0.5], [0.9, 0.1]]))
    p = _tensor([[0.25, 0.75], [0.5, 0.5]])
    total = F.kl_div(q, p, reduction="sum").item()
    assert F.kl_div(q, p, reduction="batchmean").item() == pytest.approx(total / 2)
    with pytest.warns(UserWarning, match="kl_div: reduction='mean'"):
        assert F.kl_div(q, p).item() == pytest.approx(total / 4)


def test_every_ignored_target_gives_nan_mean_as_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = F.cross_entropy(_tensor([[1.0, 2.0]]), np.array([-100]))
    assert np.isnan(loss.item())


@pytest.mark.parametrize("name", ["relu", "elu", "hardswish", "silu", "leaky_relu"])
def test_inplace_inside_a_graph_gives_pytorchs_gradient(name):
    torch = pytest.importorskip("torch")
    values = np.array([-2.0, -0.5, 0.5, 3.0])
    x = _tensor(values, requires_grad=True)
    hidden = x * 2.0
    out = getattr(F, name)(hidden, inplace=True)
    assert out is hidden
    (out * out).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tx * 2.0, inplace=True)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_inplace_on_a_leaf_that_requires_grad_raises_as_pytorch():
    with pytest.raises(RuntimeError, match="relu: a leaf Variable that requires grad"):
        F.relu(_tensor([1.0], requires_grad=True), inplace=True)
