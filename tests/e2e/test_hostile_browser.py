"""Hostile uploads in real Chromium: what a student sees in the sidebar, as typed, and no
exception on the page (AppTest checks the Markdown source; this checks what it renders)."""

import re

import numpy as np
import pytest

from tests.e2e.helpers import CHART, no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

SIDEBAR = "[data-testid='stSidebar']"


def _upload(page, path) -> None:
    page.locator(f"{SIDEBAR} input[type='file']").set_input_files(str(path))


def _open(page, server, query: str) -> list[str]:
    """Open the upload page; return the list the page's dialogs (alert()) are recorded in."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server}/?dataset=upload&epochs=10&{query}")
    page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
    return dialogs


def _alert(page, phrase: str) -> str:
    """The text of the sidebar alert that shows ``phrase`` (waits for it)."""
    alert = page.locator(f"{SIDEBAR} [data-testid='stAlert']").filter(has_text=phrase).first
    alert.wait_for()
    return alert.inner_text()


def _csv(header: str, n: int, row) -> bytes:
    return (header + "\n" + "\n".join(row(i) for i in range(n))).encode()


@pytest.mark.parametrize("data,query,phrase", [
    pytest.param(b"\x00\x01\x02 not a csv \xff" * 40, "", "The file is not text but binary "
                 "data; save the table as CSV", id="binary"),
    pytest.param(_csv("a,b,c", 30, lambda i: f"{i},{i % 3},{i % 2}" + (",9" if i == 5 else "")),
                 "", "line 7 has 4 values but the header row names 3 columns", id="ragged"),
    pytest.param(_csv("x,z,kind", 3000, lambda i: f"{i},{i % 7},k{i}"), "problem=multiclass",
                 "has 3000 distinct values, more than the 10 classes", id="thousands-of-classes"),
])
def test_a_hostile_file_is_explained_in_one_sentence(server, page, artifacts, tmp_path, data,
                                                     query, phrase):
    path = tmp_path / "hostile.csv"
    path.write_bytes(data)
    _open(page, server, query)
    _upload(page, path)
    assert phrase in _alert(page, phrase)
    page.locator("[data-testid='stMain']").get_by_text(phrase).first.wait_for()
    no_exception(page)
    assert page.locator(CHART).count() == 0


def test_numbers_near_the_largest_float_and_inf_train_with_a_note(server, page, tmp_path):
    rng = np.random.default_rng(2)
    rows = ["size,weight,animal"]
    rows += [f"{'inf' if i == 3 else f'{rng.choice([-1, 1]) * 1e308:g}'},{rng.normal():.3f},"
             f"{'dog' if i % 2 else 'cat'}" for i in range(80)]
    path = tmp_path / "huge.csv"
    path.write_bytes("\r\n".join(rows).encode("utf-16"))
    _open(page, server, "")
    _upload(page, path)
    wait_idle(page)
    no_exception(page)
    sidebar = page.locator(SIDEBAR)
    assert sidebar.get_by_text(re.compile(r"Dropped 1 row with infinite values")).first \
        .is_visible()
    assert page.locator(f"{SIDEBAR} [data-testid='stAlert']").filter(
        has_text="cannot").count() == 0


NAMES = ["<img src=x onerror=alert(1)>", "**bold** [click](https://evil.example)",
         ":material/home: $x$ www.evil.example"]


def test_html_and_markdown_names_are_shown_as_typed(server, page, artifacts, tmp_path):
    header = ",".join(f'"{name}"' for name in NAMES)
    path = tmp_path / "names.csv"
    path.write_bytes(_csv(header, 40, lambda i: f"{i},{(i * 7) % 11},"
                                                f"{'<b>yes</b>' if i % 3 else '**no**'}"))
    dialogs = _open(page, server, "problem=multiclass")
    _upload(page, path)
    caption = page.locator(f"{SIDEBAR} [data-testid='stCaptionContainer']").filter(
        has_text="Classes:").first
    caption.wait_for()
    assert "Classes: 0 = **no**, 1 = <b>yes</b>." in caption.inner_text()
    # the feature picker lists the names as typed
    picker = page.locator(f"{SIDEBAR} [data-testid='stMultiSelect']").first
    assert NAMES[0] in picker.inner_text() and NAMES[1] in picker.inner_text()
    # and the chart's axis titles and legend show them as text, not as Plotly's HTML
    wait_idle(page)
    chart = page.locator(CHART).first
    assert chart.locator(".g-xtitle").text_content() == f"{NAMES[0]} (standardized)"
    assert chart.locator(".g-ytitle").text_content() == f"{NAMES[1]} (standardized)"
    legend = chart.locator(".legend").text_content()
    assert "<b>yes</b>" in legend and "**no**" in legend
    assert chart.locator("a").count() == 0
    assert not any(chart.locator("tspan[style*=bold]").all_text_contents())
    # a wrong choice of problem: the message quotes the target's name as typed
    page.goto(page.url.replace("problem=multiclass", "problem=regression"))
    _upload(page, path)
    text = _alert(page, "is not numeric")
    assert f"“{NAMES[2]}”" in text.replace("\u2060", "")  # no icon, no LaTeX, no link
    assert "“<b>yes</b>”" in text or "“**no**”" in text
    page.locator("[data-testid='stMain']").get_by_text("is not numeric").first.wait_for()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href*='evil']").count() == 0
    texts = "[data-testid='stAlert'], [data-testid='stCaptionContainer']"
    for element in ("strong:has-text('bold')", "b", ".katex", "span[role='img']"):
        assert page.locator(f"{texts} >> {element}").count() == 0, element
    assert not dialogs
    no_exception(page)
    screenshot(page, artifacts / "13-hostile-names.png")
