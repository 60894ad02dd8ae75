"""Your own data: a CSV read with pandas, checked, and turned into (X, y) for a problem type.

Every problem with the file becomes a ValueError whose message is one sentence that says
what to change; names and values from the file appear in it through ``quoted`` (one line,
short). Messages are plain text: ``literal`` makes any text safe to show in Streamlit's
Markdown. Features are standardized (mean 0, standard deviation 1) because the networks
here expect inputs of order 1. Regression targets are standardized too (RMSE and MAE are
then in standard deviations of the target, and the notes say so), except for a loss that
needs targets >= 0 in their own units (MSLE): standardizing would make every target below
the mean negative. Such a loss on a target with negative values is refused with a message,
never clipped. A prepared Table never holds a value that is not finite.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explorer import losses
from explorer.config import Fix
from explorer.datasets import MAX_CLASSES


class Refusal(ValueError):
    """A choice the file cannot be trained with, and the setting that would fix it."""

    def __init__(self, message: str, fix: Fix | None = None):
        super().__init__(message)
        self.fix = fix


TO_REGRESSION = Fix("Switch to regression", {"problem": "regression"})
TO_MULTICLASS = Fix("Switch to multi-class", {"problem": "multiclass"})


def _measurement(values) -> bool:
    """True when a column holds numbers that vary like a measurement (fractions, or more
    distinct values than a classifier takes here), not a handful of category codes."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.isna().any():
        return False
    return bool(numbers.nunique() > MAX_CLASSES or np.any(numbers != np.round(numbers)))


MAX_BYTES = 5_000_000
MAX_ROWS = 5000
MIN_ROWS = 10
MAX_COLUMNS = 1000
"""More columns than anyone picks two features from (the pickers would be unusable)."""
MAX_FIELD = 131_072
"""The longest cell Python's csv module reads: longer is nearly always an unclosed quote."""
MAX_COUNT = 2.0 ** 53
"""Above this not every whole number is a float, so "whole number" says nothing (and a
Poisson fit to 1e308 overflows in its first step)."""
NUMERIC_SHARE = 0.9
"""A column is numeric when at least this share of its filled cells are finite numbers."""
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
PROBLEM_NOUNS = {"regression": "regression", "counts": "count regression"}

EMPTY = (f"The file is empty; choose a CSV file with a header row and at least {MIN_ROWS} "
         "rows of data.")
BINARY = ("The file is not text but binary data; save the table as CSV (plain text, one row "
          "per line) and upload that file.")
EXCEL = ("This is an Excel workbook, not a CSV file; in Excel choose File › Save As › "
         "CSV UTF-8 and upload that file.")


@dataclass(frozen=True)
class Table:
    """A prepared upload: standardized features and encoded targets, plus what was done."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    problem: str
    class_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    target_standardized: bool = False
    digest: str = field(default="", compare=False)


# ----------------------------------------------------------------------------------------
# Showing names and values from the file


BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them (a name could make a message read backwards)."""


