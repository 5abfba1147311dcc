"""In-place operations, as PyTorch's: ``add_ sub_ mul_ div_ pow_ clamp_ zero_ fill_ copy_
normal_ uniform_ exp_ relu_ ...``, ``+= -= *= /=`` and ``t[index] = value``.

Each one writes into the tensor's own memory (so its views see the change) and increases the
version counter it shares with them.  Autograd rules, as PyTorch's:

- under grad recording, changing a leaf that requires grad (or a view of one) raises
  ``RuntimeError``;
- otherwise, when the result needs a gradient, the change is recorded: the op is computed out
  of place on a snapshot of the old value and the tensor's ``grad_fn`` becomes the op's node
  (a view's change is recorded on its base by ``ViewUpdate``, PyTorch's ``CopySlices``, and
  every live view of that base is re-derived from the new graph);
- a node that saved a tensor for backward remembers its version, and backward through it
  after an in-place change raises ``RuntimeError`` naming the op
  (:mod:`tinygrad_cnn.autograd.function`).

``.data`` is a separate alias with its own counter: changes through it are not tracked, as
in PyTorch.
"""

import numpy as np

from . import random
from ._checks import (
    ShapeError,
    check_fits,
    check_float,
    check_number,
    check_real,
    check_tensor,
)
from .autograd.float_errors import quiet
from .autograd.grad_mode import enable_grad, mode
from .ops import elementwise as ew
from .ops import shape as shape_ops
from .tensor import Tensor, is_scalar, promoted_dtype
from .tensor_math import binary, clamp_bounds, clamped, lerp, masked_fill_arguments, operand
from .tensor_shape import index_add_plan, index_key, scatter_add_plan, scatter_plan


# ------------------------------------------------------------------ machinery
def _check_leaf(op: str, target: Tensor) -> None:
    if target.grad_fn is None and target._requires_grad:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           "in-place operation (wrap it in torch.no_grad(), or change "
                           "its .data)")
    view = target._view
    if view is not None and view[0].grad_fn is None and view[0]._requires_grad:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used "
                           "in an in-place operation")


def _can_cast(source: np.dtype, target: np.dtype) -> bool:
    """PyTorch's rule for writing a result into a tensor: never float -> integer/bool, never
    integer -> bool; anything else is allowed (float64 -> float32 included)."""
    order = "biuf"
    return order.index(source.kind) <= order.index(target.kind) or (
        source.kind == "u" and target.kind == "i") or (source.kind == "i" and target.kind == "u")


def _store(op: str, target: Tensor, array: np.ndarray) -> None:
    """Write ``array`` (broadcast to the target's shape) into the target's memory and bump
    its version."""
    data = target._data
    if array.dtype != data.dtype and not _can_cast(array.dtype, data.dtype):
        raise RuntimeError(f"{op}: result type {array.dtype} can't be cast to the desired "
                           f"output type {data.dtype}")
    if array.shape != data.shape:
        _check_fits(op, data.shape, array.shape)
    try:
        np.copyto(data, array, casting="unsafe")
    except ValueError as error:
        raise RuntimeError(f"{op}: cannot write into this tensor ({error})") from None
    target._bump_version()


def _check_fits(op: str, shape, other_shape) -> None:
    try:
        broadcast = np.broadcast_shapes(shape, other_shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):
        raise RuntimeError(f"{op}: output with shape {tuple(shape)} doesn't match the "
                           f"broadcast shape {broadcast or other_shape}")


def _records(target: Tensor, others) -> bool:
    """True when the in-place op must be recorded in the graph."""
    if not mode.grad_enabled:
        return False
    if target._requires_grad or (target._view is not None and target._view[0]._requires_grad):
        return True
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def inplace(op: str, target: Tensor, compute, others=()) -> Tensor:
    """Change ``target`` in place to ``compute(old)`` (a Tensor function of the old value,
    computed out of place) and record the change when autograd needs it."""
    if not _records(target, others):
        with _no_recording():
            result = compute(target)
        _store(op, target, result._data)
        return target
    _check_leaf(op, target)
    old = Tensor._make(target._data.copy(), target.grad_fn)
    old._requires_grad = target._requires_grad
    result = compute(old)
    if result._requires_grad and result.grad_fn is None:
        result = shape_ops.Clone.apply(result)  # a leaf itself (copy_(leaf)): go through a node
    if result._data.shape != target._data.shape:
        _check_fits(op, target._data.shape, result._data.shape)
        result = result.expand(target._data.shape)
    if result._data.dtype != target._data.dtype:
        if not _can_cast(result._data.dtype, target._data.dtype):
            raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the "
                               f"desired output type {target.dtype}")
        result = result.to(target._data.dtype)
    _store(op, target, result._data)
    if result._requires_grad:
        _rebase(op, target, result)
    return target


