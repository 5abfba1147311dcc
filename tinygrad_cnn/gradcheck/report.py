"""Stage 5: the report -- a ``_Mismatch`` (or a dtype finding) turned into a readable
``GradcheckError``: which input, which element and its value, of what derivative, both
values, how far apart, where else, and why when the point has no derivative."""

import numpy as np

from . import kinks
from .errors import GradcheckError
from .format import fmt, format_index

_OTHERS_SHOWN = 4
NO_GRADIENT_ADVICE_2 = ("  does a backward compute with .data or .numpy() of its saved tensors, or "
                        "detach them? The graph then sees a constant")


def head(problem, k):
    name = problem.names[k]
    label = "" if name.startswith("inputs[") else f" '{name}'"
    return (f"{problem.caller}: input {k}{label} (shape {problem.base[k].shape}, "
            f"{problem.dtypes[k]})")


def _outputs_text(problem):
    if len(problem.base_outputs) == 1:
        return problem.output_name(0)
    return "(" + ", ".join(problem.output_name(i)
                           for i in range(len(problem.base_outputs))) + ")"


def quantity_text(problem, mismatch, element, seed):
    """The derivative both values are of, and the output element when there is one."""
    if mismatch.quantity == "element":
        position, multi = problem.output_element(mismatch.output_flat)
        output_element = format_index(problem.output_name(position), multi)
        return f"d {output_element} / d {element}", output_element
    outputs = _outputs_text(problem)
    if mismatch.quantity == "sum":
        return f"d {outputs}.sum() / d {element}", None
    return (f"d ({outputs} * v).sum() / d {element}, v the +-1 cotangent of seed {seed}",
            None)


def others_text(problem, mismatch):
    k = mismatch.k
    shape = problem.base[k].shape
    count = len(mismatch.failing) + 1
    if count <= 1:
        return None
    shown = [format_index(problem.names[k], np.unravel_index(i, shape))
             for i in mismatch.failing[:_OTHERS_SHOWN]]
    more = ", ..." if len(mismatch.failing) > _OTHERS_SHOWN else ""
    return (f"  {count} of {problem.base[k].size} elements of {problem.names[k]} are out of "
            f"tolerance (the worst is shown); also {', '.join(shown)}{more}")


def _recipe(problem, mismatch, element_index, seed):
    """One line that repeats the numerical value of a fast-mode projection."""
    shapes = [o.shape for o in problem.base_outputs]
    grad_output = "v[0]" if len(shapes) == 1 else "tuple(v)"
    index = ", ".join(str(i) for i in element_index)
    return (f"  to repeat it: v = [np.random.default_rng([{seed}, o]).choice([-1.0, 1.0], "
            f"size=s) for o, s in enumerate({shapes})]; numerical_grad(fn, inputs, "
            f"grad_output={grad_output})[{mismatch.k}][{index}] is the numerical value, "
            f"fn(*inputs) backward with {grad_output} the analytic one")


def _no_gradient_lines(problem, mismatch, quantity, singular, order):
    name = problem.names[mismatch.k]
    lines = [f"{head(problem, mismatch.k)} gets no gradient from the recorded graph, but the "
             "numerical one is not zero",
             f"  {quantity}: numerical {fmt(mismatch.numerical)}, analytic none"]
    if singular is not None:
        return lines  # the point itself explains the numerical value
    if order == 1:
        lines.append(f"  was {name} used through .data or .numpy(), detached, or under "
                     "no_grad() inside fn, or does a backward return None for it?")
    else:
        lines.append(NO_GRADIENT_ADVICE_2)
    return lines


def _values_lines(problem, mismatch, element, quantity, options, order):
    analytic, numeric = mismatch.analytic, mismatch.numerical
    what = "second derivatives" if order == 2 else "gradients"
    abs_err = abs(analytic - numeric)
    rel_err = abs_err / abs(numeric) if numeric != 0 else float("inf")
    allowed = options.atol + options.rtol * abs(numeric)
    lines = [f"{head(problem, mismatch.k)}: analytic and numerical {what} differ at {element}",
             f"  {quantity}",
             f"    analytic  {fmt(analytic)}",
             f"    numerical {fmt(numeric)}",
             f"  abs error {abs_err:.3g}, rel error {rel_err:.3g}; allowed: atol + rtol * "
             f"|numerical| = {options.atol:g} + {options.rtol:g} * {abs(numeric):.3g} = "
             f"{allowed:.3g}"]
    if np.isfinite(analytic) and np.isfinite(numeric) and numeric != 0:
        ratio = analytic / numeric
        if abs(ratio) > 1e-3:
            lines.append(f"  analytic / numerical = {ratio:.4g}")
    return lines


def mismatch_error(problem, mismatch, options, order, explain=None, random_probes=False):
    """The ``GradcheckError`` for a ``_Mismatch``: what the values are, where else, why (at a
    kink), how to repeat it."""
    k, shape = mismatch.k, problem.base[mismatch.k].shape
    index = tuple(int(i) for i in np.unravel_index(mismatch.flat, shape))
    element = format_index(problem.names[k], index)
    value = float(problem.base[k].reshape(-1)[mismatch.flat])
    analytic, numeric = mismatch.analytic, mismatch.numerical
    quantity, output_element = quantity_text(problem, mismatch, element, options.seed)
    singular, (left, right) = kinks.diagnose(problem, mismatch, options, order)
    if mismatch.connected:
        kind = "mismatch"
        lines = _values_lines(problem, mismatch, element, quantity, options, order)
    else:
        kind = "no_gradient"
        lines = _no_gradient_lines(problem, mismatch, quantity, singular, order)
    if singular is None:
        lines.append(f"  {element} = {fmt(value)}")
    others = others_text(problem, mismatch)
    if others:
        lines.append(others)
    if singular is not None:
        lines.append(singular)
    if not np.isfinite(numeric):
        lines.append(f"  the numerical value is {numeric}: fn is not finite at "
                     f"{element} +- eps={options.eps:g}")
    if mismatch.quantity == "random" and order == 1:
        lines.append(_recipe(problem, mismatch, index, options.seed))
    if random_probes or mismatch.quantity == "random":
        lines.append(f"  found with random probes of seed {options.seed}: pass "
                     f"seed={options.seed} to repeat this check exactly")
    if explain:
        lines.append(f"  ({explain})")
    lines.extend(f"  note: {note}" for note in problem.notes)
    abs_err = abs(analytic - numeric)
    return GradcheckError(
        "\n".join(lines), input_index=k, input_name=problem.names[k], index=index,
        value=value,
        others=[tuple(int(i) for i in np.unravel_index(f, shape)) for f in mismatch.failing],
        output_index=output_element, quantity=quantity, analytic=float(analytic),
        numerical=float(numeric), abs_err=float(abs_err),
        rel_err=float(abs_err / abs(numeric)) if numeric != 0 else float("inf"),
        atol=options.atol, rtol=options.rtol, mismatches=len(mismatch.failing) + 1,
        on_kink=singular is not None, one_sided=(float(left), float(right)), kind=kind,
        order=order, seed=options.seed,
    )
