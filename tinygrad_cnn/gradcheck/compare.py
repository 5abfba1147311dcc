"""Stage 4: comparing the two sides, element by element, producing a ``_Mismatch``.

Two modes.

**Element-wise (the default).**  The numerical side is the whole Jacobian, two calls of fn
per input element (as PyTorch's default).  The analytic side is pulled back along ``probes``
random +-1 cotangents v (one backward each) instead of one backward per output element, and
compared column by column: for input element i, ``v . J_analytic[:, i]`` against
``v . J_numerical[:, i]``, within ``tau_i = atol + rtol * min_j |J_numerical[j, i]|``.

Why that catches every wrong entry: let e = J_analytic[:, i] - J_numerical[:, i] and say
some |e_j| exceeds its tolerance ``atol + rtol * |J_numerical[j, i]|``, so |e_j| > tau_i.
Fix every sign of v but v_j: the two values of v . e for v_j = +1 and -1 are 2 |e_j| > 2 tau_i
apart, so at most one of them lies within tau_i.  Each probe therefore misses the column with
probability at most 1/2, and all ``probes`` of them with probability at most 2**-probes
(about 1e-6 for the default 20).  Most bugs are caught by every probe (an error confined to
one entry of a column is seen whole).  When the outputs have at most ``probes`` elements the
probes are the exact basis instead and nothing is random.  A flagged column is then judged
exactly: one backward per output element gives the analytic Jacobian, and the report names
the worst (output, input) entry, so a flag never becomes a false alarm.

**Fast** (``fast_mode=True``): one random cotangent v and ``n_directions`` random
directions u per input, ``v^T J u`` compared; on a disagreement an element search (the
gradient of ``out.sum()``, then of ``(out * v).sum()``) is the judge.  It can miss an error
confined to a few elements (a projection averages it away).
"""

import numpy as np

from . import numerical
from .analytic import stacked
from .errors import _Mismatch
from .options import rademacher


def _excess(analytic, numeric, atol, rtol):
    """|analytic - numerical| / tolerance, NaN counting as infinitely far."""
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.abs(analytic - numeric) / (atol + rtol * np.abs(numeric))
    return np.where(np.isnan(excess), np.inf, excess)


def _mismatch_mask(analytic, numeric, atol, rtol):
    with np.errstate(invalid="ignore"):
        close = np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)
    return ~close


def element_mismatch(problem, k, analytic, numeric, options, connected, weights_of, quantity):
    """Compare two (rows, elements) arrays entry by entry; the worst failing entry as a
    ``_Mismatch`` (``weights_of(row)`` gives the cotangent of a row), or None."""
    mask = _mismatch_mask(analytic, numeric, options.atol, options.rtol)
    if not mask.any():
        return None
    excess = np.where(mask, _excess(analytic, numeric, options.atol, options.rtol), -1.0)
    row, column = np.unravel_index(int(np.argmax(excess)), excess.shape)
    failing = [int(i) for i in np.flatnonzero(mask.any(axis=0)) if i != column]
    return _Mismatch(k=k, flat=int(column), analytic=float(analytic[row, column]),
                     numerical=float(numeric[row, column]), weights=weights_of(row),
                     quantity=quantity, failing=failing,
                     output_flat=int(row) if quantity == "element" else None,
                     connected=connected)


def _probe_cotangents(problem, options):
    """The probes as cotangent lists, and as a (probes, outputs) matrix (None when they are
    the exact basis)."""
    total = sum(problem.output_sizes)
    if options.probes is None or total <= options.probes:
        return [problem.basis(j) for j in range(total)], None
    rng = np.random.default_rng(options.seed)
    matrix = rng.choice([-1.0, 1.0], size=(options.probes, total))
    splits = np.cumsum(problem.output_sizes)[:-1]
    cotangents = [[part.reshape(o.shape) for part, o in zip(np.split(row, splits),
                                                             problem.base_outputs)]
                  for row in matrix]
    return cotangents, matrix


def check_elementwise(problem, recorded, options):
    """The default mode (see the module docstring): a ``_Mismatch`` or None."""
    cotangents, matrix = _probe_cotangents(problem, options)
    rows = [recorded.vjp(c) for c in cotangents]
    exact_rows = rows if matrix is None else None
    total = sum(problem.output_sizes)
    for k in problem.checked:
        jacobian = numerical.jacobian(problem, k, options.eps)
        analytic, connected = stacked(rows, problem, k)
        if matrix is not None:
            projected = matrix @ jacobian
            tau = options.atol + options.rtol * (np.abs(jacobian).min(axis=0) if total else 0.0)
            with np.errstate(invalid="ignore"):
                flagged = ~(np.abs(analytic - projected) <= tau)
            if not flagged.any():
                continue
            if exact_rows is None:
                exact_rows = [recorded.vjp(problem.basis(j)) for j in range(total)]
            analytic, connected = stacked(exact_rows, problem, k)
        found = element_mismatch(problem, k, analytic, jacobian, options, connected,
                                 problem.basis, "element")
        if found is not None:
            return found
    return None


def check_fast(problem, recorded, options):
    """``fast_mode=True``: projections ``v^T J u``, then an element search."""
    rng = np.random.default_rng(options.seed)
    cotangents = rademacher(options.seed, [o.shape for o in problem.base_outputs])
    analytic = recorded.vjp(cotangents)
    for k in problem.checked:
        gradient = analytic[k] if analytic[k] is not None else np.zeros(problem.base[k].shape)
        for _ in range(options.n_directions):
            direction = rng.standard_normal(problem.base[k].shape)
            numeric = problem.weighted(cotangents,
                                       numerical.jvp(problem, k, direction, options.eps))
            if _mismatch_mask(np.vdot(gradient, direction), numeric, options.atol,
                              options.rtol):
                found = _localise(problem, recorded, k, cotangents, analytic[k], options)
                if found is not None:
                    return found
                break  # the element search is the judge: every element agrees
    return None


def _localise(problem, recorded, k, cotangents, analytic_v, options):
    """The worst element of input k: first for out.sum() (the plainest quantity), then for
    the random cotangent the fast check used."""
    ones = [np.ones_like(o) for o in problem.base_outputs]
    analytic_1 = recorded.vjp(ones)[k]
    numerical_1, numerical_v = numerical.projected(problem, k, options.eps, [ones, cotangents])
    for weights, analytic_side, numeric, label in (
        (ones, analytic_1, numerical_1, "sum"),
        (cotangents, analytic_v, numerical_v, "random"),
    ):
        connected = analytic_side is not None
        values = analytic_side if connected else np.zeros_like(numeric)
        found = element_mismatch(problem, k, values.reshape(1, -1), numeric.reshape(1, -1),
                                 options, connected, lambda row, w=weights: w, label)
        if found is not None:
            return found
    return None
