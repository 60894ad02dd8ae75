"""Which output activation goes with which loss, for which problem, and why.

The pairing rule. A pair is *matched* when the output activation is the loss's natural link
for the problem's targets, which answers three questions:
1. What does the loss's optimum estimate? It must be the quantity the problem asks for (a
   conditional mean or median, a class probability, a count rate, or the class itself for a
   margin score).
2. Is the loss defined on the activation's whole output range?
3. Does the gradient at the output's pre-activation z stay away from 0 where the prediction is
   confidently wrong?
Every (problem, activation, loss) triple gets a verdict:
- ``matched``: all three hold; the pair is declared once in ``LINKS``, with its dL/dz;
- ``mismatched``: it trains, but an answer is off (the gradient vanishes when confidently
  wrong, part of the targets cannot be reached, the margin is never met, the noise model is
  wrong), and the reason says which;
- ``invalid``: the loss is undefined for outputs the activation produces, or degenerate (its
  minimum is not a model of the targets at all); a run shows where it breaks.

``LINKS`` is the single declaration; the verdicts, ``matched_activations``, ``DEFAULT_PAIR``
and ``gradient_at_z`` are derived from it. ``probe`` answers questions 2 and 3 with numbers
from the engine's own gradient (``Objective``); the tests check that the table agrees with
the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from explorer import activations, losses
from explorer.objective import Objective

PROBLEM_LABELS = {
    "regression": "Regression",
    "binary": "Binary classification",
    "multiclass": "Multi-class classification",
    "counts": "Count regression (Poisson)",
}
ESTIMATES = {
    "regression": "the conditional mean of y",
    "binary": "the probability of class 1",
    "multiclass": "the probability of each class",
    "counts": "the mean count (the rate)",
}
"""What each problem asks the output for, in words (question 1)."""


@dataclass(frozen=True)
class Link:
    """A matched (activation, loss) pair for one problem: the table's one row type."""

    problem: str
    activation: str
    loss: str
    grad_z: str
    """LaTeX of dL/dz for one sample."""
    estimates: str
    """What the loss's optimum estimates through this output (question 1)."""
    canonical: bool = False
    """True when dL/dz is (a multiple of) p - y: the canonical link of the likelihood."""
    default: bool = False
    """The problem's default pair (exactly one per problem)."""


LINKS: tuple[Link, ...] = (
    Link(problem="regression", activation="linear", loss="mse", grad_z=r"2(p - y)",
         estimates="the conditional mean", canonical=True, default=True),
    Link(problem="regression", activation="linear", loss="mae",
         grad_z=r"\operatorname{sign}(p - y)", estimates="the conditional median"),
    Link(problem="regression", activation="linear", loss="huber",
         grad_z=r"\operatorname{clip}(p - y, -\delta, \delta)",
         estimates="a robust centre (an M-estimate): the mean and median for symmetric "
                   "noise, usually between them for skewed noise"),
    Link(problem="regression", activation="linear", loss="log_cosh", grad_z=r"\tanh(p - y)",
         estimates="a robust centre (an M-estimate): the mean and median for symmetric "
                   "noise, usually between them for skewed noise"),
    Link(problem="binary", activation="sigmoid", loss="bce", grad_z=r"p - y",
         estimates="the probability of class 1", canonical=True, default=True),
    Link(problem="binary", activation="sigmoid", loss="focal",
         grad_z=r"s\left[\gamma\,p_t(1 - p_t)^{\gamma}\log p_t - (1 - p_t)^{\gamma + 1}"
                r"\right],\ s = 2y - 1",
         estimates="a score that orders points like the probability of class 1 but is "
                   "pulled towards 0.5 (not calibrated)"),
    Link(problem="binary", activation="linear", loss="hinge", grad_z=r"-s\,[s\,p < 1]",
         estimates="the class, as the sign of the score"),
    Link(problem="binary", activation="linear", loss="squared_hinge",
         grad_z=r"-2s\max(0, 1 - s\,p)", estimates="the class, as the sign of the score"),
    Link(problem="multiclass", activation="softmax", loss="cce", grad_z=r"p_j - y_j",
         estimates="the probability of each class", canonical=True, default=True),
    Link(problem="multiclass", activation="softmax", loss="sparse_cce",
         grad_z=r"p_j - [j = y]", estimates="the probability of each class", canonical=True),
    Link(problem="multiclass", activation="softmax", loss="kld", grad_z=r"p_j - y_j",
         estimates="the probability of each class", canonical=True),
    Link(problem="multiclass", activation="linear", loss="categorical_hinge",
         grad_z=r"[\text{margin violated}]\,(e_{j^*} - e_{y})",
         estimates="the class, as the highest score, where one class has more than half "
                   "the probability (with no majority its minimum is at equal scores)"),
    Link(problem="counts", activation="exp", loss="poisson", grad_z=r"p - y",
         estimates="the mean count", canonical=True, default=True),
    Link(problem="counts", activation="softplus", loss="poisson",
         grad_z=r"\left(1 - \tfrac{y}{p}\right)\sigma(z)", estimates="the mean count"),
    Link(problem="regression", activation="linear", loss="pinball",
         grad_z=r"\begin{cases} -\tau & y > p \\ 1 - \tau & y < p\end{cases}",
         estimates="the conditional τ-quantile of y (τ = 0.5: the median)"),
    Link(problem="regression", activation="linear", loss="gaussian_nll",
         grad_z=r"\begin{pmatrix} (p - y)\,e^{-s} \\ \tfrac12\left(1 - (y - p)^2 e^{-s}"
                r"\right) \end{pmatrix}",
         estimates="the conditional mean of y and, through the second unit, its variance"),
)
_LINKS = {(link.problem, link.activation, link.loss): link for link in LINKS}
DEFAULT_PAIR: dict[str, tuple[str, str]] = {
    link.problem: (link.activation, link.loss) for link in LINKS if link.default}

