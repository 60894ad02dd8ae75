"""A link whose formula runs away, in real Chromium: while one session's formula is
still being worked out, another session's chart arrives; then the first gets its sentence,
never a traceback.

"Still being worked out" is held by the sandbox's test gate (``EXPLORER_SANDBOX_GATE``): the
worker holds the formula until this test releases it, then runs past the limit. The second
session is served while the first is certainly held, whatever the machine's load."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from explorer import sandbox
from tests.e2e.conftest import _require_browser, serving
from tests.e2e.helpers import CHART, no_exception, wait_idle

pytestmark = pytest.mark.e2e

RUNAWAY = "abs(p - y)**3 + 0.5*log1p(p**2)"
LIMIT_SECONDS = "2"


@pytest.fixture(scope="module")
def gated_server(tmp_path_factory):
    """A server of its own whose formula sandbox has the test gate and a 2-s limit."""
    _require_browser()
    gate = tmp_path_factory.mktemp("gate") / "gate"
    env = {sandbox.GATE_VARIABLE: str(gate), sandbox.LIMIT_VARIABLE: LIMIT_SECONDS}
    with serving(env, "streamlit-gated-server.log") as (url, _):
        yield url, gate


def _wait_for(path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        time.sleep(0.1)


def test_a_runaway_formula_link_holds_up_nobody_and_its_author_gets_a_sentence(
        gated_server, browser):
    url, gate = gated_server
    gate.write_text(RUNAWAY)
    held = gate.with_name(gate.name + ".held")
    first_context = browser.new_context(viewport={"width": 1500, "height": 1000})
    second_context = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        author = first_context.new_page()
        author.set_default_timeout(90_000)
        author.goto(f"{url}/?loss=custom&epochs=20&formula={quote(RUNAWAY)}")
        _wait_for(held)  # the author's formula is in a worker, held until we release it

        other = second_context.new_page()
        other.set_default_timeout(90_000)
        other.goto(f"{url}/?epochs=20")
        wait_idle(other)  # another student's chart arrives while the author's formula works
        assert gate.exists() and held.exists()  # (still held: only this test releases it)
        assert other.locator(CHART).count() >= 1
        no_exception(other)

        gate.unlink()  # now it runs past the 2-s limit and is stopped
        author.get_by_text("This formula takes too long to work out").first.wait_for()
        wait_idle(author)  # and the default formula trains for its author
        no_exception(author)
    finally:
        first_context.close()
        second_context.close()
