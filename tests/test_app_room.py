"""AppTest: a room's phone page and the projector's room, on a SQLite file of this test.

The page's store is swapped for one on a temporary file (``explorer.ui.room.rooms``); the
test reads and moves the same room through its own ``Rooms`` on that file, as another
session would.
"""

from __future__ import annotations

import html

import pytest

from explorer import claims, presets
from explorer.lessons import questions
from explorer.rooms import Rooms
from explorer.ui import compute
from explorer.ui import room as room_ui
from tests.apptest import TIMEOUT, ok, open_app

LESSON = "matched_binary"


@pytest.fixture
def store(tmp_path, monkeypatch) -> Rooms:
    rooms = Rooms(f"sqlite:///{tmp_path / 'rooms.db'}")
    monkeypatch.setattr(room_ui, "rooms", lambda: rooms)
    return rooms


def choices(lesson: str = LESSON) -> int:
    return len(presets.get(lesson).question.answers)


def phone(code: str):
    return ok(open_app({"room": code}, timeout=30))


def html_of(at) -> str:
    return " ".join(str(e.proto.body) for e in at.get("html")) + " ".join(
        m.value for m in at.markdown)


def answer_buttons(at):
    return [b for b in at.button if b.key and b.key.startswith("answer_")]


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def press(at, key: str):
    next(b for b in at.button if b.key == key).click()
    return ok(at.run())


def test_unknown_code_gets_a_sentence_and_a_box(store, monkeypatch):
    monkeypatch.setattr(compute, "train", lambda *a: pytest.fail("a phone trained"))
    at = phone("ZZZZZZ")
    assert len(warnings(at)) == 1 and warnings(at)[0].endswith(".")
    assert [t.key for t in at.text_input] == [room_ui.TYPED_CODE]
    assert not at.sidebar.children or all(not c.children for c in at.sidebar.children.values())


def test_malformed_code_gets_a_sentence(store):
    at = phone("<script>")
    assert len(warnings(at)) == 1
    assert "<script>" not in html_of(at)


def test_typed_code_joins(store):
    code, _ = store.create(LESSON, choices())
    at = phone("nope")
    at.text_input(key=room_ui.TYPED_CODE).input(code.lower())
    at.button[0].click()
    at = ok(at.run())
    assert at.query_params[room_ui.QUERY_KEY] in (code, [code])


def test_phone_answers_changes_and_is_counted_once(store, monkeypatch):
    monkeypatch.setattr(compute, "train", lambda *a: pytest.fail("a phone trained"))
    code, _ = store.create(LESSON, choices())
    at = phone(code)
    question = presets.get(LESSON).question
    assert html.escape(question.text) in html_of(at)
    assert len(answer_buttons(at)) == choices()
    assert not at.get("plotly_chart")
    at = press(at, "answer_1_1")
    assert store.state(code).counts[1] == 1
    assert "Your answer is in" in at.info[0].value
    at = press(at, "answer_1_1")
    assert "already counted" in at.info[0].value
    assert store.state(code).total == 1
    at = press(at, "answer_1_0")
    assert "changed your answer" in at.info[0].value
    room = store.state(code)
    assert room.total == 1 and room.counts[0] == 1 and room.counts[1] == 0


@pytest.fixture
def replay_over(monkeypatch):
    """Phones show a reveal at once (as if the projector's replay had ended)."""
    monkeypatch.setattr(room_ui, "REVEAL_LAG_S", -10 * room_ui.REPLAY_S - 60)


def test_vote_after_the_reveal_is_refused_with_a_sentence(store, replay_over):
    code, secret = store.create(LESSON, choices())
    at = phone(code)
    store.reveal(code, secret, 0)
    at = press(at, "answer_1_1")  # drawn before the reveal, pressed after it
    assert len(warnings(at)) == 1
    assert store.state(code).total == 0
    assert "What happened" in html_of(at)


