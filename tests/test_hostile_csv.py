"""Hostile uploads: every file either becomes a valid Table or a
ValueError of one plain sentence that says what to change; nothing else escapes.

The hand-picked cases pin the meaning of each message; the hypothesis properties throw
random CSV-like bytes at ``read_csv`` and ``prepare``.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from explorer import losses, tabular
from explorer.datasets import MAX_CLASSES


def rows(header: str, n: int, row, end: str = "\n") -> bytes:
    return (header + end + end.join(row(i) for i in range(n)) + end).encode()


NUMBERS = rows("x,z,label", 40, lambda i: f"{i},{(i * 7) % 11},{'yes' if i % 3 else 'no'}")


def xlsx() -> bytes:
    """The skeleton of a real .xlsx: a ZIP with the workbook's parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buffer.getvalue()


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", NUMBERS)
    return buffer.getvalue()


SENTENCE_END = re.compile(r"[.!?]\s+[A-Z]")
NOISE = ("Traceback", 'File "', "Error:", "Error(", "<class", " object at 0x", "dtype(",
         "np.float", "array(", "\\x", "\\u", "None", "nan%", "line 1 column")


def assert_one_plain_sentence(message: str) -> None:
    """Non-empty, one line, one sentence (outside the quoted names), no repr noise."""
    assert message and message == message.strip() and "\n" not in message, message
    assert message[0].isupper() and message.endswith("."), message
    outside_quotes = re.sub(r"“[^”]*”", "“…”", message)
    assert not SENTENCE_END.search(outside_quotes), f"more than one sentence: {message}"
    assert not any(noise in outside_quotes for noise in NOISE), message


def refused(data: bytes, match: str) -> str:
    with pytest.raises(ValueError, match=match) as error:
        tabular.read_csv(data)
    message = str(error.value)
    assert_one_plain_sentence(message)
    return message


def refused_choice(frame, features, target, problem, match, loss=None) -> str:
    with pytest.raises(ValueError, match=match) as error:
        tabular.prepare(frame, features, target, problem, loss=loss)
    message = str(error.value)
    assert_one_plain_sentence(message)
    return message


