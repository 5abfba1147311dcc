"""The ``Tensor``: a numpy array plus what autograd needs to know about it.

This module holds the data side only: construction and dtype rules, the leaf/non-leaf
distinction, ``requires_grad``, ``grad``, and conversions back to plain values.  It knows no
calculus.  The arithmetic operators, reductions, shape methods and ``backward`` are bound
onto the class in one place, :mod:`tinygrad_cnn.tensor_methods`, once the ops exist; that is
how the ``Tensor`` <-> ``Function`` import loop is broken (see ``docs/autograd.md``).
"""

import numbers

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)  # what Python floats become, as PyTorch's default dtype


def _is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def as_dtype(op: str, value) -> np.dtype:
    """``value`` as a numpy dtype the library supports (float, int, uint or bool)."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{op}: {value!r} is not a data type") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"{op}: unsupported dtype {dtype}; expected a float, int or bool type")
    return dtype


def as_array(data, dtype=None) -> np.ndarray:
    """Convert an array-like to an ndarray with PyTorch's dtype rules.

    Python floats (and lists of them) become float32, Python ints int64, bools bool; numpy
    arrays and numpy scalars keep their dtype; ``dtype`` overrides everything.  The result
    shares memory with an ndarray input when no cast is needed.
    """
    if dtype is not None:
        dtype = as_dtype("Tensor", dtype)
    if isinstance(data, (Tensor, np.ndarray, np.generic)) or _is_torch_tensor(data):
        array = np.asarray(to_numpy(data), dtype=dtype)  # arrays keep their dtype
    else:
        try:
            array = np.asarray(data)
        except ValueError as error:
            raise ValueError(f"Tensor: cannot make an array of {data!r}: {error}") from None
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        elif array.dtype == np.float64:
            array = array.astype(DEFAULT_FLOAT)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64, copy=False)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor: unsupported data type {array.dtype} (from {type(data).__name__}); "
            "expected float, int or bool data"
        )
    return array


def to_numpy(value) -> np.ndarray:
    """The ndarray behind an array-like, its dtype kept exactly (no PyTorch dtype rules).

    A ``Tensor`` gives its ``.data`` (shared), a torch tensor is detached and moved to the
    CPU first (torch is never imported), anything else goes through ``np.asarray``.  Used
    where state arrays move in and out (``load_state_dict``, ``save``), which must not
    change dtypes; :func:`as_array` is the constructor's conversion.
    """
    if isinstance(value, Tensor):
        return value._data
    if _is_torch_tensor(value):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _is_torch_tensor(value) -> bool:
    return hasattr(value, "detach") and hasattr(value, "cpu")  # duck-typed: torch is optional


def _category(dtype: np.dtype) -> str:
    return "f" if dtype.kind == "f" else "b" if dtype.kind == "b" else "i"


def promoted_dtype(*arrays) -> np.dtype:
    """The dtype of an op on ``arrays``, by PyTorch's promotion rules.

    A float meeting an integer or bool takes the float's dtype (not float64, as numpy would);
    a 0-d operand does not widen an operand with dimensions of the same category
    (float32 tensor + float64 scalar tensor stays float32); otherwise numpy's rules.
    """
    dimensioned = [a for a in arrays if a.ndim > 0]
    considered = arrays
    if dimensioned and len(dimensioned) < len(arrays):
        categories = {_category(a.dtype) for a in dimensioned}
        considered = dimensioned + [a for a in arrays if a.ndim == 0
                                    and _category(a.dtype) not in categories]
    floats = [a.dtype for a in considered if a.dtype.kind == "f"]
    if floats:
        return np.result_type(*floats)
    return np.result_type(*[a.dtype for a in considered])


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps an array-like (see
    :func:`as_array` for the dtype rules).  A tensor made by the user is a *leaf*; a tensor
    made by an op while grad recording is on has a ``grad_fn``: the node of the graph that
    knows how to send a gradient back to the op's inputs.  ``backward()`` fills ``.grad`` of
    the leaves that require grad.
    """

    __slots__ = ("_data", "grad", "grad_fn", "_requires_grad", "_accumulator", "_output_nr",
                 "__weakref__")

    # numpy must hand `array <op> tensor` to our reflected operators instead of looping.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._accumulator = None
        self._output_nr = 0  # which output of grad_fn this is (Functions with several)
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn=None) -> "Tensor":
        """Fast internal constructor: ``data`` is already a valid ndarray."""
        tensor = object.__new__(Tensor)
        tensor._data = data
        tensor.grad = None
        tensor.grad_fn = grad_fn
        tensor._requires_grad = grad_fn is not None
        tensor._accumulator = None
        tensor._output_nr = 0
        return tensor

    @property
    def data(self) -> np.ndarray:
        """The underlying array (internal code reads ``_data``)."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be set on leaf tensors; this tensor was made by "
                f"{self.grad_fn.name()} (use .detach() to get a leaf)"
            )
        if value and not _is_floating(self._data.dtype):
            raise TypeError(
                f"only floating point tensors can require gradients (this one is "
                f"{self._data.dtype}); convert it with .float() or .double() first"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True) -> "Tensor":
        """Set ``requires_grad`` in place and return ``self`` (as PyTorch)."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, outside the graph."""
        return Tensor._make(self._data)

    # ----------------------------------------------------------------- numpy-like facts
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    # ----------------------------------------------------------------- plain values out
    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar "
                f"(shape {self._data.shape})"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype, copy=bool(copy))

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous "
                "(use .any() / .all() on .data)"
            )
        return bool(self._data.item())

    # Comparisons return tensors, so identity is what hashing and `is` use.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extras = [f"dtype={self._data.dtype}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(extras)})"


def is_scalar(value) -> bool:
    """True for Python and numpy scalars (which never change a tensor's dtype)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)
