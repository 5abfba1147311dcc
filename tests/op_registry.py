"""One declaration per differentiable op; ``test_ops.py`` turns each into the generic tests.

An ``OpInfo`` (PyTorch's OpInfo idea) says how to call the op on Tensors, how to compute it
with plain numpy (the independent reference), what PyTorch calls it (the optional oracle),
which inputs to feed it (``sample_inputs``: shapes of the Tensor operands plus keyword
arguments, the same keywords for all three callables) and which inputs it must reject
(``error_inputs``).  Input values come from the one generator the public harness uses,
:func:`tinygrad_cnn.testing.make_inputs`, kept ``AVOID_MARGIN`` clear of the op's kinks.

The generic tests (``test_ops.py``) run on every (op, sample) pair: the numpy reference,
float64 gradcheck and gradgradcheck, float32 in -> float32 out and gradients, PyTorch values
and gradients; and on every error input: the exception type and a message that starts with
the op's name.  What is specific to one op (hypothesis against the loop references, ties,
all-zero windows, the two conv algorithms agreeing) stays in that op's test file.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import reference as loops
import reference_spatial as sampling_loops

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.testing import make_inputs

try:  # PyTorch is an optional oracle; the torch_op lambdas only run when it is installed
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

AVOID_MARGIN = 0.1


@dataclass
class Sample:
    """One call: a shape per Tensor operand, and the keyword arguments."""
    shapes: tuple
    kwargs: dict = field(default_factory=dict)
    torch: bool = True          # False where PyTorch is documented to differ (see the op)

    def __repr__(self):
        options = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return "-".join("x".join(map(str, s)) or "scalar" for s in self.shapes) + \
            (f"-{options}" if options else "")


@dataclass
class ErrorInput:
    """A call the op must reject: operands of ``shapes``, ``kwargs``, through ``call`` (the
    op itself when None) -> ``error`` with a message matching ``match`` (a regex)."""
    shapes: tuple
    kwargs: dict
    error: type
    match: str
    call: Callable = None


@dataclass
class OpInfo:
    name: str
    op: Callable                     # Tensors, **kwargs -> Tensor
    reference: Callable              # ndarrays, **kwargs -> ndarray
    shapes: tuple = None             # the one-sample case: one shape per operand, no kwargs
    torch_op: Callable = None        # torch tensors, **kwargs -> torch tensor
    low: float = -2.0                # input range
    high: float = 2.0
    away_from: tuple = ()            # values to keep inputs clear of (kinks)
    broadcasting: bool = False       # a binary op that broadcasts its operands
    sample_inputs: Callable = None   # () -> list of Sample; default: [Sample(shapes)]
    error_inputs: Callable = None    # () -> list of ErrorInput
    error_name: str = None           # the name its messages start with (default: name)
    grad_options: dict = field(default_factory=dict)  # extra gradcheck options

    def samples(self):
        return list(self.sample_inputs()) if self.sample_inputs else [Sample(self.shapes)]

    def errors(self):
        return list(self.error_inputs()) if self.error_inputs else []

    def inputs(self, sample, seed=0, dtype=np.float64, shapes=None):
        """The operand arrays of ``sample``, from ``testing.make_inputs``."""
        return make_inputs(shapes or sample.shapes, seed, (self.low, self.high),
                           self.away_from, AVOID_MARGIN, dtype)


# Special values spiked into an op's inputs (tests/test_float_errors.py,
# tests/test_special_values_torch.py).
SPECIAL_VALUES = np.array([0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, 1.0], np.float32)


def spiked_inputs(info, sample):
    """The sample's float32 operands with every third element replaced by one of
    ``SPECIAL_VALUES`` (a different one per operand)."""
    arrays = []
    for k, array in enumerate(info.inputs(sample, dtype=np.float32)):
        array = np.array(array, dtype=np.float32, copy=True)
        flat = array.reshape(-1)
        index = np.arange(0, flat.size, 3)
        flat[index] = SPECIAL_VALUES[(index + k) % len(SPECIAL_VALUES)]
        arrays.append(array)
    return arrays


def errors(*items):
    return lambda: [ErrorInput(*item) for item in items]


def samples(*items):
    """Samples from ``Sample``s, ``(shapes, kwargs)`` pairs or bare ``shapes``."""
    def build(item):
        if isinstance(item, Sample):
            return item
        if len(item) == 2 and isinstance(item[1], dict):
            return Sample(*item)
        return Sample(item)
    return lambda: [build(item) for item in items]


def _softmax_reference(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


# ------------------------------------------------------------------ convolution
def _same_padding(kernel, dilation):
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _conv2d_reference(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    dilation = _pair(dilation)
    if padding == "same":
        padding = _same_padding(weight.shape[2:], dilation)
    elif padding == "valid":
        padding = 0
    out = loops.conv2d(x, weight, bias, _pair(stride), padding if isinstance(padding, int)
                       else tuple(padding), dilation, groups)
    return out[0] if unbatched else out


def _conv1d_reference(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same":
        (pad,) = _same_padding(weight.shape[2:], (dilation,))
    else:
        pad = (padding, padding)
    out = loops.conv2d(x[:, :, None], weight[:, :, None], bias, (1, stride), ((0, 0), pad),
                       (1, dilation), groups)
    return out[:, :, 0]


def _conv_transpose2d_reference(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                                dilation=1, groups=1):
    return loops.conv_transpose2d(x, weight, bias, _pair(stride), _pair(padding),
                                  _pair(output_padding), _pair(dilation), groups)


def _with_algorithm(function, algorithm):
    def run(*args, **kwargs):
        with conv_algorithm(algorithm):
            return function(*args, **kwargs)
    return run


CONV2D_SAMPLES = samples(
    (((2, 2, 5, 6), (4, 2, 3, 2), (4,)), {}),
    (((2, 2, 5, 6), (4, 2, 3, 2), (4,)), dict(stride=2, padding=1)),
    (((2, 2, 5, 6), (4, 2, 3, 2), (4,)), dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1))),
    (((2, 2, 5, 6), (4, 1, 3, 2), (4,)), dict(padding="same", dilation=2, groups=2)),
    (((3, 4, 9, 8), (6, 2, 3, 3), (6,)),
     dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    (((3, 4, 9, 8), (6, 4, 3, 3), (6,)), dict(stride=1, padding=1)),
    (((3, 4, 9, 8), (6, 4, 3, 3), (6,)), dict(padding="same", dilation=2)),
    (((2, 5, 4), (3, 2, 2, 3)), dict(padding="valid")),  # unbatched, no bias
)
CONV2D_ERRORS = errors(
    (((1, 3, 5, 5), (8, 1, 3, 3)), {}, ValueError,
     r"conv2d: input has 3 channels but weight expects 1 \(weight shape \(8, 1, 3, 3\)\)"),
    (((1, 2, 5, 5), (4, 2, 3, 3)), dict(stride=0), ValueError,
     "conv2d: stride must be at least 1"),
    (((1, 2, 5, 5), (4, 2, 3, 3)), dict(padding="same", stride=2), ValueError,
     "conv2d: padding='same' is not supported for strided convolutions"),
)
# 3x3 stride-1 undilated layers, the ones Winograd computes (any padding, groups), plus one
# it hands to im2col (strided): the "winograd" entries run both.
WINOGRAD_CONV2D_SAMPLES = samples(
    (((2, 2, 5, 6), (4, 2, 3, 3), (4,)), dict(padding=1)),
    (((3, 4, 9, 8), (6, 2, 3, 3), (6,)), dict(padding=(2, 0), groups=2)),
    (((2, 3, 4, 7), (2, 3, 3, 3)), dict(padding="same")),
    (((1, 2, 3, 3), (3, 2, 3, 3), (3,)), {}),
    (((2, 6, 5), (3, 2, 3, 3)), dict(padding=3)),  # unbatched; padding beyond the kernel
    (((2, 2, 5, 6), (4, 2, 3, 3), (4,)), dict(stride=2, padding=1)),
)
# Stride-1 layers, the ones "im2col_flat" computes (any padding, dilation, groups; more input
# than output channels and the reverse, so both of its input-gradient ways run), plus the
# strided ones of CONV2D_SAMPLES it hands to im2col.
FLAT_CONV2D_SAMPLES = lambda: CONV2D_SAMPLES() + samples(  # noqa: E731
    (((2, 4, 5, 6), (2, 4, 3, 2), (2,)), dict(padding=(2, 1), dilation=(1, 2))),
    (((2, 4, 5, 6), (2, 2, 3, 3), (2,)), dict(padding=(0, 3), groups=2)),
    (((1, 1, 6, 5), (3, 1, 2, 3), (3,)), dict(padding=1)),
)()
# 1x1 strided layers take the pointwise kernels under "im2col_phases" (ops/conv_pointwise.py)
PHASES_CONV2D_SAMPLES = lambda: CONV2D_SAMPLES() + samples(  # noqa: E731
    (((2, 4, 5, 6), (6, 2, 1, 1), (6,)), dict(stride=2, groups=2)),
    (((2, 3, 6, 5), (4, 3, 1, 1)), dict(stride=(3, 2))),
)()
PHASES_CONV_TRANSPOSE2D_SAMPLES = lambda: CONV_TRANSPOSE2D_SAMPLES() + samples(  # noqa: E731
    (((2, 4, 3, 3), (4, 3, 1, 1), (6,)), dict(stride=2, output_padding=1, groups=2)),
)()
FLAT_CONV_TRANSPOSE2D_SAMPLES = samples(
    (((2, 4, 3, 4), (4, 3, 3, 3), (6,)), dict(padding=1, groups=2)),
    (((2, 2, 4, 3), (2, 4, 2, 3)), dict(padding=(1, 0), dilation=(2, 1))),
    (((1, 4, 3, 3), (4, 1, 3, 3), (1,)), dict(padding=2)),
    (((2, 4, 5, 6), (4, 3, 3, 2), (6,)),
     dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)),
)
WINOGRAD_CONV_TRANSPOSE2D_SAMPLES = samples(
    (((2, 4, 3, 4), (4, 3, 3, 3), (6,)), dict(padding=1, groups=2)),
    (((1, 2, 3, 3), (2, 3, 3, 3)), {}),
    (((2, 3, 6, 5), (3, 2, 3, 3), (2,)), dict(padding=2)),
)
CONV_TRANSPOSE2D_SAMPLES = samples(
    (((2, 4, 3, 4), (4, 1, 3, 2), (2,)),
     dict(stride=(2, 1), padding=1, output_padding=(1, 0), dilation=(1, 2), groups=2)),
    (((2, 4, 5, 6), (4, 3, 3, 2), (6,)),
     dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)),
    (((1, 2, 3, 3), (2, 3, 2, 2)), {}),
)
CONV_TRANSPOSE2D_ERRORS = errors(
    (((1, 2, 3, 3), (3, 1, 2, 2)), {}, ValueError,
     "conv_transpose2d: input has 2 channels but weight expects 3"),
    (((1, 2, 3, 3), (2, 1, 2, 2)), dict(stride=2, output_padding=2), ValueError,
     "conv_transpose2d: output_padding .* must be smaller than stride"),
)


# ------------------------------------------------------------------ unfold / fold
UNFOLD_OPTIONS = [dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
                  dict(kernel_size=(3, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1))]


def _unfold_reference(x, kernel_size, dilation=1, padding=0, stride=1):
    return loops.unfold(x, _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))


def _fold_reference(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """fold as the adjoint of the loop unfold: the transpose of unfold's matrix, built
    column by column from unit images."""
    n, rows, _ = cols.shape
    channels = rows // (_pair(kernel_size)[0] * _pair(kernel_size)[1])
    image_shape = (1, channels) + _pair(output_size)
    size = int(np.prod(image_shape))
    matrix = np.stack([_unfold_reference(np.eye(size)[k].reshape(image_shape), kernel_size,
                                         dilation, padding, stride).ravel()
                       for k in range(size)], axis=1)
    return (cols.reshape(n, -1) @ matrix).reshape((n,) + image_shape[1:])


def _fold_samples():
    found = []
    for options, image in zip(UNFOLD_OPTIONS, [(2, 2, 5, 4), (2, 3, 7, 6)]):
        cols = F.unfold(tg.Tensor(np.zeros(image)), **options).shape
        found.append(Sample((cols,), dict(output_size=image[2:], **options)))
    return found


# ------------------------------------------------------------------ pooling
POOL_SHAPES = [(2, 2, 7, 6), (2, 3, 7, 7), (1, 2, 6, 9), (2, 1, 5, 4)]
MAX_POOL_CASES = [  # kernel_size, stride, padding, dilation, ceil_mode
    (2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
    ((2, 3), (1, 2), (1, 0), 1, True), (2, None, 0, 1, False), (2, 2, 0, 1, True),
    (3, 2, 1, 1, False), ((2, 3), (2, 1), (1, 1), (2, 1), True), (4, 3, 2, 1, True),
    (1, 2, 0, 1, True)]
AVG_POOL_CASES = [  # kernel_size, stride, padding, ceil_mode
    (2, 2, 0, False), (3, 2, 1, True), (3, 1, 1, False), ((2, 3), (1, 2), (1, 0), True),
    (2, None, 0, False), (2, 2, 1, True), (3, 2, 1, False), ((2, 3), (3, 1), (1, 1), True),
    (4, 3, 2, True), (3, 3, 1, True)]


def _max_pool_samples():
    found = [Sample((POOL_SHAPES[k % 4],), dict(kernel_size=kernel, stride=s, padding=p,
                                                dilation=d, ceil_mode=c))
             for k, (kernel, s, p, d, c) in enumerate(MAX_POOL_CASES)]
    return found + [Sample(((2, 7, 6),), dict(kernel_size=3, stride=2, padding=1))]


def _avg_pool_samples():
    return [Sample((POOL_SHAPES[k % 4],), dict(kernel_size=kernel, stride=s, padding=p,
                                               ceil_mode=c, count_include_pad=include))
            for k, (kernel, s, p, c) in enumerate(AVG_POOL_CASES) for include in (True, False)] \
        + [Sample(((2, 7, 6),), dict(kernel_size=3, stride=2, padding=1))]


def _lp_pool_samples():
    # PyTorch rescales a partial ceil-mode window; we sum what it covers (F.lp_pool2d)
    return [Sample(((2, 2, 7, 6),), dict(norm_type=p, kernel_size=k, stride=s, ceil_mode=c),
                   torch=not c)
            for p in (1, 2, 3, 1.5) for k, s, c in [(2, None, False), (2, 2, False),
                                                    (3, 2, False), (3, 2, True),
                                                    ((2, 3), 1, False)]]


def _unbatched(reference):
    def run(x, *args, **kwargs):
        return reference(x[None], *args, **kwargs)[0] if x.ndim == 3 else \
            reference(x, *args, **kwargs)
    return run


@_unbatched
def _max_pool2d_reference(x, kernel_size, stride=None, padding=0, dilation=1,
                          ceil_mode=False):
    return loops.max_pool2d_ref(x, _pair(kernel_size), _pair(stride or kernel_size),
                                _pair(padding), _pair(dilation), ceil_mode)


@_unbatched
def _avg_pool2d_reference(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                          count_include_pad=True):
    return loops.avg_pool2d_ref(x, _pair(kernel_size), _pair(stride or kernel_size),
                                _pair(padding), ceil_mode, count_include_pad)


def _lp_pool2d_reference(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    return loops.lp_pool2d_ref(x, norm_type, _pair(kernel_size), _pair(stride or kernel_size),
                               ceil_mode)


POOL_ERRORS = {
    "max_pool2d": errors(
        (((1, 1, 4, 4),), dict(kernel_size=2, padding=2), ValueError,
         r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size"),
        (((1, 1, 4, 4),), dict(kernel_size=0), ValueError,
         "max_pool2d: kernel_size must be at least 1"),
        (((4, 4),), dict(kernel_size=2), ValueError, r"max_pool2d: input must be 3-D")),
    "avg_pool2d": errors(
        (((1, 1, 4, 4),), dict(kernel_size=2, count_include_pad=1), TypeError,
         "avg_pool2d: count_include_pad must be a bool"),
        (((1, 1, 2, 2),), dict(kernel_size=3), ValueError, "avg_pool2d: output size")),
    "lp_pool2d": errors(
        (((1, 1, 4, 4),), dict(norm_type=0, kernel_size=2), ValueError,
         "lp_pool2d: norm_type must be a positive finite number"),
        (((1, 1, 4, 4),), dict(norm_type="2", kernel_size=2), TypeError,
         "lp_pool2d: norm_type must be a number")),
}


# ------------------------------------------------------------------ pad, interpolate
PAD_SAMPLES = samples(
    (((2, 2, 3, 4),), dict(pad=(1, 3, 2, 1, 0, 0, 0, 1), value=-1.0)),
    (((2, 3, 4, 5),), dict(pad=(-1, 2, 0, 3), value=1.5)),
    (((3, 2),), dict(pad=(1, 1))),
    (((2, 3, 5, 4),), dict(pad=(1, 2, 3, 1), mode="reflect")),
    (((2, 3, 7),), dict(pad=(3, 6), mode="reflect")),
    (((3, 5),), dict(pad=(-1, 2), mode="reflect")),
    (((2, 3, 4, 5),), dict(pad=(2, 0, 1, 3), mode="replicate")),
    (((1, 2, 3, 4, 3),), dict(pad=(1, 2, 0, 1, 2, 1), mode="replicate")),
    (((2, 2, 4, 5),), dict(pad=(5, 1, 4, 2), mode="circular")),
    (((2, 3, 3, 4),), dict(pad=(1, -1, 2, 1), mode="circular")),
    (((2, 2, 3, 4, 5),), dict(pad=(1, 1, 2, 0, 1, 2), mode="reflect")))


def _pad_reference(x, pad, mode="constant", value=None):
    return loops.pad_modes_ref(x, pad, mode, 0.0 if value is None else value)


def _interpolate_reference(x, size=None, scale_factor=None, mode="nearest",
                           align_corners=None, recompute_scale_factor=None):
    spatial = x.ndim - 2
    if size is not None:
        sizes = tuple(size) if isinstance(size, tuple) else (size,) * spatial
        factors = None
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, tuple) \
            else (scale_factor,) * spatial
        sizes = tuple(int(np.floor(n * f)) for n, f in zip(x.shape[2:], factors))
        factors = None if recompute_scale_factor or mode == "area" else factors
    return loops.interpolate_ref(x, sizes, mode, bool(align_corners), factors)


INTERPOLATE_SAMPLES = samples(
    (((2, 2, 3),), dict(scale_factor=2)),
    (((1, 2, 3, 2),), dict(scale_factor=(2, 1))),
    (((2, 3, 4, 5),), dict(scale_factor=(1.5, 2.3))),
    (((2, 3, 4, 5),), dict(size=(3, 7))),
    (((2, 2, 5, 4),), dict(scale_factor=0.6, mode="nearest-exact")),
    (((1, 1, 2, 2, 2),), dict(scale_factor=2)),
    (((2, 3, 5),), dict(size=8, mode="linear")),
    (((2, 3, 5),), dict(scale_factor=1.7, mode="linear", align_corners=True)),
    (((2, 2, 4, 5),), dict(scale_factor=2, mode="bilinear")),
    (((2, 2, 5, 7),), dict(scale_factor=(1.5, 0.6), mode="bilinear")),
    (((2, 2, 5, 7),), dict(size=(3, 11), mode="bilinear", align_corners=True)),
    (((2, 2, 5, 7),), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    (((1, 2, 5, 6),), dict(size=(9, 4), mode="bicubic")),
    (((1, 2, 5, 6),), dict(scale_factor=2.3, mode="bicubic", align_corners=True)),
    (((1, 2, 6, 5),), dict(scale_factor=0.7, mode="bicubic")),
    (((2, 2, 7, 9),), dict(size=(3, 4), mode="area")),
    (((2, 3, 7),), dict(scale_factor=0.5, mode="area")),
    (((1, 2, 3, 4, 5),), dict(scale_factor=1.5, mode="trilinear")))


# ------------------------------------------------------------------ indices, unpool, adaptive
def _max_pool2d_with_indices(x, **kwargs):
    return F.max_pool2d(x, return_indices=True, **kwargs)[0]


UNPOOL_SEED = 11


def _unpool_plan(shape, kernel_size, stride=None, padding=0, output_size=None):
    """``(image, geometry kwargs, output size)`` whose max pooling gives ``shape``: the
    indices max_unpool2d gets come from max-pooling this fixed image."""
    k, s, p = _pair(kernel_size), _pair(stride or kernel_size), _pair(padding)
    default = tuple((shape[-2 + a] - 1) * s[a] - 2 * p[a] + k[a] for a in (0, 1))
    size = tuple(output_size[-2:]) if output_size is not None else default
    image = np.random.default_rng(UNPOOL_SEED).standard_normal(shape[:-2] + size)
    return image, dict(kernel_size=k, stride=s, padding=p), size


def _unpool_indices(shape, **kwargs):
    image, pooling, size = _unpool_plan(shape, **kwargs)
    indices = F.max_pool2d(tg.Tensor(image), return_indices=True, **pooling)[1]
    assert indices.shape == tuple(shape), (indices.shape, shape)
    return indices, size


def _max_unpool2d(x, **kwargs):
    indices, _ = _unpool_indices(x.shape, **kwargs)
    return F.max_unpool2d(x, indices, **kwargs)


def _max_unpool2d_reference(x, **kwargs):
    indices, size = _unpool_indices(x.shape, **kwargs)
    unbatched = x.ndim == 3
    out = loops.max_unpool2d_ref(x[None] if unbatched else x,
                                 indices._data[None] if unbatched else indices._data, size)
    return out[0] if unbatched else out


def _torch_max_unpool2d(x, **kwargs):
    indices, _ = _unpool_indices(tuple(x.shape), **kwargs)
    return TF.max_unpool2d(x, torch.from_numpy(indices._data), **kwargs)


def _unpool1d_indices(shape, kernel_size, stride=None, padding=0, output_size=None):
    """The max_unpool1d indices of max-pooling a fixed sequence to ``shape`` (the 1-D
    ``_unpool_indices``) and the output length."""
    k, s, p = kernel_size, stride or kernel_size, padding
    length = output_size[-1] if output_size is not None else (shape[-1] - 1) * s - 2 * p + k
    signal = np.random.default_rng(UNPOOL_SEED).standard_normal(shape[:-1] + (length,))
    indices = F.max_pool1d(tg.Tensor(signal), k, s, p, return_indices=True)[1]
    assert indices.shape == tuple(shape), (indices.shape, shape)
    return indices, length


def _max_unpool1d(x, **kwargs):
    return F.max_unpool1d(x, _unpool1d_indices(x.shape, **kwargs)[0], **kwargs)


def _max_unpool1d_reference(x, **kwargs):
    indices, length = _unpool1d_indices(x.shape, **kwargs)
    out = np.zeros(x.shape[:-1] + (length,), x.dtype)
    np.put_along_axis(out, indices._data, x, axis=-1)
    return out


def _torch_max_unpool1d(x, **kwargs):
    indices, _ = _unpool1d_indices(tuple(x.shape), **kwargs)
    return TF.max_unpool1d(x, torch.from_numpy(indices._data), **kwargs)


def _adaptive_sizes(x, output_size):
    sizes = output_size if isinstance(output_size, tuple) else (output_size,) * 2
    return tuple(n if v is None else v for v, n in zip(sizes, x.shape[-2:]))


@_unbatched
def _adaptive_avg_pool2d_reference(x, output_size):
    return loops.adaptive_pool2d_ref(x, _adaptive_sizes(x, output_size), "avg")


@_unbatched
def _adaptive_max_pool2d_reference(x, output_size):
    return loops.adaptive_pool2d_ref(x, _adaptive_sizes(x, output_size), "max")[0]


def _adaptive_1d(reference):
    def run(x, output_size):
        rows = x[..., None, :]
        return reference(rows, (1, output_size))[..., 0, :]
    return run


ADAPTIVE_SAMPLES = samples(
    (((2, 3, 7, 7),), dict(output_size=1)),
    (((2, 2, 14, 14),), dict(output_size=5)),
    (((2, 2, 6, 9),), dict(output_size=(4, 2))),
    (((2, 2, 5, 7),), dict(output_size=(3, None))),
    (((3, 5, 7),), dict(output_size=(2, 3))),
    (((1, 2, 4, 3),), dict(output_size=(9, 7))),
    (((1, 2, 8, 6),), dict(output_size=(4, 3))))
ADAPTIVE_1D_SAMPLES = samples((((2, 3, 7),), dict(output_size=3)),
                              (((3, 10),), dict(output_size=4)),
                              (((2, 3, 5),), dict(output_size=8)))


# ------------------------------------------------------------------ batch norm, dropout
def _batch_norm_reference(x, weight=None, bias=None, running_mean=None, running_var=None,
                          training=True, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = running_mean.reshape(per_channel), running_var.reshape(per_channel)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


RUNNING_MEAN, RUNNING_VAR = np.array([0.3, -0.2, 0.1]), np.array([0.5, 2.0, 1.5])


def _batch_norm_eval(x, weight, bias):
    return F.batch_norm(x, RUNNING_MEAN.astype(x.dtype), RUNNING_VAR.astype(x.dtype), weight,
                        bias, training=False)


DROPOUT_SEED = 7


def _seeded_dropout(x, p=0.5):
    # dropout's mask is random; reseeding before every call makes it a fixed function of x
    tg.manual_seed(DROPOUT_SEED)
    return F.dropout(x, p)


def _dropout_reference(x, p=0.5):
    keep = np.random.default_rng(DROPOUT_SEED).random(x.shape) >= p
    return x * keep / (1.0 - p)


# ------------------------------------------------------------------ activations, losses, norms
def _torch_call(function):
    """A torch function taking the samples' numpy keyword arrays as torch tensors."""
    def run(*tensors, **kwargs):
        def convert(value):
            if not isinstance(value, np.ndarray):
                return value
            converted = torch.from_numpy(value)
            return converted.to(tensors[0].dtype) if value.dtype.kind == "f" else converted
        return function(*tensors, **{key: convert(value) for key, value in kwargs.items()})
    return run


