"""Shared look: class colours, fonts and animation controls, so every view agrees."""

from __future__ import annotations

import base64
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Every figure here is drawn on Plotly's white template. Set as the default once: naming it
# in each figure's layout made Plotly check the whole template again, figure after figure
# (about 20 ms each).
pio.templates.default = "plotly_white"

CLASS_COLORS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
                "#db2777", "#4b5563", "#65a30d")
"""Class j is always CLASS_COLORS[j], in every view."""
CLASS_LIGHT = ("#dbeafe", "#ffedd5", "#dcfce7", "#f3e8ff", "#fee2e2", "#cffafe", "#fef9c3",
               "#fce7f3", "#f3f4f6", "#ecfccb")


def blend(color: str, weight: float, toward: str = "#ffffff") -> str:
    """Mix a hex colour with another: weight 1 keeps it, 0 gives ``toward``."""
    a = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(toward[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(weight * x + (1 - weight) * y):02x}" for x, y in zip(a, b))


CLASS_REGION = tuple(blend(c, 0.55) for c in CLASS_COLORS)
"""Region shade of a confidently predicted class: light enough for the points to show."""
POINT_OUTLINE = "#0f172a"
TRAIN_COLOR = "#1d4ed8"
VAL_COLOR = "#ea580c"
FIT_COLOR = "#111827"
MATCHED_COLOR = "#6b7280"
PROBABILITY_SCALE = [[0.0, CLASS_REGION[0]], [0.5, "#f8fafc"], [1.0, CLASS_REGION[1]]]
"""Diverging: class 0 blue, undecided white, class 1 orange (paler than the points)."""
VALUE_SCALE = "Viridis"
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=15, color="#0f172a")
FRAME_MS = 60


TITLE_SIZE = 18
"""Subplot titles, at least 18 px (readable from the back of a room)."""
TICK_SIZE = 14
"""Tick labels, at least 14 px."""


TOP_LEGEND = dict(orientation="h", yref="container", yanchor="top", y=1.0, x=0,
                  font=dict(size=14))
"""The legend at the figure's top edge, above the panels' titles, in pixels: the charts take
the window's height, and a legend placed in plot heights runs into the titles of a short
chart (the top margin leaves it room)."""
SLIDER_GAP_PX = 50
"""The slider's current value this far under the plot area: below its tick labels and
axis title at any chart height."""


def log_ticks(decades: float) -> dict:
    """A log axis's ticks over ``decades`` decades: powers of ten (a loss of 10⁻⁴ is not
    "100μ"), at most four of them (a short panel has room for no more), never the 2 and 5
    between them."""
    return dict(exponentformat="power", dtick=max(1, math.ceil(decades / 3)))


def base_layout(fig: go.Figure, height: int = 560, **extra) -> go.Figure:
    """Large readable fonts in dark text, white background, room for the epoch slider."""
    fig.update_layout(font=FONT, height=height,
                      margin=dict(l=60, r=30, t=110, b=125), hoverlabel=dict(font_size=14),
                      legend=TOP_LEGEND,
                      title_font=dict(size=TITLE_SIZE, color=FONT["color"]),
                      title_subtitle_font=dict(size=14, color="#334155"), **extra)
    # 10⁻⁴, never Plotly's "100μ" or "1e-4", on every axis
    fig.update_xaxes(tickfont=dict(size=TICK_SIZE, color=FONT["color"]),
                     title_font=dict(size=16, color=FONT["color"]), exponentformat="power")
    fig.update_yaxes(tickfont=dict(size=TICK_SIZE, color=FONT["color"]),
                     title_font=dict(size=16, color=FONT["color"]), exponentformat="power")
    # make_subplots' titles: paper-anchored annotations sitting on top of their panels
    fig.update_annotations(selector=dict(xref="paper", yref="paper", yanchor="bottom"),
                           font=dict(size=TITLE_SIZE, color=FONT["color"]))
    return fig


