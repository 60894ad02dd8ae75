"""The Train view: boundary or fit, loss curves and the reported metric in one animated figure.

One figure with subplots, so one slider and one play button drive all panels together and
the browser plays it with no round trip. The 2-D prediction map of each frame is a PNG layout
image (see ``raster``): Streamlit's Plotly blanks heatmap traces, and everything drawn with
them, while it redraws frames; images and scatter traces animate with no redraw at all.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import activations, demonstration, metrics, numbers
from explorer.figures import raster, style
from explorer.network import Model, Workspace

GRID = 64
CLASS_GRID = 80
CURVE_POINTS = 200


@dataclass(frozen=True)
class Frames:
    """What the left panel shows at each snapshot.

    kind: 'probability' (binary 2-D), 'classes' (multi-class 2-D), 'value' (regression 2-D)
    or 'curve' (1-D input). For 2-D kinds: ``values`` (S, len(grid_y), len(grid_x)) float32
    (binary output, regression prediction, or multi-class confidence), ``classes`` the
    predicted class per cell (multi-class), and ``lines`` the decision boundary per snapshot
    (binary: output = threshold) as (xs, ys) with NaN breaks. For 'curve': ``values``
    (S, len(grid_x)) float32 predictions.
    """

    kind: str
    epochs: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    """Empty for the 'curve' kind."""
    values: np.ndarray
    value_range: tuple[float, float] = (0.0, 1.0)
    n_classes: int = 2
    classes: np.ndarray | None = None
    threshold: float = 0.5
    value_label: str = "prediction"
    """What the colour means: 'p(class 1)' only where the output is a probability."""

    def image(self, s: int, xref: str = "x", yref: str = "y") -> dict:
        """Layout image of snapshot s (2-D kinds)."""
        return raster.grid_image(self.grid_x, self.grid_y, self.rgb(s), xref, yref)

    def rgb(self, s: int) -> np.ndarray:
        if self.kind == "classes":
            light = np.array([raster.hex_rgb(c) for c in style.CLASS_LIGHT], float)
            full = np.array([raster.hex_rgb(c) for c in style.CLASS_REGION], float)
            assert self.classes is not None  # always set for the 'classes' kind
            cls = self.classes[s] % len(light)
            conf = np.nan_to_num(self.values[s])[..., None]
            rgb = light[cls] + conf * (full[cls] - light[cls])
            return np.round(rgb).astype(np.uint8)
        scale = style.PROBABILITY_SCALE if self.kind == "probability" else style.VALUE_SCALE
        return raster.colorize(self.values[s], scale, *self.value_range)

    def boundary(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Snapshot s's decision boundary (output = threshold), from ``boundaries`` once
        they were traced."""
        if self.kind != "probability":
            return np.zeros(0), np.zeros(0)
        traced = self.__dict__.get("_boundaries")
        if traced is not None:
            return traced[s]
        return raster.iso_lines(self.grid_x, self.grid_y, self.values[s], self.threshold)

    def boundaries(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every snapshot's decision boundary, traced in one pass and kept."""
        if "_boundaries" not in self.__dict__:
            count = len(self.epochs)
            traced = (raster.iso_lines_many(self.grid_x, self.grid_y, self.values,
                                            self.threshold) if self.kind == "probability"
                      else [(np.zeros(0), np.zeros(0))] * count)
            object.__setattr__(self, "_boundaries", traced)
        return self.__dict__["_boundaries"]


def padded_range(values: np.ndarray, pad: float = 0.1) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    span = max(hi - lo, 1e-6)
    return lo - pad * span, hi + pad * span


FRAME_FLOATS = 2**18
"""Floats of one layer's activations per stacked pass of the frames (2 MB of float64): a
block of snapshots x grid points that stays in cache (the fastest size here), and the bound
on memory whatever the network, the grid and the number of snapshots."""


def compute_frames(model: Model, X: np.ndarray, y: np.ndarray, resolution: int | None = None,
                   max_floats: int = FRAME_FLOATS) -> Frames:
    """Evaluate every snapshot on a grid covering X; batched over blocks of snapshots and
    grid points of at most ``max_floats`` floats per layer, each block reduced at once to
    what the map keeps (float32 values, uint8 classes): memory is the result plus one block.
    """
    network, thetas, problem = model.network, model.snapshots, model.problem
    if X.shape[1] == 1:
        gx = np.linspace(*padded_range(X[:, 0]), CURVE_POINTS)
        curve = np.empty((len(thetas), len(gx)), dtype=np.float32)
        for rows, cols, out in _output_blocks(network, thetas, gx[:, None], max_floats):
            curve[rows, cols] = out[..., 0]
        return Frames("curve", model.snapshot_epochs, gx, np.zeros(0), curve)
    resolution = resolution or (CLASS_GRID if problem == "multiclass" else GRID)
    gx = np.linspace(*padded_range(X[:, 0], 0.08), resolution)
    gy = np.linspace(*padded_range(X[:, 1], 0.08), resolution)
    xx, yy = np.meshgrid(gx, gy)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    shape = (len(thetas), resolution, resolution)
    values = np.empty((len(thetas), len(points)), dtype=np.float32)
    if problem == "multiclass":
        classes = np.empty((len(thetas), len(points)), dtype=np.uint8)
        k = network.n_outputs
        for rows, cols, out in _output_blocks(network, thetas, points, max_floats):
            classes[rows, cols] = np.argmax(np.nan_to_num(out, nan=0.0), axis=-1)
            values[rows, cols] = np.clip((np.max(out, axis=-1) - 1.0 / k) / (1.0 - 1.0 / k),
                                         0.0, 1.0)
        return Frames("classes", model.snapshot_epochs, gx, gy, values.reshape(shape),
                      (0.0, 1.0), k, classes.reshape(shape))
    for rows, cols, out in _output_blocks(network, thetas, points, max_floats):
        values[rows, cols] = out[..., 0]
    if problem == "binary":
        value_range = (-1.0, 1.0) if model.threshold == 0.0 else (0.0, 1.0)
        meaning = demonstration.output_meaning(problem, network.output_activation, model.loss)
        label = {"probability": "p(class 1)", "score": "score"}.get(meaning, "output")
        return Frames("probability", model.snapshot_epochs, gx, gy, values.reshape(shape),
                      value_range, threshold=model.threshold, value_label=label)
    return Frames("value", model.snapshot_epochs, gx, gy, values.reshape(shape),
                  padded_range(np.asarray(y, float), 0.05))


def _output_blocks(network, thetas, points, max_floats: int = FRAME_FLOATS):
    """(snapshot slice, point slice, outputs (c, g, k)) covering every snapshot on every
    point: each block a stacked pass holding at most about ``max_floats`` floats per layer,
    in one reused workspace (the outputs are valid until the next block)."""
    workspace = Workspace()
    output = activations.get(network.output_activation)
    width = max(network.sizes) + 1
    step = len(points) if len(points) * width <= max_floats else max(1, max_floats // width)
    for p0 in range(0, len(points), step):
        block = points[p0:p0 + step]
        chunk = network.stack_size(len(block), max_floats)
        for s0 in range(0, len(thetas), chunk):
            with np.errstate(all="ignore"):
                z = network.pre_activations(thetas[s0:s0 + chunk], block, workspace=workspace)
                yield slice(s0, s0 + chunk), slice(p0, p0 + step), output.forward(z)


def frames_work(n_params: int, grid_points: int, snapshots: int) -> float:
    """Work of ``compute_frames``, in ``experiment.work_units``'s unit (one sample through
    one parameter, forward): every snapshot's forward pass over every grid point.

    Formula: snapshots x grid_points x n_params. ``grid_points``: ``frame_grid_points``."""
    return float(snapshots) * grid_points * n_params


def frame_grid_points(problem: str, n_inputs: int = 2) -> int:
    """How many points ``compute_frames`` evaluates per snapshot: the curve's points for one
    input, else the square grid (finer for several classes)."""
    if n_inputs == 1:
        return CURVE_POINTS
    return (CLASS_GRID if problem == "multiclass" else GRID) ** 2


def training_figure(frames: Frames, history: pd.DataFrame, data, problem: str,
                    **options) -> go.Figure:
    """``training_spec`` as a checked Plotly figure holding NumPy arrays (the tests use it);
    the app sends the spec itself."""
    return go.Figure(style.numpy_arrays(training_spec(frames, history, data, problem, **options)))


def training_spec(frames: Frames, history: pd.DataFrame, data, problem: str,
                  log_scale: bool | None = None, loss_label: str = "loss",
                  threshold: float = 0.5, target_label: str = "y",
                  start_at_first: bool = False, height: int = 600,
                  presenting: bool = False) -> dict:
    """Boundary/fit (left) with loss (top right) and metric (bottom right), one slider.

    Returned as Plotly's plain dict, built without Plotly's objects: the panels and fonts
    come from a layout Plotly builds once per set of titles (``_skeleton``), the traces,
    axes and 100 frames are plain data with float32 typed arrays. Checking all of it costs
    more than training the default scenario; ``training_figure`` does, and the tests use it.

    The slider shows each frame's epoch with its train and validation loss and metric, so
    the numbers follow the animation. ``log_scale`` None: log when the loss spans more than
    ``LOG_DECADES`` decades (``loss_spans_decades``). ``start_at_first``: open on epoch 0
    (for a replay that starts by itself) instead of the final frame. ``presenting``: the
    compact layout of presenting mode (legend inside, less margin, larger type).
    """
    if log_scale is None:
        log_scale = loss_spans_decades(history)
    metric = metrics.names(problem)[0]
    left_title = {"probability": "Model output over the input plane",
                  "classes": "Predicted class (shade = confidence)",
                  "value": "Prediction over the input plane",
                  "curve": "Fitted curve over the data"}[frames.kind]
    layout = json.loads(_skeleton(left_title, f"Loss ({loss_label})", metrics.LABELS[metric],
                                  height, presenting))
    final = len(frames.epochs) - 1
    traces = [_left_trace(frames, final, problem, threshold)]
    if frames.kind not in ("curve", "classes"):
        traces.append(_colorbar_trace(frames))
    traces += _point_traces(frames, data, problem)
    curve_history = _curve_arrays(_thin(history), metric)
    curves = _curve_traces(curve_history, metric, frames.epochs[final])
    for trace, axes in zip(curves, ["2", "2", "3", "3"]):
        trace.update(xaxis="x" + axes, yaxis="y" + axes)
    curve_idx = list(range(len(traces), len(traces) + len(curves)))
    traces += curves
    _axes(layout, frames, data, history, problem, metric, log_scale, target_label)
    # the top margin holds the legend's rows (a legend group's entries stack in one column)
    # above the panels' titles
    groups: dict = {}
    for trace in traces:
        if trace.get("showlegend", True) and "legendgroup" in trace:
            groups[trace["legendgroup"]] = groups.get(trace["legendgroup"], 0) + 1
    rows = max(2, *groups.values()) if groups else 2
    layout["margin"]["t"] = 36 + (24 if presenting else 22) * rows
    divergence = history.attrs.get("divergence")
    if divergence:
        epoch = divergence["epoch"]
        layout.setdefault("shapes", []).append(dict(
            type="line", x0=epoch, x1=epoch, xref="x2", y0=0, y1=1, yref="y2 domain",
            line=dict(color="#dc2626", dash="dash")))
        layout["annotations"].append(dict(
            text=f"NaN at epoch {epoch}", x=epoch, xref="x2", yref="y2 domain", y=0.95,
            showarrow=False, xanchor="right", font=dict(color="#dc2626")))
    if frames.kind != "curve":
        layout["images"] = [frames.image(final)]
    frames.boundaries()  # all at once, for the frames below
    frame_list = [
        dict(name=str(int(epoch)),
             data=[style.typed_arrays(update) for update in
                   (_left_update(frames, s),
                    *_curve_updates(curve_history, metric, epoch, with_x=False))],
             traces=[0, *curve_idx],
             **({} if frames.kind == "curve" else {"layout": {"images": [frames.image(s)]}}))
        for s, epoch in enumerate(frames.epochs)
    ]
    # the slider sits just below the input-plane axis title
    layout["sliders"] = [style.slider(
        [str(int(epoch)) for epoch in frames.epochs], frame_labels(history, frames.epochs, metric),
        redraw=False, active=0 if start_at_first else None, drop=0)]
    return dict(data=[style.typed_arrays(t) for t in traces], layout=layout,
                frames=frame_list)


@functools.lru_cache(maxsize=32)
def _skeleton(left_title: str, loss_title: str, metric_title: str, height: int,
              presenting: bool) -> str:
    """The Train figure's layout without data (panels, titles, fonts, margins, template),
    built by Plotly once per set of titles, as JSON (each figure loads its own copy).

    Axes: x/y the input plane (left, both rows), x2/y2 the loss, x3/y3 the metric."""
    fig = make_subplots(
        rows=2, cols=2, column_widths=[0.52, 0.48], horizontal_spacing=0.23,
        vertical_spacing=0.22, specs=[[{"rowspan": 2}, {}], [None, {}]],
        subplot_titles=(left_title, loss_title, metric_title))
    style.base_layout(fig, height=height)
    # compact in both modes: on a laptop too the chart shares the first screen
    fig.update_layout(margin=dict(l=60, r=20, t=80, b=95))
    if presenting:
        fig.update_layout(font=dict(size=16), legend=dict(font=dict(size=15)))
    return json.dumps(fig.to_dict()["layout"])


def _merge(target: dict, changes: dict) -> dict:
    """Nested update, as Plotly's ``update_*`` does: dicts merge, anything else replaces."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def snapshot_figure(frames: Frames, data, problem: str, epoch: int,
                    height: int = 380) -> go.Figure:
    """One still picture of the latest snapshot (the last of ``frames``) while a long run
    is still training: the boundary or fit over the data, nothing animated."""
    fig = make_subplots(rows=1, cols=1)
    last = len(frames.epochs) - 1
    for trace in (_left_trace(frames, last, problem, frames.threshold),
                  *_point_traces(frames, data, problem)):
        fig.add_trace(trace)
    if frames.kind != "curve":
        fig.add_layout_image(frames.image(last))
    style.base_layout(fig, height=height)
    fig.update_layout(margin=dict(l=50, r=20, t=50, b=40), showlegend=False,
                      title=dict(text=f"Still training: the model after epoch {epoch}",
                                 x=0.0, font=dict(size=17)))
    if frames.kind == "curve":
        fig.update_xaxes(range=list(padded_range(data.X_train[:, 0], 0.02)))
    else:
        fig.update_xaxes(range=[frames.grid_x[0], frames.grid_x[-1]], showgrid=False,
                         zeroline=False)
        fig.update_yaxes(range=[frames.grid_y[0], frames.grid_y[-1]], showgrid=False,
                         zeroline=False)
    return fig


LOG_DECADES = 1.5


def loss_spans_decades(history: pd.DataFrame, decades: float = LOG_DECADES) -> bool:
    """True when the (positive) loss spans more than ``decades`` decades: a linear axis
    would flatten everything after the first epochs."""
    values = history[[c for c in ("loss", "val_loss") if c in history]].to_numpy(float)
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0
                and np.log10(finite.max() / finite.min()) > decades)


def frame_labels(history: pd.DataFrame, epochs, metric: str) -> list[str]:
    """The slider's text for each frame: epoch, then train/validation loss and metric."""
    label = metrics.LABELS[metric].lower() if metric != "accuracy" else "accuracy"
    row_of = {int(e): i for i, e in enumerate(history["epoch"].to_numpy())}
    columns = {c: history[c].to_numpy(float) for c in
               ("loss", "val_loss", metric, "val_" + metric) if c in history}
    texts = []
    for epoch in np.asarray(epochs).astype(int):
        i = row_of.get(int(epoch))
        if epoch == 0 or i is None:
            texts.append(f"{epoch} (initial weights)")
            continue
        parts = [f"loss {_number(columns['loss'][i])}"]
        if "val_loss" in columns:
            parts[0] += f" (validation {_number(columns['val_loss'][i])})"
        value = _number(columns[metric][i], metric)
        if "val_" + metric in columns:
            value += f" (validation {_number(columns['val_' + metric][i], metric)})"
        parts.append(f"{label} {value}")
        texts.append(f"{epoch}   ·   " + "   ·   ".join(parts))
    return texts


def _number(value, metric: str = "") -> str:
    if not np.isfinite(value):
        return "—"
    return f"{value:.1%}" if metric == "accuracy" else numbers.number(value, 3)


def _left_trace(frames: Frames, s: int, problem: str, threshold: float) -> dict:
    """Trace 0, the animated one: the fitted curve (1-D) or the decision boundary (2-D)."""
    if frames.kind == "curve":
        name = "predicted rate" if problem == "counts" else (
            "model output" if problem == "binary" else "prediction")
        return dict(type="scatter", x=frames.grid_x.astype(np.float32), y=frames.values[s],
                    mode="lines", line=dict(color=style.FIT_COLOR, width=3), name=name)
    line = _scatter_update(*frames.boundary(s))
    return dict(line, mode="lines", line=dict(color=style.FIT_COLOR, width=3),
                hoverinfo="skip", name=f"boundary (output = {threshold:g})",
                showlegend=frames.kind == "probability")


def _scatter_update(x: np.ndarray, y: np.ndarray) -> dict:
    """A frame's new data for a scatter trace, never empty.

    Streamlit's Plotly drops every trace of a subplot from the page while playing once an
    animated scatter trace becomes empty (no boundary on a multi-class map, no loss at epoch
    0), so an empty line is sent as one invisible NaN point instead.
    """
    if len(x) == 0:
        x = y = np.array([np.nan], np.float32)
    return dict(type="scatter", x=np.asarray(x, np.float32), y=np.asarray(y, np.float32))


def _left_update(frames: Frames, s: int) -> dict:
    """Only what changes between frames: the curve's y values or the boundary line."""
    if frames.kind == "curve":
        return dict(type="scatter", y=frames.values[s])
    return _scatter_update(*frames.boundary(s))


def _colorbar_trace(frames: Frames) -> dict:
    """An invisible point whose colour bar explains the background image."""
    lo, hi = frames.value_range
    title = frames.value_label
    scale = style.PROBABILITY_SCALE if frames.kind == "probability" else style.VALUE_SCALE
    return dict(
        type="scatter", x=[float(frames.grid_x[0])], y=[float(frames.grid_y[0])],
        mode="markers", hoverinfo="skip", showlegend=False, name="colour scale",
        marker=dict(size=0.1, opacity=0, color=[lo], cmin=lo, cmax=hi, colorscale=scale,
                    # close to its map, clear of the loss panel's axis title
                    showscale=True, colorbar=dict(title=dict(text=title, side="right"),
                                                  x=0.415, len=0.9, thickness=14)))


def _thin(history: pd.DataFrame, most: int = 150) -> pd.DataFrame:
    """At most ``most`` evenly spaced rows (always the last): curves for the animation."""
    if len(history) <= most:
        return history
    rows = np.unique(np.round(np.linspace(0, len(history) - 1, most)).astype(int))
    return history.iloc[rows]


CURVES = (("loss", "train loss", style.TRAIN_COLOR, "solid"),
          ("val_loss", "validation loss", style.VAL_COLOR, "dash"))


def _curve_columns(metric: str):
    return (*CURVES,
            (metric, f"train {metrics.LABELS[metric]}", style.TRAIN_COLOR, "solid"),
            ("val_" + metric, f"validation {metrics.LABELS[metric]}", style.VAL_COLOR, "dash"))


def _curve_arrays(history: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
    """The curves' columns as float32 arrays ("epoch" and each column the history has)."""
    names = ["epoch", *(c for c, *_ in _curve_columns(metric) if c in history)]
    return {c: history[c].to_numpy(np.float32) for c in names}


def _curve_updates(curves: dict[str, np.ndarray], metric: str, epoch: int,
                   with_x: bool = True) -> list[dict]:
    """Each curve up to ``epoch`` (``curves`` from ``_curve_arrays``).

    ``with_x`` False: y only, for a frame. The trace keeps the x of every epoch, and Plotly
    draws as many points as the shorter of x and y has, so the curve still ends at
    ``epoch``; sending the same epochs again in each of 100 frames took a quarter of the
    figure's bytes."""
    shown = int(np.searchsorted(curves["epoch"], epoch, side="right"))
    x = curves["epoch"][:shown]
    updates = [_scatter_update(x, curves[c][:shown]) if c in curves
               else _scatter_update(x[:0], x[:0])
               for c, *_ in _curve_columns(metric)]
    if not with_x:
        for update in updates:
            del update["x"]
    return updates


def _curve_traces(curves: dict[str, np.ndarray], metric: str, epoch: int) -> list[dict]:
    """The curve traces as first drawn: the frame updates plus their names and styles."""
    return [dict(update, mode="lines", name=name, line=dict(color=color, width=3, dash=dash),
                 showlegend=column in ("loss", "val_loss"))
            for update, (column, name, color, dash)
            in zip(_curve_updates(curves, metric, epoch), _curve_columns(metric))]


def _point_traces(frames: Frames, data, problem: str) -> list[dict]:
    """The training and validation points on the left panel (axes x, y)."""
    traces = []
    parts = [("train", data.X_train, data.y_train,
              dict(size=8, line=dict(width=1, color=style.POINT_OUTLINE))),
             ("validation", data.X_val, data.y_val,
              dict(size=9, symbol="circle-open", line=dict(width=2)))]
    for part, X, y, marker in parts:
        if len(X) == 0:
            continue
        if frames.kind == "curve":
            yy = y.astype(float)
            if problem == "binary":
                yy = yy + np.random.default_rng(0).uniform(-0.03, 0.03, len(yy))
            color = style.TRAIN_COLOR if part == "train" else style.VAL_COLOR
            traces.append(dict(
                type="scatter", x=X[:, 0].astype(np.float32), y=yy.astype(np.float32),
                mode="markers", name=part, marker=dict(marker, color=color, opacity=0.6)))
            continue
        if problem in ("binary", "multiclass"):
            classes = np.unique(y)
            many = len(classes) > 3  # one legend entry per part, not ten rows of classes
            for index, c in enumerate(classes):
                sel = y == c
                name = (f"{part} points (colour = class)" if many
                        else f"{_class_name(data, c)} ({part})")
                traces.append(dict(
                    type="scatter", x=X[sel, 0].astype(np.float32),
                    y=X[sel, 1].astype(np.float32), mode="markers", name=name,
                    legendgroup=part, showlegend=not many or index == 0,
                    marker=dict(marker, color=style.CLASS_COLORS[int(c) % 10])))
        else:
            traces.append(dict(
                type="scatter", x=X[:, 0].astype(np.float32), y=X[:, 1].astype(np.float32),
                mode="markers", name=part,
                marker=dict(marker, color=y.astype(np.float32), colorscale=style.VALUE_SCALE,
                            cmin=frames.value_range[0], cmax=frames.value_range[1])))
    return traces


def _class_name(data, c) -> str:
    names = getattr(data, "class_names", ()) or ()
    return names[int(c)] if int(c) < len(names) else f"class {c}"


def _axes(layout: dict, frames: Frames, data, history, problem, metric, log_scale,
          target_label):
    """Ranges and titles of the three panels (axes named as in ``_skeleton``)."""
    X_all = np.vstack([data.X_train, data.X_val]) if len(data.X_val) else data.X_train
    epochs = max(int(frames.epochs[-1]), 1)
    names: tuple[str, ...] = tuple(getattr(data, "feature_names", ()) or ())
    if frames.kind == "curve":
        x_title = f"{names[0]} (standardized)" if names else "input x"
        _merge(layout["xaxis"], dict(title=dict(text=x_title),
                                     range=list(padded_range(X_all[:, 0], 0.02))))
        y_all = np.concatenate([data.y_train, data.y_val]).astype(float)
        lo, hi = padded_range(y_all, 0.08)
        target_name = getattr(data, "target_name", "")
        _merge(layout["yaxis"], dict(title=dict(text=target_name or target_label),
                                     range=[lo, hi]))
    else:
        half_x = float(frames.grid_x[1] - frames.grid_x[0]) / 2
        half_y = float(frames.grid_y[1] - frames.grid_y[0]) / 2
        _merge(layout["xaxis"], dict(
            title=dict(text=f"{names[0]} (standardized)" if names else "x₁"),
            range=[float(frames.grid_x[0]) - half_x, float(frames.grid_x[-1]) + half_x],
            showgrid=False, zeroline=False))
        _merge(layout["yaxis"], dict(
            title=dict(text=f"{names[1]} (standardized)" if len(names) > 1 else "x₂"),
            range=[float(frames.grid_y[0]) - half_y, float(frames.grid_y[-1]) + half_y],
            showgrid=False, zeroline=False))
    # one "epoch" axis under the two curves (same range) is enough: the loss panel's own
    # tick labels would sit on the metric panel's title in a short chart
    _merge(layout["xaxis2"], dict(range=[0, epochs], showticklabels=False))
    _merge(layout["xaxis3"], dict(title=dict(text="epoch"), range=[0, epochs]))
    _loss_axis(layout["yaxis2"], history, log_scale)
    values = history[[c for c in (metric, "val_" + metric) if c in history]].to_numpy(float)
    values = values[np.isfinite(values)]
    if metric == "accuracy":
        _merge(layout["yaxis3"], dict(
            range=[min(0.4, float(values.min()) - 0.02) if values.size else 0, 1.02],
            title=dict(text="accuracy")))
    else:
        top = float(values.max()) * 1.08 + 1e-9 if values.size else 1.0
        _merge(layout["yaxis3"], dict(range=[0, top],
                                      title=dict(text=metrics.LABELS[metric])))


def _loss_axis(axis: dict, history: pd.DataFrame, log_scale: bool) -> None:
    """The loss axis, always titled. A loss can be negative (Poisson leaves out log y!):
    the range then reaches below 0, and a log scale, impossible there, falls back to linear
    with the reason in the title."""
    losses = history[[c for c in ("loss", "val_loss") if c in history]].to_numpy(float)
    finite = losses[np.isfinite(losses)]
    if log_scale and finite.size and finite.min() > 0:
        lo, hi = np.log10(finite.min()), np.log10(finite.max())
        pad = max((hi - lo) * 0.05, 0.05)
        # powers of ten, not SI prefixes: a loss of 10⁻⁴ is not "100μ"
        _merge(axis, dict(type="log", range=[float(lo - pad), float(hi + pad)],
                          title=dict(text="loss (log scale)"), **style.log_ticks(hi - lo)))
        return
    title = "loss (linear: values ≤ 0)" if log_scale and finite.size else "loss"
    if not finite.size:
        _merge(axis, dict(title=dict(text=title)))
        return
    # the whole range, first epochs included: they are the story
    lo = min(0.0, float(finite.min()))
    hi = max(0.0, float(finite.max()))
    pad = 0.08 * (hi - lo) + 1e-9
    _merge(axis, dict(range=[lo - pad if lo < 0 else 0.0, hi + pad], title=dict(text=title)))
