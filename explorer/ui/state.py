"""Session state <-> Config <-> URL. Widget keys are the query keys (config.FIELD_KEYS)."""

from __future__ import annotations

import streamlit as st

from explorer import config as cfg
from explorer import datasets, demonstration, losses, presets

INITIALIZED = "_initialized"
NOTICES = "_notices"
SETTINGS_SHOWN = "_settings_shown"
"""Set once this session's page has asked for its settings (``sidebar``: a session's first
page draws its chart before them)."""
ACTIVE_PRESET = "_active_preset"
LAST_URL = "_last_url"
VIEW = "view"
VIEWS = ("Train", "Error surface", "Loss anatomy", "Calibration", "Compare", "Learn")
PRESENT = "present"
"""Presenting mode: one view, compact, readable from the back of a room (``?present=1``)."""
AUTOPLAY = "autoplay"
"""Replay a new run by itself as soon as it is ready (``?autoplay=0`` turns it off)."""
ASK = "ask"
"""A lesson asks its question before the replay (``?ask=0`` opens lessons without it)."""
STREAMLIT_KEYS = ("embed", "embed_options")
"""Query keys Streamlit itself reads: not ours to complain about."""
CANCELLED = "_cancelled_run"
UPLOAD_DIGEST = "_upload_digest"
"""Set while this session holds a usable uploaded table (``upload.DIGEST``)."""
PAGE_RUN = "_page_run"
"""The config key of the scenario the page shows: what a Cancel button stops."""


def init_from_url() -> None:
    """Load the scenario from the URL on a session's first run, and again whenever the URL
    is not the one this session last wrote: the browser's Back or Forward button moved it
    (Streamlit reruns with the URL of that history entry)."""
    if st.session_state.get(INITIALIZED) and _current_url() == st.session_state.get(LAST_URL):
        return
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    st.session_state[PRESENT] = _flag(params.pop(PRESENT, None), False)
    st.session_state[AUTOPLAY] = _flag(params.pop(AUTOPLAY, None), True)
    st.session_state[ASK] = _flag(params.pop(ASK, None), True)
    notices: list[str] = []
    preset_key = cfg.last(params.pop("preset", None))
    view = cfg.last(params.pop(VIEW, None))
    for key in [k for k in params if k not in cfg.FIELD and k not in STREAMLIT_KEYS]:
        notices.append(f"Ignored {cfg.shorten(key)}={cfg.shorten(cfg.last(params.pop(key)))!r}"
                       " (not a setting of this app).")
    if preset_key is not None:
        try:
            preset = presets.get(preset_key)
            config, extra = cfg.from_query(params, base=preset.config)
            notices += extra
            st.session_state[ACTIVE_PRESET] = preset.key
            view = view or preset.view
        except ValueError:
            notices.append(f"Unknown preset {cfg.shorten(preset_key)!r}; showing the default "
                           "scenario instead.")
            config, extra = cfg.from_query(params)
            notices += extra
    else:
        st.session_state[ACTIVE_PRESET] = None
        config, extra = cfg.from_query(params)
        notices += extra
    if config.dataset == cfg.UPLOAD and st.session_state.get(UPLOAD_DIGEST) is None:
        # only a session without a file needs telling: one reloaded from the URL (Back,
        # Forward, or a rerun that overtook the URL this session last wrote) keeps its file
        notices.append("This link was made with an uploaded CSV, and a link cannot carry a "
                       "file: upload it again in the sidebar, or pick a built-in dataset.")
    if view is not None and view not in VIEWS:
        notices.append(f"Unknown view {cfg.shorten(view)!r}; showing Train.")
        view = None
    write_config(config)
    st.session_state[VIEW] = view or VIEWS[0]
    st.session_state[NOTICES] = notices
    st.session_state[INITIALIZED] = True


def _flag(values, default: bool) -> bool:
    value = cfg.last(values)
    if value is None:
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _current_url() -> dict[str, str]:
    return {key: st.query_params.get(key) for key in st.query_params}


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT, False))


def write_config(config: cfg.Config) -> None:
    """Put a config into the widgets' session-state slots."""
    for field in cfg.FIELDS:
        text = field.dump(getattr(config, field.key))
        # the hidden-layers box is a text input; every other widget holds the parsed value
        st.session_state[field.key] = text if field.key == "hidden" else field.parse(text)


def restore_hidden_settings() -> None:
    """Streamlit forgets a widget's value when the widget is not drawn in a run (τ while the
    loss is not pinball, α while it is not BCE or focal, …). Put back the value the URL last
    carried, so a setting that comes back shows what it had, not its slider's minimum."""
    last = st.session_state.get(LAST_URL) or {}
    for field in cfg.FIELDS:
        if field.key in st.session_state:
            continue
        text = last.get(field.key)
        try:
            value = field.parse(text) if text is not None else None
        except (TypeError, ValueError):
            value = None
        if value is None or not field.check(value):
            value = getattr(cfg.DEFAULT, field.key)
            text = field.dump(value)
        st.session_state[field.key] = text if field.key == "hidden" else value


