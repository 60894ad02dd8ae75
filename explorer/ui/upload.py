"""The sidebar's CSV upload: read, choose columns, prepare; every problem explained in place.

A rerun with the same file and the same choice does no table work: what the file offers
(``Columns``) is kept by the file's fingerprint, and the outcome of preparing it (a table, or
the sentence that refuses the choice) by fingerprint and choice, in small caches shared by
all sessions (a 1000-column file cost 1.7 s of the process's only turn on every rerun).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from explorer import config as cfg
from explorer import datasets, tabular
from explorer.ui import advice, compute, state

LOG = logging.getLogger(__name__)
DIGEST = state.UPLOAD_DIGEST
PROBLEM = "_upload_problem"
"""Why the chosen file or columns cannot be trained on, for the main area to repeat."""


PREVIEW_ROWS = 20
PREVIEW_COLUMNS = 50
"""The sidebar previews this much of a file (a wide one would cost a rerun's worth of
Arrow encoding for a table nobody reads sideways in a sidebar)."""


@st.cache_data(max_entries=8, show_spinner=False)
def _read(data: bytes) -> pd.DataFrame:
    return tabular.read_csv(data)


@dataclass(frozen=True)
class Columns:
    """What a file offers: its columns, those that can be features, and a preview."""

    names: tuple[str, ...]
    numeric: tuple[str, ...]
    preview: pd.DataFrame


@dataclass(frozen=True)
class Prepared:
    """The outcome of preparing a choice: the table, or why the choice is refused."""

    table: tabular.Table | None
    refusal: str = ""
    fix: cfg.Fix | None = None
    """The setting that would make the refused choice trainable, if one would."""


FILES = compute.LRU(max_entries=compute.UPLOAD_ENTRIES)
"""File fingerprint -> Columns, or the sentence that refuses the file."""
CHOICES = compute.LRU(max_entries=4 * compute.UPLOAD_ENTRIES)
"""(fingerprint, features, target, problem, loss) -> Prepared."""


def _columns(fingerprint: str, data: bytes) -> Columns | str:
    """The file's Columns, or why it cannot be used (either found once per file; an
    unexpected error is raised, and not kept)."""
    columns = FILES.get(fingerprint)
    if columns is None:
        try:
            frame = _read(data)
        except ValueError as err:
            columns = str(err)
        else:
            columns = Columns(tuple(frame.columns), tuple(tabular.numeric_columns(frame)),
                              frame.iloc[:PREVIEW_ROWS, :PREVIEW_COLUMNS])
        FILES.put(fingerprint, columns)
    return columns


def _prepare(fingerprint: str, data: bytes, features: list, target: str, problem: str,
             loss) -> Prepared:
    """The prepared table for this choice, or why it is refused (both kept per choice; an
    unexpected error is raised, and not kept)."""
    key = (fingerprint, tuple(features), target, problem, loss)
    prepared = CHOICES.get(key)
    if prepared is None:
        try:
            table = tabular.prepare(_read(data), features, target, problem, loss=loss)
        except ValueError as err:
            prepared = Prepared(None, str(err), getattr(err, "fix", None))
        else:
            prepared = Prepared(dataclasses.replace(
                table, digest=tabular.digest(data, features, target, problem, loss)))
        CHOICES.put(key, prepared)
    return prepared


def draw(sb, problem: str) -> None:
    """File, feature and target pickers; sets session_state[DIGEST] when the data is usable.

    The target is prepared for the loss currently chosen (MSLE keeps it in its own units).
    """
    st.session_state[DIGEST] = None
    st.session_state[PROBLEM] = None
    file = sb.file_uploader("CSV file", type=["csv", "tsv", "txt"], key="csv_file",
                            help="A header row, one example per row; one or two number "
                                 "columns as features and a target column.")
    if file is None:
        sb.info("Choose a CSV file: a header row, one example per row.")
        return
    data = file.getvalue()
    fingerprint = hashlib.sha1(data).hexdigest()
    try:
        offer = _columns(fingerprint, data)
    except Exception:  # a file must never break the page; the log keeps the details
        LOG.exception("reading an uploaded file failed")
        _refuse(sb, "This file cannot be used.", UNEXPECTED)
        advice.buttons(sb, [built_in(problem)], "upload_fix")
        return
    if isinstance(offer, str):
        _refuse(sb, "This file cannot be used.", offer)
        return
    numeric, columns = list(offer.numeric), list(offer.names)
    file_key = fingerprint[:10]
    default_target = columns[-1]
    default_features = [c for c in numeric if c != default_target][:2]
    features = sb.multiselect("Feature columns (1 or 2)", numeric, default=default_features,
                              max_selections=2, key=f"csv_features_{file_key}",
                              help="Only number columns can be features.")
    target = sb.selectbox("Target column", columns, index=len(columns) - 1,
                          key=f"csv_target_{file_key}")
    loss = st.session_state.get("loss")
    try:
        prepared = _prepare(fingerprint, data, features, target, problem, loss)
    except Exception:  # as above: explain, log, never crash
        LOG.exception("preparing an uploaded file failed")
        _refuse(sb, "Cannot train on this choice.", UNEXPECTED)
        advice.buttons(sb, [built_in(problem)], "upload_fix")
        return
    if prepared.table is None:
        _refuse(sb, "Cannot train on this choice.", prepared.refusal)
        if prepared.fix is not None:
            advice.buttons(sb, [prepared.fix], "upload_fix")
        return
    table = prepared.table
    compute.UPLOADS.put(table)
    st.session_state[DIGEST] = table.digest
    sb.caption(tabular.literal(f"{len(table.X)} rows. " + " ".join(table.notes)))
    with sb.expander("Preview"):
        st.dataframe(offer.preview, hide_index=True)
        if len(columns) > PREVIEW_COLUMNS:
            st.caption(f"The first {PREVIEW_COLUMNS} of {len(columns)} columns.")


UNEXPECTED = ("The app could not use this file because of an error on its side; save it as "
              "CSV UTF-8 and upload it again, or choose a built-in dataset.")


def built_in(problem: str) -> cfg.Fix:
    """The advice "choose a built-in dataset", as a button: the problem's first one."""
    return cfg.Fix("Use a built-in dataset", {"dataset": datasets.for_problem(problem)[0]})


def _refuse(sb, title: str, message: str) -> None:
    """Say in the sidebar why the file or the choice cannot be used (names from the file
    shown as typed, not as Markdown); the main area repeats it (``PROBLEM``)."""
    sb.error(f"**{title}** {tabular.literal(message)}")
    st.session_state[PROBLEM] = message
