"""docs/elsewhere.md is executable: its code blocks run in order and print what it shows."""

import contextlib
import io
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "elsewhere.md"

pytest.importorskip("safetensors")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("torch")  # one block loads the weights into PyTorch


def blocks(kind: str) -> list:
    """The ``kind`` code blocks, each padded with blank lines to its place in the file, so a
    traceback points at the right line of the doc."""
    text = DOC.read_text()
    return ["\n" * text.count("\n", 0, match.start(1)) + match.group(1)
            for match in re.finditer(rf"```{kind}\n(.*?)```", text, flags=re.S)]


@pytest.fixture(scope="module")
def printed():
    namespace, outputs = {"__name__": "docs_elsewhere"}, []
    for code in blocks("python"):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, str(DOC), "exec"), namespace)
        if output.getvalue():
            outputs.append(output.getvalue().strip())
    return outputs


def test_every_output_shown_is_what_the_blocks_print(printed):
    assert printed == [text.strip() for text in blocks("text")]


def test_the_page_is_linked_from_the_index():
    index = (DOC.parent / "index.md").read_text()
    assert "(elsewhere.md)" in index
