"""Sessions in one server process share the run cache and the upload store (``ui/compute``)
but nothing a person did: their upload's fingerprint, their lesson, their Cancel. Several
AppTest sessions of app.py in this process share those module-level caches as students'
sessions share them in one `streamlit run`."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer import config as cfg
from explorer import experiment, presets, tabular
from explorer.ui import compute, state, upload
from tests.apptest import APP, ok, with_settings

LESSON = "why_not_mse_bce"


def _csv(header: tuple[str, str, str], rows: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 2))
    label = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    lines = [",".join(header)] + [f"{a:.3f},{b:.3f},{c}" for (a, b), c in zip(X, label)]
    return ("\n".join(lines) + "\n").encode()


ANIMALS = _csv(("height", "weight", "animal"), 120, 1)
PLANTS = _csv(("alpha", "beta", "flower"), 90, 2)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Every test starts from empty shared caches (as a freshly started server does)."""
    compute.RUNS.clear()
    compute.UPLOADS.clear()
    st.cache_data.clear()
    yield
    compute.RUNS.clear()
    compute.UPLOADS.clear()


@pytest.fixture
def trainings(monkeypatch) -> list:
    """The configurations experiment.run trained, in order (shared by every session)."""
    calls: list = []
    original = experiment.run

    def counted(config, *args, **kwargs):
        calls.append(config)
        return original(config, *args, **kwargs)

    monkeypatch.setattr(experiment, "run", counted)
    return calls


def session(**query) -> AppTest:
    """A new browser session opening the link with this query string."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return ok(with_settings(at.run()))


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def train_chart(at: AppTest) -> dict:
    (spec,) = [s for s in charts(at) if "frames" in s and "sliders" in s["layout"]]
    return spec


def x_title(at: AppTest) -> str:
    return train_chart(at)["layout"]["xaxis"]["title"]["text"]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def lesson_banners(at: AppTest) -> list[str]:
    """Every box about a lesson: its question, its text, or "you have changed this lesson's
    settings"."""
    return [t for t in texts(at.info) if "lesson" in t.lower() or t.startswith("**Predict first")]


def rows_captions(at: AppTest) -> list[str]:
    """The upload's "N rows." captions, as shown (its Markdown escapes removed)."""
    shown = [t.replace("\\", "") for t in texts(at.sidebar.caption)]
    return [t for t in shown if t.split(" rows.")[0].isdigit()]


def upload_file(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="csv_file").set_value((name, data, "text/csv"))
    return ok(at.run())


def test_identical_scenarios_share_one_run_and_different_ones_do_not(trainings):
    a = session(epochs="40", seed="5")
    b = session(epochs="40", seed="5")
    config = cfg.DEFAULT.replace(epochs=40, seed=5)
    # legitimately shared: one training, one cached run, the same figure in both pages
    assert trainings == [config]
    assert compute.RUNS.get(compute.RunKey(config)) is not None
    assert train_chart(a) == train_chart(b)
    assert train_chart(a)["layout"]["meta"] == config.key()
    # a change in one session is that session's own run; the other keeps its own
    b.number_input(key="seed").set_value(6).run()
    ok(b)
    assert trainings == [config, config.replace(seed=6)]
    assert train_chart(b)["layout"]["meta"] == config.replace(seed=6).key()
    ok(a.run())
    assert a.session_state["seed"] == 5
    assert train_chart(a)["layout"]["meta"] == config.key()
    assert len(trainings) == 2  # a's rerun came from the cache


def _fingerprint(run: experiment.Run) -> str:
    import hashlib

    h = hashlib.sha1()
    for array in (run.model.snapshots, run.model.theta, run.data.X_train, run.data.y_train,
                  run.data.X_val, run.data.y_val):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(run.history.to_csv().encode())
    return h.hexdigest()


def test_no_view_changes_a_cached_run_that_other_sessions_are_shown():
    """Every session is handed the same Run object: drawing any view must not alter it."""
    a = session(epochs="40")
    first = train_chart(a)
    run = compute.RUNS.get(compute.RunKey(cfg.DEFAULT.replace(epochs=40)))
    before = _fingerprint(run)
    for view in state.VIEWS[1:]:
        a.radio(key=state.VIEW).set_value(view).run()
        ok(a)
        assert _fingerprint(run) == before, view
    b = session(epochs="40")
    assert compute.RUNS.get(compute.RunKey(cfg.DEFAULT.replace(epochs=40))) is run
    assert train_chart(b) == first


def test_a_lesson_stays_in_the_session_that_opened_it():
    lesson = presets.get(LESSON)
    a = session(preset=LESSON)
    b = session()
    assert a.session_state[state.ACTIVE_PRESET] == LESSON
    assert lesson_banners(a) == [f"**Predict first:** {lesson.question.text}"]
    assert train_chart(a)["layout"]["meta"] == lesson.config.key()
    assert b.session_state[state.ACTIVE_PRESET] is None
    assert lesson_banners(b) == [] and "back_to_lesson" not in [x.key for x in b.button]
    assert train_chart(b)["layout"]["meta"] == cfg.DEFAULT.key()
    assert "preset" not in b.query_params
    # b picks another lesson from its sidebar; a still shows its own, unchanged
    b.selectbox(key="preset_pick").set_value("matched_binary").run()
    ok(b)
    assert b.session_state[state.ACTIVE_PRESET] == "matched_binary"
    ok(a.run())
    assert a.session_state[state.ACTIVE_PRESET] == LESSON
    assert lesson_banners(a) == [f"**Predict first:** {lesson.question.text}"]
    assert train_chart(a)["layout"]["meta"] == lesson.config.key()


