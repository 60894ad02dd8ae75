"""Where rooms live: one setting, ``DATABASE_URL``, chooses the database; the schema is made
and upgraded by the app itself when it first connects.

- ``DATABASE_URL=postgresql+psycopg://user:password@host:5432/db`` (``postgres://`` and
  ``postgresql://`` are read the same way, with psycopg 3): what several replicas share.
- Unset: a SQLite file, ``$EXPLORER_ROOMS_FILE`` if set, else
  ``$XDG_DATA_HOME/loss-function-explorer/rooms.sqlite3`` (``~/.local/share/...``), made on
  first use. WAL journal and a busy timeout, so the threads of one process (Streamlit's
  sessions) read while one writes; writes begin ``IMMEDIATE``, so they queue instead of
  failing halfway.

Migrations are a numbered list (``MIGRATIONS``) and a table ``schema_version`` recording the
ones applied. They run in one transaction that first takes a lock (PostgreSQL:
``pg_advisory_xact_lock``; SQLite: ``BEGIN IMMEDIATE``), so two replicas starting at once
against one database apply each step exactly once: the second waits, then finds nothing to
do. Not Alembic: three tables, migrations that must run inside the app at start (no separate
deploy step) and under that lock; Alembic would add a config file, an ``env.py`` and a
scripts directory for what is here thirty lines, and the lock would still be ours to write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Double,
    Engine,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

log = logging.getLogger(__name__)

APP_DIR = "loss-function-explorer"
SQLITE_NAME = "rooms.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 5.0
"""How long a SQLite write waits for another to finish before giving up (RoomUnavailable)."""
POSTGRES_STATEMENT_TIMEOUT_S = 10.0
"""Longest a PostgreSQL statement may run, waiting for a lock included (RoomUnavailable):
a click is bounded in time even when another connection hangs holding a room's row."""
MIGRATION_LOCK = 0x4C46_4552_4F4F_4D53 & 0x7FFF_FFFF_FFFF_FFFF
"""PostgreSQL advisory-lock key for the migrations ("LFEROOMS")."""
WRITE = "lfe_write"
"""Execution option: this transaction writes (SQLite begins it IMMEDIATE)."""

CODE_CHARS = 16
LESSON_CHARS = 64
VOTER_CHARS = 64
HASH_CHARS = 64
"""A SHA-256 in hex: how a browser or a client address is kept (never raw)."""
SENTENCE_CHARS = 600
"""Longest reveal sentence a round keeps (a lesson's is one or two sentences)."""

metadata = MetaData()

rooms_table = Table(
    "rooms", metadata,
    Column("code", String(CODE_CHARS), primary_key=True),
    Column("host_hash", String(64), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("round", Integer, nullable=False),
    Column("host_browser", String(HASH_CHARS), nullable=True),
    Column("host_client", String(HASH_CHARS), nullable=True),
    Index("rooms_expires_at", "expires_at"),
    Index("rooms_host_browser", "host_browser"),
)
"""One row per room: who may steer it (hash of the host secret), when it closes (seconds since
the epoch, UTC), and its current round; the hash of the browser that made it (that browser
may take the room back after a reload) and of its address (rooms made per address)."""

rounds_table = Table(
    "rounds", metadata,
    Column("code", String(CODE_CHARS), nullable=False),
    Column("round", Integer, nullable=False),
    Column("lesson", String(LESSON_CHARS), nullable=False),
    Column("choices", Integer, nullable=False),
    Column("revealed", Boolean, nullable=False),
    Column("outcome", Integer, nullable=True),
    Column("started_at", Double, nullable=False),
    Column("sentence", String(SENTENCE_CHARS), nullable=True),
    Column("revealed_at", Double, nullable=True),
    PrimaryKeyConstraint("code", "round"),
    ForeignKeyConstraint(["code"], ["rooms.code"], ondelete="CASCADE"),
)
"""One row per question a room asked: its lesson, number of answers, and the reveal (the
answer that happened, the sentence saying why, and when)."""

votes_table = Table(
    "votes", metadata,
    Column("code", String(CODE_CHARS), nullable=False),
    Column("round", Integer, nullable=False),
    Column("voter", String(VOTER_CHARS), nullable=False),
    Column("answer", Integer, nullable=False),
    Column("voted_at", Double, nullable=False),
    Column("window_start", Double, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("client", String(HASH_CHARS), nullable=True),
    Column("joined_at", Double, nullable=True),
    PrimaryKeyConstraint("code", "round", "voter"),
    ForeignKeyConstraint(["code", "round"], ["rounds.code", "rounds.round"], ondelete="CASCADE"),
)
"""One row per voter per round: the answer now standing, and the voter's flood window (when
it began, how many votes and changes since), and the hash of the address it first voted from and
when (new voters per address per minute are bounded)."""

schema_version_table = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Double, nullable=False),
)


