"""A room in real Chromium: one projector and 20 phones (390x844) on one server.

Every phone answers; the projector's count reaches exactly 20 within 3 s of the last vote;
Reveal plays the lesson on the projector and every phone shows what happened; Next question
moves every phone. The room lives in a SQLite file (``DATABASE_URL``), so it outlives the
server process: a new server on the same file shows the same room with the same answers.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import _require_browser, serving

PHONES = 20
LESSON = "matched_binary"
"""Cheap to train, drawn in Train (a playback bar shows that the animation plays)."""
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def room_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('rooms') / 'rooms.db'}"


@pytest.fixture(scope="module")
def room_server(room_db):
    _require_browser()
    with serving({"DATABASE_URL": room_db}, "room-server.log") as (url, proc):
        yield url


def store(url: str):
    from explorer.rooms import Rooms

    return Rooms(url)


def open_projector(browser, base: str, lesson: str = LESSON):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{base}/?preset={lesson}&present=1")
    page.wait_for_selector(".run-complete", state="attached")
    page.get_by_role("button", name="Ask the room").click()
    page.wait_for_selector(".room-code")
    return context, page, page.locator(".room-code").get_attribute("data-code")


def open_phone(browser, base: str, code: str):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{base}/?room={code}")
    page.wait_for_selector(".phone-question")
    return context, page


def answer(phone, choice: int, round_: int = 1) -> None:
    """Tap answer ``choice`` and wait until the phone shows it counted."""
    letter = "ABCD"[choice]
    phone.locator(f".st-key-answer_{round_}_{choice} button").tap()
    phone.wait_for_selector(f".phone-room[data-mine='{choice}']", state="attached")
    assert phone.get_by_text(f"{letter}.", exact=False).count() >= 1


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= "
                         "document.documentElement.clientWidth")


def fits_the_screen(page) -> bool:
    """Nothing below the fold: the page's main area does not scroll."""
    return page.evaluate("() => { const m = document.querySelector(\"[data-testid='stMain']\");"
                         " return m.scrollHeight <= m.clientHeight + 4; }")


VOTES_WHILE_PLAYING = """() => {
  // read in one go, at a moment the replay is playing: whether the votes show
  if (!document.querySelector(".lfe-playback[data-playing='1']")) return null;
  const votes = document.querySelector(".room-votes");
  return votes && votes.getClientRects().length ? "shown" : "hidden";
}"""


def run_room(browser, projector_base: str, phone_bases: list[str], db: str,
             phones: int = PHONES) -> None:
    """The whole scenario: phones answer, the count, Reveal, Next question."""
    from explorer import presets
    from explorer.ui.room import next_lesson

    contexts = []
    try:
        context, projector, code = open_projector(browser, projector_base)
        contexts.append(context)
        assert fits_the_screen(projector), "the room's question does not fit 1280x720"
        choices = len(presets.get(LESSON).question.answers)
        phone_pages = []
        for i in range(phones):
            context, phone = open_phone(browser, phone_bases[i % len(phone_bases)], code)
            contexts.append(context)
            phone_pages.append(phone)
        assert no_horizontal_scroll(phone_pages[0])
        expected = [0] * choices
        for i, phone in enumerate(phone_pages):
            answer(phone, i % choices)
            expected[i % choices] += 1
        last_vote = time.monotonic()
        projector.wait_for_selector(f".room-count[data-count='{phones}']", state="attached",
                                    timeout=TIMEOUT)
        assert time.monotonic() - last_vote <= 3.0, "the count took longer than 3 s"
        assert store(db).state(code).counts == tuple(expected)

        projector.get_by_role("button", name="Reveal").click()
        # the animation plays first; the outcome and the bars wait for its end
        while_playing = projector.wait_for_function(VOTES_WHILE_PLAYING, timeout=120_000)
        assert while_playing.json_value() == "hidden", "the votes showed during the replay"
        projector.wait_for_selector(".room-votes", timeout=120_000)
        assert projector.locator(".lfe-playback").first.get_attribute("data-playing") != "1"
        room = store(db).state(code)
        assert room.revealed and room.outcome is not None
        bars = projector.locator(".room-votes .room-bar")
        assert [int(bars.nth(i).get_attribute("data-count")) for i in range(choices)] \
            == expected
        for phone in phone_pages:
            phone.wait_for_selector(f".phone-outcome[data-outcome='{room.outcome}']")
            assert no_horizontal_scroll(phone)

        after = next_lesson(LESSON)
        projector.get_by_role("button", name="Next question").click()
        projector.get_by_role("button", name="Ask this next").click()
        for phone in phone_pages:
            phone.wait_for_selector(f".phone-room[data-round='2'][data-lesson='{after}']",
                                    state="attached")
        assert store(db).state(code).total == 0
    finally:
        for context in contexts:
            context.close()


