"""The numbers people report, as opposed to the loss the network is trained on."""

from __future__ import annotations

import numpy as np

from explorer.network import decide

Array = np.ndarray

METRICS = {
    "binary": ("accuracy",),
    "multiclass": ("accuracy",),
    "regression": ("rmse", "mae"),
    "counts": ("rmse", "mae"),
}
LABELS = {"accuracy": "Accuracy", "rmse": "RMSE", "mae": "MAE"}
HIGHER_IS_BETTER = {"accuracy": True, "rmse": False, "mae": False}


def names(problem: str) -> tuple[str, ...]:
    """Metric columns reported for a problem type."""
    return METRICS[problem]


def sums(problem: str, outputs: Array, targets: Array, threshold: float) -> Array:
    """Per-batch sums the epoch totals are built from, shape (len(names(problem)),).

    outputs: (n, k) network outputs; targets: class labels (n,) for classification,
    floats (n, k) otherwise.
    """
    if problem in ("binary", "multiclass"):
        return np.array([np.count_nonzero(decide(outputs, threshold) == targets)], float)
    err = outputs - targets
    k = err.shape[1]
    return np.array([np.sum(err * err) / k, np.sum(np.abs(err)) / k])


def finish(problem: str, totals: Array, n: int) -> Array:
    """Turn summed totals over n samples into the reported metrics."""
    means = totals / max(n, 1)
    if problem in ("binary", "multiclass"):
        return means
    return np.array([np.sqrt(means[0]), means[1]])


def compute(problem: str, outputs: Array, targets: Array, threshold: float = 0.5) -> dict:
    """All metrics for a problem at once, e.g. {'accuracy': 0.93}."""
    outputs = np.asarray(outputs, float)
    outputs = outputs.reshape(len(outputs), -1)
    targets = np.asarray(targets)
    if problem not in ("binary", "multiclass"):
        targets = targets.astype(float).reshape(outputs.shape)
    values = finish(problem, sums(problem, outputs, targets, threshold), len(outputs))
    return dict(zip(names(problem), values.tolist()))
