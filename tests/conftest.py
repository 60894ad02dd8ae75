"""Fixtures shared by test files."""

import pytest


@pytest.fixture(scope="session")
def formula_worker():
    """A started, warm worker behind ``sandbox.formulas``: tests with deadlines (hypothesis)
    must not pay for the one-time start of the process that works typed formulas out."""
    from explorer import sandbox

    assert sandbox.formulas.run(abs, -1) == 1
    return sandbox.formulas


@pytest.fixture(scope="session")
def lesson_checks():
    """Every lesson on its own seed and the next five: its claims checked and its question's
    outcome, from the same runs (``presets.check_many``). The suite's longest job, done
    once: one process per core."""
    from explorer import presets

    pairs = [(key, seed) for key, preset in presets.PRESETS.items()
             for seed in range(preset.config.seed, preset.config.seed + 6)]
    return presets.check_many(pairs)
