"""Losses (as ``torch.nn.functional``): ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``
(PyTorch's legacy ``size_average``/``reduce`` are accepted and mapped as PyTorch maps them);
a reduced loss has shape ``()``.

Margin and embedding losses (``margin_ranking_loss``, ``hinge_embedding_loss``,
``soft_margin_loss``, ``multilabel_soft_margin_loss``, ``cosine_embedding_loss``,
``multi_margin_loss``, ``triplet_margin_loss``) and the likelihood losses
(``poisson_nll_loss``, ``gaussian_nll_loss``) follow PyTorch's formulas, including the
gradient at a margin exactly hit (``clamp_min``: the linear side's gradient).

Class losses (``cross_entropy``, ``nll_loss``) take scores ``(N, C)``, ``(C,)`` or
``(N, C, d1, ..., dK)`` and class indices ``(N,)``, ``()`` or ``(N, d1, ..., dK)``, with a
per-class ``weight``, an ``ignore_index`` and, for ``cross_entropy``, class-probability
targets and ``label_smoothing``.  Every loss is stable for finite inputs (log-sum-exp,
softplus forms) and composed of Tensor ops or the primitives of :mod:`tinygrad_cnn.ops.loss`
and :mod:`tinygrad_cnn.ops.activation`, so every derivative order works.
"""

import warnings

import numpy as np

