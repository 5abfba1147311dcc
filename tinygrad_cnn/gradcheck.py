"""Gradient checks a person can read: ``gradcheck``, ``gradgradcheck``, ``numerical_grad``.

Mirrors ``torch.autograd.gradcheck`` / ``gradgradcheck``.  A check compares the *analytic*
gradient (what the graph's backward formulas give) with a *numerical* one (central finite
differences of the function itself).  What this module adds to PyTorch's:

* **Fast by default.**  It compares random projections ``v^T J u`` (a random cotangent ``v``
  over the outputs, a few random directions ``u`` per input): one backward pass and two
  evaluations of ``fn`` per direction.  Only when a projection disagrees does it search
  element by element, to say *where*.  ``fast=False`` compares the full Jacobian directly.
* **One readable failure.**  ``GradcheckError`` names the input (position, parameter name,
  shape, dtype), the worst element's multi-index, both values, the absolute and relative
  error and the tolerance -- never a whole Jacobian -- and carries them as attributes.
* **Kinks are named.**  When the failing point is one where ``fn`` is not differentiable
  (relu or abs at 0, a tie in a max window), the left and right derivatives there disagree;
  the message says so, with both values, instead of just "mismatch".
* **float64 always.**  Finite differences in float32 cannot check anything at ``eps=1e-6``
  (PyTorch issue 5351), so both sides run on float64 copies of floating-point inputs; a
  float32 input gets a one-line note (a ``GradcheckWarning``, and a line in any error).

Inputs: Tensors and anything else (ints, tuples, arrays), passed to ``fn`` in order.  The
Tensors with ``requires_grad=True`` are checked; other floating-point Tensors are passed as
float64 constants.  ``fn`` returns a Tensor or a tuple of Tensors.  Random choices come from
a private generator seeded by ``seed``, so a check is repeatable and does not disturb
``tinygrad_cnn.manual_seed``'s stream.
"""

import inspect
import warnings

import numpy as np

from .autograd.engine import backward as _backward
from .autograd.engine import grad as _grad
from .autograd.grad_mode import enable_grad, no_grad
from .tensor import Tensor

