"""Work a link or a text box can make expensive, run where a runaway can be stopped.

A ``Sandbox`` runs a picklable function in a worker process (the "spawn" start method: the
server has threads, and a forked copy of them can deadlock) with a hard time limit and a
memory cap. The limit counts the worker's CPU seconds, so a class loading the machine does
not make a normal formula "too long"; a wall-clock backstop (``wall_seconds``, 4 times the
limit by default) stops a call that waits instead of computing. Past either, the worker is
killed, the caller gets ``Stopped`` with one sentence, and a fresh worker starts at once in
the background, so the next call finds one ready. Workers are kept warm between calls and
import their modules once, when they start (``preload``): a normal call costs a round trip
through a pipe, not an interpreter.

``Outcomes`` remembers what came back by key, failures included, so a text that failed is not
worked out again by every rerun, and two sessions asking for the same key at once share one
computation.

While a caller waits, it holds nothing another session needs: ``waiting`` is a context
manager factory the app replaces with its own (``explorer.ui.turns.aside``: give the script
turn back while the worker works). This module does not import Streamlit.

Test gate: when the environment variable ``EXPLORER_SANDBOX_GATE`` names a file, a call whose
key equals that file's text is held (its worker sleeps, and its time limit does not run) for
as long as the file exists, then spins past its limit; while held, the worker writes its pid
to the file's name + ".held". A browser test uses it to keep one session's formula "still
working" while it checks that another session is served, deterministically.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import resource
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

LIMIT_VARIABLE = "EXPLORER_SANDBOX_SECONDS"
GATE_VARIABLE = "EXPLORER_SANDBOX_GATE"
START_SECONDS = 60.0
"""How long a new worker may take to start and import its modules (not the call's limit)."""
POLL_SECONDS = 0.05
WALL_FACTOR = 4.0
"""A call's wall-clock backstop, in multiples of its CPU limit."""


class Stopped(Exception):
    """A call the sandbox stopped: ``reason`` is "time", "memory" or "crash"."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


waiting: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
"""How a caller waits on a worker: the app sets ``explorer.ui.turns.aside``."""


def seconds_from_environment(default: float) -> float:
    """``EXPLORER_SANDBOX_SECONDS`` as a positive number of seconds, else ``default``."""
    try:
        value = float(os.environ.get(LIMIT_VARIABLE, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def _gate_holds(path: str | None, key: Hashable) -> bool:
    """Whether the test gate at ``path`` is closed for this key (see the module docstring)."""
    if not path:
        return False
    try:
        with open(path, encoding="utf-8") as gate:
            return gate.read() == str(key)
    except OSError:
        return False


def _hold(gate: str | None, key: Hashable) -> None:
    """In a worker: wait while the gate holds this key, then run past any limit."""
    if gate and _gate_holds(gate, key):
        with open(gate + ".held", "w", encoding="ascii") as held:
            held.write(str(os.getpid()))
        while _gate_holds(gate, key):
            time.sleep(POLL_SECONDS)
        while True:  # a runaway computation: CPU time, until the limit stops it
            pass


def _serve(connection, memory_bytes: int, preload: tuple[str, ...]) -> None:
    """A worker's loop: import once, cap the address space, then run calls until EOF."""
    for name in preload:
        importlib.import_module(name)
    if memory_bytes > 0:
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    connection.send(("ready", None))
    while True:
        try:
            gate, key, function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            _hold(gate, key)
            reply: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            reply = ("memory", None)
        except Exception as error:  # the caller gets it back; the worker stays
            reply = ("error", error)
        try:
            connection.send(reply)
        except MemoryError:
            connection.send(("memory", None))
        except Exception as error:  # an unpicklable result or exception
            connection.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used (Linux /proc), None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux), 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Worker:
    """One worker process and its end of the pipe."""

    def __init__(self, context, memory_bytes: int, preload: tuple[str, ...]):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, memory_bytes, preload),
                                       daemon=True, name="explorer-sandbox")
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        if not self.ready:
            try:
                if self.connection.poll(START_SECONDS):
                    self.ready = self.connection.recv()[0] == "ready"
            except (EOFError, OSError):
                self.ready = False
        return self.ready

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.connection.close()