from ..._checks import (
    AxisError,
    DtypeError,
    ShapeError,
    check_bool,
    check_broadcastable,
    check_fits,
    check_flag,
    check_float,
    check_int,
    check_number,
    check_tensor,
    is_real,
)
from ...ops import activation as act
from ...ops import elementwise as ew
from ...ops.loss import BinaryCrossEntropy
from ...tensor import Tensor
from .activation import log_softmax
from .distance import _clamped_below, pairwise_distance

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ shared pieces
def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _check_reduction(op: str, reduction) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(op: str, argument: str, value, like: Tensor) -> Tensor:
    """A Tensor operand (arrays and numbers become constants of ``like``'s dtype)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, list, tuple)) or is_real(value):
        return Tensor._make(np.asarray(value, dtype=like.dtype))
    raise TypeError(f"{op}: {argument} must be a Tensor, got {type(value).__name__}")


def _float(op: str, x: Tensor) -> Tensor:
    """``x``, checked to be a floating Tensor (PyTorch: "not implemented" for integers)."""
    check_tensor(op, "input", x)
    check_float(op, "input", x.dtype)
    return x


def _pointwise_pair(op: str, input, target, reduction, exact: bool = False,
                    promote: str = "int bool", float_target: bool = False,
                    bool_target: bool = True):
    """Checked ``(input, target)`` of an elementwise loss; ``target`` is broadcast to the
    input's shape with PyTorch's warning when the shapes differ (``exact``: they must not).

    dtypes as PyTorch treats each loss: an input whose kind is named in ``promote`` ("int",
    "bool") meets a floating target in the target's dtype, any other non-floating input is
    refused; ``float_target``: the target must be floating too; ``bool_target=False``: a
    bool target is refused (PyTorch's ``l1_loss`` cannot subtract it).
    """
    _check_reduction(op, reduction)
    check_tensor(op, "input", input)
    check_tensor(op, "target", target)
    kind = {"i": "int", "u": "int", "b": "bool"}.get(input.dtype.kind)
    if kind is not None and kind in promote.split() and target.dtype.kind == "f":
        input = input.astype(target.dtype)
    check_float(op, "input", input.dtype)
    if target.dtype.kind != "f":
        if float_target or target.dtype == np.bool_ and not bool_target:
            raise DtypeError(f"{op}: target must be a floating point tensor, got "
                             f"{target.dtype}")
        target = target.astype(input.dtype)
    if target.shape != input.shape:
        if exact:
            raise ValueError(f"{op}: target size {target.shape} must be the same as input "
                             f"size {input.shape}")
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ShapeError(f"{op}: input shape {input.shape} and target shape "
                             f"{target.shape} differ and cannot be broadcast together") from None
        warnings.warn(f"{op}: using a target size ({target.shape}) that is different to the "
                      f"input size ({input.shape}); this will likely lead to incorrect results "
                      "due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
    return input, target


def _weighted_pointwise(op: str, loss: Tensor, weight, reduction: str,
                        mean_by_weight: bool) -> Tensor:
    """``loss * weight`` reduced, for the losses whose ``weight`` has the input's shape
    (PyTorch 2.x's ``mse_loss``, ``l1_loss``: "mean" divides by the summed weight;
    ``huber_loss``: by the element count)."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = _as_tensor(op, "weight", weight, loss)
    if weight.shape != loss.shape:
        raise ValueError(f"{op}: weight must have the input's shape {loss.shape}, got "
                         f"{weight.shape}")
    weighted = loss * weight
    if reduction == "mean" and mean_by_weight:
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def _weighted(op: str, loss: Tensor, weight, name: str = "weight") -> Tensor:
    if weight is None:
        return loss
    weight = _as_tensor(op, name, weight, loss)
    check_broadcastable(op, weight.shape, loss.shape)
    return loss * weight


# ------------------------------------------------------------------ class losses
def _class_layout(op: str, input: Tensor, target: np.ndarray):
    """Scores with the class axis last, flattened: ``(M, C)``, and the targets ``(M,)``;
    checks PyTorch's shape rules for (C,), (N, C) and (N, C, d1, ...) inputs."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ...), got a "
                         "0-d tensor")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{op}: a (C,) input takes a 0-d target, got target shape "
                             f"{target.shape}")
        return input.reshape(1, -1), target.reshape(1), ()
    if input.ndim == 2 and target.ndim == 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected input batch_size ({input.shape[0]}) to match "
                         f"target batch_size ({target.shape[0]})")
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: target shape {target.shape} does not match input shape "
                         f"{input.shape}; expected {expected}")
    classes = input.shape[1]
    scores = input if input.ndim == 2 else \
        input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    return scores, target.reshape(-1), target.shape


def _check_ignore_index(op: str, ignore_index) -> int:
    ignore_index = check_int(op, "ignore_index", ignore_index)
    if not -2**63 <= ignore_index < 2**63:
        raise ValueError(f"{op}: ignore_index must fit in int64, got {ignore_index}")
    return ignore_index


def _class_indices(op: str, target) -> np.ndarray:
    array = target._data if isinstance(target, Tensor) else np.asarray(target)
    if array.dtype.kind not in "iub":
        raise RuntimeError(f"{op}: target must hold integer class indices, got dtype "
                           f"{array.dtype}")
    return array.astype(np.int64, copy=False)


def _class_weight(op: str, weight, classes: int, like: Tensor):
    if weight is None:
        return None
    weight = _as_tensor(op, "weight", weight, like)
    if weight.shape != (classes,):
        raise RuntimeError(f"{op}: weight must have shape ({classes},), one per class, got "
                           f"{weight.shape}")
    return weight


def _nll(op: str, log_probs: Tensor, target, weight, ignore_index, reduction: str):
    """The negative log-likelihood core shared by nll_loss and cross_entropy: returns the
    loss and, for the smoothing term, the flattened scores, kept mask and per-item weights."""
    scores, flat, shape = _class_layout(op, log_probs, target)
    classes = scores.shape[1]
    kept = flat != ignore_index
    bad = kept & ((flat < 0) | (flat >= classes))
    if bad.any():
        raise IndexError(f"{op}: target {flat[bad][0]} is out of bounds for {classes} classes")
    safe = np.where(kept, flat, 0)
    picked = scores[np.arange(len(safe)), safe]
    if not kept.all():  # ignored items count 0 even where their score is NaN or inf (PyTorch)
        picked = ew.MaskBy.apply(picked, kept)
    weight = _class_weight(op, weight, classes, log_probs)
    kept_float = Tensor._make(kept.astype(scores.dtype))
    item_weight = kept_float if weight is None else weight[safe] * kept_float
    loss = -(picked * item_weight)
    if reduction == "mean":
        reduced = loss.sum() / item_weight.sum()
    elif reduction == "sum":
        reduced = loss.sum()
    else:
        reduced = loss.reshape(shape)
    return reduced, (scores, kept, item_weight, weight, shape)


def nll_loss(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes (``torch.nn.functional.nll_loss``).

    input: ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)`` log-probabilities; target: ``(N,)``,
    ``()`` or ``(N, d1, ..., dK)`` class indices; ``weight``: ``(C,)``.  Items whose target is
    ``ignore_index`` count for nothing; ``"mean"`` divides by the summed weights of the
    others (NaN when every item is ignored, as PyTorch).  ``"none"`` returns the target's
    shape.
    """
    op = "nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    input = _float(op, input)
    ignore_index = _check_ignore_index(op, ignore_index)
    loss, _ = _nll(op, input, _class_indices(op, target), weight, ignore_index, reduction)
    return loss


def cross_entropy(input: Tensor, target, weight=None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from unnormalised scores (``torch.nn.functional.cross_entropy``),
    stable for any finite logits (log-sum-exp).

    input: ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``.  target: class indices (shapes as
    :func:`nll_loss`, with ``weight`` and ``ignore_index``), or class probabilities of the
    input's shape (a float tensor).  ``label_smoothing`` e mixes the target with the uniform
    distribution: ``(1 - e) * target + e / C``, as PyTorch (weights included).
    """
    op = "cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    input = _float(op, input)
    ignore_index = _check_ignore_index(op, ignore_index)
    check_number(op, "label_smoothing", label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:  # PyTorch computes a negative or NaN one; we refuse
        raise ShapeError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    class_axis = 0 if input.ndim == 1 else 1
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ...), got a 0-d "
                         "tensor")
    log_probs = log_softmax(input, class_axis)
    classes = input.shape[class_axis]
    target_array = target._data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.dtype.kind == "f":
        return _probability_cross_entropy(op, log_probs, target, weight, reduction,
                                          label_smoothing, class_axis)
    loss, (scores, kept, item_weight, class_weight, shape) = _nll(
        op, log_probs, _class_indices(op, target), weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    # The uniform part: -sum_c w_c log p_c per item, ignored items zeroed; "mean" divides by
    # the same total weight as the nll part (PyTorch's rule).
    per_class = scores if class_weight is None else scores * class_weight
    smooth = -per_class.sum(1)
    # ignored items masked, not multiplied by 0: a NaN or inf row gives 0 there (as PyTorch)
    smooth = ew.MaskBy.apply(smooth, np.broadcast_to(kept, smooth.shape))
    if reduction == "mean":
        smooth = smooth.sum() / item_weight.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        smooth = smooth.reshape(shape)
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)


def _probability_cross_entropy(op, log_probs, target, weight, reduction, label_smoothing,
                               class_axis):
    target = _as_tensor(op, "target", target, log_probs)
    if target.shape != log_probs.shape:
        raise RuntimeError(f"{op}: probability target shape {target.shape} must equal the "
                           f"input shape {log_probs.shape}")
    classes = log_probs.shape[class_axis]
    if weight is not None:
        weight = _class_weight(op, weight, classes, log_probs)
        per_class = (1, classes) + (1,) * (log_probs.ndim - 2) if class_axis else (classes,)
        log_probs = log_probs * weight.reshape(per_class)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    loss = -(log_probs * target)
    if reduction == "mean":
        return loss.sum() / (log_probs._data.size // classes)
    if reduction == "sum":
        return loss.sum()
    return loss.sum(class_axis)


# ------------------------------------------------------------------ regression losses
def mse_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    """``(input - target) ** 2``, reduced (``torch.nn.functional.mse_loss``); any shape,
    target broadcast with PyTorch's warning when its shape differs.  ``weight`` (the input's
    shape) multiplies each term; "mean" then divides by the summed weight, as PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _pointwise_pair("mse_loss", input, target, reduction)
    difference = input - target
    return _weighted_pointwise("mse_loss", difference * difference, weight, reduction, True)


def l1_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None) -> Tensor:
    """``|input - target|``, reduced (``torch.nn.functional.l1_loss``); ``weight`` as in
    :func:`mse_loss`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _pointwise_pair("l1_loss", input, target, reduction, promote="int",
                                    bool_target=False)
    return _weighted_pointwise("l1_loss", (input - target).abs(), weight, reduction, True)


def _piecewise_quadratic(difference: Tensor, width: float, linear_scale: float) -> Tensor:
    """``0.5 d**2 / width * scale`` where ``|d| < width``, else ``scale * (|d| - width/2)``."""
    size = difference.abs()
    inside = ~(size._data >= width)  # NaN in the quadratic branch: a NaN gradient, as PyTorch
    # the square of d only where it is used: outside, its masked gradient (0) times an
    # infinite d would be NaN (PyTorch's backward gives the linear branch's +-scale there)
    near = ew.Where.apply(inside, difference, Tensor._make(np.zeros((), difference.dtype)))
    quadratic = near * near * (0.5 / width * linear_scale)
    return ew.Where.apply(inside, quadratic, (size - 0.5 * width) * linear_scale)


def smooth_l1_loss(input: Tensor, target, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - beta/2``, ``d = input - target``
    (``torch.nn.functional.smooth_l1_loss``; ``beta=0`` is the L1 loss)."""
    op = "smooth_l1_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _pointwise_pair(op, input, target, reduction)
    check_number(op, "beta", beta)
    if not beta >= 0:
        raise ShapeError(f"{op}: beta must be >= 0, got {beta}")
    difference = input - target
    if beta == 0:
        return _reduce(difference.abs(), reduction)
    return _reduce(_piecewise_quadratic(difference, float(beta), 1.0), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta * (|d| - delta/2)``
    (``torch.nn.functional.huber_loss``); ``weight`` (the input's shape) multiplies each
    term, and "mean" stays the mean over elements, as PyTorch."""
    op = "huber_loss"
    input, target = _pointwise_pair(op, input, target, reduction, promote="")
    check_number(op, "delta", delta)
    if not delta > 0:
        raise ShapeError(f"{op}: delta must be > 0, got {delta}")
    loss = _piecewise_quadratic(input - target, float(delta), float(delta))
    return _weighted_pointwise(op, loss, weight, reduction, False)


# ------------------------------------------------------------------ binary losses
def binary_cross_entropy(input: Tensor, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``-w (t log p + (1 - t) log(1 - p))`` with each log clamped at -100, as PyTorch
    (``torch.nn.functional.binary_cross_entropy``).  input: probabilities in [0, 1]; target:
    the same shape; ``weight`` broadcast to it."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _pointwise_pair(op, input, target, reduction, exact=True, promote="",
                                    float_target=True)
    for name, values in (("input", input._data), ("target", target._data)):
        if values.size and not ((values >= 0) & (values <= 1)).all():
            raise ShapeError(f"{op}: all elements of {name} should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(_weighted(op, loss, weight), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable formula
    (``torch.nn.functional.binary_cross_entropy_with_logits``):
    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``, times ``weight``.  ``pos_weight``
    broadcasts against the last (class) dimension."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _pointwise_pair(op, input, target, reduction, exact=True, promote="",
                                    float_target=True)
    softplus_negative = act.Softplus.apply(-input, 1.0, float("inf"))  # no linear cut-off
    if pos_weight is None:
        loss = (1.0 - target) * input + softplus_negative
    else:
        pos_weight = _as_tensor(op, "pos_weight", pos_weight, input)
        check_broadcastable(op, pos_weight.shape, input.shape)
        loss = (1.0 - target) * input + (target * (pos_weight - 1.0) + 1.0) * softplus_negative
    return _reduce(_weighted(op, loss, weight), reduction)


def kl_div(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` pointwise, ``input``
    being log-probabilities (``torch.nn.functional.kl_div``); ``log_target=True`` takes the
    target as log-probabilities too.  ``reduction="batchmean"`` divides the sum by the batch
    size (the mathematical KL); ``"mean"`` by the element count, with PyTorch's warning."""
    op = "kl_div"
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + ('batchmean',)}, "
                         f"got {reduction!r}")
    input, target = _pointwise_pair(op, input, target, "none", promote="", float_target=True)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t) - t * input: 0 * log 0 is 0, so the log is of 1 where t is 0 (a
        # negative target gives NaN, as PyTorch's xlogy)
        nonzero = target._data != 0
        safe = ew.Where.apply(nonzero, target, Tensor._make(np.ones((), target.dtype)))
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size, as "
                      "the KL divergence's definition.", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ margin and embedding losses
def _operands(op: str, names: tuple, values: tuple, reduction: str, subtracted: tuple = (),
              broadcast: bool = True, same_rank: bool = False) -> list:
    """Checked Tensors of a loss on several operands, in their common floating dtype (as
    PyTorch's promotion: integer and bool operands take it, two floating dtypes promote; one
    operand at least must be floating).  The operands the formula subtracts or negates may not
    be bool (PyTorch's RuntimeError); ``broadcast``: their shapes must broadcast together;
    ``same_rank``: they must have one number of dimensions (PyTorch's rule for the ranking
    and triplet losses)."""
    _check_reduction(op, reduction)
    for name, value in zip(names, values):
        check_tensor(op, name, value)
        if name in subtracted and value.dtype == np.bool_:
            raise DtypeError(f"{op}: {name} must not be a bool tensor (the loss subtracts it)")
    if same_rank and len({value.ndim for value in values}) > 1:
        shapes = ", ".join(f"{name} {value.shape}" for name, value in zip(names, values))
        raise ShapeError(f"{op}: {', '.join(names)} must have the same number of dimensions, "
                         f"got {shapes}")
    floating = [value.dtype for value in values if value.dtype.kind == "f"]
    if not floating:
        check_float(op, names[0], values[0].dtype)
    dtype = np.result_type(*floating)
    if broadcast:
        check_broadcastable(op, *(value.shape for value in values))
    return [value if value.dtype == dtype else value.astype(dtype) for value in values]


def _zero_of(x: Tensor) -> Tensor:
    """A constant 0-d zero of ``x``'s dtype (the other branch of a ``Where``)."""
    return Tensor._make(np.zeros((), x.dtype))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``
    (``torch.nn.functional.margin_ranking_loss``): ``target`` 1 asks ``input1`` to rank
    higher, -1 lower.  The three operands have the same number of dimensions and broadcast;
    ``"none"`` returns their broadcast shape."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    names = ("input1", "input2", "target")
    input1, input2, target = _operands(op, names, (input1, input2, target), reduction,
                                       subtracted=names, same_rank=True)
    check_number(op, "margin", margin)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1
    (``torch.nn.functional.hinge_embedding_loss``; as PyTorch, any other target value adds
    both terms).  ``input`` and ``target`` broadcast; ``"none"`` returns their shape."""
    op = "hinge_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input = _float(op, input)
    input, target = _operands(op, ("input", "target"), (input, target), reduction,
                              subtracted=("input",))
    check_fits(op, "margin", check_number(op, "margin", margin), input.dtype)
    shape = np.broadcast_shapes(input.shape, target.shape)
    labels = np.broadcast_to(target._data, shape)
    zero = _zero_of(input)
    below_margin = ew.Where.apply(labels != 1, (margin - input).clamp(min=0), zero)
    return _reduce(below_margin + ew.Where.apply(labels != -1, input, zero), reduction)


def soft_margin_loss(input: Tensor, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``, computed as a softplus so that it stays finite
    where PyTorch's direct formula overflows (``torch.nn.functional.soft_margin_loss``).
    ``target`` (labels 1 or -1) broadcasts to the input's shape."""
    op = "soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input = _float(op, input)
    input, target = _operands(op, ("input", "target"), (input, target), reduction)
    if np.broadcast_shapes(input.shape, target.shape) != input.shape:
        raise ShapeError(f"{op}: target shape {target.shape} must broadcast to the input "
                         f"shape {input.shape}")
    return _reduce(act.Softplus.apply(-target * input, 1.0, float("inf")), reduction)


def multilabel_soft_margin_loss(input: Tensor, target, weight=None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """One-versus-all logistic loss averaged over the classes (the last dimension)
    (``torch.nn.functional.multilabel_soft_margin_loss``).

    input: ``(N, C)`` (or any shape with the classes last), target: 0/1 labels broadcast to
    it, ``weight``: broadcast to it (typically ``(C,)``).  ``"none"`` returns ``(N,)``: the
    input's shape without the class dimension.
    """
    op = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input = _float(op, input)
    input, target = _operands(op, ("input", "target"), (input, target), reduction,
                              subtracted=("target",))
    if weight is not None:
        check_tensor(op, "weight", weight)
    if input.ndim == 0:
        raise AxisError(f"{op}: input must have a class dimension (N, C) or (C,), got a 0-d "
                        "tensor")
    # -log sigmoid(x) and -log sigmoid(-x), each its own softplus: an infinite input gives
    # PyTorch's inf, never inf - inf
    loss = target * act.Softplus.apply(-input, 1.0, float("inf")) + \
        (1.0 - target) * act.Softplus.apply(input, 1.0, float("inf"))
    loss = _weighted(op, loss, weight)
    return _reduce(loss.sum(-1) / input.shape[-1], reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where it
    is -1 (``torch.nn.functional.cosine_embedding_loss``).

    input1, input2: ``(N, D)`` with target ``(N,)``, or ``(D,)`` with a 0-d target.  As
    PyTorch, ``cos = x1.x2 / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12))``: a zero vector has
    cosine 0, never NaN.
    """
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    names = ("input1", "input2", "target")
    input1, input2, target = _operands(op, names, (input1, input2, target), reduction,
                                       broadcast=False)
    if target.ndim > 1:
        raise ShapeError(f"{op}: target must be 0-D or 1-D (multi-target is not supported), "
                         f"got shape {target.shape}")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise ShapeError(f"{op}: a {target.ndim}-D target takes {target.ndim + 1}-D inputs, got "
                         f"input1 {input1.shape} and input2 {input2.shape}")
    check_broadcastable(op, input1.shape, input2.shape)
    check_number(op, "margin", margin)
    axis = target.ndim
    dot = (input1 * input2).sum(axis)
    squares = ((input1 * input1).sum(axis) + 1e-12) * ((input2 * input2).sum(axis) + 1e-12)
    cosine = dot / squares.sqrt()
    shape = check_broadcastable(op, cosine.shape, target.shape)
    labels = np.broadcast_to(target._data, shape)
    zero = _zero_of(cosine)
    similar = ew.Where.apply(labels == 1, 1.0 - cosine, zero)
    dissimilar = ew.Where.apply(labels == -1, (cosine - margin).clamp(min=0), zero)
    return _reduce(similar + dissimilar, reduction)


def _check_margin_power(op: str, p) -> None:
    """``p`` of the multi-class hinge: 1 or 2 (PyTorch compares it, so a string is a
    ValueError too; a bool is not a power)."""
    if isinstance(p, (bool, np.bool_)):
        raise TypeError(f"{op}: p must be 1 or 2, got {p!r}")
    if not (is_real(p) and p in (1, 2)):
        raise ValueError(f"{op}: p must be 1 or 2, got {p!r}")


def multi_margin_loss(input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (``torch.nn.functional.multi_margin_loss``): per sample,
    ``sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C``.

    input: ``(N, C)`` or ``(C,)`` scores (C >= 1); target: ``(N,)`` class indices (``()`` or
    ``(1,)`` for a ``(C,)`` input); ``p``: 1 or 2; ``weight``: ``(C,)``.  ``"none"``
    returns ``(N,)`` (``()`` for a ``(C,)`` input with a 0-d target).
    """
    op = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    input = _float(op, input)
    _check_margin_power(op, p)
    check_fits(op, "margin", check_number(op, "margin", margin), input.dtype)
    if not 1 <= input.ndim <= 2 or input.shape[-1] == 0:
        raise ShapeError(f"{op}: input must be a non-empty (C,) or (N, C) tensor (N may be 0), "
                         f"got shape {input.shape}")
    labels = _class_indices(op, target)
    scores = input.reshape(-1, input.shape[-1])
    samples, classes = scores.shape
    if labels.ndim > 1 or labels.size != samples:
        raise ShapeError(f"{op}: target must be 1-D with one class index per sample, expected "
                         f"size ({samples},), got {labels.shape} (input shape {input.shape})")
    labels = labels.reshape(-1)
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ShapeError(f"{op}: target {labels[bad][0]} is out of range for {classes} classes")
    if weight is not None:
        check_tensor(op, "weight", weight)
        if weight.ndim != 1:
            raise ValueError(f"{op}: weight must be one-dimensional, got shape {weight.shape}")
        if weight.shape != (classes,):
            raise ShapeError(f"{op}: weight must have shape ({classes},), one per class, got "
                             f"{weight.shape}")
        if weight.dtype != input.dtype:
            raise DtypeError(f"{op}: weight must have the input's dtype {input.dtype}, got "
                             f"{weight.dtype}")
    rows = np.arange(samples)
    slack = scores - scores[rows, labels].reshape(-1, 1) + margin
    # as PyTorch's kernel: a term counts where its slack is > 0 (not at 0 exactly, nor NaN)
    # and j is not the target class
    counted = (slack._data > 0) & (np.arange(classes) != labels[:, None])
    hinge = ew.Where.apply(counted, slack, _zero_of(slack))
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[labels].reshape(-1, 1)
    loss = hinge.sum(1) / classes
    if input.ndim == 1 and np.ndim(target) == 0:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _check_triplet_margin(op: str, margin) -> None:
    """PyTorch's rule: a margin <= 0 is a ValueError (a NaN one passes, as there)."""
    check_number(op, "margin", margin)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the :func:`pairwise_distance`
    (``p``, ``eps``) along the last dimension (``torch.nn.functional.triplet_margin_loss``);
    ``swap`` uses ``min(d(a, n), d(p, n))`` (the distance swap of Balntas et al.).

    anchor, positive, negative: ``(N, D)`` or ``(D,)``, the same number of dimensions,
    broadcastable -> ``(N,)`` with ``"none"``.
    """
    op = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    names = ("anchor", "positive", "negative")
    anchor, positive, negative = _operands(op, names, (anchor, positive, negative), reduction,
                                           subtracted=names, same_rank=True)
    _check_triplet_margin(op, margin)
    check_number(op, "p", p)
    if p != p:
        raise ShapeError(f"{op}: p must be a number, got nan")
    check_number(op, "eps", eps)
    swap = check_bool(op, "swap", swap)
    positive_distance = pairwise_distance(anchor, positive, p, eps)
    negative_distance = pairwise_distance(anchor, negative, p, eps)
    if swap:
        negative_distance = negative_distance.minimum(pairwise_distance(positive, negative,
                                                                        p, eps))
    return _reduce((positive_distance - negative_distance + margin).clamp(min=0), reduction)


# ------------------------------------------------------------------ likelihood losses
def poisson_nll_loss(input: Tensor, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood (``torch.nn.functional.poisson_nll_loss``):
    ``exp(input) - target * input`` (``log_input``) or ``input - target * log(input + eps)``;
    ``full`` adds Stirling's ``t log t - t + log(2 pi t) / 2`` where ``t > 1``.  ``input`` and
    ``target`` broadcast."""
    op = "poisson_nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    log_input = check_bool(op, "log_input", log_input)
    full = check_bool(op, "full", full)
    input, target = _operands(op, ("input", "target"), (input, target), reduction,
                              subtracted=("target",) if full else ())
    check_number(op, "eps", eps)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        counted = target._data > 1
        # the log of 1 where the term is not counted: no NaN value or gradient from t <= 0
        safe = ew.Where.apply(counted, target, Tensor._make(np.ones((), target.dtype)))
        stirling = safe * safe.log() - safe + 0.5 * (safe * (2 * np.pi)).log()
        loss = loss + ew.MaskBy.apply(stirling, counted)
    return _reduce(loss, reduction)


def _homoscedastic_var(op: str, var: Tensor, input: Tensor) -> Tensor:
    """``var`` shaped to broadcast against ``input`` by PyTorch's rules: the input's shape,
    the input's shape without its last dimension (one variance per vector), or the input's
    shape with exactly one dimension of size 1."""
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)
    mismatched = [size for size, own in zip(var.shape, input.shape) if size != own]
    if var.ndim == input.ndim and sum(mismatched) == 1:
        return var
    raise ValueError(f"{op}: var is of incorrect size: expected the input's shape "
                     f"{input.shape}, that shape without its last dimension, or with one "
                     f"dimension of size 1, got {var.shape}")


