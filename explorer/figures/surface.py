"""The Error surface view: loss over a 2-D slice with the animated training path, and the
1-D line from the initial to the final weights.

Pure builders: ``Surface`` / ``Line`` (from ``explorer.surfaces``) -> ``go.Figure``. The grid
is sent once; each animation frame carries only the path up to that snapshot and the moving
markers, as float32, so 100 frames of a 41 x 41 surface stay well under a megabyte.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures import raster, style
from explorer.surfaces import Line, Surface, scale_values

SURFACE_SCALE = "Viridis"
PATH_COLOR = "#f8fafc"
PATH_OUTLINE = "#0f172a"
START_COLOR = "#16a34a"
END_COLOR = "#dc2626"
CURRENT_COLOR = "#f59e0b"
INVALID_TEXT = "Blank: loss undefined there (prediction outside the loss's domain)."
KIND_TITLES = {"parameters": "Loss over two parameters (slice at the final weights)",
               "random": "Loss over a random plane (filter-normalized directions)",
               "pca": "Loss over the trajectory's principal plane (projection)"}


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _wrap(text: str, width: int = 110) -> str:
    return "<br>".join(textwrap.wrap(text, width))


def surface_figure(surface: Surface, history: pd.DataFrame | None = None,
                   **options) -> go.Figure:
    """``surface_spec`` as a checked Plotly figure holding NumPy arrays (the tests use it)."""
    return go.Figure(style.numpy_arrays(surface_spec(surface, history, **options)))


def surface_spec(surface: Surface, history: pd.DataFrame | None = None,
                 mode: str = "contour", scale: str = "auto",
                 loss_curve: bool = True, height: int = 620) -> dict:
    """Contour map (mode 'contour') or 3-D surface (mode '3d') with the animated path.

    One frame per snapshot (named by its epoch), each updating only the path traces; a play
    button and an epoch slider drive them, with ``redraw`` on so the background stays. With
    ``loss_curve``, a second panel shows the true loss at each snapshot (and the per-epoch
    train loss from ``history`` when given) with a marker moving in step with the path.
    ``scale``: 'auto', 'log', 'clip' or 'linear' (see ``surfaces.scale_values``). The chart
    carries ``surface.note``, the honesty label.
    """
    if mode not in ("contour", "3d"):
        raise ValueError(f"mode must be 'contour' or '3d'; got {mode!r}")
    scaled = scale_values(surface.Z, scale, "loss")
    three_d = mode == "3d"
    title = ("Loss over the network's only two parameters (exact)"
             if surface.exact
             else KIND_TITLES[surface.kind])
    if loss_curve:
        fig = make_subplots(
            rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.23,
            specs=[[{"type": "scene" if three_d else "xy"}, {"type": "xy"}]],
            subplot_titles=(title, "Loss at each snapshot"))
    else:
        fig = go.Figure()
    cell = dict(row=1, col=1) if loss_curve else {}
    # the bar's title on top of it: on its right side it sat on the next panel's axis title
    colorbar = dict(title=dict(text=scaled.label, side="top", font=dict(size=13)),
                    thickness=14, len=0.8,
                    exponentformat="power", nticks=4,
                    # each label under its tick: the top one clear of the bar's title
                    ticklabelposition="outside bottom",
                    x=0.475 if loss_curve else 1.02)
    a, b = _f32(surface.a_axis), _f32(surface.b_axis)
    raw = _f32(surface.Z)
    hover = (f"{surface.a_label}: %{{x:.3g}}<br>{surface.b_label}: %{{y:.3g}}"
             "<br>loss: %{customdata:.4g}<extra></extra>")
    if three_d:
        fig.add_trace(go.Surface(x=a, y=b, z=_f32(scaled.values), customdata=raw,
                                 colorscale=SURFACE_SCALE, colorbar=colorbar, opacity=0.92,
                                 name="loss surface", hovertemplate=hover), **cell)
    else:
        _add_background(fig, surface, scaled, colorbar, hover, loss_curve)

    path = _Path(surface, scaled, three_d)
    animated = path.add_traces(fig, cell)
    if loss_curve:
        animated.append(_add_loss_curve(fig, surface, history, path.epochs, scaled.scale))
    style.base_layout(fig, height=height)
    _surface_axes(fig, surface, scaled.label, three_d, cell)
    note = surface.note + (" " + INVALID_TEXT if scaled.invalid else "")
    # the legend at the figure's top edge, then the title and its note, held in pixels just
    # above the panels' titles: in a short chart, placed in figure heights, they overlapped
    # (Plotly anchors the title's own line: the note's lines go into its padding)
    subtitle = _wrap(note, 130)
    lines = subtitle.count("<br>") + 1
    fig.update_layout(margin=dict(t=118 + 20 * lines, b=90), title=dict(
        text=title if not loss_curve else "Error surface", x=0.0, xanchor="left",
        yref="paper", y=1.0, yanchor="bottom", pad=dict(b=40 + 20 * lines),
        subtitle=dict(text=subtitle)))
    frames = [dict(name=str(int(epoch)), data=path.frame(s, loss_curve), traces=animated)
              for s, epoch in enumerate(path.epochs)]
    # the contour map is a layout image (see _add_background): only 3-D needs a redraw
    return style.animated_spec(fig, frames, [str(int(e)) for e in path.epochs],
                               redraw=three_d)


class _Path:
    """The training path's traces (whole path, path so far, current point, start, end) and
    its animation frames, in 2-D or 3-D."""

    def __init__(self, surface: Surface, scaled, three_d: bool):
        self.surface, self.three_d = surface, three_d
        self.a, self.b = _f32(surface.path_a), _f32(surface.path_b)
        self.z = _f32(scaled.transform(surface.path_loss))
        self.epochs = np.asarray(surface.path_epochs).astype(int)

    def trace(self, s: int | slice, **kwargs):
        if self.three_d:
            return go.Scatter3d(x=self.a[s], y=self.b[s], z=self.z[s], **kwargs)
        return go.Scatter(x=self.a[s], y=self.b[s], **kwargs)

    def marker(self, size, color, symbol) -> dict:
        if self.three_d:  # Scatter3d knows only a few symbols
            symbol = {"star": "diamond", "circle-open": "circle"}.get(symbol, symbol)
        return dict(size=size if not self.three_d else size * 0.6, color=color,
                    symbol=symbol, line=dict(width=2, color=PATH_OUTLINE))

    def add_traces(self, fig: go.Figure, cell: dict) -> list[int]:
        """Add every path trace; return the indices of the two animated ones."""
        surface, last = self.surface, len(self.a) - 1
        name = "training path" if surface.exact_path else "training path (projected)"
        # static: the whole path faintly, under the animated path
        fig.add_trace(self.trace(slice(None), mode="lines", name="whole path",
                                 hoverinfo="skip", showlegend=False,
                                 line=dict(color="rgba(248,250,252,0.45)", width=2)), **cell)
        animated = [len(fig.data), len(fig.data) + 1]
        fig.add_trace(self.trace(
            slice(0, last + 1), mode="lines+markers", name=name,
            line=dict(color=PATH_COLOR, width=4),
            marker=dict(size=5 if not self.three_d else 3, color=PATH_COLOR,
                        line=dict(width=1, color=PATH_OUTLINE)),
            hovertemplate=f"{surface.a_label}: %{{x:.3g}}<br>{surface.b_label}: "
                          "%{y:.3g}<extra>path</extra>"), **cell)
        fig.add_trace(self.trace(slice(last, last + 1), mode="markers",
                                 name="current snapshot", hoverinfo="skip",
                                 marker=self.marker(14, CURRENT_COLOR, "circle")), **cell)
        # static, on top: start and end
        # a white halo keeps the labels readable where the path's markers run under them
        text = dict(color=PATH_OUTLINE, size=14)
        if not self.three_d:  # (3-D text has no shadow)
            text["shadow"] = "0 0 3px #ffffff, 0 0 3px #ffffff"
        fig.add_trace(self.trace(slice(0, 1), mode="markers+text", name="start (epoch 0)",
                                 text=["start"], textposition="top center", textfont=text,
                                 marker=self.marker(14, START_COLOR, "circle")), **cell)
        fig.add_trace(self.trace(slice(last, last + 1), mode="markers+text",
                                 name=f"end (epoch {self.epochs[-1]})", text=["end"],
                                 textposition="bottom center", textfont=text,
                                 marker=self.marker(18, END_COLOR, "star")), **cell)
        return animated

    def frame(self, s: int, loss_curve: bool) -> list[dict]:
        """Snapshot s: the path up to it, the current point, the loss-curve marker."""
        kind = "scatter3d" if self.three_d else "scatter"
        upto, here = slice(0, s + 1), slice(s, s + 1)
        data = [dict(type=kind, x=self.a[upto], y=self.b[upto]),
                dict(type=kind, x=self.a[here], y=self.b[here])]
        if self.three_d:
            data[0]["z"], data[1]["z"] = self.z[upto], self.z[here]
        if loss_curve:
            data.append(dict(type="scatter", x=_f32(self.epochs[here]),
                             y=_f32(self.surface.path_loss[here])))
        return data


CONTOUR_LEVELS = 14


def _add_background(fig: go.Figure, surface: Surface, scaled, colorbar: dict, hover: str,
                    loss_curve: bool) -> None:
    """The contour map as an image under the axes, iso-loss lines, colour bar and hover.

    Streamlit's Plotly blanks contour and heatmap traces while it redraws animation frames;
    an image in the layout is not a trace, so it stays while only the path moves.
    """
    values = np.asarray(scaled.values, float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    a, b = np.asarray(surface.a_axis, float), np.asarray(surface.b_axis, float)
    rgb = raster.colorize(values, SURFACE_SCALE, lo, hi)
    fig.add_layout_image(raster.grid_image(a, b, rgb, "x", "y"))
    xs, ys = [], []
    for level in np.linspace(lo, hi, CONTOUR_LEVELS + 2)[1:-1]:
        lx, ly = raster.iso_lines(a, b, values, level)
        xs.append(lx)
        ys.append(ly)
    cell = dict(row=1, col=1) if loss_curve else {}
    fig.add_trace(go.Scatter(x=_f32(np.concatenate(xs)), y=_f32(np.concatenate(ys)),
                             mode="lines", line=dict(width=0.8, color="rgba(15,23,42,0.35)"),
                             hoverinfo="skip", showlegend=False, name="iso-loss lines"),
                  **cell)
    A, B = np.meshgrid(a, b)
    fig.add_trace(go.Scatter(
        x=_f32(A.ravel()), y=_f32(B.ravel()), mode="markers", name="loss surface",
        customdata=_f32(surface.Z).ravel(), hovertemplate=hover, showlegend=False,
        marker=dict(size=6, opacity=0, color=_f32(values.ravel()), cmin=lo, cmax=hi,
                    colorscale=SURFACE_SCALE, showscale=True, colorbar=colorbar)), **cell)


def _add_loss_curve(fig: go.Figure, surface: Surface, history, epochs, scale: str) -> int:
    """Loss at each snapshot (exact) and the moving marker; returns the marker's index."""
    if history is not None and "loss" in history:
        fig.add_trace(go.Scatter(
            x=_f32(history["epoch"]), y=_f32(history["loss"]), mode="lines",
            name="train loss (epoch mean)", line=dict(color=style.MATCHED_COLOR, width=1.5),
            opacity=0.7), row=1, col=2)
    fig.add_trace(go.Scatter(
        x=_f32(epochs), y=_f32(surface.path_loss), mode="lines+markers",
        name="loss at snapshot", line=dict(color=style.TRAIN_COLOR, width=3),
        marker=dict(size=4), hovertemplate="epoch %{x}<br>loss %{y:.4g}<extra></extra>"),
        row=1, col=2)
    fig.add_trace(go.Scatter(
        x=_f32(epochs[-1:]), y=_f32(surface.path_loss[-1:]), mode="markers",
        name="current snapshot", showlegend=False, hoverinfo="skip",
        marker=dict(size=14, color=CURRENT_COLOR, line=dict(width=2, color=PATH_OUTLINE))),
        row=1, col=2)
    finite = np.asarray(surface.path_loss, float)
    finite = finite[np.isfinite(finite)]
    x_max = max(int(epochs[-1]), 1)
    fig.update_xaxes(title_text="epoch", range=[-0.02 * x_max, 1.02 * x_max], row=1, col=2)
    if finite.size and scale == "log10" and finite.min() > 0:
        lo, hi = np.log10(finite.min()), np.log10(finite.max())
        pad = max(0.05 * (hi - lo), 0.05)
        fig.update_yaxes(type="log", range=[lo - pad, hi + pad], title_text="loss (log)",
                         row=1, col=2, **style.log_ticks(hi - lo))
    elif finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(0.06 * (hi - lo), 1e-6)
        fig.update_yaxes(range=[min(0.0, lo - pad), hi + pad], title_text="loss", row=1,
                         col=2)
    return len(fig.data) - 1


