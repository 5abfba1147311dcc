"""The ``Tensor``: a numpy array plus what autograd needs to know about it.

This module holds the data side only: construction and dtype rules, the leaf/non-leaf
distinction, ``requires_grad``, ``grad``, and conversions back to plain values.  It knows no
calculus.  The arithmetic operators, reductions, shape methods and ``backward`` are bound
onto the class in one place, :mod:`tinygrad_cnn.tensor_methods`, once the ops exist; that is
how the ``Tensor`` <-> ``Function`` import loop is broken (see ``docs/autograd.md``).
"""

import inspect
import numbers

import numpy as np

from .devices import check_device

DEFAULT_FLOAT = np.dtype(np.float32)  # what Python floats become, as PyTorch's default dtype


def _is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def as_dtype(op: str, value) -> np.dtype:
    """``value`` as a numpy dtype the library supports (float, int, uint or bool): a dtype
    (``tinygrad_cnn.float32``, numpy's ``np.float32``) or Python's ``float``/``int``/``bool``,
    as PyTorch's ``dtype=``.  A string (``"float32"``) or None raises ``TypeError``, as
    PyTorch's; numpy's own ``astype`` spelling takes strings (:func:`numpy_dtype`)."""
    if value is None or isinstance(value, str):
        raise TypeError(f"{op}: dtype must be a dtype such as tinygrad_cnn.float32, got "
                        f"{value!r}")
    return numpy_dtype(op, value)


def numpy_dtype(op: str, value) -> np.dtype:
    """``value`` as a supported numpy dtype, by numpy's rules (strings such as ``"float32"``
    accepted)."""
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

    A ``Tensor`` gives its array (shared), a torch tensor is detached and moved to the
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


