"""The Streamlit app. Only this package (and app.py) imports streamlit."""

from __future__ import annotations

import contextlib
import gc
from contextlib import nullcontext

import streamlit as st

from explorer import budget, datasets, tabular
from explorer import config as cfg
from explorer.ui import (
    charts,
    compute,
    custom,
    estimates,
    lesson,
    phases,
    playback,
    room,
    sidebar,
    state,
    turns,
    upload,
    views,
)

# Streamlit runs a full garbage collection after every script run (runner.postScriptGC).
# Walking the ~180,000 objects the imports made (Streamlit, Plotly, pandas, SymPy) cost about
# 0.15 s of every click. They live as long as the process: take them out of the collector's
# sight once, when this package is first imported. Garbage made later is still collected.
gc.freeze()


def main() -> None:
    """One script run, in its turn (see ``turns``). A phone in a room costs a few lines and
    one database read: it does not wait for a turn."""
    if room.is_phone_link():
        room.phone_page()
        return
    with turns.turn(), phases.script_run():
        _run()


def _run() -> None:
    st.session_state.pop(charts.DRAWN, None)  # counted afresh in each run
    state.init_from_url()
    state.restore_hidden_settings()
    state.keep_view_settings()
    presenting = state.presenting()
    playback.page_style(presenting)
    if state.settings_shown():
        sidebar.draw()
    else:  # the first page's chart comes before its settings
        sidebar.ask_after_first_chart()
    config, notices = custom.settle(*state.read_config())
    lesson.begin(config)
    if room.hosting():
        playback.set_gate("go")  # the phones answer the question; Reveal plays the replay
    sidebar.verdict(held=playback.held())
    for notice in notices:
        # a typed setting's mistake is already explained under its own box
        inline = st.session_state.get(sidebar.INLINE_ERRORS, set())
        if not any(notice.startswith(f"Ignored {key}=") for key in inline):
            st.sidebar.warning(notice)
    state.sync_url(config)
    tools = views.header(config)
    slot = room.host_page(config) if room.hosting() else contextlib.nullcontext()
    if slot is None:  # the room's question is open: the animation waits for Reveal
        views.run_complete_marker(config)
        return
    with slot:
        _train_and_show(config, tools, presenting)


def _train_and_show(config: cfg.Config, tools, presenting: bool) -> None:
    """Train (within the budget) and draw the open view."""
    if config.dataset == cfg.UPLOAD and compute.current_upload() is None:
        problem = st.session_state.get(upload.PROBLEM)
        if problem:
            st.warning(f"**The uploaded file cannot be trained on with these settings.** "
                       f"{tabular.literal(problem)}", icon=":material/error:")
        else:
            st.info("Upload a CSV file in the sidebar and choose its feature and target "
                    "columns to train on your own data.", icon=":material/upload_file:")
        views.run_complete_marker(config)
        return
    st.session_state[state.PAGE_RUN] = config.key()
    if not _may_train(config):
        views.run_complete_marker(config)
        return
    run = compute.train_with_progress(config)
    # a lesson's question keeps everything the run shows out of focus until it is answered
    asked = lesson.asking(config) is not None
    if not presenting:
        if not playback.held():  # where it stopped would answer some lessons' questions
            views.divergence_notice(run)
        tools = views.view_picker()
    view = st.session_state[state.VIEW]
    with st.container(key="lfe_stage") if asked else nullcontext():
        _view(run, view, tools, presenting)
    views.run_complete_marker(config)


def _view(run, view: str, tools, presenting: bool) -> None:
    # the view's first chart and its playback bar come first, on the first screen; the
    # final numbers, the mismatch's story and the pair's reasons follow under them
    if view == "Train":
        views.train_view(run, tools)
    elif view == "Error surface":
        views.surface_view(run, tools)
    elif view == "Loss anatomy":
        views.anatomy_view(run, tools)
    elif view == "Calibration":
        estimates.calibration_view(run)
    elif view == "Compare":
        views.compare_view(run, tools)
    else:
        views.learn_view(run)
    lesson.reveal()
    if not presenting:
        views.headline_numbers(run)
        views.mismatch_notice(run)
        if view == "Train":
            estimates.fit_panel(run)
        views.pair_panel(run)


TURN_AFTER_S = 0.5
"""A page estimated to compute longer than this gives its script turn back before it starts."""


def _others(config: cfg.Config, view: str, features: int | None) -> list[cfg.Config]:
    """The further runs this page trains besides the scenario's own."""
    others: list[cfg.Config] = []
    if view == "Compare":
        others = [c for c in views.compare_contestants(config)[0] if c != config]
    elif view == "Train" and not state.presenting():
        n_features = features or datasets.get(config.dataset).n_features
        others = estimates.companions(config, n_features)
    # the runs the lesson's question reads, where the view does not train them already
    return others + [c for c in dict.fromkeys(lesson.question_runs(config))
                     if c != config and c not in others]


def _may_train(config: cfg.Config) -> bool:
    """False (and why, in the page) when the page's work is over the budget or the run was
    cancelled. Everything the click will compute is estimated before any of it starts."""
    rows, features = None, None
    if config.dataset == cfg.UPLOAD:
        table = compute.UPLOADS.get(compute.current_upload())
        rows = len(table.X) if table is not None else None
        features = table.X.shape[1] if table is not None else 2
    view = st.session_state.get(state.VIEW, state.VIEWS[0])
    others = _others(config, view, features)
    kind = st.session_state.get("surface_kind", "parameters")
    seconds = budget.total(budget.page(config, view, rows, others, surface_kind=kind))
    too_big = (budget.refusal(config, view, rows, others, surface_kind=kind)
               if seconds > budget.PAGE_BUDGET_S else None)
    if too_big is not None:
        st.sidebar.error(f"**Nothing was trained.** {too_big.sentence}",
                         icon=":material/timer_off:")
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info(f"**Nothing was trained.** {too_big.sentence}", icon=":material/timer_off:")
        if too_big.suggestion is not None:
            right.button(too_big.button, key="apply_budget_suggestion", icon=":material/tune:",
                         on_click=state.write_config, args=(too_big.suggestion,),
                         width="stretch", help=f"Lower {too_big.change} and train.")
        return False
    if seconds > TURN_AFTER_S:
        # a heavy page (within the budget) gives its turn back before it starts: it runs
        # alongside the others instead of holding up every other student's click
        turns.give_back()
    if st.session_state.get(state.CANCELLED) == config.key():
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info("**Training cancelled.** Change a setting, or train this run again.",
                  icon=":material/stop_circle:")
        right.button("Train again", key="train_again", icon=":material/play_arrow:",
                     on_click=state.resume_training, width="stretch")
        return False
    return True
