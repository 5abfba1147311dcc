"""Global switches of the autograd engine: whether ops record a graph, and anomaly mode.

``no_grad`` / ``enable_grad`` turn recording off and on (context managers and decorators, as
PyTorch's); ``detect_anomaly`` makes every op check its forward result and every backward
check its gradients for NaN/inf, and raise naming the op and the user line that created it.
"""

import contextlib


class _Mode:
    """The engine's switches; one instance, read on every op (so: plain attributes)."""

    __slots__ = ("grad_enabled", "anomaly", "tracing")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False
        self.tracing = False  # ops keep their arguments and output (tinygrad_cnn.onnx.export)


mode = _Mode()


def set_tracing(enabled: bool) -> bool:
    """Make every op keep its arguments and output on its ``ctx`` (``tinygrad_cnn.onnx``
    reads the graph that way); returns the previous setting, to restore."""
    previous, mode.tracing = mode.tracing, bool(enabled)
    return previous


def is_grad_enabled() -> bool:
    """True when ops record the graph needed for ``backward``."""
    return mode.grad_enabled


class _SetGradEnabled(contextlib.ContextDecorator):
    """Sets grad recording on entry and restores the previous setting on exit."""

    def __init__(self, enabled: bool):
        self.enabled = bool(enabled)
        self._previous = []

    def __enter__(self):
        self._previous.append(mode.grad_enabled)
        mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self._previous.pop()
        return False


def no_grad():
    """Context manager and decorator: nothing computed inside records a graph."""
    return _SetGradEnabled(False)


def enable_grad():
    """Context manager and decorator: ops record the graph (undoes an outer ``no_grad``)."""
    return _SetGradEnabled(True)


def set_grad_enabled(enabled: bool):
    """Context manager and decorator setting grad recording to ``enabled``."""
    return _SetGradEnabled(enabled)


class detect_anomaly(contextlib.ContextDecorator):
    """Inside this context the first op producing NaN or inf raises ``FloatingPointError``.

    Forward results are checked as each op runs; gradients are checked as ``backward`` or
    ``grad`` computes them.  The message names the op and the file and line of user code
    that created it, which is where a NaN usually begins (``log`` of a negative, ``0/0``).
    Checking costs a pass over every result, so use it to debug, not to train.
    """

    def __init__(self):
        self._previous = []

    def __enter__(self):
        self._previous.append(mode.anomaly)
        mode.anomaly = True
        return self

    def __exit__(self, *exc):
        mode.anomaly = self._previous.pop()
        return False
