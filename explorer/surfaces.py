"""Error surfaces: the loss over 2-D slices of weight space, and the 1-D line init -> final.

Three slices, all through the final (trained) weights theta*:
- ``two_parameter_slice``: two chosen parameters vary, all others stay at theta*. The path of
  those two parameters is exact, but the other parameters moved during training, so the
  path need not follow this surface (unless the network has only these two parameters).
- ``direction_plane`` with ``random_directions``: theta* + a d1 + b d2 for filter-normalized
  random directions (Li et al. 2018); the path is a least-squares projection.
- ``pca_plane``: the plane of the trajectory's two principal directions (PCA of the snapshots
  minus theta*); the path is a projection and theta* sits exactly at (0, 0).

Grids are evaluated batched: each chunk of parameter vectors goes through one stacked forward
pass (``x @ W`` broadcast over a leading axis of parameter sets), never one call per point.
Memory is linear in the number of parameters P and bounded whatever the grid and the points:
a chunk holds at most ``CHUNK_FLOATS`` floats, paths are projected a block of snapshots at a
time, and no P x P array is ever built. A wide network's surface uses fewer points
(``surface_points``); ``slice_work`` prices a surface for the page's work budget.
Grid layout, everywhere: ``Z[row, col]`` is the loss at ``(a_axis[col], b_axis[row])``, so
rows follow the second parameter/direction (Plotly's ``z`` convention), not transposed.

Loss values are means over the samples, as ``Loss.value`` computes them, except that the
pairs the trainer evaluates from logits (sigmoid + BCE, softmax + CE) are evaluated the same
way here: from z with log-sigmoid / log-softmax, unclipped. Far from the optimum the clipped
formula would flatten at -log(1e-7) ~ 16.1 and paint a false plateau on a convex bowl.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from explorer import metrics
from explorer.network import Model, Network, Workspace

Array = np.ndarray

CHUNK_FLOATS = 2**19
"""Upper bound on parameter sets x (samples x (widest layer + 1) + parameters) per chunk
(4 MB of float64): small enough to stay in cache, which is faster here than one huge stacked
pass, and a bound on memory whatever the grid, the points and the network (a chunk's
parameter vectors, and one such buffer per layer in the workspace)."""
SPIKE_DECADES = 2.0
"""Display log10(loss) when the finite values span more than this many decades."""
CLIP_PERCENTILE = 98.0
LOG_FLOOR = 1e-8
SURFACE_POINTS = 2000
"""Surfaces use at most this many training points (a fixed subsample beyond it)."""
SURFACE_WORK = 1e10
"""Most work one surface's grid may take (``slice_work``'s unit; about a second here): a
wider network's surface is evaluated on fewer points (``surface_points``)."""
MIN_SURFACE_POINTS = 200
"""However wide the network, a surface uses at least this many points (when there are)."""
PROJECT_ROWS = 16
"""Snapshots projected at a time onto a plane (bounds the (rows, P) differences)."""
EXACT_SPAN = 10.0
"""A two-parameter network's surface spans at least [-10, 10] in each weight."""
RESOLUTION = 41
EXACT_RESOLUTION = 61
"""Grid points per axis of ``default_slice`` (the exact two-parameter picture is finer)."""

NOTES = {
    "parameters": "Slice at the final weights: the other parameters moved during training, "
                  "so the path need not follow this surface.",
    "exact": "Exact picture: the network has only these two parameters, so the path moves "
             "on this very surface.",
    "random": "Random plane through the final weights (filter-normalized directions, Li et al. "
              "2018). Projection: the path is the trajectory projected onto this plane "
              "(least squares), and its loss values are the true loss at each snapshot.",
    "pca": "Projection onto the trajectory's two principal directions through the final "
           "weights: path points are projections, their loss values the true loss.",
}


# ----------------------------------------------------------------------------------------
# Batched evaluation


