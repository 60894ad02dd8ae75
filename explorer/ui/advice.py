"""Advice one click away: a button for each change a message advises."""

from __future__ import annotations

import streamlit as st

from explorer.ui import state


def buttons(container, fixes, key: str) -> None:
    """One button per fix (``training.Fix``, or its dict from a run's history), side by
    side; each applies its change and the page trains the result."""
    fixes = [(f["label"], f["changes"]) if isinstance(f, dict) else (f.label, f.changes)
             for f in fixes]
    if not fixes:
        return
    if len(fixes) == 1 and container is st.sidebar:
        container.button(fixes[0][0], key=f"{key}_0", icon=":material/build:",
                         on_click=state.apply_changes, args=(fixes[0][1],))
        return
    columns = container.columns(len(fixes) + 1 if len(fixes) < 3 else len(fixes))
    for i, (label, changes) in enumerate(fixes):
        columns[i].button(label, key=f"{key}_{i}", icon=":material/build:",
                          on_click=state.apply_changes, args=(changes,), width="stretch")