def test_a_stale_round_is_refused_and_the_phone_follows(store):
    code, secret = store.create(LESSON, choices())
    at = phone(code)
    after = room_ui.next_lesson(LESSON)
    store.advance(code, secret, after, choices(after))
    at = press(at, "answer_1_0")
    assert len(warnings(at)) == 1
    assert store.state(code).total == 0
    assert html.escape(presets.get(after).question.text) in html_of(at)
    assert all(b.key.startswith("answer_2_") for b in answer_buttons(at))


def test_a_flood_of_presses_is_stopped_with_a_sentence(store):
    code, _ = store.create(LESSON, choices())
    at = phone(code)
    for i in range(room_ui.FLOOD_VOTES + 2):
        at = press(at, f"answer_1_{i % 2}")
    assert any("wait" in w.lower() for w in warnings(at))
    assert store.state(code).total == 1


def host():
    return ok(open_app({"preset": LESSON, "present": "1"}, timeout=TIMEOUT))


def test_projector_makes_a_room_and_keeps_its_secret_out_of_the_link(store):
    at = host()
    at = press(at, "room_ask")
    code, secret = at.session_state[room_ui.HOSTED]
    assert store.state(code).lesson == LESSON
    page = html_of(at)
    assert f'data-code="{code}"' in page and "<svg" in page
    assert 'data-count="0"' in page
    assert secret not in str(dict(at.query_params)) and secret not in page
    assert not at.get("plotly_chart")  # the animation waits for Reveal
    assert any(b.key == "room_csv" for b in at.get("download_button"))


def test_projector_counts_reveals_the_run_outcome_and_moves_on(store):
    at = press(host(), "room_ask")
    code, _ = at.session_state[room_ui.HOSTED]
    for voter, answer in (("a", 0), ("b", 1), ("c", 1)):
        store.vote(code, 1, voter, answer)
    at = ok(at.run())
    assert 'data-count="3"' in html_of(at)
    at = press(at, "room_reveal")
    preset = presets.get(LESSON)
    expected = questions.outcome(preset, claims.Runs(preset.configs(preset.config.seed)))
    room = store.state(code)
    assert room.revealed and room.outcome == expected.answer
    assert room.sentence == expected.sentence  # for phones on any replica
    assert at.get("plotly_chart")  # the lesson's animation, now
    # the outcome and the bars wait for the replay's end, as for a student alone
    assert f"lfe-revealed-{room_ui.reveal_id(room)}" in html_of(at)
    assert 'data-count="2"' in html_of(at)  # answer 1's bar
    after = room_ui.next_lesson(LESSON)
    at = press(at, "room_next")
    room = store.state(code)
    assert (room.lesson, room.round, room.revealed, room.total) == (after, 2, False, 0)
    assert at.query_params["preset"] in (after, [after])


def test_join_link_reaches_the_audience():
    link = room_ui.join_link
    assert link("K7P2QX", "https://talks.example.org/explorer/?preset=hinge&present=1") \
        == "https://talks.example.org/explorer/?room=K7P2QX"
    assert link("K7P2QX", "http://localhost:8501/?present=1", lan="10.1.2.3") \
        == "http://10.1.2.3:8501/?room=K7P2QX"
    assert link("K7P2QX", "http://127.0.0.1:8501/", lan=None) \
        == "http://127.0.0.1:8501/?room=K7P2QX"
    assert link("K7P2QX", "http://localhost:8501/", public="https://lfe.example.org/") \
        == "https://lfe.example.org/?room=K7P2QX"


def test_next_lesson_wraps_around():
    keys = list(presets.PRESETS)
    assert room_ui.next_lesson(keys[0]) == keys[1]
    assert room_ui.next_lesson(keys[-1]) == keys[0]


def test_close_room_goes_back_to_the_lesson_and_the_room_stays(store):
    at = press(host(), "room_ask")
    code, _ = at.session_state[room_ui.HOSTED]
    at = press(at, "room_close")
    assert at.session_state[room_ui.HOSTED] is None
    assert f'data-code="{code}"' not in html_of(at)
    assert any(b.key == "room_ask" for b in at.button)
    assert store.state(code).round == 1  # phones may still answer until it expires


