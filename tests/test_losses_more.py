"""What only the margin, embedding and likelihood losses have, beyond the registry's generic
tests: hypothesis against the loop references of ``tests/reference.py``, PyTorch's values and
gradients at the edges (margins exactly hit, zero vectors, a variance below ``eps``), and the
loss layers against PyTorch's (repr, defaults, buffers, legacy ``size_average``/``reduce``)."""

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
POSITIVE = st.floats(0.01, 5, allow_nan=False, width=64)
SIGN = st.sampled_from([-1.0, 1.0])
REDUCTION = st.sampled_from(["mean", "sum", "none"])
TIGHT = dict(rtol=1e-9, atol=1e-12)


def _tensor(array, requires_grad=False):
    return tg.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def _torch():
    return pytest.importorskip("torch")


def _matrix(data, elements=FINITE, rows=None, columns=None):
    rows = rows or data.draw(st.integers(1, 4))
    columns = columns or data.draw(st.integers(1, 4))
    return data.draw(hnp.arrays(np.float64, (rows, columns), elements=elements))


# ------------------------------------------------------------------ hypothesis vs loops
@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, margin=st.floats(-1, 1))
def test_margin_ranking_loss_matches_the_loop_reference(data, reduction, margin):
    x1 = _matrix(data)
    x2 = data.draw(hnp.arrays(np.float64, x1.shape, elements=FINITE))
    target = data.draw(hnp.arrays(np.float64, x1.shape, elements=SIGN))
    got = F.margin_ranking_loss(_tensor(x1), _tensor(x2), _tensor(target), margin=margin,
                                reduction=reduction)
    expected = loops.reduce_ref(loops.margin_ranking_ref(x1, x2, target, margin), reduction)
    np.testing.assert_allclose(got._data, expected, **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, margin=st.floats(-1, 2))
def test_hinge_embedding_loss_matches_the_loop_reference(data, reduction, margin):
    x = _matrix(data)
    target = data.draw(hnp.arrays(np.float64, x.shape, elements=st.sampled_from([-1.0, 1.0,
                                                                                 0.5])))
    got = F.hinge_embedding_loss(_tensor(x), _tensor(target), margin=margin,
                                 reduction=reduction)
    expected = loops.reduce_ref(loops.hinge_embedding_ref(x, target, margin), reduction)
    np.testing.assert_allclose(got._data, expected, **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION)
def test_soft_margin_and_multilabel_soft_margin_losses_match_the_loop_references(data,
                                                                                 reduction):
    x = _matrix(data, st.floats(-40, 40, allow_nan=False, width=64))
    signs = data.draw(hnp.arrays(np.float64, x.shape, elements=SIGN))
    got = F.soft_margin_loss(_tensor(x), _tensor(signs), reduction=reduction)
    np.testing.assert_allclose(got._data, loops.reduce_ref(loops.soft_margin_ref(x, signs),
                                                           reduction), **TIGHT)
    labels = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    weight = data.draw(hnp.arrays(np.float64, x.shape[-1:], elements=POSITIVE))
    got = F.multilabel_soft_margin_loss(_tensor(x), _tensor(labels), weight=_tensor(weight),
                                        reduction=reduction)
    expected = loops.multilabel_soft_margin_ref(x, labels, weight)
    np.testing.assert_allclose(got._data, loops.reduce_ref(expected, reduction), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, margin=st.floats(-1, 1))
def test_cosine_embedding_loss_matches_the_loop_reference(data, reduction, margin):
    x1 = _matrix(data, st.sampled_from([0.0, 1.0, -2.0, 0.5]))  # zero rows included
    x2 = data.draw(hnp.arrays(np.float64, x1.shape, elements=FINITE))
    target = data.draw(hnp.arrays(np.float64, x1.shape[:1], elements=SIGN))
    got = F.cosine_embedding_loss(_tensor(x1), _tensor(x2), _tensor(target), margin=margin,
                                  reduction=reduction)
    expected = loops.reduce_ref(loops.cosine_embedding_ref(x1, x2, target, margin), reduction)
    np.testing.assert_allclose(got._data, expected, **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, p=st.sampled_from([1, 2]),
       margin=st.floats(0, 2), weighted=st.booleans())