def assert_valid_table(table: tabular.Table, n_features: int) -> None:
    """Finite, right shapes, features standardized, targets encoded for the problem."""
    n = len(table.X)
    assert tabular.MIN_ROWS <= n <= tabular.MAX_ROWS
    assert table.X.shape == (n, n_features) and table.y.shape == (n,)
    assert table.X.dtype == float and np.isfinite(table.X).all()
    assert np.isfinite(table.y).all()
    np.testing.assert_allclose(table.X.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(table.X.std(axis=0), 1, rtol=1e-9)
    if table.problem in ("binary", "multiclass"):
        assert table.y.dtype == np.int64
        assert set(np.unique(table.y)) == set(range(len(table.class_names)))
        assert 2 <= len(table.class_names) <= (2 if table.problem == "binary" else MAX_CLASSES)
    elif table.target_standardized:
        np.testing.assert_allclose([table.y.mean(), table.y.std()], [0, 1], atol=1e-9)
    elif table.problem == "counts":
        assert (table.y >= 0).all() and (table.y == np.round(table.y)).all()
    for note in table.notes:
        assert_one_plain_sentence(note)


# ----------------------------------------------------------------------------------------
# Files that cannot be read, each with the sentence it gets


@pytest.mark.parametrize("data,match", [
    pytest.param(b"", r"^The file is empty; choose a CSV file with a header row", id="empty"),
    pytest.param(b"  \r\n\t\n ", "The file is empty", id="only-whitespace"),
    pytest.param(b"\xef\xbb\xbf", "The file is empty", id="only-a-utf8-bom"),
    pytest.param("\n\n".encode("utf-16"), "The file is empty", id="only-a-utf16-bom"),
    pytest.param(b"\x00\x01\x02\x03 not a csv \xff\xfe" * 20, "not text but binary data; save",
                 id="binary-with-nul"),
    pytest.param(bytes(np.random.default_rng(0).integers(1, 256, 4000, dtype=np.uint8)),
                 "not text but binary data", id="binary-random-bytes"),
    pytest.param(xlsx(), r"Excel workbook, not a CSV file; in Excel choose File › Save As ›"
                         r" CSV UTF-8", id="xlsx-uploaded-as-csv"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel workbook",
                 id="xls-uploaded-as-csv"),
    pytest.param(zipped(), "ZIP archive, not a CSV file; unzip it", id="zip-archive"),
    pytest.param(gzip.compress(NUMBERS), "gzip-compressed file, not a CSV file; decompress",
                 id="gzip"),
    pytest.param(b"\xff\xfex\x00,\x00y\x00\n\x00\x00\xd8", "starts like UTF-16 text but is not "
                 "valid UTF-16; save it again as CSV UTF-8", id="broken-utf16"),
    pytest.param(b"x,y", "header row but no data; add at least 10 rows", id="header-only"),
    pytest.param(b"x,y\r\n", "header row but no data", id="header-only-crlf"),
    pytest.param(b"x,y\n1,2\n3,4\n5,6\n", "has 3 rows of data; add rows until there are at "
                 "least 10", id="too-few-rows"),
    pytest.param(rows("value", 30, str), "only one column, but it needs at least two columns",
                 id="single-column"),
    pytest.param(rows("x y", 30, lambda i: f"{i} {i % 2}"), "only one column.*separated by "
                 "commas, semicolons or tabs", id="space-separated"),
    pytest.param(rows("a,b,c", 30, lambda i: f"{i},{i},{i}" + (",9" if i == 5 else "")),
                 r"line 7 has 4 values but the header row names 3 columns; give every row one "
                 r"value per column, with quotes around a value that contains a comma",
                 id="ragged-row-too-long"),
    pytest.param(rows("a;b", 30, lambda i: f"{i};{i};{i % 2}"), r"line 2 has 3 values but the "
                 r"header row names 2 columns.*contains a semicolon",
                 id="ragged-one-more-value-than-the-header"),
    pytest.param(rows("x,y", 30, lambda i: f"{i}," + ('"open' if i == 4 else str(i % 2))),
                 r"a quote mark \(\"\) opened on line 6 is never closed; close it or remove it",
                 id="unclosed-quote"),
    pytest.param(rows("x,y", 30, lambda i: f"{i},{'a' * 200_000 if i == 2 else i % 2}"),
                 "a value starting on line 4 is over 131072 characters long", id="very-long-value"),
    pytest.param(rows(",".join(f"c{j}" for j in range(1001)), 12, lambda i: ",".join(
        "1" for _ in range(1001))), "has 1001 columns, more than the 1000 this app reads; keep "
                                    "only the columns you need", id="too-many-columns"),
    pytest.param(rows("x,y", 20, lambda i: f"{i},{i % 2}" + ",0" * 5000 * (i == 3)),
                 "line 5 has 5002 values but the header row names 2 columns",
                 id="very-long-line"),
    pytest.param(b"x" * (tabular.MAX_BYTES + 1_000_000), r"The file is 6\.0 MB, over the 5 MB "
                 r"limit; upload a sample of its rows", id="over-the-size-limit"),
    pytest.param(rows("a,a,y", 30, lambda i: f"{i},{i},{i % 2}"), "Two columns have the same "
                 "name, “a”; give every column its own name", id="duplicate-names"),
    pytest.param(rows("a , a,y", 30, lambda i: f"{i},{i},{i % 2}"), "same name, “a”",
                 id="duplicate-names-after-trimming"),
    pytest.param(rows("name,colour", 30, lambda i: f"n{i},red"), "No column of the file holds "
                 "numbers, so none can be a feature", id="no-numeric-column"),
])
def test_an_unreadable_file_gets_one_sentence_saying_what_to_change(data, match):
    refused(data, match)


# ----------------------------------------------------------------------------------------
# Files that are usable as they are, read correctly (with a note where a guess was made)


def frame_of(data: bytes) -> pd.DataFrame:
    frame = tabular.read_csv(data)
    assert list(frame.columns) == ["x", "z", "label"], list(frame.columns)
    assert frame["x"].tolist() == list(range(40)) and frame["label"].iloc[1] == "yes"
    return frame


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: text.encode("utf-16"), id="utf16-with-bom"),
    pytest.param(lambda text: b"\xfe\xff" + text.encode("utf-16-be"), id="utf16-be-with-bom"),
    pytest.param(lambda text: text.encode("utf-16-le"), id="utf16-without-bom"),
    pytest.param(lambda text: text.encode("utf-32"), id="utf32-with-bom"),
    pytest.param(lambda text: text.encode("utf-8-sig"), id="utf8-with-bom"),
    pytest.param(lambda text: text.replace("\n", "\r\n").encode(), id="windows-line-endings"),
    pytest.param(lambda text: text.replace("\n", "\r").encode(), id="old-mac-line-endings"),
])
def test_unicode_encodings_and_line_endings_are_read_as_they_are(encode):
    frame = frame_of(encode(NUMBERS.decode()))
    assert not frame.attrs["notes"]
    assert not any("\r" in str(v) for v in frame["label"])
    assert_valid_table(tabular.prepare(frame, ["x", "z"], "label", "binary"), 2)


