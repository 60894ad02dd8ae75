"""The scale-out topology for real: deploy/run-local.sh with two replicas behind nginx, two
Chromium sessions pinned to different replicas, each with its own uploaded CSV; and
benchmarks/bench_load.py as a smoke test, through nginx and against its own server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, NGINX, run_local, stop_run_local
from tests.e2e.helpers import CHART, no_exception, wait_for_query, wait_idle

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_load.py"


def _require_nginx() -> None:
    if not (Path(NGINX).exists() or any(
            (Path(d) / "nginx").exists() for d in os.environ.get("PATH", "").split(":"))):
        message = "nginx is missing: apt-get install nginx"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def cluster():
    """deploy/run-local.sh 2 <port>: (url, {replica address: pid}); stopped at teardown."""
    _require_nginx()
    proc, ready = run_local(2, {}, "run-local.log", ready_within_s=120)
    replicas = {f"127.0.0.1:{p}": int(pid) for pid, p in
                re.findall(r"(?m)^replica (\d+) (\d+)$", ready)}
    assert len(replicas) == 2
    yield re.search(r"(?m)^READY (\S+)$", ready).group(1), replicas
    stop_run_local(proc, within_s=30)
    assert not any(_alive(pid) for pid in replicas.values()), "a replica outlived the script"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _replica_of(url: str, cookie: str) -> str:
    request = urllib.request.Request(url + "/_stcore/health",
                                     headers={"Cookie": f"lfe_affinity={cookie}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-LFE-Replica"]


def _cookie_per_replica(url: str, replicas) -> dict[str, str]:
    """A routing-cookie value for each replica (nginx hashes the cookie to a replica)."""
    found: dict[str, str] = {}
    for k in range(200):
        found.setdefault(_replica_of(url, f"probe-{k}"), f"probe-{k}")
        if len(found) == len(replicas):
            return found
    pytest.fail(f"cookies reached only {sorted(found)}")


def _csv(path: Path, header: tuple[str, str, str], rows: int, seed: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 2))
    label = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    lines = [",".join(header)] + [f"{a:.3f},{b:.3f},{c}" for (a, b), c in zip(X, label)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sidebar_rows(page) -> str:
    caption = page.locator("[data-testid='stSidebar']").get_by_text(re.compile(r"^\d+ rows\."))
    return re.match(r"\d+ rows\.", caption.first.inner_text()).group(0)


def _x_title(page) -> str:
    return page.locator(CHART).first.evaluate("g => g.layout.xaxis.title.text")


def test_each_replica_is_alive_and_liveness_is_not_public(cluster):
    url, replicas = cluster
    for address in replicas:
        with urllib.request.urlopen(f"http://{address}/lfe/live", timeout=10) as response:
            assert response.status == 200 and response.read().startswith(b"ok: ")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + "/lfe/live", timeout=10)
    assert refused.value.code == 404


def test_two_sessions_on_two_replicas_keep_their_own_uploads(cluster, browser, tmp_path):
    url, replicas = cluster
    cookies = _cookie_per_replica(url, replicas)
    files = {"a": _csv(tmp_path / "animals.csv", ("height", "weight", "animal"), 120, 1),
             "b": _csv(tmp_path / "plants.csv", ("alpha", "beta", "flower"), 90, 2)}
    expected = {"a": ("120 rows.", "height (standardized)"),
                "b": ("90 rows.", "alpha (standardized)")}
    pages, uploads, contexts = {}, {}, []
    try:
        for (name, path), (replica, cookie) in zip(files.items(), cookies.items()):
            context = browser.new_context(viewport={"width": 1500, "height": 1000})
            contexts.append(context)
            context.add_cookies([{"name": "lfe_affinity", "value": cookie, "url": url}])
            page = context.new_page()
            page.set_default_timeout(60_000)
            uploads[name] = []
            page.on("response", lambda r, name=name: uploads[name].append(
                (r.status, r.headers.get("x-lfe-replica")))
                if "/_stcore/upload_file/" in r.url and r.request.method == "PUT" else None)
            page.goto(url + "/?dataset=upload&epochs=60")
            page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
            page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(
                str(path))
            pages[name] = (page, replica)
        for name, (page, replica) in pages.items():
            wait_idle(page)
            no_exception(page)
            assert (_sidebar_rows(page), _x_title(page)) == expected[name]
            # the upload went to the replica holding the session, and XSRF let it through
            assert uploads[name] and all(status in (200, 204) and served == replica
                                         for status, served in uploads[name]), uploads[name]
        # a rerun in each session (a new seed), one after the other: each keeps its own file
        for seed, (page, _) in zip(("7", "8"), pages.values()):
            page.get_by_role("spinbutton", name="Seed").fill(seed)
            page.keyboard.press("Enter")
            wait_for_query(page, "seed", seed)
            wait_idle(page)
        for name, (page, _) in pages.items():
            no_exception(page)
            assert (_sidebar_rows(page), _x_title(page)) == expected[name]
            page.screenshot(path=str(ARTIFACTS / f"deploy-session-{name}.png"))
    finally:
        for context in contexts:
            context.close()


def _bench(args: list[str], json_path: Path, timeout: float = 150) -> dict:
    result = subprocess.run([sys.executable, str(BENCH), *args, "--json", str(json_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    (ARTIFACTS / f"{json_path.stem}.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(json_path.read_text())


def test_bench_load_through_nginx(cluster, tmp_path):
    url, replicas = cluster
    summary = _bench(["--url", url, "--students", "2", "--changes", "3", "--think", "0.2",
                      "--timeout", "60"], tmp_path / "bench-nginx.json")
    assert summary["errors"] == 0 and summary["completed"] == 8
    # the bench found both replicas behind nginx, and they did the work
    assert sorted(int(p) for p in summary["server_pids"]) == sorted(replicas.values())
    assert summary["server_cpu_s"] > 0 and summary["times"]["all"]["p95"] < 60


def test_bench_load_smoke_against_its_own_server(tmp_path):
    summary = _bench(["--students", "2", "--changes", "1", "--think", "0.2",
                      "--timeout", "60"], tmp_path / "bench-own.json", timeout=90)
    assert summary["errors"] == 0 and summary["completed"] == 4
    assert len(summary["server_pids"]) == 1 and summary["cpu_per_interaction_s"] > 0
