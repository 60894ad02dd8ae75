"""From a Config to data and a trained model: the one pure function the app caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer import datasets, pairing, tabular
from explorer.config import UPLOAD, Config
from explorer.network import Model
from explorer.tabular import Table
from explorer.training import fit

SNAPSHOTS = 100


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


def fit_arguments(config: Config, data: Data) -> dict:
    """Everything ``training.fit`` takes from a scenario, besides the training points: the
    one place a Config becomes fit's arguments (the app, the lessons' claims, previews,
    Compare and the command line all train through it)."""
    return dict(
        problem=config.problem, hidden=config.hidden,
        hidden_activation=config.hidden_activation, init_scale=config.init_scale,
        output_activation=config.output_activation, loss=config.loss,
        optimizer=config.optimizer, lr=config.lr, epochs=config.epochs,
        momentum=config.momentum if config.optimizer == "momentum" else None,
        batch_size=config.effective_batch_size, l2=config.l2, seed=config.seed,
        validation_data=(data.X_val, data.y_val) if len(data.X_val) else None,
        n_classes=data.n_classes, loss_params=config.loss_params(),
        threshold=config.decision_threshold())


def run(config: Config, progress: Callable[[int, int], None] | None = None,
        snapshots: int = SNAPSHOTS, table: Table | None = None,
        watch: Callable[[int, Model, Data], None] | None = None,
        judge: Callable[[Config], pairing.Pairing] | None = None) -> Run:
    """Train the scenario; divergence is reported in the history, never raised.

    ``watch(epoch, model, data)``, about 100 times along the run: a model holding only the
    weights of that epoch (for a picture while a long run trains). ``judge(config)``: the
    pair's verdict (``verdict`` by default; the app judges a typed formula in its sandbox).
    """
    data = make_data(config, table)

    def look(epoch: int, network, theta) -> None:
        if watch is not None:
            weights = theta.copy()
            watch(epoch, Model(network, weights, config.problem, config.loss,
                               config.loss_params(), np.array([epoch]), weights[None],
                               data.n_classes, config.decision_threshold()), data)

    model, history = fit(data.X_train, data.y_train, **fit_arguments(config, data),
                         snapshots=snapshots, progress=progress,
                         watch=look if watch is not None else None)
    return Run(config, data, model, history, (judge or verdict)(config))


def verdict(config: Config) -> pairing.Pairing:
    """The pair's verdict: the table's, or for a typed formula the three answers'."""
    return pairing.verdict(config.problem, config.output_activation, config.loss,
                           config.loss_params())
