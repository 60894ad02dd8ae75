# Sourced by run.sh and test.sh: make (or reuse) .venv and install a requirements file into it.
# Works on a fresh Debian 12, where only python3 exists and pip refuses to install outside a
# virtual environment (PEP 668). Usage: . scripts/venv.sh requirements.txt
set -euo pipefail

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sys" 2>/dev/null; then
    rm -rf "$VENV"
    echo "Creating a Python environment in $VENV..."
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        echo "Installing Debian's python3-venv (needed to create $VENV)..."
        rm -rf "$VENV"
        apt_install python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
fi

# Install only when the requirements changed since the last install into this venv.
stamp="$VENV/.installed-$(basename "$1")"
wanted="$(cat "$@" requirements.txt 2>/dev/null | sha1sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the Python packages in $1 into $VENV (first run, or they changed;" \
         "about half a minute)..."
    started=$SECONDS
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$1"
    echo "Installed in $((SECONDS - started)) s."
    echo "$wanted" > "$stamp"
fi
