"""Dense (fully connected) layers as functions: ``linear`` (``torch.nn.functional.linear``)."""

from ..._checks import ShapeError, check_float, check_tensor
from ...tensor import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """``x @ weight.T + bias``.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    check_tensor("linear", "input", x)
    check_tensor("linear", "weight", weight)
    check_float("linear", "input", x.dtype)
    check_float("linear", "weight", weight.dtype)
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but "
            f"weight expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    output = x @ weight.T
    if bias is not None:
        check_tensor("linear", "bias", bias)
        check_float("linear", "bias", bias.dtype)
        # as PyTorch, any bias that broadcasts to the output's last dimension is accepted
        if bias.ndim > 1 and bias.shape[:-1] != (1,) * (bias.ndim - 1) or \
                bias.ndim and bias.shape[-1] not in (1, weight.shape[0]):
            raise ShapeError(
                f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}"
            )
        output = output + bias
    return output
