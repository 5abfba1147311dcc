"""gradgradcheck's own stage: the first derivatives as a function to gradcheck, and the
numerical verdict on values stashed on ``ctx``."""

import warnings

import numpy as np

from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor
from . import report, stash
from .errors import GradcheckError, GradcheckWarning


class FirstDerivatives:
    """``g(inputs, v) = grad(fn(*inputs), checked inputs, v, create_graph=True)``: a callable
    of fn's arguments followed by one cotangent per output, returning one gradient per
    checked input; with the ``arguments`` to check it at and the names a report uses."""

    def __init__(self, fn, probe, cotangents):
        self.fn, self.probe = fn, probe
        count, checked = len(probe.base), probe.checked
        single = len(cotangents) == 1
        self.arguments = [Tensor(probe.base[k], requires_grad=k in checked)
                          if probe.is_tensor[k] else probe.base[k] for k in range(count)]
        self.arguments += [Tensor(v, requires_grad=True) for v in cotangents]
        # g is linear in v: its columns there are exact forward differences
        self.cotangent_positions = range(count, count + len(cotangents))
        self.names = list(probe.names)
        self.names += ["v"] if single else [f"v[{o}]" for o in range(len(cotangents))]
        self.output_names = [f"grad_{probe.names[k]}" for k in checked]
        out = probe.output_name(0) if single else "out"
        first = probe.names[checked[0]]
        self.explain = (f"grad_{first} is d ({out} * v).sum() / d {first}, the first "
                        "derivative for a fixed cotangent v")

    def __call__(self, *arguments):
        probe = self.probe
        count, checked = len(probe.base), probe.checked
        # The numerical side calls g under no_grad and needs only its values: the backward
        # is then not recorded (create_graph=False), which is what makes its calls cheap.
        differentiable = is_grad_enabled()
        values, vectors = list(arguments[:count]), arguments[count:]
        for k in checked:
            if not values[k].requires_grad:  # the numerical side passes plain constants
                values[k] = Tensor(values[k]._data, requires_grad=True)
        with enable_grad():
            outputs = probe.outputs(self.fn(*values))
            pairs = [(o, v) for o, v in zip(outputs, vectors) if o.requires_grad]
            if not pairs:
                return tuple(Tensor(np.zeros_like(values[k]._data)) for k in checked)
            # an input fn ignores has a zero first derivative (grad raises for it otherwise)
            return _grad([o for o, _ in pairs], [values[k] for k in checked],
                         grad_outputs=[v for _, v in pairs], create_graph=differentiable,
                         materialize_grads=True)

    def stashed(self):
        """The float values stashed on ctx in fn's graph (see ``stash.find``)."""
        leaves = {k: Tensor(self.probe.base[k].copy(), requires_grad=True)
                  for k in self.probe.checked}
        return stash.find(self.probe.record(leaves))


def decide_stash(run, stashed, caller):
    """Run the second-order check; when it meets a stash on ctx ("first-order only"), run it
    again taking the stash as constants and let finite differences decide."""
    try:
        return run()
    except GradcheckError as error:
        raise with_stash(error, stashed()) from None
    except RuntimeError as error:
        if "first-order only" not in str(error):
            raise RuntimeError(f"{caller}: cannot differentiate fn's gradient again: "
                               f"{error}") from error
        original = error
    try:
        with stash.trusted():
            run()
    except GradcheckError as failure:
        raise with_stash(failure, stashed(), first_order=True) from None
    except RuntimeError:  # e.g. a backward returning arrays: nothing to decide
        raise RuntimeError(f"{caller}: cannot differentiate fn's gradient again: "
                           f"{original}") from original
    warnings.warn(
        f"{caller}: fn's backward uses float arrays stashed on ctx (" + "; ".join(stashed())
        + "); taken as constants its second derivatives agree with finite differences, so "
        "they are constants: declare them with ctx.mark_constant(name) so that "
        "create_graph=True accepts them", GradcheckWarning, stacklevel=5)
    return True


def with_stash(error, found, first_order=False):
    """The error with a line naming the values stashed on ctx (the likely cause)."""
    if not found:
        return error
    message = str(error)
    if first_order:
        line = ("  first-order only: the backward uses values stashed on ctx, and taken as "
                "constants they give these wrong second derivatives, so they depend on the "
                "inputs: " + "; ".join(found) + ". Save the inputs with save_for_backward "
                "and recompute these values in backward with Tensor operations")
        # the stash, not .data, is why the graph sees a constant
        message = message.replace("\n" + report.NO_GRADIENT_ADVICE_2, "")
    else:
        line = ("  stashed on ctx (constants to the second derivative; one computed from an "
                "input loses its dependence on it): " + "; ".join(found))
    details = error.details()
    details["stashed"] = found
    return GradcheckError(f"{message}\n{line}", **details)
