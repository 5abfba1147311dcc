"""A long training loop keeps flat memory: each step's graph is freed by backward()."""

import gc
import tracemalloc

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn import nn, optim


@pytest.fixture
def training_step():
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(36, 3),
    )
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.standard_normal((8, 1, 6, 6)).astype(np.float32))
    y = rng.integers(0, 3, size=8)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(50):  # warm up: optimizer state, caches
        step()
    return step


def test_a_thousand_training_steps_keep_the_object_count_flat(training_step):
    for _ in range(100):
        training_step()
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(900):
        training_step()
    gc.collect()
    # A leaked graph per step would add thousands of objects (nodes, tensors, tuples).
    assert len(gc.get_objects()) - before < 100


def test_training_steps_keep_allocated_memory_flat(training_step):
    # tracemalloc sees numpy's buffers too; it slows steps down, so watch 200 of them.
    tracemalloc.start()
    try:
        for _ in range(50):
            training_step()
        gc.collect()
        early, _ = tracemalloc.get_traced_memory()
        for _ in range(150):
            training_step()
        gc.collect()
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One step's graph holds tens of KB; 150 leaked graphs would be megabytes.
    assert late - early < 64 * 1024
