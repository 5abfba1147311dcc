"""Distances (as ``torch.nn.functional``): ``cosine_similarity``, ``pairwise_distance`` and
``pdist``, composed of Tensor ops (every derivative order comes from them)."""

import math

import numpy as np

from ..._checks import (
    DtypeError,
    ShapeError,
    check_bool,
    check_broadcastable,
    check_float,
    check_number,
    check_tensor,
    normalize_axis,
)
from ...ops.elementwise import Where
from ...tensor import Tensor


def _operands(op: str, x1, x2) -> tuple:
    """``x1``, ``x2`` checked to be Tensors, and their broadcast shape."""
    check_tensor(op, "x1", x1)
    check_tensor(op, "x2", x2)
    return check_broadcastable(op, x1.shape, x2.shape)


def _floating_pair(op: str, x1: Tensor, x2: Tensor) -> tuple:
    """``x1``, ``x2`` with a floating common dtype: an integer (or bool) operand takes the
    other's float dtype; two non-float operands are PyTorch's RuntimeError."""
    if x1.dtype.kind != "f" and x2.dtype.kind != "f":
        raise DtypeError(f"{op}: expected the common dtype of x1 and x2 to be floating point, "
                         f"got {x1.dtype} and {x2.dtype}")
    if x1.dtype.kind != "f":
        x1 = x1.astype(x2.dtype)
    if x2.dtype.kind != "f":
        x2 = x2.astype(x1.dtype)
    return x1, x2


def _clamped_below(norm: Tensor, eps: float) -> Tensor:
    """``max(norm, eps)`` in value, with ``norm``'s gradient passed straight through, as
    PyTorch 2.x's cosine_similarity clamps its norms in place outside the graph."""
    short = norm._data < eps
    if not short.any():
        return norm
    return norm + Tensor._make(np.where(short, eps - norm._data, 0).astype(norm.dtype))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim``
    (``torch.nn.functional.cosine_similarity``, PyTorch 2.x's form: each operand divided by
    its own clamped norm, so the result stays in ``[-1, 1]``).

    x1, x2: broadcastable Tensors, one at least floating (the other takes its dtype) -> their
    broadcast shape without ``dim``.  As
    PyTorch, the clamp passes the norm's gradient through (an all-zero slice of ``x1`` gets
    ``x2 / (eps ||x2||)``).
    """
    op = "cosine_similarity"
    shape = _operands(op, x1, x2)
    x1, x2 = _floating_pair(op, x1, x2)
    dim = normalize_axis(dim, len(shape), op, shape)
    check_number(op, "eps", eps)
    if x1.shape != shape:
        x1 = x1.expand(*shape)
    if x2.shape != shape:
        x2 = x2.expand(*shape)
    norm1 = _clamped_below(x1.norm(dim=dim, keepdim=True), eps)
    norm2 = _clamped_below(x2.norm(dim=dim, keepdim=True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dimension
    (``torch.nn.functional.pairwise_distance``).

    x1, x2: broadcastable Tensors ``(*, D)`` (or ``(D,)``, ``()``) -> ``(*)`` (``(*, 1)`` with
    ``keepdim``).  ``p``: any number but NaN (``inf``: the largest magnitude, ``-inf`` the
    smallest, 0 the count of non-zeros, which has no gradient).
    """
    op = "pairwise_distance"
    shape = _operands(op, x1, x2)
    for name, value in (("x1", x1), ("x2", x2)):
        if value.dtype == np.bool_:
            raise DtypeError(f"{op}: {name} must be a numeric tensor, got bool")
    check_number(op, "p", p)
    check_number(op, "eps", eps)
    keepdim = check_bool(op, "keepdim", keepdim)
    if p != p:
        raise ShapeError(f"{op}: p must be a number, got nan")
    difference = x1 - x2 + eps
    if not shape:  # a 0-d pair: the norm of a one-element vector (its gradient at inf: NaN)
        return _vector_norm(difference.reshape(1), p, 0, False).reshape(())
    return _vector_norm(difference, p, len(shape) - 1, keepdim)


def _vector_norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    """The ``p``-norm of ``x`` along ``dim`` for any ``p`` but NaN (PyTorch's ``norm``)."""
    if p == 0:  # the count of non-zeros: piecewise constant, a zero gradient
        count = (x._data != 0).sum(axis=dim, keepdims=keepdim)
        return (x * 0).sum(dim, keepdim=keepdim) + Tensor._make(count.astype(x.dtype))
    if p > 0 or p == -math.inf:
        return x.norm(p=float(p), dim=dim, keepdim=keepdim)
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distance of every pair of rows ``i < j`` of ``input``
    (``torch.nn.functional.pdist``), in the order of ``numpy.triu_indices(N, 1)``.

    input: ``(N, M)`` floating -> ``(N (N - 1) / 2,)``.  ``p >= 0`` (``inf``: the largest
    difference, 0: the count of differing coordinates).  As PyTorch, two equal rows have
    distance 0 and gradient 0 (never the 0/0 of the norm's derivative).
    """
    op = "pdist"
    check_tensor(op, "input", input)
    if input.ndim != 2:
        raise ShapeError(f"{op}: input must be 2-D (N, M), got shape {input.shape}")
    check_float(op, "input", input.dtype)
    check_number(op, "p", p)
    if not p >= 0:
        raise ShapeError(f"{op}: p must be non-negative, got {p}")
    first, second = np.triu_indices(input.shape[0], 1)
    difference = input[first] - input[second]
    equal = (difference._data == 0).all(axis=1)
    if not equal.any():
        return _vector_norm(difference, p, 1, False)
    # equal pairs take the norm of ones (unused), so no 0/0 reaches the gradient
    apart = np.broadcast_to(~equal[:, None], difference.shape)
    ones = Tensor._make(np.ones((), difference.dtype))
    distance = _vector_norm(Where.apply(apart, difference, ones), p, 1, False)
    return Where.apply(~equal, distance, ones * 0)
