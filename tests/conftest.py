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
def postgres_server():
    """A throwaway PostgreSQL for this test session (``deploy/local_postgres.py``: Debian's
    binaries, a free loopback port, a temporary directory; stopped and removed at the end).
    Skipped when PostgreSQL is not installed, except under CI, where that is a failure:
    scripts/test.sh installs Debian's ``postgresql``."""
    import os
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
    import local_postgres

    if local_postgres.find_bin() is None:
        message = "PostgreSQL's binaries are missing (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # not under pytest's basetemp: its parents are closed to the server's own user
    directory = Path(tempfile.mkdtemp(prefix="lfe-postgres-"))
    server = local_postgres.start(directory)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server):
    """The URL (postgresql+psycopg://...) of the throwaway server's database ``rooms``,
    shared by the whole session; ``postgres_server.create_database()`` gives a fresh one."""
    return postgres_server.url


@pytest.fixture(scope="session")
def lesson_checks():
    """Every lesson on its own seed and the next five: its claims checked and its question's
    outcome, from the same runs (``presets.check_many``). The suite's longest job, done
    once: one process per core."""
    from explorer import presets

    pairs = [(key, seed) for key, preset in presets.PRESETS.items()
             for seed in range(preset.config.seed, preset.config.seed + 6)]
    return presets.check_many(pairs)
