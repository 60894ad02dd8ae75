"""A lesson as a student meets it: its point and what to watch, with what the app measured
one click away."""

from __future__ import annotations

import streamlit as st

from explorer import presets
from explorer.lessons import words

DETAILS = "What the app measured"


def banner(preset: presets.Preset) -> None:
    """The lesson's sentence and "Watch for", then its measured claims in a closed details
    section."""
    st.info(f"**Lesson: {preset.title}.** {preset.summary}  \n"
            f"**Watch for:** {preset.watch_for}", icon=":material/school:")
    with st.expander(DETAILS, icon=":material/fact_check:"):
        st.markdown(presets.readable(preset.explanation))
        st.caption("Checked by the app on this lesson's seed and on five others:")
        st.markdown("\n".join(f"- {presets.readable(claim.text)}" for claim in preset.claims))
        said = " ".join([preset.explanation, *(claim.text for claim in preset.claims)])
        terms = words.glossary_for(said)
        if terms:
            st.caption("  \n".join(f"**{term}**: {meaning}." for term, meaning in terms))
