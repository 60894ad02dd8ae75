"""Hostile uploads through the whole app (AppTest drives the sidebar's file uploader): the
sidebar explains in one sentence, the main area repeats it, nothing raises, names from the
file are shown as typed, and the person's settings survive a bad file."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer import tabular
from explorer.datasets import MAX_CLASSES
from tests.apptest import APP, ok, with_settings

TIMEOUT = 120


def upload(data: bytes, name: str = "data.csv", **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"dataset": "upload", "epochs": "10", **query}.items():
        at.query_params[key] = value
    ok(with_settings(at.run()))
    return send(at, data, name)


def send(at: AppTest, data: bytes, name: str = "data.csv") -> AppTest:
    at.file_uploader(key="csv_file").set_value((name, data, "text/csv"))
    return ok(at.run())


def csv(header: str, n: int, row) -> bytes:
    return (header + "\n" + "\n".join(row(i) for i in range(n))).encode()


def sidebar_errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.sidebar.error)


def main_warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.main.warning)


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


RNG = np.random.default_rng(4)
GOOD = csv("height,weight,animal", 120, lambda i: f"{RNG.normal():.3f},{RNG.normal():.3f},"
                                                  f"{'dog' if i % 2 else 'cat'}")


@pytest.mark.parametrize("data,query,title,phrase", [
    pytest.param(b"\x00\x01\x02\x03 not a csv \xff" * 50, {}, "This file cannot be used.",
                 "not text but binary data", id="binary"),
    pytest.param(xlsx(), {}, "This file cannot be used.", "Excel workbook, not a CSV file",
                 id="xlsx"),
    pytest.param(csv("a,b,c", 30, lambda i: f"{i},{i % 3},{i % 2}" + (",9" if i == 5 else "")),
                 {}, "This file cannot be used.", "line 7 has 4 values but the header row "
                 "names 3 columns", id="ragged"),
    pytest.param(csv("x,z,kind", 3000, lambda i: f"{i},{i % 7},k{i}"),
                 {"problem": "multiclass"}, "Cannot train on this choice.",
                 f"has 3000 distinct values, more than the {MAX_CLASSES} classes",
                 id="thousands-of-classes"),
    pytest.param(csv("x,y", 40, lambda i: f"{'inf' if i % 2 else i},{i % 2}"), {},
                 "Cannot train on this choice.", "The feature “x” cannot be used: 20 of its 40 "
                 "filled cells are infinite", id="mostly-infinite"),
])
def test_a_hostile_file_is_explained_in_the_sidebar_and_repeated_in_the_page(data, query,
                                                                             title, phrase):
    at = upload(data, **query)
    message = sidebar_errors(at)
    assert message.startswith(f"**{title}**")
    shown = message.replace("\\", "")  # the Markdown escapes, as the reader sees them
    assert phrase in shown, message
    assert phrase in main_warnings(at).replace("\\", "")
    assert charts(at) == 0


NAMES = ["<script>alert(1)</script>", "**bold** [click](http://e.x)", "$x$ :red[y]"]


def test_html_and_markdown_names_are_options_as_typed_and_escaped_in_messages():
    header = ",".join(f'"{name}"' for name in NAMES)
    at = upload(csv(header, 3000, lambda i: f"{i},{i % 7},k{i}"), problem="binary")
    (features,) = at.sidebar.multiselect
    assert features.options == NAMES[:2] and features.value == NAMES[:2]
    (target,) = [box for box in at.sidebar.selectbox if box.label == "Target column"]
    assert target.options == NAMES and target.value == NAMES[2]
    message = sidebar_errors(at)
    assert "“$x$ :red[y]” has 3000" in message.replace("\\", "")
    for raw in ("$x$", ":red[", "**bold**", "[click]", "http://"):
        assert raw not in message and raw not in main_warnings(at)
    assert tabular.literal("“$x$ :red[y]”") in message


def test_a_column_of_mostly_infinite_values_is_not_offered_as_a_feature():
    at = upload(csv("x,z,label", 40, lambda i: f"{'inf' if i % 2 else i},{i},{i % 2}"))
    (features,) = at.sidebar.multiselect
    assert features.options == ["z", "label"] and features.value == ["z"]
    assert not at.sidebar.error and charts(at) == 1


def test_odd_but_usable_files_train_with_a_note():
    rows = [f"{(1e308 if i % 2 else -1e308) if i != 7 else 'inf'},{i * 0.5},"
            f"{'**no**' if i % 3 else '$yes$'}" for i in range(60)]
    data = "\r\n".join(["big,small,<b>answer</b>", *rows]).encode("utf-16")
    at = upload(data)
    assert not at.sidebar.error and charts(at) == 1
    caption = " ".join(c.value for c in at.sidebar.caption)
    shown = caption.replace("\\", "")
    assert "59 rows." in shown and "Dropped 1 row with infinite values" in shown
    assert "Classes: 0 = $yes$, 1 = **no**." in shown  # the labels as typed
    assert "**no**" not in caption and "$yes$" not in caption


def test_a_bad_file_keeps_the_settings_and_the_good_file_trains_again():
    at = upload(GOOD, loss="mse", seed="7", hidden="8")
    assert charts(at) == 1 and not at.sidebar.error
    settings = {k: at.session_state[k] for k in ("problem", "loss", "seed", "hidden", "epochs")}
    send(at, b"\x00binary\x00" * 40, "broken.csv")
    assert "binary data" in sidebar_errors(at) and charts(at) == 0
    assert {k: at.session_state[k] for k in settings} == settings
    assert at.session_state["dataset"] == "upload"
    send(at, GOOD)
    assert charts(at) == 1 and not at.sidebar.error
    assert {k: at.session_state[k] for k in settings} == settings


def test_an_unexpected_error_in_reading_is_explained_and_logged_not_shown(monkeypatch, caplog):
    from explorer.ui import upload as upload_ui

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(tabular, "prepare", broken)
    at = upload(GOOD + b"\n")  # bytes no other test reads (the reader is cached)
    assert "Cannot train on this choice." in sidebar_errors(at)
    assert "because of an error on its side" in sidebar_errors(at).replace("\\", "")
    assert "a bug" not in sidebar_errors(at) + main_warnings(at)
    assert upload_ui.UNEXPECTED in at.session_state[upload_ui.PROBLEM]
    assert "preparing an uploaded file failed" in caplog.text


def test_a_guessed_encoding_is_noted_under_the_pickers():
    data = "temp,état\n" + "\n".join(f"{i},{'oui' if i % 2 else 'non'}" for i in range(30))
    at = upload(data.encode("cp1252"))
    (features,) = at.sidebar.multiselect
    assert features.options == ["temp"] and charts(at) == 1
    caption = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert "not UTF-8, so it was read as Windows-1252" in caption  # survives the reader cache


def test_a_rerun_with_the_same_file_and_columns_does_no_table_work(monkeypatch):
    """Reading, examining and preparing a file happen once per file and choice (a wide file
    cost seconds of the process's only turn on every rerun); a new choice prepares once."""
    calls: dict[str, int] = {}

    def spy(name):
        real = getattr(tabular, name)

        def counted(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return real(*args, **kwargs)

        monkeypatch.setattr(tabular, name, counted)

    for name in ("read_csv", "numeric_columns", "prepare"):
        spy(name)
    rng = np.random.default_rng(16)  # bytes no other test uploads (the caches are shared)
    data = csv("a,b,c,d,label", 80, lambda i: ",".join(f"{v:.4f}" for v in rng.normal(size=4))
               + f",{'yes' if i % 2 else 'no'}")
    at = upload(data, problem="binary")
    assert charts(at) == 1 and not at.sidebar.error
    assert calls["read_csv"] == 1 and calls["prepare"] == 1 and calls["numeric_columns"] >= 1
    after_upload = dict(calls)

    ok(at.run())  # a rerun as such
    at.number_input(key="seed").set_value(8)
    ok(at.run())  # a new training on the same file and columns
    assert charts(at) == 1 and at.session_state["seed"] == 8
    assert calls == after_upload

    (features,) = at.sidebar.multiselect
    features.set_value(["c"])
    ok(at.run())  # a new choice is prepared once, from the file already read
    assert calls["prepare"] == 2 and calls["read_csv"] == 1
    features.set_value(["a", "b"])
    ok(at.run())  # and the first choice again costs nothing
    assert calls["prepare"] == 2 and charts(at) == 1


def test_a_refused_choice_is_not_prepared_again_on_a_rerun(monkeypatch):
    prepared = []
    real = tabular.prepare
    monkeypatch.setattr(tabular, "prepare", lambda *a, **k: prepared.append(1) or real(*a, **k))
    data = csv("x,z,kind", 60, lambda i: f"{i},{i % 7},k{i % 3}") + b"\n\n"  # unique bytes
    at = upload(data, problem="regression")
    assert "is not numeric, but regression needs numbers" in sidebar_errors(at).replace("\\", "")
    ok(at.run())
    assert "is not numeric" in sidebar_errors(at).replace("\\", "") and len(prepared) == 1
