"""Error-surface speed: a 41 x 41 grid over 1,000 points of a 2-16-16-1 network.

Budget: under 0.15 s for the batched grid. Prints the batched time, the naive loop (one
engine forward pass and ``Loss.value`` per grid point) on the very same parameter vectors in
the same run, their ratio, and PASS / MISS. Times are the best of several repeats (timeit's
convention: the least disturbed run); the median is printed beside it.

Run: python benchmarks/bench_surfaces.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import explorer  # noqa: E402
from explorer import losses, surfaces  # noqa: E402

BUDGET_S = 0.15
RESOLUTION = 41
N_POINTS = 1000
REPEATS = 7


def timed(fn, repeats: int = REPEATS) -> tuple[float, float, object]:
    """(best, median, last result) of ``repeats`` calls, in seconds."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def naive_losses(model, thetas, X, y) -> np.ndarray:
    """The baseline: one engine forward pass and ``Loss.value`` per parameter vector (for the
    pairs evaluated from the logits, sigmoid + BCE and softmax + CE, the loss comes from z
    with ``losses.fused_per_sample``, as the batched evaluator computes it)."""
    network = model.network
    X = np.asarray(X, dtype=float)
    loss = losses.get(model.loss, **model.loss_params)
    fused = (network.output_activation, model.loss) in losses.FUSED
    y = np.asarray(y)
    if model.problem == "multiclass":
        targets = (y if loss.sparse_targets and not fused
                   else losses.one_hot(y.astype(int), network.n_outputs))
    else:
        targets = y.astype(float).reshape(len(y), -1)
    out = np.empty(len(thetas))
    with np.errstate(all="ignore"):
        for s, theta in enumerate(thetas):
            if fused:
                z = network.pre_activations(theta, X)
                out[s] = np.mean(losses.fused_per_sample(network.output_activation, targets,
                                                         z, model.loss))
            else:
                out[s] = loss.value(targets, network.forward_many(theta, X))
    return out


def main() -> int:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.5, 2.5, size=(N_POINTS, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(16, 16), hidden_activation="relu",
                            output_activation="sigmoid", loss="bce", epochs=40, batch_size=100,
                            lr=0.01, seed=0, snapshots=100)
    d1, d2 = surfaces.random_directions(model.network, model.theta, np.random.default_rng(1))
    print(f"network 2-16-16-1 ({model.network.n_params} parameters), {N_POINTS} points, "
          f"{RESOLUTION}x{RESOLUTION} grid = {RESOLUTION ** 2} parameter sets, "
          f"{len(model.snapshots)} snapshots")

    cold, _, _ = timed(lambda: surfaces.direction_plane(model, X, y, d1, d2,
                                                        resolution=RESOLUTION), repeats=1)
    print(f"first call in this process (cold caches, fresh buffers): {cold * 1e3:7.1f} ms")
    best, median, surface = timed(
        lambda: surfaces.direction_plane(model, X, y, d1, d2, resolution=RESOLUTION))
    print(f"batched random-direction plane (grid + path + centre): best {best * 1e3:7.1f} ms, "
          f"median {median * 1e3:7.1f} ms")

    # The same grid's parameter vectors, through the batched evaluator and the naive loop.
    A, B = np.meshgrid(surface.a_axis, surface.b_axis)
    thetas = model.theta + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2
    ev = surfaces.Evaluator(model, X, y)
    grid_best, grid_median, batched = timed(lambda: ev.losses(thetas))
    naive_best, naive_median, naive = timed(lambda: naive_losses(model, thetas, X, y),
                                            repeats=3)
    print(f"batched grid only:                                   best {grid_best * 1e3:7.1f} "
          f"ms, median {grid_median * 1e3:7.1f} ms")
    print(f"naive loop, one forward per grid point:              best {naive_best * 1e3:7.1f} "
          f"ms, median {naive_median * 1e3:7.1f} ms")
    print(f"ratio naive / batched (grid only, best): {naive_best / grid_best:.1f}x; "
          f"max |difference| {np.max(np.abs(batched - naive)):.2e}; "
          f"surface grid equals batched: {np.allclose(surface.Z.ravel(), batched, rtol=1e-12)}")

    small = surfaces.Evaluator(model, X[:200], y[:200])
    small_best, _, _ = timed(lambda: small.losses(thetas))
    small_naive, _, _ = timed(lambda: naive_losses(model, thetas, X[:200], y[:200]),
                              repeats=3)
    print(f"context, same grid over 200 points: batched {small_best * 1e3:.1f} ms, naive "
          f"{small_naive * 1e3:.1f} ms, ratio {small_naive / small_best:.1f}x (per-call "
          "overhead dominates the naive loop on small data)")

    for label, fn in [
        ("two-parameter slice", lambda: surfaces.two_parameter_slice(model, X, y,
                                                                     resolution=RESOLUTION)),
        ("PCA plane", lambda: surfaces.pca_plane(model, X, y, resolution=RESOLUTION)),
        ("interpolation line (101 points)", lambda: surfaces.interpolation_line(model, X, y)),
    ]:
        b, m, _ = timed(fn)
        print(f"{label + ':':52s} best {b * 1e3:7.1f} ms, median {m * 1e3:7.1f} ms")

    verdict = "PASS" if best < BUDGET_S else "MISS"
    print(f"{verdict}: 41x41 surface in {best:.3f} s (best of {REPEATS}) against a budget of "
          f"{BUDGET_S} s")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