def plain(text, limit: int = 40) -> str:
    """Text from the file as one short line: controls dropped, whitespace collapsed, at most
    ``limit`` characters (an ellipsis marks a cut)."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def quoted(text, limit: int = 40) -> str:
    """A name or value from the file, in a message: ``plain`` text in curly quotes."""
    return f"“{plain(text, limit)}”"


def chart_text(text, limit: int = 40) -> str:
    """Text from the file as a Plotly title or legend entry shows it as typed: ``plain``,
    with the HTML Plotly renders (<a href>, <b>, <br>, entities) escaped."""
    return plain(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MARKDOWN = set("\\`*_{}[]<>()#+-.!|$~:/&")
"""Characters Streamlit's Markdown may read as syntax (emphasis, links, LaTeX, colours,
:material/icons: and :emoji:, HTML entities); ``literal`` puts text on one line, so no
"===" underline can make a heading."""
WORD_JOINER = "\u2060"


def literal(text) -> str:
    """Any text, escaped so Streamlit's Markdown shows it as typed, on one line.

    Backslashes escape the syntax characters; an invisible word joiner breaks the bare
    ``www.``, ``://`` and ``@`` that GitHub-flavoured Markdown would turn into links.
    """
    text = " ".join(str(text).split())
    text = re.sub(r"(?i)(www)(\.)", rf"\1{WORD_JOINER}\2", text)
    text = text.replace("://", f":{WORD_JOINER}//").replace("@", f"{WORD_JOINER}@")
    return "".join("\\" + c if c in MARKDOWN else c for c in text)


# ----------------------------------------------------------------------------------------
# Reading


def read_csv(data: bytes) -> pd.DataFrame:
    """Parse uploaded bytes as CSV (comma, semicolon, tab or vertical-bar separated).

    Reads UTF-8, UTF-16 and UTF-32 (with or without a byte order mark), Windows-1252 and
    Latin-1, with any line endings and quoted values over several lines. How the file was
    read, when it matters, is in ``frame.attrs["notes"]``. Column names are trimmed to one
    line. Anything unusable is a ValueError of one sentence saying what to change.
    """
    if not data or not data.strip():
        raise ValueError(EMPTY)
    if len(data) > MAX_BYTES:
        size = math.ceil(len(data) / 1e5) / 10
        raise ValueError(f"The file is {size:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB "
                         "limit; upload a sample of its rows.")
    _refuse_other_formats(data)
    text, notes = _decode(data)
    if _looks_binary(text):
        raise ValueError(BINARY)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(EMPTY)
    sep = _separator(text)
    names = _check_structure(text, sep)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # never lose data quietly
            frame = pd.read_csv(io.StringIO(text), sep=sep, engine="c", header=0,
                                names=names, index_col=False, low_memory=False)
    except (ValueError, OverflowError, pd.errors.ParserError, pd.errors.ParserWarning):
        frame = None
    if frame is None or frame.shape[1] != len(names):
        raise ValueError("Could not read the file as CSV; check that every row uses the "
                         "same separator and that quote marks (\") come in pairs.")
    if len(names) < 2:
        raise ValueError("The file has only one column, but it needs at least two columns (one "
                         "or two features and a target) with values separated by commas, "
                         "semicolons or tabs.")
    if len(frame) == 0:
        raise ValueError(f"The file has a header row but no data; add at least {MIN_ROWS} rows "
                         "of data below the header.")
    if len(frame) < MIN_ROWS:
        raise ValueError(f"The file has {len(frame)} row{'s' if len(frame) > 1 else ''} of "
                         f"data; add rows until there are at least {MIN_ROWS}.")
    if not numeric_columns(frame):
        raise ValueError("No column of the file holds numbers, so none can be a feature; the "
                         "file needs one or two columns of numbers besides the target.")
    frame.attrs["notes"] = tuple(notes)
    return frame


def _refuse_other_formats(data: bytes) -> None:
    """Name the formats people upload by mistake (a workbook, an archive)."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"xl/" in data:
            raise ValueError(EXCEL)
        if b"opendocument.spreadsheet" in data:
            raise ValueError("This is an OpenDocument spreadsheet, not a CSV file; save it as "
                             "CSV from your spreadsheet program and upload that file.")
        raise ValueError("This is a ZIP archive, not a CSV file; unzip it and upload the CSV "
                         "file inside.")
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ValueError(EXCEL)
    if data.startswith(b"\x1f\x8b"):
        raise ValueError("This is a gzip-compressed file, not a CSV file; decompress it and "
                         "upload the CSV file inside.")


BYTE_ORDER_MARKS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                    (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                    (b"\xfe\xff", "utf-16-be"))


