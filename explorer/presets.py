"""Named scenarios: one click (or one ?preset=key link) sets up a lesson.

Every lesson is a set of claims that code checks. A ``Preset`` holds the lesson's text, its
configuration, the comparison configurations its claims read (the same start with another
loss, say) and the claims themselves (``explorer.claims.Claim``: readable text, a
measurement over the runs, a bound). ``verify(key, seed)`` re-runs the lesson and checks
every claim; the tests do so on the lesson's own seed and on five others, and the lesson
text promises no more than those claims.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from explorer import anatomy, calibration, datasets, losses
from explorer.claims import (
    THIS,
    Claim,
    ClaimResult,
    Runs,
    at_epoch,
    at_least,
    at_most,
    final,
    finished,
    loss_at,
    outputs,
    point_gradients,
    recall,
    surface_slope,
    theta_at,
    train_from,
)
from explorer.config import Config, default_for
from explorer.objective import Objective


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    lesson: str
    """What to look for; every statement in it is backed by one of ``claims``."""
    config: Config
    view: str = "Train"
    claims: tuple[Claim, ...] = ()
    comparisons: tuple[tuple[str, Config], ...] = ()
    """(name, config) of the other runs the claims read; the lesson's own run is ``THIS``."""

    def configs(self, seed: int | None = None) -> dict[str, Config]:
        """The lesson's run and its comparisons, all on ``seed`` when one is given."""
        named = {THIS: self.config, **dict(self.comparisons)}
        if seed is None:
            return named
        return {name: c.replace(seed=seed) for name, c in named.items()}


def verify(key: str, seed: int | None = None, cache: dict | None = None) -> list[ClaimResult]:
    """Re-run preset ``key`` (on ``seed`` if given: data, split and initial weights) and check
    each of its claims; one ``ClaimResult`` per claim, in order.

    Runs are trained once per call; pass the same ``cache`` dict to several calls to share
    runs of identical configurations between lessons.
    """
    preset = get(key)
    runs = Runs(preset.configs(seed), cache)
    used_seed = preset.config.seed if seed is None else seed
    return [claim.check(runs, preset.key, used_seed) for claim in preset.claims]


def _verify_seed(seed: int, keys: list[str]) -> dict[tuple[str, int], list[ClaimResult]]:
    """``verify`` of several lessons on one seed, sharing their runs."""
    cache: dict = {}
    return {(key, seed): verify(key, seed, cache) for key in keys}


def verify_many(pairs, workers: int | None = None) -> dict[tuple[str, int], list[ClaimResult]]:
    """``verify`` of each (lesson key, seed) in ``pairs``: the lessons of one seed share
    their runs, and the seeds are spread over ``workers`` processes (default: one per core;
    1 verifies here, in this process)."""
    by_seed: dict[int, list[str]] = {}
    for key, seed in pairs:
        by_seed.setdefault(seed, []).append(key)
    workers = min(workers or os.cpu_count() or 1, len(by_seed)) or 1
    results: dict[tuple[str, int], list[ClaimResult]] = {}
    if workers == 1:
        for seed, keys in by_seed.items():
            results.update(_verify_seed(seed, keys))
        return results
    # not fork: the calling process may have threads running
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for part in pool.map(_verify_seed, by_seed, by_seed.values()):
            results.update(part)
    return results


# ----------------------------------------------------------------------------------------
# Measurements used by several lessons


def _train_outputs(r, epoch: int | None = None) -> np.ndarray:
    """Outputs (n,) of a one-output model on its training points (final weights or epoch)."""
    theta = None if epoch is None else theta_at(r, epoch)
    return outputs(r.model, r.data.X_train, theta)[:, 0]


def _saturated_share(r, epoch: int = 0) -> float:
    p = _train_outputs(r, epoch)
    return float(np.mean((p < 0.05) | (p > 0.95)))


def _wrong_side(r, epoch: int = 0) -> np.ndarray:
    """Training points whose sigmoid output is saturated on the wrong side."""
    p, y = _train_outputs(r, epoch), r.data.y_train
    return ((p > 0.95) & (y == 0)) | ((p < 0.05) & (y == 1))


def _gap(column: str, epoch: int, better: str, worse: str):
    return lambda runs: (at_epoch(runs[better], column, epoch)
                         - at_epoch(runs[worse], column, epoch))


# ----------------------------------------------------------------------------------------
# Matched binary pair


def _bce_grad_is_p_minus_y(runs, name: str = THIS, epoch: int | None = None) -> float:
    """max | |dL/dz| - |p - y| | over training points (final weights, or after ``epoch``)."""
    r = runs[name]
    theta = None if epoch is None else theta_at(r, epoch)
    p = _train_outputs(r, epoch)
    grads = point_gradients(r.model, r.data.X_train, r.data.y_train, theta)
    return float(np.max(np.abs(grads - np.abs(p - r.data.y_train))))


# ----------------------------------------------------------------------------------------
# Saturated start: sigmoid + MSE against sigmoid + BCE


def _mse_grad_formula_error(runs) -> float:
    """max |engine's dL/dz - 2(p - y)p(1 - p)| over training points at the initial weights."""
    r = runs["mse"]
    theta0 = theta_at(r, 0)
    p, y = _train_outputs(r, 0), r.data.y_train
    grads = point_gradients(r.model, r.data.X_train, y, theta0)
    return float(np.max(np.abs(grads - np.abs(2.0 * (p - y) * p * (1.0 - p)))))


def _brier_identity(runs) -> float:
    """|MSE run's final validation loss - mean (p - y)^2 on the validation points|."""
    r = runs["mse"]
    p = outputs(r.model, r.data.X_val)[:, 0]
    return abs(final(r, "val_loss") - float(np.mean((p - r.data.y_val) ** 2)))


def _first_epoch_grad_ratio(runs) -> float:
    return at_epoch(runs["mse"], "grad_norm", 1) / at_epoch(runs["bce"], "grad_norm", 1)


def _wrong_side_grad_ratio(runs) -> float:
    """On the points saturated on the wrong side at the start: mean |dL/dz|, BCE / MSE."""
    r = runs["bce"]
    wrong = _wrong_side(r, 0)
    if not wrong.any():
        return math.nan
    theta0 = theta_at(r, 0)
    X, y = r.data.X_train[wrong], r.data.y_train[wrong]
    bce = point_gradients(r.model, X, y, theta0, "bce")
    mse = point_gradients(r.model, X, y, theta0, "mse")
    return float(np.mean(bce) / np.mean(mse))


