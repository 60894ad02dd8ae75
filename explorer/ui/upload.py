"""The sidebar's CSV upload: read, choose columns, prepare; every problem explained in place."""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import pandas as pd
import streamlit as st

from explorer import tabular
from explorer.ui import compute

LOG = logging.getLogger(__name__)
DIGEST = "_upload_digest"
PROBLEM = "_upload_problem"
"""Why the chosen file or columns cannot be trained on, for the main area to repeat."""


@st.cache_data(max_entries=8, show_spinner=False)
def _read(data: bytes) -> pd.DataFrame:
    return tabular.read_csv(data)


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
    try:
        frame = _read(data)
    except ValueError as err:
        _refuse(sb, "This file cannot be used.", str(err))
        return
    except Exception:  # a file must never break the page; the log keeps the details
        LOG.exception("reading an uploaded file failed")
        _refuse(sb, "This file cannot be used.", UNEXPECTED)
        return
    numeric = tabular.numeric_columns(frame)
    columns = list(frame.columns)
    file_key = hashlib.sha1(data).hexdigest()[:10]
    default_target = columns[-1]
    default_features = [c for c in numeric if c != default_target][:2]
    features = sb.multiselect("Feature columns (1 or 2)", numeric, default=default_features,
                              max_selections=2, key=f"csv_features_{file_key}",
                              help="Only number columns can be features.")
    target = sb.selectbox("Target column", columns, index=len(columns) - 1,
                          key=f"csv_target_{file_key}")
    loss = st.session_state.get("loss")
    try:
        table = tabular.prepare(frame, features, target, problem, loss=loss)
    except ValueError as err:
        _refuse(sb, "Cannot train on this choice.", str(err))
        return
    except Exception:  # as above: explain, log, never crash
        LOG.exception("preparing an uploaded file failed")
        _refuse(sb, "Cannot train on this choice.", UNEXPECTED)
        return
    table = dataclasses.replace(table, digest=tabular.digest(data, features, target, problem,
                                                             loss))
    compute.UPLOADS.put(table)
    st.session_state[DIGEST] = table.digest
    sb.caption(tabular.literal(f"{len(table.X)} rows. " + " ".join(table.notes)))
    with sb.expander("Preview"):
        st.dataframe(frame.head(20), hide_index=True)


UNEXPECTED = ("The app could not use this file because of an error on its side; save it as "
              "CSV UTF-8 and upload it again, or choose a built-in dataset.")


def _refuse(sb, title: str, message: str) -> None:
    """Say in the sidebar why the file or the choice cannot be used (names from the file
    shown as typed, not as Markdown); the main area repeats it (``PROBLEM``)."""
    sb.error(f"**{title}** {tabular.literal(message)}")
    st.session_state[PROBLEM] = message
