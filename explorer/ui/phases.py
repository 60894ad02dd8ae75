"""Where a script run's CPU goes, for ``benchmarks/bench_session.py`` (off by default).

With ``EXPLORER_PHASES_FILE`` set, each script run appends one JSON line to that file: the
script thread's CPU seconds in each phase (training, frames, figures, sending charts, the
rest of the script). Without it, ``phase`` costs one dictionary lookup.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager

VARIABLE = "EXPLORER_PHASES_FILE"
_local = threading.local()
_write_guard = threading.Lock()


def enabled() -> bool:
    return bool(os.environ.get(VARIABLE))


@contextmanager
def script_run():
    """Around one script run: start the tally, and write it at the end."""
    if not enabled():
        yield
        return
    _local.tally, _local.stack = {}, []
    start = time.thread_time()
    try:
        yield
    finally:
        tally = _local.tally
        tally["script (total)"] = time.thread_time() - start
        with _write_guard, open(os.environ[VARIABLE], "a", encoding="utf-8") as out:
            out.write(json.dumps(tally) + "\n")
        _local.tally = None


@contextmanager
def phase(name: str):
    """Count the script thread's CPU inside this block as ``name`` (nested blocks count for
    the innermost one only)."""
    tally = getattr(_local, "tally", None)
    if tally is None:
        yield
        return
    stack = _local.stack
    start = time.thread_time()
    if stack:
        outer, outer_start = stack[-1]
        tally[outer] = tally.get(outer, 0.0) + start - outer_start
    stack.append((name, start))
    try:
        yield
    finally:
        end = time.thread_time()
        stack.pop()
        tally[name] = tally.get(name, 0.0) + end - start
        if stack:
            stack[-1] = (stack[-1][0], end)
