"""Cached computations: pure functions of the configuration, shared across sessions."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

import numpy as np
import streamlit as st

from explorer import activations, anatomy, experiment, losses, surfaces, tabular
from explorer import config as cfg
from explorer.figures import anatomy as anatomy_figures
from explorer.figures import compare as compare_figures_module
from explorer.figures import surface as surface_figures
from explorer.figures import training as training_figures

PROGRESS_AFTER_S = 0.4


def _config(text: str) -> cfg.Config:
    query = json.loads(text)
    query.pop("upload", None)
    return cfg.from_query(query)[0]


class SharedLRU:
    """A small dict shared by all sessions that forgets its least recently used entries."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Uploads(SharedLRU):
    """Prepared CSV tables by fingerprint, so any cached computation can rebuild a run."""

    def __init__(self, max_entries: int = 8):
        super().__init__(max_entries)

    def put(self, table: tabular.Table) -> None:
        super().put(table.digest, table)

    def get(self, digest: str | None) -> tabular.Table | None:
        return super().get(digest) if digest else None


UPLOADS = Uploads()


class RunCache(SharedLRU):
    """Finished runs by configuration, shared by all sessions, least recently used dropped.

    Not st.cache_data: a run reports progress to a bar drawn outside the function, which
    st.cache_data forbids (it records and replays elements). Runs are never mutated.
    """

    def __init__(self, max_entries: int = 24):
        super().__init__(max_entries)

    def get(self, config_json: str, progress=None) -> experiment.Run:
        run = super().get(config_json)
        if run is None:
            table = UPLOADS.get(json.loads(config_json).get("upload"))
            run = experiment.run(_config(config_json), progress=progress, table=table)
            self.put(config_json, run)
        return run


RUNS = RunCache()


def train(config_json: str) -> experiment.Run:
    """The whole run for a configuration (JSON of its query dict), cached by that text."""
    return RUNS.get(config_json)


@st.cache_data(max_entries=24, show_spinner=False)
def training_frames(config_json: str) -> training_figures.Frames:
    """Every snapshot's prediction map or curve; shared by the Train and Compare views and by
    both settings of the log-scale toggle."""
    run = train(config_json)
    return training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)


@st.cache_data(max_entries=24, show_spinner=False)
def training_figure(config_json: str, log_scale: bool):
    run = train(config_json)
    frames = training_frames(config_json)
    target = "count" if run.config.problem == "counts" else (
        "class" if run.config.problem == "binary" else "target y")
    fig = training_figures.training_figure(
        frames, run.history, run.data, run.config.problem, log_scale=log_scale,
        loss_label=losses.get(run.config.loss).label, threshold=run.model.threshold,
        target_label=target)
    fig.update_layout(meta=run.config.key())
    return fig


def train_with_progress(config: cfg.Config) -> experiment.Run:
    """Train (or fetch from the cache); a progress bar appears if it takes a while."""
    slot = st.empty()
    started = time.perf_counter()
    bar = {}

    def progress(epoch: int, epochs: int) -> None:
        if time.perf_counter() - started < PROGRESS_AFTER_S:
            return
        if "bar" not in bar:
            bar["bar"] = slot.progress(0.0, text="Training…")
        bar["bar"].progress(epoch / epochs, text=f"Training… epoch {epoch} of {epochs}")

    run = RUNS.get(key(config), progress=progress)
    slot.empty()
    return run


def key(config: cfg.Config, upload: str | None = None) -> str:
    """The cache key of a scenario: its query dict, plus the upload's fingerprint if any."""
    query = config.to_query()
    if config.dataset == cfg.UPLOAD:
        query["upload"] = upload if upload is not None else current_upload()
    return json.dumps(query, sort_keys=True)


def current_upload() -> str | None:
    """Fingerprint of this session's prepared upload (None when there is none)."""
    return st.session_state.get("_upload_digest")


EXACT_SPAN = 10.0
"""A two-parameter network's surface spans at least [-10, 10] in each weight."""
SURFACE_POINTS = 2000
"""Surfaces use at most this many training points (a fixed subsample beyond it)."""


