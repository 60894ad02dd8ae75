"""Calibration and coverage: reliability bins, ECE and Brier pinned by hand, which outputs
are probabilities, and what the losses estimate on data whose answers are known."""

import numpy as np
import pytest

import explorer
from explorer import calibration, datasets, losses

P_BINARY = np.array([0.05, 0.1, 0.15, 0.12, 0.55, 0.9, 0.95, 1.0])
Y_BINARY = np.array([0, 0, 1, 0, 1, 1, 1, 1])
P_MULTI = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.1, 0.1, 0.8], [0.5, 0.45, 0.05]])
Y_MULTI = np.array([0, 1, 2, 0])


def test_binary_reliability_pinned():
    r = calibration.reliability(P_BINARY, Y_BINARY)
    assert r.kind == "binary"
    np.testing.assert_allclose(r.edges, np.linspace(0, 1, 11))
    # right-closed bins: 0.1 -> [0, 0.1], 0.9 -> (0.8, 0.9], 1.0 -> (0.9, 1]
    np.testing.assert_array_equal(r.counts, [2, 2, 0, 0, 0, 1, 0, 0, 1, 2])
    filled = r.counts > 0
    np.testing.assert_allclose(r.predicted[filled], [0.075, 0.135, 0.55, 0.9, 0.975])
    np.testing.assert_allclose(r.observed[filled], [0.0, 0.5, 1.0, 1.0, 1.0])
    assert np.all(np.isnan(r.predicted[~filled])) and np.all(np.isnan(r.observed[~filled]))
    # (2 x 0.075 + 2 x 0.365 + 0.45 + 0.1 + 2 x 0.025) / 8
    assert r.ece == pytest.approx(0.185)
    assert calibration.expected_calibration_error(P_BINARY, Y_BINARY) == pytest.approx(0.185)
    assert calibration.expected_calibration_error(P_BINARY[:, None], Y_BINARY) == (
        pytest.approx(0.185))
    assert calibration.brier_score(P_BINARY, Y_BINARY) == pytest.approx(0.9644 / 8)


def test_top_label_reliability_pinned():
    r = calibration.reliability(P_MULTI, Y_MULTI, bins=5)
    assert r.kind == "top-label"
    # confidences 0.7, 0.4, 0.8, 0.5; right answers 1, 0, 1, 1
    np.testing.assert_array_equal(r.counts, [0, 1, 1, 2, 0])
    np.testing.assert_allclose(r.predicted[1:4], [0.4, 0.5, 0.75])
    np.testing.assert_allclose(r.observed[1:4], [0.0, 1.0, 1.0])
    assert r.ece == pytest.approx((0.4 + 0.5 + 2 * 0.25) / 4)
    # sum over classes: 0.14 + 0.645 + 0.06 + 0.455
    assert calibration.brier_score(P_MULTI, Y_MULTI) == pytest.approx(1.3 / 4)


def test_overconfidence_pinned():
    # confidences 0.9, 0.8, 0.6; right only the first: 0.7667 - 0.3333
    assert calibration.overconfidence([0.9, 0.2, 0.6], [1, 1, 0]) == pytest.approx(
        (0.9 + 0.8 + 0.6) / 3 - 1 / 3)
    assert calibration.overconfidence(P_MULTI, Y_MULTI) == pytest.approx(0.6 - 0.75)


def test_a_calibrated_source_has_small_ece():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert calibration.expected_calibration_error(p, y) < 0.005
    # always saying 0.9 where the truth is 0.5: ECE 0.4
    assert calibration.expected_calibration_error(np.full(p.size, 0.9), (p < 0.5).astype(int)) == (
        pytest.approx(0.4, abs=0.005))


def test_agrees_with_scikit_learn():
    sk_calibration = pytest.importorskip("sklearn.calibration")
    sk_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    p = np.round(rng.uniform(size=500), 2)  # many values exactly on bin edges
    y = (rng.uniform(size=500) < p ** 1.5).astype(int)
    r = calibration.reliability(p, y)
    observed, predicted = sk_calibration.calibration_curve(y, p, n_bins=10)
    filled = r.counts > 0
    np.testing.assert_allclose(r.observed[filled], observed)
    np.testing.assert_allclose(r.predicted[filled], predicted)
    assert calibration.brier_score(p, y) == pytest.approx(sk_metrics.brier_score_loss(y, p))


