"""What the outputs estimate, drawn: reliability over training, precision and recall, quantile
and noise bands over a 1-D fit, and the Gaussian NLL's scale unit.

Pure functions from arrays to ``go.Figure``. The reliability figure is animated like the Train
view (one figure, frames, one slider; scatter traces only, so ``redraw`` stays False); the
others show the final model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.calibration import ReliabilityOverTraining
from explorer.figures import style

OBSERVED_COLOR = "#2563eb"
GAP_COLOR = "#dc2626"
COUNT_COLOR = "#64748b"
ECE_COLOR = "#1d4ed8"
BRIER_COLOR = "#16a34a"
DIAGONAL_COLOR = "#94a3b8"


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _never_empty(x, y) -> dict:
    """A frame's update of a scatter trace; one NaN point instead of nothing (an empty
    animated scatter makes Plotly drop the subplot's traces while playing)."""
    x, y = _f32(x), _f32(y)
    if x.size == 0:
        x = y = np.array([np.nan], np.float32)
    return dict(type="scatter", x=x, y=y)


def _bars(edges: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectangles [edge_b, edge_b+1] x [low_b, high_b] as one closed path per bin, separated by
    NaN, for a scatter trace with fill="toself". A bin with NaN height draws nothing; the
    length is fixed (6 points a bin) so every frame updates the same trace shape."""
    x, y = [], []
    for b in range(len(edges) - 1):
        lo, hi = low[b], high[b]
        if not (np.isfinite(lo) and np.isfinite(hi)):
            lo = hi = np.nan
        x += [edges[b], edges[b], edges[b + 1], edges[b + 1], edges[b], np.nan]
        y += [lo, hi, hi, lo, lo, np.nan]
    return _f32(x), _f32(y)


def _diagram_updates(r: ReliabilityOverTraining, s: int) -> list[dict]:
    """Observed bars, gap bars, bin means and counts of snapshot s (the animated traces)."""
    edges = r.edges
    observed, predicted = r.observed[s], r.predicted[s]
    shown = r.counts[s] > 0
    bars = _bars(edges, np.where(shown, 0.0, np.nan), observed)
    gaps = _bars(edges, observed, predicted)
    counts = _bars(edges, np.zeros(len(edges) - 1), r.counts[s].astype(float))
    return [_never_empty(*bars), _never_empty(*gaps),
            _never_empty(predicted[shown], observed[shown]), _never_empty(*counts)]


def _curve_updates(r: ReliabilityOverTraining, train: ReliabilityOverTraining | None,
                   s: int) -> list[dict]:
    """ECE, Brier, training ECE and overconfidence up to snapshot s, with the current point."""
    upto = slice(0, s + 1)
    x = r.epochs[upto]
    out = [_never_empty(x, r.ece[upto]), _never_empty(x, r.brier[upto])]
    if train is not None:
        out.append(_never_empty(train.epochs[upto], train.ece[upto]))
    out += [_never_empty(x, r.overconfidence[upto]),
            _never_empty(x[-1:], r.ece[s:s + 1])]
    return out


def reliability_figure(r: ReliabilityOverTraining, train: ReliabilityOverTraining | None = None,
                       part: str = "validation") -> go.Figure:
    """``reliability_spec`` as a checked Plotly figure holding NumPy arrays (the tests use it)."""
    return go.Figure(style.numpy_arrays(reliability_spec(r, train, part)))


def reliability_spec(r: ReliabilityOverTraining, train: ReliabilityOverTraining | None = None,
                     part: str = "validation") -> dict:
    """The reliability diagram of ``r`` (one dataset's snapshots) and its numbers over epochs.

    Left: observed frequency per bin of predicted probability (bars), the gap to the bin's
    mean prediction (red), the diagonal of perfect calibration, and below, how many points
    fall in each bin. Right: ECE and Brier score over the snapshots (``train``'s ECE dashed,
    when given) and overconfidence, mean confidence minus accuracy. One slider drives every
    panel. ``part`` names the points of ``r`` in titles and legends. A plain dict with plain
    frames (``style.animated_spec``).
    """
    binary = r.kind == "binary"
    x_title = "predicted probability of class 1" if binary else "confidence (top class)"
    y_title = "share that is class 1" if binary else "share answered right"
    fig = make_subplots(
        rows=2, cols=2, column_widths=[0.5, 0.5], row_heights=[0.64, 0.36],
        horizontal_spacing=0.13, vertical_spacing=0.16, shared_xaxes=True,
        subplot_titles=(f"Reliability diagram ({part} points)", "Calibration error and Brier "
                        "score", "Points per bin", "Overconfidence: confidence − accuracy"))
    final = len(r.epochs) - 1
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line=dict(color=DIAGONAL_COLOR, width=2, dash="dash"),
                             hoverinfo="skip"), row=1, col=1)
    bars, gaps, means, counts = _diagram_updates(r, final)
    animated = []
    for update, spec, row in (
            (bars, dict(name="observed share per bin", fill="toself", mode="lines",
                        line=dict(color=OBSERVED_COLOR, width=1),
                        fillcolor="rgba(37, 99, 235, 0.35)", hoverinfo="skip"), 1),
            (gaps, dict(name="gap to the bin's mean prediction", fill="toself", mode="lines",
                        line=dict(color=GAP_COLOR, width=1),
                        fillcolor="rgba(220, 38, 38, 0.22)", hoverinfo="skip"), 1),
            (means, dict(name="bin mean", mode="markers",
                         marker=dict(size=9, color=style.FIT_COLOR),
                         hovertemplate="mean prediction %{x:.3f}<br>observed %{y:.3f}"
                                       "<extra></extra>"), 1),
            (counts, dict(name="points per bin", fill="toself", mode="lines",
                          line=dict(color=COUNT_COLOR, width=1), showlegend=False,
                          fillcolor="rgba(100, 116, 139, 0.35)", hoverinfo="skip"), 2)):
        fig.add_trace(go.Scatter(x=update["x"], y=update["y"], **spec), row=row, col=1)
        animated.append(len(fig.data) - 1)
    curves = _curve_updates(r, train, final)
    names = [(f"ECE ({part})", ECE_COLOR, "solid", 1), (f"Brier ({part})", BRIER_COLOR, "dot",
                                                         1)]
    if train is not None:
        names.append(("ECE (training)", ECE_COLOR, "dash", 1))
    names.append((f"overconfidence ({part})", GAP_COLOR, "solid", 2))
    for update, (name, color, dash, row) in zip(curves, names):
        fig.add_trace(go.Scatter(x=update["x"], y=update["y"], mode="lines", name=name,
                                 showlegend=row == 1,
                                 line=dict(color=color, width=3, dash=dash)), row=row, col=2)
        animated.append(len(fig.data) - 1)
    fig.add_trace(go.Scatter(x=curves[-1]["x"], y=curves[-1]["y"], mode="markers",
                             name="now", showlegend=False, hoverinfo="skip",
                             marker=dict(size=11, color=ECE_COLOR,
                                         line=dict(width=2, color="white"))), row=1, col=2)
    animated.append(len(fig.data) - 1)

    style.base_layout(fig, height=640)
    # room for the legend's rows and the panels' titles when the chart shares a laptop's
    # first screen
    fig.update_layout(margin=dict(t=105, b=110))
    # the bottom panels share the top ones' x quantity: one axis, titled and ticked at the
    # bottom (the top panels' tick labels would sit on the bottom panels' titles)
    fig.update_xaxes(range=[0, 1], row=1, col=1)
    fig.update_yaxes(title_text=y_title, range=[0, 1.02], row=1, col=1)
    fig.update_xaxes(title_text=x_title, range=[0, 1], row=2, col=1)
    most = float(np.max(r.counts)) if r.counts.size else 1.0
    # the bottom panels are short: few ticks
    fig.update_yaxes(title_text="points", range=[0, most * 1.08 + 1], nticks=3, row=2, col=1)
    epochs = max(float(r.epochs[-1]), 1.0)
    heights = np.concatenate([r.ece, r.brier, train.ece if train is not None else []])
    heights = heights[np.isfinite(heights)]
    top = float(heights.max()) if heights.size else 1.0
    fig.update_xaxes(range=[0, epochs], row=1, col=2)
    fig.update_yaxes(title_text="ECE, Brier", range=[0, top * 1.1 + 1e-3], row=1, col=2)
    fig.update_xaxes(title_text="epoch", range=[0, epochs], row=2, col=2)
    over = r.overconfidence[np.isfinite(r.overconfidence)]
    lo = min(-0.02, float(over.min()) * 1.1) if over.size else -0.1
    hi = max(0.02, float(over.max()) * 1.1) if over.size else 0.1
    fig.update_yaxes(title_text="conf. − acc.", range=[lo, hi], zeroline=True, nticks=3,
                     zerolinecolor="#475569", row=2, col=2)
    frames = [dict(name=str(int(epoch)), traces=animated,
                   data=[*_diagram_updates(r, s), *_curve_updates(r, train, s)])
              for s, epoch in enumerate(r.epochs)]
    return style.animated_spec(fig, frames, [str(int(e)) for e in r.epochs], redraw=False)


# ----------------------------------------------------------------------------------------
# Precision and recall of a binary model


@dataclass(frozen=True)
class ThresholdSweep:
    """Precision, recall, F1 and balanced accuracy at each of ``thresholds`` (m,)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    balanced_accuracy: np.ndarray


def precision_recall_figure(precision: np.ndarray, recall: np.ndarray, sweep: ThresholdSweep,
                            marks: list[tuple[str, float, float, float]], base_rate: float,
                            score_label: str = "threshold",
                            part: str = "validation") -> go.Figure:
    """Left: the precision-recall curve (``metrics.precision_recall_curve``), the share of
    class 1 (what a random score's precision is) and ``marks``, (label, threshold, recall,
    precision) points such as the chosen threshold. Right: precision, recall, F1 and balanced
    accuracy against the threshold, with each mark's threshold as a vertical line."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        f"Precision–recall curve ({part})", f"Moving the threshold ({part})"))
    fig.add_trace(go.Scatter(x=_f32(recall), y=_f32(precision), mode="lines",
                             line=dict(color=style.FIT_COLOR, width=3, shape="vh"),
                             name="precision–recall curve", showlegend=False,
                             hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}"
                                           "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[base_rate, base_rate], mode="lines",
                             line=dict(color=DIAGONAL_COLOR, width=2, dash="dash"),
                             name=f"share of class 1 ({base_rate:.2f})", hoverinfo="skip"),
                  row=1, col=1)
    mark_colors = (GAP_COLOR, COUNT_COLOR)
    for (label, _, r, p), color in zip(marks, mark_colors):
        fig.add_trace(go.Scatter(x=[r], y=[p], mode="markers", name=label,
                                 marker=dict(size=14, color=color, symbol="diamond",
                                             line=dict(width=2, color="white")),
                                 hovertemplate=f"{label}<br>recall %{{x:.3f}}<br>precision "
                                               "%{y:.3f}<extra></extra>"), row=1, col=1)
    for values, name, color, dash in (
            (sweep.precision, "precision", "#9333ea", "solid"),
            (sweep.recall, "recall", "#0891b2", "solid"),
            (sweep.f1, "F1", style.FIT_COLOR, "dot"),
            (sweep.balanced_accuracy, "balanced accuracy", BRIER_COLOR, "dash")):
        fig.add_trace(go.Scatter(x=_f32(sweep.thresholds), y=_f32(values), mode="lines",
                                 name=name, line=dict(color=color, width=3, dash=dash)),
                      row=1, col=2)
    # after the traces: Plotly leaves out a line on a subplot that has no data yet
    for (_, threshold, _, _), color in zip(marks, mark_colors):
        fig.add_vline(x=threshold, line=dict(color=color, width=2, dash="dash"), row=1, col=2)
    style.base_layout(fig, height=430)
    fig.update_layout(margin=dict(t=110, b=60))
    fig.update_xaxes(title_text="recall", range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(title_text="precision", range=[0, 1.05], row=1, col=1)
    lo, hi = float(sweep.thresholds[0]), float(sweep.thresholds[-1])
    fig.update_xaxes(title_text=score_label, range=[lo, hi], row=1, col=2)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    return fig


# ----------------------------------------------------------------------------------------
# A 1-D fit and what it estimates


@dataclass(frozen=True)
class Curve:
    """A line over the grid: a fit or a true conditional mean / quantile."""

    label: str
    y: np.ndarray
    color: str
    dash: str = "solid"
    width: float = 3.0


@dataclass(frozen=True)
class Band:
    """A shaded region between two curves over the grid."""

    label: str
    lower: np.ndarray
    upper: np.ndarray
    color: str


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def estimates_figure(grid: np.ndarray, data, fits: list[Curve], truths: list[Curve],
                     bands: list[Band], x_title: str = "input x",
                     y_title: str = "target y") -> go.Figure:
    """The data with fitted curves (thin), true conditional means and quantiles (wide, pale, in
    the colour of the fit that estimates them) and bands (shaded, their edges solid)."""
    fig = go.Figure()
    for part, X, y, marker in (
            ("training points", data.X_train, data.y_train,
             dict(size=6, color=style.TRAIN_COLOR, opacity=0.35)),
            ("validation points", data.X_val, data.y_val,
             dict(size=7, symbol="circle-open", color=style.VAL_COLOR, opacity=0.6,
                  line=dict(width=1.5)))):
        if len(X):
            fig.add_trace(go.Scatter(x=_f32(X[:, 0]), y=_f32(y), mode="markers", name=part,
                                     marker=marker, hoverinfo="skip"))
    x = _f32(grid)
    for band in bands:
        fig.add_trace(go.Scatter(x=x, y=_f32(band.lower), mode="lines", showlegend=False,
                                 legendgroup=band.label, hoverinfo="skip",
                                 line=dict(color=band.color, width=2)))
        fig.add_trace(go.Scatter(x=x, y=_f32(band.upper), mode="lines", name=band.label,
                                 legendgroup=band.label, fill="tonexty",
                                 fillcolor=_rgba(band.color, 0.18), hoverinfo="skip",
                                 line=dict(color=band.color, width=2)))
    for curve in truths:  # wide and pale, so a fit that lands on it runs inside it
        fig.add_trace(go.Scatter(x=x, y=_f32(curve.y), mode="lines", name=curve.label,
                                 opacity=0.45, hoverinfo="skip",
                                 line=dict(color=curve.color, width=curve.width,
                                           dash=curve.dash)))
    for curve in fits:
        fig.add_trace(go.Scatter(x=x, y=_f32(curve.y), mode="lines", name=curve.label,
                                 line=dict(color=curve.color, width=curve.width,
                                           dash=curve.dash),
                                 hovertemplate=f"{curve.label}<br>x %{{x:.2f}}, %{{y:.3f}}"
                                               "<extra></extra>"))
    style.base_layout(fig, height=560)
    fig.update_layout(margin=dict(t=120, b=60, r=30))
    ys = np.concatenate([np.asarray(data.y_train, float), np.asarray(data.y_val, float)])
    lo, hi = float(np.min(ys)), float(np.max(ys))
    pad = 0.06 * (hi - lo) + 1e-6
    fig.update_xaxes(title_text=x_title, range=[float(grid[0]), float(grid[-1])])
    fig.update_yaxes(title_text=y_title, range=[lo - pad, hi + pad])
    return fig


# ----------------------------------------------------------------------------------------
# The Gaussian NLL's scale unit


def scale_anatomy_figure(s: np.ndarray, residuals: tuple[float, ...], loss_values: np.ndarray,
                         grads: np.ndarray) -> go.Figure:
    """Per-sample loss (left) and dL/ds (right) against the scale unit s = log σ², one curve
    per residual y − p in ``residuals``, each with its minimum s = log (y − p)² marked.

    loss_values and grads are (len(residuals), len(s))."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "Loss against the scale unit s", "Its gradient ∂L/∂s"))
    colors = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")
    for i, r in enumerate(residuals):
        color = colors[i % len(colors)]
        name = f"|y − p| = {abs(r):g}"
        fig.add_trace(go.Scatter(x=_f32(s), y=_f32(loss_values[i]), mode="lines", name=name,
                                 legendgroup=name, line=dict(color=color, width=3)),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=_f32(s), y=_f32(grads[i]), mode="lines", name=name,
                                 legendgroup=name, showlegend=False,
                                 line=dict(color=color, width=3)), row=1, col=2)
        best = float(np.log(r * r))
        fig.add_vline(x=best, line=dict(color=color, width=1.5, dash="dot"), row=1, col=1)
        fig.add_vline(x=best, line=dict(color=color, width=1.5, dash="dot"), row=1, col=2)
    style.base_layout(fig, height=400)
    fig.update_layout(margin=dict(t=120, b=60))
    fig.update_xaxes(title_text="s = log σ²", range=[float(s[0]), float(s[-1])])
    # the window around the minima: far left, e^-s explodes and would flatten the rest
    lowest = float(np.nanmin(loss_values))
    top = float(np.nanmax(np.nanmin(loss_values, axis=1))) + 4.0
    fig.update_yaxes(title_text="loss", range=[lowest - 0.5, top], row=1, col=1)
    fig.update_yaxes(title_text="∂L/∂s", range=[-3.0, 0.75], zeroline=True,
                     zerolinecolor="#475569", row=1, col=2)
    return fig
