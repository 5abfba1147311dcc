"""A catalogue of buggy and correct differentiable ops, for measuring gradient checkers.

Each case is one op written as a numpy forward and a numpy backward (first-order cases) or
a backward in Tensor operations both libraries spell alike (second-order cases).  From one
case, :func:`tiny_function` makes a ``tinygrad_cnn.Function`` and :func:`torch_function` a
``torch.autograd.Function`` that run the very same code, so both checkers face the same bug.

The bugs are the kinds seen in real bug reports: conv bias/dilation/padding/stride/
output_padding/groups, max-pool accumulation and near-ties, border divisors, batch and layer
norm terms, softmax and loss scaling, tall-matrix transposes, approximated activations (GELU's
tanh approximation, SiLU wrong in one element), float32-only overflows and cancellation,
wrong second derivatives (detached factors, values stashed on ctx).  The correct cases sit
near kinks (relu/abs/max/clamp within 1e-4 of their corners) or stash constants on ctx.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf


@dataclass
class Case:
    """name; bug (True for a planted bug); inputs(rng) -> list of arrays (all differentiable);
    forward(*arrays) -> array; backward(grad, *arrays) -> tuple of arrays (order 1), or
    tensor_backward(ops, ctx, grad, *saved) with ``stash(ctx, *arrays)`` (order 2)."""

    name: str
    bug: bool
    inputs: object
    forward: object
    backward: object = None
    order: int = 1
    tensor_backward: object = None
    stash: object = None
    dtype: object = np.float64
    notes: str = ""
    tags: tuple = field(default_factory=tuple)


CASES = []


def case(name, bug, inputs, forward, backward=None, **extra):
    CASES.append(Case(name, bug, inputs, forward, backward, **extra))


def uniform(*shape, low=-1.0, high=1.0):
    return lambda rng: [rng.uniform(low, high, size=shape)]


def away_from(values, margin):
    """values pushed at least ``margin`` away from 0 (keeping their sign)."""
    return np.where(np.abs(values) < margin, np.sign(values + 1e-300) * margin, values)


# ------------------------------------------------------------------ conv geometry (numpy)
def _windows(size, kernel, stride, padding, dilation, out=None):
    """Row (or column) indices into the padded input of each (kernel offset, output position)."""
    if out is None:
        out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    return (np.arange(kernel) * dilation)[:, None] + (np.arange(out) * stride)[None, :], out


def _index(h, w, kh, kw, stride, padding, dilation, oh=None, ow=None, offset_dilation=None):
    d_off = dilation if offset_dilation is None else offset_dilation
    rows, oh = _windows(h, kh, stride, padding, dilation, oh)
    cols, ow = _windows(w, kw, stride, padding, dilation, ow)
    if offset_dilation is not None:  # a bug: offsets with another dilation
        rows = (np.arange(kh) * d_off)[:, None] + (np.arange(oh) * stride)[None, :]
        cols = (np.arange(kw) * d_off)[:, None] + (np.arange(ow) * stride)[None, :]
    return rows[:, None, :, None], cols[None, :, None, :], oh, ow  # (kh,1,oh,1), (1,kw,1,ow)


def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def conv2d(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    rows, cols, oh, ow = _index(h, wd, kh, kw, stride, padding, dilation)
    patches = _pad(x, padding)[:, :, rows, cols]  # (n, c, kh, kw, oh, ow)
    og = o // groups
    outs = [np.einsum("nckhij,ockh->noij", patches[:, g * cg:(g + 1) * cg],
                      w[g * og:(g + 1) * og]) for g in range(groups)]
    return np.concatenate(outs, axis=1) + b[None, :, None, None]


def conv2d_grads(g, x, w, stride=1, padding=0, dilation=1, groups=1, bug=None):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    rows, cols, oh, ow = _index(h, wd, kh, kw, stride, padding, dilation)
    xp = _pad(x, padding)
    patches = xp[:, :, rows, cols]
    og = o // groups
    dpatches = np.zeros_like(patches)
    dw = np.zeros_like(w)
    for gi in range(groups):
        wg = w[(0 if bug == "groups" else gi) * og:((0 if bug == "groups" else gi) + 1) * og]
        dpatches[:, gi * cg:(gi + 1) * cg] = np.einsum("noij,ockh->nckhij",
                                                        g[:, gi * og:(gi + 1) * og], wg)
        dw[gi * og:(gi + 1) * og] = np.einsum("noij,nckhij->ockh", g[:, gi * og:(gi + 1) * og],
                                              patches[:, gi * cg:(gi + 1) * cg])
    brow, bcol = rows, cols
    if bug == "dilation":
        brow, bcol, _, _ = _index(h, wd, kh, kw, stride, padding, dilation, oh, ow,
                                  offset_dilation=1)
        dw = np.einsum("noij,nckhij->ockh", g, xp[:, :, brow, bcol])
    if bug == "stride":
        brow, bcol, _, _ = _index(h, wd, kh, kw, 1, padding, dilation, oh, ow)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), slice(None), brow, bcol), dpatches)
    if bug == "padding":
        dx = dxp[:, :, :h, :wd]
    else:
        dx = dxp[:, :, padding:padding + h, padding:padding + wd]
    if bug == "flip":
        dw = dw[:, :, ::-1, ::-1]
    db = g.sum(axis=(0, 2, 3))
    if bug == "bias":
        db = db / (oh * ow)
    return dx, dw, db


def _conv_case(name, bug, stride=1, padding=0, dilation=1, groups=1, shape=(2, 2, 6, 6),
               out_channels=2, kernel=3):
    def inputs(rng):
        return [rng.normal(size=shape), rng.normal(size=(out_channels, shape[1] // groups,
                                                         kernel, kernel)),
                rng.normal(size=out_channels)]

    def forward(x, w, b):
        return conv2d(x, w, b, stride, padding, dilation, groups)

    def backward(g, x, w, b):
        return conv2d_grads(g, x, w, stride, padding, dilation, groups, bug)

    case(name, bug is not None, inputs, forward, backward)


_conv_case("conv2d bias grad averaged over positions", "bias", padding=1)
_conv_case("conv2d backward ignores dilation", "dilation", dilation=2, shape=(1, 2, 7, 7))
_conv_case("conv2d dx cropped without the padding offset", "padding", padding=1)
_conv_case("conv2d dx scattered with stride 1", "stride", stride=2, shape=(1, 2, 7, 7))
_conv_case("conv2d dw flipped (convolution, not correlation)", "flip")
_conv_case("grouped conv2d dx uses group 0's weights", "groups", groups=2,
           shape=(1, 4, 5, 5), out_channels=4)
_conv_case("conv2d, stride 2, padding 1, dilation 2 (correct)", None, stride=2, padding=1,
           dilation=2, shape=(1, 2, 7, 7))


def conv_transpose2d(x, w, stride, padding, output_padding):
    n, c, h, wd = x.shape
    _, o, kh, kw = w.shape
    oh = (h - 1) * stride - 2 * padding + (kh - 1) + output_padding + 1
    ow = (wd - 1) * stride - 2 * padding + (kw - 1) + output_padding + 1
    rows, cols, _, _ = _index(oh, ow, kh, kw, stride, padding, 1, h, wd)
    contributions = np.einsum("ncij,cokh->nokhij", x, w)
    out = np.zeros((n, o, oh + 2 * padding, ow + 2 * padding))
    np.add.at(out, (slice(None), slice(None), rows, cols), contributions)
    return out[:, :, padding:padding + oh, padding:padding + ow]


def conv_transpose2d_grads(g, x, w, stride, padding, output_padding, bug):
    n, c, h, wd = x.shape
    _, o, kh, kw = w.shape
    oh, ow = g.shape[2:]
    rows, cols, _, _ = _index(oh, ow, kh, kw, stride, padding, 1, h, wd)
    gp = _pad(g, padding)
    if bug:  # output_padding taken at the start instead of the end
        op = output_padding
        gp = np.pad(gp[:, :, op:, op:], ((0, 0), (0, 0), (0, op), (0, op)))
    patches = gp[:, :, rows, cols]  # (n, o, kh, kw, h, w)
    return (np.einsum("nokhij,cokh->ncij", patches, w),
            np.einsum("ncij,nokhij->cokh", x, patches))


def _conv_transpose_case(name, bug):
    def inputs(rng):
        return [rng.normal(size=(1, 2, 3, 3)), rng.normal(size=(2, 2, 3, 3))]

    case(name, bug, inputs, lambda x, w: conv_transpose2d(x, w, 2, 1, 1),
         lambda g, x, w: conv_transpose2d_grads(g, x, w, 2, 1, 1, bug))


_conv_transpose_case("conv_transpose2d backward puts output_padding first", True)


def _conv1d_inputs(rng):
    return [rng.normal(size=(2, 3, 8)), rng.normal(size=(3, 3, 3))]


def _conv1d_forward(x, w):
    return conv2d(x[:, :, None, :], w[:, :, None, :], np.zeros(w.shape[0]))[:, :, 0, :]


def _conv1d_backward(g, x, w):
    n, c, length = x.shape
    o, _, k = w.shape
    positions = np.arange(k)[:, None] + np.arange(length - k + 1)[None, :]
    patches = x[:, :, positions]  # (n, c, k, l)
    dw = np.einsum("nol,nckl->ock", g, patches).transpose(1, 0, 2)  # the bug: o and c swapped
    dpatches = np.einsum("nol,ock->nckl", g, w)
    dx = np.zeros_like(x)
    np.add.at(dx, (slice(None), slice(None), positions), dpatches)
    return dx, dw


case("conv1d dw with in/out channels transposed", True, _conv1d_inputs, _conv1d_forward,
     _conv1d_backward)


# ------------------------------------------------------------------ pooling
def _pool_patches(x, k, s, p=0, fill=0.0):
    n, c, h, w = x.shape
    rows, cols, oh, ow = _index(h, w, k, k, s, p, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    return xp[:, :, rows, cols], rows, cols  # (n, c, k, k, oh, ow)


def max_pool(x, k, s):
    patches, _, _ = _pool_patches(x, k, s)
    return patches.max(axis=(2, 3))


def max_pool_grad(g, x, k, s, bug=None):
    patches, rows, cols = _pool_patches(x, k, s)
    n, c, kk, _, oh, ow = patches.shape
    flat = patches.reshape(n, c, k * k, oh, ow)
    if bug == "near_ties":  # every element within 1e-3 of the max counts as a max
        mask = (flat >= flat.max(axis=2, keepdims=True) - 1e-3).astype(float)
    else:
        mask = (np.arange(k * k)[None, None, :, None, None]
                == flat.argmax(axis=2)[:, :, None]).astype(float)
    contributions = (mask * g[:, :, None]).reshape(patches.shape)
    dx = np.zeros_like(x)
    if bug == "assign":  # overlapping windows overwrite each other instead of adding up
        r = np.broadcast_to(rows, contributions.shape[2:])
        q = np.broadcast_to(cols, contributions.shape[2:])
        chosen = np.broadcast_to(mask.reshape(n, c, k, k, oh, ow) != 0, contributions.shape)
        for nn in range(n):
            for cc in range(c):
                dx[nn, cc, r[chosen[nn, cc]], q[chosen[nn, cc]]] = contributions[nn, cc][
                    chosen[nn, cc]]
    else:
        np.add.at(dx, (slice(None), slice(None), rows, cols), contributions)
    return (dx,)


def _distinct(rng, shape, spacing=5e-3):
    """Values with no two closer than ``spacing`` (no ties within a check's eps)."""
    count = int(np.prod(shape))
    return (rng.permutation(count) * spacing + rng.uniform(0, spacing / 4, count)).reshape(
        shape) - count * spacing / 2


def _near_ties(rng, shape):
    """Quantised values plus a distinct offset: windows hold maxima 1e-4..1e-3 apart."""
    count = int(np.prod(shape))
    levels = rng.integers(0, 3, size=count) * 0.5
    offsets = rng.permutation(count) * (8e-4 / count) + 1e-5
    return (levels + offsets).reshape(shape)


case("max_pool2d overlapping windows assign instead of accumulate", True,
     lambda rng: [_distinct(rng, (1, 2, 7, 7))], lambda x: max_pool(x, 3, 2),
     lambda g, x: max_pool_grad(g, x, 3, 2, "assign"))
case("max_pool2d backward treats near-ties (1e-3) as ties", True,
     lambda rng: [_near_ties(rng, (1, 2, 6, 6))], lambda x: max_pool(x, 2, 2),
     lambda g, x: max_pool_grad(g, x, 2, 2, "near_ties"))
case("max_pool2d with maxima 1e-5..1e-3 apart (correct)", False,
     lambda rng: [_near_ties(rng, (1, 2, 6, 6))], lambda x: max_pool(x, 2, 2),
     lambda g, x: max_pool_grad(g, x, 2, 2))


def avg_pool_exclude_pad(x, k=3, s=1, p=1):
    patches, _, _ = _pool_patches(x, k, s, p)
    ones, _, _ = _pool_patches(np.ones_like(x), k, s, p)
    return patches.sum(axis=(2, 3)) / ones.sum(axis=(2, 3))


def avg_pool_exclude_pad_grad(g, x, k=3, s=1, p=1, bug=False):
    ones, rows, cols = _pool_patches(np.ones_like(x), k, s, p)
    divisor = np.full_like(g, k * k) if bug else ones.sum(axis=(2, 3))
    contributions = np.broadcast_to((g / divisor)[:, :, None, None], ones.shape)
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * p, x.shape[3] + 2 * p))
    np.add.at(dxp, (slice(None), slice(None), rows, cols), contributions)
    return (dxp[:, :, p:-p, p:-p],)


