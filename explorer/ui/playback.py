"""The playback bar under an animated chart, and presenting mode's page styling."""

from __future__ import annotations

import streamlit as st

from explorer.figures import playback

PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
</style>
"""
"""Less empty space above the title, so the chart starts higher on a small screen."""

PRESENTING_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 0.6rem !important;
  padding-bottom: 0.2rem !important; max-width: 100% !important; }
/* the chart fills the window under the one-line header, above the playback bar */
.st-key-train_chart, .st-key-surface_chart { height: max(380px, calc(100vh - 150px)); }
.st-key-calibration_chart { height: max(380px, calc(100vh - 150px)); }
</style>
"""

def bar(chart_key: str, run_key: str, redraw: bool = False, autoplay: bool = False) -> None:
    """Play, pause, restart, step and speed for the chart drawn with ``key=chart_key``."""
    st.html(playback.bar_html(f".st-key-{chart_key}", run_key, redraw=redraw,
                              autoplay=autoplay),
            unsafe_allow_javascript=True)


def page_style(presenting: bool) -> None:
    """Tighter page; in presenting mode no sidebar and no page header (the settings stay
    in the URL)."""
    st.html(PRESENTING_CSS if presenting else PAGE_CSS)
