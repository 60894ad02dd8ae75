"""The sandbox: work in a worker process, stopped at a time limit and a memory cap, its
outcomes remembered; and typed formulas worked out through it."""

import contextlib
import os
import threading
import time

import pytest

from explorer import formula, sandbox
from explorer.sandbox import Outcomes, Sandbox, Stopped

LIMIT = 1.0


def sleep_forever() -> None:
    while True:
        time.sleep(1)


def spin_forever() -> None:
    while True:
        pass


def hog_memory() -> int:
    return len(bytearray(2 << 30))  # 2 GiB, far above the cap


def square(x: float) -> float:
    return x * x


def refuse(text: str) -> None:
    raise ValueError(f"no: {text}")


def die() -> None:
    os._exit(3)


def pid() -> int:
    return os.getpid()


@pytest.fixture(scope="module")
def box():
    # the worker imports this module (its functions) when it starts, not within a call
    # a wall-clock backstop far off: the CPU limit stops a runaway, however loaded the machine
    sandbox_ = Sandbox(LIMIT, 256 << 20, workers=1, preload=(__name__,), wall_seconds=600)
    yield sandbox_
    sandbox_.close()


def test_a_call_runs_in_another_process_and_the_worker_stays_warm(box):
    assert box.run(square, 3.0) == 9.0
    first = box.run(pid)
    assert first != os.getpid()
    assert box.run(pid) == first  # the same warm worker, not a new process per call


def test_a_call_that_never_ends_is_killed_at_the_limit_and_the_next_call_works(box):
    before = box.run(pid)
    with pytest.raises(Stopped) as stopped:
        box.run(spin_forever)
    assert stopped.value.reason == "time" and f"{LIMIT:g} s" in str(stopped.value)
    assert box.run(square, 4.0) == 16.0
    after = box.run(pid)
    assert after != before  # the runaway's worker was killed, a fresh one took over
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)


def test_a_call_that_waits_instead_of_computing_is_stopped_by_the_wall_clock(box,
                                                                           monkeypatch):
    monkeypatch.setattr(box, "wall_seconds", 2.0)
    with pytest.raises(Stopped) as stopped:
        box.run(sleep_forever)  # no CPU time: the wall-clock backstop stops it
    assert stopped.value.reason == "time" and "2 s" in str(stopped.value)
    assert box.run(square, 4.0) == 16.0


def test_a_memory_hog_is_stopped_and_the_next_call_works(box):
    with pytest.raises(Stopped) as stopped:
        box.run(hog_memory)
    assert stopped.value.reason == "memory"
    assert box.run(square, 5.0) == 25.0


def test_an_exception_comes_back_as_itself_and_keeps_the_worker(box):
    before = box.run(pid)
    with pytest.raises(ValueError, match="no: x"):
        box.run(refuse, "x")
    assert box.run(pid) == before


def test_a_worker_that_dies_is_a_stopped_call_not_a_hang(box):
    with pytest.raises(Stopped) as stopped:
        box.run(die)
    assert stopped.value.reason == "crash"
    assert box.run(square, 2.0) == 4.0


def test_a_worker_that_died_while_idle_is_replaced_before_a_call(box):
    box.run(pid)
    (idle,) = box._idle
    os.kill(idle.process.pid, 9)
    idle.process.join(30)  # dead now; the next call must not be given it
    assert box.run(square, 6.0) == 36.0


def test_the_caller_waits_through_the_waiting_hook(box, monkeypatch):
    """The app steps aside (gives its script turn back) while a worker works."""
    entered = []

    @contextlib.contextmanager
    def aside():
        entered.append(True)
        yield

    monkeypatch.setattr(sandbox, "waiting", aside)
    box.run(square, 1.0)
    assert entered == [True]


def test_a_gated_call_is_held_past_its_limit_until_released_then_stopped(box, tmp_path,
                                                                         monkeypatch):
    gate = tmp_path / "gate"
    gate.write_text("held")
    monkeypatch.setenv(sandbox.GATE_VARIABLE, str(gate))
    outcome: list = []

    def call():
        try:
            box.run(square, 3.0, key="held")
        except Stopped as stopped:
            outcome.append(stopped.reason)

    caller = threading.Thread(target=call)
    caller.start()
    held = tmp_path / "gate.held"
    for _ in range(600):  # the worker says when it holds (bounded: 60 s)
        if held.exists():
            break
        time.sleep(0.1)
    assert held.exists()
    caller.join(2 * LIMIT)  # twice the limit passes: still held, not stopped
    assert caller.is_alive() and outcome == []
    gate.unlink()
    caller.join(60)
    assert outcome == ["time"]
    assert box.run(square, 3.0, key="held") == 9.0  # the gate is open now


