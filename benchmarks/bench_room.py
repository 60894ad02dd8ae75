"""A room in a lecture hall: N phones answer one question within a window, over Streamlit's
own protocol (``streamlit_client.py``), while a projector counts.

1. Starts its own ``streamlit run app.py`` on a free loopback port, its rooms in a fresh
   SQLite file (``DATABASE_URL``), and stops it at the end.
2. The **projector** opens a lesson in presenting mode and presses "Ask the room" (the room
   is made by its session, as in a talk), then runs the page's count fragment every
   ``--projector-poll`` seconds (the browser's ``run_every``: 1 s), noting each count.
3. ``--phones`` **phones** open ``?room=CODE`` (spread over ``--ramp`` seconds), run their
   page's polling fragment every ``--poll`` seconds as a phone's browser does, and each
   presses one answer (a run of the page) at a random moment of a ``--window``-second
   window.

It prints: how long a vote takes (press to the phone's ``script_finished``), p50/p95 of the
time from a vote to the projector's count (the k-th vote to finish is counted when the
projector first shows k or more), the server's CPU per vote (everything the server did in
the window: votes, every phone's polling, the projector), the phones' polling cost, and
errors (a failed page, a vote the phone did not show, a wrong final count: must be 0). The
final counts per answer are read from the database and compared with the votes sent.

Run by hand (not part of the tests; loopback only; bounded by ``--timeout`` per run and
``--deadline`` overall)::

    python benchmarks/bench_room.py                     # 200 phones, 10 s window
    python benchmarks/bench_room.py --phones 20 --window 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_load import cpu_seconds, own_server, percentile  # noqa: E402
from streamlit_client import Session, connect, open_page, press, run_script  # noqa: E402

COUNT = re.compile(r'class="room-count" data-count="(\d+)"')
CODE = re.compile(r'class="room-code" data-code="([A-Z0-9]+)"')
MINE = re.compile(r'class="phone-room"[^>]*data-mine="(\d*)"')


@dataclass
class Tally:
    votes: list[tuple[float, float]] = field(default_factory=list)
    """(when the vote finished, seconds it took), perf_counter time."""
    counts: list[tuple[float, int]] = field(default_factory=list)
    """(when the projector's count arrived, the count)."""
    polls: int = 0
    poll_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    """The answer each phone pressed."""


@contextlib.contextmanager
def room_server(database_url: str):
    """The app on its own port with the room's database, run as the replicas run it
    (deploy/Dockerfile: no garbage collection after each script run)."""
    with own_server({**os.environ, "DATABASE_URL": database_url},
                    ("--runner.postScriptGC", "false")) as served:
        yield served


def _fragment(session: Session) -> str:
    if len(session.auto_rerun) != 1:
        raise LookupError(f"expected one polling fragment, found {len(session.auto_rerun)}")
    return next(iter(session.auto_rerun))


async def projector(base: str, args, tally: Tally, code_box: asyncio.Future,
                    stop: asyncio.Event) -> None:
    query = f"preset={args.lesson}&present=1"
    cookie, xsrf = await asyncio.to_thread(open_page, base, query, args.timeout)
    session = Session(query=query)
    url = f"{base}/?{query}"
    async with connect(base, cookie, xsrf, args.timeout) as ws:
        reply = await run_script(ws, session, url, args.timeout)
        press(session, "room_ask")
        reply = await run_script(ws, session, url, args.timeout)
        found = CODE.search(" ".join(reply.texts))
        if reply.problem or not found:
            raise RuntimeError(f"the projector made no room: {reply.problem}")
        code_box.set_result(found.group(1))
        fragment = _fragment(session)
        while not stop.is_set():
            reply = await run_script(ws, session, url, args.timeout, fragment, auto=True)
            count = COUNT.search(" ".join(reply.texts))
            if reply.problem or not count:
                tally.errors.append(f"projector: {reply.problem or 'no count drawn'}")
            else:
                tally.counts.append((time.perf_counter(), int(count.group(1))))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.projector_poll)


