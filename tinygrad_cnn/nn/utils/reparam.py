"""Hook-based weight reparametrisations (``torch.nn.utils.weight_norm``/``spectral_norm``).

Each replaces a parameter (``weight``) by new parameters and buffers and registers a forward
pre-hook that recomputes ``module.weight`` as a plain (non-registered) ``Tensor`` from them
before every ``forward``, in the graph, so gradients reach the new parameters.  State-dict
keys, shapes and error types are PyTorch's.
"""

import warnings

import numpy as np

from ...autograd import no_grad
from ...random import generator as default_generator
from ...tensor import Tensor
from ..parameter import Parameter


def _hook_for(module, kind, name):
    """The key and hook of kind ``kind`` reparametrising ``name`` on ``module``, or None."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key, hook
    return None


def _check_module(function: str, module) -> None:
    from ..module import Module
    if not isinstance(module, Module):
        raise TypeError(f"{function}: module must be an nn.Module, got {type(module).__name__}")


def _check_dim(function: str, dim, ndim: int, error=IndexError) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{function}: argument 'dim' must be an int or None, got "
                        f"{type(dim).__name__}")
    if not -ndim <= dim < ndim:
        raise error(f"{function}: argument 'dim' out of range (expected to be in range of "
                    f"[{-ndim}, {ndim - 1}], but got {dim})")
    return int(dim)


# ---------------------------------------------------------------------------- weight norm
def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim`` (kept, size 1 elsewhere); over
    all of ``v`` (0-d) for ``dim == -1``, as ``torch.norm_except_dim``."""
    if dim == -1:
        return v.norm()
    keep = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != keep)
    return v.norm(dim=others, keepdim=True) if others else v.abs()


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: ``name = g * v / ||v||``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name: str = "weight", dim=0):
    """Reparametrise ``module.<name>`` as ``g * v / ||v||`` (``torch.nn.utils.weight_norm``).

    The parameter is replaced by ``<name>_g`` (the norm over every dimension but ``dim``,
    that dimension kept, size 1 elsewhere; a 0-d norm of the whole tensor when ``dim`` is
    ``None`` or ``-1``) and ``<name>_v`` (the old values); ``module.<name>`` is recomputed
    from them before each forward.  Emits PyTorch's ``FutureWarning`` (deprecated in favour
    of the parametrizations API).  Returns ``module``.
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    _check_module("weight_norm", module)
    if _hook_for(module, WeightNorm, name) is not None:
        raise RuntimeError(f"weight_norm: Cannot register two weight_norm hooks on the same "
                           f"parameter {name}")
    if name not in module._parameters:
        if not hasattr(module, name):
            raise AttributeError(f"weight_norm: '{type(module).__name__}' object has no "
                                 f"attribute '{name}' (argument 'name')")
        raise KeyError(f"weight_norm: '{name}' is not a parameter of "
                       f"{type(module).__name__} (argument 'name')")
    weight = module._parameters[name]
    if weight is None:
        raise TypeError(f"weight_norm: parameter '{name}' (argument 'name') must be a "
                        "Tensor, not NoneType")
    fn = WeightNorm(name, dim)
    if fn.dim != -1:
        _check_dim("weight_norm", fn.dim, weight.ndim)
    with no_grad():
        g = _norm_except_dim(weight, fn.dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(g.detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo :func:`weight_norm`: ``<name>`` becomes a parameter again holding ``g * v /
    ||v||``; ``ValueError`` if ``name`` is not weight-normed.  Returns ``module``."""
    _check_module("remove_weight_norm", module)
    found = _hook_for(module, WeightNorm, name)
    if found is None:
        raise ValueError(f"remove_weight_norm: weight_norm of '{name}' not found in {module}")
    key, hook = found
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module


# -------------------------------------------------------------------------- spectral norm
def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    """``x / max(||x||, eps)`` (``torch.nn.functional.normalize`` of a vector)."""
    return x / max(float(np.linalg.norm(x)), eps)


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: ``name = name_orig / sigma``."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """``weight`` with ``dim`` moved first and the rest flattened: ``(h, w)``."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u_buffer = getattr(module, self.name + "_u")
        v_buffer = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            # In place on the buffers and outside the graph, as PyTorch's (under no_grad).
            mat = weight_mat._data
            u, v = u_buffer._data, v_buffer._data
            for _ in range(self.n_power_iterations):
                v[...] = _normalize(mat.T @ u, self.eps)
                u[...] = _normalize(mat @ v, self.eps)
        u = Tensor(u_buffer._data.copy())  # constants: no gradient flows through u, v
        v = Tensor(v_buffer._data.copy())
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (``torch.nn.utils.spectral_norm``).

    The parameter moves to ``<name>_orig``; buffers ``<name>_u`` (length ``h``) and
    ``<name>_v`` (length ``w``) of the ``(h, w)`` matrix view (``dim`` first, the rest
    flattened) start as normalised normal draws from the library's seeded generator.  Before
    each forward, in training mode only, ``n_power_iterations`` steps of power iteration
    update ``u`` and ``v`` in place (outside the graph); then ``module.<name> =
    <name>_orig / sigma`` with ``sigma = u^T W v`` in the graph (``u``, ``v`` constants).
    ``dim`` defaults to 1 for ``ConvTranspose`` layers, else 0.  Returns ``module``.
    """
    from ..conv import _ConvTransposeNd
    _check_module("spectral_norm", module)
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    if _hook_for(module, SpectralNorm, name) is not None:
        raise RuntimeError(f"spectral_norm: Cannot register two spectral_norm hooks on the "
                           f"same parameter {name}")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations,
                                                                (int, np.integer)):
        raise TypeError("spectral_norm: argument 'n_power_iterations' must be an int, got "
                        f"{type(n_power_iterations).__name__}")
    if n_power_iterations <= 0:
        raise ValueError("spectral_norm: Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")
    if name not in module._parameters:
        raise KeyError(f"spectral_norm: '{name}' is not a parameter of "
                       f"{type(module).__name__} (argument 'name')")
    weight = module._parameters[name]
    if weight is None:
        raise ValueError(f"spectral_norm: `SpectralNorm` cannot be applied as parameter "
                         f"`{name}` is None (argument 'name')")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) \
            or not 0 <= dim < weight.ndim:
        raise RuntimeError(f"spectral_norm: argument 'dim' must be a dimension of the "
                           f"{weight.ndim}-d parameter '{name}' in [0, {weight.ndim - 1}], "
                           f"got {dim!r}")
    fn = SpectralNorm(name, int(n_power_iterations), int(dim), eps)
    h, w = fn.reshape_weight_to_matrix(weight).shape
    rng = default_generator()
    dtype = weight._data.dtype
    u = _normalize(rng.normal(0.0, 1.0, size=h).astype(dtype), eps)
    v = _normalize(rng.normal(0.0, 1.0, size=w).astype(dtype), eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", Tensor(u.astype(dtype)))
    module.register_buffer(name + "_v", Tensor(v.astype(dtype)))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo :func:`spectral_norm`: ``<name>`` becomes a parameter again holding
    ``<name>_orig / sigma`` (with the stored ``u``, ``v``); ``ValueError`` if ``name`` is not
    spectral-normed.  Returns ``module``."""
    _check_module("remove_spectral_norm", module)
    found = _hook_for(module, SpectralNorm, name)
    if found is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of '{name}' not found in "
                         f"{module}")
    key, hook = found
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module


__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]