def test_outputs_that_are_not_probabilities_are_refused():
    with pytest.raises(ValueError, match="not probabilities"):
        calibration.reliability([-0.5, 0.5], [0, 1])
    with pytest.raises(ValueError, match="not probabilities"):
        calibration.brier_score([0.5, 1.5], [0, 1])
    with pytest.raises(ValueError, match="labels 0 or 1"):
        calibration.reliability([0.5, 0.5], [0, 2])
    with pytest.raises(ValueError, match="do not match"):
        calibration.reliability([0.5, 0.5, 0.5], [0, 1])
    with pytest.raises(ValueError, match="classes 0..2"):
        calibration.reliability(P_MULTI, [0, 1, 3, 0])


# Which outputs are probabilities: pinned from the rule, not from the code's table.
APPLIES = {
    ("binary", "sigmoid", "bce"): (True, "proper scoring rule"),
    ("binary", "sigmoid", "mse"): (True, "Brier"),
    ("binary", "sigmoid", "focal"): (True, "under-confident"),
    ("binary", "sigmoid", "hinge"): (False, "margin loss"),
    ("binary", "linear", "hinge"): (False, "unbounded score"),
    ("binary", "linear", "squared_hinge"): (False, "unbounded score"),
    ("binary", "linear", "mse"): (False, "unbounded score"),
    ("binary", "tanh", "mse"): (False, "(−1, 1)"),
    ("binary", "relu", "mse"): (False, "unbounded"),
    ("binary", "linear", "bce"): (False, "domain"),
    ("multiclass", "softmax", "cce"): (True, "proper scoring rule"),
    ("multiclass", "softmax", "sparse_cce"): (True, "proper scoring rule"),
    ("multiclass", "softmax", "kld"): (True, "proper scoring rule"),
    ("multiclass", "softmax", "mse"): (True, "Brier"),
    ("multiclass", "sigmoid", "mse"): (False, "need not sum to 1"),
    ("multiclass", "softmax", "categorical_hinge"): (False, "margin loss"),
    ("multiclass", "linear", "categorical_hinge"): (False, "unbounded score"),
    ("regression", "linear", "mse"): (False, "coverage"),
    ("regression", "linear", "pinball"): (False, "coverage"),
    ("regression", "sigmoid", "mae"): (False, "coverage"),
    ("counts", "exp", "poisson"): (False, "coverage"),
}


@pytest.mark.parametrize(("problem", "activation", "loss"), list(APPLIES))
def test_applies_pinned(problem, activation, loss):
    ok, reason = calibration.applies(problem, activation, loss)
    want, phrase = APPLIES[(problem, activation, loss)]
    assert ok is want
    assert phrase in reason and reason.endswith(".")


def test_applies_with_a_class_weight():
    ok, reason = calibration.applies("binary", "sigmoid", "bce", {"alpha": 0.9})
    assert ok and "reweighted" in reason and "above" in reason
    ok, reason = calibration.applies("binary", "sigmoid", "focal", {"alpha": 0.25})
    # the weighted-BCE optimum does not hold for focal loss (gamma > 0): not claimed
    assert ok and "not a proper scoring rule" in reason and "αq" not in reason
    ok, reason = calibration.applies("binary", "sigmoid", "bce", {"alpha": 0.5})
    assert ok and "unweighted" in reason


@pytest.mark.parametrize("q", [0.2, 0.8])
def test_focal_optimum_is_under_confident(q):
    # the p minimising the expected focal loss lies between q and 0.5 (what applies says)
    grid = np.linspace(0.01, 0.99, 981)
    focal = losses.get("focal")
    expected = [q * focal.value([1], [p]) + (1 - q) * focal.value([0], [p]) for p in grid]
    best = grid[int(np.argmin(expected))]
    assert min(q, 0.5) < best < max(q, 0.5)
    bce = losses.get("bce")
    expected = [q * bce.value([1], [p]) + (1 - q) * bce.value([0], [p]) for p in grid]
    assert grid[int(np.argmin(expected))] == pytest.approx(q, abs=1e-3)


