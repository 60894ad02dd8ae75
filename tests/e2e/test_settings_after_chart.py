"""A session's first page in real Chromium: its chart draws before its settings, which then
follow by themselves without restarting the replay; a link's notices stay until they have.

A browser meeting Streamlit's widgets for the first time spends a noticeable part of a
second on them (``benchmarks/bench_app.py --first-chart``); the lesson's chart does not
wait for that."""

from __future__ import annotations

import pytest

from explorer import config as cfg
from explorer.ui import sidebar
from tests.e2e.helpers import no_exception

pytestmark = pytest.mark.e2e

ORDER = """
window.__order = [];
new MutationObserver(() => {
  const seen = (name) => window.__order.includes(name);
  const graph = document.querySelector("[data-testid='stMain'] .js-plotly-plot");
  if (!seen("chart") && graph && graph._fullLayout) window.__order.push("chart");
  if (!seen("settings") && document.querySelector("[data-testid='stSidebar'] "
      + "[data-testid='stSelectbox']")) window.__order.push("settings");
  const bar = document.querySelector("[data-testid='stMain'] [role='toolbar'][data-run]");
  if (bar && bar.dataset.current) {
    const frames = window.__frames || (window.__frames = []);
    if (frames[frames.length - 1] !== bar.dataset.current) frames.push(bar.dataset.current);
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


def _last_frame(page) -> str:
    return page.evaluate("() => { const g = document.querySelector(\"[data-testid='stMain'] "
                         ".js-plotly-plot\"); const f = g._transitionData._frames;"
                         " return String(f[f.length - 1].name); }")


def test_the_chart_draws_first_then_the_settings_come_and_the_replay_plays_on(page, server):
    page.add_init_script(ORDER)
    page.goto(server)
    page.get_by_role("combobox", name=cfg.FIELD["problem"].label, exact=True) \
        .wait_for(timeout=60_000)
    assert page.evaluate("window.__order") == ["chart", "settings"]
    # the button that brought them has gone, and the settings are the link's
    assert page.locator(f".st-key-{sidebar.SHOW_KEY}").count() == 0
    assert page.locator("[data-testid='stSidebar'] [data-testid='stSlider']").count() >= 3
    # the replay that started with the chart plays to its end once, never from the start again
    page.wait_for_selector("[data-testid='stMain'] [role='toolbar'][data-ready='1']"
                           "[data-playing='0']", state="attached", timeout=60_000)
    page.wait_for_function("last => document.querySelector(\"[data-testid='stMain'] "
                           "[role='toolbar'][data-run]\").dataset.current === last",
                           arg=_last_frame(page), timeout=60_000)
    frames = [int(name) for name in page.evaluate("window.__frames")]
    assert frames == sorted(frames), f"the replay went back: {frames}"
    no_exception(page)


def test_a_links_notice_stays_after_the_settings_come(page, server):
    page.goto(f"{server}/?lr=NaN&hidden=abc")
    page.get_by_role("combobox", name=cfg.FIELD["problem"].label, exact=True) \
        .wait_for(timeout=60_000)
    notices = page.locator("[data-testid='stMain'] [data-testid='stAlert']").all_inner_texts()
    assert any("lr" in text for text in notices), notices
    no_exception(page)