SATURATING = ("sigmoid", "tanh", "softmax")
NON_NEGATIVE = ("sigmoid", "softplus", "exp", "relu")
CATEGORICAL_CE = ("cce", "sparse_cce", "kld")
NUMERIC_LOSSES = ("mse", "mae", "huber", "log_cosh")


@dataclass(frozen=True)
class Pairing:
    verdict: str
    """'matched', 'mismatched' or 'invalid'."""
    headline: str
    reason: str


def matched_activations(loss: str, problem: str | None = None) -> tuple[str, ...]:
    """Output activations matched with ``loss`` (for ``problem``, or for any problem)."""
    return tuple(dict.fromkeys(link.activation for link in LINKS if link.loss == loss and (
        problem is None or link.problem == problem)))


def link(problem: str, activation: str, loss: str) -> Link | None:
    """The table's row for a matched triple, or None."""
    return _LINKS.get((problem, activation, loss))


def gradient_at_z(activation: str, loss: str | losses.Loss, problem: str | None = None) -> str:
    """LaTeX for d loss / d z of one sample, z the output pre-activation.

    A matched pair's own simplified form; otherwise the chain rule written out:
    dL/dp (the loss's formula) times a'(z) (the activation's), which is what the engine
    computes. Softmax's a'(z) is a Jacobian, so its product is a sum over k. ``loss`` may be
    a ``Loss`` (a typed formula: its own dL/dp, in brackets).
    """
    act, loss_obj = activations.get(activation), losses.get(loss)
    for row in LINKS:
        if (row.activation, row.loss) == (activation, loss_obj.key) and (
                problem in (None, row.problem)):
            return row.grad_z
    if not act.elementwise:
        return (rf"\sum_k \frac{{\partial L}}{{\partial p_k}}\,{act.derivative_formula},"
                rf"\quad \frac{{\partial L}}{{\partial p_k}} = {loss_obj.grad_formula}")
    dp = loss_obj.grad_formula
    if act.key == "linear":
        return dp
    if "begin{cases}" in dp or "frac" in dp or loss_obj.key == losses.CUSTOM:
        dp = rf"\left({dp}\right)"
    return rf"{dp}\cdot {act.derivative_formula}"


# ----------------------------------------------------------------------------------------
# Questions 2 and 3, measured


WRONG_Z = 8.0
"""A confidently wrong answer: the output pre-activation 8 units on the wrong side."""
VANISHING = 0.01
"""|dL/dz| below this at a confidently wrong answer counts as a vanished gradient. Every
matched pair gives at least 0.5 there; the saturating mismatches give 1e-3 or less."""
PROBE_TARGETS = {"regression": 1.0, "counts": 3.0}
PROBE_CLASSES = 3


