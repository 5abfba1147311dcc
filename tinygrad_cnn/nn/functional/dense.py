"""Dense (fully connected) layers as functions: ``linear`` (``torch.nn.functional.linear``)."""

from ..._checks import check_tensor
from ...tensor import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """``x @ weight.T + bias``.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    check_tensor("linear", "input", x)
    check_tensor("linear", "weight", weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but "
            f"weight expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    output = x @ weight.T
    if bias is not None:
        check_tensor("linear", "bias", bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}"
            )
        output = output + bias
    return output
