"""PyTorch's autograd idioms, written once in PyTorch's spelling and run under both libraries
(the ``lib`` fixture); values and gradients are compared with PyTorch's run (``reference``).

Each ``*_program(L)`` below is the code a PyTorch user writes, with ``L.torch`` standing for
``torch``.  Functions' forwards receive numpy arrays here and tensors in PyTorch (the
deliberate difference of API.md), so they use only operations both spell alike.
"""

import threading

import numpy as np
from compat_lib import assert_same

DATA = np.array([0.5, -1.25, 2.0])
OTHER = np.array([1.5, 0.25, -0.75])


def check(program, lib, reference, **tolerances):
    assert_same(program(lib), program(reference), **tolerances)


# ----------------------------------------------------------------------------- backward, grad
def backward_arguments_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    w = torch.tensor(OTHER, requires_grad=True)
    y = x * w
    y.backward(torch.tensor(np.array([1.0, 2.0, 3.0])), retain_graph=True)
    first = (x.grad, w.grad)
    (y * y).sum().backward(inputs=[w], retain_graph=True)
    torch.autograd.backward([y.sum(), (x * 3.0).sum()], [None, None], inputs=[x])
    return first, x.grad, w.grad


def test_backward_gradient_retain_graph_and_inputs(lib, reference):
    check(backward_arguments_program, lib, reference)


def grad_allow_unused_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    unused = torch.tensor(OTHER, requires_grad=True)
    y = (x * x).sum()
    try:
        torch.autograd.grad(y, [x, unused], retain_graph=True)
        raised = False
    except RuntimeError:
        raised = True
    gx, gu = torch.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)
    zero = torch.autograd.grad(y, [x, unused], materialize_grads=True)[1]
    return raised, gx, gu, zero


def test_grad_unused_inputs(lib, reference):
    check(grad_allow_unused_program, lib, reference)


def grad_of_intermediate_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    hidden = x.tanh()
    out = (hidden * hidden * 3.0).sum()
    return torch.autograd.grad(out, [hidden, x], grad_outputs=torch.tensor(np.array(2.0)))


def test_grad_with_respect_to_an_intermediate(lib, reference):
    check(grad_of_intermediate_program, lib, reference)


def create_graph_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    y = (x ** 3).sum()
    (first,) = torch.autograd.grad(y, x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x, create_graph=True)
    (third,) = torch.autograd.grad(second.sum(), x)
    return first, second, third, first.requires_grad


def test_higher_derivatives_with_create_graph(lib, reference):
    check(create_graph_program, lib, reference)


def backward_create_graph_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    gradient_norm = (first * first).sum()
    x.grad = None
    gradient_norm.backward()
    return first, x.grad


def test_backward_with_create_graph_gives_a_differentiable_grad(lib, reference):
    check(backward_create_graph_program, lib, reference)


