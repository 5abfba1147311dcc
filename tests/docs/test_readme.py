"""The README's code blocks run as printed (so the first code a visitor copies works), and
its PyTorch script gives PyTorch's numbers with only the imports changed."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def python_block(section: str) -> str:
    """The one ``python`` code block of the README section titled ``section``."""
    text = README.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end if end >= 0 else None],
                        flags=re.S)
    assert len(blocks) == 1, f"section {section!r} has {len(blocks)} python blocks"
    return blocks[0]


def test_readme_has_two_python_blocks():
    assert len(re.findall(r"```python\n", README.read_text())) == 2


def test_readme_python_block_runs(capsys):
    pytest.importorskip("sklearn")
    exec(compile(python_block("A few lines"), str(README), "exec"), {"__name__": "readme"})
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


PYTORCH_SECTION = "Bring your PyTorch code"


def run_printing(source: str, capsys) -> list[tuple[float, float]]:
    """Run ``source``; its printed ``epoch i: loss L, accuracy A`` lines as ``(L, A)``."""
    exec(compile(source, str(README), "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    found = [re.fullmatch(r"epoch (\d+): loss ([\d.]+), accuracy ([\d.]+)", line)
             for line in printed]
    assert all(found), printed
    assert [int(match[1]) for match in found] == list(range(len(found)))
    return [(float(match[2]), float(match[3])) for match in found]


def test_readme_pytorch_script_changes_only_the_imports():
    source = python_block(PYTORCH_SECTION)
    mentions = [line for line in source.splitlines() if "tinygrad_cnn" in line]
    assert len(mentions) == 5
    assert all(line.startswith(("import tinygrad_cnn", "from tinygrad_cnn")) for line in mentions)
    assert "torch." in source and "tg." not in source


def test_readme_pytorch_script_gives_pytorchs_numbers(capsys):
    source = python_block(PYTORCH_SECTION)
    ours = run_printing(source, capsys)
    assert len(ours) == 4
    assert ours[-1][1] > 0.9 and ours[-1][0] < ours[0][0]  # it learns
    pytest.importorskip("torch")
    theirs = run_printing(source.replace("tinygrad_cnn", "torch"), capsys)
    assert len(theirs) == len(ours)
    for (our_loss, our_accuracy), (their_loss, their_accuracy) in zip(ours, theirs):
        # printed to 4 and 3 decimals; float32 rounding may move the last digit, or one of the
        # 256 predictions that sits on the boundary
        assert abs(our_loss - their_loss) <= 2e-4
        assert abs(our_accuracy - their_accuracy) <= 1 / 256 + 1e-3
