"""The app end to end: click -> animation ready in Chromium, figure payload, server memory.

1. Click -> ready: on a fresh ``streamlit run app.py``, load the default page (binary moons,
   sigmoid + BCE, 300 epochs, 400 points), then type a new seed into "Seed" and press Enter;
   time from the Enter to the moment the Plotly chart carries the new configuration's key in
   ``layout.meta`` with animation frames loaded. Five new (uncached) seeds: median and max
   against the 1.5 s budget. Going back to seeds already seen is the cached baseline; the
   ratio new / cached is printed. The bytes the browser received over the websocket per
   switch are counted too.
2. Payload: the animated figure's JSON (built in-process exactly as explorer/ui/compute.py
   does) for the default scenario and for multi-class spiral; budget 3 MB for 100 frames.
   Also the in-process stage times (train, frames, figure, JSON), which say where a slow
   click goes on the server.
3. Memory: the server's RSS (VmRSS) after the first page load and after ten or more new
   configurations driven through the widgets of one browser session (seed, loss, epochs,
   problem type); budget 150 MB growth.

Run by hand: ``python benchmarks/bench_app.py``. Not part of the tests; about 25 s. The
server inherits the environment; both use one BLAS thread unless ``OPENBLAS_NUM_THREADS`` says
otherwise (on a small, busy machine the threaded default can make the per-frame grid
evaluation several times slower). Timings on a shared machine are noisy: the
header prints the CPU count and load average; run twice before believing a MISS.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# as app.py does for the server (before NumPy loads): one BLAS thread
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import bench_load  # noqa: E402  (beside this file: a script's folder is on the path)
import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402
from bench_load import free_port  # noqa: E402

from explorer import config as cfg  # noqa: E402
from explorer import experiment, losses, pairing  # noqa: E402
from explorer.figures import training as training_figures  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
CLICK_BUDGET_S = 1.5
PAYLOAD_BUDGET_B = 3_000_000
PAYLOAD_FRAMES = 100
MEMORY_BUDGET_MB = 150.0
NEW_SEEDS = (101, 202, 303, 404, 505)
CACHED_SEEDS = (0, 101, 303)
TIMEOUT_MS = 30_000

READY_JS = """([key, seen]) => {
  const ready = Array.from(document.querySelectorAll('.js-plotly-plot')).find(g =>
    g.layout && g.layout.meta && (key ? g.layout.meta === key : !seen.includes(g.layout.meta))
    && g._transitionData && g._transitionData._frames && g._transitionData._frames.length > 0);
  return ready ? ready.layout.meta : false;
}"""
"""The meta of a chart with animation frames for the configuration key, or (key null) for
any configuration not in seen: a chart of an earlier configuration can linger in the DOM
while Streamlit reruns."""


# ---------------------------------------------------------------------------------------------
# Server


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    """A healthy ``streamlit run app.py`` on this port (with these extra variables)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})})
    wait_healthy(port, proc)
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB -> MB
    return values["VmRSS"], values["VmHWM"]


# ---------------------------------------------------------------------------------------------
# Payload (in-process, as explorer/ui/compute.py's training_figure builds it)


def build_figure(config: cfg.Config):
    """The Train view's figure for a config as the app sends it, with the CPU time of each
    stage (seconds), and of Plotly checking the same figure (the path before the spec was
    sent as plain data) as the baseline."""
    times = {}
    clock = time.process_time
    start = clock()
    run = experiment.run(config)
    times["train"] = clock() - start
    start = clock()
    frames = training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)
    times["frames"] = clock() - start
    start = clock()
    target = "count" if config.problem == "counts" else (
        "class" if config.problem == "binary" else "target y")
    spec = training_figures.training_spec(
        frames, run.history, run.data, config.problem, log_scale=False,
        loss_label=losses.get(config.loss).label, threshold=run.model.threshold,
        target_label=target)
    spec["layout"]["meta"] = config.key()
    times["figure"] = clock() - start
    start = clock()
    text = pio.to_json(spec, validate=False)
    times["json"] = clock() - start
    start = clock()
    checked = go.Figure(spec).to_json()
    baseline = clock() - start
    assert len(checked) > 0
    return spec, len(text.encode()), times, baseline


