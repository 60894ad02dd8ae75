"""Turns for script runs: at most ``RUN_SLOTS`` of them work at once in this process.

A class clicking at once starts dozens of script runs. In one process they share one core's
worth of Python (the GIL), and dozens of runs taking turns every few milliseconds cost
several times the CPU of the same runs one after another (measured with 30 protocol-level
students: a new default run took 1.4 s of CPU each, all at once, against 0.35 s alone; in
turns, 0.27 s per interaction and 2.5x the throughput). Waiting costs no CPU, and a run
waits before it holds anything another run needs, so turns cannot deadlock.

A long training (one that shows a progress bar) gives its turn back (``give_back``), so one
student's 15-second run never holds up the class; it does not ask for a turn again. A run
that waits on work done elsewhere (another session's training of the same link, a formula
worked out in a separate process) waits ``aside``: without its turn, taking one again after.

``held_for`` says how long the current turn has been held: a liveness check fails when one
run holds it far longer than any bounded click may take (a wedged process).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

RUN_SLOTS = 1
_slots = threading.BoundedSemaphore(RUN_SLOTS)
_held = threading.local()
_taken_at: dict[int, float] = {}
"""Thread id -> when that thread took its turn (time.monotonic)."""
_taken_guard = threading.Lock()


def _take() -> None:
    _slots.acquire()
    _held.turn = True
    with _taken_guard:
        _taken_at[threading.get_ident()] = time.monotonic()


@contextmanager
def turn():
    """Wait for a turn, run, give it back (unless ``give_back`` did already)."""
    _take()
    try:
        yield
    finally:
        give_back()


def give_back() -> None:
    """Give this thread's turn back now, if it holds one."""
    if getattr(_held, "turn", False):
        _held.turn = False
        with _taken_guard:
            _taken_at.pop(threading.get_ident(), None)
        _slots.release()


@contextmanager
def aside():
    """Wait on work done elsewhere without holding a turn; take one again afterwards (only
    if this thread held one when it stepped aside)."""
    had = holding()
    give_back()
    try:
        yield
    finally:
        if had:
            _take()


def holding() -> bool:
    return getattr(_held, "turn", False)


def held_for() -> float:
    """Seconds the longest-held current turn has been held (0 when no run holds one)."""
    with _taken_guard:
        if not _taken_at:
            return 0.0
        return time.monotonic() - min(_taken_at.values())
