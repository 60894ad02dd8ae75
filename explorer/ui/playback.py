"""The playback bar under an animated chart, and presenting mode's page styling."""

from __future__ import annotations

import json

import streamlit as st

from explorer.figures import playback
from explorer.ui import state

FIRST_CHARTS = ("train_chart", "surface_chart", "calibration_chart", "race_chart",
                "anatomy_chart", "gradient_chart")
"""Each view's first chart: it takes the window's height left under the header, the lesson
and the views' row, above its playback bar (the charts are drawn with height="stretch";
``Plotly.relayout`` of the height would be undone by Streamlit)."""


def _heights(css: str) -> str:
    return ", ".join(f".st-key-{key}" for key in FIRST_CHARTS) + " { " + css + " }"


COMMON_CSS = """
/* the chosen segment's text meets WCAG AA contrast on its pale blue (Streamlit's is 4.48) */
[data-testid="stMain"] [data-variant="segmented_control"][aria-checked="true"] p {
  color: #1d4ed8 !important; }
/* typeset formulas wrap at their operators instead of running out of their box (a box
   that scrolls is also a scroll region a keyboard cannot reach), in the page and the
   sidebar alike */
.katex-display { overflow: visible !important; margin: 0.3em 0; }
.katex-display > .katex { white-space: normal !important; max-width: 100%; }
.katex-display > .katex > .katex-html { display: block; white-space: normal !important; }
.katex .base { margin-top: 0.15em; }
[data-testid="stMarkdownContainer"]:has(.katex-display) { overflow: visible !important; }
"""

PAGE_CSS = f"""
<style>
[data-testid="stMainBlockContainer"] {{ padding-top: 1rem; padding-left: 1.5rem;
  padding-right: 1.5rem; padding-bottom: 3rem; }}
[data-testid="stMainBlockContainer"] h1 {{ font-size: 1.3rem; padding: 0.2rem 0;
  margin: 0; line-height: 1.3; white-space: nowrap; }}
[data-testid="stMarkdownContainer"]:has(.lfe-pair) p {{ font-size: 15px; }}
/* the first screen: one-line header, the lesson, the views, then the chart and its bar */
{_heights("height: var(--lfe-first-chart, clamp(370px, calc(100vh - 262px), 640px));")}
.st-key-final_numbers [data-testid="stMetricValue"] {{ font-size: 1.5rem; }}
[data-testid="stMain"] [data-testid="stAlert"] p {{ margin-bottom: 0; }}
/* less air between the blocks above the chart: every pixel goes to the chart */
[data-testid="stMain"] [data-testid="stVerticalBlock"] {{ gap: 0.6rem; }}
/* the lesson's box and its details' header, tight: they share the first screen */
[data-testid="stMain"] [data-testid="stAlertContainer"] {{ padding: 0.55rem 0.9rem; }}
[data-testid="stMain"] [data-testid="stExpander"] summary {{ padding-top: 0.3rem;
  padding-bottom: 0.3rem; }}
{COMMON_CSS}
</style>
"""
"""A tight page whose first chart and its playback bar fit a laptop's first screen."""

