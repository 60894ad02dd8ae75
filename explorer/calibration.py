"""What the outputs estimate: calibration of probabilities, coverage of quantiles and intervals.

A classifier's outputs are *calibrated* when, among the points given probability p, a share
p is class 1 (binary), or, for several classes, when among the points whose top class gets
confidence c a share c is classified right (top-label calibration). Shown as a reliability
diagram: the outputs cut into equal-width bins on [0, 1]; per bin the mean predicted
probability against the observed frequency. Summed up by the expected calibration error

    Formula: ECE = sum over bins b of (n_b / n) |observed_b - predicted_b|

and by the Brier score, the mean squared error of the probabilities (a proper scoring rule:
it rewards calibration and sharpness together).

Only outputs that are probabilities can be calibrated: ``applies`` says which (problem,
output activation, loss) triples give them, and why the others do not. For regression the
counterpart is coverage: the share of targets below a predicted τ-quantile (should be τ),
or inside a predicted interval.

Shapes: binary probabilities (n,) or (n, 1), the probability of class 1; multi-class (n, k)
rows; labels (n,) integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer import losses, pairing
from explorer.network import Model, Workspace

Array = np.ndarray
BINS = 10
PROBABILITY_OUTPUT = {"binary": "sigmoid", "multiclass": "softmax"}
"""Losses whose optimum, through the output above, is the class probability itself."""


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's numbers: per bin of predicted probability, (bins,) each.

    ``predicted`` is the mean predicted probability in the bin and ``observed`` the share of
    class 1 there (binary) or of correct top-label answers (multi-class); both NaN for an
    empty bin. ``counts`` are the points per bin; ``edges`` (bins + 1,) the bin edges.
    ``kind`` is "binary" or "top-label".
    """

    edges: Array
    predicted: Array
    observed: Array
    counts: Array
    kind: str

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean of |observed - predicted|."""
        return _ece(self.predicted, self.observed, self.counts)


@dataclass(frozen=True)
class ReliabilityOverTraining:
    """Reliability at each snapshot of a run, for an animated diagram.

    epochs (S,); predicted, observed (S, bins) (NaN in empty bins); counts (S, bins); ece,
    brier and overconfidence (S,); edges (bins + 1,).
    """

    epochs: Array
    edges: Array
    predicted: Array
    observed: Array
    counts: Array
    ece: Array
    brier: Array
    overconfidence: Array
    kind: str


def _prepare(probabilities, labels, stacked: int = 0) -> tuple[Array, Array, str]:
    """(confidence (..., n), hit (..., n) as floats, kind) for binary or top-label
    calibration. probabilities (n,) / (n, 1) binary, (n, k) multi-class, after ``stacked``
    leading axes (snapshots)."""
    p = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels).reshape(-1)
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("these outputs are not probabilities (values outside [0, 1] or not "
                         "finite): calibration needs a sigmoid output on a binary problem or "
                         "a softmax output on a multi-class one (see calibration.applies)")
    if p.ndim == stacked + 2 and p.shape[-1] == 1:
        p = p[..., 0]
    if p.ndim == stacked + 1:
        if p.shape[-1] != len(labels):
            raise ValueError(f"{p.shape[-1]} probabilities do not match {len(labels)} labels")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("binary calibration needs labels 0 or 1")
        return p, np.broadcast_to(labels == 1, p.shape).astype(float), "binary"
    if p.ndim != stacked + 2 or p.shape[-2] != len(labels):
        raise ValueError(f"probabilities of shape {p.shape} do not match {len(labels)} labels")
    if np.any((labels < 0) | (labels >= p.shape[-1])):
        raise ValueError(f"labels must be classes 0..{p.shape[-1] - 1}")
    hit = (np.argmax(p, axis=-1) == labels).astype(float)
    return p.max(axis=-1), hit, "top-label"


def _bin_index(confidence: Array, bins: int) -> Array:
    """Bin of each confidence in [0, 1]: [0, 1/b], (1/b, 2/b], ..., (1 - 1/b, 1], as Guo et
    al. (2017) and scikit-learn's calibration_curve cut them."""
    return np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], confidence, side="left")


