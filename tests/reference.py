"""Independent reference implementations for the CNN op tests: direct loops, written from the
definitions, sharing no code with the library (slow; for small shapes only)."""

import numpy as np
from scipy.signal import correlate2d


def _pad_pairs(padding):
    """int, (ph, pw) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    first, second = padding
    if isinstance(first, int):
        return (first, first), (second, second)
    return tuple(first), tuple(second)


def _dilate_kernel(kernel, dilation):
    dh, dw = dilation
    kh, kw = kernel.shape
    spread = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=kernel.dtype)
    spread[::dh, ::dw] = kernel
    return spread


def conv2d(x, weight, bias=None, stride=(1, 1), padding=0, dilation=(1, 1), groups=1):
    """Cross-correlation by ``scipy.signal.correlate2d`` per (image, out channel, in channel):
    x (N, C, H, W), weight (C_out, C/groups, kH, kW) -> (N, C_out, Ho, Wo)."""
    (top, bottom), (left, right) = _pad_pairs(padding)
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, channels = x.shape[:2]
    out_channels, per_group = weight.shape[:2]
    out_per_group = out_channels // groups
    sh, sw = stride
    result = None
    for image in range(n):
        for o in range(out_channels):
            group = o // out_per_group
            total = 0.0
            for k in range(per_group):
                c = group * per_group + k
                kernel = _dilate_kernel(weight[o, k], dilation)
                total = total + correlate2d(padded[image, c], kernel, mode="valid")
            total = total[::sh, ::sw]
            if result is None:
                result = np.zeros((n, out_channels) + total.shape, dtype=np.float64)
            result[image, o] = total + (0.0 if bias is None else bias[o])
    return result


def conv_transpose2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0),
                     output_padding=(0, 0), dilation=(1, 1), groups=1):
    """Transposed convolution as a direct scatter: every input pixel adds its value times the
    kernel into the output window it came from. x (N, C_in, H, W), weight
    (C_in, C_out/groups, kH, kW) -> (N, C_out, H_out, W_out)."""
    n, in_channels, height, width = x.shape
    _, out_per_group, kh, kw = weight.shape
    in_per_group = in_channels // groups
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    out_h = (height - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    out_w = (width - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    full = np.zeros((n, out_per_group * groups, out_h + 2 * ph + sh + dh * kh,
                     out_w + 2 * pw + sw + dw * kw))
    for image in range(n):
        for c in range(in_channels):
            group = c // in_per_group
            for y in range(height):
                for x_pos in range(width):
                    for i in range(kh):
                        for j in range(kw):
                            full[image, group * out_per_group:(group + 1) * out_per_group,
                                 y * sh + i * dh, x_pos * sw + j * dw] += (
                                x[image, c, y, x_pos] * weight[c, :, i, j])
    out = full[:, :, ph:ph + out_h, pw:pw + out_w]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def unfold(x, kernel_size, dilation=(1, 1), padding=(0, 0), stride=(1, 1)):
    """im2col by a loop over windows, PyTorch's row-major order: x (N, C, H, W) ->
    (N, C*kH*kW, L)."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, hp, wp = padded.shape
    out_h = (hp - dh * (kh - 1) - 1) // sh + 1
    out_w = (wp - dw * (kw - 1) - 1) // sw + 1
    columns = []
    for y in range(out_h):
        for x_pos in range(out_w):
            window = padded[:, :, y * sh:y * sh + dh * (kh - 1) + 1:dh,
                            x_pos * sw:x_pos * sw + dw * (kw - 1) + 1:dw]
            columns.append(window.reshape(n, c * kh * kw))
    return np.stack(columns, axis=2)


# --- pooling, pad, upsample (helper A2) --------------------------------------------------
# Direct loops over every output position, written from PyTorch's documented rules and
# independent of tinygrad_cnn/ops/pool_windows.py.  Slow; for small test shapes only.


