"""docs/api.md documents every public name, each in the section of its module."""

import importlib
import inspect
import os
import re

import pytest

API_DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "docs", "api.md")

MODULES = [
    "tinygrad_cnn", "tinygrad_cnn.functional", "tinygrad_cnn.nn", "tinygrad_cnn.nn.init",
    "tinygrad_cnn.optim", "tinygrad_cnn.optim.lr_scheduler", "tinygrad_cnn.data",
    "tinygrad_cnn.data.datasets", "tinygrad_cnn.backends", "tinygrad_cnn.gradcheck",
    "tinygrad_cnn.testing", "tinygrad_cnn.viz",
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