class Size(tuple):
    """The shape of a tensor: a tuple of ints (as ``torch.Size``), with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        count = 1
        for size in self:
            count *= size
        return count

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps an array-like (see
    :func:`as_array` for the dtype rules).  A tensor made by the user is a *leaf*; a tensor
    made by an op while grad recording is on has a ``grad_fn``: the node of the graph that
    knows how to send a gradient back to the op's inputs.  ``backward()`` fills ``.grad`` of
    the leaves that require grad.

    Every tensor carries a version counter that in-place operations increase (``_version``,
    an int, as PyTorch's): ``_counter`` is a one-element list, made on first need (``None``
    until then, so that the ops' fast constructor allocates nothing), shared by a tensor and
    its views; ``_view`` holds ``(base, view_function)`` so that an in-place change can be
    recorded on the base.
    """

    __slots__ = ("_data", "_grad", "grad_fn", "_requires_grad", "_accumulator", "_counter",
                 "_view", "_output_nr", "__weakref__")

    # As PyTorch's: numpy hands `array <op> tensor` to our reflected operators (the higher
    # priority), while numpy functions (`np.exp(t)`) see the array through __array__.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if device is not None:
            check_device("Tensor", device)
        self._data = as_array(data, dtype)
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._accumulator = None
        self._counter = None
        self._view = None
        self._output_nr = 0  # which output of grad_fn this is (Functions with several)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data: np.ndarray, grad_fn=None) -> "Tensor":
        """Fast internal constructor: ``data`` is already a valid ndarray.  (A staticmethod:
        it runs several times per op, and a classmethod call costs a bound method more.)"""
        tensor = object.__new__(Tensor)
        tensor._data = data
        tensor._grad = None
        tensor.grad_fn = grad_fn
        tensor._requires_grad = grad_fn is not None
        tensor._accumulator = None
        tensor._counter = None
        tensor._view = None
        tensor._output_nr = 0
        return tensor

    # ----------------------------------------------------------------- data and grad
    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, outside the graph (PyTorch's ``.data``).

        In-place changes through it change this tensor but are not seen by autograd (its
        version counter is its own), as in PyTorch.  ``t.data = other`` replaces the
        contents (shape and dtype included) with ``other``'s.
        """
        return Tensor._make(self._data)

    @data.setter
    def data(self, value) -> None:
        array = to_numpy(value) if isinstance(value, Tensor) else as_array(value)
        if self._requires_grad and array.dtype.kind != "f":
            raise RuntimeError(f"data: a tensor that requires grad must stay floating point, "
                               f"got {array.dtype}")
        self._data = array

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this shape and dtype), or ``None``."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):
            value = Tensor._make(np.asarray(to_numpy(value)))
        if value._data.shape != self._data.shape:
            raise RuntimeError(
                f"grad: assigned grad has shape {tuple(value._data.shape)}, but the tensor has "
                f"shape {tuple(self._data.shape)}"
            )
        if value._data.dtype != self._data.dtype:
            raise RuntimeError(
                f"grad: assigned grad has dtype {value._data.dtype}, but the tensor has dtype "
                f"{self._data.dtype}"
            )
        self._grad = value

    def _bump_version(self) -> None:
        """Record that the data changed in place (saved copies of it become stale)."""
        counter = self._counter
        if counter is None:
            self._counter = [1]
        else:
            counter[0] += 1

    def _version_counter(self) -> list:
        """The shared version counter (made now if this tensor had none yet)."""
        counter = self._counter
        if counter is None:
            counter = self._counter = [0]
        return counter

    @property
    def _version(self) -> int:
        """How many times the data was changed in place (PyTorch's ``_version``)."""
        counter = self._counter
        return 0 if counter is None else counter[0]

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        """True when operations on this tensor are recorded for backward."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if value:
                return  # a non-leaf that requires grad: nothing to do, as PyTorch
            raise RuntimeError(
                "requires_grad can only be set on leaf tensors; this tensor was made by "
                f"{self.grad_fn.name()} (use .detach() to get a leaf)"
            )
        if value and not _is_floating(self._data.dtype):
            raise RuntimeError(
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
        """True for a tensor not made by a recorded op (its ``grad_fn`` is None)."""
        return self.grad_fn is None

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data (and version counter), outside the graph."""
        tensor = Tensor._make(self._data)
        tensor._counter = self._version_counter()
        return tensor

    def detach_(self) -> "Tensor":
        """Make this tensor a leaf outside the graph, in place; returns ``self``."""
        if self._view is not None and self._view[0]._requires_grad:
            raise RuntimeError("detach_: can't detach a view of a tensor that requires grad "
                               "in place; use detach()")
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- numpy-like facts
    @property
    def shape(self) -> Size:
        """The sizes of the dimensions, a :class:`Size`."""
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape as a :class:`Size`, or with ``dim`` the size of that dimension (an int)."""
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        if isinstance(dim, bool) or not isinstance(dim, (numbers.Integral, np.integer)):
            raise TypeError(f"size: dim must be an int, got {type(dim).__name__}")
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"size: dimension out of range (expected to be in range of "
                             f"[{-len(shape)}, {len(shape) - 1}], but got {dim})")
        return shape[dim]

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions (as ``torch.Tensor.dim``)."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all elements."""
        return self._data.nbytes

    @property
    def dtype(self) -> np.dtype:
        """The element type, a numpy dtype (equal to ``tinygrad_cnn.float32`` etc.)."""
        return self._data.dtype

    def is_floating_point(self) -> bool:
        """True for a floating point dtype."""
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    # ----------------------------------------------------------------- plain values out
    def numpy(self, *, force=False) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to a "
                f"Python scalar (shape {tuple(self._data.shape)})"
            )
        return self._data.item()

    def tolist(self):
        """The data as nested Python lists (a number for a 0-d tensor)."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype, copy=bool(copy))

    def __dlpack__(self, **kwargs):
        """The DLPack capsule of the data, sharing memory (``torch.as_tensor(t)``,
        ``torch.from_dlpack(t)``, ``np.from_dlpack(t)``); as PyTorch's, refused for a tensor
        that requires grad (export ``t.detach()``)."""
        if self.requires_grad:
            raise BufferError("__dlpack__: can't export a tensor that requires grad, use "
                              "tensor.detach()")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._data.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"({self._data.size} elements; use .any() or .all())"
            )
        return bool(self._data.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)  # f"{loss:.3f}", as PyTorch
        return object.__format__(self, spec) if spec else str(self)

    # Comparisons return tensors, so identity is what hashing and `is` use.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype not in (DEFAULT_FLOAT, np.int64, np.bool_) or self._data.size == 0:
            extras.append(f"dtype={_dtype_name(self._data.dtype)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body] + extras)})"


# Size(sizes=()) is tuple's own constructor (no Python-level __new__: shapes are hot).
Size.__signature__ = inspect.Signature(
    [inspect.Parameter("sizes", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=())])


def _dtype_name(dtype: np.dtype) -> str:
    return f"tinygrad_cnn.{np.dtype(dtype).name}"


def is_scalar(value) -> bool:
    """True for Python and numpy scalars (which never change a tensor's dtype)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)
