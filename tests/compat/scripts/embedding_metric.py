"""Metric learning with a small CNN: a conv trunk maps images to unit-length embeddings, an
``nn.Embedding`` holds one learnable prototype per class, and logits are the
``F.cosine_similarity`` between embeddings and prototypes divided by a learnable temperature
(one of an ``nn.ParameterList`` of scalars, one per head).  A 1-d signal branch
(``nn.Conv1d``, ``nn.MaxPool1d(return_indices=True)`` with ``nn.MaxUnpool1d``, a strided
``nn.ConvTranspose1d``) reconstructs an auxiliary signal.  The loss adds cross-entropy,
``nn.TripletMarginLoss`` on anchor/positive/negative embeddings, ``nn.MarginRankingLoss``
between the true-class and the best wrong-class similarity, and a BCE against one-hot
targets built with ``scatter_`` (and checked against ``scatter_add_``/``index_add_``).  SGD
with ``CosineAnnealingWarmRestarts`` stepped with fractional epochs; the facts at the end
use ``unique``, ``bincount``, ``median`` and ``quantile`` on the predictions."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts


class EmbeddingNet(nn.Module):
    def __init__(self, num_classes=4, dim=8):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(12, dim),
        )
        self.prototypes = nn.Embedding(num_classes, dim)
        self.temperatures = nn.ParameterList(
            [nn.Parameter(torch.tensor(0.5)), nn.Parameter(torch.tensor(1.0))])
        self.encode1d = nn.Conv1d(2, 4, kernel_size=3, padding=1)
        self.pool1d = nn.MaxPool1d(2, return_indices=True)
        self.unpool1d = nn.MaxUnpool1d(2)
        self.decode1d = nn.ConvTranspose1d(4, 2, kernel_size=3, padding=1)
        self.upsample1d = nn.ConvTranspose1d(4, 4, kernel_size=2, stride=2)

    def embed(self, x):
        return F.normalize(self.trunk(x), dim=1)

    def logits(self, embeddings, head=0):
        classes = torch.arange(self.prototypes.num_embeddings)
        protos = self.prototypes(classes)  # (C, D)
        sims = F.cosine_similarity(embeddings.unsqueeze(1), protos.unsqueeze(0), dim=2)
        return sims / self.temperatures[head]

    def signal(self, s):
        h = F.relu(self.encode1d(s))
        pooled, indices = self.pool1d(h)
        unpooled = self.unpool1d(pooled, indices, output_size=h.size())
        return self.decode1d(unpooled + self.upsample1d(pooled)), indices


def load_numpy_weights(model, rng):
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.startswith("temperatures."):
            state[name] = value.clone()
        elif name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = torch.ones(shape)
        elif name.endswith("running_mean"):
            state[name] = torch.zeros(shape)
        elif len(shape) == 1:
            base = 1.0 if name.endswith("weight") and "trunk.1" in name else 0.0
            state[name] = torch.from_numpy((base + 0.05 * rng.standard_normal(shape))
                                           .astype(np.float32))
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = torch.from_numpy((rng.standard_normal(shape) / math.sqrt(fan_in))
                                           .astype(np.float32))
    model.load_state_dict(state)


def one_hot_by_scatter(labels, num_classes):
    return torch.zeros(labels.size(0), num_classes).scatter_(1, labels.unsqueeze(1), 1.0)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(5)
    num_classes = 4
    model = EmbeddingNet(num_classes)
    load_numpy_weights(model, rng)

    # each class its own colour cast, so the classes are separable
    label_array = rng.integers(0, num_classes, size=16)
    casts = 2.0 * rng.standard_normal((num_classes, 3, 1, 1))
    images = torch.from_numpy((rng.standard_normal((16, 3, 8, 8)) + casts[label_array])
                              .astype(np.float32))
    labels = torch.from_numpy(label_array)
    signals = torch.from_numpy(rng.standard_normal((16, 2, 12)).astype(np.float32))
    # anchor i, a positive of the same label, a negative of another label
    label_list = labels.tolist()
    positives = [next((j for j in range(16) if j != i and label_list[j] == label_list[i]), i)
                 for i in range(16)]
    negatives = [next(j for j in range(16) if label_list[j] != label_list[i])
                 for i in range(16)]
    positives, negatives = torch.tensor(positives), torch.tensor(negatives)

    targets = one_hot_by_scatter(labels, num_classes)
    by_add = torch.zeros(16, num_classes).scatter_add_(
        1, labels.unsqueeze(1), torch.ones(16, 1))
    by_index_add = torch.zeros(num_classes, 16).index_add_(
        1, torch.arange(16), targets.t())
    class_counts = torch.zeros(num_classes).index_add_(0, labels, torch.ones(16))
    one_hot_agrees = (torch.equal(targets, by_add) and torch.equal(by_index_add.t(), targets)
                      and torch.equal(targets, F.one_hot(labels, num_classes).float()))

    model.eval()
    with torch.no_grad():
        initial_preds = model.logits(model.embed(images)).argmax(dim=1)
    model.train()
    initial_classes, inverse = torch.unique(initial_preds, sorted=True, return_inverse=True)
    inverse_rebuilds = torch.equal(initial_classes[inverse], initial_preds)

    triplet = nn.TripletMarginLoss(margin=0.3, p=2)
    ranking = nn.MarginRankingLoss(margin=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2, eta_min=1e-3)
    losses, lrs, temperatures = [], [], []
    batches_per_epoch = 2
    for epoch in range(3):
        for i in range(batches_per_epoch):
            index = torch.arange(i * 8, i * 8 + 8)
            optimizer.zero_grad()
            all_embeddings = model.embed(images)
            emb = all_embeddings[index]
            logits = model.logits(emb, head=0)
            aux_logits = model.logits(emb, head=1)
            y = labels[index]
            true_sim = logits.gather(1, y.unsqueeze(1)).squeeze(1)
            wrong = logits.masked_fill(targets[index].bool(), float("-inf"))
            best_wrong = wrong.max(dim=1).values
            recon, _ = model.signal(signals[index])
            loss = (F.cross_entropy(logits, y)
                    + triplet(emb, all_embeddings[positives[index]],
                              all_embeddings[negatives[index]])
                    + ranking(true_sim, best_wrong, torch.ones_like(true_sim))
                    + 0.5 * F.binary_cross_entropy_with_logits(aux_logits, targets[index])
                    + 0.1 * F.mse_loss(recon, signals[index]))
            loss.backward()
            optimizer.step()
            scheduler.step(epoch + (i + 1) / batches_per_epoch)
            losses.append(loss.item())
            lrs.append(scheduler.get_last_lr()[0])
            temperatures.append([t.item() for t in model.temperatures])

    model.eval()
    with torch.no_grad():
        emb = model.embed(images)
        logits = model.logits(emb)
        preds = logits.argmax(dim=1)
        confidence = logits.softmax(dim=1).max(dim=1).values
        recon, pool_indices = model.signal(signals)
    classes_seen, counts = torch.unique(preds, return_counts=True)
    histogram = torch.bincount(preds, minlength=num_classes)
    med = confidence.median()
    quartiles = torch.quantile(confidence, torch.tensor([0.25, 0.5, 0.75]))
    return {
        "scatter_, scatter_add_, index_add_ and one_hot agree": one_hot_agrees,
        "unique counts match bincount": torch.equal(histogram[classes_seen], counts),
        "bincount covers every prediction": int(histogram.sum()) == preds.numel(),
        "median lies between the quartiles": bool(quartiles[0] <= med <= quartiles[2]),
        "the lower median is a confidence value": bool((confidence == med).any()),
        "the parameter list holds two temperatures": len(model.temperatures) == 2,
        "unique's inverse rebuilds the predictions": inverse_rebuilds,
        "class counts": class_counts,
        "initial predictions": initial_preds,
        "initial classes": initial_classes,
        "initial histogram": torch.bincount(initial_preds, minlength=num_classes),
        "label median and quantiles": (labels.median(), torch.quantile(
            labels.float(), 0.3, interpolation="nearest"), torch.quantile(labels.float(), 0.9)),
        "losses": losses,
        "lrs": lrs,
        "temperatures": temperatures,
        "eval logits": logits,
        "predictions": preds,
        "classes seen": classes_seen,
        "counts": counts,
        "histogram": histogram,
        "median": med,
        "quartiles": quartiles,
        "reconstruction": recon,
        "pool indices": pool_indices,
        "state": model.state_dict(),
    }


if __name__ == "__main__":
    print(main())
