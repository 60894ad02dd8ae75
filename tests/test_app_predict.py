"""Predict, then watch (AppTest): a lesson opens on its question, the replay waits for an
answer or a skip, and what happened is measured on the runs on screen."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from explorer import presets
from explorer.claims import Runs
from explorer.lessons import questions
from explorer.ui import lesson, playback, state
from tests.apptest import app, ok

LESSON = "matched_binary"


def bars(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "lfe-playback" in h.proto.body]


def answer_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if (b.key or "").startswith("predict_")]


def reveals(at: AppTest) -> list[str]:
    return [e.value for e in [*at.success, *at.warning, *at.info]
            if e.value.startswith(("**You predicted it.**", "**Not this time",
                                   "**What happened:**"))]


def happened(key: str) -> questions.Outcome:
    """What the lesson's own runs decide, computed here from scratch."""
    preset = presets.get(key)
    return questions.outcome(preset, Runs(preset.configs()))


def test_a_lesson_opens_on_its_question_and_its_replay_waits():
    at = ok(app(preset=LESSON))
    preset = presets.get(LESSON)
    assert answer_buttons(at) == [*preset.question.answers, "Skip"]
    (asked,) = [i.value for i in at.info if "Predict first" in i.value]
    assert asked == f"**Predict first:** {preset.question.text}"
    # nothing gives the answer away before it is given: no "Watch for", no claims, no reveal
    assert not [i for i in at.info if "Watch for" in i.value]
    assert not at.expander and not reveals(at)
    assert at.session_state[playback.GATE] == "hold"
    (bar,) = bars(at)
    assert 'data-autoplay="0"' in bar
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["sliders"][0]["active"] == 0  # it stands on epoch 0
    assert any("blur(" in h.proto.body for h in at.get("html"))


@pytest.mark.parametrize("choice", [0, 2])
def test_an_answer_starts_the_replay_and_the_reveal_says_what_happened(choice):
    at = ok(app(preset=LESSON))
    at.button(key=f"predict_{choice}").click().run()
    ok(at)
    expected = happened(LESSON)
    assert expected.answer == 2
    assert at.session_state[lesson.PREDICTIONS] == {f"{LESSON}:0": choice}
    assert answer_buttons(at) == []
    assert 'data-autoplay="1"' in bars(at)[0]
    if choice == expected.answer:
        assert reveals(at) == [f"**You predicted it.** {expected.sentence}"]
    else:
        wrong = presets.get(LESSON).question.answers[choice]
        assert reveals(at) == [
            f"**Not this time: you predicted \"{wrong}\".** {expected.sentence}"]
    # after the reveal: the lesson's title, its sentence and its details one click away
    details = at.expander[0]
    assert details.label == (f"**Lesson: {presets.get(LESSON).title}** · its point and "
                             "what the app measured")
    assert details.markdown[0].value == presets.get(LESSON).summary
    assert details.markdown[1].value.startswith("**Watch for** in the replay:")


def test_a_skip_plays_and_reveals_without_a_verdict():
    at = ok(app(preset="counts_mse", autoplay="0"))
    assert 'data-autoplay="0"' in bars(at)[0]
    at.button(key="predict_skip").click().run()
    ok(at)
    expected = happened("counts_mse")
    assert reveals(at) == [f"**What happened:** {expected.sentence}"]
    # answering asks to watch: the replay plays though Play when ready is off
    assert 'data-autoplay="1"' in bars(at)[0]
    assert at.session_state[state.AUTOPLAY] is False


def test_the_prediction_survives_a_trip_to_another_view_and_back():
    at = ok(app(preset=LESSON))
    at.button(key="predict_2").click().run()
    ok(at)
    at.radio(key=state.VIEW).set_value("Error surface").run()
    ok(at)
    assert answer_buttons(at) == []
    assert reveals(at) == [f"**You predicted it.** {happened(LESSON).sentence}"]
    at.radio(key=state.VIEW).set_value("Train").run()
    ok(at)
    assert answer_buttons(at) == [] and len(reveals(at)) == 1
    assert at.session_state[lesson.PREDICTIONS] == {f"{LESSON}:0": 2}


def test_another_lesson_asks_its_own_question():
    at = ok(app(preset=LESSON))
    at.button(key="predict_0").click().run()
    ok(at)
    at.selectbox(key="preset_pick").set_value("counts_poisson").run()
    ok(at)
    assert answer_buttons(at) == [*presets.get("counts_poisson").question.answers, "Skip"]


