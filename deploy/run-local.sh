#!/usr/bin/env bash
# The scale-out topology on one machine, without Docker: N replicas of the app on free
# loopback ports behind Debian's nginx on 127.0.0.1:PORT, with the same sticky-session
# proxy rules as deploy/nginx/nginx.conf (deploy/nginx/maps.conf and locations.conf).
#
#   deploy/run-local.sh N PORT           start, wait until healthy, run until Ctrl-C / TERM
#   deploy/run-local.sh --config N PORT DIR
#                                        only write DIR/nginx.conf (replicas on PORT+1..N),
#                                        for `nginx -t` in tests/test_deploy.py
#
# Everything nginx writes (pid, logs, temp files) is in a temporary directory, removed on
# exit unless KEEP_RUN_DIR=1. Each replica is `streamlit run serve.py`, up when its liveness
# route /lfe/live answers 200; nginx is up when /_stcore/health answers through it.
# Rooms (explorer/rooms) live in the database DATABASE_URL names. Without it: with one
# replica, the app's default SQLite file; with two or more, a throwaway PostgreSQL in the
# temporary directory (deploy/local_postgres.py, Debian's `postgresql`), shared by every
# replica and stopped on exit, so a room's votes reach the projector whichever replica
# took them.
# Environment: PYTHON (default .venv/bin/python, else python3), NGINX (default nginx on
# PATH, else /usr/sbin/nginx), HEALTH_TIMEOUT (seconds, default 90), DATABASE_URL.
# Once healthy it prints "READY http://127.0.0.1:PORT", "DATABASE_URL=<the rooms database>"
# (password hidden) and one "replica <pid> <port>" line per replica, in one write
# (benchmarks/bench_load.py finds the replicas by itself from nginx's config).
set -euo pipefail

DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$DEPLOY")"

usage() {
    echo "usage: $0 N PORT   |   $0 --config N PORT DIR" >&2
    exit 2
}

# write_config DIR PORT REPLICA_PORT... : the top level of nginx's config for loopback.
write_config() {
    local dir="$1" port="$2" replica
    shift 2
    {
        echo "# Written by deploy/run-local.sh: $# replica(s) behind 127.0.0.1:$port."
        echo "daemon off;"
        echo "worker_processes 1;"
        echo "pid \"$dir/nginx.pid\";"
        echo "error_log \"$dir/error.log\" warn;"
        echo "events { worker_connections 1024; }"
        echo "http {"
        echo "    log_format lfe '\$remote_addr [\$time_local] \"\$request\" \$status \$body_bytes_sent'"
        echo "                   ' upstream=\$upstream_addr rt=\$request_time';"
        echo "    access_log \"$dir/access.log\" lfe;"
        echo "    client_body_temp_path \"$dir/client_body\";"
        echo "    proxy_temp_path \"$dir/proxy\";"
        echo "    fastcgi_temp_path \"$dir/fastcgi\";"
        echo "    uwsgi_temp_path \"$dir/uwsgi\";"
        echo "    scgi_temp_path \"$dir/scgi\";"
        echo "    include \"$DEPLOY/nginx/maps.conf\";"
        echo "    proxy_cache_path \"$dir/static-cache\" keys_zone=lfe_static:10m max_size=200m"
        echo "                     inactive=1d use_temp_path=off;"
        echo "    upstream streamlit {"
        echo "        hash \$lfe_affinity consistent;"
        for replica in "$@"; do
            echo "        server 127.0.0.1:$replica max_fails=1 fail_timeout=10s;"
        done
        echo "        keepalive 16;"
        echo "    }"
        echo "    server {"
        echo "        listen 127.0.0.1:$port;"
        echo "        # loopback testing only: which replica answered (tests/e2e/test_deploy.py)"
        echo "        add_header X-LFE-Replica \$upstream_addr always;"
        echo "        include \"$DEPLOY/nginx/locations.conf\";"
        echo "    }"
        echo "}"
    } > "$dir/nginx.conf"
}

is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }

