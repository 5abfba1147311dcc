"""Stage 2: the numerical side -- central finite differences of ``fn`` on float64 copies."""

import numpy as np


def columns(problem, k, eps):
    """Yield (flat index i, d outputs / d input_k[i]) for every element, as one flat array
    over the concatenated outputs: two calls of fn per element (central differences), or one
    for an input fn is linear in (``problem.linear``: gradgradcheck's cotangents), where the
    forward difference from the unperturbed outputs is exact."""
    perturbed = problem.base[k].copy()
    flat = perturbed.reshape(-1)  # a view: perturbing it perturbs `perturbed`
    linear = k in problem.linear
    centre = np.concatenate([o.reshape(-1) for o in problem.base_outputs])
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = np.concatenate([p.reshape(-1) for p in problem.evaluate({k: perturbed})])
        if linear:
            flat[i] = original
            yield i, (plus - centre) / eps
            continue
        flat[i] = original - eps
        minus = np.concatenate([m.reshape(-1) for m in problem.evaluate({k: perturbed})])
        flat[i] = original
        yield i, (plus - minus) / (2 * eps)


def jacobian(problem, k, eps):
    """The numerical Jacobian of the concatenated outputs by input k: (outputs, elements)."""
    result = np.zeros((sum(problem.output_sizes), problem.base[k].size))
    for i, column in columns(problem, k, eps):
        result[:, i] = column
    return result


def jvp(problem, k, direction, step):
    """Central difference of the outputs along ``direction`` in input k."""
    plus = problem.evaluate({k: problem.base[k] + step * direction})
    minus = problem.evaluate({k: problem.base[k] - step * direction})
    return [(p - m) / (2 * step) for p, m in zip(plus, minus)]


def projected(problem, k, eps, projections):
    """For each cotangent list w: d sum_o <w_o, out_o> / d input_k, element by element."""
    flats = [np.concatenate([w.reshape(-1) for w in cotangents]) for cotangents in projections]
    results = [np.zeros(problem.base[k].shape) for _ in projections]
    for i, column in columns(problem, k, eps):
        for result, weights in zip(results, flats):
            result.reshape(-1)[i] = weights @ column
    return results


def central(problem, k, flat_index, cotangents, step):
    """Central difference of sum_o <w_o, out_o> along one element, with ``step``."""
    direction = np.zeros(problem.base[k].shape)
    direction.reshape(-1)[flat_index] = 1.0
    return problem.weighted(cotangents, jvp(problem, k, direction, step))


def one_sided(problem, k, flat_index, cotangents, eps, base=None):
    """Left and right difference quotients of sum_o <w_o, out_o> along one element
    (at ``base``, a dict of replaced inputs, when given)."""
    overrides = dict(base or {})
    start = overrides.get(k, problem.base[k])
    centre = problem.evaluate(overrides) if overrides else problem.base_outputs
    derivatives = []
    for sign in (-1.0, 1.0):
        perturbed = np.array(start, dtype=np.float64)
        perturbed.reshape(-1)[flat_index] += sign * eps
        moved = problem.evaluate({**overrides, k: perturbed})
        change = sum(np.vdot(w, m - c) for w, m, c in zip(cotangents, moved, centre))
        derivatives.append(sign * change / eps)
    return derivatives[0], derivatives[1]
