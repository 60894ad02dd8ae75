import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer import config as cfg
from explorer import datasets, losses, pairing, presets

pytestmark = pytest.mark.usefixtures("formula_worker")  # links carry formulas


def test_default_is_the_matched_binary_scenario():
    c = cfg.DEFAULT
    assert (c.problem, c.dataset, c.output_activation, c.loss) == ("binary", "moons", "sigmoid",
                                                                   "bce")
    assert c.n_samples == 400
    # the opening scenario trains with plain SGD, 100 epochs of 5 batches (see
    # test_training_figures.test_the_opening_story_unfolds_over_the_whole_replay)
    assert (c.optimizer, c.lr, c.batch_size, c.epochs) == ("sgd", 0.2, 64, 100)
    # the other problems keep Adam's recipe: plain SGD at 0.2 makes Poisson counts explode
    for problem in ("multiclass", "regression", "counts"):
        other = cfg.default_for(problem)
        assert (other.optimizer, other.lr, other.batch_size, other.epochs) == (
            "adam", 0.01, 32, 300)


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_problem_defaults_are_matched_and_consistent(problem):
    c = cfg.default_for(problem)
    assert pairing.check(problem, c.output_activation, c.loss).verdict == "matched"
    assert problem in datasets.get(c.dataset).problems
    assert c.noise == datasets.get(c.dataset).default_noise


@pytest.mark.parametrize("preset", list(presets.PRESETS.values()), ids=list(presets.PRESETS))
def test_round_trip_through_the_query_string(preset):
    query = preset.config.to_query()
    assert all(isinstance(v, str) for v in query.values())
    back, notices = cfg.from_query(query)
    assert back == preset.config
    assert notices == []
    assert set(query) == set(cfg.FIELD_KEYS)


def test_hidden_round_trip_including_no_hidden_layer():
    for hidden in [(), (1,), (16, 16), (64, 8, 4, 2)]:
        c = cfg.DEFAULT.replace(hidden=hidden)
        assert cfg.from_query(c.to_query())[0].hidden == hidden
    assert cfg.DEFAULT.replace(hidden=()).to_query()["hidden"] == "none"


@pytest.mark.parametrize("key,bad", [
    ("problem", "astrology"), ("n_samples", "-5"), ("n_samples", "1e9"), ("noise", "nan"),
    ("noise", "inf"), ("lr", "0"), ("lr", "abc"), ("hidden", "16,x"), ("hidden", "65"),
    ("hidden", "1,1,1,1,1"), ("batch_size", "5001"), ("epochs", "0"), ("loss", "<script>"),
    ("output_activation", "softmaxx"), ("dataset", "../../etc/passwd"), ("l2", "-1"),
    ("seed", "1.5"),
])
def test_tampered_values_fall_back_with_a_notice(key, bad):
    c, notices = cfg.from_query({key: bad})
    assert getattr(c, key) == getattr(cfg.DEFAULT, key)
    assert len(notices) == 1 and key in notices[0]


def test_inconsistent_combinations_are_repaired():
    c, notices = cfg.from_query({"problem": "regression", "dataset": "moons", "loss": "bce"})
    assert c.dataset == "sine" and c.loss == "mse"
    assert len(notices) == 2


def test_problem_in_url_brings_its_defaults_for_missing_keys():
    c, notices = cfg.from_query({"problem": "counts"})
    assert (c.dataset, c.output_activation, c.loss) == ("poisson", "exp", "poisson")
    assert notices == []


def test_list_values_take_the_last_one():
    c, _ = cfg.from_query({"epochs": ["50", "70"]})
    assert c.epochs == 70


def test_key_is_stable_and_distinguishes_configs():
    assert cfg.DEFAULT.key() == cfg.default_for("binary").key()
    assert cfg.DEFAULT.key() != cfg.DEFAULT.replace(seed=1).key()


@given(st.dictionaries(st.sampled_from(cfg.FIELD_KEYS + ("junk",)), st.text(max_size=30),
                       max_size=8))
def test_any_query_gives_a_valid_config(query):
    c, notices = cfg.from_query(query)
    assert c.problem in losses.PROBLEMS
    assert c.dataset == cfg.UPLOAD or c.problem in datasets.get(c.dataset).problems
    assert c.problem in losses.get(c.loss).problems
    assert math.isfinite(c.lr) and c.lr > 0
    assert isinstance(notices, list)


# -- what a loss estimates: tau, alpha, the decision threshold ---------------------------------


def test_new_settings_round_trip_through_the_url():
    c = cfg.default_for("regression").replace(loss="pinball", tau=0.9)
    query = c.to_query()
    assert query["tau"] == "0.9" and query["alpha"] == "0" and query["threshold"] == "0.5"
    assert cfg.from_query(query) == (c, [])
    b = cfg.DEFAULT.replace(loss="focal", alpha=0.75, threshold=0.3)
    back, notices = cfg.from_query(b.to_query())
    assert (back.alpha, back.threshold, back.loss) == (0.75, 0.3, "focal") and not notices


@pytest.mark.parametrize("key,bad", [("tau", "0"), ("tau", "1"), ("tau", "nan"),
                                     ("alpha", "1"), ("alpha", "-0.1"), ("threshold", "0"),
                                     ("threshold", "1.2"), ("threshold", "x")])
def test_out_of_range_new_settings_fall_back_with_a_notice(key, bad):
    c, notices = cfg.from_query({key: bad})
    assert getattr(c, key) == getattr(cfg.DEFAULT, key)
    assert len(notices) == 1 and key in notices[0]


