"""From a Config to data and a trained model: the one pure function the app caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer import datasets, losses, pairing, tabular
from explorer.config import UPLOAD, Config
from explorer.network import Model
from explorer.tabular import Table
from explorer.training import fit

SNAPSHOTS = 100
BATCH_UNITS = 300_000
"""Fixed cost of one mini-batch step in work units (one unit = one sample through one
parameter, forward and backward): measured here, a step costs ~0.6 ms of overhead plus
~2 ns per sample-parameter."""
WORK_BUDGET = 1.2e10
"""Most work one run may take (about 15 s here; the opening scenario needs 1.6e8, the
lessons up to 2.4e9): checked before training, so a shared server is never tied up by one
click."""


@dataclass(frozen=True)
class Data:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int | None
    feature_names: tuple[str, ...] = ()
    """Names of the input columns (uploads), as the figures show them (``chart_text``);
    empty for the built-in datasets."""
    class_names: tuple[str, ...] = ()
    target_name: str = ""


@dataclass(frozen=True)
class Run:
    config: Config
    data: Data
    model: Model
    history: pd.DataFrame
    pairing: pairing.Pairing
    """The table's verdict; for a typed formula an ``AnsweredPairing`` (``pairing.judge``)."""

    @property
    def divergence(self) -> dict | None:
        return self.history.attrs.get("divergence")


def make_data(config: Config, table: Table | None = None) -> Data:
    """Generate (or take the uploaded table) and split it: same seed, same points."""
    if config.dataset == UPLOAD:
        if table is None or table.problem != config.problem:
            raise ValueError("this scenario uses an uploaded CSV; upload it again")
        X, y = table.X, table.y
        # names from the file reach only the figures: Plotly renders <a href>, <b> in them
        names, classes = (tuple(map(tabular.chart_text, names))
                          for names in (table.feature_names, table.class_names))
        target = tabular.chart_text(table.target_name)
    else:
        X, y = datasets.make(config.dataset, config.problem, n=config.n_samples,
                             noise=config.noise, seed=config.seed, **config.dataset_options())
        names, classes, target = (), (), ""
    rng = np.random.default_rng(config.seed + 1)
    X_train, y_train, X_val, y_val = datasets.train_validation_split(X, y, config.val_share, rng)
    n_classes = int(y.max()) + 1 if config.problem in ("binary", "multiclass") else None
    return Data(X_train, y_train, X_val, y_val, n_classes, names, classes, target)


def work_units(config: Config, n_rows: int | None = None) -> float:
    """Estimated work of a run: epochs x (batches x BATCH_UNITS + samples x parameters)."""
    n = config.n_samples if n_rows is None else n_rows
    n_train = max(1, round(n * (1.0 - config.val_share)))
    batch = config.batch_size or n_train
    batches = -(-n_train // min(batch, n_train))
    k = (config.n_classes if config.problem == "multiclass" else 1) * \
        losses.get(config.loss).outputs_per_target
    sizes = (2, *config.hidden, k)
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    return float(config.epochs) * (batches * BATCH_UNITS + n_train * params)


def over_budget(config: Config, n_rows: int | None = None) -> str | None:
    """None when the run fits ``WORK_BUDGET``; else one sentence saying what to lower."""
    work = work_units(config, n_rows)
    if work <= WORK_BUDGET:
        return None
    factor = work / WORK_BUDGET
    levers = []
    if config.epochs > 100:
        levers.append(f"the epochs (to about {max(10, int(config.epochs / factor))})")
    if config.batch_size and config.batch_size < 64:
        levers.append("the number of batches (a larger batch size)")
    if config.hidden and max(config.hidden) > 16:
        levers.append("the layer sizes")
    if (n_rows or config.n_samples) > 500:
        levers.append("the number of points")
    what = ", ".join(levers[:-1]) + (" or " if len(levers) > 1 else "") + (levers[-1] if levers
                                                                          else "the epochs")
    return (f"This run is about {factor:.1f}× larger than one click may train on a shared "
            f"server: lower {what}.")


def run(config: Config, progress: Callable[[int, int], None] | None = None,
        snapshots: int = SNAPSHOTS, table: Table | None = None,
        watch: Callable[[int, Model, Data], None] | None = None) -> Run:
    """Train the scenario; divergence is reported in the history, never raised.

    ``watch(epoch, model, data)``, about 100 times along the run: a model holding only the
    weights of that epoch (for a picture while a long run trains).
    """
    data = make_data(config, table)

    def look(epoch: int, network, theta) -> None:
        if watch is not None:
            weights = theta.copy()
            watch(epoch, Model(network, weights, config.problem, config.loss,
                               config.loss_params(), np.array([epoch]), weights[None],
                               data.n_classes), data)

    validation = (data.X_val, data.y_val) if len(data.X_val) else None
    model, history = fit(
        data.X_train, data.y_train, problem=config.problem, hidden=config.hidden,
        hidden_activation=config.hidden_activation, init_scale=config.init_scale,
        output_activation=config.output_activation, loss=config.loss,
        optimizer=config.optimizer, lr=config.lr, epochs=config.epochs,
        momentum=config.momentum if config.optimizer == "momentum" else None,
        batch_size=config.effective_batch_size, l2=config.l2, seed=config.seed,
        validation_data=validation, snapshots=snapshots, n_classes=data.n_classes,
        loss_params=config.loss_params(), threshold=config.decision_threshold(),
        progress=progress, watch=look if watch is not None else None)
    return Run(config, data, model, history,
               pairing.verdict(config.problem, config.output_activation, config.loss,
                               config.loss_params()))