FIT_SCRIPT = """
<script>
// The first chart takes the window's height left under whatever sits above it (a lesson
// of one line or three), above its playback bar: a CSS variable on the root element, which
// Streamlit's re-renders leave alone. Installed once per page; runs when the page changes
// (elements added or removed, a box resized), at most four times a second.
(function () {
  if (window.__lfeFit) return;
  window.__lfeFit = true;
  const KEYS = {keys};
  function fit() {
    place();
    // the window size the page is fitted to (browser tests wait for it after a resize)
    document.documentElement.dataset.lfeFitted = innerWidth + "x" + innerHeight;
  }
  function place() {
    const main = document.querySelector("[data-testid='stMain']");
    if (!main) return;
    // presenting mode's chart leaves room for a lesson's question (or its reveal) above it
    const lesson = main.querySelector(".st-key-lfe_lesson");
    const asked = lesson ? Math.round(lesson.getBoundingClientRect().height + 10) + "px" : "0px";
    if (document.documentElement.style.getPropertyValue("--lfe-lesson-h") !== asked) {
      document.documentElement.style.setProperty("--lfe-lesson-h", asked);
    }
    const chart = KEYS.map((k) => document.querySelector(".st-key-" + k)).find((e) => e);
    if (!chart) return;
    const top = chart.getBoundingClientRect().top + main.scrollTop;
    const bar = document.querySelector("[data-testid='stMain'] [role='toolbar'][data-target]");
    const below = (bar ? bar.getBoundingClientRect().height : 40) + 30;
    const height = Math.round(Math.max(0.505 * innerHeight,
                                       Math.min(640, innerHeight - top - below)));
    const now = document.documentElement.style.getPropertyValue("--lfe-first-chart");
    if (now !== height + "px") {
      document.documentElement.style.setProperty("--lfe-first-chart", height + "px");
    }
  }
  // every chart carries a short text alternative: its title, else its panels' titles
  function label() {
    document.querySelectorAll("[data-testid='stPlotlyChart']").forEach((holder) => {
      const gd = holder.querySelector(".js-plotly-plot");
      if (!gd || !gd.layout) return;
      const plain = (t) => String(t || "").replace(/<[^>]*>/g, " ").replace(/\\s+/g, " ")
        .trim();
      const title = plain(gd.layout.title && gd.layout.title.text);
      const panels = (gd.layout.annotations || []).filter((a) => a.xref === "paper"
        && a.yref === "paper" && a.yanchor === "bottom").map((a) => plain(a.text));
      const text = "Chart: " + (title ? [title] : panels).filter((t) => t).join("; ");
      if (holder.getAttribute("aria-label") !== text) {
        holder.setAttribute("role", "figure");
        holder.setAttribute("aria-label", text);
      }
    });
  }
  // the sidebar scrolls: a keyboard must be able to reach it even while its widgets are
  // disabled by a rerun
  function sidebar() {
    const side = document.querySelector("[data-testid='stSidebarContent']");
    if (side && !side.hasAttribute("tabindex")) {
      side.tabIndex = 0;
      side.setAttribute("role", "region");
      side.setAttribute("aria-label", "Settings");
    }
  }
  // a typeset formula still wider than its box once wrapped (one big bracket cannot
  // break) is scaled down until it fits, to half its size at most
  function overflows(formula, box) {
    const right = box.getBoundingClientRect().right;
    return Array.from(formula.querySelectorAll(".base"))
      .some((b) => b.getBoundingClientRect().right > right + 1);
  }
  function formulas() {
    document.querySelectorAll(".katex").forEach((formula) => {
      const display = formula.parentElement.classList.contains("katex-display");
      const box = display ? formula.parentElement : formula.parentElement.closest("p, li, div");
      if (!box || !box.clientWidth || formula.dataset.lfeFit === String(box.clientWidth)) return;
      let size = 100;
      const set = (s) => { formula.style.fontSize = s === 100 ? "" : (1.21 * s / 100) + "em"; };
      set(size);
      while (overflows(formula, box) && size > 50) { size -= 5; set(size); }
      formula.dataset.lfeFit = String(box.clientWidth);
    });
  }
  // presenting mode's pair line stays on one line: a long pair is set smaller until it
  // fits its column (measured, since letters differ in width), never under 15px
  function heading() {
    const h = document.querySelector("[data-testid='stMain'] .st-key-lfe_pair_heading h1");
    if (!h || !h.clientWidth) return;
    const key = h.textContent + "|" + h.clientWidth;
    if (h.dataset.lfeFit === key) return;
    h.style.fontSize = "";
    let size = parseFloat(getComputedStyle(h).fontSize);
    while (h.scrollWidth > h.clientWidth + 1 && size > 15) {
      size -= 1;
      h.style.fontSize = size + "px";
    }
    h.dataset.lfeFit = key;
  }
  // what changes inside a chart's drawing (each frame of a replay) can only change its
  // text alternative: the rest, which reads the layout, waits for a change around it
  const sizes = new ResizeObserver(() => schedule(true));
  const watched = new WeakSet();
  function watch() {
    document.querySelectorAll("[data-testid='stMainBlockContainer'], "
                              + "[data-testid='stSidebarContent']").forEach((box) => {
      if (!watched.has(box)) { watched.add(box); sizes.observe(box); }
    });
  }
  let queued = false, layout = false;
  function run() {
    queued = false;
    if (layout) { layout = false; watch(); fit(); sidebar(); formulas(); heading(); }
    label();
  }
  function schedule(all) {
    layout = layout || all;
    // at most four times a second: while the page is being built, its elements arrive in
    // a stream, and each run reads the layout
    if (!queued) { queued = true; setTimeout(() => requestAnimationFrame(run), 250); }
  }
  new MutationObserver((records) => schedule(records.some((r) =>
    !(r.target.closest && r.target.closest(".svg-container")))))
    .observe(document.body, {childList: true, subtree: true});
  addEventListener("resize", () => { fit(); schedule(true); });
  schedule(true);
})();
</script>
"""