def test_twenty_phones_one_server(browser, room_server, room_db):
    run_room(browser, room_server, [room_server], room_db)


def test_a_reload_keeps_the_phones_answer_and_the_projectors_room(browser, room_server,
                                                                   room_db):
    """A phone's reload and second tab are one voter that sees its answer; the projector,
    reloaded, has its room back and still reveals."""
    from explorer import presets

    choices = len(presets.get(LESSON).question.answers)
    context, projector, code = open_projector(browser, room_server)
    phone_context, phone = open_phone(browser, room_server, code)
    try:
        answer(phone, 1)
        phone.reload()
        phone.wait_for_selector(".phone-room[data-mine='1']", state="attached")
        tab = phone_context.new_page()
        tab.goto(f"{room_server}/?room={code}")
        tab.wait_for_selector(".phone-room[data-mine='1']", state="attached")
        answer(tab, 0)
        assert store(room_db).state(code).counts == (1,) + (0,) * (choices - 1)
        projector.reload()
        projector.wait_for_selector(f".room-code[data-code='{code}']")
        projector.wait_for_selector(".room-count[data-count='1']", state="attached")
        projector.get_by_role("button", name="Reveal").click()
        projector.wait_for_selector(".room-votes", timeout=120_000)
        assert store(room_db).state(code).revealed
        tab.wait_for_selector(".phone-outcome")
    finally:
        phone_context.close()
        context.close()


def test_a_room_that_closes_mid_talk_says_so_in_place_of_the_count(browser, room_server,
                                                                     room_db):
    import sqlalchemy as sa

    context, projector, code = open_projector(browser, room_server)
    try:
        projector.wait_for_selector(".room-count[data-count='0']", state="attached")
        engine = sa.create_engine(room_db)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE rooms SET expires_at = 0 WHERE code = :c"), {"c": code})
        engine.dispose()
        # the count's own poll (no click, no reload) finds it closed
        projector.wait_for_selector(f"text=Room {code} has closed", timeout=15_000)
        assert projector.locator(".room-count").count() == 0
        projector.get_by_role("button", name="Open a new room for this lesson").click()
        projector.wait_for_function(
            "code => { const c = document.querySelector('.room-code');"
            " return c && c.dataset.code !== code; }", arg=code)
        renewed = projector.locator(".room-code").get_attribute("data-code")
        assert store(room_db).state(renewed).lesson == LESSON
    finally:
        context.close()


def test_a_room_outlives_the_server_process(browser, room_db):
    """Answers given before a restart are in the room after it, and phones rejoin."""
    _require_browser()
    from explorer import presets

    choices = len(presets.get(LESSON).question.answers)
    rooms = store(room_db)
    code, secret = rooms.create(LESSON, choices)
    before = (1, 2) + (0,) * (choices - 2)
    with serving({"DATABASE_URL": room_db}, "room-restart-1.log") as (url, _):
        contexts = []
        for choice in (0, 1, 1):
            context, phone = open_phone(browser, url, code)
            contexts.append(context)
            answer(phone, choice)
        for context in contexts:
            context.close()
    with serving({"DATABASE_URL": room_db}, "room-restart-2.log") as (url, _):
        assert store(room_db).state(code).counts == before
        assert store(room_db).answers_csv(code, secret).count("\n") >= 3
        context, phone = open_phone(browser, url, code)
        answer(phone, 0)
        assert store(room_db).state(code).counts == (2, 2) + (0,) * (choices - 2)
        context.close()


