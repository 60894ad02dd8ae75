import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer import config as cfg
from explorer import datasets, losses, pairing, presets


def test_default_is_the_matched_binary_scenario():
    c = cfg.DEFAULT
    assert (c.problem, c.dataset, c.output_activation, c.loss) == ("binary", "moons", "sigmoid",
                                                                   "bce")
    assert c.epochs == 300 and c.n_samples == 400


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
