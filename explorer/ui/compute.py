"""Cached computations: pure functions of the scenario, shared across sessions.

One key scheme: a ``RunKey`` (the frozen Config, plus the upload's fingerprint when the
scenario trains on an uploaded CSV). Runs live in one plain LRU bounded in entries and in
bytes (``RUNS.get_or_train``); figures and surfaces are ``st.cache_data`` functions of a
RunKey and their own options.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer import (
    activations,
    anatomy,
    budget,
    experiment,
    export,
    losses,
    sandbox,
    surfaces,
    tabular,
)
from explorer import config as cfg
from explorer.figures import anatomy as anatomy_figures
from explorer.figures import compare as compare_figures_module
from explorer.figures import surface as surface_figures
from explorer.figures import training as training_figures
from explorer.ui import charts, phases, state, turns

PROGRESS_AFTER_S = 0.4
WORKERS_VARIABLE = "EXPLORER_TRAINING_WORKERS"
POOL_SECONDS = 0.5
"""Runs estimated below this may train in a worker process; they end before a progress bar
would show, so they need no progress, preview or Cancel."""
CACHE_ENTRIES = 24
"""How many runs (and figures of each kind) the server keeps, shared by every session."""
CACHE_BYTES = 400 * 2**20
"""Upper bound on the memory the cached runs hold."""
UPLOAD_ENTRIES = 8
HOLD_VARIABLE = "EXPLORER_TEST_HOLD_DIR"
"""For browser tests only: a folder in which a file ``seed-<seed>`` holds a run of that seed
open after its first report, progress bar, Cancel and preview drawn, until the test removes
the file. A test then sees a run "still training" for as long as it needs, on any machine,
instead of hoping a big configuration is slow enough."""


@dataclass(frozen=True)
class RunKey:
    """What identifies a run: the scenario, and the uploaded file's fingerprint if any."""

    config: cfg.Config
    upload: str | None = None