# ----------------------------------------------------------------------------- hooks
def hooks_program(L):
    torch = L.torch
    seen = []
    x = torch.tensor(DATA, requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    hidden = x * 4.0
    handle = hidden.register_hook(lambda g: seen.append(g.sum().item()))
    hidden.register_hook(lambda g: g + 1.0)
    (hidden * hidden).sum().backward()
    handle.remove()
    (hidden2 := x * 4.0).register_hook(lambda g: g * 0.0)
    (hidden2 * 1.0).sum().backward()
    return seen, x.grad


def test_tensor_hooks_replace_and_remove(lib, reference):
    check(hooks_program, lib, reference)


def retain_grad_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    hidden = x.sigmoid()
    hidden.retain_grad()
    other = hidden * 2.0
    out = (other * other).sum()
    out.backward()
    return (hidden.grad, other.grad is None, x.grad, hidden.retains_grad, x.retains_grad,
            hidden.is_leaf, x.is_leaf)


def test_retain_grad(lib, reference):
    check(retain_grad_program, lib, reference)


def hook_errors_program(L):
    torch = L.torch
    plain = torch.tensor(DATA)
    errors = []
    for call in (lambda: plain.register_hook(lambda g: g), plain.retain_grad):
        try:
            call()
            errors.append(None)
        except RuntimeError:
            errors.append("RuntimeError")
    return errors


def test_hooks_need_requires_grad(lib, reference):
    check(hook_errors_program, lib, reference)


# ----------------------------------------------------------------------------- grad_fn
def graph_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    y = (x * 2.0 + x).sum()
    (add, add_number), = y.grad_fn.next_functions

    def describe(node):  # PyTorch's leaf node is "torch::autograd::AccumulateGrad"
        return None if node is None else node.name().split("::")[-1]

    structure = [describe(y.grad_fn), describe(add), add_number,
                 [(describe(n), k) for n, k in add.next_functions]]
    mul = add.next_functions[0][0]
    structure.append([(describe(n), k) for n, k in mul.next_functions])
    accumulate = mul.next_functions[0][0]
    return (structure, accumulate.variable is x, x.grad_fn is None, y.requires_grad,
            type(accumulate).__name__)


def test_grad_fn_names_and_next_functions(lib, reference):
    check(graph_program, lib, reference)


# ----------------------------------------------------------------------------- modes
def modes_program(L):
    torch = L.torch
    x = torch.tensor(DATA, requires_grad=True)
    facts = []
    with torch.no_grad():
        facts.append((x * 2.0).requires_grad)
        with torch.enable_grad():
            facts.append((x * 2.0).requires_grad)
    with torch.set_grad_enabled(False):
        facts.append(torch.is_grad_enabled())
    torch.set_grad_enabled(False)
    facts.append((x * 2.0).requires_grad)
    torch.set_grad_enabled(True)
    with torch.inference_mode():
        facts.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
        with torch.inference_mode(False):
            facts.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))

    @torch.no_grad()
    def evaluate():
        return (x * 2.0).requires_grad

    @torch.inference_mode()
    def infer():
        return torch.is_inference_mode_enabled()

    facts += [evaluate(), infer(), torch.is_grad_enabled()]
    return facts


def test_grad_modes(lib, reference):
    check(modes_program, lib, reference)


def threads_program(L):
    torch = L.torch
    seen = {}
    entered, done = threading.Event(), threading.Event()

    def worker():
        seen["worker starts with"] = torch.is_grad_enabled()
        with torch.no_grad():
            entered.set()
            done.wait(5)
            seen["worker inside"] = torch.is_grad_enabled()

    thread = threading.Thread(target=worker)
    with torch.no_grad():
        thread.start()
        entered.wait(5)
        seen["main inside"] = torch.is_grad_enabled()
    seen["main after"] = torch.is_grad_enabled()
    done.set()
    thread.join(5)
    return seen


def test_grad_mode_is_per_thread(lib, reference):
    check(threads_program, lib, reference)


def anomaly_program(L):
    torch = L.torch
    x = torch.tensor(np.array([0.0, 1.0]), requires_grad=True)
    try:
        with torch.autograd.detect_anomaly():
            (x.sqrt() * 0.0).sum().backward()  # 0 * inf in sqrt's backward: NaN
        return None
    except RuntimeError:
        return "RuntimeError"


def test_detect_anomaly_raises_runtime_error_on_a_nan_gradient(lib, reference):
    check(anomaly_program, lib, reference)


