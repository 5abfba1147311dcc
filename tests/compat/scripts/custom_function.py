"""Custom autograd Functions used in a model: a rectifier and a scaled cube written as
``torch.autograd.Function`` subclasses, checked with ``gradcheck``, then trained.

The forwards use only arithmetic and comparisons, which numpy arrays (what tinygrad_cnn's
Function.forward receives) and torch tensors spell alike."""

import numpy as np
import torch
import torch.nn as nn


class Rectify(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (x > 0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)


class ScaledCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * ctx.scale * x ** 2, None


class CubicFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        hidden = Rectify.apply(self.linear(x))
        return self.out(ScaledCube.apply(hidden, 0.5))


def main():
    rng = np.random.default_rng(3)
    probe = torch.tensor(rng.standard_normal(5) + 0.1, requires_grad=True)
    checks = (torch.autograd.gradcheck(Rectify.apply, (probe,)),
              torch.autograd.gradcheck(lambda t: ScaledCube.apply(t, 1.5), (probe,)),
              torch.autograd.gradgradcheck(lambda t: ScaledCube.apply(t, 1.5), (probe,)))

    model = CubicFeatures()
    model.load_state_dict({name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.5)
                                              .astype(np.float32))
                           for name, v in model.state_dict().items()})
    x = torch.from_numpy(rng.standard_normal((32, 4)).astype(np.float32))
    y = torch.from_numpy(rng.standard_normal((32, 1)).astype(np.float32))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    loss_fn = nn.MSELoss()
    losses = []
    for _step in range(20):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"gradchecks": checks, "losses": losses, "out.weight": model.out.weight.detach(),
            "user node names": [node.name() for node in (
                ScaledCube.apply(probe, 2.0).grad_fn, Rectify.apply(probe).grad_fn)]}


if __name__ == "__main__":
    print(main())