KEPT = "_kept_view_settings"
VIEW_SETTINGS = ("loss_axis", AUTOPLAY, "surface_kind", "surface_mode", "surface_scale",
                 "surface_seed", "surface_span", "surface_i_", "surface_j_", "anatomy_target")
"""Keys (or key prefixes) of settings drawn only on some views or in some modes."""


def keep_view_settings() -> None:
    """Streamlit drops a widget's value on a run that does not draw it: Play when ready, the
    loss axis or the surface's choices would fall back to their defaults after a visit to
    another view, to presenting mode or to an upload. Remember each one's last value and put
    it back when its widget is gone."""
    kept = st.session_state.setdefault(KEPT, {})
    for key in list(st.session_state):
        if isinstance(key, str) and key.startswith(VIEW_SETTINGS):
            kept[key] = st.session_state[key]
    for key, value in kept.items():
        if key not in st.session_state:
            st.session_state[key] = value


def settings_shown() -> bool:
    """Whether this session's page has its settings (every run after its first page)."""
    return bool(st.session_state.get(SETTINGS_SHOWN))


def read_config() -> tuple[cfg.Config, list[str]]:
    """The config the widgets currently describe (validated the same way as a URL)."""
    params = {}
    for field in cfg.FIELDS:
        if field.key in st.session_state:
            value = st.session_state[field.key]
            params[field.key] = value if isinstance(value, str) else field.dump(value)
    return cfg.from_query(params)


def lesson(config: cfg.Config) -> tuple[presets.Preset | None, bool]:
    """(the lesson last opened, whether every setting still equals the lesson's)."""
    key = st.session_state.get(ACTIVE_PRESET)
    if not key:
        return None, False
    preset = presets.get(key)
    return preset, config == preset.config


def sync_url(config: cfg.Config) -> None:
    """Mirror the scenario (and the open view) in the query string, so a link reproduces it.
    While a lesson's settings are unchanged the link names the lesson too."""
    preset, unchanged = lesson(config)
    named = {"preset": preset.key} if preset is not None and unchanged else {}
    wanted = {**named, **config.to_query(), VIEW: st.session_state.get(VIEW, VIEWS[0])}
    if presenting():
        wanted[PRESENT] = "1"
    if not st.session_state.get(AUTOPLAY, True):
        wanted[AUTOPLAY] = "0"
    if not st.session_state.get(ASK, True):
        wanted[ASK] = "0"
    if _current_url() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[LAST_URL] = wanted


def cancel_training(run_key: str) -> None:
    """The Cancel button's callback: the rerun it causes stops the training, and this run
    is not started again until the person asks (``resume_training``)."""
    st.session_state[CANCELLED] = run_key


def resume_training() -> None:
    st.session_state[CANCELLED] = None


def on_problem_change() -> None:
    """A new problem type brings its matched pair, and its default dataset unless the person
    is working on an uploaded CSV (then the same file is read for the new problem)."""
    st.session_state[ACTIVE_PRESET] = None
    config = cfg.default_for(st.session_state["problem"])
    keys = ["output_activation", "loss"]
    if st.session_state.get("dataset") != cfg.UPLOAD:
        keys += ["dataset", "noise"]
    if cfg.is_a_recipe(st.session_state):
        keys += cfg.TRAINING_KEYS
    for key in keys:
        st.session_state[key] = getattr(config, key)


def on_dataset_change() -> None:
    if st.session_state["dataset"] != cfg.UPLOAD:
        st.session_state["noise"] = datasets.get(st.session_state["dataset"]).default_noise


def on_loss_change() -> None:
    """Nothing to reset: a changed lesson is noticed by comparing settings (see ``lesson``)."""


def apply_preset(key: str) -> None:
    preset = presets.get(key)
    typed = st.session_state.get("formula")
    write_config(preset.config)
    if preset.config.loss != losses.CUSTOM and typed is not None:
        # a lesson without a typed loss leaves the person's formula in its box
        st.session_state["formula"] = typed
    st.session_state[ACTIVE_PRESET] = key
    st.session_state[VIEW] = preset.view


def start_saturated_race(problem: str, activation: str, loss: str) -> None:
    """Open Compare racing this pair against the matched one from large initial weights."""
    write_config(demonstration.saturated_scenario(problem, activation, loss))
    st.session_state[f"compare_pairs_{problem}"] = [
        f"{a}|{k}" for a, k in demonstration.race_pairs(problem, activation, loss)]
    st.session_state[ACTIVE_PRESET] = None
    st.session_state[VIEW] = "Compare"


def on_preset_pick() -> None:
    key = st.session_state.get("preset_pick")
    if key:
        apply_preset(key)
    st.session_state["preset_pick"] = None


def apply_changes(changes: dict) -> None:
    """An advice button's callback: change these settings of the scenario on screen (a new
    problem type first brings its matched pair, as choosing it in the sidebar does)."""
    changes = dict(changes)
    if "problem" in changes:
        st.session_state["problem"] = changes.pop("problem")
        on_problem_change()
    config, _ = read_config()
    write_config(config.replace(**changes))
