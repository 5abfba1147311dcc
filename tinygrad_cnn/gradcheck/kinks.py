"""Stage 5a: is the failing point one where fn has no derivative?  (kinks, jumps and ties)

Two signatures, both independent of what fn computes:

* a *kink* (relu or abs at 0, a tie that sends the gradient to one element): the left and
  right difference quotients disagree by more than the tolerance and by a good part of the
  mismatch (at a smooth point they differ only by about eps * f'');
* a *jump* (a step, as relu's derivative at 0 in a second-order check): halving eps doubles
  the central difference, which stays put where fn is continuous.

The cause is then tested, not guessed: a *tie* is confirmed only when moving the tied element
away (by 10 eps) removes the kink at the failing one; otherwise a point within eps of 0 is
a kink at 0 (relu, abs), and anything else "is not differentiable at this point".
"""

import numpy as np

from . import numerical
from .format import fmt, format_index

_TIE_CANDIDATES = 3


def _has_kink(left, right, analytic, numeric, options):
    gap = abs(right - left)
    scale = options.atol + options.rtol * max(abs(left), abs(right))
    return bool(np.isfinite(gap) and gap > scale and gap >= 0.5 * abs(analytic - numeric))


def _confirmed_tie(problem, k, flat, weights, options, candidates):
    """The first candidate whose displacement removes the kink at ``flat``, or None."""
    for other in candidates[:_TIE_CANDIDATES]:
        moved = np.array(problem.base[k], dtype=np.float64)
        moved.reshape(-1)[other] += 10 * options.eps
        left, right = numerical.one_sided(problem, k, flat, weights, options.eps, {k: moved})
        gap = abs(right - left)
        if np.isfinite(gap) and gap <= options.atol + options.rtol * max(abs(left), abs(right)):
            return int(other)
    return None


def diagnose(problem, mismatch, options, order):
    """(text or None, (left, right)): why the point has no derivative, when it has none."""
    k, flat, weights = mismatch.k, mismatch.flat, mismatch.weights
    left, right = numerical.one_sided(problem, k, flat, weights, options.eps)
    subject = "fn" if order == 1 else "the first derivative"
    name = problem.names[k]
    element = format_index(name, np.unravel_index(flat, problem.base[k].shape))
    kink = _has_kink(left, right, mismatch.analytic, mismatch.numerical, options)
    if kink:
        first = (f"sits on (or within eps={options.eps:g} of) a kink: the left and right "
                 f"derivatives there are {fmt(left)} and {fmt(right)}")
    else:
        half = numerical.central(problem, k, flat, weights, options.eps / 2)
        if not (np.isfinite(half) and np.isfinite(mismatch.numerical)
                and abs(half) > 1.5 * abs(mismatch.numerical) > 0):
            return None, (left, right)
        first = (f"sits on (or within eps={options.eps:g} of) a jump of {subject}: the "
                 f"numerical derivative grows from {fmt(mismatch.numerical)} to {fmt(half)} "
                 "when eps is halved")
    values = problem.base[k].reshape(-1)
    value = values[flat]
    cause = None
    if kink:
        near = np.flatnonzero(np.abs(values - value) <= options.eps)
        tie = _confirmed_tie(problem, k, flat, weights, options, near[near != flat])
        if tie is not None:
            other = format_index(name, np.unravel_index(tie, problem.base[k].shape))
            cause = (f"it ties with {other}: equal values, as in a max or min window; moving "
                     f"{other} by {10 * options.eps:g} removes the kink")
    if cause is None and abs(value) <= options.eps:
        cause = "as relu or abs at 0" if order == 1 else "as the derivative of relu or abs at 0"
    cause = cause or f"{subject} is not differentiable at this point"
    text = (f"  {element} = {fmt(value)} {first}\n"
            f"  ({cause}); no single derivative is right there: {problem.caller} at points "
            "away from it")
    return text, (left, right)
