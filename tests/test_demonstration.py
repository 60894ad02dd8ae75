"""What the app promises about a pair's output and its failure, checked against trained runs."""

import numpy as np
import pytest

from explorer import activations, demonstration, experiment, losses, pairing
from explorer import config as cfg


@pytest.mark.parametrize("problem,activation,loss,kind", [
    ("binary", "sigmoid", "bce", None),               # matched
    ("binary", "linear", "bce", None),                # invalid
    ("binary", "sigmoid", "mse", "saturation"),
    ("multiclass", "softmax", "mse", "saturation"),
    ("multiclass", "tanh", "mse", "saturation"),
    ("binary", "sigmoid", "hinge", "range"),          # never negative: no −1 side
    ("regression", "sigmoid", "mse", "range"),
    ("regression", "relu", "mae", "range"),
    ("counts", "sigmoid", "poisson", "range"),
    ("binary", "linear", "mse", "other"),
    ("counts", "linear", "mse", "other"),
])
def test_failure_kinds(problem, activation, loss, kind):
    assert demonstration.failure_kind(problem, activation, loss) == kind


def test_multiclass_sigmoid_cross_entropy_is_not_sold_as_saturation():
    kind = demonstration.failure_kind("multiclass", "sigmoid", "cce")
    assert kind in (None, "degenerate")  # invalid once the core says so
    assert not demonstration.shows_saturation("multiclass", "sigmoid", "cce")


def test_every_saturating_mismatch_has_been_measured():
    """A pair the core newly calls a saturating mismatch gets no button until it is measured
    and added to SATURATION_SHOWN (and so to the training test below)."""
    unmeasured = [(p, a, k) for p in losses.PROBLEMS for a in activations.OUTPUT_ACTIVATIONS
                  for k in losses.for_problem(p)
                  if demonstration.failure_kind(p, a, k) == "saturation"
                  and (p, a, k) not in demonstration.SATURATION_SHOWN]
    assert unmeasured == []


@pytest.mark.parametrize("problem,activation,loss,meaning", [
    ("binary", "sigmoid", "bce", "probability"),
    ("binary", "sigmoid", "mse", "probability"),      # the Brier score is proper
    ("binary", "sigmoid", "focal", "output"),         # re-weighted: not calibrated
    ("binary", "linear", "mse", "output"),
    ("binary", "tanh", "mse", "output"),
    ("binary", "tanh", "hinge", "score"),
    ("binary", "linear", "hinge", "score"),
    ("multiclass", "softmax", "cce", "probability"),
    ("multiclass", "linear", "categorical_hinge", "score"),
    ("regression", "linear", "mse", "prediction"),
])
def test_output_meaning(problem, activation, loss, meaning):
    assert demonstration.output_meaning(problem, activation, loss) == meaning


def test_targets_out_of_reach_counts_outside_the_closed_range():
    y = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert demonstration.targets_out_of_reach("sigmoid", y) == 2   # -1 and 2
    assert demonstration.targets_out_of_reach("relu", y) == 1      # only -1
    assert demonstration.targets_out_of_reach("linear", y) == 0


def test_the_race_is_the_pair_against_the_matched_pair_from_large_weights():
    config = demonstration.saturated_scenario("binary", "tanh", "mse")
    assert (config.init_scale, config.optimizer, config.lr, config.hidden) == (10.0, "sgd",
                                                                               0.5, (16,))
    assert (config.output_activation, config.loss) == ("tanh", "mse")
    assert demonstration.race_pairs("binary", "tanh", "mse") == [("tanh", "mse"),
                                                                 ("sigmoid", "bce")]
    # for sigmoid + MSE it is exactly the "Why not MSE" lesson
    from explorer import presets
    assert demonstration.saturated_scenario("binary", "sigmoid", "mse") == \
        presets.PRESETS["why_not_mse"].config


def _slopes_at_start(config: cfg.Config) -> np.ndarray:
    """|a'(z)| of the output units at the initial weights over the training points, divided
    by the activation's peak slope; (n,) the largest over the output units."""
    run = experiment.run(config.replace(epochs=1), snapshots=1)
    z = run.model.network.pre_activations(run.model.snapshots[0], run.data.X_train)
    with np.errstate(all="ignore"):
        slope = activations.get(config.output_activation).grad(z)
    if slope.ndim == 3:  # softmax Jacobian: the diagonal p_j (1 - p_j)
        slope = np.einsum("nii->ni", slope)
    peak = demonstration.OUTPUT_SLOPE[config.output_activation][1]
    return np.abs(slope).max(axis=1) / peak


