#!/usr/bin/env bash
# Install everything the tests need (Python packages in .venv, Debian's Chromium and nginx), then run
# ruff, mypy and the whole pytest suite, browser tests included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh requirements-dev.txt

missing=""
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    missing="chromium fonts-liberation fonts-dejavu-core"
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    missing="$missing nginx"   # the class deployment tests: replicas behind nginx
fi
if [ -n "$missing" ]; then
    echo "Installing Debian's $missing for the browser and deployment tests..."
    # shellcheck disable=SC2086
    apt_install $missing
fi

.venv/bin/python -m ruff check .
.venv/bin/python -m mypy explorer --exclude 'explorer/ui/'
# the slowest tests are listed at the end, so a suite creeping towards CI's limit shows why
.venv/bin/python -m pytest --durations=15 "$@"