def payload_section(rows: list) -> None:
    print("== Payload and server-side stages (in-process CPU, before the server starts)")
    scenarios = {"binary moons (default)": cfg.DEFAULT,
                 "multiclass spiral": cfg.default_for("multiclass")}
    build_figure(cfg.DEFAULT.replace(seed=99))  # warm-up: imports, first-call costs
    for name, config in scenarios.items():
        spec, size, times, baseline = build_figure(config)
        n_frames = len(spec["frames"])
        budget = PAYLOAD_BUDGET_B * max(n_frames, 1) / PAYLOAD_FRAMES
        stages = "  ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items())
        print(f"  {name}: {size / 1e6:.2f} MB, {n_frames} frames; {stages}; "
              f"total {sum(times.values()) * 1000:.0f} ms")
        print(f"    baseline: Plotly checking the same figure and writing its JSON takes "
              f"{baseline * 1000:.0f} ms, {baseline / (times['figure'] + times['json']):.1f}x "
              "the sent spec's figure + json")
        rows.append((f"payload {name}", f"{size / 1e6:.2f} MB / {n_frames} frames",
                     f"< {budget / 1e6:.1f} MB", size < budget))
        rows.append((f"server CPU {name}", f"{sum(times.values()):.2f} s", "info", None))


# ---------------------------------------------------------------------------------------------
# Browser


class Received:
    """Websocket frames the page received from Streamlit (its protobuf messages): when, how big.

    Times are when Playwright hands the event to this process: close to, not exactly, arrival.
    """

    def __init__(self, page):
        self.frames: list[tuple[float, int]] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload) -> None:
        self.frames.append((time.perf_counter(), len(payload)))

    def since(self, start: float) -> tuple[int, float]:
        """(bytes received since start, seconds from start to the biggest frame: the figure)."""
        after = [(t, n) for t, n in self.frames if t >= start]
        if not after:
            return 0, float("nan")
        biggest = max(after, key=lambda frame: frame[1])
        return sum(n for _, n in after), biggest[0] - start


@dataclass
class Switch:
    seconds: float
    received: int
    figure_message_at: float
    key: str
    note: str = ""

    def describe(self) -> str:
        return (f"{self.seconds:.3f} s (figure message after {self.figure_message_at:.3f} s, "
                f"then {self.seconds - self.figure_message_at:.3f} s to ready), "
                f"received {self.received / 1e6:.2f} MB")


def url_config(page) -> cfg.Config:
    """The configuration the page's URL describes."""
    query = page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")
    query.pop("view", None)
    return cfg.from_query(query)[0]


def wait_figure(page, key: str | None, seen: set[str]) -> str:
    """Wait until a chart has animation frames and layout.meta === key (or, with key None,
    a meta not in seen); return that meta."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        handle = page.wait_for_function(READY_JS, arg=[key, sorted(seen)], polling=10,
                                        timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        raise RuntimeError(f"no figure for {key or 'a new configuration'} within "
                           f"{TIMEOUT_MS / 1000:.0f} s; the URL says {page.url}") from None
    return handle.json_value()


def set_seed(page, seed: int) -> Callable[[], None]:
    box = page.get_by_role("spinbutton", name="Seed")
    box.fill(str(seed))
    return lambda: box.press("Enter")


def choose(page, label: str, option: str) -> Callable[[], None]:
    """Open the selectbox now; the returned action is the click that picks the option.

    Right after a slider had the focus, the first click on a selectbox only moves the focus
    (seen in Streamlit 1.67), so click again if the list does not open.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label, exact=True)
    pattern = re.sub(r"([.*+?^${}()|\[\]\\])", r"\\\1", option) + "$"  # JS-safe escape
    item = page.get_by_role("option", name=re.compile(pattern)).first
    for attempt in range(3):
        box.click()
        try:
            item.wait_for(timeout=2000 if attempt < 2 else TIMEOUT_MS)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    return item.click


def nudge_slider(page, label: str) -> Callable[[], None]:
    slider = page.locator(f"input[type='range'][aria-label='{label}']")
    slider.focus()
    return lambda: slider.press("ArrowRight")


def switch(page, received: Received, prepare: Callable[[], Callable[[], None]],
           seen: set[str], expected: cfg.Config, strict: bool) -> Switch:
    """Prepare the widget, then time the committing action until the new figure is ready.

    strict: wait for the expected configuration's key; otherwise for any new figure, then
    say how the configuration the app shows differs from the expected one.
    """
    act = prepare()
    start = time.perf_counter()
    act()
    key = wait_figure(page, expected.key() if strict else None, seen)
    elapsed = time.perf_counter() - start
    size, figure_at = received.since(start)
    shown = url_config(page)
    note = ""
    if shown.key() != key:
        note += f"\n    warning: the chart shows {key}, the URL describes {shown.key()}"
    if key != expected.key():
        diff = ", ".join(f"{f} {getattr(expected, f)!r} -> {getattr(shown, f)!r}"
                         for f in cfg.FIELD_KEYS if getattr(expected, f) != getattr(shown, f))
        note += f"\n    note: the app changed more than the action asked for: {diff}"
    return Switch(elapsed, size, figure_at, key, note)


