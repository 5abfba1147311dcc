"""How many planted gradient bugs each checker catches, how often it cries wolf, whether it
points at a buggy element, and how long it takes: tinygrad_cnn's gradcheck (default and exact
Jacobian) against torch.autograd.gradcheck (default and fast_mode), on the same ops.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gradcheck_power.py [-v]

The ops are in ``_gradcheck_catalogue.py``: each case runs the same numpy code as a
tinygrad_cnn ``Function`` and as a ``torch.autograd.Function``.  First-order cases go to
``gradcheck``, second-order ones to ``gradgradcheck``.  "points at a buggy element": the
element the report names is one whose Jacobian column is wrong, by an independent ground
truth (PyTorch's ``autograd.functional.jacobian`` of the buggy op against central differences
of its numpy forward; for float32 cases, the float32 Jacobian against the float64 one).
PyTorch's reports name no element, so its column is "never".

A second table times the default checks on the library's own ops against PyTorch's on its
native ones (same shapes, best of 3, interleaved): there the per-call speed of each library's
ops decides, not the checker.
"""

import argparse
import os
import secrets
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _gradcheck_catalogue import CASES, make_inputs, tiny_function, torch_function  # noqa: E402
from _timing import optional_torch  # noqa: E402

from tinygrad_cnn import Tensor  # noqa: E402
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck  # noqa: E402

ATOL, RTOL = 1e-5, 1e-3


# ------------------------------------------------------------------ ground truth
def _numerical_jacobian(function, arrays, k, eps=1e-6):
    base = [a.astype(np.float64) for a in arrays]
    columns = []
    for i in range(base[k].size):
        plus, minus = [a.copy() for a in base], [a.copy() for a in base]
        plus[k].reshape(-1)[i] += eps
        minus[k].reshape(-1)[i] -= eps
        columns.append((np.asarray(function(*plus)) - np.asarray(function(*minus))).reshape(-1)
                       / (2 * eps))
    return np.stack(columns, axis=1)


def _bad_columns(analytic, numeric):
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(analytic - numeric) <= ATOL + RTOL * np.abs(numeric))
    return set(int(i) for i in np.flatnonzero(bad.any(axis=0)))


def ground_truth(spec, arrays, torch):
    """One set per checked input (and per v for second order): flat indices whose Jacobian
    column is wrong."""
    fn = torch_function(spec)
    if spec.order == 2:
        def first(*tensors):
            x = [t if t.requires_grad else t.requires_grad_() for t in tensors[:-1]]
            (out,) = [fn(*x)]
            return torch.autograd.grad(out, x, tensors[-1], create_graph=True)[0]

        v = np.ones_like(np.asarray(spec.forward(*arrays)))
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays] + [
            torch.tensor(v, requires_grad=True)]
        jac = torch.autograd.functional.jacobian(first, tuple(tensors))

        def numeric_first(*values):
            ts = [torch.tensor(a, requires_grad=True) for a in values]
            return first(*ts).detach().numpy()

        sets = []
        for k in range(len(tensors)):
            analytic = jac[k].detach().numpy().reshape(-1, tensors[k].numel())
            sets.append(_bad_columns(analytic, _numerical_jacobian(
                numeric_first, arrays + [v], k)))
        return sets
    tensors = tuple(torch.tensor(a, requires_grad=True) for a in arrays)
    jac = torch.autograd.functional.jacobian(fn, tensors)
    sets = []
    if spec.dtype != np.float64:
        high = torch.autograd.functional.jacobian(
            fn, tuple(torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays))
        for k, a in enumerate(arrays):
            low64 = jac[k].detach().numpy().astype(np.float64).reshape(-1, a.size)
            ref = high[k].detach().numpy().reshape(-1, a.size)
            scale = np.sqrt(np.mean(ref ** 2))
            with np.errstate(invalid="ignore"):
                bad = ~(np.abs(low64 - ref) <= 1e-3 * (np.abs(ref) + scale))
            sets.append(set(int(i) for i in np.flatnonzero(bad.any(axis=0))))
        return sets
    for k, a in enumerate(arrays):
        analytic = jac[k].detach().numpy().reshape(-1, a.size)
        sets.append(_bad_columns(analytic, _numerical_jacobian(spec.forward, arrays, k)))
    return sets


# ------------------------------------------------------------------ the checkers
def run_ours(spec, arrays, seed, **options):
    fn = tiny_function(spec)
    inputs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    check = gradgradcheck if spec.order == 2 else gradcheck
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(fn, inputs, seed=seed, **options)
        error = None
    except RuntimeError as caught:  # GradcheckError, or a first-order-only RuntimeError
        error = caught
    return time.perf_counter() - start, error


def run_torch(spec, arrays, torch, **options):
    fn = torch_function(spec)
    inputs = tuple(torch.tensor(a.copy(), requires_grad=True) for a in arrays)
    check = torch.autograd.gradgradcheck if spec.order == 2 else torch.autograd.gradcheck
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = check(fn, inputs, **options)
        error = None if ok else "returned False"
    except Exception as caught:  # noqa: BLE001 - any failure counts as caught
        error = caught
    return time.perf_counter() - start, error


