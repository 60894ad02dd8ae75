"""A page showing one lesson's banner alone (tests/test_app_lessons.py): ?preset=<key>.

A worker process started while a test runs loads the main module as "__mp_main__" (as it
does app.py): there is no page there."""

if __name__ != "__mp_main__":
    import streamlit as st

    from explorer import presets
    from explorer.ui import lesson

    lesson.banner(presets.get(st.query_params["preset"]))
