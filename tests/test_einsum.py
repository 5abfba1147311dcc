"""einsum: random equations (diagonals, letters summed out of one operand, several operands)
against the term-by-term loop reference and PyTorch, gradients by gradcheck and against
PyTorch, the list form, ellipsis and size-1 broadcasting.  The generic tests run from
tests/op_registry.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_spatial import einsum_ref

import tinygrad_cnn as tg
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck

LETTERS = "abcd"


@st.composite
def equations(draw):
    """``(equation, shapes)``: 1-3 operands of 0-3 letters (repeats allowed), an output of
    distinct letters among them in any order."""
    sizes = {letter: draw(st.integers(1, 3)) for letter in LETTERS}
    terms = draw(st.lists(st.text(LETTERS, max_size=3), min_size=1, max_size=3))
    used = sorted(set("".join(terms)))
    output = draw(st.permutations(used)) if used else []
    output = "".join(output[:draw(st.integers(0, len(output)))])
    return ",".join(terms) + "->" + output, [tuple(sizes[c] for c in term) for term in terms]


@settings(max_examples=60, deadline=None)
@given(case=equations(), seed=st.integers(0, 2**16))
def test_einsum_matches_the_loop_reference_and_its_gradients_check(case, seed):
    equation, shapes = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    out = tg.einsum(equation, *[tg.tensor(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), einsum_ref(equation, *arrays), rtol=1e-10,
                               atol=1e-12)
    operands = [tg.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *t: tg.einsum(equation, *t), operands)
    assert gradgradcheck(lambda *t: tg.einsum(equation, *t), operands)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(case=equations(), seed=st.integers(0, 2**16))
def test_einsum_values_and_gradients_match_pytorch(case, seed):
    torch = pytest.importorskip("torch")
    equation, shapes = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = tg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed_grad = rng.standard_normal(expected.shape)
    out.backward(tg.tensor(seed_grad))
    expected.backward(torch.tensor(seed_grad))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("equation, shapes", [
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 4)]),     # ellipsis dimensions broadcast
    ("i,i->i", [(3,), (1,)]),                        # a size-1 letter broadcasts
    ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),              # implicit output: alphabetical
    ("ba", [(2, 3)]),
    ("...i->i", [(2, 3)]),                           # ellipsis missing from the output: summed
    ("ij->j...", [(2, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),          # spaces are ignored
])
def test_einsum_forms_match_pytorch(equation, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = tg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12)


def test_einsum_takes_its_operands_as_a_list():
    a, b = tg.ones(2, 3), tg.ones(3, 4)
    np.testing.assert_array_equal(tg.einsum("ij,jk", [a, b]).numpy(), np.full((2, 4), 3.0))


def test_einsum_keeps_float32_and_integer_dtypes():
    assert tg.einsum("ij,jk", tg.ones(2, 3), tg.ones(3, 4)).dtype == tg.float32
    assert tg.einsum("ij->j", tg.ones(2, 3, dtype=tg.int64)).dtype == tg.int64


def test_a_transposing_einsum_does_not_share_memory_with_its_input():
    x = tg.zeros(2, 3)
    y = tg.einsum("ij->ji", x)
    x.add_(1.0)
    np.testing.assert_array_equal(y.numpy(), np.zeros((3, 2)))


@pytest.mark.parametrize("args, error, match", [
    ((), ValueError, r"einsum\(\): must specify the equation string"),
    ((3, tg.ones(2)), TypeError, r"einsum\(\): argument 'equation' \(position 1\) must be str"),
    (("ij,jk", tg.ones(2, 3), tg.ones(3, 2, dtype=tg.float64)), TypeError,
     r"einsum\(\): operands must have the same dtype"),
    (("i.j", tg.ones(2, 3)), RuntimeError, r"einsum\(\): found '.' for operand 0"),
    (("ij->ii", tg.ones(2, 3)), RuntimeError,
     r"einsum\(\): output subscript i appears more than once"),
    (("ii->i", tg.ones(2, 3)), RuntimeError,
     r"einsum\(\): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    (("ij", tg.ones(2, 3), tg.ones(2, 3)), RuntimeError,
     r"einsum\(\): more operands were provided"),
])
def test_einsum_rejects_bad_input_as_pytorch(args, error, match):
    with pytest.raises(error, match=match):
        tg.einsum(*args)
