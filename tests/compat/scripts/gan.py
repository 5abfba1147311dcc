"""A GAN on 2-D points in the DCGAN style: two networks, two Adam optimizers, the
discriminator trained on real and on ``fake.detach()`` samples, then the generator."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Generator(nn.Module):
    def __init__(self, noise=3):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(noise, 16), nn.ReLU(True), nn.Linear(16, 2))

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x)


def load_numpy_weights(model, rng):
    model.load_state_dict({name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.4)
                                              .astype(np.float32))
                           for name, v in model.state_dict().items()})


def main():
    rng = np.random.default_rng(2)
    netG, netD = Generator(), Discriminator()
    load_numpy_weights(netG, rng)
    load_numpy_weights(netD, rng)
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=0.01, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.01, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0
    batch = 16
    history = []
    for _step in range(15):
        angles = rng.uniform(0, 2 * np.pi, batch)
        real = torch.from_numpy(np.stack([np.cos(angles), np.sin(angles)], 1)
                                .astype(np.float32))
        noise = torch.from_numpy(rng.standard_normal((batch, 3)).astype(np.float32))

        netD.zero_grad()
        label = torch.full((batch,), real_label, dtype=torch.float32)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()

        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        history.append((errD.item(), errG.item(), D_x))
    return {"history": history, "generator": netG.state_dict(),
            "fake detached": not fake.detach().requires_grad}


if __name__ == "__main__":
    print(main())
