"""docs/tutorial.md is executable: its code blocks run in order and print what it says."""

import contextlib
import io
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"

pytest.importorskip("sklearn", reason="the tutorial's data part uses scikit-learn's digits")


@pytest.fixture(scope="module")
def printed():
    """What each python block printed, running all of them in one namespace."""
    text = DOC.read_text()
    namespace, outputs = {"__name__": "docs_tutorial"}, []
    for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        code = "\n" * text.count("\n", 0, match.start(1)) + match.group(1)  # doc line numbers
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, str(DOC), "exec"), namespace)
        outputs.append(output.getvalue())
    return outputs


def test_tensor_block_prints_the_shown_shapes_and_dtypes(printed):
    assert printed[0].splitlines()[0] == "(2, 2) float32"
    assert "float64 [3.0, 12.0]" in printed[0]


def test_gradient_blocks_print_the_shown_derivatives(printed):
    assert printed[1].splitlines() == ["tensor([ 2., -4.,  6.])", "SumBackward0"]
    assert printed[2].strip() == "12.0 12.0"


def test_model_block_prints_pytorch_state_dict_keys(printed):
    assert "['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', " \
           "'fc.bias']" in printed[4]


def test_training_loop_learns(printed):
    last = printed[6].strip().splitlines()[-1]
    assert float(last.rsplit(" ", 1)[1]) > 0.9, last


def test_checkpoint_round_trip_gives_the_same_predictions(printed):
    assert printed[7].strip() == "5 True"
