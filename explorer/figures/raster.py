"""Backgrounds as images: a colour-mapped grid becomes a PNG under the axes.

Why: Streamlit's Plotly blanks heatmap and contour traces while it redraws animation frames,
so an error surface flickered away whenever the path played. A layout image is not a trace;
it stays put while only the path moves (no redraw), and a PNG is small.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

Array = np.ndarray
MISSING = (226, 232, 240)
"""Colour of undefined cells (NaN): light slate."""


def _stops(colorscale) -> tuple[Array, Array]:
    scale = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    positions = np.array([float(p) for p, _ in scale])
    colors = np.array([hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c)
                       for _, c in scale], dtype=float)
    return positions, colors


def hex_rgb(color: str) -> tuple[int, int, int]:
    """'#2563eb' -> (37, 99, 235)."""
    return tuple(hex_to_rgb(color))


def colorize(values: Array, colorscale, lo: float, hi: float) -> Array:
    """Values (h, w) -> RGB uint8 (h, w, 3) through a Plotly colorscale; NaN -> MISSING."""
    positions, colors = _stops(colorscale)
    t = (np.asarray(values, float) - lo) / (hi - lo if hi > lo else 1.0)
    finite = np.isfinite(t)
    t = np.clip(np.where(finite, t, 0.0), 0.0, 1.0)
    rgb = np.stack([np.interp(t, positions, colors[:, c]) for c in range(3)], axis=-1)
    rgb[~finite] = MISSING
    return np.round(rgb).astype(np.uint8)


def png_data_uri(rgb: Array) -> str:
    """An RGB uint8 image (h, w, 3), first row at the top, as a data: URI of a PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + np.ascontiguousarray(rgb[r]).tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def grid_image(x: Array, y: Array, rgb: Array, xref: str = "x", yref: str = "y") -> dict:
    """A layout image covering the cells of a grid with centres x (w,), y (h,), rows = y.

    rgb[r, c] is the colour at (x[c], y[r]); the image is flipped so y grows upwards.
    """
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    return dict(source=png_data_uri(rgb[::-1]), xref=xref, yref=yref,
                x=float(x[0] - dx / 2), y=float(y[-1] + dy / 2),
                sizex=float(x[-1] - x[0] + dx), sizey=float(y[-1] - y[0] + dy),
                sizing="stretch", layer="below", xanchor="left", yanchor="top")


def iso_lines(x: Array, y: Array, Z: Array, level: float) -> tuple[Array, Array]:
    """Marching squares: the curve Z = level over the grid, as (xs, ys) with NaN breaks.

    Z has shape (len(y), len(x)). Each crossed cell contributes one segment (two for a
    saddle), with end points linearly interpolated along the cell's edges.
    """
    Z = np.asarray(Z, float)
    above = Z > level
    with np.errstate(invalid="ignore", divide="ignore"):
        # crossing points on horizontal edges (between columns) and vertical edges (rows)
        th = (level - Z[:, :-1]) / (Z[:, 1:] - Z[:, :-1])
        tv = (level - Z[:-1, :]) / (Z[1:, :] - Z[:-1, :])
    hx = x[:-1] + th * (x[1:] - x[:-1])
    vy = y[:-1, None] + tv * (y[1:] - y[:-1])[:, None]
    cross_h = (above[:, :-1] != above[:, 1:]) & np.isfinite(th)
    cross_v = (above[:-1, :] != above[1:, :]) & np.isfinite(tv)
    # the four edges of cell (r, c): bottom, right, top, left
    edges = [
        (cross_h[:-1, :], hx[:-1, :], np.broadcast_to(y[:-1, None], hx[:-1, :].shape)),
        (cross_v[:, 1:], np.broadcast_to(x[None, 1:], vy[:, 1:].shape), vy[:, 1:]),
        (cross_h[1:, :], hx[1:, :], np.broadcast_to(y[1:, None], hx[1:, :].shape)),
        (cross_v[:, :-1], np.broadcast_to(x[None, :-1], vy[:, :-1].shape), vy[:, :-1]),
    ]
    hit = np.stack([e[0] for e in edges], axis=-1)
    px = np.stack([e[1] for e in edges], axis=-1)
    py = np.stack([e[2] for e in edges], axis=-1)
    xs, ys = [], []
    for count in (2, 4):
        cells = hit.sum(axis=-1) == count
        if not cells.any():
            continue
        order = np.argsort(~hit[cells], axis=-1, kind="stable")[:, :count]
        cx = np.take_along_axis(px[cells], order, axis=-1)
        cy = np.take_along_axis(py[cells], order, axis=-1)
        for start in range(0, count, 2):
            xs.append(np.column_stack([cx[:, start], cx[:, start + 1],
                                       np.full(len(cx), np.nan)]).ravel())
            ys.append(np.column_stack([cy[:, start], cy[:, start + 1],
                                       np.full(len(cy), np.nan)]).ravel())
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)
