"""Your own data: a CSV read with pandas, checked, and turned into (X, y) for a problem type.

Every problem with the file becomes a ValueError whose message says what to change. Features
are standardized (mean 0, standard deviation 1) because the networks here expect inputs of
order 1. Regression targets are standardized too (RMSE and MAE are then in standard deviations
of the target, and the notes say so), except for a loss that needs targets >= 0 in their own
units (MSLE): standardizing would make every target below the mean negative. Such a loss on a
target with negative values is refused with a message, never clipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explorer import losses
from explorer.datasets import MAX_CLASSES

MAX_BYTES = 5_000_000
MAX_ROWS = 5000
MIN_ROWS = 10
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


def read_csv(data: bytes) -> pd.DataFrame:
    """Parse uploaded bytes as CSV (comma, semicolon or tab separated)."""
    if not data or not data.strip():
        raise ValueError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is {len(data) / 1e6:.1f} MB; the limit is "
                         f"{MAX_BYTES / 1e6:.0f} MB. Keep a sample of the rows.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            raise ValueError("The file is not text; save it as CSV (UTF-8).") from None
    if "\x00" in text:
        raise ValueError("The file looks binary (an Excel workbook?); save it as CSV.")
    try:
        sep = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as err:
        raise ValueError(f"Could not read the file as CSV: {_first_line(err)}") from None
    if frame.shape[1] < 2:
        raise ValueError("The CSV needs at least two columns: one or two features and a "
                         "target.")
    if len(frame) < MIN_ROWS:
        raise ValueError(f"The CSV has {len(frame)} rows; at least {MIN_ROWS} are needed.")
    frame.columns = [str(c).strip() or f"column {i + 1}" for i, c in enumerate(frame.columns)]
    if frame.columns.duplicated().any():
        raise ValueError("Two columns have the same name; rename one.")
    return frame


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that are numbers (or numbers written as text) in at least 90% of the rows."""
    names = []
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().mean() >= 0.9:
            names.append(name)
    return names


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
    standardized X and encoded y (see ``standardizes_target``)."""
    features = list(features)
    if not 1 <= len(features) <= 2:
        raise ValueError("Choose one or two feature columns (the views draw 1-D and 2-D "
                         "inputs).")
    missing = [c for c in [*features, target] if c not in frame.columns]
    if missing:
        raise ValueError(f"No column named {missing[0]!r} in the file.")
    if target in features:
        raise ValueError("The target cannot also be a feature.")
    notes = []
    X_frame = frame[features].apply(pd.to_numeric, errors="coerce")
    bad = [c for c in features if X_frame[c].notna().mean() < 0.9]
    if bad:
        raise ValueError(f"The feature {bad[0]!r} is not numeric; pick number columns as "
                         "features.")
    keep = X_frame.notna().all(axis=1) & frame[target].notna()
    if problem in ("regression", "counts"):
        target_values = pd.to_numeric(frame[target], errors="coerce")
        if target_values.notna().mean() < 0.9:
            raise ValueError(f"The target {target!r} is not numeric, but "
                             f"{'regression' if problem == 'regression' else 'counts'} "
                             "needs numbers. For categories choose a classification problem.")
        keep &= target_values.notna()
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"Dropped {dropped} row{'s' if dropped > 1 else ''} with missing or "
                     "non-numeric values.")
    X_frame, target_column = X_frame[keep], frame.loc[keep, target]
    if len(X_frame) < MIN_ROWS:
        raise ValueError(f"Only {len(X_frame)} complete rows remain; at least {MIN_ROWS} are "
                         "needed.")
    if len(X_frame) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(X_frame), max_rows,
                                                          replace=False))
        notes.append(f"Kept a random sample of {max_rows} of the {len(X_frame)} rows.")
        X_frame, target_column = X_frame.iloc[rows], target_column.iloc[rows]
    X = X_frame.to_numpy(float)
    std = X.std(axis=0)
    if np.any(std == 0):
        constant = features[int(np.argmax(std == 0))]
        raise ValueError(f"The feature {constant!r} has the same value in every row.")
    X = (X - X.mean(axis=0)) / std
    notes.append("Features standardized to mean 0 and standard deviation 1.")
    y, class_names = _encode_target(target_column, problem, notes, loss)
    return Table(X, y, tuple(features), target, problem, class_names, tuple(notes),
                 standardizes_target(problem, loss))


def _encode_target(column: pd.Series, problem: str, notes: list[str], loss: str | None):
    if problem in ("binary", "multiclass"):
        labels = column.astype(str).str.strip()
        names = sorted(labels.unique(), key=_natural_key)
        if problem == "binary" and len(names) != 2:
            raise ValueError(f"Binary classification needs a target with exactly 2 distinct "
                             f"values; this one has {len(names)}. Try multi-class or another "
                             "column.")
        if problem == "multiclass" and not 2 <= len(names) <= MAX_CLASSES:
            raise ValueError(f"Multi-class needs 2 to {MAX_CLASSES} distinct target values; "
                             f"this one has {len(names)}.")
        index = {name: i for i, name in enumerate(names)}
        notes.append("Classes: " + ", ".join(f"{i} = {n}" for n, i in index.items()) + ".")
        return labels.map(index).to_numpy(np.int64), tuple(names)
    y = pd.to_numeric(column, errors="coerce").to_numpy(float)
    if problem == "counts":
        if np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("Counts must be whole numbers ≥ 0; this target has negative or "
                             "fractional values. Use regression instead.")
        return y, ()
    if y.std() == 0:
        raise ValueError("The target has the same value in every row.")
    if not standardizes_target(problem, loss):
        negative = int(np.sum(y < 0))
        if negative:
            raise ValueError(f"{_nonnegative_reason(loss)}, so it needs targets ≥ 0, but "
                             f"{negative} of the {len(y)} target values are negative. Choose "
                             "another loss (MSE, MAE, Huber) or another target column.")
        notes.append(f"Target kept in its own units: {_nonnegative_reason(loss)}, and "
                     "standardizing would make every target below the mean negative.")
        return y, ()
    notes.append(f"Target standardized: RMSE and MAE are in units of its standard deviation "
                 f"({y.std():.4g}).")
    return (y - y.mean()) / y.std(), ()


def _natural_key(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def digest(data: bytes, features, target: str, problem: str, loss: str | None = None) -> str:
    """A short fingerprint of an upload, the choice of columns and how the target was
    prepared: its cache key."""
    h = hashlib.sha1(data)
    h.update(repr((list(features), target, problem,
                   standardizes_target(problem, loss))).encode())
    return h.hexdigest()[:16]
