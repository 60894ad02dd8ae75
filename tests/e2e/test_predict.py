"""Predict, then watch, in real Chromium: a lesson opens on its question with the replay
held; an answer starts the replay; once it ends, what happened shows, as the runs decide."""

from __future__ import annotations

import pytest

from explorer import presets
from explorer.claims import Runs
from explorer.lessons import questions
from tests.e2e.helpers import no_exception, wait_idle

pytestmark = pytest.mark.e2e

BAR = "document.querySelector(\"[data-testid='stMain'] [role='toolbar'][data-run]\")"
FIRST_SCREEN = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
  const bar = __BAR__;
  const chart = document.querySelector(bar.dataset.target);
  const buttons = Array.from(document.querySelectorAll(".st-key-lfe_answers button"))
    .filter((b) => b.getBoundingClientRect().height > 0);
  return {bar: box(bar), chart: box(chart), buttons: buttons.map(box),
          scrolled: document.querySelector("[data-testid='stMain']").scrollTop};
}""".replace("__BAR__", BAR)


def _happened(key: str) -> questions.Outcome:
    preset = presets.get(key)
    return questions.outcome(preset, Runs(preset.configs()))


def _shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"predict-{name}.png"))


def _open(browser, server, query: str, width: int, height: int, chart: bool = True):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?{query}")
    wait_idle(page, chart=chart)
    no_exception(page)
    return context, page


def test_the_replay_waits_for_the_prediction_then_plays_then_reveals(server, browser,
                                                                      artifacts):
    key = "matched_binary"
    preset = presets.get(key)
    context, page = _open(browser, server, f"preset={key}", 1280, 720)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Predict first:").wait_for()
        assert main.get_by_text(preset.question.text).is_visible()
        # the bar is bound to its chart; a bar that may autoplay starts in that same step
        page.wait_for_function(f"() => {BAR} && {BAR}.dataset.ready === '1'")
        held = page.evaluate(f"() => ({{...{BAR}.dataset}})")
        assert held["autoplay"] == "0" and held.get("playing") != "1"
        assert held["current"] == "0", "a held replay stands on epoch 0"
        seen = page.evaluate(FIRST_SCREEN)
        assert seen["scrolled"] == 0 and len(seen["buttons"]) == len(preset.question.answers) + 1
        assert all(bottom <= 720 for _, bottom in seen["buttons"]), seen
        assert seen["chart"][1] - seen["chart"][0] >= 360 and seen["bar"][1] <= 720, seen
        _shot(page, artifacts, "1280x720-question")
        # nor do the replay's keys start it (the bar acts on a key as it is pressed)
        main.get_by_text("Predict first:").click()
        page.keyboard.press(" ")
        page.keyboard.press("ArrowRight")
        held = page.evaluate(f"() => ({{...{BAR}.dataset}})")
        assert held.get("playing") != "1" and held["current"] == "0", held

        expected = _happened(key)
        right = preset.question.answers[expected.answer]
        main.get_by_role("button", name=right, exact=True).click()
        # it plays: the new bar autoplays (the replay is marked played as it starts)
        page.wait_for_function(
            f"() => {{ const b = {BAR}; return b && b.dataset.autoplay === '1'"
            " && b.dataset.ready === '1' && window.__lfePlayback.played[b.dataset.run]; }")
        assert main.get_by_text(preset.question.text).first.is_visible()
        # once the replay has ended, what happened
        reveal = main.locator("[data-testid='stAlertContentSuccess']").filter(
            has_text="You predicted it.")
        reveal.wait_for(state="visible", timeout=90_000)
        assert page.evaluate(f"() => {BAR}.dataset.current") == "300"
        text = reveal.inner_text()
        assert expected.sentence in text.replace("\n", " "), text
        assert not main.get_by_text("What happened shows when the replay ends").is_visible()
        # under it the lesson's title; its sentence opens with what the app measured
        title = main.get_by_text(f"Lesson: {preset.title}")
        assert title.is_visible() and not main.get_by_text(preset.summary).is_visible()
        no_exception(page)
        _shot(page, artifacts, "1280x720-revealed")
        title.click()
        main.get_by_text(preset.summary).wait_for()
    finally:
        context.close()


def test_a_static_view_reveals_at_once_and_a_skip_gives_no_verdict(server, browser,
                                                                    artifacts):
    """why_not_mse opens in Compare, a race without a replay: skipping shows the race and
    what happened."""
    key = "why_not_mse"
    context, page = _open(browser, server, f"preset={key}", 1366, 768, chart=False)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Predict first:").wait_for()
        _shot(page, artifacts, "1366x768-question-compare")
        main.get_by_role("button", name="Skip").click()
        reveal = main.locator("[data-testid='stAlertContentInfo']").filter(
            has_text="What happened:")
        reveal.wait_for(state="visible")
        assert _happened(key).sentence in reveal.inner_text().replace("\n", " ")
        _shot(page, artifacts, "1366x768-revealed-compare")
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_presenting_mode_fits_the_question_and_shows_it_now(server, browser, artifacts,
                                                             size):
    width, height = size
    key = "why_not_mse_bce"
    context, page = _open(browser, server, f"preset={key}&present=1", width, height)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Predict first:").wait_for()
        page.wait_for_function(f"() => {BAR} && {BAR}.dataset.ready === '1'")
        # the chart leaves room for the question: everything on one screen
        page.wait_for_function(
            f"() => {BAR}.getBoundingClientRect().bottom <= innerHeight")
        seen = page.evaluate(FIRST_SCREEN)
        assert all(bottom <= height for _, bottom in seen["buttons"]), seen
        assert seen["chart"][1] - seen["chart"][0] >= height / 2, seen
        _shot(page, artifacts, f"present-{width}x{height}-question")
        main.get_by_role("button", name="80 % to 95 %", exact=True).click()
        main.get_by_role("button", name="Show it now").click()
        reveal = main.locator("[data-testid='stAlertContentWarning']").filter(
            has_text="Not this time")
        reveal.wait_for(state="visible")
        assert _happened(key).sentence in reveal.inner_text().replace("\n", " ")
        page.wait_for_function(
            f"() => {BAR}.getBoundingClientRect().bottom <= innerHeight")
        _shot(page, artifacts, f"present-{width}x{height}-revealed")
    finally:
        context.close()


STAGE = "[class*='st-key-lfe_stage']"
STAGE_STATE = """(title) => {
  const stages = Array.from(document.querySelectorAll("__STAGE__"));
  const inside = (e) => !!(e && e.closest && e.closest("__STAGE__"));
  getSelection().removeAllRanges();
  return {stages: stages.length, inert: stages.filter((s) => s.inert).length,
          hidden: stages.filter((s) => s.getAttribute("aria-hidden") === "true").length,
          found: window.find(title, false, false, true), focused: inside(document.activeElement),
          buttons: stages.reduce((n, s) => n + s.querySelectorAll("button").length, 0)};
}""".replace("__STAGE__", STAGE)


def test_the_held_stage_is_out_of_reach_not_only_out_of_focus(server, browser, artifacts):
    """Before the answer the blurred stage cannot be reached: its text is not found by
    find-in-page, Tab never lands on its buttons (Play among them), and assistive technology
    is told it is hidden. After the answer all of it is back."""
    key = "matched_binary"
    context, page = _open(browser, server, f"preset={key}", 1280, 720)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Predict first:").wait_for()
        page.wait_for_function(f"() => {BAR} && {BAR}.dataset.ready === '1'")
        # a panel title of the chart, drawn (blurred) in the stage and nowhere else
        title = page.evaluate(
            f"() => Array.from(document.querySelectorAll(\"{STAGE} svg text\"))"
            ".map((t) => t.textContent).find((t) => t.startsWith('Model output'))")
        assert title
        held = page.evaluate(STAGE_STATE, title)
        assert held["stages"] >= 1 and held["buttons"] >= 4, held
        assert held["inert"] == held["stages"] and held["hidden"] == held["stages"], held
        assert not held["found"], held
        main.get_by_text("Predict first:").click()
        reached = []
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.append(page.evaluate(STAGE_STATE, title)["focused"])
        assert not any(reached)
        # Enter on whatever Tab reached did not start the replay
        assert page.evaluate(f"() => {BAR}.dataset.playing") != "1"

        answer = presets.get(key).question.answers[0]
        main.get_by_role("button", name=answer, exact=True).click()
        page.wait_for_function(
            f"() => {{ const b = {BAR}; return b && b.dataset.autoplay === '1'"
            " && b.dataset.ready === '1'; }")
        page.wait_for_function(f"() => !document.querySelector(\"{STAGE}[inert]\")")
        free = page.evaluate(STAGE_STATE, title)
        assert free["inert"] == 0 and free["hidden"] == 0 and free["found"], free
        _shot(page, artifacts, "1280x720-answered-reachable")
    finally:
        context.close()


@pytest.mark.parametrize("key", ["learned_noise", "counts_mse"])
def test_presenting_keeps_a_long_pair_on_one_line_uncut(server, browser, artifacts, key):
    """At 1280 the longest pair lines ("Linear (identity) + Gaussian NLL (learned variance)
    ✓ matched") wrapped to two lines; they are set smaller until they fit, whole."""
    context, page = _open(browser, server, f"preset={key}&present=1&ask=0", 1280, 720)
    try:
        heading = ".st-key-lfe_pair_heading h1"
        page.wait_for_function(f"() => document.querySelector('{heading}')?.dataset.lfeFit")
        seen = page.evaluate(f"""() => {{ const h = document.querySelector('{heading}');
          const style = getComputedStyle(h);
          return {{height: h.getBoundingClientRect().height,
                   line: parseFloat(style.lineHeight), size: parseFloat(style.fontSize),
                   scroll: h.scrollWidth, width: h.clientWidth, text: h.textContent}}; }}""")
        assert "matched" in seen["text"], seen
        assert seen["height"] < 1.5 * seen["line"], seen  # one line
        assert seen["scroll"] <= seen["width"] + 1, seen  # nothing cut off
        assert seen["size"] >= 15, seen
        _shot(page, artifacts, f"present-1280x720-header-{key}")
    finally:
        context.close()
