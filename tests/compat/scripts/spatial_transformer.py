"""A spatial transformer network in the style of the PyTorch tutorial: a localisation net
(conv, max-pool, ReLU, then a small regressor) predicts a 2x3 affine ``theta`` per image, the
regressor's last layer starts at the identity transform (``weight.data.zero_()``,
``bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))``), ``F.affine_grid``
builds the sampling grid and ``F.grid_sample`` resamples the input (bilinear with ``zeros``
padding for the classifier path, ``border`` padding for an auxiliary view) before a small
classifier; a few SGD steps with momentum, losses and final parameters compared."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class STNClassifier(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.localization = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(6, 8, kernel_size=3),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(
            nn.Linear(8 * 2 * 2, 16),
            nn.ReLU(True),
            nn.Linear(16, 3 * 2),
        )
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(6, 10, kernel_size=3, padding=1)
        self.fc = nn.Linear(10 * 4 * 4, num_classes)

    def stn(self, x, padding_mode="zeros"):
        xs = self.localization(x)
        xs = xs.view(-1, 8 * 2 * 2)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode,
                             align_corners=False), theta

    def forward(self, x):
        x, theta = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 10 * 4 * 4)
        return F.log_softmax(self.fc(x), dim=1), theta


def load_numpy_weights(model, rng):
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.startswith("fc_loc.2."):
            state[name] = value.clone()  # keep the identity initialisation
        elif len(shape) == 1:
            state[name] = torch.from_numpy((0.05 * rng.standard_normal(shape))
                                           .astype(np.float32))
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = torch.from_numpy((rng.standard_normal(shape) / math.sqrt(fan_in))
                                           .astype(np.float32))
    model.load_state_dict(state)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(31)
    model = STNClassifier()
    starts_at_identity = bool((model.fc_loc[2].weight == 0).all()) and torch.equal(
        model.fc_loc[2].bias, torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))
    load_numpy_weights(model, rng)

    images = torch.from_numpy(rng.standard_normal((12, 1, 16, 16)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 5, size=12))

    # at the identity, sampling the input with align_corners=False gives the input back
    with torch.no_grad():
        identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).unsqueeze(0).repeat(2, 1, 1)
        grid = F.affine_grid(identity, (2, 1, 16, 16), align_corners=False)
        resampled = F.grid_sample(images[:2], grid, align_corners=False)
        identity_resamples = torch.allclose(resampled, images[:2], atol=1e-5)
        # a zoom-out: border padding repeats the edge, zeros padding gives zeros outside
        zoom = torch.tensor([[[1.5, 0.0, 0.1], [0.0, 1.5, -0.2]]])
        zoom_grid = F.affine_grid(zoom, (1, 1, 16, 16), align_corners=False)
        border_view = F.grid_sample(images[:1], zoom_grid, mode="bilinear",
                                    padding_mode="border", align_corners=False)
        zeros_view = F.grid_sample(images[:1], zoom_grid, mode="bilinear",
                                   padding_mode="zeros", align_corners=False)
        nearest_view = F.grid_sample(images[:1], zoom_grid, mode="nearest",
                                     padding_mode="border", align_corners=True)
    corner_is_zero = zeros_view[0, 0, 0, 0].item() == 0.0

    # a gentle learning rate: with larger steps theta leaves the image within a few steps and
    # float32 rounding differences grow tenfold per step (pooling ties, pixel boundaries)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.5)
    losses, thetas = [], []
    model.train()
    for step in range(4):
        batch = slice((step % 3) * 4, (step % 3) * 4 + 4)
        optimizer.zero_grad()
        log_probs, theta = model(images[batch])
        # a border-padded auxiliary view keeps gradients flowing into the localisation net
        aux, _ = model.stn(images[batch], padding_mode="border")
        loss = F.nll_loss(log_probs, labels[batch]) + 0.1 * F.mse_loss(aux, images[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        thetas.append(theta.detach())

    model.eval()
    with torch.no_grad():
        log_probs, theta = model(images)
    # the trained net's resampled images are not returned: they scale theta's rounding
    # differences by the image's slope times its half-width; the fixed transforms above
    # compare grid_sample itself
    return {
        "the regressor starts at the identity transform": starts_at_identity,
        "the identity grid resamples the input": identity_resamples,
        "zeros padding reads zero outside the image": corner_is_zero,
        "identity grid": grid,
        "border view": border_view,
        "zeros view": zeros_view,
        "nearest view": nearest_view,
        "losses": losses,
        "thetas": thetas,
        "eval log probs": log_probs,
        "eval theta": theta,
        "predictions": log_probs.argmax(dim=1),
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