class Evaluator:
    """Loss (and metric) of many parameter vectors of one model on one dataset.

    ``losses(thetas)`` maps (S, P) parameter vectors to (S,) mean losses, ``evaluate(thetas)``
    to (losses, metric values); chunks of parameter sets go through one stacked forward pass
    (``Network.pre_activations``) and the model's ``Objective``. Invalid predictions give NaN,
    never raise.
    """

    def __init__(self, model: Model, X, y):
        self.network = model.network
        self.X = np.asarray(X, dtype=float)
        self.objective = model.objective(y)
        if len(self.objective.labels) != len(self.X):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.objective.labels)}")
        self.metric_name = metrics.names(model.problem)[0]
        self.metric_label = metrics.LABELS[self.metric_name]
        self.chunk = self.network.stack_size(len(self.X), CHUNK_FLOATS)
        self.workspace = Workspace()

    def chunks(self, count: int) -> Iterator[slice]:
        for start in range(0, count, self.chunk):
            yield slice(start, min(start + self.chunk, count))

    def losses(self, thetas: Array, start: int = 0) -> Array:
        """Mean loss for each parameter vector: thetas (S, P) -> (S,).

        ``start`` > 0 promises that all thetas share layers before ``start`` (a
        two-parameter slice), so those layers are computed once per chunk.
        """
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        out = np.empty(len(thetas))
        with np.errstate(all="ignore"):
            for part in self.chunks(len(thetas)):
                z = self.network.pre_activations(thetas[part], self.X, start, self.workspace)
                out[part] = self.objective.values_many(z)
        return out

    def evaluate(self, thetas: Array) -> tuple[Array, Array]:
        """(loss (S,), metric (S,)) for parameter vectors (S, P); metric as ``metric_name``."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        loss_values, metric_values = np.empty(len(thetas)), np.empty(len(thetas))
        with np.errstate(all="ignore"):
            for part in self.chunks(len(thetas)):
                z = self.network.pre_activations(thetas[part], self.X, 0, self.workspace)
                loss_values[part] = self.objective.values_many(z)
                metric_values[part] = metrics.primary_many(self.objective,
                                                           self.objective.outputs(z))
        return loss_values, metric_values


def surface_data(X: Array, y: Array, limit: int = SURFACE_POINTS) -> tuple[Array, Array]:
    """The training points a surface is evaluated on: all, or a fixed subsample of
    ``limit`` (the same for every surface of a run). The subsample is the first ``limit`` of
    one fixed permutation, so a smaller one is part of a larger one."""
    if len(X) <= limit:
        return X, y
    rows = np.random.default_rng(0).permutation(len(X))[:limit]
    return X[rows], y[rows]


def surface_points(n_points: int, n_params: int, grid_points: int) -> int:
    """How many of ``n_points`` training points ``default_slice`` evaluates a grid of
    ``grid_points`` on: at most ``SURFACE_POINTS``, and fewer for a wide network so that the
    grid's work stays within ``SURFACE_WORK`` (never fewer than ``MIN_SURFACE_POINTS``)."""
    by_work = int(SURFACE_WORK // max(grid_points * n_params, 1))
    return min(n_points, SURFACE_POINTS, max(MIN_SURFACE_POINTS, by_work))


def _resolution(n_params: int, kind: str) -> int:
    """The grid ``default_slice`` draws: finer for the exact two-parameter picture."""
    return EXACT_RESOLUTION if kind == "parameters" and n_params == 2 else RESOLUTION


def slice_work(n_params: int, n_points: int, resolution: int = RESOLUTION, kind: str = "random",
               snapshots: int = 100) -> float:
    """Work of one surface, in ``experiment.work_units``'s unit (one sample through one
    parameter, forward): the grid, the path's true losses and the centre, plus the SVD of
    the trajectory for 'pca'. For 'parameters' an upper bound (layers before the two
    parameters are computed once).

    Formula: (resolution^2 + snapshots + 1) x n_points x n_params [+ snapshots^2 x n_params].
    """
    work = float(resolution * resolution + snapshots + 1) * n_points * n_params
    if kind == "pca":
        work += float(snapshots) ** 2 * n_params
    elif kind not in ("parameters", "random"):
        raise ValueError(f"unknown slice {kind!r}; choose parameters, random or pca")
    return work


def default_slice_work(n_params: int, n_points: int, kind: str, snapshots: int = 100) -> float:
    """Work of ``default_slice`` for a run of ``n_params`` parameters on ``n_points``
    training points (its subsample and grid chosen as ``default_slice`` chooses them), in
    ``slice_work``'s unit."""
    resolution = _resolution(n_params, kind)
    used = surface_points(n_points, n_params, resolution * resolution)
    return slice_work(n_params, used, resolution, kind, snapshots)


def line_work(n_params: int, n_points: int, line_points: int = 101) -> float:
    """Work of ``interpolation_line``, in ``slice_work``'s unit: about ``line_points``
    parameter vectors (two more by default, see there) through the points.

    Formula: (line_points + 1) x n_points x n_params."""
    return float(line_points + 1) * n_points * n_params


# ----------------------------------------------------------------------------------------
# Surfaces


@dataclass(frozen=True)
class Surface:
    """The loss over a 2-D grid through the final weights, and the training path on it.

    Z[row, col] is the mean loss at (a_axis[col], b_axis[row]): shape (len(b_axis),
    len(a_axis)), rows along b. ``path_*`` have one entry per snapshot (path_epochs);
    path_loss is the true loss at each snapshot's full parameters. ``center`` holds the
    final weights' coordinates (exactly a grid point at ``center_index`` = (row, col) unless
    explicit ranges excluded it, then None); ``center_loss`` is the loss there.
    """

    kind: str
    """'parameters', 'random' or 'pca'."""
    a_axis: Array
    b_axis: Array
    Z: Array
    path_a: Array
    path_b: Array
    path_epochs: Array
    path_loss: Array
    a_label: str
    b_label: str
    note: str
    """The honesty label to show on the chart."""
    center: tuple[float, float]
    center_loss: float
    center_index: tuple[int, int] | None
    exact_path: bool
    """True when the path lies in the plane (two-parameter slice): a, b are the true values."""
    invalid: bool
    """True when some grid points have no finite loss (shown as gaps)."""
    loss_label: str = "loss"
    explained_variance: tuple[float, float] | None = None
    """PCA only: fraction of the trajectory's variance along each axis."""
    parameters: tuple[int, int] | None = None
    """Two-parameter slice only: the flat indices (i, j) on the a and b axes."""
    exact: bool = False
    """True when the surface is the whole story: the network has only these two parameters,
    so the path moves on this very surface."""


def _anchored_axis(lo: float, hi: float, anchor: float, resolution: int) -> tuple[Array, int]:
    """``resolution`` evenly spaced values covering [lo, hi] with ``anchor`` exactly one of
    them (lo <= anchor <= hi); returns (axis, index of anchor)."""
    if resolution < 3:
        raise ValueError(f"resolution must be at least 3; got {resolution}")
    lo, hi = min(lo, anchor), max(hi, anchor)
    if not hi > lo:
        lo, hi = anchor - 1.0, anchor + 1.0
    for steps in (resolution - 1, resolution - 2):
        step = (hi - lo) / steps
        k0 = math.floor((lo - anchor) / step + 1e-9)
        if anchor + (k0 + resolution - 1) * step >= hi - 1e-9 * step:
            break
    k0 = min(max(k0, 1 - resolution), 0)
    return anchor + np.arange(k0, k0 + resolution) * step, -k0


def _covering(values: Array, anchor: float, margin: float, min_span: float):
    """[lo, hi] covering values and anchor, widened by margin x span, at least min_span."""
    finite = values[np.isfinite(values)]
    lo = min(float(finite.min()), anchor) if finite.size else anchor
    hi = max(float(finite.max()), anchor) if finite.size else anchor
    span = hi - lo
    lo, hi = lo - margin * span, hi + margin * span
    if hi - lo < min_span:
        mid_pad = (min_span - (hi - lo)) / 2
        lo, hi = lo - mid_pad, hi + mid_pad
    return lo, hi


def _grid_values(ev: Evaluator, a_axis: Array, b_axis: Array,
                 make_thetas: Callable[[Array, Array], Array], start: int = 0) -> Array:
    """Z (len(b), len(a)) with Z[r, c] = loss(make_thetas(a_axis[c], b_axis[r])), batched."""
    A, B = np.meshgrid(a_axis, b_axis)  # 'xy' indexing: shape (len(b), len(a))
    a_flat, b_flat = A.ravel(), B.ravel()
    values = np.empty(a_flat.size)
    for part in ev.chunks(a_flat.size):
        values[part] = ev.losses(make_thetas(a_flat[part], b_flat[part]), start)
    return values.reshape(A.shape)


def default_parameters(network: Network, theta: Array | None = None) -> tuple[int, int]:
    """(i, j): one weight into output unit 0 and that unit's bias, as flat indices.

    The weight is the largest in magnitude when theta is given, else the first one. With 0
    hidden layers and 1 input these are the neuron's w and b: the classic picture.
    """
    w, b, (fan_in, fan_out) = network.slices[-1]
    column = np.arange(fan_in) * fan_out  # W_L[:, 0] in the flat layout
    best = int(np.argmax(np.abs(theta[w][column]))) if theta is not None else 0
    return w.start + int(column[best]), b.start


def _layer_of(network: Network, index: int) -> int:
    """The 0-based layer holding flat parameter ``index``."""
    for layer, (_, b, _) in enumerate(network.slices):
        if 0 <= index < b.stop:
            return layer
    raise ValueError(f"parameter index {index} out of range 0..{network.n_params - 1}")


def two_parameter_slice(model: Model, X, y, i: int | None = None, j: int | None = None,
                        span: float | None = None, ranges=None, resolution: int = 41,
                        margin: float = 0.25, min_span: float = 2.0) -> Surface:
    """Loss over parameters i (a axis) and j (b axis), all others at the final weights.

    Default (i, j) from ``default_parameters``. The grid covers the path of (theta_i,
    theta_j) over the snapshots plus ``margin`` x its extent on each side, at least
    ``min_span`` wide; or theta* +- ``span``; or explicit ``ranges`` ((a_lo, a_hi), (b_lo,
    b_hi)). Except with ``ranges``, the final values are exactly a grid point. The path is
    exact; the surface is a slice at the final weights (exact when P == 2).
    """
    network, theta = model.network, np.asarray(model.theta, dtype=float)
    if i is None or j is None:
        i0, j0 = default_parameters(network, theta)
        i, j = (i0 if i is None else i), (j0 if j is None else j)
    if i == j:
        raise ValueError("choose two different parameters")
    for index in (i, j):
        _layer_of(network, index)
    snaps = np.asarray(model.snapshots, dtype=float)
    ev = Evaluator(model, X, y)
    axes, center_index = [], []
    for k, index in enumerate((i, j)):
        c = float(theta[index])
        if ranges is not None:
            lo, hi = ranges[k]
            axes.append(np.linspace(lo, hi, resolution))
            continue
        if span is not None:
            lo, hi = c - span, c + span
        else:
            lo, hi = _covering(snaps[:, index], c, margin, min_span)
        axis, at = _anchored_axis(lo, hi, c, resolution)
        axes.append(axis)
        center_index.append(at)
    a_axis, b_axis = axes

    def make_thetas(a, b):
        thetas = np.repeat(theta[None, :], len(a), axis=0)
        thetas[:, i], thetas[:, j] = a, b
        return thetas

    start = min(_layer_of(network, i), _layer_of(network, j))
    Z = _grid_values(ev, a_axis, b_axis, make_thetas, start)
    names = network.parameter_names()
    exact = network.n_params == 2
    return Surface(
        kind="parameters", a_axis=a_axis, b_axis=b_axis, Z=Z,
        path_a=snaps[:, i].copy(), path_b=snaps[:, j].copy(),
        path_epochs=np.asarray(model.snapshot_epochs), path_loss=ev.losses(snaps),
        a_label=names[i], b_label=names[j],
        note=NOTES["exact"] if exact else NOTES["parameters"],
        center=(float(theta[i]), float(theta[j])),
        center_loss=float(ev.losses(theta[None])[0]),
        center_index=None if ranges is not None else (center_index[1], center_index[0]),
        exact_path=True, invalid=not np.isfinite(Z).all(), exact=exact,
        loss_label=ev.objective.loss.label, parameters=(int(i), int(j)))


def random_directions(network: Network, theta: Array,
                      rng: np.random.Generator) -> tuple[Array, Array]:
    """Two filter-normalized random directions (Li et al. 2018), orthogonal, each (P,).

    Each filter, a column W[:, j] of a layer in the ``x @ W`` layout (the weights into unit
    j), gets a Gaussian direction rescaled to the norm of that column of theta. Biases get
    0, as the paper does (its code ignores biases): the plane moves weights only.
    Orthogonalization (the paper does not; in tiny nets two random directions can overlap a
    lot): d2 is orthogonalized against d1 filter by filter and rescaled, which keeps both
    properties exact. A single-weight filter (fan_in = 1) cannot be both, so the remaining
    overlap is removed on those filters' weights only (Gram-Schmidt restricted to them): d1
    and d2 are exactly orthogonal, and only single-weight filters of d2 lose their norm. When
    the weights span only one direction (one weight in all), d2 moves the biases instead,
    with the norm of d1.
    """
    theta = np.asarray(theta, dtype=float)
    d1, d2 = np.zeros_like(theta), np.zeros_like(theta)
    single = np.zeros(theta.shape, dtype=bool)  # weights of single-weight filters
    for w, _, (fan_in, fan_out) in network.slices:
        W = theta[w].reshape(fan_in, fan_out)
        norms = np.linalg.norm(W, axis=0)
        D1 = _normalize_columns(rng.normal(size=W.shape), norms)
        D2 = rng.normal(size=W.shape)
        if fan_in >= 2:
            overlap = np.sum(D1 * D2, axis=0) / np.maximum(np.sum(D1 * D1, axis=0), 1e-300)
            D2 = D2 - overlap * D1
        else:
            single[w] = True
        d1[w], d2[w] = D1.ravel(), _normalize_columns(D2, norms).ravel()
    # Only single-weight filters can still overlap: remove it there, leave the rest exact.
    d1_single = float(d1[single] @ d1[single])
    if d1_single > 0:
        d2[single] -= (float(d1[single] @ d2[single]) / d1_single) * d1[single]
    d1_norm = float(np.linalg.norm(d1))
    if np.linalg.norm(d2) <= 1e-8 * max(d1_norm, 1e-300):
        bias = 1.0 - network.weight_mask()
        d2 = rng.normal(size=theta.shape) * bias
        d2 *= (d1_norm or 1.0) / np.linalg.norm(d2)
    return d1, d2


def _normalize_columns(D: Array, norms: Array) -> Array:
    current = np.linalg.norm(D, axis=0)
    return D * np.divide(norms, current, out=np.zeros_like(norms), where=current > 0)


def _project(snaps: Array, theta: Array, d1: Array, d2: Array) -> tuple[Array, Array, float]:
    """Least-squares coordinates (a, b) of snapshots - theta in span(d1, d2), and the share
    of the squared distance from theta that the plane captures.

    Formula: c = pinv(G) B^T (s - theta) with B = [d1 d2] (P, 2) and G = B^T B, the
    pseudo-inverse solution of min |B c - (s - theta)|. Memory: a block of ``PROJECT_ROWS``
    differences at a time, never the (S, P) matrix of them (or of the fitted points).
    """
    basis = np.column_stack([d1, d2])
    gram = basis.T @ basis
    rhs, total = np.empty((len(snaps), 2)), 0.0
    for start in range(0, len(snaps), PROJECT_ROWS):
        M = snaps[start:start + PROJECT_ROWS] - theta
        rhs[start:start + len(M)] = M @ basis
        total += float(np.nansum(M * M))
    coords = np.linalg.pinv(gram) @ rhs.T  # (2, S); rows with NaN stay NaN
    captured = float(np.nansum(coords * (gram @ coords))) / total if total > 0 else 1.0
    return coords[0], coords[1], captured


def direction_plane(model: Model, X, y, d1: Array, d2: Array, span: float = 1.0,
                    resolution: int = 41) -> Surface:
    """Loss at theta* + a d1 + b d2 for a, b in [-span, span]; path projected (least squares).

    With odd ``resolution`` the centre grid point is exactly theta*. Pass directions from
    ``random_directions`` (kind 'random').
    """
    theta = np.asarray(model.theta, dtype=float)
    d1, d2 = np.asarray(d1, dtype=float), np.asarray(d2, dtype=float)
    ev = Evaluator(model, X, y)
    a_axis, at = _anchored_axis(-span, span, 0.0, resolution)
    b_axis = a_axis.copy()
    Z = _grid_values(ev, a_axis, b_axis,
                     lambda a, b: theta + a[:, None] * d1 + b[:, None] * d2)
    snaps = np.asarray(model.snapshots, dtype=float)
    pa, pb, captured = _project(snaps, theta, d1, d2)
    note = NOTES["random"] + f" The plane captures {100 * captured:.0f}% of the path's " \
        "squared distance from the final weights."
    mask = 1.0 - model.network.weight_mask()
    if np.any(d2 * mask) or np.any(d1 * mask):
        note += " Biases move too: the weights alone span only one direction."
    return Surface(
        kind="random", a_axis=a_axis, b_axis=b_axis, Z=Z, path_a=pa, path_b=pb,
        path_epochs=np.asarray(model.snapshot_epochs), path_loss=ev.losses(snaps),
        a_label="direction 1 (filter-normalized)", b_label="direction 2 (filter-normalized)",
        note=note, center=(0.0, 0.0), center_loss=float(ev.losses(theta[None])[0]),
        center_index=(at, at), exact_path=False, invalid=not np.isfinite(Z).all(),
        loss_label=ev.objective.loss.label)


def random_plane(model: Model, X, y, seed: int = 0, span: float = 1.0,
                 resolution: int = 41) -> Surface:
    """``direction_plane`` with ``random_directions`` drawn from ``default_rng(seed)``."""
    d1, d2 = random_directions(model.network, model.theta, np.random.default_rng(seed))
    return direction_plane(model, X, y, d1, d2, span, resolution)


def pca_directions(model: Model) -> tuple[Array, Array, Array]:
    """(d1, d2, explained_variance_ratio (2,)): PCA of the snapshots minus the final weights.

    Formula: SVD of M = snapshots - theta* (S, P), rows not re-centred (the origin is theta*,
    as in Li et al. 2018); ratio_k = s_k^2 / sum s^2. d1, d2 have unit norm, signed so the
    initial weights have non-positive coordinates. If the path spans fewer than two
    directions, the missing ones are completed orthonormally with ratio 0 (by the first
    coordinate vectors that are not in the span: at most two are tried). Memory: a few
    (S, P) arrays, linear in the number of parameters P.
    """
    theta = np.asarray(model.theta, dtype=float)
    M = np.asarray(model.snapshots, dtype=float) - theta
    M = M[np.isfinite(M).all(axis=1)]
    P = theta.size
    if len(M):
        _, s, Vt = np.linalg.svd(M, full_matrices=False)
    else:
        s, Vt = np.zeros(0), np.zeros((0, P))
    total = float(np.sum(s * s))
    keep = [v for v, sv in zip(Vt, s) if sv > 1e-12 * (s[0] if len(s) else 0.0) and sv > 0][:2]
    ratios = [float(sv * sv) / total for sv in s[:len(keep)]]
    basis = list(keep)
    for index in range(P):  # coordinate vectors, one at a time: never a P x P identity
        if len(basis) == 2:
            break
        e = np.zeros(P)
        e[index] = 1.0
        for v in basis:
            e = e - (e @ v) * v
        if np.linalg.norm(e) > 1e-6:
            basis.append(e / np.linalg.norm(e))
            ratios.append(0.0)
    d1, d2 = basis
    if len(M):
        if M[0] @ d1 > 0:
            d1 = -d1
        if M[0] @ d2 > 0:
            d2 = -d2
    return d1, d2, np.array(ratios[:2])


def pca_plane(model: Model, X, y, resolution: int = 41, margin: float = 0.25,
              min_aspect: float = 0.2) -> Surface:
    """Loss over the trajectory's principal plane through theta*, with the projected path.

    The grid covers the projected path and (0, 0) with ``margin`` x its extent on each side;
    each axis spans at least ``min_aspect`` x the other's extent (so a thin second component
    still shows a valley). theta* is exactly the grid point (0, 0).
    """
    theta = np.asarray(model.theta, dtype=float)
    d1, d2, ratio = pca_directions(model)
    snaps = np.asarray(model.snapshots, dtype=float)
    pa, pb = (snaps - theta) @ d1, (snaps - theta) @ d2
    floor = 1e-3 * (1.0 + float(np.linalg.norm(theta)))
    spans = [np.ptp(np.append(v[np.isfinite(v)], 0.0)) for v in (pa, pb)]
    widest = max(max(spans), floor)
    axes, index = [], []
    for v in (pa, pb):
        lo, hi = _covering(v, 0.0, margin, max(min_aspect * widest * (1 + 2 * margin), floor))
        axis, at = _anchored_axis(lo, hi, 0.0, resolution)
        axes.append(axis)
        index.append(at)
    a_axis, b_axis = axes
    ev = Evaluator(model, X, y)
    Z = _grid_values(ev, a_axis, b_axis,
                     lambda a, b: theta + a[:, None] * d1 + b[:, None] * d2)
    return Surface(
        kind="pca", a_axis=a_axis, b_axis=b_axis, Z=Z, path_a=pa, path_b=pb,
        path_epochs=np.asarray(model.snapshot_epochs), path_loss=ev.losses(snaps),
        a_label=f"PC 1 ({100 * ratio[0]:.1f}% of variance)",
        b_label=f"PC 2 ({100 * ratio[1]:.1f}% of variance)",
        note=NOTES["pca"] + f" Together they explain {100 * ratio.sum():.1f}% of the "
        "trajectory's variance.",
        center=(0.0, 0.0), center_loss=float(ev.losses(theta[None])[0]),
        center_index=(index[1], index[0]), exact_path=False, invalid=not np.isfinite(Z).all(),
        loss_label=ev.objective.loss.label, explained_variance=(float(ratio[0]), float(ratio[1])))


def default_slice(model: Model, X, y, kind: str, option=None) -> Surface:
    """The surface the app shows for a slice ``kind`` on a run's training data.

    kind 'parameters': option (i, j) or None for ``default_parameters``; a network with only
    two parameters gets the exact textbook picture over at least [-10, 10] in each (the
    plateaus and the bowl, not just the path). kind 'random': option (seed, span). kind
    'pca': no option. Beyond ``surface_points`` points (2000, fewer for a wide network), a
    fixed subsample is used, and the note says so; the centre is the loss on those points.
    """
    if kind not in ("parameters", "random", "pca"):
        raise ValueError(f"unknown slice {kind!r}; choose parameters, random or pca")
    X, y = np.asarray(X), np.asarray(y)
    resolution = _resolution(model.network.n_params, kind)
    used = surface_points(len(X), model.network.n_params, resolution * resolution)
    surface = _default_slice(model, *surface_data(X, y, used), kind, option, resolution)
    if used < len(X):
        surface = dataclasses.replace(surface, note=surface.note + (
            f" Loss on a fixed subsample of {used:,} of the {len(X):,} training points."))
    return surface


def _default_slice(model: Model, X, y, kind: str, option, resolution: int) -> Surface:
    if kind == "parameters":
        i, j = option if option is not None else default_parameters(model.network, model.theta)
        if model.network.n_params == 2:
            snaps = model.snapshots
            ranges = [(min(snaps[:, k].min(), -EXACT_SPAN) - 1.0,
                       max(snaps[:, k].max(), EXACT_SPAN) + 1.0) for k in (i, j)]
            return two_parameter_slice(model, X, y, i, j, ranges=ranges,
                                       resolution=resolution)
        return two_parameter_slice(model, X, y, i, j, resolution=resolution)
    if kind == "random":
        seed, span = option if option is not None else (0, 1.0)
        return random_plane(model, X, y, seed=seed, span=span, resolution=resolution)
    return pca_plane(model, X, y, resolution=resolution)


# ----------------------------------------------------------------------------------------
# The 1-D line


@dataclass(frozen=True)
class Line:
    """Loss and metric along theta(t) = (1 - t) theta_0 + t theta* (Goodfellow et al. 2015).

    t (m,) includes 0 and 1 exactly, at indices ``initial_index`` and ``final_index``.
    """

    t: Array
    loss: Array
    metric: Array
    metric_name: str
    metric_label: str
    loss_label: str
    initial_index: int
    final_index: int
    note: str = ("The straight line from the initial weights (t = 0) to the final weights "
                 "(t = 1), extended on both sides; training took a different, curved path.")


def interpolation_line(model: Model, X, y, n_points: int = 101, extend: float = 0.25) -> Line:
    """Loss and reported metric along the straight line from initial to final weights, at
    about ``n_points`` evenly spaced t over [-extend, 1 + extend]: the step divides [0, 1]
    evenly, so t = 0 and t = 1 are among them exactly (101 asked, 102 given by default)."""
    theta0 = np.asarray(model.snapshots[0], dtype=float)
    theta1 = np.asarray(model.theta, dtype=float)
    steps = max(1, round((n_points - 1) / (1.0 + 2.0 * extend)))
    beyond = round(extend * steps)
    t = np.arange(-beyond, steps + beyond + 1) / steps
    ev = Evaluator(model, X, y)
    loss_values, metric_values = np.empty(len(t)), np.empty(len(t))
    for part in ev.chunks(len(t)):  # (chunk, P) at a time, never (m, P)
        thetas = (1.0 - t[part])[:, None] * theta0 + t[part][:, None] * theta1
        loss_values[part], metric_values[part] = ev.evaluate(thetas)
    return Line(t, loss_values, metric_values, ev.metric_name, ev.metric_label,
                ev.objective.loss.label, beyond, beyond + steps)


# ----------------------------------------------------------------------------------------
# Display scaling


@dataclass(frozen=True)
class Scaled:
    """Display values for a loss grid: what was done to them and how to do it to others.

    scale: 'linear', 'log10' or 'clipped'. values: like the input, NaN where the input was
    NaN or infinite (``invalid`` then True). ``transform`` applies the same mapping.
    """

    values: Array
    scale: str
    label: str
    low: float
    high: float
    invalid: bool
    invalid_fraction: float

    def transform(self, x) -> Array:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            out = np.where(np.isfinite(x), x, np.nan)
            if self.scale == "log10":
                return np.log10(np.clip(out, self.low, None))
            if self.scale == "clipped":
                return np.minimum(out, self.high)
            return out


def scale_values(Z, mode: str = "auto", loss_label: str = "loss") -> Scaled:
    """Choose how to show a loss grid so one spike does not flatten the rest.

    mode 'auto': log10 when the finite values span more than ``SPIKE_DECADES`` decades
    (values below max x 1e-8 floored), else clip at the 98th percentile when the top 2% of
    values stretch the range more than 3-fold, else linear. 'log', 'clip' and 'linear' force
    a choice. NaN and infinities become NaN (gaps) and set ``invalid``.
    """
    if mode not in ("auto", "log", "clip", "linear"):
        raise ValueError(f"unknown scale {mode!r}; choose auto, log, clip or linear")
    Z = np.asarray(Z, dtype=float)
    finite = Z[np.isfinite(Z)]
    invalid_fraction = 1.0 - finite.size / Z.size if Z.size else 0.0
    if not finite.size:
        return Scaled(np.full_like(Z, np.nan), "linear", loss_label, np.nan, np.nan, True, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    positive = finite[finite > 0]
    floor = max(float(positive.min()) if positive.size else hi, hi * LOG_FLOOR, 1e-300)
    decades = math.log10(hi / floor) if hi > 0 else 0.0
    cap = float(np.percentile(finite, CLIP_PERCENTILE))
    if mode == "auto":
        if decades > SPIKE_DECADES and lo >= 0:
            mode = "log"
        elif hi - lo > 3.0 * (cap - lo) and cap > lo:
            mode = "clip"
        else:
            mode = "linear"
    if mode == "log":
        scaled = Scaled(Z, "log10", f"log10 {loss_label}", floor, hi, invalid_fraction > 0,
                        invalid_fraction)
    elif mode == "clip":
        scaled = Scaled(Z, "clipped", f"{loss_label} (clipped at {cap:.3g})", lo, cap,
                        invalid_fraction > 0, invalid_fraction)
    else:
        scaled = Scaled(Z, "linear", loss_label, lo, hi, invalid_fraction > 0,
                        invalid_fraction)
    return Scaled(scaled.transform(Z), scaled.scale, scaled.label, scaled.low, scaled.high,
                  scaled.invalid, scaled.invalid_fraction)