@dataclass(frozen=True)
class Probe:
    """The pairing questions answered with the engine's numbers for one triple."""

    defined: bool
    """Question 2: the loss is finite wherever the activation can put its output."""
    wrong_gradient: float
    """Question 3: the smallest |dL/dz| (one sample) over the confidently wrong answers."""
    wrong_z: float
    """The pre-activation of the varied output unit where that smallest gradient was found."""
    target: float
    """The target it was measured against (classes: 1 = the varied unit's class is true)."""

    @property
    def vanishes(self) -> bool:
        return self.wrong_gradient < VANISHING


def probe(problem: str, activation: str, loss: str | losses.Loss,
          loss_params: dict | None = None) -> Probe:
    """Measure questions 2 and 3 with the trainer's own dL/dz (``Objective``).

    The varied output unit's pre-activation z sweeps [-8, 8] (other units at 0). Question 2:
    every loss value on that sweep is finite. Question 3: |dL/dz| at the two ends, taken
    where the answer is wrong: for classes the end on the wrong side of the true class,
    for numbers both ends (a prediction far too small and one far too large).
    """
    objective, y = _probe_objective(problem, activation, loss, loss_params)
    k = objective.n_outputs
    z_axis = np.linspace(-WRONG_Z, WRONG_Z, 33)
    z = np.zeros((len(z_axis), k))
    z[:, 0] = z_axis
    with np.errstate(all="ignore"):
        values = objective.per_sample(z, _repeat(y, len(z)))
        _, dz, _ = objective.value_and_dz(z[[0, -1]], _repeat(y, 2))
    grads = np.abs(dz[:, 0]) * 2  # the batch mean over 2 samples back to one sample
    defined = bool(np.all(np.isfinite(values)))
    # classes: the true class's unit at z = -8; numbers: the ends whose prediction is far
    # from the target (a bounded output's upper end may sit right on it: not wrong there)
    if problem in ("binary", "multiclass"):
        wrong = [0]
    else:
        with np.errstate(all="ignore"):
            ends = objective.outputs(z[[0, -1]])[:, 0]
        far = np.abs(ends - PROBE_TARGETS[problem]) >= 0.5
        wrong = [i for i in (0, 1) if far[i]] or [0, 1]
    grads = np.where(np.isfinite(grads), grads, 0.0)
    index = min(wrong, key=lambda i: grads[i])
    target = PROBE_TARGETS.get(problem, 1.0)
    return Probe(defined, float(grads[index]), float(z_axis[[0, -1]][index]), target)


def _probe_objective(problem, activation, loss, loss_params):
    if problem == "multiclass":
        objective = Objective.build(problem, activation, loss, np.array([0, 1, 2]),
                                    n_classes=PROBE_CLASSES, loss_params=loss_params)
        return objective, objective.y[:1]
    if problem == "binary":
        objective = Objective.build(problem, activation, loss, np.array([1]),
                                    loss_params=loss_params)
        return objective, objective.y
    objective = Objective.build(problem, activation, loss, np.array([PROBE_TARGETS[problem]]),
                                loss_params=loss_params)
    return objective, objective.y


def _repeat(y: np.ndarray, m: int) -> np.ndarray:
    return np.repeat(y, m, axis=0)


# ----------------------------------------------------------------------------------------
# All three questions answered with numbers, for any loss (a typed formula too)

OPTIMUM_Z = np.linspace(-12.0, 12.0, 2401)
"""Question 1 searches the outputs a(z) for z on this grid (steps of 0.01)."""
CLASS_Z_RANGE = 6.0
CLASS_GRID_POINTS = 120_000
"""The 3-class search: logits in [-6, 6] on a grid of about this many points (3-D: 49 per
unit; 2-D for softmax, which ignores a shift of all logits: 347 per unit)."""
CLASS_SHARES = (0.1, 0.3, 0.7, 0.9)
"""P(y = 1) of the noisy binary labels whose expected loss question 1 minimises."""
CLASS_MIXES = ((0.6, 0.3, 0.1), (0.15, 0.6, 0.25), (0.1, 0.2, 0.7))
"""Class shares with a majority class: with none above 1/2, Keras' categorical hinge is
lowest at equal scores (no class at all), the known inconsistency of that multi-class hinge."""
REGRESSION_TARGETS = (-2.0, 0.5, 3.0)
SKEWED = -np.log1p(-(np.arange(100) + 0.5) / 100)
"""A right-skewed sample of targets: 100 quantiles of Exp(1), mean 0.99, median 0.69."""
RATES = (0.5, 2.5, 6.0)
"""Poisson means for counts; Poisson(0.5) has median 0 and Poisson(2.5) median 2."""
TOLERANCE = 0.02
"""How close a minimiser must be to the quantity asked for (relative for counts: 3 / 2 of
it, as the grid's 0.01 steps in z are 1% steps of an exponential output)."""
DEFINED_Z = np.linspace(-WRONG_Z, WRONG_Z, 161)
DEFINED_TARGETS = {"binary": (0.0, 1.0), "multiclass": (1.0, 0.0),
                   "regression": REGRESSION_TARGETS, "counts": (0.0, 3.0)}