def test_a_windows_1252_file_is_read_with_a_note_saying_how():
    data = rows("temp,€ price,label", 20, lambda i: f"{i},{i % 7},{'ja' if i % 2 else 'né'}")
    frame = tabular.read_csv(data.decode().encode("cp1252"))
    assert list(frame.columns) == ["temp", "€ price", "label"]
    (note,) = frame.attrs["notes"]
    assert "not UTF-8, so it was read as Windows-1252" in note and "save it as CSV UTF-8" in note
    table = tabular.prepare(frame, ["temp"], "label", "binary")
    assert table.class_names == ("ja", "né") and note in table.notes


def test_a_file_in_another_encoding_is_read_with_a_note_not_refused():
    data = rows("温度,値,label", 20, lambda i: f"{i},{i % 7},{i % 2}").decode().encode("shift-jis")
    frame = tabular.read_csv(data)
    assert frame.shape == (20, 3)
    assert "save it as CSV UTF-8" in frame.attrs["notes"][0]
    assert_one_plain_sentence(frame.attrs["notes"][0])


def test_quoted_fields_with_line_breaks_are_one_value_each():
    data = rows('"first\nname",size,"kind"', 20,
                lambda i: f'{i},"{i * 2}","a\r\nb{i % 2}"', end="\r\n")
    frame = tabular.read_csv(data)
    assert list(frame.columns) == ["first name", "size", "kind"]  # a name is one line
    assert len(frame) == 20 and frame["kind"].iloc[1] == "a\nb1"
    table = tabular.prepare(frame, ["first name", "size"], "kind", "binary")
    assert table.class_names == ("a\nb0", "a\nb1")
    assert "Classes: 0 = a b0, 1 = a b1." in table.notes  # shown on one line


def test_rows_shorter_than_the_header_are_dropped_with_a_note():
    data = rows("x,y,label", 30, lambda i: f"{i},{i % 4}" + ("" if i in (3, 8) else f",{i % 2}"))
    table = tabular.prepare(tabular.read_csv(data), ["x", "y"], "label", "binary")
    assert len(table.X) == 28
    assert "Dropped 2 rows with empty values in the chosen columns." in table.notes


def test_blank_header_cells_get_a_name():
    frame = tabular.read_csv(rows(",y,", 20, lambda i: f"{i},{i % 3},{i % 2}"))
    assert list(frame.columns) == ["column 1", "y", "column 3"]


# ----------------------------------------------------------------------------------------
# Values: missing, text, inf, nan, numbers near the largest float


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


N = 40
X = np.arange(N, dtype=float)
LABELS = np.where(X % 2 == 0, "even", "odd")


