"""docs/api.md documents every public name, each in the section of its module."""

import ast
import importlib
import inspect
import os
import pathlib
import re

import numpy as np
import pytest

API_DOC = os.path.join(str(pathlib.Path(__file__).resolve().parents[2]),
                       "docs", "api.md")

MODULES = [
    "tinygrad_cnn", "tinygrad_cnn.autograd", "tinygrad_cnn.autograd.functional",
    "tinygrad_cnn.functional", "tinygrad_cnn.nn", "tinygrad_cnn.nn.init",
    "tinygrad_cnn.nn.utils",
    "tinygrad_cnn.optim", "tinygrad_cnn.optim.lr_scheduler", "tinygrad_cnn.data",
    "tinygrad_cnn.data.datasets", "tinygrad_cnn.vision", "tinygrad_cnn.vision.datasets",
    "tinygrad_cnn.vision.transforms", "tinygrad_cnn.backends", "tinygrad_cnn.gradcheck",
    "tinygrad_cnn.testing", "tinygrad_cnn.viz", "tinygrad_cnn.io_safetensors",
    "tinygrad_cnn.onnx",
]


def public_names(module):
    """``__all__``, or for a module without one the functions and classes defined in it."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module.__name__]


def sections():
    """``{module name: text of its section}`` from the ``## `module` `` headings."""
    with open(API_DOC, encoding="utf-8") as stream:
        text = stream.read()
    found = {}
    for match in re.finditer(r"^## `([\w.]+)`\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        found[match.group(1)] = match.group(2)
    return found


def mentions(text, name):
    """``name`` written as code: `` `name` ``, `` `name(...` ``, `` `module.name` `` etc."""
    return re.search(r"`(?:[\w.]+\.)?" + re.escape(name) + r"(?:[`(\[]|\.\w)", text)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_documented_in_its_modules_section(module_name):
    module = importlib.import_module(module_name)
    section = sections().get(module_name)
    assert section is not None, f"docs/api.md has no '## `{module_name}`' section"
    missing = [name for name in public_names(module) if not mentions(section, name)]
    assert not missing, f"docs/api.md, section {module_name}, lacks {missing}"


def test_every_exported_tensor_method_is_documented():
    import tinygrad_cnn as tc

    text = sections()["tinygrad_cnn"]
    methods = [name for name in vars(tc.Tensor) if not name.startswith("_")]
    missing = [name for name in methods if f".{name}" not in text]
    assert not missing, f"docs/api.md lacks Tensor.{missing}"


# ----------------------------------------------------------------------------- signatures
# A signature written in the page, `name(param, param=default, ...)`, must be the real one:
# the same parameters, in the same order, of the same kinds, with the same defaults.
# Methods written without their class resolve against the class the section describes.
METHOD_OWNERS = {"tinygrad_cnn.nn": ("tinygrad_cnn.nn", "Module"),
                 "tinygrad_cnn.optim": ("tinygrad_cnn.optim", "Optimizer"),
                 "tinygrad_cnn.optim.lr_scheduler": ("tinygrad_cnn.optim.lr_scheduler",
                                                     "LRScheduler")}
_MISSING = object()


def resolve(module, dotted):
    """The object ``module.a.b`` for ``dotted = "a.b"``, or None."""
    value = module
    for part in dotted.split("."):
        value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return None
    return value


def written_parameters(text, namespace):
    """[(name, kind, default)] of a parameter list as written, or None when the text is no
    parameter list (a call such as ``zeros(2, 3)``, or an expression)."""
    try:
        arguments = ast.parse(f"def f({text}): pass").body[0].args
    except SyntaxError:
        return None
    positional = arguments.posonlyargs + arguments.args
    defaults = [None] * (len(positional) - len(arguments.defaults)) + arguments.defaults
    found = [(a.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, d)
             for a, d in zip(positional, defaults)]
    if arguments.vararg:
        found.append((arguments.vararg.arg, inspect.Parameter.VAR_POSITIONAL, None))
    found += [(a.arg, inspect.Parameter.KEYWORD_ONLY, d)
              for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    if arguments.kwarg:
        found.append((arguments.kwarg.arg, inspect.Parameter.VAR_KEYWORD, None))
    return [(name, kind, inspect.Parameter.empty if default is None
             else eval(compile(ast.Expression(default), "api.md", "eval"), namespace))
            for name, kind, default in found]


def written_signatures():
    """(section, text as written, object, written parameters) for every span of the page
    that is a parameter list after a name the section's module (or, for ``.name``, Tensor;
    for a bare method name, the section's base class) defines."""
    import tinygrad_cnn as tc

    found = []
    for module_name, text in sections().items():
        module = importlib.import_module(module_name)
        owner = METHOD_OWNERS.get(module_name)
        owner = getattr(importlib.import_module(owner[0]), owner[1]) if owner else None
        namespace = {"np": np, **vars(module)}
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks are examples
        for span in re.findall(r"`([^`]+)`", text):
            match = re.fullmatch(r"(\.?)([\w.]+)\((.*)\)", span, flags=re.S)
            if not match:
                continue
            dot, name, parameters = match.groups()
            if dot:
                target = resolve(tc.Tensor, name)
            else:
                target = resolve(module, name)
                if target is None and owner is not None:
                    target = resolve(owner, name)
            written = written_parameters(parameters, namespace)
            if target is not None and callable(target) and written is not None:
                found.append((module_name, span, target, written, bool(dot)))
    return found


def real_parameters(target, method=False):
    parameters = list(inspect.signature(target).parameters.values())
    # A method looked up on its class; Tensor's methods that are also tinygrad_cnn.<name>
    # functions call their first parameter ``input``, and drop it written as ``.name(...)``.
    if parameters and (parameters[0].name == "self" or method):
        parameters = parameters[1:]
    return [(p.name, p.kind, p.default) for p in parameters]


def same_default(written, real):
    try:
        return type(written) is type(real) and bool(written == real)
    except (TypeError, ValueError):  # e.g. arrays, which compare elementwise
        return written is real


def test_every_written_signature_is_the_real_one():
    wrong = []
    for module_name, span, target, written, method in written_signatures():
        real = real_parameters(target, method)
        if len(real) != len(written) or any(
                (w[0], w[1]) != (r[0], r[1]) or not same_default(w[2], r[2])
                for w, r in zip(written, real)):
            wrong.append(f"{module_name}: `{span}` is really {inspect.signature(target)}")
    assert not wrong, "docs/api.md:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_function_and_class_has_its_signature_written_out(module_name):
    # Exceptions are raised by the library, not called; a class taking no arguments needs
    # no written signature.
    module = importlib.import_module(module_name)
    checked = {id(target) for _, _, target, _, _ in written_signatures()}
    missing = []
    for name in public_names(module):
        value = getattr(module, name)
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if inspect.isclass(value) and issubclass(value, (BaseException, Warning)):
            continue
        if inspect.isclass(value) and not value.__module__.startswith("tinygrad_cnn"):
            continue  # numpy's own classes re-exported (dtype): numpy documents them
        if real_parameters(value) and id(value) not in checked:
            missing.append(name)
    assert not missing, f"docs/api.md, section {module_name}: no signature written for {missing}"
