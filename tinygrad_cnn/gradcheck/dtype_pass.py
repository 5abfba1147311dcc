"""Stage 6 (gradcheck only): the dtype pass.

The element-wise comparison runs on float64 copies, so it checks the *formulas*.  For an
input that is float32 or float16 the same backward is then run once more in that dtype, on the
user's own arrays, and compared with the float64 analytic gradient for the same +-1
cotangent: NaN or inf that only the low precision shows (an ``exp`` that overflows in
float32), or an error beyond ``rtol * (|float64 value| + rms of the float64 gradient)``
(``rtol`` = 1e-3 for float32, 3e-2 for float16: about 8,000 and 30 units in the last place),
is reported as ``kind="dtype"``.
"""

import numpy as np

from .analytic import _Recorded
from .errors import GradcheckError
from .format import fmt, format_index
from .options import rademacher
from .report import head

_RTOL = {np.dtype(np.float32): 1e-3, np.dtype(np.float16): 3e-2}
_OTHERS_SHOWN = 4


def _low_precision(problem):
    return [k for k in problem.checked if problem.dtypes[k] in _RTOL]


def _forward_error(problem, recorded):
    """A GradcheckError when fn's output in the inputs' own dtype is not finite where the
    float64 one is, else None."""
    for position, (low, high) in enumerate(zip(recorded.outputs, problem.base_outputs)):
        bad = ~np.isfinite(low._data) & np.isfinite(high)
        if bad.any():
            flat = int(np.flatnonzero(bad.reshape(-1))[0])
            where = format_index(problem.output_name(position),
                                 np.unravel_index(flat, high.shape))
            k = _low_precision(problem)[0]
            return GradcheckError(
                f"{head(problem, k)}: fn's forward in {low.dtype} gives "
                f"{low._data.reshape(-1)[flat]} at {where} where float64 gives "
                f"{fmt(high.reshape(-1)[flat])}\n"
                f"  {int(bad.sum())} output element(s) overflow or become NaN only in "
                f"{low.dtype}; compute in a stable form or upcast inside the op",
                input_index=k, input_name=problem.names[k], output_index=where,
                kind="dtype", order=1, analytic=float(low._data.reshape(-1)[flat]),
                numerical=float(high.reshape(-1)[flat]))
    return None


def _grad_dtype_error(problem, own, cotangents):
    """PyTorch's check_grad_dtypes: each gradient has its input's dtype."""
    for k, gradient in own.vjp(cotangents, float64=False).items():
        if gradient is not None and gradient.dtype != problem.dtypes[k]:
            return GradcheckError(
                f"{head(problem, k)}: its gradient is {gradient.dtype}, not "
                f"{problem.dtypes[k]} (check_grad_dtypes)", input_index=k,
                input_name=problem.names[k], kind="dtype", order=1)
    return None


def check(problem, recorded64, options):
    """The dtype pass: a GradcheckError, or None when the low-precision backward agrees."""
    lowered = _low_precision(problem) if options.check_dtype else []
    if not lowered and not options.check_grad_dtypes:
        return None
    own = _Recorded(problem, own_dtype=True)
    cotangents = rademacher(options.seed, [o.shape for o in problem.base_outputs])
    if options.check_grad_dtypes:
        error = _grad_dtype_error(problem, own, cotangents)
        if error is not None:
            return error
    if not lowered:
        return None
    error = _forward_error(problem, own)
    if error is not None:
        return error
    high = recorded64.vjp(cotangents)
    low = own.vjp(cotangents, float64=False)
    for k in lowered:
        if high[k] is None or low[k] is None:
            continue
        dtype = low[k].dtype if low[k].dtype in _RTOL else problem.dtypes[k]
        rtol = _RTOL[dtype]
        low64 = low[k].astype(np.float64)
        reference = high[k]
        scale = float(np.sqrt(np.mean(reference ** 2))) if reference.size else 0.0
        with np.errstate(invalid="ignore"):
            error_size = np.abs(low64 - reference)
            allowed = rtol * (np.abs(reference) + scale)
            bad = ~(error_size <= allowed) & np.isfinite(reference)
        if not bad.any():
            continue
        nonfinite = bad & ~np.isfinite(low64)
        pool = nonfinite if nonfinite.any() else bad
        excess = np.where(pool, np.nan_to_num(error_size / np.maximum(allowed, 1e-300),
                                              nan=np.inf, posinf=np.inf), -1.0)
        flat = int(np.argmax(excess.reshape(-1)))
        return _error(problem, k, flat, low64, reference, bad, dtype, rtol, scale, options)
    return None


def _error(problem, k, flat, low64, reference, bad, dtype, rtol, scale, options):
    shape = problem.base[k].shape
    name = problem.names[k]
    index = tuple(int(i) for i in np.unravel_index(flat, shape))
    element = format_index(name, index)
    low_value, high_value = float(low64.reshape(-1)[flat]), float(reference.reshape(-1)[flat])
    value = float(problem.original[k]._data.reshape(-1)[flat])
    failing = [int(i) for i in np.flatnonzero(bad.reshape(-1)) if i != flat]
    outputs = (problem.output_name(0) if len(problem.base_outputs) == 1 else
               "(" + ", ".join(problem.output_name(i)
                               for i in range(len(problem.base_outputs))) + ")")
    quantity = f"d ({outputs} * v).sum() / d {element}, v the +-1 cotangent of seed {options.seed}"
    if np.isfinite(low_value):
        what = f"loses precision at {element}"
        why = (f"allowed in {dtype}: {rtol:g} * (|float64| + rms of the float64 gradient "
               f"{scale:.3g}) = {rtol * (abs(high_value) + scale):.3g}")
    else:
        what = f"gives {low_value} at {element} where float64 gives {fmt(high_value)}"
        why = f"NaN or inf only in {dtype}: an intermediate overflows or divides 0 by 0"
    lines = [f"{head(problem, k)}: the {dtype} backward {what}",
             f"  {quantity}",
             f"    {str(dtype):<9} {fmt(low_value)}",
             f"    {'float64':<9} {fmt(high_value)}",
             f"  {why}",
             f"  {element} = {fmt(value)}"]
    if failing:
        shown = ", ".join(format_index(name, np.unravel_index(i, shape))
                          for i in failing[:_OTHERS_SHOWN])
        more = ", ..." if len(failing) > _OTHERS_SHOWN else ""
        lines.append(f"  {len(failing) + 1} of {low64.size} elements of {name} are affected; "
                     f"also {shown}{more}")
    lines.append("  the float64 gradients agree with finite differences, so the formulas are "
                 f"right; their {dtype} evaluation is not: compute in a stable form or upcast "
                 "inside the op")
    abs_err = abs(low_value - high_value)
    return GradcheckError(
        "\n".join(lines), input_index=k, input_name=name, index=index, value=value,
        others=[tuple(int(i) for i in np.unravel_index(f, shape)) for f in failing],
        quantity=quantity, analytic=low_value, numerical=high_value, abs_err=abs_err,
        rel_err=abs_err / abs(high_value) if high_value else float("inf"),
        mismatches=len(failing) + 1, kind="dtype", order=1, seed=options.seed)
