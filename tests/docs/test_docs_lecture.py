"""docs/lecture.md cannot drift: run every ```python block of the page, in order, in one
namespace, and check that what each block prints is the ```text block shown right after it.

A python block with no text block after it must print nothing."""

import contextlib
import io
import pathlib
import re

import numpy as np
import pytest

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "lecture.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.M | re.S)


def fenced_blocks(text):
    """[(language, code, start, end)] of the page's fenced blocks, in order."""
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]


def python_blocks_with_output(text):
    """[(code, shown output or None, line number)] for every python block."""
    blocks = fenced_blocks(text)
    result = []
    for k, (language, code, start, end) in enumerate(blocks):
        if language != "python":
            continue
        shown = None
        if k + 1 < len(blocks):
            next_language, next_code, next_start, _ = blocks[k + 1]
            if next_language == "text" and not text[end:next_start].strip():
                shown = next_code
        result.append((code, shown, text.count("\n", 0, start) + 1))
    return result


def run_page(text):
    """Yield (line, code, printed, shown) for each python block, executed in order."""
    namespace = {"__name__": "lecture_page"}
    with np.printoptions():  # a block may set print options; restore them afterwards
        for code, shown, line in python_blocks_with_output(text):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"{PAGE.name}:{line}", "exec"), namespace)
            yield line, code, buffer.getvalue(), shown


def _normalise(output):
    return "\n".join(line.rstrip() for line in (output or "").strip("\n").splitlines())


def test_page_has_python_blocks_with_shown_output():
    blocks = python_blocks_with_output(PAGE.read_text())
    assert len(blocks) >= 15
    assert sum(shown is not None for _, shown, _ in blocks) >= 15


def test_every_python_block_prints_what_the_page_shows():
    mismatches = []
    for line, _, printed, shown in run_page(PAGE.read_text()):
        if _normalise(printed) != _normalise(shown):
            mismatches.append(f"block at line {line}:\n--- printed\n{printed}\n--- shown\n{shown}")
    if mismatches:
        pytest.fail("docs/lecture.md is out of date:\n" + "\n".join(mismatches))


def test_page_points_out_the_errata():
    text = PAGE.read_text()
    for fact in ("784", "2*2 + 5*2 + 3*2 + 6*2", "14", "15", "35"):
        assert fact in text