PRESENTING_CSS = f"""
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 1.5rem 0.2rem 1.5rem !important;
  max-width: 100% !important; }}
[data-testid="stMainBlockContainer"] h1 {{ font-size: 1.5rem; padding: 0.1rem 0; margin: 0;
  line-height: 1.3; }}
.st-key-lfe_pair_heading h1 {{ white-space: nowrap; overflow: hidden; }}
/* the chart fills the window under the one-line header, above the playback bar */
{_heights("height: max(380px, calc(100vh - 150px - var(--lfe-lesson-h, 0px)));")}
/* a lesson's question and what happened, read from the back of the room */
.st-key-lfe_lesson [data-testid="stMarkdownContainer"] p, .st-key-lfe_lesson .lfe-pending {{
  font-size: 1.2rem; }}
/* the Learn page read from the back of the room */
.st-key-learn [data-testid="stMarkdownContainer"] p {{ font-size: 1.3rem; }}
{COMMON_CSS}
</style>
"""

def bar(chart_key: str, figure: dict, run_key: str, redraw: bool = False,
        autoplay: bool = False, compact: bool = False) -> None:
    """Play, pause, restart, step and speed for ``figure``, the chart drawn with
    ``key=chart_key`` (``compact``: for a chart in half the page's width)."""
    if held():
        # a bar of its own while the replay waits: the bar drawn once the student has
        # answered binds to the chart afresh (a bar follows a chart once per run key)
        run_key = f"{run_key}:waiting"
    st.html(playback.bar_html(f".st-key-{chart_key}", figure, run_key, redraw=redraw,
                              autoplay=autoplay, compact=compact),
            unsafe_allow_javascript=True)


def page_style(presenting: bool) -> None:
    """Tighter page; in presenting mode no sidebar and no page header (the settings stay
    in the URL)."""
    if presenting:
        st.html(PRESENTING_CSS + FIT_SCRIPT.replace("{keys}", "[]"),
                unsafe_allow_javascript=True)
    else:
        st.html(PAGE_CSS + FIT_SCRIPT.replace("{keys}", json.dumps(FIRST_CHARTS)),
                unsafe_allow_javascript=True)


# ----------------------------------------------------------------------------------------
# The autoplay gate: a lesson's replay waits for the student's prediction

GATE = "_replay_gate"
"""This script run's gate (``lesson.gate``): "hold", "go" or None."""


def set_gate(gate: str | None) -> None:
    """Set at the start of each script run, before any chart is drawn."""
    st.session_state[GATE] = gate


def held() -> bool:
    """True while a lesson's question waits for an answer: no replay plays by itself."""
    return st.session_state.get(GATE) == "hold"


def autoplay() -> bool:
    """Whether a new replay plays by itself: never while a question waits; always right
    after the student answered (the answer asks to watch); else as Play when ready says."""
    gate = st.session_state.get(GATE)
    if gate == "hold":
        return False
    return gate == "go" or bool(st.session_state.get(state.AUTOPLAY, True))


HOLD_KEYS = """
<script>
// while a lesson's question waits, the playback keys (space, arrows) do not start the
// replay behind it: caught on the window before the bars' own listener on the document
(function () {
  if (window.__lfeHoldKeys) return;
  window.__lfeHoldKeys = true;
  window.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target && (target.isContentEditable
      || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (!typing && [" ", "ArrowLeft", "ArrowRight"].includes(event.key)
        && document.querySelector(".st-key-lfe_question")) {
      event.preventDefault();  // as the bars do: space must not scroll the page either
      event.stopImmediatePropagation();
    }
  }, true);
})();
</script>
"""
"""Drawn with a lesson's question: the replay's keys wait for the answer too."""


