"""A two-layer network fitted with a hand-written SGD loop: tensors that require grad, a
loss built from tensor operations, and in-place updates under ``torch.no_grad()``."""

import numpy as np
import torch


def main():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal((64, 5)))
    true_w = rng.standard_normal((5, 1))
    y = torch.from_numpy(np.sin(rng.standard_normal((64, 5)) @ true_w) + x.numpy() @ true_w)

    w1 = torch.tensor(rng.standard_normal((5, 12)) * 0.5, requires_grad=True)
    b1 = torch.zeros(12, dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(rng.standard_normal((12, 1)) * 0.5, requires_grad=True)
    b2 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    params = [w1, b1, w2, b2]

    learning_rate = 0.05
    losses = []
    for _step in range(40):
        hidden = (x @ w1 + b1).clamp(min=0)
        prediction = hidden @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= learning_rate * p.grad
                p.grad.zero_()
        losses.append(loss.item())
    return {"losses": losses, "w1": w1, "b2": b2, "still leaves": all(p.is_leaf for p in params),
            "grads zeroed": all(float(p.grad.abs().sum()) == 0.0 for p in params)}


if __name__ == "__main__":
    print(main())
