"""A throwaway PostgreSQL on loopback, from Debian's binaries (package ``postgresql``): for
the tests (``tests/conftest.py``'s ``postgres_url``) and for ``deploy/run-local.sh`` with two
or more replicas. Not for keeping data: fsync is off.

    python deploy/local_postgres.py start DIR    # prints DATABASE_URL=postgresql+psycopg://...
    python deploy/local_postgres.py stop DIR

``start`` makes a cluster in DIR/pgdata (``initdb``; trust authentication for the user
``lfe``, loopback only), starts it with ``pg_ctl`` on a free port of 127.0.0.1 with its socket
in DIR, creates the database ``rooms`` and prints its URL. Run as root (initdb refuses root),
the server runs as the ``postgres`` user through ``runuser``, and DIR is given to that user:
every directory above DIR must be open to it (``/tmp/...`` from ``mktemp -d`` is fine).
``PG_BIN`` chooses the binaries' directory (default: the newest
``/usr/lib/postgresql/*/bin``).
"""

from __future__ import annotations

import argparse
import os
import pwd
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "lfe"
DATABASE = "rooms"
SERVER_USER = "postgres"
"""The system user the server runs as when this runs as root (Debian's package makes it)."""
START_TIMEOUT_S = 60
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "300",
    "fsync": "off",  # a throwaway database: speed over durability
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def find_bin() -> Path | None:
    """The directory with Debian's ``initdb`` and ``pg_ctl``, or None when not installed."""
    chosen = os.environ.get("PG_BIN")
    candidates = [Path(chosen)] if chosen else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url_for(port: int, database: str = DATABASE) -> str:
    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{database}"


@dataclass(frozen=True)
class LocalPostgres:
    """A running throwaway server."""

    directory: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        """The URL of its database ``rooms`` (SQLAlchemy form, psycopg 3)."""
        return url_for(self.port)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database on this server (a fresh one per test); returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return url_for(self.port, name)

    def create_schema(self, name: str | None = None) -> str:
        """A new empty schema in the database ``rooms``, first on the search path of the
        returned URL: a fresh, isolated database for one test, faster to make than a real one."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname=DATABASE,
                             autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        stop(self.directory, self.bin)


def start(directory: Path | str, bin: Path | None = None) -> LocalPostgres:
    """Make a cluster in ``directory``/pgdata, start it on a free loopback port, create the
    database ``rooms``. RuntimeError with the server's words if any step fails."""
    bin = bin or find_bin()
    if bin is None:
        raise RuntimeError("PostgreSQL's binaries are missing: apt-get install postgresql")
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        server = pwd.getpwnam(SERVER_USER)
        os.chown(directory, server.pw_uid, server.pw_gid)
    directory.chmod(0o700)
    data = directory / "pgdata"
    if not (data / "PG_VERSION").exists():
        _run([str(bin / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
              "--no-locale", "--no-sync"])
    last_error: Exception | None = None
    for _ in range(3):  # a free port can be taken between the check and the server's bind
        port = _free_port()
        options = " ".join([f"-p {port}", f"-k {directory}"]
                           + [f"-c {key}={value}" for key, value in SETTINGS.items()])
        try:
            _run([str(bin / "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT_S), "-D", str(data),
                  "-l", str(directory / "postgres.log"), "-o", options])
        except RuntimeError as error:
            last_error = error
            continue
        server_ = LocalPostgres(directory=directory, port=port, bin=bin)
        server_.create_database(DATABASE)
        return server_
    log = directory / "postgres.log"
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"PostgreSQL did not start: {last_error}\n{tail}")


def stop(directory: Path | str, bin: Path | None = None) -> None:
    """Stop the server of ``directory`` (fast shutdown); nothing if it is not running."""
    bin = bin or find_bin()
    data = Path(directory).resolve() / "pgdata"
    if bin is None or not (data / "postmaster.pid").exists():
        return
    _run([str(bin / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            print(f"DATABASE_URL={start(args.directory).url}", flush=True)
        else:
            stop(args.directory)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

