"""The page budget's cost model (explorer/budget.py) against the engine as it is.

Trains and evaluates a spread of scenarios (problems, widths, depths, batch sizes, points),
times each piece of work the app does for a click (training, the replay's frames, a loss
surface, per-point gradients, the calibration over snapshots), and prints estimate ÷ actual
for every case (0.5 to 2 everywhere, or the model is stale).

With ``--write`` it first fits the per-unit costs to these measurements (least squares on the
relative error, no negative cost) and writes them to ``explorer/costs.json``, which the app
reads at start. Run it by hand on the machine that serves the class, one BLAS thread:

    python benchmarks/bench_cost.py [--write]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import anatomy, budget, calibration, experiment, surfaces  # noqa: E402
from explorer.config import Config, default_for  # noqa: E402
from explorer.figures import training as training_figures  # noqa: E402

BIN, MULTI, REG, COUNTS = (default_for(p) for p in ("binary", "multiclass", "regression",
                                                    "counts"))
TRAINING = [
    BIN,
    BIN.replace(epochs=40, n_samples=3000, batch_size=8),
    BIN.replace(epochs=200, batch_size=0),
    BIN.replace(epochs=30, hidden=(64, 64, 64, 64), n_samples=1000),
    BIN.replace(epochs=300, hidden=(), batch_size=16),
    MULTI.replace(epochs=60),
    MULTI.replace(epochs=20, n_classes=10, hidden=(64, 64), n_samples=2000, batch_size=128),
    MULTI.replace(epochs=10, n_classes=10, hidden=(64, 64, 64, 64), n_samples=5000,
                  batch_size=256),
    REG.replace(epochs=150),
    REG.replace(epochs=30, n_samples=5000, batch_size=64, hidden=(32, 32)),
    REG.replace(epochs=300, loss="gaussian_nll", output_activation="linear"),
    COUNTS.replace(epochs=150),
    COUNTS.replace(epochs=500, batch_size=0, hidden=(8,)),
]
VIEWS = [
    BIN.replace(epochs=20),
    BIN.replace(epochs=20, hidden=(64, 64, 64, 64)),
    MULTI.replace(epochs=10, n_classes=10, hidden=(64, 64, 64, 64), n_samples=50),
    MULTI.replace(epochs=10, n_classes=10, hidden=(32, 32), n_samples=3000),
    REG.replace(epochs=20, n_samples=2000, hidden=(64, 64)),
    REG.replace(epochs=100, n_samples=5000, hidden=(16, 16)),
    BIN.replace(epochs=100, n_samples=5000, hidden=(8,)),
    MULTI.replace(epochs=100, n_classes=10, hidden=(32, 32), n_samples=400),
    BIN.replace(epochs=100, n_samples=5000, hidden=(64, 64)),
    BIN.replace(epochs=300, n_samples=3000, hidden=(32, 32, 32)),
    MULTI.replace(epochs=100, n_classes=10, hidden=(32, 32), n_samples=5000),
]
JUDGED_FROM_S = 0.02


def timed(function, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def training_rows(configs):
    """(features, seconds) per scenario: the terms of ``budget.training_seconds``."""
    # each term's count, read from the model itself: one unit cost at 1, the others at 0
    terms = ("step", "step_layer", "train_unit", "forward_unit", "epoch")
    units = [budget.UnitCosts(**{t: float(t == term) for t in terms}) for term in terms]
    rows, seconds = [], []
    for config in configs:
        rows.append([budget.training_seconds(config, costs=u) for u in units])
        seconds.append(timed(lambda c=config: experiment.run(c)))
    return np.array(rows, float), np.array(seconds)


def nonnegative_fit(A: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Least squares on the relative error with every coefficient >= 0 (drop the negative
    ones and fit again)."""
    weights = A / t[:, None]
    active = list(range(A.shape[1]))
    coef = np.zeros(A.shape[1])
    while active:
        solution, *_ = np.linalg.lstsq(weights[:, active], np.ones(len(t)), rcond=None)
        if (solution >= 0).all():
            coef[active] = solution
            return coef
        active = [i for i, value in zip(active, solution) if value > 0]
    return coef


def view_cases(configs):
    """(kind, config, seconds) for each view's own work on trained runs."""
    cases = []
    warm = experiment.run(configs[0])  # first calls pay one-off costs: not part of any case
    training_figures.compute_frames(warm.model, warm.data.X_train, warm.data.y_train)
    for config in configs:
        cases += cases_of(config)
    return cases


