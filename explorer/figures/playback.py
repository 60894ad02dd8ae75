"""The playback bar of an animated figure, as HTML: play, pause, restart, step, speed, keys.

Pure text in, text out: the app inserts it next to a chart and the exported HTML file next
to its figure; the behaviour is ``playback.js`` beside this file.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

SPEEDS = (("0.5", "0.5×"), ("1", "1×"), ("2", "2×"))

STYLE = """
<style>
.lfe-playback { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem;
  font-family: "Source Sans Pro", "Source Sans 3", Helvetica, Arial, sans-serif;
  font-size: 16px; color: #0f172a; margin: 0.1rem 0 0.2rem 0; }
.lfe-playback button { font: inherit; color: #0f172a; background: #ffffff;
  border: 1px solid #cbd5e1; border-radius: 0.5rem; padding: 0.25rem 0.8rem;
  cursor: pointer; line-height: 1.4; }
.lfe-playback button:hover { border-color: #2563eb; color: #1d4ed8; }
.lfe-playback button[data-act=toggle] { min-width: 5.2rem; font-weight: 600;
  background: #2563eb; border-color: #2563eb; color: #ffffff; }
.lfe-playback button[aria-pressed=true] { background: #dbeafe; border-color: #2563eb; }
.lfe-playback .lfe-group { display: inline-flex; gap: 0.25rem; align-items: center;
  margin-left: 0.6rem; }
.lfe-playback .lfe-hint { color: #334155; font-size: 15px; margin-left: 0.6rem; }
.lfe-playback.lfe-compact { gap: 0.25rem; font-size: 15px; }
.lfe-playback.lfe-compact button { padding: 0.2rem 0.5rem; }
.lfe-playback.lfe-compact .lfe-group { margin-left: 0.2rem; font-size: 0; }
.lfe-playback.lfe-compact .lfe-group button { font-size: 15px; }
.lfe-playback.lfe-compact .lfe-hint { display: none; }
</style>
"""


@cache
def script() -> str:
    """The bar's behaviour (plain JavaScript, no dependencies besides Plotly)."""
    return (Path(__file__).with_name("playback.js")).read_text(encoding="utf-8")


def opening_frame(figure: dict) -> str | None:
    """The name of the frame an animated figure (Plotly's plain dict) opens on, as the bar
    reads it once bound (``currentIndex`` in playback.js): its slider's active frame, else its
    last; None for a figure without frames."""
    frames = figure.get("frames") or []
    if not frames:
        return None
    sliders = figure.get("layout", {}).get("sliders") or []
    index = (sliders[0].get("active") or 0) if sliders else len(frames) - 1
    return str(frames[min(index, len(frames) - 1)]["name"])


def bar_html(target: str, figure: dict, run_key: str, redraw: bool = False,
             autoplay: bool = False, label: str = "Epoch", compact: bool = False) -> str:
    """HTML of a playback bar driving ``figure`` (Plotly's plain dict), drawn in the element
    found by CSS selector ``target``.

    ``run_key`` names the figure's content (a replay starts by itself once per key when
    ``autoplay``); ``redraw`` as for the figure's frames (True for 3-D surfaces). The bar
    names the frame the figure opens on from its first paint; its script follows the chart
    from then on.
    """
    speeds = "".join(
        f'<button type="button" data-speed="{value}" '
        f'aria-pressed="{str(value == "1").lower()}">'
        f"{text}</button>" for value, text in SPEEDS)
    attrs = (f'data-target="{html.escape(target)}" data-run="{html.escape(run_key)}" '
             f'data-redraw="{int(redraw)}" data-autoplay="{int(autoplay)}" data-speed="1"')
    return (
        f"{STYLE}<div class=\"lfe-playback{' lfe-compact' if compact else ''}\" {attrs} "
        'role="toolbar" aria-label="Playback">'
        '<button type="button" data-act="toggle">Play</button>'
        '<button type="button" data-act="back">Step back</button>'
        '<button type="button" data-act="forward">Step forward</button>'
        '<button type="button" data-act="restart">Restart</button>'
        f'<span class="lfe-group" role="group" aria-label="Speed">Speed {speeds}</span>'
        f'<span class="lfe-hint">{html.escape(label)} '
        f'<b data-role="frame">{html.escape(opening_frame(figure) or "…")}</b>'
        " · keys: space, ← →</span>"
        f"</div><script>{script()}</script>"
    )
