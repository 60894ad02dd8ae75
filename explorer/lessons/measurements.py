"""What the lessons measure: one function per number a claim compares with its bound.

Each takes the lesson's ``Runs`` (or builds such a function from its arguments) and returns
a float; a measurement that cannot be made returns NaN or raises, and the claim then fails.
"""

from __future__ import annotations

import math

import numpy as np

from explorer import anatomy, calibration, datasets, losses
from explorer.claims import (
    THIS,
    at_epoch,
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
from explorer.objective import Objective

# ----------------------------------------------------------------------------------------
# Measurements used by several lessons


def train_outputs(r, epoch: int | None = None) -> np.ndarray:
    """Outputs (n,) of a one-output model on its training points (final weights or epoch)."""
    theta = None if epoch is None else theta_at(r, epoch)
    return outputs(r.model, r.data.X_train, theta)[:, 0]


def saturated_share(r, epoch: int = 0) -> float:
    p = train_outputs(r, epoch)
    return float(np.mean((p < 0.05) | (p > 0.95)))


def wrong_side(r, epoch: int = 0) -> np.ndarray:
    """Training points whose sigmoid output is saturated on the wrong side."""
    p, y = train_outputs(r, epoch), r.data.y_train
    return ((p > 0.95) & (y == 0)) | ((p < 0.05) & (y == 1))


def gap(column: str, epoch: int, better: str, worse: str):
    return lambda runs: (at_epoch(runs[better], column, epoch)
                         - at_epoch(runs[worse], column, epoch))


# ----------------------------------------------------------------------------------------
# Matched binary pair


def bce_grad_is_p_minus_y(runs, name: str = THIS, epoch: int | None = None) -> float:
    """max | |dL/dz| - |p - y| | over training points (final weights, or after ``epoch``)."""
    r = runs[name]
    theta = None if epoch is None else theta_at(r, epoch)
    p = train_outputs(r, epoch)
    grads = point_gradients(r.model, r.data.X_train, r.data.y_train, theta)
    return float(np.max(np.abs(grads - np.abs(p - r.data.y_train))))


# ----------------------------------------------------------------------------------------
# Saturated start: sigmoid + MSE against sigmoid + BCE


def mse_grad_formula_error(runs) -> float:
    """max |engine's dL/dz - 2(p - y)p(1 - p)| over training points at the initial weights."""
    r = runs["mse"]
    theta0 = theta_at(r, 0)
    p, y = train_outputs(r, 0), r.data.y_train
    grads = point_gradients(r.model, r.data.X_train, y, theta0)
    return float(np.max(np.abs(grads - np.abs(2.0 * (p - y) * p * (1.0 - p)))))


def brier_identity(runs) -> float:
    """|MSE run's final validation loss - mean (p - y)^2 on the validation points|."""
    r = runs["mse"]
    p = outputs(r.model, r.data.X_val)[:, 0]
    return abs(final(r, "val_loss") - float(np.mean((p - r.data.y_val) ** 2)))


def first_epoch_grad_ratio(runs) -> float:
    return at_epoch(runs["mse"], "grad_norm", 1) / at_epoch(runs["bce"], "grad_norm", 1)


def wrong_side_grad_ratio(runs) -> float:
    """On the points saturated on the wrong side at the start: mean |dL/dz|, BCE / MSE."""
    r = runs["bce"]
    wrong = wrong_side(r, 0)
    if not wrong.any():
        return math.nan
    theta0 = theta_at(r, 0)
    X, y = r.data.X_train[wrong], r.data.y_train[wrong]
    bce = point_gradients(r.model, X, y, theta0, "bce")
    mse = point_gradients(r.model, X, y, theta0, "mse")
    return float(np.mean(bce) / np.mean(mse))


def same_start(runs) -> float:
    a, b = runs["mse"], runs["bce"]
    same_data = all(np.array_equal(getattr(a.data, f), getattr(b.data, f))
                    for f in ("X_train", "y_train", "X_val", "y_val"))
    if not same_data:
        return math.inf
    return float(np.max(np.abs(theta_at(a, 0) - theta_at(b, 0))))




# ----------------------------------------------------------------------------------------
# One neuron, two parameters: the surfaces


WRONG_SIDE = np.array([-10.0, 0.0])
"""(w, b) of a one-neuron model confidently on the wrong side (class 1 lies at x = +1)."""


def slope_at(runs, name: str, theta=WRONG_SIDE) -> float:
    r = runs[name]
    return surface_slope(r.model, theta, r.data.X_train, r.data.y_train)


def surface_height(runs, name: str, theta=WRONG_SIDE) -> float:
    r = runs[name]
    return float(loss_at(r.model, theta, r.data.X_train, r.data.y_train)[0])


def accuracy_from(name: str, theta=WRONG_SIDE):
    """Final validation accuracy of the run's configuration trained from ``theta``."""

    def measure(runs) -> float:
        _, history = train_from(runs[name], theta)
        return float(history["val_accuracy"].iloc[-1]) if len(history) else math.nan

    return measure


def along_w(runs, name: str, ws) -> np.ndarray:
    r = runs[name]
    thetas = np.column_stack([ws, np.zeros(len(ws))])
    return loss_at(r.model, thetas, r.data.X_train, r.data.y_train)


def mse_bump_above_chord(runs) -> float:
    """Along b = 0: loss at w = -10 minus the chord's midpoint between w = -20 and w = 0."""
    left, mid, right = along_w(runs, THIS, [-20.0, -10.0, 0.0])
    return float(mid - (left + right) / 2)


def worst_convexity_violation(runs) -> float:
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


def linear_far_out(runs) -> float:
    """|rise from w = -20 to -30 / rise from -10 to -20 - 1| along b = 0 (quadratic: 2/3)."""
    a, b, c = along_w(runs, THIS, [-10.0, -20.0, -30.0])
    return float(abs((c - b) / (b - a) - 1.0))


# ----------------------------------------------------------------------------------------
# The loss is not the metric


def best_loss_epoch(runs) -> float:
    h = runs[THIS].history
    return float(h["epoch"].iloc[int(h["val_loss"].to_numpy().argmin())])


def val_loss_rise(runs) -> float:
    h = runs[THIS].history
    return final(runs[THIS], "val_loss") / float(h["val_loss"].min())


def accuracy_at_best_loss(runs) -> float:
    """Validation accuracy at the epoch of lowest validation loss."""
    h = runs[THIS].history
    return float(h["val_accuracy"].iloc[int(h["val_loss"].to_numpy().argmin())])


def accuracy_change_since_best_loss(runs) -> float:
    """Final validation accuracy − validation accuracy at the epoch of lowest validation
    loss."""
    return final(runs[THIS], "val_accuracy") - accuracy_at_best_loss(runs)


def accuracy_move_since_best_loss(runs) -> float:
    return abs(accuracy_change_since_best_loss(runs))


def wrong_points_loss_share(runs) -> float:
    r = runs[THIS]
    X, y = r.data.X_val, r.data.y_val
    p = outputs(r.model, X)[:, 0]
    per_point = losses.get("bce").per_sample(y, p)
    wrong = (p > 0.5) != (y == 1)
    return float(per_point[wrong].sum() / per_point.sum())


# ----------------------------------------------------------------------------------------
# Linear output + BCE


def diverged_in_epoch(runs) -> float:
    d = runs[THIS].divergence
    return float(d["epoch"]) if d else math.inf


def diverged_outside_domain(runs) -> float:
    d = runs[THIS].divergence
    return 1.0 if d and d["reason"] == "prediction outside the loss's domain" else 0.0


# ----------------------------------------------------------------------------------------
# Hinge


def margins(r) -> np.ndarray:
    """s * score for each training point, s = 2y - 1."""
    return (2.0 * r.data.y_train - 1.0) * train_outputs(r)


def sign_accuracy(runs) -> float:
    r = runs[THIS]
    if not finished(r):
        return math.nan
    score = outputs(r.model, r.data.X_val)[:, 0]
    return float(np.mean((score > 0) == (r.data.y_val == 1)))


def hinge_uses_plus_minus_one(runs) -> float:
    """|reported validation loss - mean max(0, 1 - s * score)| with s = 2y - 1."""
    r = runs[THIS]
    score = outputs(r.model, r.data.X_val)[:, 0]
    s = 2.0 * r.data.y_val - 1.0
    return abs(final(r, "val_loss") - float(np.mean(np.maximum(0.0, 1.0 - s * score))))


def beyond_margin_share(runs) -> float:
    r = runs[THIS]
    return float(np.mean(margins(r) >= 1.0)) if finished(r) else math.nan


def beyond_margin_gradient(runs) -> float:
    r = runs[THIS]
    beyond = margins(r) >= 1.0
    if not beyond.any():
        return math.nan
    return float(np.max(point_gradients(r.model, r.data.X_train[beyond],
                                        r.data.y_train[beyond])))


def hinge_grad_at(activation: str, z: float) -> float:
    """|d hinge / dz| for a class-1 point whose output's pre-activation is z."""
    objective = Objective.build("binary", activation, "hinge", np.array([1]))
    _, dz = anatomy.output_gradient(objective, np.array([[z]]))
    return float(abs(dz[0, 0]))


# ----------------------------------------------------------------------------------------
# Softmax on a spiral


def probability_sum_error(runs) -> float:
    r = runs[THIS]
    p = outputs(r.model, r.data.X_val)
    return float(np.max(np.abs(p.sum(axis=1) - 1.0)))


def true_class_probability(epoch: int | None):
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


def true_line(x) -> np.ndarray:
    return datasets.OUTLIER_SLOPE * np.asarray(x) + datasets.OUTLIER_INTERCEPT


def offset_from_line(name: str, absolute: bool):
    """Mean (absolute) vertical offset of the fitted curve from the true line over x in
    [-2.5, 2.5]."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        gap = outputs(r.model, LINE_X[:, None])[:, 0] - true_line(LINE_X)
        return float(np.mean(np.abs(gap) if absolute else gap))

    return measure


def rmse(r, inliers_only: bool, train: bool = False) -> float:
    """RMSE at the final weights on the validation (or training) points, or their inliers."""
    d = r.data
    X, y = (d.X_train, d.y_train) if train else (d.X_val, d.y_val)
    keep = (y - true_line(X[:, 0]) < OUTLIER_GAP) if inliers_only else np.ones(len(y), bool)
    e = outputs(r.model, X[keep])[:, 0] - y[keep]
    return float(np.sqrt(np.mean(e * e)))


def rmse_gap(better: str, worse: str, inliers_only: bool, train: bool = False):
    return lambda runs: (rmse(runs[worse], inliers_only, train)
                         - rmse(runs[better], inliers_only, train))


def outlier_pull(name: str):
    """Mean |dL/dp| per outlier in the training set at the final weights."""

    def measure(runs) -> float:
        r = runs[name]
        X, y = r.data.X_train, r.data.y_train
        far = y - true_line(X[:, 0]) >= OUTLIER_GAP
        if not far.any():
            return math.nan
        return float(np.mean(point_gradients(r.model, X[far], y[far])))

    return measure


# ----------------------------------------------------------------------------------------
# Imbalanced classes


def majority_share(runs) -> float:
    return float(np.mean(runs[THIS].data.y_val == 0))


def easy_gradient_ratio(label: int, easy: float = 0.9):
    """At focal's final weights, on easy training points of class ``label`` (p_t > easy):
    sum of focal's |dL/dz| over sum of cross-entropy's."""

    def measure(runs) -> float:
        r = runs[THIS]
        X, y = r.data.X_train, r.data.y_train
        p = train_outputs(r)
        p_t = np.where(y == 1, p, 1.0 - p)
        chosen = (y == label) & (p_t > easy)
        if not chosen.any():
            return math.nan
        focal = point_gradients(r.model, X[chosen], y[chosen])
        bce = point_gradients(r.model, X[chosen], y[chosen], loss="bce")
        return float(focal.sum() / bce.sum())

    return measure


def minority_recall(name: str, threshold: float = 0.5):
    def measure(runs) -> float:
        r = runs[name]
        return recall(outputs(r.model, r.data.X_val), r.data.y_val, 1, threshold)

    return measure


def alpha_recall_gain(runs) -> float:
    """Minority recall (threshold 0.5) of focal with alpha = 0.9 minus that of this run (the
    same initial weights and batches)."""
    return minority_recall("alpha")(runs) - minority_recall(THIS)(runs)


# ----------------------------------------------------------------------------------------
# Counts


COUNT_X = np.linspace(-2.5, 2.5, 101)


def true_rate(x) -> np.ndarray:
    return np.minimum(np.exp(0.8 * np.asarray(x) + 1.0), datasets.MAX_POISSON_RATE)


def lowest_prediction(name: str):
    def measure(runs) -> float:
        r = runs[name]
        return float(np.min(outputs(r.model, COUNT_X[:, None]))) if finished(r) else math.nan

    return measure


def rate_error(runs) -> float:
    r = runs[THIS]
    if not finished(r):
        return math.nan
    fitted = outputs(r.model, COUNT_X[:, None])[:, 0]
    return float(np.max(np.abs(fitted / true_rate(COUNT_X) - 1.0)))


def spread_ratio(runs) -> float:
    """Std of the counts for x > 1 over their std for x < -1 (all points of the run)."""
    d = runs[THIS].data
    x = np.concatenate([d.X_train[:, 0], d.X_val[:, 0]])
    y = np.concatenate([d.y_train, d.y_val])
    return float(np.std(y[x > 1]) / np.std(y[x < -1]))


# ----------------------------------------------------------------------------------------
# What the outputs estimate: calibration, overconfidence, quantiles, learned noise


def validation_probabilities(r) -> tuple[np.ndarray, np.ndarray]:
    """(final outputs (n,) of a one-output classifier on its validation points, labels)."""
    if not finished(r):
        raise ValueError("the run stopped before its last epoch")
    return outputs(r.model, r.data.X_val)[:, 0], r.data.y_val


def ece(name: str):
    def measure(runs) -> float:
        return calibration.expected_calibration_error(*validation_probabilities(runs[name]))

    return measure


def brier(name: str):
    def measure(runs) -> float:
        return calibration.brier_score(*validation_probabilities(runs[name]))

    return measure


def overconfidence(name: str):
    def measure(runs) -> float:
        return calibration.overconfidence(*validation_probabilities(runs[name]))

    return measure


LABEL_FREQUENCY = 0.3
"""The share of ones in the labels on which ``best_constant`` minimises a loss."""


def best_constant(loss: str) -> float:
    """The constant prediction p in [0, 1] (grid step 0.001) that minimises a loss's mean over
    labels with a share 0.3 of ones: the true frequency for a proper scoring rule."""
    y = np.r_[np.ones(3), np.zeros(7)]
    grid = np.linspace(0.0, 1.0, 1001)
    loss_obj = losses.get(loss)
    with np.errstate(all="ignore"):
        values = np.array([loss_obj.value(y, np.full(len(y), p)) for p in grid])
    return float(grid[np.nanargmin(values)])


def validation_reliability(r) -> calibration.ReliabilityOverTraining:
    return calibration.reliability_over_training(r.model, r.data.X_val, r.data.y_val)


def lowest_ece_epoch(runs) -> float:
    rel = validation_reliability(runs[THIS])
    return float(rel.epochs[int(np.nanargmin(rel.ece))])


def ece_growth(runs) -> float:
    """Final validation ECE / the lowest over the snapshots."""
    rel = validation_reliability(runs[THIS])
    return float(rel.ece[-1] / np.nanmin(rel.ece))


def training_ece(runs) -> float:
    r = runs[THIS]
    p = outputs(r.model, r.data.X_train)[:, 0]
    return calibration.expected_calibration_error(p, r.data.y_train)


ESTIMATE_X = np.linspace(-2.4, 2.4, 97)
"""Where a fitted curve is compared with the true mean or quantile (inside the data's
x range, [-2.5, 2.5])."""


def truth(r, what: str) -> np.ndarray:
    c = r.config
    if what == "mean":
        curve = datasets.true_mean(c.dataset, ESTIMATE_X, c.noise)
    else:
        curve = datasets.true_quantile(c.dataset, ESTIMATE_X, float(what), c.noise)
    if curve is None:
        raise ValueError(f"the dataset {c.dataset!r} has no known true {what}")
    return curve


def distance_to(name: str, what: str):
    """Mean |fitted curve − true mean (what="mean") or true quantile (what="0.9")| over
    x in [-2.4, 2.4], at the final weights."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        fitted = outputs(r.model, ESTIMATE_X[:, None])[:, 0]
        return float(np.mean(np.abs(fitted - truth(r, what))))

    return measure


def share_below(name: str):
    """Share of validation targets at or below the final fit."""

    def measure(runs) -> float:
        r = runs[name]
        if not finished(r):
            return math.nan
        return calibration.quantile_coverage(r.data.y_val,
                                             outputs(r.model, r.data.X_val)[:, 0])

    return measure


def sigma_coverage(runs) -> float:
    """Share of validation targets inside mean ± 2σ of the final Gaussian NLL model."""
    r = runs[THIS]
    mean, sigma = r.model.predict(r.data.X_val).T
    return calibration.interval_coverage(r.data.y_val, mean - 2 * sigma, mean + 2 * sigma)


def sigma_at(r, x) -> np.ndarray:
    return r.model.predict(np.asarray(x, float)[:, None])[:, 1]


def sigma_growth(runs) -> float:
    """Mean learned σ for |x| in [2, 2.4] over mean σ for |x| ≤ 0.25."""
    r = runs[THIS]
    edge = np.r_[np.linspace(-2.4, -2.0, 9), np.linspace(2.0, 2.4, 9)]
    return float(np.mean(sigma_at(r, edge)) / np.mean(sigma_at(r, np.linspace(-0.25, 0.25,
                                                                                   11))))


def sigma_error(runs) -> float:
    """|median over x in [-2.4, 2.4] of learned σ / true σ − 1|."""
    r = runs[THIS]
    truth = datasets.heteroscedastic_sigma(ESTIMATE_X, r.config.noise)
    return float(abs(np.median(sigma_at(r, ESTIMATE_X) / truth) - 1.0))


def band_coverage(runs) -> float:
    """Share of validation targets between the τ = 0.1 and τ = 0.9 fits."""
    low, high = runs["q10"], runs["q90"]
    X, y = low.data.X_val, low.data.y_val
    return calibration.interval_coverage(y, outputs(low.model, X)[:, 0],
                                         outputs(high.model, X)[:, 0])
