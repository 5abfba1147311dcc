"""``check_op``: the op-test harness as a public tool.

One call tests an op the way the library tests its own: a hypothesis property test over
generated input shapes and values that compares the forward against a numpy reference, and
runs :func:`~tinygrad_cnn.gradcheck.gradcheck` and
:func:`~tinygrad_cnn.gradcheck.gradgradcheck` on every example.  (The idea of PyTorch's OpInfo
and MyGrad's generated tests, which both keep internal.)  Hypothesis is needed only when
``check_op`` is called (``pip install hypothesis``, or the package's ``test`` extra).

Example -- a softplus written as a ``Function``, tested on random 1-D to 3-D shapes::

    import numpy as np
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes
    from tinygrad_cnn.testing import check_op

    check_op(
        Softplus.apply,
        reference=lambda x: np.logaddexp(0.0, x),
        shapes=st.tuples(array_shapes(min_dims=1, max_dims=3, max_side=4)),
        max_examples=25,
    )

``shapes`` may also be a plain list of shapes, one per input (``[(2, 3), (3,)]``; only the
values vary then), or a function ``shapes(draw)`` that draws with hypothesis's ``draw`` and
returns the shapes.  A strategy or function may return ``(shapes, kwargs)`` instead: the dict
``kwargs`` is passed to both ``op`` and ``reference``, so that arguments such as a stride can
vary with the shapes.
"""

import functools

import numpy as np

from .gradcheck import GradcheckError
from .gradcheck import gradcheck as _gradcheck
from .gradcheck import gradgradcheck as _gradgradcheck
from .tensor import Tensor

__all__ = ["check_op", "make_inputs"]

_DEFAULT_TOLERANCES = {np.dtype(np.float64): (1e-7, 1e-9), np.dtype(np.float32): (1e-4, 1e-5),
                       np.dtype(np.float16): (1e-2, 1e-3)}


def _import_hypothesis():
    try:
        import hypothesis
        from hypothesis import strategies
    except ImportError:
        raise ImportError(
            "check_op needs hypothesis: pip install hypothesis (or the package's 'test' "
            "extra: pip install tinygrad_cnn[test])"
        ) from None
    return hypothesis, strategies


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in value)


def _validate_shapes(value, where):
    """``value`` as (tuple of shape tuples, kwargs dict)."""
    kwargs = {}
    if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict)
            and not _is_shape(value)):
        value, kwargs = value
    if not isinstance(value, (tuple, list)) or not value or not all(_is_shape(s) for s in value):
        raise TypeError(
            f"check_op: {where} must give a non-empty list of shape tuples, one per input "
            f"(e.g. [(2, 3), (3,)]), optionally paired with a kwargs dict; got {value!r}"
        )
    return tuple(tuple(int(n) for n in s) for s in value), dict(kwargs)


def _case_strategy(shapes, strategies):
    """A strategy of (shapes, kwargs) from any of the accepted forms of ``shapes``."""
    if isinstance(shapes, strategies.SearchStrategy):
        return shapes.map(lambda drawn: _validate_shapes(drawn, "the shapes strategy"))
    if callable(shapes):
        @strategies.composite
        def drawn_by_function(draw):
            return _validate_shapes(shapes(draw), "the shapes function")
        return drawn_by_function()
    return strategies.just(_validate_shapes(shapes, "shapes"))


def _check_elements(elements):
    if not (isinstance(elements, (tuple, list)) and len(elements) == 2):
        raise TypeError(f"check_op: elements must be a (low, high) pair, got {elements!r}")
    low, high = (float(e) for e in elements)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"check_op: elements must be finite with low < high, got {elements!r}")
    return low, high


def make_inputs(shapes, seed, elements=(-2.0, 2.0), avoid=(), avoid_margin=1e-3,
                dtype=np.float64):
    """The input arrays ``check_op`` uses for one example (to reproduce a failure).

    Each array is uniform in ``elements`` from ``numpy.random.default_rng(seed)``, drawn in
    order; a value within ``avoid_margin`` of a point in ``avoid`` is moved to that distance
    (keeping its side), which keeps examples off kinks such as relu's at 0.
    """
    low, high = _check_elements(elements)
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        values = rng.uniform(low, high, size=shape)
        for point in avoid:
            offset = values - point
            near = np.abs(offset) < avoid_margin
            side = np.where(offset >= 0, 1.0, -1.0)
            values = np.where(near, point + side * avoid_margin, values)
        arrays.append(values.astype(dtype))
    return arrays


def _describe(shapes, kwargs, seed, arrays):
    lines = [f"example: shapes={list(shapes)}" + (f", kwargs={kwargs}" if kwargs else "")
             + f", seed={seed} (check_op's make_inputs rebuilds the inputs)"]
    for k, array in enumerate(arrays):
        if array.size <= 24:
            text = np.array2string(array, precision=6, separator=", ")
            lines.append(f"  input {k}: {text}")
    return "\n".join(lines)