def test_a_cancel_stays_in_the_session_that_pressed_it():
    a = session(epochs="40")
    b = session(epochs="40")
    key = cfg.DEFAULT.replace(epochs=40).key()
    # what the Cancel button's callback does (state.cancel_training) in a's session
    a.session_state[state.CANCELLED] = key
    ok(a.run())
    assert any(t.startswith("**Training cancelled.**") for t in texts(a.info))
    assert charts(a) == []
    ok(b.run())
    assert state.CANCELLED not in b.session_state or b.session_state[state.CANCELLED] is None
    assert not any(t.startswith("**Training cancelled.**") for t in texts(b.info))
    assert train_chart(b)["layout"]["meta"] == key


def test_a_cancelled_training_does_not_stop_another_session_waiting_for_the_same_run():
    """Two sessions open the same new link: b waits for a's training (one training per key);
    a presses Cancel, which stops a's script inside its progress callback. b then trains the
    run itself and gets all of it."""
    cache = compute.RunCache(max_entries=4)
    run_key = compute.RunKey(cfg.DEFAULT.replace(epochs=40, seed=11))
    a_started, b_waiting = threading.Event(), threading.Event()

    class Stopped(Exception):
        """Stands for Streamlit's StopException in a's script thread."""

    def a_progress(epoch: int, epochs: int) -> None:
        a_started.set()
        assert b_waiting.wait(30)
        raise Stopped

    results: dict = {}

    def a() -> None:
        try:
            cache.get_or_train(run_key, progress=a_progress)
        except Stopped:
            results["a"] = "stopped"

    def b() -> None:
        assert a_started.wait(30)
        b_waiting.set()
        results["b"] = cache.get_or_train(run_key)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["a"] == "stopped"
    run = results["b"]
    assert run.config == run_key.config and len(run.history) == 40
    assert cache.get(run_key) is run


def test_an_upload_stays_in_the_session_that_uploaded_it(trainings):
    a = session(dataset="upload", epochs="40")
    assert charts(a) == [] and a.session_state[upload.DIGEST] is None
    upload_file(a, "animals.csv", ANIMALS)
    digest = tabular.digest(ANIMALS, ["height", "weight"], "animal", "binary", "bce")
    assert a.session_state[upload.DIGEST] == digest
    assert x_title(a) == "height (standardized)"
    assert rows_captions(a)[0].startswith("120 rows.")
    assert len(compute.UPLOADS.get(digest).X) == 120  # in the store every session shares

    # b opens a's very link: asked for the file, never shown a's rows
    b = session(dataset="upload", epochs="40")
    assert b.session_state[upload.DIGEST] is None
    assert charts(b) == [] and rows_captions(b) == []
    assert any(t.startswith("Upload a CSV file in the sidebar") for t in texts(b.info))
    assert any("a link cannot carry a file" in t for t in texts(b.warning))
    b.number_input(key="seed").set_value(3).run()  # a rerun does not find it either
    ok(b)
    assert charts(b) == [] and b.session_state[upload.DIGEST] is None

    # b's own file: b's own table and chart; a keeps its own through a new run
    upload_file(b, "plants.csv", PLANTS)
    assert b.session_state[upload.DIGEST] not in (None, digest)
    assert x_title(b) == "alpha (standardized)"
    assert rows_captions(b)[0].startswith("90 rows.")
    a.number_input(key="seed").set_value(7).run()
    ok(a)
    assert a.session_state[upload.DIGEST] == digest
    assert x_title(a) == "height (standardized)"
    assert rows_captions(a)[0].startswith("120 rows.")
    trained = len(trainings)

    # c uploads the very same bytes: the same fingerprint, so the same cached run
    c = session(dataset="upload", epochs="40", seed="7")
    upload_file(c, "copy-of-animals.csv", ANIMALS)
    assert c.session_state[upload.DIGEST] == digest
    assert train_chart(c) == train_chart(a)
    assert len(trainings) == trained


def _table(data: bytes, features: list[str], target: str) -> tabular.Table:
    import dataclasses

    table = tabular.prepare(tabular.read_csv(data), features, target, "binary", loss="bce")
    return dataclasses.replace(table, digest=tabular.digest(data, features, target, "binary",
                                                            "bce"))


def test_the_upload_store_hands_a_table_only_to_its_own_fingerprint():
    store = compute.Uploads()
    animals = _table(ANIMALS, ["height", "weight"], "animal")
    plants = _table(PLANTS, ["alpha", "beta"], "flower")
    store.put(animals)
    store.put(plants)  # the latest upload
    assert store.get(animals.digest) is animals and store.get(plants.digest) is plants
    assert store.get(animals.digest).feature_names == ("height", "weight")
    # no fingerprint, or one of other bytes or another choice of columns: nothing
    assert store.get(None) is None
    other_bytes = tabular.digest(_csv(("height", "weight", "animal"), 120, 3),
                                 ["height", "weight"], "animal", "binary", "bce")
    one_column = tabular.digest(ANIMALS, ["height"], "animal", "binary", "bce")
    assert len({animals.digest, plants.digest, other_bytes, one_column}) == 4
    assert store.get(other_bytes) is None and store.get(one_column) is None
    # the fingerprint is of the content: the same bytes and columns give the same one
    assert _table(ANIMALS, ["height", "weight"], "animal").digest == animals.digest
