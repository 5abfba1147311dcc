"""Train a CNN here, move its weights into the same network in PyTorch, get the same answers.

    python examples/to_pytorch.py

State-dict keys are PyTorch's ("0.weight", "3.bias", ...) and the layouts are PyTorch's
(NCHW, Conv2d weights (C_out, C_in, kH, kW), Linear weights (out, in)), so moving a model is
array conversion alone: ``torch_model.load_state_dict({k: torch.from_numpy(v.numpy())
...})`` (the values are Tensors sharing the model's memory; ``load_state_dict`` copies), and
back with ``model.load_state_dict(torch_model.state_dict())``. Needs scikit-learn (digits);
PyTorch is optional: without it the script trains and says what the comparison needs.
"""

import argparse
import sys

import numpy as np
from train_cnn import digits_cnn, evaluate, train_one_epoch  # examples/train_cnn.py

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.data import DataLoader, TensorDataset, datasets


def torch_digits_cnn(torch):
    """The network of ``train_cnn.digits_cnn``, layer for layer, in PyTorch."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="train on this many images only")
    args = parser.parse_args(argv)

    images, labels = datasets.digits()
    images = (images - images.mean()) / images.std()
    train_images, train_labels = images[:1400], labels[:1400]
    test_images, test_labels = images[1400:], labels[1400:]
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]

    tc.manual_seed(0)
    model = digits_cnn()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=32,
                        shuffle=True, generator_seed=0)
    for epoch in range(1, args.epochs + 1):
        loss, accuracy = train_one_epoch(model, optimizer, loader, f"epoch {epoch}")
        print(f"epoch {epoch}: train loss {loss:.4f}, accuracy {accuracy:.4f}")
    _, accuracy, ours = evaluate(model, test_images, test_labels)  # leaves the model in eval
    print(f"tinygrad_cnn: test accuracy {accuracy:.4f} on {len(test_labels)} images")

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed, so there is nothing to compare with "
              "(pip install torch to see the same predictions there)")
        return 0

    torch_model = torch_digits_cnn(torch)
    state = {key: torch.from_numpy(value.numpy()) for key, value in model.state_dict().items()}
    torch_model.load_state_dict(state)  # strict: every key and shape must match
    torch_model.eval()
    with torch.no_grad():
        torch_logits = torch_model(torch.from_numpy(test_images)).numpy()
    with tc.no_grad():
        our_logits = model(tc.Tensor(test_images)).numpy()

    theirs = torch_logits.argmax(axis=1)
    difference = np.abs(torch_logits - our_logits).max()
    print(f"PyTorch {torch.__version__}: test accuracy {(theirs == test_labels).mean():.4f}")
    print(f"same predicted class for {(theirs == ours).sum()}/{len(ours)} images; "
          f"largest logit difference {difference:.2e}")

    # And back: PyTorch's state dict loads into a fresh model here by array conversion alone.
    fresh = digits_cnn()
    fresh.load_state_dict(torch_model.state_dict())
    fresh.eval()
    with tc.no_grad():
        back = fresh(tc.Tensor(test_images)).numpy()
    print(f"round trip back from PyTorch: largest logit difference "
          f"{np.abs(back - our_logits).max():.2e}")
    if not (theirs == ours).all() or difference > 1e-4:
        print("predictions differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
