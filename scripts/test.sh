#!/usr/bin/env bash
# Install everything the tests need (Python packages in .venv, Debian's Chromium, nginx and
# PostgreSQL), then run ruff, mypy and the whole pytest suite, browser tests included. Extra
# arguments go to pytest.
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
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    # rooms in PostgreSQL: tests start a throwaway server from these binaries
    # (deploy/local_postgres.py), as deploy/run-local.sh does for two or more replicas
    missing="$missing postgresql"
fi
if [ -n "$missing" ]; then
    echo "Installing Debian's $missing for the browser, deployment and database tests..."
    # shellcheck disable=SC2086
    apt_install $missing
fi

.venv/bin/python -m ruff check .
.venv/bin/python -m mypy explorer --exclude 'explorer/ui/'
# The slowest tests are listed at the end, so a suite creeping towards CI's limit shows why.
# With test paths among the arguments, run just those. Otherwise two passes: the unit and
# AppTest files spread over the cores (a whole file per process, so a module's fixture, such
# as every lesson on six seeds, runs once), then the browser tests one at a time (each starts
# servers and Chromium, which would only fight over the cores).
filtered=false
value=false   # the previous argument was an option that takes the next one as its value
for arg in "$@"; do
    if [ "$value" = true ]; then value=false; continue; fi
    case "$arg" in
        -m|-k) filtered=true; value=true ;;
        -m*|-k*) filtered=true ;;
        -n|-p|-o|-c|--maxfail|--durations|--deselect|--ignore|--rootdir|--basetemp) value=true ;;
        -*) ;;
        *) exec .venv/bin/python -m pytest --durations=15 "$@" ;;
    esac
done
# a pass that collects nothing fails (exit 5), unless -m or -k chose the tests
run_pass() {
    local rc=0
    .venv/bin/python -m pytest "$@" || rc=$?
    if [ "$rc" -eq 5 ] && [ "$filtered" = true ]; then rc=0; fi
    return "$rc"
}
run_pass -n auto --dist loadfile --durations=10 tests --ignore=tests/e2e "$@"
run_pass --durations=10 tests/e2e "$@"