def pool_output_size_ref(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size, from its documented formula."""
    import math

    span = (size + 2 * padding - dilation * (kernel - 1) - 1) / stride
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _pool_sizes(x, kernel, stride, padding, dilation, ceil_mode):
    return tuple(pool_output_size_ref(x.shape[2 + a], kernel[a], stride[a], padding[a],
                                      dilation[a], ceil_mode) for a in (0, 1))


def max_pool2d_ref(x, kernel, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False,
                   grad_output=None):
    """Max pooling of x (N, C, H, W), pairs for every size argument.  Returns the output and,
    when ``grad_output`` is given, the input gradient: each window's gradient goes to its
    first maximum in row-major order; padding is -inf."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _pool_sizes(x, kernel, stride, padding, dilation, ceil_mode)
    out = np.empty((n_, c_, ho, wo), dtype=x.dtype)
    grad = np.zeros_like(x)
    for n in range(n_):
        for c in range(c_):
            for oh in range(ho):
                for ow in range(wo):
                    best, where = -np.inf, None
                    for i in range(kernel[0]):
                        for j in range(kernel[1]):
                            r = oh * stride[0] - padding[0] + i * dilation[0]
                            q = ow * stride[1] - padding[1] + j * dilation[1]
                            if 0 <= r < h_ and 0 <= q < w_ and (
                                    where is None or x[n, c, r, q] > best):
                                best, where = x[n, c, r, q], (r, q)
                    out[n, c, oh, ow] = best  # -inf for a window that is all padding
                    if grad_output is not None and where is not None:
                        grad[n, c, where[0], where[1]] += grad_output[n, c, oh, ow]
    return out if grad_output is None else (out, grad)


def avg_pool2d_ref(x, kernel, stride, padding=(0, 0), ceil_mode=False,
                   count_include_pad=True, grad_output=None):
    """Average pooling by PyTorch's divisor rule: the window clipped to the padded input
    (count_include_pad) or to the input itself.  Returns the output (and input gradient)."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _pool_sizes(x, kernel, stride, padding, (1, 1), ceil_mode)
    out = np.empty((n_, c_, ho, wo), dtype=x.dtype)
    grad = np.zeros_like(x)
    for oh in range(ho):
        for ow in range(wo):
            r0, q0 = oh * stride[0] - padding[0], ow * stride[1] - padding[1]
            r1 = min(r0 + kernel[0], h_ + padding[0])
            q1 = min(q0 + kernel[1], w_ + padding[1])
            inside_padded = (r1 - r0) * (q1 - q0)
            r0c, q0c, r1c, q1c = max(r0, 0), max(q0, 0), min(r1, h_), min(q1, w_)
            divisor = inside_padded if count_include_pad else (r1c - r0c) * (q1c - q0c)
            for n in range(n_):
                for c in range(c_):
                    out[n, c, oh, ow] = x[n, c, r0c:r1c, q0c:q1c].sum() / divisor
                    if grad_output is not None:
                        grad[n, c, r0c:r1c, q0c:q1c] += grad_output[n, c, oh, ow] / divisor
    return out if grad_output is None else (out, grad)


def lp_pool2d_ref(x, p, kernel, stride, ceil_mode=False):
    """(sum over the part of each window inside the input of x**p) ** (1/p)."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _pool_sizes(x, kernel, stride, (0, 0), (1, 1), ceil_mode)
    out = np.empty((n_, c_, ho, wo), dtype=x.dtype)
    for n in range(n_):
        for c in range(c_):
            for oh in range(ho):
                for ow in range(wo):
                    r, q = oh * stride[0], ow * stride[1]
                    window = x[n, c, r:r + kernel[0], q:q + kernel[1]]
                    out[n, c, oh, ow] = (window ** p).sum() ** (1.0 / p)
    return out


def pad_ref(x, widths, value=0.0):
    """Constant padding, element by element."""
    out = np.full(tuple(n + b + a for n, (b, a) in zip(x.shape, widths)), value, dtype=x.dtype)
    for index in np.ndindex(*x.shape):
        out[tuple(i + b for i, (b, _) in zip(index, widths))] = x[index]
    return out


def upsample_nearest_ref(x, scale):
    """Nearest-neighbour upsampling (N, C, H, W) by integer factors, element by element."""
    n_, c_, h_, w_ = x.shape
    out = np.empty((n_, c_, h_ * scale[0], w_ * scale[1]), dtype=x.dtype)
    for index in np.ndindex(*out.shape):
        n, c, r, q = index
        out[index] = x[n, c, r // scale[0], q // scale[1]]
    return out


# ------------------------------------------------------------------ activations and losses
# Written from the definitions, elementwise (math module per element) or with plain loops.
def _elementwise(function, x):
    return np.vectorize(function, otypes=[np.float64])(x)


def gelu_ref(x, approximate="none"):
    import math
    if approximate == "tanh":
        return _elementwise(lambda v: 0.5 * v * (1 + math.tanh(
            math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))), x)
    return _elementwise(lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2))), x)


