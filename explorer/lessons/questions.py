"""What each lesson asks before its animation plays, and how the runs answer it.

A ``Question`` offers two to four answers. Which one happened is never typed by hand:
``decide`` measures it on the runs being watched, with the same measurement functions the
lesson's claims use (``measurements``), so the reveal cannot contradict the screen. Its
``reasons`` say why, with the measured numbers (``facts``) filled in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from explorer import numbers
from explorer.claims import OPS, THIS, Runs, at_epoch, final
from explorer.lessons import measurements as m

if TYPE_CHECKING:
    from explorer.lessons.preset import Preset


class Undecided(ValueError):
    """The runs do not settle a question (a measurement could not be made)."""


def _no_facts(runs: Runs) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Question:
    """What a lesson asks before its animation plays."""

    text: str
    """One question, e.g. "From this saturated start, which pair is ahead after 30 epochs?"."""
    answers: tuple[str, ...]
    """Two to four short answers (each fits a phone's button)."""
    decide: Callable[[Runs], int]
    """The index of the answer that happened on these runs; raises ``Undecided`` if none."""
    reasons: tuple[str, ...]
    """Per answer, one or two sentences saying why, when it is the outcome; {name} fields are
    filled from ``facts``."""
    facts: Callable[[Runs], Mapping[str, str]] = _no_facts
    """The measured numbers the reasons quote, formatted for people."""
    runs: tuple[str, ...] = (THIS,)
    """The names (in the lesson's ``configs()``) of the runs ``decide`` and ``facts`` read."""

    def __post_init__(self):
        if not 2 <= len(self.answers) <= 4:
            raise ValueError(f"a question offers 2 to 4 answers; got {len(self.answers)}")
        if len(self.reasons) != len(self.answers):
            raise ValueError("a question needs one reason per answer")
        if not self.runs:
            raise ValueError("a question reads at least one run")


@dataclass(frozen=True)
class Outcome:
    """What happened: the answer's index and the reveal's sentence."""

    answer: int
    sentence: str


def outcome(preset: Preset, runs: Runs) -> Outcome:
    """The answer that happened on ``runs`` (the lesson's configs on the seed watched) and
    why; raises ``Undecided`` if the runs do not settle it."""
    question = preset.question
    try:
        index = question.decide(runs)
    except Undecided:
        raise
    except Exception as exc:  # a measurement on a run that broke settles nothing
        raise Undecided(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(index, int) or not 0 <= index < len(question.answers):
        raise Undecided(f"decide gave {index!r}, not an answer's index")
    return Outcome(index, question.reasons[index].format(**question.facts(runs)))


def runs_needed(preset: Preset) -> tuple[str, ...]:
    """The names in ``preset.configs()`` whose runs the lesson's question reads."""
    return preset.question.runs


# ----------------------------------------------------------------------------------------
# Building blocks


def measured(value: float) -> float:
    """``value`` if it is a number (inf included: "never"), else ``Undecided``."""
    value = float(value)
    if math.isnan(value):
        raise Undecided("the measurement could not be made on this run")
    return value


def grade(value: float, steps: Sequence[tuple[str, float]]) -> int:
    """The first i with ``value <op_i> bound_i`` (steps in order), else len(steps)."""
    value = measured(value)
    for index, (op, bound) in enumerate(steps):
        if OPS[op](value, bound):
            return index
    return len(steps)


def percent(share: float) -> str:
    """0.953 as "95.3 %"."""
    return f"{numbers.number(100 * share, 3)} %"


def signed(value: float) -> str:
    """−3.1 with a minus sign, two significant digits."""
    return numbers.number(value, 2).replace("-", "−")


def graded(text: str, answers: tuple[str, ...], reasons: tuple[str, ...],
           measure: Callable[[Runs], float], steps: Sequence[tuple[str, float]],
           show: Callable[[float], str] = numbers.number,
           runs: tuple[str, ...] = (THIS,)) -> Question:
    """A question whose answers are ranges of one measured number: answer i when the
    number passes ``steps[i]`` (first that does), the last answer otherwise. The reasons
    quote the number as {value}."""
    return Question(text, answers, lambda r: grade(measure(r), steps), reasons,
                    lambda r: {"value": show(measured(measure(r)))}, runs)


# ----------------------------------------------------------------------------------------
# The lessons' questions (in the order of ``words.LESSONS``)


MATCHED_BINARY = graded(
    "By epoch 50, what share of its first epoch's value will the training loss be down to?",
    ("More than half", "A tenth to a half", "A tenth or less"),
    ("More than half: after 50 epochs the training loss was still {value} of its first "
     "epoch's.",
     "A tenth to a half: after 50 epochs the training loss was {value} of its first "
     "epoch's.",
     "A tenth or less: after 50 epochs the training loss was {value} of its first epoch's. "
     "The gradient p − y stays large while the model is wrong, so it learns fast."),
    lambda runs: at_epoch(runs[THIS], "loss", 50) / at_epoch(runs[THIS], "loss", 1),
    ((">", 0.5), (">", 0.1)), show=lambda v: numbers.number(v, 2))


def _race_facts(runs: Runs) -> Mapping[str, str]:
    return {"bce": percent(measured(at_epoch(runs["bce"], "val_accuracy", 30))),
            "mse": percent(measured(at_epoch(runs["mse"], "val_accuracy", 30)))}


WHY_NOT_MSE = Question(
    "From this saturated start, which loss will be ahead in validation accuracy after 30 "
    "epochs?",
    ("Cross-entropy, by 10 points or more", "MSE, by 10 points or more",
     "Neither: within 10 points"),
    lambda runs: grade(m.gap("val_accuracy", 30, "bce", "mse")(runs),
                       ((">=", 0.1), ("<=", -0.1))),
    ("Cross-entropy: after 30 epochs it stood at {bce} validation accuracy, MSE at {mse}. "
     "MSE's gradient carries p(1 − p), nearly 0 at a saturated output, so MSE learned slowly.",
     "MSE: after 30 epochs it stood at {mse} validation accuracy, cross-entropy at {bce}.",
     "Neither: after 30 epochs cross-entropy stood at {bce} validation accuracy, MSE at "
     "{mse}."),
    _race_facts, runs=("mse", "bce"))


WHY_NOT_MSE_BCE = graded(
    "From this saturated start, where will validation accuracy stand after 30 epochs?",
    ("Below 80 %", "80 % to 95 %", "95 % or more"),
    ("Below 80 %: after 30 epochs validation accuracy was {value}.",
     "Between 80 % and 95 %: after 30 epochs validation accuracy was {value}.",
     "95 % or more: after 30 epochs validation accuracy was {value}. Cross-entropy's "
     "gradient p − y is largest exactly where the saturated model is confidently wrong."),
    lambda runs: at_epoch(runs["bce"], "val_accuracy", 30),
    (("<", 0.8), ("<", 0.95)), show=percent, runs=("bce",))


ONE_NEURON_MSE = graded(
    "Where the neuron is confidently wrong (w = −10, b = 0), how steep will MSE's surface "
    "be?",
    ("Nearly flat", "Gently sloped", "Steep"),
    ("Nearly flat: its slope there is {value}. MSE's gradient carries p(1 − p), which is "
     "nearly 0 where the sigmoid is saturated, so gradient descent barely moves.",
     "Gently sloped: its slope there is {value}.",
     "Steep: its slope there is {value}."),
    lambda runs: m.slope_at(runs, THIS), (("<=", 0.01), ("<", 0.5)),
    show=lambda v: numbers.number(v, 2))


ONE_NEURON_BCE = graded(
    "Where will 300 epochs of gradient descent take this neuron's validation accuracy?",
    ("Below 50 %", "50 % to 85 %", "85 % or more"),
    ("Below 50 %: it ended at {value} validation accuracy.",
     "Between 50 % and 85 %: it ended at {value} validation accuracy.",
     "85 % or more: it ended at {value} validation accuracy. Cross-entropy's surface is a "
     "convex funnel, so every way down leads to its minimum."),
    lambda runs: final(runs[THIS], "val_accuracy"), (("<", 0.5), ("<", 0.85)),
    show=percent)


def _accuracy_facts(runs: Runs) -> Mapping[str, str]:
    return {"before": percent(measured(m.accuracy_at_best_loss(runs))),
            "after": percent(measured(final(runs[THIS], "val_accuracy")))}


LOSS_NOT_METRIC = Question(
    "Once the validation loss passes its lowest point and climbs, what will validation "
    "accuracy do?",
    ("Fall by more than 3 points", "Stay within 3 points", "Rise by more than 3 points"),
    lambda runs: grade(m.accuracy_change_since_best_loss(runs),
                       (("<", -0.03), ("<=", 0.03))),
    ("Fall: validation accuracy went from {before} at the lowest validation loss to "
     "{after} at the end.",
     "Stay within 3 points: validation accuracy was {before} at the lowest validation loss "
     "and {after} at the end. The loss grows on the points it gets wrong, ever more "
     "confidently; accuracy only counts them.",
     "Rise: validation accuracy went from {before} at the lowest validation loss to "
     "{after} at the end."),
    _accuracy_facts)


LINEAR_BCE_BREAKS = graded(
    "A linear output trained with cross-entropy, whose logarithms need predictions between "
    "0 and 1: when will the first one leave that range?",
    ("In the first epoch", "In epochs 2 to 10", "Later, or never"),
    ("In the first epoch: a prediction left the range 0 to 1, the loss became NaN and "
     "training stopped. Nothing in a linear output keeps it inside.",
     "In epoch {value}: a prediction left the range 0 to 1, the loss became NaN and "
     "training stopped.",
     "Later, or never: {value}."),
    m.diverged_in_epoch, (("<=", 1), ("<=", 10)),
    show=lambda v: "no prediction ever left it" if math.isinf(v) else
    f"a prediction left it in epoch {v:.0f}, and training stopped")
"""Asks when, not whether: the pair's verdict (invalid) already says that it can fail. A run
that never stops measures inf: "later, or never", a decided answer."""


HINGE = graded(
    "By the end, what share of the training points will sit beyond the margin, where "
    "hinge loss stops pushing?",
    ("Under half", "Half to 80 %", "80 % or more"),
    ("Under half: {value} of the training points ended beyond the margin.",
     "Half to 80 %: {value} of the training points ended beyond the margin.",
     "80 % or more: {value} of the training points ended beyond the margin (s·score ≥ 1), "
     "each with gradient exactly 0."),
    m.beyond_margin_share, (("<", 0.5), ("<", 0.8)), show=percent)


SPIRAL_SOFTMAX = graded(
    "On three spiral arms wound together, where will validation accuracy end?",
    ("Below 60 %", "60 % to 90 %", "90 % or more"),
    ("Below 60 %: it ended at {value}.",
     "Between 60 % and 90 %: it ended at {value}.",
     "90 % or more: it ended at {value}. Cross-entropy kept pushing up the true class's "
     "probability until the regions followed the arms."),
    lambda runs: final(runs[THIS], "val_accuracy"), (("<", 0.6), ("<", 0.9)),
    show=percent)


def _outlier_question(loss: str) -> Question:
    return graded(
        f"A tenth of the points are outliers far above the line. Where will {loss}'s "
        f"fitted line end up?",
        ("With the bulk of the points", "Pulled up towards the outliers"),
        ("With the bulk of the points: its mean offset from the true line is {value}. "
         "Huber counts large errors linearly, so each outlier pulls with a capped force."
         if loss == "Huber" else
         "With the bulk of the points: its mean offset from the true line is {value}.",
         "Pulled up: on average it ends {value} above the true line. Squared error lets "
         "each outlier pull harder the further away it is." if loss == "MSE" else
         "Pulled up: on average it ends {value} above the true line."),
        m.offset_from_line(THIS, False), (("<", 0.3),), show=signed)


OUTLIERS_MSE = _outlier_question("MSE")
OUTLIERS_HUBER = _outlier_question("Huber")


def _accuracy_over_majority(runs: Runs) -> float:
    return final(runs[THIS], "val_accuracy") - m.majority_share(runs)


def _imbalance_facts(runs: Runs) -> Mapping[str, str]:
    return {"accuracy": percent(measured(final(runs[THIS], "val_accuracy"))),
            "majority": percent(measured(m.majority_share(runs)))}


IMBALANCED_FOCAL = Question(
    "One point in ten is class 1, so calling every point class 0 already scores about 90 %. "
    "Where will this model's validation accuracy end?",
    ("No better than that", "Up to 2 points better", "More than 2 points better"),
    lambda runs: grade(_accuracy_over_majority(runs), (("<=", 0.0), ("<", 0.02))),
    ("No better: it ended at {accuracy} validation accuracy; calling every point class 0 "
     "scores {majority} here.",
     "Up to 2 points better: it ended at {accuracy} validation accuracy, against {majority} "
     "for calling every point class 0.",
     "More than 2 points better: it ended at {accuracy} validation accuracy, against "
     "{majority} for calling every point class 0. Accuracy counts both classes together: "
     "how much of class 1 is found, its recall, is a question of its own."),
    _imbalance_facts)
"""About the boundary and the accuracy the Train view shows (its frame line)."""


CALIBRATED_BCE_MSE = graded(
    "Trained with cross-entropy, how far will the model's confidence end from how often "
    "it is right (its calibration error)?",
    ("4 % or less", "4 % to 10 %", "Over 10 %"),
    ("4 % or less: its expected calibration error ended at {value}. Cross-entropy is a "
     "proper scoring rule: its best prediction is the true probability.",
     "4 % to 10 %: its expected calibration error ended at {value}.",
     "Over 10 %: its expected calibration error ended at {value}."),
    m.ece(THIS), (("<=", 0.04), ("<=", 0.1)), show=lambda v: f"{v:.3f} ({percent(v)})")
"""The number as the Calibration view's "ECE, validation" shows it, then as a share."""


def _ece_facts(runs: Runs) -> Mapping[str, str]:
    """The lowest and final validation ECE as the Calibration view writes them (its replay's
    frames, its "ECE, validation"), the lowest's epoch, and their ratio."""
    ece = m.validation_reliability(runs[THIS]).ece
    lowest, last = measured(np.nanmin(ece)), measured(ece[-1])
    return {"value": numbers.number(measured(m.ece_growth(runs)), 2),
            "epoch": f"{measured(m.lowest_ece_epoch(runs)):.0f}",
            "lowest": f"{lowest:.3f}", "final": f"{last:.3f}"}


OVERCONFIDENT = Question(
    "Trained for 800 epochs on 200 noisy points, what will the calibration error do after "
    "its lowest point?",
    ("End near its lowest", "Grow, but less than double", "At least double"),
    lambda runs: grade(m.ece_growth(runs), (("<", 1.25), ("<", 2.0))),
    ("End near its lowest: it was lowest in epoch {epoch}, {lowest}, and ended at {final}.",
     "Grow, but less than double: it was lowest in epoch {epoch}, {lowest}, and ended at "
     "{final}, {value} times as much.",
     "At least double: it was lowest in epoch {epoch}, {lowest}, and ended at {final}, "
     "{value} times as much. The network learned its training points, noise and all, and "
     "grew surer than it is right."),
    _ece_facts)


SKEWED_ESTIMATES = graded(
    "The noise only pushes upwards. Pinball loss with τ = 0.9 fits the line on screen: what "
    "share of the validation points will end below it?",
    ("About half", "About three in four", "About nine in ten"),
    ("About half: {value} of the validation points ended below the fit.",
     "About three in four: {value} of the validation points ended below the fit.",
     "About nine in ten: {value} of the validation points ended below the fit. Pinball "
     "with τ = 0.9 charges a point above the line 9 times what it charges one below, so "
     "the fit settles where 90 % lie below: the 90th percentile."),
    m.share_below(THIS), (("<", 0.65), ("<", 0.82)), show=percent)
"""About the run the Train view animates (its fit, and the share below it under the chart)."""


LEARNED_NOISE = graded(
    "The scatter grows away from x = 0. The network learns a σ for every x: what share of "
    "the validation points will its band, mean ± 2σ, hold?",
    ("Under 80 %", "80 % to 90 %", "90 % or more"),
    ("Under 80 %: mean ± 2σ held {value} of the validation points.",
     "80 % to 90 %: mean ± 2σ held {value} of the validation points.",
     "90 % or more: mean ± 2σ held {value} of the validation points (a Gaussian puts "
     "95.4 % there). The band widens where the scatter grows: the Gaussian negative "
     "log-likelihood lets the network learn its own uncertainty."),
    m.sigma_coverage, (("<", 0.8), ("<", 0.9)), show=percent)
"""About the shaded band the Train view draws under its chart (the fit panel)."""


def _lowest_count_question(fit: str, why_low: str, why_high: str) -> Question:
    return graded(
        f"Where will the {fit}'s lowest prediction over x from −2.5 to 2.5 be?",
        ("Below 0", "Between 0 and 0.2", "Above 0.2"),
        (f"Below 0: its lowest prediction is {{value}}, a negative count. {why_low}".strip(),
         "Between 0 and 0.2: its lowest prediction is {value}.",
         f"Above 0.2: its lowest prediction is {{value}}. {why_high}".strip()),
        m.lowest_prediction(THIS), (("<", 0.0), ("<=", 0.2)), show=signed)


COUNTS_POISSON = _lowest_count_question(
    "fitted rate", "", "An exp output is positive everywhere.")
COUNTS_MSE = _lowest_count_question(
    "fitted line", "Nothing in a linear output keeps it above 0.", "")

