"""A class in real Chromium: what the protocol client (benchmarks/bench_load.py) cannot see.

Five independent browser sessions open one shared link at once, each makes its own change,
and each page shows its own run with a working playback bar. Two sessions on one server
keep their upload and their lesson to themselves, and a link with ``dataset=upload`` never
carries another person's rows.
"""

from __future__ import annotations

import re
import time

import pytest

from explorer import config as cfg
from explorer import presets
from tests.e2e.helpers import (
    bar,
    choose_starting,
    current_key,
    current_query,
    no_exception,
    wait_for_query,
    wait_idle,
)

pytestmark = pytest.mark.e2e

TRAIN = ".st-key-train_chart .js-plotly-plot"
SURFACE = ".st-key-surface_chart .js-plotly-plot"
LINK = "/?epochs=60&autoplay=0"
"""The shared link: the default scenario, short, not replaying by itself (so a step starts
from a known frame)."""
SHARED = cfg.from_query({"epochs": ["60"]})[0]

WATCH = """
window.__lfeTimes = window.__lfeTimes || {};
window.__lfeWatch = (label, key, chart, query, fromNavigation) => {
  const t0 = fromNavigation ? 0 : performance.now();
  const timer = setInterval(() => {
    const params = new URLSearchParams(location.search);
    if (query && Object.entries(query).some(([k, v]) => params.get(k) !== v)) return;
    if (!document.querySelector(`.run-complete[data-run-key='${key}']`)) return;
    const g = document.querySelector(chart);
    if (!g || !g.layout || g.layout.meta !== key || !g._transitionData
        || !(g._transitionData._frames || []).length) return;
    const target = chart.split(' ')[0];
    if (!document.querySelector(`.lfe-playback[data-target='${target}'][data-ready='1']`))
      return;
    window.__lfeTimes[label] = (performance.now() - t0) / 1000;
    clearInterval(timer);
  }, 100);
};
"""
"""Times a page's own readiness in the page (the test waits for the pages one after the
other, so a Python clock would charge each page for the ones before it)."""


def _watch_open(key: str, chart: str) -> str:
    return (WATCH + "if (window === window.top) "
            f"window.__lfeWatch('open', '{key}', '{chart}', null, true);")


def _ready_time(page, label: str) -> float:
    # a slow poll (five pages share two cores with the server, and this is only a clock),
    # and a long wait: five cold Plotly bundles on a busy machine
    page.wait_for_function("l => window.__lfeTimes && l in window.__lfeTimes", arg=label,
                           polling=500, timeout=150_000)
    return page.evaluate("l => window.__lfeTimes[l]", label)


def _meta(page, chart: str) -> str:
    return page.locator(chart).first.evaluate("g => g.layout.meta")