class _no_recording:
    """``no_grad`` without the import cycle and the decorator machinery."""

    def __enter__(self):
        self.previous = mode.grad_enabled
        mode.grad_enabled = False

    def __exit__(self, *exc):
        mode.grad_enabled = self.previous
        return False


def _rebase(op: str, target: Tensor, result: Tensor) -> None:
    """Make the graph say ``target`` (already holding ``result``'s values) came from
    ``result``'s node; for a view, record the change on its base."""
    if target._view is None:
        target.grad_fn = result.grad_fn
        target._requires_grad = True
        _refresh_views(target._counter)
        return
    base, again = target._view
    outside = np.ones_like(base._data, dtype=bool)
    region = again(Tensor._make(outside))._data
    if region.base is None or not np.may_share_memory(region, outside):
        raise RuntimeError(f"{op}: an in-place change of this view cannot be recorded for "
                           "autograd; clone() the view first")
    region[...] = False
    updated = shape_ops.ViewUpdate.apply(base, result, again, outside)
    base.grad_fn = updated.grad_fn
    base._requires_grad = True
    _refresh_views(base._counter)


def _refresh_views(counter: list) -> None:
    """Re-derive the ``grad_fn`` of every live view sharing ``counter`` from its base."""
    if counter is None or len(counter) < 2:
        return
    with enable_grad():
        for view in list(counter[1]):
            base, again = view._view
            fresh = again(base)
            view.grad_fn = fresh.grad_fn
            view._requires_grad = fresh._requires_grad


# ------------------------------------------------------------------ arithmetic
def _other(op: str, other):
    """An in-place op's ``other``: a Tensor or a number (PyTorch's ``add_`` and friends take
    no list or array: ``TypeError``)."""
    if type(other) is float or type(other) is int:  # the common case first: no call
        return other
    if not isinstance(other, Tensor) and not is_scalar(other):
        raise TypeError(f"{op}: other must be a Tensor or a number, got "
                        f"{type(other).__name__}")
    return other


def _fast_arithmetic(op: str, function, target: Tensor, other) -> bool:
    """``target <op>= other`` straight into target's memory when nothing is recorded."""
    if _records(target, (other,)):
        _other(op, other)
        return False
    other = other if isinstance(other, Tensor) else operand(op, _other(op, other), target)
    array = other._data
    data = target._data
    result_dtype = promoted_dtype(data, array)
    if (function is np.true_divide and data.dtype.kind != "f") or not _can_cast(
            np.dtype(result_dtype), data.dtype):
        raise RuntimeError(f"{op}: result type {result_dtype} can't be cast to the desired "
                           f"output type {data.dtype}")
    if array.shape != data.shape:
        _check_fits(op, data.shape, array.shape)
    try:
        with quiet():   # inf and NaN silently, as the ops (.autograd.float_errors)
            function(data, array, out=data, casting="unsafe")
    except ValueError as error:
        raise RuntimeError(f"{op}: cannot write into this tensor ({error})") from None
    target._bump_version()
    return True


def add_(self, other, *, alpha=1) -> Tensor:
    """``self += alpha * other`` in place; returns ``self``."""
    if alpha != 1:
        other = _other("add_", other) * alpha
    if not _fast_arithmetic("add_", np.add, self, other):
        inplace("add_", self, lambda old: ew.Add.apply(*binary("add_", old, other)), (other,))
    return self


def sub_(self, other, *, alpha=1) -> Tensor:
    """``self -= alpha * other`` in place; returns ``self``."""
    if alpha != 1:
        other = _other("sub_", other) * alpha
    if not _fast_arithmetic("sub_", np.subtract, self, other):
        inplace("sub_", self, lambda old: old - other, (other,))
    return self


def mul_(self, other) -> Tensor:
    """``self *= other`` in place; returns ``self``."""
    if not _fast_arithmetic("mul_", np.multiply, self, other):
        inplace("mul_", self, lambda old: old * other, (other,))
    return self


