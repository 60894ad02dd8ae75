"""deploy/run-local.sh and the rooms' database for real: two replicas share one throwaway
PostgreSQL (a room made through one process is voted on through another, and both replica
processes were given the same DATABASE_URL); one replica uses SQLite; stopping the script
stops the database too."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from explorer.rooms import Rooms, RoomUnavailable
from tests.e2e.conftest import run_local, stop_run_local

pytestmark = pytest.mark.e2e



def _require(path_glob: str, package: str) -> None:
    if not list(Path("/").glob(path_glob.lstrip("/"))):
        message = f"{package} is missing: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_two_replicas_share_rooms_in_a_throwaway_postgres():
    _require("/usr/lib/postgresql/*/bin/initdb", "postgresql")
    _require("/usr/sbin/nginx", "nginx")
    env = {"DATABASE_URL": ""}  # unset: the script starts its own PostgreSQL
    proc, ready = run_local(2, env, "run-local-rooms.log")
    try:
        url = re.search(r"(?m)^DATABASE_URL=(\S+)$", ready).group(1)
        assert url.startswith("postgresql+psycopg://lfe@127.0.0.1:")
        pids = [int(pid) for pid in re.findall(r"(?m)^replica (\d+) \d+$", ready)]
        assert len(pids) == 2
        assert [_environment(pid)["DATABASE_URL"] for pid in pids] == [url, url]

        one, two = Rooms(url), Rooms(url)
        code, secret = one.create("saturation", 2)
        two.vote(code, 1, "phone-a", 1)
        one.vote(code, 1, "phone-b", 1)
        assert two.state(code).counts == (0, 2)
        assert one.reveal(code, secret, 1).outcome == 1
        one.close()
        two.close()
    finally:
        stop_run_local(proc)
    with pytest.raises(RoomUnavailable):  # the database stopped with the script
        Rooms(url)


def test_one_replica_keeps_rooms_in_sqlite(tmp_path):
    _require("/usr/sbin/nginx", "nginx")
    rooms_file = tmp_path / "rooms.sqlite3"
    proc, ready = run_local(1, {"DATABASE_URL": "", "EXPLORER_ROOMS_FILE": str(rooms_file)},
                             "run-local-rooms-sqlite.log")
    try:
        assert f"DATABASE_URL=sqlite+pysqlite:///{rooms_file}\n" in ready
        (pid,) = [int(pid) for pid in re.findall(r"(?m)^replica (\d+) \d+$", ready)]
        assert _environment(pid).get("DATABASE_URL", "") == ""
        assert "postgres" not in ready
    finally:
        stop_run_local(proc)