class LRU:
    """A dict shared by all sessions that forgets its least recently used entries once it
    holds more than ``max_entries`` or more than ``max_bytes`` (as ``size`` counts them)."""

    def __init__(self, max_entries: int, max_bytes: float = float("inf"),
                 size: Callable[[object], int] = lambda value: 0):
        self.max_entries, self.max_bytes, self.size = max_entries, max_bytes, size
        self._items: OrderedDict = OrderedDict()
        self._bytes: dict = {}
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
            self._bytes[key] = self.size(value)
            self._items.move_to_end(key)
            while len(self._items) > 1 and (len(self._items) > self.max_entries or
                                            sum(self._bytes.values()) > self.max_bytes):
                old, _ = self._items.popitem(last=False)
                del self._bytes[old]

    def __contains__(self, key) -> bool:
        return key in self._items

    @property
    def bytes(self) -> int:
        return sum(self._bytes.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes.clear()


def run_bytes(run: experiment.Run) -> int:
    """About how much memory a run holds: its arrays and its history."""
    arrays = [run.model.snapshots, run.model.theta, run.data.X_train, run.data.y_train,
              run.data.X_val, run.data.y_val]
    return (sum(np.asarray(a).nbytes for a in arrays)
            + int(run.history.memory_usage(deep=True).sum()) + sys.getsizeof(run))


class RunCache(LRU):
    """Finished runs by RunKey, shared by all sessions, least recently used dropped.

    Not st.cache_data: a run reports progress to a bar drawn outside the function, which
    st.cache_data forbids (it records and replays elements). Runs are never mutated.
    """

    def __init__(self, max_entries: int = CACHE_ENTRIES, max_bytes: float = CACHE_BYTES):
        super().__init__(max_entries, max_bytes, run_bytes)
        self._locks: dict = {}
        self._locks_guard = threading.Lock()

    def _key_lock(self, key) -> threading.Lock:
        with self._locks_guard:
            if len(self._locks) > 4 * self.max_entries:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(key, threading.Lock())

    def get_or_train(self, key: RunKey, progress=None, watch=None) -> experiment.Run:
        run = self.get(key)
        if run is not None:
            return run
        # one training per key: students opening the same new link at once wait for the
        # first one's run instead of each training it again, and they wait without their
        # turn, so the rest of the class is not held up behind that training
        lock = self._key_lock(key)
        if not lock.acquire(blocking=False):
            with turns.aside():
                lock.acquire()
        try:
            run = self.get(key)
            if run is None:
                table = UPLOADS.get(key.upload) if key.upload else None
                with phases.phase("training"):
                    run = read_only(TRAINERS.run(key.config, table, progress, watch))
                self.put(key, run)
        finally:
            lock.release()
        return run


def read_only(run: experiment.Run) -> experiment.Run:
    """The run with its arrays made read-only: every session is handed the same object, so
    none may change what another is shown (a write raises instead)."""
    arrays = [run.model.snapshots, run.model.theta, run.model.snapshot_epochs,
              run.data.X_train, run.data.y_train, run.data.X_val, run.data.y_val]
    for array in arrays:
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return run


class Trainers:
    """Where runs train: on the script's thread, or, with ``EXPLORER_TRAINING_WORKERS`` = N
    > 0, small runs in a pool of N worker processes.

    One Streamlit process runs Python on one core at a time (the GIL): with workers, the
    training of several students' clicks runs on other cores while the server draws pages.
    The other way to use every core is N replicas behind nginx (``deploy/``); use one or
    the other, not both. Long runs stay on the script's thread, where they show progress,
    a preview and Cancel. A broken pool (a worker killed) is replaced; that run trains on
    the thread.
    """

    def __init__(self, workers: int = 0):
        self.workers = workers
        self._pool = None
        self._guard = threading.Lock()

    def run(self, config: cfg.Config, table, progress=None, watch=None) -> experiment.Run:
        if self.workers > 0 and budget.training_seconds(
                config, None if table is None else len(table.X)) < POOL_SECONDS:
            try:
                return self.pool().submit(experiment.run, config, table=table).result()
            except BrokenProcessPool:
                with self._guard:
                    self._pool = None
        return experiment.run(config, progress=progress, table=table, watch=watch,
                              judge=verdict)

    def pool(self) -> ProcessPoolExecutor:
        with self._guard:
            if self._pool is None:
                # not fork: the server has threads running, and a forked copy of them
                # can deadlock
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("forkserver"))
            return self._pool


def verdict(config: cfg.Config):
    """The pair's verdict; a typed formula is judged in the sandbox (a worker process with a
    time limit), waiting without this session's turn."""
    if config.loss == losses.CUSTOM:
        return sandbox.formula_verdict(config.problem, config.output_activation,
                                       config.formula)
    return experiment.verdict(config)


def _workers() -> int:
    """``EXPLORER_TRAINING_WORKERS`` as a count (0 when unset or not a whole number >= 0)."""
    text = os.environ.get(WORKERS_VARIABLE, "").strip()
    return int(text) if text.isdigit() else 0


class Uploads(LRU):
    """Prepared CSV tables by fingerprint, so any cached computation can rebuild a run."""

    def __init__(self, max_entries: int = UPLOAD_ENTRIES):
        super().__init__(max_entries)

    def put(self, table: tabular.Table) -> None:  # type: ignore[override]
        super().put(table.digest, table)


UPLOADS = Uploads()
RUNS = RunCache()
TRAINERS = Trainers(_workers())


def train(key: RunKey) -> experiment.Run:
    """The whole run for a key (trained now if no session has it yet)."""
    return RUNS.get_or_train(key)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def training_frames(key: RunKey) -> training_figures.Frames:
    """Every snapshot's prediction map or curve; shared by the Train and Compare views and by
    both settings of the log-scale toggle."""
    run = train(key)
    with phases.phase("frames"):
        return training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def final_frames(key: RunKey) -> training_figures.Frames:
    """The last snapshot's map or curve only (Compare draws no other)."""
    run = train(key)
    model = dataclasses.replace(run.model, snapshots=run.model.snapshots[-1:],
                                snapshot_epochs=run.model.snapshot_epochs[-1:])
    return training_figures.compute_frames(model, run.data.X_train, run.data.y_train)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def training_figure(key: RunKey, log_scale: bool | None, start_at_first: bool = False,
                    presenting: bool = False) -> dict:
    """The Train view's animated figure as a plain Plotly dict (see ``charts``)."""
    run = train(key)
    frames = training_frames(key)
    with phases.phase("figures"):
        spec = _training_spec(run, frames, log_scale, start_at_first, presenting)
    spec["layout"]["meta"] = run.config.key()
    return spec


