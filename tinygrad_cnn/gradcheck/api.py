"""Stage 7: the public functions, each a short pipeline over the stages.

``gradcheck``: options -> ``_Problem`` -> one recorded call -> zero-cotangent and reentrancy
checks -> element-wise (or fast) comparison -> dtype pass.  ``gradgradcheck``: the same on the
first derivatives, with the stash on ``ctx`` decided numerically.
"""

import warnings

import numpy as np

from ..tensor import Tensor
from . import backward_checks, dtype_pass
from .analytic import _Recorded
from .compare import check_elementwise, check_fast
from .errors import GradcheckError, GradcheckWarning
from .numerical import projected
from .options import (
    PROBES,
    as_input_list,
    check_absent_features,
    check_number,
    make_options,
    rademacher,
    step_failure,
)
from .problem import _Problem
from .report import mismatch_error
from .second_order import FirstDerivatives, decide_stash

_OPTIONS_DOC = """
    Options (PyTorch's names where it has them): ``eps`` the finite-difference step;
    ``atol``, ``rtol``: an element passes when ``|analytic - numerical| <= atol + rtol *
    |numerical|``; ``raise_exception``: False returns False and warns the report instead;
    ``fast_mode`` (old name ``fast``): True compares ``n_directions`` random projections
    ``v^T J u`` per input (cheap, can miss an error confined to a few elements); False (the
    default) compares every input element against ``probes`` random +-1 cotangents, missing a
    wrong Jacobian entry with probability at most ``2**-probes`` (``probes=None``: the exact
    Jacobian, one backward per output element); ``seed``: the probes' seed, drawn fresh when
    None and printed in every report (pass it back to repeat a check); ``nondet_tol``: how
    far two backward passes with the same cotangent may differ; ``check_undefined_grad``: a
    zero cotangent must give zero gradients; ``check_grad_dtypes``: each gradient must have
    its input's dtype.  PyTorch's switches for features this library lacks are accepted when
    off (``check_batched_grad``, ``check_batched_forward_grad``, ``check_forward_ad``,
    ``check_fwd_over_rev``, ``masked``) or on (``check_backward_ad``,
    ``check_rev_over_rev``); ``gen_non_contig_grad_outputs`` changes nothing (numpy arrays
    of any layout compute alike here).
"""


def _finish(runner, raise_exception, notes, stacklevel=3):
    for note in notes:
        warnings.warn(note, GradcheckWarning, stacklevel=stacklevel)
    try:
        return runner()
    except GradcheckError as error:
        if raise_exception:
            raise
        warnings.warn(str(error), GradcheckWarning, stacklevel=stacklevel)
        return False


def _run(problem, options, order, explain=None):
    failure = step_failure(options.caller, options.eps)
    if failure is not None:
        raise failure
    recorded = _Recorded(problem)
    if options.check_undefined_grad:
        backward_checks.check_zero_cotangent(problem, recorded, order)
    backward_checks.check_reentrant(problem, recorded, options, order)
    if options.fast:
        mismatch = check_fast(problem, recorded, options)
    else:
        mismatch = check_elementwise(problem, recorded, options)
    if mismatch is not None:
        random_probes = (not options.fast and options.probes is not None
                         and sum(problem.output_sizes) > options.probes)
        raise mismatch_error(problem, mismatch, options, order, explain, random_probes)
    if order == 1 and (options.check_dtype or options.check_grad_dtypes):
        error = dtype_pass.check(problem, recorded, options)
        if error is not None:
            raise error
    return True


def numerical_grad(fn, inputs, eps=1e-6, grad_output=None):
    """Central finite differences of ``sum(fn(*inputs) * grad_output)``.

    fn: a callable of the inputs returning a Tensor (or a tuple of Tensors); inputs: a
    Tensor or a tuple/list of arguments; grad_output: an array-like (or Tensor) of the
    output's shape, a tuple of them for a tuple output; ones when omitted.

    Returns a list with one entry per input: for a floating-point Tensor input (whether or
    not it requires grad), a float64 array of its shape, d sum(out * grad_output) / d input,
    computed as ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element on float64 copies;
    ``None`` for any other argument.  Costs two calls of fn per input element.
    """
    caller = "numerical_grad"
    inputs = as_input_list(inputs, caller)
    eps = check_number(eps, "eps", caller, positive=True)
    if not any(isinstance(i, Tensor) and i.dtype.kind == "f" for i in inputs):
        raise ValueError(f"{caller}: no input is a floating-point Tensor, so there is no "
                         "gradient to compute")
    # Every floating Tensor is differentiated here, so mark them all as 'checked'.
    marked = [Tensor(np.array(i._data, dtype=np.float64), requires_grad=True)
              if isinstance(i, Tensor) and i.dtype.kind == "f" else i for i in inputs]
    problem = _Problem(caller, fn, marked)
    cotangents = _cotangents(grad_output, problem, caller)
    return [projected(problem, k, eps, [cotangents])[0] if k in problem.checked else None
            for k in range(len(inputs))]