def test_missing_nan_and_na_cells_are_dropped_with_a_note():
    cells = [("" if i == 2 else "nan" if i == 5 else "NA" if i == 7 else str(i)) for i in
             range(N)]
    data = rows("x,label", N, lambda i: f"{cells[i]},{LABELS[i]}")
    table = tabular.prepare(tabular.read_csv(data), ["x"], "label", "binary")
    assert len(table.X) == N - 3
    assert "Dropped 3 rows with empty values in the chosen columns." in table.notes


def test_a_few_infinite_or_overflowing_cells_are_dropped_with_a_note():
    cells = ["inf" if i == 3 else "-Infinity" if i == 9 else "1e999" if i == 11 else str(i)
             for i in range(N)]
    data = rows("x,label", N, lambda i: f"{cells[i]},{LABELS[i]}")
    table = tabular.prepare(tabular.read_csv(data), ["x"], "label", "binary")
    assert len(table.X) == N - 3 and np.isfinite(table.X).all()
    assert "Dropped 3 rows with infinite values in the chosen columns." in table.notes


def test_a_feature_of_mostly_infinite_values_is_refused():
    data = rows("x,z,label", N, lambda i: f"{'inf' if i % 3 else i},{i},{LABELS[i]}")
    refused_choice(tabular.read_csv(data), ["x"], "label", "binary",
                   r"The feature “x” cannot be used: 26 of its 40 filled cells are infinite or "
                   r"too large for a number \(such as “inf”\); pick another column")


def test_a_regression_target_of_mostly_infinite_values_is_refused():
    refused_choice(frame(x=X, t=np.where(X % 2, np.inf, X)), ["x"], "t", "regression",
                   "The target “t” cannot be used: 20 of its 40 filled cells are infinite")


def test_a_text_feature_is_refused_with_an_example_of_its_text():
    refused_choice(frame(x=X, word=LABELS, label=LABELS), ["word"], "label", "binary",
                   r"The feature “word” is not numeric: 40 of its 40 filled cells hold text "
                   r"such as “even”; pick a column of numbers as a feature\.")


def test_decimal_commas_show_up_in_the_example():
    data = rows("x;label", N, lambda i: f"{i},5;{LABELS[i]}")
    refused(data, "No column of the file holds numbers")
    data = rows("x;w;label", N, lambda i: f"{i},5;{i};{LABELS[i]}")
    refused_choice(tabular.read_csv(data), ["x"], "label", "binary", "text such as “0,5”")


def test_a_text_target_for_regression_points_to_classification():
    refused_choice(frame(x=X, label=LABELS), ["x"], "label", "regression",
                   r"The target “label” is not numeric, but regression needs numbers: 40 of its "
                   r"40 filled cells hold text such as “even”; for categories choose a "
                   r"classification problem\.")
    refused_choice(frame(x=X, label=LABELS), ["x"], "label", "counts",
                   "but count regression needs numbers")


def test_a_mostly_empty_column_says_how_few_rows_are_left():
    refused_choice(frame(x=np.where(X < 6, X, np.nan), label=LABELS), ["x"], "label", "binary",
                   r"Only 6 rows have a usable value in every chosen column; at least 10 are "
                   r"needed, so fill in the empty cells or choose other columns\.")


def test_an_empty_column_is_refused():
    refused_choice(frame(x=X, e=[None] * N, label=LABELS), ["e"], "label", "binary",
                   "The feature “e” is empty in every row; choose a column that holds numbers")


HUGE = np.where(X % 2 == 0, 1e308, -1e308)


def test_features_near_the_largest_float_are_standardized_without_overflow():
    # (x - mean) / std computed directly overflows here: the sum of 40 values near 1e308
    # is inf, and the table was all NaN before
    table = tabular.prepare(frame(x=HUGE, x2=X * 4e306, label=LABELS), ["x", "x2"], "label",
                            "binary")
    assert_valid_table(table, 2)
    np.testing.assert_allclose(table.X[:, 0], np.where(X % 2 == 0, 1.0, -1.0))
    np.testing.assert_allclose(table.X[:, 1], (X - X.mean()) / X.std())


