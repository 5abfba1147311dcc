"""docs/models.md is executable: its code blocks run in order, and its shown output is real."""

import contextlib
import io
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "models.md"


def blocks(kind: str) -> list:
    """The ``kind`` code blocks, each padded with blank lines to its place in the file, so a
    traceback points at the right line of the doc."""
    text = DOC.read_text()
    return ["\n" * text.count("\n", 0, match.start(1)) + match.group(1)
            for match in re.finditer(rf"```{kind}\n(.*?)```", text, flags=re.S)]


@pytest.fixture(scope="module")
def run():
    """Run every python block (those needing torch only when it is installed)."""
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    namespace, printed = {"__name__": "docs_models"}, []
    for code in blocks("python"):
        if "torch" in code.replace("tinygrad_cnn", "") and not has_torch:
            continue
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, str(DOC), "exec"), namespace)
        printed.append(output.getvalue())
    return namespace, printed


def test_the_code_blocks_run(run):
    namespace, _ = run
    assert namespace["accuracy"] > 0.8


def test_the_model_repr_shown_is_what_print_gives(run):
    _, printed = run
    assert printed[0].strip() == blocks("text")[0].strip()


def test_the_load_error_shown_is_what_is_raised(run):
    _, printed = run
    shown = [text for text in blocks("text") if text.strip().startswith("load_state_dict")]
    assert any(output.strip() == shown[0].strip() for output in printed)


def test_the_schedule_shown_is_what_runs(run):
    _, printed = run
    shown = [text for text in blocks("text") if text.strip().startswith("[0.05")]
    assert shown and any(output.strip() == shown[0].strip() for output in printed)
