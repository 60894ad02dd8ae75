"""Loss Function Explorer — `streamlit run app.py`."""

import os

# The networks are tiny: one BLAS thread is faster than several fighting over two cores
# (multi-threaded OpenBLAS made figure building 10-20x slower under load). Must be set
# before NumPy is first imported, which in `streamlit run` happens below.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# A training worker process (EXPLORER_TRAINING_WORKERS, explorer/ui/compute.py) loads this
# file as "__mp_main__", because Streamlit makes it the main module: there is no page there.
if __name__ != "__mp_main__":
    import streamlit as st

    st.set_page_config(page_title="Loss Function Explorer", page_icon="📉", layout="wide",
                       initial_sidebar_state="expanded")

    from explorer.ui import main  # page config must come first

    main()