def _affine_operands(function):
    """``function(x, weight, bias, **options)`` called as ``(x, w=None, b=None, **options)``,
    so the samples' Tensor operands fill ``weight`` and ``bias`` by keyword."""
    return lambda x, w=None, b=None, **options: function(x, weight=w, bias=b, **options)


def _activation(name, kinks=(), samples_=None, errors_=None, low=-4.0, high=4.0):
    """An OpInfo for ``F.<name>`` with the loop reference ``loops.ACTIVATIONS[name]``."""
    return OpInfo(name, getattr(F, name), loops.ACTIVATIONS[name],
                  torch_op=TF and getattr(TF, name), away_from=kinks, low=low, high=high,
                  sample_inputs=samples_ or samples(((3, 4),), ((2, 3, 2),)),
                  error_inputs=errors_ or errors(
                      (((3,),), {}, TypeError, f"{name}: input must be a Tensor",
                       lambda a: getattr(F, name)(a._data))))


LABELS = np.array([1, 0, 4])
LABELS_IGNORED = np.array([1, -100, 4])
CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 0.25, 1.5])
K_LABELS = np.array([[[0, 2], [1, 1], [2, 0]], [[1, 0], [3, 2], [0, 3]]])  # (2, 3, 2)
K_LABELS[1, 1, 0] = 7  # ignored below
K_WEIGHT = np.array([1.0, 0.5, 2.0, 3.0])
EXTREME = 500.0  # logits scaled to +-1000: a naive softmax overflows


def _scaled(function, scale):
    return lambda x, *rest, **kwargs: function(x * scale, *rest, **kwargs)


CROSS_ENTROPY_SAMPLES = samples(
    (((3, 5),), dict(target=LABELS)),
    (((3, 5),), dict(target=LABELS, reduction="sum")),
    (((3, 5),), dict(target=LABELS, reduction="none")),
    (((3, 5),), dict(target=LABELS, label_smoothing=0.2)),
    (((3, 5),), dict(target=LABELS_IGNORED, weight=CLASS_WEIGHT)),
    (((3, 5),), dict(target=LABELS_IGNORED, weight=CLASS_WEIGHT, label_smoothing=0.3)),
    (((3, 5),), dict(target=LABELS, ignore_index=0, label_smoothing=0.1, reduction="none")),
    (((5,),), dict(target=np.array(3))),
    (((2, 4, 3, 2),), dict(target=K_LABELS, ignore_index=7)),
    (((2, 4, 3, 2),), dict(target=K_LABELS, ignore_index=7, weight=K_WEIGHT,
                           label_smoothing=0.25)),
    (((2, 4, 3, 2),), dict(target=K_LABELS, ignore_index=7, reduction="none")),
    (((3, 5), (3, 5)), {}),                              # class-probability targets
    (((3, 5), (3, 5)), dict(weight=CLASS_WEIGHT, label_smoothing=0.2)),
    (((2, 4, 3), (2, 4, 3)), dict(reduction="none")),
    (((2, 4, 3), (2, 4, 3)), dict(reduction="sum", weight=K_WEIGHT)),
)
CROSS_ENTROPY_ERRORS = errors(
    (((2, 3),), dict(target=np.array([0, 3])), IndexError,
     "cross_entropy: target 3 is out of bounds"),
    (((2, 3),), dict(target=np.array([0, 1, 2])), ValueError,
     r"cross_entropy: expected input batch_size \(2\) to match target batch_size \(3\)"),
    (((2, 3),), dict(target=np.array([0, 1]), reduction="avg"), ValueError,
     "cross_entropy: reduction must be one of"),
    (((2, 3),), dict(target=np.array([0, 1]), label_smoothing=2.0), RuntimeError,
     "cross_entropy: label_smoothing must be between 0.0 and 1.0"),
    (((2, 3),), dict(target=np.array([0, 1]), weight=np.ones(4)), RuntimeError,
     r"cross_entropy: weight must have shape \(3,\)"),
    (((2, 3, 4),), dict(target=np.array([0, 1])), ValueError,
     r"cross_entropy: target shape \(2,\) does not match input shape \(2, 3, 4\)"),
    (((2, 3), (2, 4)), {}, RuntimeError,
     r"cross_entropy: probability target shape \(2, 4\) must equal"),
)
NLL_SAMPLES = samples(
    (((3, 5),), dict(target=LABELS)),
    (((3, 5),), dict(target=LABELS_IGNORED, weight=CLASS_WEIGHT)),
    (((3, 5),), dict(target=LABELS_IGNORED, weight=CLASS_WEIGHT, reduction="none")),
    (((2, 4, 3, 2),), dict(target=K_LABELS, ignore_index=7, weight=K_WEIGHT)),
    (((5,),), dict(target=np.array(2), reduction="sum")),
)


def _dropout2d_reference(x, p=0.5):
    keep = np.random.default_rng(DROPOUT_SEED).random(x.shape[:2] + (1,) * (x.ndim - 2)) >= p
    return x * keep / (1.0 - p)


def _seeded_dropout2d(x, p=0.5):
    tg.manual_seed(DROPOUT_SEED)
    return F.dropout2d(x, p)


def _loss(name, reference, samples_, errors_, function=None, **options):
    """An OpInfo for the loss ``F.<function>`` (``function`` defaults to ``name``)."""
    function = function or name
    return OpInfo(name, getattr(F, function), reference,
                  torch_op=TF and _torch_call(getattr(TF, function)),
                  sample_inputs=samples_, error_inputs=errors_, **options)


def _pointwise_reference(function, mean_by_weight=False):
    def run(x, y, reduction="mean", weight=None, **options):
        loss = function(x, y, **options)
        if weight is not None and reduction == "mean" and mean_by_weight:
            return np.sum(loss * weight) / np.sum(weight)
        return loops.reduce_ref(loss if weight is None else loss * weight, reduction)
    return run


PAIR_WEIGHT = np.array([[0.5, 1.0, 2.0, 0.0], [1.0, 1.0, 3.0, 0.5], [0.2, 0.0, 1.0, 1.0]])


PAIR = ((3, 4), (3, 4))
LAYER_OPS = [
    _activation("relu6", kinks=(0.0, 6.0), low=-2.0, high=8.0),
    _activation("elu", kinks=(0.0,), samples_=samples(((3, 4),), (((2, 5),), dict(alpha=0.5)))),
    _activation("silu"),
    _activation("mish"),
    _activation("hardswish", kinks=(-3.0, 3.0)),
    _activation("hardsigmoid", kinks=(-3.0, 3.0)),
    _activation("hardtanh", kinks=(-1.0, 1.0, -0.5, 2.0), samples_=samples(
        ((3, 4),), (((2, 5),), dict(min_val=-0.5, max_val=2.0))), errors_=errors(
            (((3,),), dict(min_val=2.0, max_val=1.0), ValueError,
             "hardtanh: min_val must be <= max_val"))),
    _activation("gelu", samples_=samples(((3, 4),), (((2, 5),), dict(approximate="tanh"))),
                errors_=errors((((3,),), dict(approximate="fast"), RuntimeError,
                                "gelu: approximate must be 'none' or 'tanh'"))),
    _activation("softplus", kinks=(1.5, -6.0), samples_=samples(
        ((3, 4),), (((2, 5),), dict(beta=2.0, threshold=3.0)),
        (((2, 5),), dict(beta=0.5, threshold=-3.0))),
        errors_=errors((((3,),), dict(beta="a"), TypeError, "softplus: beta must be a number"))),
    _loss("cross_entropy", loops.cross_entropy_ref, CROSS_ENTROPY_SAMPLES, CROSS_ENTROPY_ERRORS),
    OpInfo("cross_entropy_extreme_logits", _scaled(F.cross_entropy, EXTREME),
           _scaled(loops.cross_entropy_ref, EXTREME),
           torch_op=TF and _scaled(_torch_call(TF.cross_entropy), EXTREME),
           sample_inputs=samples((((3, 5),), dict(target=LABELS, label_smoothing=0.1)),
                                 (((2, 4, 3, 2),), dict(target=K_LABELS, ignore_index=7))),
           error_name="cross_entropy", error_inputs=errors(
               (((2, 3),), dict(target=np.array([0.5, 1.0])), RuntimeError,
                "cross_entropy: probability target shape"))),
    _loss("nll_loss", loops.nll_loss_ref, NLL_SAMPLES, errors(
        (((2, 3),), dict(target=np.array([0, -2])), IndexError,
         "nll_loss: target -2 is out of bounds"),
        (((2, 3),), dict(target=np.array([0.0, 1.0])), RuntimeError,
         "nll_loss: target must hold integer class indices"))),
    _loss("l1_loss", _pointwise_reference(lambda x, y: np.abs(x - y), mean_by_weight=True),
          samples(PAIR, (PAIR, dict(reduction="none")), (PAIR, dict(reduction="sum")),
                  (PAIR, dict(weight=PAIR_WEIGHT))),
          errors((((2, 3), (3, 2)), {}, RuntimeError, "l1_loss: input shape .* cannot be"),
                 (PAIR, dict(weight=np.ones(4)), ValueError,
                  r"l1_loss: weight must have the input's shape \(3, 4\)"))),
    _loss("mse_loss_weighted", _pointwise_reference(lambda x, y: (x - y) ** 2, True),
          samples((PAIR, dict(weight=PAIR_WEIGHT)),
                  (PAIR, dict(weight=PAIR_WEIGHT, reduction="sum"))),
          errors((PAIR, dict(weight=np.ones((3, 1))), ValueError,
                  "mse_loss: weight must have the input's shape")), function="mse_loss",
          error_name="mse_loss"),
    _loss("smooth_l1_loss", _pointwise_reference(loops.smooth_l1_ref),
          samples(PAIR, (PAIR, dict(beta=0.5, reduction="sum")),
                  (PAIR, dict(beta=2.0, reduction="none"))),
          errors((PAIR, dict(beta=-1.0), RuntimeError, "smooth_l1_loss: beta must be >= 0"))),
    _loss("huber_loss", _pointwise_reference(loops.huber_ref),
          samples(PAIR, (PAIR, dict(delta=0.5, reduction="sum")),
                  (PAIR, dict(delta=2.0, reduction="none")),
                  (PAIR, dict(delta=0.7, weight=PAIR_WEIGHT))),
          errors((PAIR, dict(delta=0.0), RuntimeError, "huber_loss: delta must be > 0"))),
    _loss("binary_cross_entropy", _pointwise_reference(loops.bce_ref),
          samples(PAIR, (PAIR, dict(reduction="none")),
                  (PAIR, dict(weight=np.array([0.5, 1.0, 2.0, 0.0]), reduction="sum"))),
          errors((((2,), (3,)), {}, ValueError,
                  r"binary_cross_entropy: target size \(3,\) must be the same"),
                 (((2,), (2,)), {}, RuntimeError,
                  "binary_cross_entropy: all elements of input should be between 0 and 1",
                  lambda a, b: F.binary_cross_entropy(a * 2.0, b))),
          low=0.05, high=0.95),
    _loss("binary_cross_entropy_with_logits", _pointwise_reference(loops.bce_logits_ref),
          samples(PAIR, (PAIR, dict(reduction="none", pos_weight=np.array([1.0, 2.0, 0.5, 3.0]))),
                  (PAIR, dict(weight=np.array([[0.5], [1.0], [2.0]]), reduction="sum"))),
          errors((((2,), (3,)), {}, ValueError,
                  r"binary_cross_entropy_with_logits: target size \(3,\) must be the same"))),
    OpInfo("binary_cross_entropy_with_logits_extreme",
           _scaled(F.binary_cross_entropy_with_logits, EXTREME),
           _scaled(_pointwise_reference(loops.bce_logits_ref), EXTREME),
           torch_op=TF and _scaled(_torch_call(TF.binary_cross_entropy_with_logits), EXTREME),
           shapes=PAIR, error_name="binary_cross_entropy_with_logits", error_inputs=errors(
               (PAIR, dict(reduction="avg"), ValueError,
                "binary_cross_entropy_with_logits: reduction must be one of"))),
    _loss("kl_div", lambda x, t, reduction="mean", log_target=False: (
              loops.kl_div_ref(x, t, log_target).sum() / x.shape[0] if reduction == "batchmean"
              else loops.reduce_ref(loops.kl_div_ref(x, t, log_target), reduction)),
          samples((PAIR, dict(reduction="batchmean")), (PAIR, dict(reduction="sum")),
                  (PAIR, dict(reduction="none", log_target=True))),
          errors((PAIR, dict(reduction="avg"), ValueError, "kl_div: reduction must be one of")),
          low=0.1, high=2.0),
    OpInfo("layer_norm", _affine_operands(F.layer_norm), _affine_operands(loops.layer_norm_ref),
           torch_op=TF and _affine_operands(TF.layer_norm),
           sample_inputs=samples(
               (((2, 3, 4), (3, 4), (3, 4)), dict(normalized_shape=(3, 4))),
               (((5, 3),), dict(normalized_shape=(3,), eps=1e-3)),
               (((2, 2, 3), (3,)), dict(normalized_shape=(3,)))),
           error_inputs=errors(
               (((2, 3),), dict(normalized_shape=(4,)), RuntimeError,
                r"layer_norm: given normalized_shape=\[4\]")),
           grad_options=dict(fast=False)),
    OpInfo("group_norm", _affine_operands(F.group_norm), _affine_operands(loops.group_norm_ref),
           torch_op=TF and _affine_operands(TF.group_norm),
           sample_inputs=samples(
               (((2, 6, 3, 2), (6,), (6,)), dict(num_groups=3)),
               (((3, 4, 5),), dict(num_groups=2, eps=1e-3)),
               (((2, 4), (4,), (4,)), dict(num_groups=4))),
           error_inputs=errors(
               (((2, 6, 2),), dict(num_groups=4), RuntimeError,
                "group_norm: expected number of channels in input to be divisible")),
           grad_options=dict(fast=False)),
    OpInfo("normalize", F.normalize, loops.normalize_ref, torch_op=TF and TF.normalize,
           sample_inputs=samples(((3, 4),), (((3, 4),), dict(p=1.0, dim=0)),
                                 (((2, 3, 2),), dict(p=3.0, dim=-1)),
                                 (((2, 3),), dict(p=float("inf"))),
                                 (((2, 3),), dict(eps=10.0)),
                                 (((2, 3, 4),), dict(p=-1.5, dim=0)),
                                 (((2, 3, 4),), dict(dim=(0, 2))),
                                 (((2, 3, 4),), dict(p=1.0, dim=(-1, 1)))),
           away_from=(0.0,),
           error_inputs=errors((((2, 3),), dict(dim=3), ValueError,
                                "normalize: axis 3 is out of range"))),
    OpInfo("dropout2d", _seeded_dropout2d, _dropout2d_reference,
           sample_inputs=samples((((3, 4, 2, 2),), dict(p=0.5)), (((2, 3, 2, 3),), dict(p=0.2))),
           error_inputs=errors((((3, 2, 2, 2),), dict(p=-0.5), ValueError,
                                "dropout2d: p must be a probability"))),
]


