"""Parameters to one flat vector and back (``torch.nn.utils.parameters_to_vector``)."""

from ...factories import concatenate
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one vector, in order (differentiable: a
    gradient of the vector flows back to the parameters)."""
    return concatenate([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Make each parameter the next ``numel`` elements of ``vec``, reshaped to its shape.

    As PyTorch (which replaces ``param.data``), each parameter then shares memory with
    ``vec``; its gradient and graph are left alone.  Elements beyond the parameters are
    ignored; too few is a ``RuntimeError``.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected Tensor, but got: "
                        f"{type(vec).__name__}")
    flat = vec._data.reshape(-1)
    pointer = 0
    for param in parameters:
        count = param._data.size
        if pointer + count > flat.size:
            raise RuntimeError(
                f"vector_to_parameters: the vector has {flat.size} elements but the "
                f"parameters need at least {pointer + count} (parameter of shape "
                f"{param.shape} at element {pointer})")
        param._data = flat[pointer:pointer + count].reshape(param.shape)
        pointer += count