case("avg_pool2d(count_include_pad=False) backward divides by k*k at the border", True,
     lambda rng: [rng.normal(size=(1, 2, 5, 5))], avg_pool_exclude_pad,
     lambda g, x: avg_pool_exclude_pad_grad(g, x, bug=True))
case("avg_pool2d(count_include_pad=False) (correct)", False,
     lambda rng: [rng.normal(size=(1, 2, 5, 5))], avg_pool_exclude_pad,
     lambda g, x: avg_pool_exclude_pad_grad(g, x))


def _bins(size, out, end_rounding):
    starts = [int(np.floor(i * size / out)) for i in range(out)]
    ends = [int(end_rounding((i + 1) * size / out)) for i in range(out)]
    return list(zip(starts, ends))


def adaptive_avg_pool(x, out=3):
    rows = _bins(x.shape[2], out, np.ceil)
    cols = _bins(x.shape[3], out, np.ceil)
    return np.stack([np.stack([x[:, :, r0:r1, c0:c1].mean(axis=(2, 3)) for c0, c1 in cols],
                              axis=-1) for r0, r1 in rows], axis=-2)


def adaptive_avg_pool_grad(g, x, out=3):
    rows = _bins(x.shape[2], out, np.ceil)
    cols = _bins(x.shape[3], out, np.ceil)
    dx = np.zeros_like(x)
    for i, (r0, _) in enumerate(rows):
        for j, (c0, _) in enumerate(cols):  # the bug: bins end at floor, not ceil
            r1 = int(np.floor((i + 1) * x.shape[2] / out))
            c1 = int(np.floor((j + 1) * x.shape[3] / out))
            size = (rows[i][1] - r0) * (cols[j][1] - c0)
            dx[:, :, r0:r1, c0:c1] += g[:, :, i, j][:, :, None, None] / size
    return (dx,)


