"""The sidebar reads its sections and its settings' names from the settings table."""

import pytest

from explorer import config as cfg
from tests.apptest import app, ok


def test_every_setting_names_its_section_and_its_label():
    for field in cfg.FIELDS:
        assert field.section in cfg.SECTIONS, field.key
        assert field.label and field.label[0].isupper(), field.key


def test_the_sidebar_headers_are_the_tables_sections_in_order():
    at = ok(app(epochs="10"))
    assert [h.value for h in at.sidebar.header] == [
        "1 · Problem", "2 · Data", "3 · Output and loss", "4 · Network", "5 · Training"]


@pytest.mark.parametrize("query", [
    dict(epochs="10"),
    dict(problem="regression", dataset="outliers", loss="huber", optimizer="momentum",
         epochs="10"),
    dict(problem="regression", loss="pinball", epochs="10"),
    dict(loss="focal", epochs="10"),
])
def test_each_drawn_setting_wears_its_tables_label(query):
    at = ok(app(**query))
    widgets = [*at.sidebar.selectbox, *at.sidebar.slider, *at.sidebar.number_input,
               *at.sidebar.select_slider, *at.sidebar.text_input]
    drawn = {w.key: w.label for w in widgets if w.key in cfg.FIELD}
    assert len(drawn) >= 12
    for key, label in drawn.items():
        assert label == cfg.FIELD[key].label, key
