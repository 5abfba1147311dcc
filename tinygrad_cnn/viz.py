"""Pictures of the recorded graph: ``to_dot`` (Graphviz DOT text) and ``draw`` (an image file).

The graph is the one ``backward`` walks: ``tensor.grad_fn`` and, through each node's
``edges``, the nodes that produced its inputs, down to the ``AccumulateGrad`` nodes of the
leaves that require grad. It is drawn in the direction data flows during the forward pass:
leaves at the top, one box per operation (its name, as PyTorch names backward nodes, e.g.
``MulBackward``, with the shape and dtype of each input and of its output), the output at
the bottom. Like ``torchviz.make_dot``, inputs that do not require grad are not part of the
graph, and an operation's box lists only the inputs that are in it.

``to_dot`` needs nothing but the library; ``draw`` renders the text with the ``graphviz``
Python package and Graphviz's ``dot`` program.
"""

from __future__ import annotations

import os

from .tensor import Tensor

__all__ = ["to_dot", "draw"]

_FORMATS = (".png", ".svg", ".pdf")


def _quote(text: str) -> str:
    """``text`` as a DOT string literal; lines become DOT's centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\n").replace("\n", "\\n") + '"'


def _describe(meta) -> str:
    """``"(2, 3) float32"`` for a (shape, dtype) pair."""
    shape, dtype = meta
    return f"{tuple(shape)} {dtype}"


def _leaf_label(tensor: Tensor, names: dict) -> str:
    name = names.get(id(tensor), "leaf")
    return f"{name}\n{_describe((tensor.shape, tensor.dtype))}"


def _op_label(node, output_meta) -> str:
    lines = [node.name()]
    # Arguments outside the graph (ints, axes, tensors needing no grad) carry no meta.
    inputs = [_describe(meta) for meta in node.input_meta if meta is not None]
    if inputs:
        lines.append("in: " + ", ".join(inputs))
    if output_meta is not None:
        lines.append("out: " + _describe(output_meta))
    return "\n".join(lines)


def to_dot(tensor: Tensor, params: dict | None = None) -> str:
    """The graph recorded behind ``tensor`` as Graphviz DOT text (as ``torchviz.make_dot``).

    ``params`` optionally names leaves: a mapping ``name -> Tensor``, for example
    ``dict(model.named_parameters())``; other leaves are labelled ``leaf``. A tensor with no
    graph (a leaf, or one computed under ``no_grad``) gives a graph of one node. The walk is
    iterative, so graphs of any depth work; each node appears once however many times it is
    used.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    names = {}
    for name, value in (params or {}).items():
        if not isinstance(value, Tensor):
            raise TypeError(f"to_dot: params[{name!r}] is a {type(value).__name__}, "
                            "not a Tensor")
        names[id(value)] = str(name)

    lines = [
        "digraph tinygrad_cnn {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor="#e8e8e8", fontname="Helvetica",'
        " fontsize=10];",
        '  edge [color="#555555"];',
    ]
    output_id = "output"
    output_label = f"output\n{_describe((tensor.shape, tensor.dtype))}"
    lines.append(f'  {output_id} [label={_quote(output_label)}, fillcolor="#c9e7c9"];')
    root = tensor.grad_fn
    if root is None:
        lines.append("}")
        return "\n".join(lines) + "\n"

    ids = {}  # id(node) -> DOT node id, in the order nodes are first met
    output_meta = {id(root): (tensor.shape, tensor.dtype)}
    arrows = []
    ids[id(root)] = "n0"
    stack = [root]
    declared = []
    while stack:
        node = stack.pop()
        node_id = ids[id(node)]
        declared.append((node_id, node))
        input_meta = node.input_meta
        for index, producer in enumerate(node.edges):
            if producer is None:
                continue
            if id(producer) not in ids:
                ids[id(producer)] = f"n{len(ids)}"
                stack.append(producer)
            if index < len(input_meta):
                output_meta.setdefault(id(producer), input_meta[index])
            arrows.append(f"  {ids[id(producer)]} -> {node_id};")

    declared.sort(key=lambda item: int(item[0][1:]))  # n0, n1, ...: first met, first listed
    for node_id, node in declared:
        variable = node.variable
        if isinstance(variable, Tensor):  # AccumulateGrad: draw the leaf it stands for
            label = _leaf_label(variable, names)
            fill = "#cfe0f7" if id(variable) in names else "#f7efc9"
            lines.append(f'  {node_id} [label={_quote(label)}, shape=ellipse, fillcolor="{fill}"];')
        else:
            label = _op_label(node, output_meta.get(id(node)))
            lines.append(f"  {node_id} [label={_quote(label)}];")
    lines.extend(arrows)
    lines.append(f"  n0 -> {output_id};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(tensor: Tensor, path, params: dict | None = None) -> None:
    """Render ``to_dot(tensor, params)`` to ``path``; the format comes from its suffix.

    ``.png``, ``.svg`` and ``.pdf`` need the ``graphviz`` Python package
    (``pip install graphviz``) and Graphviz's ``dot`` program (the system package
    ``graphviz``: ``apt install graphviz``, ``brew install graphviz``); ``.dot`` / ``.gv``
    write the DOT text itself and need neither.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"draw: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in _FORMATS + (".dot", ".gv"):
        raise ValueError(f"draw: cannot tell the format from {path!r}; use a path ending in "
                         ".png, .svg, .pdf, .dot or .gv")
    dot = to_dot(tensor, params)
    if suffix in (".dot", ".gv"):
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(dot)
        return
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "draw: rendering needs the graphviz Python package (pip install graphviz) and "
            "Graphviz's dot program (apt install graphviz); to_dot(tensor) gives the DOT "
            "text without them"
        ) from error
    try:
        image = graphviz.Source(dot).pipe(format=suffix[1:])
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(
            "draw: Graphviz's dot program was not found on PATH; install the system package "
            "graphviz (apt install graphviz, brew install graphviz)"
        ) from error
    with open(path, "wb") as stream:
        stream.write(image)