def expire(store: Rooms, code: str) -> None:
    import sqlalchemy as sa

    with store._engine.begin() as conn:
        conn.execute(sa.text("UPDATE rooms SET expires_at = 0 WHERE code = :c"), {"c": code})


def test_an_expired_room_on_the_projector_is_a_sentence_and_a_new_room(store):
    at = press(host(), "room_ask")
    code, _ = at.session_state[room_ui.HOSTED]
    expire(store, code)  # mid-talk
    at = ok(at.run())
    assert warnings(at) == [f"Room {code} has closed: rooms close 12 hours after they open, "
                            "and a new room from this browser closes the one before. Its "
                            "phones can no longer answer."]
    at = press(at, "room_renew_page")
    renewed, _ = at.session_state[room_ui.HOSTED]
    assert renewed != code and store.state(renewed).lesson == LESSON
    assert f'data-code="{renewed}"' in html_of(at) and not warnings(at)


def test_a_room_that_cannot_be_made_is_a_sentence(monkeypatch):
    from explorer.rooms import RoomUnavailable

    class Down:
        def create(self, lesson, choices, **where):
            raise RoomUnavailable("The rooms database did not answer; try again in a moment.")

    monkeypatch.setattr(room_ui, "rooms", lambda: Down())
    at = press(host(), "room_ask")
    assert room_ui.HOSTED not in at.session_state or at.session_state[room_ui.HOSTED] is None
    assert [t.value for t in at.toast] == [
        "The rooms database did not answer; try again in a moment."]
    assert any(b.key == "room_ask" for b in at.button)


def test_a_run_that_does_not_settle_the_question_reveals_nothing(store, monkeypatch):
    from explorer.ui import lesson

    monkeypatch.setattr(lesson, "outcome", lambda *a: "the run stopped early")
    at = press(host(), "room_ask")
    code, _ = at.session_state[room_ui.HOSTED]
    at = press(at, "room_reveal")
    assert len(warnings(at)) == 1 and "does not settle" in warnings(at)[0]
    assert not store.state(code).revealed
    assert f'data-code="{code}"' in html_of(at)  # still asking


def test_vote_bars_are_shares_of_the_room():
    drawn = room_ui.bars_html(("yes", "no", "maybe"), (3, 1, 0), outcome=1)
    assert drawn.split("width:")[1].startswith("75.0%")
    assert drawn.split("width:")[2].startswith("25.0%")
    assert drawn.split("width:")[3].startswith("0.0%")
    assert "B. no ✓" in drawn and "A. yes ✓" not in drawn
    assert "3 (75 %)" in drawn and "0 (0 %)" in drawn
    assert "0.0%" in room_ui.bars_html(("a", "b"), (0, 0), outcome=None)  # nobody voted
    assert "&lt;b&gt;" in room_ui.bars_html(("<b>", "b"), (1, 0), outcome=0)


# ---------------------------------------------------------------- one browser, many sessions


@pytest.fixture
def browser(monkeypatch):
    """The page's browser key, as Streamlit's XSRF cookie would give it (AppTest sends none)."""
    key = {"now": "browser-A"}
    monkeypatch.setattr(room_ui, "_browser", lambda: key["now"])
    return key


def test_a_second_tab_or_a_reload_is_the_same_voter_and_sees_its_answer(store, browser):
    code, _ = store.create(LESSON, choices())
    press(phone(code), "answer_1_1")
    assert store.state(code).total == 1
    again = phone(code)  # a new session of the same browser
    assert 'data-mine="1"' in html_of(again)
    assert next(b for b in answer_buttons(again) if b.key == "answer_1_1").proto.type == "primary"
    again = press(again, "answer_1_0")
    assert store.state(code).counts[:2] == (1, 0) and store.state(code).total == 1
    browser["now"] = "browser-B"
    press(phone(code), "answer_1_1")
    assert store.state(code).total == 2