def _decode(data: bytes) -> tuple[str, list[str]]:
    """The text of the file and, when its encoding was a guess, a note saying so."""
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return data[len(mark):].decode(codec), []
            except UnicodeDecodeError:
                name = codec[:6].upper()
                raise ValueError(f"The file starts like {name} text but is not valid "
                                 f"{name}; save it again as CSV UTF-8.") from None
    wide = _utf16_without_mark(data)
    if wide:
        try:
            return data.decode(wide), []
        except UnicodeDecodeError:
            raise ValueError(BINARY) from None
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    for codec, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, [f"The file is not UTF-8, so it was read as {name} (Western European) "
                      "text; if letters look wrong, save it as CSV UTF-8."]
    raise ValueError(BINARY)  # pragma: no cover - latin-1 decodes any byte


def _utf16_without_mark(data: bytes) -> str | None:
    """'utf-16-le' or '-be' when every other byte is zero (ASCII text saved as UTF-16)."""
    head = data[:20_000]
    if len(head) < 4 or len(head) % 2 or head.count(0) < len(head) // 4:
        return None
    if head[0::2].count(0) == 0:
        return "utf-16-le"
    if head[1::2].count(0) == 0:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    """A NUL, or more than 1% control characters (beyond tab and line breaks)."""
    sample = text[:100_000]
    if "\x00" in sample:
        return True
    controls = sum(1 for c in sample
                   if (c < " " and c not in "\t\n\r\x0c") or "\x7f" <= c <= "\x9f")
    return controls > 0.01 * len(sample)


def _separator(text: str) -> str:
    """The separator that splits the header into the most columns that the next rows
    repeat (comma when none splits it)."""
    head = "\n".join(text[:50_000].split("\n")[:50])
    best, best_score = ",", (0.0, 0)
    for sep in SEPARATORS:
        try:
            records = [r for r in csv.reader(io.StringIO(head), delimiter=sep) if r][:20]
        except csv.Error:
            continue
        width = len(records[0]) if records else 0
        if width < 2:
            continue
        rows = records[1:-1] or records  # the last line of the sample may be cut short
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _check_structure(text: str, sep: str) -> list[str]:
    """The column names, after checking every row with Python's csv reader (which handles
    quotes as pandas is then asked to): no row longer than the header, no runaway quote.
    Rows shorter than the header are read with empty cells."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header: list[str] | None = None
    record: list[str] = []
    start = next_start = 1  # the line the current record starts on, and the next one
    try:
        for record in reader:
            start, next_start = next_start, reader.line_num + 1
            if not record:  # a blank line
                continue
            if header is None:
                header = _column_names(record)
            elif len(record) > len(header):
                raise ValueError(
                    f"Could not read the file as CSV: line {start} has {len(record)} values "
                    f"but the header row names "
                    f"{len(header)} columns; give every row one value per column, with quotes "
                    f"around a value that contains a {SEPARATORS[sep]}.")
    except csv.Error as error:
        start = next_start
        if "field larger than field limit" in str(error):
            raise ValueError(f"Could not read the file as CSV: a value starting on line {start} "
                             f"is over {MAX_FIELD} characters long, usually because a quote "
                             "mark (\") is never closed; close that quote mark or remove it.") \
                from None
        raise ValueError(f"Could not read the file as CSV at line {start}; check that its "
                         "quote marks (\") come in pairs.") from None
    if header is None:  # pragma: no cover - a non-blank text has a first record
        raise ValueError(EMPTY)
    if record and _ends_inside_quote("\n".join(text.split("\n")[start - 1:]), sep):
        # Python's reader silently closes a quote left open at the end of the file
        raise ValueError(f"Could not read the file as CSV: a quote mark (\") opened on line "
                         f"{start} is never closed; close it or remove it.")
    return header


def _ends_inside_quote(text: str, sep: str) -> bool:
    """Whether CSV text ends inside a quoted value (a quote mark opens a value only at its
    start; two in a row inside it stand for one)."""
    inside, at_start, i = False, True, 0
    while i < len(text):
        c = text[i]
        if inside:
            if c == '"' and text[i + 1:i + 2] == '"':
                i += 1
            elif c == '"':
                inside = False
        elif c == '"' and at_start:
            inside = True
        at_start = not inside and c in (sep, "\n")
        i += 1
    return inside


def _column_names(header: list[str]) -> list[str]:
    """The header's names on one line each ("column 3" for a blank one); refused when there
    are too many or two are the same."""
    if len(header) > MAX_COLUMNS:
        raise ValueError(f"The file has {len(header)} columns, more than the {MAX_COLUMNS} this "
                         "app reads; keep only the columns you need (one or two features and "
                         "a target).")
    names = []
    for i, name in enumerate(header):
        name = "".join(c for c in name if c not in BIDI and unicodedata.category(c) != "Cc"
                       or c in "\t\n")
        name = " ".join(name.split()) or f"column {i + 1}"
        if name in names:
            raise ValueError(f"Two columns have the same name, {quoted(name)}; give every "
                             "column its own name in the header row.")
        names.append(name)
    return names


# ----------------------------------------------------------------------------------------
# Choosing columns and preparing (X, y)


def _numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(the cells as floats, NaN where a cell is not a number; which cells are filled)."""
    filled = column.notna().to_numpy()
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        filled = filled & column.astype(str).str.strip().ne("").to_numpy()
    values = pd.to_numeric(column, errors="coerce")
    if pd.api.types.is_complex_dtype(values):
        return np.full(len(column), np.nan), filled
    try:
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError, OverflowError):
        numbers = np.array([_float_or_nan(v) for v in values], dtype=float)
    return np.where(filled, numbers, np.nan), filled


