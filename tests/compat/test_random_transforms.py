"""Random transforms in a DataLoader, under tinygrad_cnn alone, in PyTorch's spelling.

``RandomCrop(padding=4)`` and ``RandomHorizontalFlip`` draw from each library's own generator,
so their draws cannot be compared with PyTorch's (tests/compat/scripts/data_pipeline.py
compares the deterministic transforms).  What PyTorch promises, and these tests check:
``manual_seed`` repeats an epoch exactly, with 0 workers and with 2; the sample order does not
depend on ``num_workers`` (the shuffle is drawn in the main process); each worker draws its own
augmentations; and every image is one of the crops and flips of its source."""

import numpy as np
import pytest

import tinygrad_cnn as torch
from tinygrad_cnn.utils.data import DataLoader, Dataset
from tinygrad_cnn.vision import transforms

SIZE, PAD, COUNT = 8, 4, 16


class Indexed(Dataset):
    """uint8 ``(H, W, C)`` images; the target is the index, to find the source again."""

    def __init__(self, images, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), index


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(1, 256, (COUNT, SIZE, SIZE, 3), dtype=np.uint8)


def augmented(images):
    return Indexed(images, transforms.Compose([
        transforms.RandomCrop(SIZE, padding=PAD),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
    ]))


def epoch(loader):
    """One pass: (images (N, C, H, W), targets (N,)) as numpy arrays."""
    xs, ys = [], []
    for x, y in loader:
        xs.append(x.numpy().copy())
        ys.append(y.numpy().copy())
    return np.concatenate(xs), np.concatenate(ys)


def placement(image, source):
    """``(top, left, flipped)`` of the padded crop of ``source`` (HWC uint8) that ``image``
    (CHW float) is, or ``None``."""
    padded = np.pad(source, ((PAD, PAD), (PAD, PAD), (0, 0))).transpose(2, 0, 1)
    expected = padded.astype(np.float32) / np.float32(255)
    for top in range(2 * PAD + 1):
        for left in range(2 * PAD + 1):
            window = expected[:, top:top + SIZE, left:left + SIZE]
            for flipped, candidate in ((False, window), (True, window[:, :, ::-1])):
                if np.array_equal(candidate, image):
                    return top, left, flipped
    return None


@pytest.mark.parametrize("num_workers", [0, 2])
def test_manual_seed_repeats_an_augmented_epoch(images, num_workers):
    loader = DataLoader(augmented(images), batch_size=4, shuffle=True, num_workers=num_workers)
    torch.manual_seed(0)
    first_x, first_y = epoch(loader)
    second_x, second_y = epoch(loader)
    torch.manual_seed(0)
    again_x, again_y = epoch(loader)
    np.testing.assert_array_equal(again_x, first_x)
    np.testing.assert_array_equal(again_y, first_y)
    # without reseeding, the next epoch is shuffled and augmented anew
    assert not np.array_equal(second_y, first_y)
    assert not np.array_equal(second_x[np.argsort(second_y)], first_x[np.argsort(first_y)])


def test_two_workers_keep_the_order_and_make_valid_augmentations(images):
    orders, placements = [], []
    for num_workers in (0, 2):
        torch.manual_seed(1)
        loader = DataLoader(augmented(images), batch_size=4, shuffle=True,
                            num_workers=num_workers)
        x, y = epoch(loader)
        assert x.shape == (COUNT, 3, SIZE, SIZE) and x.dtype == np.float32
        orders.append(y)
        found = [placement(image, images[index]) for image, index in zip(x, y)]
        assert None not in found, "an image is not a padded crop (or its mirror) of its source"
        placements.append(found)
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0]) == list(range(COUNT))
    # the crops are drawn, not fixed: more than one position and both orientations occur
    for found in placements:
        assert len({(top, left) for top, left, _ in found}) > 1
        assert {flipped for _, _, flipped in found} == {False, True}


def test_two_workers_draw_apart(images):
    """Worker i is seeded from the epoch's base seed plus i (PyTorch's rule): the two workers'
    batches are not copies of each other's draws."""
    same = Indexed(np.repeat(images[:1], 8, axis=0), augmented(images).transform)
    torch.manual_seed(2)
    x, _ = epoch(DataLoader(same, batch_size=4, num_workers=2))
    # batch 0 comes from worker 0 and batch 1 from worker 1, both from the same image
    assert not np.array_equal(x[:4], x[4:])


def test_random_draws_cover_the_range(images):
    torch.manual_seed(3)
    crop, flip = transforms.RandomCrop(SIZE, padding=PAD), transforms.RandomHorizontalFlip()
    source = images[0]
    offsets, flips = set(), 0
    for _ in range(1000):  # 81 offsets: each missed with probability (80/81)**1000 < 5e-6
        window = crop(source)
        found = placement(transforms.ToTensor()(window).numpy(), source)
        offsets.add(found[:2])
        flips += not np.array_equal(flip(source), source)
    assert offsets == {(top, left) for top in range(2 * PAD + 1)
                       for left in range(2 * PAD + 1)}
    assert 430 < flips < 570  # p = 0.5: 500 +- 70 is beyond 4.4 standard deviations