def test_a_reloaded_projector_takes_its_room_back(store, browser):
    at = press(host(), "room_ask")
    code, _ = at.session_state[room_ui.HOSTED]
    reloaded = host()  # a new session of the same browser
    assert reloaded.session_state[room_ui.HOSTED][0] == code
    assert f'data-code="{code}"' in html_of(reloaded)
    reloaded = press(reloaded, "room_reveal")
    assert store.state(code).revealed
    reloaded = press(reloaded, "room_close")
    assert f'data-code="{code}"' not in html_of(host()), "closed: a reload leaves it closed"
    browser["now"] = "browser-B"
    other = host()
    assert f'data-code="{code}"' not in html_of(other)
    assert any(b.key == "room_ask" for b in other.button)


def test_a_phone_watches_the_screen_until_the_replay_has_ended(store, monkeypatch):
    code, secret = store.create(LESSON, choices())
    store.reveal(code, secret, 1, "It trains: the loss falls to 3 % of its start.")
    at = phone(code)
    assert "Watch the screen" in html_of(at) and 'class="phone-outcome"' not in html_of(at)
    monkeypatch.setattr(room_ui, "REVEAL_LAG_S", -10 * room_ui.REPLAY_S - 60)
    at = phone(code)
    assert "Watch the screen" not in html_of(at)
    assert "B. It trains: the loss falls to 3 % of its start." in html_of(at)


def test_the_replay_allowance_is_every_snapshot_at_one_frame_each():
    from explorer.experiment import SNAPSHOTS
    from explorer.figures.style import FRAME_MS

    assert room_ui.REPLAY_S == pytest.approx((SNAPSHOTS + 1) * FRAME_MS / 1000)


def test_browser_key_is_the_unmasked_xsrf_token():
    # two page loads of one browser: the mask differs, the token does not
    first = room_ui.browser_key("2|c7524c82|a9e29e5d8f762b59e0cd78f0a8dcafdd|1796604896")
    second = room_ui.browser_key("2|7a11daa7|14a108783235bd7c5d8eeed5159f39f8|1796604896")
    assert first == second == "6eb0d2df482467db279f34726f8ee35f"
    assert room_ui.browser_key(None) is None and room_ui.browser_key("2|zz|zz|1") is None
    assert room_ui.browser_key("2|00|ab|1") is None  # a mask is four bytes


def test_client_address_trusts_a_proxy_only_in_front():
    address = room_ui.client_address
    assert address("93.184.216.34", {"X-Real-IP": "1.2.3.4"}) == "93.184.216.34"  # no proxy
    assert address("::ffff:127.0.0.1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"
    assert address("10.0.0.5", {"X-Forwarded-For": "1.1.1.1, 198.51.100.8"}) \
        == "198.51.100.8"
    assert address("10.0.0.5", {}) == "10.0.0.5"
    assert address(None, {}) is None and address("127.0.0.1", {}) is None


def test_a_rooms_database_that_cannot_be_opened_says_only_that(monkeypatch, tmp_path):
    from explorer.rooms import store as store_module

    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setattr(store_module, "_shared", None)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a-file' / 'rooms.db'}")
    at = phone("K7P2QX")
    assert warnings(at) == ["Rooms are not available on this server right now."]
    monkeypatch.setenv("DATABASE_URL", "mysql://root@db.internal/rooms")
    at = phone("K7P2QX")
    assert warnings(at) == ["Rooms are not available on this server right now."]
    assert "db.internal" not in html_of(at)


def test_new_phones_from_one_address_are_bounded_with_a_sentence(store, browser, monkeypatch):
    from explorer.rooms import store as store_module

    monkeypatch.setattr(store_module, "NEW_VOTERS_PER_CLIENT", 1)
    monkeypatch.setattr(room_ui, "_client", lambda: "198.51.100.7")
    code, _ = store.create(LESSON, choices())
    press(phone(code), "answer_1_1")
    browser["now"] = "browser-B"  # a fresh browser from the same address
    at = press(phone(code), "answer_1_0")
    assert warnings(at) == ["Too many new phones from this network in a minute (at most 1); "
                            "try again in 60 s."]
    assert store.state(code).total == 1
