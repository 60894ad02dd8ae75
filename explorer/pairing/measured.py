"""What is measured: the pairing rule's three questions answered with the engine's numbers.

Every number comes from the trainer's own ``Objective`` (its loss and its dL/dz), for any
loss, built in or typed:
1. the optimum: where the expected loss is lowest over the outputs the activation can give,
   for noisy targets, and what that point is (a probability, a class, the mean, the median,
   a τ-quantile, an expectile, a biased centre, the rate, or nothing at all);
2. the domain: the loss and its gradient are finite wherever the activation puts its output;
3. the gradient on confidently wrong answers, over several decades of wrongness (z from 3 to
   1000 units on the wrong side), measured once: ``probe`` reads the same measurement.
The words for these numbers are in ``said``; the verdict they give is ``said.judge``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer import activations, losses
from explorer.objective import Objective

# ----------------------------------------------------------------------------------------
# Question 3: the gradient where the answer is confidently wrong

WRONG_Z = 8.0
"""The confidently wrong answer the reasons quote: the pre-activation 8 units on the wrong
side."""
WRONG_DEPTHS = (3.0, 8.0, 30.0, 100.0, 300.0, 1000.0)
"""How far on the wrong side question 3 looks: several decades, so a gradient that only dies
far out (a redescending loss such as Cauchy's) is seen too."""
VANISHING = 0.01
"""|dL/dz| below this at a confidently wrong answer counts as a vanished gradient. Every
matched pair gives at least 0.1 there; the saturating mismatches give 1e-3 or less."""
REDESCENDING = 0.1
"""A gradient that falls below this share of its own peak as the error grows, while the
output's slope does not: the loss itself stops pushing (it redescends)."""
PROBE_TARGETS = {"regression": 1.0, "counts": 3.0}
PROBE_CLASSES = 3
OPEN_BOUNDS = ("sigmoid", "tanh", "softmax", "softplus", "exp")
"""Activations that never reach the ends of their range: an output on an end is float
rounding, and such a probe is left out (as is exp beyond its overflow guard)."""


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
    slope: float = 1.0
    """|a'(z)| of the varied unit there (what the activation lets through)."""
    series: int = 0
    """Which (target, side) the probe belongs to; deeper probes of a series come later."""

    @property
    def vanishes(self) -> bool:
        return not abs(self.gradient) >= VANISHING

    @property
    def wrong_way(self) -> bool:
        return not self.vanishes and self.gradient * self.descent < 0


@dataclass(frozen=True)
class GradientAnswer:
    probes: tuple[WrongAnswer, ...]
    """Every probe, deepest last within each (target, side) series."""
    redescending: tuple[WrongAnswer, ...] = ()
    """The deepest probe of each series whose loss stops pushing as the error grows."""
    problem: str = ""
    near: tuple[WrongAnswer, ...] = ()
    """Probes left out of the cases because the output there sits near the target (a bounded
    output's end on it): not wrong, but they count for "no gradient at all"."""

    @property
    def quoted(self) -> tuple[WrongAnswer, ...]:
        """The probes at ``WRONG_Z``: the numbers a sentence quotes."""
        return tuple(c for c in self.probes if abs(c.z) == WRONG_Z)

    @property
    def cases(self) -> tuple[WrongAnswer, ...]:
        """One probe per series, the one that decides it: the deepest of a redescending
        series; else the quoted one if it vanishes or points the wrong way, else the first
        that does; else the quoted one."""
        gone = {c.series: c for c in self.redescending}
        chosen = []
        for index in dict.fromkeys(c.series for c in self.probes):
            series = [c for c in self.probes if c.series == index]
            bad = [c for c in series if c.vanishes or c.wrong_way]
            quoted = [c for c in series if abs(c.z) == WRONG_Z]
            quoted_bad = [c for c in quoted if c in bad]
            chosen.append(gone.get(index) or (quoted_bad or bad or quoted or series)[0])
        return tuple(chosen)

    @property
    def vanishes(self) -> bool:
        """Some confidently wrong answer gets (nearly) no gradient, other than by the loss
        redescending (see ``redescending``)."""
        gone = {c.series for c in self.redescending}
        return any(c.vanishes and c.series not in gone for c in self.probes)

    @property
    def wrong_way(self) -> bool:
        return any(c.wrong_way for c in self.probes)

    @property
    def none_at_all(self) -> bool:
        """No probe gets any gradient, wrong or near: nothing to learn from."""
        return all(c.gradient == 0 for c in self.probes + self.near)

    @property
    def ok(self) -> bool:
        return bool(self.probes) and not (self.vanishes or self.wrong_way or self.redescending)

    @property
    def sentence(self) -> str:
        from explorer.pairing import said
        return said.gradient_sentence(self)


def _series(problem: str) -> list[tuple[float, float, float]]:
    """(target, side, descent) of the confidently wrong answers: classes, the true class's
    unit far below and another class's far above; numbers, far below and far above."""
    if problem in ("binary", "multiclass"):
        return [(1.0, -1.0, -1.0), (0.0, 1.0, 1.0)]
    target = PROBE_TARGETS[problem]
    return [(target, -1.0, -1.0), (target, 1.0, 1.0)]


def _representable(act: activations.Activation, z: float, output: float) -> bool:
    if not math.isfinite(output):
        return False
    if act.key == "exp" and z >= activations.EXP_CLIP:
        return False
    if act.key in OPEN_BOUNDS:
        lo, hi = act.output_range
        return lo < output < hi
    return True


def _gradient(base: Objective) -> GradientAnswer:
    act = base.activation
    cases, redescending, near = [], [], []
    for index, (target, side, descent) in enumerate(_series(base.problem)):
        objective = base.with_targets(_raw_targets(base.problem, target, 1))
        series = []
        for depth in WRONG_DEPTHS:
            z = _varied(base, np.array([side * depth]))
            output = float(base.outputs(z)[0, 0])
            if not _representable(act, side * depth, output):
                continue
            _, dz, _ = objective.value_and_dz(z)
            if depth > WRONG_Z and not np.isfinite(dz[0, 0]):
                continue  # overflow beyond what floats carry (question 2 covers |z| <= 8)
            slope = float(np.abs(_slope(act, z)))
            answer = WrongAnswer(target, side * depth, float(dz[0, 0]), descent, slope, index)
            if base.problem in ("regression", "counts") and abs(output - target) < 0.5:
                near.append(answer)  # a bounded output's end may sit on the target
                continue
            series.append(answer)
        cases.extend(series)
        if len(series) >= 3:
            sizes = [abs(c.gradient) for c in series]
            peak = int(np.argmax(sizes))
            last = series[-1]
            if (sizes[peak] >= VANISHING and sizes[-1] <= REDESCENDING * sizes[peak]
                    and peak < len(series) - 1
                    and last.slope >= 0.5 * series[peak].slope):
                redescending.append(last)
    return GradientAnswer(tuple(cases), tuple(redescending), base.problem, tuple(near))


def _slope(act: activations.Activation, z: np.ndarray) -> float:
    """|a'(z)| of the varied unit (softmax: its own diagonal p (1 - p))."""
    if act.elementwise:
        return float(act.grad(z[:, :1])[0, 0])
    p = act.forward(z)[0, 0]
    return float(p * (1 - p))


@dataclass(frozen=True)
class Probe:
    """Question 3 in one number per triple, read off the same measurement as ``rule_answers``
    (plus question 2 for the probe's own target)."""

    defined: bool
    wrong_gradient: float
    """The smallest |dL/dz| (one sample) over the confidently wrong answers at ``WRONG_Z``."""
    wrong_z: float
    target: float
    vanishes: bool
    """Question 3 fails: the gradient vanishes (or redescends) somewhere on the wrong side."""


def probe(problem: str, activation: str, loss: str | losses.Loss,
          loss_params: dict | None = None) -> Probe:
    """Questions 2 and 3 for one triple, with the trainer's own dL/dz (``Objective``)."""
    base = _base(problem, activation, loss, loss_params)
    with np.errstate(all="ignore"):
        gradient = _gradient(base)
        defined = _defined(base)
    quoted = gradient.quoted or gradient.probes or gradient.near
    if not quoted:
        return Probe(defined.ok, 0.0, -WRONG_Z, PROBE_TARGETS.get(problem, 1.0), True)
    worst = min(quoted, key=lambda c: abs(c.gradient) if math.isfinite(c.gradient) else 0.0)
    size = abs(worst.gradient) if math.isfinite(worst.gradient) else 0.0
    return Probe(defined.ok, size, worst.z, PROBE_TARGETS.get(problem, 1.0),
                 gradient.vanishes or bool(gradient.redescending))


# ----------------------------------------------------------------------------------------
# Question 2: defined on the whole output range

DEFINED_Z = np.linspace(-WRONG_Z, WRONG_Z, 161)
REGRESSION_TARGETS = (-2.0, 0.5, 3.0)
DEFINED_TARGETS = {"binary": (0.0, 1.0), "multiclass": (1.0, 0.0),
                   "regression": REGRESSION_TARGETS, "counts": (0.0, 3.0)}


@dataclass(frozen=True)
class DomainAnswer:
    ok: bool
    outputs: tuple[float, float]
    """a(z) of the varied unit at the two ends of the sweep z in [-8, 8]."""
    undefined_at: tuple[float, float] | None
    """(z, target) of the first NaN or infinite loss or gradient, or None."""
    undefined_share: float
    problem: str = ""
    undefined_output: float = math.nan

    @property
    def sentence(self) -> str:
        from explorer.pairing import said
        return said.domain_sentence(self)


def _defined(base: Objective) -> DomainAnswer:
    z = _varied(base, DEFINED_Z)
    m = len(z)
    targets = DEFINED_TARGETS[base.problem]
    bad = np.zeros((len(targets), m), dtype=bool)
    for row, target in enumerate(targets):
        objective = base.with_targets(_raw_targets(base.problem, target, m))
        values = objective.per_sample(z)
        _, dz, _ = objective.value_and_dz(z)
        bad[row] = ~np.isfinite(values) | ~np.isfinite(dz).all(axis=1)
    ends = base.outputs(z[[0, -1]])[:, 0]
    outputs = (float(ends[0]), float(ends[1]))
    if not bad.any():
        return DomainAnswer(True, outputs, None, 0.0, base.problem)
    rows, cols = np.nonzero(bad)
    first = int(np.argmin(cols))
    z_bad = float(DEFINED_Z[cols[first]])
    output = float(base.outputs(_varied(base, np.array([z_bad])))[0, 0])
    return DomainAnswer(False, outputs, (z_bad, targets[rows[first]]), float(bad.mean()),
                        base.problem, output)


# ----------------------------------------------------------------------------------------
# Question 1: what the optimum is

OPTIMUM_Z = np.linspace(-12.0, 12.0, 2401)
"""Question 1 searches the outputs a(z) for z on this grid (steps of 0.01)."""
FAR = 3.0
"""A minimum at the end of the grid is followed out to FAR times as far: if the expected loss
keeps falling by more than 1 there, it has no minimum at all (it falls without bound)."""
CLASS_Z_RANGE = 6.0
CLASS_GRID_POINTS = 120_000
"""The 3-class search: logits in [-6, 6] on a grid of about this many points (3-D: 49 per
unit; 2-D for softmax, which ignores a shift of all logits: 347 per unit)."""
CLASS_SHARES = (0.1, 0.3, 0.7, 0.9)
"""P(y = 1) of the noisy binary labels whose expected loss question 1 minimises."""
CLASS_MIXES = ((0.6, 0.3, 0.1), (0.15, 0.6, 0.25), (0.1, 0.2, 0.7))
"""Class shares with a majority class: with none above 1/2, Keras' categorical hinge is
lowest at equal scores (no class at all), the known inconsistency of that multi-class hinge."""
SKEWED = -np.log1p(-(np.arange(100) + 0.5) / 100)
"""A right-skewed sample of targets: 100 quantiles of Exp(1), mean 0.99, median 0.69."""
EVEN = (np.arange(100) + 0.5) / 100 * 3.0
"""A symmetric sample: 100 quantiles of Uniform(0, 3), mean = median = 1.5. A quantile loss
finds the same level on both samples, an expectile loss (MSE: 0.5) the same expectile."""
RATES = (0.5, 2.5, 6.0)
"""Poisson means for counts; Poisson(0.5) has median 0 and Poisson(2.5) median 2."""
TOLERANCE = 0.02
"""How close a minimiser must be to the quantity asked for (relative for counts: 3 / 2 of
it, as the grid's 0.01 steps in z are 1% steps of an exponential output)."""
LEVEL_TOLERANCE = 0.015
"""How close the quantile (or expectile) levels on the two samples must be to name one."""


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
    """The minimiser answers what the problem asks through this output."""
    unbounded: bool = False
    """At the edge, and the expected loss keeps falling without bound beyond it."""


@dataclass(frozen=True)
class OptimumAnswer:
    ok: bool
    kind: str
    """What the optimum is: "probability", "class", "probability off range", "wrong class",
    "mean", "median", "quantile", "expectile", "centre", "biased", "unreachable", "rate",
    "not the rate", "rate off range", or "nothing" (no minimum: degenerate)."""
    estimates: str
    """What the loss's optimum estimates through this output, in words, with its numbers."""
    cases: tuple[Optimum, ...]
    problem: str
    output: str
    """"probability", "score" or "number": how the output is read."""
    level: float | None = None
    """The quantile or expectile level τ, or the offset of a biased loss."""

    @property
    def degenerate(self) -> bool:
        """No minimum that depends on the targets: the loss is not a model of them."""
        return self.kind == "nothing"

    @property
    def sentence(self) -> str:
        from explorer.pairing import said
        return said.optimum_sentence(self)


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


def _falls_on(risk_at, z_edge: np.ndarray, edge_risk: float) -> bool:
    """Whether the expected loss keeps falling by more than 1 from an edge minimum at z_edge
    (m = 1, k) out to FAR times as far: no minimum at all."""
    far = risk_at(z_edge * FAR)
    return bool(np.isfinite(far) and far < edge_risk - 1.0)


def _column(base: Objective, z_axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = _varied(base, z_axis)
    return z, base.outputs(z)[:, 0]


def _output_kind(base: Objective) -> str:
    lo, hi = base.activation.output_range
    if base.problem in ("binary", "multiclass"):
        return "probability" if lo >= 0.0 and hi <= 1.0 else "score"
    return "number"


def _degenerate(cases: list[Optimum]) -> bool:
    """Every target distribution has the same edge minimum, or one has none at all."""
    if any(c.unbounded for c in cases):
        return True
    return all(c.at_edge for c in cases) and len({c.minimiser for c in cases}) == 1


def _binary_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    ones = _per_sample(base, z, np.ones(m, dtype=np.int64))
    zeros = _per_sample(base, z, np.zeros(m, dtype=np.int64))
    output = _output_kind(base)
    threshold = 0.5 if output == "probability" else 0.0
    one, zero = base.with_targets(np.ones(1, dtype=np.int64)), base.with_targets(
        np.zeros(1, dtype=np.int64))
    cases = []
    for q in CLASS_SHARES:
        risk = q * ones + (1 - q) * zeros
        (i,), edge = _lowest(risk)
        unbounded = edge and _falls_on(
            lambda zz, q=q: float(q * one.per_sample(zz)[0] + (1 - q) * zero.per_sample(zz)[0]),
            z[[i]], float(risk[i]))
        right_side = p[i] > threshold if q > 0.5 else p[i] <= threshold
        cases.append(Optimum(f"P(y = 1) = {q:g}", (float(p[i]),), (q,), edge,
                             bool(right_side), bool(unbounded)))
    return _class_answer(base, cases, output, threshold)


def _class_answer(base: Objective, cases: list[Optimum], output: str,
                  threshold: float) -> OptimumAnswer:
    problem = base.problem
    if _degenerate(cases):
        bad = next((c for c in cases if c.unbounded), cases[0])
        return _answer(False, "nothing", cases, problem, output, detail=bad)
    right = all(c.ok for c in cases)
    probability = all(not c.at_edge and all(abs(a - b) <= 1.5 * TOLERANCE
                                            for a, b in zip(c.minimiser, c.wanted))
                      for c in cases)
    if output == "probability":
        kind = "probability" if probability else "class" if right else "wrong class"
        ok = kind == "probability"
    elif probability:
        kind, ok = "probability off range", False
    else:
        kind = "class" if right else "wrong class"
        ok = right and not any(c.at_edge for c in cases)
    final = [_with_ok(c, ok and c.ok) for c in cases]
    return _answer(ok, kind, final, problem, output, threshold=threshold)


def _with_ok(case: Optimum, ok: bool) -> Optimum:
    return Optimum(case.target, case.minimiser, case.wanted, case.at_edge, ok, case.unbounded)


def _answer(ok: bool, kind: str, cases: list[Optimum], problem: str, output: str,
            level: float | None = None, detail: Optimum | None = None,
            threshold: float | None = None) -> OptimumAnswer:
    from explorer.pairing import said
    answer = OptimumAnswer(ok, kind, "", tuple(cases), problem, output, level)
    text = said.optimum_estimates(answer, detail=detail, threshold=threshold)
    return OptimumAnswer(ok, kind, text, tuple(cases), problem, output, level)


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
    singles = [base.with_targets(np.array([c])) for c in range(k)]
    output = _output_kind(base)
    cases = []
    step = axis[1] - axis[0]
    for mix in CLASS_MIXES:
        risk = np.tensordot(np.array(mix), per_class, axes=1)
        index, edge = _lowest(risk.reshape(shape))
        flat = np.ravel_multi_index(index, shape)
        best = p[flat]
        if not edge:  # the coarse grid's step is 0.25 in 3-D: refine around its minimum
            z_best = _refine(base, z[flat], mix, step, axes)
            best = base.outputs(z_best[None])[0]
        top = int(np.argmax(mix))
        right = best[top] > np.max(np.delete(best, top)) + 1e-12
        unbounded = edge and _falls_on(
            lambda zz, mix=mix: float(sum(w * s.per_sample(zz)[0] for w, s in zip(mix, singles))),
            z[[flat]], float(risk.ravel()[flat]))
        cases.append(Optimum(f"class shares {mix}", tuple(float(v) for v in best), mix, edge,
                             bool(right), bool(unbounded)))
    return _class_answer(base, cases, output, 0.5)


def _refine(base: Objective, z_best: np.ndarray, mix, step: float, axes: int,
            rounds: int = 2, points: int = 21) -> np.ndarray:
    """A finer local grid (±step, ``points`` per axis), ``rounds`` times: the minimum to
    step / 100."""
    for _ in range(rounds):
        local = np.linspace(-step, step, points)
        grids = np.meshgrid(*([local] * axes), indexing="ij")
        z = np.tile(z_best, (grids[0].size, 1))
        for unit, grid in enumerate(grids):
            z[:, unit] += grid.ravel()
        risk = sum(w * _per_sample(base, z, np.full(len(z), c)) for c, w in enumerate(mix))
        z_best = z[int(np.nanargmin(risk))]
        step = step / (points // 2)
    return z_best


def _regression_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    cases = []
    for target in REGRESSION_TARGETS:
        single = base.with_targets(np.full((1, 1), target))
        risk = _per_sample(base, z, np.full((m, 1), target))
        (i,), edge = _lowest(risk)
        unbounded = edge and _falls_on(lambda zz, s=single: float(s.per_sample(zz)[0]),
                                       z[[i]], float(risk[i]))
        cases.append(Optimum(f"y = {target:g}", (float(p[i]),), (target,), edge,
                             not edge and abs(p[i] - target) <= TOLERANCE, bool(unbounded)))
    centres = []
    for sample in (SKEWED, EVEN):
        s = len(sample)
        risk = _per_sample(base, np.repeat(z, s, axis=0),
                           np.tile(sample, m)[:, None]).reshape(m, s).mean(axis=1)
        (i,), edge = _lowest(risk)
        centres.append((float(p[i]), edge))
    (centre, edge), (even_centre, even_edge) = centres
    cases.append(Optimum("a symmetric sample (Uniform(0, 3) quantiles)", (even_centre,),
                         (float(EVEN.mean()),), even_edge, not even_edge))
    cases.append(Optimum("a skewed sample (Exp(1) quantiles)", (centre,),
                         (float(SKEWED.mean()), float(np.median(SKEWED))), edge, not edge))
    if _degenerate(cases[:len(REGRESSION_TARGETS)]):
        bad = next((c for c in cases if c.unbounded), cases[0])
        return _answer(False, "nothing", cases, "regression", "number", detail=bad)
    singles = cases[:len(REGRESSION_TARGETS)]
    if any(c.at_edge for c in cases):
        stuck = next(c for c in cases if c.at_edge)
        return _answer(False, "unreachable", cases, "regression", "number", detail=stuck)
    offsets = [c.minimiser[0] - c.wanted[0] for c in singles]
    shift = float(np.mean(offsets))
    if not all(c.ok for c in singles):
        if max(offsets) - min(offsets) <= TOLERANCE:
            kind, level = _centre_kind(centre - shift, even_centre - shift)
            return _answer(False, "biased", cases, "regression", "number", level=shift,
                           detail=Optimum(kind, (centre,), (), False, False,
                                          False) if kind else None)
        missed = next(c for c in singles if not c.ok)
        return _answer(False, "unreachable", cases, "regression", "number", detail=missed)
    kind, level = _centre_kind(centre, even_centre)
    mean, median = float(SKEWED.mean()), float(np.median(SKEWED))
    # a named centre, or a robust one between the median and the mean (Huber, log-cosh);
    # a centre past the mean that is neither a quantile nor an expectile answers nothing
    ok = kind != "centre" or median - TOLERANCE <= centre <= mean + TOLERANCE
    return _answer(ok, kind, cases, "regression", "number", level=level)


def _quantile_level(sample: np.ndarray, centre: float) -> float:
    return float(np.mean(sample < centre))


def _expectile_level(sample: np.ndarray, centre: float) -> float:
    below, above = np.maximum(centre - sample, 0).mean(), np.maximum(sample - centre, 0).mean()
    return float(below / (below + above)) if below + above > 0 else 0.5


def _centre_kind(centre: float, even_centre: float) -> tuple[str, float | None]:
    """Name a centre found on both samples: a quantile (the same level on both), an
    expectile (the same expectile level on both; 0.5 is the mean), or neither."""
    quantiles = _quantile_level(SKEWED, centre), _quantile_level(EVEN, even_centre)
    expectiles = _expectile_level(SKEWED, centre), _expectile_level(EVEN, even_centre)
    if abs(quantiles[0] - quantiles[1]) <= LEVEL_TOLERANCE:
        level = float(np.mean(quantiles))
        return ("median" if abs(level - 0.5) <= LEVEL_TOLERANCE else "quantile"), level
    if abs(expectiles[0] - expectiles[1]) <= LEVEL_TOLERANCE:
        level = float(np.mean(expectiles))
        return ("mean" if abs(level - 0.5) <= LEVEL_TOLERANCE else "expectile"), level
    return "centre", None


def _counts_optimum(base: Objective) -> OptimumAnswer:
    z, p = _column(base, OPTIMUM_Z)
    m = len(z)
    cases, medians = [], []
    for rate in RATES:
        counts = np.arange(int(rate + 10 * np.sqrt(rate) + 10))
        log_pmf = counts * np.log(rate) - rate - np.array([math.lgamma(c + 1) for c in counts])
        pmf = np.exp(log_pmf) / np.exp(log_pmf).sum()
        medians.append(float(counts[np.searchsorted(np.cumsum(pmf), 0.5)]))
        values = _per_sample(base, np.repeat(z, len(counts), axis=0),
                             np.tile(counts.astype(float), m)[:, None])
        risk = values.reshape(m, len(counts)) @ pmf
        (i,), edge = _lowest(risk)
        group = base.with_targets(counts.astype(float)[:, None])
        unbounded = edge and _falls_on(
            lambda zz, g=group, w=pmf: float(g.per_sample(np.repeat(zz, len(w), axis=0)) @ w),
            z[[i]], float(risk[i]))
        cases.append(Optimum(f"Poisson({rate:g}) counts", (float(p[i]),), (rate,), edge,
                             not edge and abs(p[i] - rate) <= 1.5 * TOLERANCE * rate,
                             bool(unbounded)))
    if _degenerate(cases):
        bad = next((c for c in cases if c.unbounded), cases[0])
        return _answer(False, "nothing", cases, "counts", "number", detail=bad)
    rate = all(c.ok for c in cases)
    if rate and base.activation.output_range[0] < 0:
        return _answer(False, "rate off range", cases, "counts", "number")
    if rate:
        return _answer(True, "rate", cases, "counts", "number")
    median = all(not c.at_edge and abs(c.minimiser[0] - med) <= 0.05 * max(1.0, med)
                 for c, med in zip(cases, medians) if med > 0)
    return _answer(False, "median count" if median else "not the rate", cases, "counts",
                   "number")


_OPTIMUM = {"binary": _binary_optimum, "multiclass": _multiclass_optimum,
            "regression": _regression_optimum, "counts": _counts_optimum}


# ----------------------------------------------------------------------------------------
# All three at once


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
       ``OPTIMUM_Z``), and what is that point? Binary: labels that are 1 with probability
       0.1 ... 0.9; classes: three class mixes; regression: single targets and two samples
       (skewed, symmetric) to tell a mean, a median, a quantile, an expectile apart; counts:
       Poisson targets.
    2. Are the loss and its gradient finite for z in [-8, 8] and the problem's targets?
    3. Is |dL/dz| at least ``VANISHING``, pointing the right way, and not dying off, where
       the answer is confidently wrong (``WRONG_DEPTHS`` units on the wrong side)?
    """
    base = _base(problem, activation, loss, loss_params)
    with np.errstate(all="ignore"):
        optimum = _OPTIMUM[problem](base)
        defined = _defined(base)
        gradient = _gradient(base)
    return RuleAnswers(problem, activation, base.loss.key, optimum, defined, gradient)


def _base(problem: str, activation: str, loss: str | losses.Loss,
          loss_params: dict | None) -> Objective:
    if problem not in losses.PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: "
                         f"{', '.join(losses.PROBLEMS)}")
    if activation not in activations.OUTPUT_ACTIVATIONS:
        raise ValueError(f"{activation!r} is not an output activation; choose one of: "
                         f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")
    loss_obj = losses.get(loss, **(loss_params or {}))
    if problem not in loss_obj.problems:
        raise ValueError(f"the loss {loss_obj.key!r} does not serve the {problem!r} problem")
    return Objective.build(problem, activation, loss_obj,
                           n_classes=PROBE_CLASSES if problem == "multiclass" else None)


def _raw_targets(problem: str, target: float, m: int) -> np.ndarray:
    """m copies of one target as ``Objective.with_targets`` reads it (classes: 1 = the
    varied unit's class 0 is true, 0 = class 1 is)."""
    if problem == "multiclass":
        return np.full(m, 0 if target >= 0.5 else 1)
    if problem == "binary":
        return np.full(m, int(target))
    return np.full((m, 1), target)


def _varied(base: Objective, z_axis: np.ndarray) -> np.ndarray:
    """Pre-activations (m, k) varying the first unit (any other unit, such as a learned
    scale, at 0)."""
    z = np.zeros((len(z_axis), base.n_outputs))
    z[:, 0] = z_axis
    return z