PENDING_CSS = """
<style>
.lfe-pending { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem 0.8rem;
  background: rgba(28, 131, 225, 0.1); color: #004280; border-radius: 0.5rem;
  padding: 0.55rem 0.9rem; font-size: 16px; line-height: 1.5; }
.lfe-pending .lfe-question { font-weight: 600; }
.lfe-pending button { font: inherit; font-size: 15px; color: #1d4ed8; background: #ffffff;
  border: 1px solid #93c5fd; border-radius: 0.5rem; padding: 0.1rem 0.7rem;
  cursor: pointer; margin-left: auto; }
.lfe-pending button:hover { border-color: #2563eb; }
</style>
"""


def pending_html(reveal_id: str, question: str, chosen: str) -> str:
    """The question and the student's prediction while the replay plays (``question`` and
    ``chosen`` already escaped), with a button that reveals at once."""
    return (f'{PENDING_CSS}<div class="lfe-pending" role="status">'
            f'<span class="lfe-question">{question}</span><span>{chosen}. What happened '
            f'shows when the replay ends.</span>'
            f'<button type="button" data-lfe-show="{reveal_id}">Show it now</button></div>')


REVEAL_SCRIPT = """
<style>
.st-key-lfe_after_{id} { display: none !important; }
html.lfe-revealed-{id} .st-key-lfe_after_{id} { display: flex !important; }
html.lfe-revealed-{id} .st-key-lfe_before_{id} { display: none !important; }
</style>
<script>
// The reveal (what happened) waits until the replay has ended: the page's first playback
// bar stands on its last frame and is not playing; a page without a replay (a static chart,
// a run that stopped at once) reveals once it has finished drawing. Revealed stays revealed
// in this window. Elements the rerun has not yet replaced (Streamlit marks them stale: the
// last run's bar, the question screen's run marker) say nothing about this run's replay.
(function () {
  const id = "{id}", runKey = "{run}";
  const memo = window.__lfeReveal || (window.__lfeReveal = { shown: {}, watching: {} });
  memo.check = memo.check || {};
  const root = document.documentElement;
  function show() { memo.shown[id] = true; root.classList.add("lfe-revealed-" + id); }
  function buttons() {
    document.querySelectorAll("[data-lfe-show='" + id + "']").forEach((b) => {
      if (!b.dataset.bound) { b.dataset.bound = "1"; b.addEventListener("click", show); }
    });
  }
  function current(nodes) {
    return Array.from(nodes).filter((n) => !n.closest("[data-stale='true']"));
  }
  function check() {
    buttons();
    if (memo.shown[id]) { show(); return; }
    const main = document.querySelector("[data-testid='stMain']");
    if (!main || !main.querySelector(".st-key-lfe_after_" + id)) return;
    const bar = current(main.querySelectorAll("[role='toolbar'][data-target][data-run]"))[0];
    if (!bar) {
      const done = current(main.querySelectorAll(".run-complete"))
        .some((m) => m.dataset.runKey === runKey);
      if (done) show();
      return;
    }
    if (bar.dataset.ready !== "1" || bar.dataset.playing === "1") return;
    const holder = document.querySelector(bar.dataset.target);
    const gd = holder && holder.querySelector(".js-plotly-plot");
    const frames = (gd && gd._transitionData && gd._transitionData._frames) || [];
    if (frames.length && bar.dataset.current === String(frames[frames.length - 1].name)) {
      show();
    }
  }
  memo.check[id] = check;  // the newest page's test, also for the interval already running
  if (memo.shown[id]) { show(); return; }
  buttons();
  if (memo.watching[id]) return;
  memo.watching[id] = setInterval(() => memo.check[id](), 250);
})();
</script>
"""


def reveal_html(reveal_id: str, run_key: str) -> str:
    """Hides the reveal (``.st-key-lfe_after_<id>``) and shows the question with the
    prediction (``.st-key-lfe_before_<id>``) until the replay has ended."""
    return (REVEAL_SCRIPT.replace("{id}", reveal_id)
            .replace("{run}", json.dumps(run_key)[1:-1]))