def _as_list(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def check_op(op, reference=None, shapes=None, *, elements=(-2.0, 2.0), avoid=(),
             avoid_margin=1e-3, dtype=np.float64, atol=None, rtol=None, check_dtype=True,
             requires_grad=True, gradcheck=True, gradgrad=True, fast=False, eps=1e-6,
             grad_atol=1e-5, grad_rtol=1e-3, max_examples=20, seed=0, shrink=True):
    """Property-test ``op``: forward against ``reference``, gradients by ``gradcheck`` and
    ``gradgradcheck``, on hypothesis-generated examples.

    op: a callable of Tensors (and the drawn kwargs) returning a Tensor or a tuple of
    Tensors; reference: a numpy function of the same arguments as arrays (omit it to check
    gradients only); shapes: a list of shapes (one per input), a hypothesis strategy, or a
    function of hypothesis's ``draw`` (see the module docstring).

    Inputs are ``dtype`` arrays uniform in ``elements = (low, high)``, kept ``avoid_margin``
    away from the points in ``avoid`` (e.g. ``avoid=(0.0,)`` for relu).  The forward must match
    the reference within ``atol``/``rtol`` (defaults by dtype: 1e-9/1e-7 for float64) with the
    same shape and, with ``check_dtype``, the input dtype.  ``requires_grad``: True for all
    inputs, or one bool per input; ``gradcheck`` / ``gradgrad`` switch the two gradient checks
    (run in float64 with ``eps``, ``grad_atol``, ``grad_rtol``; ``fast=True`` is their
    ``fast_mode``, and their probes' seed is the example's seed).  ``max_examples`` and
    ``seed`` make the run as long and as repeatable as you need; ``shrink=False`` reports the
    first failing example without searching for a smaller one.

    Raises ``AssertionError`` (forward) or ``GradcheckError`` (gradients) whose message starts
    with the failing example: shapes, kwargs, seed and, for small inputs, the values.
    Returns None when every example passes.
    """
    hypothesis, strategies = _import_hypothesis()
    if not callable(op):
        raise TypeError(f"check_op: op must be callable, got {type(op).__name__}")
    if reference is not None and not callable(reference):
        raise TypeError(f"check_op: reference must be callable or None, got "
                        f"{type(reference).__name__}")
    if shapes is None:
        raise TypeError("check_op: shapes is required: a list of shapes (one per input), a "
                        "hypothesis strategy, or a function of draw")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"check_op: dtype must be a floating-point dtype, got {dtype}")
    low, high = _check_elements(elements)
    default_rtol, default_atol = _DEFAULT_TOLERANCES.get(dtype, (1e-4, 1e-5))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    cases = _case_strategy(shapes, strategies)

    def run_example(case, example_seed):
        example_shapes, kwargs = case
        if requires_grad is True or requires_grad is False:
            flags = [bool(requires_grad)] * len(example_shapes)
        else:
            flags = [bool(f) for f in requires_grad]
            if len(flags) != len(example_shapes):
                raise ValueError(f"check_op: requires_grad has {len(flags)} entries for "
                                 f"{len(example_shapes)} inputs")
        arrays = make_inputs(example_shapes, example_seed, (low, high), avoid, avoid_margin,
                             dtype)
        described = _describe(example_shapes, kwargs, example_seed, arrays)
        bound = functools.partial(op, **kwargs) if kwargs else op
        outputs = _as_list(bound(*[Tensor(a.copy()) for a in arrays]))
        if reference is not None:
            expected = _as_list(reference(*[a.copy() for a in arrays], **kwargs))
            if len(expected) != len(outputs):
                raise AssertionError(f"check_op: op returned {len(outputs)} output(s) but the "
                                     f"reference {len(expected)}\n{described}")
            for index, (output, wanted) in enumerate(zip(outputs, expected)):
                where = f" {index}" if len(outputs) > 1 else ""
                wanted = np.asarray(wanted)
                if output.shape != wanted.shape:
                    raise AssertionError(f"check_op: output{where} has shape {output.shape} "
                                         f"but the reference's is {wanted.shape}\n{described}")
                if check_dtype and output.dtype != dtype:
                    raise AssertionError(f"check_op: output{where} is {output.dtype} for "
                                         f"{dtype} inputs\n{described}")
                try:
                    np.testing.assert_allclose(output._data, wanted, rtol=rtol, atol=atol,
                                               err_msg=f"check_op: output{where} differs "
                                                       "from the reference")
                except AssertionError as error:
                    raise AssertionError(f"{error}\n{described}") from None
        if not any(flags) or not (gradcheck or gradgrad):
            return
        grad_inputs = [Tensor(a.astype(np.float64), requires_grad=flag)
                       for a, flag in zip(arrays, flags)]
        options = dict(eps=eps, atol=grad_atol, rtol=grad_rtol, fast_mode=fast,
                       seed=example_seed)
        try:
            if gradcheck:
                _gradcheck(bound, grad_inputs, **options)
            if gradgrad:
                _gradgradcheck(bound, grad_inputs, **options)
        except GradcheckError as error:
            raise GradcheckError(f"check_op: {described}\n{error}", **error.details()) from None

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_examples, deadline=None, database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        # explain re-runs the failing example many times to annotate it; the message here
        # already names the example, so it is skipped
        phases=[p for p in hypothesis.Phase
                if p.name != "explain" and (shrink or p != hypothesis.Phase.shrink)],
    )
    @hypothesis.given(case=cases, example_seed=strategies.integers(0, 2**32 - 1))
    def property_test(case, example_seed):
        run_example(case, example_seed)

    property_test()