def test_a_class_weight_can_push_focal_loss_past_the_true_frequency():
    """With α the focal optimum is not under-confident by design: γ = 2, q = 0.3, α = 0.75
    gives 0.523, past 0.5: the class flips and it is over-confident (by hand, on a grid)."""
    p = np.linspace(1e-5, 1 - 1e-5, 200001)
    q, alpha = 0.3, 0.75
    risk = (-alpha * q * (1 - p) ** 2 * np.log(p)
            - (1 - alpha) * (1 - q) * p ** 2 * np.log1p(-p))
    best = p[np.argmin(risk)]
    assert best == pytest.approx(0.523, abs=0.001) and best > 0.5 > q
    # and the engine's own focal loss agrees
    focal = losses.get("focal", alpha=alpha)
    grid = np.linspace(0.40, 0.65, 2501)
    engine = [q * focal.value([1], [x]) + (1 - q) * focal.value([0], [x]) for x in grid]
    assert grid[int(np.argmin(engine))] == pytest.approx(best, abs=1e-3)
    ok, reason = calibration.applies("binary", "sigmoid", "focal", {"alpha": alpha})
    assert ok and "with or without α" not in reason and "under-confident by design" not in reason
    assert "past it" in reason and "0.52 for a frequency of 0.3" in reason


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_remove_class_weight_inverts_the_weighted_optimum(alpha):
    q = np.linspace(0.01, 0.99, 50)
    weighted = alpha * q / (alpha * q + (1 - alpha) * (1 - q))
    np.testing.assert_allclose(calibration.remove_class_weight(weighted, alpha), q)
    with pytest.raises(ValueError, match="alpha"):
        calibration.remove_class_weight(q, 1.0)


def test_reliability_over_training_animates_the_snapshots():
    X, y = datasets.make("moons", "binary", n=200, noise=0.3, seed=0)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(8,), epochs=30, snapshots=7,
                            seed=0)
    r = calibration.reliability_over_training(model, X, y, bins=5)
    S = len(model.snapshots)
    assert r.predicted.shape == r.observed.shape == r.counts.shape == (S, 5)
    assert r.ece.shape == r.brier.shape == r.overconfidence.shape == (S,)
    np.testing.assert_array_equal(r.epochs, model.snapshot_epochs)
    np.testing.assert_array_equal(r.counts.sum(axis=1), len(y))
    final = calibration.reliability(model.predict(X), y, bins=5)
    np.testing.assert_array_equal(r.counts[-1], final.counts)
    np.testing.assert_allclose(r.observed[-1], final.observed)
    assert r.ece[-1] == pytest.approx(final.ece)
    assert r.brier[-1] == pytest.approx(calibration.brier_score(model.predict(X), y))
    assert r.overconfidence[-1] == pytest.approx(calibration.overconfidence(model.predict(X), y))
    multi, _ = explorer.fit(*datasets.make("blobs", "multiclass", n=90, seed=0),
                            problem="multiclass", hidden=(4,), epochs=3, snapshots=3)
    Xm, ym = datasets.make("blobs", "multiclass", n=90, seed=0)
    top = calibration.reliability_over_training(multi, Xm, ym)
    assert top.kind == "top-label"
    assert top.ece[-1] == pytest.approx(calibration.expected_calibration_error(
        multi.predict(Xm), ym))
    hinge, _ = explorer.fit(X, y, problem="binary", hidden=(4,), epochs=2,
                            output_activation="linear", loss="hinge")
    with pytest.raises(ValueError, match="unbounded score"):
        calibration.reliability_over_training(hinge, X, y)