@dataclass(frozen=True)
class Optimum:
    """Question 1 for one target distribution: where its expected loss is lowest."""

    target: str
    minimiser: tuple[float, ...]
    """The output (one value, or one per class) with the lowest expected loss."""
    wanted: tuple[float, ...]
    """What the problem asks for there: P(y = 1), the class shares, the target, the sample's
    (mean, median), or the Poisson mean."""
    at_edge: bool
    """No minimum inside the outputs: the lowest value lies at the end of the search, or next
    to where the loss is undefined (it keeps falling towards that edge)."""
    ok: bool


@dataclass(frozen=True)
class OptimumAnswer:
    ok: bool
    estimates: str
    """What the loss's optimum estimates through this output, in words."""
    cases: tuple[Optimum, ...]
    sentence: str


@dataclass(frozen=True)
class DomainAnswer:
    ok: bool
    outputs: tuple[float, float]
    """a(z) of the varied unit at the two ends of the sweep z in [-8, 8]."""
    undefined_at: tuple[float, float] | None
    """(z, target) of the first NaN or infinite loss or gradient, or None."""
    undefined_share: float
    sentence: str


@dataclass(frozen=True)
class WrongAnswer:
    """dL/dz of one sample whose output is confidently wrong."""

    target: float
    """Classes: 1 = the varied unit's class is true, 0 = another class is."""
    z: float
    gradient: float
    """Signed per-sample dL/dz of the varied unit."""
    descent: float
    """The sign dL/dz must have for a gradient step to move z towards the answer."""

    @property
    def vanishes(self) -> bool:
        return not abs(self.gradient) >= VANISHING

    @property
    def wrong_way(self) -> bool:
        return not self.vanishes and self.gradient * self.descent < 0


@dataclass(frozen=True)
class GradientAnswer:
    ok: bool
    cases: tuple[WrongAnswer, ...]
    sentence: str


@dataclass(frozen=True)
class RuleAnswers:
    """The pairing rule's three questions for one (problem, activation, loss), with numbers."""

    problem: str
    activation: str
    loss: str
    optimum: OptimumAnswer
    defined: DomainAnswer
    gradient: GradientAnswer

    @property
    def holds(self) -> bool:
        """All three answers are what a matched pair gives."""
        return self.optimum.ok and self.defined.ok and self.gradient.ok

    @property
    def sentences(self) -> tuple[str, str, str]:
        return self.optimum.sentence, self.defined.sentence, self.gradient.sentence


