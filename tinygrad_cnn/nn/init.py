"""Weight initialisation, in place, as ``torch.nn.init``.

Every function fills the tensor's array in place (recording no graph, as PyTorch's run under
``no_grad``) from :func:`tinygrad_cnn.random.generator`, or from ``generator=`` when given,
so :func:`tinygrad_cnn.manual_seed` makes it repeatable; each returns the tensor.  PyTorch's
layers initialise themselves with :func:`kaiming_uniform_` and ``a=sqrt(5)``, which works out
to the uniform bound ``1/sqrt(fan_in)`` for weights and biases.
"""

import math
import warnings

import numpy as np
from scipy import special

from .._checks import is_real
from ..random import generator as default_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "calculate_fan_in_and_fan_out", "uniform_", "normal_", "trunc_normal_",
    "constant_", "ones_", "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_", "default_layer_init_",
]


def _check_tensor(name: str, tensor) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be a Tensor, got {type(tensor).__name__}")
    return tensor._data


def _rng(op: str, generator) -> np.random.Generator:
    """The numpy generator to draw from: the library's, or the one behind ``generator``."""
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "_rng", None)
    if isinstance(inner, np.random.Generator):
        return inner
    raise TypeError(f"{op}: generator must be a Generator, got {type(generator).__name__}")


def _fill(tensor: Tensor, values) -> Tensor:
    tensor._data[...] = values
    tensor._bump_version()  # an in-place change, as PyTorch's init functions make
    return tensor


def _nonempty(op: str, data: np.ndarray) -> bool:
    if data.size == 0:
        warnings.warn(f"{op}: initializing zero-element tensors is a no-op", UserWarning,
                      stacklevel=3)
        return False
    return True


