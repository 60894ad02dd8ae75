"""Take-aways for slides: the animated figure as one offline HTML file, the Train view as
an animated GIF, and the trained weights. Pure functions: figures and arrays in, bytes out.
"""

from __future__ import annotations

import html
import io
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from explorer import metrics
from explorer.figures import playback, style
from explorer.figures.training import Frames
from explorer.network import Model

GIF_SIZE = (800, 400)
"""Width and height of the GIF: a map (or fit) on the left, the loss curve on the right."""
GIF_FRAME_MS = 120
TEXT = "#0f172a"


def animation_html(fig: go.Figure | dict, title: str) -> str:
    """One self-contained HTML page that plays ``fig`` (a figure or its plain dict) offline:
    Plotly's JavaScript is embedded (no network), with the same playback bar as the app."""
    spec = fig if isinstance(fig, dict) else fig.to_dict()
    # auto_play off: Plotly's own autoplay ran the frames on load and stopped wherever the
    # page happened to be ready ("Epoch 3", half drawn). The page opens on the figure as
    # built, the final state, which its slider labels with its epoch; Play replays it.
    chart = pio.to_html(spec, include_plotlyjs=True, full_html=False, div_id="chart",
                        config={"displaylogo": False, "responsive": True}, validate=False,
                        auto_play=False)
    bar = playback.bar_html("#chart", spec, run_key=str(spec["layout"].get("meta") or "figure"),
                            redraw=False, autoplay=False)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:Helvetica,Arial,sans-serif;color:#0f172a;"
            "margin:1.2rem 2rem;}h1{font-size:1.4rem;margin:0 0 .4rem 0;}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{chart}{bar}</body></html>")


def animation_gif(frames: Frames, history: pd.DataFrame, data, problem: str, title: str,
                  every: int = 2) -> bytes:
    """The Train view as an animated GIF, drawn with Pillow from the arrays the figure is
    made of: every ``every``-th snapshot (``gif_frames`` says which), the last always kept."""
    from PIL import Image, ImageDraw, ImageFont

    picks = gif_frames(len(frames.epochs), every)
    width, height = GIF_SIZE
    font = ImageFont.load_default(size=17)
    small = ImageFont.load_default(size=14)
    loss = history["loss"].to_numpy(float)
    epochs_all = history["epoch"].to_numpy(float)
    metric = metrics.names(problem)[0]
    images = []
    for s in picks:
        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        epoch = int(frames.epochs[s])
        draw.text((14, 8), f"{title}: epoch {epoch}", fill=TEXT, font=font)
        _draw_left(canvas, draw, frames, s, data, problem, (14, 40, 374, height - 14))
        draw.text((410, 32), _numbers(history, epoch, metric), fill=TEXT,
                  font=small)
        _draw_curve(draw, epochs_all, loss, epoch, (410, 80, width - 16, height - 40), small)
        images.append(canvas.quantize(colors=64, method=Image.Quantize.FASTOCTREE))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=GIF_FRAME_MS, loop=0, disposal=2)
    return buffer.getvalue()


def gif_frames(count: int, every: int = 2) -> list[int]:
    """Which snapshots become GIF frames: every ``every``-th, and always the last."""
    return sorted(set(range(0, count, max(1, every))) | {count - 1})


def _box_xy(box, x_range, y_range):
    left, top, right, bottom = box

    def to_px(x, y):
        px = left + (np.asarray(x, float) - x_range[0]) / (x_range[1] - x_range[0]) * (
            right - left)
        py = bottom - (np.asarray(y, float) - y_range[0]) / (y_range[1] - y_range[0]) * (
            bottom - top)
        return px, py
    return to_px