def test_reliability_over_many_snapshots_is_computed_in_bounded_chunks():
    """Issue 16: 100 snapshots of a 4 x 64 net on 5,000 points took 1 GB in one stacked pass."""
    import tracemalloc

    from explorer.network import Model, Network
    network = Network(2, (64, 64), 10, "relu", "softmax")
    rng = np.random.default_rng(0)
    snaps = np.stack([network.init(rng) for _ in range(40)])
    model = Model(network, snaps[-1], "multiclass", "cce", snapshot_epochs=np.arange(40),
                  snapshots=snaps, n_classes=10)
    X, y = datasets.make("blobs", "multiclass", n=1500, seed=0, n_classes=10)
    tracemalloc.start()
    r = calibration.reliability_over_training(model, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert network.stack_size(len(X)) < 40  # several chunks
    assert peak < 20e6  # one stacked pass of all 40 would hold 2 x 31 MB of activations
    for s in (0, 17, 39):
        one = Model(network, snaps[s], "multiclass", "cce", n_classes=10)
        p = one.predict(X)
        assert r.ece[s] == pytest.approx(calibration.expected_calibration_error(p, y),
                                         rel=1e-12)
        assert r.overconfidence[s] == pytest.approx(calibration.overconfidence(p, y),
                                                    rel=1e-12)
        assert r.brier[s] == pytest.approx(calibration.brier_score(p, y), rel=1e-12)


def test_reliability_work_grows_with_each_factor():
    base = calibration.reliability_work(n_params=1000, n_points=200, snapshots=100)
    assert base == 100 * 200 * 1000
    for doubled in (dict(n_params=2000, n_points=200, snapshots=100),
                    dict(n_params=1000, n_points=400, snapshots=100),
                    dict(n_params=1000, n_points=200, snapshots=200)):
        assert calibration.reliability_work(**doubled) == 2 * base


# Regression: coverage


def test_coverage_pinned():
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert calibration.quantile_coverage(y, np.full(5, 2.0)) == pytest.approx(3 / 5)
    assert calibration.interval_coverage(y, np.full(5, 0.5), np.full(5, 3.0)) == (
        pytest.approx(3 / 5))
    assert calibration.interval_coverage(y[:, None], y - 1, y + 1) == 1.0


def test_the_true_quantiles_cover_what_they_should():
    X, y = datasets.make("heteroscedastic", "regression", n=40_000, noise=0.5, seed=3)
    lo = datasets.heteroscedastic_quantile(X[:, 0], 0.1, 0.5)
    hi = datasets.heteroscedastic_quantile(X[:, 0], 0.9, 0.5)
    assert calibration.interval_coverage(y, lo, hi) == pytest.approx(0.8, abs=0.01)
    sigma = datasets.heteroscedastic_sigma(X[:, 0], 0.5)
    assert calibration.interval_coverage(y, 0.6 * X[:, 0] - 2 * sigma,
                                         0.6 * X[:, 0] + 2 * sigma) == pytest.approx(0.954,
                                                                                      abs=0.01)


def test_mse_mae_and_pinball_estimate_the_mean_median_and_quantile():
    # skewed noise whose mean, median and 90th percentile are straight lines: a linear model
    # (no hidden layer) can reach each exactly, so each loss lands on its own line
    noise = 0.8
    X, y = datasets.make("skewed", "regression", n=4000, noise=noise, seed=0)
    x = np.linspace(-2.4, 2.4, 49)
    truth = {"mean": datasets.skewed_mean(x, noise),
             "median": datasets.skewed_quantile(x, 0.5, noise),
             "q90": datasets.skewed_quantile(x, 0.9, noise)}
    fits = {"mean": ("mse", None), "median": ("mae", None), "q90": ("pinball", {"tau": 0.9})}
    for target, (loss, params) in fits.items():
        model, _ = explorer.fit(X, y, hidden=(), loss=loss, loss_params=params, epochs=150,
                                batch_size=4000, lr=0.05, seed=0)
        curve = model.predict(x[:, None])
        distances = {name: np.mean(np.abs(curve - line)) for name, line in truth.items()}
        assert min(distances, key=distances.get) == target, (loss, distances)
        assert distances[target] < 0.08, (loss, distances)


def test_gaussian_nll_learns_the_noise_level():
    X, y = datasets.make("heteroscedastic", "regression", n=800, noise=0.5, seed=0)
    X_val, y_val = datasets.make("heteroscedastic", "regression", n=2000, noise=0.5, seed=1)
    model, _ = explorer.fit(X, y, loss="gaussian_nll", hidden=(16,), epochs=150,
                            batch_size=64, lr=0.01, seed=0)
    mean, sigma = model.predict(X_val).T
    coverage = calibration.interval_coverage(y_val, mean - 2 * sigma, mean + 2 * sigma)
    assert coverage == pytest.approx(0.954, abs=0.03)
    edges = np.array([[-2.0], [2.0]])
    np.testing.assert_allclose(model.predict(edges)[:, 1],
                               datasets.heteroscedastic_sigma(edges[:, 0], 0.5), rtol=0.25)
