#!/usr/bin/env bash
# Install the app into .venv (first time only) and start it on http://localhost:8501.
# Extra arguments go to streamlit, e.g. `bash scripts/run.sh --server.port 8600`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py --server.headless true \
    --browser.gatherUsageStats false "$@"
