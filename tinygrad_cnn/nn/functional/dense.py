"""Dense (fully connected) layers as functions: ``linear`` and ``bilinear`` (as
``torch.nn.functional``)."""

import numpy as np

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


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """``y_o = sum_ij input1_i weight_oij input2_j + bias_o``
    (``torch.nn.functional.bilinear``).

    input1: ``(*, in1)``, input2: ``(*, in2)`` with the same leading dims (no broadcasting, as
    PyTorch), weight: ``(out, in1, in2)``, bias: ``(out,)`` -> ``(*, out)``; one matrix
    product with ``weight`` laid out ``(in1, out * in2)``, then a product with ``input2``
    summed over ``in2``.
    """
    op = "bilinear"
    for name, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        check_tensor(op, name, value)
        check_float(op, name, value.dtype)
    if input1.ndim != input2.ndim:
        raise ShapeError(f"{op}: input dimensions do not match: got {input1.ndim} and "
                         f"{input2.ndim} (shapes {input1.shape} and {input2.shape})")
    if input1.ndim == 0:
        raise ShapeError(f"{op}: inputs must have a feature dimension, got 0-d tensors")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"{op}: input batch dimensions do not match: got shapes "
                         f"{input1.shape} and {input2.shape}")
    if weight.ndim != 3:
        raise ShapeError(f"{op}: weight must be 3-D (out, in1, in2), got shape {weight.shape}")
    out, in1, in2 = weight.shape
    for name, value, expected in (("input1", input1, in1), ("input2", input2, in2)):
        if value.shape[-1] != expected:
            raise ShapeError(f"{op}: {name} size does not match weight size: got "
                             f"{value.shape[-1]} but expected {expected} (weight shape "
                             f"{weight.shape})")
    lead = input1.shape[:-1]
    rows = int(np.prod(lead))  # explicit: a -1 is ambiguous when a size is 0
    mixed = input1.reshape(rows, in1) @ weight.permute(1, 0, 2).reshape(in1, out * in2)
    output = (mixed.reshape(rows, out, in2) * input2.reshape(rows, 1, in2)).sum(2)
    if bias is not None:
        check_tensor(op, "bias", bias)
        check_float(op, "bias", bias.dtype)
        if bias.shape != (out,):
            raise ShapeError(f"{op}: bias size does not match weight size: got {bias.shape} "
                             f"but expected ({out},)")
        output = output + bias
    return output.reshape(*lead, out)
