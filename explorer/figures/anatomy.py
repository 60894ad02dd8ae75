"""The Loss anatomy view: loss and dL/dz against the output pre-activation, and the per-point
gradient magnitudes of the trained model over epochs.

Pure builders: ``AnatomyCurves`` / gradient arrays (from ``explorer.anatomy``) -> go.Figure.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import losses, numbers
from explorer.anatomy import AnatomyCurves
from explorer.figures import style

SATURATED_FILL = "#94a3b8"
WRONG_COLOR = "#dc2626"
GRADIENT_FLOOR = 1e-6
INVALID_TEXT = "Gaps: the prediction leaves the loss's domain there (loss undefined)."


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _target_color(curves: AnatomyCurves, row: int) -> str:
    """Target 1 / true class: class-1 orange; target 0: class-0 blue; regression: dark."""
    if len(curves.targets) == 1:
        return style.FIT_COLOR
    return style.CLASS_COLORS[1] if curves.targets[row] >= 0.5 else style.CLASS_COLORS[0]


def _robust_range(arrays, spread: float = 4.0) -> list[float] | None:
    """A y range that keeps the bulk of the curves readable when one end explodes (exp)."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    lo, hi = float(values.min()), float(values.max())
    q_lo, q_hi = np.percentile(values, [5, 95])
    body = max(q_hi - q_lo, 1e-9)
    lo, hi = max(lo, q_lo - spread * body), min(hi, q_hi + spread * body)
    pad = 0.06 * max(hi - lo, 1e-9)
    return [lo - pad, hi + pad]


def anatomy_figure(chosen: AnatomyCurves, matched: AnatomyCurves | None = None,
                   height: int = 620, compact: bool = True) -> go.Figure:
    """Two rows against z: the per-sample loss (top) and dL/dz (bottom).

    ``compact``: for half the page's width, beside the gradients' replay (the page's
    caption explains the shading instead of a subtitle).

    One colour per target; the chosen pair solid, the matched pair dashed. The chosen
    activation's saturated regions (a'(z) ~ 0) are shaded on both rows. NaN values (outside
    the loss's domain) show as gaps.
    """
    # the spacing holds the lower panel's title clear of the upper panel in a short chart
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.28,
                        subplot_titles=("Loss of one sample, L(a(z), y)",
                                        "Its gradient at the pre-activation, dL/dz"))
    pairs = [(chosen, "solid", 3.5)]
    if matched is not None and (matched.activation, matched.loss) != (chosen.activation,
                                                                      chosen.loss):
        pairs.append((matched, "dash", 2.5))
    z_all = []
    for curves, dash, width in pairs:
        z = _f32(curves.z)
        z_all.append(curves.z)
        # the title names both pairs: the legend names the targets by colour and the matched
        # pair by its dash, one short row under a half-width chart
        suffix = "" if curves is chosen else ", matched pair"
        for row, label in enumerate(curves.target_labels):
            color = _target_color(curves, row)
            name = f"{label}{suffix}"
            shown = curves is chosen or row == 0
            common = dict(x=z, mode="lines", legendgroup=name, connectgaps=False,
                          line=dict(color=color, width=width, dash=dash))
            fig.add_trace(go.Scatter(
                y=_f32(curves.loss_values[row]), showlegend=shown, **common,
                name=(name if curves is chosen
                      else style.wrap(f"dashed: {curves.label} (matched)", 34)),
                customdata=_f32(curves.prediction),
                hovertemplate="z = %{x:.2f}<br>p = %{customdata:.3g}<br>loss = %{y:.4g}"
                              "<extra></extra>"), row=1, col=1)
            fig.add_trace(go.Scatter(
                y=_f32(curves.grad[row]), name=name, showlegend=False, **common,
                customdata=_f32(curves.prediction),
                hovertemplate="z = %{x:.2f}<br>p = %{customdata:.3g}<br>dL/dz = %{y:.4g}"
                              "<extra></extra>"), row=2, col=1)
    z_lo = min(float(np.min(z)) for z in z_all)
    z_hi = max(float(np.max(z)) for z in z_all)
    for k, (lo, hi) in enumerate(chosen.saturated):
        # a region at the plot's edge labelled from that edge inward, not centred across
        # it onto the tick labels
        x, anchor = ((lo, "left") if lo <= z_lo else (hi, "right") if hi >= z_hi
                     else ((lo + hi) / 2, "center"))
        fig.add_vrect(x0=lo, x1=hi, fillcolor=SATURATED_FILL, opacity=0.18, line_width=0,
                      layer="below", row="all", col=1)
        if k == 0 or hi - lo > 0:
            fig.add_annotation(
                x=x, xanchor=anchor, y=1.0, xref="x", yref="y domain", yanchor="top",
                text="saturated:<br>a′(z) ≈ 0", showarrow=False,
                bgcolor="rgba(255, 255, 255, 0.75)", font=dict(size=12, color="#475569"))
    fig.add_hline(y=0.0, line=dict(color="#94a3b8", width=1), row=2, col=1)
    loss_range = _robust_range([c.loss_values for c, _, _ in pairs])
    grad_range = _robust_range([c.grad for c, _, _ in pairs])
    # few ticks: each panel may be a hundred pixels tall
    fig.update_yaxes(title_text="loss", range=loss_range, nticks=3, row=1, col=1)
    fig.update_yaxes(title_text="dL/dz", range=grad_range, nticks=3, row=2, col=1)
    fig.update_xaxes(title_text="pre-activation z of the output unit", range=[z_lo, z_hi],
                     row=2, col=1)
    notes = []
    if chosen.saturated and not compact:
        notes.append(f"Shaded: {chosen.label.split(' + ')[0]} is flat there (a′(z) ≈ 0), so "
                     "dL/dz = dL/dp · a′(z) vanishes unless dL/dp grows to match, as "
                     "cross-entropy's 1/p does.")
    if chosen.invalid or (matched is not None and matched.invalid):
        notes.append(INVALID_TEXT)
    if losses.get(chosen.loss).outputs_per_target > 1:
        notes.append("Two output units: the mean unit's z varies; the scale unit stays at "
                     "s = 0 (σ = 1).")
    elif chosen.n_classes > 1:
        notes.append(f"Multi-class: the output z of one of {chosen.n_classes} classes "
                     "varies, the others stay at 0.")
    style.base_layout(fig, height=height)
    # the lower panel's title a little higher: clear of its top tick label
    fig.layout.annotations[1].update(yshift=10)
    # the chosen pair names the chart, the matched pair its legend entry: one line less
    # above panels that may be a hundred pixels tall
    title = style.wrap(chosen.label, 44)
    subtitle = style.wrap("<br>".join(notes), 62) if notes else ""
    lines = title.count("<br>") + 1 + (subtitle.count("<br>") + 1 if subtitle else 0)
    # titles wrapped to a half-width chart; the top margin grows with their lines
    fig.update_layout(margin=dict(t=64 + 24 * lines, b=88),
                      legend=dict(orientation="h", yref="container", y=0.0,
                                  yanchor="bottom", x=0.0),
                      title=dict(text=title, x=0.0, subtitle=dict(text=subtitle)))
    return fig


