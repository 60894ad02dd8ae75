"""From a Config to data and a trained model: the one pure function the app caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer import datasets, pairing
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
    """Names of the input columns (uploads); empty for the built-in datasets."""
    class_names: tuple[str, ...] = ()
    target_name: str = ""


@dataclass(frozen=True)
class Run:
    config: Config
    data: Data
    model: Model
    history: pd.DataFrame
    pairing: pairing.Pairing

    @property
    def divergence(self) -> dict | None:
        return self.history.attrs.get("divergence")


def make_data(config: Config, table: Table | None = None) -> Data:
    """Generate (or take the uploaded table) and split it: same seed, same points."""
    if config.dataset == UPLOAD:
        if table is None or table.problem != config.problem:
            raise ValueError("this scenario uses an uploaded CSV; upload it again")
        X, y = table.X, table.y
        names, classes, target = table.feature_names, table.class_names, table.target_name
    else:
        X, y = datasets.make(config.dataset, config.problem, n=config.n_samples,
                             noise=config.noise, seed=config.seed, **config.dataset_options())
        names, classes, target = (), (), ""
    rng = np.random.default_rng(config.seed + 1)
    X_train, y_train, X_val, y_val = datasets.train_validation_split(X, y, config.val_share, rng)
    n_classes = int(y.max()) + 1 if config.problem in ("binary", "multiclass") else None
    return Data(X_train, y_train, X_val, y_val, n_classes, names, classes, target)


def run(config: Config, progress: Callable[[int, int], None] | None = None,
        snapshots: int = SNAPSHOTS, table: Table | None = None) -> Run:
    """Train the scenario; divergence is reported in the history, never raised."""
    data = make_data(config, table)
    validation = (data.X_val, data.y_val) if len(data.X_val) else None
    model, history = fit(
        data.X_train, data.y_train, problem=config.problem, hidden=config.hidden,
        hidden_activation=config.hidden_activation, init_scale=config.init_scale,
        output_activation=config.output_activation, loss=config.loss,
        optimizer=config.optimizer, lr=config.lr, epochs=config.epochs,
        momentum=config.momentum if config.optimizer == "momentum" else None,
        batch_size=config.effective_batch_size, l2=config.l2, seed=config.seed,
        validation_data=validation, snapshots=snapshots, n_classes=data.n_classes,
        loss_params=config.loss_params(),
        progress=progress)
    return Run(config, data, model, history,
               pairing.check(config.problem, config.output_activation, config.loss))
