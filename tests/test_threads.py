"""set_num_threads / get_num_threads (PyTorch's names): the BLAS really runs on that many
threads, results do not depend on it, bad counts raise as PyTorch's; blas_threads pins and
restores."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import functional as F
from tinygrad_cnn.backends import conv_algorithm
from tinygrad_cnn.ops.threads import _openblas, blas_threads


@pytest.fixture
def restore_threads():
    before = tg.get_num_threads()
    yield
    tg.set_num_threads(before)


def _blas_counts():
    return [getter() for _, getter in _openblas(refresh=True) if getter is not None]


def test_set_num_threads_sets_the_blas_and_get_reads_it_back(restore_threads):
    for count in (1, 2):
        tg.set_num_threads(count)
        assert tg.get_num_threads() == count
        counts = _blas_counts()
        assert counts and all(c == count for c in counts)


@pytest.mark.parametrize("bad, error", [(0, RuntimeError), (-2, RuntimeError),
                                        (1.5, TypeError), (True, TypeError)])
def test_bad_thread_counts_raise_naming_the_function(bad, error):
    with pytest.raises(error, match="set_num_threads: num_threads must be"):
        tg.set_num_threads(bad)


def test_blas_threads_pins_inside_the_block_and_restores(restore_threads):
    tg.set_num_threads(2)
    with blas_threads(1):
        assert all(c == 1 for c in _blas_counts())
    assert all(c == 2 for c in _blas_counts())


@pytest.mark.parametrize("algorithm", ["im2col", "winograd", "fft"])
def test_results_do_not_depend_on_the_thread_count(algorithm, restore_threads):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8, 12, 12)), rng.standard_normal((8, 8, 3, 3))
    results = []
    for count in (1, 2):
        tg.set_num_threads(count)
        with conv_algorithm(algorithm):
            xt = tg.Tensor(x, requires_grad=True)
            out = F.conv2d(xt, tg.Tensor(w), padding=1)
            out.sum().backward()
        results.append((out._data, getattr(xt.grad, "_data", xt.grad)))
    for one, two in zip(*results, strict=True):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-12)


def test_torch_names_are_exported():
    assert {"set_num_threads", "get_num_threads"} <= set(tg.__all__)


def test_map_chunks_keeps_the_order_uses_the_threads_and_raises(restore_threads):
    import threading

    from tinygrad_cnn.ops.threads import map_chunks
    tg.set_num_threads(2)
    seen = set()

    def square(value):
        seen.add(threading.current_thread().name)
        x = np.full((200, 200), float(value))
        return float((x @ x)[0, 0])  # a BLAS call, GIL released

    assert map_chunks(square, range(40)) == [200.0 * v * v for v in range(40)]
    assert len(seen) <= 2
    tg.set_num_threads(1)
    assert map_chunks(square, [3]) == [1800.0]

    def fail(value):
        raise ValueError(f"chunk {value}")

    tg.set_num_threads(2)
    with pytest.raises(ValueError, match="chunk"):
        map_chunks(fail, range(4))