def softplus_ref(x, beta=1.0, threshold=20.0):
    import math
    return _elementwise(lambda v: v if v * beta > threshold
                        else math.log1p(math.exp(beta * v)) / beta, x)


ACTIVATIONS = {
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(softplus_ref(x)),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardtanh": lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
    "gelu": gelu_ref,
    "softplus": softplus_ref,
}


def _log_softmax_rows(rows):
    """log-softmax of each row of a 2-D array, one row at a time."""
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        top = row.max()
        out[i] = row - top - np.log(np.sum(np.exp(row - top)))
    return out


def _items(scores, target):
    """(M, C) scores with the class axis last and (M,) targets, for (C,), (N, C), (N, C, ...)."""
    if scores.ndim == 1:
        return scores[None], np.reshape(target, 1)
    moved = np.moveaxis(scores, 1, -1)
    return moved.reshape(-1, scores.shape[1]), np.reshape(target, -1)


def nll_loss_ref(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    rows, labels = _items(log_probs, target)
    losses, weights = [], []
    for row, label in zip(rows, labels):
        w = 0.0 if label == ignore_index else (1.0 if weight is None else weight[label])
        losses.append(0.0 if w == 0.0 else -w * row[label])
        weights.append(w)
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(np.shape(target))
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / np.sum(weights)


def cross_entropy_ref(logits, target, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    rows, labels = _items(logits, target)
    log_probs = _log_softmax_rows(rows)
    classes = rows.shape[1]
    if np.asarray(target).dtype.kind == "f":  # class probabilities of the input's shape
        probabilities, _ = _items(target, np.zeros(rows.shape[0]))
        probabilities = probabilities * (1 - label_smoothing) + label_smoothing / classes
        w = np.ones(classes) if weight is None else weight
        losses = np.array([-np.sum(w * p * lp) for p, lp in zip(probabilities, log_probs)])
        if reduction == "none":
            return losses.reshape(np.shape(target)[:1] + np.shape(target)[2:]
                                  if logits.ndim > 1 else ())
        return losses.sum() / (len(losses) if reduction == "mean" else 1)
    nll = nll_loss_ref(log_probs, labels, weight, ignore_index, "none")
    w = np.ones(classes) if weight is None else weight
    kept = labels != ignore_index
    smooth = np.array([-np.sum(w * lp) if k else 0.0 for lp, k in zip(log_probs, kept)])
    if reduction == "none":
        loss = (1 - label_smoothing) * nll + label_smoothing / classes * smooth
        return loss.reshape(np.shape(target))
    if reduction == "sum":
        return (1 - label_smoothing) * nll.sum() + label_smoothing / classes * smooth.sum()
    total = np.sum([w[label] for label, k in zip(labels, kept) if k])
    return ((1 - label_smoothing) * nll.sum() + label_smoothing / classes * smooth.sum()) / total


def reduce_ref(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def smooth_l1_ref(x, y, beta=1.0):
    d = np.abs(x - y)
    return np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta)


def huber_ref(x, y, delta=1.0):
    d = np.abs(x - y)
    return np.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta))


def bce_ref(p, t):
    return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


