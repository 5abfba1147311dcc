"""A modern image-classification recipe: a backbone of conv-bn-relu stages held in an
``nn.ModuleList`` and two heads in an ``nn.ModuleDict`` (the class head and an auxiliary head
on an earlier stage), initialised with ``model.apply(init_fn)`` (``kaiming_normal_`` with
``mode="fan_out"``, ``constant_``, ``trunc_normal_``, ``zeros_``); ``AdamW`` with two parameter
groups built from ``named_parameters()`` (no weight decay on biases and norm weights);
``CrossEntropyLoss(label_smoothing=0.1)``; gradient accumulation over micro-batches;
``clip_grad_norm_`` (its returned total norm is logged); ``OneCycleLR`` stepped per optimizer
step; an exponential moving average of the weights kept in a ``copy.deepcopy`` of the model and
updated in place under ``torch.no_grad()``; evaluation under ``torch.inference_mode()`` with the
ImageNet example's top-k ``accuracy``; the usual reproducibility preamble (``manual_seed``,
``cudnn.benchmark = False``, ``use_deterministic_algorithms(True)``)."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import OneCycleLR


def conv_bn_relu(in_channels, out_channels, stride):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TwoHeadNet(nn.Module):
    def __init__(self, widths=(3, 8, 12, 16), num_classes=7):
        super().__init__()
        self.stages = nn.ModuleList([
            conv_bn_relu(widths[i], widths[i + 1], stride=1 if i == 0 else 2)
            for i in range(len(widths) - 1)
        ])
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.heads = nn.ModuleDict({
            "main": nn.Linear(widths[-1], num_classes),
            "aux": nn.Linear(widths[-2], num_classes),
        })

    def forward(self, x):
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        main = self.heads["main"](torch.flatten(self.pool(features[-1]), 1))
        if not self.training:
            return main
        aux = self.heads["aux"](torch.flatten(self.pool(features[-2]), 1))
        return main, aux


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.constant_(m.weight, 1)
        nn.init.constant_(m.bias, 0)
    elif isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02, a=-0.04, b=0.04)
        nn.init.zeros_(m.bias)


def numpy_weights(model, rng):
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = torch.from_numpy(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif len(shape) == 1:
            base = 1.0 if name.endswith("weight") else 0.0
            state[name] = torch.from_numpy((base + 0.1 * rng.standard_normal(shape))
                                           .astype(np.float32))
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = torch.from_numpy((rng.standard_normal(shape) / math.sqrt(fan_in))
                                           .astype(np.float32))
    return state


def parameter_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def update_ema(ema_model, model, decay):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)
    for ema_b, b in zip(ema_model.buffers(), model.buffers()):
        ema_b.copy_(b)


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k."""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


def main():
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)
    try:
        return train_and_evaluate()
    finally:
        torch.use_deterministic_algorithms(False)  # leave the process as it was


def train_and_evaluate():
    rng = np.random.default_rng(2024)
    model = TwoHeadNet()
    model.apply(init_weights)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    he_scaled = all(
        abs(c.weight.std().item() / math.sqrt(2.0 / (c.out_channels * 9)) - 1) < 0.35
        for c in convs)
    linear_init = all(
        m.weight.abs().max().item() <= 0.04 and m.bias.eq(0).all().item()
        for m in model.heads.values())
    num_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.load_state_dict(numpy_weights(model, rng))

    images = torch.from_numpy(rng.standard_normal((32, 3, 12, 12)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 7, size=32))
    val_images = torch.from_numpy(rng.standard_normal((16, 3, 12, 12)).astype(np.float32))
    val_labels = torch.from_numpy(rng.integers(0, 7, size=16))

    ema_model = copy.deepcopy(model)
    for p in ema_model.parameters():
        p.requires_grad_(False)
    ema_is_a_copy = all(e is not p and torch.equal(e, p)
                        for e, p in zip(ema_model.parameters(), model.parameters()))

    groups = parameter_groups(model, weight_decay=0.05)
    optimizer = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    epochs, micro_batch, accum_steps = 3, 4, 2
    steps_per_epoch = len(images) // (micro_batch * accum_steps)
    scheduler = OneCycleLR(optimizer, max_lr=[4e-3, 2e-3], epochs=epochs,
                           steps_per_epoch=steps_per_epoch, pct_start=0.3)

    losses, norms, lrs, betas = [], [], [], []
    for _epoch in range(epochs):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        for i in range(len(images) // micro_batch):
            x = images[i * micro_batch:(i + 1) * micro_batch]
            y = labels[i * micro_batch:(i + 1) * micro_batch]
            main_out, aux_out = model(x)
            loss = criterion(main_out, y) + 0.4 * criterion(aux_out, y)
            (loss / accum_steps).backward()
            losses.append(loss.item())
            if (i + 1) % accum_steps == 0:
                total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                norms.append(total_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                update_ema(ema_model, model, decay=0.9)
                lrs.append(scheduler.get_last_lr())
                betas.append(optimizer.param_groups[0]["betas"][0])

    grads_cleared = all(p.grad is None for p in model.parameters())
    model.eval()
    ema_model.eval()
    with torch.inference_mode():
        logits = model(val_images)
        ema_logits = ema_model(val_images)
        top1, top3 = accuracy(logits, val_labels, topk=(1, 3))
        ema_top1, ema_top5 = accuracy(ema_logits, val_labels, topk=(1, 5))
        val_loss = nn.functional.cross_entropy(logits, val_labels, label_smoothing=0.1)
    return {
        "deterministic algorithms are on": torch.are_deterministic_algorithms_enabled(),
        "convolutions start He-scaled for fan_out": he_scaled,
        "linear heads start small with zero bias": linear_init,
        "the EMA model is an equal copy": ema_is_a_copy,
        "zero_grad(set_to_none=True) clears the gradients": grads_cleared,
        "trainable parameters": num_trainable,
        "group sizes": [len(g["params"]) for g in optimizer.param_groups],
        "losses": losses,
        "clipped norms": norms,
        "lrs": lrs,
        "beta1": betas,
        "val logits": logits,
        "ema logits": ema_logits,
        "accuracy": [top1, top3, ema_top1, ema_top5],
        "val loss": val_loss,
        "state": model.state_dict(),
        "ema state": ema_model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