case("adaptive_avg_pool2d backward bins end at floor (overlaps lost)", True,
     lambda rng: [rng.normal(size=(1, 2, 5, 5))], adaptive_avg_pool, adaptive_avg_pool_grad)


# ------------------------------------------------------------------ normalisation
def batch_norm(x, eps=1e-5):
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def batch_norm_grad(g, x, bug=None, eps=1e-5):
    axes = (0, 2, 3)
    count = x.size // x.shape[1]
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=1 if bug == "unbiased" else 0)
    std = np.sqrt(var + eps)
    xhat = (x - mean) / std
    mean_g = 0.0 if bug == "mean" else g.mean(axis=axes, keepdims=True)
    var_term = 0.0 if bug == "var" else xhat * (g * xhat).mean(axis=axes, keepdims=True)
    del count
    return ((g - mean_g - var_term) / std,)


for _bug, _text in (("mean", "misses the mean term"), ("var", "misses the variance term"),
                    ("unbiased", "uses the unbiased variance")):
    case(f"batch_norm (training) backward {_text}", True,
         lambda rng: [rng.normal(size=(3, 2, 2, 2)) * 2 + 1], batch_norm,
         lambda g, x, b=_bug: batch_norm_grad(g, x, b))
case("batch_norm (training) (correct)", False, lambda rng: [rng.normal(size=(3, 2, 2, 2))],
     batch_norm, lambda g, x: batch_norm_grad(g, x))


