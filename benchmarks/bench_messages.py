"""The largest websocket message the app sends, against ``server.maxMessageSize``.

Streamlit replaces a ForwardMsg larger than ``server.maxMessageSize`` (megabytes, in
``.streamlit/config.toml``) by an error, and uvicorn refuses a larger incoming frame. This
opens one fresh session per link on a fresh ``streamlit run app.py`` (the protocol client
of ``bench_load.py``), from the opening scenario to the largest networks, datasets and views
a link may ask for, and prints for each the largest message and the total received, then
the largest of all against the limit. Downloads (HTML, GIF) are fetched over HTTP, not the
websocket; an uploaded CSV too (``maxUploadSize``).

Run by hand: ``python benchmarks/bench_messages.py``; one to three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tomllib
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_load  # noqa: E402
import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

BIG_NET = "hidden=64,64,64,64"
LINKS = {
    "opening scenario": "",
    "presenting": "present=1",
    "spiral, 10 classes, 5000 points": "problem=multiclass&dataset=spiral&n_classes=10"
                                       "&n_samples=5000&epochs=100",
    "spiral, 10 classes, 4x64 net": f"problem=multiclass&dataset=spiral&n_classes=10&{BIG_NET}"
                                    "&epochs=30&n_samples=400",
    "2-D regression, 5000 points": "problem=regression&dataset=plane&n_samples=5000&epochs=100",
    "error surface, 4x64 net": f"view=Error+surface&{BIG_NET}&epochs=30",
    "compare": "view=Compare",
    "compare, multiclass": "view=Compare&problem=multiclass&dataset=spiral&n_classes=10",
    "loss anatomy": "view=Loss+anatomy",
    "calibration": "view=Calibration",
    "learn": "view=Learn",
}


async def largest(base: str, query: str, timeout: float) -> tuple[int, int, str, bool]:
    """(largest message, bytes received, its kind, whether a chart arrived) for one link."""
    cookie, xsrf = await asyncio.to_thread(bench_load._open_page, base, query, timeout, False)
    netloc = urllib.parse.urlsplit(base).netloc
    headers = {"Origin": base, "User-Agent": bench_load.USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    async with websockets.connect(f"ws://{netloc}/_stcore/stream", additional_headers=headers,
                                  subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
                                  max_size=None, user_agent_header=None) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.context_info.url = f"{base}/?{query}"
        await ws.send(msg.SerializeToString())
        biggest, total, kind, chart = 0, 0, "", False
        deadline = time.monotonic() + timeout
        while True:
            data = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            which = fwd.WhichOneof("type")
            element = ""
            if which == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element.WhichOneof("type")
                chart = chart or element == "plotly_chart"
            total += len(data)
            if len(data) > biggest:
                biggest, kind = len(data), element or which
            if which == "script_finished" and \
                    fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return biggest, total, kind, chart


def limit_mb() -> int:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return config["server"].get("maxMessageSize", 200)


async def measure(base: str, timeout: float) -> int:
    worst = 0
    print(f"{'link':36} {'largest MB':>10} {'total MB':>9}  largest is  chart")
    for name, query in LINKS.items():
        biggest, total, kind, chart = await largest(base, query, timeout)
        worst = max(worst, biggest)
        print(f"{name:36} {biggest / 1e6:10.2f} {total / 1e6:9.2f}  {kind:11}  "
              f"{'yes' if chart else 'no (refused or none)'}")
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    if args.url:
        worst = asyncio.run(measure(args.url.rstrip("/"), args.timeout))
    else:
        with bench_load.own_server() as (url, _):
            worst = asyncio.run(measure(url, args.timeout))
    limit = limit_mb()
    print(f"largest message: {worst / 1e6:.2f} MB; server.maxMessageSize {limit} MB "
          f"({limit * 1e6 / worst:.1f}x the largest)")
    return 0 if worst < limit * 1e6 else 1


if __name__ == "__main__":
    sys.exit(main())