# ------------------------------------------------------------------ nn ops: pixel shuffle,
# PReLU and the other activations, embedding, instance norm, distances (one block)
def _embedding(weight, indices, **options):
    return F.embedding(tg.tensor(indices), weight, **options)


def _torch_embedding(weight, indices, **options):
    return TF.embedding(torch.from_numpy(indices), weight, **options)


EMBEDDING_INDICES = np.array([[1, 2, 1], [4, 1, 0]])  # repeats: their gradients accumulate
INF = float("inf")
LAYER_OPS += [
    OpInfo("pixel_shuffle", F.pixel_shuffle,
           lambda x, upscale_factor: loops.pixel_shuffle_ref(x, upscale_factor),
           torch_op=TF and TF.pixel_shuffle,
           sample_inputs=samples((((2, 8, 3, 2),), dict(upscale_factor=2)),
                                 (((2, 1, 9, 2, 3),), dict(upscale_factor=3)),
                                 (((4, 2, 2),), dict(upscale_factor=2)),
                                 (((3, 2, 4),), dict(upscale_factor=1))),
           error_inputs=errors(
               (((2, 8, 3, 3),), dict(upscale_factor=3), RuntimeError,
                r"pixel_shuffle: the input's channel dimension \(dim -3, size 8\) must be "
                r"divisible by upscale_factor\*\*2 = 9, got input shape \(2, 8, 3, 3\)"),
               (((2, 4, 3, 3),), dict(upscale_factor=0), RuntimeError,
                "pixel_shuffle: upscale_factor must be positive, got 0"),
               (((2, 4, 3, 3),), dict(upscale_factor=2.0), TypeError,
                "pixel_shuffle: upscale_factor must be an int"),
               (((8, 3),), dict(upscale_factor=2), RuntimeError,
                r"pixel_shuffle: input must have at least 3 dimensions .* got shape \(8, 3\)"))),
    OpInfo("pixel_unshuffle", F.pixel_unshuffle,
           lambda x, downscale_factor: loops.pixel_unshuffle_ref(x, downscale_factor),
           torch_op=TF and TF.pixel_unshuffle,
           sample_inputs=samples((((2, 2, 4, 6),), dict(downscale_factor=2)),
                                 (((2, 1, 1, 6, 3),), dict(downscale_factor=3)),
                                 (((3, 4, 2),), dict(downscale_factor=2))),
           error_inputs=errors(
               (((2, 3, 3, 4),), dict(downscale_factor=2), RuntimeError,
                r"pixel_unshuffle: the input's height \(dim -2, size 3\) must be divisible by "
                r"downscale_factor = 2, got input shape \(2, 3, 3, 4\)"),
               (((2, 3, 4, 6),), dict(downscale_factor=4), RuntimeError,
                r"pixel_unshuffle: the input's width \(dim -1, size 6\)"),
               (((2, 3, 4, 6),), dict(downscale_factor=-1), RuntimeError,
                "pixel_unshuffle: downscale_factor must be positive"))),
    OpInfo("prelu", F.prelu, loops.prelu_ref, torch_op=TF and TF.prelu, away_from=(0.0,),
           sample_inputs=samples(((2, 3, 4), (3,)), ((2, 3, 4), (1,)), ((2, 4, 3, 2), (4,)),
                                 ((5,), (1,)), ((3, 2), ()), ((), (1,))),
           error_inputs=errors(
               (((2, 8, 3), (3,)), {}, RuntimeError,
                r"prelu: weight has 3 slopes but the input has 8 channels \(input shape "
                r"\(2, 8, 3\), weight shape \(3,\)\)"),
               (((2, 3), (1, 3)), {}, RuntimeError,
                r"prelu: weight must be a scalar or 1-D, got shape \(1, 3\)"),
               (((), (2,)), {}, RuntimeError, "prelu: a 0-d input takes one slope"),
               (((2, 3), (3,)), {}, RuntimeError, "prelu: weight must have the input's dtype",
                lambda x, w: F.prelu(x, w.float())))),
    _activation("selu", kinks=(0.0,)),
    _activation("celu", kinks=(0.0,), samples_=samples(((3, 4),), (((2, 5),), dict(alpha=0.5)),
                                                       (((2, 5),), dict(alpha=-2.0)))),
    _activation("logsigmoid"),
    _activation("softsign", kinks=(0.0,)),
    _activation("tanhshrink"),
    OpInfo("celu_alpha", F.celu, loops.ACTIVATIONS["celu"], shapes=((3,),), error_name="celu",
           error_inputs=errors((((3,),), dict(alpha=0.0), RuntimeError,
                                "celu: alpha must be non-zero"))),
    OpInfo("threshold", F.threshold, loops.threshold_ref, torch_op=TF and TF.threshold,
           away_from=(0.5, -1.0),
           sample_inputs=samples((((3, 4),), dict(threshold=0.5, value=-2.0)),
                                 (((2, 3, 2),), dict(threshold=-1.0, value=20.0))),
           error_inputs=errors((((3,),), dict(threshold="a", value=1.0), TypeError,
                                "threshold: threshold must be a number"))),
    OpInfo("glu", F.glu, loops.glu_ref, torch_op=TF and TF.glu,
           sample_inputs=samples(((3, 4),), (((4, 3, 2),), dict(dim=0)),
                                 (((2, 6, 1),), dict(dim=1))),
           error_inputs=errors(
               (((2, 3),), {}, RuntimeError,
                r"glu: halving dimension must be even, but dimension 1 is size 3 \(input "
                r"shape \(2, 3\)\)"),
               (((2, 4),), dict(dim=2), IndexError, "glu: axis 2 is out of range"),
               (((),), {}, RuntimeError, "glu: does not support scalars"))),
    OpInfo("embedding", _embedding, lambda w, indices: loops.embedding_ref(w, indices),
           torch_op=TF and _torch_embedding,
           sample_inputs=samples((((5, 3),), dict(indices=EMBEDDING_INDICES)),
                                 (((4, 2),), dict(indices=np.array(3))),
                                 (((6, 4),), dict(indices=np.array([[[5, 0]], [[5, 5]]])))),
           error_inputs=errors(
               (((5, 3),), dict(indices=np.array([1, 5])), IndexError,
                r"embedding: index 5 is out of range for weight of shape \(5, 3\) \(input "
                r"shape \(2,\)\)"),
               (((5, 3),), dict(indices=np.array([0, -1])), IndexError,
                "embedding: index -1 is out of range"),
               (((5, 3),), dict(indices=np.array([1.0])), RuntimeError,
                "embedding: input must hold integer indices"),
               (((5,),), dict(indices=np.array([1])), RuntimeError,
                r"embedding: weight must be 2-D \(num_embeddings, embedding_dim\), got "
                r"shape \(5,\)"),
               (((5, 3),), dict(indices=np.array([1]), padding_idx=5), AssertionError,
                r"embedding: padding_idx must be within num_embeddings \(5\), got 5"))),
    OpInfo("instance_norm", _affine_operands(F.instance_norm),
           _affine_operands(loops.instance_norm_ref),
           torch_op=TF and _affine_operands(TF.instance_norm),
           sample_inputs=samples(((2, 3, 4, 5), (3,), (3,)), (((3, 2, 6),), dict(eps=1e-3)),
                                 ((2, 2, 3, 3), (2,))),
           error_inputs=errors(
               (((2, 3),), {}, ValueError,
                r"instance_norm: expected more than 1 spatial element when training, got "
                r"input shape \(2, 3\)"),
               (((2, 3, 4), (4,)), {}, RuntimeError,
                r"instance_norm: weight must have shape \(3,\), got \(4,\)"),
               (((2, 3, 4),), dict(use_input_stats=False), RuntimeError,
                "instance_norm: running_mean and running_var are needed")),
           grad_options=dict(fast=False)),
    OpInfo("cosine_similarity", F.cosine_similarity, loops.cosine_similarity_ref,
           torch_op=TF and TF.cosine_similarity,
           sample_inputs=samples(((3, 4), (3, 4)), (((2, 3, 4), (3, 1)), dict(dim=0)),
                                 (((4,), (4,)), dict(dim=0)),
                                 (((3, 5), (3, 5)), dict(dim=-1, eps=1e-3))),
           error_inputs=errors(
               (((2, 3), (2, 4)), {}, RuntimeError,
                r"cosine_similarity: shapes \(2, 3\) and \(2, 4\) cannot be broadcast"),
               (((2, 3), (2, 3)), dict(dim=2), IndexError,
                "cosine_similarity: axis 2 is out of range"),
               (((2, 3), (2, 3)), {}, RuntimeError,
                "cosine_similarity: expected the common dtype of x1 and x2 to be floating "
                "point, got int64 and int64",
                lambda a, b: F.cosine_similarity(a.long(), b.long())))),
    OpInfo("pairwise_distance", F.pairwise_distance, loops.pairwise_distance_ref,
           torch_op=TF and TF.pairwise_distance,
           sample_inputs=samples(((3, 4), (3, 4)), (((3, 4), (4,)), dict(p=1.0, keepdim=True)),
                                 (((2, 3, 4), (2, 3, 4)), dict(p=3.0)),
                                 (((3, 4), (3, 4)), dict(p=INF)),
                                 (((3, 4), (3, 4)), dict(p=-INF, keepdim=True)),
                                 (((5,), (5,)), dict(p=0.5, eps=0.0)),
                                 (((3, 4), (3, 4)), dict(p=-1.5)), ((), ())),
           error_inputs=errors(
               (((2, 3), (2, 4)), {}, RuntimeError,
                r"pairwise_distance: shapes \(2, 3\) and \(2, 4\) cannot be broadcast"),
               (((2, 3), (2, 3)), dict(p=float("nan")), ValueError,
                "pairwise_distance: p must be a number, got nan"),
               (((2, 3), (2, 3)), dict(p="2"), TypeError,
                "pairwise_distance: p must be a number"))),
]


# ------------------------------------------------------------------ nn layers: 1-d pooling,
# conv_transpose1d, softmin, dropout1d (one block; the 1-d ops against the 2-d loop
# references on an (N, C, 1, L) view)
def _unbatched1d(reference):
    def run(x, *args, **kwargs):
        return reference(x[None], *args, **kwargs)[0] if x.ndim == 2 else \
            reference(x, *args, **kwargs)
    return run


def _single(value):
    return value[0] if isinstance(value, (tuple, list)) else value


@_unbatched1d
def _max_pool1d_reference(x, kernel_size, stride=None, padding=0, dilation=1,
                          ceil_mode=False):
    kernel = _single(kernel_size)
    return loops.max_pool2d_ref(x[:, :, None], (1, kernel), (1, _single(stride or kernel)),
                                (0, _single(padding)), (1, _single(dilation)),
                                ceil_mode)[:, :, 0]


@_unbatched1d
def _avg_pool1d_reference(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                          count_include_pad=True):
    kernel = _single(kernel_size)
    return loops.avg_pool2d_ref(x[:, :, None], (1, kernel), (1, _single(stride or kernel)),
                                (0, _single(padding)), ceil_mode, count_include_pad)[:, :, 0]


@_unbatched1d
def _conv_transpose1d_reference(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                                groups=1, dilation=1):
    return loops.conv_transpose2d(x[:, :, None], weight[:, :, None], bias, (1, _single(stride)),
                                  (0, _single(padding)), (0, _single(output_padding)),
                                  (1, _single(dilation)), groups)[:, :, 0]


def _seeded_dropout1d(x, p=0.5):
    tg.manual_seed(DROPOUT_SEED)
    return F.dropout1d(x, p)


def _dropout1d_reference(x, p=0.5):
    keep = np.random.default_rng(DROPOUT_SEED).random(x.shape[:-1] + (1,)) >= p
    return x * keep / (1.0 - p)


LAYER_OPS += [
    OpInfo("max_pool1d", F.max_pool1d, _max_pool1d_reference, torch_op=TF and TF.max_pool1d,
           sample_inputs=samples(
               (((2, 3, 9),), dict(kernel_size=3, stride=2, padding=1)),
               (((2, 2, 10),), dict(kernel_size=3, stride=2, padding=1, dilation=2,
                                    ceil_mode=True)),
               (((1, 2, 7),), dict(kernel_size=(2,), stride=(3,), ceil_mode=True)),
               (((3, 8),), dict(kernel_size=2))),
           error_inputs=errors(
               (((2, 3, 9),), dict(kernel_size=0), RuntimeError,
                "max_pool1d: kernel_size must be at least 1"),
               (((2, 3, 9),), dict(kernel_size=2, padding=2), RuntimeError,
                r"max_pool1d: padding \(2,\) must be at most half of kernel_size \(2,\)"),
               (((2, 3, 9),), dict(kernel_size=(2, 2)), RuntimeError,
                "max_pool1d: kernel_size must be an int or a 1-tuple of ints"),
               (((2, 3, 4),), dict(kernel_size=5), RuntimeError,
                r"max_pool1d: output size \(0,\) is too small"),
               (((9,),), dict(kernel_size=2), RuntimeError,
                r"max_pool1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape "
                r"\(9,\)"))),
    OpInfo("max_pool1d_with_indices",
           lambda x, **kw: F.max_pool1d_with_indices(x, **kw)[0], _max_pool1d_reference,
           torch_op=TF and (lambda x, **kw: TF.max_pool1d_with_indices(x, **kw)[0]),
           sample_inputs=samples((((2, 3, 9),), dict(kernel_size=3, stride=2, padding=1)),
                                 (((3, 8),), dict(kernel_size=2, ceil_mode=True))),
           error_name="max_pool1d", error_inputs=errors(
               (((1, 1, 4),), dict(kernel_size=2, return_indices=1), TypeError,
                "max_pool1d: return_indices must be a bool", F.max_pool1d))),
    OpInfo("avg_pool1d", F.avg_pool1d, _avg_pool1d_reference, torch_op=TF and TF.avg_pool1d,
           sample_inputs=samples(
               (((2, 3, 9),), dict(kernel_size=3, stride=2, padding=1)),
               (((2, 2, 7),), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                   count_include_pad=False)),
               (((2, 2, 8),), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
               (((3, 8),), dict(kernel_size=(2,)))),
           error_inputs=errors(
               (((2, 3, 9),), dict(kernel_size=0), RuntimeError,
                "avg_pool1d: kernel_size must be at least 1"),
               (((2, 3, 9),), dict(kernel_size=2, count_include_pad=1), TypeError,
                "avg_pool1d: count_include_pad must be a bool"),
               (((2, 3, 9),), dict(kernel_size=2, padding=2), RuntimeError,
                r"avg_pool1d: padding \(2,\) must be at most half"),
               (((2, 3, 9),), dict(kernel_size=2), TypeError,
                "avg_pool1d: input must be a floating point tensor",
                lambda x, **kw: F.avg_pool1d(x.long(), **kw)),
               (((1, 2, 3, 9),), dict(kernel_size=2), RuntimeError,
                r"avg_pool1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape "
                r"\(1, 2, 3, 9\)"))),
    OpInfo("conv_transpose1d", F.conv_transpose1d, _conv_transpose1d_reference,
           torch_op=TF and TF.conv_transpose1d,
           sample_inputs=samples(
               (((2, 3, 5), (3, 2, 3), (2,)), dict(stride=2, padding=1, output_padding=1)),
               (((2, 4, 6), (4, 3, 2)), dict(groups=2, dilation=2, padding=1)),
               (((2, 6, 5), (6, 1, 3), (3,)), dict(stride=3, groups=3)),
               (((3, 7), (3, 2, 4)), dict(stride=(2,), padding=(2,), dilation=(1,)))),
           error_inputs=errors(
               (((1, 3, 5), (2, 2, 3)), {}, RuntimeError,
                r"conv_transpose1d: input has 3 channels but weight expects 2 \(weight shape "
                r"\(2, 2, 3\)\)"),
               (((1, 2, 5), (2, 2, 3)), dict(stride=(1, 1)), RuntimeError,
                "conv_transpose1d: stride must be an int or a 1-tuple of ints"),
               (((1, 2, 5), (2, 2, 3)), dict(output_padding=2, stride=2), RuntimeError,
                r"conv_transpose1d: output_padding \(2,\) must be smaller than stride "
                r"\(2,\) or dilation \(1,\)"),
               (((1, 2, 5), (2, 2, 3, 3)), {}, RuntimeError,
                "conv_transpose1d: weight must be 3-D"),
               (((1, 2, 5), (2, 2, 3)), dict(padding="same"), TypeError,
                "conv_transpose1d: padding must be an int or a 1-tuple"))),
    OpInfo("softmin", F.softmin, lambda x, dim: _softmax_reference(-x, dim),
           torch_op=TF and TF.softmin,
           sample_inputs=samples((((3, 4),), dict(dim=1)), (((2, 3, 4),), dict(dim=0)),
                                 (((2, 3, 4),), dict(dim=-1)), (((5,),), dict(dim=0))),
           error_inputs=errors(
               (((2, 3),), dict(dim=2), IndexError, "softmin: axis 2 is out of range"),
               (((2, 3),), dict(dim=1), RuntimeError,
                "softmin: input must be a floating point tensor",
                lambda x, dim: F.softmin(x.long(), dim)))),
    OpInfo("dropout1d", _seeded_dropout1d, _dropout1d_reference,
           sample_inputs=samples((((3, 4, 5),), dict(p=0.5)), (((4, 3),), dict(p=0.2))),
           error_inputs=errors(
               (((3, 2, 2),), dict(p=-0.5), ValueError, "dropout1d: p must be a probability"),
               (((3, 2, 2, 2),), dict(p=0.5), RuntimeError,
                r"dropout1d: expected 2D or 3D input .* got a 4D input of shape "
                r"\(3, 2, 2, 2\)"))),
]


