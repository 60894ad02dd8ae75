"""Real Chromium (Debian's) against a real `streamlit run app.py` on a free local port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require_browser():
    missing = not Path(CHROMIUM).exists()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        message = "Chromium or Playwright is missing: run scripts/test.sh, which installs both"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


HOLDS = ARTIFACTS / "holds"
"""The server's test gate (``compute.HOLD_VARIABLE``): a file ``seed-<seed>`` here holds a run
of that seed open until the test removes it."""


SERVER_PROCESS: list = []
"""The running test server's process (for tests that read its memory)."""


@contextlib.contextmanager
def serving(env: dict, log_name: str = "streamlit-server.log"):
    """A real ``streamlit run app.py`` on a free loopback port with these extra environment
    variables, healthy before it is yielded as (url, process); stopped afterwards."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / log_name).open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the Streamlit server did not become healthy within 60 s")
            time.sleep(0.2)
        try:
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


NGINX = "/usr/sbin/nginx"


def run_local(n: int, env: dict, log_name: str, ready_within_s: float = 150):
    """Start ``deploy/run-local.sh N PORT`` (on a free port, with these extra variables; nginx
    from Debian's path when it is not on PATH); (process, its READY block) once ready. Stop it
    with ``stop_run_local``."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    log = log_path.open("w")  # noqa: SIM115 (closed by stop_run_local)
    env = {**os.environ, "PYTHON": sys.executable, **env}
    if not any((Path(d) / "nginx").exists() for d in env.get("PATH", "").split(":")):
        env["NGINX"] = NGINX
    proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "run-local.sh"), str(n),
                             str(_free_port())], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + ready_within_s
    while "READY" not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_run_local(proc)
            pytest.fail("deploy/run-local.sh did not get ready:\n" + log_path.read_text())
        time.sleep(0.3)
    return proc, log_path.read_text()


def stop_run_local(proc: subprocess.Popen, within_s: float = 40) -> None:
    """TERM the script (its trap stops nginx, the replicas and its database); KILL the group
    if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=within_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    proc.log.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def server():
    _require_browser()
    HOLDS.mkdir(parents=True, exist_ok=True)
    for stale in HOLDS.glob("seed-*"):
        stale.unlink()
    with serving({"EXPLORER_TEST_HOLD_DIR": str(HOLDS)}) as (url, proc):
        SERVER_PROCESS[:] = [proc]
        yield url


@pytest.fixture
def server_pid(server) -> int:
    """The test server's process id (for tests that read its memory)."""
    return SERVER_PROCESS[0].pid


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        # what the page showed when the test failed, for the person reading CI's log
        name = request.node.name.replace("/", "_")[:80]
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Hold:
    """Holds runs of one seed open on the test server until ``release`` (or the test's end)."""

    def __init__(self, seed: int):
        self.path = HOLDS / f"seed-{seed}"
        self.path.touch()

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


@pytest.fixture
def hold():
    made: list[Hold] = []

    def make(seed: int) -> Hold:
        made.append(Hold(seed))
        return made[-1]

    yield make
    for gate in made:
        gate.release()