async def phone(number: int, base: str, code: str, args, rng: random.Random, tally: Tally,
                loaded: asyncio.Barrier, window: dict, stop: asyncio.Event) -> None:
    query = f"room={code}"
    url = f"{base}/?{query}"
    await asyncio.sleep(rng.uniform(0, args.ramp))
    session = Session(query=query)
    answer = rng.randrange(args.choices)
    joined = False
    try:
        cookie, xsrf = await asyncio.to_thread(open_page, base, query, args.timeout)
        async with connect(base, cookie, xsrf, args.timeout) as ws:
            reply = await run_script(ws, session, url, args.timeout)
            if reply.problem:
                raise RuntimeError(reply.problem)
            fragment = _fragment(session)
            await loaded.wait()
            joined = True
            await window["go"].wait()
            vote_at = window["start"] + rng.uniform(0, args.window)
            next_poll = time.perf_counter() + rng.uniform(0, args.poll)
            voted = False
            while not stop.is_set():
                now = time.perf_counter()
                if not voted and vote_at <= min(next_poll, now + args.poll):
                    await asyncio.sleep(max(0.0, vote_at - now))
                    press(session, f"answer_1_{answer}")
                    reply = await run_script(ws, session, url, args.timeout)  # the page
                    mine = MINE.search(" ".join(reply.texts))
                    if reply.problem or not mine or mine.group(1) != str(answer):
                        raise RuntimeError(f"the vote was not shown: {reply.problem}")
                    tally.votes.append((time.perf_counter(), reply.seconds))
                    tally.sent.append(answer)
                    voted = True
                    continue
                await asyncio.sleep(max(0.0, next_poll - time.perf_counter()))
                if stop.is_set():
                    break
                reply = await run_script(ws, session, url, args.timeout, fragment, auto=True)
                next_poll += args.poll
                tally.polls += 1
                tally.poll_seconds.append(reply.seconds)
                if reply.problem:
                    raise RuntimeError(reply.problem)
    except (OSError, TimeoutError, LookupError, RuntimeError) as err:
        tally.errors.append(f"phone {number}: {type(err).__name__}: {err}")
        if not joined:
            await loaded.wait()  # a broken phone must not hold the others back


async def measure(base: str, pid: int, args) -> tuple[Tally, dict]:
    tally = Tally()
    rng = random.Random(args.rng_seed)
    stop = asyncio.Event()
    code_box: asyncio.Future = asyncio.get_running_loop().create_future()
    projector_task = asyncio.create_task(projector(base, args, tally, code_box, stop))
    code = await asyncio.wait_for(code_box, args.timeout * 3)
    loaded = asyncio.Barrier(args.phones + 1)
    window: dict = {"go": asyncio.Event()}
    phones = [asyncio.create_task(phone(i, base, code, args, random.Random(rng.random()),
                                        tally, loaded, window, stop))
              for i in range(args.phones)]
    await asyncio.wait_for(loaded.wait(), args.ramp + args.timeout * 3)
    cpu0 = cpu_seconds(pid)
    window["start"] = time.perf_counter()
    window["go"].set()
    deadline = window["start"] + args.window + args.settle
    while time.perf_counter() < deadline:
        done = len(tally.votes) + len(tally.errors)
        counted = tally.counts[-1][1] if tally.counts else 0
        if done >= args.phones and counted >= len(tally.votes):
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - window["start"]
    cpu = cpu_seconds(pid) - cpu0
    stop.set()
    await asyncio.gather(*phones, projector_task, return_exceptions=True)
    return tally, {"code": code, "cpu_s": cpu, "elapsed_s": elapsed,
                   "start": window["start"]}


