"""The first screen is the lesson: on a laptop (and on a projector in presenting mode) each
view's first chart and its playback bar lie inside the window without scrolling (a lesson's
page while its question waits and again once what happened shows), the chart at least half
the window's height, no typeset formula runs out of its box, and no text inside a chart (titles,
tick labels, legend, notes) overlaps another or leaves the figure.
One browser context per walk; each page is measured at each size by resizing the window."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from explorer import config as cfg
from explorer import experiment, export, presets
from explorer.figures import training
from tests.e2e.helpers import no_exception, wait_idle

pytestmark = pytest.mark.e2e

LAPTOPS = [(1280, 720), (1366, 768)]
SCREENS = [*LAPTOPS, (1920, 1080)]
"""The laptops' first screen, and a desktop's (where nothing may overlap either)."""
PROJECTORS = [(1280, 720), (1920, 1080)]
ANIMATED_VIEWS = ["Train", "Error surface", "Loss anatomy", "Calibration", "Compare"]

FIRST_SCREEN = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const bar = main.querySelector(".lfe-playback");
  const holder = bar ? document.querySelector(bar.dataset.target) : null;
  const chart = holder ? holder.querySelector(".js-plotly-plot")
                       : main.querySelector(".js-plotly-plot");
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                     return {top: r.top, bottom: r.bottom, height: r.height}; };
  const formulas = Array.from(document.querySelectorAll(".katex-display")).filter(f => {
    const outer = f.getBoundingClientRect(), inner = f.querySelector(".katex-html");
    if (!inner || !outer.width) return false;
    return Array.from(inner.querySelectorAll(".base")).some(b =>
      b.getBoundingClientRect().right > outer.right + 2);
  }).map(f => f.textContent.slice(0, 60));
  const charts = main.querySelectorAll("[data-testid='stPlotlyChart']").length;
  return {chart: box(chart), bar: box(bar), scrolled: main.scrollTop, formulas: formulas,
          charts: charts};
}"""


CHART_TEXTS = """() => {
  // every text a chart draws, by owner (the figure's title, an axis title, one axis's tick
  // labels, the legend, an annotation, the colour bar's title, the slider's value): no two
  // owners' boxes may touch, no two ticks of one axis either, and none leaves the figure
  const found = [];
  document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot").forEach(g => {
    const svg = g.querySelector(".main-svg");
    if (!svg) return;
    const frame = svg.getBoundingClientRect();
    const name = (g.closest("[class*='st-key-']") || g).className.toString()
      .split(" ").filter(c => c.startsWith("st-key-")).join("") || "chart";
    const items = [];
    const add = (el, owner, many) => {
      const r = el.getBoundingClientRect(), style = getComputedStyle(el);
      if (r.width < 1 || r.height < 3 || style.display === "none"
          || style.visibility === "hidden" || style.opacity === "0") return;
      const text = (el.textContent || "").trim().slice(0, 40) || owner;
      items.push({owner, many, text, l: r.left, r: r.right, t: r.top, b: r.bottom});
    };
    g.querySelectorAll("text").forEach(e => {
      const c = e.getAttribute("class") || "";
      const group = e.parentElement.getAttribute("class") || "";
      if (c === "gtitle" || c === "gtitle-subtitle") add(e, "title", false);
      else if (/^[xy]\\d*title$/.test(c)) add(e, c, false);
      else if (e.closest(".cbtitle")) add(e, "colour-bar title", false);
      else if (/tick$/.test(group)) add(e, group, true);
      else if (c === "annotation-text") add(e, "annotation " + items.length, false);
      else if (c === "slider-label" && !e.closest(".slider-labels")) add(e, "slider", false);
    });
    g.querySelectorAll(".legend > .bg").forEach(e => add(e, "legend", false));
    for (let i = 0; i < items.length; i++) {
      const a = items[i];
      if (a.l < frame.left - 1 || a.r > frame.right + 1 || a.t < frame.top - 1
          || a.b > frame.bottom + 1) found.push(`${name}: ${a.owner} "${a.text}" cut off`);
      for (let j = i + 1; j < items.length; j++) {
        const b = items[j];
        if (a.owner === b.owner && !a.many) continue;
        const w = Math.min(a.r, b.r) - Math.max(a.l, b.l);
        const h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
        // ticks of one axis may share a row or a column, not a spot; others may not touch
        const gap = a.owner === b.owner ? 0.5 : -0.5;
        if (w > gap && h > gap) found.push(
          `${name}: ${a.owner} "${a.text}" touches ${b.owner} "${b.text}"`);
      }
    }
  });
  return found;
}"""
"""What overlaps inside the page's charts, as sentences (empty when nothing does)."""


