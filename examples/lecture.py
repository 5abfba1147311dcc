"""Print every worked example and exercise of the CNN lecture, computed by tinygrad_cnn.

    python examples/lecture.py

The lecture is "Convolutional Neural Networks" (Mihir Patel, 2017); docs/lecture.md walks
through it section by section.  Values printed here are the correct ones; where the lecture's
text has a slip, the line says so.
"""

import numpy as np

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, grad


def image(rows) -> Tensor:
    """A 2-D list as a (1, 1, H, W) float64 tensor."""
    return Tensor(np.array(rows, dtype=np.float64)[None, None])


def show(title: str, value) -> None:
    value = value.numpy()[0, 0] if isinstance(value, Tensor) else value
    text = str(value).replace("\n", "\n    ")
    print(f"{title}:\n    {text}")


A = image([[1, 2, 3, 1], [4, 5, 6, 1], [7, 8, 9, 1]])
TWOS = image([[2, 2], [2, 2]])
SMALL = image([[1, 2], [4, 5]])
POOL = [[1, 3, 2, 1], [4, 2, 0, 1], [5, 1, 2, 2], [0, 2, 3, 4]]


def filters() -> None:
    print("== One- and two-dimensional filters")
    basis = Tensor(np.eye(7)[:, None, :])  # each of the 7 inputs on its own
    jacobian = F.conv1d(basis, Tensor(np.ones((1, 1, 3)))).numpy()[:, 0, :]
    print(f"1-D filter of 3 on 7 inputs: {jacobian.shape[1]} outputs, "
          f"{np.count_nonzero(jacobian)} connections; fully connected: "
          f"{7 * jacobian.shape[1]}")
    flat = Tensor(np.zeros((1, 1, 28, 28))).flatten(start_dim=1)
    print(f"a 28 x 28 MNIST image flattens to {flat.shape[1]} values "
          "(the lecture's '24 x 24 -> 724' is a slip)")
    kernels = Tensor(np.ones((6, 1, 3, 3)))
    print(f"6 kernels of 3 x 3 on a 28 x 28 image: feature maps of shape "
          f"{F.conv2d(Tensor(np.zeros((1, 1, 28, 28))), kernels).shape}")


def activations() -> None:
    print("\n== ReLU vs sigmoid gradients")
    x = Tensor(np.array([0.5]), requires_grad=True)
    s = r = x
    for _ in range(10):
        s, r = F.sigmoid(s), F.relu(r)
    print(f"through 10 sigmoids: {grad(s.sum(), [x])[0].item():.2e}; "
          f"through 10 ReLUs: {grad(r.sum(), [x])[0].item():.2e}; "
          "largest sigmoid derivative: 0.25")


def forward() -> None:
    print("\n== Forward propagation (3 x 4 input, 2 x 2 kernel of twos)")
    show("output", F.conv2d(A, TWOS))
    print("top-middle = 2*2 + 5*2 + 3*2 + 6*2 =", 2 * 2 + 5 * 2 + 3 * 2 + 6 * 2,
          "(the lecture writes 9*2 for the last term)")
    cols = F.unfold(A, 2).numpy()[0]
    show("unfold (row-major, PyTorch's order)", cols)
    a_prime = cols[np.ix_([0, 2, 1, 3], [0, 3, 1, 4, 2, 5])]
    show("the lecture's A' (column order): rows [0, 2, 1, 3], columns [0, 3, 1, 4, 2, 5]",
         a_prime)
    show("A'^T @ [2, 2, 2, 2] (outputs in column order)", a_prime.T @ np.full(4, 2.0))


def stride_and_padding() -> None:
    print("\n== Stride and zero padding ([[1, 2], [4, 5]], kernel of twos)")
    show("no padding", F.conv2d(SMALL, TWOS))
    show("padding 1, stride 1 (middle-right is 14; the lecture shows 20)",
         F.conv2d(SMALL, TWOS, padding=1))
    show("padding 1, stride 2", F.conv2d(SMALL, TWOS, padding=1, stride=2))


def pooling() -> None:
    print("\n== Pooling (2 x 2) of", POOL)
    p = image(POOL)
    show("max", F.max_pool2d(p, 2))
    show("average", F.avg_pool2d(p, 2))
    show("L2 (root of the sum of squares)", F.lp_pool2d(p, 2, 2).numpy()[0, 0].round(4))


def backprop() -> None:
    print("\n== Backpropagation")
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 1, 5, 6)), requires_grad=True)
    k = Tensor(rng.standard_normal((1, 1, 3, 3)))
    y = F.conv2d(x, k)
    delta = Tensor(rng.standard_normal(y.shape))
    y.backward(delta)
    full = F.conv2d(delta, Tensor(k.numpy()[..., ::-1, ::-1].copy()), padding=2)
    print("input gradient == full correlation of delta with rot180(kernel):",
          np.allclose(x.grad, full.numpy()))
    p = image(POOL)
    p.requires_grad = True
    d = image([[10, 20], [30, 40]])
    F.max_pool2d(p, 2).backward(d)
    show("max pooling error [[10, 20], [30, 40]] upsampled to the max positions", p.grad[0, 0])


def exercises() -> None:
    print("\n== Exercises")
    e1 = image([[4, 1, 2, 4, 7, 9], [0, 1, 2, 0, 2, 3], [6, 4, 5, 2, 1, 3], [8, 1, 2, 1, 3, 2]])
    sobel = image([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    show("exercise 1 (Sobel kernel, then ReLU)", F.relu(F.conv2d(e1, sobel)))
    e2 = image([[4, 1, 2, 4, 7, 9], [0, 1, 2, 0, 2, 3], [6, 4, 5, 2, 1, 3], [8, 1, 2, 1, 3, 2],
                [5, 8, 1, 2, 0, 2]])
    show("exercise 2 (kernel [[2, 1], [1, 2]], stride 2, zero padding 1)",
         F.conv2d(e2, image([[2, 1], [1, 2]]), stride=2, padding=1))


def main() -> None:
    filters()
    activations()
    forward()
    stride_and_padding()
    pooling()
    backprop()
    exercises()


if __name__ == "__main__":
    main()