def _cotangents(grad_output, problem, caller):
    shapes = [o.shape for o in problem.base_outputs]
    if grad_output is None:
        return [np.ones(shape) for shape in shapes]
    given = list(grad_output) if isinstance(grad_output, (tuple, list)) and len(shapes) > 1 \
        else [grad_output]
    if len(given) != len(shapes):
        raise ValueError(f"{caller}: got {len(given)} grad_outputs for {len(shapes)} outputs")
    arrays = []
    for index, (item, shape) in enumerate(zip(given, shapes)):
        array = np.asarray(item._data if isinstance(item, Tensor) else item, dtype=np.float64)
        if array.shape != shape:
            where = f" {index}" if len(shapes) > 1 else ""
            raise ValueError(f"{caller}: grad_output{where} has shape {array.shape} but fn's "
                             f"output{where} has shape {shape}")
        arrays.append(array)
    return arrays


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast=None,
              n_directions=2, seed=None, *, fast_mode=None, probes=PROBES, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, masked=None, check_dtype=True):
    """Check the analytic gradients of ``fn`` against finite differences (as
    ``torch.autograd.gradcheck``).

    fn: a callable of Tensors returning a Tensor or a tuple of Tensors (a user
    ``Function``'s ``.apply`` included: inputs are then named by ``forward``'s parameters);
    inputs: a Tensor or a tuple/list of arguments, the Tensors with ``requires_grad=True``
    being checked, on float64 copies.  ``check_dtype``: for float32/float16 inputs, also run
    the backward in that dtype and compare it with the float64 one (NaN/inf or precision loss
    only the low precision shows).

    {options}

    Returns True when all agree.  Otherwise raises ``GradcheckError`` naming the input, the
    worst element, its value, both gradient values, the other failing elements and, at a
    point with no derivative, why.
    """
    caller = "gradcheck"
    check_absent_features(caller, masked, check_batched_grad=check_batched_grad,
                          check_batched_forward_grad=check_batched_forward_grad,
                          check_forward_ad=check_forward_ad,
                          check_backward_ad=check_backward_ad)
    options = make_options(caller, eps, atol, rtol, fast_mode, fast, probes, n_directions,
                           seed, nondet_tol, check_undefined_grad, check_dtype,
                           check_grad_dtypes)
    problem = _Problem(caller, fn, as_input_list(inputs, caller))
    return _finish(lambda: _run(problem, options, order=1), raise_exception, problem.notes)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast=None, n_directions=2, seed=None, *,
                  fast_mode=None, probes=PROBES, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, gen_non_contig_grad_outputs=False, masked=False):
    """Check the second derivatives of ``fn`` (as ``torch.autograd.gradgradcheck``).

    Builds ``g(inputs, v) = grad(fn(*inputs), checked inputs, v, create_graph=True)`` -- the
    first derivatives, projected on a cotangent v -- and gradchecks g with respect to the
    inputs and v.  grad_outputs: v (array-likes of the output's shape, a tuple of them for a
    tuple output); a +-1 cotangent drawn from ``seed`` when omitted.

    A backward that uses a float array stashed on ``ctx`` is first-order only to the library
    (``create_graph=True`` refuses it).  Here the stash is decided numerically: taken as a
    constant, do the second derivatives agree?  If so the check passes with a
    ``GradcheckWarning`` suggesting ``ctx.mark_constant``; if not, the report names the
    stashed attribute.  A backward returning plain arrays raises the library's
    ``RuntimeError`` naming the op, prefixed ``gradgradcheck:``.

    {options}
    """
    caller = "gradgradcheck"
    check_absent_features(caller, masked, check_batched_grad=check_batched_grad,
                          check_fwd_over_rev=check_fwd_over_rev,
                          check_rev_over_rev=check_rev_over_rev)
    if not isinstance(gen_non_contig_grad_outputs, (bool, np.bool_)):
        raise TypeError(f"{caller}: gen_non_contig_grad_outputs must be a bool, got "
                        f"{type(gen_non_contig_grad_outputs).__name__}")
    options = make_options(caller, eps, atol, rtol, fast_mode, fast, probes, n_directions,
                           seed, nondet_tol, check_undefined_grad, False, check_grad_dtypes)
    inputs = as_input_list(inputs, caller)
    probe = _Problem(caller, fn, inputs)
    if grad_outputs is None:
        cotangents = rademacher(options.seed, [o.shape for o in probe.base_outputs])
    else:
        cotangents = _cotangents(grad_outputs, probe, caller)
    first = FirstDerivatives(fn, probe, cotangents)

    def run():
        second = _Problem(caller, first, first.arguments, names=first.names,
                          output_names=first.output_names, notes=probe.notes,
                          linear=first.cotangent_positions)
        return _run(second, options, order=2, explain=first.explain)

    return _finish(lambda: decide_stash(run, first.stashed, caller), raise_exception,
                   probe.notes)


for _public in (gradcheck, gradgradcheck):
    _public.__doc__ = _public.__doc__.replace("{options}", _OPTIONS_DOC.strip())