def _settled(page) -> None:
    """Every chart has drawn at its container's size (after a load or a resize)."""
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll(\"[data-testid='stMain'] "
        "[data-testid='stPlotlyChart']\")).every(c => { const g = c.querySelector("
        "'.js-plotly-plot'); return g && g._fullLayout && Math.abs(g._fullLayout.height"
        " - c.getBoundingClientRect().height) < 2; })")
    # every typeset formula has been fitted to its box (the page scales a wide one down)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.katex')).every(f => {"
        " const d = f.parentElement.classList.contains('katex-display');"
        " const box = d ? f.parentElement : f.parentElement.closest('p, li, div');"
        " return !box || !box.clientWidth || f.dataset.lfeFit === String(box.clientWidth);"
        " })")
    bar = page.locator("[data-testid='stMain'] .lfe-playback").first
    if bar.count():
        page.wait_for_selector(".lfe-playback[data-ready='1']", state="attached")


def _check_first_screen(page, where: str, width: int, height: int,
                        texts: bool = True) -> None:
    """``texts``: also that no text inside a chart overlaps another (on a still chart)."""
    page.set_viewport_size({"width": width, "height": height})
    # the page script has fitted the chart to this window (it does so as the window's
    # resize event arrives, a frame or more after the new size)
    page.wait_for_function(
        f"() => document.documentElement.dataset.lfeFitted === '{width}x{height}'")
    _settled(page)
    seen = page.evaluate(FIRST_SCREEN)
    label = f"{where} at {width}x{height}: {seen}"
    assert seen["scrolled"] == 0, label
    assert not seen["formulas"], f"formulas overflow their box: {label}"
    if texts:
        clashes = page.evaluate(CHART_TEXTS)
        assert not clashes, f"texts overlap inside a chart at {where} {width}x{height}: {clashes}"
    if not seen["charts"]:
        return  # nothing to replay (a run that stopped at once): its message says why
    chart, bar = seen["chart"], seen["bar"]
    assert chart and chart["top"] >= 0 and chart["bottom"] <= height, label
    assert chart["height"] >= height / 2, label
    if bar is not None:
        assert bar["top"] >= chart["top"] and bar["bottom"] <= height, label


LARGE_TYPE = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const bar = main.querySelector(".lfe-playback");
  const holder = bar ? document.querySelector(bar.dataset.target) : main;
  const g = holder && holder.querySelector(".js-plotly-plot");
  if (!g) return null;
  const ticks = Array.from(g.querySelectorAll(".xtick text, .ytick text"))
    .map(t => parseFloat(getComputedStyle(t).fontSize));
  const L = g._fullLayout;
  const titles = (L.annotations || []).filter(a => a.xref === "paper" && a.yref === "paper"
    && a.yanchor === "bottom").map(a => a.font.size);
  if (L.title && L.title.text && L.title.text.replace(/<[^>]*>/g, "").trim())
    titles.push(L.title.font.size);
  return {tick: Math.min(...ticks), title: Math.min(...titles)};
}"""


IN_VIEW = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const bar = main.querySelector(".lfe-playback");
  const holder = bar ? document.querySelector(bar.dataset.target) : main;
  const chart = holder && holder.querySelector(".js-plotly-plot");
  if (!chart) return true;
  const c = chart.getBoundingClientRect();
  return c.top >= 0 && c.bottom <= innerHeight && c.height >= innerHeight / 2
    && (!bar || bar.getBoundingClientRect().bottom <= innerHeight);
}"""
"""The first chart (at least half the window high) and its playback bar lie in the window."""

REVEALED = """() => Array.from(document.querySelectorAll("[class*='st-key-lfe_after_']"))
  .some((box) => box.getBoundingClientRect().height > 0
                 && box.querySelector("[data-testid='stAlert']"))"""
"""What happened shows (its box drawn and no longer hidden)."""


