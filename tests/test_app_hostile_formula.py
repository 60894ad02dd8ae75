"""A typed formula whose algebra runs away, through AppTest: its author gets one
sentence, the last valid formula keeps training, and the session never raised.

"Runs away" is made deterministic with the sandbox's test gate: the worker holds the formula
until the test releases it, then runs past the limit (no timing luck, no 90-s SymPy call)."""

import threading
import time

import pytest

from explorer import config as cfg
from explorer import sandbox
from explorer.sandbox import Outcomes, Sandbox
from tests.apptest import app, ok, specs
from tests.test_app_custom import EPOCHS, in_order, query, sidebar_text, typed

ISSUE_LINK_FORMULA = "sqrt(sqrt(sqrt(2*p))*1.5)"
RUNAWAY = "abs(p - y)**3 + 0.5*log1p(p**2)"
LIMIT = 1.0


@pytest.fixture
def runaway(tmp_path, monkeypatch):
    """``RUNAWAY`` runs past a 1-s limit in a fresh formula sandbox (its own worker, empty
    memories); the gate is released as soon as the worker holds it."""
    box = Sandbox(LIMIT, sandbox.FORMULA_MEMORY, workers=1,
                  preload=("explorer.formula", "explorer.pairing"))
    monkeypatch.setattr(sandbox, "formulas", box)
    monkeypatch.setattr(sandbox, "_worked", Outcomes())
    monkeypatch.setattr(sandbox, "_judged", Outcomes())
    gate = tmp_path / "gate"
    gate.write_text(RUNAWAY)
    monkeypatch.setenv(sandbox.GATE_VARIABLE, str(gate))

    def release_once_held():
        held = tmp_path / "gate.held"
        for _ in range(1200):
            if held.exists():
                break
            time.sleep(0.1)
        gate.unlink()

    threading.Thread(target=release_once_held, daemon=True).start()
    yield box
    box.close()


def test_the_nested_roots_link_now_trains_its_formula():
    """It froze the server for minutes; the decimal stays an opaque constant now."""
    at = ok(app(formula=ISSUE_LINK_FORMULA, loss="custom", epochs=EPOCHS))
    assert at.text_input(key="formula").value == ISSUE_LINK_FORMULA
    assert query(at, "formula") == ISSUE_LINK_FORMULA
    # no refusal: the only error box is the verdict (no y in it: degenerate, so invalid)
    errors = [e.value for e in at.sidebar.error]
    assert all(e.startswith("**Invalid by the three answers") for e in errors)
    assert not [w for w in at.main.warning if "Ignored" in w.value]
    config = cfg.DEFAULT.replace(loss="custom", epochs=int(EPOCHS), formula=ISSUE_LINK_FORMULA)
    assert specs(at)[0]["layout"]["meta"] == config.key()
    assert r"\sqrt{1.5}" in sidebar_text(at)


def test_a_link_whose_formula_runs_past_the_limit_says_so_and_trains_the_default(runaway):
    at = ok(app(formula=RUNAWAY, loss="custom", epochs=EPOCHS))
    notices = [w.value for w in (*at.main.warning, *at.sidebar.warning)
               if "Ignored formula" in w.value]
    assert len(notices) == 1 and "This formula takes too long to work out" in notices[0]
    assert "\n" not in notices[0]
    assert at.text_input(key="formula").value == cfg.Config.formula
    fallback = cfg.DEFAULT.replace(loss="custom", epochs=int(EPOCHS))
    assert specs(at)[0]["layout"]["meta"] == fallback.key()
    assert runaway.started >= 1  # the killed worker was replaced


def test_typing_a_formula_that_runs_past_the_limit_is_a_sentence_under_the_box(runaway):
    at = ok(app(loss="custom", epochs=EPOCHS))
    before = specs(at)[0]["layout"]["meta"]
    typed(at, RUNAWAY)
    assert at.text_input(key="formula").value == RUNAWAY  # what was typed stays
    elements = in_order(at.sidebar)
    box = next(i for i, e in enumerate(elements) if getattr(e, "key", None) == "formula")
    assert elements[box + 1].type == "error"
    message = elements[box + 1].value
    assert "This formula takes too long to work out" in message and "\n" not in message
    assert "Still training the last valid formula" in sidebar_text(at)
    assert specs(at)[0]["layout"]["meta"] == before  # the last valid formula keeps training
    assert query(at, "formula") == cfg.Config.formula
    # a rerun does not work it out again: the failure is remembered
    started = runaway.started
    at.run()
    ok(at)
    assert runaway.started == started
    assert "takes too long" in " ".join(e.value for e in at.sidebar.error)
