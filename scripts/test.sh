#!/usr/bin/env bash
# Install everything the tests need (Python packages in .venv, Debian's Chromium), then run
# ruff, mypy and the whole pytest suite, browser tests included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium for the browser tests..."
    apt_install chromium fonts-liberation fonts-dejavu-core
fi

.venv/bin/python -m ruff check .
.venv/bin/python -m mypy explorer --exclude 'explorer/ui/'
.venv/bin/python -m pytest "$@"