def _training_spec(run, frames, log_scale, start_at_first, presenting) -> dict:
    target = "count" if run.config.problem == "counts" else (
        "class" if run.config.problem == "binary" else "target y")
    return training_figures.training_spec(
        frames, run.history, run.data, run.config.problem, log_scale=log_scale,
        loss_label=losses.get(run.config.loss).label, threshold=run.model.threshold,
        target_label=target, start_at_first=start_at_first,
        height=PRESENTING_HEIGHT if presenting else 600, presenting=presenting)


PRESENTING_HEIGHT = 520
"""The Train figure in presenting mode: with the one-line header and the playback bar it
fits a 1280 x 720 projector without scrolling."""


@st.cache_data(max_entries=8, show_spinner=False)
def animation_html(key: RunKey) -> str:
    """The Train view's animated figure as one offline HTML page."""
    run = train(key)
    fig = training_figure(key, None)
    return export.animation_html(fig, f"{pair_name(run.config)}: {run.config.dataset}")


@st.cache_data(max_entries=8, show_spinner=False)
def animation_gif(key: RunKey) -> bytes:
    """The Train view as an animated GIF (every other snapshot)."""
    run = train(key)
    return export.animation_gif(training_frames(key), run.history, run.data,
                                run.config.problem, pair_name(run.config))


PREVIEW_EVERY_S = 2.5
"""A long run redraws its partial picture this often."""


def train_with_progress(config: cfg.Config) -> experiment.Run:
    """Train (or fetch from the cache). A run that takes a while shows a progress bar with
    the time left, a Cancel button, and its latest snapshot every few seconds."""
    run_key = key(config)
    # one placeholder whether or not the run is cached: the elements after it (the chart, its
    # playback bar) keep their places from the run that trained to the next one, so the page
    # keeps them, and a replay already playing plays on
    holder = st.empty()
    cached = RUNS.get(run_key)
    if cached is not None:
        return cached
    # three separate slots: updating the bar must not re-create the Cancel button
    # (a button replaced while it is being clicked never receives the click)
    box = holder.container()
    slots = [box.empty(), box.empty(), box.empty()]
    started = time.perf_counter()
    shown: dict = {}

    def progress(epoch: int, epochs: int) -> None:
        elapsed = time.perf_counter() - started
        if elapsed < PROGRESS_AFTER_S:
            return
        if "bar" not in shown:
            turns.give_back()  # a long run must not hold up the other students' runs
            # several runs may train in one page (Compare, the fit panel's companions): each
            # gets its own button, and each cancels the page's scenario
            slots[1].button("Cancel", key=f"cancel_training_{config.key()}",
                            icon=":material/stop_circle:", on_click=state.cancel_training,
                            args=(st.session_state.get(state.PAGE_RUN, config.key()),),
                            help="Stop this run. Changing a setting trains again.")
            shown["drawn"] = -PREVIEW_EVERY_S
        left = elapsed * (epochs - epoch) / max(epoch, 1)
        shown["bar"] = slots[0].progress(epoch / epochs,
                                         text=f"Training… epoch {epoch} of {epochs}, "
                                              f"about {_seconds(left)} left")

    def watch(epoch: int, model, data) -> None:
        while _held(config):
            # the test's gate: report as a long run would (about once a second), and let a
            # Cancel's rerun stop it
            time.sleep(0.1)
            if time.perf_counter() - shown.get("held", 0.0) >= 1.0:
                shown["held"] = time.perf_counter()
                progress(epoch, config.epochs)
                _preview(epoch, model, data)
        _preview(epoch, model, data)

    def _preview(epoch: int, model, data) -> None:
        elapsed = time.perf_counter() - started
        if ("bar" not in shown or elapsed - shown["drawn"] < PREVIEW_EVERY_S
                or shown.get("epoch") == epoch):
            return
        shown["drawn"], shown["epoch"] = elapsed, epoch
        frames = training_figures.compute_frames(model, data.X_train, data.y_train)
        slots[2].plotly_chart(
            training_figures.snapshot_figure(frames, data, config.problem, epoch),
            width="stretch", config={"staticPlot": True})

    run = RUNS.get_or_train(run_key, progress=progress, watch=watch)
    holder.empty()
    return run


