"""On stage: presenting mode fits a projector, playback is controllable, Back works, and the
HTML take-away plays offline. Real Chromium against the real app."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import bar, click_pause, current_key, no_exception, wait_idle

pytestmark = pytest.mark.e2e

TRAIN = ".st-key-train_chart .js-plotly-plot"


def current_frame(page) -> str:
    return bar(page, TRAIN).get_attribute("data-current")


def frame_names(page) -> list[str]:
    return page.locator(TRAIN).evaluate("g => g._transitionData._frames.map(f => f.name)")


def slider_text(page) -> str:
    return page.locator(TRAIN).locator(".slider-container text.slider-label").first \
        .text_content()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_presenting_mode_fits_the_figure_and_its_controls_in_the_window(
        server, browser, artifacts, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/?present=1&autoplay=0")
        wait_idle(page)
        no_exception(page)
        bar(page, TRAIN)
        chart = page.locator(TRAIN).bounding_box()
        play = page.locator(".lfe-playback button[data-act=toggle]").bounding_box()
        for box in (chart, play):
            assert box["x"] >= 0 and box["y"] >= 0
            assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
        # the sidebar is gone and the chart uses the window: at least 60 % of its height
        assert not page.locator("section[data-testid='stSidebar']").is_visible()
        assert chart["height"] >= 0.6 * height
        # readable: tick labels at least 14 px, subplot titles at least 18 px, dark text
        sizes = page.locator(TRAIN).evaluate(
            "g => ({tick: Math.min(...Array.from(g.querySelectorAll('.xtick text'))"
            ".map(t => parseFloat(getComputedStyle(t).fontSize))),"
            " title: Math.min(...Array.from(g.querySelectorAll('.annotation-text'))"
            ".filter(t => /Loss|Model|Accuracy/.test(t.textContent))"
            ".map(t => parseFloat(getComputedStyle(t).fontSize)))})")
        assert sizes["tick"] >= 14 and sizes["title"] >= 18
        page.screenshot(path=str(artifacts / f"20-presenting-{width}x{height}.png"))
    finally:
        context.close()


def test_step_moves_exactly_one_frame_and_the_numbers_follow(server, page):
    page.goto(f"{server}/?autoplay=0")
    wait_idle(page)
    names = frame_names(page)
    assert current_frame(page) == names[-1]
    playback = bar(page, TRAIN)
    playback.locator("button[data-act=back]").click()
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[-2])
    playback.locator("button[data-act=back]").click()
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[-3])
    playback.locator("button[data-act=forward]").click()
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[-2])
    assert slider_text(page).startswith(f"Epoch {names[-2]} ")
    # keys: the left arrow steps back too
    page.locator("body").press("ArrowLeft")
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[-3])
    # the loss curve drawn ends at that frame's epoch (frames send y only; the trace keeps
    # every epoch's x, and Plotly draws as many points as y has)
    drawn = page.locator(TRAIN).evaluate(
        "g => { const i = g.data.findIndex(t => t.name === 'train loss');"
        " return g.calcdata[i].filter(p => Number.isFinite(p.y)).map(p => p.x); }")
    assert drawn and max(drawn) <= int(names[-3]) and len(drawn) < len(names)


def test_play_from_the_current_frame_changes_the_numbers_in_the_figure(server, page):
    page.goto(f"{server}/?autoplay=0")
    wait_idle(page)
    names = frame_names(page)
    playback = bar(page, TRAIN)
    playback.locator("button[data-act=restart]").click()
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[5], timeout=30_000)
    first = slider_text(page)
    page.wait_for_function("n => document.querySelector('.lfe-playback').dataset.current"
                           " === n", arg=names[25], timeout=30_000)
    second = slider_text(page)
    assert first != second and "loss" in second and "accuracy" in second
    click_pause(page)
    paused = current_frame(page)
    page.wait_for_timeout(600)
    assert current_frame(page) == paused
    # Play continues from where it paused, not from the start
    playback.locator("button[data-act=toggle]").click()
    page.wait_for_timeout(400)
    assert names.index(current_frame(page)) > names.index(paused)


def test_a_new_run_plays_by_itself_from_the_first_epoch(server, page):
    page.goto(server)
    wait_idle(page)
    page.evaluate("() => { window.__seen = []; const g = document.querySelector("
                  "'.st-key-train_chart .js-plotly-plot');"
                  " g.on('plotly_animatingframe', e => window.__seen.push(e.name)); }")
    page.wait_for_function("() => window.__seen.length >= 10", timeout=30_000)
    seen = page.evaluate("() => window.__seen")
    assert [int(name) for name in seen] == sorted(int(name) for name in seen)


def test_back_restores_the_previous_configuration(server, page):
    page.goto(f"{server}/?autoplay=0")
    wait_idle(page)
    seed = page.get_by_role("spinbutton", name="Seed")
    for value in ("7", "8"):
        seed.fill(value)
        seed.press("Enter")
        page.wait_for_function("v => new URLSearchParams(location.search).get('seed') === v",
                               arg=value)
        wait_idle(page)
    page.go_back()
    page.wait_for_function("() => new URLSearchParams(location.search).get('seed') === '7'")
    wait_idle(page)
    page.wait_for_function("() => document.querySelector(\"[aria-label='Seed']\") &&"
                           " document.querySelector(\"[aria-label='Seed']\").value === '7'")
    assert current_key(page) == page.locator(".run-complete").last.get_attribute(
        "data-run-key")
    page.go_forward()
    page.wait_for_function("() => new URLSearchParams(location.search).get('seed') === '8'")
    page.wait_for_function("() => document.querySelector(\"[aria-label='Seed']\").value"
                           " === '8'")
    no_exception(page)


def test_the_html_take_away_plays_offline(server, browser, page, tmp_path):
    page.goto(f"{server}/?autoplay=0&epochs=60")
    wait_idle(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Animation (HTML)").click()
    path = tmp_path / "training.html"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "<script src=" not in text
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    offline = context.new_page()
    requests: list[str] = []
    offline.on("request", lambda r: requests.append(r.url))
    try:
        offline.goto(path.as_uri())
        offline.wait_for_selector(".lfe-playback[data-ready='1']", state="attached",
                                  timeout=30_000)
        names = offline.locator("#chart").evaluate(
            "g => g._transitionData._frames.map(f => f.name)")
        # it opens on the final state, labelled with its epoch, not part-way through
        assert offline.locator(".lfe-playback").get_attribute("data-current") == names[-1]
        assert offline.locator("#chart .slider-container text.slider-label").first \
            .text_content().startswith(f"Epoch {names[-1]} ")
        offline.locator("button[data-act=restart]").click()
        offline.wait_for_function(
            "n => document.querySelector('.lfe-playback').dataset.current === n",
            arg=names[10], timeout=30_000)
        assert all(url.startswith(("file:", "data:", "about:")) for url in requests)
    finally:
        context.close()


def test_the_compare_table_fits_1280_and_shows_a_dash_for_a_missing_number(
        server, browser, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        # the usual rivals include linear + hinge: a score, so no ECE or Brier for it
        page.goto(f"{server}/?view=Compare&epochs=30")
        page.locator(".st-key-race_maps .js-plotly-plot").wait_for()
        wait_idle(page, chart=False)
        no_exception(page)
        table = page.locator("[data-testid='stTable']").first
        table.scroll_into_view_if_needed()
        text = table.inner_text()
        assert "Linear (identity) + Hinge" in text and "—" in text
        assert "None" not in text and "nan" not in text.lower().replace("nan at", "")
        width, client = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
        assert width <= client + 1, "the table scrolls sideways"
        page.screenshot(path=str(artifacts / "stage-compare-table-1280.png"))
    finally:
        context.close()
