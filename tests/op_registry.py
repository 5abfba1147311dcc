"""One declaration per differentiable top-level op; ``test_ops.py`` turns each into tests.

An entry says how to call the op on Tensors, how to compute it with plain numpy (the
independent reference), what PyTorch calls it (the optional oracle), what shapes to feed it
and which values keep it away from kinks and outside its domain.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

try:  # PyTorch is an optional oracle; the torch_op lambdas only run when it is installed
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

@dataclass
class OpInfo:
    name: str
    op: Callable                     # Tensors -> Tensor
    reference: Callable              # ndarrays -> ndarray
    shapes: tuple                    # one input shape per operand
    torch_op: Callable = None        # torch tensors -> torch tensor
    low: float = -2.0                # input range
    high: float = 2.0
    away_from: tuple = ()            # values to keep inputs clear of (kinks)
    broadcasting: bool = False       # a binary op that broadcasts its operands
    extra: dict = field(default_factory=dict)

    def sample(self, rng, shapes=None, dtype=np.float64):
        arrays = []
        for shape in shapes or self.shapes:
            values = rng.uniform(self.low, self.high, size=shape)
            for kink in self.away_from:
                close = np.abs(values - kink) < 0.1
                values = np.where(close, kink + 0.25 * np.sign(values - kink + 1e-12), values)
            arrays.append(values.astype(dtype))
        return arrays


def _softmax_reference(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


OPS = [
    OpInfo("add", lambda a, b: a + b, np.add, ((3, 4), (4,)), lambda a, b: a + b,
           broadcasting=True),
    OpInfo("sub", lambda a, b: a - b, np.subtract, ((3, 1), (1, 4)), lambda a, b: a - b,
           broadcasting=True),
    OpInfo("mul", lambda a, b: a * b, np.multiply, ((2, 3, 4), (3, 1)), lambda a, b: a * b,
           broadcasting=True),
    OpInfo("div", lambda a, b: a / b, np.divide, ((3, 4), (3, 4)), lambda a, b: a / b,
           low=0.5, high=2.0, broadcasting=True),
    OpInfo("pow", lambda a, b: a ** b, np.power, ((3, 4), (4,)), lambda a, b: a ** b,
           low=0.5, high=2.0, broadcasting=True),
    OpInfo("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, ((3, 4),), lambda a: a ** 3),
    OpInfo("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, ((3, 4),),
           lambda a: 2.0 ** a),
    OpInfo("neg", lambda a: -a, np.negative, ((5,),), lambda a: -a),
    OpInfo("matmul", lambda a, b: a @ b, np.matmul, ((3, 4), (4, 2)), lambda a, b: a @ b),
    OpInfo("matmul_batched", lambda a, b: a @ b, np.matmul, ((2, 3, 4), (4, 5)),
           lambda a, b: a @ b),
    OpInfo("matmul_vector", lambda a, b: a @ b, np.matmul, ((4,), (4, 3)),
           lambda a, b: a @ b),
    OpInfo("exp", lambda a: a.exp(), np.exp, ((3, 4),), lambda a: a.exp()),
    OpInfo("log", lambda a: a.log(), np.log, ((3, 4),), lambda a: a.log(), low=0.2),
    OpInfo("sqrt", lambda a: a.sqrt(), np.sqrt, ((3, 4),), lambda a: a.sqrt(), low=0.2),
    OpInfo("abs", lambda a: a.abs(), np.abs, ((3, 4),), lambda a: a.abs(), away_from=(0.0,)),
    OpInfo("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), ((3, 4),),
           lambda a: a.relu(), away_from=(0.0,)),
    OpInfo("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), ((3, 4),),
           lambda a: a.sigmoid()),
    OpInfo("tanh", lambda a: a.tanh(), np.tanh, ((3, 4),), lambda a: a.tanh()),
    OpInfo("clip", lambda a: a.clip(-0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0), ((3, 4),),
           lambda a: a.clamp(-0.5, 1.0), away_from=(-0.5, 1.0)),
    OpInfo("sum", lambda a: a.sum(), np.sum, ((3, 4),), lambda a: a.sum()),
    OpInfo("sum_axis", lambda a: a.sum(1, keepdims=True),
           lambda a: a.sum(1, keepdims=True), ((3, 4),), lambda a: a.sum(1, keepdim=True)),
    OpInfo("mean", lambda a: a.mean((0, 2)), lambda a: a.mean((0, 2)), ((2, 3, 4),),
           lambda a: a.mean((0, 2))),
    OpInfo("max", lambda a: a.amax(1), lambda a: a.max(1), ((3, 4),),
           lambda a: a.amax(1)),
    OpInfo("min", lambda a: a.amin(), np.min, ((3, 4),), lambda a: a.amin()),
    OpInfo("var", lambda a: a.var(0), lambda a: a.var(0, ddof=1), ((5, 3),),
           lambda a: a.var(0)),
    OpInfo("var_biased", lambda a: a.var(correction=0), lambda a: a.var(), ((5, 3),),
           lambda a: a.var(correction=0)),
    OpInfo("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), ((2, 6),),
           lambda a: a.reshape(4, -1)),
    OpInfo("transpose", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), ((2, 3, 4),),
           lambda a: a.transpose(0, 2)),
    OpInfo("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           ((2, 3, 4),), lambda a: a.permute(2, 0, 1)),
    OpInfo("T", lambda a: a.T, lambda a: a.T, ((2, 3, 4),), lambda a: a.permute(2, 1, 0)),
    OpInfo("flatten", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), ((2, 3, 4),),
           lambda a: a.flatten(1)),
    OpInfo("squeeze", lambda a: a.squeeze(), np.squeeze, ((3, 1, 4),), lambda a: a.squeeze()),
    OpInfo("unsqueeze", lambda a: a.unsqueeze(1), lambda a: a[:, None], ((3, 4),),
           lambda a: a.unsqueeze(1)),
    OpInfo("getitem_basic", lambda a: a[1:, ::2], lambda a: a[1:, ::2], ((3, 4),),
           lambda a: a[1:, ::2]),
    OpInfo("getitem_repeated", lambda a: a[np.array([0, 2, 0, 0])],
           lambda a: a[np.array([0, 2, 0, 0])], ((3, 4),),
           lambda a: a[[0, 2, 0, 0]]),
    OpInfo("getitem_pairs", lambda a: a[np.array([0, 1, 1]), np.array([3, 0, 0])],
           lambda a: a[np.array([0, 1, 1]), np.array([3, 0, 0])], ((3, 4),),
           lambda a: a[[0, 1, 1], [3, 0, 0]]),
    OpInfo("astype", lambda a: (a.astype(np.longdouble) ** 2).astype(a.dtype),
           lambda a: a ** 2, ((3,),), None),
    OpInfo("concatenate", lambda a, b: tg.concatenate([a, b], axis=1),
           lambda a, b: np.concatenate([a, b], axis=1), ((2, 3), (2, 2)),
           lambda a, b: torch.cat([a, b], dim=1)),
    OpInfo("stack", lambda a, b: tg.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1), ((2, 3), (2, 3)),
           lambda a, b: torch.stack([a, b], dim=1)),
    OpInfo("softmax", lambda a: F.softmax(a, axis=1), _softmax_reference, ((3, 5),),
           lambda a: a.softmax(1)),
    OpInfo("log_softmax", lambda a: F.log_softmax(a, axis=1),
           lambda a: np.log(_softmax_reference(a)), ((3, 5),), lambda a: a.log_softmax(1)),
    OpInfo("leaky_relu", lambda a: F.leaky_relu(a, 0.1),
           lambda a: np.where(a > 0, a, 0.1 * a), ((3, 4),),
           lambda a: TF.leaky_relu(a, 0.1), away_from=(0.0,)),
    OpInfo("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           ((4, 3), (5, 3), (5,)),
           lambda x, w, b: TF.linear(x, w, b)),
    OpInfo("mse_loss", lambda a, b: F.mse_loss(a, b), lambda a, b: ((a - b) ** 2).mean(),
           ((3, 4), (3, 4)), lambda a, b: TF.mse_loss(a, b)),
    OpInfo("cross_entropy", lambda a: F.cross_entropy(a, np.array([1, 0, 4])),
           lambda a: -np.log(_softmax_reference(a))[np.arange(3), [1, 0, 4]].mean(),
           ((3, 5),),
           lambda a: TF.cross_entropy(
               a, torch.tensor([1, 0, 4]))),
    OpInfo("cross_entropy_smoothed",
           lambda a: F.cross_entropy(a, np.array([1, 0, 4]), label_smoothing=0.2),
           lambda a: (0.8 * -np.log(_softmax_reference(a))[np.arange(3), [1, 0, 4]]
                      + 0.2 * -np.log(_softmax_reference(a)).mean(1)).mean(),
           ((3, 5),),
           lambda a: TF.cross_entropy(
               a, torch.tensor([1, 0, 4]), label_smoothing=0.2)),
    OpInfo("nll_loss_sum",
           lambda a: F.nll_loss(a, np.array([2, 2, 0]), reduction="sum"),
           lambda a: -a[np.arange(3), [2, 2, 0]].sum(), ((3, 4),),
           lambda a: TF.nll_loss(
               a, torch.tensor([2, 2, 0]), reduction="sum")),
    # Tensor semantics (issue 9): new elementwise ops, reductions with dims, views, in place.
    OpInfo("sin", lambda a: a.sin(), np.sin, ((3, 4),), lambda a: a.sin()),
    OpInfo("cos", lambda a: a.cos(), np.cos, ((3, 4),), lambda a: a.cos()),
    OpInfo("log1p", lambda a: a.log1p(), np.log1p, ((3, 4),), lambda a: a.log1p(), low=-0.5),
    OpInfo("expm1", lambda a: a.expm1(), np.expm1, ((3, 4),), lambda a: a.expm1()),
    OpInfo("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), ((3, 4),),
           lambda a: a.rsqrt(), low=0.2),
    OpInfo("maximum", lambda a, b: tg.maximum(a, b), np.maximum, ((3, 4), (4,)),
           lambda a, b: torch.maximum(a, b), broadcasting=True),
    OpInfo("minimum", lambda a, b: tg.minimum(a, b), np.minimum, ((3, 1), (1, 4)),
           lambda a, b: torch.minimum(a, b), broadcasting=True),
    OpInfo("prod", lambda a: a.prod(), np.prod, ((2, 3),), lambda a: a.prod(), low=0.5),
    OpInfo("prod_dim", lambda a: a.prod(dim=1, keepdim=True),
           lambda a: a.prod(axis=1, keepdims=True), ((3, 4),),
           lambda a: a.prod(dim=1, keepdim=True)),
    OpInfo("cumsum", lambda a: a.cumsum(dim=1), lambda a: np.cumsum(a, axis=1), ((3, 4),),
           lambda a: a.cumsum(dim=1)),
    OpInfo("logsumexp", lambda a: a.logsumexp(dim=1),
           lambda a: np.log(np.exp(a).sum(axis=1)), ((3, 4),), lambda a: a.logsumexp(dim=1)),
    OpInfo("std_dim", lambda a: a.std(dim=0, keepdim=True),
           lambda a: a.std(axis=0, ddof=1, keepdims=True), ((5, 3),),
           lambda a: a.std(dim=0, keepdim=True)),
    OpInfo("max_dim", lambda a: a.max(dim=1).values, lambda a: a.max(axis=1), ((3, 4),),
           lambda a: a.max(dim=1).values),
    OpInfo("min_dim_keepdim", lambda a: a.min(0, keepdim=True)[0],
           lambda a: a.min(axis=0, keepdims=True), ((3, 4),),
           lambda a: a.min(0, keepdim=True)[0]),
    OpInfo("sort_values", lambda a: a.sort(dim=1, descending=True).values,
           lambda a: -np.sort(-a, axis=1), ((3, 4),),
           lambda a: a.sort(dim=1, descending=True).values),
    OpInfo("topk_values", lambda a: a.topk(2, dim=0).values,
           lambda a: -np.sort(-a, axis=0)[:2], ((4, 3),), lambda a: a.topk(2, dim=0).values),
    OpInfo("flip", lambda a: a.flip(0, 2), lambda a: a[::-1, :, ::-1], ((2, 3, 4),),
           lambda a: a.flip(0, 2)),
    OpInfo("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), ((3, 2),),
           lambda a: a.repeat(2, 1, 3)),
    OpInfo("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
           ((3, 1),), lambda a: a.expand(2, 3, 4)),
    OpInfo("gather", lambda a: a.gather(1, tg.tensor([[0, 0], [1, 0], [3, 2]])),
           lambda a: np.take_along_axis(a, np.array([[0, 0], [1, 0], [3, 2]]), 1), ((3, 4),),
           lambda a: a.gather(1, torch.tensor([[0, 0], [1, 0], [3, 2]]))),
    OpInfo("clamp_tensor_bounds", lambda a, lo, hi: a.clamp(lo, hi),
           lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), ((3, 4), (4,), (3, 1)),
           lambda a, lo, hi: a.clamp(lo, hi)),
    OpInfo("where", lambda a, b: tg.where(_MASK, a, b), lambda a, b: np.where(_MASK, a, b),
           ((3, 4), (3, 4)), lambda a, b: torch.where(torch.from_numpy(_MASK), a, b)),
    OpInfo("clone", lambda a: a.clone() * a, lambda a: a * a, ((3, 4),),
           lambda a: a.clone() * a),
    OpInfo("view_t", lambda a: a.t().contiguous().view(-1), lambda a: a.T.reshape(-1),
           ((3, 4),), lambda a: a.t().contiguous().view(-1)),
    OpInfo("setitem", lambda a, b: _set_rows(a, b), lambda a, b: _set_rows_reference(a, b),
           ((3, 4), (2,)), lambda a, b: _set_rows(a, b)),
    OpInfo("inplace_on_view", lambda a, b: _scale_row(a, b),
           lambda a, b: a * np.array([[1.0], [1.0], [0.0]]) + np.outer([0, 0, 1], a[2] * b),
           ((3, 4), (4,)), lambda a, b: _scale_row(a, b)),
    OpInfo("inplace_chain", lambda a, b: _inplace_chain(a, b),
           lambda a, b: np.maximum((a * 2 + b) / 3, 0), ((3, 4), (3, 4)),
           lambda a, b: _inplace_chain(a, b), away_from=(0.0,)),
]

_MASK = np.array([[True, False, True, False]] * 3)


def _set_rows(a, b):
    """``t[idx] = v`` on a non-leaf: gradients go to ``b`` where it was written and to ``a``
    elsewhere."""
    out = a * 1.0
    out[1:, 0] = b
    return out


def _set_rows_reference(a, b):
    out = a.copy()
    out[1:, 0] = b
    return out


def _scale_row(a, b):
    """An in-place change of a view (row 2) is recorded on its base."""
    out = a * 1.0
    out[2].mul_(b)
    return out


def _inplace_chain(a, b):
    out = a * 2
    out += b
    out /= 3
    return out.relu_()


BY_NAME = {info.name: info for info in OPS}