def layer_norm(x, gamma, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma


def layer_norm_grad(g, x, gamma, bug=None, eps=1e-5):
    axis = 0 if bug == "axis" else -1
    mean = x.mean(axis=-1, keepdims=True)
    std = np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mean) / std
    gh = g * gamma
    dx = (gh - gh.mean(axis=axis, keepdims=True)
          - xhat * (gh * xhat).mean(axis=axis, keepdims=True)) / std
    dgamma = (g * xhat)[0] if bug == "gamma" else (g * xhat).sum(axis=0)
    return dx, dgamma


def _layer_norm_inputs(rng):
    return [rng.normal(size=(4, 5)), rng.uniform(0.5, 1.5, size=5)]


case("layer_norm backward reduces over the batch axis", True, _layer_norm_inputs, layer_norm,
     lambda g, x, gamma: layer_norm_grad(g, x, gamma, "axis"))
case("layer_norm gamma grad from the first row only", True, _layer_norm_inputs, layer_norm,
     lambda g, x, gamma: layer_norm_grad(g, x, gamma, "gamma"))


# ------------------------------------------------------------------ softmax and losses
def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


case("softmax backward misses the -y*sum(g*y) term", True, uniform(4, 6, low=-2, high=2),
     softmax, lambda g, x: (softmax(x) * g,))
