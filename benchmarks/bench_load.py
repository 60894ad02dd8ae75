"""A whole class on one link: N students driving the app at once, over Streamlit's own protocol.

Each simulated student does what a browser does when it opens the shared link, without the
browser (so 30 of them cost the client little CPU):

1. ``GET /?<query>`` and ``GET /_stcore/health`` with a cookie jar, as the page does (the
   health check sets the ``_streamlit_xsrf`` cookie; a load balancer may set its affinity
   cookie on the first response). ``--assets`` also fetches the page's JavaScript and CSS.
2. Opens the websocket ``/_stcore/stream`` (subprotocols ``streamlit`` and the XSRF token,
   the cookies, a same-origin ``Origin``) and sends a ``BackMsg.rerun_script`` carrying the
   link's query string, then reads ``ForwardMsg``\\ s until ``script_finished``. That is one
   interaction: the time from sending the rerun to ``script_finished`` is what it reports.
3. Makes ``--changes`` changes with a think time between them, cycling through *loss* (another
   option of the "Loss" select box), *seed* (a new number in "Seed") and *view* (another
   option of the "View" radio). The app reads the query string only on a session's first run,
   so a change is a rerun whose widget states carry the new value, exactly as the frontend
   sends it: every widget state the session has set so far (ids read from the ``new_element``
   deltas, where a keyed widget's id ends in ``-<key>``), plus the hashes of the cacheable
   messages already received (the server then sends a short reference instead of resending an
   unchanged chart, as it does for a browser).

It reports p50/p95/max time to ``script_finished`` (all, and by kind of interaction), errors
(connection failures, timeouts, exceptions shown in the app, a script that did not finish
successfully), throughput (interactions per second of wall time), the server processes' CPU
seconds per interaction (``/proc/<pid>/stat`` utime+stime before and after, training worker
processes included) and their RSS (sampled during the run, and VmHWM; workers included).

Targets: without ``--url`` it starts its own ``streamlit run app.py`` on a free loopback port
and stops it at the end. With ``--url`` it measures whatever listens there: one Streamlit
server or a load balancer. The server processes are found from the URL's port (the process
listening on it; for nginx, the upstream ports in the config file of its ``-c`` argument, as
written by ``deploy/run-local.sh``), or given with ``--server-pids``.

Before measuring, each server opens the link once, not counted (``--no-warmup`` skips it): a
class clicks a link the teacher opened before. Throughput only measures the server when the
server is the bottleneck: with 30 students and a long think time the students are. The
defaults keep the server busy on a 2-core machine. ``--profile DIR`` records the servers with
py-spy (``pip install py-spy``) and prints where their CPU goes: training, prediction frames,
PNG encoding, figure building, ``st.cache_data`` copies, figure JSON, Streamlit serialisation.

Run by hand (not part of the tests; bounded by ``--timeout`` per interaction)::

    python benchmarks/bench_load.py                       # own server, 30 students
    deploy/run-local.sh 2 8600 &                          # two replicas behind nginx
    python benchmarks/bench_load.py --url http://127.0.0.1:8600
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import websockets
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit_client import (
    USER_AGENT,  # noqa: F401 (bench_messages.py reads it here)
    Session,
    connect,
    current_option,
    open_page,
    press,
    run_script,
    widget_by_key,
)

ROOT = Path(__file__).resolve().parents[1]
CHANGES = ("loss", "seed", "view")
"""What a student changes, in this order, cycling."""
WIDGET_KEYS = {"loss": "loss", "seed": "seed", "view": "view"}
"""The widget key (the end of its element id) each change sets."""
CLK_TCK = os.sysconf("SC_CLK_TCK")
SHOW_SETTINGS = "lfe_show_settings"
"""The first page's button that brings its settings (``explorer.ui.sidebar.SHOW_KEY``; the
page's script presses it once the first chart has drawn)."""


# ---------------------------------------------------------------- one student


@dataclass
class Interaction:
    student: int
    kind: str  # "load", "loss", "seed" or "view"
    seconds: float | None  # None when it failed
    error: str | None = None
    received_bytes: int = 0
    cached_refs: int = 0
    server_cpu_s: float | None = None
    """Server CPU during this interaction (measured only with one student)."""


