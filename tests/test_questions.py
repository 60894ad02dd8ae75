"""Every lesson asks a question that the runs being watched decide, in agreement with its
claims.

The outcomes come from the same runs as the claims (``presets.check_many``, shared with
``test_presets`` through conftest's ``lesson_checks``): every lesson on its own seed and the
next five.
"""

import dataclasses
import math
import re

import pytest

from explorer import numbers, presets
from explorer.claims import THIS, Runs, at_epoch
from explorer.lessons import questions
from explorer.lessons.preset import Preset
from explorer.lessons.questions import Outcome, Question, Undecided, grade, graded, outcome

KEYS = list(presets.PRESETS)

CLAIMED = {
    "matched_binary": "A tenth or less",
    "why_not_mse": "Cross-entropy, by 10 points or more",
    "why_not_mse_bce": "95 % or more",
    "one_neuron_mse": "Nearly flat",
    "one_neuron_bce": "85 % or more",
    "loss_not_metric": "Stay within 3 points",
    "linear_bce_breaks": "In the first epoch",
    "hinge": "80 % or more",
    "spiral_softmax": "90 % or more",
    "outliers_mse": "Pulled up towards the outliers",
    "outliers_huber": "With the bulk of the points",
    "imbalanced_focal": "More than 2 points better",
    "calibrated_bce_mse": "4 % or less",
    "overconfident": "At least double",
    "skewed_estimates": "About nine in ten",
    "learned_noise": "90 % or more",
    "counts_poisson": "Above 0.2",
    "counts_mse": "Below 0",
}
"""The answer each lesson's claims imply, written out from the claims' texts (not taken from
the questions), so a question whose decision drifts from its lesson fails here."""


def seeds_of(key: str) -> list[int]:
    own = presets.get(key).config.seed
    return list(range(own, own + 6))


def test_every_lesson_is_pinned_here():
    assert set(CLAIMED) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_every_lesson_asks_one_short_question(key):
    question = presets.get(key).question
    assert isinstance(question, Question)
    assert question.text.endswith("?") and len(question.text) <= 150, question.text
    assert 2 <= len(question.answers) <= 4
    assert len(set(question.answers)) == len(question.answers)
    assert all(len(a) <= 36 for a in question.answers), question.answers
    assert CLAIMED[key] in question.answers
    for text in (question.text, *question.answers, *question.reasons):
        assert not re.search("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]", text), text


@pytest.mark.parametrize("key", KEYS)
def test_the_question_reads_runs_the_lesson_sets_up(key):
    preset = presets.get(key)
    assert set(questions.runs_needed(preset)) <= set(preset.configs())


@pytest.mark.parametrize("key", KEYS)
def test_the_runs_decide_every_question_on_every_seed(lesson_checks, key):
    for seed in seeds_of(key):
        checked = lesson_checks[key, seed]
        assert checked.outcome is not None, f"{key} seed {seed}: {checked.undecided}"
        sentence = checked.outcome.sentence
        assert "{" not in sentence and "—" not in sentence and "nan" not in sentence
        assert 1 <= len(re.findall(r"[.!?](\s|$)", sentence)) <= 2, sentence


@pytest.mark.parametrize("key", KEYS)
def test_the_outcome_is_what_the_claims_say_where_they_hold(lesson_checks, key):
    preset = presets.get(key)
    held = 0
    for seed in seeds_of(key):
        checked = lesson_checks[key, seed]
        if not all(c.passed for c in checked.claims):
            continue
        held += 1
        happened = preset.question.answers[checked.outcome.answer]
        assert happened == CLAIMED[key], f"{key} seed {seed}: {checked.outcome.sentence}"
        assert checked.outcome.sentence.startswith(happened.split(",")[0].split(" towards")[0])
    assert held >= 5, f"{key}: the claims held on only {held} of 6 seeds"


def test_the_reveal_quotes_the_measured_number():
    """matched_binary on its own seed: the ratio of the training loss after epoch 50 to
    epoch 1, read here from the run's history."""
    preset = presets.get("matched_binary")
    runs = Runs(preset.configs())
    h = runs[THIS].history
    ratio = float(h["loss"].iloc[49] / h["loss"].iloc[0])
    assert ratio == at_epoch(runs[THIS], "loss", 50) / at_epoch(runs[THIS], "loss", 1)
    result = outcome(preset, runs)
    assert result == Outcome(2, preset.question.reasons[2].format(
        value=numbers.number(ratio, 2)))
    assert f"was {numbers.number(ratio, 2)} of its first epoch's" in result.sentence