def _create_tables_v1(conn: Connection) -> None:
    for table in (rooms_table, rounds_table, votes_table):
        table.create(conn, checkfirst=True)


_ADDED_V2 = (
    ("rooms", "host_browser", f"VARCHAR({HASH_CHARS})"),
    ("rooms", "host_client", f"VARCHAR({HASH_CHARS})"),
    ("rounds", "sentence", f"VARCHAR({SENTENCE_CHARS})"),
    ("rounds", "revealed_at", "DOUBLE PRECISION"),
    ("votes", "client", f"VARCHAR({HASH_CHARS})"),
    ("votes", "joined_at", "DOUBLE PRECISION"),
)


def _browsers_and_sentences_v2(conn: Connection) -> None:
    """The host's browser and address with each room, the reveal's sentence and time with
    each round, the voter's address with each vote (all nullable: older rows have none).
    A database made by this version's step 1 has the columns already."""
    inspector = inspect(conn)
    for table, column, kind in _ADDED_V2:
        present = {c["name"] for c in inspector.get_columns(table)}
        if column not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS rooms_host_browser ON rooms (host_browser)"))


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _create_tables_v1),
    (2, _browsers_and_sentences_v2),
)
"""(version, step) in order; a step runs once per database, inside the migration lock. Add a
change to the schema as a new step at the end, never by editing an applied one."""

SCHEMA_VERSION = MIGRATIONS[-1][0]


def default_sqlite_path() -> Path:
    """``$EXPLORER_ROOMS_FILE``, else the per-user data directory's rooms file."""
    chosen = os.environ.get("EXPLORER_ROOMS_FILE", "").strip()
    if chosen:
        return Path(chosen).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(data_home) if data_home else Path.home() / ".local" / "share"
    return base / APP_DIR / SQLITE_NAME


def resolve_url(url: str | None = None) -> URL:
    """The database to use: ``url``, else ``$DATABASE_URL``, else the default SQLite file.
    PostgreSQL URLs are given the psycopg 3 driver; other databases are refused."""
    if url is None:
        url = os.environ.get("DATABASE_URL", "")
    url = url.strip()
    if not url:
        return URL.create("sqlite+pysqlite", database=str(default_sqlite_path()))
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("DATABASE_URL is not a database URL; expected "
                         "postgresql+psycopg://user:password@host:5432/database") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("A rooms database in SQLite needs a file (sqlite:///path/rooms.db): "
                             "in memory, every connection would see its own empty database.")
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValueError(f"DATABASE_URL names {backend!r}; rooms live in PostgreSQL "
                     "(postgresql+psycopg://...) or, without DATABASE_URL, in SQLite.")


def make_engine(url: URL) -> Engine:
    """An engine for ``url``, set up for many short transactions from many threads."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    engine = create_engine(
        url, pool_size=5, max_overflow=10, pool_timeout=10, pool_pre_ping=True,
        pool_recycle=1800, connect_args={"connect_timeout": 5},
    )
    timeout_ms = int(POSTGRES_STATEMENT_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # set once per connection, outside any transaction (the URL's own options stay)
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {timeout_ms}")
        dbapi_connection.autocommit = False

    return engine


def _sqlite_engine(url: URL) -> Engine:
    assert url.database
    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, pool_size=8, max_overflow=8, pool_timeout=10,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Transactions are begun below, not by the driver, so that writes can begin
        # IMMEDIATE (take the write lock first, wait for it under the busy timeout) instead of
        # failing with "database is locked" when a read turns into a write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def migrate(engine: Engine, clock: Callable[[], float]) -> int:
    """Create or upgrade the schema to ``SCHEMA_VERSION``; returns the version found before.
    Safe when several processes start at once against one database (see the module's text)."""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        schema_version_table.create(conn, checkfirst=True)
        found = conn.execute(select(func.max(schema_version_table.c.version))).scalar() or 0
        if found > SCHEMA_VERSION:
            log.warning("the rooms database is at schema version %d, newer than this app's %d; "
                        "using it as it is", found, SCHEMA_VERSION)
        for version, step in MIGRATIONS:
            if version > found:
                step(conn)
                conn.execute(schema_version_table.insert().values(version=version,
                                                                  applied_at=clock()))
        return int(found)


def describe(url: URL) -> str:
    """The URL without its password, for logs and messages."""
    return url.render_as_string(hide_password=True)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
