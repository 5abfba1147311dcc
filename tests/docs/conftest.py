"""The docs tests: do the README, the docs pages, the lecture and the examples run as written.

Kept apart from the library's own tests (``tests/``); ``python -m pytest -q`` runs both.
The shared test helpers (``op_registry``) live one folder up.
"""

import pathlib
import sys

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
