#!/usr/bin/env bash
# Install everything the tests need (Python packages and Debian's Chromium), then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium for the browser tests..."
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        chromium fonts-liberation fonts-dejavu-core fonts-noto-color-emoji >/dev/null
fi

python -m ruff check .
python -m pytest "$@"
