"""Loss Function Explorer — `streamlit run app.py`."""

import os

# The networks are tiny: one BLAS thread is faster than several fighting over two cores
# (multi-threaded OpenBLAS made figure building 10-20x slower under load). Must be set
# before NumPy is first imported, which in `streamlit run` happens below.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Loss Function Explorer", page_icon="📉", layout="wide",
                   initial_sidebar_state="expanded")

from explorer.ui import main  # noqa: E402  (page config must come first)

main()
