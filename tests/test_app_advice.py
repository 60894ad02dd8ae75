"""Advice the app gives is right, and a button applies it (AppTest)."""

from __future__ import annotations

from tests.apptest import app, ok
from tests.test_app_upload import GOOD, upload

LINK_NOTICE = "This link was made with an uploaded CSV"


def _all_text(at) -> str:
    return " ".join(str(e.value) for kind in ("warning", "info", "error")
                    for e in getattr(at, kind))


def test_a_session_holding_its_upload_is_not_told_the_link_lost_the_file():
    at = upload(GOOD)
    at.number_input(key="seed").set_value(2).run()
    ok(at)
    assert LINK_NOTICE not in _all_text(at)
    # the URL moves without this session writing it (Back, Forward, or a rerun that
    # overtook the URL the page last wrote): the scenario reloads, the file is still here
    at.query_params["seed"] = "5"
    ok(at.run())
    assert at.session_state["seed"] == 5, "the scenario was reloaded from the URL"
    assert LINK_NOTICE not in _all_text(at)
    assert at.get("plotly_chart"), "and it trains on the file it holds"


def test_a_fresh_link_to_an_upload_is_told_to_upload_again():
    at = ok(app(dataset="upload"))
    assert LINK_NOTICE in _all_text(at)
