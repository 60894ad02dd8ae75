#!/usr/bin/env bash
# Install the app into .venv (first time only), start it, and say where it is: the URL it
# really serves (8501, or the next free port), opened in a browser when this is a desktop.
# Extra arguments go to streamlit, e.g. `bash scripts/run.sh --server.port 8600`.
# EXPLORER_NO_BROWSER=1 never opens a browser.
set -euo pipefail

# The port asked for with --server.port (either form), or nothing.
requested_port() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --server.port=*) echo "${1#*=}"; return ;;
            --server.port) echo "${2:-}"; return ;;
        esac
        shift
    done
}

# The first port from $1 up that nothing listens on (as Streamlit itself would pick).
free_port() {
    "${PYTHON_FOR_PORT:-python3}" - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
while port < 65536:
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            port += 1
            continue
    print(port)
    break
PY
}

# True when a person sits at this machine's screen: a graphical session, a way to open a
# browser, and not CI or a server (nor EXPLORER_NO_BROWSER).
desktop_session() {
    [ -z "${CI:-}" ] && [ -z "${EXPLORER_NO_BROWSER:-}" ] || return 1
    [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || return 1
    command -v xdg-open >/dev/null 2>&1
}

# Wait until the app answers, then open it in the desktop's browser.
open_when_ready() {
    local url="$1"
    for _ in $(seq 1 120); do
        if "${PYTHON_FOR_PORT:-python3}" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
                "$url/_stcore/health" 2>/dev/null; then
            xdg-open "$url" >/dev/null 2>&1 || true
            return
        fi
        sleep 0.5
    done
}

main() {
    cd "$(dirname "$0")/.."
    . scripts/venv.sh requirements.txt
    PYTHON_FOR_PORT="$VENV/bin/python"
    local port args=("$@")
    port="$(requested_port "$@")"
    if [ -z "$port" ]; then
        port="$(free_port 8501)"
        args+=(--server.port "$port")
    fi
    local url="http://localhost:$port"
    echo "Starting the Loss Function Explorer at $url (Ctrl+C stops it)."
    if desktop_session; then
        echo "Opening it in your browser..."
        open_when_ready "$url" &
    else
        echo "Open that address in a browser (on another machine: this machine's name or IP"
        echo "instead of localhost)."
    fi
    # browser.serverAddress: Streamlit prints just this URL, and does not look up an
    # external IP ("Did not auto detect external IP" on machines without internet)
    exec "$VENV/bin/python" -m streamlit run app.py --server.headless true \
        --browser.gatherUsageStats false --browser.serverAddress localhost "${args[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
