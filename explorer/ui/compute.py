"""Cached computations: pure functions of the configuration, shared across sessions."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

import streamlit as st

from explorer import config as cfg
from explorer import experiment, losses
from explorer.figures import training as training_figures

PROGRESS_AFTER_S = 0.4


def _config(text: str) -> cfg.Config:
    return cfg.from_query(json.loads(text))[0]


class RunCache:
    """Finished runs by configuration, shared by all sessions, least recently used dropped.

    Not st.cache_data: a run reports progress to a bar drawn outside the function, which
    st.cache_data forbids (it records and replays elements). Runs are never mutated.
    """

    def __init__(self, max_entries: int = 24):
        self.max_entries = max_entries
        self._runs: OrderedDict[str, experiment.Run] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config_json: str, progress=None) -> experiment.Run:
        with self._lock:
            if config_json in self._runs:
                self._runs.move_to_end(config_json)
                return self._runs[config_json]
        run = experiment.run(_config(config_json), progress=progress)
        with self._lock:
            self._runs[config_json] = run
            while len(self._runs) > self.max_entries:
                self._runs.popitem(last=False)
        return run

    def __contains__(self, config_json: str) -> bool:
        return config_json in self._runs

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


RUNS = RunCache()


def train(config_json: str) -> experiment.Run:
    """The whole run for a configuration (JSON of its query dict), cached by that text."""
    return RUNS.get(config_json)


@st.cache_data(max_entries=48, show_spinner=False)
def training_figure(config_json: str, log_scale: bool):
    run = train(config_json)
    frames = training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)
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


def key(config: cfg.Config) -> str:
    return json.dumps(config.to_query(), sort_keys=True)