# ------------------------------------------------------------------ more nn ops (one block):
# the margin, embedding and likelihood losses; softshrink, hardshrink, rrelu, the alpha
# dropouts, channel_shuffle, local_response_norm; bilinear, pdist, gumbel_softmax
def _with_constants(function):
    """``function`` with the samples' array keywords (``target``, ``weight``) made constant
    Tensors, floating ones of the first operand's dtype (labels such as 1/-1 cannot come
    from the random operands)."""
    def run(*tensors, **kwargs):
        def constant(value):
            if not isinstance(value, np.ndarray):
                return value
            return tg.tensor(value.astype(tensors[0].dtype) if value.dtype.kind == "f"
                             else value)
        return function(*tensors, **{key: constant(value) for key, value in kwargs.items()})
    return run


def _reduced(reference):
    """A loop reference of the unreduced loss, reduced as the samples ask."""
    return lambda *arrays, reduction="mean", **options: loops.reduce_ref(
        reference(*arrays, **options), reduction)


def _margin_loss(name, reference, samples_, errors_, **options):
    return OpInfo(name, _with_constants(getattr(F, name)), _reduced(reference),
                  torch_op=TF and _torch_call(getattr(TF, name)), sample_inputs=samples_,
                  error_inputs=errors_, **options)


SIGNS = np.array([1.0, -1.0, -1.0])
SIGN_GRID = np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]])
HINGE_LABELS = np.array([[1.0, -1.0, 0.5, -1.0], [-1.0, 1.0, 1.0, 2.0], [1.0, -1.0, -1.0, 1.0]])
MULTI_LABELS = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.3, 1.0, 0.0, 0.7]])
MARGIN_TARGET = np.array([2, 0, 3])
MARGIN_WEIGHT = np.array([0.5, 1.0, 2.0, 3.0])
TRIPLE = ((3, 4), (3, 4), (3, 4))
LAYER_OPS += [
    _margin_loss("margin_ranking_loss", loops.margin_ranking_ref,
                 samples((((3,), (3,)), dict(target=SIGNS)),
                         (((3,), (3,)), dict(target=SIGNS, margin=0.5, reduction="sum")),
                         (((3, 4), (3, 4)), dict(target=SIGN_GRID, margin=-0.2,
                                                 reduction="none")),
                         (((3, 1), (1, 4)), dict(target=SIGN_GRID, margin=0.3))),
                 errors((((3,), (3,)), dict(target=np.ones((3, 1))), RuntimeError,
                         r"margin_ranking_loss: input1, input2, target must have the same "
                         r"number of dimensions, got input1 \(3,\), input2 \(3,\), target "
                         r"\(3, 1\)"),
                        (((3,), (2,)), dict(target=SIGNS), RuntimeError,
                         r"margin_ranking_loss: shapes \(3,\) and \(2,\) and \(3,\) cannot"),
                        (((3,), (3,)), dict(target=SIGNS, reduction="avg"), ValueError,
                         "margin_ranking_loss: reduction must be one of"))),
    _margin_loss("hinge_embedding_loss", loops.hinge_embedding_ref,
                 samples((((3, 4),), dict(target=HINGE_LABELS)),
                         (((3, 4),), dict(target=SIGN_GRID, margin=0.5, reduction="sum")),
                         (((3, 4),), dict(target=SIGN_GRID[0], margin=2.0, reduction="none"))),
                 errors((((3, 4),), dict(target=np.ones((2, 4))), RuntimeError,
                         r"hinge_embedding_loss: shapes \(3, 4\) and \(2, 4\) cannot"),
                        (((3, 4),), dict(target=SIGN_GRID, margin="1"), TypeError,
                         "hinge_embedding_loss: margin must be a number")),
                 away_from=(-1.0, 0.0, 1.0, 2.0)),
    _margin_loss("soft_margin_loss", loops.soft_margin_ref,
                 samples((((3, 4),), dict(target=SIGN_GRID)),
                         (((3, 4),), dict(target=SIGN_GRID, reduction="none")),
                         (((3, 4),), dict(target=SIGN_GRID[1], reduction="sum"))),
                 errors((((3, 4),), dict(target=np.ones((2, 4))), RuntimeError,
                         r"soft_margin_loss: shapes \(3, 4\) and \(2, 4\) cannot"),
                        (((3,),), dict(target=SIGNS), TypeError,
                         "soft_margin_loss: input must be a floating point tensor",
                         lambda x, target: F.soft_margin_loss(x.long(), tg.tensor(target))))),
    _margin_loss("multilabel_soft_margin_loss", loops.multilabel_soft_margin_ref,
                 samples((((3, 4),), dict(target=MULTI_LABELS)),
                         (((3, 4),), dict(target=MULTI_LABELS, weight=MARGIN_WEIGHT,
                                          reduction="none")),
                         (((3, 4),), dict(target=MULTI_LABELS, reduction="sum")),
                         (((4,),), dict(target=MULTI_LABELS[2])),
                         (((2, 3, 4),), dict(target=MULTI_LABELS, reduction="none"))),
                 errors((((),), dict(target=np.array(1.0)), IndexError,
                         "multilabel_soft_margin_loss: input must have a class dimension"),
                        (((2, 4),), dict(target=MULTI_LABELS), RuntimeError,
                         r"multilabel_soft_margin_loss: shapes \(2, 4\) and \(3, 4\) cannot"),
                        (((3, 4),), dict(target=MULTI_LABELS, weight=np.ones(3)), RuntimeError,
                         r"multilabel_soft_margin_loss: shapes \(3,\) and \(3, 4\) cannot"))),
    _margin_loss("cosine_embedding_loss", loops.cosine_embedding_ref,
                 samples((((3, 4), (3, 4)), dict(target=SIGNS)),
                         (((3, 4), (3, 4)), dict(target=SIGNS, margin=-0.5, reduction="none")),
                         (((3, 4), (1, 4)), dict(target=np.array([-1.0, -1.0, 1.0]),
                                                 margin=-0.9, reduction="sum")),
                         (((4,), (4,)), dict(target=np.array(-1.0), margin=-0.9)),
                         (((4,), (4,)), dict(target=np.array(1.0), reduction="none"))),
                 errors((((3, 4), (3, 4)), dict(target=np.ones((3, 1))), RuntimeError,
                         r"cosine_embedding_loss: target must be 0-D or 1-D .* got shape "
                         r"\(3, 1\)"),
                        (((4,), (4,)), dict(target=SIGNS), RuntimeError,
                         r"cosine_embedding_loss: a 1-D target takes 2-D inputs, got input1 "
                         r"\(4,\) and input2 \(4,\)"),
                        (((3, 4), (3, 5)), dict(target=SIGNS), RuntimeError,
                         r"cosine_embedding_loss: shapes \(3, 4\) and \(3, 5\)"))),
    _margin_loss("multi_margin_loss", loops.multi_margin_ref,
                 samples((((3, 4),), dict(target=MARGIN_TARGET)),
                         (((3, 4),), dict(target=MARGIN_TARGET, p=2, margin=0.5,
                                          reduction="none")),
                         (((3, 4),), dict(target=MARGIN_TARGET, weight=MARGIN_WEIGHT,
                                          reduction="sum")),
                         (((3, 4),), dict(target=MARGIN_TARGET, p=2, weight=MARGIN_WEIGHT)),
                         (((4,),), dict(target=np.array(1), reduction="none")),
                         (((4,),), dict(target=np.array([3]), margin=2.0))),
                 errors((((3, 4),), dict(target=MARGIN_TARGET, p=3), ValueError,
                         "multi_margin_loss: p must be 1 or 2, got 3"),
                        (((3, 4),), dict(target=np.array([0, 4, 1])), RuntimeError,
                         "multi_margin_loss: target 4 is out of range for 4 classes"),
                        (((3, 4),), dict(target=np.array([0, 1])), RuntimeError,
                         r"multi_margin_loss: target must be 1-D with one class index per "
                         r"sample, expected size \(3,\), got \(2,\) \(input shape \(3, 4\)\)"),
                        (((2, 3, 4),), dict(target=np.array([0, 1])), RuntimeError,
                         r"multi_margin_loss: input must be a non-empty \(C,\) or \(N, C\) "
                         r"tensor"),
                        (((3, 4),), dict(target=MARGIN_TARGET, weight=np.ones(3)), RuntimeError,
                         r"multi_margin_loss: weight must have shape \(4,\)"),
                        (((3, 4),), dict(target=MARGIN_TARGET, weight=np.ones((1, 4))),
                         ValueError, "multi_margin_loss: weight must be one-dimensional"),
                        (((3, 4),), dict(target=np.array([0.0, 1.0, 2.0])), RuntimeError,
                         "multi_margin_loss: target must hold integer class indices"))),
    OpInfo("triplet_margin_loss", F.triplet_margin_loss, _reduced(loops.triplet_margin_ref),
           torch_op=TF and TF.triplet_margin_loss,
           sample_inputs=samples(
               TRIPLE, (TRIPLE, dict(margin=2.0, reduction="none")),
               (TRIPLE, dict(p=1.0, swap=True, reduction="sum")),
               (TRIPLE, dict(p=3.0, eps=1e-3, margin=0.5, swap=True)),
               (((4,), (4,), (4,)), dict(margin=3.0)),
               (((3, 4), (1, 4), (3, 4)), dict(margin=1.5, reduction="none"))),
           error_inputs=errors(
               (((3, 4), (4,), (3, 4)), {}, RuntimeError,
                r"triplet_margin_loss: anchor, positive, negative must have the same number "
                r"of dimensions, got anchor \(3, 4\), positive \(4,\), negative \(3, 4\)"),
               (TRIPLE, dict(margin=-1.0), ValueError,
                "triplet_margin_loss: margin must be greater than 0, got -1.0"),
               (TRIPLE, dict(swap=1), TypeError, "triplet_margin_loss: swap must be a bool"),
               (((3, 4), (3, 4), (2, 4)), {}, RuntimeError,
                r"triplet_margin_loss: shapes \(3, 4\) and \(3, 4\) and \(2, 4\) cannot"))),
    OpInfo("poisson_nll_loss", F.poisson_nll_loss, _reduced(loops.poisson_nll_ref),
           torch_op=TF and TF.poisson_nll_loss, low=0.2, high=3.0, away_from=(1.0,),
           sample_inputs=samples(
               PAIR, (PAIR, dict(reduction="none", full=True)),
               (PAIR, dict(log_input=False, reduction="sum")),
               (PAIR, dict(log_input=False, full=True, eps=1e-3)),
               (((3, 4), (4,)), dict(full=True, reduction="none"))),
           error_inputs=errors(
               (PAIR, dict(reduction="avg"), ValueError,
                "poisson_nll_loss: reduction must be one of"),
               (((3, 4), (2, 4)), {}, RuntimeError,
                r"poisson_nll_loss: shapes \(3, 4\) and \(2, 4\) cannot"),
               (PAIR, dict(full=None), TypeError, "poisson_nll_loss: full must be a bool"))),
    OpInfo("gaussian_nll_loss", F.gaussian_nll_loss, _reduced(loops.gaussian_nll_ref),
           torch_op=TF and TF.gaussian_nll_loss, low=0.2, high=3.0,
           sample_inputs=samples(
               TRIPLE, (TRIPLE, dict(full=True, reduction="none")),
               (((3, 4), (3, 4), (3,)), dict(reduction="sum")),
               (((3, 4), (3, 4), (3, 1)), dict(full=True)),
               (((2, 3, 4), (3, 4), (2, 1, 4)), dict(reduction="none")),
               (((3, 4), (4,), (1, 4)), dict(eps=0.5))),
           error_inputs=errors(
               (((3, 4), (3, 4), (2, 4)), {}, ValueError,
                r"gaussian_nll_loss: var is of incorrect size: .* got \(2, 4\)"),
               (TRIPLE, {}, ValueError, "gaussian_nll_loss: var has negative entry",
                lambda x, t, v: F.gaussian_nll_loss(x, t, -v)),
               (TRIPLE, dict(reduction="avg"), ValueError,
                "gaussian_nll_loss: reduction must be one of"),
               (((3, 4), (3, 4)), {}, TypeError,
                "gaussian_nll_loss: var must be a Tensor or a float, got int",
                lambda x, t: F.gaussian_nll_loss(x, t, 1)))),
]


# shrinkage, rrelu, alpha dropouts, channel shuffle, local response norm (the random ones
# reseeded before every call, so each is a fixed function of its input)
RANDOM_SEED = 11


def _seeded(function):
    def run(*tensors, **kwargs):
        tg.manual_seed(RANDOM_SEED)
        return function(*tensors, **kwargs)
    return run


def _rrelu_reference(x, lower=1.0 / 8, upper=1.0 / 3, training=False):
    slopes = np.random.default_rng(RANDOM_SEED).uniform(lower, upper, x.shape) if training \
        else np.full(x.shape, (lower + upper) / 2)
    return loops.rrelu_ref(x, slopes)


def _alpha_dropout_reference(feature):
    def run(x, p=0.5, training=False):
        if not training:
            return x
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
        keep = np.random.default_rng(RANDOM_SEED).random(shape) >= p
        return loops.alpha_dropout_ref(x, keep, p)
    return run


LAYER_OPS += [
    OpInfo("softshrink", F.softshrink, loops.softshrink_ref, torch_op=TF and TF.softshrink,
           away_from=(-0.5, 0.5, -1.2, 1.2),
           sample_inputs=samples(((3, 4),), (((2, 3, 2),), dict(lambd=1.2)),
                                 (((5,),), dict(lambd=0.0))),
           error_inputs=errors(
               (((3,),), dict(lambd=-1.0), RuntimeError,
                r"softshrink: lambd must be in \[0, .*\] for input dtype float64, got -1.0"),
               (((3,),), dict(lambd="a"), TypeError, "softshrink: lambd must be a number"),
               (((3,),), {}, TypeError, "softshrink: input must be a floating point tensor",
                lambda x: F.softshrink(x.long())))),
    OpInfo("hardshrink", F.hardshrink, loops.hardshrink_ref, torch_op=TF and TF.hardshrink,
           away_from=(-0.5, 0.5, -1.2, 1.2),
           sample_inputs=samples(((3, 4),), (((2, 3, 2),), dict(lambd=1.2)),
                                 (((5,),), dict(lambd=-1.0))),
           error_inputs=errors(
               (((3,),), dict(lambd=None), TypeError, "hardshrink: lambd must be a number"),
               (((3,),), dict(lambd=1e300), RuntimeError,
                r"hardshrink: lambd=1e\+300 cannot be converted",
                lambda x, lambd: F.hardshrink(x.float(), lambd)))),
    OpInfo("rrelu", _seeded(F.rrelu), _rrelu_reference, away_from=(0.0,),
           sample_inputs=samples((((3, 4),), dict(training=True)),
                                 (((2, 3, 2),), dict(lower=0.2, upper=0.6, training=True)),
                                 (((3, 4),), dict(lower=0.3, upper=0.3, training=True))),
           error_inputs=errors(
               (((3,),), dict(lower=0.5, upper=0.1), RuntimeError,
                "rrelu: lower must be <= upper, got lower=0.5, upper=0.1"),
               (((3,),), dict(training=1), TypeError, "rrelu: training must be a bool"))),
    OpInfo("rrelu_eval", F.rrelu, _rrelu_reference, torch_op=TF and TF.rrelu,
           away_from=(0.0,), error_name="rrelu",
           sample_inputs=samples(((3, 4),), (((2, 5),), dict(lower=0.1, upper=0.5))),
           error_inputs=errors((((3,),), dict(upper="x"), TypeError,
                                "rrelu: upper must be a number"))),
    OpInfo("alpha_dropout", _seeded(F.alpha_dropout), _alpha_dropout_reference(False),
           sample_inputs=samples((((3, 4),), dict(p=0.3, training=True)),
                                 (((2, 3, 2),), dict(p=0.7, training=True)),
                                 (((3, 4),), dict(p=0.3))),
           error_inputs=errors((((3,),), dict(p=1.5, training=True), ValueError,
                                "alpha_dropout: p must be a probability"))),
    OpInfo("feature_alpha_dropout", _seeded(F.feature_alpha_dropout),
           _alpha_dropout_reference(True),
           sample_inputs=samples((((4, 3, 2),), dict(p=0.4, training=True)),
                                 (((3, 5),), dict(p=0.5, training=True)),
                                 (((2, 3, 2, 2),), dict(p=0.2, training=True))),
           error_inputs=errors(
               (((3,),), dict(training=True), RuntimeError,
                r"feature_alpha_dropout: input must have at least 2 dimensions .* got shape "
                r"\(3,\)"),
               (((2, 3),), dict(p=-0.1), ValueError,
                "feature_alpha_dropout: p must be a probability"))),
    OpInfo("channel_shuffle", F.channel_shuffle, loops.channel_shuffle_ref,
           torch_op=TF and TF.channel_shuffle,
           sample_inputs=samples((((2, 6, 3, 2),), dict(groups=3)),
                                 (((2, 6, 3, 2),), dict(groups=2)),
                                 (((1, 4, 5),), dict(groups=4)),
                                 (((2, 4, 2, 1, 2),), dict(groups=2))),
           error_inputs=errors(
               (((2, 4, 3),), dict(groups=3), RuntimeError,
                r"channel_shuffle: the number of channels \(4\) must be divisible by groups "
                r"\(3\), got input shape \(2, 4, 3\)"),
               (((2, 4, 3),), dict(groups=0), RuntimeError,
                "channel_shuffle: groups must be positive, got 0"),
               (((2, 4),), dict(groups=2), RuntimeError,
                r"channel_shuffle: input must have more than 2 dimensions .* got shape "
                r"\(2, 4\)"),
               (((2, 4, 3),), dict(groups=2.0), TypeError,
                "channel_shuffle: groups must be an int"))),
    OpInfo("local_response_norm", F.local_response_norm, loops.local_response_norm_ref,
           torch_op=TF and TF.local_response_norm,
           sample_inputs=samples((((2, 5, 3, 2),), dict(size=3)),
                                 (((2, 5, 4),), dict(size=2, alpha=0.3, beta=0.6, k=2.0)),
                                 (((1, 3, 2, 2),), dict(size=7, alpha=1.0)),
                                 (((1, 4, 2, 1, 2),), dict(size=4, alpha=0.5, beta=1.5))),
           error_inputs=errors(
               (((2, 5),), dict(size=2), ValueError,
                r"local_response_norm: input must have 3 or more dimensions .* got shape "
                r"\(2, 5\)"),
               (((2, 5, 3),), dict(size=0), RuntimeError,
                r"local_response_norm: size must be between 1 and 2\*\*63 - 1, got 0"),
               (((2, 5, 3),), dict(size=2.0), TypeError,
                "local_response_norm: size must be an int"))),
]


