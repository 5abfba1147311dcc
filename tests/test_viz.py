"""tinygrad_cnn.viz: the recorded graph as DOT text, and rendered to a file."""

import re
import shutil
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import viz


def nodes_and_arrows(dot):
    """{node id: label} and the list of (source, target) arrows of ``to_dot``'s output."""
    labels = {}
    for node_id, label in re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M):
        labels[node_id] = label
    arrows = re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M)
    return labels, arrows


def small_graph():
    x = tc.Tensor(np.ones((2, 3)), requires_grad=True)
    w = tc.Tensor(np.ones((3, 4)), requires_grad=True)
    return x, w, ((x @ w) * 2.0).sum()


def test_to_dot_is_a_digraph_with_one_node_per_graph_node_and_the_output():
    x, w, y = small_graph()
    dot = viz.to_dot(y)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    labels, _ = nodes_and_arrows(dot)
    names = sorted(label.split("\\n")[0] for label in labels.values())
    assert names == ["MatMulBackward0", "MulBackward0", "SumBackward0", "leaf", "leaf", "output"]


def test_to_dot_arrows_follow_the_data_flow_from_leaves_to_output():
    _, _, y = small_graph()
    labels, arrows = nodes_and_arrows(viz.to_dot(y))
    named = {(labels[a].split("\\n")[0], labels[b].split("\\n")[0]) for a, b in arrows}
    assert named == {("leaf", "MatMulBackward0"), ("MatMulBackward0", "MulBackward0"),
                     ("MulBackward0", "SumBackward0"), ("SumBackward0", "output")}


def test_to_dot_labels_ops_with_input_and_output_shapes_and_dtypes():
    _, _, y = small_graph()
    labels, _ = nodes_and_arrows(viz.to_dot(y))
    matmul = next(label for label in labels.values() if label.startswith("MatMulBackward0"))
    assert "in: (2, 3) float64, (3, 4) float64" in matmul
    assert "out: (2, 4) float64" in matmul


def test_to_dot_names_leaves_given_in_params():
    x, w, y = small_graph()
    labels, _ = nodes_and_arrows(viz.to_dot(y, params={"weight": w}))
    leaves = sorted(label for label in labels.values() if label.endswith("float64")
                    and "Backward" not in label and not label.startswith("output"))
    assert leaves == ["leaf\\n(2, 3) float64", "weight\\n(3, 4) float64"]


def test_to_dot_lists_a_leaf_used_twice_once():
    x = tc.Tensor(np.ones(3), requires_grad=True)
    labels, arrows = nodes_and_arrows(viz.to_dot((x * x).sum()))
    assert sum(label.startswith("leaf") for label in labels.values()) == 1
    assert len(arrows) == 4  # leaf->mul twice, mul->sum, sum->output


def test_to_dot_escapes_quotes_backslashes_and_newlines_in_names():
    x = tc.Tensor(np.ones(2), requires_grad=True)
    dot = viz.to_dot(x.sum(), params={'a "b"\\c\nd': x})
    assert r'label="a \"b\"\\c\nd\n(2,) float64"' in dot


def test_to_dot_of_a_tensor_without_graph_is_the_tensor_alone():
    labels, arrows = nodes_and_arrows(viz.to_dot(tc.zeros(2, 2)))
    assert list(labels.values()) == ["output\\n(2, 2) float32"] and arrows == []


def test_to_dot_walks_a_deep_graph_without_recursion():
    x = tc.Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    labels, arrows = nodes_and_arrows(viz.to_dot(y))
    assert len(labels) == 3 * sys.getrecursionlimit() + 2  # ops, the leaf, the output


def test_to_dot_rejects_a_non_tensor():
    with pytest.raises(TypeError, match="to_dot: expected a Tensor"):
        viz.to_dot(np.ones(2))


def test_draw_writes_dot_text_without_any_dependency(tmp_path):
    _, _, y = small_graph()
    viz.draw(y, tmp_path / "graph.dot")
    assert (tmp_path / "graph.dot").read_text() == viz.to_dot(y)


def test_draw_rejects_an_unknown_suffix(tmp_path):
    _, _, y = small_graph()
    with pytest.raises(ValueError, match=r"draw: cannot tell the format.*\.png"):
        viz.draw(y, tmp_path / "graph.jpeg")


def test_draw_without_graphviz_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    _, _, y = small_graph()
    with pytest.raises(ImportError, match="pip install graphviz") as error:
        viz.draw(y, tmp_path / "graph.png")
    assert "dot" in str(error.value)


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<")])
def test_draw_renders_an_image_when_graphviz_is_installed(tmp_path, suffix, magic):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    _, _, y = small_graph()
    viz.draw(y, tmp_path / f"graph{suffix}")
    assert (tmp_path / f"graph{suffix}").read_bytes().lstrip()[:len(magic)] == magic


def test_draw_without_the_dot_program_says_so(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    _, _, y = small_graph()
    with pytest.raises(RuntimeError, match="dot program was not found"):
        viz.draw(y, tmp_path / "graph.png")