def test_a_regression_target_near_the_largest_float_is_standardized_without_overflow():
    table = tabular.prepare(frame(x=X, t=HUGE), ["x"], "t", "regression")
    assert_valid_table(table, 1)
    np.testing.assert_allclose(table.y, np.where(X % 2 == 0, 1.0, -1.0))
    assert any("standard deviation (1e+308)" in note for note in table.notes)


@pytest.mark.parametrize("values", [
    pytest.param(np.r_[np.full(N - 1, 1.7976931348623157e308), -1.7976931348623157e308],
                 id="largest-floats"),
    pytest.param(np.r_[np.full(N - 1, 1e308), 5e-324], id="largest-and-smallest"),
    pytest.param(np.r_[np.full(N - 1, 1.0), np.nextafter(1.0, 2)], id="one-ulp-apart"),
    pytest.param(np.linspace(1e15, 1e15 + 39, N), id="large-offset-small-spread"),
])
def test_finite_values_always_standardize_to_finite_mean_0_sd_1(values):
    table = tabular.prepare(frame(x=values, t=values[::-1].copy()), ["x"], "t", "regression")
    assert_valid_table(table, 1)


def test_values_too_close_together_for_floating_point_are_refused():
    # finite, different, but their standard deviation is below the smallest float: dividing
    # by it (as before) gave inf and NaN
    values = np.r_[np.full(N - 1, 5e-324), 1e-323]
    refused_choice(frame(x=values, label=LABELS), ["x"], "label", "binary",
                   r"The feature “x” cannot be standardized: its values are too large or too "
                   r"close together for floating-point numbers; rescale them by a power of ten")
    refused_choice(frame(x=X, t=values), ["x"], "t", "regression",
                   "The target “t” cannot be standardized")


def test_the_same_value_in_every_row_is_refused():
    refused_choice(frame(x=np.full(N, 1e308), label=LABELS), ["x"], "label", "binary",
                   "The feature “x” has the same value in every row used; choose a column "
                   "whose values vary")
    refused_choice(frame(x=X, t=np.full(N, 2.5)), ["x"], "t", "regression",
                   "The target “t” has the same value in every row used")
    refused_choice(frame(x=X, t=np.full(N, 2.5)), ["x"], "t", "regression",
                   "The target “t” has the same value", loss="msle")


def test_counts_are_kept_in_their_own_units_up_to_the_largest_exact_whole_number():
    table = tabular.prepare(frame(x=X, n=np.where(X % 2, 2.0**53, 0.0)), ["x"], "n", "counts")
    assert_valid_table(table, 1)
    assert table.y.max() == 2.0**53
    refused_choice(frame(x=X, n=np.where(X % 2, 1e308, 0.0)), ["x"], "n", "counts",
                   r"The target “n” has counts up to 1e\+308, above the 9e\+15 a count may "
                   r"reach here; use regression instead, which standardizes the target\.")


# ----------------------------------------------------------------------------------------
# Targets with too many (or too few) classes


MANY = frame(x=np.arange(3000.0), k=[f"c{i}" for i in range(3000)])


def test_thousands_of_classes_say_how_many_and_the_limit():
    refused_choice(MANY, ["x"], "k", "multiclass",
                   rf"The target “k” has 3000 distinct values, more than the {MAX_CLASSES} "
                   rf"classes multi-class classification allows here; choose a target with 2 "
                   rf"to {MAX_CLASSES} categories, or regression if it is a measurement\.")


def test_thousands_of_classes_for_a_binary_problem():
    refused_choice(MANY, ["x"], "k", "binary",
                   r"Binary classification needs a target with exactly 2 distinct values, but "
                   r"“k” has 3000; choose another target column\.")  # too many for multi-class


def test_one_class_more_than_the_limit_is_refused_and_the_limit_is_accepted():
    labels = [f"c{i % (MAX_CLASSES + 1)}" for i in range(N)]
    refused_choice(frame(x=X, k=labels), ["x"], "k", "multiclass",
                   f"has {MAX_CLASSES + 1} distinct values, more than the {MAX_CLASSES}")
    labels = [f"c{i % MAX_CLASSES}" for i in range(N)]
    assert_valid_table(tabular.prepare(frame(x=X, k=labels), ["x"], "k", "multiclass"), 1)


