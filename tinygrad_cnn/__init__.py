"""tinygrad_cnn: a small, fast, honest deep-learning framework on numpy and scipy.

The public surface, spelled as PyTorch's ``torch`` namespace (``import tinygrad_cnn as
torch``): the Tensor and its functions, factories, dtypes, devices, random generators, grad
modes and the subpackages.  See ``docs/api.md`` for every name.
"""

import numpy as _np

from . import (
    autograd,
    backends,
    data,
    functional,
    gradcheck,
    nn,
    onnx,
    optim,
    testing,
    utils,
    viz,
)
from .autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .devices import cuda, device
from .factories import (
    arange,
    as_tensor,
    cat,
    concat,
    concatenate,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    hstack,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    stack,
    tensor,
    vstack,
    zeros,
    zeros_like,
)
from .io import load, save
from .ops.threads import get_num_threads, set_num_threads
from .random import (
    Generator,
    are_deterministic_algorithms_enabled,
    default_generator,
    get_rng_state,
    initial_seed,
    is_deterministic_algorithms_warn_only_enabled,
    manual_seed,
    seed,
    set_rng_state,
    use_deterministic_algorithms,
)
from .tensor import Size, Tensor
from .tensor_einsum import einsum
from .tensor_math import (
    abs,
    add,
    allclose,
    bmm,
    ceil,
    clamp,
    clip,
    cos,
    div,
    divide,
    eq,
    equal,
    erf,
    erfc,
    exp,
    expm1,
    floor,
    floor_divide,
    ge,
    ger,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    masked_fill,
    matmul,
    maximum,
    minimum,
    mm,
    mul,
    multiply,
    nan_to_num,
    ne,
    neg,
    negative,
    nonzero,
    outer,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    subtract,
    tanh,
    true_divide,
    trunc,
    where,
)
from .tensor_methods import install as _install
from .tensor_misc import (
    argwhere,
    bernoulli,
    bincount,
    bucketize,
    diag,
    finfo,
    get_float32_matmul_precision,
    iinfo,
    kthvalue,
    median,
    meshgrid,
    mode,
    multinomial,
    quantile,
    rot90,
    searchsorted,
    set_float32_matmul_precision,
    std_mean,
    take_along_dim,
    tensor_split,
    unique,
    var_mean,
)
from .tensor_reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    count_nonzero,
    cumprod,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    sort,
    std,
    sum,
    topk,
    var,
)
from .tensor_shape import (
    broadcast_to,
    chunk,
    clone,
    flatten,
    flip,
    gather,
    index_add,
    index_select,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat_interleave,
    reshape,
    roll,
    scatter,
    scatter_add,
    select,
    split,
    squeeze,
    swapaxes,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
)

_install()  # binds Tensor's methods (tensor_methods.install), once, here

__version__ = "0.2.0.dev0"

# dtypes: numpy's, so ``t.dtype == tinygrad_cnn.float32`` and numpy code agree.
float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)
int16 = short = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)
dtype = _np.dtype


def is_tensor(obj) -> "bool":
    """True if ``obj`` is a Tensor."""
    return isinstance(obj, Tensor)


def numel(input) -> "int":
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input) -> "bool":
    """True if ``input`` has a floating point dtype."""
    return input.is_floating_point()


def get_default_dtype():
    """The dtype Python floats become: float32."""
    return float32


swapdims = swapaxes

__all__ = [
    # core
    "Tensor", "Size", "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "autograd", "inference_mode",
    "is_inference_mode_enabled", "is_tensor", "numel", "is_floating_point",
    "get_default_dtype", "set_num_threads", "get_num_threads",
    # random
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    # devices
    "device", "cuda", "backends",
    # dtypes
    "dtype", "float32", "float", "float64", "double", "float16", "half", "int64", "long",
    "int32", "int", "int16", "short", "int8", "uint8", "bool",
    # factories
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
    "ones_like", "empty_like", "full_like", "rand", "randn", "rand_like", "randn_like",
    "randint", "randint_like", "randperm", "arange", "linspace", "eye",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack",
    # math
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "pow", "matmul", "mm", "bmm", "neg", "negative", "exp",
    "log", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal", "square", "abs", "sin", "cos",
    "tanh", "sigmoid", "relu", "sign", "floor", "ceil", "round", "trunc", "maximum",
    "minimum", "clamp", "clip", "where", "masked_fill", "nonzero", "eq", "ne", "lt", "le",
    "gt", "ge", "isnan", "isinf", "isfinite", "allclose", "isclose", "equal", "logical_not",
    "logical_and", "logical_or", "logical_xor", "erf", "erfc", "lerp", "nan_to_num", "outer",
    "ger",
    # reductions
    "sum", "mean", "var", "std", "prod", "cumsum", "cumprod", "logsumexp", "softmax", "log_softmax",
    "norm", "amax", "amin",
    "max", "min", "argmax", "argmin", "sort", "argsort", "topk", "all", "any",
    "count_nonzero",
    # shape
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
    "swapaxes", "swapdims", "t", "narrow", "select", "split", "chunk", "unbind", "flip",
    "clone", "gather", "index_select", "broadcast_to", "scatter", "scatter_add", "index_add",
    "roll", "movedim", "moveaxis", "tril", "triu", "repeat_interleave",
    # io and subpackages
    "save", "load", "functional", "data", "utils", "gradcheck", "testing", "nn", "optim",
    "viz", "onnx",
    # einsum and the small torch-level names
    "einsum", "set_float32_matmul_precision", "get_float32_matmul_precision", "finfo",
    "iinfo", "std_mean", "var_mean", "bincount", "unique", "meshgrid", "diag", "rot90",
    "take_along_dim", "argwhere", "searchsorted", "bucketize", "tensor_split", "bernoulli",
    "multinomial", "median", "kthvalue", "mode", "quantile",
]