def wrap(text: str, width: int = 70) -> str:
    """``text`` with Plotly line breaks (<br>) between words, lines at most ``width``
    characters: a title or subtitle that fits a half-width chart instead of running out."""
    lines: list[str] = []
    for paragraph in text.split("<br>"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "<br>".join(lines)


def typed_arrays(spec: dict) -> dict:
    """``spec`` with its NumPy arrays (in nested dicts too) as plotly.js typed arrays: base64
    of the little-endian bytes, as Plotly's own ``to_dict`` sends them. float32 stays float32
    (half the bytes of float64, and the screen needs no more); 64-bit integers become int32."""
    out = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            value = typed_arrays(value)
        elif isinstance(value, np.ndarray) and value.size:
            if value.dtype.kind in "iu" and value.dtype.itemsize == 8:
                value = value.astype(np.int32)
            value = np.ascontiguousarray(value, value.dtype.newbyteorder("<"))
            value = {"dtype": value.dtype.str[1:],
                     "bdata": base64.b64encode(value.tobytes()).decode()}
        out[key] = value
    return out


def numpy_arrays(spec):
    """The inverse of ``typed_arrays`` (and of Plotly's own base64 in ``to_dict``), in
    nested dicts and lists: ``go.Figure(numpy_arrays(spec))`` holds NumPy arrays, as a
    figure built from arrays does."""
    if isinstance(spec, list):
        return [numpy_arrays(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    if set(spec) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
        values = np.frombuffer(base64.b64decode(spec["bdata"]), "<" + spec["dtype"])
        shape = spec.get("shape")
        return values.reshape([int(n) for n in str(shape).split(",")]) if shape else values
    return {key: numpy_arrays(value) for key, value in spec.items()}


def animated_spec(fig: go.Figure, frames: list[dict], labels: list[str], redraw: bool,
                  prefix: str = "Epoch ", active: int | None = None,
                  drop: int = 0) -> dict:
    """``fig``, the still part built and checked by Plotly, as its plain dict, with
    ``frames`` (plain dicts: name, data, traces) and their epoch slider added as plain data
    (NumPy arrays as typed arrays). Checking 100 frames costs Plotly about half a second;
    ``go.Figure(spec)`` does it where it is wanted (the tests), and the app sends the dict
    as it is (``explorer.ui.compute.Checked``).

    Playback itself (play, pause, step, speed, keys) is the page's playback bar
    (``explorer.ui.playback``), so the figure carries no buttons of its own. See ``slider``
    for the other arguments.
    """
    spec = fig.to_dict()
    spec["frames"] = [dict(frame, data=[typed_arrays(d) for d in frame["data"]])
                      for frame in frames]
    spec["layout"]["sliders"] = [slider([f["name"] for f in frames], labels, redraw, prefix,
                                        active, drop)]
    return spec


def slider(names: list[str], labels: list[str], redraw: bool, prefix: str = "Epoch ",
           active: int | None = None, drop: int = 0) -> dict:
    """The epoch slider as plain data: one step per frame ``names[i]``.

    ``labels``: what the slider shows for each frame after ``prefix`` (the current frame's
    numbers, so they change as the animation plays). ``redraw`` must be True when a 3-D
    surface changes between frames. ``active``: the frame shown first (default the last).
    ``drop`` moves the slider further down (in pixels), below a second line of axis titles.
    Its place is in pixels under the plot area, whatever the chart's height.
    """
    steps = [dict(method="animate", label=label,
                  args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                     transition=dict(duration=0))])
             for name, label in zip(names, labels)]
    return dict(
        active=len(steps) - 1 if active is None else active, steps=steps,
        x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=SLIDER_GAP_PX + drop, b=0),
        currentvalue=dict(prefix=prefix, font=dict(size=16, color="#0f172a"),
                          visible=True, xanchor="left"),
        transition=dict(duration=0), ticklen=0, tickcolor="rgba(0,0,0,0)",
        font=dict(size=1, color="rgba(0,0,0,0)"))
