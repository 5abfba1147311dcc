"""docs/contributing.md's worked example runs: the Softplus ``Function``, the ``avg_pool1d``
entry point and its ``OpInfo`` pass the generic checks the registry would give them, and the
``docs/api.md`` line it shows is the real signature."""

import inspect
import pathlib
import re
import textwrap
import types

import numpy as np
import op_registry
import pytest

import tinygrad_cnn.nn.functional.pool as pool_module
from tinygrad_cnn import Function, Tensor
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_cnn.nn.functional._windows import spatial_ints

DOC = (pathlib.Path(__file__).parents[2] / "docs" / "contributing.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)
SOFTPLUS, ENTRY_POINT, REGISTRY_ENTRY = BLOCKS


def _avg_pool1d():
    namespace = dict(vars(pool_module), spatial_ints=spatial_ints)
    exec(ENTRY_POINT, namespace)
    return namespace["avg_pool1d"]


def _avg_pool1d_info():
    namespace = dict(vars(op_registry), F=types.SimpleNamespace(avg_pool1d=_avg_pool1d()))
    namespace["_unbatched1d"] = lambda reference: (
        lambda x, **kw: reference(x[None], **kw)[0] if x.ndim == 2 else reference(x, **kw))
    helper, entry = REGISTRY_ENTRY.split("\n\n\n")
    exec(helper, namespace)
    return eval(textwrap.dedent(entry).strip().rstrip(","), namespace)


def test_the_softplus_function_has_exact_first_and_second_derivatives():
    namespace = {"np": np, "Function": Function}
    exec(SOFTPLUS, namespace)
    x = Tensor(np.linspace(-2, 2, 7), requires_grad=True)
    assert gradcheck(namespace["Softplus"].apply, [x])
    assert gradgradcheck(namespace["Softplus"].apply, [x])


def test_the_avg_pool1d_entry_passes_the_generic_registry_checks():
    info = _avg_pool1d_info()
    assert info.name == "avg_pool1d" and len(info.samples()) == 3
    for sample in info.samples():
        inputs = [Tensor(a, requires_grad=True) for a in info.inputs(sample)]
        result = info.op(*inputs, **sample.kwargs)
        np.testing.assert_allclose(result._data, info.reference(*[t._data for t in inputs],
                                                                **sample.kwargs), rtol=1e-12)
        function = lambda *tensors, kw=sample.kwargs: info.op(*tensors, **kw)  # noqa: E731
        assert gradcheck(function, inputs) and gradgradcheck(function, inputs)
    for error in info.errors():
        with pytest.raises(error.error, match=error.match):
            info.op(*[Tensor(np.ones(s)) for s in error.shapes], **error.kwargs)


@pytest.mark.torch
def test_the_avg_pool1d_entry_matches_pytorch():
    torch = pytest.importorskip("torch")
    info = _avg_pool1d_info()
    for sample in info.samples():
        (array,) = info.inputs(sample)
        ours = info.op(Tensor(array), **sample.kwargs)
        theirs = info.torch_op(torch.tensor(array), **sample.kwargs)
        np.testing.assert_allclose(ours._data, theirs.numpy(), rtol=1e-12)


def test_the_api_line_shown_is_the_real_signature():
    written = re.search(r"`avg_pool1d\((.*?)\)`", DOC).group(1)
    real = [p.name if p.default is p.empty else f"{p.name}={p.default!r}"
            for p in inspect.signature(_avg_pool1d()).parameters.values()]
    assert written == ", ".join(real)