def test_a_negative_number_is_written_with_a_minus_sign():
    preset = presets.get("counts_mse")
    sentence = outcome(preset, Runs(preset.configs())).sentence
    assert re.search(r"is −\d", sentence) and "-" not in sentence


# -- the building blocks ---------------------------------------------------------------------


def test_grade_keeps_the_claims_bounds_on_their_side():
    steps = (("<=", 0.1), ("<", 0.5))
    assert [grade(v, steps) for v in (0.05, 0.1, 0.10001, 0.4999, 0.5, 7.0)] == \
        [0, 0, 1, 1, 2, 2]
    assert grade(math.inf, (("<=", 1), ("<", math.inf))) == 2
    with pytest.raises(Undecided):
        grade(math.nan, steps)


def _question(measure, answers=("Low", "High")) -> Question:
    return graded("How high?", answers, ("Low: {value}.", "High: {value}."), measure,
                  (("<", 0.5),))


def _with(question: Question) -> Preset:
    return dataclasses.replace(presets.get("counts_mse"), question=question)


def test_a_measurement_that_cannot_be_made_decides_nothing():
    runs = Runs(presets.get("counts_mse").configs())
    with pytest.raises(Undecided):
        outcome(_with(_question(lambda r: math.nan)), runs)
    with pytest.raises(Undecided, match="ZeroDivisionError"):
        outcome(_with(_question(lambda r: 1 / 0)), runs)
    broken = dataclasses.replace(_question(lambda r: 0.7), decide=lambda r: 5)
    with pytest.raises(Undecided, match="5"):
        outcome(_with(broken), runs)
    assert outcome(_with(_question(lambda r: 0.7)), runs) == Outcome(1, "High: 0.7.")


def test_a_lesson_without_a_question_cannot_be_built():
    fields = {f.name: getattr(presets.get("counts_mse"), f.name)
              for f in dataclasses.fields(Preset)}
    del fields["question"]
    with pytest.raises(TypeError, match="question"):
        Preset(**fields)
    with pytest.raises(TypeError, match="needs a Question"):
        Preset(**fields, question=None)


def test_a_question_about_a_run_the_lesson_does_not_set_up_is_refused():
    question = dataclasses.replace(_question(lambda r: 0.7), runs=("huber",))
    with pytest.raises(ValueError, match="huber"):
        _with(question)


def test_a_question_offers_two_to_four_answers_each_with_a_reason():
    with pytest.raises(ValueError, match="2 to 4"):
        Question("Which?", ("Only",), lambda r: 0, ("Only.",))
    with pytest.raises(ValueError, match="2 to 4"):
        Question("Which?", tuple("abcde"), lambda r: 0, tuple("abcde"))
    with pytest.raises(ValueError, match="one reason per answer"):
        Question("Which?", ("a", "b"), lambda r: 0, ("a.",))


def test_calibration_reveals_quote_the_numbers_as_the_calibration_view_writes_them():
    """The Calibration view writes ECE as 0.034 (its "ECE, validation" under the chart, the
    curve of ECE over the snapshots in it): the reveals of its two lessons quote those same
    numbers, found on the screen they are revealed on."""
    from explorer.lessons import measurements as m

    preset = presets.get("overconfident")
    runs = Runs(preset.configs())
    ece = m.validation_reliability(runs[THIS]).ece
    sentence = outcome(preset, runs).sentence
    assert f"{float(ece[-1]):.3f}" in sentence and f"{float(min(ece)):.3f}" in sentence
    epoch = m.validation_reliability(runs[THIS]).epochs[int(ece.argmin())]
    assert f"epoch {int(epoch)}," in sentence

    preset = presets.get("calibrated_bce_mse")
    runs = Runs(preset.configs())
    sentence = outcome(preset, runs).sentence
    assert f"{m.validation_reliability(runs[THIS]).ece[-1]:.3f}" in sentence