# bilinear, pdist, gumbel_softmax
def _gumbel_reference(logits, tau=1, hard=False, dim=-1):
    gumbels = -np.log(np.random.default_rng(RANDOM_SEED).exponential(size=logits.shape))
    return loops.gumbel_softmax_ref(logits, gumbels, tau, hard, dim)


LAYER_OPS += [
    OpInfo("bilinear", F.bilinear, loops.bilinear_ref,
           torch_op=TF and TF.bilinear,
           sample_inputs=samples(((4, 3), (4, 2), (5, 3, 2), (5,)), ((4, 3), (4, 2), (5, 3, 2)),
                                 ((2, 3, 3), (2, 3, 4), (2, 3, 4), (2,)),
                                 ((3,), (2,), (4, 3, 2), (4,))),
           error_inputs=errors(
               (((2, 3), (2, 2, 4), (5, 3, 4)), {}, RuntimeError,
                r"bilinear: input dimensions do not match: got 2 and 3"),
               (((2, 3), (3, 4), (5, 3, 4)), {}, RuntimeError,
                r"bilinear: input batch dimensions do not match: got shapes \(2, 3\) and "
                r"\(3, 4\)"),
               (((2, 2), (2, 4), (5, 3, 4)), {}, RuntimeError,
                r"bilinear: input1 size does not match weight size: got 2 but expected 3"),
               (((2, 3), (2, 4), (5, 3, 4), (4,)), {}, RuntimeError,
                r"bilinear: bias size does not match weight size: got \(4,\) but expected "
                r"\(5,\)"),
               (((2, 3), (2, 4), (5, 3)), {}, RuntimeError,
                r"bilinear: weight must be 3-D \(out, in1, in2\), got shape \(5, 3\)"))),
    OpInfo("pdist", F.pdist, loops.pdist_ref, torch_op=TF and TF.pdist,
           sample_inputs=samples(((4, 3),), (((5, 2),), dict(p=1.0)),
                                 (((4, 3),), dict(p=3.0)), (((3, 4),), dict(p=0.5)),
                                 (((4, 3),), dict(p=float("inf"))), ((1, 3),)),
           error_inputs=errors(
               (((2, 3, 4),), {}, RuntimeError,
                r"pdist: input must be 2-D \(N, M\), got shape \(2, 3, 4\)"),
               (((3, 4),), dict(p=-1.0), RuntimeError, "pdist: p must be non-negative, got -1.0"),
               (((3, 4),), {}, TypeError, "pdist: input must be a floating point tensor",
                lambda x: F.pdist(x.long())))),
    OpInfo("gumbel_softmax", _seeded(F.gumbel_softmax), _gumbel_reference,
           # hard=True is straight-through (the soft sample's gradient, not the one-hot's):
           # tested in test_activations_more.py, not by gradcheck
           sample_inputs=samples(((3, 4),), (((2, 3, 2),), dict(tau=0.5, dim=1)),
                                 (((2, 5),), dict(tau=2.0, dim=0))),
           error_inputs=errors(
               (((3, 4),), dict(dim=2), IndexError, "gumbel_softmax: axis 2 is out of range"),
               (((3, 4),), dict(hard=1), TypeError, "gumbel_softmax: hard must be a bool"),
               (((3, 4),), dict(tau="1"), TypeError, "gumbel_softmax: tau must be a number"))),
]


# ------------------------------------------------------------------ spatial transformers
# (affine_grid, grid_sample) and einsum: one block.  grid_sample's grids keep AVOID_MARGIN
# clear of the grid values where a source coordinate is a whole or half pixel (the corners
# and the nearest pixel change there) and of +-1 (reflection turns, border clamps), for an
# input of H = 2, W = 4 pixels.
GRID_KINKS = (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0, 1.25, -1.25)
GRID_KINKS_ALIGNED = (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0)


def _grid_samples(align_corners):
    image, grid = (2, 3, 2, 4), (2, 3, 5, 2)
    return samples(*[((image, grid), dict(mode=mode, padding_mode=padding,
                                          align_corners=align_corners))
                     for mode in ("bilinear", "nearest", "bicubic")
                     for padding in ("zeros", "border", "reflection")],
                   (((1, 2, 4, 4), (1, 1, 3, 2)), dict(align_corners=align_corners)))


def _grid_errors(op):
    return errors(
        (((1, 1, 3, 3), (1, 2, 2, 3)), {}, RuntimeError,
         rf"{op}: grid must have size 2 in its last dimension, got grid shape \(1, 2, 2, 3\)"),
        (((2, 1, 3, 3), (1, 2, 2, 2)), {}, RuntimeError,
         rf"{op}: input and grid must have the same batch size, got input shape \(2, 1, 3, 3\)"),
        (((1, 3, 3), (1, 2, 2)), {}, RuntimeError, rf"{op}: input and grid must be 4-D"),
        (((1, 1, 3, 3), (1, 2, 2, 2)), dict(mode="area"), ValueError,
         rf"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got 'area'"),
        (((1, 1, 3, 3), (1, 2, 2, 2)), dict(padding_mode="wrap"), ValueError,
         rf"{op}: padding_mode must be"),
        (((1, 1, 3, 3), (1, 2, 2, 2)), {}, RuntimeError,
         rf"{op}: input and grid must be floating point tensors of the same dtype",
         lambda x, grid: F.grid_sample(x, grid.float())))


SPATIAL_OPS = [
    OpInfo("grid_sample", F.grid_sample, sampling_loops.grid_sample_ref,
           torch_op=TF and TF.grid_sample, low=-1.3, high=1.3, away_from=GRID_KINKS,
           sample_inputs=_grid_samples(False), error_inputs=_grid_errors("grid_sample")),
    OpInfo("grid_sample_align_corners", F.grid_sample, sampling_loops.grid_sample_ref,
           torch_op=TF and TF.grid_sample, low=-1.3, high=1.3, away_from=GRID_KINKS_ALIGNED,
           sample_inputs=_grid_samples(True), error_name="grid_sample",
           error_inputs=errors((((1, 1, 3, 3), (1, 2, 2, 2)), dict(align_corners=1), TypeError,
                                "grid_sample: align_corners must be a bool or None"))),
    OpInfo("affine_grid", F.affine_grid, sampling_loops.affine_grid_ref,
           torch_op=TF and TF.affine_grid,
           sample_inputs=samples((((2, 2, 3),), dict(size=(2, 3, 4, 5), align_corners=False)),
                                 (((1, 2, 3),), dict(size=(1, 1, 3, 1), align_corners=True)),
                                 (((3, 2, 3),), dict(size=[3, 2, 2, 6], align_corners=True))),
           error_inputs=errors(
               (((2, 3, 3),), dict(size=(2, 3, 4, 5)), ValueError,
                r"affine_grid: theta must be a batch of 2-D affine matrices of shape \(N, 2, 3\)"),
               (((2, 2, 3),), dict(size=(2, 3, 4, 5, 6)), NotImplementedError,
                "affine_grid: only 4-D sizes"),
               (((2, 2, 3),), dict(size=(2, 3, 0, 5)), ValueError,
                "affine_grid: size must be positive"),
               (((2, 2, 3),), dict(size=(3, 3, 4, 5)), RuntimeError,
                "affine_grid: theta's batch size 2 must equal size"),
               (((2, 2, 3),), dict(size=(2, 3, 4, 5)), ValueError,
                "affine_grid: theta must have a floating point dtype",
                lambda theta, size: F.affine_grid(theta.long(), size)))),
]
LAYER_OPS += SPATIAL_OPS


def _einsum(*operands, equation):
    return tg.einsum(equation, *operands)


def _torch_einsum(*operands, equation):
    return torch.einsum(equation, *operands)


def _einsum_reference(*arrays, equation):
    return sampling_loops.einsum_ref(equation, *arrays)


EINSUM_OPS = [
    OpInfo("einsum", _einsum, _einsum_reference, torch_op=TF and _torch_einsum,
           error_name="einsum",
           sample_inputs=samples(
               (((2, 3), (3, 4)), dict(equation="ij,jk->ik")),
               (((2, 3, 4), (2, 4, 2)), dict(equation="bij,bjk->bik")),
               (((3, 3),), dict(equation="ii->i")),            # a diagonal
               (((2, 2, 3), (3,)), dict(equation="iij,j->")),  # diagonal, then a trace
               (((2, 3), (4,)), dict(equation="ij,k->j")),     # i and k in one operand only
               (((2, 3, 4),), dict(equation="ijk->kji")),
               (((2,), (3,), (2,)), dict(equation="i,j,k->ijk")),
               (((3,), (3,), (3,)), dict(equation="a,a,a->a"))),
           error_inputs=errors(
               (((2, 3), (2, 4)), dict(equation="ij,jk->ik"), RuntimeError,
                "einsum\\(\\): subscript j has size 2 for operand 1 which does not broadcast "
                "with previously seen size 3"),
               (((2, 3),), dict(equation="ijk->i"), RuntimeError,
                r"einsum\(\): the number of subscripts in the equation \(3\) does not match"),
               (((2, 3),), dict(equation="ij,jk->ik"), RuntimeError,
                r"einsum\(\): fewer operands were provided than specified"),
               (((2, 3),), dict(equation="ij->k"), RuntimeError,
                r"einsum\(\): output subscript k does not appear"),
               (((2, 3),), dict(equation="i1"), RuntimeError,
                r"einsum\(\): invalid subscript given at index 1"))),
]
LAYER_OPS += EINSUM_OPS


# the small torch-level functions that are differentiable (tinygrad_cnn.tensor_misc); ops
# with several outputs are registered through one Tensor that holds them all
def _in_both(name, call, reference, sample_inputs, error_inputs, **options):
    """An OpInfo whose ``call(library, ...)`` reads the same in tinygrad_cnn and torch."""
    return OpInfo(name, lambda *a, **k: call(tg, *a, **k), reference,
                  torch_op=torch and (lambda *a, **k: call(torch, *a, **k)),
                  sample_inputs=sample_inputs, error_inputs=error_inputs, **options)


def _stacked(call):
    return lambda lib, *args, **kwargs: lib.stack(call(lib, *args, **kwargs))


def _split_scaled(lib, x, sections, dim):
    parts = lib.tensor_split(x, sections, dim)
    return lib.cat([part * (k + 1) for k, part in enumerate(parts)], dim)


def _split_scaled_reference(x, sections, dim):
    parts = np.array_split(x, sections, axis=dim)
    return np.concatenate([part * (k + 1) for k, part in enumerate(parts)], axis=dim)


