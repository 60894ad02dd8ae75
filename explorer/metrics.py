"""The numbers people report, as opposed to the loss the network is trained on.

Two kinds: the per-epoch columns of fit's history (``names``, ``sums``, ``finish``), and
numbers computed once from a final model for binary problems: precision, recall, F1 and
balanced accuracy at a decision threshold, the precision-recall curve and average precision
(``binary_scores``, ``precision_recall_curve``, ``average_precision``, ``binary_report``).
The history keeps its columns (accuracy; RMSE and MAE): the imbalance numbers are not added
to it.
"""

from __future__ import annotations

import numpy as np

from explorer.objective import Objective, check_threshold

Array = np.ndarray

METRICS = {
    "binary": ("accuracy",),
    "multiclass": ("accuracy",),
    "regression": ("rmse", "mae"),
    "counts": ("rmse", "mae"),
}
LABELS = {"accuracy": "Accuracy", "rmse": "RMSE", "mae": "MAE"}
IN_SENTENCE = {"accuracy": "accuracy", "rmse": "RMSE", "mae": "MAE"}
"""The metrics' names inside a phrase ("train accuracy", "validation RMSE")."""
CLASSIFICATION = ("binary", "multiclass")


def names(problem: str) -> tuple[str, ...]:
    """Metric columns reported for a problem type."""
    return METRICS[problem]


def sums(objective: Objective, outputs: Array, targets: Array) -> Array:
    """Per-batch sums the epoch totals are built from, shape (len(names(problem)),).

    outputs: (n, k) network outputs; targets: class labels (n,) for classification, floats
    (n, k) otherwise. Classes are decided by the objective's rule.
    """
    if objective.problem in CLASSIFICATION:
        return np.array([np.count_nonzero(objective.decide(outputs) == targets)], float)
    err = objective.point(outputs) - targets
    k = err.shape[1]
    return np.array([np.sum(err * err) / k, np.sum(np.abs(err)) / k])


def finish(problem: str, totals: Array, n: int) -> Array:
    """Turn summed totals over n samples into the reported metrics."""
    means = totals / max(n, 1)
    if problem in CLASSIFICATION:
        return means
    return np.array([np.sqrt(means[0]), means[1]])


def primary_many(objective: Objective, outputs: Array) -> Array:
    """The first metric (accuracy, or RMSE) of each of c parameter sets: outputs (c, n, k)
    on the objective's own targets -> (c,); NaN where an output is NaN."""
    targets = objective.labels
    if objective.problem in CLASSIFICATION:
        accuracy = (objective.decide(outputs) == targets[None, :]).mean(axis=1)
        return np.where(np.isnan(outputs).any(axis=(1, 2)), np.nan, accuracy)
    err = objective.point(outputs) - targets[None]
    return np.sqrt(np.mean(err * err, axis=(1, 2)))


def compute(objective: Objective, outputs: Array, targets=None) -> dict:
    """All metrics at once, e.g. {'accuracy': 0.93}; targets default to the objective's."""
    outputs = np.asarray(outputs, float)
    outputs = outputs.reshape(len(outputs), -1)
    labels = objective.labels if targets is None else objective.with_targets(targets).labels
    values = finish(objective.problem, sums(objective, outputs, labels), len(outputs))
    return dict(zip(names(objective.problem), values.tolist()))


# ----------------------------------------------------------------------------------------
# Binary problems: the numbers imbalance calls for, from a final model


def _binary_labels(labels, n: int) -> Array:
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != n or not np.isin(labels, (0, 1)).all():
        raise ValueError("binary labels must be 0 or 1, one per score")
    return labels.astype(np.int64)


def _scores(scores) -> Array:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 1:
        raise ValueError(f"binary scores must be one number per point, shape (n,); got "
                         f"{scores.shape}")
    return scores


def confusion(scores, labels, threshold: float = 0.5) -> dict[str, int]:
    """Counts tp, fp, fn, tn when a point is called class 1 where score > threshold (the
    app's decision rule). scores (n,) or (n, 1), labels (n,) in {0, 1}."""
    scores = _scores(scores)
    labels = _binary_labels(labels, len(scores))
    called = scores > threshold
    positive = labels == 1
    return {"tp": int(np.sum(called & positive)), "fp": int(np.sum(called & ~positive)),
            "fn": int(np.sum(~called & positive)), "tn": int(np.sum(~called & ~positive))}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def binary_scores(scores, labels, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and balanced accuracy at a decision threshold.

    Formula: precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2 tp / (2 tp + fp + fn),
    balanced accuracy = (recall + tn / (tn + fp)) / 2. A ratio with nothing to count (no point
    called class 1, for precision) is NaN, not 0. Also reports ``positive_rate``, the share
    of points called class 1.
    """
    c = confusion(scores, labels, threshold)
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    n = tp + fp + fn + tn
    recall = _ratio(tp, tp + fn)
    specificity = _ratio(tn, tn + fp)
    return {"accuracy": _ratio(tp + tn, n), "precision": _ratio(tp, tp + fp),
            "recall": recall, "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "balanced_accuracy": (recall + specificity) / 2,
            "positive_rate": _ratio(tp + fp, n)}


def precision_recall_curve(scores, labels) -> tuple[Array, Array, Array]:
    """(precision, recall, thresholds) over every cut of the scores, as scikit-learn does it.

    At threshold t the points with score >= t are called class 1 (scikit-learn's convention;
    the app's own rule is score > threshold, which differs only at ties). thresholds (m,)
    are the distinct scores in increasing order; precision and recall are (m + 1,), recall
    decreasing, and the last point (1, 0) closes the curve (no point called class 1). Works
    for any score that orders the points (a probability or a margin score). ValueError when
    there is no class-1 point.
    """
    scores = _scores(scores)
    labels = _binary_labels(labels, len(scores))
    if not labels.any():
        raise ValueError("a precision-recall curve needs at least one class-1 point")
    order = np.argsort(scores, kind="mergesort")[::-1]
    sorted_scores, sorted_labels = scores[order], labels[order]
    # the last index of each run of equal scores: every point down to it is called class 1
    cuts = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tps = np.cumsum(sorted_labels)[cuts]
    fps = cuts + 1 - tps
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return (np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0],
            sorted_scores[cuts][::-1].copy())


def average_precision(scores, labels) -> float:
    """Area under the precision-recall steps: sum over cuts of (R_n - R_{n-1}) P_n (no
    interpolation, as scikit-learn). The share of class-1 points for a random score, 1 for a
    perfect one."""
    precision, recall, _ = precision_recall_curve(scores, labels)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def binary_report(model, X, y, threshold: float | None = None) -> dict[str, float]:
    """``binary_scores`` and ``average_precision`` of a binary model on (X, y).

    threshold: None uses the model's own (its override, else 0.5 for a probability, 0 for a
    margin score). The scores are the model's single output (a probability or a score).
    """
    if model.problem != "binary":
        raise ValueError(f"precision and recall here are for binary problems; this model "
                         f"solves {model.problem}")
    threshold = model.threshold if threshold is None else check_threshold("binary", threshold)
    scores = model.predict(X)
    labels = model.objective(y).labels
    report = binary_scores(scores, labels, threshold)
    report["threshold"] = float(threshold)
    report["average_precision"] = (average_precision(scores, labels) if labels.any()
                                   else float("nan"))
    return report
