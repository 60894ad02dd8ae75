"""Liveness of this process: does a script run hold the process's turn far too long?

``/_stcore/health`` answers 200 as long as Streamlit's event loop runs, even while one script
run has held the only turn (``turns``) for minutes and every other student's page waits. An
orchestrator that probes it never restarts such a wedged replica. ``endpoint`` answers 503
once the current turn has been held longer than ``LIMIT_S``, and 200 otherwise.

It is a route of Streamlit's own server (``st.App(routes=...)`` in serve.py): it runs on the
event loop, not in a script thread, so it answers while a script run is busy, and a probe of
it also fails when that server itself stops answering.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from explorer.ui import turns

LIMIT_S = 30.0
"""Seconds one script run may hold the turn before the process counts as wedged: far above
any bounded click (a long training gives its turn back; typed formulas are worked out
aside), and short enough that a probe every 10 s restarts a wedged replica within a minute."""


def status() -> tuple[int, str]:
    """(HTTP status, one-line reason) for the process as it is now."""
    held = turns.held_for()
    if held > LIMIT_S:
        return 503, f"wedged: one script run has held the turn for {held:.0f} s " \
                    f"(limit {LIMIT_S:g} s)\n"
    return 200, f"ok: turn held for {held:.1f} s (limit {LIMIT_S:g} s)\n"


async def endpoint(request: Request) -> PlainTextResponse:
    code, text = status()
    return PlainTextResponse(text, status_code=code, headers={"Cache-Control": "no-store"})