def _lower_median(x, dim):
    return np.take(np.sort(x, axis=dim), [(x.shape[dim] - 1) // 2], axis=dim).squeeze(dim)


def _mode_reference(x, dim):   # distinct random values: each occurs once, the smallest wins
    return np.min(x, axis=dim)


_TAKE = ((0, 2), (3, 1), (1, 1))


def _take_along(lib, x, indices=_TAKE):
    return lib.take_along_dim(x, lib.tensor(np.array(indices)), 1)


MISC_OPS = [
    _in_both("std_mean", _stacked(lambda lib, x, **kw: lib.std_mean(x, **kw)),
             lambda x, dim=None, correction=1, keepdim=False: np.stack([
                 np.std(x, axis=dim, ddof=correction, keepdims=keepdim),
                 np.mean(x, axis=dim, keepdims=keepdim)]),
             samples(((3, 4),), (((3, 4),), dict(dim=1, keepdim=True)),
                     (((2, 3, 4),), dict(dim=(0, 2), correction=0))),
             errors((((2, 3),), dict(dim=2), IndexError, "std_mean: ",
                     lambda x, dim: tg.std_mean(x, dim)))),
    _in_both("var_mean", _stacked(lambda lib, x, **kw: lib.var_mean(x, **kw)),
             lambda x, dim=None, correction=1, keepdim=False: np.stack([
                 np.var(x, axis=dim, ddof=correction, keepdims=keepdim),
                 np.mean(x, axis=dim, keepdims=keepdim)]),
             samples(((3, 4),), (((3, 4),), dict(dim=0, correction=2))),
             errors((((2, 3),), dict(dim=2), IndexError, "var_mean: ",
                     lambda x, dim: tg.var_mean(x, dim)))),
    _in_both("median", lambda lib, x, dim: lib.median(x, dim).values, _lower_median,
             samples((((3, 4),), dict(dim=1)), (((4, 3),), dict(dim=0))),
             errors((((2, 3),), dict(dim=2), IndexError, "median: "))),
    _in_both("kthvalue", lambda lib, x, k, dim: lib.kthvalue(x, k, dim).values,
             lambda x, k, dim: np.take(np.sort(x, axis=dim), k - 1, axis=dim),
             samples((((3, 5),), dict(k=2, dim=1)), (((3, 5),), dict(k=3, dim=0))),
             errors((((2, 3),), dict(k=4, dim=1), RuntimeError,
                     r"kthvalue: k must be in \[1, 3\]"))),
    _in_both("mode", lambda lib, x, dim: lib.mode(x, dim).values, _mode_reference,
             samples((((3, 4),), dict(dim=1)),),
             errors((((2, 0),), dict(dim=1), RuntimeError, "mode: dimension 1"))),
    _in_both("quantile", lambda lib, x, **kw: lib.quantile(x, **kw),
             lambda x, q, dim=None, keepdim=False, interpolation="linear": np.quantile(
                 x, q, axis=dim, keepdims=keepdim, method=interpolation),
             samples((((3, 5),), dict(q=0.3, dim=1)),
                     (((3, 5),), dict(q=0.6, dim=0, keepdim=True, interpolation="midpoint")),
                     (((4, 5),), dict(q=0.4, interpolation="lower")),
                     (((4, 5),), dict(q=0.4, dim=1, interpolation="higher")),
                     (((4, 5),), dict(q=0.9, dim=1, interpolation="nearest"))),
             errors((((2, 3),), dict(q=1.5), RuntimeError, "quantile: q must be in the range"),
                    (((2, 3),), dict(q=0.5, interpolation="cubic"), ValueError,
                     "quantile: interpolation must be one of"))),
    _in_both("meshgrid", _stacked(lambda lib, a, b, **kw: lib.meshgrid(a, b, **kw)),
             lambda a, b, indexing: np.stack(np.meshgrid(a, b, indexing=indexing)),
             samples((((3,), (4,)), dict(indexing="ij")), (((3,), (2,)), dict(indexing="xy"))),
             errors((((2, 2), (3,)), dict(indexing="ij"), RuntimeError,
                     r"meshgrid: expected 0-D or 1-D tensors, got shape \(2, 2\)"),
                    (((2,), (3,)), dict(indexing="yx"), ValueError,
                     "meshgrid: indexing must be one of"))),
    _in_both("diag", lambda lib, x, **kw: lib.diag(x, **kw), lambda x, diagonal=0: np.diag(
                 x, diagonal),
             samples(((3, 4),), (((3, 4),), dict(diagonal=1)), (((4, 3),), dict(diagonal=-2)),
                     (((3,),), dict(diagonal=1)), ((4,),)),
             errors((((2, 2, 2),), {}, RuntimeError, "diag: input must be 1-D or 2-D"))),
    _in_both("rot90", lambda lib, x, k, dims: lib.rot90(x, k, dims),
             lambda x, k, dims: np.rot90(x, k, dims),
             samples((((2, 3, 4),), dict(k=1, dims=(1, 2))), (((2, 3),), dict(k=2, dims=(0, 1))),
                     (((2, 3, 4),), dict(k=-1, dims=(2, 0)))),
             errors((((2, 3),), dict(k=1, dims=(0, 0)), RuntimeError,
                     "rot90: dims must be different"))),
    _in_both("take_along_dim", _take_along,
             lambda x: np.take_along_axis(x, np.array(_TAKE), 1),
             samples(((3, 4),)),
             errors((((3, 4),), {}, RuntimeError, "take_along_dim: indices must be in",
                     lambda x: _take_along(tg, x, ((0, 9),))))),
    _in_both("tensor_split", _split_scaled, _split_scaled_reference,
             samples((((3, 7),), dict(sections=3, dim=1)),
                     (((5, 2),), dict(sections=[1, 3], dim=0))),
             errors((((3, 4),), dict(sections=0, dim=1), RuntimeError,
                     "tensor_split: number of sections must be larger than 0"))),
    _in_both("mT", lambda lib, x: x.mT, lambda x: np.swapaxes(x, -1, -2),
             samples(((2, 3, 4),), ((3, 2),)),
             errors((((3,),), {}, RuntimeError, "mT: tensor.mT is only supported on matrices"))),
]
LAYER_OPS += MISC_OPS


# ------------------------------------------------------------------ the registry
def _axis_error(op, call):
    return errors((((2, 3),), {}, ValueError, rf"{op}: axis -?\d is out of range", call))


OPS = [
    OpInfo("add", lambda a, b: a + b, np.add, ((3, 4), (4,)), lambda a, b: a + b,
           broadcasting=True, error_inputs=errors(
               (((2, 3), (4,)), {}, ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot"))),
    OpInfo("sub", lambda a, b: a - b, np.subtract, ((3, 1), (1, 4)), lambda a, b: a - b,
           broadcasting=True, error_inputs=errors(
               (((2,), (3,)), {}, ValueError, r"sub: shapes \(2,\) and \(3,\)"))),
    OpInfo("mul", lambda a, b: a * b, np.multiply, ((2, 3, 4), (3, 1)), lambda a, b: a * b,
           broadcasting=True, error_inputs=errors(
               (((2, 3), (2, 2)), {}, ValueError, r"mul: shapes \(2, 3\) and \(2, 2\)"))),
    OpInfo("div", lambda a, b: a / b, np.divide, ((3, 4), (3, 4)), lambda a, b: a / b,
           low=0.5, high=2.0, broadcasting=True, error_inputs=errors(
               (((2,), (3,)), {}, ValueError, r"div: shapes \(2,\) and \(3,\)"))),
    OpInfo("pow", lambda a, b: a ** b, np.power, ((3, 4), (4,)), lambda a, b: a ** b,
           low=0.5, high=2.0, broadcasting=True, error_inputs=errors(
               (((2,), (3,)), {}, ValueError, r"pow: shapes \(2,\) and \(3,\)"))),
    OpInfo("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, ((3, 4),), lambda a: a ** 3,
           error_name="pow", error_inputs=errors(
               (((2,),), {}, TypeError, "pow: cannot combine a tensor with str",
                lambda a: a ** "3"))),
    OpInfo("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, ((3, 4),),
           lambda a: 2.0 ** a, error_name="pow", error_inputs=errors(
               (((2,),), {}, TypeError, "pow: cannot combine a tensor with str",
                lambda a: "2" ** a))),
    OpInfo("neg", lambda a: -a, np.negative, ((5,),), lambda a: -a),
    OpInfo("matmul", lambda a, b: a @ b, np.matmul, ((3, 4), (4, 2)), lambda a, b: a @ b,
           error_inputs=errors(
               (((2, 3), (4, 5)), {}, RuntimeError,
                r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"),
               (((3,), ()), {}, RuntimeError, "matmul: both arguments need at least 1 dim"))),
    OpInfo("matmul_batched", lambda a, b: a @ b, np.matmul, ((2, 3, 4), (4, 5)),
           lambda a, b: a @ b, error_name="matmul", error_inputs=errors(
               (((2, 3, 4), (5, 4, 2)), {}, ValueError, r"matmul \(batch dimensions\)"))),
    OpInfo("matmul_vector", lambda a, b: a @ b, np.matmul, ((4,), (4, 3)),
           lambda a, b: a @ b, error_name="matmul", error_inputs=errors(
               (((4,), (3, 3)), {}, RuntimeError, "matmul: shapes"))),
    OpInfo("exp", lambda a: a.exp(), np.exp, ((3, 4),), lambda a: a.exp()),
    OpInfo("log", lambda a: a.log(), np.log, ((3, 4),), lambda a: a.log(), low=0.2),
    OpInfo("sqrt", lambda a: a.sqrt(), np.sqrt, ((3, 4),), lambda a: a.sqrt(), low=0.2),
    OpInfo("abs", lambda a: a.abs(), np.abs, ((3, 4),), lambda a: a.abs(), away_from=(0.0,)),
    OpInfo("relu", F.relu, lambda a: np.maximum(a, 0), ((3, 4),),
           lambda a: a.relu(), away_from=(0.0,), error_inputs=errors(
               (((3,),), {}, TypeError, "relu: input must be a Tensor",
                lambda a: F.relu(a._data)))),
    OpInfo("sigmoid", F.sigmoid, lambda a: 1 / (1 + np.exp(-a)), ((3, 4),),
           lambda a: a.sigmoid(), error_inputs=errors(
               (((3,),), {}, TypeError, "sigmoid: input must be a Tensor",
                lambda a: F.sigmoid(a._data)))),
    OpInfo("tanh", F.tanh, np.tanh, ((3, 4),), lambda a: a.tanh(), error_inputs=errors(
        (((3,),), {}, TypeError, "tanh: input must be a Tensor", lambda a: F.tanh(a.tolist())))),
    OpInfo("clip", lambda a: a.clip(-0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0), ((3, 4),),
           lambda a: a.clamp(-0.5, 1.0), away_from=(-0.5, 1.0), error_name="clamp",
           error_inputs=errors(
               (((2,),), {}, RuntimeError, "clamp: at least one of 'min' or 'max'",
                lambda a: a.clip()))),
    OpInfo("sum", lambda a: a.sum(), np.sum, ((3, 4),), lambda a: a.sum(),
           error_inputs=_axis_error("sum", lambda a: a.sum(axis=2))),
    OpInfo("sum_axis", lambda a: a.sum(1, keepdims=True),
           lambda a: a.sum(1, keepdims=True), ((3, 4),), lambda a: a.sum(1, keepdim=True),
           error_name="sum", error_inputs=_axis_error("sum", lambda a: a.sum(axis=-3))),
    OpInfo("mean", lambda a: a.mean((0, 2)), lambda a: a.mean((0, 2)), ((2, 3, 4),),
           lambda a: a.mean((0, 2)), error_inputs=errors(
               (((2, 3),), {}, ValueError, "mean: axis .* repeats an axis",
                lambda a: a.mean(axis=(0, 0))))),
    OpInfo("max", lambda a: a.amax(1), lambda a: a.max(1), ((3, 4),),
           lambda a: a.amax(1), error_inputs=errors(
               (((2, 3),), {}, TypeError, "max: axis must be an int", lambda a: a.max(1.5)))),
    OpInfo("min", lambda a: a.amin(), np.min, ((3, 4),), lambda a: a.amin(),
           error_inputs=_axis_error("min", lambda a: a.min(5))),
    OpInfo("var", lambda a: a.var(0), lambda a: a.var(0, ddof=1), ((5, 3),),
           lambda a: a.var(0), error_inputs=errors(
               (((3,),), {}, TypeError, "var: correction must be a number",
                lambda a: a.var(correction="a")))),
    OpInfo("var_biased", lambda a: a.var(correction=0), lambda a: a.var(), ((5, 3),),
           lambda a: a.var(correction=0), error_name="var",
           error_inputs=_axis_error("var", lambda a: a.var(5, correction=0))),
    OpInfo("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), ((2, 6),),
           lambda a: a.reshape(4, -1), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, r"reshape: shape \[4, 2\] is invalid for input",
                lambda a: a.reshape(4, 2)),
               (((2, 3),), {}, TypeError, "reshape: sizes must be ints",
                lambda a: a.reshape(2.0, 3)))),
    OpInfo("transpose", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), ((2, 3, 4),),
           lambda a: a.transpose(0, 2),
           error_inputs=_axis_error("transpose", lambda a: a.transpose(0, 2))),
    OpInfo("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           ((2, 3, 4),), lambda a: a.permute(2, 0, 1), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, r"permute: \(0, 0\) is not a permutation",
                lambda a: a.permute(0, 0)))),
    OpInfo("T", lambda a: a.T, lambda a: a.T, ((2, 3, 4),), lambda a: a.permute(2, 1, 0)),
    OpInfo("flatten", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), ((2, 3, 4),),
           lambda a: a.flatten(1), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, "flatten: start_dim 1 comes after end_dim 0",
                lambda a: a.flatten(1, 0)))),
    OpInfo("squeeze", lambda a: a.squeeze(), np.squeeze, ((3, 1, 4),), lambda a: a.squeeze(),
           error_inputs=_axis_error("squeeze", lambda a: a.squeeze(5))),
    OpInfo("unsqueeze", lambda a: a.unsqueeze(1), lambda a: a[:, None], ((3, 4),),
           lambda a: a.unsqueeze(1),
           error_inputs=_axis_error("unsqueeze", lambda a: a.unsqueeze(4))),
    OpInfo("getitem_basic", lambda a: a[1:, ::2], lambda a: a[1:, ::2], ((3, 4),),
           lambda a: a[1:, ::2], error_name="getitem", error_inputs=errors(
               (((2, 3),), {}, IndexError, r"getitem: .* \(tensor shape \(2, 3\)\)",
                lambda a: a[5]))),
    OpInfo("getitem_repeated", lambda a: a[np.array([0, 2, 0, 0])],
           lambda a: a[np.array([0, 2, 0, 0])], ((3, 4),),
           lambda a: a[[0, 2, 0, 0]], error_name="getitem", error_inputs=errors(
               (((2, 3),), {}, IndexError, "getitem: tensors used as indices must be long",
                lambda a: a[tg.Tensor(np.ones(2))]))),
    OpInfo("getitem_pairs", lambda a: a[np.array([0, 1, 1]), np.array([3, 0, 0])],
           lambda a: a[np.array([0, 1, 1]), np.array([3, 0, 0])], ((3, 4),),
           lambda a: a[[0, 1, 1], [3, 0, 0]], error_name="getitem", error_inputs=errors(
               (((3, 4),), {}, IndexError, "getitem:",
                lambda a: a[np.array([0, 5]), np.array([0, 0])]))),
    OpInfo("astype", lambda a: (a.astype(np.longdouble) ** 2).astype(a.dtype),
           lambda a: a ** 2, ((3,),), None, error_inputs=errors(
               (((2,),), {}, TypeError, "astype: 'foo' is not a data type",
                lambda a: a.astype("foo")))),
    OpInfo("concatenate", lambda a, b: tg.concatenate([a, b], axis=1),
           lambda a, b: np.concatenate([a, b], axis=1), ((2, 3), (2, 2)),
           lambda a, b: torch.cat([a, b], dim=1), error_name="cat", error_inputs=errors(
               (((2, 3), (3, 3)), {}, RuntimeError,
                r"cat: sizes of tensors must match except in dimension 1: tensor 1 has shape")),
           ),
    OpInfo("stack", lambda a, b: tg.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1), ((2, 3), (2, 3)),
           lambda a, b: torch.stack([a, b], dim=1), error_inputs=errors(
               (((2,), (3,)), {}, RuntimeError, r"stack: expects each tensor to be equal size"))),
    OpInfo("softmax", F.softmax, _softmax_reference, torch_op=lambda a, axis: a.softmax(axis),
           sample_inputs=samples((((3, 5),), dict(axis=1)), (((2, 3, 4),), dict(axis=-1))),
           error_inputs=errors(
               (((2, 3),), dict(axis=3), ValueError, "softmax: axis 3 is out of range"))),
    OpInfo("log_softmax", F.log_softmax, lambda a, axis: np.log(_softmax_reference(a, axis)),
           torch_op=lambda a, axis: a.log_softmax(axis),
           sample_inputs=samples((((3, 5),), dict(axis=1)), (((4, 2),), dict(axis=0))),
           error_inputs=errors(
               (((2, 3),), dict(axis=-3), ValueError, "log_softmax: axis -3 is out of range"))),
    OpInfo("leaky_relu", F.leaky_relu, lambda a, negative_slope=0.01:
           np.where(a > 0, a, negative_slope * a), torch_op=TF and TF.leaky_relu,
           away_from=(0.0,), sample_inputs=samples((((3, 4),), dict(negative_slope=0.1)),
                                                   (((2, 3, 2),), {})),
           error_inputs=errors((((3,),), dict(negative_slope="a"), TypeError,
                                "leaky_relu: negative_slope must be a number"))),
    OpInfo("linear", F.linear, lambda x, w, b=None: x @ w.T + (0 if b is None else b),
           torch_op=TF and TF.linear,
           sample_inputs=samples(((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3))),
           error_inputs=errors(
               (((4, 3), (5, 2)), {}, ValueError,
                r"linear: input has 3 features \(shape \(4, 3\)\) but weight expects 2"),
               (((4, 3), (5, 3), (4,)), {}, ValueError, r"linear: bias must have shape \(5,\)"))),
    OpInfo("nll_loss_sum", lambda a: F.nll_loss(a, np.array([2, 2, 0]), reduction="sum"),
           lambda a: -a[np.arange(3), [2, 2, 0]].sum(), ((3, 4),),
           lambda a: TF.nll_loss(a, torch.tensor([2, 2, 0]), reduction="sum"),
           error_name="nll_loss", error_inputs=errors(
               (((2, 3),), {}, ValueError, r"nll_loss: expected input batch_size \(2\)",
                lambda a: F.nll_loss(a, np.array([0, 1, 2]))))),
    OpInfo("mse_loss", F.mse_loss, lambda a, b, reduction="mean":
           {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]((a - b) ** 2),
           torch_op=TF and TF.mse_loss,
           sample_inputs=samples(((3, 4), (3, 4)), (((2, 3), (2, 3)), dict(reduction="sum")),
                                 (((5,), (5,)), dict(reduction="none"))),
           error_inputs=errors(
               (((2, 3), (3, 2)), {}, RuntimeError,
                r"mse_loss: input shape \(2, 3\) and target shape \(3, 2\) differ"),
               (((2,), (2,)), dict(reduction="avg"), ValueError,
                "mse_loss: reduction must be one of"))),
    # ---------------------------------------------------------------- CNN ops
    OpInfo("conv2d", _with_algorithm(F.conv2d, "im2col"), _conv2d_reference,
           torch_op=TF and TF.conv2d, sample_inputs=CONV2D_SAMPLES, error_inputs=CONV2D_ERRORS),
    OpInfo("conv2d_fft", _with_algorithm(F.conv2d, "fft"), _conv2d_reference,
           torch_op=TF and TF.conv2d, sample_inputs=CONV2D_SAMPLES, error_inputs=CONV2D_ERRORS,
           error_name="conv2d"),
    *(OpInfo(f"conv2d_{name}", _with_algorithm(F.conv2d, name), _conv2d_reference,
             torch_op=TF and TF.conv2d, sample_inputs=WINOGRAD_CONV2D_SAMPLES,
             error_inputs=CONV2D_ERRORS, error_name="conv2d")
      for name in ("winograd", "winograd_f2")),
    OpInfo("conv2d_im2col_flat", _with_algorithm(F.conv2d, "im2col_flat"), _conv2d_reference,
           torch_op=TF and TF.conv2d, sample_inputs=FLAT_CONV2D_SAMPLES,
           error_inputs=CONV2D_ERRORS, error_name="conv2d"),
    OpInfo("conv2d_im2col_phases", _with_algorithm(F.conv2d, "im2col_phases"),
           _conv2d_reference, torch_op=TF and TF.conv2d, sample_inputs=PHASES_CONV2D_SAMPLES,
           error_inputs=CONV2D_ERRORS, error_name="conv2d"),
    OpInfo("conv1d", F.conv1d, _conv1d_reference, torch_op=TF and TF.conv1d,
           sample_inputs=samples(
               (((2, 3, 9), (2, 3, 4), (2,)), dict(stride=2, padding=1, dilation=2)),
               (((2, 4, 13), (6, 2, 4)), dict(padding="same", dilation=3, groups=2))),
           error_inputs=errors(
               (((1, 3, 9), (2, 2, 4)), {}, ValueError,
                "conv1d: input has 3 channels but weight expects 2"),
               (((1, 2, 9), (2, 2, 4)), dict(stride=(1, 1)), TypeError,
                "conv1d: stride must be an int or a 1-tuple of ints"))),
    OpInfo("conv_transpose2d", _with_algorithm(F.conv_transpose2d, "im2col"),
           _conv_transpose2d_reference, torch_op=TF and TF.conv_transpose2d,
           sample_inputs=CONV_TRANSPOSE2D_SAMPLES, error_inputs=CONV_TRANSPOSE2D_ERRORS),
    OpInfo("conv_transpose2d_fft", _with_algorithm(F.conv_transpose2d, "fft"),
           _conv_transpose2d_reference, torch_op=TF and TF.conv_transpose2d,
           sample_inputs=CONV_TRANSPOSE2D_SAMPLES, error_inputs=CONV_TRANSPOSE2D_ERRORS,
           error_name="conv_transpose2d"),
    *(OpInfo(f"conv_transpose2d_{name}", _with_algorithm(F.conv_transpose2d, name),
             _conv_transpose2d_reference, torch_op=TF and TF.conv_transpose2d,
             sample_inputs=WINOGRAD_CONV_TRANSPOSE2D_SAMPLES,
             error_inputs=CONV_TRANSPOSE2D_ERRORS, error_name="conv_transpose2d")
      for name in ("winograd", "winograd_f2")),
    OpInfo("conv_transpose2d_im2col_flat", _with_algorithm(F.conv_transpose2d, "im2col_flat"),
           _conv_transpose2d_reference, torch_op=TF and TF.conv_transpose2d,
           sample_inputs=FLAT_CONV_TRANSPOSE2D_SAMPLES,
           error_inputs=CONV_TRANSPOSE2D_ERRORS, error_name="conv_transpose2d"),
    OpInfo("conv_transpose2d_im2col_phases", _with_algorithm(F.conv_transpose2d, "im2col_phases"),
           _conv_transpose2d_reference, torch_op=TF and TF.conv_transpose2d,
           sample_inputs=PHASES_CONV_TRANSPOSE2D_SAMPLES, error_inputs=CONV_TRANSPOSE2D_ERRORS,
           error_name="conv_transpose2d"),
    OpInfo("unfold", F.unfold, _unfold_reference, torch_op=TF and TF.unfold,
           sample_inputs=lambda: [Sample((image,), options) for options, image in
                                  zip(UNFOLD_OPTIONS, [(2, 2, 5, 4), (2, 3, 7, 6)])],
           error_inputs=errors(
               (((2, 3),), dict(kernel_size=2), ValueError, "unfold: input must be 3-D"),
               (((1, 1, 2, 2),), dict(kernel_size=3), ValueError,
                r"unfold: kernel \(3, 3\) .* is larger than the padded input"))),
    OpInfo("fold", F.fold, _fold_reference, torch_op=TF and TF.fold,
           sample_inputs=_fold_samples, error_inputs=errors(
               (((1, 4, 5),), dict(output_size=(3, 3), kernel_size=2), ValueError,
                "fold: input has 5 blocks"))),
    OpInfo("max_pool2d", F.max_pool2d, _max_pool2d_reference, torch_op=TF and TF.max_pool2d,
           sample_inputs=_max_pool_samples, error_inputs=POOL_ERRORS["max_pool2d"]),
    OpInfo("avg_pool2d", F.avg_pool2d, _avg_pool2d_reference, torch_op=TF and TF.avg_pool2d,
           sample_inputs=_avg_pool_samples, error_inputs=POOL_ERRORS["avg_pool2d"]),
    OpInfo("lp_pool2d", F.lp_pool2d, _lp_pool2d_reference, torch_op=TF and TF.lp_pool2d,
           low=0.1, sample_inputs=_lp_pool_samples, error_inputs=POOL_ERRORS["lp_pool2d"]),
    OpInfo("pad", F.pad, _pad_reference, torch_op=TF and TF.pad, sample_inputs=PAD_SAMPLES,
           error_inputs=errors(
               (((2, 2),), dict(pad=(1, 1, 1)), RuntimeError,
                "pad: pad length must be divisible by 2"),
               (((2, 2),), dict(pad=(1, 1, 1, 1, 1, 1)), RuntimeError,
                "pad: pad length must be at most two times the input dimension"),
               (((2, 2),), dict(pad=((1, 1), (1, 1))), TypeError, "pad: pad must be a tuple"),
               (((2, 2),), dict(pad=(1, 1), value="a"), TypeError,
                "pad: value must be a real number"),
               (((1, 2, 3),), dict(pad=(3, 0), mode="reflect"), RuntimeError,
                "pad: in mode 'reflect' the padding must be smaller than"),
               (((1, 2, 3),), dict(pad=(4, 0), mode="circular"), RuntimeError,
                "pad: in mode 'circular' the padding must be at most"),
               (((3, 4),), dict(pad=(1, 1, 1, 1), mode="replicate"), NotImplementedError,
                "pad: pad of length 4 is not supported for a 2-D input"),
               (((1, 2, 3),), dict(pad=(1, 1), mode="wrap"), NotImplementedError,
                "pad: mode must be one of"),
               (((1, 2, 3),), dict(pad=(1, 1), mode="reflect", value=2.0), RuntimeError,
                "pad: mode 'reflect' doesn't take a value"))),
    OpInfo("interpolate", F.interpolate, _interpolate_reference,
           torch_op=TF and TF.interpolate, sample_inputs=INTERPOLATE_SAMPLES,
           error_inputs=errors(
               (((1, 1, 2, 2),), dict(scale_factor=2, mode="linear"), NotImplementedError,
                r"interpolate: mode 'linear' needs a 3-D input"),
               (((1, 1, 2, 2),), dict(scale_factor=2, mode="lanczos"), NotImplementedError,
                "interpolate: mode must be one of"),
               (((1, 1, 2, 2),), dict(size=3, scale_factor=2), ValueError,
                "interpolate: exactly one of size or scale_factor"),
               (((1, 1, 2, 2),), dict(size=3, align_corners=True), ValueError,
                "interpolate: align_corners can only be set with the interpolating modes"),
               (((1, 1, 2, 2),), dict(size=(3, 3, 3)), ValueError,
                "interpolate: size .* must give one size per spatial dimension"),
               (((1, 1, 4, 4),), dict(scale_factor=0.1), RuntimeError,
                r"interpolate: the output size \(0, 0\) is empty"),
               (((2, 2),), dict(scale_factor=2), NotImplementedError,
                "interpolate: mode 'nearest' needs a 3-D or 4-D or 5-D input"))),
    OpInfo("max_pool2d_with_indices", _max_pool2d_with_indices, _max_pool2d_reference,
           torch_op=TF and (lambda x, **kw: TF.max_pool2d(x, return_indices=True, **kw)[0]),
           sample_inputs=_max_pool_samples, error_name="max_pool2d", error_inputs=errors(
               (((1, 1, 4, 4),), dict(kernel_size=2, return_indices=1), TypeError,
                "max_pool2d: return_indices must be a bool", F.max_pool2d))),
    OpInfo("max_unpool2d", _max_unpool2d, _max_unpool2d_reference,
           torch_op=TF and _torch_max_unpool2d,
           sample_inputs=samples(
               (((2, 3, 3, 4),), dict(kernel_size=2)),
               (((2, 2, 3, 3),), dict(kernel_size=(2, 3), stride=(3, 3))),
               (((2, 2, 3, 3),), dict(kernel_size=2, output_size=(7, 7))),
               (((2, 2, 4, 3),), dict(kernel_size=3, stride=3, padding=1)),
               (((3, 3, 4),), dict(kernel_size=2))),
           error_inputs=errors(
               (((1, 1, 2, 2),), {}, RuntimeError, r"max_unpool2d: indices must be int64",
                lambda x: F.max_unpool2d(x, tg.Tensor(np.zeros((1, 1, 2, 2))), 2)),
               (((1, 1, 2, 2),), {}, RuntimeError,
                r"max_unpool2d: indices must have the input's shape",
                lambda x: F.max_unpool2d(x, tg.Tensor(np.zeros((1, 1, 2, 3), np.int64)), 2)),
               (((1, 1, 2, 2),), {}, RuntimeError, "max_unpool2d: found an invalid max index 16",
                lambda x: F.max_unpool2d(x, tg.Tensor(np.full((1, 1, 2, 2), 16)), 2)),
               (((1, 1, 2, 2),), {}, ValueError,
                r"max_unpool2d: output_size \(7, 7\) is invalid: dimension 0 must be between "
                r"2 and 6", lambda x: F.max_unpool2d(
                    x, tg.Tensor(np.zeros((1, 1, 2, 2), np.int64)), 2, output_size=(7, 7))),
               (((2, 2),), {}, RuntimeError, "max_unpool2d: input must be 3-D",
                lambda x: F.max_unpool2d(x, tg.Tensor(np.zeros((2, 2), np.int64)), 2)))),
    OpInfo("max_unpool1d", _max_unpool1d, _max_unpool1d_reference,
           torch_op=TF and _torch_max_unpool1d,
           sample_inputs=samples(
               (((2, 3, 4),), dict(kernel_size=2)),
               (((2, 2, 3),), dict(kernel_size=3, stride=3, padding=1)),
               (((2, 2, 3),), dict(kernel_size=2, output_size=(7,))),
               (((3, 5),), dict(kernel_size=2))),
           error_inputs=errors(
               (((1, 1, 2),), {}, RuntimeError, r"max_unpool1d: indices must be int64",
                lambda x: F.max_unpool1d(x, tg.Tensor(np.zeros((1, 1, 2))), 2)),
               (((1, 1, 2),), {}, RuntimeError, "max_unpool1d: found an invalid max index 4",
                lambda x: F.max_unpool1d(x, tg.Tensor(np.full((1, 1, 2), 4)), 2)),
               (((1, 1, 2),), {}, ValueError,
                r"max_unpool1d: output_size must hold 1 or 3 sizes",
                lambda x: F.max_unpool1d(x, tg.Tensor(np.zeros((1, 1, 2), np.int64)), 2,
                                         output_size=(1, 4))),
               (((1, 1, 2),), {}, RuntimeError,
                r"max_unpool1d: kernel_size must be an int or a 1-tuple of ints",
                lambda x: F.max_unpool1d(x, tg.Tensor(np.zeros((1, 1, 2), np.int64)),
                                         (2, 2))),
               (((2,),), {}, RuntimeError, "max_unpool1d: input must be 2-D",
                lambda x: F.max_unpool1d(x, tg.Tensor(np.zeros((2,), np.int64)), 2)))),
    OpInfo("adaptive_avg_pool2d", F.adaptive_avg_pool2d, _adaptive_avg_pool2d_reference,
           torch_op=TF and TF.adaptive_avg_pool2d, sample_inputs=ADAPTIVE_SAMPLES,
           error_inputs=errors(
               (((1, 2, 4, 4),), dict(output_size=-1), RuntimeError,
                "adaptive_avg_pool2d: elements of output_size must be >= 0"),
               (((1, 2, 4, 4),), dict(output_size=(1, 2, 3)), RuntimeError,
                "adaptive_avg_pool2d: output_size must have 2 element"),
               (((1, 2, 4, 4),), dict(output_size=2.5), TypeError,
                "adaptive_avg_pool2d: output_size must be an int"),
               (((4, 4),), dict(output_size=2), RuntimeError,
                "adaptive_avg_pool2d: input must be 3-D"))),
    OpInfo("adaptive_max_pool2d", F.adaptive_max_pool2d, _adaptive_max_pool2d_reference,
           torch_op=TF and TF.adaptive_max_pool2d, sample_inputs=ADAPTIVE_SAMPLES,
           error_inputs=errors(
               (((1, 0, 4, 4),), dict(output_size=2), RuntimeError,
                "adaptive_max_pool2d: input .* must have no empty dimension"),
               (((1, 2, 4, 4),), dict(output_size=2, return_indices=None), TypeError,
                "adaptive_max_pool2d: return_indices must be a bool"))),
    OpInfo("adaptive_avg_pool1d", F.adaptive_avg_pool1d,
           _adaptive_1d(_adaptive_avg_pool2d_reference),
           torch_op=TF and TF.adaptive_avg_pool1d, sample_inputs=ADAPTIVE_1D_SAMPLES,
           error_inputs=errors(
               (((1, 2, 3, 4),), dict(output_size=2), RuntimeError,
                "adaptive_avg_pool1d: input must be 2-D"))),
    OpInfo("adaptive_max_pool1d", F.adaptive_max_pool1d,
           _adaptive_1d(_adaptive_max_pool2d_reference),
           torch_op=TF and TF.adaptive_max_pool1d, sample_inputs=ADAPTIVE_1D_SAMPLES,
           error_inputs=errors(
               (((1, 2, 4),), dict(output_size=(2, 2)), RuntimeError,
                "adaptive_max_pool1d: output_size must have 1 element"))),
    OpInfo("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _batch_norm_reference(x, w, b),
           torch_op=lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
           sample_inputs=samples(((3, 2, 2, 2), (2,), (2,)), ((4, 3), (3,), (3,)),
                                 ((2, 2, 3), (2,), (2,)), ((1, 2, 2, 3), (2,), (2,))),
           grad_options=dict(fast=False), error_inputs=errors(
               (((1, 2), (2,), (2,)), {}, ValueError,
                "batch_norm: expected more than 1 value per channel when training"),
               (((2, 2), (3,), (2,)), {}, ValueError,
                r"batch_norm: weight must have shape \(2,\)"))),
    OpInfo("batch_norm_no_affine", lambda x: F.batch_norm(x, None, None, training=True),
           _batch_norm_reference,
           torch_op=lambda x: TF.batch_norm(x, None, None, training=True),
           shapes=((2, 2, 3, 2),), grad_options=dict(fast=False), error_name="batch_norm",
           error_inputs=errors(
               (((2,),), {}, ValueError, r"batch_norm: input must be \(N, C, \*\)"))),
    OpInfo("batch_norm_weight_only", lambda x, w: F.batch_norm(x, None, None, w, training=True),
           _batch_norm_reference,
           torch_op=lambda x, w: TF.batch_norm(x, None, None, w, training=True),
           shapes=((2, 2, 3, 2), (2,)), grad_options=dict(fast=False), error_name="batch_norm",
           error_inputs=errors(
               (((2, 2, 3), (2,)), {}, TypeError, "batch_norm: running_mean must be a float",
                lambda x, w: F.batch_norm(x, np.zeros(2, int), None, w, training=True)))),
    OpInfo("batch_norm_bias_only",
           lambda x, b: F.batch_norm(x, None, None, None, b, training=True),
           lambda x, b: _batch_norm_reference(x, None, b),
           torch_op=lambda x, b: TF.batch_norm(x, None, None, None, b, training=True),
           shapes=((2, 2, 3, 2), (2,)), grad_options=dict(fast=False), error_name="batch_norm",
           error_inputs=errors(
               (((2, 2, 3), (3,)), {}, ValueError, r"batch_norm: bias must have shape \(2,\)"))),
    OpInfo("batch_norm_eval", _batch_norm_eval,
           lambda x, w, b: _batch_norm_reference(x, w, b, RUNNING_MEAN, RUNNING_VAR, False),
           torch_op=lambda x, w, b: TF.batch_norm(
               x, torch.tensor(RUNNING_MEAN, dtype=x.dtype),
               torch.tensor(RUNNING_VAR, dtype=x.dtype), w, b, training=False),
           shapes=((2, 3, 2, 2), (3,), (3,)), error_name="batch_norm", error_inputs=errors(
               (((2, 3),), {}, ValueError, "batch_norm: running_mean and running_var are needed",
                lambda x: F.batch_norm(x, None, None, training=False)))),
    OpInfo("dropout", _seeded_dropout, _dropout_reference,
           sample_inputs=samples((((4, 5),), dict(p=0.5)), (((2, 3, 4),), dict(p=0.2)),
                                 (((6,),), dict(p=0.0))),
           error_inputs=errors(
               (((3,),), dict(p=1.5), ValueError, "dropout: p must be a probability"),
               (((3,),), dict(p="a"), TypeError, "dropout: p must be a number"))),
    # Tensor semantics (issue 9): new elementwise ops, reductions with dims, views, in place.
    OpInfo("sin", lambda a: a.sin(), np.sin, ((3, 4),), lambda a: a.sin()),
    OpInfo("cos", lambda a: a.cos(), np.cos, ((3, 4),), lambda a: a.cos()),
    OpInfo("log1p", lambda a: a.log1p(), np.log1p, ((3, 4),), lambda a: a.log1p(), low=-0.5),
    OpInfo("expm1", lambda a: a.expm1(), np.expm1, ((3, 4),), lambda a: a.expm1()),
    OpInfo("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), ((3, 4),),
           lambda a: a.rsqrt(), low=0.2),
    OpInfo("maximum", lambda a, b: tg.maximum(a, b), np.maximum, ((3, 4), (4,)),
           lambda a, b: torch.maximum(a, b), broadcasting=True, error_inputs=errors(
               (((2,), (3,)), {}, ValueError, r"maximum: shapes \(2,\) and \(3,\)"))),
    OpInfo("minimum", lambda a, b: tg.minimum(a, b), np.minimum, ((3, 1), (1, 4)),
           lambda a, b: torch.minimum(a, b), broadcasting=True, error_inputs=errors(
               (((2,), (3,)), {}, ValueError, r"minimum: shapes \(2,\) and \(3,\)"))),
    OpInfo("prod", lambda a: a.prod(), np.prod, ((2, 3),), lambda a: a.prod(), low=0.5,
           error_inputs=errors((((2, 3),), {}, TypeError, "prod: dim must be an int",
                                lambda a: a.prod(dim=(0, 0))))),
    OpInfo("prod_dim", lambda a: a.prod(dim=1, keepdim=True),
           lambda a: a.prod(axis=1, keepdims=True), ((3, 4),),
           lambda a: a.prod(dim=1, keepdim=True), error_name="prod",
           error_inputs=_axis_error("prod", lambda a: a.prod(dim=2))),
    OpInfo("cumsum", lambda a: a.cumsum(dim=1), lambda a: np.cumsum(a, axis=1), ((3, 4),),
           lambda a: a.cumsum(dim=1),
           error_inputs=_axis_error("cumsum", lambda a: a.cumsum(dim=-3))),
    OpInfo("logsumexp", lambda a: a.logsumexp(dim=1),
           lambda a: np.log(np.exp(a).sum(axis=1)), ((3, 4),), lambda a: a.logsumexp(dim=1),
           error_inputs=_axis_error("logsumexp", lambda a: a.logsumexp(dim=2))),
    OpInfo("softmax_method", lambda a: a.softmax(1), _softmax_reference, ((3, 4),),
           lambda a: a.softmax(1), error_name="log_softmax",
           error_inputs=_axis_error("log_softmax", lambda a: a.softmax(2))),
    OpInfo("log_softmax_function", lambda a: tg.log_softmax(a, dim=0),
           lambda a: np.log(_softmax_reference(a, 0)), ((3, 4),),
           lambda a: torch.log_softmax(a, dim=0), error_name="log_softmax",
           error_inputs=_axis_error("log_softmax", lambda a: tg.log_softmax(a, -3))),
    OpInfo("std_dim", lambda a: a.std(dim=0, keepdim=True),
           lambda a: a.std(axis=0, ddof=1, keepdims=True), ((5, 3),),
           lambda a: a.std(dim=0, keepdim=True), error_name="std", error_inputs=errors(
               (((3,),), {}, TypeError, "std: correction must be a number",
                lambda a: a.std(correction="a")))),
    OpInfo("max_dim", lambda a: a.max(dim=1).values, lambda a: a.max(axis=1), ((3, 4),),
           lambda a: a.max(dim=1).values, error_name="max",
           error_inputs=_axis_error("max", lambda a: a.max(dim=2))),
    OpInfo("min_dim_keepdim", lambda a: a.min(0, keepdim=True)[0],
           lambda a: a.min(axis=0, keepdims=True), ((3, 4),),
           lambda a: a.min(0, keepdim=True)[0], error_name="min",
           error_inputs=_axis_error("min", lambda a: a.min(-3, keepdim=True))),
    OpInfo("sort_values", lambda a: a.sort(dim=1, descending=True).values,
           lambda a: -np.sort(-a, axis=1), ((3, 4),),
           lambda a: a.sort(dim=1, descending=True).values, error_name="sort",
           error_inputs=_axis_error("sort", lambda a: a.sort(dim=2))),
    OpInfo("topk_values", lambda a: a.topk(2, dim=0).values,
           lambda a: -np.sort(-a, axis=0)[:2], ((4, 3),), lambda a: a.topk(2, dim=0).values,
           error_name="topk", error_inputs=errors(
               (((2, 3),), {}, RuntimeError, r"topk: k \(4\) is out of range",
                lambda a: a.topk(4)))),
    OpInfo("flip", lambda a: a.flip(0, 2), lambda a: a[::-1, :, ::-1], ((2, 3, 4),),
           lambda a: a.flip(0, 2), error_inputs=_axis_error("flip", lambda a: a.flip(2))),
    OpInfo("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), ((3, 2),),
           lambda a: a.repeat(2, 1, 3), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, "repeat: number of repeat dims",
                lambda a: a.repeat(2)))),
    OpInfo("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
           ((3, 1),), lambda a: a.expand(2, 3, 4), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, r"expand: the expanded size of the tensor \(4\)",
                lambda a: a.expand(2, 4)))),
    OpInfo("gather", lambda a: a.gather(1, tg.tensor([[0, 0], [1, 0], [3, 2]])),
           lambda a: np.take_along_axis(a, np.array([[0, 0], [1, 0], [3, 2]]), 1), ((3, 4),),
           lambda a: a.gather(1, torch.tensor([[0, 0], [1, 0], [3, 2]])), error_inputs=errors(
               (((2, 3),), {}, RuntimeError, "gather: index has 1 dimensions",
                lambda a: a.gather(1, tg.tensor([0, 1]))))),
    OpInfo("clamp_tensor_bounds", lambda a, lo, hi: a.clamp(lo, hi),
           lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), ((3, 4), (4,), (3, 1)),
           lambda a, lo, hi: a.clamp(lo, hi), error_name="clamp", error_inputs=errors(
               (((2,), (3,), (2,)), {}, ValueError, r"clamp: shapes \(2,\) and \(3,\)"))),
    OpInfo("where", lambda a, b: tg.where(_MASK, a, b), lambda a, b: np.where(_MASK, a, b),
           ((3, 4), (3, 4)), lambda a, b: torch.where(torch.from_numpy(_MASK), a, b),
           error_inputs=errors(
               (((3,), (3,)), {}, RuntimeError, "where: condition must be a bool tensor",
                lambda a, b: tg.where(a, a, b)))),
    OpInfo("clone", lambda a: a.clone() * a, lambda a: a * a, ((3, 4),),
           lambda a: a.clone() * a),
    OpInfo("view_t", lambda a: a.t().contiguous().view(-1), lambda a: a.T.reshape(-1),
           ((3, 4),), lambda a: a.t().contiguous().view(-1), error_name="view",
           error_inputs=errors(
               (((3, 4),), {}, RuntimeError, "view: size is not compatible",
                lambda a: a.t().view(-1)))),
    OpInfo("setitem", lambda a, b: _set_rows(a, b), lambda a, b: _set_rows_reference(a, b),
           ((3, 4), (2,)), lambda a, b: _set_rows(a, b), error_inputs=errors(
               (((3,), ()), {}, RuntimeError, "setitem: a leaf Variable that requires grad",
                lambda a, b: a.requires_grad_().__setitem__(0, b)))),
    OpInfo("inplace_on_view", lambda a, b: _scale_row(a, b),
           lambda a, b: a * np.array([[1.0], [1.0], [0.0]]) + np.outer([0, 0, 1], a[2] * b),
           ((3, 4), (4,)), lambda a, b: _scale_row(a, b), error_name="mul_",
           error_inputs=errors(
               (((3, 4), (4,)), {}, RuntimeError, "mul_: a view of a leaf Variable",
                lambda a, b: a.requires_grad_()[0].mul_(b)))),
    OpInfo("inplace_chain", lambda a, b: _inplace_chain(a, b),
           lambda a, b: np.maximum((a * 2 + b) / 3, 0), ((3, 4), (3, 4)),
           lambda a, b: _inplace_chain(a, b), away_from=(0.0,)),
] + LAYER_OPS

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