case("softmax (correct)", False, uniform(4, 6, low=-2, high=2), softmax,
     lambda g, x: (softmax(x) * (g - (g * softmax(x)).sum(axis=-1, keepdims=True)),))
case("log_softmax backward elementwise instead of summed", True,
     uniform(4, 6, low=-2, high=2), log_softmax, lambda g, x: (g - softmax(x) * g,))

_TARGETS = np.random.default_rng(7).integers(0, 5, size=6)
_CLASS_WEIGHTS = np.array([0.5, 2.0, 1.0, 3.0, 0.25])


def cross_entropy(x, smoothing=0.0, weights=None):
    logp = log_softmax(x)
    n, classes = x.shape
    target = np.eye(classes)[_TARGETS] * (1 - smoothing) + smoothing / classes
    if weights is None:
        return np.asarray(-(target * logp).sum() / n)
    w = weights[_TARGETS]
    return np.asarray(-(w * (target * logp).sum(axis=1)).sum() / w.sum())


def cross_entropy_grad(g, x, smoothing=0.0, weights=None, bug=None):
    n, classes = x.shape
    target = np.eye(classes)[_TARGETS]
    if bug != "smoothing":
        target = target * (1 - smoothing) + smoothing / classes
    grad = softmax(x) - target
    if weights is not None:
        w = weights[_TARGETS][:, None]
        return (g * w * grad / (n if bug == "weights" else w.sum()),)
    return (g * grad / (1 if bug == "mean" else n),)


def _logits(rng):
    return [rng.normal(size=(6, 5))]


case("cross_entropy(mean) backward not divided by N", True, _logits, cross_entropy,
     lambda g, x: cross_entropy_grad(g, x, bug="mean"))
case("cross_entropy(label_smoothing=0.1) backward ignores smoothing", True, _logits,
     lambda x: cross_entropy(x, 0.1), lambda g, x: cross_entropy_grad(g, x, 0.1, bug="smoothing"))
case("cross_entropy(weight=...) backward divides by N, not the weight sum", True, _logits,
     lambda x: cross_entropy(x, weights=_CLASS_WEIGHTS),
     lambda g, x: cross_entropy_grad(g, x, weights=_CLASS_WEIGHTS, bug="weights"))


def _mse_inputs(rng):
    return [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]


def _mse_grad(g, x, y):
    dx = g * 2 * (x - y) / x.shape[0]  # the bug: mean over all N*C elements, divided by N
    return dx, -dx


case("mse_loss(mean) backward divides by the batch only", True, _mse_inputs,
     lambda x, y: np.asarray(((x - y) ** 2).mean()), _mse_grad)


# ------------------------------------------------------------------ linear algebra
def _tall_inputs(rng):
    return [rng.normal(size=(6, 3)), rng.normal(size=(3, 4))]


case("matmul of a tall matrix: dA as a reshape instead of a transpose", True, _tall_inputs,
     lambda a, b: a @ b, lambda g, a, b: ((b @ g.T).reshape(a.shape), a.T @ g))


def _linear_inputs(rng):
    return [rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)]


case("linear bias grad averaged over the batch", True, _linear_inputs,
     lambda x, w, b: x @ w.T + b, lambda g, x, w, b: (g @ w, g.T @ x, g.mean(axis=0)))


