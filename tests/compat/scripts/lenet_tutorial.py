"""In the style of the "Neural Networks" tutorial: LeNet with ``x.view(-1,
self.num_flat_features(x))``; a look at ``list(net.parameters())`` and ``params[0].size()``;
``out.backward(torch.randn(1, 10))`` after ``net.zero_grad()``; ``nn.MSELoss`` on a target
reshaped with ``view(1, -1)``; following ``loss.grad_fn`` and ``next_functions``; the bias
gradient before and after ``backward``; a hand-written update ``f.data.sub_(f.grad.data *
learning_rate)``; then the same with ``optim.SGD``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # a square size can be given as a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


def from_numpy(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def main():
    rng = np.random.default_rng(6)
    net = Net()
    net.load_state_dict({name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.1)
                                            .astype(np.float32))
                         for name, v in net.state_dict().items()})
    facts = {"repr names the layers": "Conv2d(1, 6, kernel_size=(5, 5)" in repr(net)}

    params = list(net.parameters())
    facts["parameter count"] = len(params)
    facts["conv1's weight size"] = tuple(params[0].size())

    input = from_numpy(rng, 1, 1, 32, 32)
    out = net(input)
    facts["out"] = out

    net.zero_grad()
    out.backward(from_numpy(rng, 1, 10))
    facts["conv1.weight.grad after a backward"] = net.conv1.weight.grad.clone()

    output = net(input)
    target = from_numpy(rng, 10)  # a dummy target, for example
    target = target.view(1, -1)  # make it the same shape as output
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    facts["loss"] = loss.item()
    facts["loss has a grad_fn chain"] = (
        loss.grad_fn is not None
        and loss.grad_fn.next_functions[0][0] is not None
        and loss.grad_fn.next_functions[0][0].next_functions[0][0] is not None)

    net.zero_grad()  # zeroes the gradient buffers of all parameters
    facts["conv1.bias.grad before backward is None"] = net.conv1.bias.grad is None
    loss.backward()
    facts["conv1.bias.grad after backward"] = net.conv1.bias.grad.clone()

    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    facts["fc3.bias after the manual update"] = net.fc3.bias.detach().clone()

    optimizer = optim.SGD(net.parameters(), lr=0.01)
    losses = []
    batch = from_numpy(rng, 4, 1, 32, 32)
    targets = from_numpy(rng, 4, 10)
    for _step in range(5):
        optimizer.zero_grad()  # zero the gradient buffers
        output = net(batch)
        loss = criterion(output, targets)
        loss.backward()
        optimizer.step()  # does the update
        losses.append(loss.item())
    facts["losses"] = losses
    facts["state"] = net.state_dict()
    return facts


if __name__ == "__main__":
    print(main())