# ------------------------------------------------------------------ Tensor ops: scatter, index_add,
# roll, movedim, tril/triu, repeat_interleave, cumprod, lerp, nan_to_num, outer, erf/erfc.
# Integer arguments (index, repeats) are nested tuples in the samples (readable test ids),
# turned into each library's int64 tensor by _with_indices.
_INTEGER_KWARGS = ("index", "repeats")


def _with_indices(call, library):
    """``call(*operands, **kwargs)`` with the samples' integer tuples as ``library``'s int64
    tensors (``library`` is tinygrad_cnn or torch)."""
    def run(*tensors, **kwargs):
        for key in _INTEGER_KWARGS:
            if isinstance(kwargs.get(key), (tuple, int)):
                kwargs[key] = library.tensor(np.array(kwargs[key], dtype=np.int64))
        return call(*tensors, **kwargs)
    return run


def _tensor_op(name, call, reference, sample_inputs, error_inputs, **options):
    """An OpInfo whose ``call`` reads the same in both libraries (a method or a function of
    the ``library`` module it is given)."""
    return OpInfo(name, _with_indices(lambda *a, **k: call(tg, *a, **k), tg), reference,
                  torch_op=torch and _with_indices(lambda *a, **k: call(torch, *a, **k), torch),
                  sample_inputs=sample_inputs, error_inputs=error_inputs, **options)


