"""docs/data.md is executable: its python blocks run in order as one script, and the output
each shows is what it prints.

A block may be marked ``<!-- needs: ... -->`` on the line before it. ``network`` blocks
download and are never run here; ``mnist files`` blocks read ``data/mnist``, which the test
provides from this project's shared copy of the MNIST test set (``<repo>/../shared/data/mnist``)
when it exists; ``scikit-learn`` is needed by ``digits()`` and by the blocks using its arrays.
Blocks run in a temporary folder, since some write files (``cut.idx``, ``ckpt.npz``).
"""

import contextlib
import importlib.util
import io
import os
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "data.md"
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
BLOCK = re.compile(r"(?:<!-- needs: ([\w ,-]+) -->\n)?```python\n(.*?)```"
                   r"(?:\s*```text\n(.*?)```)?", flags=re.S)


def blocks():
    """[(needs, code, shown)] for each python block: the set of its needs, its code padded
    with blank lines to its place in the file (so a traceback names the doc's line), and the
    text block right after it (the output it shows), or None."""
    text = DOC.read_text()
    found = []
    for match in BLOCK.finditer(text):
        needs = {need.strip() for need in (match.group(1) or "").split(",") if need.strip()}
        code = "\n" * text.count("\n", 0, match.start(2)) + match.group(2)
        found.append((needs, code, match.group(3)))
    return found


def available(need):
    if need == "network":
        return False  # tests never download
    if need == "mnist files":
        return (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists()
    if need == "scikit-learn":
        return importlib.util.find_spec("sklearn") is not None
    raise AssertionError(f"docs/data.md: unknown need {need!r}")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """{block index: what it printed} for every block whose needs are met, all run in one
    namespace in a temporary folder holding ``data/mnist`` (the shared copy) if it exists."""
    folder = tmp_path_factory.mktemp("docs_data")
    if SHARED_MNIST.exists():
        (folder / "data").mkdir()
        (folder / "data" / "mnist").symlink_to(SHARED_MNIST, target_is_directory=True)
    namespace, printed = {"__name__": "docs_data"}, {}
    before = os.getcwd()
    os.chdir(folder)
    try:
        for index, (needs, code, _) in enumerate(blocks()):
            if not all(available(need) for need in needs):
                continue
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(code, str(DOC), "exec"), namespace)
            printed[index] = output.getvalue()
    finally:
        os.chdir(before)
    return printed


def same_text(a, b):
    """Equal up to line wrapping and indentation (the page wraps long messages)."""
    return a.split() == b.split()


def test_every_block_whose_needs_are_met_runs(run):
    expected = [index for index, (needs, _, _) in enumerate(blocks())
                if all(available(need) for need in needs)]
    assert sorted(run) == expected and len(expected) >= 3


def test_each_shown_output_is_what_its_block_prints(run):
    for index, (_, _, shown) in enumerate(blocks()):
        if shown is not None and index in run:
            assert same_text(run[index], shown), f"block {index}: printed {run[index]!r}"


def test_blocks_that_download_are_marked_as_needing_the_network():
    for needs, code, _ in blocks():
        if "download=True" in code or "download_mnist(" in code:
            assert "network" in needs, code.strip()


def test_blocks_using_digits_or_mnist_are_marked():
    # An unmarked block would fail where its needs are unmet instead of being skipped.
    for needs, code, _ in blocks():
        if re.search(r"\bdigits\(\)|\bimages\b|\blabels\b", code):  # digits' arrays
            assert "scikit-learn" in needs, code.strip()
        if re.search(r"\bmnist\(", code):
            assert needs & {"network", "mnist files"}, code.strip()


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="no shared MNIST copy")
def test_the_mnist_block_ran_on_the_shared_test_set(run):
    index = next(i for i, (needs, _, _) in enumerate(blocks()) if needs == {"mnist files"})
    assert "(10000, 1, 28, 28) float32" in run[index]