def vote_to_count(tally: Tally) -> list[float]:
    """For the k-th vote to finish: seconds until the projector first showed k or more."""
    delays = []
    for k, (finished, _) in enumerate(sorted(tally.votes), start=1):
        seen = next((t for t, n in tally.counts if n >= k and t >= finished), None)
        if seen is not None:
            delays.append(seen - finished)
    return delays


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phones", type=int, default=200)
    p.add_argument("--window", type=float, default=10.0, help="seconds in which all vote")
    p.add_argument("--poll", type=float, default=1.0, help="a phone's polling period (s)")
    p.add_argument("--projector-poll", type=float, default=1.0,
                   help="the projector's count period (s; the page's own is 1 s)")
    p.add_argument("--ramp", type=float, default=10.0, help="seconds over which phones join")
    p.add_argument("--settle", type=float, default=10.0,
                   help="seconds after the window for the last count")
    p.add_argument("--timeout", type=float, default=30.0, help="per script run (s)")
    p.add_argument("--deadline", type=float, default=300.0, help="whole benchmark (s)")
    p.add_argument("--lesson", default="matched_binary")
    p.add_argument("--rng-seed", type=int, default=0)
    args = p.parse_args(argv)
    if not 1 <= args.phones <= 1000:
        p.error("--phones is 1 to 1000 (a room takes at most 1000 answers)")
    from explorer import presets

    args.choices = len(presets.get(args.lesson).question.answers)
    with tempfile.TemporaryDirectory(prefix="bench-room-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'rooms.db'}"
        with room_server(database) as (base, proc):
            tally, run = asyncio.run(asyncio.wait_for(measure(base, proc.pid, args),
                                                      args.deadline))
        from explorer.rooms import Rooms

        store = Rooms(database)
        counts = store.state(run["code"]).counts
        store.close()
    expected = tuple(tally.sent.count(i) for i in range(args.choices))
    errors = list(tally.errors)
    late = [t for t, _ in tally.votes if t - run["start"] > args.window + 1.0]
    if len(tally.votes) < args.phones:
        errors.append(f"{args.phones - len(tally.votes)} phones did not get their vote in")
    if late:
        errors.append(f"{len(late)} votes finished more than 1 s after the window")
    if counts != expected:
        errors.append(f"the room counted {counts}, the phones sent {expected}")
    shown = tally.counts[-1][1] if tally.counts else 0
    if shown != len(tally.votes):
        errors.append(f"the projector's last count was {shown}, not {len(tally.votes)}")
    delays = vote_to_count(tally)
    vote_s = [s for _, s in tally.votes]
    print(f"bench_room: {args.phones} phones, votes within {args.window:g} s, phones poll "
          f"every {args.poll:g} s, projector every {args.projector_poll:g} s, {base}")
    print(f"votes: {len(tally.votes)} of {args.phones} shown on their phones; room counts "
          f"{counts} = sent {expected}: {counts == expected}")
    if vote_s:
        print(f"vote (press to the phone's answer):  p50 {percentile(vote_s, 50):.3f} s  "
              f"p95 {percentile(vote_s, 95):.3f} s  max {max(vote_s):.3f} s")
    if delays:
        print(f"vote to the projector's count:      p50 {percentile(delays, 50):.3f} s  "
              f"p95 {percentile(delays, 95):.3f} s  max {max(delays):.3f} s  "
              f"(n={len(delays)}; includes up to {args.projector_poll:g} s of polling)")
    if tally.poll_seconds:
        print(f"phone polls: {tally.polls} in {run['elapsed_s']:.1f} s, p50 "
              f"{statistics.median(tally.poll_seconds) * 1000:.1f} ms, p95 "
              f"{percentile(tally.poll_seconds, 95) * 1000:.1f} ms")
    per_vote = run["cpu_s"] / max(1, len(tally.votes))
    per_work = run["cpu_s"] / max(1, len(tally.votes) + tally.polls)
    print(f"server CPU in the window: {run['cpu_s']:.2f} s = {per_vote * 1000:.1f} ms per vote "
          f"(polling included), {per_work * 1000:.2f} ms per script run (vote or poll)")
    print(f"errors: {len(errors)}")
    for line in errors[:10]:
        print("  " + line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
