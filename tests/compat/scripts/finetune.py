"""In the style of the transfer-learning tutorial: a "pretrained" backbone whose parameters
are frozen with ``param.requires_grad = False``, its head replaced by a new ``nn.Linear``;
only the head's parameters go to the optimizer; ``train_model`` runs train and val phases
with ``torch.set_grad_enabled(phase == "train")``, ``_, preds = torch.max(outputs, 1)``,
``running_corrects += torch.sum(preds == labels.data)``, ``.double()`` accuracy,
``lr_scheduler.StepLR``, and keeps the best weights with ``copy.deepcopy(model.state_dict())``
to load them back at the end."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


def train_model(model, dataloaders, dataset_sizes, criterion, optimizer, scheduler,
                num_epochs=3):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    history = []
    for _epoch in range(num_epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            history.append((phase, epoch_loss, epoch_acc.item()))
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return model, history, best_acc.item()


def main():
    rng = np.random.default_rng(9)
    model_ft = Backbone()
    # stands in for pretrained weights
    model_ft.load_state_dict({
        name: torch.tensor((rng.standard_normal(tuple(v.shape)) * 0.3
                            + name.endswith(("running_var", "1.weight", "5.weight")))
                           .astype(np.float32))
        for name, v in model_ft.state_dict().items() if not name.endswith("batches_tracked")},
        strict=False)
    for param in model_ft.parameters():
        param.requires_grad = False
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 3)
    model_ft.fc.load_state_dict({
        "weight": torch.tensor((rng.standard_normal((3, num_ftrs)) * 0.3).astype(np.float32)),
        "bias": torch.zeros(3)})
    trainable = [name for name, p in model_ft.named_parameters() if p.requires_grad]

    images = rng.standard_normal((40, 3, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 40)
    images[np.arange(40), labels] += 1.0  # the class is the brighter channel
    datasets = {"train": TensorDataset(torch.from_numpy(images[:28]),
                                       torch.from_numpy(labels[:28])),
                "val": TensorDataset(torch.from_numpy(images[28:]),
                                     torch.from_numpy(labels[28:]))}
    dataloaders = {x: DataLoader(datasets[x], batch_size=7) for x in ["train", "val"]}
    dataset_sizes = {x: len(datasets[x]) for x in ["train", "val"]}

    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(filter(lambda p: p.requires_grad, model_ft.parameters()),
                             lr=0.1, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=2, gamma=0.1)
    frozen_before = model_ft.features[0].weight.detach().clone()
    model_ft, history, best_acc = train_model(model_ft, dataloaders, dataset_sizes, criterion,
                                              optimizer_ft, exp_lr_scheduler)
    return {
        "trainable": trainable,
        "frozen layers stay put": torch.equal(model_ft.features[0].weight, frozen_before),
        "frozen layers have no grad": model_ft.features[0].weight.grad is None,
        "history": history,
        "best accuracy": best_acc,
        "state": model_ft.state_dict(),
    }


if __name__ == "__main__":
    print(main())