@pytest.mark.parametrize("problem,activation", [("binary", "sigmoid"), ("binary", "tanh"),
                                                ("multiclass", "softmax")])
def test_small_weights_start_steep_and_large_weights_start_flat(problem, activation):
    """The sentence: small initial weights start the output on the steep part, × 10 on the
    flat ends where the factor is ~0."""
    loss = "mse"
    small = cfg.default_for(problem).replace(output_activation=activation, loss=loss)
    large = demonstration.saturated_scenario(problem, activation, loss)
    assert np.median(_slopes_at_start(small)) > 0.5
    assert np.median(_slopes_at_start(large)) < 0.01


@pytest.fixture(scope="module")
def matched_accuracy():
    """Validation accuracy per epoch of each problem's matched pair from the saturated start,
    by (problem, seed, epochs)."""
    cache = {}

    def get(problem, seed, epochs):
        if (problem, seed, epochs) not in cache:
            a, k = pairing.DEFAULT_PAIR[problem]
            config = demonstration.saturated_scenario(problem, a, k).replace(seed=seed,
                                                                             epochs=epochs)
            cache[(problem, seed, epochs)] = experiment.run(
                config, snapshots=2).history["val_accuracy"].to_numpy()
        return cache[(problem, seed, epochs)]
    return get


@pytest.mark.parametrize("problem,activation,loss", sorted(demonstration.SATURATION_SHOWN))
def test_a_saturated_start_makes_the_mismatch_show(problem, activation, loss,
                                                   matched_accuracy):
    """The promise behind the button: from the saturated start the matched pair recovers
    and this pair falls clearly behind, on the race's own seed (all 300 epochs, what Compare
    shows) and at epoch 50 on two more seeds."""
    scenario = demonstration.saturated_scenario(problem, activation, loss)
    final = experiment.run(scenario, snapshots=2).history["val_accuracy"].to_numpy()
    matched = matched_accuracy(problem, scenario.seed, scenario.epochs)
    assert matched[-1] >= 0.9
    assert final[-1] <= matched[-1] - 0.1
    for seed in (1, 2):
        early = experiment.run(scenario.replace(seed=seed, epochs=50),
                               snapshots=2).history["val_accuracy"].to_numpy()
        matched = matched_accuracy(problem, seed, 50)
        assert matched[-1] >= 0.9
        assert early[-1] <= matched[-1] - 0.15


@pytest.mark.parametrize("problem,activation,loss", [("binary", "sigmoid", "mse"),
                                                     ("multiclass", "softmax", "mse")])
def test_from_small_weights_the_mismatch_barely_shows(problem, activation, loss):
    """Why the race needs the saturated start: at the default weights both pairs train."""
    base = cfg.default_for(problem)
    chosen = experiment.run(base.replace(output_activation=activation, loss=loss))
    matched = experiment.run(base)
    gap = (matched.history["val_accuracy"].iloc[-1]
           - chosen.history["val_accuracy"].iloc[-1])
    assert abs(gap) <= 0.05


def test_the_saturated_counts_race_leaves_no_positive_count_stuck_below_z_minus_16():
    """exp + Poisson trained in z (dL/dz = exp(z) - y, no clip): every point with a positive
    count that starts below z = -16 is pulled out by the end of the race (seeds 0 to 5; a
    clip at p + 1e-7 left a quarter of them there)."""
    for seed in range(6):
        run = experiment.run(demonstration.saturated_scenario("counts", "exp", "poisson")
                             .replace(seed=seed))
        m, X, y = run.model, run.data.X_train, run.data.y_train
        start = m.network.pre_activations(m.snapshots[0], X)[:, 0]
        end = m.network.pre_activations(m.theta, X)[:, 0]
        low = (start < -16) & (y > 0)
        assert not np.any(end[low] < -16), seed


def test_the_default_counts_scenario_at_weight_scale_10_leaves_no_low_positive_count():
    """The default counts scenario (Adam, seed 0) from initial weights ten times too large:
    no positive count that starts below z = -16 is still there at the end (a third were,
    with the 1e-7 clip). On other seeds Adam can leave some: its first steps see gradients
    near e^50 from points far above, and its per-weight step is then too small to climb
    thousands of units of z; that is the optimizer, not the loss."""
    run = experiment.run(cfg.default_for("counts").replace(init_scale=10.0))
    m, X, y = run.model, run.data.X_train, run.data.y_train
    start = m.network.pre_activations(m.snapshots[0], X)[:, 0]
    end = m.network.pre_activations(m.theta, X)[:, 0]
    low = (start < -16) & (y > 0)
    assert low.sum() > 10 and not np.any(end[low] < -16)