def test_a_target_with_one_class_is_refused():
    refused_choice(frame(x=X, k=["same"] * N), ["x"], "k", "multiclass",
                   "The target “k” has only one value \\(“same”\\) in the rows used; a classifier "
                   "needs at least 2 classes")


# ----------------------------------------------------------------------------------------
# Names that Markdown would render: kept as they are, shown as typed


HOSTILE_NAMES = ["<script>alert(1)</script>", "**bold**", "$x$", "$$\\int$$", "[click](http://e.x)",
                 ":red[warn]", ":material/home:", ":smile:", "# heading", "`code`", "a_b_c",
                 "<img src=x onerror=alert(1)>", "www.evil.com", "x@y.org", "1. item",
                 "&lt;b&gt;", "~~gone~~", "\u202eevil", "x" * 300]


def unescaped(markdown: str) -> list[str]:
    """Markdown syntax characters in ``markdown`` that are not escaped by a backslash."""
    found, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\":
            i += 2
            continue
        if markdown[i] in tabular.MARKDOWN:
            found.append(markdown[i])
        i += 1
    return found


def assert_safe_markdown(markdown: str) -> None:
    """No syntax character unescaped, one line, no bare www. :// or @ to autolink."""
    assert not unescaped(markdown), markdown
    assert "\n" not in markdown
    assert "www\\." not in markdown.lower() and "\\:\\/\\/" not in markdown, markdown
    assert not re.search("(^|[^\u2060])@", markdown), markdown


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_html_and_markdown_column_names_are_kept_and_escaped_in_messages(name):
    data = ("x," + '"' + name.replace('"', '""') + '",label\n'
            + "\n".join(f"{i},w{i},{i % 2}" for i in range(30))).encode()
    table = tabular.read_csv(data)
    kept = " ".join(name.replace("\u202e", "").split())
    assert list(table.columns) == ["x", kept, "label"]  # the name, not a rendering of it
    message = refused_choice(table, [kept], "label", "binary", "is not numeric")
    assert tabular.quoted(kept) in message and len(tabular.quoted(kept)) <= 42
    assert_safe_markdown(tabular.literal(message))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_html_and_markdown_class_names_are_escaped_in_the_notes(name):
    table = tabular.prepare(frame(x=X, k=np.where(X % 2 == 0, name, "plain")), ["x"], "k",
                            "binary")
    assert name.strip() in table.class_names  # the label itself is kept
    for note in table.notes:
        assert_safe_markdown(tabular.literal(note))


def test_the_escape_would_catch_a_raw_name():
    assert unescaped("**bold** and $x$") and not unescaped(tabular.literal("**bold** and $x$"))
    assert tabular.literal("see www.evil.com or http://e.x") == \
        "see www\u2060\\.evil\\.com or http\\:\u2060\\/\\/e\\.x"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_becomes_markdown_that_shows_it_as_typed(text):
    markdown = tabular.literal(text)
    assert not unescaped(markdown)
    assert "\n" not in markdown and "\r" not in markdown
    shown = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    assert shown == " ".join(text.replace("\u2060", "").split())


# ----------------------------------------------------------------------------------------
# Choices that make no sense


@pytest.mark.parametrize("features,target,problem,match", [
    pytest.param(["x", "x"], "label", "binary", "same column is chosen twice", id="twice"),
    pytest.param(["x"], "<b>no</b>", "binary", "No column named “<b>no</b>” in the file; choose "
                 "one of its columns", id="unknown-column"),
    pytest.param(["x"], "label", "astrology", "Unknown problem type “astrology”", id="problem"),
    pytest.param(["x"], "x", "binary", "cannot also be a feature; choose another", id="target"),
])
def test_a_choice_that_makes_no_sense_is_explained(features, target, problem, match):
    refused_choice(frame_of(NUMBERS), features, target, problem, match)


