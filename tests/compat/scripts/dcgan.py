"""In the DCGAN style: a generator of ``ConvTranspose2d`` / ``BatchNorm2d`` / ``ReLU`` ending
in ``Tanh``, a discriminator of strided convolutions with ``LeakyReLU`` ending in ``Sigmoid``,
``weights_init`` through ``m.weight.data.normal_(0.0, 0.02)`` and
``nn.init.constant_(m.bias.data, 0)`` applied with ``model.apply``; ``nn.BCELoss`` and two
Adam optimizers, the discriminator trained on real images and on ``fake.detach()``.

The init is checked by its statistics (each library draws from its own generator); the
compared training starts from numpy-drawn weights."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf, nc = 8, 8, 8, 1


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # nz x 1 x 1 -> (ngf*4) x 4 x 4
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> nc x 16 x 16
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # nc x 16 x 16 -> ndf x 8 x 8
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*2) x 4 x 4
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> 1 x 1 x 1
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


def init_statistics(model):
    convs = [m.weight.data for m in model.modules() if "Conv" in m.__class__.__name__]
    norms = [m for m in model.modules() if "BatchNorm" in m.__class__.__name__]
    stds = [w.std().item() for w in convs if w.numel() >= 256]
    return (all(0.015 < s < 0.025 for s in stds)
            and all(abs(m.weight.data.mean().item() - 1.0) < 0.02 for m in norms)
            and all(m.bias.data.abs().max().item() == 0 for m in norms))


def numpy_weights(model, rng):
    state = {}
    for name, v in sorted(model.state_dict().items()):
        if name.endswith("num_batches_tracked"):
            continue
        scale = 0.05 if len(v.shape) > 1 else 0.1
        offset = 1.0 if name.endswith(("running_var", ".weight")) and len(v.shape) == 1 else 0
        state[name] = torch.tensor((offset + scale * rng.standard_normal(tuple(v.shape)))
                                   .astype(np.float32))
    return state


def main():
    device = torch.device("cpu")
    rng = np.random.default_rng(8)
    netG = Generator().to(device)
    netG.apply(weights_init)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    init_ok = init_statistics(netG) and init_statistics(netD)
    netG.load_state_dict(numpy_weights(netG, rng), strict=False)
    netD.load_state_dict(numpy_weights(netD, rng), strict=False)

    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(rng.standard_normal((4, nz, 1, 1)).astype(np.float32))
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

    history = []
    for _i in range(5):
        # a "dataset" of blurred blobs in [-1, 1]
        real_cpu = torch.from_numpy(np.tanh(rng.standard_normal((8, nc, 16, 16)))
                                    .astype(np.float32)).to(device)
        b_size = real_cpu.size(0)

        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.from_numpy(rng.standard_normal((b_size, nz, 1, 1)).astype(np.float32))
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        history.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))

    with torch.no_grad():
        samples = netG(fixed_noise).detach().cpu()
    return {
        "weights_init": init_ok,
        "history": history,
        "samples": samples,
        "samples in [-1, 1]": bool(samples.abs().max() <= 1),
        "generator": netG.state_dict(),
        "discriminator": netD.state_dict(),
    }


if __name__ == "__main__":
    print(main())
