"""numpy's floating-point error reports off while the library's own ops compute.

PyTorch computes ``x / 0``, ``exp(1000)``, ``inf - inf`` or ``0 * inf`` silently: the result
holds ``inf`` or ``NaN`` and nothing is printed. numpy computes the same values but reports
each as a ``RuntimeWarning`` ("divide by zero encountered in divide"), which ``python -W
error`` or pytest's ``-W error`` turns into an exception raised from deep inside an op.
So the forward and the backward of every op of this library run with numpy's error
handling set to ``"ignore"`` (:func:`quiet`): the values are PyTorch's, and so is the
silence. A user's own ``Function`` keeps numpy's settings (its numpy code is the user's),
and so do hooks and everything outside the ops.

:func:`quiet` sets numpy's error state through the context variable numpy 2 keeps it in
(about 0.1 us for the pair, against 0.8 us for ``np.errstate``, which the op-by-op autograd
would pay twice per op); with numpy 1, ``np.errstate``. The pool threads of
:func:`tinygrad_cnn.ops.threads.map_chunks` take the caller's settings, so a kernel's
split work is as quiet as its caller.
"""

from __future__ import annotations

import numpy as np

try:  # numpy >= 2: the error state is one context variable
    from numpy._core._ufunc_config import _extobj_contextvar
    from numpy._core.umath import _make_extobj

    _IGNORE = _make_extobj(all="ignore")
except ImportError:  # numpy 1 (or a numpy that moved them): the public context manager
    _extobj_contextvar = None

__all__ = ["quiet", "quietly"]


if _extobj_contextvar is not None:
    class quiet:  # noqa: N801 (used as a context manager, like np.errstate)
        """``with quiet():`` numpy's floating-point errors ignored in this block (this
        thread or context only), restored after it."""

        __slots__ = ("_token",)

        def __enter__(self):
            self._token = _extobj_contextvar.set(_IGNORE)

        def __exit__(self, *exc_info):
            _extobj_contextvar.reset(self._token)
else:
    def quiet():
        return np.errstate(all="ignore")


def quietly(function):
    """``function`` run under :func:`quiet` (the op runners of :mod:`.function`)."""

    def run(*args):
        with quiet():
            return function(*args)

    run.__wrapped__ = function
    return run

