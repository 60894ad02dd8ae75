"""Tampered links: no query string breaks the page.

``config.from_query`` is fuzzed over every key of ``config.FIELDS`` (and unknown keys):
it never raises, always returns a Config whose every field passes its own check, explains
each value it did not use, and the result round-trips through ``Config.to_query``. Then a
handful of hand-picked hostile links run through the whole app with AppTest.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from explorer import activations, datasets, losses, optimizers, presets
from explorer import config as cfg
from explorer.network import MAX_LAYERS, MAX_UNITS
from tests.apptest import with_settings

pytestmark = pytest.mark.usefixtures("formula_worker")  # links carry formulas

HOSTILE = ["", " ", "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "Infinity", "-1", "-0",
           "0", "1e-400", "5e-324", "1.7976931348623157e308", "9" * 5000, "1" + "0" * 400,
           "1.5", " 12 ", "0x10", "1_000", "１２", "٣", "true", "None", "none", "__import__",
           "__import__('os').system('id')", "<script>alert(1)</script>", "[a](http://e.x)",
           ":material/home:", "$x$", "../../etc/passwd", "x" * 10_000, "16,16",
           "64,64,64,64,64", "65", "0,0", "16,,16", "1e3", "\x00", "\u202e", "é", "中文",
           "p", "(p - y)**2", "abs(p - y)", "p**9**9**9", "log(p)", "y*log(p) - p"]


def valid_text(field: cfg.Field) -> st.SearchStrategy[str]:
    """Values the field accepts, written as a link would carry them."""
    if field.key == "problem":
        return st.sampled_from(losses.PROBLEMS)
    if field.key == "dataset":
        return st.sampled_from([*datasets.DATASETS, cfg.UPLOAD])
    if field.key == "loss":
        return st.sampled_from([*losses.LOSSES, losses.CUSTOM])
    if field.key == "output_activation":
        return st.sampled_from(list(activations.OUTPUT_ACTIVATIONS))
    if field.key == "hidden_activation":
        return st.sampled_from(list(activations.HIDDEN_ACTIVATIONS))
    if field.key == "optimizer":
        return st.sampled_from(list(optimizers.OPTIMIZERS))
    if field.key == "hidden":
        return st.lists(st.integers(1, MAX_UNITS), max_size=MAX_LAYERS).map(
            lambda sizes: ",".join(map(str, sizes)) or "none")
    if field.key == "formula":
        return st.sampled_from(["(p - y)**2", "abs(p - y)", "p - y*log(p)", "log(1 + (y - p)**2)"])
    if field.parse is int:
        return st.integers(int(field.lo), int(field.hi)).map(str)
    return st.tuples(st.floats(field.lo, field.hi), st.sampled_from(["r", "g", ".3f"])).map(
        lambda pair: repr(pair[0]) if pair[1] == "r" else format(*pair))


def value_for(field: cfg.Field) -> st.SearchStrategy:
    one = st.one_of(valid_text(field), st.sampled_from(HOSTILE), st.text(max_size=40),
                    st.floats().map(repr), st.integers(-10**30, 10**30).map(str))
    return st.one_of(one, st.lists(one, max_size=3))


@st.composite
def queries(draw) -> dict:
    keys = draw(st.lists(st.sampled_from(cfg.FIELD_KEYS), unique=True, max_size=12))
    query = {key: draw(value_for(cfg.FIELD[key])) for key in keys}
    for key in draw(st.lists(st.sampled_from(["junk", "__proto__", "", "epoch", "LOSS"]),
                             unique=True, max_size=2)):
        query[key] = draw(st.one_of(st.text(max_size=20), st.lists(st.text(max_size=5))))
    return query


def assert_valid(config: cfg.Config) -> None:
    assert isinstance(config, cfg.Config)
    for field in cfg.FIELDS:
        assert field.check(getattr(config, field.key)), (field.key, getattr(config, field.key))
    assert config.dataset == cfg.UPLOAD or config.problem in datasets.get(config.dataset).problems
    assert config.problem in losses.get(config.loss).problems
    for value in (config.lr, config.noise, config.l2, config.init_scale):
        assert math.isfinite(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries(), st.sampled_from([cfg.DEFAULT, *[p.config for p in presets.PRESETS.values()]]))
def test_any_link_gives_a_valid_config_that_round_trips(query, base):
    config, notices = cfg.from_query(query, base=base)
    assert_valid(config)
    assert all(isinstance(n, str) and n and "\n" not in n for n in notices)
    config.key()  # hashable, JSON-able
    # every setting the link carried is used, or a notice names it
    for key, raw in query.items():
        if key not in cfg.FIELD or raw in ([], None):
            continue
        if key == "formula" and config.loss != losses.CUSTOM:
            continue  # unused by design: one key per run
        text = str(raw[-1] if isinstance(raw, list) else raw)
        try:
            value = cfg.FIELD[key].parse(text)
        except ValueError:
            value = None
        if value != getattr(config, key):
            assert any(notice.startswith((f"Ignored {key}=", f"The {key} "))
                       for notice in notices), (key, raw, notices)
    # the link the app writes for it reproduces it, with nothing to explain
    assert cfg.from_query(config.to_query()) == (config, [])
    assert cfg.from_query(config.to_query(), base=base) == (config, [])


@pytest.mark.parametrize("key", cfg.FIELD_KEYS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_setting_alone_never_breaks_from_query(key, data):
    raw = data.draw(value_for(cfg.FIELD[key]))
    config, notices = cfg.from_query({key: raw})
    assert_valid(config)
    assert cfg.from_query(config.to_query()) == (config, [])


@pytest.mark.parametrize("text,expected", [
    ("0.0123456789", 0.0123456789), ("1.00001", 1.00001), ("0.25", 0.25), ("3e-05", 3e-05),
    ("0.123456789012345", 0.123456789012345),
])
def test_a_precise_number_in_a_link_round_trips_exactly(text, expected):
    config, notices = cfg.from_query({"lr": text, "noise": text if expected < 1.5 else "0.1"})
    assert config.lr == expected and notices == []
    assert cfg.from_query(config.to_query())[0].lr == expected
    assert cfg.DEFAULT.to_query()["lr"] == "0.2" and cfg.DEFAULT.to_query()["alpha"] == "0"


# ----------------------------------------------------------------------------------------
# Hostile links through the whole app


APP = str(Path(__file__).resolve().parents[1] / "app.py")
QUICK = {"n_samples": "50", "epochs": "10", "hidden": "4"}


def run_link(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {**QUICK, **query}.items():
        at.query_params[key] = value
    with_settings(at.run())
    assert not at.exception, [e.message for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    """Every alert on the page, as the reader sees it (Markdown escapes removed)."""
    alerts = [*at.warning, *at.error, *at.info]
    return " ".join(a.value for a in alerts).replace("\\", "").replace("\u2060", "")


def raw_alerts(at: AppTest) -> str:
    return " ".join(a.value for a in [*at.warning, *at.error, *at.info])


@pytest.mark.parametrize("query,phrase", [
    pytest.param({"epochs": "1e999"}, "Ignored epochs='1e999' (expected 10 to 3000); using",
                 id="epochs-overflow"),
    pytest.param({"hidden": "9999999"}, "Ignored hidden='9999999'", id="hidden-huge"),
    pytest.param({"loss": "__import__"}, "Ignored loss='__import__' (expected a loss key)",
                 id="loss-import"),
    pytest.param({"loss": "custom", "formula": "__import__('os').system('id')"},
                 "Ignored formula=", id="formula-import"),
    pytest.param({"problem": "multiclass", "loss": "poisson"},
                 "The loss 'poisson' does not serve multi-class", id="loss-for-another-problem"),
    pytest.param({"dataset": "upload"}, "a link cannot carry a file: upload it again",
                 id="upload-without-a-file"),
    pytest.param({"preset": "nonexistent"}, "Unknown preset 'nonexistent'", id="unknown-preset"),
    pytest.param({"present": "1", "view": "nonsense"}, "Unknown view 'nonsense'; showing Train",
                 id="presenting-unknown-view"),
    pytest.param({"lr": "9" * 10_000}, "Ignored lr='99999999", id="ten-kilobyte-value"),
    pytest.param({"seed": "-1", "batch_size": "-5"}, "Ignored batch_size='-5'",
                 id="negative-numbers"),
    pytest.param({"noise": "nan", "n_samples": "inf"}, "Ignored noise='nan'", id="nan-and-inf"),
    pytest.param({"threshold": ["0.3", "2"]}, "Ignored threshold='2'", id="repeated-key"),
    pytest.param({"loss": "[click](http://evil.example)"}, "Ignored loss='[click](http://evil",
                 id="markdown-link"),
    pytest.param({"view": "<script>alert(1)</script>"}, "Unknown view '<script>alert(1)</script>'",
                 id="script-view"),
    pytest.param({"epoch": "50", "__proto__": "x"}, "Ignored epoch=", id="unknown-keys"),
])
def test_a_hostile_link_is_explained_and_never_breaks_the_page(query, phrase):
    at = run_link(query)
    assert phrase in shown(at), shown(at)
    text = raw_alerts(at)
    for raw in ("[click]", "://", "<script>", "$x$"):
        assert raw not in text, text  # shown as typed, not as Markdown