class Sandbox:
    """Up to ``workers`` warm worker processes; ``run`` one call at a time on each."""

    def __init__(self, limit_seconds: float, memory_bytes: int, workers: int = 1,
                 preload: tuple[str, ...] = (), wall_seconds: float | None = None):
        self.limit_seconds = limit_seconds
        """CPU seconds a call may use."""
        self.wall_seconds = wall_seconds
        """Seconds a call may last (None: ``WALL_FACTOR`` times ``limit_seconds``)."""
        self.memory_bytes = memory_bytes
        self.workers = workers
        self.preload = preload
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._count = 0
        self._changed = threading.Condition()
        self.started = 0
        """Workers started so far (a test reads it: a killed worker is replaced)."""

    def run(self, function: Callable[..., Any], *args, key: Hashable = None) -> Any:
        """``function(*args)`` in a worker; its exception re-raised here, or ``Stopped``."""
        with waiting():
            worker = self._take()
            kind, value = "crash", None
            try:
                kind, value = self._call(worker, function, args, key)
            finally:
                self._give_back(worker, kind in ("ok", "error"))
        if kind == "error":
            raise value
        return value

    def warm(self) -> None:
        """Start a worker now, if none is idle, so the first call does not wait for one."""
        with self._changed:
            if self._idle or self._count >= self.workers:
                return
            self._count += 1
        self._start_in_background()

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their call ends)."""
        with self._changed:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()

    def _call(self, worker: _Worker, function, args, key) -> tuple[str, Any]:
        """("ok", result) or ("error", the exception the function raised); Stopped when
        the worker had to be given up."""
        if not worker.wait_ready():
            raise Stopped("crash", "the worker process did not start")
        try:
            gate = os.environ.get(GATE_VARIABLE) or None
            wall = self.wall_seconds or WALL_FACTOR * self.limit_seconds
            pid = worker.process.pid
            worker.connection.send((gate, key, function, args))
            deadline, cpu_start = time.monotonic() + wall, _cpu_seconds(pid)
            while not worker.connection.poll(POLL_SECONDS):
                cpu = _cpu_seconds(pid)
                if _gate_holds(gate, key):
                    deadline, cpu_start = time.monotonic() + wall, cpu
                elif (cpu is not None and cpu_start is not None
                      and cpu - cpu_start > self.limit_seconds):
                    raise Stopped("time", f"it took more than {self.limit_seconds:g} s")
                elif time.monotonic() > deadline:
                    raise Stopped("time", f"it took more than {wall:g} s")
                if not worker.process.is_alive() and not worker.connection.poll():
                    raise Stopped("crash", "the worker process stopped")
            kind, value = worker.connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = worker.process.exitcode
            raise Stopped("crash", f"the worker process stopped (exit code {code})") from None
        if kind == "memory":
            raise Stopped("memory", f"it needed more than {self.memory_bytes >> 20} MB")
        return kind, value

    def _take(self) -> _Worker:
        with self._changed:
            while True:
                while self._idle and not self._idle[-1].process.is_alive():
                    self._idle.pop().kill()  # died while idle (e.g. the OOM killer)
                    self._count -= 1
                if self._idle:
                    return self._idle.pop()
                if self._count < self.workers:
                    self._count += 1
                    break
                self._changed.wait()
        try:
            return self._new_worker()
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._context, self.memory_bytes, self.preload)
        self.started += 1
        return worker

    def _give_back(self, worker: _Worker, alive: bool) -> None:
        if alive:
            with self._changed:
                self._idle.append(worker)
                self._changed.notify()
            return
        worker.kill()
        self._start_in_background()

    def _start_in_background(self) -> None:
        """A fresh worker (counted already) that joins the idle ones when it is ready."""
        def start() -> None:
            try:
                worker = self._new_worker()
            except Exception:
                with self._changed:
                    self._count -= 1
                    self._changed.notify()
                return
            ready = worker.wait_ready()
            with self._changed:
                if ready:
                    self._idle.append(worker)
                else:
                    self._count -= 1
                self._changed.notify()
            if not ready:
                worker.kill()

        threading.Thread(target=start, daemon=True, name="explorer-sandbox-start").start()


class Outcomes:
    """What calls returned or raised, by key (the newest ``size``), each computed once even
    when several threads ask at once."""

    def __init__(self, size: int = 512):
        self.size = size
        self._done: OrderedDict[Hashable, tuple[bool, Any]] = OrderedDict()
        self._running: dict[Hashable, threading.Event] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The remembered outcome of ``key`` (a value, or its exception raised again)."""
        while True:
            with self._guard:
                if key in self._done:
                    self._done.move_to_end(key)
                    ok, value = self._done[key]
                    break
                event = self._running.get(key)
                if event is None:
                    event = self._running[key] = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                with waiting():
                    event.wait()
                continue
            try:
                ok, value = True, compute()
            except Exception as error:
                ok, value = False, error
            with self._guard:
                self._done[key] = (ok, value)
                while len(self._done) > self.size:
                    self._done.popitem(last=False)
                del self._running[key]
            event.set()
            break
        if ok:
            return value
        raise value.with_traceback(None)

    def known(self, key: Hashable) -> bool:
        with self._guard:
            return key in self._done

    def clear(self) -> None:
        with self._guard:
            self._done.clear()

    def __iter__(self) -> Iterator[Hashable]:
        with self._guard:
            return iter(list(self._done))