def change_widget(session: Session, kind: str, rng: random.Random) -> str:
    """Set the widget state a person's change produces; returns a description of it."""
    wid, element = widget_by_key(session, WIDGET_KEYS[kind])
    if element is None:
        raise LookupError(f"no widget with key {WIDGET_KEYS[kind]!r} in the last run")
    state = WidgetState(id=wid)
    if kind == "seed":
        value = rng.randint(1, 100_000)
        if element.data_type == element.INT:
            state.int_value = value
        else:
            state.double_value = float(value)
        described = str(value)
    else:  # a select box or a radio: the frontend sends the formatted option
        current = current_option(element)
        options = [option for option in element.options if option != current]
        described = rng.choice(options)
        state.string_value = described
    session.widgets[wid] = state
    return described


CPU_PROBE: list = []
"""With one student: a function returning the servers' CPU seconds so far."""


async def rerun(ws, session: Session, url: str, timeout: float, kind: str,
                student: int) -> Interaction:
    """Send one rerun_script and read until script_finished."""
    cpu_before = CPU_PROBE[0]() if CPU_PROBE else None
    reply = await run_script(ws, session, url, timeout)
    result = Interaction(student, kind, reply.seconds, reply.problem, reply.received_bytes,
                         reply.cached_refs)
    if cpu_before is not None:
        await asyncio.sleep(0.05)  # let the server finish sending (its CPU counts too)
        result.server_cpu_s = CPU_PROBE[0]() - cpu_before
    return result


def joined(first: Interaction, then: Interaction) -> Interaction:
    """Two reruns counted as one interaction (the first page and its settings)."""
    def both(a, b):
        return None if a is None or b is None else a + b
    return Interaction(first.student, first.kind, both(first.seconds, then.seconds),
                       then.error, first.received_bytes + then.received_bytes,
                       first.cached_refs + then.cached_refs,
                       both(first.server_cpu_s, then.server_cpu_s))


_open_page = open_page  # the name bench_messages.py uses


async def student(number: int, args, rng: random.Random, out: list[Interaction]) -> None:
    """One person: open the link, wait for the app, make ``args.changes`` changes."""
    await asyncio.sleep(rng.uniform(0, args.ramp))
    base = args.url.rstrip("/")
    page_url = f"{base}/?{args.query}" if args.query else f"{base}/"
    session = Session(query=args.query)
    kind = "load"
    try:
        cookie, xsrf = await asyncio.to_thread(_open_page, base, args.query, args.timeout,
                                               args.assets)
        async with connect(base, cookie, xsrf, args.timeout) as ws:
            loaded = await rerun(ws, session, page_url, args.timeout, kind, number)
            if loaded.error is None and widget_by_key(session, SHOW_SETTINGS)[0] is not None:
                # as the page's script does once the chart has drawn: the page is loaded
                # when it has its settings
                press(session, SHOW_SETTINGS)
                loaded = joined(loaded, await rerun(ws, session, page_url, args.timeout, kind,
                                                    number))
            out.append(loaded)
            for k in range(args.changes):
                kind = args.kinds[k % len(args.kinds)]
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
                change_widget(session, kind, rng)
                out.append(await rerun(ws, session, page_url, args.timeout, kind, number))
    except (OSError, TimeoutError, LookupError, websockets.exceptions.WebSocketException,
            urllib.error.URLError) as err:
        out.append(Interaction(number, kind, None, f"{type(err).__name__}: {err}"))


