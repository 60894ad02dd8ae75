"""The claim machinery: comparisons, failure on NaN, lazy shared runs, helper measurements."""

import math

import numpy as np
import pytest

from explorer import claims, experiment
from explorer.claims import THIS, Claim, Runs, at_least, at_most
from explorer.config import default_for

# a run that takes a few hundredths of a second
TINY = default_for("regression").replace(dataset="outliers", hidden=(), epochs=10,
                                         n_samples=100)


def test_a_claim_compares_its_measurement_with_its_bound():
    runs = Runs({})
    assert at_least(1.0, "x ≥ 1", lambda r: 1.0).check(runs).passed
    assert not at_least(1.0, "x ≥ 1", lambda r: 0.99).check(runs).passed
    assert at_most(1.0, "x ≤ 1", lambda r: 1.0).check(runs).passed
    assert not Claim("x < 1", lambda r: 1.0, "<", 1.0).check(runs).passed
    assert Claim("x > 1", lambda r: 2.0, ">", 1.0).check(runs).passed


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_measurement_that_cannot_be_made_fails_the_claim(value):
    result = at_most(1.0, "x ≤ 1", lambda r: value).check(Runs({}), "fake", 3)
    assert not result.passed
    assert (result.preset, result.seed, result.op, result.bound) == ("fake", 3, "<=", 1.0)
    assert "FAILS" in str(result)


def test_a_measurement_that_raises_fails_the_claim_and_says_why():
    def broken(runs):
        raise ValueError("epoch 7 is not a snapshot")

    result = at_least(0.0, "x ≥ 0", broken).check(Runs({}))
    assert not result.passed and math.isnan(result.value)
    assert "epoch 7" in result.error and "epoch 7" in str(result)


def test_an_unknown_comparison_is_refused():
    with pytest.raises(ValueError, match="op must be one of"):
        Claim("x ~ 1", lambda r: 1.0, "~", 1.0)


def test_results_are_small_frozen_records():
    result = at_least(0.0, "x ≥ 0", lambda r: 1.0).check(Runs({}))
    with pytest.raises(AttributeError):
        result.passed = False


def test_runs_train_on_first_use_only_and_share_a_cache(monkeypatch):
    calls = []

    def fake_run(config):
        calls.append(config.key())
        return f"run of {config.loss}"

    monkeypatch.setattr(claims, "run", fake_run)
    cache = {}
    runs = Runs({THIS: TINY, "same": TINY, "huber": TINY.replace(loss="huber")}, cache)
    assert calls == []
    assert runs[THIS] == runs["same"] == "run of mse"
    assert runs["huber"] == "run of huber"
    again = Runs({THIS: TINY}, cache)
    assert again[THIS] == "run of mse"
    assert len(calls) == 2 and len(cache) == 2
    assert set(runs) == {THIS, "same", "huber"} and len(runs) == 3


def test_train_from_reproduces_the_run_it_starts_from():
    r = experiment.run(TINY)
    model, history = claims.train_from(r)
    np.testing.assert_array_equal(model.theta, r.model.theta)
    np.testing.assert_array_equal(history["val_loss"], r.history["val_loss"])


def test_train_from_starts_where_it_is_told():
    r = experiment.run(TINY.replace(epochs=10))
    start = np.array([3.0, -2.0])
    model, history = claims.train_from(r, start, loss="mae")
    assert model.loss == "mae"
    np.testing.assert_array_equal(model.snapshots[0], start)


def test_history_helpers_give_nan_when_the_run_stopped_early():
    broken = experiment.run(default_for("binary").replace(output_activation="linear"))
    assert broken.divergence is not None
    assert math.isnan(claims.final(broken, "loss"))
    assert math.isnan(claims.at_epoch(broken, "loss", 5))


def test_surface_slope_matches_the_trainers_gradient():
    r = experiment.run(TINY)
    theta = np.array([0.5, 0.5])
    slope = claims.surface_slope(r.model, theta, r.data.X_train, r.data.y_train)
    # MSE of a line: gradient (2/n) X^T (X theta - y) with X = [x, 1]
    X = np.column_stack([r.data.X_train[:, 0], np.ones(len(r.data.X_train))])
    exact = 2 * X.T @ (X @ theta - r.data.y_train) / len(X)
    assert slope == pytest.approx(np.linalg.norm(exact), rel=1e-6)


def test_recall_counts_the_chosen_class_only():
    scores = np.array([0.9, 0.1, 0.6, 0.3])
    y = np.array([1, 1, 0, 0])
    assert claims.recall(scores, y, 1, 0.5) == 0.5
    assert claims.recall(scores, y, 0, 0.5) == 0.5
    assert claims.recall(scores, y, 1, 0.05) == 1.0
    assert math.isnan(claims.recall(scores, np.zeros(4, int), 1, 0.5))