def _float_or_nan(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose filled cells are finite numbers (or numbers written as text) in at
    least 90% of the cases."""
    names = []
    for name in frame.columns:
        numbers, filled = _numbers(frame[name])
        finite = int(np.isfinite(numbers).sum())
        if finite and finite >= NUMERIC_SHARE * filled.sum():
            names.append(name)
    return names


def _require_numbers(column: pd.Series, name: str, role: str, problem: str = "") -> None:
    """A ValueError saying which cells are not numbers, unless at most 10% of the filled
    cells are text or infinite (those rows are dropped later, with a note)."""
    numbers, filled = _numbers(column)
    count = int(filled.sum())
    what = f"The {role} {quoted(name)}"
    if count == 0:
        raise ValueError(f"{what} is empty in every row; choose a column that holds numbers.")
    if np.isfinite(numbers).sum() >= NUMERIC_SHARE * count:
        return
    text = filled & np.isnan(numbers)
    infinite = filled & np.isinf(numbers)
    if text.sum() >= infinite.sum():
        example = quoted(column[text].iloc[0])
        cells = f"{int(text.sum())} of its {count} filled cells hold text such as {example}"
        if role == "feature":
            raise ValueError(f"{what} is not numeric: {cells}; pick a column of numbers as a "
                             "feature.")
        raise ValueError(f"{what} is not numeric, but {PROBLEM_NOUNS[problem]} needs numbers: "
                         f"{cells}; for categories choose a classification problem.")
    example = quoted(column[infinite].iloc[0])
    raise ValueError(f"{what} cannot be used: {int(infinite.sum())} of its {count} filled "
                     f"cells are infinite or too large for a number (such as {example}); "
                     "pick another column or replace those values.")


def standardizes_target(problem: str, loss: str | None = None) -> bool:
    """Whether ``prepare`` standardizes the target: regression, unless the loss needs the
    target's own non-negative values."""
    return problem == "regression" and not _nonnegative_reason(loss)


def _nonnegative_reason(loss: str | None) -> str:
    """Why the loss needs targets >= 0 in their own units, or ''."""
    return losses.get(loss).needs_nonnegative_targets if loss in losses.LOSSES else ""


def prepare(frame: pd.DataFrame, features: list[str], target: str, problem: str,
            seed: int = 0, max_rows: int = MAX_ROWS, loss: str | None = None) -> Table:
    """Check the choice of columns against the problem (and the loss, when given); return
    standardized X (n, len(features)) and encoded y (n,) (see ``standardizes_target``), all
    finite."""
    features = list(features)
    if not features and target in frame.columns and set(numeric_columns(frame)) <= {target}:
        for name in frame.columns:  # nothing to choose from: say why the others are not
            if name != target:
                _require_numbers(frame[name], name, "feature")
    if not 1 <= len(features) <= 2:
        raise ValueError("Choose one or two feature columns (the views draw 1-D and 2-D "
                         "inputs).")
    if problem not in losses.PROBLEMS:
        raise ValueError(f"Unknown problem type {quoted(problem)}; choose one of "
                         f"{', '.join(losses.PROBLEMS)}.")
    missing = [c for c in [*features, target] if c not in frame.columns]
    if missing:
        raise ValueError(f"No column named {quoted(missing[0])} in the file; choose one of its "
                         "columns.")
    if target in features:
        raise ValueError("The target cannot also be a feature; choose another target or "
                         "feature column.")
    if len(set(features)) < len(features):
        raise ValueError("The same column is chosen twice as a feature; choose two different "
                         "columns, or one.")
    notes = list(frame.attrs.get("notes", ()))
    for name in features:
        _require_numbers(frame[name], name, "feature")
    numeric_target = problem in PROBLEM_NOUNS
    if numeric_target:
        _require_numbers(frame[target], target, "target", problem)
    columns = [_numbers(frame[name]) for name in [*features, target]]
    numbers = np.column_stack([values for values, _ in columns])
    filled = np.column_stack([is_filled for _, is_filled in columns])
    if not numeric_target:
        numbers[:, -1] = np.where(filled[:, -1], 0.0, np.nan)  # any label is usable
    keep = np.isfinite(numbers).all(axis=1)
    if not keep.all():
        dropped = ~keep[:, None]
        kinds = [kind for kind, cells in (("empty", ~filled),
                                          ("non-numeric", filled & np.isnan(numbers)),
                                          ("infinite", np.isinf(numbers)))
                 if (cells & dropped).any()]
        count = int((~keep).sum())
        notes.append(f"Dropped {count} row{'s' if count > 1 else ''} with {' or '.join(kinds)} "
                     "values in the chosen columns.")
    rows = np.flatnonzero(keep)
    if len(rows) < MIN_ROWS:
        raise ValueError(f"Only {len(rows)} rows have a usable value in every chosen column; at "
                         f"least {MIN_ROWS} are needed, so fill in the empty cells or choose "
                         "other columns.")
    if len(rows) > max_rows:
        notes.append(f"Kept a random sample of {max_rows} of the {len(rows)} rows.")
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    X = np.column_stack([_standardize(numbers[rows, j], name, "feature")[0]
                         for j, name in enumerate(features)])
    notes.append("Features standardized to mean 0 and standard deviation 1.")
    target_values = numbers[rows, -1] if numeric_target else frame[target].iloc[rows]
    y, class_names = _encode_target(target_values, target, problem, notes, loss)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):  # pragma: no cover - a guard
        raise ValueError("The chosen columns hold values too extreme to compute with; rescale "
                         "them by a power of ten and upload the file again.")
    return Table(X, y, tuple(features), target, problem, class_names, tuple(notes),
                 standardizes_target(problem, loss))


