"""What a failed check hands back: ``GradcheckError``, ``GradcheckWarning``, the ``_Mismatch``
record the comparison stage fills and the report stage turns into a message."""

from dataclasses import dataclass, field


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the numerical one (as PyTorch's ``GradcheckError``).

    Attributes (``None`` where they do not apply):

    ``input_index``, ``input_name``: which input of ``fn`` (position, and its name in the
    message); ``index``: the multi-index of the worst element in that input; ``value``: the
    input's value there; ``others``: multi-indices of a few other failing elements;
    ``output_index``: the output element (element-level checks; in fast mode the reported
    values are gradients of a weighted sum over the outputs, see ``quantity``);
    ``quantity``: the derivative the two values are of, as text; ``analytic``,
    ``numerical``: the two values; ``abs_err``, ``rel_err``; ``atol``, ``rtol``;
    ``mismatches``: how many elements of the input are out of tolerance; ``on_kink``: True
    when the point is not differentiable; ``one_sided``: ``(left, right)`` one-sided
    derivatives there; ``kind``: ``"mismatch"``, ``"no_gradient"`` (the graph does not reach
    the input), ``"dtype"`` (only the input's own dtype goes wrong), ``"nondeterministic"``
    or ``"undefined_grad"``; ``order``: 1 for ``gradcheck``, 2 for ``gradgradcheck``;
    ``seed``: the seed of the check's random probes (pass it back as ``seed=`` to repeat it);
    ``stashed``: names of float values stashed on ``ctx`` by the ops in the graph (second order).
    """

    _FIELDS = ("input_index", "input_name", "index", "value", "others", "output_index",
               "quantity", "analytic", "numerical", "abs_err", "rel_err", "atol", "rtol",
               "mismatches", "on_kink", "one_sided", "kind", "order", "seed", "stashed")

    def __init__(self, message, **details):
        super().__init__(message)
        unknown = set(details) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"GradcheckError: unknown field(s) {sorted(unknown)}")
        for name in self._FIELDS:
            setattr(self, name, details.get(name))
        self.on_kink = bool(details.get("on_kink", False))

    def details(self) -> dict:
        """The attributes as a dict (to re-raise with a different message)."""
        return {name: getattr(self, name) for name in self._FIELDS}


class GradcheckWarning(UserWarning):
    """A note from a gradient check: float32 inputs, a stash decided numerically, or a failure
    when not raising."""


@dataclass
class _Mismatch:
    """One failing element, as the comparison stage found it (the report explains it).

    k: the input's position; flat: the element's flat index in it; analytic, numerical: the
    two values; weights: the cotangent (one array per output) whose weighted sum of outputs
    both values differentiate; quantity: "element" (weights pick output element
    ``output_flat``), "sum" (all ones) or "random" (a +-1 cotangent drawn from ``seed``);
    failing: flat indices of every failing element of the input (worst first excluded);
    connected: False when the graph does not reach the input at all.
    """

    k: int
    flat: int
    analytic: float
    numerical: float
    weights: list
    quantity: str
    failing: list = field(default_factory=list)
    output_flat: int = None
    connected: bool = True