def _wait_meta(page, chart: str, key: str, timeout: float = 30_000) -> None:
    """Once the page has drawn to its end, its chart soon shows ``key``'s run (and not,
    say, a cached run of another scenario: then fail with what it does show)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "([c, k]) => { const g = document.querySelector(c);"
            " return g && g.layout && g.layout.meta === k; }", arg=[chart, key],
            timeout=timeout, polling=250)
    except PlaywrightTimeout:
        shown = _meta(page, chart) if page.locator(chart).count() else None
        raise AssertionError(f"the chart shows run {shown!r}, not {key!r}") from None


def _one_step_forward(page, chart: str) -> None:
    """Step back twice from the last frame, then forward once: the bar and the figure's own
    slider both move exactly one frame (the slider's label follows)."""
    playback = bar(page, chart)
    graph = page.locator(chart).first
    names = graph.evaluate("g => g._transitionData._frames.map(f => f.name)")
    target = chart.split(" ")[0]
    at = "([t, n]) => document.querySelector(`.lfe-playback[data-target='${t}']`)" \
         ".dataset.current === n"
    for name in (names[-2], names[-3]):
        playback.locator("button[data-act=back]").click()
        page.wait_for_function(at, arg=[target, name])
    before = graph.evaluate("g => g._fullLayout.sliders[0].active")
    assert before == len(names) - 3
    playback.locator("button[data-act=forward]").click()
    page.wait_for_function("([g, i]) => document.querySelector(g)._fullLayout.sliders[0]"
                           ".active !== i", arg=[chart, before], timeout=30_000)
    page.wait_for_timeout(300)  # a second step, if the bar made one, lands by now
    after = graph.evaluate("g => g._fullLayout.sliders[0].active")
    assert (after, playback.get_attribute("data-current")) == (before + 1, names[-2])
    assert playback.get_attribute("data-playing") != "1"
    label = graph.locator(".slider-container text.slider-label").first.text_content()
    assert label.startswith(f"Epoch {names[-2]}"), label


def _seed(page) -> None:
    page.get_by_role("spinbutton", name="Seed").fill("7")
    page.keyboard.press("Enter")


def _loss(page) -> None:
    choose_starting(page, "Loss", "Mean squared error")


def _view(page) -> None:
    page.locator("[data-testid='stMain'] [role='radiogroup']").get_by_text(
        "Error surface", exact=True).click()


def _problem(page) -> None:
    choose_starting(page, "Problem type", "Regression")


def _present(page) -> None:
    page.get_by_text("Presenting", exact=True).first.click()


# name: (the change, what the URL then says, the scenario the chart must show, its chart)
SESSIONS = {
    "seed": (_seed, {"seed": "7"}, SHARED.replace(seed=7), TRAIN),
    "loss": (_loss, {"loss": "mse"}, SHARED.replace(loss="mse"), TRAIN),
    "view": (_view, {"view": "Error surface"}, SHARED, SURFACE),
    # a new problem brings its dataset and pair; the link's training settings (60 epochs)
    # are not a problem's recipe, so they stay
    "problem": (_problem, {"problem": "regression"},
                SHARED.replace(**{k: getattr(cfg.default_for("regression"), k) for k in (
                    "problem", "dataset", "noise", "output_activation", "loss")}), TRAIN),
    "present": (_present, {"present": "1"}, SHARED, TRAIN),
}


def test_five_sessions_open_one_link_and_each_keeps_its_own_change(server, browser):
    started = time.perf_counter()
    contexts, pages, opened, changed = [], {}, {}, {}
    try:
        # one browser profile, five tabs: five Streamlit sessions (a session is a page's
        # websocket), sharing the HTTP cache as a classroom's browsers share nothing but
        # the server; five profiles made each tab compile Plotly's 4.6 MB again
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        context.add_init_script(_watch_open(SHARED.key(), TRAIN))
        for name in SESSIONS:
            page = context.new_page()
            page.set_default_timeout(90_000)
            pages[name] = page
        # all five at once: return as soon as each navigation is under way
        for page in pages.values():
            page.goto(server + LINK, wait_until="commit")
        for name, page in pages.items():
            opened[name] = _ready_time(page, "open")
            wait_idle(page)
            no_exception(page)
            assert _meta(page, TRAIN) == SHARED.key() == current_key(page)
            assert page.get_by_role("spinbutton", name="Seed").input_value() == "0"
        # then each makes its own change, all before any is waited for
        for name, page in pages.items():
            change, query, config, chart = SESSIONS[name]
            page.evaluate("([k, c, q]) => window.__lfeWatch('change', k, c, q, false)",
                          [config.key(), chart, query])
            change(page)
        for name, page in pages.items():
            change, query, config, chart = SESSIONS[name]
            for k, v in query.items():
                wait_for_query(page, k, v)
            page.wait_for_selector(f".run-complete[data-run-key='{config.key()}']",
                                   state="attached", timeout=150_000)
            _wait_meta(page, chart, config.key())
            changed[name] = _ready_time(page, "change")
            wait_idle(page)
        keys = {}
        for name, page in pages.items():
            change, query, config, chart = SESSIONS[name]
            no_exception(page)
            assert {k: current_query(page).get(k) for k in query} == query
            assert current_key(page) == config.key(), name
            assert _meta(page, chart) == config.key(), name
            assert page.locator(f".run-complete[data-run-key='{config.key()}']").count() >= 1
            keys[name] = config.key()
            _one_step_forward(page, chart)
            no_exception(page)
        # three new scenarios and two pages still on the shared one: the key checks above
        # tell the pages apart
        assert len({keys["seed"], keys["loss"], keys["problem"], SHARED.key()}) == 4
        assert keys["view"] == keys["present"] == SHARED.key()
        # each change stayed in its own page: link, and sidebar (presenting hides it)
        for name, page in pages.items():
            q = current_query(page)
            assert (q.get("seed"), q.get("view"), q.get("present"), q.get("problem")) == (
                "7" if name == "seed" else "0",
                "Error surface" if name == "view" else "Train",
                "1" if name == "present" else None,
                "regression" if name == "problem" else "binary"), name
            assert q["loss"] == ("mse" if name in ("loss", "problem") else "bce"), name
            sidebar = page.locator("section[data-testid='stSidebar']")
            assert sidebar.is_visible() == (name != "present"), name
    finally:
        for context in contexts:
            context.close()
        # reported, never asserted: they measure the machine as much as the app
        print(f"\nfive sessions, wall {time.perf_counter() - started:.1f} s")
        for name in SESSIONS:
            print(f"  {name:8s} open→ready {opened.get(name, float('nan')):5.2f} s   "
                  f"change→ready {changed.get(name, float('nan')):5.2f} s")


LESSON = "why_not_mse_bce"
UPLOAD_LINK = "/?dataset=upload&epochs=60&autoplay=0"


def _csv(path, rows: int = 120, seed: int = 1):
    """Animals by height and weight: a CSV whose column names appear on the chart's axes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 2))
    label = np.where(X[:, 0] + X[:, 1] > 0, "cat", "dog")
    lines = ["height,weight,animal"] + [f"{a:.3f},{b:.3f},{c}" for (a, b), c in zip(X, label)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sidebar(page):
    return page.locator("[data-testid='stSidebar']")


def _rows_caption(page) -> list[str]:
    return _sidebar(page).get_by_text(re.compile(r"^\d+ rows\.")).all_inner_texts()


def _x_title(page) -> str:
    return page.locator(TRAIN).first.evaluate("g => g.layout.xaxis.title.text")


def _told_to_upload(page) -> None:
    """The page (drawn to its end: wait_idle first) asks for the file and shows no data.
    The uploader and markdown are lazily loaded components: wait for them a little."""
    for text in ("Upload a CSV file in the sidebar", "a link cannot carry a file"):
        page.get_by_text(text).first.wait_for(timeout=15_000)
    _sidebar(page).locator("input[type='file']").wait_for(state="attached", timeout=15_000)
    # element containers are drawn at once, whatever their component is still loading
    assert page.locator(".st-key-train_chart").count() == 0
    assert page.locator(".lfe-playback").count() == 0
    assert _rows_caption(page) == []
    assert page.get_by_text("animals.csv").count() == 0


def test_two_sessions_on_one_server_keep_their_upload_and_lesson_apart(
        server, browser, tmp_path):
    path = _csv(tmp_path / "animals.csv")
    lesson = presets.get(LESSON)
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(3)]
    a, b, c = (context.new_page() for context in contexts)
    for page in (a, b, c):
        page.set_default_timeout(60_000)
    try:
        a.goto(server + UPLOAD_LINK, wait_until="commit")
        b.goto(f"{server}/?preset={LESSON}&autoplay=0&ask=0", wait_until="commit")
        a.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
        _sidebar(a).locator("input[type='file']").set_input_files(str(path))
        wait_idle(a)
        wait_idle(b)
        for page in (a, b):
            no_exception(page)

        # A: its own rows on its chart, and no lesson
        (rows,) = _rows_caption(a)
        assert rows.startswith("120 rows.")
        assert _x_title(a) == "height (standardized)"
        assert _sidebar(a).get_by_text("animals.csv").count() == 1
        assert _sidebar(a).locator(".st-key-csv_file").count() == 1
        assert "preset" not in current_query(a)
        assert a.get_by_text(re.compile(r"^Lesson: ")).count() == 0
        assert a.get_by_text(lesson.title).count() == 0
        a_key = _meta(a, TRAIN)
        assert a_key == current_key(a) == cfg.from_query(
            {"dataset": ["upload"], "epochs": ["60"]})[0].key()

        # B: the lesson, on the lesson's data; no file, no rows, no axis named after A's columns
        assert current_query(b)["preset"] == LESSON
        assert b.get_by_text(f"Lesson: {lesson.title}.").first.is_visible()
        assert _meta(b, TRAIN) == lesson.config.key() == current_key(b)
        assert _sidebar(b).locator(".st-key-csv_file").count() == 0
        assert b.get_by_text("animals.csv").count() == 0 and _rows_caption(b) == []
        assert "height" not in _x_title(b)
        assert "height" not in b.locator("[data-testid='stMain']").inner_text()

        # B changes its seed: B's run changes, A's page keeps its chart and its link
        a_query = current_query(a)
        b.get_by_role("spinbutton", name="Seed").fill("7")
        b.keyboard.press("Enter")
        wait_for_query(b, "seed", "7")
        wait_idle(b)
        assert _meta(b, TRAIN) == lesson.config.replace(seed=7).key() != lesson.config.key()
        assert b.get_by_text("You have changed this lesson's settings").first.is_visible()
        assert _meta(a, TRAIN) == a_key and current_query(a) == a_query
        assert _x_title(a) == "height (standardized)"
        assert _rows_caption(a) == [rows]
        no_exception(a)

        # C: a fresh session on A's exact link is asked for the file, never shown A's rows
        c.goto(a.url)
        wait_idle(c, chart=False)
        no_exception(c)
        assert current_query(c) == a_query
        _told_to_upload(c)

        # A reloads its own link: a reload is a new session, and the file went with the old
        a.reload()
        wait_idle(a, chart=False)
        no_exception(a)
        _told_to_upload(a)
    finally:
        for context in contexts:
            context.close()