def test_unknown_code_asks_for_one(browser, room_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{room_server}/?room=ZZZZZZ")
    page.wait_for_selector("text=Join a room")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlert']").count() == 1
    assert no_horizontal_scroll(page)
    context.close()


# ---------------------------------------------------------------- two replicas, PostgreSQL


def _replicas(ready: str) -> list[tuple[int, int]]:
    import re

    return [(int(pid), int(port))
            for pid, port in re.findall(r"(?m)^replica (\d+) (\d+)$", ready)]


@pytest.fixture(scope="module")
def two_replicas(postgres_server):
    from tests.e2e.conftest import run_local, stop_run_local
    from tests.e2e.test_rooms_deploy import _require

    _require_browser()
    _require("/usr/sbin/nginx", "nginx")
    url = postgres_server.create_database()
    proc, ready = run_local(2, {"DATABASE_URL": url}, "run-local-room.log")
    try:
        import re

        base = re.search(r"READY (\S+)", ready).group(1)
        yield base, _replicas(ready), url
    finally:
        stop_run_local(proc)


def test_twenty_phones_over_two_replicas(browser, two_replicas):
    """The projector through nginx, the phones straight to each replica in turn."""
    base, replicas, url = two_replicas
    run_room(browser, base, [f"http://127.0.0.1:{port}" for _, port in replicas], url)


def test_a_room_outlives_a_replica(browser, postgres_server):
    """Two replicas on one PostgreSQL; one is stopped and a new one takes its place while
    the other keeps serving: the answers given through both are all there."""
    from explorer import presets

    _require_browser()
    url = postgres_server.create_database()
    env = {"DATABASE_URL": url}
    choices = len(presets.get(LESSON).question.answers)
    code, secret = store(url).create(LESSON, choices)
    with serving(env, "room-replica-1.log") as (first, _):
        contexts = []
        try:
            with serving(env, "room-replica-2.log") as (second, _):
                for base, choice in ((first, 0), (second, 1), (second, 1)):
                    context, phone = open_phone(browser, base, code)
                    contexts.append(context)
                    answer(phone, choice)
            # the second replica is gone; the first still takes answers
            context, phone = open_phone(browser, first, code)
            contexts.append(context)
            answer(phone, 2)
            with serving(env, "room-replica-2b.log") as (second, _):
                assert store(url).state(code).counts == (1, 2, 1) + (0,) * (choices - 3)
                context, phone = open_phone(browser, second, code)
                contexts.append(context)
                answer(phone, 0)
                assert store(url).state(code).counts == (2, 2, 1) + (0,) * (choices - 3)
                assert store(url).answers_csv(code, secret).strip().count("\n") >= 5
        finally:
            for context in contexts:
                context.close()


def test_room_pages_pass_axe(browser, room_server):
    """No serious or critical axe violation on the projector's question and result, nor on
    a phone before its answer, after it and after the reveal."""
    axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_playwright.Axe()
    problems: list[str] = []

    def check(page, name: str) -> None:
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{name}: {violation['id']} at "
                                f"{[n['target'] for n in violation['nodes']][:3]}")

    context, projector, code = open_projector(browser, room_server)
    phone_context, phone = open_phone(browser, room_server, code)
    try:
        check(projector, "projector, question")
        check(phone, "phone, question")
        answer(phone, 1)
        check(phone, "phone, answered")
        projector.get_by_role("button", name="Reveal").click()
        projector.wait_for_selector(".room-votes", timeout=120_000)
        phone.wait_for_selector(".phone-outcome")
        check(phone, "phone, revealed")
        check(projector, "projector, revealed")
    finally:
        phone_context.close()
        context.close()
    assert not problems, "\n".join(problems)


def test_a_tampered_press_counts_nothing(room_server, room_db):
    """Over Streamlit's own protocol (benchmarks/streamlit_client.py): a press of an answer
    the page never drew (a made-up widget id) is ignored, the page still works, and a real
    press after it counts once."""
    import asyncio
    import concurrent.futures
    import sys
    from pathlib import Path

    from streamlit.proto.WidgetStates_pb2 import WidgetState

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from streamlit_client import Session, connect, open_page, press, run_script, widget_by_key

    from explorer import presets

    choices = len(presets.get(LESSON).question.answers)
    code, _ = store(room_db).create(LESSON, choices)
    query = f"room={code}"

    async def tamper() -> None:
        cookie, xsrf = await asyncio.to_thread(open_page, room_server, query, 30)
        session = Session(query=query)
        url = f"{room_server}/?{query}"
        async with connect(room_server, cookie, xsrf, 30) as ws:
            reply = await run_script(ws, session, url, 30)
            assert reply.problem is None
            real, _ = widget_by_key(session, "answer_1_0")
            made_up = real.replace("answer_1_0", "answer_1_7")
            session.widgets[made_up] = WidgetState(id=made_up, trigger_value=True)
            reply = await run_script(ws, session, url, 30)
            assert reply.problem is None
            assert store(room_db).state(code).total == 0
            press(session, "answer_1_2")
            reply = await run_script(ws, session, url, 30)
            assert reply.problem is None and 'data-mine="2"' in " ".join(reply.texts)

    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, tamper()).result(timeout=120)
    assert store(room_db).state(code).counts == (0, 0, 1) + (0,) * (choices - 3)
