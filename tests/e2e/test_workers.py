"""A real `streamlit run app.py` with EXPLORER_TRAINING_WORKERS=1: runs train in a worker
process (a child of the server), the worker draws no page, and the protocol-level students
of benchmarks/bench_load.py get their runs without an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, _free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_load.py"


def _children(pid: int) -> list[int]:
    return [int(c) for children in Path(f"/proc/{pid}/task").glob("*/children")
            for c in children.read_text().split()]


def test_runs_train_in_a_worker_process_of_a_real_server(tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    env = dict(os.environ, EXPLORER_TRAINING_WORKERS="1")
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.time() < deadline, log.read_text()
                time.sleep(0.3)
        result = subprocess.run(
            [sys.executable, str(BENCH), "--url", url, "--students", "2", "--changes", "2",
             "--kinds", "seed", "--think", "0.2", "--timeout", "60",
             "--json", str(tmp_path / "bench.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=150)
        (ARTIFACTS / "workers-bench.txt").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, result.stdout + result.stderr
        summary = json.loads((tmp_path / "bench.json").read_text())
        assert summary["errors"] == 0 and summary["completed"] == 6
        # new seeds trained in the pool: the server has a forkserver and a worker below it
        assert _children(server.pid), "no worker process"
        text = log.read_text()
        # the worker loaded app.py without drawing a page (no bare-mode Streamlit there)
        assert "bare mode" not in text and "freeze_support" not in text, text[-2000:]
        assert "Traceback" not in text, text[-2000:]
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
