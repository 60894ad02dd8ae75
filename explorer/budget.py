"""What one click will compute, estimated before any of it starts, against the page's budget.

A click may train several runs (Compare's contestants, the fit panel's companions) and then
do its view's own work (the replay's frames, a loss surface, per-point gradients, the
calibration over snapshots). ``page`` lists every piece with its estimated seconds on this
machine; ``refusal`` says, before anything starts, whether the page fits ``PAGE_BUDGET_S`` and
if not what to lower, with a scenario that fits (the button's suggestion).

The estimate is a cost model: counts (optimizer steps, samples x parameters through the
network) times per-unit costs measured by ``benchmarks/bench_cost.py --write`` on the engine
as it is, kept in ``costs.json`` beside this file. The same benchmark prints estimate ÷
actual for a spread of scenarios (0.5 to 2 everywhere, or the constants are stale).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from explorer import anatomy, calibration, datasets, losses, surfaces
from explorer.config import UPLOAD, Config
from explorer.experiment import SNAPSHOTS
from explorer.figures import training as training_figures

COSTS_FILE = Path(__file__).with_name("costs.json")
PAGE_BUDGET_S = 10.0
"""Most compute (seconds on this machine) one click may start: the trainings and the view's
own work together. The opening scenario needs about 0.2 s, the heaviest lesson about 2 s."""


@dataclass(frozen=True)
class UnitCosts:
    """Seconds per unit of work on this machine (``costs.json``)."""

    step: float = 6e-5
    """One optimizer step's fixed cost."""
    step_layer: float = 2e-5
    """One step's fixed cost per layer of weights."""
    train_unit: float = 2e-9
    """One sample through one parameter, forward and backward."""
    forward_unit: float = 7e-10
    """One sample through one parameter, forward only (validation, frames, surfaces)."""
    epoch: float = 5e-5
    """Each epoch's fixed cost (recording, validation call)."""
    view_units: dict = field(default_factory=dict)
    """Per kind of view work ("frames", "surface", "gradients", "calibration"): the cost of
    one sample through the network, [per parameter, per neuron, fixed] seconds. The work
    functions next to the computations (``surfaces.slice_work``,
    ``figures.training.frames_work``, ...) say how many samples (their units ÷ P); a stacked
    evaluation pays per activation value and per sample too, besides the multiply-adds."""

    @classmethod
    def load(cls, path: Path = COSTS_FILE) -> UnitCosts:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def view(self, kind: str, work: float, s: Shape) -> float:
        """Seconds for ``work`` units (samples x parameters) of this kind on this shape."""
        per_param, per_neuron, fixed = self.view_units.get(kind, (self.forward_unit, 0.0, 0.0))
        return work / max(s.params, 1) * (per_param * s.params + per_neuron * s.neurons + fixed)


COSTS = UnitCosts.load()


@dataclass(frozen=True)
class Work:
    """One piece of a page's work: what it is and its estimated seconds."""

    what: str
    seconds: float


@dataclass(frozen=True)
class Shape:
    """The sizes a cost depends on."""

    n_train: int
    n_val: int
    batches: int
    layers: int
    params: int
    features: int
    neurons: int
    """Hidden and output units."""
    snapshots: int
    """Snapshots the run keeps (the initial weights and up to ``SNAPSHOTS`` more)."""