def test_multi_margin_loss_matches_the_loop_reference(data, reduction, p, margin, weighted):
    x = _matrix(data)
    target = data.draw(hnp.arrays(np.int64, x.shape[:1], elements=st.integers(0,
                                                                               x.shape[1] - 1)))
    weight = data.draw(hnp.arrays(np.float64, x.shape[1:], elements=POSITIVE)) \
        if weighted else None
    got = F.multi_margin_loss(_tensor(x), tg.tensor(target), p=p, margin=margin,
                              weight=None if weight is None else _tensor(weight),
                              reduction=reduction)
    expected = loops.multi_margin_ref(x, target, p, margin, weight)
    np.testing.assert_allclose(got._data, loops.reduce_ref(expected, reduction), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, p=st.sampled_from([1.0, 2.0, 3.0]),
       swap=st.booleans(), margin=st.floats(0.1, 3))
def test_triplet_margin_loss_matches_the_loop_reference(data, reduction, p, swap, margin):
    anchor = _matrix(data)
    positive, negative = (data.draw(hnp.arrays(np.float64, anchor.shape, elements=FINITE))
                          for _ in range(2))
    got = F.triplet_margin_loss(_tensor(anchor), _tensor(positive), _tensor(negative),
                                margin=margin, p=p, swap=swap, reduction=reduction)
    expected = loops.triplet_margin_ref(anchor, positive, negative, margin, p, 1e-6, swap)
    np.testing.assert_allclose(got._data, loops.reduce_ref(expected, reduction), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, log_input=st.booleans(), full=st.booleans())
def test_poisson_nll_loss_matches_the_loop_reference(data, reduction, log_input, full):
    x = _matrix(data, POSITIVE)
    target = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 6)))
    got = F.poisson_nll_loss(_tensor(x), _tensor(target), log_input=log_input, full=full,
                             reduction=reduction)
    expected = loops.poisson_nll_ref(x, target, log_input, full)
    np.testing.assert_allclose(got._data, loops.reduce_ref(expected, reduction), **TIGHT)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=REDUCTION, full=st.booleans(),
       layout=st.sampled_from(["same", "short", "one"]))
def test_gaussian_nll_loss_matches_the_loop_reference(data, reduction, full, layout):
    x = _matrix(data)
    target = data.draw(hnp.arrays(np.float64, x.shape, elements=FINITE))
    var_shape = {"same": x.shape, "short": x.shape[:-1], "one": (x.shape[0], 1)}[layout]
    var = data.draw(hnp.arrays(np.float64, var_shape, elements=st.floats(0, 3)))
    got = F.gaussian_nll_loss(_tensor(x), _tensor(target), _tensor(var), full=full,
                              reduction=reduction)
    expected = loops.gaussian_nll_ref(x, target, var, full)
    np.testing.assert_allclose(got._data, loops.reduce_ref(expected, reduction), **TIGHT)


# ------------------------------------------------------------------ edges, against PyTorch
def _against_torch(name, arrays, differentiable, **options):
    """Our values and gradients (of the summed loss) beside PyTorch's, for ``arrays`` (the
    gradients to 1e-7: at a zero vector they are ~1e6 and PyTorch rounds differently)."""
    torch = _torch()

    def make(library, array, grad):
        if array.dtype.kind != "f":
            return library.tensor(array)
        return library.tensor(array, requires_grad=grad)
    ours = [make(tg, a, k in differentiable) for k, a in enumerate(arrays)]
    theirs = [make(torch, a, k in differentiable) for k, a in enumerate(arrays)]
    got = getattr(F, name)(*ours, **options)
    expected = getattr(torch.nn.functional, name)(*theirs, **options)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(got._data, expected.detach().numpy(), **TIGHT)
    for k in differentiable:
        np.testing.assert_allclose(ours[k].grad._data, theirs[k].grad.numpy(), rtol=1e-7,
                                   atol=1e-12)


