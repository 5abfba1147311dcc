"""Write a differentiable op of your own, check its gradients, and see a mistake caught.

    python examples/custom_op_gradcheck.py

The op is softplus with a sharpness ``beta``, ``log(1 + exp(beta * x)) / beta`` (a smooth
relu, PyTorch's ``F.softplus``).  Its derivative is ``sigmoid(beta * x)``.  The script

1. writes it as a ``Function`` whose backward uses Tensor operations (so it can be
   differentiated twice), and checks it with ``gradcheck`` and ``gradgradcheck``;
2. plants a mistake (the backward forgets ``beta``) and prints the report ``gradcheck`` gives;
3. shows the error ``gradgradcheck`` raises for a backward that returns plain arrays;
4. tests the op against a numpy reference on random shapes with ``check_op``;
5. prints the recorded graph of a small expression using it (``tinygrad_cnn.viz``).
"""

import numpy as np

from tinygrad_cnn import Function, Tensor
from tinygrad_cnn.gradcheck import GradcheckError, gradcheck, gradgradcheck


class Softplus(Function):
    """softplus(x, beta) = log(1 + exp(beta * x)) / beta, elementwise; x: any shape."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)  # the input array: backward gets it back as a Tensor
        ctx.beta = beta  # a Python float is fine on ctx; float *arrays* are not
        return np.logaddexp(0.0, beta * x) / beta  # stable for large |x|

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # Tensor operations on the saved tensor: the result is itself differentiable.
        return grad_output * (x * ctx.beta).sigmoid(), None  # no gradient for beta


class SoftplusForgetsBeta(Softplus):
    """The planted mistake: the derivative is written as sigmoid(x), without beta."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid(), None


class SoftplusFirstOrderOnly(Softplus):
    """A right first derivative computed in numpy: the graph cannot differentiate it again."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.numpy() / (1.0 + np.exp(-ctx.beta * x.numpy())), None


def softplus(x, beta=2.0):
    return Softplus.apply(x, beta)


def softplus_reference(x, beta=2.0):
    return np.logaddexp(0.0, beta * x) / beta


def main():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(3, 4)), requires_grad=True)  # float64: what checks need

    print("1. the correct op")
    print("   gradcheck:     ", gradcheck(softplus, (x,)))
    print("   gradgradcheck: ", gradgradcheck(softplus, (x,)))
    print("   full Jacobian: ", gradcheck(softplus, (x,), probes=None))

    print("\n2. the planted mistake (backward forgets beta)")
    try:
        gradcheck(lambda x: SoftplusForgetsBeta.apply(x, 2.0), (x,))
    except GradcheckError as error:
        print(error)
        print(f"   (as attributes: index={error.index}, analytic={error.analytic:.4f}, "
              f"numerical={error.numerical:.4f})")

    print("\n3. a first-order-only backward under gradgradcheck")
    try:
        gradgradcheck(lambda x: SoftplusFirstOrderOnly.apply(x, 2.0), (x,))
    except RuntimeError as error:
        print(error)

    print("\n4. check_op: forward against numpy, gradcheck and gradgradcheck, random shapes")
    try:
        from hypothesis import strategies as st
        from hypothesis.extra.numpy import array_shapes

        from tinygrad_cnn.testing import check_op
    except ImportError:
        print("   (skipped: check_op needs hypothesis, pip install hypothesis)")
    else:
        def shapes_and_beta(draw):
            shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=4))
            return [shape], {"beta": draw(st.sampled_from([0.5, 1.0, 2.0]))}

        check_op(softplus, softplus_reference, shapes=shapes_and_beta, max_examples=15)
        print("   15 examples passed")
        try:
            check_op(lambda x, beta: SoftplusForgetsBeta.apply(x, beta), softplus_reference,
                     shapes=shapes_and_beta, max_examples=15)
        except GradcheckError as error:
            print("   the planted mistake, as check_op reports it (shrunk to a small example):")
            print("   " + "\n   ".join(str(error).splitlines()[:3]))

    print("\n5. the recorded graph of (softplus(x) * w).sum()")
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    loss = (softplus(x) * w).sum()
    try:
        from tinygrad_cnn import viz
    except ImportError:
        print("   (tinygrad_cnn.viz is not available in this version)")
    else:
        print(viz.to_dot(loss))


if __name__ == "__main__":
    main()
