"""Metrics: the history's columns for learned-scale losses, and the numbers imbalance needs
(precision, recall, F1, balanced accuracy, the precision-recall curve), pinned by hand."""

import numpy as np
import pytest

import explorer
from explorer import metrics
from explorer.objective import Objective

SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
LABELS = np.array([1, 1, 0, 1, 0, 0, 1, 0])


def test_confusion_and_binary_scores_pinned():
    # at 0.5: called 1 = the first four -> tp 3 (0.9, 0.8, 0.6), fp 1 (0.7), fn 1 (0.2), tn 3
    assert metrics.confusion(SCORES, LABELS) == {"tp": 3, "fp": 1, "fn": 1, "tn": 3}
    scores = metrics.binary_scores(SCORES, LABELS)
    assert scores["accuracy"] == pytest.approx(6 / 8)
    assert scores["precision"] == pytest.approx(3 / 4)
    assert scores["recall"] == pytest.approx(3 / 4)
    assert scores["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert scores["balanced_accuracy"] == pytest.approx((3 / 4 + 3 / 4) / 2)
    assert scores["positive_rate"] == pytest.approx(4 / 8)
    # at 0.15: 7 called 1 -> tp 4, fp 3, fn 0, tn 1
    low = metrics.binary_scores(SCORES, LABELS, threshold=0.15)
    assert low["precision"] == pytest.approx(4 / 7) and low["recall"] == 1.0
    assert low["balanced_accuracy"] == pytest.approx((1.0 + 1 / 4) / 2)
    # the app's rule is score > threshold: a score exactly at the threshold is class 0
    assert metrics.confusion([0.5], [1], 0.5) == {"tp": 0, "fp": 0, "fn": 1, "tn": 0}


def test_undefined_ratios_are_nan_not_zero():
    nobody = metrics.binary_scores(SCORES, LABELS, threshold=1.0)
    assert np.isnan(nobody["precision"]) and nobody["recall"] == 0.0 and nobody["f1"] == 0.0
    no_positives = metrics.binary_scores([0.2, 0.7], [0, 0])  # tp 0, fp 1, fn 0, tn 1
    assert np.isnan(no_positives["recall"]) and np.isnan(no_positives["balanced_accuracy"])
    assert no_positives["precision"] == 0.0 and no_positives["f1"] == 0.0


def test_imbalance_makes_accuracy_and_balanced_accuracy_disagree():
    # 95 negatives, 5 positives, a model that calls everything class 0
    labels = np.r_[np.zeros(95, int), np.ones(5, int)]
    scores = metrics.binary_scores(np.full(100, 0.1), labels)
    assert scores["accuracy"] == pytest.approx(0.95)
    assert scores["balanced_accuracy"] == pytest.approx(0.5)
    assert scores["recall"] == 0.0


def test_precision_recall_curve_pinned():
    precision, recall, thresholds = metrics.precision_recall_curve(SCORES, LABELS)
    np.testing.assert_allclose(thresholds, np.sort(SCORES))
    # from the highest threshold down: (tp, called) = (1,1) (2,2) (2,3) (3,4) (3,5) (3,6)
    # (4,7) (4,8); the curve runs from the lowest threshold, then closes at (1, 0)
    np.testing.assert_allclose(precision, [4 / 8, 4 / 7, 3 / 6, 3 / 5, 3 / 4, 2 / 3, 1, 1, 1])
    np.testing.assert_allclose(recall, [1, 1, 3 / 4, 3 / 4, 3 / 4, 2 / 4, 2 / 4, 1 / 4, 0])
    # AP = sum (R_n - R_{n-1}) P_n = 1/4 * 1 + 1/4 * 1 + 1/4 * 3/4 + 1/4 * 4/7
    assert metrics.average_precision(SCORES, LABELS) == pytest.approx(
        0.25 * (1 + 1 + 3 / 4 + 4 / 7))


def test_precision_recall_curve_handles_ties_and_margin_scores():
    # ties: one cut per distinct score; any real score that orders the points works
    scores, labels = np.array([2.0, 2.0, -1.0, -1.0, -3.0]), np.array([1, 0, 1, 0, 0])
    precision, recall, thresholds = metrics.precision_recall_curve(scores, labels)
    np.testing.assert_allclose(thresholds, [-3.0, -1.0, 2.0])
    np.testing.assert_allclose(precision, [2 / 5, 2 / 4, 1 / 2, 1])
    np.testing.assert_allclose(recall, [1, 1, 1 / 2, 0])
    assert metrics.average_precision([0.1, 0.9], [0, 1]) == 1.0  # perfect ranking
    with pytest.raises(ValueError, match="at least one class-1"):
        metrics.precision_recall_curve([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.precision_recall_curve([0.1, 0.2], [0, 2])


def test_precision_recall_agree_with_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(labels, 1.0), 1)  # rounded: many ties
    precision, recall, thresholds = metrics.precision_recall_curve(scores, labels)
    sk_p, sk_r, sk_t = sk.precision_recall_curve(labels, scores)
    np.testing.assert_allclose(precision, sk_p)
    np.testing.assert_allclose(recall, sk_r)
    np.testing.assert_allclose(thresholds, sk_t)
    assert metrics.average_precision(scores, labels) == pytest.approx(
        sk.average_precision_score(labels, scores))
    called = (scores > 0.3).astype(int)
    ours = metrics.binary_scores(scores, labels, 0.3)
    assert ours["f1"] == pytest.approx(sk.f1_score(labels, called))
    assert ours["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(labels, called))
    assert ours["precision"] == pytest.approx(sk.precision_score(labels, called))


def test_binary_report_reads_the_model_and_its_threshold():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=80) > 0.8).astype(int)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=20, seed=0)
    report = metrics.binary_report(model, X, y)
    p = model.predict(X)
    assert report["threshold"] == 0.5
    assert report["recall"] == pytest.approx(metrics.binary_scores(p, y, 0.5)["recall"])
    assert report["average_precision"] == pytest.approx(metrics.average_precision(p, y))
    lower = metrics.binary_report(model, X, y, threshold=0.2)
    assert lower["recall"] >= report["recall"] and lower["threshold"] == 0.2
    moved, _ = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=20, seed=0,
                            threshold=0.2)
    assert metrics.binary_report(moved, X, y) == lower
    hinge, _ = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=5, seed=0,
                            output_activation="linear", loss="hinge")
    assert metrics.binary_report(hinge, X, y)["threshold"] == 0.0
    regression, _ = explorer.fit(X, X[:, 0], hidden=(2,), epochs=1)
    with pytest.raises(ValueError, match="binary problems"):
        metrics.binary_report(regression, X, y)