def _same_start(runs) -> float:
    a, b = runs["mse"], runs["bce"]
    same_data = all(np.array_equal(getattr(a.data, f), getattr(b.data, f))
                    for f in ("X_train", "y_train", "X_val", "y_val"))
    if not same_data:
        return math.inf
    return float(np.max(np.abs(theta_at(a, 0) - theta_at(b, 0))))


SATURATED_CLAIMS = (
    at_least(0.9, "At the initial weights at least 0.9 of the training outputs are saturated "
                  "(p < 0.05 or p > 0.95).", lambda runs: _saturated_share(runs["mse"])),
    at_least(0.1, "At the initial weights at least 0.1 of the training outputs are saturated "
                  "on the wrong side.", lambda runs: float(np.mean(_wrong_side(runs["mse"])))),
)


# ----------------------------------------------------------------------------------------
# One neuron, two parameters: the surfaces


WRONG_SIDE = np.array([-10.0, 0.0])
"""(w, b) of a one-neuron model confidently on the wrong side (class 1 lies at x = +1)."""


def _surface_slope(runs, name: str, theta=WRONG_SIDE) -> float:
    r = runs[name]
    return surface_slope(r.model, theta, r.data.X_train, r.data.y_train)


def _surface_height(runs, name: str, theta=WRONG_SIDE) -> float:
    r = runs[name]
    return float(loss_at(r.model, theta, r.data.X_train, r.data.y_train)[0])


def _accuracy_from(name: str, theta=WRONG_SIDE):
    """Final validation accuracy of the run's configuration trained from ``theta``."""

    def measure(runs) -> float:
        _, history = train_from(runs[name], theta)
        return float(history["val_accuracy"].iloc[-1]) if len(history) else math.nan

    return measure


def _along_w(runs, name: str, ws) -> np.ndarray:
    r = runs[name]
    thetas = np.column_stack([ws, np.zeros(len(ws))])
    return loss_at(r.model, thetas, r.data.X_train, r.data.y_train)


def _mse_bump_above_chord(runs) -> float:
    """Along b = 0: loss at w = -10 minus the chord's midpoint between w = -20 and w = 0."""
    left, mid, right = _along_w(runs, THIS, [-20.0, -10.0, 0.0])
    return float(mid - (left + right) / 2)


def _worst_convexity_violation(runs) -> float:
    """Largest midpoint violation L(mid) - (L(a) + L(b)) / 2 on a 21 x 21 grid of (w, b)."""
    r = runs[THIS]
    ws, bs = np.linspace(-20, 20, 21), np.linspace(-10, 10, 21)
    W, Bb = np.meshgrid(ws, bs)
    Z = loss_at(r.model, np.column_stack([W.ravel(), Bb.ravel()]), r.data.X_train,
                r.data.y_train).reshape(W.shape)
    worst = -np.inf
    for grid in (Z, Z.T):
        worst = max(worst, float(np.max(grid[:, 1:-1] - (grid[:, :-2] + grid[:, 2:]) / 2)))
    diagonal = Z[1:-1, 1:-1] - (Z[:-2, :-2] + Z[2:, 2:]) / 2
    return max(worst, float(np.max(diagonal)))


def _linear_far_out(runs) -> float:
    """|rise from w = -20 to -30 / rise from -10 to -20 - 1| along b = 0 (quadratic: 2/3)."""
    a, b, c = _along_w(runs, THIS, [-10.0, -20.0, -30.0])
    return float(abs((c - b) / (b - a) - 1.0))


# ----------------------------------------------------------------------------------------
# The loss is not the metric


def _best_loss_epoch(runs) -> float:
    h = runs[THIS].history
    return float(h["epoch"].iloc[int(h["val_loss"].to_numpy().argmin())])


def _val_loss_rise(runs) -> float:
    h = runs[THIS].history
    return final(runs[THIS], "val_loss") / float(h["val_loss"].min())


def _accuracy_move_since_best_loss(runs) -> float:
    r = runs[THIS]
    h = r.history
    best = int(h["val_loss"].to_numpy().argmin())
    return abs(final(r, "val_accuracy") - float(h["val_accuracy"].iloc[best]))


def _wrong_points_loss_share(runs) -> float:
    r = runs[THIS]
    X, y = r.data.X_val, r.data.y_val
    p = outputs(r.model, X)[:, 0]
    per_point = losses.get("bce").per_sample(y, p)
    wrong = (p > 0.5) != (y == 1)
    return float(per_point[wrong].sum() / per_point.sum())


# ----------------------------------------------------------------------------------------
# Linear output + BCE


def _diverged_in_epoch(runs) -> float:
    d = runs[THIS].divergence
    return float(d["epoch"]) if d else math.inf


def _diverged_outside_domain(runs) -> float:
    d = runs[THIS].divergence
    return 1.0 if d and d["reason"] == "prediction outside the loss's domain" else 0.0


# ----------------------------------------------------------------------------------------
# Hinge


def _margins(r) -> np.ndarray:
    """s * score for each training point, s = 2y - 1."""
    return (2.0 * r.data.y_train - 1.0) * _train_outputs(r)


def _sign_accuracy(runs) -> float:
    r = runs[THIS]
    if not finished(r):
        return math.nan
    score = outputs(r.model, r.data.X_val)[:, 0]
    return float(np.mean((score > 0) == (r.data.y_val == 1)))


def _hinge_uses_plus_minus_one(runs) -> float:
    """|reported validation loss - mean max(0, 1 - s * score)| with s = 2y - 1."""
    r = runs[THIS]
    score = outputs(r.model, r.data.X_val)[:, 0]
    s = 2.0 * r.data.y_val - 1.0
    return abs(final(r, "val_loss") - float(np.mean(np.maximum(0.0, 1.0 - s * score))))


def _beyond_margin_share(runs) -> float:
    r = runs[THIS]
    return float(np.mean(_margins(r) >= 1.0)) if finished(r) else math.nan


def _beyond_margin_gradient(runs) -> float:
    r = runs[THIS]
    beyond = _margins(r) >= 1.0
    if not beyond.any():
        return math.nan
    return float(np.max(point_gradients(r.model, r.data.X_train[beyond],
                                        r.data.y_train[beyond])))


def _hinge_grad_at(activation: str, z: float) -> float:
    """|d hinge / dz| for a class-1 point whose output's pre-activation is z."""
    objective = Objective.build("binary", activation, "hinge", np.array([1]))
    _, dz = anatomy.output_gradient(objective, np.array([[z]]))
    return float(abs(dz[0, 0]))


# ----------------------------------------------------------------------------------------
# Softmax on a spiral


def _probability_sum_error(runs) -> float:
    r = runs[THIS]
    p = outputs(r.model, r.data.X_val)
    return float(np.max(np.abs(p.sum(axis=1) - 1.0)))


