"""explorer.rooms against SQLite and PostgreSQL: every rule a room keeps, with pinned values."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime

import pytest

from explorer import rooms as rooms_module
from explorer.rooms import (
    FLOOD_VOTES,
    FLOOD_WINDOW_S,
    LIFETIME_S,
    MAX_VOTERS,
    NotHost,
    RoomError,
    Rooms,
    RoomState,
    RoomUnavailable,
    UnknownRoom,
    VoteRefused,
    normalize_code,
)
from explorer.rooms import store as store_module
from explorer.rooms.codes import ALPHABET, CODE_LENGTH

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rooms.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_schema()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(database_url, clock):
    rooms = Rooms(database_url, clock=clock)
    yield rooms
    rooms.close()


# ---------------------------------------------------------------- a room's life


def test_a_room_from_creation_to_the_next_question(store, clock):
    code, secret = store.create("saturation", 3)
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    assert store.state(code) == RoomState(
        code=code, lesson="saturation", round=1, choices=3, revealed=False, outcome=None,
        counts=(0, 0, 0), total=0, expires_at=datetime(2027, 1, 15, 20, 0, tzinfo=UTC))

    assert store.vote(code, 1, "phone-a", 2).counts == (0, 0, 1)
    store.vote(code, 1, "phone-b", 0)
    state = store.vote(code, 1, "phone-c", 2)
    assert (state.counts, state.total) == ((1, 0, 2), 3)
    assert store.my_vote(code, 1, "phone-a") == 2
    assert store.my_vote(code, 1, "phone-z") is None

    revealed = store.reveal(code, secret, 1)
    assert (revealed.revealed, revealed.outcome, revealed.counts) == (True, 1, (1, 0, 2))

    clock.now += 30
    nxt = store.advance(code, secret, "mae_median", 2)
    assert (nxt.lesson, nxt.round, nxt.choices, nxt.revealed, nxt.outcome, nxt.counts,
            nxt.total) == ("mae_median", 2, 2, False, None, (0, 0), 0)
    assert store.my_vote(code, 2, "phone-a") is None
    assert store.my_vote(code, 1, "phone-a") == 2, "the first round's votes are kept"
    assert store.state(code).expires_at == datetime(2027, 1, 15, 20, 0, tzinfo=UTC)


def test_a_vote_may_change_until_the_reveal_and_counts_once(store):
    code, secret = store.create("saturation", 3)
    store.vote(code, 1, "phone-a", 0)
    store.vote(code, 1, "phone-a", 1)
    state = store.vote(code, 1, "phone-a", 2)
    assert (state.counts, state.total) == ((0, 0, 1), 1)
    store.reveal(code, secret, 0)
    with pytest.raises(VoteRefused, match="revealed"):
        store.vote(code, 1, "phone-a", 0)
    with pytest.raises(VoteRefused, match="revealed"):
        store.vote(code, 1, "phone-new", 0)
    assert store.state(code).counts == (0, 0, 1), "nothing else changed"
    assert store.my_vote(code, 1, "phone-a") == 2


def test_a_vote_for_a_past_or_future_round_is_refused(store):
    code, secret = store.create("saturation", 2)
    store.vote(code, 1, "phone-a", 1)
    store.advance(code, secret, "mae_median", 3)
    for stale in (1, 3, 0, -1):
        with pytest.raises(VoteRefused):
            store.vote(code, stale, "phone-a", 0)
    assert store.state(code).counts == (0, 0, 0)
    assert store.vote(code, 2, "phone-a", 2).counts == (0, 0, 1)


@pytest.mark.parametrize("answer", [-1, 3, 10**12, True, 1.0, "1", None, [1]])
def test_a_tampered_answer_is_refused_and_changes_nothing(store, answer):
    code, _ = store.create("saturation", 3)
    store.vote(code, 1, "phone-a", 1)
    with pytest.raises(VoteRefused, match="not one of the question's choices"):
        store.vote(code, 1, "phone-a", answer)
    with pytest.raises(VoteRefused, match="not one of the question's choices"):
        store.vote(code, 1, "phone-b", answer)
    assert store.state(code).counts == (0, 1, 0)
    assert store.my_vote(code, 1, "phone-a") == 1


@pytest.mark.parametrize("round_", [True, 1.0, "1", None, 2**31, 2**70, -(2**63)])
def test_a_tampered_round_is_refused(store, round_):
    code, _ = store.create("saturation", 3)
    with pytest.raises(VoteRefused):
        store.vote(code, round_, "phone-a", 0)
    assert store.state(code).total == 0


@pytest.mark.parametrize("voter", ["", "x" * 65, None, 7, "nul\x00", "a b", "é"])
def test_a_vote_without_a_valid_voter_is_refused(store, voter):
    code, _ = store.create("saturation", 3)
    with pytest.raises(VoteRefused, match="no valid voter"):
        store.vote(code, 1, voter, 0)
    assert store.my_vote(code, 1, voter) is None


@pytest.mark.parametrize("round_", [2**31, 2**70, -(2**63), 0, True, "1"])
def test_my_vote_for_no_round_is_none(store, round_):
    code, _ = store.create("saturation", 3)
    store.vote(code, 1, "phone-a", 2)
    assert store.my_vote(code, round_, "phone-a") is None
    assert store.my_vote(code, 1, "phone-a") == 2


def test_a_flood_from_one_voter_is_refused_until_its_minute_is_over(store, clock):
    code, _ = store.create("saturation", 2)
    for i in range(FLOOD_VOTES):
        store.vote(code, 1, "phone-a", i % 2)
        clock.now += 1
    last = (FLOOD_VOTES - 1) % 2
    with pytest.raises(VoteRefused, match=r"Too many changes .* try again in 50 s"):
        store.vote(code, 1, "phone-a", 1 - last)
    assert store.my_vote(code, 1, "phone-a") == last
    assert store.vote(code, 1, "phone-b", 0).counts == (1 + (last == 0), int(last == 1)), \
        "another voter is not held back"
    clock.now = T0 + FLOOD_WINDOW_S  # a minute after the first vote
    assert store.vote(code, 1, "phone-a", 1 - last).total == 2
    assert store.my_vote(code, 1, "phone-a") == 1 - last


def test_a_full_room_refuses_the_next_voter_but_not_a_change(store, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_VOTERS", 3)
    code, secret = store.create("saturation", 2)
    for voter in ("a", "b", "c"):
        store.vote(code, 1, voter, 0)
    with pytest.raises(VoteRefused, match="This room is full: it takes 3 answers"):
        store.vote(code, 1, "d", 1)
    assert store.vote(code, 1, "a", 1).counts == (2, 1)
    store.advance(code, secret, "mae_median", 2)
    assert store.vote(code, 1 + 1, "d", 1).total == 1, "the limit is per question"


def test_the_default_voter_limit():
    assert MAX_VOTERS == 1000 and FLOOD_VOTES == 10 and FLOOD_WINDOW_S == 60


# ---------------------------------------------------------------- the host


def test_only_the_host_secret_reveals_advances_and_downloads(store):
    code, secret = store.create("saturation", 3)
    other_code, other_secret = store.create("saturation", 3)
    for wrong in ("", "guess", other_secret, secret[:-1], secret + "x", None, 12):
        with pytest.raises(NotHost, match="Only the session that opened this room"):
            store.reveal(code, wrong, 0)
        with pytest.raises(NotHost):
            store.advance(code, wrong, "mae_median", 2)
        with pytest.raises(NotHost):
            store.answers_csv(code, wrong)
    assert store.state(code).revealed is False and store.state(code).round == 1
    assert store.reveal(code, secret, 0).revealed


def test_the_secret_is_stored_only_as_a_hash(store, database_url):
    import sqlalchemy as sa

    code, secret = store.create("saturation", 3)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM rooms")).mappings().one()
    engine.dispose()
    assert secret not in str(dict(row))
    import hashlib
    assert row["host_hash"] == hashlib.sha256(secret.encode()).hexdigest()


def test_reveal_checks_the_outcome_and_is_idempotent(store):
    code, secret = store.create("saturation", 3)
    for outcome in (-1, 3, True, "1", None):
        with pytest.raises(RoomError, match="one of the 3 answers"):
            store.reveal(code, secret, outcome)
    assert store.reveal(code, secret, 2).outcome == 2
    assert store.reveal(code, secret, 2).outcome == 2
    with pytest.raises(RoomError, match="already revealed"):
        store.reveal(code, secret, 1)


@pytest.mark.parametrize(("lesson", "choices"), [
    ("", 2), ("   ", 2), ("x" * 65, 2), (None, 2), ("saturation", 1), ("saturation", 5),
    ("saturation", True), ("saturation", 2.0), ("nul\x00", 2), ("tab\there", 2),
])
def test_a_bad_question_is_refused(store, lesson, choices):
    with pytest.raises(RoomError):
        store.create(lesson, choices)
    code, secret = store.create("saturation", 2)
    with pytest.raises(RoomError):
        store.advance(code, secret, lesson, choices)
    assert store.state(code).round == 1


def test_answers_csv_has_every_standing_answer_and_no_voter(store, clock):
    code, secret = store.create("saturation", 3)
    store.vote(code, 1, "voter-secret-a", 2)
    clock.now += 1.5
    store.vote(code, 1, "voter-secret-b", 0)
    clock.now += 1
    store.vote(code, 1, "voter-secret-a", 1)  # changed: only the standing answer counts
    store.reveal(code, secret, 1)
    clock.now += 60
    store.advance(code, secret, "mae_median", 2)
    store.vote(code, 2, "voter-secret-b", 1)
    text = store.answers_csv(code, secret)
    assert "voter-secret" not in text
    assert list(csv.reader(io.StringIO(text))) == [
        ["round", "lesson", "answer", "time"],
        ["1", "saturation", "0", "2027-01-15T08:00:01.500+00:00"],
        ["1", "saturation", "1", "2027-01-15T08:00:02.500+00:00"],
        ["2", "mae_median", "1", "2027-01-15T08:01:02.500+00:00"],
    ]


# ---------------------------------------------------------------- unknown and closed rooms


def test_an_unknown_code_is_refused_everywhere(store):
    code, secret = store.create("saturation", 3)
    unknown = "ABCDEF" if code != "ABCDEF" else "ABCDEG"
    calls = [
        lambda c: store.state(c),
        lambda c: store.vote(c, 1, "phone", 0),
        lambda c: store.my_vote(c, 1, "phone"),
        lambda c: store.reveal(c, secret, 0),
        lambda c: store.advance(c, secret, "x", 2),
        lambda c: store.answers_csv(c, secret),
    ]
    for call in calls:
        with pytest.raises(UnknownRoom, match=f"No open room has the code {unknown}"):
            call(unknown)
        with pytest.raises(UnknownRoom, match="letters and digits"):
            call("not a code!")


def test_a_room_closes_twelve_hours_after_it_opens(store, clock):
    assert LIFETIME_S == 12 * 3600
    code, secret = store.create("saturation", 2)
    store.vote(code, 1, "phone-a", 1)
    clock.now = T0 + LIFETIME_S - 1
    assert store.state(code).total == 1
    clock.now = T0 + LIFETIME_S
    for call in (lambda: store.state(code), lambda: store.vote(code, 1, "phone-b", 0),
                 lambda: store.reveal(code, secret, 0), lambda: store.my_vote(code, 1, "a")):
        with pytest.raises(UnknownRoom, match="rooms close 12 hours after they open"):
            call()


def test_closed_rooms_are_purged_when_a_room_is_made(store, clock, database_url):
    import sqlalchemy as sa

    old, _ = store.create("saturation", 2)
    store.vote(old, 1, "phone-a", 1)
    clock.now = T0 + LIFETIME_S + store_module.PURGE_EVERY_S + 1
    young, _ = store.create("saturation", 2)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        left = {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("rooms", "rounds", "votes")}
    engine.dispose()
    assert left == {"rooms": 1, "rounds": 1, "votes": 0}
    assert store.state(young).total == 0


def test_a_taken_code_is_drawn_again(store, monkeypatch):
    drawn = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(rooms_module.codes, "new_code", lambda: next(drawn))
    assert store.create("saturation", 2)[0] == "AAAAAA"
    assert store.create("saturation", 2)[0] == "BBBBBB"


# ---------------------------------------------------------------- restarts and replicas


def test_a_restart_keeps_the_room_and_its_answers(database_url, clock):
    first = Rooms(database_url, clock=clock)
    code, secret = first.create("saturation", 3)
    first.vote(code, 1, "phone-a", 2)
    first.vote(code, 1, "phone-b", 2)
    first.close()
    second = Rooms(database_url, clock=clock)  # a new process on the same database
    assert second.state(code).counts == (0, 0, 2)
    assert second.my_vote(code, 1, "phone-a") == 2
    assert second.reveal(code, secret, 2).revealed
    second.close()


def test_two_replicas_see_each_others_votes(database_url, clock):
    one, two = Rooms(database_url, clock=clock), Rooms(database_url, clock=clock)
    code, secret = one.create("saturation", 2)
    two.vote(code, 1, "phone-a", 0)
    one.vote(code, 1, "phone-b", 1)
    two.vote(code, 1, "phone-b", 0)  # the same phone, now through the other replica
    assert one.state(code).counts == two.state(code).counts == (2, 0)
    two.reveal(code, secret, 0)
    with pytest.raises(VoteRefused, match="revealed"):
        one.vote(code, 1, "phone-c", 1)
    one.close()
    two.close()


def test_many_threads_voting_at_once_give_exact_counts(database_url, clock):
    store = Rooms(database_url, clock=clock)
    code, _ = store.create("saturation", 4)
    voters, threads = 200, 16
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def phone_bank(bank: int) -> None:
        start.wait()
        try:
            for i in range(bank, voters, threads):
                store.vote(code, 1, f"phone-{i}", i % 4)
                if i % 3 == 0:  # some change their minds, through the same race
                    store.vote(code, 1, f"phone-{i}", (i + 1) % 4)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=phone_bank, args=(b,)) for b in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    expected = [0, 0, 0, 0]
    for i in range(voters):
        expected[(i + 1) % 4 if i % 3 == 0 else i % 4] += 1
    state = store.state(code)
    assert (state.counts, state.total) == (tuple(expected), voters)
    store.close()


def test_the_voter_limit_holds_under_a_race(database_url, clock, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_VOTERS", 25)
    one, two = Rooms(database_url, clock=clock), Rooms(database_url, clock=clock)
    code, _ = one.create("saturation", 2)
    start = threading.Barrier(8)
    refused: list[str] = []

    def phone_bank(bank: int) -> None:
        start.wait()
        store = (one, two)[bank % 2]
        for i in range(bank, 60, 8):
            try:
                store.vote(code, 1, f"phone-{i}", 0)
            except VoteRefused as error:
                refused.append(str(error))

    workers = [threading.Thread(target=phone_bank, args=(b,)) for b in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert one.state(code).total == 25
    assert len(refused) == 35 and set(refused) == {
        "This room is full: it takes 25 answers per question."}
    one.close()
    two.close()


def test_two_replicas_starting_at_once_migrate_once(database_url, clock):
    import sqlalchemy as sa

    made: list[Rooms] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def replica() -> None:
        start.wait()
        try:
            made.append(Rooms(database_url, clock=clock))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    workers = [threading.Thread(target=replica) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == [] and len(made) == 4
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
    engine.dispose()
    assert versions == [1, 2]
    code, _ = made[0].create("saturation", 2)
    assert made[3].vote(code, 1, "a", 1).counts == (0, 1)
    for rooms in made:
        rooms.close()


# ---------------------------------------------------------------- the database's own errors


def test_a_database_that_does_not_answer_is_one_sentence(postgres_server, clock):
    import local_postgres

    url = local_postgres.url_for(1, "nowhere")  # port 1: nothing listens
    with pytest.raises(RoomUnavailable) as caught:
        Rooms(url, clock=clock)
    # a phone sees this: no database host, port or driver, only that rooms are down
    assert str(caught.value) == "Rooms are not available on this server right now."


def test_a_sqlite_file_that_cannot_be_made_is_one_sentence(tmp_path, clock):
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(RoomUnavailable) as caught:
        Rooms(f"sqlite:///{tmp_path / 'a-file' / 'rooms.sqlite3'}", clock=clock)
    # the server's file path is for its log, never for a phone
    assert str(caught.value) == "Rooms are not available on this server right now."
    assert str(tmp_path) not in str(caught.value)


def test_a_database_that_goes_away_is_one_sentence(postgres_server, clock):
    url = postgres_server.create_database()
    store = Rooms(url, clock=clock)
    code, _ = store.create("saturation", 2)
    import sqlalchemy as sa

    admin = sa.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    with pytest.raises(RoomUnavailable, match="not available on this server right now. Try again"):
        store.state(code)
    store.close()


def test_a_vote_held_up_by_a_hung_connection_gives_up_in_time(postgres_server, clock,
                                                              monkeypatch):
    import time

    import sqlalchemy as sa

    from explorer.rooms import database

    monkeypatch.setattr(database, "POSTGRES_STATEMENT_TIMEOUT_S", 0.5)
    url = postgres_server.create_schema()
    store = Rooms(url, clock=clock)
    code, _ = store.create("saturation", 2)
    hung = sa.create_engine(url)
    with hung.connect() as conn, conn.begin():  # holds the round's row, like a hung replica
        # ... for 8 s at most: without the timeout, the vote then goes through and the test
        # fails instead of hanging
        conn.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '8s'"))
        conn.execute(sa.text("SELECT * FROM rounds WHERE code = :code FOR UPDATE"),
                     {"code": code})
        started = time.monotonic()
        with pytest.raises(RoomUnavailable, match="not available"):
            store.vote(code, 1, "phone-a", 0)
        assert time.monotonic() - started < 5
    hung.dispose()
    assert store.vote(code, 1, "phone-a", 0).total == 1, "and works once the row is free"
    store.close()


def test_the_url_setting(monkeypatch, tmp_path):
    from explorer.rooms.database import resolve_url

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("EXPLORER_ROOMS_FILE", raising=False)
    assert resolve_url().database == str(tmp_path / "data/loss-function-explorer/rooms.sqlite3")
    monkeypatch.setenv("EXPLORER_ROOMS_FILE", str(tmp_path / "elsewhere.db"))
    assert resolve_url().database == str(tmp_path / "elsewhere.db")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/rooms")
    assert resolve_url().render_as_string(hide_password=False) == \
        "postgresql+psycopg://u:p@db:5432/rooms"
    assert resolve_url("postgresql://db/x").drivername == "postgresql+psycopg"
    for bad in ("mysql://db/x", "not a url", "sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ValueError):
            resolve_url(bad)


def test_the_default_file_is_made_on_first_use(monkeypatch, tmp_path, clock):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("EXPLORER_ROOMS_FILE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = Rooms(clock=clock)
    code, _ = store.create("saturation", 2)
    assert (tmp_path / "data/loss-function-explorer/rooms.sqlite3").exists()
    assert store.dialect == "sqlite"
    import sqlite3

    with sqlite3.connect(tmp_path / "data/loss-function-explorer/rooms.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.close()


def test_rooms_is_one_shared_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    monkeypatch.setattr(store_module, "_shared", None)
    assert rooms_module.rooms() is rooms_module.rooms()
    assert rooms_module.rooms().url.database == str(tmp_path / "shared.db")
    rooms_module.rooms().close()


# ---------------------------------------------------------------- typed codes


@pytest.mark.parametrize(("typed", "code"), [
    ("AB3K7Q", "AB3K7Q"), ("ab3k7q", "AB3K7Q"), (" ab3-k7q ", "AB3K7Q"), ("AB3 K7Q", "AB3K7Q"),
    ("ab3_k7q", "AB3K7Q"), ("ＡＢ３－Ｋ７Ｑ", "AB3K7Q"),
    ("https://lfe.example/?lesson=x&room=ab3-k7q#top", "AB3K7Q"),
])
def test_normalize_code_reads_what_a_person_types(typed, code):
    assert normalize_code(typed) == code


@pytest.mark.parametrize(("typed", "sentence"), [
    ("", "Type the room's code"),
    ("   ", "Type the room's code"),
    ("AB3K7", "A room code has 6 letters and digits; AB3K7 has 5."),
    ("AB3K7QX", "has 7"),
    ("AB0K7Q", "(codes never use 0, O, 1 or I); '0' is not part of one."),
    ("ab3k7!", "'!' is not part of one"),
    ("x" * 201, "that text has 201 characters"),
    (None, "Type the room's code"),
])
def test_normalize_code_refuses_junk_with_a_sentence(typed, sentence):
    with pytest.raises(RoomError) as caught:
        normalize_code(typed)
    assert sentence in str(caught.value)


def test_a_value_the_database_refuses_is_one_sentence_not_an_outage(postgres_server, clock,
                                                                    monkeypatch):
    """Should a check ever let through what PostgreSQL refuses (here a NUL byte), the person
    gets a sentence about the value, not "the database did not answer"."""
    store = Rooms(postgres_server.create_schema(), clock=clock)
    code, _ = store.create("saturation", 2)
    monkeypatch.setattr(store_module, "_is_voter", lambda voter: True)
    with pytest.raises(RoomError, match="could not store that value") as caught:
        store.vote(code, 1, "nul\x00", 0)
    assert not isinstance(caught.value, RoomUnavailable)
    assert store.state(code).total == 0
    store.close()


# ---------------------------------------------------------------- separate processes

_PROCESS = """
import sys
from explorer.rooms import Rooms
url, action, code = sys.argv[1], sys.argv[2], sys.argv[3]
rooms = Rooms(url)
if action == "create":
    code, secret = rooms.create("saturation", 2)
    rooms.vote(code, 1, "phone-a", 1)
    print(code, secret)
