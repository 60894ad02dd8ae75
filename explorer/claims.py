"""Claims a lesson makes, as data: readable text, a measurement over runs, a comparison.

A ``Claim`` measures one number from a set of runs (``Runs``: the lesson's own run under
``THIS`` plus the comparison runs it names, trained on first use) and compares it with a
fixed bound. ``Claim.check`` turns that into a ``ClaimResult``. A measurement that cannot
be made (NaN, an exception, a run that stopped early where the claim needs its end) fails
the claim.

The helpers below are the measurements lessons share: history values, predictions at a
snapshot, the per-point gradient at the output's pre-activation (as the trainer computes
it) and the loss at arbitrary weights. No Streamlit here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from explorer import anatomy, surfaces, training
from explorer.config import Config
from explorer.experiment import Run, fit_arguments, run
from explorer.network import Model
from explorer.objective import Objective

Array = np.ndarray
THIS = "this"
"""The name of the lesson's own run in ``Runs``."""

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}


class Runs(Mapping):
    """Named runs, each trained the first time a claim reads it.

    ``configs`` maps a name (``THIS`` for the lesson's own) to its Config. ``cache`` maps
    ``Config.key()`` to a finished Run; pass one dict to several ``Runs`` to share runs
    between lessons that train the same configuration.
    """

    def __init__(self, configs: Mapping[str, Config], cache: dict | None = None):
        self.configs = dict(configs)
        self.cache = {} if cache is None else cache

    def __getitem__(self, name: str) -> Run:
        config = self.configs[name]
        key = config.key()
        if key not in self.cache:
            self.cache[key] = run(config)
        return self.cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.configs)

    def __len__(self) -> int:
        return len(self.configs)


@dataclass(frozen=True)
class ClaimResult:
    """One claim checked on one seed: what was measured and whether the claim held."""

    preset: str
    seed: int
    text: str
    value: float
    op: str
    bound: float
    passed: bool
    error: str = ""
    """Why the measurement could not be made (the claim then fails), else empty."""

    def __str__(self) -> str:
        mark = "holds" if self.passed else "FAILS"
        why = f"; {self.error}" if self.error else ""
        return (f"[{self.preset} seed {self.seed}] {mark}: {self.text} "
                f"(measured {self.value:.4g} {self.op} {self.bound:g}?{why})")


@dataclass(frozen=True)
class Claim:
    """A sentence a lesson states, and how to check it: ``measure(runs) <op> bound``."""

    text: str
    measure: Callable[[Runs], float]
    op: str
    bound: float

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"op must be one of {', '.join(OPS)}; got {self.op!r}")

    def check(self, runs: Runs, preset: str = "", seed: int = 0) -> ClaimResult:
        """Measure and compare; a measurement that raises or is not finite fails."""
        try:
            value, error = float(self.measure(runs)), ""
        except Exception as exc:  # a claim about a run that broke is a failed claim
            value, error = math.nan, f"{type(exc).__name__}: {exc}"
        passed = math.isfinite(value) and bool(OPS[self.op](value, self.bound))
        return ClaimResult(preset, seed, self.text, value, self.op, self.bound, passed, error)


def at_least(bound: float, text: str, measure: Callable[[Runs], float]) -> Claim:
    return Claim(text, measure, ">=", bound)


def at_most(bound: float, text: str, measure: Callable[[Runs], float]) -> Claim:
    return Claim(text, measure, "<=", bound)


# ----------------------------------------------------------------------------------------
# Measurements lessons share


def finished(r: Run) -> bool:
    """True when the run trained all its epochs (no divergence)."""
    return r.divergence is None and len(r.history) == r.config.epochs


def final(r: Run, column: str) -> float:
    """The column's value after the last epoch; NaN if the run stopped early."""
    return float(r.history[column].iloc[-1]) if finished(r) else math.nan


def at_epoch(r: Run, column: str, epoch: int) -> float:
    """The column's value after ``epoch`` (1-based); NaN if the run never got there."""
    h = r.history
    return float(h[column].iloc[epoch - 1]) if len(h) >= epoch else math.nan


def theta_at(r: Run, epoch: int) -> Array:
    """Parameters after ``epoch`` (0 = initial weights); the epoch must be a snapshot."""
    epochs = list(np.asarray(r.model.snapshot_epochs))
    if epoch not in epochs:
        raise ValueError(f"epoch {epoch} is not a snapshot; snapshots: {epochs[:5]}...")
    return np.asarray(r.model.snapshots[epochs.index(epoch)])


def outputs(model: Model, X, theta: Array | None = None) -> Array:
    """Network outputs (n, k) at ``theta`` (default: the final weights)."""
    theta = model.theta if theta is None else theta
    return model.network.forward_many(theta, np.asarray(X, dtype=float))


def point_gradients(model: Model, X, y, theta: Array | None = None, loss: str | None = None,
                    loss_params: dict | None = None) -> Array:
    """|dL_i/dz_i| per point (n,), as the trainer computes it, at ``theta``.

    ``loss`` defaults to the model's own; another loss gives its gradient at the same
    weights (how it *would* push this model).
    """
    network = model.network
    theta = model.theta if theta is None else theta
    if loss is None:
        loss, loss_params = model.loss, model.loss_params
    objective = Objective.build(model.problem, network.output_activation, loss, y,
                                model.n_classes, loss_params, n_outputs=network.n_outputs)
    with np.errstate(all="ignore"):
        z = network.pre_activations(theta, np.asarray(X, dtype=float))
        _, dz = anatomy.output_gradient(objective, z)
    return np.linalg.norm(dz, axis=1)


def loss_at(model: Model, thetas: Array, X, y) -> Array:
    """The model's loss on (X, y) at each parameter vector: thetas (S, P) -> (S,)."""
    return surfaces.Evaluator(model, X, y).losses(np.atleast_2d(thetas))


def surface_slope(model: Model, theta: Array, X, y, h: float = 1e-4) -> float:
    """Norm of the loss surface's gradient at theta, by central differences."""
    theta = np.asarray(theta, dtype=float)
    steps = np.eye(len(theta)) * h
    values = loss_at(model, np.vstack([theta + steps, theta - steps]), X, y)
    half = len(theta)
    return float(np.linalg.norm((values[:half] - values[half:]) / (2 * h)))


def recall(scores: Array, y: Array, label: int, threshold: float) -> float:
    """Share of the points of class ``label`` that the threshold assigns to it."""
    scores, y = np.ravel(scores), np.asarray(y)
    chosen = scores > threshold if label == 1 else scores <= threshold
    mask = y == label
    return float(np.mean(chosen[mask])) if mask.any() else math.nan


def train_from(r: Run, initial_params=None, loss_params: dict | None = None, **changes):
    """Train the run's configuration on its own data, from explicit initial weights or with
    loss parameters Config does not hold (focal's alpha).

    Returns (Model, history) of ``explorer.fit``. ``changes`` override Config fields (e.g.
    ``loss="bce"``), so two losses can start from the same chosen point of a surface;
    ``initial_params=None`` keeps the seed's initial weights.
    """
    c = r.config.replace(**changes)
    arguments = fit_arguments(c, r.data)
    arguments["loss_params"] = {**arguments["loss_params"], **(loss_params or {})}
    return training.fit(
        r.data.X_train, r.data.y_train, **arguments, snapshots=2,
        initial_params=None if initial_params is None else np.asarray(initial_params, float))