def _true_class_probability(epoch: int | None):
    def measure(runs) -> float:
        r = runs[THIS]
        theta = None if epoch is None else theta_at(r, epoch)
        p = outputs(r.model, r.data.X_train, theta)
        return float(np.mean(p[np.arange(len(p)), r.data.y_train]))

    return measure


# ----------------------------------------------------------------------------------------
# Outliers


OUTLIER_GAP = 1.5
"""A point more than this above the true line is an outlier: the generator adds U(3, 6) to
a tenth of the points and Gaussian noise of std 0.2 to all."""
LINE_X = np.linspace(-2.5, 2.5, 101)


def _true_line(x) -> np.ndarray:
    return datasets.OUTLIER_SLOPE * np.asarray(x) + datasets.OUTLIER_INTERCEPT


def _offset_from_line(name: str, absolute: bool):
    """Mean (absolute) vertical offset of the fitted curve from the true line over x in
    [-2.5, 2.5]."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        gap = outputs(r.model, LINE_X[:, None])[:, 0] - _true_line(LINE_X)
        return float(np.mean(np.abs(gap) if absolute else gap))

    return measure


def _rmse(r, inliers_only: bool, train: bool = False) -> float:
    """RMSE at the final weights on the validation (or training) points, or their inliers."""
    d = r.data
    X, y = (d.X_train, d.y_train) if train else (d.X_val, d.y_val)
    keep = (y - _true_line(X[:, 0]) < OUTLIER_GAP) if inliers_only else np.ones(len(y), bool)
    e = outputs(r.model, X[keep])[:, 0] - y[keep]
    return float(np.sqrt(np.mean(e * e)))


def _rmse_gap(better: str, worse: str, inliers_only: bool, train: bool = False):
    return lambda runs: (_rmse(runs[worse], inliers_only, train)
                         - _rmse(runs[better], inliers_only, train))


def _outlier_pull(name: str):
    """Mean |dL/dp| per outlier in the training set at the final weights."""

    def measure(runs) -> float:
        r = runs[name]
        X, y = r.data.X_train, r.data.y_train
        far = y - _true_line(X[:, 0]) >= OUTLIER_GAP
        if not far.any():
            return math.nan
        return float(np.mean(point_gradients(r.model, X[far], y[far])))

    return measure


# ----------------------------------------------------------------------------------------
# Imbalanced classes


def _majority_share(runs) -> float:
    return float(np.mean(runs[THIS].data.y_val == 0))


def _easy_gradient_ratio(label: int, easy: float = 0.9):
    """At focal's final weights, on easy training points of class ``label`` (p_t > easy):
    sum of focal's |dL/dz| over sum of cross-entropy's."""

    def measure(runs) -> float:
        r = runs[THIS]
        X, y = r.data.X_train, r.data.y_train
        p = _train_outputs(r)
        p_t = np.where(y == 1, p, 1.0 - p)
        chosen = (y == label) & (p_t > easy)
        if not chosen.any():
            return math.nan
        focal = point_gradients(r.model, X[chosen], y[chosen])
        bce = point_gradients(r.model, X[chosen], y[chosen], loss="bce")
        return float(focal.sum() / bce.sum())

    return measure


def _minority_recall(name: str, threshold: float = 0.5):
    def measure(runs) -> float:
        r = runs[name]
        return recall(outputs(r.model, r.data.X_val), r.data.y_val, 1, threshold)

    return measure


def _alpha_recall_gain(runs) -> float:
    """Minority recall (threshold 0.5) of focal with alpha = 0.9 minus that of this run (the
    same initial weights and batches)."""
    return _minority_recall("alpha")(runs) - _minority_recall(THIS)(runs)


# ----------------------------------------------------------------------------------------
# Counts


COUNT_X = np.linspace(-2.5, 2.5, 101)


def _true_rate(x) -> np.ndarray:
    return np.minimum(np.exp(0.8 * np.asarray(x) + 1.0), datasets.MAX_POISSON_RATE)


def _lowest_prediction(name: str):
    def measure(runs) -> float:
        r = runs[name]
        return float(np.min(outputs(r.model, COUNT_X[:, None]))) if finished(r) else math.nan

    return measure


def _rate_error(runs) -> float:
    r = runs[THIS]
    if not finished(r):
        return math.nan
    fitted = outputs(r.model, COUNT_X[:, None])[:, 0]
    return float(np.max(np.abs(fitted / _true_rate(COUNT_X) - 1.0)))


def _spread_ratio(runs) -> float:
    """Std of the counts for x > 1 over their std for x < -1 (all points of the run)."""
    d = runs[THIS].data
    x = np.concatenate([d.X_train[:, 0], d.X_val[:, 0]])
    y = np.concatenate([d.y_train, d.y_val])
    return float(np.std(y[x > 1]) / np.std(y[x < -1]))


# ----------------------------------------------------------------------------------------
# What the outputs estimate: calibration, overconfidence, quantiles, learned noise


def _validation_probabilities(r) -> tuple[np.ndarray, np.ndarray]:
    """(final outputs (n,) of a one-output classifier on its validation points, labels)."""
    if not finished(r):
        raise ValueError("the run stopped before its last epoch")
    return outputs(r.model, r.data.X_val)[:, 0], r.data.y_val


def _ece(name: str):
    def measure(runs) -> float:
        return calibration.expected_calibration_error(*_validation_probabilities(runs[name]))

    return measure


def _brier(name: str):
    def measure(runs) -> float:
        return calibration.brier_score(*_validation_probabilities(runs[name]))

    return measure


def _overconfidence(name: str):
    def measure(runs) -> float:
        return calibration.overconfidence(*_validation_probabilities(runs[name]))

    return measure


LABEL_FREQUENCY = 0.3
"""The share of ones in the labels on which ``_best_constant`` minimises a loss."""


def _best_constant(loss: str) -> float:
    """The constant prediction p in [0, 1] (grid step 0.001) that minimises a loss's mean over
    labels with a share 0.3 of ones: the true frequency for a proper scoring rule."""
    y = np.r_[np.ones(3), np.zeros(7)]
    grid = np.linspace(0.0, 1.0, 1001)
    loss_obj = losses.get(loss)
    with np.errstate(all="ignore"):
        values = np.array([loss_obj.value(y, np.full(len(y), p)) for p in grid])
    return float(grid[np.nanargmin(values)])


def _validation_reliability(r) -> calibration.ReliabilityOverTraining:
    return calibration.reliability_over_training(r.model, r.data.X_val, r.data.y_val)


def _lowest_ece_epoch(runs) -> float:
    rel = _validation_reliability(runs[THIS])
    return float(rel.epochs[int(np.nanargmin(rel.ece))])


def _ece_growth(runs) -> float:
    """Final validation ECE / the lowest over the snapshots."""
    rel = _validation_reliability(runs[THIS])
    return float(rel.ece[-1] / np.nanmin(rel.ece))


def _training_ece(runs) -> float:
    r = runs[THIS]
    p = outputs(r.model, r.data.X_train)[:, 0]
    return calibration.expected_calibration_error(p, r.data.y_train)


ESTIMATE_X = np.linspace(-2.4, 2.4, 97)
"""Where a fitted curve is compared with the true mean or quantile (inside the data's
x range, [-2.5, 2.5])."""


def _truth(r, what: str) -> np.ndarray:
    c = r.config
    if what == "mean":
        curve = datasets.true_mean(c.dataset, ESTIMATE_X, c.noise)
    else:
        curve = datasets.true_quantile(c.dataset, ESTIMATE_X, float(what), c.noise)
    if curve is None:
        raise ValueError(f"the dataset {c.dataset!r} has no known true {what}")
    return curve


def _distance_to(name: str, what: str):
    """Mean |fitted curve − true mean (what="mean") or true quantile (what="0.9")| over
    x in [-2.4, 2.4], at the final weights."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        fitted = outputs(r.model, ESTIMATE_X[:, None])[:, 0]
        return float(np.mean(np.abs(fitted - _truth(r, what))))

    return measure


