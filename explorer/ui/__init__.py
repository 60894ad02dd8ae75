"""The Streamlit app. Only this package (and app.py) imports streamlit."""

from __future__ import annotations

import streamlit as st

from explorer import config as cfg
from explorer.ui import compute, custom, sidebar, state, upload, views


def main() -> None:
    state.init_from_url()
    sidebar.draw()
    config, notices = custom.settle(*state.read_config())
    for notice in notices:
        st.sidebar.warning(notice)
    state.sync_url(config)
    views.header(config)
    if config.dataset == cfg.UPLOAD and compute.current_upload() is None:
        problem = st.session_state.get(upload.PROBLEM)
        if problem:
            st.warning(f"**The uploaded file cannot be trained on with these settings.** "
                       f"{problem}", icon=":material/error:")
        else:
            st.info("Upload a CSV file in the sidebar and choose its feature and target "
                    "columns to train on your own data.", icon=":material/upload_file:")
        views.run_complete_marker(config)
        return
    run = compute.train_with_progress(config)
    views.headline_numbers(run)
    views.mismatch_notice(run)
    view = st.radio("View", state.VIEWS, key=state.VIEW, horizontal=True,
                    label_visibility="collapsed")
    if view == "Train":
        views.train_view(run)
    elif view == "Error surface":
        views.surface_view(run)
    elif view == "Loss anatomy":
        views.anatomy_view(run)
    elif view == "Compare":
        views.compare_view(run)
    else:
        views.learn_view(run)
    views.pair_panel(run)
    views.run_complete_marker(config)
