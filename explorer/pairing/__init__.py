"""Which output activation goes with which loss, for which problem, and why.

The pairing rule. A pair is *matched* when the output activation is the loss's natural link
for the problem's targets, which answers three questions:
1. What does the loss's optimum estimate? It must be the quantity the problem asks for, read
   through this output: a centre of the targets (a mean, median or quantile) for regression,
   the rate for counts, the class probability through a probability output, or the class
   itself by the sign (the highest) of a free score for a margin loss.
2. Is the loss defined on the activation's whole output range?
3. Does the gradient at the output's pre-activation z stay away from 0 where the prediction is
   confidently wrong, however wrong?
One rule decides every verdict, built in or typed (``said``'s docstring has it). The parts:
- ``declared``: the links table (``LINKS``), one row per matched pair, and what each problem
  asks for;
- ``measured``: the three questions answered with the trainer's own numbers
  (``rule_answers``, ``probe``), for any loss;
- ``said``: the verdicts and their sentences (``check`` for the built-in table, ``judge`` for
  any set of answers).
``verdict()`` is the face: the table's verdict for a built-in loss, the answers' for a typed
formula, and the same verdict for a typed twin of a built-in loss.
"""

from __future__ import annotations

from functools import lru_cache

from explorer import losses
from explorer.pairing.declared import (
    CATEGORICAL_CE,
    CLOSED_FORMS,
    DEFAULT_PAIR,
    ESTIMATES,
    LINKS,
    NON_NEGATIVE,
    NUMERIC_LOSSES,
    PROBLEM_LABELS,
    RIVALS,
    SATURATING,
    Link,
    gradient_at_z,
    link,
    matched_activations,
    rivals,
)
from explorer.pairing.measured import (
    CLASS_GRID_POINTS,
    CLASS_MIXES,
    CLASS_SHARES,
    CLASS_Z_RANGE,
    DEFINED_TARGETS,
    DEFINED_Z,
    EVEN,
    OPTIMUM_Z,
    PROBE_CLASSES,
    PROBE_TARGETS,
    RATES,
    REDESCENDING,
    REGRESSION_TARGETS,
    SKEWED,
    TOLERANCE,
    VANISHING,
    WRONG_DEPTHS,
    WRONG_Z,
    DomainAnswer,
    GradientAnswer,
    Optimum,
    OptimumAnswer,
    Probe,
    RuleAnswers,
    WrongAnswer,
    probe,
    rule_answers,
)
from explorer.pairing.said import (
    FAILURES,
    AnsweredPairing,
    Pairing,
    _invalid,
    check,
    failure_kinds,
    judge,
    matrix,
)

__all__ = [
    "CATEGORICAL_CE", "CLASS_GRID_POINTS", "CLASS_MIXES", "CLASS_SHARES", "CLASS_Z_RANGE",
    "CLOSED_FORMS", "DEFAULT_PAIR", "DEFINED_TARGETS", "DEFINED_Z", "ESTIMATES", "EVEN",
    "FAILURES", "LINKS", "NON_NEGATIVE", "NUMERIC_LOSSES", "OPTIMUM_Z", "PROBE_CLASSES",
    "PROBE_TARGETS", "PROBLEM_LABELS", "RATES", "REDESCENDING", "REGRESSION_TARGETS", "RIVALS",
    "SATURATING", "SKEWED", "TOLERANCE", "VANISHING", "WRONG_DEPTHS", "WRONG_Z",
    "AnsweredPairing", "DomainAnswer", "GradientAnswer", "Link", "Optimum", "OptimumAnswer",
    "Pairing", "Probe", "RuleAnswers", "WrongAnswer", "_invalid", "check", "failure_kinds",
    "formula_pairing", "gradient_at_z", "judge", "link", "matched_activations", "matrix",
    "probe", "rivals", "rule_answers", "verdict",
]


@lru_cache(maxsize=256)
def formula_pairing(problem: str, activation: str, formula: str) -> AnsweredPairing:
    """``judge`` of a typed formula's three answers, cached by (problem, activation, text)."""
    loss = losses.get(losses.CUSTOM, formula=formula)
    return judge(rule_answers(problem, activation, loss))


def verdict(problem: str, activation: str, loss: str, loss_params: dict | None = None) -> Pairing:
    """The table's verdict, or for a typed formula (``loss_params["formula"]``) the answers'."""
    if loss == losses.CUSTOM:
        return formula_pairing(problem, activation, (loss_params or {}).get(
            "formula", losses.get(losses.CUSTOM).params["formula"]))
    return check(problem, activation, loss)
