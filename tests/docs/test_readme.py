"""The README's code block runs as printed (so the first code a visitor copies works)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_block_runs(capsys):
    pytest.importorskip("sklearn")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], str(README), "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 5
    final_loss = float(printed[-1].rsplit(" ", 1)[1])
    assert final_loss < 0.5


def test_readme_gives_exactly_two_setup_commands():
    text = README.read_text()
    section = text[text.index("## Set up on a fresh machine"):text.index("## A few lines")]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert [c.strip().splitlines()[0].endswith("python examples/train_cnn.py") for c in commands] \
        == [True, False]
    assert commands[1].strip().endswith("python -m pytest -q")