def _surface_data(run: experiment.Run):
    X, y = run.data.X_train, run.data.y_train
    if len(X) > SURFACE_POINTS:
        rows = np.random.default_rng(0).choice(len(X), SURFACE_POINTS, replace=False)
        X, y = X[rows], y[rows]
    return X, y


@st.cache_data(max_entries=24, show_spinner="Evaluating the loss surface…")
def _surface(config_json: str, kind: str, option) -> surfaces.Surface:
    run = train(config_json)
    X, y = _surface_data(run)
    if kind == "parameters":
        i, j = option
        if run.model.network.n_params == 2:
            # the exact textbook picture: show the plateaus and the bowl, not just the path
            snaps = run.model.snapshots
            ranges = [(min(snaps[:, k].min(), -EXACT_SPAN) - 1.0,
                       max(snaps[:, k].max(), EXACT_SPAN) + 1.0) for k in (i, j)]
            return surfaces.two_parameter_slice(run.model, X, y, i, j, ranges=ranges,
                                                resolution=61)
        return surfaces.two_parameter_slice(run.model, X, y, i, j)
    if kind == "random":
        seed, span = option
        return surfaces.random_plane(run.model, X, y, seed=seed, span=span)
    return surfaces.pca_plane(run.model, X, y)


def default_surface_parameters(config_json: str) -> tuple[int, int]:
    run = train(config_json)
    return surfaces.default_parameters(run.model.network, run.model.theta)


@st.cache_data(max_entries=24, show_spinner=False)
def surface_figure(config_json: str, kind: str, option, mode: str, scale: str):
    run = train(config_json)
    fig = surface_figures.surface_figure(_surface(config_json, kind, option), run.history,
                                         mode=mode, scale=scale)
    fig.update_layout(meta=run.config.key())
    return fig


@st.cache_data(max_entries=24, show_spinner=False)
def interpolation_figure(config_json: str):
    run = train(config_json)
    X, y = _surface_data(run)
    fig = surface_figures.interpolation_figure(surfaces.interpolation_line(run.model, X, y))
    fig.update_layout(meta=run.config.key() + ":line")
    return fig


@st.cache_data(max_entries=24, show_spinner=False)
def anatomy_figure(config_json: str, target):
    run = train(config_json)
    c = run.config
    # counts: z is a log-rate, and exp(8) would dwarf every other curve
    z = np.linspace(-4.0, 4.0, 401) if c.problem == "counts" else None
    chosen, matched = anatomy.compare_pairs(c.problem, c.output_activation, c.loss,
                                            loss_params=c.loss_params(),
                                            target=None if target is None else (target,), z=z)
    fig = anatomy_figures.anatomy_figure(chosen, matched)
    fig.update_layout(meta=c.key() + ":anatomy")
    return fig


@st.cache_data(max_entries=24, show_spinner=False)
def gradient_histogram(config_json: str):
    run = train(config_json)
    X, y = _surface_data(run)
    points = anatomy.per_point_output_gradients(run.model, X, y)
    fig = anatomy_figures.gradient_histogram_figure(points.grads, points.epochs,
                                                    points.confidently_wrong)
    fig.update_layout(meta=run.config.key() + ":gradients")
    return fig


@st.cache_data(max_entries=24, show_spinner=False)
def compare_figures(config_jsons: tuple[str, ...]):
    """(race figure, final maps figure, summary table) for configurations of one scenario."""
    runs = [train(text) for text in config_jsons]
    names = [pair_name(run.config) for run in runs]
    problem = runs[0].config.problem
    race = compare_figures_module.race_figure(
        [(name, run.history) for name, run in zip(names, runs)], problem)
    maps = compare_figures_module.final_maps_figure(
        [(name, training_frames(text)) for name, text in zip(names, config_jsons)],
        runs[0].data, problem)
    table = compare_figures_module.summary_table(
        [(name, run.pairing.verdict, run.history) for name, run in zip(names, runs)], problem)
    race.update_layout(meta=runs[0].config.key() + ":race")
    return race, maps, table


def pair_name(config: cfg.Config) -> str:
    return f"{activations.get(config.output_activation).label} + {losses.get(config.loss).label}"