def gradient_histogram_figure(grads, epochs, confidently_wrong=None, **options) -> go.Figure:
    """``gradient_histogram_spec`` as a checked Plotly figure holding NumPy arrays (the
    tests use it)."""
    spec = gradient_histogram_spec(grads, epochs, confidently_wrong, **options)
    return go.Figure(style.numpy_arrays(spec))


def gradient_histogram_spec(grads, epochs, confidently_wrong=None, bins: int = 40,
                            floor: float = GRADIENT_FLOOR, height: int = 520) -> dict:
    """Histogram of log10 |dL/dz| over the training points, animated over the snapshots.

    grads (S, n): per-point gradient magnitudes (``anatomy.per_point_output_gradients``);
    values below ``floor`` are counted at the floor. With ``confidently_wrong`` (n,) bool,
    those points are stacked in red so their gradients can be followed.
    """
    grads = np.asarray(grads, dtype=float)
    epochs = np.asarray(epochs).astype(int)
    logs = np.log10(np.maximum(np.where(np.isfinite(grads), grads, np.nan), floor))
    finite = logs[np.isfinite(logs)]
    lo = float(finite.min()) if finite.size else np.log10(floor)
    hi = float(finite.max()) if finite.size else 0.0
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    centers, width = _f32((edges[:-1] + edges[1:]) / 2), float(edges[1] - edges[0])
    groups = [("all points", np.ones(grads.shape[1], bool), style.TRAIN_COLOR)]
    if confidently_wrong is not None and np.any(confidently_wrong):
        flags = np.asarray(confidently_wrong, bool)
        groups = [("other points", ~flags, style.TRAIN_COLOR),
                  ("confidently wrong at the end", flags, WRONG_COLOR)]
    counts = np.array([[np.histogram(row[sel][np.isfinite(row[sel])], edges)[0]
                        for _, sel, _ in groups] for row in logs])  # (S, groups, bins)
    fig = go.Figure()
    last = len(epochs) - 1
    for g, (name, _, color) in enumerate(groups):
        fig.add_trace(go.Bar(x=centers, y=_f32(counts[last, g]), width=width, name=name,
                             marker=dict(color=color, line=dict(width=0)),
                             hovertemplate="|dL/dz| ≈ 10^%{x:.2f}<br>%{y} points"
                                           "<extra></extra>"))
    style.base_layout(fig, height=height, barmode="stack", bargap=0.05)
    ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
    fig.update_xaxes(title_text="|dL/dz| per training point (log scale)", range=[lo, hi],
                     tickvals=ticks, ticktext=[numbers.power_of_ten(int(t)) for t in ticks])
    fig.update_yaxes(title_text="number of points",
                     range=[0, float(counts.sum(axis=1).max()) * 1.08 + 1])
    # the legend under the slider, in pixels: above the panel it ran into the title's note
    # in a short chart
    fig.update_layout(margin=dict(t=110, b=140),
                      legend=dict(orientation="h", x=0.0, yref="container", y=0.0,
                                  yanchor="bottom"),
                      title=dict(
        text="How hard each training point pulls on the output", x=0.0,
        subtitle=dict(text=style.wrap(f"Per-sample gradient at the output pre-activation; "
                                      f"values below {numbers.number(floor)} counted at "
                                      f"{numbers.number(floor)}.", 62))))
    frames = [dict(name=str(int(epoch)),
                   data=[dict(type="bar", y=_f32(counts[s, g])) for g in range(len(groups))],
                   traces=list(range(len(groups))))
              for s, epoch in enumerate(epochs)]
    return style.animated_spec(fig, frames, [str(int(e)) for e in epochs], redraw=False,
                               drop=4)