def div_(self, other, *, rounding_mode=None) -> Tensor:
    """``self /= other`` in place (``rounding_mode`` as :func:`div`); returns ``self``."""
    if rounding_mode is not None:
        _other("div_", other)
    if rounding_mode is not None or not _fast_arithmetic("div_", np.true_divide, self, other):
        inplace("div_", self, lambda old: old.div(other, rounding_mode=rounding_mode),
                (other,))
    return self


def pow_(self, exponent) -> Tensor:
    """``self **= exponent`` in place."""
    return inplace("pow_", self, lambda old: old ** exponent, (exponent,))


def addcmul_(self, tensor1, tensor2, *, value=1) -> Tensor:
    """``self += value * tensor1 * tensor2`` in place."""
    return inplace("addcmul_", self, lambda old: old + value * tensor1 * tensor2,
                   (tensor1, tensor2))


def addcdiv_(self, tensor1, tensor2, *, value=1) -> Tensor:
    """``self += value * tensor1 / tensor2`` in place."""
    return inplace("addcdiv_", self, lambda old: old + value * tensor1 / tensor2,
                   (tensor1, tensor2))


def lerp_(self, end, weight) -> Tensor:
    """:func:`lerp` in place: ``self += weight * (end - self)``."""
    return inplace("lerp_", self, lambda old: lerp(old, end, weight), (end, weight))


def clamp_(self, min=None, max=None) -> Tensor:
    """:func:`clamp` in place."""
    lo, hi = clamp_bounds("clamp_", self, min, max)
    return inplace("clamp_", self, lambda old: clamped(old, lo, hi), (min, max))


def __iadd__(self, other):
    """``self += other``: :func:`add_`."""
    return add_(self, other)


def __isub__(self, other):
    """``self -= other``: :func:`sub_`."""
    return sub_(self, other)


def __imul__(self, other):
    """``self *= other``: :func:`mul_`."""
    return mul_(self, other)


def __itruediv__(self, other):
    """``self /= other``: :func:`div_`."""
    return div_(self, other)


def _unary_inplace(name):
    def method(self):
        return inplace(f"{name}_", self, lambda old: getattr(old, name)())

    method.__name__ = f"{name}_"
    method.__qualname__ = method.__name__
    method.__doc__ = f":meth:`{name}` in place; returns ``self``."
    return method


_UNARY = ("exp", "log", "log1p", "sqrt", "rsqrt", "abs", "neg", "sign", "sin", "cos", "tanh",
          "erf", "erfc", "sigmoid", "relu", "floor", "ceil", "round", "trunc", "reciprocal",
          "square")


# ------------------------------------------------------------------ fills
def _filled(old: Tensor, values: np.ndarray) -> Tensor:
    """``values`` as the new value of ``old``: the gradient to the old value is zero, as
    PyTorch's ``fill_``/``zero_`` on a tensor in the graph."""
    constant = Tensor._make(np.asarray(values, dtype=old._data.dtype))
    if not old._requires_grad:
        return constant
    return ew.Where.apply(np.ones((), dtype=bool), constant, old)


def zero_(self) -> Tensor:
    """Fill with zeros in place; returns ``self``."""
    return inplace("zero_", self, lambda old: _filled(old, np.zeros((), old._data.dtype)))


def fill_(self, value) -> Tensor:
    """Fill with ``value`` (a number or a 0-d tensor) in place; returns ``self``."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got "
                               f"tensor with {value.ndim} dimensions")
        if value._requires_grad:
            return inplace("fill_", self, lambda old: value.to(old.dtype).expand(old.shape),
                           (value,))
        value = value.item()
    check_fits("fill_", "value", check_number("fill_", "value", value), self._data.dtype)
    return inplace("fill_", self, lambda old: _filled(old, value))


def copy_(self, src, non_blocking=False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor."""
    check_tensor("copy_", "src", src)
    _check_fits("copy_", self._data.shape, src._data.shape)
    return inplace("copy_", self, lambda old: src.to(old.dtype).expand(old.shape), (src,))


def _random_fill(op, self, draw, generator) -> Tensor:
    check_float(op, "self", self._data.dtype)
    rng = random.numpy_generator(op, generator)
    return inplace(op, self, lambda old: _filled(old, draw(rng, old._data.shape)))