# ----------------------------------------------------------------------------------------
# Typed formulas: parsed, differentiated, compiled and judged in a worker

FORMULA_SECONDS = 3.0
"""A typed formula's work (parse, differentiate, compile; judge) past this is stopped
(``EXPLORER_SANDBOX_SECONDS`` overrides it). Normal formulas take 0.01–0.2 s."""
FORMULA_MEMORY = 256 << 20
"""Memory a formula's work may add to a worker's address space (a worker itself is about 140
MB resident: a formula click costs the server at most about 400 MB, once)."""
FORMULA_WORKERS = 2
TOO_LONG = ("This formula takes too long to work out (more than {seconds:g} s): write it more "
            "simply, with fewer nested roots and powers")
TOO_BIG = "This formula needs too much memory to work out: write it more simply"
BROKE = "This formula stopped the process working it out: write it more simply"

formulas = Sandbox(seconds_from_environment(FORMULA_SECONDS), FORMULA_MEMORY,
                   workers=FORMULA_WORKERS, preload=("explorer.formula", "explorer.pairing"))
_worked = Outcomes()
_judged = Outcomes()


def formula_loss(text: str):
    """The ``formula.CustomLoss`` of a typed text, worked out in a worker (the examples and
    the default formula in this process); ``formula.FormulaError`` with one line otherwise,
    also when the work runs past the limit. Outcomes are remembered by text, failures too."""
    from explorer import formula

    text = formula.normalise(text)
    if text in formula.TRUSTED:
        return formula.parse(text)
    worked = _worked.get(text, lambda: _in_worker(formula.work_out, text, key=text))
    return formula.known(text) or formula.rebuild(worked)


def formula_verdict(problem: str, activation: str, text: str):
    """``pairing.formula_pairing`` of a typed text, judged in a worker; FormulaError as
    ``formula_loss``."""
    from explorer import pairing

    text = formula_loss(text).text
    return _judged.get((problem, activation, text), lambda: _in_worker(
        pairing.formula_pairing, problem, activation, text, key=text))


def _in_worker(function, *args, key: str):
    from explorer import formula

    try:
        return formulas.run(function, *args, key=key)
    except Stopped as stopped:
        sentence = {"time": TOO_LONG.format(seconds=formulas.limit_seconds),
                    "memory": TOO_BIG}.get(stopped.reason, BROKE)
        raise formula.FormulaError(sentence) from None