@pytest.mark.torch
def test_margins_exactly_hit_take_pytorchs_gradients():
    # clamp_min's rule (the linear side) in margin_ranking, hinge, cosine and triplet; the
    # multi-class hinge kernel's (no gradient) in multi_margin
    a = np.array
    _against_torch("margin_ranking_loss", [a([1.0, 2.0, 0.0]), a([1.0, 1.0, 0.0]),
                                           a([1.0, 1.0, -1.0])], (0, 1), margin=1.0,
                   reduction="none")
    _against_torch("hinge_embedding_loss", [a([1.0, 2.0, 0.0, 0.5]), a([-1.0, -1.0, 1.0, 0.0])],
                   (0,), margin=1.0, reduction="none")
    _against_torch("cosine_embedding_loss", [a([[1.0, 0.0], [1.0, 1.0]]),
                                             a([[2.0, 0.0], [1.0, 1.0]]), a([-1.0, -1.0])],
                   (0, 1), margin=1.0, reduction="none")
    _against_torch("multi_margin_loss", [a([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]]), a([0, 2])],
                   (0,), reduction="none")
    _against_torch("multi_margin_loss", [a([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]]), a([0, 2])],
                   (0,), p=2, reduction="none")
    _against_torch("triplet_margin_loss", [a([[0.0, 0.0], [1.0, 1.0]]),
                                           a([[0.0, 0.0], [1.0, 2.0]]),
                                           a([[1.0, 0.0], [3.0, 1.0]])], (0, 1, 2), swap=True,
                   reduction="none")


@pytest.mark.torch
def test_zero_vectors_and_identical_triplets_are_finite_as_pytorchs():
    a = np.array
    _against_torch("cosine_embedding_loss", [a([[0.0, 0.0], [1.0, 0.0]]),
                                             a([[0.0, 0.0], [0.0, 0.0]]), a([1.0, -1.0])],
                   (0, 1), reduction="none")
    same = a([[0.0, 0.0], [1.0, 1.0]])
    _against_torch("triplet_margin_loss", [same, same.copy(), same.copy()], (0, 1, 2),
                   reduction="none")


@pytest.mark.torch
def test_a_variance_below_eps_is_clamped_in_value_and_passes_its_gradient():
    a = np.array
    _against_torch("gaussian_nll_loss", [a([0.5, 1.0, 2.0]), a([0.0, 1.0, 2.0]),
                                         a([0.0, 1e-7, 2.0])], (0, 1, 2), reduction="none")
    _against_torch("gaussian_nll_loss", [a([[0.5, 1.0, 2.0]]), a([[0.0, 1.0, 2.0]]), a([0.3])],
                   (0, 1, 2), full=True)


@pytest.mark.torch
def test_float_var_and_a_broadcast_target_as_pytorch():
    torch = _torch()
    x, target = np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.5, 0.0])
    got = F.gaussian_nll_loss(_tensor(x), _tensor(target), 0.5, reduction="none")
    expected = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(target), 0.5,
                                                     reduction="none")
    np.testing.assert_allclose(got._data, expected.numpy(), **TIGHT)


def test_soft_margin_losses_stay_finite_where_the_direct_formula_overflows():
    x = _tensor([[800.0, -800.0, 0.0]], requires_grad=True)
    loss = F.soft_margin_loss(x, _tensor([[-1.0, 1.0, 1.0]]), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss._data, 1600.0 + np.log(2.0))
    np.testing.assert_allclose(x.grad._data, [[1.0, -1.0, -0.5]])
    multilabel = F.multilabel_soft_margin_loss(_tensor([[900.0, -900.0]]),
                                               _tensor([[0.0, 1.0]]))
    np.testing.assert_allclose(multilabel._data, 900.0)


def test_poisson_full_gives_a_finite_target_gradient_where_the_term_is_not_counted():
    # PyTorch's masked Stirling term leaks NaN into the target's gradient at t <= 0; the
    # term counts for nothing there, so its gradient is 0 here
    x = _tensor([0.5, 0.1, 2.0])
    target = _tensor([0.0, -1.0, 3.0], requires_grad=True)
    F.poisson_nll_loss(x, target, full=True, reduction="sum").backward()
    expected = [-0.5, -0.1, -2.0 + np.log(3.0) + 0.5 / 3.0]
    np.testing.assert_allclose(target.grad._data, expected, **TIGHT)


def test_multi_margin_loss_of_an_empty_batch_is_nan_as_a_mean_of_nothing():
    with np.errstate(invalid="ignore"):
        loss = F.multi_margin_loss(_tensor(np.zeros((0, 3))), tg.tensor(np.zeros(0, np.int64)))
    assert loss.shape == () and np.isnan(loss.item())


