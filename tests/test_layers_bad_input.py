"""The bad-input sweep of ``test_bad_input_sweep.py`` (its spoilers, its rules, PyTorch as the
oracle) over the activations, losses, normalisations and layers of issue 10."""

import numpy as np
import pytest
from test_bad_input_sweep import (
    DELIBERATE,
    KNOWN_GAPS,
    Arr,
    accepted,
    applied,
    arr,
    build,
    outcome,
    spoiled_calls,
)

from tinygrad_cnn import functional as F
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")
TF, TNN = torch.nn.functional, torch.nn
LABELS = Arr(np.array([0, 1, 4, 2]))
PROBABILITIES = Arr(np.random.default_rng(1).uniform(0.1, 0.9, (4, 3)).astype(np.float32))
SIGNS = Arr(np.array([1.0, -1.0, -1.0, 1.0], np.float32))


def applied_loss(layer, operands):
    """A callable building the loss ``layer(*args, **kwargs)`` and applying it to
    ``operands`` (``Arr``s, built for whichever library ``layer`` belongs to)."""
    def build_and_apply(*args, **kwargs):
        module = layer(*args, **kwargs)
        side = "theirs" if isinstance(module, torch.nn.Module) else "ours"
        return module(*(build(operand, side) for operand in operands))
    return build_and_apply


# a layer's error may come from the function it runs
ALIASES = {"LayerNorm": "layer_norm", "GroupNorm": "group_norm", "BatchNorm1d": "batch_norm",
           "Dropout2d": "dropout2d", "ELU": "elu", "Softplus": "softplus", "PReLU": "prelu",
           "PixelShuffle": "pixel_shuffle", "InstanceNorm2d": "instance_norm",
           "MaxPool1d": "max_pool1d", "AvgPool1d": "avg_pool1d",
           "ConvTranspose1d": "conv_transpose1d", "Dropout1d": "dropout1d",
           "InstanceNorm1d": "instance_norm", "Softmin": "softmin", "ZeroPad2d": "pad",
           "ConstantPad1d": "pad", "ReflectionPad1d": "pad", "ReplicationPad2d": "pad",
           "CircularPad1d": "pad", "Unfold": "unfold", "Fold": "fold",
           "MultiMarginLoss": "multi_margin_loss", "TripletMarginLoss": "triplet_margin_loss",
           "Softshrink": "softshrink", "RReLU": "rrelu", "AlphaDropout": "alpha_dropout",
           "ChannelShuffle": "channel_shuffle", "LocalResponseNorm": "local_response_norm",
           "Bilinear": "bilinear"}
# PyTorch computes these (NaN results, silently); we raise ValueError naming the argument.
OUR_DELIBERATE = {
    "cross_entropy(label_smoothing=negative)", "cross_entropy(label_smoothing=nan)",
    "layer_norm(eps=negative)", "layer_norm(eps=nan)", "group_norm(eps=negative)",
    "group_norm(eps=nan)", "LayerNorm(eps=negative)", "LayerNorm(eps=nan)",
    "GroupNorm(eps=negative)", "GroupNorm(eps=nan)", "normalize(p=nan)",
    # PyTorch divides by zero (ZeroDivisionError); we say num_groups must be >= 1
    "group_norm(1=zero)", "GroupNorm(0=zero)",
    "instance_norm(eps=negative)", "instance_norm(eps=nan)", "InstanceNorm2d(eps=negative)",
    "InstanceNorm2d(eps=nan)", "pairwise_distance(p=nan)", "InstanceNorm1d(eps=negative)",
    "InstanceNorm1d(eps=nan)", "triplet_margin_loss(p=nan)", "TripletMarginLoss(p=nan)",
} | {label.replace("BatchNorm2d", "BatchNorm1d") for label in DELIBERATE}
# Where we differ and why (listed so it is seen).
OUR_KNOWN = {
    "normalize(p=string)": "PyTorch fails inside its matrix norm (RuntimeError); we say "
                           "TypeError, p must be a number",
    **{label.replace("BatchNorm2d", "BatchNorm1d"): reason
       for label, reason in KNOWN_GAPS.items() if label.startswith("BatchNorm2d")},
    "PReLU(0=long tuple)": "PyTorch builds a (1, 1, 1) weight from the tuple and fails in prelu "
                           "(RuntimeError); we say TypeError, num_parameters must be an int",
    **{f"InstanceNorm{rank}d(0={spoiler})": "PyTorch never reads num_features without "
                                             "affine or running statistics (it warns on a "
                                             "mismatch); we check it, as BatchNorm's"
       for rank in (1, 2)
       for spoiler in ("string", "none-ish list", "zero", "negative", "huge", "long tuple",
                       "float tuple")},
    "avg_pool1d(0=int tensor)": "integer average pooling (PyTorch truncates each mean)",
    **{f"gaussian_nll_loss(full={spoiler})": "PyTorch reads full by truth value (a string is "
                                             "True); we refuse a string or None as a flag "
                                             "(TypeError), as every option read that way"
       for spoiler in ("string", "none")},
    "gaussian_nll_loss(eps=none)": "PyTorch fails inside its clamp (RuntimeError); we say "
                                   "TypeError, eps must be a number",
}


