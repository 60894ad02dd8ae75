"""Shared look: class colours, fonts and animation controls, so every view agrees."""

from __future__ import annotations

import plotly.graph_objects as go

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


def base_layout(fig: go.Figure, height: int = 560, **extra) -> go.Figure:
    """Large readable fonts, white background, room for the animation controls."""
    fig.update_layout(template="plotly_white", font=FONT, height=height,
                      margin=dict(l=60, r=30, t=110, b=125), hoverlabel=dict(font_size=14),
                      legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0,
                                  font=dict(size=13)), **extra)
    return fig


def animation_controls(fig: go.Figure, labels: list[str], redraw: bool,
                       prefix: str = "Epoch ", active: int | None = None,
                       drop: float = 0.0) -> go.Figure:
    """Play / pause buttons and an epoch slider driving ``fig.frames`` (one step a frame).

    ``redraw`` must be True when a heatmap, contour or surface changes between frames;
    without it those traces vanish on play. ``drop`` moves the controls further down (in
    plot heights), below an x-axis title centred under the whole figure.
    """
    names = [f.name for f in fig.frames]
    play = dict(frame=dict(duration=FRAME_MS, redraw=redraw), transition=dict(duration=0),
                fromcurrent=True, mode="immediate")
    restart = dict(play, fromcurrent=False)
    pause = dict(frame=dict(duration=0, redraw=False), mode="immediate",
                 transition=dict(duration=0))
    steps = [dict(method="animate", label=label,
                  args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                     transition=dict(duration=0))])
             for name, label in zip(names, labels)]
    fig.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", showactive=False, x=0.0, y=-0.17 - drop,
            xanchor="left", yanchor="top", pad=dict(t=0, r=10),
            buttons=[dict(label="Play", method="animate", args=[None, restart]),
                     dict(label="Pause", method="animate", args=[[None], pause]),
                     dict(label="Resume", method="animate", args=[None, play])],
        )],
        sliders=[dict(
            active=len(steps) - 1 if active is None else active, steps=steps,
            x=0.3, len=0.7, y=-0.12 - drop, yanchor="top", pad=dict(t=0, b=0),
            currentvalue=dict(prefix=prefix, font=dict(size=15, color="#0f172a"),
                              visible=True,
                              xanchor="left"),
            transition=dict(duration=0), ticklen=0, tickcolor="rgba(0,0,0,0)",
            font=dict(size=1, color="rgba(0,0,0,0)"),
        )],
    )
    return fig
