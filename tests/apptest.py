"""What the AppTest files share: the app opened from a link, checked for exceptions."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.ui import sidebar

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


def open_app(query: dict, timeout: float = TIMEOUT) -> AppTest:
    """A fresh session of the app on the link with these query parameters, run once."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in query.items():
        at.query_params[key] = value
    return with_settings(at.run())


def with_settings(at: AppTest) -> AppTest:
    """After a session's first page, the settings, as the page's script asks for them once
    the first chart has drawn (``sidebar.ask_after_first_chart``)."""
    shows = [b for b in at.button if b.key == sidebar.SHOW_KEY]
    return shows[0].click().run() if shows and not at.exception else at


def app(**query) -> AppTest:
    return open_app(query)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def specs(at: AppTest) -> list[dict]:
    """The Plotly figures on the page, as the JSON the browser receives."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