__all__ = [
    "GradcheckError",
    "GradcheckWarning",
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
]


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the numerical one (as PyTorch's ``GradcheckError``).

    Attributes (``None`` where they do not apply):

    ``input_index``, ``input_name``: which input of ``fn`` (position, and its name in the
    message); ``index``: the multi-index of the worst element in that input;
    ``output_index``: the output element (``fast=False`` only; in fast mode the reported
    values are gradients of a sum over the outputs, see ``quantity``); ``quantity``: the
    derivative the two values are of, as text; ``analytic``, ``numerical``: the two values;
    ``abs_err``, ``rel_err``; ``atol``, ``rtol``; ``mismatches``: how many elements of the
    input are out of tolerance; ``on_kink``: True when the point is not differentiable;
    ``one_sided``: ``(left, right)`` one-sided derivatives there; ``kind``: ``"mismatch"``
    or ``"no_gradient"`` (the graph does not reach the input); ``order``: 1 for
    ``gradcheck``, 2 for ``gradgradcheck``.
    """

    _FIELDS = ("input_index", "input_name", "index", "output_index", "quantity", "analytic",
               "numerical", "abs_err", "rel_err", "atol", "rtol", "mismatches", "on_kink",
               "one_sided", "kind", "order")

    def __init__(self, message, **details):
        super().__init__(message)
        unknown = set(details) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"GradcheckError: unknown field(s) {sorted(unknown)}")
        for field in self._FIELDS:
            setattr(self, field, details.get(field))
        self.on_kink = bool(details.get("on_kink", False))

    def details(self) -> dict:
        """The attributes as a dict (to re-raise with a different message)."""
        return {field: getattr(self, field) for field in self._FIELDS}


class GradcheckWarning(UserWarning):
    """A note from a gradient check: float32 inputs promoted, or a failure when not raising."""


# --------------------------------------------------------------------------- arguments
def _as_input_list(inputs, caller):
    if isinstance(inputs, Tensor):
        return [inputs]
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(
            f"{caller}: inputs must be a Tensor or a tuple/list of arguments for fn, "
            f"got {type(inputs).__name__}"
        )
    return list(inputs)


def _check_number(value, name, caller, positive):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{caller}: {name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{caller}: {name} must be finite and {bound}, got {value}")
    return float(value)


def _check_directions(n_directions, caller):
    if isinstance(n_directions, bool) or not isinstance(n_directions, (int, np.integer)):
        raise TypeError(f"{caller}: n_directions must be an int, got "
                        f"{type(n_directions).__name__}")
    if n_directions < 1:
        raise ValueError(f"{caller}: n_directions must be >= 1, got {n_directions}")
    return int(n_directions)


def _parameter_names(fn, count):
    """Names of ``fn``'s first ``count`` positional parameters, where it has them."""
    names = [f"inputs[{k}]" for k in range(count)]
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return names
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for k, parameter in enumerate(parameters[:count]):
        if parameter.kind not in positional:
            break
        names[k] = parameter.name
    return names


def _format_index(name, index):
    if len(index) == 0:
        return name
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _fmt(value):
    return f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0


# --------------------------------------------------------------------------- the check
class _Check:
    """One function and its inputs, prepared for comparing gradients.

    ``base[k]`` is the float64 copy of input k when it is a floating-point Tensor (else the
    argument itself); ``checked`` lists the inputs that require grad.
    """

    def __init__(self, caller, fn, inputs, eps, atol, rtol, rng, names=None, output_names=None,
                 notes=(), order=1, explain=None):
        if not callable(fn):
            raise TypeError(f"{caller}: fn must be callable, got {type(fn).__name__}")
        self.caller, self.fn = caller, fn
        self.eps, self.atol, self.rtol, self.rng = eps, atol, rtol, rng
        self.names = names or _parameter_names(fn, len(inputs))
        self.notes = list(notes)
        self.order = order
        self.explain = explain
        self.base, self.is_tensor, self.checked, self.dtypes = [], [], [], []
        for k, item in enumerate(inputs):
            self.dtypes.append(item.dtype if isinstance(item, Tensor) else None)
            if isinstance(item, Tensor) and item.dtype.kind == "f":
                if item.dtype != np.float64:
                    self.notes.append(
                        f"{self.names[k]} is {item.dtype}: both sides were computed on a float64 "
                        f"copy (finite differences in {item.dtype} are too coarse to check)"
                    )
                self.base.append(np.array(item._data, dtype=np.float64))
                self.is_tensor.append(True)
                if item.requires_grad:
                    self.checked.append(k)
            else:
                self.base.append(item)
                self.is_tensor.append(False)
        if not self.checked:
            raise ValueError(
                f"{caller}: no input requires grad, so there is nothing to check; make the "
                "inputs to check floating-point Tensors with requires_grad=True"
            )
        self._output_names = output_names
        self.base_outputs = self.evaluate({})
        for index, output in enumerate(self.base_outputs):
            if not np.isfinite(output).all():
                raise ValueError(
                    f"{caller}: {self.output_name(index)} of fn is not finite (NaN or inf) at "
                    "the given inputs, so no gradient there can be checked"
                )

    # ---- calling fn
    def _arguments(self, overrides, leaves=None):
        arguments = []
        for k, item in enumerate(self.base):
            if leaves is not None and k in leaves:
                arguments.append(leaves[k])
            elif self.is_tensor[k]:
                arguments.append(Tensor(overrides.get(k, item)))
            else:
                arguments.append(item)
        return arguments

    def _outputs(self, result):
        """fn's result as a list of floating-point Tensors.  In a tuple, integer and bool
        outputs (indices, masks) have no gradient and are left out, as PyTorch does."""
        several = isinstance(result, (tuple, list))
        outputs = list(result) if several else [result]
        for index, output in enumerate(outputs):
            if not isinstance(output, Tensor):
                where = f" at position {index}" if several else ""
                raise TypeError(f"{self.caller}: fn must return a Tensor or a tuple of Tensors, "
                                f"got {type(output).__name__}{where}")
        floating = [o for o in outputs if o.dtype.kind == "f"]
        if not floating:
            dtypes = ", ".join(str(o.dtype) for o in outputs) or "nothing"
            raise TypeError(f"{self.caller}: fn returned no floating-point tensor ({dtypes}); "
                            "only floating-point outputs have gradients")
        return floating

    def evaluate(self, overrides):
        """fn's outputs as float64 arrays, with input k replaced by ``overrides[k]``."""
        with no_grad():
            outputs = self._outputs(self.fn(*self._arguments(overrides)))
        if not overrides and any(o.dtype != np.float64 for o in outputs):
            self.notes.append(
                f"fn returned {outputs[0].dtype} on float64 inputs: finite differences at that "
                "precision are unreliable; keep fn in float64"
            )
        return [np.asarray(o._data, dtype=np.float64) for o in outputs]

    def output_name(self, index):
        if self._output_names is not None:
            return self._output_names[index]
        return "out" if len(self.base_outputs) == 1 else f"out[{index}]"

    # ---- analytic side
    def analytic(self, projections):
        """For each cotangent list w in ``projections``: the gradient of sum_o <w_o, out_o>
        with respect to each checked input (``None`` where the graph does not reach it)."""
        leaves = {k: Tensor(self.base[k].copy(), requires_grad=True) for k in self.checked}
        with enable_grad():
            outputs = self._outputs(self.fn(*self._arguments({}, leaves)))
        results = []
        for cotangents in projections:
            for leaf in leaves.values():
                leaf.grad = None
            for output, cotangent in zip(outputs, cotangents):
                if output.requires_grad:
                    _backward(output, Tensor(cotangent.astype(output.dtype)), retain_graph=True)
            results.append({k: (None if leaf.grad is None else
                                np.asarray(leaf.grad, dtype=np.float64).copy())
                            for k, leaf in leaves.items()})
        return results

    # ---- numerical side
    def jvp(self, k, direction, step):
        """Central difference of the outputs along ``direction`` in input k."""
        plus = self.evaluate({k: self.base[k] + step * direction})
        minus = self.evaluate({k: self.base[k] - step * direction})
        return [(p - m) / (2 * step) for p, m in zip(plus, minus)]

    def columns(self, k):
        """Yield (flat index, d outputs / d input_k[flat index]) for every element."""
        perturbed = self.base[k].copy()
        flat = perturbed.reshape(-1)  # a view: perturbing it perturbs `perturbed`
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + self.eps
            plus = self.evaluate({k: perturbed})
            flat[i] = original - self.eps
            minus = self.evaluate({k: perturbed})
            flat[i] = original
            yield i, [(p - m) / (2 * self.eps) for p, m in zip(plus, minus)]

    def numerical_projected(self, k, projections):
        """For each cotangent list w: d sum_o <w_o, out_o> / d input_k, element by element."""
        results = [np.zeros(self.base[k].shape) for _ in projections]
        for i, column in self.columns(k):
            for result, cotangents in zip(results, projections):
                result.reshape(-1)[i] = sum(np.vdot(w, c) for w, c in zip(cotangents, column))
        return results

    def one_sided(self, k, flat_index, cotangents):
        """Left and right difference quotients of sum_o <w_o, out_o> along one element."""
        perturbed = self.base[k].copy()
        flat = perturbed.reshape(-1)
        derivatives = []
        for sign in (-1.0, 1.0):
            flat[flat_index] = self.base[k].reshape(-1)[flat_index] + sign * self.eps
            moved = self.evaluate({k: perturbed})
            change = sum(np.vdot(w, m - b) for w, m, b in zip(cotangents, moved,
                                                                self.base_outputs))
            derivatives.append(sign * change / self.eps)
        return derivatives[0], derivatives[1]

    # ---- comparing
    def tolerance(self, numerical):
        return self.atol + self.rtol * np.abs(numerical)

    def mismatch(self, analytic, numerical):
        """Boolean mask of elements out of tolerance (NaN on either side counts)."""
        with np.errstate(invalid="ignore"):
            close = np.abs(analytic - numerical) <= self.tolerance(numerical)
        return ~close

    def worst(self, analytic, numerical, mask):
        """Flat index of the worst element of ``mask``: the largest error over tolerance."""
        with np.errstate(invalid="ignore", divide="ignore"):
            excess = np.abs(analytic - numerical) / self.tolerance(numerical)
        excess = np.where(np.isnan(excess), np.inf, excess)
        excess = np.where(mask, excess, -1.0)
        return int(np.argmax(excess.reshape(-1)))

    # ---- the two modes
    def run_fast(self, n_directions):
        cotangents = [self.rng.standard_normal(o.shape) for o in self.base_outputs]
        (analytic,) = self.analytic([cotangents])
        for k in self.checked:
            gradient = analytic[k] if analytic[k] is not None else np.zeros(self.base[k].shape)
            for _ in range(n_directions):
                direction = self.rng.standard_normal(self.base[k].shape)
                column = self.jvp(k, direction, self.eps)
                numerical = sum(np.vdot(w, c) for w, c in zip(cotangents, column))
                projected = np.vdot(gradient, direction)
                if self.mismatch(projected, numerical):
                    failure = self.localise(k, cotangents, analytic[k])
                    if failure is not None:
                        raise failure
                    break  # the element search is the judge: every element agrees
        return True

    def localise(self, k, cotangents, analytic_v):
        """Find the worst element of input k: first for out.sum() (the plainest quantity),
        then for the random cotangent the fast check used."""
        ones = [np.ones_like(o) for o in self.base_outputs]
        (analytic_1,) = self.analytic([ones])
        numerical_1, numerical_v = self.numerical_projected(k, [ones, cotangents])
        for weights, analytic_side, numerical, label in (
            (ones, analytic_1[k], numerical_1, "sum"),
            (cotangents, analytic_v, numerical_v, "random"),
        ):
            connected = analytic_side is not None
            values = analytic_side if connected else np.zeros_like(numerical)
            mask = self.mismatch(values, numerical)
            if mask.any():
                flat = self.worst(values, numerical, mask)
                return self.failure(k, flat, values.reshape(-1)[flat],
                                    numerical.reshape(-1)[flat], weights, label, None,
                                    int(mask.sum()), connected)
        return None

    def run_full(self):
        sizes = [o.size for o in self.base_outputs]
        total = sum(sizes)
        basis = []
        for j in range(total):
            flat = np.zeros(total)
            flat[j] = 1.0
            parts = np.split(flat, np.cumsum(sizes)[:-1])
            basis.append([p.reshape(o.shape) for p, o in zip(parts, self.base_outputs)])
        rows = self.analytic(basis)
        for k in self.checked:
            size = self.base[k].size
            numerical = np.zeros((total, size))
            for i, column in self.columns(k):
                numerical[:, i] = np.concatenate([c.reshape(-1) for c in column])
            connected = all(row[k] is not None for row in rows) or total == 0
            analytic = np.zeros((total, size))
            for j, row in enumerate(rows):
                if row[k] is not None:
                    analytic[j] = row[k].reshape(-1)
            mask = self.mismatch(analytic, numerical)
            if mask.any():
                flat = self.worst(analytic, numerical, mask)
                j, i = divmod(flat, size)
                raise self.failure(k, i, analytic[j, i], numerical[j, i], basis[j], "element",
                                   j, int(mask.any(axis=0).sum()), connected)
        return True

    # ---- the report
    def output_element(self, j):
        for index, output in enumerate(self.base_outputs):
            if j < output.size:
                return index, np.unravel_index(j, output.shape)
            j -= output.size
        raise IndexError(j)

    def failure(self, k, flat, analytic, numerical, weights, label, output_flat, mismatches,
                connected):
        name = self.names[k]
        shape = self.base[k].shape
        index = tuple(int(i) for i in np.unravel_index(flat, shape))
        element = _format_index(name, index)
        if label == "element":
            output_index, output_multi = self.output_element(output_flat)
            output_element = _format_index(self.output_name(output_index), output_multi)
            quantity = f"d {output_element} / d {element}"
        else:
            output_element = None
            if len(self.base_outputs) == 1:
                outputs = self.output_name(0)
            else:
                outputs = "(" + ", ".join(self.output_name(i)
                                          for i in range(len(self.base_outputs))) + ")"
            if label == "sum":
                quantity = f"d {outputs}.sum() / d {element}"
            else:
                quantity = f"d ({outputs} * v).sum() / d {element}, v a fixed random cotangent"
        abs_err = abs(analytic - numerical)
        rel_err = abs_err / abs(numerical) if numerical != 0 else float("inf")
        left, right = self.one_sided(k, flat, weights)
        singular = self.singular_point(k, flat, element, weights, analytic, numerical, left,
                                       right)
        label_name = "" if name.startswith("inputs[") else f" '{name}'"
        head = f"{self.caller}: input {k}{label_name} (shape {shape}, {self.dtypes[k]})"
        lines = []
        if not connected:
            kind = "no_gradient"
            lines.append(
                f"{head} gets no gradient from the recorded graph, but the numerical one "
                "is not zero"
            )
            lines.append(f"  {quantity}: numerical {_fmt(numerical)}, analytic none")
            if singular is not None:
                pass  # the point itself explains the numerical value
            elif self.order == 1:
                lines.append(f"  was {name} used through .data or .numpy(), detached, or under "
                             "no_grad() inside fn, or does a backward return None for it?")
            else:
                lines.append("  does a backward compute with .data or .numpy() of its saved "
                             "tensors, or detach them? The graph then sees a constant")
        else:
            kind = "mismatch"
            what = "second derivatives" if self.order == 2 else "gradients"
            lines.append(f"{head}: analytic and numerical {what} differ at {element}")
            lines.append(f"  {quantity}")
            lines.append(f"    analytic  {_fmt(analytic)}")
            lines.append(f"    numerical {_fmt(numerical)}")
            allowed = self.atol + self.rtol * abs(numerical)
            lines.append(
                f"  abs error {abs_err:.3g}, rel error {rel_err:.3g}; allowed: atol + rtol * "
                f"|numerical| = {self.atol:g} + {self.rtol:g} * {abs(numerical):.3g} = "
                f"{allowed:.3g}"
            )
            if np.isfinite(analytic) and np.isfinite(numerical) and numerical != 0:
                ratio = analytic / numerical
                if abs(ratio) > 1e-3:
                    lines.append(f"  analytic / numerical = {ratio:.4g}")
        count = self.base[k].size
        if mismatches > 1:
            lines.append(f"  {mismatches} of {count} elements of {name} are out of tolerance "
                         "(the worst is shown)")
        if singular is not None:
            lines.append(singular)
        if not np.isfinite(numerical):
            lines.append(f"  the numerical value is {numerical}: fn is not finite at "
                         f"{element} +- eps={self.eps:g}")
        if self.explain:
            lines.append(f"  ({self.explain})")
        lines.extend(f"  note: {note}" for note in self.notes)
        return GradcheckError(
            "\n".join(lines), input_index=k, input_name=name, index=index,
            output_index=output_element, quantity=quantity, analytic=float(analytic),
            numerical=float(numerical), abs_err=float(abs_err), rel_err=float(rel_err),
            atol=self.atol, rtol=self.rtol, mismatches=mismatches,
            on_kink=singular is not None, one_sided=(float(left), float(right)), kind=kind,
            order=self.order,
        )

    def central(self, k, flat_index, cotangents, step):
        """Central difference of sum_o <w_o, out_o> along one element, with ``step``."""
        direction = np.zeros(self.base[k].shape)
        direction.reshape(-1)[flat_index] = 1.0
        column = self.jvp(k, direction, step)
        return sum(np.vdot(w, c) for w, c in zip(cotangents, column))

    def singular_point(self, k, flat, element, weights, analytic, numerical, left, right):
        """The text explaining why the point has no derivative, or None when it has one.

        Two signatures, both independent of what fn computes:
        a *kink* (relu or abs at 0, a tie that sends the gradient to one element): the left
        and right difference quotients disagree by more than the tolerance and by a good
        part of the mismatch (at a smooth point they differ only by about eps * f'');
        a *jump* (a step, as relu's derivative at 0 in a second-order check): halving eps
        doubles the central difference, which stays put where fn is continuous.
        """
        subject = "fn" if self.order == 1 else "the first derivative"
        gap = abs(right - left)
        scale = self.atol + self.rtol * max(abs(left), abs(right))
        if np.isfinite(gap) and gap > scale and gap >= 0.5 * abs(analytic - numerical):
            first = (f"sits on (or within eps={self.eps:g} of) a kink: the left and right "
                     f"derivatives there are {_fmt(left)} and {_fmt(right)}")
        else:
            half = self.central(k, flat, weights, self.eps / 2)
            if not (np.isfinite(half) and np.isfinite(numerical)
                    and abs(half) > 1.5 * abs(numerical) > 0):
                return None
            first = (f"sits on (or within eps={self.eps:g} of) a jump of {subject}: the "
                     f"numerical derivative grows from {_fmt(numerical)} to {_fmt(half)} when "
                     "eps is halved")
        values = self.base[k].reshape(-1)
        value = values[flat]
        causes = []
        if abs(value) <= self.eps:
            causes.append("as relu or abs at 0" if self.order == 1
                          else "as the derivative of relu or abs at 0")
        ties = np.flatnonzero(np.abs(values - value) <= self.eps)
        ties = ties[ties != flat]
        if ties.size:
            other = tuple(int(i) for i in np.unravel_index(ties[0], self.base[k].shape))
            causes.append(f"it ties with {_format_index(self.names[k], other)}: equal values, "
                          "as in a max or min window")
        cause = "; ".join(causes) or f"{subject} is not differentiable at this point"
        return (f"  {element} = {_fmt(value)} {first}\n"
                f"  ({cause}); no single derivative is right there: {self.caller} at points "
                "away from it")


def _finish(check_runner, raise_exception, notes, stacklevel=3):
    for note in notes:
        warnings.warn(note, GradcheckWarning, stacklevel=stacklevel)
    try:
        return check_runner()
    except GradcheckError as error:
        if raise_exception:
            raise
        warnings.warn(str(error), GradcheckWarning, stacklevel=stacklevel)
        return False


# --------------------------------------------------------------------------- public API
def numerical_grad(fn, inputs, eps=1e-6, grad_output=None):
    """Central finite differences of ``sum(fn(*inputs) * grad_output)``.

    fn: a callable of the inputs returning a Tensor (or a tuple of Tensors); inputs: a
    Tensor or a tuple/list of arguments; grad_output: an array-like (or Tensor) of the
    output's shape, a tuple of them for a tuple output; ones when omitted.

    Returns a list with one entry per input: for a floating-point Tensor input (whether or
    not it requires grad), a float64 array of its shape, d sum(out * grad_output) / d input,
    computed as ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element on float64 copies;
    ``None`` for any other argument.  Costs two calls of fn per input element.
    """
    caller = "numerical_grad"
    inputs = _as_input_list(inputs, caller)
    eps = _check_number(eps, "eps", caller, positive=True)
    if not any(isinstance(i, Tensor) and i.dtype.kind == "f" for i in inputs):
        raise ValueError(f"{caller}: no input is a floating-point Tensor, so there is no "
                         "gradient to compute")
    # Every floating Tensor is differentiated here, so mark them all as 'checked'.
    marked = [Tensor(i._data, requires_grad=True) if isinstance(i, Tensor) and i.dtype.kind == "f"
              else i for i in inputs]
    check = _Check(caller, fn, marked, eps, 0.0, 0.0, None)
    cotangents = _cotangents(grad_output, check, caller)
    return [check.numerical_projected(k, [cotangents])[0] if k in check.checked else None
            for k in range(len(inputs))]


def _cotangents(grad_output, check, caller):
    shapes = [o.shape for o in check.base_outputs]
    if grad_output is None:
        return [np.ones(shape) for shape in shapes]
    given = list(grad_output) if isinstance(grad_output, (tuple, list)) and len(shapes) > 1 \
        else [grad_output]
    if len(given) != len(shapes):
        raise ValueError(f"{caller}: got {len(given)} grad_outputs for {len(shapes)} outputs")
    arrays = []
    for index, (item, shape) in enumerate(zip(given, shapes)):
        array = np.asarray(item._data if isinstance(item, Tensor) else item, dtype=np.float64)
        if array.shape != shape:
            where = f" {index}" if len(shapes) > 1 else ""
            raise ValueError(f"{caller}: grad_output{where} has shape {array.shape} but fn's "
                             f"output{where} has shape {shape}")
        arrays.append(array)
    return arrays


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast=True,
              n_directions=2, seed=0):
    """Check the analytic gradients of ``fn`` against finite differences (as
    ``torch.autograd.gradcheck``).

    fn: a callable of Tensors returning a Tensor or a tuple of Tensors (a user
    ``Function``'s ``.apply`` included); inputs: a Tensor or a tuple/list of arguments, the
    Tensors with ``requires_grad=True`` being checked.  An element passes when
    ``|analytic - numerical| <= atol + rtol * |numerical|``.

    fast=True (default): compare ``v^T J u`` for a random cotangent v and ``n_directions``
    random directions u per input; on a disagreement, search element by element to report
    the worst element.  fast=False: compare the full Jacobian, one backward per output
    element and two calls of fn per input element (for small inputs).

    Returns True when all agree.  Otherwise raises ``GradcheckError`` (or, with
    ``raise_exception=False``, warns with its message and returns False).  Both sides run on
    float64 copies of the inputs; a float32 input gets a note (``GradcheckWarning``).
    """
    caller = "gradcheck"
    inputs = _as_input_list(inputs, caller)
    eps = _check_number(eps, "eps", caller, positive=True)
    atol = _check_number(atol, "atol", caller, positive=False)
    rtol = _check_number(rtol, "rtol", caller, positive=False)
    n_directions = _check_directions(n_directions, caller)
    check = _Check(caller, fn, inputs, eps, atol, rtol, np.random.default_rng(seed))
    runner = (lambda: check.run_fast(n_directions)) if fast else check.run_full
    return _finish(runner, raise_exception, check.notes)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast=True, n_directions=2, seed=0):
    """Check the second derivatives of ``fn`` (as ``torch.autograd.gradgradcheck``).

    Builds ``g(inputs, v) = grad(fn(*inputs), checked inputs, v, create_graph=True)`` -- the
    first derivatives, projected on a cotangent v -- and gradchecks g with respect to the
    inputs and v.  grad_outputs: v (array-likes of the output's shape, a tuple of them for a
    tuple output); random normal when omitted.  Other arguments as :func:`gradcheck`.

    A ``Function`` whose backward is first-order only (returns plain arrays, or uses a float
    array stashed on ``ctx``) cannot be differentiated twice: the library's ``RuntimeError``
    naming the op comes out, prefixed ``gradgradcheck:``, rather than a wrong number.
    """
    caller = "gradgradcheck"
    inputs = _as_input_list(inputs, caller)
    eps = _check_number(eps, "eps", caller, positive=True)
    atol = _check_number(atol, "atol", caller, positive=False)
    rtol = _check_number(rtol, "rtol", caller, positive=False)
    n_directions = _check_directions(n_directions, caller)
    rng = np.random.default_rng(seed)
    probe = _Check(caller, fn, inputs, eps, atol, rtol, rng)
    if grad_outputs is None:
        cotangents = [rng.standard_normal(o.shape) for o in probe.base_outputs]
    else:
        cotangents = _cotangents(grad_outputs, probe, caller)
    count, checked = len(inputs), probe.checked
    single = len(cotangents) == 1

    def first_derivatives(*arguments):
        values, vectors = list(arguments[:count]), arguments[count:]
        for k in checked:
            if not values[k].requires_grad:  # the numerical side passes plain constants
                values[k] = Tensor(values[k]._data, requires_grad=True)
        with enable_grad():
            outputs = probe._outputs(fn(*values))
            pairs = [(o, v) for o, v in zip(outputs, vectors) if o.requires_grad]
            if not pairs:
                return tuple(Tensor(np.zeros_like(values[k]._data)) for k in checked)
            return _grad([o for o, _ in pairs], [values[k] for k in checked],
                         grad_outputs=[v for _, v in pairs], create_graph=True)

    arguments = [Tensor(probe.base[k], requires_grad=k in checked) if probe.is_tensor[k]
                 else probe.base[k] for k in range(count)]
    arguments += [Tensor(v, requires_grad=True) for v in cotangents]
    names = list(probe.names)
    names += ["v"] if single else [f"v[{o}]" for o in range(len(cotangents))]
    output_names = [f"grad_{probe.names[k]}" for k in checked]
    out = probe.output_name(0) if single else "out"
    explain = (f"grad_{probe.names[checked[0]]} is d ({out} * v).sum() / d "
               f"{probe.names[checked[0]]}, the first derivative for a fixed cotangent v")

    def run():
        try:
            check = _Check(caller, first_derivatives, arguments, eps, atol, rtol, rng,
                           names=names, output_names=output_names, notes=probe.notes, order=2,
                           explain=explain)
            return check.run_fast(n_directions) if fast else check.run_full()
        except GradcheckError:
            raise
        except RuntimeError as error:
            raise RuntimeError(f"{caller}: cannot differentiate fn's gradient again: "
                               f"{error}") from error

    return _finish(run, raise_exception, probe.notes)
