"""Every lesson is a set of claims that hold on its own seed and on (almost) any other.

Each preset is verified on its own seed and on the next five; every claim must hold on its
own seed and on at least four of the five others. All runs are computed once for the module
(runs of identical configurations are shared between lessons through one cache per seed).
"""

import dataclasses
import math
import re

import pytest

from explorer import presets
from explorer.claims import THIS, Claim, ClaimResult, at_least
from explorer.config import Config

KEYS = list(presets.PRESETS)
OTHER_SEEDS = 5
MAY_FAIL = 1
"""Of the other seeds, how many a claim may fail on (a lesson states typical behaviour)."""


def seeds_of(key: str) -> list[int]:
    own = presets.get(key).config.seed
    return [own + i for i in range(OTHER_SEEDS + 1)]


@pytest.fixture(scope="module")
def results(lesson_checks) -> dict[tuple[str, int], list[ClaimResult]]:
    # every lesson on six seeds (conftest), shared with the questions' tests
    assert set(lesson_checks) == {(key, seed) for key in KEYS for seed in seeds_of(key)}
    return {pair: checked.claims for pair, checked in lesson_checks.items()}


def test_verifying_in_processes_gives_what_verifying_here_gives():
    pairs = [("why_not_mse", 0), ("counts_poisson", 3), ("why_not_mse", 1)]
    here = presets.verify_many(pairs, workers=1)
    assert set(here) == set(pairs)
    assert presets.verify_many(pairs, workers=2) == here


def _report(rows: list[ClaimResult]) -> str:
    return "\n".join(str(r) for r in rows)


@pytest.mark.parametrize("key", KEYS)
def test_every_lesson_makes_claims(key):
    preset = presets.get(key)
    assert preset.claims, f"{key} states nothing that is checked"
    assert preset.lesson and preset.title


@pytest.mark.parametrize("key", KEYS)
def test_claims_hold_on_the_lessons_own_seed(results, key):
    own = presets.get(key).config.seed
    rows = results[key, own]
    assert len(rows) == len(presets.get(key).claims)
    assert all(r.seed == own for r in rows)
    failed = [r for r in rows if not r.passed]
    assert not failed, _report(failed)


@pytest.mark.parametrize("key", KEYS)
def test_claims_hold_on_other_seeds(results, key):
    others = seeds_of(key)[1:]
    failed = []
    for index in range(len(presets.get(key).claims)):
        misses = [results[key, s][index] for s in others if not results[key, s][index].passed]
        if len(misses) > MAY_FAIL:
            failed += misses
    assert not failed, _report(failed)


@pytest.mark.parametrize("key", KEYS)
def test_each_claim_text_states_its_bound(key):
    for claim in presets.get(key).claims:
        text = claim.text.replace("−", "-")
        bound = re.sub(r"e-0(\d)", r"e-\1", f"{claim.bound:g}")
        assert bound in text, (claim.text, claim.bound)


@pytest.mark.parametrize("key", KEYS)
def test_comparisons_differ_from_the_lesson_in_named_settings_only(key):
    preset = presets.get(key)
    for name, config in preset.comparisons:
        assert name != THIS and isinstance(config, Config)
        assert config.seed == preset.config.seed, "a comparison must start from the same seed"
        assert config.problem == preset.config.problem


@pytest.mark.parametrize("key", KEYS)
def test_no_emoji_in_anything_a_lesson_shows(key):
    preset = presets.get(key)
    for text in (preset.title, preset.lesson, *(c.text for c in preset.claims)):
        assert not re.search("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]", text), text


def test_verify_takes_the_seed_from_its_argument(results):
    rows = results["counts_mse", 3]
    assert {r.seed for r in rows} == {3}
    lowest = [results["counts_mse", s][1].value for s in seeds_of("counts_mse")]
    assert len(set(lowest)) == len(lowest), "the seed must change the data and the fit"


def test_verify_of_an_unknown_lesson_names_the_valid_ones():
    with pytest.raises(ValueError, match="matched_binary"):
        presets.verify("nope")


# -- a claim that is false must fail -------------------------------------------------------


def test_verify_fails_a_false_claim(monkeypatch):
    real = presets.get("counts_mse")
    fake = dataclasses.replace(
        real, key="fake", claims=(
            at_least(0.0, "Lowest prediction over x ∈ [−2.5, 2.5] ≥ 0.",
                      real.claims[1].measure),
            Claim("Final training loss < 0.", lambda runs: runs[THIS].history["loss"].iloc[-1],
                  "<", 0.0)))
    monkeypatch.setitem(presets.PRESETS, "fake", fake)
    rows = presets.verify("fake")
    assert [r.passed for r in rows] == [False, False]
    assert rows[0].value < 0 and rows[1].value > 0


def test_a_broken_scenario_fails_its_lesson(monkeypatch):
    """counts_mse with the Poisson preset's exp output: the negative-count claim must fail."""
    real = presets.get("counts_mse")
    exp_output = real.config.replace(output_activation="exp", loss="poisson")
    monkeypatch.setitem(presets.PRESETS, "counts_mse",
                        dataclasses.replace(real, config=exp_output))
    rows = presets.verify("counts_mse")
    negative = [r for r in rows if "Lowest prediction over" in r.text]
    assert negative and not negative[0].passed and negative[0].value > 0


def test_a_lesson_whose_run_breaks_fails_instead_of_raising(monkeypatch):
    """A claim reading the end of a run that diverged measures NaN and fails."""
    real = presets.get("counts_poisson")
    broken = real.config.replace(output_activation="linear")  # log of a negative rate
    monkeypatch.setitem(presets.PRESETS, "counts_poisson",
                        dataclasses.replace(real, config=broken))
    rows = presets.verify("counts_poisson")
    by_text = {r.text: r for r in rows}
    final_loss = by_text["Final training loss < 0."]
    assert not final_loss.passed and math.isnan(final_loss.value)