# ----------------------------------------------------------------------------- Function
def several_outputs_program(L):
    torch = L.torch

    class SquareAndTriple(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            flags = x > 0
            ctx.mark_non_differentiable(flags)
            return x * x, x * scale, flags

        @staticmethod
        def backward(ctx, grad_square, grad_scaled, grad_flags):
            (x,) = ctx.saved_tensors
            return grad_square * 2.0 * x + grad_scaled * ctx.scale, None

    x = torch.tensor(DATA, requires_grad=True)
    square, scaled, flags = SquareAndTriple.apply(x, 3.0)
    (scaled * 2.0).sum().backward()  # square gets no gradient: zeros are materialized
    only_scaled = x.grad
    x.grad = None
    square, scaled, flags = SquareAndTriple.apply(x, 3.0)
    (square + scaled).sum().backward()
    return (square, scaled, flags, only_scaled, x.grad, flags.requires_grad,
            square.grad_fn is scaled.grad_fn)


def test_function_with_several_outputs(lib, reference):
    check(several_outputs_program, lib, reference)


def needs_input_grad_program(L):
    torch = L.torch
    seen = []

    class Mix(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            ctx.set_materialize_grads(False)
            return a * b + c

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None

    a = torch.tensor(DATA, requires_grad=True)
    b = torch.tensor(OTHER)
    Mix.apply(a, b, 1.5).sum().backward()
    return seen, a.grad


def test_needs_input_grad_and_set_materialize_grads(lib, reference):
    check(needs_input_grad_program, lib, reference)


def gradient_for_a_number_program(L):
    torch = L.torch

    class Shift(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, amount):
            return x + amount

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # a gradient for the number: an error in PyTorch

    x = torch.tensor(DATA, requires_grad=True)
    try:
        Shift.apply(x, 2.0).sum().backward()
        return "no error"
    except RuntimeError:
        return "RuntimeError"


def test_backward_returning_a_gradient_for_a_non_tensor_argument_raises(lib, reference):
    check(gradient_for_a_number_program, lib, reference)


def once_differentiable_program(L):
    torch = L.torch
    from_function = L.torch.autograd.function

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @from_function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3.0 * x ** 2

    x = torch.tensor(DATA, requires_grad=True)
    (first,) = torch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    try:
        torch.autograd.grad(first.sum(), x)
        second = "no error"
    except RuntimeError:
        second = "RuntimeError"
    return first, second


def test_once_differentiable(lib, reference):
    check(once_differentiable_program, lib, reference)


def setup_context_program(L):
    torch = L.torch

    class Hypot(torch.autograd.Function):
        @staticmethod
        def forward(x, y):
            return (x * x + y * y) ** 0.5

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs, output)

        @staticmethod
        def backward(ctx, grad):
            x, y, out = ctx.saved_tensors
            return grad * x / out, grad * y / out

    x = torch.tensor(DATA, requires_grad=True)
    y = torch.tensor(OTHER, requires_grad=True)
    Hypot.apply(x, y).sum().backward()
    return x.grad, y.grad


def test_function_with_setup_context(lib, reference):
    check(setup_context_program, lib, reference)


def gradcheck_program(L):
    torch = L.torch

    class Softsign(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x / (1 + abs(x))

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / ((1 + x.abs()) * (1 + x.abs()))

    x = torch.tensor(DATA, requires_grad=True)
    return (torch.autograd.gradcheck(Softsign.apply, (x,)),
            torch.autograd.gradgradcheck(Softsign.apply, (x,)))


def test_gradcheck_and_gradgradcheck_on_a_user_function(lib, reference):
    check(gradcheck_program, lib, reference)


# ----------------------------------------------------------------------------- Variable
def variable_program(L):
    Variable = L.torch.autograd.Variable
    x = L.torch.tensor(DATA)
    v = Variable(x, requires_grad=True)
    (v * v).sum().backward()
    return v.grad, v.is_leaf, isinstance(x, Variable), Variable(x).requires_grad


def test_variable(lib, reference):
    check(variable_program, lib, reference)


# ----------------------------------------------------------------------------- functional
def functional_program(L):
    torch = L.torch
    functional = torch.autograd.functional
    x = torch.tensor(DATA)
    y = torch.tensor(OTHER)

    def energy(a, b):
        return (a * a * b).sum() + (a * b).tanh().sum()

    def field(a):
        return a.sigmoid() * a, (a * a).sum()

    return (functional.jacobian(field, x), functional.hessian(energy, (x, y)),
            functional.vjp(field, x, (y, torch.tensor(np.array(2.0)))),
            functional.jvp(field, x, y), functional.hvp(energy, (x, y), (y, x)),
            functional.vhp(energy, (x, y), (y, x)))


def test_autograd_functional(lib, reference):
    check(functional_program, lib, reference, rtol=1e-10, atol=1e-12)
