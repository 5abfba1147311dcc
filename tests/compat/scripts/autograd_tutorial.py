"""An autograd walk-through in the style of PyTorch's tutorials: requires_grad, grad_fn,
retain_grad on an intermediate, hooks that inspect and clip gradients, higher derivatives
with ``create_graph``, ``no_grad``, ``detach`` and gradient accumulation."""

import numpy as np
import torch


def main():
    notes = {}
    x = torch.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * 2
    steps = 0
    while y.data.norm() < 100:
        y = y * 2
        steps += 1
    notes["doublings"] = steps
    notes["y is not a leaf"] = not y.is_leaf
    notes["y has a grad_fn"] = y.grad_fn is not None

    # retain_grad keeps an intermediate's gradient; a hook sees it on its way
    h = x.sin()
    h.retain_grad()
    seen = []
    handle = h.register_hook(lambda grad: seen.append(grad.clone()))
    out = (h * h).sum()
    out.backward()
    notes["h.grad"] = h.grad
    notes["hook saw"] = seen[0]
    notes["x.grad after first backward"] = x.grad.clone()
    handle.remove()

    # gradients accumulate until zeroed
    (x * x).sum().backward()
    notes["accumulated"] = x.grad.clone()
    x.grad.zero_()

    # a hook that clips the gradient of a parameter
    w = torch.tensor(np.array([0.5, -0.5, 2.0]), requires_grad=True)
    w.register_hook(lambda grad: grad.clamp(-1.0, 1.0))
    (w ** 3 * 10).sum().backward()
    notes["clipped w.grad"] = w.grad

    # second derivative through create_graph
    z = torch.tensor(np.array([0.3, 1.7]), requires_grad=True)
    f = (z ** 4).sum()
    (dz,) = torch.autograd.grad(f, z, create_graph=True)
    (d2z,) = torch.autograd.grad(dz.sum(), z)
    notes["first derivative"] = dz.detach()
    notes["second derivative"] = d2z

    # gradient penalty: backward through a gradient
    p = torch.tensor(np.array([1.0, 2.0]), requires_grad=True)
    q = (p ** 3).sum()
    (grad_p,) = torch.autograd.grad(q, p, create_graph=True)
    penalty = (grad_p ** 2).sum()
    penalty.backward()
    notes["penalty gradient"] = p.grad

    # no_grad and detach
    with torch.no_grad():
        notes["under no_grad requires grad"] = (x * 2).requires_grad
    notes["detached requires grad"] = x.detach().requires_grad
    notes["requires_grad_"] = torch.ones(2).requires_grad_().requires_grad
    return notes


if __name__ == "__main__":
    print(main())
