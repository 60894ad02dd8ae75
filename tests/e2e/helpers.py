"""Small waits and actions on a Streamlit page; no sleeps where a condition exists."""

from __future__ import annotations

from pathlib import Path

from explorer import config as cfg
from explorer import presets

RUNNING = "[data-testid='stStatusWidget']"
CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"


def current_query(page) -> dict:
    return page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")


def current_key(page) -> str:
    """The config key of the scenario the URL describes (what the app should be showing)."""
    query = page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")
    query.pop("view", None)
    preset = query.pop("preset", None)
    base = presets.get(preset).config if preset else cfg.DEFAULT
    return cfg.from_query(query, base=base)[0].key()


FINISHED = """key => Array.from(document.querySelectorAll(".run-complete"))
  .some((m) => m.dataset.runKey === key && !m.closest("[data-stale='true']"))"""
"""The scenario ``key`` drawn by the latest run (not left over from the run before)."""


def wait_idle(page, timeout: float = 60_000, chart: bool = True) -> None:
    """Wait until the app has finished drawing the scenario in the URL (and its figure)."""
    page.wait_for_function("() => new URLSearchParams(location.search).has('loss')",
                           timeout=timeout)
    key = current_key(page)
    # a session's first page brings its settings in a run of its own once its chart has drawn
    # (explorer.ui.sidebar.ask_after_first_chart): idle is after that run too
    page.wait_for_selector("[data-testid='stSidebar'] .st-key-preset_pick", state="attached",
                           timeout=timeout)
    page.wait_for_function(FINISHED, arg=key, timeout=timeout)
    if chart:
        page.wait_for_function(
            "key => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>"
            " g.layout && g.layout.meta === key && g._transitionData"
            " && g._transitionData._frames && g._transitionData._frames.length > 0)",
            arg=key, timeout=timeout)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


MARKED = "(?:[✓~✗] )?"
"""The verdict mark the activation and loss lists put before an option's name."""


def choose(page, label: str, option: str) -> None:
    """Pick an option in the selectbox with this label (as a person would: click, click);
    ``option`` is the option's name, after any verdict mark and before any "★ default"."""
    import re

    name = re.compile("^" + MARKED + re.escape(option) + r"(?:\s+★ default)?$")
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=name).first.click()


def choose_starting(page, label: str, prefix: str, attempts: int = 4) -> None:
    """Pick the option of a selectbox whose text starts with ``prefix`` (labels may carry a
    suffix such as "★ default"). A rerun that lands between the two clicks closes the list,
    so open it again until the option shows."""
    import re

    option = page.get_by_role("option", name=re.compile("^" + MARKED + re.escape(prefix))).first
    for attempt in range(attempts):
        page.get_by_role("combobox", name=label, exact=True).click()
        try:
            option.wait_for(timeout=15_000)
            option.click(timeout=15_000)
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def wait_for_query(page, key: str, value: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value],
        timeout=timeout)


def frames_played(page, chart: str = CHART) -> None:
    """Start counting the animation frames the chart draws (window.__played)."""
    page.evaluate(
        "sel => { window.__played = []; const g = document.querySelector(sel);"
        " g.on('plotly_animatingframe', e => window.__played.push(e.name)); }", chart)


def bar(page, chart: str = CHART):
    """The playback bar of the chart (the first one for the generic selector)."""
    key = chart.split(" ")[0] if chart.startswith(".st-key-") else None
    selector = f".lfe-playback[data-target='{key}']" if key else ".lfe-playback"
    page.wait_for_selector(selector + "[data-ready='1']", state="attached")
    return page.locator(selector).first


def click_play(page, chart: str = CHART) -> None:
    """Start the replay (a run may already be playing by itself: then leave it)."""
    playback = bar(page, chart)
    if playback.get_attribute("data-playing") != "1":
        playback.locator("button[data-act=toggle]").click()


def click_pause(page, chart: str = CHART) -> None:
    playback = bar(page, chart)
    if playback.get_attribute("data-playing") == "1":
        playback.locator("button[data-act=toggle]").click()


def screenshot(page, path: Path) -> None:
    """Full page: Streamlit scrolls inside stMain, so grow the viewport to its height."""
    height = page.evaluate(
        "() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(height, 800), 6000)})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})


def painted_fraction(page, chart: str = CHART) -> float:
    """Share of the first subplot's plot area that is not blank white, right now."""
    import io

    import numpy as np
    from PIL import Image

    locator = page.locator(chart).first
    box = locator.evaluate(
        "g => { const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;"
        " return [xa._offset, ya._offset, xa._length, ya._length]; }")
    left, top, width, height = (int(v) for v in box)
    shot = Image.open(io.BytesIO(locator.screenshot())).convert("RGB")
    pixels = np.asarray(shot)[top + 5:top + height - 5, left + 5:left + width - 5].astype(int)
    return float((pixels.min(axis=2) < 235).mean())


def drawn_points(page, chart: str = CHART) -> int:
    """How many scatter markers the chart has on the page right now."""
    return page.locator(chart).first.evaluate(
        "g => g.querySelectorAll('.scatterlayer path.point').length")


def assert_background_stays_while_playing(page, chart: str = CHART, samples: int = 5,
                                          markers_fixed: bool = True) -> None:
    """Play, and check at several frames that the map under the path is still painted and,
    where every marker is static (``markers_fixed``), that none dropped off the page."""
    points = drawn_points(page, chart) if markers_fixed else 0
    frames_played(page, chart)
    click_play(page, chart)
    for k in range(samples):
        page.wait_for_function(f"() => window.__played.length >= {4 + 6 * k}")
        assert painted_fraction(page, chart) > 0.6, f"blank background at sample {k}"
        assert drawn_points(page, chart) >= points, f"markers vanished at sample {k}"
