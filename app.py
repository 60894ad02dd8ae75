"""Loss Function Explorer — `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="Loss Function Explorer", page_icon="📉", layout="wide",
                   initial_sidebar_state="expanded")

from explorer.ui import main  # noqa: E402  (page config must come first)

main()
