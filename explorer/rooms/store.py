"""Rooms: a question asked of an audience, their anonymous answers, and the reveal.

A speaker's session ``create``s a room for a lesson's question and keeps the host secret;
phones ``vote`` (one answer per voter per round, changeable until the reveal); the projector
polls ``state`` about once a second; the host ``reveal``s the outcome and ``advance``s to the
next question. Every refusal is a ``RoomError`` whose text is one sentence for whoever caused
it. Rooms close ``LIFETIME_S`` after they open; closed rooms are deleted lazily.

Cost: ``state`` is two indexed reads (the room with its current round; the votes of that
round counted by ``GROUP BY``); ``vote`` is one short write transaction that locks the
round's row, so votes, the reveal and the next question of one room take turns (exact
counts, no vote after a reveal) while different rooms do not wait for each other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Row, and_, delete, func, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError

from explorer.rooms import codes
from explorer.rooms.database import (
    LESSON_CHARS,
    SENTENCE_CHARS,
    VOTER_CHARS,
    WRITE,
    describe,
    make_engine,
    migrate,
    resolve_url,
    rooms_table,
    rounds_table,
    votes_table,
)
from explorer.rooms.errors import NotHost, RoomError, RoomUnavailable, UnknownRoom, VoteRefused

log = logging.getLogger(__name__)

LIFETIME_S = 12 * 3600
"""A room closes this long after it opens (its state and votes then read as unknown)."""
MIN_CHOICES, MAX_CHOICES = 2, 4
"""A question has two to four answers (they must fit a phone's buttons)."""
MAX_VOTERS = 1000
"""Most voters one round of one room takes; the next one is told the room is full."""
FLOOD_VOTES = 10
FLOOD_WINDOW_S = 60.0
"""One voter may vote or change a vote at most FLOOD_VOTES times per FLOOD_WINDOW_S."""
NEW_VOTERS_PER_CLIENT = 60
"""Most new voters one address brings to one question of one room per FLOOD_WINDOW_S (a class
behind one NAT fits; a script making fresh sessions does not)."""
MAX_OPEN_ROOMS = 500
"""Most rooms open at once on this database; the next one is refused with a sentence."""
ROOMS_PER_CLIENT = 10
ROOMS_WINDOW_S = 60.0
"""One address may open at most ROOMS_PER_CLIENT rooms per ROOMS_WINDOW_S."""
UNAVAILABLE = "Rooms are not available on this server right now."
"""What a page says when the database cannot be reached (the details go to the log)."""
CREATE_ATTEMPTS = 8
"""Fresh codes tried when a new one is taken (with a billion codes, one retry is rare)."""
PURGE_EVERY_S = 300.0
"""Closed rooms are deleted at most this often per process, when a room is made."""


@dataclass(frozen=True)
class RoomState:
    """What the projector and the phones show of a room, as of one read."""

    code: str
    lesson: str
    """Preset key of the current question."""
    round: int
    """1 for the first question, +1 per ``advance``."""
    choices: int
    """Number of answers of the current question."""
    revealed: bool
    outcome: int | None
    """Index of the answer that happened (set by ``reveal``)."""
    counts: tuple[int, ...]
    """Votes per answer in this round (``len(counts) == choices``)."""
    total: int
    expires_at: datetime
    sentence: str | None = None
    """The reveal: which answer happened and why, as the projector worked it out."""
    revealed_at: datetime | None = None


def digest(*parts: str) -> str:
    """SHA-256 (hex) of ``parts``: how a browser or an address is kept, never raw."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "replace"))
        h.update(b"\0")
    return h.hexdigest()


def _opaque(value: object) -> str | None:
    """A browser key or client address -> its digest; None (or junk) -> None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return digest("lfe", value.strip()[:512])


MAX_ROUND = 2**31 - 1
"""Rounds are 32-bit integers in the database; a larger number is no round of any room."""
_VOTER = re.compile(rf"[\x21-\x7e]{{1,{VOTER_CHARS}}}")
"""A voter id: 1 to VOTER_CHARS printable ASCII characters (what a session makes with
``secrets.token_urlsafe`` or ``uuid4``)."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_round(value: object) -> bool:
    return _is_int(value) and 1 <= value <= MAX_ROUND  # type: ignore[operator]


def _is_voter(value: object) -> bool:
    return isinstance(value, str) and _VOTER.fullmatch(value) is not None


def _check_question(lesson: object, choices: object) -> tuple[str, int]:
    if (not isinstance(lesson, str) or not lesson.strip() or len(lesson) > LESSON_CHARS
            or not lesson.isprintable()):
        raise RoomError(f"A room's question needs a lesson key of 1 to {LESSON_CHARS} "
                        "printable characters.")
    if not _is_int(choices) or not MIN_CHOICES <= choices <= MAX_CHOICES:  # type: ignore[operator]
        raise RoomError(f"A room's question has {MIN_CHOICES} to {MAX_CHOICES} answers, "
                        f"not {choices!r}.")
    return lesson, int(choices)  # type: ignore[call-overload]


def _known_code(code: object) -> str:
    """A typed or stored code -> the canonical code; junk is an unknown room."""
    try:
        return codes.normalize_code(code)  # type: ignore[arg-type]
    except RoomError as error:
        raise UnknownRoom(str(error)) from None


def _closed(code: str) -> UnknownRoom:
    return UnknownRoom(f"No open room has the code {code}: check it on the screen, or ask "
                       "the speaker (rooms close 12 hours after they open).")


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class Rooms:
    """The rooms in one database; thread-safe, and several processes may share a database."""

    def __init__(self, url: str | None = None, *, clock: Callable[[], float] = time.time):
        """``url``: a database URL; None: ``$DATABASE_URL``, else the default SQLite file.
        Creates or upgrades the schema. ``clock``: seconds since the epoch (tests move it)."""
        self.url = resolve_url(url)
        self._clock = clock
        self._last_purge = float("-inf")
        self._purge_lock = threading.Lock()
        try:
            # a SQLite file's directory that cannot be made is an OSError, here or in migrate
            self._engine = make_engine(self.url)
        except OSError as error:
            raise self._unopened(error) from None
        try:
            migrate(self._engine, clock)
        except (SQLAlchemyError, OSError) as error:
            self._engine.dispose()
            raise self._unopened(error) from None

    def _unopened(self, error: Exception) -> RoomUnavailable:
        log.warning("rooms database %s could not be opened", describe(self.url),
                    exc_info=error)
        return RoomUnavailable(UNAVAILABLE)

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close the database connections (a later call reconnects)."""
        self._engine.dispose()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._translated(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (self._translated(),
              self._engine.connect().execution_options(**{WRITE: True}) as conn,
              conn.begin()):
            yield conn

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The driver's errors (database down, locked too long, ...) as one sentence; the
        details go to the log, never to the page."""
        try:
            yield
        except IntegrityError:
            raise  # handled by the caller (a taken code, a racing duplicate vote)
        except DataError:
            # a value the database refuses (the checks above should have caught it first)
            log.warning("rooms database refused a value on %s", describe(self.url),
                        exc_info=True)
            raise RoomError("The room could not store that value.") from None
        except (DBAPIError, SQLAlchemyError):
            log.warning("rooms database error on %s", describe(self.url), exc_info=True)
            raise RoomUnavailable(f"{UNAVAILABLE} Try again in a moment.") from None

    # ------------------------------------------------------------------ reads

    def _current(self, conn: Connection, code: str, now: float, *,
                 lock: bool = False) -> Row:
        """The open room's row joined with its current round; ``lock``: hold the round's row
        until the transaction ends (PostgreSQL; SQLite's writes hold the whole file)."""
        query = (
            select(rooms_table.c.code, rooms_table.c.host_hash, rooms_table.c.expires_at,
                   rooms_table.c.round, rounds_table.c.lesson, rounds_table.c.choices,
                   rounds_table.c.revealed, rounds_table.c.outcome,
                   rounds_table.c.sentence, rounds_table.c.revealed_at)
            .join(rounds_table, and_(rounds_table.c.code == rooms_table.c.code,
                                     rounds_table.c.round == rooms_table.c.round))
            .where(rooms_table.c.code == code, rooms_table.c.expires_at > now)
        )
        if lock:
            query = query.with_for_update(of=rounds_table)
        row = conn.execute(query).first()
        if row is None:
            raise _closed(code)
        return row

    def _state_of(self, conn: Connection, room: Row) -> RoomState:
        counts = [0] * room.choices
        tally = conn.execute(
            select(votes_table.c.answer, func.count())
            .where(votes_table.c.code == room.code, votes_table.c.round == room.round)
            .group_by(votes_table.c.answer)
        )
        for answer, count in tally:
            if 0 <= answer < room.choices:
                counts[answer] = int(count)
        return RoomState(
            code=room.code, lesson=room.lesson, round=int(room.round), choices=int(room.choices),
            revealed=bool(room.revealed),
            outcome=None if room.outcome is None else int(room.outcome),
            counts=tuple(counts), total=sum(counts), expires_at=_at(room.expires_at),
            sentence=room.sentence,
            revealed_at=None if room.revealed_at is None else _at(room.revealed_at),
        )

    def state(self, code: str) -> RoomState:
        """The room now: current question, votes per answer, reveal. UnknownRoom if closed."""
        code = _known_code(code)
        with self._read() as conn:
            return self._state_of(conn, self._current(conn, code, self._clock()))

    def my_vote(self, code: str, round: int, voter: str) -> int | None:
        """The answer this voter gave in this round, or None."""
        code = _known_code(code)
        if not _is_round(round) or not _is_voter(voter):
            return None
        with self._read() as conn:
            self._current(conn, code, self._clock())
            answer = conn.execute(
                select(votes_table.c.answer).where(
                    votes_table.c.code == code, votes_table.c.round == round,
                    votes_table.c.voter == voter)
            ).scalar()
        return None if answer is None else int(answer)

    # ------------------------------------------------------------------ the host

    def create(self, lesson: str, choices: int, *, browser: str | None = None,
               client: str | None = None) -> tuple[str, str]:
        """A new room asking ``lesson``'s question (``choices`` answers): (code, host secret).
        The secret is returned only here (and by ``resume``); keep it in the host's session,
        not in a link. ``browser``: a key the host's browser sends with every page (kept
        hashed): that browser's earlier room closes, and ``resume`` finds this one after a
        reload. ``client``: the host's address (kept hashed), for the limit per address.
        RoomError when MAX_OPEN_ROOMS are open or the address opened too many lately."""
        lesson, choices = _check_question(lesson, choices)
        browser_hash, client_hash = _opaque(browser), _opaque(client)
        self._purge_closed()
        secret = codes.new_secret()
        for _ in range(CREATE_ATTEMPTS):
            code = codes.new_code()
            try:
                with self._write() as conn:
                    now = self._clock()
                    self._admit_room(conn, now, browser_hash, client_hash)
                    conn.execute(insert(rooms_table).values(
                        code=code, host_hash=codes.hash_secret(secret), created_at=now,
                        expires_at=now + LIFETIME_S, round=1, host_browser=browser_hash,
                        host_client=client_hash))
                    conn.execute(insert(rounds_table).values(
                        code=code, round=1, lesson=lesson, choices=choices, revealed=False,
                        outcome=None, started_at=now))
            except IntegrityError:
                continue  # the code is taken (by an open room): draw another
            return code, secret
        raise RoomUnavailable("No free room code was found; try again.")

    def _admit_room(self, conn: Connection, now: float, browser_hash: str | None,
                    client_hash: str | None) -> None:
        """Close this browser's earlier room; refuse a room over the limits."""
        if browser_hash is not None:
            conn.execute(update(rooms_table).where(
                rooms_table.c.host_browser == browser_hash, rooms_table.c.expires_at > now,
            ).values(expires_at=now))
        if client_hash is not None:
            recent = conn.execute(select(func.count()).select_from(rooms_table).where(
                rooms_table.c.host_client == client_hash,
                rooms_table.c.created_at > now - ROOMS_WINDOW_S)).scalar_one()
            if recent >= ROOMS_PER_CLIENT:
                raise RoomError(f"Too many rooms opened from this address in a minute (at "
                                f"most {ROOMS_PER_CLIENT}); wait a minute and ask again.")
        open_rooms = conn.execute(select(func.count()).select_from(rooms_table).where(
            rooms_table.c.expires_at > now)).scalar_one()
        if open_rooms >= MAX_OPEN_ROOMS:
            raise RoomError(f"This server has {MAX_OPEN_ROOMS} rooms open, the most it keeps; "
                            "try again when one has closed.")

    def resume(self, browser: str) -> tuple[str, str] | None:
        """The open room the browser ``browser`` made, with a fresh host secret (the old one
        stops working), or None: how a reloaded projector takes its room back."""
        browser_hash = _opaque(browser)
        if browser_hash is None:
            return None
        with self._write() as conn:
            now = self._clock()
            code = conn.execute(
                select(rooms_table.c.code).where(rooms_table.c.host_browser == browser_hash,
                                                 rooms_table.c.expires_at > now)
                .order_by(rooms_table.c.created_at.desc()).limit(1)).scalar()
            if code is None:
                return None
            secret = codes.new_secret()
            conn.execute(update(rooms_table).where(rooms_table.c.code == code)
                         .values(host_hash=codes.hash_secret(secret)))
            return str(code), secret

    def _host_room(self, conn: Connection, code: str, secret: str, now: float) -> Row:
        room = self._current(conn, code, now, lock=True)
        if not codes.secret_matches(secret, room.host_hash):
            raise NotHost("Only the session that opened this room can reveal or move it on.")
        return room

    def release(self, code: str, secret: str) -> None:
        """The host closed the room on its screen: ``resume`` no longer brings it back (it
        stays open for the phones and the CSV until it expires)."""
        code = _known_code(code)
        with self._write() as conn:
            self._host_room(conn, code, secret, self._clock())
            conn.execute(update(rooms_table).where(rooms_table.c.code == code)
                         .values(host_browser=None))

    def reveal(self, code: str, secret: str, outcome: int,
               sentence: str | None = None) -> RoomState:
        """Close the current question's voting and record the answer that happened, with
        ``sentence`` (why; cut to SENTENCE_CHARS) for the phones on every replica.
        Revealing again with the same outcome changes nothing."""
        code = _known_code(code)
        if sentence is not None:
            sentence = str(sentence).strip()
            if len(sentence) > SENTENCE_CHARS:
                sentence = sentence[:SENTENCE_CHARS - 1] + "…"
            sentence = sentence or None
        with self._write() as conn:
            now = self._clock()
            room = self._host_room(conn, code, secret, now)
            if not _is_int(outcome) or not 0 <= outcome < room.choices:
                raise RoomError(f"The outcome is one of the {room.choices} answers "
                                f"(0 to {room.choices - 1}), not {outcome!r}.")
            if room.revealed and room.outcome != outcome:
                raise RoomError("This question was already revealed with another outcome.")
            if not room.revealed:
                conn.execute(update(rounds_table)
                             .where(rounds_table.c.code == code,
                                    rounds_table.c.round == room.round)
                             .values(revealed=True, outcome=outcome, sentence=sentence,
                                     revealed_at=now))
            return self._state_of(conn, self._current(conn, code, self._clock()))

    def advance(self, code: str, secret: str, lesson: str, choices: int) -> RoomState:
        """Move the room to the next question (round + 1); the phones follow on their next
        poll. The earlier rounds' votes stay for ``answers_csv``."""
        code = _known_code(code)
        lesson, choices = _check_question(lesson, choices)
        with self._write() as conn:
            now = self._clock()
            room = self._host_room(conn, code, secret, now)
            conn.execute(update(rooms_table).where(rooms_table.c.code == code)
                         .values(round=room.round + 1))
            conn.execute(insert(rounds_table).values(
                code=code, round=room.round + 1, lesson=lesson, choices=choices,
                revealed=False, outcome=None, started_at=now))
            return self._state_of(conn, self._current(conn, code, now))

    def answers_csv(self, code: str, secret: str) -> str:
        """Every standing answer of every round, for the host: ``round,lesson,answer,time``
        (answer = index of the answer; time in UTC, ISO 8601). No voter ids."""
        code = _known_code(code)
        with self._read() as conn:
            room = self._current(conn, code, self._clock())
            if not codes.secret_matches(secret, room.host_hash):
                raise NotHost("Only the session that opened this room can download its answers.")
            rows = conn.execute(
                select(votes_table.c.round, rounds_table.c.lesson, votes_table.c.answer,
                       votes_table.c.voted_at)
                .join(rounds_table, and_(rounds_table.c.code == votes_table.c.code,
                                         rounds_table.c.round == votes_table.c.round))
                .where(votes_table.c.code == code)
                .order_by(votes_table.c.round, votes_table.c.voted_at, votes_table.c.answer)
            ).all()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["round", "lesson", "answer", "time"])
        for round_, lesson, answer, voted_at in rows:
            writer.writerow([round_, lesson, answer,
                             _at(voted_at).isoformat(timespec="milliseconds")])
        return out.getvalue()

    # ------------------------------------------------------------------ the audience

    def vote(self, code: str, round: int, voter: str, answer: int, *,
             client: str | None = None) -> RoomState:
        """Record ``voter``'s answer to round ``round`` (or change it, until the reveal).
        VoteRefused, with one sentence, after the reveal, for a past round, an answer that is
        not one of the choices, a flood from one voter, too many new voters from one
        ``client`` address (kept hashed) in a minute, or a full room."""
        code = _known_code(code)
        if not _is_voter(voter):
            raise VoteRefused("This vote has no valid voter; reload the page and vote again.")
        if not _is_round(round):
            raise VoteRefused("This vote is not for a question of this room; reload the page.")
        if not _is_int(answer):
            raise VoteRefused("That answer is not one of the question's choices.")
        for _ in range(3):
            try:
                return self._vote_once(code, round, voter, answer, _opaque(client))
            except IntegrityError:
                continue  # the same voter's two votes raced to be first: now it is a change
        raise RoomUnavailable("The vote could not be recorded; try again.")

    def _vote_once(self, code: str, round: int, voter: str, answer: int,
                   client_hash: str | None) -> RoomState:
        with self._write() as conn:
            now = self._clock()
            room = self._current(conn, code, now, lock=True)
            if round != room.round:
                raise VoteRefused("The room has moved on to another question: vote on the "
                                  "one on the screen now.")
            if room.revealed:
                raise VoteRefused("The answer has been revealed: votes on this question are "
                                  "closed.")
            if not 0 <= answer < room.choices:
                raise VoteRefused("That answer is not one of the question's choices.")
            mine = and_(votes_table.c.code == code, votes_table.c.round == round,
                        votes_table.c.voter == voter)
            earlier = conn.execute(
                select(votes_table.c.window_start, votes_table.c.changes).where(mine)).first()
            if earlier is None:
                voters = conn.execute(
                    select(func.count()).select_from(votes_table).where(
                        votes_table.c.code == code, votes_table.c.round == round)
                ).scalar_one()
                if voters >= MAX_VOTERS:
                    raise VoteRefused(f"This room is full: it takes {MAX_VOTERS} answers per "
                                      "question.")
                if client_hash is not None:
                    self._admit_voter(conn, code, round, client_hash, now)
                conn.execute(insert(votes_table).values(
                    code=code, round=round, voter=voter, answer=answer, voted_at=now,
                    window_start=now, changes=1, client=client_hash, joined_at=now))
            else:
                window_start, changes = earlier
                if now - window_start >= FLOOD_WINDOW_S:
                    window_start, changes = now, 0
                if changes >= FLOOD_VOTES:
                    wait = max(1, round_up(window_start + FLOOD_WINDOW_S - now))
                    raise VoteRefused(f"Too many changes of this vote in a minute; try again "
                                      f"in {wait} s.")
                conn.execute(update(votes_table).where(mine).values(
                    answer=answer, voted_at=now, window_start=window_start,
                    changes=changes + 1))
            return self._state_of(conn, room)

    def _admit_voter(self, conn: Connection, code: str, round: int, client_hash: str,
                     now: float) -> None:
        since = now - FLOOD_WINDOW_S
        joined = conn.execute(
            select(func.count(), func.min(votes_table.c.joined_at)).select_from(votes_table)
            .where(votes_table.c.code == code, votes_table.c.round == round,
                   votes_table.c.client == client_hash, votes_table.c.joined_at > since)
        ).one()
        if joined[0] >= NEW_VOTERS_PER_CLIENT:
            wait = max(1, round_up(joined[1] + FLOOD_WINDOW_S - now))
            raise VoteRefused(f"Too many new phones from this network in a minute (at most "
                              f"{NEW_VOTERS_PER_CLIENT}); try again in {wait} s.")

    # ------------------------------------------------------------------ housekeeping

    def _purge_closed(self) -> None:
        """Delete rooms closed for good (with their rounds and votes), at most every
        PURGE_EVERY_S per process; a failure here never stops a room from being made."""
        now = self._clock()
        with self._purge_lock:
            if now - self._last_purge < PURGE_EVERY_S:
                return
            self._last_purge = now
        with suppress(RoomError):
            self.purge_closed(now)

    def purge_closed(self, now: float | None = None) -> int:
        """Delete every room closed by ``now`` (default: the clock); returns how many."""
        now = self._clock() if now is None else now
        closed = select(rooms_table.c.code).where(rooms_table.c.expires_at <= now)
        with self._write() as conn:
            conn.execute(delete(votes_table).where(votes_table.c.code.in_(closed)))
            conn.execute(delete(rounds_table).where(rounds_table.c.code.in_(closed)))
            return int(conn.execute(delete(rooms_table)
                                    .where(rooms_table.c.expires_at <= now)).rowcount)


def round_up(seconds: float) -> int:
    return int(-(-seconds // 1))


_shared: Rooms | None = None
_shared_lock = threading.Lock()


def rooms() -> Rooms:
    """The process's one ``Rooms`` (``$DATABASE_URL`` or the default SQLite file), made on
    first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Rooms()
        return _shared
