"""Turns for script runs: at most ``RUN_SLOTS`` of them work at once in this process.

A class clicking at once starts dozens of script runs. In one process they share one core's
worth of Python (the GIL), and dozens of runs taking turns every few milliseconds cost
several times the CPU of the same runs one after another (measured with 30 protocol-level
students: a new default run took 1.4 s of CPU each, all at once, against 0.35 s alone; in
turns, 0.27 s per interaction and 2.5x the throughput). Waiting costs no CPU, and a run
waits before it holds anything another run needs, so turns cannot deadlock.

A long training (one that shows a progress bar) gives its turn back (``give_back``), so one
student's 15-second run never holds up the class; it does not ask for a turn again.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

RUN_SLOTS = 1
_slots = threading.BoundedSemaphore(RUN_SLOTS)
_held = threading.local()


@contextmanager
def turn():
    """Wait for a turn, run, give it back (unless ``give_back`` did already)."""
    _slots.acquire()
    _held.turn = True
    try:
        yield
    finally:
        give_back()


def give_back() -> None:
    """Give this thread's turn back now, if it holds one."""
    if getattr(_held, "turn", False):
        _held.turn = False
        _slots.release()


def holding() -> bool:
    return getattr(_held, "turn", False)