def _draw_left(canvas, draw, frames: Frames, s: int, data, problem: str, box) -> None:
    """The map (2-D) or the fitted curve (1-D) with the training points."""
    from PIL import Image

    left, top, right, bottom = box
    X, y = data.X_train, np.asarray(data.y_train)
    if frames.kind == "curve":
        x_range = (float(frames.grid_x[0]), float(frames.grid_x[-1]))
        fitted = frames.values[s]
        values = np.concatenate([y.astype(float), fitted[np.isfinite(fitted)]])
        y_range = (float(values.min()), float(values.max()) + 1e-9)
        to_px = _box_xy(box, x_range, y_range)
        draw.rectangle(box, outline="#cbd5e1")
        px, py = to_px(X[:, 0], y)
        for a, b in zip(px, py):
            draw.ellipse((a - 3, b - 3, a + 3, b + 3), fill=style.TRAIN_COLOR)
        cx, cy = to_px(frames.grid_x, np.nan_to_num(frames.values[s]))
        draw.line(list(zip(cx.tolist(), cy.tolist())), fill=style.FIT_COLOR, width=3)
        return
    rgb = frames.rgb(s)[::-1]  # rows of the grid go up; image rows go down
    image = Image.fromarray(np.ascontiguousarray(rgb)).resize((right - left, bottom - top))
    canvas.paste(image, (left, top))
    x_range = (float(frames.grid_x[0]), float(frames.grid_x[-1]))
    y_range = (float(frames.grid_y[0]), float(frames.grid_y[-1]))
    to_px = _box_xy(box, x_range, y_range)
    lx, ly = frames.boundary(s)
    if len(lx):
        px, py = to_px(lx, ly)
        for start in range(0, len(px) - 1, 3):  # segments separated by NaN breaks
            draw.line([(px[start], py[start]), (px[start + 1], py[start + 1])],
                      fill=style.FIT_COLOR, width=3)
    px, py = to_px(X[:, 0], X[:, 1])
    for a, b, label in zip(px, py, y):
        color = (style.CLASS_COLORS[int(label) % 10] if problem in ("binary", "multiclass")
                 else style.TRAIN_COLOR)
        draw.ellipse((a - 3.5, b - 3.5, a + 3.5, b + 3.5), fill=color,
                     outline=style.POINT_OUTLINE)


def _draw_curve(draw, epochs, loss, epoch: int, box, font) -> None:
    """The training loss up to ``epoch`` (log axis when it spans decades), with axes."""
    left, top, right, bottom = box
    finite = np.isfinite(loss)
    draw.rectangle(box, outline="#cbd5e1")
    draw.text((left, top - 20), "training loss", fill=TEXT, font=font)
    if not finite.any():
        return
    values = loss[finite]
    log = values.min() > 0 and values.max() / values.min() > 30
    shown = np.log10(loss) if log else loss
    lo, hi = float(np.nanmin(shown[finite])), float(np.nanmax(shown[finite]))
    to_px = _box_xy(box, (0.0, max(float(epochs[-1]), 1.0)), (lo, hi if hi > lo else lo + 1))
    keep = finite & (epochs <= epoch)
    if keep.sum() >= 2:
        px, py = to_px(epochs[keep], shown[keep])
        draw.line(list(zip(px.tolist(), py.tolist())), fill=style.TRAIN_COLOR, width=3)
    draw.text((left, bottom + 4), "epoch 0", fill="#334155", font=font)
    draw.text((right - 80, bottom + 4), f"epoch {int(epochs[-1])}", fill="#334155", font=font)
    if log:
        draw.text((right - 90, top + 4), "log scale", fill="#334155", font=font)


def _numbers(history: pd.DataFrame, epoch: int, metric: str) -> str:
    rows = history[history["epoch"] == epoch]
    if not len(rows):
        return "initial weights, before any update"
    row = rows.iloc[0]
    value = row[metric]
    shown = f"{value:.1%}" if metric == "accuracy" else f"{value:.3g}"
    return f"training loss {row['loss']:.3g},  {metrics.IN_SENTENCE[metric]} {shown}"


def weights_npz(model: Model, config: dict) -> bytes:
    """The trained weights (flat vector and per layer), the snapshots along the way and the
    configuration that made them, as one NumPy .npz file."""
    buffer = io.BytesIO()
    layers = {}
    for index, (W, b) in enumerate(model.network.layers(np.asarray(model.theta)), start=1):
        layers[f"W{index}"] = np.asarray(W)
        layers[f"b{index}"] = np.asarray(b)
    arrays: dict[str, np.ndarray] = {
        "theta": np.asarray(model.theta), "snapshots": np.asarray(model.snapshots),
        "snapshot_epochs": np.asarray(model.snapshot_epochs),
        "sizes": np.asarray(model.network.sizes), "config": np.array(json.dumps(config)),
        **layers}
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()