elif action == "vote":
    bank = int(sys.argv[4])
    for i in range(bank, 120, 2):
        rooms.vote(code, 1, f"phone-{i}", i % 2)
    print(rooms.state(code).total)
"""


def _in_a_process(*args: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", _PROCESS, *args], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_room_outlives_the_process_that_made_it(database_url):
    code, secret = _in_a_process(database_url, "create", "-").split()
    store = Rooms(database_url)  # this test's process: the "restarted" server
    assert store.state(code).counts == (0, 1)
    assert store.reveal(code, secret, 1).outcome == 1
    store.close()


def test_two_processes_voting_at_once_give_exact_counts(database_url):
    import subprocess
    import sys
    from pathlib import Path

    store = Rooms(database_url)
    code, _ = store.create("saturation", 2)
    procs = [subprocess.Popen([sys.executable, "-c", _PROCESS, database_url, "vote", code,
                               str(bank)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[1])
             for bank in (0, 1)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert store.state(code).counts == (60, 60)
    store.close()


# ---------------------------------------------------------------- one client, many sessions


def test_a_new_room_from_the_same_browser_closes_its_earlier_room(store):
    first, _ = store.create("saturation", 2, browser="cookie-1")
    second, _ = store.create("saturation", 2, browser="cookie-1")
    other, _ = store.create("saturation", 2, browser="cookie-2")
    with pytest.raises(UnknownRoom):
        store.state(first)
    assert store.state(second).round == 1 and store.state(other).round == 1


def test_a_reloaded_projector_takes_its_room_back_from_the_same_browser(store):
    code, old = store.create("saturation", 2, browser="cookie-1")
    store.vote(code, 1, "phone", 1)
    assert store.resume("cookie-2") is None, "another browser gets nothing"
    assert store.resume("") is None
    resumed = store.resume("cookie-1")
    assert resumed is not None and resumed[0] == code
    assert store.reveal(code, resumed[1], 1).outcome == 1
    with pytest.raises(NotHost):
        store.advance(code, old, "saturation", 2)  # the old session's secret is retired


def test_a_released_room_is_not_resumed_but_stays_open(store):
    code, secret = store.create("saturation", 2, browser="cookie-1")
    with pytest.raises(NotHost):
        store.release(code, "wrong")
    store.release(code, secret)
    assert store.resume("cookie-1") is None
    assert store.vote(code, 1, "phone", 0).total == 1


def test_the_browser_is_kept_hashed_never_raw(store):
    import sqlalchemy as sa

    store.create("saturation", 2, browser="raw-cookie-value", client="203.0.113.9")
    with store._engine.connect() as conn:
        row = conn.execute(sa.text("SELECT host_browser, host_client FROM rooms")).one()
    assert "raw-cookie-value" not in row[0] and len(row[0]) == 64
    assert "203.0.113.9" not in row[1]


def test_one_address_opens_at_most_ten_rooms_a_minute(store, clock):
    for i in range(store_module.ROOMS_PER_CLIENT):
        store.create("saturation", 2, browser=f"tab-{i}", client="203.0.113.9")
    with pytest.raises(RoomError, match="Too many rooms opened from this address"):
        store.create("saturation", 2, browser="tab-x", client="203.0.113.9")
    store.create("saturation", 2, client="198.51.100.1")  # another address is not held up
    clock.now += store_module.ROOMS_WINDOW_S + 1
    store.create("saturation", 2, browser="tab-x", client="203.0.113.9")


def test_the_server_keeps_at_most_so_many_open_rooms(store, clock, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_OPEN_ROOMS", 3)
    made = [store.create("saturation", 2)[0] for _ in range(3)]
    with pytest.raises(RoomError, match="This server has 3 rooms open"):
        store.create("saturation", 2)
    clock.now += store_module.LIFETIME_S + 1  # they close: room for more
    assert store.create("saturation", 2)[0] not in made


def test_one_address_brings_at_most_sixty_new_voters_a_minute(store, clock):
    code, _ = store.create("saturation", 2)
    limit = store_module.NEW_VOTERS_PER_CLIENT
    assert limit == 60
    for i in range(limit):
        store.vote(code, 1, f"phone-{i}", i % 2, client="203.0.113.9")
    with pytest.raises(VoteRefused, match="Too many new phones from this network in a "
                                          "minute \\(at most 60\\); try again in 60 s"):
        store.vote(code, 1, "phone-new", 0, client="203.0.113.9")
    # a voter already in may change its answer; another address is not held up
    assert store.vote(code, 1, "phone-0", 1, client="203.0.113.9").counts == (29, 31)
    assert store.vote(code, 1, "elsewhere", 0, client="198.51.100.1").total == 61
    clock.now += store_module.FLOOD_WINDOW_S + 1
    assert store.vote(code, 1, "phone-new", 0, client="203.0.113.9").total == 62


def test_the_reveal_keeps_its_sentence_for_every_replica(store, clock):
    code, secret = store.create("saturation", 2)
    assert store.state(code).sentence is None and store.state(code).revealed_at is None
    store.reveal(code, secret, 1, "B. It trains: the loss falls to 3 % of its start.")
    seen = Rooms(store.url.render_as_string(hide_password=False), clock=clock)  # a replica
    state = seen.state(code)
    assert state.sentence == "B. It trains: the loss falls to 3 % of its start."
    assert state.revealed_at is not None and state.revealed_at.timestamp() == clock.now
    seen.close()
    from explorer.rooms import database

    other, secret2 = store.create("saturation", 2)
    kept = store.reveal(other, secret2, 0, "x" * 5000).sentence
    assert kept is not None and len(kept) == database.SENTENCE_CHARS and kept.endswith("…")


def test_a_database_made_before_these_columns_is_upgraded(tmp_path, clock):
    path = tmp_path / "old.sqlite3"
    import sqlite3

    with sqlite3.connect(path) as db:  # the schema as version 1 made it
        db.executescript("""
            CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at FLOAT NOT NULL);
            INSERT INTO schema_version VALUES (1, 0);
            CREATE TABLE rooms (code VARCHAR(16) PRIMARY KEY, host_hash VARCHAR(64) NOT NULL,
              created_at FLOAT NOT NULL, expires_at FLOAT NOT NULL, round INTEGER NOT NULL);
            CREATE TABLE rounds (code VARCHAR(16) NOT NULL, round INTEGER NOT NULL,
              lesson VARCHAR(64) NOT NULL, choices INTEGER NOT NULL, revealed BOOLEAN NOT NULL,
              outcome INTEGER, started_at FLOAT NOT NULL, PRIMARY KEY (code, round));
            CREATE TABLE votes (code VARCHAR(16) NOT NULL, round INTEGER NOT NULL,
              voter VARCHAR(64) NOT NULL, answer INTEGER NOT NULL, voted_at FLOAT NOT NULL,
              window_start FLOAT NOT NULL, changes INTEGER NOT NULL,
              PRIMARY KEY (code, round, voter));
        """)
    store = Rooms(f"sqlite:///{path}", clock=clock)
    code, secret = store.create("saturation", 2, browser="b", client="c")
    store.vote(code, 1, "phone", 0, client="c")
    assert store.reveal(code, secret, 0, "A. Why.").sentence == "A. Why."
    assert store.resume("b") is not None
    store.close()
