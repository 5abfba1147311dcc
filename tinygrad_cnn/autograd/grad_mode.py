"""The engine's switches, one set per thread (as PyTorch's): grad recording, inference mode
and anomaly mode.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode`` change recording
for the current thread only, as context managers and as decorators (a decorated function
gets a fresh guard on every call, so two threads running it, or two interleaved blocks,
each restore their own previous setting).  ``detect_anomaly`` makes every op check its
forward result and every backward check its gradients for NaN/inf, and raise naming the op
and the user line that created it.
"""

import contextvars
import functools
import inspect
from typing import NamedTuple


class ModeState(NamedTuple):
    """One immutable set of switches; changing a mode installs a new one."""

    grad_enabled: bool = True
    inference: bool = False
    anomaly: bool = False
    anomaly_check_nan: bool = True
    tracing: bool = False  # ops keep their arguments and output (tinygrad_cnn.onnx.export)

    def replace(self, **changes) -> "ModeState":
        return self._replace(**changes)


# The current thread's switches, read on every op as ``current_mode.get()``.  A context
# variable is per thread (each thread starts from the default: grad on, as PyTorch's) and is
# the cheapest thread-local read Python has.
current_mode = contextvars.ContextVar(
    "tinygrad_cnn_autograd_mode", default=ModeState())  # noqa: B039 (a NamedTuple: immutable)


def _update(**changes) -> None:
    current_mode.set(current_mode.get().replace(**changes))


class _CurrentMode:
    """``mode.grad_enabled`` (``inference``, ``anomaly``, ``anomaly_check_nan``): the current
    thread's switches as plain attributes, to read and to set, for library code that is not
    on the per-op hot path (which reads ``current_mode.get()`` once)."""

    __slots__ = ()

    def __getattr__(self, name):
        return getattr(current_mode.get(), name)

    def __setattr__(self, name, value):
        if name not in ModeState._fields:
            raise AttributeError(f"mode has no switch {name!r}")
        _update(**{name: bool(value)})


mode = _CurrentMode()


class AnomalyError(RuntimeError, FloatingPointError):
    """Raised by anomaly mode: a ``RuntimeError`` as PyTorch's (and a ``FloatingPointError``,
    which this library raised before)."""


def set_tracing(enabled: bool) -> bool:
    """Make every op keep its arguments and output on its ``ctx`` (``tinygrad_cnn.onnx``
    reads the graph that way); returns the previous setting, to restore."""
    previous, mode.tracing = mode.tracing, bool(enabled)
    return previous


def is_grad_enabled() -> bool:
    """True when ops record the graph needed for ``backward`` (in this thread)."""
    return current_mode.get().grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (in this thread)."""
    return current_mode.get().inference


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return current_mode.get().anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode checks for NaN (``detect_anomaly(check_nan=True)``)."""
    return current_mode.get().anomaly_check_nan


class _ModeGuard:
    """A context manager that is also a decorator, as PyTorch's ``_DecoratorContextManager``.

    ``_FIELDS`` are the switches the guard changes: ``__enter__`` sets them (remembering the
    previous values in ``self._previous``), ``__exit__`` puts back those fields only, so
    guards of different modes nest in any order.  ``_clone()`` makes a guard with the same
    arguments: used as a decorator, every call runs inside its own clone, so the guard keeps
    no state shared between calls or threads.
    """

    _FIELDS = ("grad_enabled", "inference")

    def __call__(self, function):
        if inspect.isclass(function):
            raise TypeError(f"{type(self).__name__} can decorate functions, not classes")
        if inspect.isgeneratorfunction(function):
            @functools.wraps(function)
            def generator(*args, **kwargs):
                with self._clone():
                    yield from function(*args, **kwargs)

            return generator

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self._clone():
                return function(*args, **kwargs)

        return wrapper

    def _switch(self, **changes) -> None:
        state = current_mode.get()
        self._previous = {name: getattr(state, name) for name in self._FIELDS}
        current_mode.set(state.replace(**changes))

    def __exit__(self, *exc):
        _update(**self._previous)
        return False


class _NoArgumentGuard(_ModeGuard):
    """A guard that PyTorch lets you write with or without the call: ``@no_grad`` and
    ``@no_grad()`` (and ``with no_grad():``)."""

    def __new__(cls, orig_func=None):
        guard = super().__new__(cls)
        if orig_func is None:
            return guard
        guard.__init__()
        return guard(orig_func)

    def _clone(self):
        return type(self)()


class no_grad(_NoArgumentGuard):
    """Context manager and decorator: nothing computed inside records a graph (this thread).

    As ``torch.no_grad``; ``@no_grad`` and ``@no_grad()`` both decorate.
    """

    def __enter__(self):
        self._switch(grad_enabled=False)


class enable_grad(_NoArgumentGuard):
    """Context manager and decorator: ops record the graph, also inside ``no_grad`` or
    ``inference_mode`` (as ``torch.enable_grad``)."""

    def __enter__(self):
        self._switch(grad_enabled=True)


class set_grad_enabled(_ModeGuard):
    """Set grad recording to ``mode`` (as ``torch.set_grad_enabled``).

    Called as a function it switches at once (``set_grad_enabled(False)``); as a context
    manager the previous setting comes back on exit; as a decorator the setting holds inside
    each call.
    """

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._switch(grad_enabled=self.mode)

    def __call__(self, function):
        _update(**self._previous)  # decorating must not switch the mode for the caller
        return super().__call__(function)

    def __enter__(self):
        return None

    def _clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_ModeGuard):
    """Context manager and decorator: no graph is recorded (as ``torch.inference_mode``).

    ``inference_mode(False)`` turns inference mode off and grad recording on, as PyTorch's.
    Tensors made inside are ordinary tensors (PyTorch marks them "inference tensors" that
    autograd later refuses; here they stay usable).
    """

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # bare @inference_mode
            guard = super().__new__(cls)
            guard.__init__(True)
            return guard(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._switch(inference=self.mode, grad_enabled=not self.mode)

    def _clone(self):
        return inference_mode(self.mode)


class set_detect_anomaly(_ModeGuard):
    """Turn anomaly mode on or off (as ``torch.autograd.set_detect_anomaly``): at once when
    called, restored on exit when used as a context manager."""

    _FIELDS = ("anomaly", "anomaly_check_nan")

    def __init__(self, mode: bool, check_nan: bool = True):
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        self._switch(anomaly=self.mode, anomaly_check_nan=self.check_nan)

    def __call__(self, function):
        _update(**self._previous)
        return super().__call__(function)

    def __enter__(self):
        return None

    def _clone(self):
        return set_detect_anomaly(self.mode, self.check_nan)


class detect_anomaly(_ModeGuard):
    """Inside this context the first op producing NaN or inf raises ``RuntimeError``.

    Forward results are checked as each op runs (PyTorch checks only backward: this is an
    addition); gradients are checked as ``backward`` or ``grad`` computes them.  The message
    names the op and the file and line of user code that created it, which is where a NaN
    usually begins (``log`` of a negative, ``0/0``).  Checking costs a pass over every
    result, so use it to debug, not to train.  ``check_nan=False`` records where ops were
    created without checking their values.
    """

    _FIELDS = ("anomaly", "anomaly_check_nan")

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self._switch(anomaly=True, anomaly_check_nan=self.check_nan)

    def _clone(self):
        return detect_anomaly(self.check_nan)


__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "AnomalyError",
]