def _surface_axes(fig: go.Figure, surface: Surface, z_label: str, three_d: bool, cell: dict):
    def extent(axis, path):
        values = np.concatenate([axis, np.asarray(path, float)[np.isfinite(path)]])
        lo, hi = float(values.min()), float(values.max())
        pad = 0.02 * (hi - lo or 1.0)
        return [lo - pad, hi + pad]

    x_range = extent(surface.a_axis, surface.path_a)
    y_range = extent(surface.b_axis, surface.path_b)
    if three_d:
        scene = dict(xaxis=dict(title=dict(text=surface.a_label), range=x_range),
                     yaxis=dict(title=dict(text=surface.b_label), range=y_range),
                     zaxis=dict(title=dict(text=z_label), exponentformat="power"),
                     aspectmode="cube",
                     camera=dict(eye=dict(x=1.5, y=-1.5, z=1.1)))
        fig.update_layout(scene=scene)
        return
    # no grid: it would be drawn over the background image
    fig.update_xaxes(title_text=surface.a_label, range=x_range, showgrid=False, zeroline=False,
                     **cell)
    fig.update_yaxes(title_text=surface.b_label, range=y_range, showgrid=False, zeroline=False,
                     **cell)


def interpolation_figure(line: Line, height: int = 520) -> go.Figure:
    """Loss (top) and the reported metric (bottom) along theta(t) = (1 - t) theta_0 + t theta*.

    t = 0 (initial weights) and t = 1 (final weights) are marked on both panels.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=(f"Loss ({line.loss_label}) along the line",
                                        f"{line.metric_label} along the line"))
    t = _f32(line.t)
    for row, values, name, color in [(1, line.loss, "loss", style.TRAIN_COLOR),
                                     (2, line.metric, line.metric_label, style.VAL_COLOR)]:
        fig.add_trace(go.Scatter(x=t, y=_f32(values), mode="lines", name=name,
                                 line=dict(color=color, width=3), showlegend=False,
                                 hovertemplate="t = %{x:.2f}<br>%{y:.4g}<extra></extra>"),
                      row=row, col=1)
        ends = [line.initial_index, line.final_index]
        fig.add_trace(go.Scatter(
            x=t[ends], y=_f32(np.asarray(values)[ends]), mode="markers+text",
            text=["initial", "final"], textposition="middle right", showlegend=False,
            name="initial / final", marker=dict(size=12, color=[START_COLOR, END_COLOR],
                                                line=dict(width=2, color=PATH_OUTLINE))),
            row=row, col=1)
    for x in (0.0, 1.0):
        fig.add_vline(x=x, line=dict(color="#94a3b8", dash="dot", width=1.5))
    finite = np.asarray(line.loss, float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size and finite.max() / finite.min() > 10 ** 2:
        fig.update_yaxes(type="log", title_text="loss (log)", row=1, col=1,
                         **style.log_ticks(float(np.log10(finite.max() / finite.min()))))
    else:
        fig.update_yaxes(title_text="loss", row=1, col=1)
    metric = np.asarray(line.metric, float)
    metric = metric[np.isfinite(metric)]
    if line.metric_name == "accuracy" and metric.size:
        fig.update_yaxes(range=[min(float(metric.min()), 0.5) - 0.05, 1.05], row=2, col=1)
    fig.update_yaxes(title_text=line.metric_label, row=2, col=1)
    fig.update_xaxes(title_text="t  (0 = initial weights, 1 = final weights)", row=2, col=1)
    style.base_layout(fig, height=height)
    # the title and its note held in pixels above the panels' titles (see surface_spec)
    subtitle = _wrap(line.note, 120)
    lines = subtitle.count("<br>") + 1
    fig.update_layout(margin=dict(t=70 + 20 * lines), title=dict(
        text="The straight line from the initial to the final weights", x=0.0,
        yref="paper", y=1.0, yanchor="bottom", pad=dict(b=40 + 20 * lines),
        subtitle=dict(text=subtitle)))
    return fig
