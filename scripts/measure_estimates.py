"""What does my loss estimate? The numbers behind issue 11, measured on 5 seeds.

    .venv/bin/python scripts/measure_estimates.py [--seeds 5]

1. Pinball tau = 0.1 and 0.9 on growing noise: coverage of the band on validation data.
2. MSE, MAE and pinball tau = 0.9 on skewed noise: distance to the true mean, median and
   90th percentile.
3. Sigmoid + BCE and sigmoid + MSE on moons: ECE; a long run on noisy moons: ECE over epochs.
4. Gaussian NLL on growing noise: mean +- 1 and 2 sigma coverage, sigma against the truth,
   and the constant band of MSE for comparison.
5. Imbalanced blobs: class weight alpha and the decision threshold, precision and recall.
Each line is one seed, then the mean; a fit takes about a second.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import explorer  # noqa: E402
from explorer import calibration, datasets, metrics  # noqa: E402
from explorer.datasets import train_validation_split  # noqa: E402

REGRESSION: dict[str, Any] = dict(hidden=(32,), epochs=300, batch_size=64, lr=0.01)
GRID = np.linspace(-2.4, 2.4, 97)


def split(key: str, problem: str, noise: float, seed: int, n: int = 1000, share=0.25):
    X, y = datasets.make(key, problem, n=n, noise=noise, seed=seed)
    return train_validation_split(X, y, share, np.random.default_rng(seed + 1))


def quantile_band(seeds: range) -> None:
    print("\n1. Pinball 0.1 / 0.9 on growing noise (noise 0.5, 750 train / 250 validation)")
    rows = []
    for seed in seeds:
        Xt, yt, Xv, yv = split("heteroscedastic", "regression", 0.5, seed)
        q = {tau: explorer.fit(Xt, yt, loss="pinball", loss_params={"tau": tau}, seed=seed,
                               **REGRESSION)[0].predict(Xv) for tau in (0.1, 0.9)}
        true = [datasets.heteroscedastic_quantile(Xv[:, 0], tau, 0.5) for tau in (0.1, 0.9)]
        row = (calibration.interval_coverage(yv, q[0.1], q[0.9]),
               calibration.quantile_coverage(yv, q[0.1]), calibration.quantile_coverage(yv, q[0.9]),
               calibration.interval_coverage(yv, *true))
        rows.append(row)
        print(f"  seed {seed}: band covers {row[0]:.3f}; below q0.1 {row[1]:.3f}, below q0.9 "
              f"{row[2]:.3f}; the true band covers {row[3]:.3f} of the same points")
    m = np.mean(rows, axis=0)
    print(f"  mean: band {m[0]:.3f}, below q0.1 {m[1]:.3f}, below q0.9 {m[2]:.3f}, true band "
          f"{m[3]:.3f}")


def skewed_estimates(seeds: range) -> None:
    noise = 0.8
    print(f"\n2. Skewed noise (noise {noise}): mean |fit - truth| over x in [-2.4, 2.4]")
    truth = {"mean": datasets.skewed_mean(GRID, noise),
             "median": datasets.skewed_quantile(GRID, 0.5, noise),
             "q90": datasets.skewed_quantile(GRID, 0.9, noise)}
    fits = {"mse": None, "mae": None, "pinball": {"tau": 0.9}}
    table: dict[str, list] = {loss: [] for loss in fits}
    below: dict[str, list] = {loss: [] for loss in fits}
    for seed in seeds:
        Xt, yt, Xv, yv = split("skewed", "regression", noise, seed)
        for loss, params in fits.items():
            model, _ = explorer.fit(Xt, yt, loss=loss, loss_params=params, seed=seed,
                                    **REGRESSION)
            curve = model.predict(GRID[:, None])
            table[loss].append([np.mean(np.abs(curve - line)) for line in truth.values()])
            below[loss].append(calibration.quantile_coverage(yv, model.predict(Xv)))
        print(f"  seed {seed}: " + "; ".join(
            f"{loss} " + " ".join(f"{name} {d:.3f}" for name, d in zip(truth, table[loss][-1]))
            for loss in fits))
    for loss in fits:
        mean = np.mean(table[loss], axis=0)
        print(f"  mean {loss:8s}: " + ", ".join(f"to {name} {d:.3f}" for name, d in
                                               zip(truth, mean))
              + f"; share of validation y below it {np.mean(below[loss]):.3f}")
    gap = np.mean(np.abs(truth["mean"] - truth["median"]))
    print(f"  (the true mean and median are {gap:.3f} apart on average; the true q0.9 is "
          f"{np.mean(np.abs(truth['q90'] - truth['mean'])):.3f} above the mean)")


def calibration_runs(seeds: range) -> None:
    print("\n3a. Sigmoid + BCE / MSE on moons (noise 0.3, 500 train / 500 validation, "
          "(16,), 200 epochs)")
    rows = []
    for seed in seeds:
        Xt, yt, Xv, yv = split("moons", "binary", 0.3, seed, share=0.5)
        row = []
        for loss in ("bce", "mse"):
            model, _ = explorer.fit(Xt, yt, problem="binary", hidden=(16,), loss=loss,
                                    output_activation="sigmoid", epochs=200, lr=0.01, seed=seed)
            p = model.predict(Xv)
            row += [calibration.expected_calibration_error(p, yv),
                    calibration.brier_score(p, yv)]
        rows.append(row)
        print(f"  seed {seed}: BCE ECE {row[0]:.3f} Brier {row[1]:.3f}; MSE ECE {row[2]:.3f} "
              f"Brier {row[3]:.3f}")
    m = np.mean(rows, axis=0)
    print(f"  mean: BCE ECE {m[0]:.3f} Brier {m[1]:.3f}; MSE ECE {m[2]:.3f} Brier {m[3]:.3f}")

    print("\n3b. A long run on noisy moons (noise 0.5, 200 train, (64, 64), 1000 epochs), ECE "
          "on 2000 fresh points")
    targets = np.array([25, 100, 250, 500, 1000])
    curves = []
    for seed in seeds:
        Xt, yt = datasets.make("moons", "binary", n=200, noise=0.5, seed=seed)
        Xv, yv = datasets.make("moons", "binary", n=2000, noise=0.5, seed=100 + seed)
        model, _ = explorer.fit(Xt, yt, problem="binary", hidden=(64, 64), epochs=1000, lr=0.01,
                                seed=seed, snapshots=41)
        r = calibration.reliability_over_training(model, Xv, yv)
        nearest = np.abs(r.epochs[None, :] - targets[:, None]).argmin(axis=1)
        best = int(np.argmin(r.ece))
        curves.append(r.ece[nearest])
        print(f"  seed {seed}: lowest ECE {r.ece[best]:.3f} (epoch {r.epochs[best]}), final "
              f"{r.ece[-1]:.3f}; overconfidence (confidence - accuracy) then "
              f"{r.overconfidence[best]:+.3f}, final {r.overconfidence[-1]:+.3f}")
    print("  mean ECE at the snapshot nearest epoch " + ", ".join(
        f"{e}: {v:.3f}" for e, v in zip(targets, np.mean(curves, axis=0))))


def learned_noise(seeds: range) -> None:
    print("\n4. Gaussian NLL on growing noise (noise 0.5, 750 train / 250 validation)")
    true_sigma = datasets.heteroscedastic_sigma(GRID, 0.5)
    rows = []
    for seed in seeds:
        Xt, yt, Xv, yv = split("heteroscedastic", "regression", 0.5, seed)
        model, _ = explorer.fit(Xt, yt, loss="gaussian_nll", seed=seed, **REGRESSION)
        mean, sigma = model.predict(Xv).T
        ratio = model.predict(GRID[:, None])[:, 1] / true_sigma
        mse, _ = explorer.fit(Xt, yt, loss="mse", seed=seed, **REGRESSION)
        rmse = np.sqrt(np.mean((mse.predict(Xt) - yt) ** 2))
        p = mse.predict(Xv)
        centre, edge = np.abs(Xv[:, 0]) < 0.75, np.abs(Xv[:, 0]) > 1.75
        inside = np.abs(yv - mean) <= 2 * sigma
        constant = np.abs(yv - p) <= 2 * rmse
        row = (np.mean(inside), np.mean(np.abs(yv - mean) <= sigma), np.median(ratio),
               inside[centre].mean(), inside[edge].mean(), constant[centre].mean(),
               constant[edge].mean())
        rows.append(row)
        print(f"  seed {seed}: mean ± 2σ covers {row[0]:.3f}, ± 1σ {row[1]:.3f}; σ / true σ "
              f"median {row[2]:.2f} [{ratio.min():.2f}, {ratio.max():.2f}]; centre / edges "
              f"{row[3]:.2f} / {row[4]:.2f}, MSE ± 2 RMSE {row[5]:.2f} / {row[6]:.2f}")
    m = np.mean(rows, axis=0)
    print(f"  mean: ± 2σ {m[0]:.3f}, ± 1σ {m[1]:.3f}, σ ratio {m[2]:.2f}; centre / edges "
          f"{m[3]:.2f} / {m[4]:.2f}; MSE ± 2 RMSE {m[5]:.2f} / {m[6]:.2f}")


def imbalance(seeds: range) -> None:
    print("\n5. Imbalanced blobs (minority 0.1, noise 0.6, 1000 points, half validation): "
          "class-1 precision / recall")
    setups: dict[str, tuple[str, float | None, float | None]] = {
        "BCE, threshold 0.5": ("bce", None, None), "BCE, threshold 0.1": ("bce", None, 0.1),
        "BCE alpha 0.9, threshold 0.5": ("bce", 0.9, None),
        "focal (gamma 2), threshold 0.5": ("focal", None, None)}
    results: dict[str, list] = {name: [] for name in setups}
    for seed in seeds:
        Xt, yt, Xv, yv = split("imbalanced", "binary", 0.6, seed, share=0.5)
        for name, (loss, alpha, threshold) in setups.items():
            model, _ = explorer.fit(Xt, yt, problem="binary", hidden=(16,), loss=loss,
                                    loss_params={"alpha": alpha}, epochs=200, lr=0.01,
                                    seed=seed, threshold=threshold)
            report = metrics.binary_report(model, Xv, yv)
            p = model.predict(Xv)
            ece = calibration.expected_calibration_error(p, yv)
            ece_fixed = (np.nan if alpha is None else calibration.expected_calibration_error(
                calibration.remove_class_weight(p, alpha), yv))
            results[name].append([report["precision"], report["recall"], report["f1"],
                                  report["balanced_accuracy"], report["accuracy"],
                                  report["average_precision"], ece, ece_fixed])
    for name, rows in results.items():
        m = np.mean(rows, axis=0)
        fixed = f", after remove_class_weight {m[7]:.3f}" if np.isfinite(m[7]) else ""
        print(f"  {name:32s} precision {m[0]:.3f} recall {m[1]:.3f} F1 {m[2]:.3f} balanced "
              f"{m[3]:.3f} accuracy {m[4]:.3f} AP {m[5]:.3f}; ECE {m[6]:.3f}{fixed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    seeds = range(parser.parse_args().seeds)
    for section in (quantile_band, skewed_estimates, calibration_runs, learned_noise,
                    imbalance):
        section(seeds)


if __name__ == "__main__":
    main()