def _standardize(values: np.ndarray, name: str, role: str) -> tuple[np.ndarray, float]:
    """(values - mean) / standard deviation, and the standard deviation.

    Computed on values divided by their largest magnitude, so values near 1e308 do not
    overflow; a second pass removes the rounding left by the first."""
    if values.max() == values.min():
        raise ValueError(f"The {role} {quoted(name)} has the same value in every row used; "
                         "choose a column whose values vary.")
    scale = float(np.max(np.abs(values)))
    with np.errstate(all="ignore"):
        unit = values / scale
        z = (unit - unit.mean()) / unit.std()
        z = (z - z.mean()) / z.std()
        spread = float(unit.std()) * scale
    if not (np.isfinite(z).all() and math.isfinite(spread) and spread > 0):
        raise ValueError(f"The {role} {quoted(name)} cannot be standardized: its values are "
                         "too large or too close together for floating-point numbers; rescale "
                         "them by a power of ten (values near 1e-320 by 1e300, say) and upload "
                         "the file again.")
    return z, spread


def _encode_target(values, name: str, problem: str, notes: list[str], loss: str | None):
    what = f"The target {quoted(name)}"
    if problem in ("binary", "multiclass"):
        labels = pd.Series(values).astype(str).str.strip()
        names = sorted(labels.unique(), key=_natural_key)
        if len(names) < 2:
            raise ValueError(f"{what} has only one value ({quoted(names[0])}) in the rows used; "
                             "a classifier needs at least 2 classes, so choose another target "
                             "column.")
        if problem == "binary" and len(names) != 2:
            start = (f"Binary classification needs a target with exactly 2 distinct values, "
                     f"but {quoted(name)} has {len(names)}")
            if _measurement(values):
                raise Refusal(f"{start}, and they are measurements rather than categories; "
                              "choose regression, or another target column.", TO_REGRESSION)
            if len(names) <= MAX_CLASSES:
                raise Refusal(f"{start}; choose multi-class, or another target column.",
                              TO_MULTICLASS)
            raise ValueError(f"{start}; choose another target column.")
        if problem == "multiclass" and len(names) > MAX_CLASSES:
            raise Refusal(f"{what} has {len(names)} distinct values, more than the "
                          f"{MAX_CLASSES} classes multi-class classification allows here; "
                          f"choose a target with 2 to {MAX_CLASSES} categories, or "
                          "regression if it is a measurement.",
                          TO_REGRESSION if _measurement(values) else None)
        index = {label: i for i, label in enumerate(names)}
        notes.append("Classes: " + ", ".join(f"{i} = {plain(n)}" for n, i in index.items())
                     + ".")
        return labels.map(index).to_numpy(np.int64), tuple(names)
    y = np.asarray(values, dtype=float)
    if problem == "counts":
        if np.any(y < 0) or np.any(y != np.round(y)):
            raise Refusal("Counts must be whole numbers ≥ 0; this target has negative or "
                          "fractional values, so use regression instead.", TO_REGRESSION)
        if y.max() > MAX_COUNT:
            raise Refusal(f"{what} has counts up to {y.max():.3g}, above the "
                          f"{MAX_COUNT:.2g} a count may reach here; use regression instead, "
                          "which standardizes the target.", TO_REGRESSION)
        return y, ()
    if not standardizes_target(problem, loss):
        if y.max() == y.min():
            raise ValueError(f"{what} has the same value in every row used; choose a column "
                             "whose values vary.")
        negative = int(np.sum(y < 0))
        if negative:
            reason = _nonnegative_reason(loss)
            raise Refusal(f"{reason[:1].upper()}{reason[1:]}, so it needs targets ≥ 0, but "
                          f"{negative} of the {len(y)} target values are negative; choose "
                          "another loss (MSE, MAE, Huber) or another target column.",
                          Fix("Use MSE", {"loss": "mse"}))
        notes.append(f"Target kept in its own units: {_nonnegative_reason(loss)}, and "
                     "standardizing would make every target below the mean negative.")
        return y, ()
    z, spread = _standardize(y, name, "target")
    notes.append(f"Target standardized: RMSE and MAE are in units of its standard deviation "
                 f"({spread:.4g}).")
    return z, ()


def _natural_key(text: str):
    try:
        number = float(text)
    except ValueError:
        return (1, 0.0, text)
    return (0, number, "") if not math.isnan(number) else (1, 0.0, text)


def digest(data: bytes, features, target: str, problem: str, loss: str | None = None) -> str:
    """A short fingerprint of an upload, the choice of columns and how the target was
    prepared: its cache key."""
    h = hashlib.sha1(data)
    h.update(repr((list(features), target, problem,
                   standardizes_target(problem, loss))).encode())
    return h.hexdigest()[:16]