# ------------------------------------------------------------------ activations
def gelu(x):
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def gelu_tanh_grad(x):
    c = np.sqrt(2 / np.pi)
    inner = c * (x + 0.044715 * x ** 3)
    t = np.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x ** 2)


case("gelu backward uses the tanh approximation", True, uniform(16, 16, low=-3, high=3), gelu,
     lambda g, x: (g * gelu_tanh_grad(x),))


def silu(x):
    return x / (1 + np.exp(-x))


def silu_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _silu_one_element(g, x):
    scale = np.ones(x.shape)
    scale.reshape(-1)[37] = 1.034
    return (g * silu_grad(x) * scale,)


case("silu backward wrong by 3.4% in one element of 256", True,
     uniform(16, 16, low=-3, high=3), silu, _silu_one_element)
case("leaky_relu(0.2) backward uses slope 0.01", True,
     lambda rng: [away_from(rng.uniform(-1, 1, (4, 8)), 1e-2)],
     lambda x: np.where(x > 0, x, 0.2 * x), lambda g, x: (g * np.where(x > 0, 1.0, 0.01),))
case("hardtanh(-2, 2) backward masks |x| < 1", True, uniform(4, 8, low=-3, high=3),
     lambda x: np.clip(x, -2, 2), lambda g, x: (g * (np.abs(x) < 1),))
case("elu(alpha=1.5) backward forgets alpha", True, uniform(4, 8, low=-2, high=2),
     lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)),
     lambda g, x: (g * np.where(x > 0, 1.0, np.exp(x)),))
case("softplus(beta=2) backward forgets beta", True, uniform(4, 8, low=-2, high=2),
     lambda x: np.logaddexp(0, 2 * x) / 2, lambda g, x: (g / (1 + np.exp(-x)),))


# ------------------------------------------------------------------ indexing and shape ops
_INDICES = np.array([0, 2, 2, 4, 1, 2, 0])


def _embedding_grad(g, weight):
    dw = np.zeros_like(weight)
    dw[_INDICES] = g  # the bug: repeated indices overwrite instead of adding up
    return (dw,)


case("embedding backward assigns (repeated indices lost)", True,
     lambda rng: [rng.normal(size=(5, 3))], lambda w: w[_INDICES], _embedding_grad)
case("cumsum backward is a cumsum, not a reversed one", True, uniform(3, 6),
     lambda x: np.cumsum(x, axis=1), lambda g, x: (np.cumsum(g, axis=1),))
case("reflect pad backward drops the reflected contributions", True,
     lambda rng: [rng.normal(size=(1, 1, 4, 4))],
     lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect"),
     lambda g, x: (g[:, :, 1:-1, 1:-1],))


def _upsample_grad(g, x):
    return (g[:, :, ::2, ::2],)  # the bug: one element per block instead of the block's sum


case("nearest upsample x2 backward takes one element per block", True,
     lambda rng: [rng.normal(size=(1, 2, 3, 3))],
     lambda x: x.repeat(2, axis=2).repeat(2, axis=3), _upsample_grad)
case("broadcast bias add backward takes the first row", True,
     lambda rng: [rng.normal(size=(4, 3)), rng.normal(size=3)],
     lambda x, b: x + b, lambda g, x, b: (g, g[0]))


# ------------------------------------------------------------------ float32-only failures
def _f32(values):
    return values.astype(np.float32)


case("softplus backward exp(x)/(1+exp(x)) overflows in float32 (NaN for x > 88)", True,
     lambda rng: [_f32(rng.uniform(-5, 100, size=(4, 8)))],
     lambda x: np.logaddexp(np.zeros((), x.dtype), x),
     lambda g, x: (g * np.exp(x) / (1 + np.exp(x)),), dtype=np.float32)
case("sigmoid backward exp(-x)/(1+exp(-x))**2 overflows in float32 (x < -88)", True,
     lambda rng: [_f32(rng.uniform(-100, 5, size=(4, 8)))],
     lambda x: (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype),
     lambda g, x: (g * np.exp(-x) / (1 + np.exp(-x)) ** 2,), dtype=np.float32)
case("sqrt(x*x+1) - x backward cancels catastrophically in float32", True,
     lambda rng: [_f32(rng.uniform(100, 1000, size=(4, 8)))],
     lambda x: (1 / (np.sqrt(x * x + 1) + x)).astype(x.dtype),
     lambda g, x: (g * (x / np.sqrt(x * x + 1) - 1),), dtype=np.float32)
