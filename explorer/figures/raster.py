"""Backgrounds as images: a colour-mapped grid becomes a PNG under the axes.

Why: Streamlit's Plotly blanks heatmap and contour traces while it redraws animation frames,
so an error surface flickered away whenever the path played. A layout image is not a trace;
it stays put while only the path moves (no redraw), and a PNG is small.
"""

from __future__ import annotations

import base64
import functools
import json
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


LEVELS = 1024
"""Colour-map resolution: values are looked up in a table of this many colours, each within
one unit of 8-bit colour of the exact interpolation for the scales used here (no banding)."""


@functools.lru_cache(maxsize=16)
def _table(scale_key: str) -> Array:
    """(LEVELS, 3) float RGB of the colorscale stored as JSON in ``scale_key``."""
    positions, colors = _stops(json.loads(scale_key))
    t = np.linspace(0.0, 1.0, LEVELS)
    return np.stack([np.interp(t, positions, colors[:, c]) for c in range(3)], axis=-1)


def colorize(values: Array, colorscale, lo: float, hi: float) -> Array:
    """Values (h, w) -> RGB uint8 (h, w, 3) through a Plotly colorscale; NaN -> MISSING."""
    table = _table(json.dumps(colorscale))
    t = (np.asarray(values, float) - lo) / (hi - lo if hi > lo else 1.0)
    finite = np.isfinite(t)
    index = np.rint(np.clip(np.where(finite, t, 0.0), 0.0, 1.0) * (LEVELS - 1)).astype(np.intp)
    rgb = table[index]
    rgb[~finite] = MISSING
    return np.round(rgb).astype(np.uint8)


def png_data_uri(rgb: Array) -> str:
    """An RGB uint8 image (h, w, 3), first row at the top, as a data: URI of a PNG."""
    h, w, _ = rgb.shape
    # each row starts with its filter byte, 0 (none)
    raw = np.zeros((h, 1 + 3 * w), np.uint8)
    raw[:, 1:] = np.asarray(rgb, np.uint8).reshape(h, 3 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))
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
    return iso_lines_many(x, y, np.asarray(Z)[None], level)[0]


def iso_lines_many(x: Array, y: Array, Zs: Array, level: float) -> list[tuple[Array, Array]]:
    """``iso_lines`` of each grid Zs[s] (shape (S, len(y), len(x))), all at once: only the
    cells the curve crosses are visited."""
    Z = np.asarray(Zs, float)
    count = len(Z)
    above = Z > level
    with np.errstate(invalid="ignore", divide="ignore"):
        # where each horizontal edge (between columns) and vertical edge (between rows) is
        # crossed, as a fraction of the edge
        th = (level - Z[:, :, :-1]) / (Z[:, :, 1:] - Z[:, :, :-1])
        tv = (level - Z[:, :-1, :]) / (Z[:, 1:, :] - Z[:, :-1, :])
    cross_h = (above[:, :, :-1] != above[:, :, 1:]) & np.isfinite(th)
    cross_v = (above[:, :-1, :] != above[:, 1:, :]) & np.isfinite(tv)
    # the four edges of cell (r, c): bottom, right, top, left
    hit = np.stack([cross_h[:, :-1, :], cross_v[:, :, 1:], cross_h[:, 1:, :],
                    cross_v[:, :, :-1]], axis=-1)
    hits = hit.sum(axis=-1)
    pieces: list[list[tuple[Array, Array]]] = [[] for _ in range(count)]
    for crossings in (2, 4):
        s, r, c = np.nonzero(hits == crossings)
        if not len(s):
            continue
        hx_bottom = x[c] + th[s, r, c] * (x[c + 1] - x[c])
        hx_top = x[c] + th[s, r + 1, c] * (x[c + 1] - x[c])
        vy_right = y[r] + tv[s, r, c + 1] * (y[r + 1] - y[r])
        vy_left = y[r] + tv[s, r, c] * (y[r + 1] - y[r])
        px = np.column_stack([hx_bottom, x[c + 1], hx_top, x[c]])
        py = np.column_stack([y[r], vy_right, y[r + 1], vy_left])
        cell_hit = hit[s, r, c]
        order = np.argsort(~cell_hit, axis=-1, kind="stable")[:, :crossings]
        cx = np.take_along_axis(px, order, axis=-1)
        cy = np.take_along_axis(py, order, axis=-1)
        breaks = np.full(len(cx), np.nan)
        bounds = np.searchsorted(s, np.arange(count + 1))
        present = np.flatnonzero(np.diff(bounds))  # the grids with such cells
        for start in range(0, crossings, 2):
            xs = np.column_stack([cx[:, start], cx[:, start + 1], breaks])
            ys = np.column_stack([cy[:, start], cy[:, start + 1], breaks])
            for k in present:
                rows = slice(bounds[k], bounds[k + 1])
                pieces[k].append((xs[rows].ravel(), ys[rows].ravel()))
    return [(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
            if parts else (np.zeros(0), np.zeros(0)) for parts in pieces]