if [ "${1:-}" = "--config" ]; then
    [ $# -eq 4 ] && is_count "$2" && is_port "$3" || usage
    n="$2" port="$3" dir="$4"
    mkdir -p "$dir"
    ports=()
    for ((i = 1; i <= n; i++)); do ports+=("$((port + i))"); done
    write_config "$(cd "$dir" && pwd)" "$port" "${ports[@]}"
    exit 0
fi

[ $# -eq 2 ] && is_count "$1" && is_port "$2" || usage
N="$1"
PORT="$2"

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
if [ -z "${NGINX:-}" ]; then
    NGINX="$(command -v nginx || true)"
    [ -n "$NGINX" ] || NGINX=/usr/sbin/nginx
fi
[ -x "$NGINX" ] || { echo "nginx not found (apt-get install nginx, or set NGINX)" >&2; exit 1; }
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-90}"

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/lfe-run-local.XXXXXX")"
# nginx's workers run as "nobody" when the master is root: let them reach their temp dirs.
chmod 755 "$RUN_DIR"
PIDS=()
NGINX_PID=""
POSTGRES_DIR=""

cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}" $NGINX_PID; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 50); do  # up to 10 s for a clean stop
        local alive=0
        for pid in "${PIDS[@]}" $NGINX_PID; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ "$alive" -eq 0 ] && break
        sleep 0.2
    done
    for pid in "${PIDS[@]}" $NGINX_PID; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ -n "$POSTGRES_DIR" ]; then  # after the replicas: they held connections to it
        "$PYTHON" "$DEPLOY/local_postgres.py" stop "$POSTGRES_DIR" || true
    fi
    if [ "${KEEP_RUN_DIR:-0}" = 1 ]; then
        echo "run directory kept: $RUN_DIR" >&2
    else
        rm -rf "$RUN_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# N free loopback ports, other than PORT (the kernel picks them; all held until all known).
mapfile -t REPLICA_PORTS < <("$PYTHON" - "$N" "$PORT" <<'EOF'
import socket, sys
n, avoid = int(sys.argv[1]), int(sys.argv[2])
held = []
while len(held) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    if s.getsockname()[1] != avoid:
        held.append(s)
for s in held:
    print(s.getsockname()[1])
EOF
)
[ "${#REPLICA_PORTS[@]}" -eq "$N" ] || { echo "could not find $N free ports" >&2; exit 1; }

wait_healthy() {  # URL PID: until URL answers 200 (or PID died, or timeout)
    "$PYTHON" - "$1" "$2" "$HEALTH_TIMEOUT" <<'EOF'
import os, sys, time, urllib.request
url, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"process {pid} exited before {url} became healthy")
    time.sleep(0.2)
sys.exit(f"{url} not healthy within {timeout:g} s")
EOF
}

cd "$ROOT"
if [ -z "${DATABASE_URL:-}" ] && [ "$N" -ge 2 ]; then
    # several replicas share one database: a throwaway PostgreSQL in the run directory
    POSTGRES_DIR="$RUN_DIR/postgres"
    started="$("$PYTHON" "$DEPLOY/local_postgres.py" start "$POSTGRES_DIR")" || {
        echo "could not start PostgreSQL for the replicas' rooms (apt-get install postgresql," \
             "or set DATABASE_URL)" >&2
        exit 1
    }
    export DATABASE_URL="${started#DATABASE_URL=}"
fi
ROOMS_DATABASE="$("$PYTHON" -c 'from explorer.rooms.database import describe, resolve_url
print(describe(resolve_url()))')"

for ((i = 0; i < N; i++)); do
    p="${REPLICA_PORTS[$i]}"
    # deploy/Dockerfile's CMD: serve.py (the page plus the liveness route), the same flags
    # (tests/test_deploy.py checks they agree)
    "$PYTHON" -m streamlit run serve.py --server.address 127.0.0.1 --server.port "$p" \
        --server.headless true --browser.gatherUsageStats false \
        --server.fileWatcherType none --runner.postScriptGC false \
        > "$RUN_DIR/replica-$((i + 1)).log" 2>&1 &
    PIDS+=("$!")
done

write_config "$RUN_DIR" "$PORT" "${REPLICA_PORTS[@]}"
"$NGINX" -t -q -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -e "$RUN_DIR/error.log"

for ((i = 0; i < N; i++)); do
    if ! wait_healthy "http://127.0.0.1:${REPLICA_PORTS[$i]}/lfe/live" "${PIDS[$i]}"; then
        tail -n 20 "$RUN_DIR/replica-$((i + 1)).log" >&2
        exit 1
    fi
done

"$NGINX" -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -e "$RUN_DIR/error.log" &
NGINX_PID="$!"
if ! wait_healthy "http://127.0.0.1:$PORT/_stcore/health" "$NGINX_PID"; then
    cat "$RUN_DIR/error.log" >&2 || true
    exit 1
fi

ready="READY http://127.0.0.1:$PORT"$'\n'"DATABASE_URL=$ROOMS_DATABASE"$'\n'
for ((i = 0; i < N; i++)); do
    ready+="replica ${PIDS[$i]} ${REPLICA_PORTS[$i]}"$'\n'
done
printf '%s' "$ready"  # one write: a reader that sees READY sees the rest
echo "nginx $NGINX_PID (config and logs in $RUN_DIR); Ctrl-C stops everything"

# Run until a signal, or until any process exits (then stop the others).
set +e
wait -n "${PIDS[@]}" "$NGINX_PID"
status=$?
echo "a process exited (status $status); stopping everything" >&2
exit 1
