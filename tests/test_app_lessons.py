"""Lessons as students meet them: one sentence in the banner, what to watch for and the
measured claims in a details section (AppTest). The question asked before the replay:
test_app_predict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import presets
from tests.apptest import app, ok

KEYS = list(presets.PRESETS)


BANNER_APP = str(Path(__file__).with_name("banner_app.py"))


def _banner(key: str) -> AppTest:
    """The lesson's banner alone (a real script file: ``AppTest.from_function`` leaves a
    main module that worker processes started later cannot load)."""
    at = AppTest.from_file(BANNER_APP, default_timeout=60)
    at.query_params["preset"] = key
    return ok(at.run())


@pytest.mark.parametrize("key", KEYS)
def test_each_lesson_shows_its_sentence_what_to_watch_and_what_was_measured(key):
    preset = presets.get(key)
    at = _banner(key)
    banner = at.info[0].value
    assert banner == f"**Lesson: {preset.title}.** {preset.summary}"
    details = at.expander[0]
    assert details.label == "What the app measured"
    shown = " ".join(md.value for md in details.markdown)
    assert f"**Watch for** in the replay: {preset.watch_for}" in shown
    for claim in preset.claims:
        assert presets.readable(claim.text) in shown


@pytest.mark.parametrize("key", KEYS)
def test_a_lessons_banner_is_short_and_plain(key):
    preset = presets.get(key)
    sentence = preset.summary
    assert sentence.endswith(".") and len(sentence) <= 180, sentence
    assert preset.watch_for[:1].islower() and preset.watch_for.endswith(".")
    assert len(preset.watch_for) <= 180, preset.watch_for
    # the numbers and symbols of test assertions stay in the details
    for text in (preset.summary, preset.watch_for):
        assert not re.search(r"[≤≥|]|\d+e-\d+|dL/dz", text), text


def test_numbers_in_the_details_are_written_for_people():
    assert presets.readable("≤ 1e-12.") == "≤ 10⁻¹²."
    assert presets.readable("at 2.5e-05 and 1e-9") == "at 2.5 × 10⁻⁵ and 10⁻⁹"
    assert presets.readable("0.001 and x1e-3") == "0.001 and x1e-3"
    shown = " ".join(presets.readable(c.text) for c in presets.get("matched_binary").claims)
    assert "10⁻¹²" in shown and "1e-12" not in shown


def test_a_lesson_link_opens_the_banner_in_the_app():
    at = ok(app(preset="linear_bce_breaks"))
    preset = presets.get("linear_bce_breaks")
    # the title waits for the answer: it says what happens
    assert at.main.info[0].value == f"**Predict first:** {preset.question.text}"
    at.button(key="predict_skip").click().run()
    ok(at)
    # what happened shows; the lesson's title and sentence open under it
    assert at.main.info[0].value.startswith("**What happened:**")
    details = at.main.expander[0]
    assert details.label.startswith(f"**Lesson: {preset.title}** · ")
    assert details.markdown[0].value == preset.summary


def test_the_details_explain_the_words_they_use():
    at = _banner("why_not_mse_bce")
    notes = " ".join(c.value for c in at.expander[0].caption)
    assert "**dL/dz**: how fast the loss changes" in notes
    assert "**ECE**" not in notes, "only the words this lesson uses"
    at = _banner("overconfident")
    assert "**ECE**: expected calibration error" in " ".join(
        c.value for c in at.expander[0].caption)