def _held(config: cfg.Config) -> bool:
    folder = os.environ.get(HOLD_VARIABLE)
    return bool(folder) and os.path.exists(os.path.join(folder, f"seed-{config.seed}"))


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def key(config: cfg.Config, upload: str | None = None) -> RunKey:
    """The cache key of a scenario (with this session's upload, when it uses one)."""
    if config.dataset != cfg.UPLOAD:
        return RunKey(config)
    return RunKey(config, upload if upload is not None else current_upload())


def current_upload() -> str | None:
    """Fingerprint of this session's prepared upload (None when there is none)."""
    return st.session_state.get("_upload_digest")


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner="Evaluating the loss surface…")
def _surface(key: RunKey, kind: str, option) -> surfaces.Surface:
    run = train(key)
    return surfaces.default_slice(run.model, run.data.X_train, run.data.y_train, kind, option)


def default_surface_parameters(key: RunKey) -> tuple[int, int]:
    run = train(key)
    return surfaces.default_parameters(run.model.network, run.model.theta)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def surface_figure(key: RunKey, kind: str, option, mode: str, scale: str):
    run = train(key)
    spec = surface_figures.surface_spec(_surface(key, kind, option), run.history,
                                        mode=mode, scale=scale)
    spec["layout"]["meta"] = run.config.key()
    return spec


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def interpolation_figure(key: RunKey):
    run = train(key)
    X, y = surfaces.surface_data(run.data.X_train, run.data.y_train)
    fig = surface_figures.interpolation_figure(surfaces.interpolation_line(run.model, X, y))
    fig.update_layout(meta=run.config.key() + ":line")
    return charts.plain(fig)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def anatomy_figure(key: RunKey, target):
    run = train(key)
    c = run.config
    chosen, matched = anatomy.compare_pairs(c.problem, c.output_activation, c.loss,
                                            loss_params=c.loss_params(),
                                            target=None if target is None else (target,))
    fig = anatomy_figures.anatomy_figure(chosen, matched)
    fig.update_layout(meta=c.key() + ":anatomy")
    return charts.plain(fig)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def gradient_histogram(key: RunKey):
    run = train(key)
    X, y = surfaces.surface_data(run.data.X_train, run.data.y_train)
    points = anatomy.per_point_output_gradients(run.model, X, y)
    spec = anatomy_figures.gradient_histogram_spec(points.grads, points.epochs,
                                                   points.confidently_wrong)
    spec["layout"]["meta"] = run.config.key() + ":gradients"
    return spec


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def compare_figures(keys: tuple[RunKey, ...]):
    """(race figure, final maps figure, summary table) for configurations of one scenario."""
    runs = [train(key) for key in keys]
    names = [pair_name(run.config) for run in runs]
    problem = runs[0].config.problem
    race = compare_figures_module.race_figure(
        [(name, run.history) for name, run in zip(names, runs)], problem)
    maps = compare_figures_module.final_maps_figure(
        [(name, final_frames(key)) for name, key in zip(names, keys)],
        runs[0].data, problem)
    table = compare_figures_module.summary_table(
        [(name, run.pairing.verdict, run.history) for name, run in zip(names, runs)], problem)
    race.update_layout(meta=runs[0].config.key() + ":race")
    return charts.plain(race), charts.plain(maps), table


def pair_name(config: cfg.Config) -> str:
    loss = "your formula" if config.loss == losses.CUSTOM else losses.get(config.loss).label
    return f"{activations.get(config.output_activation).label} + {loss}"