def gaussian_nll_loss(input: Tensor, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``(log(var) + (input - target)^2 / var) / 2``
    (``+ log(2 pi) / 2`` with ``full``) (``torch.nn.functional.gaussian_nll_loss``).

    input: any shape, target broadcast to it; var: a float, or a Tensor of the input's shape,
    of that shape without its last dimension, or with one dimension of size 1 (shared
    variance).  As PyTorch, var's values are clamped to at least ``eps`` while its gradient
    passes through unclamped; a negative var is a ValueError.
    """
    op = "gaussian_nll_loss"
    _check_reduction(op, reduction)
    check_tensor(op, "input", input)
    if isinstance(var, float):
        var = Tensor._make(np.full(input.shape, var, dtype=input.dtype))
    elif not isinstance(var, Tensor):
        raise TypeError(f"{op}: var must be a Tensor or a float, got {type(var).__name__}")
    check_float(op, "var", var.dtype)
    if (var._data < 0).any():
        raise ValueError(f"{op}: var has negative entry/entries")
    var = _homoscedastic_var(op, var, input)
    input, target, var = _operands(op, ("input", "target", "var"), (input, target, var),
                                   reduction, subtracted=("input", "target"))
    full = check_flag(op, "full", full)
    check_fits(op, "eps", check_number(op, "eps", eps), var.dtype)
    var = _clamped_below(var, eps)
    difference = input - target
    loss = 0.5 * (var.log() + difference * difference / var)
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    return _reduce(loss, reduction)
