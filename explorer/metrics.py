"""The numbers people report, as opposed to the loss the network is trained on."""

from __future__ import annotations

import numpy as np

from explorer.objective import Objective

Array = np.ndarray

METRICS = {
    "binary": ("accuracy",),
    "multiclass": ("accuracy",),
    "regression": ("rmse", "mae"),
    "counts": ("rmse", "mae"),
}
LABELS = {"accuracy": "Accuracy", "rmse": "RMSE", "mae": "MAE"}
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
    err = outputs - targets
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
    err = outputs - targets[None]
    return np.sqrt(np.mean(err * err, axis=(1, 2)))


def compute(objective: Objective, outputs: Array, targets=None) -> dict:
    """All metrics at once, e.g. {'accuracy': 0.93}; targets default to the objective's."""
    outputs = np.asarray(outputs, float)
    outputs = outputs.reshape(len(outputs), -1)
    labels = objective.labels if targets is None else objective.with_targets(targets).labels
    values = finish(objective.problem, sums(objective, outputs, labels), len(outputs))
    return dict(zip(names(objective.problem), values.tolist()))