def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with samples of a normal distribution, in place."""
    check_tensor("normal_", "self", self)
    check_real("normal_", "mean", mean)
    check_real("normal_", "std", std, low=0)
    return _random_fill("normal_", self, lambda rng, shape: rng.normal(mean, std, shape),
                        generator)


def uniform_(self, a=0.0, b=1.0, *, generator=None, **bounds) -> Tensor:
    """Fill with samples uniform in ``[a, b)`` in place (``from``/``to`` accepted too)."""
    check_tensor("uniform_", "self", self)
    a, b = bounds.pop("from", a), bounds.pop("to", b)
    if bounds:
        raise TypeError(f"uniform_: unexpected keyword arguments {sorted(bounds)}")
    check_float("uniform_", "self", self._data.dtype)
    limit = float(np.finfo(self._data.dtype).max)  # as PyTorch: bounds within the dtype
    check_real("uniform_", "from", a, -limit, limit)
    check_real("uniform_", "to", b, -limit, limit)
    if not a <= b:
        raise ShapeError(f"uniform_: from must be <= to, got from={a}, to={b}")
    if b - a > limit:
        raise ShapeError(f"uniform_: to - from must be at most {limit:.8g} (the largest "
                         f"{self.dtype}), got from={a}, to={b}")
    return _random_fill("uniform_", self, lambda rng, shape: rng.uniform(a, b, shape),
                        generator)


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a uniform sample is below ``p``, else 0, in place."""
    rng = random.numpy_generator("bernoulli_", generator)
    return inplace("bernoulli_", self,
                   lambda old: _filled(old, rng.random(old._data.shape) < p))


def masked_fill_(self, mask, value) -> Tensor:
    """:func:`masked_fill` in place."""
    masked_fill_arguments("masked_fill_", self, mask, value)
    return inplace("masked_fill_", self, lambda old: old.masked_fill(mask, value), (value,))


# ------------------------------------------------------------------ scatter_, index_add_
def scatter_(self, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    """:func:`~tinygrad_cnn.tensor_shape.scatter` in place; returns ``self``."""
    compute = scatter_plan("scatter_", self, dim, index, src, value, reduce)
    return inplace("scatter_", self, compute, (src,))


def scatter_add_(self, dim, index, src) -> Tensor:
    """:func:`~tinygrad_cnn.tensor_shape.scatter_add` in place; returns ``self``."""
    return inplace("scatter_add_", self, scatter_add_plan("scatter_add_", self, dim, index, src),
                   (src,))


def index_add_(self, dim, index, source, *, alpha=1) -> Tensor:
    """:func:`~tinygrad_cnn.tensor_shape.index_add` in place; returns ``self``."""
    compute = index_add_plan("index_add_", self, dim, index, source, alpha)
    return inplace("index_add_", self, compute, (source,))


# ------------------------------------------------------------------ t[index] = value
def setitem(self, index, value) -> None:
    """``t[index] = value``: ``value`` (a number, array or tensor) broadcast into the
    indexed elements, in place, recorded for autograd as PyTorch's ``index_put_``."""
    key = index_key(index)
    if not _records(self, (value,)):
        array = value._data if isinstance(value, Tensor) else np.asarray(
            value, dtype=self._data.dtype if np.isscalar(value) else None)
        if array.dtype != self._data.dtype and not _can_cast(array.dtype, self._data.dtype):
            raise RuntimeError(f"setitem: cannot write {array.dtype} values into a tensor of "
                               f"dtype {self._data.dtype}")
        try:
            self._data[key] = array
        except (IndexError, ValueError) as error:
            raise type(error)(f"setitem: {error} (tensor shape {tuple(self.shape)}, value "
                              f"shape {tuple(array.shape)})") from None
        self._bump_version()
        return
    value = operand("setitem", value, self)
    if value._data.dtype != self._data.dtype:
        value = value.to(self._data.dtype)
    inplace("setitem", self, lambda old: shape_ops.IndexPut.apply(old, key, value), (value,))


METHODS = {
    "add_": add_, "sub_": sub_, "subtract_": sub_, "mul_": mul_, "multiply_": mul_,
    "div_": div_, "divide_": div_, "pow_": pow_, "addcmul_": addcmul_, "addcdiv_": addcdiv_,
    "lerp_": lerp_, "clamp_": clamp_, "clip_": clamp_, "__iadd__": __iadd__,
    "__isub__": __isub__, "__imul__": __imul__, "__itruediv__": __itruediv__,
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "normal_": normal_,
    "uniform_": uniform_, "bernoulli_": bernoulli_, "masked_fill_": masked_fill_,
    "__setitem__": setitem, "scatter_": scatter_, "scatter_add_": scatter_add_,
    "index_add_": index_add_,
    **{f"{name}_": _unary_inplace(name) for name in _UNARY},
}