def shape(config: Config, n_rows: int | None = None) -> Shape:
    """Sizes of the scenario's run (``n_rows``: an uploaded table's rows)."""
    n = config.n_samples if n_rows is None else n_rows
    n_train = max(1, round(n * (1.0 - config.val_share)))
    n_val = n - n_train
    batch = config.batch_size or n_train
    batches = -(-n_train // max(1, min(batch, n_train)))
    outputs = (config.n_classes if config.problem == "multiclass" else 1) * \
        losses.get(config.loss).outputs_per_target
    features = 2 if config.dataset == UPLOAD else datasets.get(config.dataset).n_features
    sizes = (features, *config.hidden, outputs)
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    return Shape(n_train, n_val, batches, len(sizes) - 1, params, features, sum(sizes[1:]),
                 min(config.epochs, SNAPSHOTS) + 1)


def training_seconds(config: Config, n_rows: int | None = None,
                     costs: UnitCosts = COSTS) -> float:
    """Estimated seconds to train the scenario.

    Formula: epochs x (batches x (step + layers x step_layer) + n_train x P x train_unit
    + n_val x P x forward_unit + epoch)."""
    s = shape(config, n_rows)
    per_epoch = (s.batches * (costs.step + s.layers * costs.step_layer)
                 + s.n_train * s.params * costs.train_unit
                 + s.n_val * s.params * costs.forward_unit + costs.epoch)
    return config.epochs * per_epoch


def frames_seconds(config: Config, n_rows: int | None = None, final_only: bool = False,
                   costs: UnitCosts = COSTS) -> float:
    """The replay's maps or curves: every snapshot (or the final one) on the grid."""
    s = shape(config, n_rows)
    grid = training_figures.frame_grid_points(config.problem, s.features)
    work = training_figures.frames_work(s.params, grid, 1 if final_only else s.snapshots)
    return costs.view("frames", work, s)


def surface_seconds(config: Config, n_rows: int | None = None, kind: str = "parameters",
                    costs: UnitCosts = COSTS) -> float:
    """One loss surface of this ``kind`` (as ``surfaces.default_slice`` computes it, on its
    subsample) and the line from the initial to the final weights."""
    s = shape(config, n_rows)
    points = min(s.n_train, surfaces.SURFACE_POINTS)
    work = (surfaces.default_slice_work(s.params, points, kind, s.snapshots)
            + surfaces.line_work(s.params, points))
    return costs.view("surface", work, s)


def snapshots_seconds(config: Config, kind: str, n_rows: int | None = None,
                      costs: UnitCosts = COSTS) -> float:
    """Work over every snapshot on the run's points: the per-point gradients of Loss anatomy
    ("gradients") or the calibration over training ("calibration")."""
    s = shape(config, n_rows)
    if kind == "gradients":
        points = min(s.n_train, surfaces.SURFACE_POINTS)
        work = anatomy.point_gradients_work(s.params, points, s.snapshots)
    else:
        work = (calibration.reliability_work(s.params, s.n_train, s.snapshots)
                + calibration.reliability_work(s.params, s.n_val, s.snapshots))
    return costs.view(kind, work, s)


def page(config: Config, view: str, n_rows: int | None = None,
         others: Sequence[Config] = (), costs: UnitCosts = COSTS,
         surface_kind: str = "parameters") -> list[Work]:
    """Every piece of work a click on this page starts, with its estimated seconds.

    ``others``: the further runs the page trains (Compare's contestants besides the
    scenario, the fit panel's companions); ``surface_kind``: the Error surface's slice."""
    works = [Work("training", training_seconds(config, n_rows, costs))]
    for other in others:
        works.append(Work("the other runs", training_seconds(other, n_rows, costs)))
    if view == "Train":
        works.append(Work("the replay's frames", frames_seconds(config, n_rows, costs=costs)))
    elif view == "Compare":
        for other in others:
            works.append(Work("the final maps", frames_seconds(other, n_rows, True, costs)))
    elif view == "Error surface":
        works.append(Work("the loss surface",
                          surface_seconds(config, n_rows, surface_kind, costs)))
    elif view == "Loss anatomy":
        works.append(Work("the per-point gradients",
                          snapshots_seconds(config, "gradients", n_rows, costs)))
    elif view == "Calibration":
        works.append(Work("the calibration", snapshots_seconds(config, "calibration", n_rows,
                                                               costs)))
    return _merged(works)


def _merged(works: list[Work]) -> list[Work]:
    """One entry per kind of work, in first-seen order."""
    totals: dict[str, float] = {}
    for work in works:
        totals[work.what] = totals.get(work.what, 0.0) + work.seconds
    return [Work(what, seconds) for what, seconds in totals.items()]


def total(works: Sequence[Work]) -> float:
    return sum(work.seconds for work in works)


@dataclass(frozen=True)
class Refusal:
    """Why a page is not computed, and a scenario that fits (None if lowering cannot)."""

    sentence: str
    suggestion: Config | None
    change: str
    """What the suggestion changes ("the epochs to 120")."""
    button: str
    """The button that applies it ("Use 120 epochs")."""


def refusal(config: Config, view: str, n_rows: int | None = None,
            others: Sequence[Config] = (), budget: float | None = None,
            costs: UnitCosts = COSTS, surface_kind: str = "parameters") -> Refusal | None:
    """None when the page fits the budget (``PAGE_BUDGET_S`` unless given); else the sentence
    and a suggestion that fits."""
    budget = PAGE_BUDGET_S if budget is None else budget
    works = page(config, view, n_rows, others, costs, surface_kind)
    seconds = total(works)
    if seconds <= budget:
        return None
    biggest = sorted(works, key=lambda w: -w.seconds)
    parts = ", ".join(f"{w.what} {_seconds(w.seconds)}" for w in biggest if w.seconds >= 0.05)
    suggestion, change, button = _suggest(config, view, n_rows, others, budget, costs,
                                          surface_kind)
    advice = (f" Lower {change} (the button does it)." if suggestion is not None else
              " Lower the epochs, the number of points or the layer sizes.")
    sentence = (f"This page would keep the shared server busy for about "
                f"{_seconds(seconds)} ({parts}); one click may use {_seconds(budget)}."
                f"{advice}")
    return Refusal(sentence, suggestion, change, button)


def _suggest(config: Config, view: str, n_rows: int | None, others: Sequence[Config],
             budget: float, costs: UnitCosts,
             surface_kind: str) -> tuple[Config | None, str, str]:
    """The gentlest single change that makes the page fit: fewer epochs, then fewer points,
    then narrower layers (every run of the page changed alike)."""
    def fits(change: dict) -> bool:
        return total(page(config.replace(**change), view, n_rows,
                          [o.replace(**change) for o in others], costs,
                          surface_kind)) <= budget * 0.95

    for epochs in _descending(config.epochs, 10, 10):
        if fits({"epochs": epochs}):
            return (config.replace(epochs=epochs), f"the epochs to {epochs}",
                    f"Use {epochs} epochs")
    if n_rows is None:
        for n in _descending(config.n_samples, 50, 50):
            if fits({"n_samples": n}):
                return (config.replace(n_samples=n), f"the number of points to {n}",
                        f"Use {n} points")
    for width in (32, 16, 8, 4):
        hidden = tuple(min(h, width) for h in config.hidden)
        if hidden != config.hidden and fits({"hidden": hidden}):
            text = ",".join(map(str, hidden)) or "none"
            return (config.replace(hidden=hidden), f"the layer sizes to {text}",
                    f"Use layers {text}")
    return None, "", ""


def _descending(start: int, lowest: int, step: int) -> list[int]:
    """Candidate values from ``start`` down to ``lowest`` in about 30 geometric steps,
    rounded to ``step``."""
    values: list[int] = []
    value = float(start)
    while value > lowest:
        value *= 0.85
        rounded = max(lowest, int(math.floor(value / step)) * step)
        if not values or rounded < values[-1]:
            values.append(rounded)
    return values


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
