"""Data loading speed: one epoch of a transform-heavy DataLoader, 0 and 2 workers, vs PyTorch.

    python benchmarks/bench_data.py [--images N] [--batch-size B] [--repeat R] [--quick]

The CIFAR-style pipeline every training script has: N synthetic 32x32x3 uint8 images,
``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize``,
batch 128, shuffled. Ours uses ``tinygrad_cnn.vision.transforms`` and
``tinygrad_cnn.utils.data.DataLoader``; PyTorch's side is ``torch.utils.data.DataLoader``
with the same per-item work written in torch ops (torchvision is not installed here):
pad, random crop window, random flip on the uint8 HWC tensor, then CHW float / 255 and
normalisation. Each epoch with workers includes starting them (``persistent_workers=False``,
both libraries' default). Figures: best epoch of R, interleaved ours/torch, with the BLAS
set-up and the load average (the machine is shared) printed beside them. A second table
times the same loaders over plain float32 arrays with no per-item work: the cost of moving
batches from the workers (ours: shared memory; PyTorch: its shared-memory tensors).
"""

import argparse
import os
import sys

import numpy as np
from _timing import interleaved_best_of, limit_threads, optional_torch

import tinygrad_cnn as tc
from tinygrad_cnn.utils.data import DataLoader, Dataset
from tinygrad_cnn.vision import transforms as T

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class Images(Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), int(self.labels[index])


def torch_dataset(torch, images, labels):
    """The same per-item pipeline in torch ops, as a torch Dataset."""
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)

    class TorchImages(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, index):
            image = torch.from_numpy(images[index])                      # (32, 32, 3) uint8
            padded = torch.nn.functional.pad(image.permute(2, 0, 1), (4, 4, 4, 4))
            top, left = torch.randint(0, 9, (2,)).tolist()
            crop = padded[:, top:top + 32, left:left + 32]
            if torch.rand(1).item() < 0.5:
                crop = crop.flip(-1)
            tensor = crop.float().div(255)
            return (tensor - mean) / std, int(labels[index])

    return TorchImages()


def torch_plain_dataset(torch, arrays, labels):
    class TorchArrays(torch.utils.data.Dataset):
        def __len__(self):
            return len(arrays)

        def __getitem__(self, index):
            return arrays[index], int(labels[index])

    return TorchArrays()


def environment() -> str:
    lines = [f"python {sys.version.split()[0]}, numpy {np.__version__}, "
             f"{os.cpu_count()} CPUs, load average (1, 5, 15 min) "
             + ", ".join(f"{x:.2f}" for x in os.getloadavg())]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        lines.append("threadpoolctl not installed: BLAS set-up unknown")
    else:
        for pool in threadpool_info():
            lines.append(f"  {pool['user_api']}: {pool['internal_api']} "
                         f"{pool.get('version', '?')}, {pool['num_threads']} threads "
                         f"({os.path.basename(pool['filepath'])})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2000 images, best of 1")
    args = parser.parse_args()
    if args.quick:
        args.images, args.repeat = 2000, 1
    limit_threads(1)
    torch = optional_torch(1)

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, args.images)
    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                           T.ToTensor(), T.Normalize(MEAN, STD)])
    ours_set = Images(images, labels, transform)
    theirs_set = torch_dataset(torch, images, labels) if torch is not None else None
    tc.manual_seed(0)

    print(environment())
    print(f"\none epoch: {args.images} images 32x32x3, RandomCrop(32, padding=4) + "
          f"RandomHorizontalFlip + ToTensor + Normalize, batch {args.batch_size}, shuffled; "
          f"best of {args.repeat}")
    print(f"{'workers':>8} {'ours s':>9} {'torch s':>9} {'ours/torch':>11} {'images/s ours':>14}")
    for workers in (0, 2):
        def ours(workers=workers):
            for _batch, _target in DataLoader(ours_set, batch_size=args.batch_size, shuffle=True,
                                            num_workers=workers):
                pass

        def theirs(workers=workers):
            for _batch, _target in torch.utils.data.DataLoader(
                    theirs_set, batch_size=args.batch_size, shuffle=True, num_workers=workers):
                pass

        if torch is None:
            ours_time, theirs_time = interleaved_best_of(args.repeat, ours, lambda: None)[0], None
        else:
            ours_time, theirs_time = interleaved_best_of(args.repeat, ours, theirs)
        ratio = f"{ours_time / theirs_time:11.2f}" if theirs_time else f"{'-':>11}"
        torch_text = f"{theirs_time:9.3f}" if theirs_time else f"{'-':>9}"
        print(f"{workers:>8} {ours_time:9.3f} {torch_text} {ratio} "
              f"{args.images / ours_time:14.0f}")

    # the cost of moving batches: float32 (3, 32, 32) samples with no per-item work
    floats = rng.random((args.images, 3, 32, 32), dtype=np.float32)
    ours_plain = Images(floats, labels, lambda x: x)
    theirs_plain = (torch_plain_dataset(torch, floats, labels) if torch is not None else None)
    print(f"\nmoving batches only: {args.images} float32 (3, 32, 32) samples, no transform, "
          f"batch {args.batch_size}; best of {args.repeat}")
    print(f"{'workers':>8} {'ours s':>9} {'torch s':>9} {'ours/torch':>11}")
    for workers in (0, 2):
        def ours(workers=workers):
            for _batch in DataLoader(ours_plain, batch_size=args.batch_size,
                                     num_workers=workers):
                pass

        def theirs(workers=workers):
            for _batch in torch.utils.data.DataLoader(theirs_plain, batch_size=args.batch_size,
                                                      num_workers=workers):
                pass

        if torch is None:
            print(f"{workers:>8} {interleaved_best_of(args.repeat, ours, lambda: None)[0]:9.3f}")
            continue
        ours_time, theirs_time = interleaved_best_of(args.repeat, ours, theirs)
        print(f"{workers:>8} {ours_time:9.3f} {theirs_time:9.3f} {ours_time / theirs_time:11.2f}")
    print("\nload average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
