"""Weight initialisation, in place, as ``torch.nn.init``.

Every function fills the tensor in place from :func:`tinygrad_cnn.random.generator`
(so :func:`tinygrad_cnn.manual_seed` makes it repeatable), records no graph, and returns the
tensor.  PyTorch's layers initialise themselves with :func:`kaiming_uniform_` and
``a=sqrt(5)``, which works out to the uniform bound ``1/sqrt(fan_in)`` for weights and biases.
"""

import math

import numpy as np

from ..random import generator
from ..tensor import Tensor


def _check_tensor(name: str, tensor) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    return tensor._data


def _fill(tensor: Tensor, values) -> Tensor:
    tensor._data[...] = values
    tensor._bump_version()  # an in-place change, as PyTorch's init functions make
    return tensor


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
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with values drawn from U(a, b)."""
    data = _check_tensor("uniform_", tensor)
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _fill(tensor, generator().uniform(a, b, size=data.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with values drawn from N(mean, std**2)."""
    data = _check_tensor("normal_", tensor)
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, generator().normal(mean, std, size=data.shape))


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


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu"):
    """He initialisation: U(-bound, bound), ``bound = gain * sqrt(3 / fan)``.

    With ``a=sqrt(5)`` (what PyTorch's layers use) the bound is ``1/sqrt(fan_in)``.
    """
    _check_tensor("kaiming_uniform_", tensor)
    fan = _fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan > 0 else 0.0
    return _fill(tensor, generator().uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu"):
    """He initialisation: N(0, std**2), ``std = gain / sqrt(fan)``."""
    _check_tensor("kaiming_normal_", tensor)
    fan = _fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan > 0 else 0.0
    return _fill(tensor, generator().normal(0.0, std, size=tensor.shape))


def xavier_uniform_(tensor, gain: float = 1.0):
    """Glorot initialisation: U(-bound, bound), ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
    return _fill(tensor, generator().uniform(-bound, bound, size=tensor.shape))


def xavier_normal_(tensor, gain: float = 1.0):
    """Glorot initialisation: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
    return _fill(tensor, generator().normal(0.0, std, size=tensor.shape))


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
