"""Stage 3: the analytic side -- what the graph's backward formulas give."""

import numpy as np

from ..autograd.engine import backward as _backward
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


def _array(gradient):
    return gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)


class _Recorded:
    """One recorded call of fn (float64 leaves, or the inputs' own dtypes with ``own_dtype``),
    whose graph is kept so that several cotangents can be pulled back through it."""

    def __init__(self, problem, own_dtype=False):
        self.problem = problem
        if own_dtype:  # the user's arrays in their own dtypes, copied
            self.leaves = {k: Tensor(np.array(problem.original[k]._data), requires_grad=True)
                           for k in problem.checked}
            arguments = [self.leaves[k] if k in self.leaves
                         else Tensor(np.array(item._data)) if isinstance(item, Tensor)
                         else item for k, item in enumerate(problem.original)]
            with enable_grad():
                self.outputs = problem.outputs(problem.fn(*arguments))
        else:
            self.leaves = {k: Tensor(problem.base[k].copy(), requires_grad=True)
                           for k in problem.checked}
            self.outputs = problem.record(self.leaves)

    def vjp(self, cotangents, float64=True):
        """The gradient of sum_o <w_o, out_o> for each checked input, in a dict of arrays
        (float64 copies, or each gradient's own dtype with ``float64=False``; ``None`` where
        the graph does not reach the input)."""
        for leaf in self.leaves.values():
            leaf.grad = None
        for output, cotangent in zip(self.outputs, cotangents):
            if output.requires_grad:
                _backward(output, Tensor(np.asarray(cotangent).astype(output.dtype)),
                          retain_graph=True)
        dtype = np.float64 if float64 else None
        return {k: (None if leaf.grad is None else np.array(_array(leaf.grad), dtype=dtype))
                for k, leaf in self.leaves.items()}


def stacked(results, problem, k):
    """The rows of a list of vjp results for input k as one (len(results), size) array, and
    whether the graph reached input k."""
    size = problem.base[k].size
    rows = np.zeros((len(results), size))
    connected = True
    for p, result in enumerate(results):
        if result[k] is None:
            connected = False
        else:
            rows[p] = result[k].reshape(-1)
    return rows, connected
