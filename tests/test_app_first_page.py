"""A session's first page: its chart before its settings, and nothing on the page moves when
the settings come (a run that trained and the next one, served from the cache, have the same
elements in the same places, so the browser keeps the chart and its playing replay)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explorer.ui import sidebar
from tests.apptest import APP, ok, with_settings


def _first_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return ok(at.run())


def _shape(node, depth: int = 0, out: list | None = None) -> list[str]:
    """The page's element tree: type and key of each element, in order."""
    out = [] if out is None else out
    children = getattr(node, "children", None)
    for child in children.values() if isinstance(children, dict) else []:
        out.append("  " * depth + f"{child.type} {getattr(child, 'key', None) or ''}")
        _shape(child, depth + 1, out)
    return out


def test_the_first_page_has_its_chart_and_the_button_that_brings_the_settings():
    at = _first_page(seed="31")
    assert at.get("plotly_chart"), "the first page draws its chart"
    assert [b.key for b in at.sidebar.button] == [sidebar.SHOW_KEY]
    assert not at.sidebar.selectbox and not at.sidebar.slider
    marker = [h for h in at.get("html") if 'class="run-complete"' in h.proto.body][-1]
    assert 'data-charts="1"' in marker.proto.body
    with_settings(at)
    assert {"problem", "loss", "output_activation"} <= {s.key for s in at.sidebar.selectbox}
    assert not [b for b in at.sidebar.button if b.key == sidebar.SHOW_KEY]
    # the settings are the link's
    assert at.number_input(key="seed").value == 31


@pytest.mark.parametrize("query", [{"seed": "32"}, {"seed": "33", "view": "Error surface"},
                                   {"preset": "why_not_mse", "seed": "34"}])
def test_the_settings_run_keeps_every_element_of_the_first_page_in_its_place(query):
    """The first page trained (progress slots); the settings run finds the run cached."""
    at = _first_page(**query)
    before = _shape(at.main)
    after = _shape(with_settings(at).main)
    assert before == after


def test_a_page_without_a_chart_says_so_to_the_page_script():
    at = _first_page(dataset="upload")
    marker = [h for h in at.get("html") if 'class="run-complete"' in h.proto.body][-1]
    assert 'data-charts="0"' in marker.proto.body
