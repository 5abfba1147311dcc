"""``einsum`` (as ``torch.einsum``): the equation parsed and checked here, computed by
:class:`tinygrad_cnn.ops.linalg.Einsum`.

The equation is rewritten to one letter per dimension: each operand's ``...`` becomes
letters not used elsewhere (right-aligned, so the ellipsis dimensions broadcast as numpy's),
an implicit output (no ``->``) is the ellipsis then the letters used once, in alphabetical
order.  A letter of size 1 in one operand broadcasts against its size in the others
(PyTorch's rule), by expanding that operand first, so the primitive sees equal sizes.
"""

import string

from ._checks import DtypeError, ShapeError
from .ops.linalg import Einsum
from .tensor import Tensor

_OP = "einsum()"


def _operands(args) -> tuple:
    if not args or len(args) == 1:
        raise ValueError(f"{_OP}: must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    equation, operands = args[0], args[1:]
    if not isinstance(equation, str):
        raise TypeError(f"{_OP}: argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for k, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"{_OP}: operand {k} must be a Tensor, got "
                            f"{type(operand).__name__}")
    return equation, operands


def _split(equation: str, count: int):
    """``(input terms, output term or None)``, with the operand count checked."""
    equation = equation.replace(" ", "")
    for index, char in enumerate(equation):
        if not (char in string.ascii_letters or char in ".,->"):
            raise ShapeError(f"{_OP}: invalid subscript given at index {index} in the "
                             "equation string, subscripts must be in [a-zA-Z]")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) < count:
        raise ShapeError(f"{_OP}: more operands were provided than specified in the equation")
    if len(terms) > count:
        raise ShapeError(f"{_OP}: fewer operands were provided than specified in the equation")
    return terms, (rhs if arrow else None)


def _letters(term: str, where: str) -> tuple:
    """``(letters before ..., letters after ..., has ellipsis)`` of one term."""
    head, dots, tail = term.partition("...")
    if "." in head or "." in tail or "-" in term or ">" in term:
        raise ShapeError(f"{_OP}: found '.' for {where} that is not part of any ellipsis")
    return head, tail, bool(dots)


def einsum(*args) -> Tensor:
    """Einstein summation (``torch.einsum(equation, *operands)``, also
    ``einsum(equation, [a, b])``): ``einsum("bij,bjk->bik", a, b)`` is a batched matrix
    product; a letter repeated in one operand reads its diagonal; letters missing from the
    output are summed.  Differentiable in every operand."""
    equation, operands = _operands(args)
    terms, output = _split(equation, len(operands))
    parsed, ellipsis_dims = [], 0
    for k, (term, operand) in enumerate(zip(terms, operands)):
        head, tail, has_dots = _letters(term, f"operand {k}")
        named = len(head) + len(tail)
        if (not has_dots and named != operand.ndim) or named > operand.ndim:
            raise ShapeError(
                f"{_OP}: the number of subscripts in the equation ({named}) "
                + ("is more than" if has_dots else "does not match")
                + f" the number of dimensions ({operand.ndim}) for operand {k}"
                + ("" if has_dots else " and no ellipsis was given"))
        covered = operand.ndim - named
        parsed.append((head, tail, covered))
        ellipsis_dims = max(ellipsis_dims, covered)
    used = set(equation)
    spare = [letter for letter in string.ascii_letters if letter not in used]
    dots = "".join(spare[:ellipsis_dims])
    inputs = [head + dots[ellipsis_dims - covered:] + tail for head, tail, covered in parsed]
    if output is None:
        counts = "".join(head + tail for head, tail, _ in parsed)
        output = dots + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    else:
        head, tail, has_dots = _letters(output, "the output")
        for letter in head + tail:
            if (head + tail).count(letter) > 1:
                raise ShapeError(f"{_OP}: output subscript {letter} appears more than once "
                                 "in the output")
            if not any(letter in term for term in inputs):
                raise ShapeError(f"{_OP}: output subscript {letter} does not appear in the "
                                 "equation for any input operand")
        output = head + (dots if has_dots else "") + tail   # without "...": summed
    sizes = {}
    for k, (term, operand) in enumerate(zip(inputs, operands)):
        own = {}
        for letter, n in zip(term, operand._data.shape):
            if letter in own and own[letter] != n:
                raise ShapeError(f"{_OP}: subscript {letter} is repeated for operand {k} but "
                                 f"the sizes don't match, {n} != {own[letter]}")
            own[letter] = n
            seen = sizes.get(letter, 1)
            if n != seen and 1 not in (n, seen):
                raise ShapeError(f"{_OP}: subscript {letter} has size {n} for operand {k} "
                                 f"which does not broadcast with previously seen size {seen}")
            sizes[letter] = n if seen == 1 else seen
    dtypes = {operand._data.dtype for operand in operands}
    if len(dtypes) > 1:
        raise DtypeError(f"{_OP}: operands must have the same dtype, got "
                         f"{', '.join(str(d) for d in sorted(dtypes, key=str))}")
    expanded = []
    for term, operand in zip(inputs, operands):
        shape = tuple(sizes[letter] for letter in term)
        expanded.append(operand if operand._data.shape == shape else operand.expand(*shape))
    return Einsum.apply((tuple(inputs), output), *expanded)