def cases_of(config: Config) -> list:
    run = experiment.run(config)
    d, m = run.data, run.model
    X, y = surfaces.surface_data(d.X_train, d.y_train)
    cases = [
        ("frames", config, timed(
            lambda: training_figures.compute_frames(m, d.X_train, d.y_train))),
        ("surface", config, timed(lambda: (
            surfaces.default_slice(m, d.X_train, d.y_train, "random", None),
            surfaces.interpolation_line(m, X, y)))),
        ("gradients", config, timed(lambda: anatomy.per_point_output_gradients(m, X, y)))]
    if config.problem == "binary":
        cases.append(("calibration", config, timed(lambda: (
            calibration.reliability_over_training(m, d.X_train, d.y_train),
            calibration.reliability_over_training(m, d.X_val, d.y_val)))))
    return cases


def view_estimate(kind: str, config: Config, costs: budget.UnitCosts) -> float:
    if kind == "frames":
        return budget.frames_seconds(config, costs=costs)
    if kind == "surface":
        return budget.surface_seconds(config, kind="random", costs=costs)
    return budget.snapshots_seconds(config, kind, costs=costs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="fit the per-unit costs to this machine and write costs.json")
    args = parser.parse_args()
    costs = budget.COSTS
    print(f"costs from {budget.COSTS_FILE.name}: {costs}")
    A, t = training_rows(TRAINING)
    cases = view_cases(VIEWS)
    if args.write:
        c = nonnegative_fit(A, t)
        floor = 1e-12
        view_units = {}
        for kind in sorted({kind for kind, _, _ in cases}):
            # the cost of one sample through the network: per parameter, neuron, and fixed
            units = [budget.UnitCosts(view_units={kind: one})
                     for one in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))]
            rows = [(*(view_estimate(kind, config, u) for u in units), seconds)
                    for k, config, seconds in cases if k == kind and seconds >= JUDGED_FROM_S]
            fitted = nonnegative_fit(np.array([r[:3] for r in rows]),
                                     np.array([r[3] for r in rows])) if rows else np.zeros(3)
            view_units[kind] = ([max(float(v), floor) for v in fitted] if fitted.any()
                                else [costs.forward_unit, 0.0, 0.0])
        costs = budget.UnitCosts(step=max(c[0], floor), step_layer=max(c[1], floor),
                                 train_unit=max(c[2], floor), forward_unit=max(c[3], floor),
                                 epoch=max(c[4], floor), view_units=view_units)
        budget.COSTS_FILE.write_text(json.dumps(
            {"step": costs.step, "step_layer": costs.step_layer,
             "train_unit": costs.train_unit, "forward_unit": costs.forward_unit,
             "epoch": costs.epoch, "view_units": view_units}, indent=2) + "\n")
        print(f"wrote {budget.COSTS_FILE}: {costs}")
    worst = 1.0
    print(f"(judged on pieces of at least {JUDGED_FROM_S} s; smaller ones cost nothing worth a "
          "budget)")
    print(f"\n{'work':<12} {'scenario':<58} {'actual s':>9} {'estimate s':>10} {'est/act':>8}")
    for config, seconds in zip(TRAINING, t):
        estimate = budget.training_seconds(config, costs=costs)
        if seconds >= JUDGED_FROM_S:
            worst = max(worst, estimate / seconds, seconds / estimate)
        print(f"{'training':<12} {describe(config):<58} {seconds:9.3f} {estimate:10.3f} "
              f"{estimate / seconds:8.2f}")
    for kind, config, seconds in cases:
        estimate = view_estimate(kind, config, costs)
        if seconds >= JUDGED_FROM_S:
            worst = max(worst, estimate / seconds, seconds / estimate)
        print(f"{kind:<12} {describe(config):<58} {seconds:9.3f} {estimate:10.3f} "
              f"{estimate / seconds:8.2f}")
    verdict = "PASS" if worst <= 2.0 else "FAIL"
    print(f"\nworst factor between estimate and actual: {worst:.2f} (target <= 2): {verdict}")
    return 0 if verdict == "PASS" else 1


def describe(c: Config) -> str:
    hidden = ",".join(map(str, c.hidden)) or "none"
    classes = f" k={c.n_classes}" if c.problem == "multiclass" else ""
    return (f"{c.problem}{classes} n={c.n_samples} [{hidden}] b={c.batch_size or 'full'} "
            f"e={c.epochs} {c.loss}")


if __name__ == "__main__":
    sys.exit(main())