# ---------------------------------------------------------------- server processes


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f)
            for line in f:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def pids_listening(port: int) -> list[int]:
    """Processes with a listening socket on this TCP port (readable ones only)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    found = []
    if not wanted:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(fd.path) in wanted:
                        found.append(int(entry.name))
                        break
    return sorted(found)


def _comm(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return ""


def _cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return []


def _ppid(pid: int) -> int:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def upstream_ports(nginx_conf: Path) -> list[int]:
    """Loopback ports of the ``server`` lines inside ``upstream`` blocks of an nginx config."""
    text = re.sub(r"#[^\n]*", "", nginx_conf.read_text())
    ports = []
    for block in re.findall(r"upstream\s+\S+\s*\{(.*?)\}", text, flags=re.S):
        ports += [int(p) for p in re.findall(r"server\s+(?:127\.0\.0\.1|localhost):(\d+)", block)]
    return ports


def resolve_servers(port: int) -> tuple[list[int], list[int], list[int]]:
    """(app server pids, proxy pids, app server ports) behind a local port."""
    pids = pids_listening(port)
    nginx = [pid for pid in pids if _comm(pid) == "nginx"]
    if not nginx:
        return pids, [], [port] if pids else []
    masters = {pid if _comm(_ppid(pid)) != "nginx" else _ppid(pid) for pid in nginx}
    proxies, servers, ports = set(nginx) | masters, [], []
    for master in masters:
        # nginx rewrites its title: "nginx: master process /usr/sbin/nginx -c <file> ..."
        argv = " ".join(_cmdline(master)).split()
        conf = Path(argv[argv.index("-c") + 1]) if "-c" in argv else Path("/etc/nginx/nginx.conf")
        with contextlib.suppress(OSError):
            for upstream in upstream_ports(conf):
                found = pids_listening(upstream)
                servers += found
                ports += [upstream] if found else []
        proxies |= {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _ppid(int(p.name)) == master}
    return sorted(set(servers)), sorted(proxies), ports


def family(pid: int) -> list[int]:
    """The process and its living descendants (a server's training workers, see
    EXPLORER_TRAINING_WORKERS): their work is the server's."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the thread ended meanwhile
                queue += [int(c) for c in children.read_text().split()]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process, its living descendants and the children
    they waited for."""
    total = 0.0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # utime, stime, cutime, cstime (fields 14 to 17)
        total += sum(int(f) for f in fields[11:15]) / CLK_TCK
    return total


def status_kb(pid: int, key: str) -> int:
    """A /proc status value (kB) summed over the process and its living descendants."""
    total = 0
    for member in family(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith(key + ":")),
                      0)
    return total


class Sampler:
    """CPU before/after and RSS every ``period`` seconds for a set of processes."""

    def __init__(self, pids: list[int], period: float = 0.25):
        self.pids, self.period = pids, period
        self.cpu0 = {pid: cpu_seconds(pid) for pid in pids}
        self.rss0 = {pid: status_kb(pid, "VmRSS") for pid in pids}
        self.peak = dict(self.rss0)
        self.peak_total = sum(self.rss0.values())

    def sample(self) -> None:
        total = 0
        for pid in self.pids:
            with contextlib.suppress(OSError):
                rss = status_kb(pid, "VmRSS")
                self.peak[pid] = max(self.peak[pid], rss)
                total += rss
        self.peak_total = max(self.peak_total, total)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.period)

    def finish(self) -> dict:
        self.sample()
        per = {}
        for pid in self.pids:
            try:
                per[pid] = {"cpu_s": cpu_seconds(pid) - self.cpu0[pid],
                            "rss_start_mb": self.rss0[pid] / 1024,
                            "rss_peak_mb": self.peak[pid] / 1024,
                            "rss_end_mb": status_kb(pid, "VmRSS") / 1024,
                            "vmhwm_mb": status_kb(pid, "VmHWM") / 1024}
            except OSError:
                per[pid] = {"cpu_s": float("nan"), "gone": True}
        return per


# ---------------------------------------------------------------- own server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with (contextlib.suppress(OSError),
              urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response):
            if response.status == 200:
                return
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy within {timeout:g} s")
        time.sleep(0.2)


@contextlib.contextmanager
def own_server(env: dict[str, str] | None = None,
               options: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on a free loopback port, stopped on exit; ``env`` replaces the
    server's environment and ``options`` are further Streamlit options."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- where the CPU goes (py-spy)


SPECIFIC = [
    ("training (explorer.fit)", r"^(fit|run) \(explorer/(training|experiment)\.py"),
    ("prediction frames (grid forward passes)",
     r"^compute_frames \(explorer/figures/training\.py"),
    ("PNG encoding and colour maps",
     r"^(png_data_uri|colorize|grid_image) \(explorer/figures/raster\.py"),
    ("boundary iso-lines", r"^iso_lines \(explorer/figures/raster\.py"),
    ("error surfaces, anatomy", r"\(explorer/(surfaces|anatomy)\.py"),
    ("st.cache_data: pickling a new result", r"^DataCache\.(write_result|_pickle_result)"),
    ("st.cache_data: unpickling a hit (figures re-validated)", r"^DataCache\.read_result "),
    ("st.plotly_chart: figure to JSON to proto", r"\(streamlit/elements/plotly_chart\.py"),
    ("Streamlit message hashing and serialisation",
     r"\(streamlit/runtime/(forward_msg_cache|runtime_util)\.py"),
]
GENERIC = [
    ("figure building (Plotly objects)", r"\(explorer/(figures/|ui/compute\.py)"),
    ("st.cache_data: hashing arguments", r"\(streamlit/runtime/caching/"),
    ("event loop, websocket sends", r"\((asyncio|uvicorn|starlette|websockets)/"),
]
"""Each sample goes to the deepest frame matching a rule; a generic rule never overrides a
specific one above it (figure building inside a cached function is figure building)."""


def categorize(frames: list[str]) -> str:
    best, specific = None, False
    for frame in frames:
        for name, pattern in SPECIFIC:
            if re.search(pattern, frame):
                best, specific = name, True
                break
        else:
            for name, pattern in GENERIC:
                if re.search(pattern, frame) and not specific:
                    best = name
                    break
    if best is None:
        scripted = any("scriptrunner" in frame for frame in frames)
        best = ("other script-run work (widgets, deltas, state)" if scripted
                else "other server threads")
    return best


def breakdown(raw_files: list[Path]) -> dict[str, float]:
    """Share of the samples by category, from py-spy's raw (collapsed stack) output."""
    counts: dict[str, int] = {}
    for path in raw_files:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                stack, _, n = line.rpartition(" ")
                if stack and n.isdigit():
                    name = categorize(stack.split(";"))
                    counts[name] = counts.get(name, 0) + int(n)
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