def bce_logits_ref(x, t, pos_weight=None):
    """From the definition: the BCE of sigmoid(x), log-sigmoid computed per element."""
    import math

    def log_sigmoid(v):
        return -math.log1p(math.exp(-v)) if v >= 0 else v - math.log1p(math.exp(v))
    log_p = _elementwise(log_sigmoid, x)
    log_q = _elementwise(lambda v: log_sigmoid(-v), x)
    pw = 1.0 if pos_weight is None else pos_weight
    return -(pw * t * log_p + (1 - t) * log_q)


def kl_div_ref(log_q, target, log_target=False):
    if log_target:
        return np.exp(target) * (target - log_q)
    safe = np.where(target > 0, target, 1.0)
    return np.where(target > 0, target * (np.log(safe) - log_q), -target * log_q)


def layer_norm_ref(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    count = len(normalized_shape)
    rows = x.reshape(-1, int(np.prod(normalized_shape)))
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        out[i] = (row - row.mean()) / np.sqrt(row.var() + eps)
    out = out.reshape(x.shape)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    assert x.shape[x.ndim - count:] == tuple(normalized_shape)
    return out


def group_norm_ref(x, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    out = np.empty_like(x)
    size = c // num_groups
    for i in range(n):
        for g in range(num_groups):
            block = x[i, g * size:(g + 1) * size]
            out[i, g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def normalize_ref(x, p=2.0, dim=1, eps=1e-12):
    dims = sorted(d % x.ndim for d in (dim if isinstance(dim, tuple) else (dim,)))
    moved = np.moveaxis(x, dims, range(x.ndim - len(dims), x.ndim))
    flat = moved.reshape(moved.shape[:x.ndim - len(dims)] + (-1,))
    norm = np.linalg.norm(flat, ord=p, axis=-1)
    norm = np.expand_dims(np.maximum(norm, eps), tuple(range(x.ndim - len(dims), x.ndim)))
    return x / np.moveaxis(norm, range(x.ndim - len(dims), x.ndim), dims)

# ------------------------------------------------------------------ PyTorch's pad modes
def _edge_source(p, n, mode):
    """Input position an output position ``p`` (relative to the input start) copies."""
    if mode == "replicate":
        return min(max(p, 0), n - 1)
    if mode == "circular":
        return p % n
    while p < 0 or p >= n:  # reflect about the first / last element
        p = -p if p < 0 else 2 * (n - 1) - p
    return p


def pad_modes_ref(x, pad, mode="constant", value=0.0):
    """``torch.nn.functional.pad`` element by element: ``pad`` flat, last axis first; every
    output element is computed from its source position.  Negative widths crop: in reflect
    mode the source positions count from the uncropped input (pad, then crop), in the other
    modes from the cropped one (crop, then pad), as PyTorch."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode != "reflect":
        x = x[tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths))]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    out = np.empty(tuple(n + b + a for n, (b, a) in zip(x.shape, widths)), dtype=x.dtype)
    for index in np.ndindex(*out.shape):
        source = []
        for j, n, (b, _) in zip(index, x.shape, widths):
            p = j - b  # b < 0 (reflect only here): output 0 is input position -b
            source.append(p if mode == "constant" else _edge_source(p, n, mode))
        inside = all(0 <= p < n for p, n in zip(source, x.shape))
        out[index] = x[tuple(source)] if inside else value
    return out


# ------------------------------------------------------------------ interpolate
def _cubic(t, a=-0.75):
    t = abs(t)
    if t <= 1:
        return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1
    if t < 2:
        return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a
    return 0.0


def _taps(o, n, m, mode, align_corners, scale_factor, two_d):
    """The (input position, weight) pairs output ``o`` of an axis of ``n`` -> ``m`` reads.
    ``two_d``: PyTorch's 2-D nearest kernel copies straight through for ``m == n`` and takes
    ``o // 2`` for ``m == 2 n`` (its 1-D and 3-D kernels do not)."""
    if mode == "area":
        start, end = (o * n) // m, -(-((o + 1) * n) // m)
        return [(i, 1.0 / (end - start)) for i in range(start, end)]
    if mode in ("nearest", "nearest-exact"):
        if two_d and mode == "nearest" and m == n:
            return [(o, 1.0)]
        if two_d and mode == "nearest" and m == 2 * n:
            return [(o // 2, 1.0)]
        scale = np.float32(1.0 / scale_factor) if scale_factor else \
            np.float32(n) / np.float32(m)
        if mode == "nearest":
            position = np.float32(o) * scale
        else:
            position = np.float32((o + 0.5) * float(scale))
        return [(min(int(np.floor(position)), n - 1), 1.0)]
    if m == n and mode != "bicubic":
        return [(o, 1.0)]  # PyTorch's linear kernels leave an unchanged axis alone
    if align_corners:
        scale = (n - 1) / (m - 1) if m > 1 else 0.0
        src = scale * o
    else:
        scale = 1.0 / scale_factor if scale_factor else n / m
        src = scale * (o + 0.5) - 0.5
        if mode != "bicubic":
            src = max(src, 0.0)
    i = min(int(np.floor(src)), n - 1)
    t = min(max(src - i, 0.0), 1.0)
    if mode == "bicubic":
        return [(min(max(i + k, 0), n - 1), _cubic(t - k)) for k in (-1, 0, 1, 2)]
    return [(i, 1.0 - t), (min(i + 1, n - 1), t)]


def interpolate_ref(x, size, mode="nearest", align_corners=False, scale_factors=None):
    """``interpolate`` of x ``(N, C, *spatial)`` to ``size``: every output element as the sum
    over the product of the per-axis taps of its position (PyTorch's rules, written out)."""
    spatial = x.shape[2:]
    factors = scale_factors or (None,) * len(spatial)
    out = np.zeros(x.shape[:2] + tuple(size), dtype=np.float64)
    for index in np.ndindex(*size):
        taps = [_taps(o, n, m, mode, align_corners, f, len(spatial) == 2)
                for o, n, m, f in zip(index, spatial, size, factors)]
        total = 0.0
        for combo in np.ndindex(*[len(t) for t in taps]):
            weight, source = 1.0, []
            for axis, k in enumerate(combo):
                position, w = taps[axis][k]
                weight *= w
                source.append(position)
            total = total + weight * x[(slice(None), slice(None)) + tuple(source)]
        out[(slice(None), slice(None)) + index] = total
    return out.astype(x.dtype)


# ------------------------------------------------------------------ adaptive pooling, unpool
def adaptive_pool2d_ref(x, output_size, kind="avg"):
    """Adaptive pooling of x (N, C, H, W) window by window; ``kind="max"`` returns the values
    and the flat indices of each window's first maximum (its last NaN when it holds one)."""
    n_, c_, h_, w_ = x.shape
    oh, ow = output_size
    out = np.empty((n_, c_, oh, ow), dtype=x.dtype)
    where = np.zeros((n_, c_, oh, ow), dtype=np.int64)
    for i in range(oh):
        r0, r1 = (i * h_) // oh, -(-((i + 1) * h_) // oh)
        for j in range(ow):
            q0, q1 = (j * w_) // ow, -(-((j + 1) * w_) // ow)
            for n in range(n_):
                for c in range(c_):
                    window = x[n, c, r0:r1, q0:q1]
                    if kind == "avg":
                        out[n, c, i, j] = window.sum() / window.size
                        continue
                    best, at = None, None
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            v = x[n, c, r, q]
                            if best is None or v > best or np.isnan(v):
                                best, at = v, r * w_ + q
                    out[n, c, i, j], where[n, c, i, j] = best, at
    return out if kind == "avg" else (out, where)


def max_pool2d_indices_ref(x, kernel, stride, padding=(0, 0), dilation=(1, 1),
                           ceil_mode=False):
    """Flat index ``r * W + c`` of each window's first maximum (first element inside the input
    when nothing beats ``-inf``), x (N, C, H, W)."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _pool_sizes(x, kernel, stride, padding, dilation, ceil_mode)
    where = np.zeros((n_, c_, ho, wo), dtype=np.int64)
    for n, c, oh, ow in np.ndindex(n_, c_, ho, wo):
        best, at = -np.inf, None
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                r = oh * stride[0] - padding[0] + i * dilation[0]
                q = ow * stride[1] - padding[1] + j * dilation[1]
                if 0 <= r < h_ and 0 <= q < w_ and (at is None or x[n, c, r, q] > best):
                    best, at = x[n, c, r, q], r * w_ + q
        where[n, c, oh, ow] = at
    return where


def max_unpool2d_ref(x, indices, output_size):
    """Zeros of (N, C, *output_size) with x written element by element at its flat index."""
    n_, c_ = x.shape[:2]
    out = np.zeros((n_, c_) + tuple(output_size), dtype=x.dtype)
    for n, c, i, j in np.ndindex(*x.shape):
        k = indices[n, c, i, j]
        out[n, c, k // output_size[1], k % output_size[1]] = x[n, c, i, j]
    return out


# ------------------------------------------------------------------ nn ops: pixel shuffle,
# PReLU and the other activations, embedding, instance norm, distances
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _logsigmoid_scalar(v):
    """log(1 / (1 + exp(-v))), written per sign so neither branch overflows."""
    return -np.log1p(np.exp(-v)) if v >= 0 else v - np.log1p(np.exp(v))


ACTIVATIONS.update({
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "celu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha)),
    "logsigmoid": lambda x: _elementwise(_logsigmoid_scalar, x),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "tanhshrink": lambda x: x - np.tanh(x),
})


def threshold_ref(x, threshold, value):
    return np.where(x <= threshold, value, x)


def prelu_ref(x, weight):
    """x where x > 0, else the slope of x's channel (dim 1; the one slope if weight has one)."""
    out = np.array(x, dtype=float, copy=True)
    slopes = np.reshape(weight, -1)
    for position in np.ndindex(*x.shape):
        channel = position[1] if x.ndim >= 2 and slopes.size > 1 else 0
        if x[position] <= 0:
            out[position] = slopes[channel] * x[position]
    return out


def glu_ref(x, dim=-1):
    first, second = np.split(x, 2, axis=dim)
    return first / (1 + np.exp(-second))


def pixel_shuffle_ref(x, r):
    """out[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w], one element at a time."""
    *lead, channels, height, width = x.shape
    out = np.empty((*lead, channels // (r * r), height * r, width * r), dtype=x.dtype)
    for index in np.ndindex(*out.shape):
        *batch, c, row, column = index
        out[index] = x[(*batch, c * r * r + (row % r) * r + column % r, row // r, column // r)]
    return out


def pixel_unshuffle_ref(x, r):
    """The inverse of pixel_shuffle_ref: out[..., c r^2 + i r + j, h, w] = x[..., c, h r + i,
    w r + j]."""
    *lead, channels, height, width = x.shape
    out = np.empty((*lead, channels * r * r, height // r, width // r), dtype=x.dtype)
    for index in np.ndindex(*out.shape):
        *batch, k, row, column = index
        c, offset = divmod(k, r * r)
        i, j = divmod(offset, r)
        out[index] = x[(*batch, c, row * r + i, column * r + j)]
    return out


def embedding_ref(weight, indices):
    out = np.empty(np.shape(indices) + weight.shape[1:], dtype=weight.dtype)
    for position in np.ndindex(*np.shape(indices)):
        out[position] = weight[indices[position]]
    return out


def instance_norm_ref(x, weight=None, bias=None, eps=1e-5):
    """Each (sample, channel) plane standardised by its own mean and biased variance."""
    out = np.empty_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            plane = x[n, c]
            out[n, c] = (plane - plane.mean()) / np.sqrt(plane.var() + eps)
            if weight is not None:
                out[n, c] *= weight[c]
            if bias is not None:
                out[n, c] += bias[c]
    return out


def cosine_similarity_ref(x1, x2, dim=1, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    a, b = np.moveaxis(x1, dim, -1), np.moveaxis(x2, dim, -1)
    out = np.empty(a.shape[:-1])
    for position in np.ndindex(*out.shape):
        u, v = a[position], b[position]
        norm_u = max(np.sqrt(np.sum(u * u)), eps)
        norm_v = max(np.sqrt(np.sum(v * v)), eps)
        out[position] = np.sum((u / norm_u) * (v / norm_v))
    return out


def pairwise_distance_ref(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    first, second = np.broadcast_arrays(x1, x2)
    difference = first - second + eps
    if difference.ndim == 0:
        return np.abs(difference)
    size = np.abs(difference)
    if p == np.inf:
        out = size.max(axis=-1)
    elif p == -np.inf:
        out = size.min(axis=-1)
    elif p == 0:
        out = (size != 0).sum(axis=-1).astype(float)
    else:
        out = (size ** p).sum(axis=-1) ** (1.0 / p)
    return out[..., None] if keepdim else out


# ------------------------------------------------------------------ margin, embedding and
# likelihood losses: unreduced, one element (or one row) at a time
def _log_sigmoid(v):
    import math
    return -math.log1p(math.exp(-v)) if v >= 0 else v - math.log1p(math.exp(v))


def _each(function, *arrays):
    """``function`` of the matching elements of the broadcast ``arrays``."""
    arrays = np.broadcast_arrays(*arrays)
    out = np.empty(arrays[0].shape)
    for position in np.ndindex(*out.shape):
        out[position] = function(*(float(a[position]) for a in arrays))
    return out


def margin_ranking_ref(x1, x2, target, margin=0.0):
    return _each(lambda a, b, t: max(0.0, -t * (a - b) + margin), x1, x2, target)


def hinge_embedding_ref(x, target, margin=1.0):
    return _each(lambda v, t: (v if t != -1 else 0.0) + (max(0.0, margin - v) if t != 1
                                                          else 0.0), x, target)


def soft_margin_ref(x, target):
    return _each(lambda v, t: -_log_sigmoid(t * v), x, target)


def multilabel_soft_margin_ref(x, target, weight=None):
    """Per row (the classes last): the mean over classes of the weighted logistic losses."""
    weight = np.ones(x.shape[-1]) if weight is None else weight
    x, target, weight = np.broadcast_arrays(x, target, weight)
    out = np.empty(x.shape[:-1])
    for row in np.ndindex(*out.shape):
        terms = [-w * (t * _log_sigmoid(v) + (1 - t) * _log_sigmoid(-v))
                 for v, t, w in zip(x[row], target[row], weight[row])]
        out[row] = sum(terms) / x.shape[-1]
    return out


def cosine_embedding_ref(x1, x2, target, margin=0.0):
    x1, x2 = np.broadcast_arrays(x1, x2)
    rows1, rows2 = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1])
    labels = np.broadcast_to(target, (len(rows1),)).reshape(-1)
    out = np.empty(len(rows1))
    for k, (a, b, t) in enumerate(zip(rows1, rows2, labels)):
        cosine = np.dot(a, b) / np.sqrt((np.dot(a, a) + 1e-12) * (np.dot(b, b) + 1e-12))
        out[k] = 1 - cosine if t == 1 else max(0.0, cosine - margin) if t == -1 else 0.0
    return out.reshape(np.shape(target)) if x1.ndim == 1 else out


def multi_margin_ref(x, target, p=1, margin=1.0, weight=None):
    rows = x.reshape(-1, x.shape[-1])
    labels = np.reshape(target, -1)
    classes = rows.shape[1]
    out = np.zeros(len(rows))
    for k, (row, y) in enumerate(zip(rows, labels)):
        w = 1.0 if weight is None else weight[y]
        for j in range(classes):
            if j != y:
                out[k] += w * max(0.0, margin - row[y] + row[j]) ** p / classes
    return out.reshape(np.shape(target)) if x.ndim == 1 else out


def triplet_margin_ref(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    near = pairwise_distance_ref(anchor, positive, p, eps)
    far = pairwise_distance_ref(anchor, negative, p, eps)
    if swap:
        far = np.minimum(far, pairwise_distance_ref(positive, negative, p, eps))
    return _each(lambda a, b: max(0.0, margin + a - b), near, far)


def poisson_nll_ref(x, target, log_input=True, full=False, eps=1e-8):
    import math

    def term(v, t):
        loss = math.exp(v) - t * v if log_input else v - t * math.log(v + eps)
        if full and t > 1:
            loss += t * math.log(t) - t + 0.5 * math.log(2 * math.pi * t)
        return loss
    return _each(term, x, target)


def gaussian_nll_ref(x, target, var, full=False, eps=1e-6):
    import math
    var = np.full(np.shape(x), var) if np.ndim(var) == 0 else var
    if var.shape != x.shape and var.shape == x.shape[:-1]:
        var = var[..., None]
    return _each(lambda v, t, s: 0.5 * (math.log(max(s, eps)) + (v - t) ** 2 / max(s, eps))
                 + (0.5 * math.log(2 * math.pi) if full else 0.0), x, target, var)


# ------------------------------------------------------------------ shrinkage, randomized and
# alpha dropout activations, channel shuffle, local response norm
def softshrink_ref(x, lambd=0.5):
    return _each(lambda v: v - lambd if v > lambd else v + lambd if v < -lambd else 0.0, x)


def hardshrink_ref(x, lambd=0.5):
    return _each(lambda v: v if abs(v) > lambd else 0.0, x)


def rrelu_ref(x, slopes):
    """``x`` where positive, else ``x`` times its own slope (an array of x's shape)."""
    return _each(lambda v, a: v if v > 0 else a * v, x, slopes)


SELU_SATURATION = SELU_SCALE * SELU_ALPHA


def alpha_dropout_ref(x, keep, p):
    """Kept units ``a x + a s p``, dropped ones ``a s (p - 1)``, from the definition of
    alpha dropout (``keep`` broadcast to x)."""
    a = ((SELU_SATURATION ** 2 * p + 1) * (1 - p)) ** -0.5
    keep = np.broadcast_to(keep, np.shape(x))
    return _each(lambda v, k: a * v + a * SELU_SATURATION * p if k
                 else a * SELU_SATURATION * (p - 1), x, keep)


def channel_shuffle_ref(x, groups):
    out = np.empty_like(x)
    per_group = x.shape[1] // groups
    for i in range(per_group):
        for j in range(groups):
            out[:, i * groups + j] = x[:, j * per_group + i]
    return out


def local_response_norm_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    out = np.empty(x.shape)
    channels = x.shape[1]
    for c in range(channels):
        window = range(max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1))
        total = sum(x[:, d] ** 2 for d in window)
        out[:, c] = x[:, c] / (k + alpha / size * total) ** beta
    return out


# ------------------------------------------------------------------ bilinear, pdist, gumbel
def bilinear_ref(x1, x2, weight, bias=None):
    rows1, rows2 = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1])
    out = np.empty((len(rows1), weight.shape[0]))
    for n, (a, b) in enumerate(zip(rows1, rows2)):
        for o in range(weight.shape[0]):
            out[n, o] = sum(a[i] * weight[o, i, j] * b[j] for i in range(len(a))
                            for j in range(len(b))) + (0.0 if bias is None else bias[o])
    return out.reshape(*x1.shape[:-1], weight.shape[0])


def pdist_ref(x, p=2.0):
    out = []
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = np.abs(x[i] - x[j])
            if p == np.inf:
                out.append(d.max() if d.size else 0.0)
            elif p == 0:
                out.append(float((d != 0).sum()))
            else:
                out.append((d ** p).sum() ** (1.0 / p))
    return np.array(out)


def gumbel_softmax_ref(logits, gumbels, tau=1.0, hard=False, dim=-1):
    """The softmax of ``(logits + gumbels) / tau`` along ``dim`` (one slice at a time), or
    its one-hot argmax."""
    z = np.moveaxis((logits + gumbels) / tau, dim, -1)
    out = np.empty(z.shape)
    for position in np.ndindex(*z.shape[:-1]):
        e = np.exp(z[position] - z[position].max())
        out[position] = e / e.sum()
        if hard:
            out[position] = np.eye(len(e))[np.argmax(out[position])]
    return np.moveaxis(out, -1, dim)
