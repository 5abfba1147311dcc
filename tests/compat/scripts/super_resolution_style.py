"""Two image-to-image networks trained side by side.  An ESPCN-style super-resolution net
(convolutions with ``PReLU`` and ``SELU``, then ``nn.PixelShuffle`` to upscale by 2, checked
against ``F.pixel_shuffle``/``F.pixel_unshuffle``), trained with an MSE against the
high-resolution target.  A fast-style-transfer-style transformer (``nn.ReflectionPad2d`` before
each convolution, ``nn.InstanceNorm2d(affine=True)``, residual blocks with ``x + block(x)``, a
strided downsample and an ``nn.Upsample(scale_factor=2, mode="nearest")`` upsample), trained
with a content MSE on features plus a Gram-matrix style loss (Gram matrices by ``torch.bmm``
and by ``torch.einsum``).  A few Adam steps each; losses and final weights compared."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ESPCN(nn.Module):
    def __init__(self, upscale=2, channels=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 16, kernel_size=5, padding=2),
            nn.PReLU(16),
            nn.Conv2d(16, 8, kernel_size=3, padding=1),
            nn.SELU(),
            nn.Conv2d(8, channels * upscale ** 2, kernel_size=3, padding=1),
        )
        self.shuffle = nn.PixelShuffle(upscale)

    def forward(self, x):
        return torch.sigmoid(self.shuffle(self.body(x)))


class ConvLayer(nn.Module):
    # bias=False before an InstanceNorm: the norm cancels the bias, whose gradient is then
    # only rounding noise (which Adam would scale up to full-size steps in either library)
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, bias=False):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=bias)

    def forward(self, x):
        return self.conv(self.pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 8, 5)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.down = ConvLayer(8, 12, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(12, affine=True)
        self.res1 = ResidualBlock(12)
        self.res2 = ResidualBlock(12)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        # no norm after the upsampling conv: one there would cancel (as bias before a norm)
        # the residual blocks' per-channel shifts, leaving their norms' biases rounding noise
        self.deconv = ConvLayer(12, 8, 3, bias=True)
        self.out = ConvLayer(8, 3, 5, bias=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.down(y)))
        y = self.res2(self.res1(y))
        y = self.relu(self.deconv(self.up(y)))
        return self.out(y)


class FeatureNet(nn.Module):
    """A frozen stand-in for the VGG feature extractor: two feature maps."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU())
        self.block2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(6, 10, 3, padding=1), nn.ReLU())

    def forward(self, x):
        f1 = self.block1(x)
        return f1, self.block2(f1)


def gram_matrix_bmm(y):
    b, ch, h, w = y.size()
    features = y.view(b, ch, w * h)
    return features.bmm(features.transpose(1, 2)) / (ch * h * w)


def gram_matrix_einsum(y):
    b, ch, h, w = y.shape
    return torch.einsum("bchw,bdhw->bcd", y, y) / (ch * h * w)


def load_numpy_weights(model, rng):
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.endswith("prelu.weight") or (len(shape) == 1 and shape[0] == 16
                                             and name == "body.1.weight"):
            state[name] = torch.from_numpy((0.25 + 0.05 * rng.standard_normal(shape))
                                           .astype(np.float32))
        elif len(shape) == 1:
            base = 1.0 if name.endswith("weight") else 0.0
            state[name] = torch.from_numpy((base + 0.1 * rng.standard_normal(shape))
                                           .astype(np.float32))
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = torch.from_numpy((rng.standard_normal(shape) / math.sqrt(fan_in))
                                           .astype(np.float32))
    model.load_state_dict(state)


def train_super_resolution(rng):
    model = ESPCN()
    load_numpy_weights(model, rng)
    high = torch.from_numpy(rng.uniform(0, 1, (6, 1, 16, 16)).astype(np.float32))
    low = F.avg_pool2d(high, 2)
    unshuffled = F.pixel_unshuffle(high, 2)
    shuffle_round_trip = torch.equal(F.pixel_shuffle(unshuffled, 2), high)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.MSELoss()
    losses, psnrs = [], []
    for _ in range(5):
        optimizer.zero_grad()
        out = model(low)
        loss = criterion(out, high)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        psnrs.append(10 * math.log10(1 / loss.item()))
    with torch.no_grad():
        upscaled = model(low)
    return {
        "pixel_shuffle undoes pixel_unshuffle": shuffle_round_trip,
        "the upscaler doubles height and width": tuple(upscaled.shape) == (6, 1, 16, 16),
        "unshuffled": unshuffled,
        "sr losses": losses,
        "sr psnr": psnrs,
        "sr output": upscaled,
        "sr state": model.state_dict(),
    }


def train_style_transfer(rng):
    transformer = TransformerNet()
    load_numpy_weights(transformer, rng)
    features = FeatureNet()
    load_numpy_weights(features, rng)
    for p in features.parameters():
        p.requires_grad_(False)
    content = torch.from_numpy(rng.uniform(0, 1, (2, 3, 16, 16)).astype(np.float32))
    style = torch.from_numpy(rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32))
    with torch.no_grad():
        style_grams = [gram_matrix_bmm(f) for f in features(style)]
        grams_agree = all(torch.allclose(gram_matrix_bmm(f), gram_matrix_einsum(f), atol=1e-6)
                          for f in features(style))
        padded = nn.ReflectionPad2d((1, 2, 0, 3))(content[:1, :1, :4, :4])
    optimizer = torch.optim.Adam(transformer.parameters(), lr=1e-3)
    mse = nn.MSELoss()
    content_weight, style_weight = 1.0, 50.0
    content_losses, style_losses = [], []
    for _ in range(4):
        optimizer.zero_grad()
        y = transformer(content)
        features_y = features(y)
        features_x = features(content)
        content_loss = content_weight * mse(features_y[1], features_x[1])
        style_loss = 0.0
        for f_y, g_s in zip(features_y, style_grams):
            g_y = gram_matrix_einsum(f_y)
            style_loss = style_loss + mse(g_y, g_s.expand_as(g_y))
        style_loss = style_weight * style_loss
        total = content_loss + style_loss
        total.backward()
        optimizer.step()
        content_losses.append(content_loss.item())
        style_losses.append(style_loss.item())
    with torch.no_grad():
        stylised = transformer(content)
    norm = transformer.res1.in1
    return {
        "bmm and einsum Gram matrices agree": grams_agree,
        "instance norm keeps no running statistics": norm.running_mean is None,
        "reflection padded": padded,
        "content losses": content_losses,
        "style losses": style_losses,
        "stylised": stylised,
        "style state": transformer.state_dict(),
    }


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(77)
    results = train_super_resolution(rng)
    results.update(train_style_transfer(rng))
    return results


if __name__ == "__main__":
    print(main())
