"""What is said: verdicts and the sentences that give their reasons.

``check`` words the verdict of a built-in triple (its headline and a reason that names every
failure); ``judge`` reads a verdict off the three measured answers (``measured``) for any loss,
and the ``*_sentence`` functions put those answers' numbers into words. The rule both follow:
- ``matched``: all three answers hold (the pair is declared in ``LINKS``);
- ``invalid``: the loss is undefined for outputs the activation produces (question 2), it is
  degenerate (no minimum that depends on the targets: question 1), or no confidently wrong
  answer gets any gradient at all (question 3);
- ``mismatched``: it trains, but an answer is off, and the reason says which.
The tests hold ``check``, ``judge`` and an independent textbook table to one another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from explorer import activations, losses
from explorer.pairing.declared import (
    CATEGORICAL_CE,
    DEFAULT_PAIR,
    ESTIMATES,
    NON_NEGATIVE,
    NUMERIC_LOSSES,
    PROBLEM_LABELS,
    SATURATING,
    Link,
    gradient_at_z,
    link,
    matched_activations,
)
from explorer.pairing.measured import (
    CLASS_SHARES,
    EVEN,
    SKEWED,
    VANISHING,
    WRONG_Z,
    DomainAnswer,
    GradientAnswer,
    Optimum,
    OptimumAnswer,
    RuleAnswers,
    probe,
    rule_answers,
)


@dataclass(frozen=True)
class Pairing:
    verdict: str
    """'matched', 'mismatched' or 'invalid'."""
    headline: str
    reason: str


@cache
def check(problem: str, activation: str, loss: str) -> Pairing:
    """The verdict and a short explanation for one (problem, activation, loss) triple."""
    if problem not in losses.PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: "
                         f"{', '.join(losses.PROBLEMS)}")
    if loss == losses.CUSTOM:
        raise ValueError("a typed formula has no row in the pairing table: ask "
                         "pairing.rule_answers(problem, activation, loss) for its answers")
    act = activations.get(activation)
    loss_obj = losses.get(loss)
    if activation not in activations.OUTPUT_ACTIVATIONS:
        raise ValueError(f"{activation!r} is not an output activation; choose one of: "
                         f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")
    invalid = _invalid(problem, act, loss_obj)
    if invalid is not None:
        return Pairing("invalid", *invalid)
    row = link(problem, activation, loss)
    if row is not None:
        return Pairing("matched", f"{act.label} + {loss_obj.label}: a matched pair",
                       _matched_reason(row, act, loss_obj))
    return Pairing("mismatched", *_mismatch(problem, act, loss_obj))


def _invalid(problem: str, act, loss) -> tuple[str, str] | None:
    """(headline, reason) when the triple cannot work at all, else None."""
    if problem not in loss.problems:
        return (f"{loss.label} does not fit {_lower(problem)}",
                f"{loss.label} expects {loss.target_encoding}; {_lower(problem)} targets are "
                f"not that. It is for: {', '.join(_lower(p) for p in loss.problems)}.")
    if act.key == "softmax" and problem != "multiclass" and loss.outputs_per_target > 1:
        return ("Softmax over one unit is always 1",
                "Softmax normalizes across output units. The mean comes from a single unit, "
                "so softmax returns 1 whatever the input: the mean cannot learn anything "
                "(its gradient is exactly zero), and only the scale unit moves, to the "
                "spread of the targets around 1.")
    if act.key == "softmax" and problem != "multiclass":
        return ("Softmax over one unit is always 1",
                "Softmax normalizes across output units. With a single output it returns 1 "
                "whatever the input, so the network cannot learn anything: the loss stays "
                "flat and the gradient is exactly zero.")
    if problem == "multiclass" and loss.key in CATEGORICAL_CE:
        if act.key == "sigmoid":
            return ("Degenerate: every output → 1 minimises it",
                    f"{loss.label} reads only the true class's output, −log p_y. With "
                    "independent sigmoids nothing ties the classes together, so the loss is "
                    "minimised by pushing every output to 1: it falls to nearly 0 while the "
                    "outputs stop telling the classes apart, and the accuracy is arbitrary. "
                    "Independent sigmoids belong with binary cross-entropy per class "
                    "(multi-label problems); for one class out of several, use softmax.")
        if act.key in ("exp", "softplus", "relu"):
            return (f"{act.label} outputs are not a probability distribution",
                    f"{loss.label} reads p as class probabilities that sum to 1. "
                    f"{_a(act.label)} output is not normalised, so the loss could be "
                    "lowered without bound just by inflating p_y (−log p_y < 0 once p_y > 1) "
                    "without separating the classes; the engine stops the run with NaN as "
                    f"soon as an output leaves [0, 1]. Use {_use(loss.key, problem)}.")
    a_lo, a_hi = act.output_range
    l_lo, l_hi = loss.prediction_range
    reaches_end = act.range_text.startswith("[")  # ReLU's 0 is an output, not a limit
    if a_lo < l_lo or a_hi > l_hi or (loss.open_low and a_lo == l_lo and reaches_end):
        return (f"{act.label} outputs can leave {loss.label}'s domain",
                _domain_reason(act, loss, problem))
    return None


def _matched_reason(row: Link, act, loss) -> str:
    if row.canonical:
        gradient = (f"${row.grad_z}$: proportional to the error, largest exactly where the "
                    "prediction is most wrong")
    elif loss.margin and loss.key == "squared_hinge":
        gradient = (f"${row.grad_z}$: a push proportional to the margin violation, which "
                    "shrinks to 0 once a point's score is at least 1 on its own side")
    elif loss.margin:
        gradient = (f"${row.grad_z}$: a constant push until a point is beyond the margin "
                    "(its score at least 1 on its own side, for several classes at least 1 "
                    "above every other class and above 0), then nothing")
    elif loss.outputs_per_target > 1:
        measured = probe(row.problem, row.activation, row.loss)
        gradient = (f"${row.grad_z}$. At σ = 1 the mean's gradient is the error itself "
                    f"(|dL/dz| = {measured.wrong_gradient:.2g} at z = {measured.wrong_z:g}), "
                    "but it is divided by the predicted variance σ²: once σ grows where the "
                    "mean fits badly, the large errors push less and can be explained away "
                    "as noise (Seitzer et al. 2022)")
    else:
        measured = probe(row.problem, row.activation, row.loss)
        gradient = (f"${row.grad_z}$, which stays large where the prediction is confidently "
                    f"wrong (|dL/dz| = {measured.wrong_gradient:.2g} at z = "
                    f"{measured.wrong_z:g})")
    return (f"{loss.likelihood_sentence} {act.label} maps the pre-activation z onto "
            f"{act.range_text}, where the loss is defined; the optimum estimates "
            f"{row.estimates}; and the gradient at z is {gradient}.")


FAILURES = ("margin", "range", "vanishing", "noise", "optimum")
"""The ways a mismatched pair can fail, in the order its reason names them: a margin that
is never met (or a score that is never negative), targets out of the output's reach, a
gradient that vanishes when confidently wrong, a wrong noise model, an optimum that is not
the quantity asked for (focal loss's pull towards 0.5)."""


def failure_kinds(problem: str, activation: str, loss: str) -> tuple[str, ...]:
    """Which of ``FAILURES`` apply to a mismatched triple (empty for matched or invalid)."""
    if check(problem, activation, loss).verdict != "mismatched":
        return ()
    act, loss_obj = activations.get(activation), losses.get(loss)
    return tuple(kind for kind, found in zip(FAILURES, _failures(problem, act, loss_obj))
                 if found is not None)


def _failures(problem: str, act, loss) -> list[tuple[str, str] | None]:
    return [_margin_failure(problem, act, loss), _range_failure(problem, act, loss),
            _gradient_failure(problem, act, loss), _noise_failure(problem, act, loss),
            _optimum_failure(problem, act, loss)]


def _optimum_failure(problem, act, loss):
    if not (problem == "binary" and act.key == "sigmoid" and loss.key == "focal"):
        return None
    cases = rule_answers(problem, act.key, loss.key).optimum.cases
    pairs = ", ".join(f"{c.minimiser[0]:.2f} for q = {c.wanted[0]:g}" for c in cases)
    return ("Works, but its optimum is not the probability of class 1",
            "Focal loss picks the right class (it is classification-calibrated) but is not a "
            "proper scoring rule: for a true frequency q its expected loss is lowest at "
            f"{pairs} (γ = {loss.params['gamma']:g}), pulled towards 0.5, so the outputs "
            "order the points like the probability without being calibrated. A class "
            "weight α moves the optimum again, up or down.")


def _mismatch(problem: str, act, loss) -> tuple[str, str]:
    """(headline, reason) of a triple that trains but is not matched: the first applicable
    failure names the headline; the reason lists every one that applies."""
    failures = [f for f in _failures(problem, act, loss) if f is not None]
    if not failures:
        failures = [(f"{act.label} is not {loss.label}'s natural partner",
                     f"{act.label} is not the natural link for {loss.label} here; the "
                     f"gradient at z is ${gradient_at_z(act.key, loss.key)}$. Matched: "
                     f"{_use(loss.key, problem)}.")]
    return failures[0][0], " ".join(reason for _, reason in failures)


def _margin_failure(problem, act, loss):
    if not loss.margin:
        return None
    if problem == "binary" and act.key in NON_NEGATIVE:
        return (f"{act.label} never reaches the −1 side of the margin",
                f"{loss.label} reads the labels as −1 and +1 and classifies by the sign of "
                f"the output, but {act.label} outputs are never negative: class 0 is never "
                "predicted (a ReLU only by an output of exactly 0) and its loss never drops "
                "below 1. Use a linear output.")
    if act.key in SATURATING:
        unreachable = ("the true class's probability can never beat another's by 1"
                       if act.key == "softmax" else
                       f"a {act.label.lower()} output never gets a score 1 beyond the "
                       "boundary" if act.key == "tanh" else
                       "two sigmoid outputs can never differ by 1")
        return ("The margin can never be met",
                f"{loss.label} wants a score at least 1 beyond the boundary, but "
                f"{unreachable}, so every point keeps contributing. Margin losses need an "
                "unbounded score: a linear output.")
    return None


def _range_failure(problem, act, loss):
    if problem not in ("regression", "counts"):
        return None
    a_lo, a_hi = act.output_range
    if problem == "counts" and a_hi < np.inf:
        return (f"{act.label} cannot predict a count above {a_hi:g}",
                f"{_a(act.label)} output lies in {act.range_text}, so every count above "
                f"{a_hi:g} is out of reach and its error never goes away.")
    if problem == "regression" and (a_lo > -np.inf or a_hi < np.inf):
        return (f"{act.label} cannot reach every target",
                f"{_a(act.label)} output lies in {act.range_text}, but regression targets "
                "can be any real number: targets outside that range can never be fitted, "
                "and the error there never goes away.")
    return None


def _gradient_failure(problem, act, loss):
    measured = probe(problem, act.key, loss.key)
    if not measured.vanishes:
        return None
    where = {"sigmoid": "the sigmoid saturates", "tanh": "tanh saturates",
             "softmax": "the softmax saturates", "exp": "the prediction is far too small",
             "softplus": "the prediction is far too small",
             "relu": "the pre-activation is negative",
             "linear": "the prediction is below 0, where the loss clips it"}[act.key]
    size = ("exactly 0" if measured.wrong_gradient == 0 else
            f"{measured.wrong_gradient:.1e}")
    alt_act, alt_loss = _alternative(problem, loss.key)
    alt = probe(problem, alt_act, alt_loss)
    return ("Works, but the gradient vanishes when confidently wrong",
            f"The gradient at z is ${gradient_at_z(act.key, loss.key)}$, which is nearly 0 "
            f"where {where}. On a confidently wrong answer (z = {measured.wrong_z:g}) it is "
            f"{size} here, against {alt.wrong_gradient:.2g} with "
            f"{activations.get(alt_act).label.lower()} + {losses.get(alt_loss).label}, so the "
            "network barely learns from its worst mistakes (plateaus).")


def _alternative(problem: str, loss: str) -> tuple[str, str]:
    """The pair to hold up against a mismatch: the loss's own matched output, else the
    problem's default pair."""
    partners = matched_activations(loss, problem)
    return (partners[0], loss) if partners else DEFAULT_PAIR[problem]


def _noise_failure(problem, act, loss):
    if problem in ("binary", "multiclass") and loss.key == "mse":
        labels = "0/1 labels" if problem == "binary" else "one-hot labels"
        brier = ("the Brier score" if problem == "binary"
                 else "the Brier score divided by the number of classes")
        probabilities = (act.key == "sigmoid" and problem == "binary") or act.key == "softmax"
        if probabilities:
            optimum = ("its optimum is still the class probability, so a well-fitted output "
                       "is calibrated")
            cost = ("a confidently wrong point costs at most 1 per output, where "
                    "cross-entropy charges without bound")
        else:
            output = _a(act.label).lower()
            optimum = (f"its optimum is still the class probability, but {output} output "
                       f"lies in {act.range_text}, so fitted values can leave [0, 1] and are "
                       "not held to be probabilities")
            cost = ({"linear": "a confident correct answer that overshoots the label "
                               "(p = 1.5 for y = 1) costs as much as an undecided p = 0.5",
                     "tanh": "outputs can be negative: p = −0.5 for y = 0 costs as much "
                             "as p = 0.5"}.get(act.key, "outputs above 1 are punished like "
                                               "mistakes although they overshoot the right "
                                               "label"))
        likelihood = "Bernoulli" if problem == "binary" else "categorical"
        return (f"Works, but MSE is not the {likelihood} likelihood",
                f"On {labels} MSE is {brier}, a proper scoring rule: {optimum}. But it treats "
                f"the labels as real numbers with Gaussian noise, and {cost}.")
    if problem == "counts" and loss.key in NUMERIC_LOSSES + ("msle",):
        what = {"mae": "MAE estimates the median count, not the mean",
                "msle": "MSLE fits log(1 + y), so it estimates a geometric-mean-like "
                        "centre, not the mean count"}.get(
            loss.key, f"{loss.label} assumes the same noise at every level, but count noise "
                      "grows with the mean (Poisson), so large counts dominate the fit")
        negative = (" A linear output can also predict negative counts."
                    if act.key == "linear" else "")
        return (f"Works, but {loss.label} ignores how counts behave",
                f"{what}.{negative}")
    if problem == "regression" and loss.key == "msle":
        return ("Works, but MSLE is for non-negative targets",
                "MSLE compares log(1 + p) with log(1 + y): regression targets below 0 are "
                "clipped to 0, and so are predictions (zero gradient there).")
    if problem == "multiclass" and act.key == "sigmoid":
        return ("Works, but the classes do not compete",
                "Sigmoid scores each class on its own, so the outputs need not sum to 1 and "
                "the classes do not compete as softmax makes them.")
    return None


def _domain_reason(act, loss, problem) -> str:
    lo, hi = loss.prediction_range
    if (lo, hi) == (0.0, 1.0) and loss.reduce == "sum":
        need = "probabilities in [0, 1], because it takes log p of the true class"
    elif (lo, hi) == (0.0, 1.0):
        need = "a probability in [0, 1], because it takes log p and log(1 − p)"
    elif loss.open_low:
        need = "a positive prediction, because it takes log p (log 0 = −∞)"
    else:
        need = "a non-negative prediction, because it takes log p"
    leaves = f"leaves {loss.range_text}"
    if loss.open_low and act.output_range[0] == lo:
        leaves = f"is exactly {lo:g} (which {act.label} outputs for every z ≤ 0)"
    return (f"{loss.label} needs {need}. {_a(act.label)} output lies in {act.range_text}, so "
            f"as soon as one prediction {leaves} the loss is undefined and training "
            f"stops with NaN. Use {_use(loss.key, problem)}.")


def _use(loss: str, problem: str, default_only: bool = False) -> str:
    """'a sigmoid output', or the problem's default pair when the loss has no partner."""
    partners = matched_activations(loss, problem)
    if partners and not default_only:
        return " or ".join(f"{_a(activations.get(a).label)} output".lower() for a in partners)
    if partners:
        return f"{activations.get(partners[0]).label.lower()} + {losses.get(loss).label}"
    activation, default_loss = DEFAULT_PAIR[problem]
    return (f"{activations.get(activation).label.lower()} + "
            f"{losses.get(default_loss).label} (no output here is {losses.get(loss).label}'s "
            "natural link)")


def _lower(problem: str) -> str:
    return PROBLEM_LABELS[problem].lower()


def _a(word: str) -> str:
    """'A sigmoid', 'An exponential'."""
    return ("An " if word[:1].lower() in "aeiou" else "A ") + word.lower()



def matrix(problem: str) -> dict[tuple[str, str], Pairing]:
    """Verdicts for every (output activation, loss) serving ``problem``."""
    return {(a, key): check(problem, a, key)
            for a in activations.OUTPUT_ACTIVATIONS for key in losses.for_problem(problem)}


# ----------------------------------------------------------------------------------------
# A verdict for a loss the table has no row for (a typed formula), read off the three answers


@dataclass(frozen=True)
class AnsweredPairing(Pairing):
    """A ``Pairing`` decided by the three answers (``judge``), which it carries."""

    answers: RuleAnswers | None = None


def judge(answers: RuleAnswers) -> AnsweredPairing:
    """The verdict the three answers give, for any loss (the module docstring's rule).

    On every built-in triple it is ``check``'s verdict, and on a typed twin of a built-in
    loss the built-in's (tests/test_pairing.py holds both to an independent table).
    """
    act = activations.get(answers.activation)
    reason = " ".join(answers.sentences)
    if not answers.defined.ok:
        return AnsweredPairing(
            "invalid", f"Not defined on the whole range of the {act.label.lower()} output",
            reason, answers)
    if answers.optimum.degenerate:
        return AnsweredPairing("invalid", "Degenerate: no minimum that depends on the targets",
                               reason, answers)
    if answers.gradient.none_at_all:
        return AnsweredPairing("invalid", "No gradient at all where the answer is wrong: "
                               "nothing to learn from", reason, answers)
    if answers.holds:
        return AnsweredPairing("matched", "All three answers are what a matched pair gives",
                               reason, answers)
    failed = []
    if not answers.optimum.ok:
        failed.append(f"its optimum is not {ESTIMATES[answers.problem]}")
    if answers.gradient.vanishes:
        failed.append("the gradient vanishes when confidently wrong")
    elif answers.gradient.redescending:
        failed.append("the gradient redescends: it dies away as the error grows")
    elif answers.gradient.wrong_way:
        failed.append("the gradient points the wrong way when confidently wrong")
    headline = "; ".join(failed)
    return AnsweredPairing("mismatched", headline[:1].upper() + headline[1:], reason, answers)


# ----------------------------------------------------------------------------------------
# The three answers in words


def _show(value: float) -> str:
    if np.isnan(value):
        return "undefined"
    return f"{value:.3g}" if np.isfinite(value) else ("∞" if value > 0 else "−∞")


def _level(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _ordinal_quantile(level: float) -> str:
    return f"{_level(level)}-quantile"


def _score_name(cases: tuple[Optimum, ...]) -> str:
    """What a score's minimisers are as a function of q = P(y = 1), when one formula fits."""
    q = np.array([c.wanted[0] for c in cases])
    f = np.array([c.minimiser[0] for c in cases])
    logit = np.log(q / (1 - q))
    names = [(logit, "the log-odds log(q / (1 − q)): σ(score) = q, a probability once "
                     "squeezed through a sigmoid"),
             (logit / 2, "half the log-odds, ½ log(q / (1 − q))"),
             (2 * q - 1, "2q − 1"),
             (np.sign(2 * q - 1), "±1, the class itself")]
    for want, name in names:
        if np.all(np.abs(f - want) <= 0.03 * np.maximum(1.0, np.abs(want))):
            return f": the score is {name}"
    return ""


def optimum_estimates(answer: OptimumAnswer, detail: Optimum | None = None,
                      threshold: float | None = None) -> str:
    """What the optimum is, in words with its numbers (``OptimumAnswer.estimates``)."""
    kind, problem, cases = answer.kind, answer.problem, answer.cases
    several = problem == "multiclass"
    probability = ESTIMATES[problem] if problem in ("binary", "multiclass") else ""
    if kind == "nothing":
        assert detail is not None
        where = ", ".join(_show(v) for v in detail.minimiser)
        if detail.unbounded:
            return (f"nothing: for {detail.target} it has no minimum and keeps falling "
                    f"without bound towards p = {where}, where the outputs end (degenerate)")
        return (f"nothing: for every target it keeps falling towards the same p = {where}, "
                "where the outputs end, so it does not depend on the targets (degenerate)")
    if kind == "probability":
        return probability
    if kind == "class" and answer.output == "probability":
        side = "the highest output" if several else "the side of 0.5"
        return f"the class ({side}), not {probability}"
    if kind == "class":
        if any(c.at_edge for c in cases):
            return ("the class by the sign of the score, but with no minimum inside the "
                    "outputs: the score runs to the end of its range")
        if several:
            return "the class, as the highest score"
        return "the class, as the sign of the score" + _score_name(cases)
    if kind == "probability off range":
        if several:
            return ("the class shares themselves, through outputs that are not held to "
                    "probabilities (they can leave [0, 1] and need not sum to 1)")
        return ("P(y = 1) itself, through an output that can leave [0, 1]: not held to be a "
                "probability, and read as a score at 0 its sign is not the class")
    if kind == "wrong class":
        bad = next(c for c in cases if not c.ok)
        if several:
            return f"not even the class: for {bad.target} another class's output is highest"
        where = ", at the end of the outputs" if bad.at_edge else ""
        return (f"not even the class: for {bad.target} the lowest point, p = "
                f"{_show(bad.minimiser[0])}, is on the wrong side of {threshold:g}{where}")
    if kind == "mean":
        return "the conditional mean"
    if kind == "median":
        return "the conditional median"
    if kind == "quantile":
        return f"the conditional {_ordinal_quantile(answer.level or 0.0)} of y"
    if kind == "expectile":
        return f"the conditional {_level(answer.level or 0.0)}-expectile of y"
    if kind == "centre":
        centre = cases[-1].minimiser[0]  # the skewed sample's
        mean, median = float(SKEWED.mean()), float(np.median(SKEWED))
        if median - 0.02 <= centre <= mean + 0.02:
            return ("a robust centre (an M-estimate), neither a quantile nor an expectile: "
                    "between the median and the mean on skewed targets")
        side = "beyond the mean, towards the long tail" if centre > mean else (
            "below the median, towards the mode")
        return f"a centre {side}, neither a quantile nor an expectile"
    if kind == "biased":
        name = {"mean": "the mean", "median": "the median"}.get(
            detail.target if detail else "", "a centre of y")
        shift = answer.level or 0.0
        sign = "plus" if shift > 0 else "minus"
        return f"not y itself but {name} {sign} {_show(abs(shift))} (a biased loss)"
    if kind == "unreachable":
        assert detail is not None
        if detail.at_edge:
            return (f"not the target itself: for {detail.target} it has no minimum and keeps "
                    f"falling towards p = {_show(detail.minimiser[0])}, where the outputs or "
                    "the loss end")
        return (f"not the target itself: for {detail.target} it is lowest at p = "
                f"{_show(detail.minimiser[0])}")
    if kind == "rate":
        return "the mean count (the rate)"
    if kind == "rate off range":
        return "the mean count, but through an output that can go negative"
    if kind == "median count":
        return "the median count, not the mean"
    bad = next((c for c in cases if not c.ok), cases[0])
    return f"not the mean count: for {bad.target} it is lowest at p = {_show(bad.minimiser[0])}"


def optimum_sentence(answer: OptimumAnswer) -> str:
    cases = answer.cases
    if answer.problem == "binary":
        found = ", ".join(_show(c.minimiser[0]) for c in cases)
        head = (f"For labels that are 1 with probability "
                f"{', '.join(f'{q:g}' for q in CLASS_SHARES)} the expected loss is lowest at "
                f"p = {found}")
    elif answer.problem == "multiclass":
        head = "The expected loss is lowest at " + "; ".join(
            f"{c.target} -> p = ({', '.join(_show(v) for v in c.minimiser)})" for c in cases)
    elif answer.problem == "regression":
        *singles, even, skewed = cases
        shown = ", ".join(f"{_show(c.minimiser[0])} for {c.target}" for c in singles)
        level = float(np.mean(SKEWED < skewed.minimiser[0]))
        head = (f"The loss is lowest at p = {shown}; on a skewed sample (mean "
                f"{SKEWED.mean():.2f}, median {np.median(SKEWED):.2f}) at p = "
                f"{_show(skewed.minimiser[0])}, its {level:.2f} quantile, and on a symmetric "
                f"one (mean and median {EVEN.mean():g}) at p = {_show(even.minimiser[0])}")
    else:
        head = "The expected loss is lowest at p = " + ", ".join(
            f"{_show(c.minimiser[0])} for {c.target}" for c in cases)
    return f"{head}: it estimates {answer.estimates}."


def _target_text(problem: str, target: float) -> str:
    if problem == "multiclass":
        return "its class true" if target >= 0.5 else "another class true"
    return f"y = {target:g}"


def domain_sentence(answer: DomainAnswer) -> str:
    from explorer.pairing.measured import DEFINED_TARGETS

    targets = ", ".join(_target_text(answer.problem, t)
                        for t in DEFINED_TARGETS.get(answer.problem, ()))
    if answer.ok:
        return (f"The loss and its gradient are finite for every z in [−{WRONG_Z:g}, "
                f"{WRONG_Z:g}] (outputs {_show(answer.outputs[0])} to "
                f"{_show(answer.outputs[1])}) and every target tried ({targets}).")
    z_bad, target = answer.undefined_at or (math.nan, math.nan)
    return (f"Not defined on the whole output range: at z = {z_bad:g} (output "
            f"{_show(answer.undefined_output)}) with {_target_text(answer.problem, target)} "
            f"the loss or its gradient is NaN or infinite ({answer.undefined_share:.0%} of the "
            "sweep), so a run stops there.")


def gradient_sentence(answer: GradientAnswer) -> str:
    quoted = answer.quoted or answer.probes[:2]
    if not quoted:
        return "No confidently wrong answer can be probed: the outputs never leave the target."
    problem = answer.problem
    shown = " and ".join(
        f"{_show(abs(c.gradient))} at z = {c.z:g} ({_target_text(problem, c.target)})"
        for c in quoted)
    head = f"Where the answer is confidently wrong |dL/dz| = {shown}"
    deepest = max(abs(c.z) for c in answer.probes)
    redescends = ""
    if answer.redescending:
        c = answer.redescending[0]
        redescends = (f"it redescends: further out it falls to {_show(abs(c.gradient))} at "
                      f"z = {c.z:g}. The loss itself stops pushing as the error grows (a "
                      "robust, redescending loss), so the most confidently wrong answers are "
                      "given up on.")
    if answer.vanishes:
        gone = {r.series for r in answer.redescending}
        c = next(c for c in answer.probes if c.vanishes and c.series not in gone)
        also = f" On the other side {redescends}" if redescends else ""
        if not math.isfinite(c.gradient):
            return (f"{head}: at z = {c.z:g} it is not even a number (the loss is undefined "
                    f"there), so that mistake teaches the network nothing.{also}")
        return (f"{head}: it vanishes (below {VANISHING:g}: {_show(abs(c.gradient))} at z = "
                f"{c.z:g}), so the worst mistakes barely teach the network.{also}")
    if redescends:
        return f"{head}, but {redescends}"
    if answer.wrong_way:
        c = next(c for c in answer.probes if c.wrong_way)
        return (f"{head}, but at z = {c.z:g} it points the wrong way: gradient descent pushes "
                "the output further from the answer.")
    smallest = min(abs(c.gradient) for c in answer.probes)
    return (f"{head}, and at least {_show(smallest)} out to |z| = {deepest:g}: it does not "
            "vanish, so the worst mistakes keep being corrected.")
