"""The app as a replica serves it: `streamlit run serve.py` (deploy/Dockerfile, run-local.sh).

The same page as `streamlit run app.py`, plus one route on Streamlit's own server: the
liveness probe ``LIVENESS_PATH`` (explorer/ui/liveness.py), which fails while one script run
has held the process's turn for far too long. ``streamlit run`` finds the ``st.App`` below
and serves it (Streamlit 1.67's ``st.App(routes=...)``); on a laptop, `streamlit run app.py`
is enough.
"""

import contextlib
import os

# As in app.py: one BLAS thread, set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import streamlit as st  # noqa: E402
from starlette.routing import Route  # noqa: E402

LIVENESS_PATH = "/lfe/live"


async def live(request):
    from explorer.ui import liveness  # imported by startup(), before the first request

    return await liveness.endpoint(request)


@contextlib.asynccontextmanager
async def startup(app):
    """Import the app's modules once the runtime is up (importing them earlier, before
    Streamlit's runtime exists, sets their caches up against a stand-in and logs warnings);
    the first student's page does not pay for the import either."""
    import explorer.ui  # noqa: F401

    yield


app = st.App("app.py", routes=[Route(LIVENESS_PATH, live, methods=["GET", "HEAD"])],
             lifespan=startup)
