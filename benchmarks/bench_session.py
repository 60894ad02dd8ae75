"""Server CPU for a new browser session opening a new configuration, and where it goes.

Starts ``streamlit run app.py`` (one BLAS thread, ``EXPLORER_PHASES_FILE`` set so each script
run writes the script thread's CPU by phase: training, frames, figures, sending charts), then
opens Chromium sessions one after another, each in a fresh browser context (no cache, no
cookies), on links the server has not trained yet (seven configurations; sessions 8 to 10 open
links of earlier sessions, so their runs are cached, as when a class opens one link). For each
session it waits for the finished page and its animated chart, lets the trailing messages
settle, and reads the server's CPU (``/proc/<pid>/stat`` utime + stime, all threads). The
script thread's phases come from the phases file; the rest of the server's CPU ("outside the
script": static files, the websocket, compression) is the difference.

Prints one row per session, the mean for new configurations against the 0.45 s target, and
the phases' share. Run by hand: ``python benchmarks/bench_session.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_app import free_port, start_server, stop_server  # noqa: E402

TARGET_S = 0.45
LINKS = [
    "seed=11",
    "problem=multiclass&seed=12",
    "problem=regression&seed=13",
    "problem=counts&seed=14",
    "dataset=circles&seed=15",
    "loss=mse&seed=16",
    "problem=multiclass&dataset=blobs&seed=17",
    "seed=11",
    "problem=multiclass&seed=12",
    "problem=regression&seed=13",
]
PHASES = ("training", "frames", "figures", "sending charts")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_session(browser, url: str, shared=None) -> None:
    """One new Streamlit session: a fresh context (empty HTTP cache), or a new tab of
    ``shared`` (its cache already holds Streamlit's static files)."""
    context = shared or browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function("() => new URLSearchParams(location.search).has('loss')",
                               timeout=120_000)
        page.wait_for_selector(".run-complete", state="attached", timeout=120_000)
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>"
            " g._transitionData && g._transitionData._frames"
            " && g._transitionData._frames.length > 0)", timeout=120_000)
        page.wait_for_timeout(1500)  # trailing messages, the chart's resize
    finally:
        page.close()
        if shared is None:
            context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="record the server with py-spy (pip install py-spy) into FILE "
                             "(collapsed stacks, all threads, idle excluded)")
    parser.add_argument("--warm-cache", action="store_true",
                        help="new tabs of one browser context: the static files come from "
                             "the browser's cache, as for a student's second link")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    phases_file = Path(tempfile.mkdtemp()) / "phases.jsonl"
    port = free_port()
    proc = start_server(port, {"EXPLORER_PHASES_FILE": str(phases_file),
                               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    base = f"http://127.0.0.1:{port}/?autoplay=0&"
    rows = []
    spy = None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=CHROMIUM_ARGS)
            shared = browser.new_context(viewport={"width": 1366, "height": 768}) \
                if args.warm_cache else None
            # imports, first-run costs (and the static files, with --warm-cache): not counted
            open_session(browser, base + "seed=99", shared)
            if args.profile:
                import subprocess

                spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--threads",
                                        "-o", str(args.profile), "-p", str(proc.pid)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            for link in LINKS:
                done = len(phases_file.read_text().splitlines())
                before = cpu_seconds(proc.pid)
                open_session(browser, base + link, shared)
                total = cpu_seconds(proc.pid) - before
                runs = [json.loads(line) for line in
                        phases_file.read_text().splitlines()[done:]]
                tally = {name: sum(r.get(name, 0.0) for r in runs) for name in
                         (*PHASES, "script (total)")}
                rows.append((link, total, len(runs), tally))
            browser.close()
    finally:
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        stop_server(proc)
    print(f"server CPU per new browser session ({'warm' if args.warm_cache else 'empty'} "
          f"browser cache; {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}); seconds")
    header = f"{'link':<42} {'server':>7} {'runs':>4} " + " ".join(
        f"{name[:10]:>10}" for name in (*PHASES, "script rest", "outside"))
    print(header)
    seen = set()
    new = []
    for link, total, runs, tally in rows:
        script = tally["script (total)"]
        rest = script - sum(tally[name] for name in PHASES)
        cells = [tally[name] for name in PHASES] + [rest, total - script]
        cached = link in seen
        seen.add(link)
        if not cached:
            new.append((total, cells))
        print(f"{link + (' (cached)' if cached else ''):<42} {total:7.3f} {runs:4d} "
              + " ".join(f"{c:10.3f}" for c in cells))
    mean = statistics.mean(t for t, _ in new)
    shares = [statistics.mean(c[i] for _, c in new) for i in range(len(PHASES) + 2)]
    print("\nnew configurations, mean: " + f"{mean:.3f} s  (" + ", ".join(
        f"{name} {value:.3f}" for name, value in zip((*PHASES, "script rest", "outside"),
                                                      shares)) + ")")
    verdict = "PASS" if mean <= TARGET_S else "MISS"
    print(f"target <= {TARGET_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
