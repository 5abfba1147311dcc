"""examples/custom_op_gradcheck.py runs, and prints the reports docs/gradcheck.md shows."""

import importlib.util
import pathlib

EXAMPLE = (pathlib.Path(__file__).resolve().parents[2] / "examples"
           / "custom_op_gradcheck.py")


def test_custom_op_example_prints_the_documented_reports(capsys):
    spec = importlib.util.spec_from_file_location("custom_op_gradcheck", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    printed = capsys.readouterr().out
    assert "gradcheck:      True" in printed and "gradgradcheck:  True" in printed
    # the planted mistake, exactly as docs/gradcheck.md quotes it
    assert ("gradcheck: input 0 'x' (shape (3, 4), float64): analytic and numerical gradients "
            "differ at x[2, 1]") in printed
    assert "analytic / numerical = 2.985" in printed
    assert "SoftplusFirstOrderOnly: its backward is first-order only" in printed
    assert "check_op: example: shapes=[(1,)], kwargs={'beta': 0.5}, seed=0" in printed