def test_history_metrics_of_a_learned_scale_read_the_mean():
    objective = Objective.build("regression", "linear", "gaussian_nll", [[1.0], [3.0]])
    outputs = np.array([[2.0, 5.0], [3.0, -4.0]])  # means 2, 3; the scales must not count
    values = metrics.compute(objective, outputs)
    assert values == pytest.approx({"rmse": np.sqrt(0.5), "mae": 0.5})
    many = metrics.primary_many(objective, np.stack([outputs, outputs + [[1.0, 0.0]]]))
    np.testing.assert_allclose(many, [np.sqrt(0.5), np.sqrt((4 + 1) / 2)])


def test_lowering_the_threshold_never_lowers_recall_but_can_raise_precision():
    """What the threshold slider's help says (ui/estimates): recall is monotone in the
    threshold, precision is not (it usually falls, but need not)."""
    scores, labels = np.array([0.9, 0.6, 0.4]), np.array([1, 0, 1])
    high, mid, low = (metrics.binary_scores(scores, labels, t) for t in (0.7, 0.5, 0.3))
    assert high["recall"] <= mid["recall"] <= low["recall"]
    assert mid["precision"] == pytest.approx(1 / 2) and low["precision"] == pytest.approx(2 / 3)
    rng = np.random.default_rng(0)
    s, y = rng.random(200), rng.integers(0, 2, 200)
    recalls = [metrics.binary_scores(s, y, t)["recall"] for t in np.linspace(1, 0, 41)]
    assert np.all(np.diff(recalls) >= 0)
    from pathlib import Path

    text = (Path(__file__).parent.parent / "explorer/ui/estimates.py").read_text()
    assert "precision usually does (not always)" in text and "lower precision." not in text