case("softplus in float32, stable backward (correct)", False,
     lambda rng: [_f32(rng.uniform(-100, 100, size=(4, 8)))],
     lambda x: np.logaddexp(np.zeros((), x.dtype), x),
     lambda g, x: (g * (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype),), dtype=np.float32)


# ------------------------------------------------------------------ correct ops near kinks
def _near_zero(rng, shape, low=1e-4, high=1e-2):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


case("relu within 1e-4..1e-2 of 0 (correct)", False, lambda rng: [_near_zero(rng, (4, 8))],
     lambda x: np.maximum(x, 0), lambda g, x: (g * (x > 0),))
case("abs within 1e-4..1e-2 of 0 (correct)", False, lambda rng: [_near_zero(rng, (4, 8))],
     np.abs, lambda g, x: (g * np.sign(x),))
case("leaky_relu(0.1) within 1e-4 of 0 (correct)", False,
     lambda rng: [_near_zero(rng, (4, 8), 1e-4, 1e-3)], lambda x: np.where(x > 0, x, 0.1 * x),
     lambda g, x: (g * np.where(x > 0, 1.0, 0.1),))
case("clamp(-1, 1) within 1e-4 of its bounds (correct)", False,
     lambda rng: [rng.choice([-1.0, 1.0], (4, 8)) * (1 + _near_zero(rng, (4, 8), 1e-4, 1e-3))],
     lambda x: np.clip(x, -1, 1), lambda g, x: (g * (np.abs(x) < 1),))


def _near_tied_pair(rng):
    a = rng.normal(size=(4, 8))
    return [a, a + _near_zero(rng, (4, 8), 1e-4, 1e-3)]


case("maximum(a, b) with |a - b| in 1e-4..1e-3 (correct)", False, _near_tied_pair,
     np.maximum, lambda g, a, b: (g * (a > b), g * (b >= a)))
case("max over rows with maxima 1e-4 apart (correct)", False,
     lambda rng: [_near_ties(rng, (4, 8))], lambda x: x.max(axis=1),
     lambda g, x: (g[:, None] * (np.arange(8)[None] == x.argmax(axis=1)[:, None]),))


case("relu6 within 1e-4..1e-3 of 0 and of 6 (correct)", False,
     lambda rng: [rng.choice([0.0, 6.0], (4, 8)) + _near_zero(rng, (4, 8), 1e-4, 1e-3)],
     lambda x: np.clip(x, 0, 6), lambda g, x: (g * ((x > 0) & (x < 6)),))
case("minimum(a, b) with |a - b| in 1e-4..1e-3 (correct)", False, _near_tied_pair,
     np.minimum, lambda g, a, b: (g * (a < b), g * (b <= a)))
_L1_TARGET = np.random.default_rng(5).normal(size=(4, 6))
case("l1_loss(mean) with residuals within 1e-4..1e-2 of 0 (correct)", False,
     lambda rng: [_L1_TARGET + _near_zero(rng, (4, 6))],
     lambda x: np.asarray(np.abs(x - _L1_TARGET).mean()),
     lambda g, x: (g * np.sign(x - _L1_TARGET) / x.size,))
case("hardshrink(0.5) within 1e-4..1e-3 of its jumps (correct)", False,
     lambda rng: [rng.choice([-0.5, 0.5], (4, 8)) + _near_zero(rng, (4, 8), 1e-4, 1e-3)],
     lambda x: np.where(np.abs(x) > 0.5, x, 0.0), lambda g, x: (g * (np.abs(x) > 0.5),))
case("max_pool2d(3, stride 2) overlapping, maxima 1e-5..1e-3 apart (correct)", False,
     lambda rng: [_near_ties(rng, (1, 2, 7, 7))], lambda x: max_pool(x, 3, 2),
     lambda g, x: max_pool_grad(g, x, 3, 2))


# ------------------------------------------------------------------ second derivatives
def _second(name, bug, inputs, forward, tensor_backward, stash=None, notes=""):
    case(name, bug, inputs, forward, order=2, tensor_backward=tensor_backward, stash=stash,
         notes=notes)


_second("x**3 backward 3*x*x.detach() (second derivative halved)", True, uniform(3, 4),
        lambda x: x ** 3, lambda ops, ctx, g, x: g * 3.0 * x * ops.detach(x))
