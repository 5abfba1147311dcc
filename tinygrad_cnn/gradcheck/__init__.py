"""Gradient checks a person can read: ``gradcheck``, ``gradgradcheck``, ``numerical_grad``.

Mirrors ``torch.autograd.gradcheck`` / ``gradgradcheck``: the *analytic* gradient (what the
graph's backward formulas give) against a *numerical* one (central finite differences of the
function itself, on float64 copies).  What this package adds to PyTorch's:

* **Every wrong element, cheaply.**  By default every input element is compared, against
  ``probes=20`` random +-1 cotangents instead of one backward per output element; a wrong
  Jacobian entry escapes with probability at most 2**-20, and a flagged column is then
  judged exactly (``compare.py``).
* **One readable failure.**  ``GradcheckError`` names the input (by ``forward``'s parameter
  name for a ``Function``), the worst element, its value, both gradient values, the error and
  tolerance, and a few other failing elements -- never a whole Jacobian.
* **Kinks are named**, and their cause tested (relu at 0, or a tie with a named element).
* **The user's dtype too.**  float32/float16 inputs get a second backward in that dtype.
* **No false "first-order only".**  gradgradcheck decides a stash on ``ctx`` numerically.

The stages, one module each: ``options`` (keywords), ``problem`` (inputs and calling fn),
``numerical``, ``analytic``, ``compare`` (producing a ``_Mismatch``), ``kinks`` and
``report`` (the message), ``dtype_pass``, ``stash``, and ``api`` (the public functions).
"""

from .api import gradcheck, gradgradcheck, numerical_grad
from .errors import GradcheckError, GradcheckWarning

__all__ = [
    "GradcheckError",
    "GradcheckWarning",
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
]