CHECKERS = (
    ("ours, default", "ours", {}),
    ("ours, exact Jacobian (`probes=None`)", "ours", {"probes": None}),
    ("torch, default", "torch", {}),
    ("torch, `fast_mode=True`", "torch", {"fast_mode": True}),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="run seed (drawn if omitted)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    parser.add_argument("--no-native", action="store_true",
                        help="skip the table of the libraries' own ops")
    args = parser.parse_args()
    torch = optional_torch(1)
    if torch is None:
        raise SystemExit("gradcheck_power needs PyTorch (the checker compared against)")
    torch.set_default_dtype(torch.float64)
    run_seed = secrets.randbits(31) if args.seed is None else args.seed
    torch.manual_seed(run_seed)
    print(f"run seed {run_seed} (repeat with --seed {run_seed}); {len(CASES)} cases: "
          f"{sum(c.bug for c in CASES)} buggy, {sum(not c.bug for c in CASES)} correct")
    totals = {label: dict(caught=0, alarms=0, points=0, time=0.0) for label, _, _ in CHECKERS}
    warnings.simplefilter("ignore")  # float32 overflows are planted on purpose
    np.seterr(all="ignore")
    for number, spec in enumerate(CASES):
        arrays = make_inputs(spec)
        truth = ground_truth(spec, arrays, torch)
        if spec.bug and not any(truth):
            raise AssertionError(f"catalogue: {spec.name}: no element is wrong")
        if not spec.bug and any(truth):
            raise AssertionError(f"catalogue: {spec.name}: correct op has wrong elements")
        line = []
        for label, library, options in CHECKERS:
            if library == "ours":
                seconds, error = run_ours(spec, arrays, run_seed + number, **options)
            else:
                seconds, error = run_torch(spec, arrays, torch, **options)
            entry = totals[label]
            entry["time"] += seconds
            flagged = error is not None
            if spec.bug and flagged:
                entry["caught"] += 1
                if library == "ours" and _points(error, truth, arrays, spec):
                    entry["points"] += 1
            if not spec.bug and flagged:
                entry["alarms"] += 1
            line.append(("X" if flagged else ".") + f"{seconds * 1e3:7.1f}ms")
        if args.verbose:
            print(f"{'bug' if spec.bug else 'ok ':3} {spec.name[:70]:70} " + " ".join(line))
    bugs = sum(c.bug for c in CASES)
    correct = len(CASES) - bugs
    reference = totals["torch, default"]["time"]
    print()
    print("| checker | bugs caught | false alarms | points at a buggy element | time | "
          "time / torch default |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, library, _ in CHECKERS:
        entry = totals[label]
        points = (f"{entry['points']}/{entry['caught']}" if library == "ours" else "never")
        print(f"| {label} | {entry['caught']}/{bugs} | {entry['alarms']}/{correct} | {points} | "
              f"{entry['time']:.2f} s | {entry['time'] / reference:.2f}x |")
    if not args.no_native:
        native_table(torch)


def native_table(torch):
    """Default gradcheck/gradgradcheck of library ops against torch's on its native ops."""
    from _timing import interleaved_best_of

    import tinygrad_cnn.functional as F

    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    ops = (
        ("conv2d(padding=1)", lambda x, w, b: F.conv2d(x, w, b, padding=1),
         lambda x, w, b: tf.conv2d(x, w, b, padding=1), [x, w, b]),
        ("max_pool2d(2)", lambda x: F.max_pool2d(x, 2), lambda x: tf.max_pool2d(x, 2), [x]),
        ("avg_pool2d(3, 1, 1)", lambda x: F.avg_pool2d(x, 3, 1, 1),
         lambda x: tf.avg_pool2d(x, 3, 1, 1), [x]),
        ("batch_norm(training)", lambda x: F.batch_norm(x, training=True),
         lambda x: tf.batch_norm(x, None, None, training=True), [x]),
    )
    print()
    print("| op (library's own against torch's native) | check | ours | torch | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, ours, theirs, arrays in ops:
        for label, check, torch_check in (("gradcheck", gradcheck, torch.autograd.gradcheck),
                                          ("gradgradcheck", gradgradcheck,
                                           torch.autograd.gradgradcheck)):
            def run_ours(check=check, fn=ours, arrays=arrays):
                return check(fn, [Tensor(a, requires_grad=True) for a in arrays])

            def run_torch(check=torch_check, fn=theirs, arrays=arrays):
                return check(fn, tuple(torch.tensor(a, requires_grad=True) for a in arrays))

            mine, torchs = interleaved_best_of(3, run_ours, run_torch)
            print(f"| {name} | {label} | {mine:.3f} s | {torchs:.3f} s | {mine / torchs:.2f}x |")


def _points(error, truth, arrays, spec):
    index = getattr(error, "index", None)
    k = getattr(error, "input_index", None)
    if index is None or k is None or k >= len(truth):
        return False
    shapes = [a.shape for a in arrays]
    if spec.order == 2:
        shapes.append(np.asarray(spec.forward(*arrays)).shape)
    flat = int(np.ravel_multi_index(index, shapes[k])) if len(index) else 0
    return flat in truth[k]


if __name__ == "__main__":
    main()
