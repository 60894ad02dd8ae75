"""The Compare view: several (activation, loss) pairs raced on the same data and start.

Losses of different pairs are not on one scale (cross-entropy and squared error measure
different things), so the race is judged on the reported metric, and each loss curve is
shown relative to its own starting value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import metrics
from explorer.figures import style
from explorer.figures.training import Frames

RACE_COLORS = ("#1d4ed8", "#dc2626", "#16a34a", "#9333ea", "#ca8a04", "#0891b2")


def race_figure(entries: list[tuple[str, pd.DataFrame]], problem: str) -> go.Figure:
    """Validation metric (or train, without validation) and relative loss per contestant."""
    metric = metrics.names(problem)[0]
    label = metrics.LABELS[metric]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, subplot_titles=(
        f"{label} (validation where available)", "Loss ÷ its value at epoch 1"))
    top = 1.0
    unscaled = []
    for i, (name, history) in enumerate(entries):
        color = RACE_COLORS[i % len(RACE_COLORS)]
        column = "val_" + metric if "val_" + metric in history else metric
        x = history["epoch"].to_numpy(np.float32)
        fig.add_trace(go.Scatter(x=x, y=history[column].to_numpy(np.float32), mode="lines",
                                 name=name, legendgroup=name,
                                 line=dict(color=color, width=3)), row=1, col=1)
        loss = history["loss"].to_numpy(float)
        finite = loss[np.isfinite(loss)]
        if finite.size and finite.min() <= 0:
            # a loss that reaches 0 or below (Poisson leaves out log y!) has no meaningful
            # ratio to its first value: leave it out and say so
            unscaled.append(name)
        else:
            start = loss[0] if len(loss) and np.isfinite(loss[0]) else np.nan
            relative = loss / start
            top = max(top, float(np.nanmax(relative)) if np.isfinite(relative).any() else 1)
            fig.add_trace(go.Scatter(x=x, y=relative.astype(np.float32), mode="lines",
                                     name=name, legendgroup=name, showlegend=False,
                                     line=dict(color=color, width=3, dash="dot")),
                          row=1, col=2)
        divergence = history.attrs.get("divergence")
        if divergence:
            fig.add_trace(go.Scatter(
                x=[divergence["epoch"]], y=[0], mode="markers+text", showlegend=False,
                text=["NaN"], textposition="top center", legendgroup=name,
                marker=dict(symbol="x", size=14, color=color)), row=1, col=2)
    if unscaled:
        # wrapped to stay inside its panel, clear of the panel's tick labels
        fig.add_annotation(text=style.wrap("Not shown, the loss reaches 0 or below so a "
                                           "ratio means nothing:", 34) + "<br>"
                           + "<br>".join(style.wrap(name, 34) for name in unscaled),
                           xref="x2 domain", yref="y2 domain", x=0.98, y=0.98,
                           xanchor="right", yanchor="top", showarrow=False, align="right",
                           font=dict(size=12, color="#475569"),
                           bgcolor="rgba(255, 255, 255, 0.8)")
    style.base_layout(fig, height=430)
    fig.update_layout(margin=dict(t=90, b=60))
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text=label, row=1, col=1)
    if metric == "accuracy":
        # as a percentage, as the page's numbers say it (100 %, not 1)
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="relative loss", range=[0, min(top, 3.0) * 1.05], row=1, col=2)
    return fig


def final_maps_figure(entries: list[tuple[str, Frames]], data, problem: str) -> go.Figure:
    """One small panel per contestant: its final boundary or fit, with the training data."""
    n = len(entries)
    # "Activation + Loss" on two lines, so four titles side by side do not run together
    fig = make_subplots(rows=1, cols=n, horizontal_spacing=0.04,
                        subplot_titles=[name.replace(" + ", "<br>+ ", 1) for name, _ in entries])
    X, y = data.X_train, data.y_train
    for i, (_, frames) in enumerate(entries, start=1):
        last = len(frames.epochs) - 1
        suffix = "" if i == 1 else str(i)
        if frames.kind == "curve":
            yy = y.astype(float)
            fig.add_trace(go.Scatter(x=X[:, 0].astype(np.float32), y=yy.astype(np.float32),
                                     mode="markers", showlegend=False, hoverinfo="skip",
                                     marker=dict(size=5, color=style.TRAIN_COLOR, opacity=0.4)),
                          row=1, col=i)
            fig.add_trace(go.Scatter(x=frames.grid_x.astype(np.float32),
                                     y=frames.values[last], mode="lines", showlegend=False,
                                     line=dict(color=RACE_COLORS[(i - 1) % 6], width=3)),
                          row=1, col=i)
            continue
        fig.add_layout_image(frames.image(last, "x" + suffix, "y" + suffix))
        xs, ys = frames.boundary(last)
        if xs.size:
            fig.add_trace(go.Scatter(x=xs.astype(np.float32), y=ys.astype(np.float32),
                                     mode="lines", showlegend=False, hoverinfo="skip",
                                     line=dict(color=style.FIT_COLOR, width=2)), row=1, col=i)
        colors = ([style.CLASS_COLORS[int(c) % 10] for c in y]
                  if problem in ("binary", "multiclass") else style.TRAIN_COLOR)
        fig.add_trace(go.Scatter(x=X[:, 0].astype(np.float32), y=X[:, 1].astype(np.float32),
                                 mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=4, color=colors,
                                             line=dict(width=0.5, color=style.POINT_OUTLINE))),
                      row=1, col=i)
        half_x = (frames.grid_x[1] - frames.grid_x[0]) / 2
        half_y = (frames.grid_y[1] - frames.grid_y[0]) / 2
        fig.update_xaxes(range=[frames.grid_x[0] - half_x, frames.grid_x[-1] + half_x],
                         showgrid=False, zeroline=False, row=1, col=i)
        fig.update_yaxes(range=[frames.grid_y[0] - half_y, frames.grid_y[-1] + half_y],
                         showgrid=False, zeroline=False, row=1, col=i)
    style.base_layout(fig, height=360)
    fig.update_layout(margin=dict(t=60, b=50))
    fig.update_xaxes(title_text="x₁" if entries[0][1].kind != "curve" else "input x")
    fig.update_yaxes(title_text="x₂" if entries[0][1].kind != "curve" else "target",
                     row=1, col=1)
    return fig


def summary_table(entries: list[tuple[str, str, pd.DataFrame]], problem: str) -> pd.DataFrame:
    """Final numbers per contestant: verdict, losses, metrics, and where it diverged."""
    rows = []
    for name, verdict, history in entries:
        last = history.iloc[-1] if len(history) else pd.Series(dtype=float)
        row = {"pair": name, "verdict": verdict,
               "train loss": last.get("loss", np.nan),
               "validation loss": last.get("val_loss", np.nan)}
        for metric in metrics.names(problem):
            label = metrics.IN_SENTENCE[metric]
            row[f"train {label}"] = last.get(metric, np.nan)
            row[f"validation {label}"] = last.get("val_" + metric, np.nan)
        divergence = history.attrs.get("divergence")
        row["stopped"] = f"NaN at epoch {divergence['epoch']}" if divergence else "—"
        rows.append(row)
    return pd.DataFrame(rows)