def names_op(message: str, name: str) -> bool:
    return message.startswith((name, ALIASES.get(name, name)))


def _activation(name, **kwargs):
    flags = {key: ("flag" if isinstance(value, bool) else "float")
             for key, value in kwargs.items()}
    return (name, getattr(F, name), getattr(TF, name), (arr(3, 4),), kwargs,
            {0: "tensor", **flags})


SPECS = [
    _activation("relu6"), _activation("elu", alpha=0.5), _activation("gelu"),
    _activation("silu"), _activation("mish"), _activation("hardswish"),
    _activation("hardsigmoid"), _activation("hardtanh", min_val=-0.5, max_val=0.5),
    _activation("softplus", beta=2.0, threshold=10.0),
    ("softmax", F.softmax, TF.softmax, (arr(3, 4),), dict(dim=1), {0: "tensor", "dim": "int"}),
    ("log_softmax", F.log_softmax, TF.log_softmax, (arr(3, 4),), dict(dim=0),
     {0: "tensor", "dim": "int"}),
    ("cross_entropy", F.cross_entropy, TF.cross_entropy, (arr(4, 5), LABELS),
     dict(label_smoothing=0.1, ignore_index=3),
     {0: "tensor", "label_smoothing": "float", "ignore_index": "int"}),
    ("l1_loss", F.l1_loss, TF.l1_loss, (arr(4, 3), arr(4, 3)), dict(reduction="sum"),
     {0: "tensor", 1: "tensor", "reduction": "word"}),
    ("smooth_l1_loss", F.smooth_l1_loss, TF.smooth_l1_loss, (arr(4, 3), arr(4, 3)),
     dict(beta=0.5), {0: "tensor", 1: "tensor", "beta": "float"}),
    ("huber_loss", F.huber_loss, TF.huber_loss, (arr(4, 3), arr(4, 3)), dict(delta=0.5),
     {0: "tensor", 1: "tensor", "delta": "float"}),
    ("binary_cross_entropy", F.binary_cross_entropy, TF.binary_cross_entropy,
     (PROBABILITIES, PROBABILITIES), {}, {0: "tensor", 1: "tensor"}),
    ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
     TF.binary_cross_entropy_with_logits, (arr(4, 3), PROBABILITIES), {},
     {0: "tensor", 1: "tensor"}),
    ("kl_div", F.kl_div, TF.kl_div, (arr(4, 3), PROBABILITIES), dict(reduction="batchmean"),
     {0: "tensor", 1: "tensor"}),
    ("layer_norm", F.layer_norm, TF.layer_norm, (arr(2, 3, 4), (4,), arr(4), arr(4)),
     dict(eps=1e-5), {0: "tensor", 2: "tensor", 3: "tensor", "eps": "float"}),
    ("group_norm", F.group_norm, TF.group_norm, (arr(2, 4, 3), 2, arr(4), arr(4)),
     dict(eps=1e-5), {0: "tensor", 1: "int", 2: "tensor", 3: "tensor", "eps": "float"}),
    ("normalize", F.normalize, TF.normalize, (arr(3, 4),), dict(p=2.0, dim=1),
     {0: "tensor", "p": "float", "dim": "int"}),
    ("dropout2d", F.dropout2d, TF.dropout2d, (arr(2, 3, 4, 4),), dict(p=0.5, training=False),
     {0: "tensor", "p": "float", "training": "flag"}),
    ("one_hot", F.one_hot, TF.one_hot, (Arr(np.array([0, 2, 1])),), dict(num_classes=4),
     {"num_classes": "int"}),
    ("LayerNorm", applied(nn.LayerNorm, (2, 4)), applied(TNN.LayerNorm, (2, 4)), (4,),
     dict(eps=1e-5), {0: "int", "eps": "float"}),
    ("GroupNorm", applied(nn.GroupNorm, (2, 4, 3)), applied(TNN.GroupNorm, (2, 4, 3)), (2, 4),
     dict(eps=1e-5), {0: "int", 1: "int", "eps": "float"}),
    ("BatchNorm1d", applied(nn.BatchNorm1d, (4, 3)), applied(TNN.BatchNorm1d, (4, 3)), (3,),
     dict(eps=1e-5, momentum=0.1), {0: "int", "eps": "float", "momentum": "float"}),
    ("Dropout2d", applied(nn.Dropout2d, (2, 3, 4, 4)), applied(TNN.Dropout2d, (2, 3, 4, 4)),
     (), dict(p=0.5), {"p": "float"}),
    ("ELU", applied(nn.ELU, (3, 4)), applied(TNN.ELU, (3, 4)), (), dict(alpha=1.0),
     {"alpha": "float"}),
    ("Softplus", applied(nn.Softplus, (3, 4)), applied(TNN.Softplus, (3, 4)), (),
     dict(beta=1.0, threshold=20.0), {"beta": "float", "threshold": "float"}),
    # pixel shuffles, PReLU and the other added activations, embedding, instance norm,
    # distances and their layers
    _activation("selu"), _activation("celu", alpha=0.5), _activation("logsigmoid"),
    _activation("softsign"), _activation("tanhshrink"),
    _activation("threshold", threshold=0.1, value=2.0),
    ("glu", F.glu, TF.glu, (arr(3, 4),), dict(dim=1), {0: "tensor", "dim": "int"}),
    ("prelu", F.prelu, TF.prelu, (arr(2, 3, 4), arr(3)), {}, {0: "tensor", 1: "tensor"}),
    ("pixel_shuffle", F.pixel_shuffle, TF.pixel_shuffle, (arr(2, 8, 3, 3), 2), {},
     {0: "tensor", 1: "int"}),
    ("pixel_unshuffle", F.pixel_unshuffle, TF.pixel_unshuffle, (arr(2, 2, 4, 6), 2), {},
     {0: "tensor", 1: "int"}),
    ("embedding", F.embedding, TF.embedding, (Arr(np.array([[0, 2, 4], [1, 1, 3]])), arr(5, 3)),
     dict(padding_idx=1), {1: "tensor", "padding_idx": "int"}),
    ("instance_norm", F.instance_norm, TF.instance_norm, (arr(2, 3, 4, 4),),
     dict(weight=arr(3), bias=arr(3), eps=1e-5),
     {0: "tensor", "weight": "tensor", "bias": "tensor", "eps": "float"}),
    ("cosine_similarity", F.cosine_similarity, TF.cosine_similarity, (arr(3, 4), arr(3, 4)),
     dict(dim=1, eps=1e-8), {0: "tensor", 1: "tensor", "dim": "int"}),
    ("pairwise_distance", F.pairwise_distance, TF.pairwise_distance, (arr(3, 4), arr(3, 4)),
     dict(p=2.0, eps=1e-6, keepdim=False),
     {0: "tensor", 1: "tensor", "p": "float", "keepdim": "flag"}),
    ("PReLU", applied(nn.PReLU, (2, 3, 4)), applied(TNN.PReLU, (2, 3, 4)), (3,),
     dict(init=0.25), {0: "int"}),
    ("Embedding", nn.Embedding, TNN.Embedding, (5, 3), dict(padding_idx=1),
     {0: "int", 1: "int", "padding_idx": "int"}),
    ("InstanceNorm2d", applied(nn.InstanceNorm2d, (2, 3, 4, 4)),
     applied(TNN.InstanceNorm2d, (2, 3, 4, 4)), (3,), dict(eps=1e-5, momentum=0.1),
     {0: "int", "eps": "float", "momentum": "float"}),
    ("PixelShuffle", applied(nn.PixelShuffle, (2, 8, 3, 3)),
     applied(TNN.PixelShuffle, (2, 8, 3, 3)), (2,), {}, {0: "int"}),
    # 1-d pooling, conv_transpose1d, softmin, dropout1d, padding, fold and their layers
    ("max_pool1d", F.max_pool1d, TF.max_pool1d, (arr(2, 3, 9), 3),
     dict(stride=2, padding=1, dilation=1, ceil_mode=False),
     {0: "tensor", 1: "int", "stride": "int", "padding": "int", "dilation": "int",
      "ceil_mode": "flag"}),
    ("avg_pool1d", F.avg_pool1d, TF.avg_pool1d, (arr(2, 3, 9), 3),
     dict(stride=2, padding=1, ceil_mode=False, count_include_pad=True),
     {0: "tensor", 1: "int", "stride": "int", "padding": "int", "ceil_mode": "flag",
      "count_include_pad": "flag"}),
    ("conv_transpose1d", F.conv_transpose1d, TF.conv_transpose1d,
     (arr(2, 4, 5), arr(4, 3, 3), arr(3)), dict(stride=2, padding=1),
     {0: "tensor", 1: "tensor", 2: "tensor", "stride": "int", "padding": "int"}),
    ("softmin", F.softmin, TF.softmin, (arr(3, 4),), dict(dim=1), {0: "tensor", "dim": "int"}),
    ("dropout1d", F.dropout1d, TF.dropout1d, (arr(2, 3, 4),), dict(p=0.5, training=False),
     {0: "tensor", "p": "float", "training": "flag"}),
    ("MaxPool1d", applied(nn.MaxPool1d, (2, 3, 9)), applied(TNN.MaxPool1d, (2, 3, 9)),
     (3,), dict(stride=2, padding=1), {0: "int", "stride": "int", "padding": "int"}),
    ("AvgPool1d", applied(nn.AvgPool1d, (2, 3, 9)), applied(TNN.AvgPool1d, (2, 3, 9)),
     (3,), dict(stride=2, padding=1), {0: "int", "stride": "int", "padding": "int"}),
    ("ConvTranspose1d", applied(nn.ConvTranspose1d, (2, 4, 5)),
     applied(TNN.ConvTranspose1d, (2, 4, 5)), (4, 6, 3), dict(stride=2),
     {0: "int", 1: "int", 2: "int", "stride": "int"}),
    ("Dropout1d", applied(nn.Dropout1d, (2, 3, 4)), applied(TNN.Dropout1d, (2, 3, 4)),
     (), dict(p=0.5), {"p": "float"}),
    ("InstanceNorm1d", applied(nn.InstanceNorm1d, (2, 3, 5)),
     applied(TNN.InstanceNorm1d, (2, 3, 5)), (3,), dict(eps=1e-5, momentum=0.1),
     {0: "int", "eps": "float", "momentum": "float"}),
    ("Softmin", applied(nn.Softmin, (3, 4)), applied(TNN.Softmin, (3, 4)), (), dict(dim=1),
     {"dim": "int"}),
    ("ZeroPad2d", applied(nn.ZeroPad2d, (2, 3, 4, 4)), applied(TNN.ZeroPad2d, (2, 3, 4, 4)),
     (1,), {}, {0: "int"}),
    ("ConstantPad1d", applied(nn.ConstantPad1d, (2, 3, 4)),
     applied(TNN.ConstantPad1d, (2, 3, 4)), (1, 2.0), {}, {0: "int", 1: "float"}),
    ("ReflectionPad1d", applied(nn.ReflectionPad1d, (2, 3, 4)),
     applied(TNN.ReflectionPad1d, (2, 3, 4)), (2,), {}, {0: "int"}),
    ("ReplicationPad2d", applied(nn.ReplicationPad2d, (2, 3, 4, 4)),
     applied(TNN.ReplicationPad2d, (2, 3, 4, 4)), (2,), {}, {0: "int"}),
    ("CircularPad1d", applied(nn.CircularPad1d, (2, 3, 4)),
     applied(TNN.CircularPad1d, (2, 3, 4)), (2,), {}, {0: "int"}),
    ("Unfold", applied(nn.Unfold, (2, 3, 6, 6)), applied(TNN.Unfold, (2, 3, 6, 6)), (3,),
     dict(dilation=1, padding=1, stride=1),
     {0: "int", "dilation": "int", "padding": "int", "stride": "int"}),
    ("Fold", applied(nn.Fold, (2, 27, 16)), applied(TNN.Fold, (2, 27, 16)), ((6, 6), 3),
     dict(dilation=1, padding=0, stride=1),
     {1: "int", "dilation": "int", "padding": "int", "stride": "int"}),
    # margin, embedding and likelihood losses and their layers
    ("margin_ranking_loss", F.margin_ranking_loss, TF.margin_ranking_loss,
     (arr(4), arr(4), SIGNS), dict(margin=0.5), {0: "tensor", 1: "tensor", 2: "tensor",
                                                 "margin": "float"}),
    ("hinge_embedding_loss", F.hinge_embedding_loss, TF.hinge_embedding_loss,
     (arr(4), SIGNS), dict(margin=0.5), {0: "tensor", 1: "tensor", "margin": "float"}),
    ("soft_margin_loss", F.soft_margin_loss, TF.soft_margin_loss, (arr(4), SIGNS),
     dict(reduction="sum"), {0: "tensor", 1: "tensor", "reduction": "word"}),
    ("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss,
     TF.multilabel_soft_margin_loss, (arr(4, 3), PROBABILITIES), dict(weight=arr(3)),
     {0: "tensor", 1: "tensor", "weight": "tensor"}),
    ("cosine_embedding_loss", F.cosine_embedding_loss, TF.cosine_embedding_loss,
     (arr(4, 3), arr(4, 3), SIGNS), dict(margin=0.2),
     {0: "tensor", 1: "tensor", 2: "tensor", "margin": "float"}),
    ("multi_margin_loss", F.multi_margin_loss, TF.multi_margin_loss, (arr(4, 5), LABELS),
     dict(p=2, margin=0.5, weight=arr(5)),
     {0: "tensor", "p": "int", "margin": "float", "weight": "tensor"}),
    ("triplet_margin_loss", F.triplet_margin_loss, TF.triplet_margin_loss,
     (arr(4, 3), arr(4, 3), arr(4, 3)), dict(margin=1.0, p=2.0, eps=1e-6, swap=True),
     {0: "tensor", 1: "tensor", 2: "tensor", "margin": "float", "p": "float", "eps": "float",
      "swap": "flag"}),
    ("poisson_nll_loss", F.poisson_nll_loss, TF.poisson_nll_loss, (arr(4, 3), PROBABILITIES),
     dict(log_input=True, full=True, eps=1e-8),
     {0: "tensor", 1: "tensor", "log_input": "flag", "full": "flag", "eps": "float"}),
    ("gaussian_nll_loss", F.gaussian_nll_loss, TF.gaussian_nll_loss,
     (arr(4, 3), arr(4, 3), PROBABILITIES), dict(full=True, eps=1e-6),
     {0: "tensor", 1: "tensor", 2: "tensor", "full": "flag", "eps": "float"}),
    ("MultiMarginLoss", applied_loss(nn.MultiMarginLoss, (arr(4, 5), LABELS)),
     applied_loss(TNN.MultiMarginLoss, (arr(4, 5), LABELS)), (), dict(p=1, margin=1.0),
     {"p": "int", "margin": "float"}),
    ("TripletMarginLoss", applied_loss(nn.TripletMarginLoss, (arr(4, 3),) * 3),
     applied_loss(TNN.TripletMarginLoss, (arr(4, 3),) * 3), (),
     dict(margin=1.0, p=2.0, swap=False), {"margin": "float", "p": "float", "swap": "flag"}),
    # shrinkage, rrelu, alpha dropouts, channel shuffle, local response norm and their layers
    _activation("softshrink", lambd=0.5), _activation("hardshrink", lambd=0.5),
    ("rrelu", F.rrelu, TF.rrelu, (arr(3, 4),), dict(lower=0.1, upper=0.3, training=True),
     {0: "tensor", "lower": "float", "upper": "float", "training": "flag"}),
    ("alpha_dropout", F.alpha_dropout, TF.alpha_dropout, (arr(3, 4),),
     dict(p=0.5, training=True), {0: "tensor", "p": "float", "training": "flag"}),
    ("feature_alpha_dropout", F.feature_alpha_dropout, TF.feature_alpha_dropout,
     (arr(2, 3, 4),), dict(p=0.5, training=True),
     {0: "tensor", "p": "float", "training": "flag"}),
    ("channel_shuffle", F.channel_shuffle, TF.channel_shuffle, (arr(2, 6, 3, 3), 3), {},
     {0: "tensor", 1: "int"}),
    ("local_response_norm", F.local_response_norm, TF.local_response_norm, (arr(2, 5, 3, 3), 3),
     dict(alpha=1e-4, beta=0.75, k=1.0),
     {0: "tensor", 1: "int", "alpha": "float", "beta": "float", "k": "float"}),
    ("Softshrink", applied(nn.Softshrink, (3, 4)), applied(TNN.Softshrink, (3, 4)), (0.5,), {},
     {0: "float"}),
    ("RReLU", applied(nn.RReLU, (3, 4)), applied(TNN.RReLU, (3, 4)), (0.1, 0.3), {},
     {0: "float", 1: "float"}),
    ("AlphaDropout", applied(nn.AlphaDropout, (3, 4)), applied(TNN.AlphaDropout, (3, 4)), (),
     dict(p=0.5), {"p": "float"}),
    ("ChannelShuffle", applied(nn.ChannelShuffle, (2, 6, 3, 3)),
     applied(TNN.ChannelShuffle, (2, 6, 3, 3)), (3,), {}, {0: "int"}),
    ("LocalResponseNorm", applied(nn.LocalResponseNorm, (2, 5, 3, 3)),
     applied(TNN.LocalResponseNorm, (2, 5, 3, 3)), (3,), dict(alpha=1e-4, beta=0.75, k=1.0),
     {0: "int", "alpha": "float", "beta": "float", "k": "float"}),
    # bilinear, pdist, gumbel_softmax and Bilinear
    ("bilinear", F.bilinear, TF.bilinear, (arr(4, 3), arr(4, 2), arr(5, 3, 2), arr(5)), {},
     {0: "tensor", 1: "tensor", 2: "tensor", 3: "tensor"}),
    ("pdist", F.pdist, TF.pdist, (arr(4, 3),), dict(p=2.0), {0: "tensor", "p": "float"}),
    ("gumbel_softmax", F.gumbel_softmax, TF.gumbel_softmax, (arr(3, 4),),
     dict(tau=1.0, hard=True, dim=1), {0: "tensor", "tau": "float", "dim": "int"}),
    ("Bilinear", applied_loss(nn.Bilinear, (arr(4, 3), arr(4, 2))),
     applied_loss(TNN.Bilinear, (arr(4, 3), arr(4, 2))), (3, 2, 5), {},
     {0: "int", 1: "int", 2: "int"}),
]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("spec", SPECS, ids=[spec[0] for spec in SPECS])
def test_bad_inputs_raise_what_pytorch_raises_naming_the_op(spec):
    name = spec[0]
    problems = []
    for label, args, kwargs in spoiled_calls(spec):
        expected = outcome(spec[2], build(args, "theirs"), build(kwargs, "theirs"))
        with np.errstate(all="ignore"):
            got = outcome(spec[1], build(args, "ours"), build(kwargs, "ours"))
        problem = judge(name, label, expected, got)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def judge(name, label, expected, got):
    if label in OUR_KNOWN:
        return None
    if label in OUR_DELIBERATE:
        return None if isinstance(got, ValueError) and names_op(str(got), name) else \
            f"{label}: expected our deliberate ValueError, got {got!r}"
    if label.endswith(("=bool)", "=float)")) and isinstance(got, TypeError) and \
            not isinstance(expected, TypeError):
        return None if names_op(str(got), name) else f"{label}: message does not name {name}"
    if expected is None:
        return None if got is None else \
            f"{label}: PyTorch computes, we raise {type(got).__name__}: {got}"
    if got is None:
        return f"{label}: PyTorch raises {type(expected).__name__}: {expected}, we compute"
    if not isinstance(got, accepted(expected, label)) and not (
            "huge" in label and isinstance(got, ValueError)):
        return (f"{label}: PyTorch raises {type(expected).__name__}: {str(expected)[:80]}, "
                f"we raise {type(got).__name__}: {got}")
    if not names_op(str(got), name):
        return f"{label}: message does not name {name}: {got}"
    return None
