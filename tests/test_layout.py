"""The package's floors (docs/contributing.md): data flows one way, ``nn.functional`` ->
``ops`` -> ``autograd`` -> ``tensor``, with ``_checks`` at the bottom; each op has one entry
point, and ``tinygrad_cnn.functional`` is the same namespace as ``tinygrad_cnn.nn.functional``."""

import ast
import importlib
import inspect
import pathlib

import tinygrad_cnn
import tinygrad_cnn.functional
import tinygrad_cnn.nn.functional

PACKAGE = pathlib.Path(tinygrad_cnn.__file__).parent


def imported_modules(path: pathlib.Path) -> set:
    """Absolute names of the tinygrad_cnn modules ``path`` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                names = [target] if node.module else [f"{base}.{a.name}" for a in node.names]
                found.update(names)
            elif node.module and node.module.startswith("tinygrad_cnn"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tinygrad_cnn"))
    return found


def test_ops_imports_only_ops_autograd_and_tensor():
    allowed = ("tinygrad_cnn.ops", "tinygrad_cnn.autograd", "tinygrad_cnn.tensor")
    upward = {f"{path.name} imports {name}"
              for path in (PACKAGE / "ops").glob("*.py")
              for name in imported_modules(path) if not name.startswith(allowed)}
    assert not upward, sorted(upward)


def test_checks_module_sits_at_the_bottom():
    assert imported_modules(PACKAGE / "_checks.py") == {"tinygrad_cnn.tensor"}


def test_nn_functional_imports_nothing_from_the_layers():
    found = {f"{path.name} imports {name}"
             for path in (PACKAGE / "nn" / "functional").glob("*.py")
             for name in imported_modules(path)
             if name.startswith("tinygrad_cnn.nn") and
             not name.startswith("tinygrad_cnn.nn.functional")}
    assert not found, sorted(found)


def test_backends_is_only_the_users_switch_with_an_explicit_all():
    from tinygrad_cnn import backends

    assert "conv_algorithm" in backends.__all__
    assert imported_modules(PACKAGE / "backends.py") == {"tinygrad_cnn.ops.conv_select",
                                                         "tinygrad_cnn.ops.precision",
                                                         "tinygrad_cnn.devices"}
    assert {"cudnn", "mps", "mkldnn"} <= set(backends.__all__)  # PyTorch's flags


def test_both_import_paths_give_the_same_functions():
    old, new = tinygrad_cnn.functional, tinygrad_cnn.nn.functional
    assert old.__all__ == new.__all__
    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name), name


def test_every_entry_point_lives_in_a_family_module_of_nn_functional():
    for name in tinygrad_cnn.nn.functional.__all__:
        function = getattr(tinygrad_cnn.nn.functional, name)
        assert function.__module__.startswith("tinygrad_cnn.nn.functional."), name


def test_ops_modules_define_no_entry_points():
    # ops/ holds Functions, numpy kernels and their value types; a function there named like
    # an F entry point would be a second place the op is checked and applied.
    entry_points = set(tinygrad_cnn.nn.functional.__all__)
    for path in (PACKAGE / "ops").glob("*.py"):
        module = importlib.import_module(f"tinygrad_cnn.ops.{path.stem}")
        defined = {name for name, value in vars(module).items()
                   if inspect.isfunction(value) and value.__module__ == module.__name__}
        assert not defined & entry_points, f"ops/{path.name}: {defined & entry_points}"
