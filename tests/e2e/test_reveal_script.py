"""The reveal's page script on its own, in real Chromium: what happened waits for this run's
replay, and what the rerun has not yet replaced (elements Streamlit marks stale) cannot
reveal it early.

The page is built by hand in Streamlit's shape (``stMain``, element containers with
``data-stale``), and the script's test is called directly instead of waiting for its timer."""

from __future__ import annotations

import contextlib

import pytest

from explorer.ui import playback

pytestmark = pytest.mark.e2e

RID, RUN = "room_ABCDEF_1", "scenario-key"

BAR = ('<div role="toolbar" class="lfe-playback" data-target="#chart" data-run="{run}" '
       'data-ready="1" data-playing="{playing}" data-current="{current}"></div>'
       '<div id="chart"><div class="js-plotly-plot"></div></div>')


@contextlib.contextmanager
def _page(browser, body: str):
    """A page holding the reveal's script and ``body`` in Streamlit's main area."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(
        "<html><body>" + playback.reveal_html(RID, RUN)
        + f'<div data-testid="stMain">{body}'
        f'<div data-stale="false" class="st-key-lfe_after_{RID}">'
        '<div class="room-votes">the votes</div></div></div></body></html>')
    # the chart's frames, as Plotly keeps them
    page.evaluate("() => { const gd = document.querySelector('#chart .js-plotly-plot');"
                  " if (gd) gd._transitionData = {_frames: [{name: '0'}, {name: '10'}]}; }")
    try:
        yield page
    finally:
        context.close()


def _check(page) -> bool:
    """Runs the script's test once; whether the votes now show."""
    page.evaluate(f"() => window.__lfeReveal.check['{RID}']()")
    return page.locator(".room-votes").is_visible()


def _stale(html: str) -> str:
    return f'<div data-stale="true">{html}</div>'


def test_the_last_runs_marker_does_not_reveal_while_this_runs_chart_is_coming(browser):
    """The projector's question screen left a finished-run marker for the same scenario; the
    rerun after Reveal has not drawn its chart yet."""
    with _page(browser, _stale(f'<span class="run-complete" data-run-key="{RUN}" '
                               'hidden></span>')) as page:
        assert not _check(page)
        # the rerun replaces it: the scenario drawn without a replay reveals at once
        page.evaluate("() => document.querySelector(\"[data-stale='true']\")"
                      ".setAttribute('data-stale', 'false')")
        assert _check(page)


def test_the_last_runs_finished_bar_does_not_reveal_this_runs_replay(browser):
    with _page(browser, _stale(BAR.format(run=RUN, playing="0", current="10"))) as page:
        assert not _check(page)


def test_this_runs_bar_reveals_at_its_last_frame_and_not_before(browser):
    with _page(browser, BAR.format(run=RUN, playing="1", current="4")) as page:
        assert not _check(page)
        page.evaluate("() => { const b = document.querySelector('[role=toolbar]');"
                      " b.dataset.playing = '0'; b.dataset.current = '10'; }")
        assert _check(page)