def rule_answers(problem: str, activation: str, loss: str | losses.Loss,
                 loss_params: dict | None = None) -> RuleAnswers:
    """Answer the pairing rule's three questions with the engine's numbers (``Objective``).

    1. Where is the expected loss lowest over the outputs the activation can give (z on
       ``OPTIMUM_Z``)? Binary: for labels that are 1 with probability 0.1 ... 0.9; classes:
       for three class mixes; regression: for single targets and a skewed sample (against
       its mean and median); counts: for Poisson targets (against their mean).
    2. Are the loss and its gradient finite for z in [-8, 8] and the problem's targets?
    3. Is |dL/dz| at least ``VANISHING``, and pointing the right way, where the answer is
       confidently wrong (z = -8 or 8 on the wrong side)? Both classes for classification,
       both ends for numbers: a superset of ``probe``'s cases.
    """
    if problem not in losses.PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: "
                         f"{', '.join(losses.PROBLEMS)}")
    if activation not in activations.OUTPUT_ACTIVATIONS:
        raise ValueError(f"{activation!r} is not an output activation; choose one of: "
                         f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")
    loss_obj = losses.get(loss, **(loss_params or {}))
    if problem not in loss_obj.problems:
        raise ValueError(f"the loss {loss_obj.key!r} does not serve the {problem!r} problem")
    base = Objective.build(problem, activation, loss_obj,
                           n_classes=PROBE_CLASSES if problem == "multiclass" else None)
    with np.errstate(all="ignore"):
        optimum = _OPTIMUM[problem](base)
        defined = _defined(base)
        gradient = _gradient(base)
    return RuleAnswers(problem, activation, loss_obj.key, optimum, defined, gradient)


def _per_sample(base: Objective, z: np.ndarray, raw) -> np.ndarray:
    """Per-sample loss (m,) for pre-activations z (m, k) and raw targets (m, ...)."""
    return base.with_targets(raw).per_sample(z)


def _lowest(risk: np.ndarray) -> tuple[tuple[int, ...], bool]:
    """(index, at_edge) of the lowest finite value of a grid of expected losses; prefers a
    point inside the grid whose neighbours are all finite, when one ties for lowest."""
    finite = np.isfinite(risk)
    if not finite.any():
        return tuple(0 for _ in risk.shape), True
    best = float(risk[finite].min())
    edge = ~finite
    for axis in range(risk.ndim):
        edge |= np.roll(~finite, 1, axis) | np.roll(~finite, -1, axis)
        ends = np.moveaxis(edge, axis, 0)  # a view: writing to it marks edge
        ends[0] = ends[-1] = True
    lowest = finite & (risk <= best + 1e-9 * max(1.0, abs(best)))
    inside = lowest & ~edge
    index = np.argwhere(inside if inside.any() else lowest)[0]
    return tuple(int(i) for i in index), not inside.any()


def _column(base: Objective, z_axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations (m, k) varying the first unit over a z grid (any other unit, such as
    a learned scale, at 0), and that unit's outputs a(z) (m,)."""
    z = _varied(base, z_axis)
    return z, base.outputs(z)[:, 0]


def _binary_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    ones = _per_sample(base, z, np.ones(m, dtype=np.int64))
    zeros = _per_sample(base, z, np.zeros(m, dtype=np.int64))
    threshold = base.threshold
    cases = []
    for q in CLASS_SHARES:
        (i,), edge = _lowest(q * ones + (1 - q) * zeros)
        right_side = (p[i] > threshold) == (q > 0.5)
        cases.append(Optimum(f"P(y = 1) = {q:g}", (float(p[i]),), (q,), edge,
                             right_side and not edge))
    found = ", ".join(_show(c.minimiser[0]) for c in cases)
    head = (f"For labels that are 1 with probability {', '.join(f'{q:g}' for q in CLASS_SHARES)}"
            f" the expected loss is lowest at p = {found}")
    return _class_answer(cases, head, f"the class (the side of {threshold:g})",
                         "the probability of class 1")


def _class_answer(cases: list[Optimum], head: str, classes: str,
                  probability: str) -> OptimumAnswer:
    ok = all(c.ok for c in cases)
    calibrated = ok and all(abs(a - b) <= 1.5 * TOLERANCE for c in cases
                            for a, b in zip(c.minimiser, c.wanted))
    if calibrated:
        estimates, tail = probability, f"it estimates {probability}"
    elif ok:
        estimates = f"{classes}, but not {probability}"
        tail = f"it estimates {estimates}"
    else:
        bad = next(c for c in cases if not c.ok)
        where = ", at the edge of the outputs" if bad.at_edge else ""
        estimates = "not even the class"
        tail = (f"it does not even estimate the class: for {bad.target} the lowest point is "
                f"on the wrong side{where}")
    return OptimumAnswer(ok, estimates, tuple(cases), f"{head}: {tail}.")


def _multiclass_optimum(base: Objective) -> OptimumAnswer:
    k = base.n_outputs
    # softmax ignores a shift of all logits: fix the last one at 0 and search the others
    axes = k - 1 if base.activation.key == "softmax" else k
    per_axis = int(CLASS_GRID_POINTS ** (1 / axes)) | 1  # odd: the grid holds 0
    axis = np.linspace(-CLASS_Z_RANGE, CLASS_Z_RANGE, per_axis)
    grids = np.meshgrid(*([axis] * axes), indexing="ij")
    shape = grids[0].shape
    z = np.zeros((grids[0].size, k))
    for unit, grid in enumerate(grids):
        z[:, unit] = grid.ravel()
    p = base.outputs(z)
    per_class = np.stack([_per_sample(base, z, np.full(len(z), c)) for c in range(k)])
    cases = []
    for mix in CLASS_MIXES:
        risk = np.tensordot(np.array(mix), per_class, axes=1)
        index, edge = _lowest(risk.reshape(shape))
        best = p[np.ravel_multi_index(index, shape)]
        top = int(np.argmax(mix))
        right = best[top] > np.max(np.delete(best, top)) + 1e-12
        cases.append(Optimum(f"class shares {mix}", tuple(float(v) for v in best), mix, edge,
                             bool(right and not edge)))
    found = "; ".join(f"{c.target} -> p = ({', '.join(_show(v) for v in c.minimiser)})"
                      for c in cases)
    return _class_answer(cases, f"The expected loss is lowest at {found}",
                         "the class (the highest output)", "the probability of each class")


def _regression_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    cases = []
    for target in REGRESSION_TARGETS:
        (i,), edge = _lowest(_per_sample(base, z, np.full((m, 1), target)))
        cases.append(Optimum(f"y = {target:g}", (float(p[i]),), (target,), edge,
                             not edge and abs(p[i] - target) <= TOLERANCE))
    s = len(SKEWED)
    sample = _per_sample(base, np.repeat(z, s, axis=0), np.tile(SKEWED, m)[:, None])
    (i,), edge = _lowest(sample.reshape(m, s).mean(axis=1))
    mean, median = float(SKEWED.mean()), float(np.median(SKEWED))
    lo, hi = min(mean, median), max(mean, median)
    centre = float(p[i])
    between = not edge and lo - TOLERANCE <= centre <= hi + TOLERANCE
    cases.append(Optimum("a skewed sample (Exp(1) quantiles)", (centre,), (mean, median),
                         edge, between))
    singles = ", ".join(f"{_show(c.minimiser[0])} for {c.target}" for c in cases[:-1])
    level = float(np.mean(SKEWED < centre))
    head = (f"The loss is lowest at p = {singles}; on a skewed sample (mean {mean:.2f}, "
            f"median {median:.2f}) at p = {_show(centre)}, its {level:.2f} quantile")
    stuck = next((c for c in cases if c.at_edge), None)
    missed = next((c for c in cases[:-1] if not c.ok), None)
    if stuck is not None:
        estimates = (f"nothing: for {stuck.target} it has no minimum and keeps falling "
                     f"towards p = {_show(stuck.minimiser[0])}, where the outputs or the loss "
                     "end")
    elif missed is not None:
        estimates = f"not the target itself: for {missed.target} it is lowest elsewhere"
    elif abs(centre - mean) <= TOLERANCE:
        estimates = "the conditional mean"
    elif abs(centre - median) <= TOLERANCE:
        estimates = "the conditional median"
    elif between:
        estimates = "a centre between the conditional median and mean"
    elif centre < lo:
        estimates = "a centre below the median, towards the mode"
    else:
        estimates = "a centre beyond the mean, towards the long tail"
    ok = all(c.ok for c in cases)
    return OptimumAnswer(ok, estimates, tuple(cases), f"{head}: it estimates {estimates}.")


def _counts_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    cases = []
    for rate in RATES:
        counts = np.arange(int(rate + 10 * np.sqrt(rate) + 10))
        log_pmf = counts * np.log(rate) - rate - np.array([math.lgamma(c + 1) for c in counts])
        pmf = np.exp(log_pmf) / np.exp(log_pmf).sum()
        values = _per_sample(base, np.repeat(z, len(counts), axis=0),
                             np.tile(counts.astype(float), m)[:, None])
        (i,), edge = _lowest(values.reshape(m, len(counts)) @ pmf)
        cases.append(Optimum(f"Poisson({rate:g}) counts", (float(p[i]),), (rate,), edge,
                             not edge and abs(p[i] - rate) <= 1.5 * TOLERANCE * rate))
    found = ", ".join(f"{_show(c.minimiser[0])} for {c.target}" for c in cases)
    ok = all(c.ok for c in cases)
    estimates = "the mean count" if ok else "not the mean count"
    return OptimumAnswer(ok, estimates, tuple(cases),
                         f"The expected loss is lowest at p = {found}: it estimates "
                         f"{estimates}.")


_OPTIMUM = {"binary": _binary_optimum, "multiclass": _multiclass_optimum,
            "regression": _regression_optimum, "counts": _counts_optimum}


def _raw_targets(problem: str, target: float, m: int) -> np.ndarray:
    """m copies of one target as ``Objective.with_targets`` reads it (classes: 1 = the
    varied unit's class 0 is true, 0 = class 1 is)."""
    if problem == "multiclass":
        return np.full(m, 0 if target >= 0.5 else 1)
    if problem == "binary":
        return np.full(m, int(target))
    return np.full((m, 1), target)


def _target_text(problem: str, target: float) -> str:
    if problem == "multiclass":
        return "its class true" if target >= 0.5 else "another class true"
    return f"y = {target:g}"


def _varied(base: Objective, z_axis: np.ndarray) -> np.ndarray:
    z = np.zeros((len(z_axis), base.n_outputs))
    z[:, 0] = z_axis
    return z


def _defined(base: Objective) -> DomainAnswer:
    z = _varied(base, DEFINED_Z)
    m = len(z)
    bad = np.zeros((len(DEFINED_TARGETS[base.problem]), m), dtype=bool)
    for row, target in enumerate(DEFINED_TARGETS[base.problem]):
        objective = base.with_targets(_raw_targets(base.problem, target, m))
        values = objective.per_sample(z)
        _, dz, _ = objective.value_and_dz(z)
        bad[row] = ~np.isfinite(values) | ~np.isfinite(dz).all(axis=1)
    ends = base.outputs(z[[0, -1]])[:, 0]
    outputs = (float(ends[0]), float(ends[1]))
    targets = ", ".join(_target_text(base.problem, t) for t in DEFINED_TARGETS[base.problem])
    if not bad.any():
        return DomainAnswer(True, outputs, None, 0.0,
                            f"The loss and its gradient are finite for every z in "
                            f"[−{WRONG_Z:g}, {WRONG_Z:g}] (outputs {_show(outputs[0])} to "
                            f"{_show(outputs[1])}) and every target tried ({targets}).")
    rows, cols = np.nonzero(bad)
    first = int(np.argmin(cols))
    z_bad, target = float(DEFINED_Z[cols[first]]), DEFINED_TARGETS[base.problem][rows[first]]
    share = float(bad.mean())
    output = float(base.outputs(_varied(base, np.array([z_bad])))[0, 0])
    return DomainAnswer(False, outputs, (z_bad, target), share,
                        f"Not defined on the whole output range: at z = {z_bad:g} (output "
                        f"{_show(output)}) with {_target_text(base.problem, target)} the loss "
                        f"or its gradient is NaN or infinite ({share:.0%} of the sweep), so a "
                        "run stops there.")


def _gradient(base: Objective) -> GradientAnswer:
    target = {"binary": 1.0, "multiclass": 1.0}.get(base.problem,
                                                     PROBE_TARGETS.get(base.problem, 1.0))
    other = 0.0 if base.problem in ("binary", "multiclass") else target
    cases = []
    for t, z_end, descent in ((target, -WRONG_Z, -1.0), (other, WRONG_Z, 1.0)):
        objective = base.with_targets(_raw_targets(base.problem, t, 1))
        _, dz, _ = objective.value_and_dz(_varied(base, np.array([z_end])))
        cases.append(WrongAnswer(t, z_end, float(dz[0, 0]), descent))
    shown = " and ".join(f"{_show(abs(c.gradient))} at z = {c.z:g} "
                         f"({_target_text(base.problem, c.target)})" for c in cases)
    wrong_way = [c for c in cases if c.wrong_way]
    if any(c.vanishes for c in cases):
        sentence = (f"Where the answer is confidently wrong |dL/dz| = {shown}: it vanishes "
                    f"(below {VANISHING:g}), so the worst mistakes barely teach the network.")
    elif wrong_way:
        c = wrong_way[0]
        sentence = (f"Where the answer is confidently wrong |dL/dz| = {shown}, but at z = "
                    f"{c.z:g} ({_target_text(base.problem, c.target)}) it points the wrong "
                    "way: gradient descent pushes the output further from the answer.")
    else:
        sentence = (f"Where the answer is confidently wrong |dL/dz| = {shown}: it does not "
                    "vanish, so the worst mistakes keep being corrected.")
    ok = not any(c.vanishes or c.wrong_way for c in cases)
    return GradientAnswer(ok, tuple(cases), sentence)


def _show(value: float) -> str:
    return f"{value:.3g}" if np.isfinite(value) else str(value)


# ----------------------------------------------------------------------------------------
# Verdicts and their reasons


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
    if a_lo < l_lo or a_hi > l_hi:
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
    else:
        measured = probe(row.problem, row.activation, row.loss)
        gradient = (f"${row.grad_z}$, which stays large where the prediction is confidently "
                    f"wrong (|dL/dz| = {measured.wrong_gradient:.2g} at z = "
                    f"{measured.wrong_z:g})")
    return (f"{loss.likelihood_sentence} {act.label} maps the pre-activation z onto "
            f"{act.range_text}, where the loss is defined; the optimum estimates "
            f"{row.estimates}; and the gradient at z is {gradient}.")


FAILURES = ("margin", "range", "vanishing", "noise")
"""The ways a mismatched pair can fail, in the order its reason names them: a margin that
is never met (or a score that is never negative), targets out of the output's reach, a
gradient that vanishes when confidently wrong, a wrong noise model."""


def failure_kinds(problem: str, activation: str, loss: str) -> tuple[str, ...]:
    """Which of ``FAILURES`` apply to a mismatched triple (empty for matched or invalid)."""
    if check(problem, activation, loss).verdict != "mismatched":
        return ()
    act, loss_obj = activations.get(activation), losses.get(loss)
    return tuple(kind for kind, found in zip(FAILURES, _failures(problem, act, loss_obj))
                 if found is not None)


def _failures(problem: str, act, loss) -> list[tuple[str, str] | None]:
    return [_margin_failure(problem, act, loss), _range_failure(problem, act, loss),
            _gradient_failure(problem, act, loss), _noise_failure(problem, act, loss)]


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
            optimum = (f"its optimum is still the class probability, but {_a(act.label)} "
                       f"output in {act.range_text} is a score, not a probability")
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
    else:
        need = "a non-negative prediction, because it takes log p"
    lo, hi = loss.prediction_range
    span = f"[{lo:g}, {hi:g}]" if np.isfinite(hi) else f"[{lo:g}, ∞)"
    return (f"{loss.label} needs {need}. {_a(act.label)} output lies in {act.range_text}, so "
            f"as soon as one prediction leaves {span} the loss is undefined and training "
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


RIVALS = {
    "binary": (("sigmoid", "bce"), ("sigmoid", "mse"), ("linear", "hinge")),
    "multiclass": (("softmax", "cce"), ("softmax", "mse"), ("linear", "categorical_hinge")),
    "regression": (("linear", "mse"), ("linear", "mae"), ("linear", "huber")),
    "counts": (("exp", "poisson"), ("linear", "mse"), ("softplus", "poisson")),
}
"""Pairs worth racing against each other, per problem (the matched pair first)."""


def rivals(problem: str, activation: str, loss: str, most: int = 3) -> list[tuple[str, str]]:
    """The chosen pair, then the problem's usual rivals, without repeats."""
    pairs = [(activation, loss)]
    for pair in RIVALS[problem]:
        if pair not in pairs:
            pairs.append(pair)
    return pairs[:most]


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
    """The verdict the three answers give, for a loss the table does not list.

    - matched: all three answers are what a matched pair gives;
    - invalid: question 2 fails (the loss or its gradient is NaN or infinite for outputs the
      activation produces, so a run stops there), or no confidently wrong answer gets any
      gradient at all (nothing to learn from);
    - mismatched: it trains, but its optimum is not what the problem asks for (question 1)
      or its gradient vanishes or points the wrong way when confidently wrong (question 3).

    On the built-in triples this agrees with the table except where the table knows more:
    linear + MSE on labels or counts (the wrong noise model, which no answer measures) and
    sigmoid + categorical cross-entropy (the table calls its every-output-to-1 optimum
    degenerate, the answers see a wrong optimum and a vanishing gradient).
    """
    act = activations.get(answers.activation)
    reason = " ".join(answers.sentences)
    if answers.holds:
        return AnsweredPairing("matched", "All three answers are what a matched pair gives",
                               reason, answers)
    if not answers.defined.ok:
        return AnsweredPairing(
            "invalid", f"Not defined on the whole range of the {act.label.lower()} output",
            reason, answers)
    if all(case.gradient == 0 for case in answers.gradient.cases):
        return AnsweredPairing("invalid", "No gradient at all where the answer is wrong: "
                               "nothing to learn from", reason, answers)
    failed = []
    if not answers.optimum.ok:
        failed.append(f"its optimum is not {ESTIMATES[answers.problem]}")
    if any(case.vanishes for case in answers.gradient.cases):
        failed.append("the gradient vanishes when confidently wrong")
    elif not answers.gradient.ok:
        failed.append("the gradient points the wrong way when confidently wrong")
    headline = "; ".join(failed)
    return AnsweredPairing("mismatched", headline[:1].upper() + headline[1:], reason, answers)


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