_second("x**2 backward x + x.detach() (second derivative halved)", True, uniform(3, 4),
        lambda x: x ** 2, lambda ops, ctx, g, x: g * (x + ops.detach(x)))


def _stash_sigmoid(ctx, x):
    ctx.s = 1 / (1 + np.exp(-x))


_second("softplus backward uses sigmoid(x) stashed on ctx (depends on x)", True,
        uniform(3, 4), lambda x: np.logaddexp(0, x),
        lambda ops, ctx, g, x: g * ops.const(ctx.s), stash=_stash_sigmoid)


def _stash_mean(ctx, x):
    ctx.m = float(x.mean())


_second("x * mean(x) backward uses mean(x) stashed as a Python float", True, uniform(3, 4),
        lambda x: x * x.mean(),
        lambda ops, ctx, g, x: g * ctx.m + (g * x).sum() * ops.const(
            np.full(tuple(x.shape), 1 / np.prod(tuple(x.shape)))),
        stash=_stash_mean)


def _stash_mask(ctx, x):
    ctx.mask = (np.random.default_rng(3).random(x.shape) > 0.3) / 0.7


_second("dropout-style x**2 * mask, mask stashed on ctx (correct)", False, uniform(3, 4),
        lambda x: x * x * (np.random.default_rng(3).random(x.shape) > 0.3) / 0.7,
        lambda ops, ctx, g, x: g * 2.0 * x * ops.const(ctx.mask), stash=_stash_mask)


def _stash_slope(ctx, x):
    ctx.slope = 0.1


_second("softplus * slope, slope stashed as a Python float (correct)", False, uniform(3, 4),
        lambda x: np.logaddexp(0, x) * 0.1,
        lambda ops, ctx, g, x: g * ctx.slope * x.sigmoid(), stash=_stash_slope)


# ------------------------------------------------------------------ the two libraries
class _TinyOps:
    @staticmethod
    def const(array):
        from tinygrad_cnn import Tensor

        return Tensor(np.asarray(array))

    @staticmethod
    def detach(tensor):
        return tensor.detach()


class _TorchOps:
    @staticmethod
    def const(array):
        import torch

        return torch.from_numpy(np.asarray(array, dtype=np.float64))

    @staticmethod
    def detach(tensor):
        return tensor.detach()


def tiny_function(spec):
    """The case as a ``tinygrad_cnn.Function`` (its ``apply``)."""
    from tinygrad_cnn import Function

    class Op(Function):
        @staticmethod
        def forward(ctx, *arrays):
            ctx.save_for_backward(*arrays)
            if spec.stash is not None:
                spec.stash(ctx, *arrays)
            return np.asarray(spec.forward(*arrays))

        @staticmethod
        def backward(ctx, grad):
            saved = ctx.saved_tensors
            if spec.order == 2:
                result = spec.tensor_backward(_TinyOps, ctx, grad, *saved)
                return result if isinstance(result, tuple) else (result,)
            grads = spec.backward(grad._data, *[t._data for t in saved])
            return tuple(np.asarray(g, dtype=t._data.dtype) for g, t in zip(grads, saved))

    Op.__name__ = Op.__qualname__ = "Op_" + "".join(c if c.isalnum() else "_"
                                                   for c in spec.name)[:40]
    return Op.apply


def torch_function(spec):
    """The case as a ``torch.autograd.Function`` (its ``apply``), running the same code."""
    import torch

    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *tensors):
            arrays = [t.detach().numpy() for t in tensors]
            ctx.save_for_backward(*tensors)
            if spec.stash is not None:
                spec.stash(ctx, *arrays)
            return torch.from_numpy(np.array(spec.forward(*arrays)))

        @staticmethod
        def backward(ctx, grad):
            saved = ctx.saved_tensors
            if spec.order == 2:
                result = spec.tensor_backward(_TorchOps, ctx, grad, *saved)
                return result if isinstance(result, tuple) else (result,)
            arrays = [t.detach().numpy() for t in saved]
            grads = spec.backward(grad.detach().numpy(), *arrays)
            return tuple(torch.from_numpy(np.array(g, dtype=a.dtype)) for g, a in
                         zip(grads, arrays))

    return Op.apply


def make_inputs(spec, seed=0):
    arrays = spec.inputs(np.random.default_rng(seed))
    return [np.asarray(a, dtype=spec.dtype) for a in arrays]
