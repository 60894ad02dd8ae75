"""The Streamlit app. Only this package (and app.py) imports streamlit."""

from __future__ import annotations

import streamlit as st

from explorer import config as cfg
from explorer.ui import compute, sidebar, state, views


def main() -> None:
    state.init_from_url()
    sidebar.draw()
    config, notices = state.read_config()
    for notice in notices:
        st.sidebar.warning(notice)
    state.sync_url(config)
    views.header()
    if config.dataset == cfg.UPLOAD and compute.current_upload() is None:
        st.info("Upload a CSV file in the sidebar and choose its feature and target columns "
                "to train on your own data.", icon="📄")
        views.run_complete_marker(config)
        return
    run = compute.train_with_progress(config)
    views.headline_numbers(run)
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
