"""A small U-Net-style segmentation net: an encoder of conv blocks and max pooling, a decoder
that upsamples bilinearly (``F.interpolate(..., size=, mode="bilinear",
align_corners=False)`` where the sizes are odd, ``nn.Upsample(scale_factor=2)`` where they
double) and joins the skip connections with ``torch.cat(dim=1)``; an auxiliary low-resolution
head; trained with Adam on K-dimensional cross-entropy, per-pixel targets with an
``ignore_index=255`` void label and class weights."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

IGNORE = 255


def conv_block(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=4, base=6):
        super().__init__()
        self.enc1 = conv_block(in_channels, base)
        self.enc2 = conv_block(base, base * 2)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.bottleneck = conv_block(base * 2, base * 2)
        self.aux_head = nn.Conv2d(base * 2, num_classes, kernel_size=1)
        self.dec2 = conv_block(base * 4, base)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec1 = conv_block(base * 2, base)
        self.head = nn.Conv2d(base, num_classes, kernel_size=1)

    def forward(self, x):
        e1 = self.enc1(x)                          # (N, b, H, W)
        e2 = self.enc2(self.pool(e1))              # (N, 2b, H/2, W/2)
        bottom = self.bottleneck(self.pool(e2))    # (N, 2b, H/4, W/4), rounded down
        d2 = F.interpolate(bottom, size=e2.shape[-2:], mode="bilinear", align_corners=False)
        d2 = self.dec2(torch.cat([d2, e2], dim=1))
        d1 = self.dec1(torch.cat((self.up(d2), e1), dim=1))
        aux = F.interpolate(self.aux_head(bottom), size=x.shape[2:], mode="bilinear",
                            align_corners=False)
        return self.head(d1), aux


def make_batch(rng, n, height, width, num_classes):
    """Images whose class is the brightest of the first channels per pixel, with a void border
    and some void pixels."""
    images = rng.standard_normal((n, 3, height, width)).astype(np.float32)
    masks = np.argmax(images[:, :num_classes - 1], axis=1) + (images[:, 2] > 1.2)
    masks[:, 0, :] = IGNORE
    masks[rng.random(masks.shape) < 0.1] = IGNORE
    return torch.from_numpy(images), torch.from_numpy(masks.astype(np.int64))


def main():
    rng = np.random.default_rng(5)
    model = TinyUNet()
    model.load_state_dict({
        name: torch.tensor((rng.standard_normal(tuple(v.shape))
                            * (0.1 if len(v.shape) == 1 else 0.4)
                            + name.endswith(("running_var", "1.weight"))).astype(np.float32))
        for name, v in sorted(model.state_dict().items())
        if not name.endswith("num_batches_tracked")}, strict=False)
    images, masks = make_batch(rng, 4, 20, 14, num_classes=4)
    class_weights = torch.tensor([1.0, 2.0, 0.5, 1.5])
    aux_criterion = nn.CrossEntropyLoss(weight=class_weights, ignore_index=IGNORE)
    optimizer = optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)

    losses = []
    model.train()
    for _step in range(6):
        optimizer.zero_grad()
        logits, aux = model(images)
        loss = F.cross_entropy(logits, masks, ignore_index=IGNORE) + 0.4 * aux_criterion(
            aux, masks)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        logits, _ = model(images)
        probabilities = F.softmax(logits, dim=1)
        predicted = logits.argmax(dim=1)
        valid = masks != IGNORE
        pixel_accuracy = (predicted[valid] == masks[valid]).float().mean().item()
        per_pixel = F.cross_entropy(logits, masks, ignore_index=IGNORE, reduction="none")
    return {
        "logits shape": tuple(logits.shape),
        "losses": losses,
        "probabilities": probabilities,
        "pixel accuracy": pixel_accuracy,
        "per-pixel loss": per_pixel,
        "ignored pixels have zero loss": bool((per_pixel[~valid] == 0).all()),
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