def _reveal(page, key: str) -> None:
    """Answer the lesson's question (its longest answer: the longest verdict when wrong),
    wait until the page has drawn what happened, hidden, then "Show it now"."""
    answers = presets.get(key).question.answers
    longest = max(range(len(answers)), key=lambda i: len(answers[i]))
    page.locator(f".st-key-predict_{longest} button").click()
    # this run's reveal, drawn under the chart once the question's runs are trained, and
    # nothing left of the question's run
    page.wait_for_function(
        "() => { const after = document.querySelector(\"[class*='st-key-lfe_after_']\");"
        " return after && after.querySelector(\"[data-testid='stAlert']\")"
        " && !document.querySelector(\"[data-stale='true']\")"
        " && document.querySelector('.run-complete'); }")
    # a page without a replay reveals by itself; the button may be hiding as it is pressed
    page.locator("[data-lfe-show]").first.dispatch_event("click")
    page.wait_for_function(REVEALED)


def _check_after_reveal(page, where: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    # the page script fits the chart to what sits above it a moment after that changes:
    # wait for it (a page that never fits fails the check below, with its numbers)
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(IN_VIEW, timeout=10_000)
    _check_first_screen(page, f"{where} after the reveal", width, height, texts=False)


def _walk_revealed(page, artifacts, path: str, key: str, shots: str) -> None:
    """The lesson's page once what happened shows: on the laptops, then presenting (the
    same session, its answer kept) at 1280x720."""
    _reveal(page, key)
    no_exception(page)
    for width, height in LAPTOPS:
        _check_after_reveal(page, path, width, height)
        if key == "imbalanced_focal":  # a verdict of three lines at 1280 wide
            page.screenshot(path=str(artifacts / f"{shots}-revealed-{key}-{width}x{height}.png"))
    # the header's toggle
    page.get_by_text("Presenting", exact=True).first.click()
    page.wait_for_function(
        "() => document.querySelector('.st-key-lfe_pair_heading')"
        " && !document.querySelector(\"[data-stale='true']\")"
        " && document.querySelector('.run-complete')")
    page.wait_for_function(REVEALED)
    width, height = PROJECTORS[0]
    _check_after_reveal(page, f"{path}&present=1", width, height)
    if key == "imbalanced_focal":
        page.screenshot(path=str(artifacts / f"{shots}-revealed-presenting-{key}.png"))


def _walk(browser, server, artifacts, paths: list[str], sizes, shots: str,
          large_type: bool = False, lessons: dict[str, str] | None = None) -> None:
    """``lessons``: the paths whose lesson's question is then answered (path -> lesson)."""
    context = browser.new_context(viewport={"width": sizes[0][0], "height": sizes[0][1]})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for path in paths:
            page.goto(f"{server}/{path}")
            wait_idle(page, chart=False)
            no_exception(page)
            for i, (width, height) in enumerate(sizes):
                _check_first_screen(page, path, width, height)
                if large_type:  # readable from the back of the room
                    sizes_px = page.evaluate(LARGE_TYPE)
                    if sizes_px is not None:
                        assert sizes_px["tick"] >= 14, f"{path}: {sizes_px}"
                        assert sizes_px["title"] >= 18, f"{path}: {sizes_px}"
                if i == 0:
                    name = path.strip("?").replace("&", "-").replace("=", "-").replace("+", "-")
                    page.screenshot(path=str(artifacts / f"{shots}-{name or 'default'}.png"))
            if lessons and path in lessons:
                _walk_revealed(page, artifacts, path, lessons[path], shots)
    finally:
        context.close()


def test_the_default_page_every_view_and_every_lesson_start_on_the_first_screen(
        server, browser, artifacts):
    """Each lesson is measured on its question, then again once what happened shows (its
    longest answer given, revealed at once), on the laptops and presenting."""
    lessons = {f"?preset={key}&autoplay=0": key for key in presets.PRESETS}
    paths = ["?autoplay=0", *(f"?view={v.replace(' ', '+')}&autoplay=0"
                              for v in ANIMATED_VIEWS[1:]),
             *lessons,
             # the losses whose formulas are widest, where Loss anatomy typesets them
             *(f"?preset={key}&autoplay=0&view=Loss+anatomy"
               for key in ("hinge", "imbalanced_focal", "outliers_huber", "skewed_estimates",
                           "why_not_mse_bce", "calibrated_bce_mse"))]
    _walk(browser, server, artifacts, paths, SCREENS, "30-laptop", lessons=lessons)


def test_presenting_mode_fits_every_view_on_a_projector(server, browser, artifacts):
    paths = [f"?present=1&autoplay=0&view={v.replace(' ', '+')}"
             for v in [*ANIMATED_VIEWS, "Learn"]]
    _walk(browser, server, artifacts, paths, PROJECTORS, "31-presenting", large_type=True)


def _autoplay_is_on(page) -> bool:
    toggle = page.locator(".st-key-autoplay input")
    return toggle.is_checked() and "autoplay" not in page.url


def test_play_when_ready_survives_another_view_and_an_upload(server, page, tmp_path):
    page.goto(server)
    wait_idle(page)
    assert _autoplay_is_on(page)
    main = page.locator("[data-testid='stMain'] [role='radiogroup']").first
    main.get_by_text("Error surface", exact=True).click()
    page.wait_for_function("() => location.search.includes('view=Error+surface')")
    wait_idle(page, chart=False)
    main.get_by_text("Train", exact=True).click()
    page.wait_for_function("() => location.search.includes('view=Train')")
    wait_idle(page)
    assert _autoplay_is_on(page)
    assert page.locator(".lfe-playback").first.get_attribute("data-autoplay") == "1"
    # an upload: the page waits for a file, then trains on it
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,label\n" + "".join(
        f"{i % 7 - 3},{(i * 3) % 5 - 2},{int(i % 7 > 3)}\n" for i in range(60)))
    from tests.e2e.helpers import choose
    choose(page, "Dataset", "Your CSV file…")
    page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
    assert _autoplay_is_on(page)
    page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(csv))
    wait_idle(page)
    assert _autoplay_is_on(page)
    assert page.locator(".lfe-playback").first.get_attribute("data-autoplay") == "1"