def _share_below(name: str):
    """Share of validation targets at or below the final fit."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        return calibration.quantile_coverage(r.data.y_val,
                                             outputs(r.model, r.data.X_val)[:, 0])

    return measure


def _sigma_coverage(runs) -> float:
    """Share of validation targets inside mean ± 2σ of the final Gaussian NLL model."""
    r = runs[THIS]
    mean, sigma = r.model.predict(r.data.X_val).T
    return calibration.interval_coverage(r.data.y_val, mean - 2 * sigma, mean + 2 * sigma)


def _sigma_at(r, x) -> np.ndarray:
    return r.model.predict(np.asarray(x, float)[:, None])[:, 1]


def _sigma_growth(runs) -> float:
    """Mean learned σ for |x| in [2, 2.4] over mean σ for |x| ≤ 0.25."""
    r = runs[THIS]
    edge = np.r_[np.linspace(-2.4, -2.0, 9), np.linspace(2.0, 2.4, 9)]
    return float(np.mean(_sigma_at(r, edge)) / np.mean(_sigma_at(r, np.linspace(-0.25, 0.25,
                                                                                   11))))


def _sigma_error(runs) -> float:
    """|median over x in [-2.4, 2.4] of learned σ / true σ − 1|."""
    r = runs[THIS]
    truth = datasets.heteroscedastic_sigma(ESTIMATE_X, r.config.noise)
    return float(abs(np.median(_sigma_at(r, ESTIMATE_X) / truth) - 1.0))


def _band_coverage(runs) -> float:
    """Share of validation targets between the τ = 0.1 and τ = 0.9 fits."""
    low, high = runs["q10"], runs["q90"]
    X, y = low.data.X_val, low.data.y_val
    return calibration.interval_coverage(y, outputs(low.model, X)[:, 0],
                                         outputs(high.model, X)[:, 0])


# ----------------------------------------------------------------------------------------
# The catalogue


LESSON_TRAINING = dict(optimizer="adam", lr=0.01, batch_size=32, epochs=300)
"""The training the binary lessons were written and verified with (the app's opening scenario
trains with plain SGD instead, ``config.OPENING_TRAINING``); a lesson may override it."""


def _binary(**changes) -> Config:
    return default_for("binary").replace(**{**LESSON_TRAINING, **changes})


_SATURATED = _binary(hidden=(16,), init_scale=10.0, optimizer="sgd", lr=0.5, epochs=100)
_ONE_NEURON = _binary(dataset="overlap1d", noise=0.6, hidden=(), seed=5, init_scale=10.0,
                      optimizer="sgd", lr=1.0, batch_size=0)
_OUTLIERS = default_for("regression").replace(dataset="outliers", noise=0.2, hidden=())
_IMBALANCED = _binary(dataset="imbalanced", noise=0.6, n_samples=1000, hidden=(), epochs=100,
                      loss="focal")
_CALIBRATED = _binary(noise=0.3, n_samples=1000, val_share=0.5, hidden=(16,), epochs=200)
_OVERCONFIDENT = _binary(noise=0.5, val_share=0.5, hidden=(32, 32), epochs=800)
_SKEWED = default_for("regression").replace(dataset="skewed", noise=0.8, n_samples=1000,
                                            hidden=(32,), batch_size=64, loss="pinball",
                                            tau=0.9)
_GROWING = default_for("regression").replace(dataset="heteroscedastic", noise=0.5,
                                             n_samples=1000, hidden=(32,), batch_size=64,
                                             loss="gaussian_nll")
_COUNTS = default_for("counts").replace(hidden=())
_COUNTS_MSE = _COUNTS.replace(output_activation="linear", loss="mse")

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in [
        Preset(
            "matched_binary", "Sigmoid + cross-entropy on two moons",
            "The matched pair for two classes. The loss falls fast: within 50 epochs to under "
            "a tenth of its first-epoch value, with validation accuracy at 0.97 or more. The "
            "boundary has to bend around the moons: logistic regression (no hidden layer) on "
            "the same data ends at least 0.05 lower. At the output's pre-activation the "
            "gradient is simply p − y.",
            _binary(),
            claims=(
                at_most(0.1, "Training loss after 50 epochs / training loss in epoch 1 ≤ 0.1.",
                        lambda runs: at_epoch(runs[THIS], "loss", 50)
                        / at_epoch(runs[THIS], "loss", 1)),
                at_least(0.97, "Validation accuracy after 50 epochs ≥ 0.97.",
                         lambda runs: at_epoch(runs[THIS], "val_accuracy", 50)),
                at_least(0.05, "Final validation accuracy: this network − logistic regression "
                               "(no hidden layer, same data) ≥ 0.05.",
                         lambda runs: final(runs[THIS], "val_accuracy")
                         - final(runs["no_hidden"], "val_accuracy")),
                at_most(1e-12, "max over training points of | |dL/dz| − |p − y| | at the "
                               "final weights ≤ 1e-12.", _bce_grad_is_p_minus_y),
            ),
            comparisons=(("no_hidden", _binary(hidden=())),),
        ),
        Preset(
            "why_not_mse", "Why not MSE for classification",
            "Ten times the usual initial weights saturate the sigmoid: at the start at least "
            "90% of the training outputs are below 0.05 or above 0.95, and at least 10% are "
            "saturated on the wrong side. With squared error the gradient at the output's "
            "pre-activation is 2(p − y)·p(1 − p), near 0 wherever p is near 0 or 1: in the "
            "first epoch MSE's gradient norm is under a tenth of cross-entropy's. After 30 "
            "epochs from the same start, cross-entropy is at 0.95 validation accuracy or more "
            "and MSE at least 0.1 behind. MSE is not wrong for probabilities: on 0/1 labels "
            "it is the Brier score, mean (p − y)². Its trouble is the gradient through a "
            "saturated sigmoid.",
            _SATURATED.replace(loss="mse"), "Compare",
            claims=(
                *SATURATED_CLAIMS,
                at_most(1e-12, "max over training points of | |dL/dz| − |2(p − y)p(1 − p)| | "
                               "for sigmoid + MSE at the initial weights ≤ 1e-12.",
                        _mse_grad_formula_error),
                at_most(0.1, "Gradient norm in epoch 1: MSE / cross-entropy ≤ 0.1.",
                        _first_epoch_grad_ratio),
                at_least(0.95, "Cross-entropy's validation accuracy after 30 epochs ≥ 0.95.",
                         lambda runs: at_epoch(runs["bce"], "val_accuracy", 30)),
                at_least(0.1, "Validation accuracy after 30 epochs: cross-entropy − MSE ≥ 0.1.",
                         _gap("val_accuracy", 30, "bce", "mse")),
                at_most(1e-12, "|MSE's final validation loss − mean (p − y)² over the "
                               "validation points| ≤ 1e-12.", _brier_identity),
            ),
            comparisons=(("mse", _SATURATED.replace(loss="mse")), ("bce", _SATURATED)),
        ),
        Preset(
            "why_not_mse_bce", "...and the same start with cross-entropy",
            "Identical data, network and initial weights as the MSE preset; only the loss "
            "differs. Cross-entropy's gradient at the output's pre-activation is p − y, "
            "largest exactly where the model is confidently wrong: on the points saturated "
            "on the wrong side at the start it is on average at least 10 times MSE's. "
            "Validation accuracy is at 0.95 or more after 30 epochs.",
            _SATURATED,
            claims=(
                at_most(0.0, "Data and initial weights versus the MSE run: max |difference| "
                             "≤ 0.", _same_start),
                *SATURATED_CLAIMS,
                at_least(10.0, "On points saturated on the wrong side at the start: mean "
                               "|dL/dz| of cross-entropy / that of MSE ≥ 10.",
                         _wrong_side_grad_ratio),
                at_most(1e-12, "max over training points of | |dL/dz| − |p − y| | at the "
                               "initial weights ≤ 1e-12.",
                        lambda runs: _bce_grad_is_p_minus_y(runs, "bce", 0)),
                at_least(0.95, "Validation accuracy after 30 epochs ≥ 0.95.",
                         lambda runs: at_epoch(runs["bce"], "val_accuracy", 30)),
            ),
            comparisons=(("mse", _SATURATED.replace(loss="mse")), ("bce", _SATURATED)),
        ),
        Preset(
            "one_neuron_mse", "One sigmoid neuron: MSE surface",
            "No hidden layer and one input: the network has exactly two parameters, a weight w "
            "and a bias b, so this surface is the whole story and the path on it is exact. "
            "Class 1 lies around x = +1, so at w = −10, b = 0 the neuron is confidently wrong, "
            "and there MSE's surface is a plateau: the loss is above 0.8 but its slope is "
            "below 0.01, where cross-entropy's slope is above 0.5. Started there, 300 epochs "
            "of gradient descent leave MSE below 0.2 validation accuracy, while "
            "cross-entropy from the same point reaches 0.85. The surface is not a bowl: along "
            "b = 0 the loss at w = −10 lies at least 0.2 above the chord from w = −20 to 0. "
            "Where this run's own path starts depends on the seed.",
            _ONE_NEURON.replace(loss="mse"), "Error surface",
            claims=(
                at_most(0.0, "|number of parameters − 2| ≤ 0.",
                        lambda runs: abs(runs[THIS].model.network.n_params - 2)),
                at_least(0.8, "MSE's loss at (w, b) = (−10, 0) ≥ 0.8.",
                         lambda runs: _surface_height(runs, THIS)),
                at_most(0.01, "Slope of MSE's surface at (w, b) = (−10, 0) ≤ 0.01.",
                        lambda runs: _surface_slope(runs, THIS)),
                at_least(0.5, "Slope of cross-entropy's surface at (w, b) = (−10, 0) ≥ 0.5.",
                         lambda runs: _surface_slope(runs, "bce")),
                Claim("Trained with MSE from (w, b) = (−10, 0): final validation accuracy "
                      "< 0.2.", _accuracy_from(THIS), "<", 0.2),
                at_least(0.85, "Trained with cross-entropy from (w, b) = (−10, 0): final "
                               "validation accuracy ≥ 0.85.", _accuracy_from("bce")),
                at_least(0.2, "Along b = 0: MSE's loss at w = −10 minus the midpoint of the "
                              "chord from w = −20 to w = 0 ≥ 0.2.", _mse_bump_above_chord),
            ),
            comparisons=(("bce", _ONE_NEURON),),
        ),
        Preset(
            "one_neuron_bce", "One sigmoid neuron: cross-entropy surface",
            "The same neuron with cross-entropy. Over |w| ≤ 20, |b| ≤ 10 its surface is "
            "convex: a funnel rather than a quadratic bowl, because far out it rises "
            "linearly (along b = 0 the rise from w = −20 to −30 equals the rise from −10 to "
            "−20 within 5%). It is steep where the predictions are wrong (slope above 0.5 at "
            "w = −10, b = 0), so gradient descent heads for the minimum: this run ends at 0.85 "
            "validation accuracy or more, and so does a start at w = −10, b = 0.",
            _ONE_NEURON, "Error surface",
            claims=(
                at_most(1e-9, "Largest midpoint-convexity violation on a 21 × 21 grid of "
                              "w ∈ [−20, 20], b ∈ [−10, 10] (rows, columns, diagonals) "
                              "≤ 1e-9.", _worst_convexity_violation),
                at_most(0.05, "Along b = 0: |rise from w = −20 to −30 / rise from −10 to −20 "
                              "− 1| ≤ 0.05.", _linear_far_out),
                at_least(0.5, "Slope of the surface at (w, b) = (−10, 0) ≥ 0.5.",
                         lambda runs: _surface_slope(runs, THIS)),
                at_least(0.85, "Final validation accuracy ≥ 0.85.",
                         lambda runs: final(runs[THIS], "val_accuracy")),
                at_least(0.85, "Trained from (w, b) = (−10, 0): final validation accuracy "
                               "≥ 0.85.", _accuracy_from(THIS)),
            ),
        ),
        Preset(
            "loss_not_metric", "The loss is not the metric",
            "Noisy moons, 200 training points, a roomy network. The validation loss reaches "
            "its minimum within the first half of training, then climbs to at least 1.5 "
            "times that minimum, while validation accuracy ends within 0.03 of where it "
            "stood at the minimum, at 0.85 or more. At the end the few validation points the "
            "network gets wrong carry more than half of the validation loss: cross-entropy "
            "punishes confident mistakes; accuracy only counts them.",
            _binary(noise=0.3, val_share=0.5, hidden=(32, 32)),
            claims=(
                at_most(150, "Epoch of minimum validation loss ≤ 150 (of 300).",
                        _best_loss_epoch),
                at_least(1.5, "Final validation loss / minimum validation loss ≥ 1.5.",
                         _val_loss_rise),
                at_most(0.03, "|final validation accuracy − validation accuracy at the "
                              "epoch of minimum validation loss| ≤ 0.03.",
                        _accuracy_move_since_best_loss),
                at_least(0.85, "Final validation accuracy ≥ 0.85.",
                         lambda runs: final(runs[THIS], "val_accuracy")),
                Claim("Share of the final validation loss carried by misclassified "
                      "validation points > 0.5.", _wrong_points_loss_share, ">", 0.5),
            ),
        ),
        Preset(
            "linear_bce_breaks", "Linear output + BCE breaks",
            "Cross-entropy takes log p and log(1 − p), so it is defined only for predictions "
            "from 0 to 1. A linear output is not confined there: in the first epoch a "
            "prediction falls outside, the loss is NaN and the run stops; the app says where "
            "and why.",
            _binary(output_activation="linear"),
            claims=(
                at_most(1, "The run stops with a non-finite loss in epoch ≤ 1.",
                        _diverged_in_epoch),
                at_least(1, "The stop is diagnosed as a prediction outside the loss's domain "
                            "(1 = yes).", _diverged_outside_domain),
            ),
        ),
        Preset(
            "hinge", "Hinge needs ±1 labels and a linear score",
            "Hinge loss is max(0, 1 − s·score), with the label used as s = −1 or +1. It wants "
            "a score whose sign is the class, so the decision threshold is 0, not 0.5: "
            "classifying by sign gives at least 0.95 validation accuracy here, and that is "
            "the accuracy the app reports. A point beyond the margin (s·score ≥ 1) stops "
            "contributing: at the end at least 80% of the training points are there, each "
            "with gradient exactly 0. The score must be linear: a tanh output only approaches "
            "±1, so no point gets clear of the margin, and where it is confidently wrong its "
            "derivative kills the gradient (at z = −5 for a class-1 point, under 0.001 of the "
            "linear score's).",
            _binary(output_activation="linear", loss="hinge"),
            claims=(
                at_most(1e-9, "|final validation loss − mean max(0, 1 − s·score)| with "
                              "s = 2y − 1 ≤ 1e-9.", _hinge_uses_plus_minus_one),
                at_least(0.95, "Validation accuracy of sign(score) (threshold 0) ≥ 0.95.",
                         _sign_accuracy),
                at_most(0.0, "|reported final validation accuracy − that of sign(score)| ≤ 0.",
                        lambda runs: abs(final(runs[THIS], "val_accuracy")
                                         - _sign_accuracy(runs))),
                at_least(0.8, "Share of training points with s·score ≥ 1 at the end ≥ 0.8.",
                         _beyond_margin_share),
                at_most(0.0, "Largest |dL/dz| among those points ≤ 0.", _beyond_margin_gradient),
                at_most(0.001, "|dL/dz| of hinge at z = −5, y = 1: tanh output / linear "
                               "output ≤ 0.001.",
                        lambda runs: _hinge_grad_at("tanh", -5.0)
                        / _hinge_grad_at("linear", -5.0)),
            ),
        ),
        Preset(
            "spiral_softmax", "Softmax + cross-entropy on a spiral",
            "Three classes wound together. Softmax turns the three scores into probabilities "
            "that compete: they sum to 1 at every point. Cross-entropy pushes the right one "
            "up: on the training points the true class's mean probability rises from under "
            "0.5 at the start to over 0.9, and validation accuracy ends at 0.9 or more.",
            default_for("multiclass").replace(hidden=(32, 32)),
            claims=(
                at_most(1e-9, "max over validation points of |sum of the probabilities − 1| "
                              "≤ 1e-9.", _probability_sum_error),
                Claim("Mean probability of the true class on training points at the start "
                      "< 0.5.", _true_class_probability(0), "<", 0.5),
                Claim("Mean probability of the true class on training points at the end "
                      "> 0.9.", _true_class_probability(None), ">", 0.9),
                at_least(0.9, "Final validation accuracy ≥ 0.9.",
                         lambda runs: final(runs[THIS], "val_accuracy")),
            ),
        ),
        Preset(
            "outliers_mse", "Outliers: MSE",
            "A tenth of the points sit 3 to 6 above the line y = 0.8x − 0.5. Fitting a line "
            "(no hidden layer) with squared error, each outlier pulls with a force that "
            "grows with its error (mean |dL/dp| per outlier above 4), and the fit ends on "
            "average at least 0.3 above the true line; Huber from the same start stays "
            "within 0.2 of it. Yet RMSE on the training points ranks MSE ahead of Huber: "
            "RMSE is the square root of the very quantity MSE minimises, outliers included. "
            "On the validation inliers alone, Huber's RMSE is lower by at least 0.1.",
            _OUTLIERS,
            claims=(
                at_least(4.0, "Mean |dL/dp| per training outlier at the end ≥ 4.",
                         _outlier_pull(THIS)),
                at_least(0.3, "Mean offset of MSE's fit above the true line over "
                              "x ∈ [−2.5, 2.5] ≥ 0.3.", _offset_from_line(THIS, False)),
                at_most(0.2, "Mean |offset| of Huber's fit from the true line ≤ 0.2.",
                        _offset_from_line("huber", True)),
                Claim("RMSE on all training points at the end: Huber − MSE > 0.",
                      _rmse_gap(THIS, "huber", inliers_only=False, train=True), ">", 0.0),
                at_least(0.1, "Validation RMSE on inliers: MSE − Huber ≥ 0.1.",
                         _rmse_gap("huber", THIS, inliers_only=True)),
            ),
            comparisons=(("huber", _OUTLIERS.replace(loss="huber")),),
        ),
        Preset(
            "outliers_huber", "Outliers: Huber",
            "Huber is quadratic for small errors and linear for large ones, so each outlier "
            "pulls with the same constant force δ = 1 (mean |dL/dp| per outlier at most 1, "
            "against above 4 for MSE). The line stays with the bulk of the data: on average "
            "within 0.2 of the true line y = 0.8x − 0.5 (the outliers still pull a little), "
            "while MSE's ends at least 0.3 above it. On the validation inliers Huber's RMSE "
            "is lower than MSE's by at least 0.1, yet on all the training points MSE's RMSE "
            "is lower: RMSE is MSE's own criterion, outliers included.",
            _OUTLIERS.replace(loss="huber"),
            claims=(
                at_most(1.0, "Mean |dL/dp| per training outlier at the end ≤ 1.",
                        _outlier_pull(THIS)),
                at_least(4.0, "Same for the MSE run ≥ 4.", _outlier_pull("mse")),
                at_most(0.2, "Mean |offset| of Huber's fit from the true line over "
                             "x ∈ [−2.5, 2.5] ≤ 0.2.", _offset_from_line(THIS, True)),
                at_least(0.3, "Mean offset of MSE's fit above the true line ≥ 0.3.",
                         _offset_from_line("mse", False)),
                at_least(0.1, "Validation RMSE on inliers: MSE − Huber ≥ 0.1.",
                         _rmse_gap(THIS, "mse", inliers_only=True)),
                Claim("RMSE on all training points at the end: Huber − MSE > 0.",
                      _rmse_gap("mse", THIS, inliers_only=False, train=True), ">", 0.0),
            ),
            comparisons=(("mse", _OUTLIERS),),
        ),
        Preset(
            "imbalanced_focal", "Imbalanced classes: what focal loss does",
            "One point in ten is class 1, so answering 0 everywhere already scores 0.9 "
            "validation accuracy. Focal loss multiplies each point's cross-entropy by "
            "(1 − p_t)^γ, p_t being the probability given to the true class: at the final "
            "weights, easy points (p_t > 0.9) get under 5% of the gradient cross-entropy "
            "would give them, in both classes. That is not a class weight: minority recall "
            "stays within 0.1 of cross-entropy's from the same start. Rebalancing is the job "
            "of focal loss's α (Lin et al. 2017; with α = 0.9 on class 1, minority recall "
            "rises by at least 0.05) or of a lower threshold: at 0.2, at least 85% of the "
            "minority is found.",
            _IMBALANCED,
            claims=(
                at_least(0.89, "Share of class 0 among validation points ≥ 0.89.",
                         _majority_share),
                at_most(0.05, "Class 0, easy points (p_t > 0.9): focal's |dL/dz| / "
                              "cross-entropy's at the same weights ≤ 0.05.",
                        _easy_gradient_ratio(0)),
                at_most(0.05, "Class 1, easy points (p_t > 0.9): focal's |dL/dz| / "
                              "cross-entropy's at the same weights ≤ 0.05.",
                        _easy_gradient_ratio(1)),
                at_most(0.1, "|minority recall (threshold 0.5): focal − cross-entropy| ≤ 0.1.",
                        lambda runs: abs(_minority_recall(THIS)(runs)
                                         - _minority_recall("bce")(runs))),
                at_least(0.05, "Minority recall (threshold 0.5): focal with α = 0.9 − focal "
                               "without α ≥ 0.05.", _alpha_recall_gain),
                at_least(0.85, "Minority recall at threshold 0.2 ≥ 0.85.",
                         _minority_recall(THIS, 0.2)),
            ),
            comparisons=(("bce", _IMBALANCED.replace(loss="bce")),
                         ("alpha", _IMBALANCED.replace(alpha=0.9))),
        ),
        Preset(
            "calibrated_bce_mse", "Calibration: BCE and MSE are proper",
            "Two moons (noise 0.3), 500 training and 500 validation points. Sigmoid + "
            "cross-entropy and "
            "sigmoid + MSE (on 0/1 labels, the Brier score) are both proper scoring rules: "
            "their optimum is the true class probability. Both end calibrated on the "
            "validation points, with an expected calibration error (ECE) under 0.04 and "
            "within 0.02 of each other, and a Brier score under 0.05. Focal loss is not "
            "proper: from the same start it ends under-confident, its mean confidence below "
            "its accuracy. MAE is not offered for classification, and here is why: on labels "
            "with 30% ones the constant that minimises MAE is 0, not 0.3, while MSE and "
            "cross-entropy pick 0.3.",
            _CALIBRATED, "Calibration",
            claims=(
                at_most(0.04, "Validation ECE of sigmoid + cross-entropy ≤ 0.04.", _ece(THIS)),
                at_most(0.04, "Validation ECE of sigmoid + MSE ≤ 0.04.", _ece("mse")),
                at_most(0.02, "|validation ECE: cross-entropy − MSE| ≤ 0.02.",
                        lambda runs: abs(_ece(THIS)(runs) - _ece("mse")(runs))),
                at_most(0.05, "Validation Brier score of cross-entropy ≤ 0.05.", _brier(THIS)),
                at_most(0.05, "Validation Brier score of MSE ≤ 0.05.", _brier("mse")),
                Claim("Focal loss (γ = 2), same start: validation confidence − accuracy < 0.",
                      _overconfidence("focal"), "<", 0.0),
                at_most(0.0, "Constant minimising MAE on labels with 30% ones ≤ 0.",
                        lambda runs: _best_constant("mae")),
                at_most(0.001, "|constant minimising MSE there − 0.3| ≤ 0.001 (the grid step).",
                        lambda runs: abs(_best_constant("mse") - LABEL_FREQUENCY)),
                at_most(0.001, "|constant minimising cross-entropy there − 0.3| ≤ 0.001.",
                        lambda runs: abs(_best_constant("bce") - LABEL_FREQUENCY)),
            ),
            comparisons=(("mse", _CALIBRATED.replace(loss="mse")),
                         ("focal", _CALIBRATED.replace(loss="focal"))),
        ),
        Preset(
            "overconfident", "A long run grows overconfident",
            "Very noisy moons, only 200 training points, a roomy network and 800 epochs. "
            "Calibration on the validation points is best early (the lowest ECE comes "
            "within the first 100 epochs); by the end the ECE is at least twice that "
            "lowest value, and the model is overconfident: its mean confidence exceeds its "
            "validation accuracy by at least 0.05. On its own training points it still "
            "looks calibrated (ECE under 0.04) and gets at least 95% of them right: it has "
            "learned those points, noise and all. Play the diagram: the red gaps, whose "
            "weighted mean is the ECE, widen.",
            _OVERCONFIDENT, "Calibration",
            claims=(
                at_most(100, "Epoch of the lowest validation ECE among the snapshots ≤ 100.",
                        _lowest_ece_epoch),
                at_least(2.0, "Final validation ECE / lowest validation ECE ≥ 2.", _ece_growth),
                at_least(0.05, "Final validation confidence − accuracy ≥ 0.05.",
                         _overconfidence(THIS)),
                at_most(0.04, "Final training ECE ≤ 0.04.", _training_ece),
                at_least(0.95, "Final training accuracy ≥ 0.95.",
                         lambda runs: final(runs[THIS], "accuracy")),
            ),
        ),
        Preset(
            "skewed_estimates", "Mean, median, 90th percentile",
            "The noise only pushes upwards, so the conditional mean, median and 90th "
            "percentile are three different lines, drawn wide and pale under the fits (the "
            "mean lies on average at least 0.2 above the median). On the same data, from the "
            "same start, MSE lands on the mean, MAE on the median and pinball with τ = 0.9 on the "
            "90th percentile: each within 0.1, 0.1 and 0.3 of its own line on average, and "
            "at least 0.15 away from the others'. Of the validation targets, 85% to 95% lie "
            "below the τ = 0.9 fit, and within 0.1 of half below MAE's.",
            _SKEWED,
            claims=(
                at_least(0.2, "Mean (true mean − true median) over x ∈ [−2.4, 2.4] ≥ 0.2.",
                         lambda runs: float(np.mean(_truth(runs[THIS], "mean")
                                                    - _truth(runs[THIS], "0.5")))),
                at_most(0.1, "MSE: mean |fit − true mean| over x ∈ [−2.4, 2.4] ≤ 0.1.",
                        _distance_to("mse", "mean")),
                at_least(0.15, "MSE: mean |fit − true median| ≥ 0.15.",
                         _distance_to("mse", "0.5")),
                at_most(0.1, "MAE: mean |fit − true median| ≤ 0.1.",
                        _distance_to("mae", "0.5")),
                at_least(0.15, "MAE: mean |fit − true mean| ≥ 0.15.",
                         _distance_to("mae", "mean")),
                at_most(0.3, "Pinball τ = 0.9: mean |fit − true 90th percentile| ≤ 0.3.",
                        _distance_to(THIS, "0.9")),
                at_least(0.15, "Pinball τ = 0.9: mean |fit − true mean| ≥ 0.15.",
                         _distance_to(THIS, "mean")),
                at_least(0.85, "Share of validation targets below the τ = 0.9 fit ≥ 0.85.",
                         _share_below(THIS)),
                at_most(0.95, "Share of validation targets below the τ = 0.9 fit ≤ 0.95.",
                        _share_below(THIS)),
                at_most(0.1, "|share of validation targets below MAE's fit − 0.5| ≤ 0.1.",
                        lambda runs: abs(_share_below("mae")(runs) - 0.5)),
            ),
            comparisons=(("mse", _SKEWED.replace(loss="mse")),
                         ("mae", _SKEWED.replace(loss="mae"))),
        ),
        Preset(
            "learned_noise", "Growing noise: learned σ, 80% band",
            "The scatter grows away from x = 0. The Gaussian NLL gives the network a second "
            "output, the log-variance, and the σ it learns follows the data: at the edges "
            "it is at least 4 times its value at the centre, and its median ratio to the "
            "true σ is within 0.2 of 1. Mean ± 2σ holds at least 90% of the validation "
            "targets (a Gaussian puts 95.4% there). Without any distribution, pinball "
            "τ = 0.1 and τ = 0.9 fits draw an 80% band: it holds the validation targets "
            "within 0.07 of 80%.",
            _GROWING,
            claims=(
                at_least(4.0, "Mean learned σ for |x| ∈ [2, 2.4] / mean σ for |x| ≤ 0.25 ≥ 4.",
                         _sigma_growth),
                at_most(0.2, "|median over x ∈ [−2.4, 2.4] of learned σ / true σ − 1| ≤ 0.2.",
                        _sigma_error),
                at_least(0.9, "Share of validation targets inside mean ± 2σ ≥ 0.9.",
                         _sigma_coverage),
                at_most(0.07, "|share of validation targets between the τ = 0.1 and τ = 0.9 "
                              "fits − 0.8| ≤ 0.07.",
                        lambda runs: abs(_band_coverage(runs) - 0.8)),
            ),
            comparisons=(("q10", _GROWING.replace(loss="pinball", tau=0.1)),
                         ("q90", _GROWING.replace(loss="pinball", tau=0.9))),
        ),
        Preset(
            "counts_poisson", "Counts: Poisson with an exp output",
            "Counts whose spread grows with their mean (for x > 1 their standard deviation "
            "is at least twice that for x < −1). With an exp output and no hidden layer this "
            "is Poisson regression: the fitted rate stays within 30% of the true rate "
            "exp(0.8x + 1) over x ∈ [−2.5, 2.5], and it cannot go negative (its lowest value "
            "there is above 0.2). The Poisson loss leaves out log y!, so it can be negative: "
            "the final training loss is below 0.",
            _COUNTS,
            claims=(
                at_least(2.0, "Std of the counts for x > 1 / std for x < −1 ≥ 2.",
                         _spread_ratio),
                at_most(0.3, "max over x ∈ [−2.5, 2.5] of |fitted rate / true rate − 1| "
                             "≤ 0.3.", _rate_error),
                at_least(0.2, "Lowest prediction over x ∈ [−2.5, 2.5] ≥ 0.2.",
                         _lowest_prediction(THIS)),
                Claim("Final training loss < 0.",
                      lambda runs: final(runs[THIS], "loss"), "<", 0.0),
            ),
        ),
        Preset(
            "counts_mse", "Counts: MSE with a linear output",
            "The same counts fitted with squared error and a linear output (no hidden "
            "layer): a straight line. Squared error treats every count as equally noisy, "
            "though their spread grows with the mean (for x > 1 the standard deviation is at "
            "least twice that for x < −1), and nothing in a linear output keeps it above 0: "
            "the line's lowest prediction over x ∈ [−2.5, 2.5] is below −0.5, a negative "
            "count. The Poisson preset's exp output stays above 0.2 there.",
            _COUNTS_MSE,
            claims=(
                at_least(2.0, "Std of the counts for x > 1 / std for x < −1 ≥ 2.",
                         _spread_ratio),
                Claim("Lowest prediction over x ∈ [−2.5, 2.5] < −0.5.",
                      _lowest_prediction(THIS), "<", -0.5),
                at_least(0.2, "Lowest prediction of the Poisson run there ≥ 0.2.",
                         _lowest_prediction("poisson")),
            ),
            comparisons=(("poisson", _COUNTS),),
        ),
    ]
}


def get(key: str) -> Preset:
    try:
        return PRESETS[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {key!r}; choose one of: {', '.join(PRESETS)}") from None