def test_outcomes_remember_values_and_failures_by_key():
    outcomes = Outcomes(size=2)
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            if value < 0:
                raise formula.FormulaError(f"negative {value}")
            return value
        return run

    assert outcomes.get("a", compute(1)) == 1
    assert outcomes.get("a", compute(99)) == 1
    for _ in range(2):
        with pytest.raises(formula.FormulaError, match="negative -1"):
            outcomes.get("b", compute(-1))
    assert calls == [1, -1]  # a failure is not worked out again either
    outcomes.get("c", compute(3))
    assert not outcomes.known("a")  # the oldest went
    assert outcomes.get("a", compute(7)) == 7


def test_outcomes_compute_once_for_threads_asking_at_once():
    outcomes = Outcomes()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        release.wait(30)
        return "done"

    results = []
    threads = [threading.Thread(target=lambda: results.append(outcomes.get("k", slow)))
               for _ in range(4)]
    threads[0].start()
    started.wait(30)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(30)
    assert results == ["done"] * 4 and calls == [1]


# ----------------------------------------------------------------------------------------
# Typed formulas through the sandbox


@pytest.fixture
def fresh_formulas(monkeypatch):
    """The formula functions with empty memories and a worker of their own."""
    box = Sandbox(sandbox.FORMULA_SECONDS, sandbox.FORMULA_MEMORY, workers=1,
                  preload=("explorer.formula", "explorer.pairing"))
    monkeypatch.setattr(sandbox, "formulas", box)
    monkeypatch.setattr(sandbox, "_worked", Outcomes())
    monkeypatch.setattr(sandbox, "_judged", Outcomes())
    yield box
    box.close()


def test_a_formula_is_worked_out_in_the_worker_and_rebuilt_here_without_sympy(
        fresh_formulas, monkeypatch):
    text = "log(1 + (y - p)**2) + 0.25*abs(p)"
    loss = sandbox.formula_loss(text)
    assert loss.expression is None  # rebuilt from plain programs: no SymPy objects here
    local = formula._parse(text)
    assert (loss.formula, loss.grad_formula) == (local.formula, local.grad_formula)
    import numpy as np
    y, p = np.array([[0.0], [1.0], [3.0]]), np.array([[0.5], [-2.0], [3.5]])
    for got, want in zip(loss._elements(y, p), local._elements(y, p)):
        np.testing.assert_array_equal(got, want)

    def no_sympy(*args, **kwargs):
        raise AssertionError("SymPy worked in the main process")

    monkeypatch.setattr(formula, "_parse", no_sympy)
    assert formula.parse(text) is loss  # the loss the app trains with: the rebuilt one
    assert sandbox.formula_loss(text) is loss


def test_a_formula_past_the_limit_is_one_sentence_remembered(fresh_formulas, tmp_path,
                                                             monkeypatch):
    text = "abs(p - y)**3"
    gate = tmp_path / "gate"
    gate.write_text(text)
    monkeypatch.setenv(sandbox.GATE_VARIABLE, str(gate))
    fresh_formulas.limit_seconds = LIMIT
    held = tmp_path / "gate.held"

    def release_once_held():  # hold the call, then let it run past the limit
        for _ in range(600):
            if held.exists():
                break
            time.sleep(0.1)
        gate.unlink()

    threading.Thread(target=release_once_held, daemon=True).start()
    with pytest.raises(formula.FormulaError) as refused:
        sandbox.formula_loss(text)
    message = str(refused.value)
    assert message.startswith("This formula takes too long to work out")
    assert "\n" not in message
    gate.write_text(text)  # the gate would hold it again: a remembered failure never asks
    with pytest.raises(formula.FormulaError, match="too long"):
        sandbox.formula_loss(text)
    assert held.read_text() != str(os.getpid())  # it was held in a worker, not here


def test_a_formula_is_judged_in_the_worker(fresh_formulas):
    verdict = sandbox.formula_verdict("binary", "sigmoid", "-y*log(p)")
    assert verdict.verdict == "invalid" and verdict.answers is not None  # degenerate
    assert sandbox._judged.known(("binary", "sigmoid", "-y*log(p)"))


def test_the_app_s_own_formulas_need_no_worker(fresh_formulas):
    for text in formula.TRUSTED:
        sandbox.formula_loss(text)
    assert fresh_formulas.started == 0
