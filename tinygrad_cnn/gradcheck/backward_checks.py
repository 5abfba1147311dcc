"""Stage 4b: how the backward behaves, beyond its values -- linear in ``grad_output``
(PyTorch's ``check_undefined_grad``) and the same twice (``nondet_tol``)."""

import numpy as np

from .analytic import _Recorded
from .errors import GradcheckError
from .format import format_index
from .options import rademacher
from .report import head


def check_zero_cotangent(problem, recorded, order):
    zeros = [np.zeros_like(o) for o in problem.base_outputs]
    for k, gradient in recorded.vjp(zeros).items():
        if gradient is None:
            continue
        bad = np.isfinite(gradient) & (gradient != 0)  # 0 * inf is not a linearity fault
        if bad.any():
            flat = int(np.flatnonzero(bad.reshape(-1))[0])
            index = tuple(int(i) for i in np.unravel_index(flat, gradient.shape))
            element = format_index(problem.names[k], index)
            value = gradient.reshape(-1)[flat]
            raise GradcheckError(
                f"{head(problem, k)}: a zero grad_output gives a nonzero gradient, "
                f"{value:.6g} at {element}\n"
                "  a backward must be linear in grad_output: multiply every term by it (an "
                "undefined or zero grad_output means no gradient flows)",
                input_index=k, input_name=problem.names[k], index=index,
                analytic=float(value), numerical=0.0, kind="undefined_grad", order=order)


def check_reentrant(problem, recorded, options, order):
    cotangents = rademacher(options.seed, [o.shape for o in problem.base_outputs])
    first = recorded.vjp(cotangents)
    again = _Recorded(problem).vjp(cotangents)
    for k in problem.checked:
        if first[k] is None or again[k] is None:
            continue
        with np.errstate(invalid="ignore"):
            difference = np.abs(first[k] - again[k])
        if not (difference <= options.nondet_tol).all():
            flat = int(np.argmax(np.nan_to_num(difference, nan=np.inf).reshape(-1)))
            index = tuple(int(i) for i in np.unravel_index(flat, first[k].shape))
            element = format_index(problem.names[k], index)
            raise GradcheckError(
                f"{head(problem, k)}: two backward passes with the same grad_output differ "
                f"by {difference.reshape(-1)[flat]:.3g} at {element} ("
                f"{first[k].reshape(-1)[flat]:.12g} and {again[k].reshape(-1)[flat]:.12g}; "
                f"nondet_tol={options.nondet_tol:g})\n"
                "  the backward is not deterministic; raise nondet_tol if that is intended",
                input_index=k, input_name=problem.names[k], index=index,
                analytic=float(first[k].reshape(-1)[flat]),
                numerical=float(again[k].reshape(-1)[flat]), kind="nondeterministic",
                order=order, seed=options.seed)