def test_new_settings_carry_their_bounds_for_the_widgets():
    assert (cfg.FIELD["tau"].lo, cfg.FIELD["tau"].hi) == (0.01, 0.99)
    assert (cfg.FIELD["alpha"].lo, cfg.FIELD["alpha"].hi) == (0.0, 0.99)
    assert (cfg.FIELD["threshold"].lo, cfg.FIELD["threshold"].hi) == (0.01, 0.99)
    assert cfg.FIELD_KEYS[-4:] == ("tau", "alpha", "threshold", "formula")


@pytest.mark.parametrize("changes,expected", [
    (dict(loss="bce"), {}),
    (dict(loss="bce", alpha=0.8), {"alpha": 0.8}),
    (dict(loss="focal", gamma=1.5), {"gamma": 1.5}),
    (dict(loss="focal", gamma=1.5, alpha=0.25), {"gamma": 1.5, "alpha": 0.25}),
    (dict(loss="hinge", alpha=0.8), {}),
    (dict(problem="regression", loss="pinball", tau=0.1), {"tau": 0.1}),
    (dict(problem="regression", loss="huber", delta=2.0, tau=0.1), {"delta": 2.0}),
    (dict(problem="regression", loss="gaussian_nll", tau=0.1), {}),
])
def test_loss_params_return_the_chosen_losss_settings(changes, expected):
    assert cfg.DEFAULT.replace(**changes).loss_params() == expected


@pytest.mark.parametrize("changes,expected", [
    (dict(), None), (dict(threshold=0.3), 0.3), (dict(threshold=0.3, loss="focal"), 0.3),
    (dict(threshold=0.3, loss="mse"), 0.3),
    (dict(threshold=0.3, output_activation="linear", loss="hinge"), None),  # sign of a score
    (dict(threshold=0.3, problem="multiclass", dataset="spiral", output_activation="softmax",
          loss="cce"), None),
])
def test_decision_threshold_applies_to_binary_probabilities_only(changes, expected):
    assert cfg.DEFAULT.replace(**changes).decision_threshold() == expected


def test_a_run_trains_with_the_settings():
    from explorer import experiment

    base = cfg.DEFAULT.replace(dataset="imbalanced", noise=0.6, epochs=20, hidden=())
    moved = experiment.run(base.replace(threshold=0.2))
    plain = experiment.run(base)
    assert moved.model.threshold == 0.2 and plain.model.threshold == 0.5
    # same weights (the threshold does not enter the loss), different reported accuracy
    assert np.array_equal(moved.model.theta, plain.model.theta)
    p = moved.model.predict(moved.data.X_val)
    expected = np.mean((p > 0.2) == (moved.data.y_val == 1))
    assert moved.history["val_accuracy"].iloc[-1] == pytest.approx(expected)
    weighted = experiment.run(base.replace(loss="bce", alpha=0.9))
    assert weighted.model.loss_params == {"alpha": 0.9}
    quantile = experiment.run(cfg.default_for("regression").replace(loss="pinball", tau=0.9,
                                                                    epochs=20))
    assert quantile.model.loss_params == {"tau": 0.9}


# ----------------------------------------------------------------------------------------
# The typed formula (loss=custom&formula=...)


def test_a_typed_formula_is_a_setting_of_its_own():
    config, notices = cfg.from_query({"problem": "counts", "loss": "custom",
                                      "formula": "p − y·log(p)"})
    assert notices == [] and (config.problem, config.loss) == ("counts", "custom")
    assert config.formula == "p - y*log(p)"  # normalised: the typographic minus and dot
    assert config.loss_params() == {"formula": "p - y*log(p)"}
    assert cfg.Config().formula == "(p - y)**2" == losses.custom().params["formula"]
    assert config.to_query()["formula"] == "p - y*log(p)"
    assert cfg.from_query(config.to_query()) == (config, [])


@pytest.mark.parametrize("problem", losses.PROBLEMS)
def test_every_problem_takes_a_typed_formula(problem):
    config, notices = cfg.from_query({"problem": problem, "loss": "custom"})
    assert notices == [] and config.loss == "custom" and config.formula == "(p - y)**2"


@pytest.mark.parametrize("text", ["__import__('os').system('id')", "p.__class__", "p ^ 2",
                                  "x" * 500, "exp(exp(exp(p)))**999", ""])
def test_a_bad_formula_in_a_link_falls_back_with_a_notice(text):
    config, notices = cfg.from_query({"loss": "custom", "formula": text})
    assert config.loss == "custom" and config.formula == "(p - y)**2"
    (notice,) = notices
    assert notice.startswith("Ignored formula=") and notice.endswith("using (p - y)**2.")


def test_an_unused_formula_does_not_split_one_run_into_two():
    bce, _ = cfg.from_query({"loss": "bce", "formula": "abs(p - y)"})
    assert bce.formula == "(p - y)**2" and bce.key() == cfg.DEFAULT.key()
    assert bce.loss_params() == {}


def test_a_recipe_is_any_problems_default_training_and_nothing_else():
    assert cfg.is_a_recipe(cfg.DEFAULT.to_dict())
    assert cfg.is_a_recipe(cfg.default_for("counts").to_dict())
    assert not cfg.is_a_recipe(cfg.DEFAULT.replace(epochs=60).to_dict())
    assert not cfg.is_a_recipe(cfg.DEFAULT.replace(optimizer="adam").to_dict())
