"""The checks' options, validated once for ``gradcheck``, ``gradgradcheck`` and
``numerical_grad`` (PyTorch's keyword names, with this library's extras)."""

import secrets
from dataclasses import dataclass

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor
from .errors import GradcheckError

#: Random +-1 cotangents compared per input element in the default mode.  A wrong Jacobian
#: entry escapes one probe with probability at most 1/2 (see ``compare.py``), so all of them
#: with probability at most 2**-PROBES.
PROBES = 20


@dataclass
class _Options:
    caller: str
    eps: float
    atol: float
    rtol: float
    fast: bool
    probes: object  # int, or None for the exact Jacobian
    n_directions: int
    seed: int
    nondet_tol: float
    check_undefined_grad: bool
    check_dtype: bool
    check_grad_dtypes: bool = False


def as_input_list(inputs, caller):
    if isinstance(inputs, Tensor):
        return [inputs]
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(
            f"{caller}: inputs must be a Tensor or a tuple/list of arguments for fn, "
            f"got {type(inputs).__name__}"
        )
    return list(inputs)


def _check_real(value, name, caller):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{caller}: {name} must be a number, got {type(value).__name__}")


def check_number(value, name, caller, positive):
    """A finite number >= 0 (> 0 when ``positive``); a bad value is a :class:`ShapeError`
    (``ValueError``, and PyTorch's ``RuntimeError`` for a negative or NaN tolerance)."""
    _check_real(value, name, caller)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ShapeError(f"{caller}: {name} must be finite and {bound}, got {value}")
    return float(value)


def check_step(value, caller):
    """The checks' ``eps`` as ``|eps|``: a central difference is the same with ``-eps``, which
    PyTorch takes. Zero, NaN and inf pass here and fail the check (see :func:`step_failure`),
    as in PyTorch, whose numerical derivatives are then NaN."""
    _check_real(value, "eps", caller)
    return abs(float(value))


def step_failure(caller, eps):
    """The ``GradcheckError`` of a check whose ``eps`` gives no numerical derivative (zero,
    NaN, inf: PyTorch reports a Jacobian mismatch with NaN numerical values), else None."""
    if np.isfinite(eps) and eps != 0:
        return None
    return GradcheckError(f"{caller}: eps must be finite and nonzero, got {eps}: every "
                          "numerical derivative would be NaN", kind="mismatch")


def _check_count(value, name, caller, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{caller}: {name} must be an int{extra}, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{caller}: {name} must be >= 1, got {value}")
    return int(value)


def _check_flag(value, name, caller):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{caller}: {name} must be a bool, got {type(value).__name__}")
    return bool(value)


# PyTorch keywords naming a feature this library does not have: only the value that turns
# the feature off is accepted (so code written for torch.autograd.gradcheck runs unchanged).
_NO_VMAP = "needs vmap, which tinygrad_cnn does not have"
_NO_FORWARD_AD = "needs forward-mode AD, which tinygrad_cnn does not have"
_ABSENT = {
    "check_batched_grad": (False, _NO_VMAP),
    "check_batched_forward_grad": (False, _NO_VMAP),
    "check_forward_ad": (False, _NO_FORWARD_AD),
    "check_fwd_over_rev": (False, _NO_FORWARD_AD),
    "check_backward_ad": (True, "cannot be turned off: reverse mode is what is checked"),
    "check_rev_over_rev": (True, "cannot be turned off: it is what gradgradcheck checks"),
}


def check_absent_features(caller, masked=None, **flags):
    """Accept PyTorch's keywords for features this library lacks, when they are off."""
    for name, value in flags.items():
        wanted, why = _ABSENT[name]
        if _check_flag(value, name, caller) != wanted:
            raise ValueError(f"{caller}: {name}={value} {why}")
    if masked:
        raise ValueError(f"{caller}: masked=True is for sparse tensors, which tinygrad_cnn "
                         "does not have")


def make_options(caller, eps, atol, rtol, fast_mode, fast, probes, n_directions, seed,
                 nondet_tol, check_undefined_grad, check_dtype, check_grad_dtypes=False):
    """Validate the keywords shared by ``gradcheck`` and ``gradgradcheck``."""
    if fast is not None and fast_mode is not None and bool(fast) != bool(fast_mode):
        raise TypeError(f"{caller}: fast is the old name of fast_mode; pass one of them")
    chosen = fast_mode if fast_mode is not None else fast
    if chosen is not None:
        chosen = _check_flag(chosen, "fast_mode", caller)
    if seed is None:
        seed = secrets.randbits(32)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"{caller}: seed must be a non-negative int or None, got {seed!r}")
    return _Options(
        caller=caller,
        eps=check_step(eps, caller),
        atol=check_number(atol, "atol", caller, positive=False),
        rtol=check_number(rtol, "rtol", caller, positive=False),
        fast=bool(chosen),
        probes=_check_count(probes, "probes", caller, allow_none=True),
        n_directions=_check_count(n_directions, "n_directions", caller),
        seed=int(seed),
        nondet_tol=check_number(nondet_tol, "nondet_tol", caller, positive=False),
        check_undefined_grad=_check_flag(check_undefined_grad, "check_undefined_grad", caller),
        check_dtype=_check_flag(check_dtype, "check_dtype", caller),
        check_grad_dtypes=_check_flag(check_grad_dtypes, "check_grad_dtypes", caller),
    )


def rademacher(seed, shapes):
    """The +-1 cotangent drawn from ``seed``: one array per output shape, output o from
    ``np.random.default_rng([seed, o])`` (so a report can give a one-line recipe)."""
    return [np.random.default_rng([seed, o]).choice([-1.0, 1.0], size=shape)
            for o, shape in enumerate(shapes)]