def with_problem(config: cfg.Config, problem: str) -> cfg.Config:
    """What the sidebar's on_problem_change does: the problem's dataset, noise and pair,
    and its training recipe while the training settings are some problem's recipe."""
    base = cfg.default_for(problem)
    if cfg.is_a_recipe(config.to_dict()):
        config = config.replace(**cfg.default_training(problem))
    return config.replace(problem=problem, dataset=base.dataset, noise=base.noise,
                          output_activation=base.output_activation, loss=base.loss)


def browser_section(url: str, pid: int, rows: list) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            received = Received(page)

            print("== Click -> animation ready (Chromium, one session)")
            start = time.perf_counter()
            page.goto(url)
            wait_figure(page, cfg.DEFAULT.key(), set())
            first_load = time.perf_counter() - start
            rss0, _ = memory_mb(pid)
            print(f"  first page load to ready: {first_load:.2f} s "
                  f"(cold server: imports and the first training); RSS {rss0:.0f} MB")

            config = cfg.DEFAULT
            seen = {config.key()}
            new, cached = [], []
            for seed in NEW_SEEDS:
                target = config.replace(seed=seed)
                result = switch(page, received, lambda s=seed: set_seed(page, s), seen,
                                target, strict=True)
                config = target
                seen.add(result.key)
                new.append(result)
                print(f"  new seed {seed}: {result.describe()}{result.note}")
            for seed in CACHED_SEEDS:
                target = config.replace(seed=seed)
                result = switch(page, received, lambda s=seed: set_seed(page, s), seen,
                                target, strict=True)
                config = target
                cached.append(result)
                print(f"  cached seed {seed}: {result.describe()}{result.note}")

            print("== Memory: more new configurations through the widgets, same session")
            steps = [
                ("loss -> MSE", lambda: choose(page, "Loss", "Mean squared error"),
                 lambda c: c.replace(loss="mse")),
                ("epochs +10", lambda: nudge_slider(page, "Epochs"),
                 lambda c: c.replace(epochs=c.epochs + 10)),
                ("problem -> multiclass",
                 lambda: choose(page, "Problem type", pairing.PROBLEM_LABELS["multiclass"]),
                 lambda c: with_problem(c, "multiclass")),
                ("seed 606", lambda: set_seed(page, 606), lambda c: c.replace(seed=606)),
                ("problem -> regression",
                 lambda: choose(page, "Problem type", pairing.PROBLEM_LABELS["regression"]),
                 lambda c: with_problem(c, "regression")),
                ("problem -> counts",
                 lambda: choose(page, "Problem type", pairing.PROBLEM_LABELS["counts"]),
                 lambda c: with_problem(c, "counts")),
            ]
            others = {}
            for name, prepare, change in steps:
                result = switch(page, received, prepare, seen, change(config), strict=False)
                config = url_config(page)
                seen.add(result.key)
                others[name] = result
                rss, _ = memory_mb(pid)
                print(f"  {name}: {result.describe()}; RSS {rss:.0f} MB{result.note}")
            rss1, hwm = memory_mb(pid)
            n_configs = len(seen) - 1
        finally:
            browser.close()

    median_new = statistics.median(r.seconds for r in new)
    max_new = max(r.seconds for r in new)
    median_cached = statistics.median(r.seconds for r in cached)
    new_msg = statistics.median(r.figure_message_at for r in new)
    cached_msg = statistics.median(r.figure_message_at for r in cached)
    slowest = max(others.items(), key=lambda kv: kv[1].seconds)
    print(f"  {n_configs} new configurations; RSS {rss0:.0f} -> {rss1:.0f} MB "
          f"(+{rss1 - rss0:.0f}), peak {hwm:.0f} MB")
    rows += [
        ("click->ready new seed, median", f"{median_new:.2f} s", f"< {CLICK_BUDGET_S} s",
         median_new < CLICK_BUDGET_S),
        ("click->ready new seed, max", f"{max_new:.2f} s", f"< {CLICK_BUDGET_S} s",
         max_new < CLICK_BUDGET_S),
        ("click->ready cached seed, median", f"{median_cached:.2f} s", "baseline", None),
        ("ratio new / cached (medians)", f"{median_new / median_cached:.1f}x", "info", None),
        ("  of which: until figure message", f"new {new_msg:.2f} s, cached {cached_msg:.2f} s",
         "info", None),
        ("  of which: message -> ready",
         f"new {median_new - new_msg:.2f} s, cached {median_cached - cached_msg:.2f} s",
         "info", None),
        ("received per new switch, median",
         f"{statistics.median(r.received for r in new) / 1e6:.2f} MB", "info", None),
        ("slowest other switch", f"{slowest[1].seconds:.2f} s ({slowest[0]})", "info", None),
        (f"server RSS growth, {n_configs} new configs",
         f"{rss0:.0f} -> {rss1:.0f} MB (+{rss1 - rss0:.0f})", f"< {MEMORY_BUDGET_MB:.0f} MB",
         rss1 - rss0 < MEMORY_BUDGET_MB),
    ]