# ----------------------------------------------------------------------------------------
# Properties: random CSV-like bytes never raise anything but a plain ValueError


TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12)
"""Printable text (control characters come in through the random bytes below)."""
TRICKY_NAMES = st.sampled_from(HOSTILE_NAMES + ["", " ", "x", "y", "a,b", 'q"uote', "new\nline",
                                                "é", "中文", "nan", "1", "  padded  "])
NAMES = st.one_of(TRICKY_NAMES, TEXT)
NUMBER = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e3, 1e3).map(lambda v: f"{v:.3f}"),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:g}"))
ODD_VALUE = st.sampled_from(["inf", "-inf", "Infinity", "nan", "NaN", "NA", "", " ", "1e308",
                             "-1e308", "1.7976931348623157e308", "1e999", "-1e999", "5e-324",
                             "abc", "yes", "no", "<script>", "0", "1", "2", "1,5"])
"""Cells that are not plain numbers but need no quoting (unless the separator is a comma)."""
QUOTING = st.sampled_from(['"1,5"', '"a\nb"', '"', '"say ""hi"""', "a\rb"])
CELLS = st.one_of(NUMBER, ODD_VALUE, QUOTING, TEXT.map(lambda t: t[:6]))
SEPARATOR = st.sampled_from([",", ",", ";", "\t", "|", " "])
LINE_END = st.sampled_from(["\n", "\r\n", "\r"])
ENCODING = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"])


@st.composite
def csv_bytes(draw) -> bytes:
    """Any small CSV-like file: ragged rows, odd separators, encodings, stray bytes."""
    n_columns = draw(st.integers(1, 5))
    header = draw(st.lists(NAMES, min_size=n_columns, max_size=n_columns,
                           unique=draw(st.booleans())))
    longest = n_columns + 1 if draw(st.integers(0, 3)) == 0 else n_columns
    body = draw(st.lists(st.lists(CELLS, min_size=max(0, n_columns - 1), max_size=longest),
                         max_size=40))
    sep, end = draw(SEPARATOR), draw(LINE_END)
    text = end.join(sep.join(row) for row in [header, *body])
    data = text.encode(draw(ENCODING), errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=200)) + data
    return data


@st.composite
def numeric_csv(draw) -> bytes:
    """Well-formed files of mostly numbers with a label column, so most get to ``prepare``:
    hostile names, inf, nan, 1e308, empty and text cells, huge and tiny numbers."""
    n = draw(st.integers(tabular.MIN_ROWS, 40))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    cell = st.one_of(NUMBER, NUMBER, NUMBER, ODD_VALUE.filter(lambda v: sep not in v))
    label = st.one_of(st.integers(0, 2).map(str), st.sampled_from(["yes", "no"]), TRICKY_NAMES)
    names = draw(st.lists(NAMES, min_size=4, max_size=4,
                          unique_by=lambda name: " ".join(name.split())))
    lines = [sep.join('"' + name.replace('"', '""') + '"' for name in names)]
    labels = draw(st.lists(label, min_size=1, max_size=3, unique=True))
    for row in draw(st.lists(st.tuples(cell, cell, cell, st.sampled_from(labels)), min_size=n,
                             max_size=n)):
        lines.append(sep.join('"' + v.replace('"', '""') + '"' if sep in v or '"' in v
                              or "\n" in v else v for v in row))
    return "\n".join(lines).encode()


PROBLEMS = st.sampled_from(losses.PROBLEMS)
LOSSES = st.sampled_from([None, "mse", "msle", "poisson", "bce"])