def _binned(confidence: Array, hit: Array, bins: int) -> tuple[Array, Array, Array]:
    """(predicted, observed, counts), (..., bins), for confidence and hit (..., n)."""
    if not (isinstance(bins, (int, np.integer)) and bins >= 1):
        raise ValueError(f"bins must be a whole number of at least 1; got {bins!r}")
    lead = confidence.shape[:-1]
    rows = int(np.prod(lead)) if lead else 1
    index = _bin_index(confidence, bins).reshape(rows, -1)
    index = index + bins * np.arange(rows)[:, None]  # one bincount for every row at once
    size = rows * bins

    def total(weights: Array) -> Array:
        return np.bincount(index.ravel(), weights.reshape(rows, -1).ravel(),
                           minlength=size).reshape(*lead, bins)

    counts = np.bincount(index.ravel(), minlength=size).reshape(*lead, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = total(confidence) / counts
        observed = total(hit) / counts
    return predicted, observed, counts


def _ece(predicted: Array, observed: Array, counts: Array) -> float:
    n = counts.sum()
    return float(np.nansum(counts * np.abs(observed - predicted)) / n) if n else float("nan")


def reliability(probabilities, labels, bins: int = BINS) -> Reliability:
    """The reliability diagram of probabilities against labels (see ``Reliability``).

    Binary: probabilities (n,) or (n, 1) of class 1, labels in {0, 1}. Multi-class: (n, k)
    rows, integer labels; the confidence is max_j p_j and a hit is argmax = label.
    ValueError for outputs outside [0, 1]: they are not probabilities.
    """
    confidence, hit, kind = _prepare(probabilities, labels)
    predicted, observed, counts = _binned(confidence, hit, bins)
    return Reliability(np.linspace(0.0, 1.0, bins + 1), predicted, observed, counts, kind)


def overconfidence(probabilities, labels) -> float:
    """Mean confidence minus accuracy: > 0 overconfident, < 0 under-confident.

    The confidence is the probability of the predicted class (max(p, 1 − p) for binary,
    max_j p_j for several classes); accuracy counts the prediction at 0.5 / argmax."""
    confidence, hit = _top_label(probabilities, labels, 0)
    return float(np.mean(confidence) - np.mean(hit))


def _top_label(probabilities, labels, stacked: int) -> tuple[Array, Array]:
    """(confidence, hit) of the predicted class, (..., n), binary or multi-class."""
    confidence, hit, kind = _prepare(probabilities, labels, stacked)
    if kind == "binary":
        positive = hit
        hit = ((confidence > 0.5) == (positive == 1)).astype(float)
        confidence = np.maximum(confidence, 1.0 - confidence)
    return confidence, hit


def expected_calibration_error(probabilities, labels, bins: int = BINS) -> float:
    """ECE = sum_b (n_b / n) |observed_b - predicted_b| over equal-width bins."""
    return reliability(probabilities, labels, bins).ece


def brier_score(probabilities, labels) -> float:
    """Mean squared error of the probabilities against the labels.

    Formula: binary mean_i (p_i - y_i)^2 (MSE on 0/1 labels); multi-class
    mean_i sum_j (p_ij - [j = y_i])^2 (Brier's original definition, from 0 to 2).
    """
    p = np.asarray(probabilities, dtype=float)
    _prepare(p, labels)  # validates
    labels = np.asarray(labels).reshape(-1)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim == 1:
        return float(np.mean((p - labels) ** 2))
    return float(np.mean(np.sum((p - losses.one_hot(labels.astype(np.int64), p.shape[1]))
                                ** 2, axis=1)))


def applies(problem: str, activation: str, loss: str,
            loss_params: dict | None = None) -> tuple[bool, str]:
    """(whether the outputs are probabilities worth calibrating, why in one or two sentences).

    True for a sigmoid output on a binary problem or a softmax on a multi-class one, trained
    with a proper loss (cross-entropy, or MSE, which is the Brier score there) or with focal
    loss (probabilities, but pulled towards 0.5), or with a class weight α (probabilities of
    a reweighted problem). False for scores (linear, tanh, margin losses), for outputs that
    are not a distribution, for regression and counts, and for invalid pairs.
    """
    if loss == losses.CUSTOM:
        return False, ("A typed formula is not known to be a proper scoring rule, so its "
                       "outputs are not read as calibrated probabilities here.")
    loss_obj = losses.get(loss, **(loss_params or {}))
    verdict = pairing.check(problem, activation, loss)
    if problem not in PROBABILITY_OUTPUT:
        return False, ("Calibration of probabilities is for classification: a regression "
                       "output is a number, not a probability. Its counterpart is coverage: "
                       "the share of targets below a predicted quantile, or inside a "
                       "predicted interval.")
    if verdict.verdict == "invalid":
        return False, f"{verdict.headline}: this pair does not give usable outputs."
    wanted = PROBABILITY_OUTPUT[problem]
    if activation != wanted:
        return False, _not_probabilities(problem, activation)
    if loss_obj.margin:
        return False, (f"{loss_obj.label} is a margin loss: its optimum is a score beyond the "
                       "margin, not the probability of a class, so squeezing it through "
                       f"{activation} does not give calibrated probabilities.")
    if loss == "focal":
        return True, ("Focal loss is not a proper scoring rule: (1 − p_t)^γ discounts "
                      "confident answers, so without α its optimum lies between the true "
                      "frequency and 0.5 (under-confident). A class weight α moves that "
                      "optimum up or down: it can land nearer to the true frequency or past "
                      "it, even across 0.5 (γ = 2, α = 0.75: 0.52 for a frequency of 0.3). "
                      "The outputs are probabilities, but not calibrated.")
    alpha = loss_obj.params.get("alpha")
    if alpha == 0.5:
        return True, ("α = 0.5 weighs both classes alike (it halves the loss): the optimum, "
                      "and so the calibration, is the unweighted one.")
    if alpha is not None:
        side = "above" if alpha > 0.5 else "below"
        return True, (f"The class weight α = {alpha:g} moves the optimum from the true "
                      "frequency q to αq / (αq + (1 − α)(1 − q)): the outputs are "
                      f"probabilities of a reweighted problem, {side} the observed "
                      "frequencies (remove_class_weight undoes it for cross-entropy).")
    if loss_obj.proper:
        what = ("the Brier score" if loss == "mse" else "the negative log-likelihood")
        return True, (f"{loss_obj.label} on {wanted} outputs is {what}, a proper scoring "
                      "rule: its optimum is the true class probability, so a well-trained "
                      "model is calibrated; overfitting (a long run on noisy labels) makes it "
                      "overconfident.")
    return False, (f"{loss_obj.label} is not a scoring rule for class probabilities: its "
                   "outputs need not match observed frequencies.")


def _not_probabilities(problem: str, activation: str) -> str:
    if activation == "sigmoid":  # multi-class
        return ("Independent sigmoids score each class on its own: the outputs need not sum "
                "to 1, so they are not a distribution over the classes.")
    if activation == "linear":
        return "A linear output is an unbounded score, not a probability."
    if activation == "tanh":
        return ("A tanh output lies in (−1, 1): a score around 0, not a probability (its "
                "sign decides the class).")
    if activation == "softmax":
        return "Softmax over a single output is always 1."
    return (f"A {activation} output is non-negative but unbounded (above 1 it is no "
            "probability).")


def reliability_over_training(model: Model, X, y, bins: int = BINS) -> ReliabilityOverTraining:
    """Reliability, ECE and Brier score at every snapshot of ``model`` on (X, y).

    ValueError (with the reason from ``applies``) when the model's outputs are not
    probabilities.
    """
    ok, reason = applies(model.problem, model.network.output_activation, model.loss,
                         model.loss_params)
    if not ok:
        raise ValueError(reason)
    objective = model.objective(y)
    X = np.asarray(X, dtype=float)
    snaps = np.asarray(model.snapshots, dtype=float)
    labels = objective.labels
    chunk = model.network.stack_size(len(X))  # snapshots per pass: memory bounded
    workspace = Workspace()  # the chunks' buffers, allocated once
    parts: list[tuple[Array, ...]] = []
    kind = "binary"
    for start in range(0, max(len(snaps), 1), chunk):
        with np.errstate(all="ignore"):
            z = model.network.pre_activations(snaps[start:start + chunk], X,
                                              workspace=workspace)
            p = objective.outputs(z)  # (c, n, k)
        confidence, hit, kind = _prepare(p, labels, stacked=1)
        predicted, observed, counts = _binned(confidence, hit, bins)
        ece = np.array([_ece(*row) for row in zip(predicted, observed, counts)])
        if kind == "binary":
            brier = np.mean((confidence - labels) ** 2, axis=-1)
        else:
            brier = np.mean(np.sum((p - losses.one_hot(labels, p.shape[-1])) ** 2, axis=-1),
                            axis=-1)
        top, top_hit = _top_label(p, labels, 1)
        parts.append((predicted, observed, counts, ece, brier,
                      top.mean(axis=-1) - top_hit.mean(axis=-1)))
    predicted, observed, counts, ece, brier, over = (np.concatenate(column)
                                                     for column in zip(*parts))
    return ReliabilityOverTraining(np.asarray(model.snapshot_epochs),
                                   np.linspace(0.0, 1.0, bins + 1), predicted, observed,
                                   counts, ece, brier, over, kind)


def reliability_work(n_params: int, n_points: int, snapshots: int) -> float:
    """Work of ``reliability_over_training``, in ``experiment.work_units``'s unit (one
    sample through one parameter, forward): every snapshot's forward pass over the points.

    Formula: snapshots x n_points x n_params. (The Calibration view runs it on the training
    and on the validation points: call it for each.)"""
    return float(snapshots) * n_points * n_params


def remove_class_weight(probabilities, alpha: float) -> Array:
    """Undo a class weight α on cross-entropy outputs: the probability q of the unweighted
    problem. Formula: q = (1 − α) p / ((1 − α) p + α (1 − p)) (the odds divided by
    α / (1 − α)). Exact for BCE's optimum; approximate for focal loss."""
    losses.class_weight(np.zeros(1), alpha)  # validates alpha
    p = np.asarray(probabilities, dtype=float)
    return (1 - alpha) * p / ((1 - alpha) * p + alpha * (1 - p))


# ----------------------------------------------------------------------------------------
# Regression: coverage of quantiles and intervals


def quantile_coverage(y, quantile) -> float:
    """Share of targets at or below a predicted quantile: near τ for a good τ-quantile."""
    y, quantile = _flat(y), _flat(quantile)
    return float(np.mean(y <= quantile))


def interval_coverage(y, lower, upper) -> float:
    """Share of targets inside [lower, upper]: near the nominal level for a good interval
    (0.8 for the 0.1 and 0.9 quantiles, 0.954 for mean ± 2σ of a Gaussian)."""
    y, lower, upper = _flat(y), _flat(lower), _flat(upper)
    return float(np.mean((y >= lower) & (y <= upper)))


def _flat(values) -> Array:
    return np.asarray(values, dtype=float).reshape(-1)


# ----------------------------------------------------------------------------------------
# One model, summed up; what a regression loss estimates


def scores(model: Model, X, y) -> dict[str, float] | None:
    """{"ECE": ..., "Brier": ...} of a classifier's final outputs on (X, y), or None when its
    outputs are not probabilities (``applies``) or not finite (a run that broke)."""
    ok, _ = applies(model.problem, model.network.output_activation, model.loss,
                    model.loss_params)
    if not ok or len(X) == 0:
        return None
    objective = model.objective(y)
    with np.errstate(all="ignore"):
        p = objective.outputs(model.network.pre_activations(model.theta,
                                                            np.asarray(X, dtype=float)))
    try:
        return {"ECE": expected_calibration_error(p, objective.labels),
                "Brier": brier_score(p, objective.labels)}
    except ValueError:
        return None


def estimand(loss: str, loss_params: dict | None = None) -> tuple[str, float | None]:
    """What the optimum of a regression loss estimates, as (name, τ).

    ("mean", None) for MSE, Poisson and the Gaussian NLL's location; ("median", 0.5) for MAE;
    ("0.9-quantile", 0.9) for pinball with τ = 0.9 (("median", 0.5) at τ = 0.5); ("", None)
    for the others (Huber and log-cosh land between the mean and the median, MSLE on a mean
    of log(1 + y)).
    """
    if loss in ("mse", "poisson", "gaussian_nll"):
        return "mean", None
    if loss == "mae":
        return "median", 0.5
    if loss == "pinball":
        tau = float(losses.get(loss, **(loss_params or {})).params["tau"])
        return ("median", 0.5) if tau == 0.5 else (f"{tau:g}-quantile", tau)
    return "", None