FIRST_LABELS = """
// every playback label as it is first inserted, before the bar's script has found its chart
window.__lfeFirstLabels = [];
new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
  if (n.nodeType !== 1) return;
  const found = n.matches("[data-role=frame]") ? [n]
    : Array.from(n.querySelectorAll("[data-role=frame]"));
  found.forEach((b) => window.__lfeFirstLabels.push(b.textContent));
}))).observe(document, {childList: true, subtree: true});
"""

OPENING = """() => {
  const bar = document.querySelector(".lfe-playback[data-ready='1']");
  const gd = document.querySelector(bar.dataset.target).querySelector(".js-plotly-plot")
    || document.querySelector(bar.dataset.target);
  const slider = gd.layout.sliders[0];
  return {first: window.__lfeFirstLabels, now: bar.querySelector("[data-role=frame]").textContent,
          names: gd._transitionData._frames.map((f) => f.name),
          steps: slider.steps.map((s) => [s.args[0][0], s.label]), active: slider.active};
}"""


def test_the_playback_label_names_the_opening_frame_from_its_first_paint(server, browser,
                                                                         tmp_path):
    """Never "Epoch …" while the chart loads: the default page's replay opens on epoch 0, a
    page without Play when ready and the exported file on the last epoch; the bar names it
    as it is drawn, as its slider's active step does, and its script keeps that name."""
    run = experiment.run(cfg.DEFAULT.replace(epochs=30, n_samples=200), snapshots=10)
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    exported = tmp_path / "replay.html"
    exported.write_text(export.animation_html(
        training.training_spec(frames, run.history, run.data, "binary"), "replay"))
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(FIRST_LABELS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for url, opens in ((f"{server}/", "start"), (f"{server}/?autoplay=0", "end"),
                           (exported.as_uri(), "end")):
            page.goto(url)
            page.wait_for_selector(".lfe-playback[data-ready='1']", state="attached")
            seen = page.evaluate(OPENING)
            frame = seen["names"][0 if opens == "start" else -1]
            assert seen["first"] and set(seen["first"]) == {frame}, (url, seen["first"])
            assert seen["steps"][0 if opens == "start" else -1][0] == frame
            if opens == "end":  # standing still: the slider's step and the bar agree
                name, label = seen["steps"][seen["active"]]
                assert name == frame == seen["now"] and label.split(" ")[0] == frame, seen
    finally:
        context.close()