class Profiler:
    """py-spy on each server process while the students run (``--profile DIR``).

    ``--gil`` samples only the thread holding the GIL: Python's CPU time, which is nearly all
    of it here (the matrices are tiny); ``--nonblocking`` does not pause the server."""

    def __init__(self, pids: list[int], out: Path, rate: int = 50):
        exe = Path(sys.executable).with_name("py-spy")
        spy = str(exe) if exe.exists() else shutil.which("py-spy")
        if spy is None:
            raise SystemExit("--profile needs py-spy (pip install py-spy)")
        out.mkdir(parents=True, exist_ok=True)
        self.files = [out / f"py-spy-{pid}.txt" for pid in pids]
        self.procs = [subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", str(rate),
             "--format", "raw", "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for pid, path in zip(pids, self.files)]

    def stop(self) -> dict[str, float]:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        return breakdown(self.files)


# ---------------------------------------------------------------- the run and its report


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def warm_up(args, urls: list[str]) -> None:
    """Open the link once on each server directly (not counted): a classroom server has
    imported the app and trained the shared link's scenario before the class clicks it."""
    warm: list[Interaction] = []
    await asyncio.gather(*(student(-1, argparse.Namespace(**{
        **vars(args), "url": url, "changes": 0, "ramp": 0.0, "assets": False}),
        random.Random(0), warm) for url in urls))
    for r in warm:
        if r.error:
            print(f"warning: warm-up failed: {r.error}", file=sys.stderr)


NEW_SESSION_LINKS = ("seed=7101", "problem=multiclass&seed=7102", "problem=regression&seed=7103",
                     "problem=counts&seed=7104", "dataset=circles&seed=7105")
"""Links no session has opened, for the server CPU of a new session on a new configuration."""


async def new_session_cpu(args, servers: list[int]) -> list[float]:
    """Server CPU of each of a few new sessions opening a new configuration, one at a time
    (page, static files as a browser fetches them, script run), before the class arrives."""
    cpus = []
    for number, query in enumerate(NEW_SESSION_LINKS):
        one: list[Interaction] = []
        before = sum(cpu_seconds(pid) for pid in servers)
        await student(-2 - number, argparse.Namespace(**{
            **vars(args), "changes": 0, "ramp": 0.0, "assets": True, "query": query}),
            random.Random(number), one)
        await asyncio.sleep(0.5)  # let the server finish sending
        if one and not one[0].error:
            cpus.append(sum(cpu_seconds(pid) for pid in servers) - before)
    return cpus


async def run_students(args, servers: list[int], proxies: list[int],
                       warm_urls: list[str]) -> dict:
    if args.warmup:
        await warm_up(args, warm_urls)
    per_session = await new_session_cpu(args, servers) if servers else []
    results: list[Interaction] = []
    rng = random.Random(args.rng_seed)
    sampler = Sampler(servers)
    proxy_cpu0 = {pid: cpu_seconds(pid) for pid in proxies}
    if args.students == 1 and servers:
        CPU_PROBE.append(lambda: sum(cpu_seconds(pid) for pid in servers))
    client_cpu0 = time.process_time()
    profiler = Profiler(servers, args.profile) if args.profile and servers else None
    sampling = asyncio.create_task(sampler.run())
    started = time.perf_counter()
    await asyncio.gather(*(student(i, args, random.Random(rng.random()), results)
                           for i in range(args.students)))
    wall = time.perf_counter() - started
    sampling.cancel()
    profile = profiler.stop() if profiler else {}
    per_server = sampler.finish()
    proxy_cpu = 0.0
    for pid, cpu0 in proxy_cpu0.items():
        with contextlib.suppress(OSError):
            proxy_cpu += cpu_seconds(pid) - cpu0
    summary = summarize(args, results, wall, per_server, proxy_cpu, sampler.peak_total / 1024)
    summary["cpu_breakdown"] = profile
    summary["new_session_cpu_s"] = per_session
    summary["client_cpu_s"] = time.process_time() - client_cpu0
    return summary


def summarize(args, results, wall, per_server, proxy_cpu, peak_total_mb) -> dict:
    done = [r for r in results if r.seconds is not None]
    errors = [r for r in results if r.error]
    ok = [r for r in done if not r.error]
    timeouts = [r for r in results if r.error and r.error.startswith("TimeoutError")]
    served = len(done) + len(timeouts)  # reruns the servers worked on (timed-out ones too)
    server_cpu = sum(p["cpu_s"] for p in per_server.values())
    planned = args.students * (1 + args.changes)
    by_kind = {}
    for kind in ("all", "load", *args.kinds):
        times = [r.seconds for r in ok if kind in ("all", r.kind)]
        cpu = [r.server_cpu_s for r in ok if kind in ("all", r.kind)
               and r.server_cpu_s is not None]
        by_kind[kind] = {"n": len(times), "p50": percentile(times, 50),
                         "p95": percentile(times, 95),
                         "max": max(times) if times else float("nan"),
                         "mean": statistics.fmean(times) if times else float("nan"),
                         "server_cpu_mean": statistics.fmean(cpu) if cpu else None}
    return {
        "url": args.url, "students": args.students, "changes": args.changes,
        "think": args.think, "planned": planned, "completed": len(ok), "errors": len(errors),
        "error_messages": sorted({f"{r.kind}: {r.error}" for r in errors})[:10],
        "not_attempted": planned - len(results),
        "wall_s": wall, "throughput_per_s": len(ok) / wall if wall else float("nan"),
        "times": by_kind,
        "server_pids": list(per_server), "servers": per_server,
        "server_cpu_s": server_cpu,
        "timeouts": len(timeouts),
        "cpu_per_interaction_s": server_cpu / served if served else float("nan"),
        "proxy_cpu_s": proxy_cpu,
        "peak_rss_total_mb": peak_total_mb,
        "received_mb": sum(r.received_bytes for r in results) / 1e6,
        "cached_refs": sum(r.cached_refs for r in results),
    }


def print_report(s: dict) -> None:
    print(f"bench_load: {s['students']} students x (1 load + {s['changes']} changes), "
          f"think {s['think']:g} s, {s['url']}")
    print(f"server processes: {', '.join(map(str, s['server_pids'])) or 'none found'}")
    print(f"interactions: {s['completed']} ok of {s['planned']} planned, "
          f"{s['errors']} errors ({s['timeouts']} timeouts), "
          f"{s['not_attempted']} not attempted after an error, "
          f"wall {s['wall_s']:.1f} s, "
          f"throughput {s['throughput_per_s']:.2f} interactions/s")
    for message in s["error_messages"]:
        print(f"  error: {message}")
    single = any(t["server_cpu_mean"] is not None for t in s["times"].values())
    print("time to script_finished (s)    p50     p95     max      n"
          + ("   server CPU s (mean)" if single else ""))
    for kind, t in s["times"].items():
        cpu = t["server_cpu_mean"]
        print(f"  {kind:<26} {t['p50']:7.2f} {t['p95']:7.2f} {t['max']:7.2f} {t['n']:6d}"
              + (f"   {cpu:7.3f}" if cpu is not None else ""))
    per = ", ".join(f"{pid}: {p['cpu_s']:.1f} s" for pid, p in s["servers"].items())
    print(f"server CPU: {s['server_cpu_s']:.1f} s = {s['cpu_per_interaction_s']:.3f} s per "
          f"interaction served, timed-out ones included ({per}); "
          f"proxy CPU {s['proxy_cpu_s']:.1f} s")
    for pid, p in s["servers"].items():
        if not p.get("gone"):
            print(f"server {pid} RSS: start {p['rss_start_mb']:.0f} MB, peak "
                  f"{p['rss_peak_mb']:.0f} MB, end {p['rss_end_mb']:.0f} MB "
                  f"(VmHWM {p['vmhwm_mb']:.0f} MB)")
    print(f"peak RSS of all servers together: {s['peak_rss_total_mb']:.0f} MB")
    if s.get("new_session_cpu_s"):
        cpus = s["new_session_cpu_s"]
        print(f"server CPU per new session on a new configuration (one at a time, before the "
              f"class): mean {statistics.fmean(cpus):.3f} s, max {max(cpus):.3f} s over "
              f"{len(cpus)} (target <= 0.45 s)")
    print(f"received {s['received_mb']:.1f} MB over the websockets; "
          f"{s['cached_refs']} messages sent as cache references; "
          f"client CPU {s['client_cpu_s']:.1f} s")
    if s.get("cpu_breakdown"):
        per = s["cpu_per_interaction_s"]
        print("where the servers' Python CPU goes (py-spy --gil samples; s per interaction):")
        for name, share in s["cpu_breakdown"].items():
            print(f"  {100 * share:5.1f}%  {share * per:6.3f} s  {name}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server or load balancer; without it, start one")
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--changes", type=int, default=3,
                   help="changes per student after the first load (cycling loss, seed, view)")
    p.add_argument("--kinds", type=lambda text: tuple(text.split(",")), default=CHANGES,
                   help="the changes to cycle through (default loss,seed,view)")
    p.add_argument("--think", type=float, default=1.0,
                   help="mean think time between changes, seconds (each is 0.5-1.5x this)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds one interaction may take before it counts as an error")
    p.add_argument("--ramp", type=float, default=1.0,
                   help="students open the link at random moments within this many seconds")
    p.add_argument("--query", default="",
                   help="query string of the shared link (default: the default scenario)")
    p.add_argument("--assets", action="store_true",
                   help="also fetch the page's JavaScript and CSS, as a first visit does")
    p.add_argument("--server-pids", default="",
                   help="comma-separated pids to measure (default: found from the URL)")
    p.add_argument("--rng-seed", type=int, default=0, help="seed of the students' choices")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="measure from a cold server (by default each server first opens the "
                        "link once, not counted, as a teacher would before class)")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="record the servers with py-spy into DIR and print where the CPU goes")
    return p.parse_args(argv)


def measure(args) -> dict:
    unknown = set(args.kinds) - set(CHANGES)
    if unknown:
        raise SystemExit(f"unknown change kinds {sorted(unknown)}; known: {', '.join(CHANGES)}")
    wait_healthy(args.url.rstrip("/"), timeout=10)
    warm_urls = [args.url]
    if args.server_pids:
        servers = [int(p) for p in args.server_pids.split(",") if p.strip()]
        proxies: list[int] = []
    else:
        port = urllib.parse.urlsplit(args.url).port or 80
        servers, proxies, ports = resolve_servers(port)
        if proxies and ports:  # behind nginx: warm each replica directly
            warm_urls = [f"http://127.0.0.1:{p}" for p in ports]
        if not servers:
            print("warning: no server process found behind the URL (not local, or not "
                  "readable): CPU and memory are not measured; pass --server-pids",
                  file=sys.stderr)
    return asyncio.run(run_students(args, servers, proxies, warm_urls))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.url:
        summary = measure(args)
    else:
        with own_server() as (url, _):
            args.url = url
            summary = measure(args)
    print_report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 1 if summary["errors"] or summary["completed"] < summary["planned"] else 0


if __name__ == "__main__":
    sys.exit(main())