def _scatter_reference(x, src=None, dim=0, index=(), value=None, accumulate=False):
    """The loop: ``out[..., index[p], ...] = src[p]`` (``+=`` with ``accumulate``) for every
    position ``p`` of ``index``, ``index[p]`` at ``dim``."""
    out = np.array(x, copy=True)
    index = np.array(index)
    for position in np.ndindex(index.shape):
        target = list(position)
        if x.ndim:
            target[dim % x.ndim] = index[position]
        written = value if src is None else src[position]
        if accumulate:
            out[tuple(target)] += written
        else:
            out[tuple(target)] = written
    return out


def _index_add_reference(x, source, dim=0, index=(), alpha=1):
    out = np.array(x, copy=True)
    dim %= x.ndim
    for k, entry in enumerate(np.array(index).reshape(-1)):
        out[(slice(None),) * dim + (entry,)] += alpha * np.take(source, k, axis=dim)
    return out


SCATTER_SAMPLES = samples(
    (((3, 4), (2, 3)), dict(dim=1, index=((0, 1, 3), (2, 0, 1)))),
    # src larger than index: PyTorch's backward fails on it (docs/coming_from_pytorch.md)
    Sample(((3, 4), (3, 5)), dict(dim=-2, index=((1, 2, 0, 2), (0, 1, 2, 1))), torch=False),
    (((5,), (3,)), dict(dim=0, index=(4, 0, 2))),
    (((), ()), dict(dim=0, index=0)))
SCATTER_ADD_SAMPLES = samples(
    (((3, 4), (2, 4)), dict(dim=0, index=((0, 2, 0, 0), (0, 0, 1, 2)))),   # repeats add up
    (((2, 5), (2, 3)), dict(dim=-1, index=((4, 4, 0), (1, 1, 1)))),
    Sample(((4,), (5,)), dict(dim=0, index=(3, 3, 3)), torch=False),
    (((2, 4), (2, 4)), dict(dim=1, index=((3, 3, 3, 0), (1, 2, 1, 2)))))
INDEX_ADD_SAMPLES = samples(
    (((3, 4), (4, 4)), dict(dim=0, index=(2, 0, 2, 1))),
    (((3, 4), (3, 2)), dict(dim=-1, index=(3, 3), alpha=-0.5)),
    (((5,), (2,)), dict(dim=0, index=(4, 4), alpha=2)))


def _scatter_errors(op, call):
    return errors(
        (((3, 4), (2, 2)), dict(dim=1, index=((0, 4), (1, 1))), RuntimeError,
         rf"{op}: index must be in \[0, 4\) for dimension 1, got 4", call),
        (((3, 4), (2, 2)), dict(dim=1, index=((0, -1), (1, 1))), RuntimeError,
         rf"{op}: index must be in \[0, 4\) for dimension 1, got -1", call),
        (((3, 4), (2, 2)), dict(dim=2, index=((0, 1),)), IndexError,
         rf"{op}: axis 2 is out of range", call),
        (((3, 4), (2, 2)), dict(dim=1, index=(0, 1)), RuntimeError,
         rf"{op}: index must have as many dimensions as self, got index shape \(2,\) and "
         r"self shape \(3, 4\)", call),
        (((3, 4), (2, 2)), dict(dim=1, index=((0, 1, 1),)), RuntimeError,
         rf"{op}: index shape \(1, 3\) must be no larger than self shape \(3, 4\) apart from "
         r"dimension 1 and no larger than src shape \(2, 2\)", call),
        (((3, 4), (2, 2)), dict(dim=1, index=((0.0, 1.0),)), RuntimeError,
         rf"{op}: index must be an integer tensor, got float32",
         lambda x, src, dim, index: call(x, src, dim=dim, index=tg.tensor(index))))


def _index_add_errors(op, call):
    return errors(
        (((3, 4), (2, 4)), dict(dim=0, index=(0, 3)), RuntimeError,
         rf"{op}: index must be in \[0, 3\) for dimension 0, got 3", call),
        (((3, 4), (2, 3)), dict(dim=0, index=(0, 2)), RuntimeError,
         rf"{op}: source shape \(2, 3\) must match self shape \(3, 4\) apart from dimension 0",
         call),
        (((3, 4), (3, 4)), dict(dim=0, index=(0, 2)), RuntimeError,
         rf"{op}: index has 2 entries but source has 3 along dimension 0", call),
        (((3, 4), (2, 4)), dict(dim=0, index=((0, 2),)), IndexError,
         rf"{op}: index must be a 1-D tensor, got shape \(1, 2\)", call),
        (((3, 4), (2, 4)), dict(dim=0, index=(0, 2), alpha="a"), TypeError,
         rf"{op}: alpha must be a number, got str", call))


def _scatter(lib, x, src, dim, index):
    return x.scatter(dim, index, src)


def _scatter_value(lib, x, dim, index, value):
    return x.scatter(dim, index, value)


def _scatter_add(lib, x, src, dim, index):
    return lib.scatter_add(x, dim, index, src)


def _index_add(lib, x, source, dim, index, alpha=1):
    return x.index_add(dim, index, source, alpha=alpha)


def _scatter_inplace(lib, x, src, dim, index):
    return (x * 1).scatter_(dim, index, src)


def _scatter_add_inplace(lib, x, src, dim, index):
    return (x * 1).scatter_add_(dim, index, src)


def _index_add_inplace(lib, x, source, dim, index, alpha=1):
    return (x * 1).index_add_(dim, index, source, alpha=alpha)


def _erf_reference(function):
    return lambda x: np.vectorize(function)(x)


# +inf, -inf and NaN added to the inputs, for nan_to_num to replace (gradient 0 there)
_SPECIALS = np.array([[np.nan, 0.0, np.inf, 0.0], [0.0, -np.inf, 0.0, np.nan], [0.0] * 4])


def _nan_to_num(lib, x, **options):
    return (x + lib.tensor(_SPECIALS.astype(np.dtype(str(x.dtype).split(".")[-1])))) \
        .nan_to_num(**options)


TENSOR_OPS = [
    _tensor_op("scatter", _scatter, _scatter_reference, SCATTER_SAMPLES,
               _scatter_errors("scatter", _with_indices(lambda *a, **k: _scatter(tg, *a, **k),
                                                         tg))),
    _tensor_op("scatter_value", _scatter_value,
               lambda x, dim, index, value: _scatter_reference(x, None, dim, index, value),
               samples((((3, 4),), dict(dim=1, index=((0, 3), (1, 1)), value=2.5)),
                       (((2, 3),), dict(dim=-2, index=((1, 0, 1),), value=-1))),
               errors((((2, 3),), dict(dim=0, index=((1,),), value="a"), TypeError,
                       "scatter: value must be a number or src a Tensor, got str",
                       _with_indices(lambda *a, **k: _scatter_value(tg, *a, **k), tg))),
               error_name="scatter"),
    _tensor_op("scatter_add", _scatter_add,
               lambda x, src, dim, index: _scatter_reference(x, src, dim, index,
                                                             accumulate=True),
               SCATTER_ADD_SAMPLES,
               _scatter_errors("scatter_add",
                               _with_indices(lambda *a, **k: _scatter_add(tg, *a, **k), tg))),
    _tensor_op("index_add", _index_add, _index_add_reference, INDEX_ADD_SAMPLES,
               _index_add_errors("index_add",
                                 _with_indices(lambda *a, **k: _index_add(tg, *a, **k), tg))),
    _tensor_op("scatter_", _scatter_inplace, _scatter_reference, SCATTER_SAMPLES,
               errors((((3,), (1,)), dict(dim=0, index=(0,)), RuntimeError,
                       "scatter_: a leaf Variable that requires grad",
                       _with_indices(lambda x, src, **k: x.requires_grad_().scatter_(
                           k["dim"], k["index"], src), tg)))),
    _tensor_op("scatter_add_", _scatter_add_inplace,
               lambda x, src, dim, index: _scatter_reference(x, src, dim, index,
                                                             accumulate=True),
               SCATTER_ADD_SAMPLES,
               _scatter_errors("scatter_add_", _with_indices(
                   lambda *a, **k: _scatter_add_inplace(tg, *a, **k), tg))),
    _tensor_op("index_add_", _index_add_inplace, _index_add_reference, INDEX_ADD_SAMPLES,
               _index_add_errors("index_add_", _with_indices(
                   lambda *a, **k: _index_add_inplace(tg, *a, **k), tg))),
    _tensor_op("roll", lambda lib, x, **k: x.roll(**k),
               lambda x, shifts, dims=None: np.roll(x, shifts, axis=dims),
               samples((((3, 4),), dict(shifts=5)),
                       (((2, 3, 4),), dict(shifts=(1, -5), dims=(0, -1))),
                       (((3, 4),), dict(shifts=(2, 2), dims=(1, 1)))),
               errors((((3, 4),), dict(shifts=(1, 2), dims=(0,)), RuntimeError,
                       r"roll: shifts and dims must have the same length, got shifts \(1, 2\) "
                       r"and dims \(0,\)", lambda x, **k: x.roll(**k)),
                      (((3, 4),), dict(shifts=1, dims=2), IndexError,
                       "roll: axis 2 is out of range", lambda x, **k: x.roll(**k)),
                      (((3, 4),), dict(shifts=1.5, dims=0), TypeError,
                       "roll: shifts must be an int, got 1.5", lambda x, **k: x.roll(**k)))),
    _tensor_op("movedim", lambda lib, x, **k: lib.movedim(x, **k),
               lambda x, source, destination: np.moveaxis(x, source, destination),
               samples((((2, 3, 4),), dict(source=0, destination=-1)),
                       (((2, 3, 4),), dict(source=(0, -1), destination=(2, 0))),
                       (((3, 4),), dict(source=(), destination=()))),
               errors((((2, 3),), dict(source=(0, 1), destination=(1,)), RuntimeError,
                       r"movedim: source and destination must name as many dims, got source "
                       r"\(0, 1\) and destination \(1,\)"),
                      (((2, 3),), dict(source=(0, 0), destination=(1, 0)), RuntimeError,
                       r"movedim: repeated dim in source \(0, 0\)"),
                      (((2, 3),), dict(source=2, destination=0), IndexError,
                       "movedim: axis 2 is out of range"),
                      (((2, 3),), dict(source=0, destination=-3), IndexError,
                       "movedim: axis -3 is out of range", lambda x, **k: tg.moveaxis(x, **k)))),
    _tensor_op("tril", lambda lib, x, **k: x.tril(**k),
               lambda x, diagonal=0: np.tril(x, diagonal),
               samples(((3, 4),), (((2, 3, 4),), dict(diagonal=-1)),
                       (((4, 3),), dict(diagonal=2)), (((2, 2),), dict(diagonal=-5))),
               errors((((3,),), {}, RuntimeError,
                       r"tril: input must have at least 2 dimensions, got shape \(3,\)",
                       lambda x: x.tril()),
                      (((3, 3),), dict(diagonal=1.5), TypeError,
                       "tril: diagonal must be an int", lambda x, **k: x.tril(**k)))),
    _tensor_op("triu", lambda lib, x, **k: lib.triu(x, **k),
               lambda x, diagonal=0: np.triu(x, diagonal),
               samples(((3, 4),), (((2, 3, 4),), dict(diagonal=1)),
                       (((4, 3),), dict(diagonal=-2))),
               errors((((),), {}, RuntimeError, "triu: input must have at least 2 dimensions",
                       lambda x: tg.triu(x)))),
    _tensor_op("repeat_interleave", lambda lib, x, **k: x.repeat_interleave(**k),
               lambda x, repeats, dim=None: np.repeat(x, repeats, axis=dim),
               samples((((3, 4),), dict(repeats=2)),
                       (((3, 4),), dict(repeats=(1, 0, 3), dim=0)),
                       (((2, 3),), dict(repeats=(2,), dim=-1)),
                       (((2, 3),), dict(repeats=(3, 1, 2), dim=-1))),
               errors((((2, 3),), dict(repeats=(1, 2), dim=1), RuntimeError,
                       r"repeat_interleave: repeats must have one count per entry of dimension "
                       r"1 \(size 3\), got 2 counts"),
                      (((2, 3),), dict(repeats=-1), RuntimeError,
                       "repeat_interleave: repeats must be non-negative, got -1"),
                      (((2, 3),), dict(repeats=((1, 2),), dim=0), RuntimeError,
                       r"repeat_interleave: repeats must be a 0-d or 1-D tensor, got shape "
                       r"\(1, 2\)"),
                      (((2, 3),), dict(repeats=2, dim=2), IndexError,
                       "repeat_interleave: axis 2 is out of range"))),
    _tensor_op("cumprod", lambda lib, x, dim: x.cumprod(dim),
               lambda x, dim: np.cumprod(x, axis=dim),
               samples((((3, 4),), dict(dim=1)), (((2, 3, 4),), dict(dim=-3)),
                       (((5,),), dict(dim=0)), (((),), dict(dim=-1))),
               errors((((2, 3),), dict(dim=2), IndexError, "cumprod: axis 2 is out of range",
                       lambda x, dim: x.cumprod(dim)))),
    _tensor_op("lerp", lambda lib, a, b, w: lib.lerp(a, b, w),
               lambda a, b, w: a + w * (b - a),
               samples(((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), (1, 4)), ((2, 3), (3,), ())),
               errors((((2,), (3,), (2,)), {}, RuntimeError,
                       r"lerp: shapes \(2,\) and \(3,\) and \(2,\) cannot be broadcast",
                       lambda a, b, w: tg.lerp(a, b, w)),
                      (((2,), (2,), (2,)), {}, RuntimeError,
                       "lerp: end must have input's dtype float64, got float32",
                       lambda a, b, w: tg.lerp(a, b.float(), w)))),
    _tensor_op("lerp_scalar", lambda lib, a, b, weight: a.lerp(b, weight),
               lambda a, b, weight: a + weight * (b - a),
               samples((((3, 4), (3, 4)), dict(weight=0.3)),
                       (((2, 3), (3,)), dict(weight=-1.5))),
               errors((((2,), (2,)), dict(weight="a"), TypeError,
                       "lerp: weight must be a number, got 'a'",
                       lambda a, b, weight: a.lerp(b, weight))), error_name="lerp"),
    _tensor_op("nan_to_num", _nan_to_num,
               lambda x, **k: np.nan_to_num(x + _SPECIALS, **k),
               samples(((3, 4),), (((3, 4),), dict(nan=2.0, posinf=3.0, neginf=-3.0)),
                       (((3, 4),), dict(neginf=0.5))),
               errors((((3,),), dict(nan="a"), TypeError, "nan_to_num: nan must be a number",
                       lambda x, nan: x.nan_to_num(nan=nan)))),
    _tensor_op("outer", lambda lib, a, b: lib.outer(a, b), np.outer,
               samples(((3,), (4,)), ((1,), (5,))),
               errors((((2, 1), (3,)), {}, RuntimeError,
                       r"outer: input must be 1-D, got shape \(2, 1\)",
                       lambda a, b: tg.outer(a, b)),
                      (((2,), ()), {}, RuntimeError,
                       r"outer: vec2 must be 1-D, got shape \(\)", lambda a, b: a.outer(b)))),
    _tensor_op("erf", lambda lib, x: x.erf(), _erf_reference(math.erf),
               samples(((3, 4),), ((),)),
               errors((((2,),), {}, TypeError, "erf: input must be a Tensor",
                       lambda x: tg.erf(x.tolist())))),
    _tensor_op("erfc", lambda lib, x: lib.erfc(x), _erf_reference(math.erfc),
               samples(((3, 4),), ((5,),)),
               errors((((2,),), {}, TypeError, "erfc: input must be a Tensor",
                       lambda x: tg.erfc(x.tolist())))),
]
OPS += TENSOR_OPS


# Ops that take nothing but one float Tensor: there is no invalid input to give them.
WITHOUT_INVALID_INPUT = {"neg", "exp", "log", "sqrt", "abs", "T",
                         "sin", "cos", "log1p", "expm1", "rsqrt", "clone", "inplace_chain"}

BY_NAME = {info.name: info for info in OPS}
CASES = [(info, sample) for info in OPS for sample in info.samples()]
ERROR_CASES = [(info, error) for info in OPS for error in info.errors()]
