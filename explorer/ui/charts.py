"""Drawing a figure on the page: every chart goes through ``chart``.

The figure functions hand over Plotly's plain dict (``explorer.figures.style.animated_spec``,
``training_spec``, or ``to_dict()`` of a still figure), and the page's caches keep those
dicts: a dict pickles and unpickles without Plotly checking it again, and ``st.plotly_chart``
receives it through ``Checked`` and sends it as it is.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.ui import phases

PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


class Checked(go.Figure):
    """A figure's plain dict, already checked by Plotly, for ``st.plotly_chart`` to send as
    it is.

    ``st.plotly_chart`` checks a plain dict by building a Figure from it (about half a
    second for 100 frames), but takes a Figure's ``to_dict()`` as it is; this Figure's
    ``to_dict()`` is the dict."""

    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def plain(fig: go.Figure | dict) -> dict:
    """The dict to cache for a figure (built once, when the cache is filled)."""
    return fig if isinstance(fig, dict) else fig.to_dict()


DRAWN = "_charts_this_run"
"""How many charts this script run has sent (``views.run_complete_marker`` tells the page)."""


def chart(figure: go.Figure | dict, key: str, **options) -> None:
    """Draw a figure or its plain dict, full width, with the page's chart configuration."""
    options.setdefault("width", "stretch")
    st.session_state[DRAWN] = st.session_state.get(DRAWN, 0) + 1
    with phases.phase("sending charts"):
        st.plotly_chart(Checked(plain(figure)), key=key, config=PLOT_CONFIG, **options)