FLOOR_PAGE = """import json, pathlib, streamlit as st
st.set_page_config(layout="wide")
st.plotly_chart(json.loads(pathlib.Path({path!r}).read_text()), width="stretch")
"""
"""The floor: a bare Streamlit page that shows the app's default figure and nothing else."""
FIRST_CHART_TIMES = 3
FLOOR_RATIO_TARGET = 1.2


def first_chart(browser, url: str, key: str) -> float:
    """Seconds from navigating a fresh browser context (empty cache) to the chart with
    ``key`` in ``layout.meta`` and its frames loaded."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        wait_figure(page, key, set())
        return time.perf_counter() - start
    finally:
        context.close()


def floor_section(app_url: str, rows: list) -> None:
    """The app's first chart (cached link, new seed) against a bare page with the same
    figure, each from a fresh browser context, medians of a few, in the same run."""
    import tempfile

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    spec, *_ = build_figure(cfg.DEFAULT)
    (folder / "figure.json").write_text(pio.to_json(spec, validate=False))
    (folder / "floor.py").write_text(FLOOR_PAGE.format(path=str(folder / "figure.json")))
    port = free_port()
    floor_server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(folder / "floor.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port",
         str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, floor_server)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            try:
                floor_url = f"http://127.0.0.1:{port}/"
                first_chart(browser, floor_url, cfg.DEFAULT.key())  # warm both servers
                first_chart(browser, app_url, cfg.DEFAULT.key())
                floor, cached, new = [], [], []
                for i in range(FIRST_CHART_TIMES):
                    floor.append(first_chart(browser, floor_url, cfg.DEFAULT.key()))
                    cached.append(first_chart(browser, app_url, cfg.DEFAULT.key()))
                    seed = 4100 + i
                    new.append(first_chart(browser, f"{app_url}?seed={seed}",
                                           cfg.DEFAULT.replace(seed=seed).key()))
            finally:
                browser.close()
    finally:
        stop_server(floor_server)
    base = statistics.median(floor)
    print(f"== First chart from a fresh browser: floor {base:.2f} s, app cached "
          f"{statistics.median(cached):.2f} s, app new seed {statistics.median(new):.2f} s")
    for name, times in (("cached link", cached), ("new seed", new)):
        ratio = statistics.median(times) / base
        rows.append((f"first chart, {name} / bare page", f"{ratio:.2f}x "
                     f"({statistics.median(times):.2f} s / {base:.2f} s)",
                     f"<= {FLOOR_RATIO_TARGET}x", ratio <= FLOOR_RATIO_TARGET))


def wait_healthy(port: int, proc: subprocess.Popen) -> None:
    """Wait for the server on ``port`` (``bench_load.wait_healthy``); stop it if it fails."""
    try:
        bench_load.wait_healthy(f"http://127.0.0.1:{port}", proc)
    except RuntimeError:
        stop_server(proc)
        raise


def print_table(rows: list) -> None:
    verdict = {True: "PASS", False: "MISS", None: ""}
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    print()
    print(f"{'measure':<{widths[0]}}  {'value':<{widths[1]}}  {'target':<{widths[2]}}  result")
    for name, value, target, ok in rows:
        print(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {target:<{widths[2]}}  "
              f"{verdict[ok]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autoplay", choices=("on", "off"), default="on",
                        help="whether each new run replays by itself, as by default (the "
                             "replay then competes with the next click for the cores)")
    parser.add_argument("--first-chart", action="store_true",
                        help="only the first chart against the bare page (about 40 s)")
    args = parser.parse_args()
    started = time.perf_counter()
    rows: list = []
    blas = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
            if k in os.environ}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; BLAS threads: "
          f"{blas or 'library default'}")
    if not args.first_chart:
        payload_section(rows)
    port = free_port()
    proc = start_server(port)
    try:
        query = "" if args.autoplay == "on" else "/?autoplay=0"
        floor_section(f"http://127.0.0.1:{port}/", rows)
        if not args.first_chart:
            browser_section(f"http://127.0.0.1:{port}{query}", proc.pid, rows)
    finally:
        stop_server(proc)
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
