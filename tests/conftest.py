"""Fixtures shared by test files."""

import pytest


@pytest.fixture(scope="session")
def formula_worker():
    """A started, warm worker behind ``sandbox.formulas``: tests with deadlines (hypothesis)
    must not pay for the one-time start of the process that works typed formulas out."""
    from explorer import sandbox

    assert sandbox.formulas.run(abs, -1) == 1
    return sandbox.formulas