def test_a_page_without_a_lesson_asks_nothing_and_plays_as_before():
    at = ok(app())
    assert answer_buttons(at) == [] and at.session_state[playback.GATE] is None
    assert 'data-autoplay="1"' in bars(at)[0]


def test_changed_settings_leave_the_question_behind():
    at = ok(app(preset=LESSON, epochs="120"))
    assert answer_buttons(at) == []
    assert 'data-autoplay="1"' in bars(at)[0]


def test_presenting_mode_asks_too():
    at = ok(app(preset="why_not_mse_bce", present="1"))
    assert answer_buttons(at) == [*presets.get("why_not_mse_bce").question.answers, "Skip"]
    assert 'data-autoplay="0"' in bars(at)[0]
    at.button(key="predict_1").click().run()
    ok(at)
    expected = happened("why_not_mse_bce")
    wrong = presets.get("why_not_mse_bce").question.answers[1]
    assert reveals(at) == [f"**Not this time: you predicted \"{wrong}\".** "
                           f"{expected.sentence}"]


def test_a_question_whose_runs_the_page_does_not_train_is_trained_and_counted(monkeypatch):
    """why_not_mse's question reads cross-entropy's run, which its Train view does not
    train: the page counts it in its budget and trains it for the question."""
    from explorer import budget

    counted = []
    real = budget.page

    def page(config, view, n_rows=None, others=(), **kw):
        counted.append(list(others))
        return real(config, view, n_rows, others, **kw)

    monkeypatch.setattr(budget, "page", page)
    key = "why_not_mse"  # the page trains sigmoid + MSE; the question reads BCE's run too
    at = ok(app(preset=key))
    preset = presets.get(key)
    bce = preset.configs()["bce"]
    assert bce != preset.config and "bce" in preset.question.runs
    assert bce in counted[-1]
    from explorer.ui import compute
    compute.RUNS.clear()
    at.button(key="predict_0").click().run()
    ok(at)
    assert compute.RUNS.get(compute.key(bce)) is not None
    assert reveals(at) == [f"**You predicted it.** {happened(key).sentence}"]


def test_a_link_with_ask_0_opens_the_lesson_without_its_question():
    at = ok(app(preset=LESSON, ask="0"))
    preset = presets.get(LESSON)
    assert answer_buttons(at) == [] and at.session_state[playback.GATE] is None
    assert at.info[0].value == f"**Lesson: {preset.title}.** {preset.summary}"
    assert 'data-autoplay="1"' in bars(at)[0]
    assert at.query_params["ask"] == "0" and at.query_params["preset"] == LESSON


def _page_text(at: AppTest) -> str:
    """Every text the page and its sidebar show (Markdown, alerts, captions, the labels of
    details sections)."""
    return "\n".join([*(str(e.value) for kind in ("markdown", "info", "success", "warning",
                                                   "error", "caption")
                         for e in at.get(kind)),
                      *(e.label for e in at.expander)])


def test_nothing_beside_the_question_gives_its_answer_away():
    """linear_bce_breaks: its title says the pair breaks, its verdict says invalid, the
    sidebar says why, the notice says where it stopped. None of it shows until the student
    answers; then all of it does (the loss list keeps its verdict marks throughout)."""
    key = "linear_bce_breaks"
    preset = presets.get(key)
    at = ok(app(preset=key))
    assert answer_buttons(at)
    shown = _page_text(at)
    assert preset.title not in shown and "Training stopped" not in shown
    (pair,) = [m.value for m in at.markdown if "lfe-pair" in m.value]
    assert "Linear (identity) + Binary cross-entropy" in pair and "invalid" not in pair
    assert not at.sidebar.error
    assert "shows here once you have answered" in shown
    marks = at.sidebar.selectbox(key="loss").options
    assert any("Binary cross-entropy" in o and o != "Binary cross-entropy" for o in marks)

    at.button(key="predict_0").click().run()
    ok(at)
    shown = _page_text(at)
    assert preset.title in shown and "Training stopped at epoch 1" in shown
    (pair,) = [m.value for m in at.markdown if "lfe-pair" in m.value]
    assert pair.endswith("invalid")
    assert at.sidebar.error[0].value.startswith("**Invalid:")