def check_upload(data: bytes, choice) -> None:
    """What the sidebar does with a file: read it, pick columns, prepare."""
    try:
        frame = tabular.read_csv(data)
    except ValueError as error:
        assert_one_plain_sentence(str(error))
        event(f"refused: {str(error)[:30]}")
        return
    assert frame.shape[1] >= 2 and len(frame) >= tabular.MIN_ROWS
    assert frame.columns.is_unique and all(isinstance(c, str) and c for c in frame.columns)
    numeric = tabular.numeric_columns(frame)
    assert numeric, "read_csv returns only files with a column of numbers"
    columns = list(frame.columns)
    n_features, target_at, problem, loss = choice
    target = columns[target_at % len(columns)]
    features = [c for c in numeric if c != target][:n_features]
    if not features:
        return
    try:
        table = tabular.prepare(frame, features, target, problem, loss=loss)
    except ValueError as error:
        message = str(error)
        assert_one_plain_sentence(message)
        event(f"choice refused: {re.sub('“[^”]*”', '“…”', message)[:30]}")
        assert not re.match(r"The feature “[^”]*” (is not numeric|cannot be used|is empty)",
                            message), "a column offered as numbers was refused as not numbers"
        return
    event(f"prepared for {problem}")
    assert_valid_table(table, len(features))


CHOICE = st.tuples(st.integers(1, 2), st.integers(-1, 10), PROBLEMS, LOSSES)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_bytes(), CHOICE)
def test_random_csv_files_give_a_valid_table_or_one_plain_sentence(data, choice):
    check_upload(data, choice)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numeric_csv(), CHOICE)
def test_random_numeric_files_give_a_valid_table_or_one_plain_sentence(data, choice):
    check_upload(data, choice)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise_anything_but_a_plain_value_error(data):
    check_upload(data, (1, -1, "binary", None))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                          st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324])),
                min_size=tabular.MIN_ROWS, max_size=60), PROBLEMS)
def test_any_finite_numbers_prepare_to_a_finite_table_or_a_plain_refusal(values, problem):
    values = np.array(values)
    data = frame(x=values, y=values[::-1].copy(), t=np.round(np.abs(values[::-1])) % 3)
    try:
        table = tabular.prepare(data, ["x", "y"], "t", problem)
    except ValueError as error:
        assert_one_plain_sentence(str(error))
        return
    assert_valid_table(table, 2)


@pytest.mark.parametrize("tail,match", [
    pytest.param('1,"', "opened on line 32 is never closed", id="lone-quote-at-the-end"),
    pytest.param('1,"a ""b"" c', "opened on line 32 is never closed", id="escaped-quotes-inside"),
    pytest.param('1,2" pipe', None, id="inch-mark-inside-a-value-is-text"),
    pytest.param('1,"a ""b"""', None, id="closed-with-escaped-quotes"),
])
def test_a_quote_left_open_at_the_end_is_found_and_a_closed_one_is_not(tail, match):
    data = rows("x,y", 30, lambda i: f"{i},{i % 2}") + tail.encode()
    if match:
        refused(data, match)
    else:
        assert len(tabular.read_csv(data)) == 31


def test_with_no_number_column_besides_the_target_the_message_says_why():
    data = frame(x=np.where(X % 2, np.inf, X), word=LABELS, y=X % 2)
    refused_choice(data, [], "y", "binary", "The feature “x” cannot be used: 20 of its 40")
    refused_choice(data.assign(z=X), [], "y", "binary", "Choose one or two feature columns")
    refused_choice(data, [], "nope", "binary", "Choose one or two feature columns")


def test_names_from_the_file_reach_the_figures_as_text_not_plotly_html():
    from explorer import config as cfg
    from explorer import experiment

    link = "<a href='https://evil.example'>click</a>"
    table = tabular.prepare(frame(**{link: X, "<b>t</b>": np.where(X % 2, "<br>x", "y&amp;")}),
                            [link], "<b>t</b>", "binary")
    data = experiment.make_data(cfg.DEFAULT.replace(dataset=cfg.UPLOAD), table)
    assert data.feature_names == ("&lt;a href='https://evil.example'&gt;click&lt;/a&gt;",)
    assert data.target_name == "&lt;b&gt;t&lt;/b&gt;"
    assert data.class_names == ("&lt;br&gt;x", "y&amp;amp;")
    assert table.feature_names == (link,)  # the table keeps the real names