# ------------------------------------------------------------------ fans and gains
def calculate_fan_in_and_fan_out(tensor) -> tuple:
    """``(fan_in, fan_out)`` of a weight as PyTorch computes them.

    For a weight of shape ``(dim0, dim1, *kernel)``: ``fan_in = dim1 * prod(kernel)`` and
    ``fan_out = dim0 * prod(kernel)``.  (For a transposed convolution, whose weight is
    ``(C_in, C_out/groups, kH, kW)``, PyTorch uses the same rule, so ``fan_in`` comes from
    ``C_out/groups``; we do the same so the two libraries start alike.)
    """
    data = _check_tensor("calculate_fan_in_and_fan_out", tensor)
    if data.ndim < 2:
        raise ValueError(
            "calculate_fan_in_and_fan_out: fan in and fan out cannot be computed for a tensor "
            f"with fewer than 2 dimensions (shape {data.shape})"
        )
    receptive_field = int(np.prod(data.shape[2:], dtype=np.int64))
    return data.shape[1] * receptive_field, data.shape[0] * receptive_field


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # PyTorch's private spelling


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity`` (as ``torch.nn.init.calculate_gain``)."""
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif is_real(param):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fan(op: str, tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode {mode!r} not supported, please use one of 'fan_in', "
                         "'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ------------------------------------------------------------------ plain distributions
def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with values drawn from U(a, b)."""
    data = _check_tensor("uniform_", tensor)
    if not a <= b:
        raise ValueError(f"uniform_: a must be <= b, got a={a}, b={b}")
    return _fill(tensor, _rng("uniform_", generator).uniform(a, b, size=data.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with values drawn from N(mean, std**2)."""
    data = _check_tensor("normal_", tensor)
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, _rng("normal_", generator).normal(mean, std, size=data.shape))


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None):
    """Fill with N(mean, std**2) truncated to ``[a, b]`` (absolute bounds, as PyTorch):
    inverse-CDF sampling of a uniform draw, so every value lies in the interval."""
    data = _check_tensor("trunc_normal_", tensor)
    if std <= 0 or not a < b:
        raise ValueError(f"trunc_normal_: need std > 0 and a < b, got std={std}, a={a}, b={b}")
    low = special.ndtr((a - mean) / std)
    high = special.ndtr((b - mean) / std)
    uniform = _rng("trunc_normal_", generator).uniform(low, high, size=data.shape)
    values = mean + std * special.ndtri(uniform)
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor, val: float):
    """Fill with ``val``."""
    _check_tensor("constant_", tensor)
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with zeros."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with ones."""
    return constant_(tensor, 1)


# ------------------------------------------------------------------ structured
def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal) (``torch.nn.init.eye_``)."""
    data = _check_tensor("eye_", tensor)
    if data.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape "
                         f"{data.shape}")
    return _fill(tensor, np.eye(*data.shape, dtype=data.dtype))


def dirac_(tensor, groups: int = 1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta, so the convolution
    passes its input through (per group) (``torch.nn.init.dirac_``)."""
    data = _check_tensor("dirac_", tensor)
    if data.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got "
                         f"shape {data.shape}")
    if data.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({data.shape[0]}) must be divisible by groups "
                         f"({groups})")
    out_per_group = data.shape[0] // groups
    channels = min(out_per_group, data.shape[1])
    values = np.zeros(data.shape, dtype=data.dtype)
    centre = tuple(size // 2 for size in data.shape[2:])
    for group in range(groups):
        for channel in range(channels):
            values[(group * out_per_group + channel, channel) + centre] = 1
    return _fill(tensor, values)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of a QR decomposition of a
    normal draw, signs fixed by R's diagonal, as PyTorch (``torch.nn.init.orthogonal_``).
    Dimensions past the first are flattened."""
    data = _check_tensor("orthogonal_", tensor)
    if data.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {data.shape}")
    if data.size == 0:
        return tensor
    rows = data.shape[0]
    cols = data.size // rows
    flat = _rng("orthogonal_", generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(data.shape))


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill a 2-D tensor with N(0, std**2) values and zero ``ceil(sparsity * rows)`` random
    entries of each column (``torch.nn.init.sparse_``)."""
    data = _check_tensor("sparse_", tensor)
    if data.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{data.shape}")
    rows, cols = data.shape
    zeros_per_column = int(math.ceil(sparsity * rows))
    rng = _rng("sparse_", generator)
    values = rng.normal(0.0, std, size=data.shape)
    for column in range(cols):
        values[rng.permutation(rows)[:zeros_per_column], column] = 0
    return _fill(tensor, values)


# ------------------------------------------------------------------ scaled by fan
def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """He initialisation: U(-bound, bound), ``bound = gain * sqrt(3 / fan)``.

    With ``a=sqrt(5)`` (what PyTorch's layers use) the bound is ``1/sqrt(fan_in)``.
    """
    data = _check_tensor("kaiming_uniform_", tensor)
    if not _nonempty("kaiming_uniform_", data):
        return tensor
    fan = _fan("kaiming_uniform_", tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan > 0 else 0.0
    return _fill(tensor, _rng("kaiming_uniform_", generator).uniform(-bound, bound,
                                                                     size=data.shape))


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """He initialisation: N(0, std**2), ``std = gain / sqrt(fan)``."""
    data = _check_tensor("kaiming_normal_", tensor)
    if not _nonempty("kaiming_normal_", data):
        return tensor
    fan = _fan("kaiming_normal_", tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan > 0 else 0.0
    return _fill(tensor, _rng("kaiming_normal_", generator).normal(0.0, std, size=data.shape))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot initialisation: U(-bound, bound), ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    data = _check_tensor("xavier_uniform_", tensor)
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
    return _fill(tensor, _rng("xavier_uniform_", generator).uniform(-bound, bound,
                                                                    size=data.shape))


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot initialisation: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    data = _check_tensor("xavier_normal_", tensor)
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
    return _fill(tensor, _rng("xavier_normal_", generator).normal(0.0, std, size=data.shape))


def default_layer_init_(weight, bias=None) -> None:
    """PyTorch's default for Linear and convolution layers.

    ``kaiming_uniform_(weight, a=sqrt(5))`` (bound ``1/sqrt(fan_in)``), then the bias from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn in that order.
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