def test_float32_inputs_give_float32_losses_and_a_float64_target_promotes():
    x = tg.tensor(np.ones((2, 3), np.float32))
    assert F.soft_margin_loss(x, tg.tensor(np.ones((2, 3), np.float32))).dtype == np.float32
    assert F.margin_ranking_loss(x, x, tg.tensor(np.ones((2, 3)))).dtype == np.float64
    assert F.poisson_nll_loss(x, tg.tensor(np.ones((2, 3), np.int64))).dtype == np.float32


# ------------------------------------------------------------------ layers against PyTorch
LAYERS = [
    ("MarginRankingLoss", dict(margin=0.5), 3),
    ("HingeEmbeddingLoss", dict(margin=2.0), 2),
    ("SoftMarginLoss", {}, 2),
    ("MultiLabelSoftMarginLoss", {}, 2),
    ("CosineEmbeddingLoss", dict(margin=0.1), 3),
    ("MultiMarginLoss", dict(p=2, margin=0.5), 2),
    ("TripletMarginLoss", dict(margin=2.0, p=1.0, swap=True), 3),
    ("PoissonNLLLoss", dict(log_input=False, full=True), 2),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3), 3),
]


def _operands(name, rng):
    x = rng.uniform(0.2, 2.0, (4, 3))
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    operands = {
        "MarginRankingLoss": (x[:, 0], x[:, 1], signs),
        "HingeEmbeddingLoss": (x, np.where(x > 1, 1.0, -1.0)),
        "SoftMarginLoss": (x - 1.0, np.where(x > 1, 1.0, -1.0)),
        "MultiLabelSoftMarginLoss": (x - 1.0, (x > 1).astype(float)),
        "CosineEmbeddingLoss": (x - 1.0, x[::-1] - 1.0, signs),
        "MultiMarginLoss": (x, np.array([0, 2, 1, 2])),
        "TripletMarginLoss": (x, x[::-1], x * 0.5),
        "PoissonNLLLoss": (x, x[::-1] * 2.0),
        "GaussianNLLLoss": (x, x[::-1], x[:, :1]),
    }[name]
    return [np.ascontiguousarray(operand) for operand in operands]


@pytest.mark.torch
@pytest.mark.parametrize("name, options, _", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_loss_layers_match_pytorchs_repr_defaults_and_values(name, options, _):
    torch = _torch()
    ours_default, theirs_default = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours_default) == repr(theirs_default)
    for attribute in ("reduction", "margin", "p", "eps", "swap", "log_input", "full"):
        if hasattr(theirs_default, attribute):
            assert getattr(ours_default, attribute) == getattr(theirs_default, attribute)
    operands = _operands(name, np.random.default_rng(0))
    for reduction in ("mean", "sum", "none"):
        ours = getattr(nn, name)(reduction=reduction, **options)
        theirs = getattr(torch.nn, name)(reduction=reduction, **options)
        got = ours(*(tg.tensor(a) for a in operands))
        expected = theirs(*(torch.tensor(a) for a in operands))
        np.testing.assert_allclose(got._data, expected.numpy(), **TIGHT)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["MultiLabelSoftMarginLoss", "MultiMarginLoss"])
def test_a_class_weight_is_a_buffer_under_pytorchs_key(name):
    torch = _torch()
    weight = np.array([0.5, 1.0, 2.0])
    ours = getattr(nn, name)(weight=tg.tensor(weight))
    theirs = getattr(torch.nn, name)(weight=torch.tensor(weight))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(getattr(nn, name)().state_dict()) == list(getattr(torch.nn, name)().state_dict())
    operands = _operands(name, np.random.default_rng(1))
    np.testing.assert_allclose(ours(*(tg.tensor(a) for a in operands))._data,
                               theirs(*(torch.tensor(a) for a in operands)).numpy(), **TIGHT)


@pytest.mark.torch
def test_legacy_size_average_and_reduce_map_as_pytorchs():
    torch = _torch()
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        ours = nn.MarginRankingLoss(size_average=size_average, reduce=reduce)
        theirs = torch.nn.MarginRankingLoss(size_average=size_average, reduce=reduce)
        assert ours.reduction == theirs.reduction


def test_loss_layer_constructors_refuse_what_pytorchs_refuse():
    with pytest.raises(ValueError, match="MultiMarginLoss: p must be 1 or 2, got 3"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: weight must be one-dimensional"):
        nn.MultiMarginLoss(weight=tg.ones(2, 3))
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="SoftMarginLoss: reduction must be one of"):
        nn.SoftMarginLoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)  # keyword-only, as PyTorch's
