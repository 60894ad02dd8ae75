"""A browser tab without the browser: Streamlit's own websocket protocol, for benchmarks.

Opening a link is what the page does: ``GET /?<query>``, ``/_stcore/health`` (it sets the
``_streamlit_xsrf`` cookie; a load balancer may set its affinity cookie) and
``/_stcore/host-config`` with one cookie jar, then the websocket ``/_stcore/stream`` with
the subprotocols ``streamlit`` and the XSRF token, the cookies and a same-origin ``Origin``.

A script run is a ``BackMsg.rerun_script`` carrying the query string, every widget state the
tab has set (a button's press is a ``trigger_value`` sent once) and the hashes of the
cacheable messages already received (the server then sends a short reference instead of an
unchanged chart, as it does for a browser); the reply is read until ``script_finished``. A
fragment's run (``st.fragment``: a press inside it, or its ``run_every`` timer, which the
server announces with ``auto_rerun``) names the fragment and reruns only it.

Shared by ``bench_load.py`` (a class on one link) and ``bench_room.py`` (a room's phones).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

USER_AGENT = "bench_load (Loss Function Explorer)"
FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


@dataclass
class Session:
    """What a browser tab knows about its session between reruns."""

    query: str
    page_hash: str = ""
    widgets: dict[str, WidgetState] = field(default_factory=dict)
    """Widget states this client has set, by widget id (sent with every rerun)."""
    elements: dict[str, object] = field(default_factory=dict)
    """The widget elements of the last run, by widget id."""
    cached: set[str] = field(default_factory=set)
    """Hashes of cacheable messages received (sent back so the server can send references)."""
    auto_rerun: dict[str, float] = field(default_factory=dict)
    """Fragment id -> seconds between the runs its ``run_every`` asks of the page."""


@dataclass
class Reply:
    """What one script run (or fragment run) sent back."""

    seconds: float
    problem: str | None = None
    received_bytes: int = 0
    cached_refs: int = 0
    elements: dict[str, object] = field(default_factory=dict)
    """The widgets drawn in this run, by id."""
    texts: list[str] = field(default_factory=list)
    """The markdown and HTML bodies drawn in this run, in order."""


def widget_by_key(session: Session, key: str):
    """(id, element) of the widget with this user key in the last run, or (None, None)."""
    for wid, element in session.elements.items():
        if wid.endswith("-" + key):
            return wid, element
    return None, None


def current_option(element) -> str | None:
    if element.HasField("raw_value"):
        return element.raw_value
    options = list(element.options)
    return options[element.default] if options and 0 <= element.default < len(options) else None


def press(session: Session, key: str) -> str:
    """A button's press, sent with the next run (and only that one); returns its id."""
    wid, element = widget_by_key(session, key)
    if element is None:
        raise LookupError(f"no widget with key {key!r} in the last run")
    session.widgets[wid] = WidgetState(id=wid, trigger_value=True)
    return wid


async def run_script(ws, session: Session, url: str, timeout: float,
                     fragment_id: str = "", auto: bool = False) -> Reply:
    """Send one rerun_script (of the page, or of one fragment) and read until its
    script_finished. Raises TimeoutError when it does not finish within ``timeout``."""
    msg = BackMsg()
    client = msg.rerun_script
    client.query_string = session.query
    client.page_script_hash = session.page_hash
    client.widget_states.widgets.extend(session.widgets.values())
    client.cached_message_hashes.extend(sorted(session.cached))
    client.context_info.timezone = "UTC"
    client.context_info.timezone_offset = 0
    client.context_info.locale = "en-US"
    client.context_info.url = url
    client.context_info.is_embedded = False
    if fragment_id:
        client.fragment_id = fragment_id
        client.is_auto_rerun = auto
    started = time.perf_counter()
    deadline = started + timeout
    reply = Reply(0.0)
    await ws.send(msg.SerializeToString())
    # a press is sent once: the next run must not press again
    for wid in [wid for wid, s in session.widgets.items() if s.HasField("trigger_value")]:
        del session.widgets[wid]
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"no script_finished within {timeout:g} s")
        try:
            data = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            raise TimeoutError(f"no script_finished within {timeout:g} s") from None
        reply.received_bytes += len(data)
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        kind_of = fwd.WhichOneof("type")
        if fwd.metadata.cacheable and fwd.hash:
            session.cached.add(fwd.hash)
        if kind_of == "ref_hash":
            reply.cached_refs += 1
        elif kind_of == "new_session":
            session.page_hash = fwd.new_session.page_script_hash
        elif kind_of == "page_info_changed":
            session.query = fwd.page_info_changed.query_string
        elif kind_of == "auto_rerun":
            session.auto_rerun[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
        elif kind_of == "session_event":
            if fwd.session_event.WhichOneof("type") == "script_compilation_exception":
                reply.problem = "script compilation error"
        elif kind_of == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            element = fwd.delta.new_element
            which = element.WhichOneof("type")
            if which == "exception":
                exc = element.exception
                reply.problem = reply.problem or \
                    f"exception in the app: {exc.type}: {exc.message[:200]}"
            elif which == "markdown":
                reply.texts.append(element.markdown.body)
            elif which == "html":
                reply.texts.append(element.html.body)
            else:
                inner = getattr(element, which)
                wid = getattr(inner, "id", "")
                if wid:
                    reply.elements[wid] = inner
        elif kind_of == "script_finished":
            status = fwd.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue  # another rerun replaced this one; its own finish follows
            if status not in FINISHED:
                reply.problem = reply.problem or f"script finished with status {status}"
            break
    reply.seconds = time.perf_counter() - started
    if not fragment_id:
        session.elements = reply.elements
        # as the frontend does: forget the states of widgets that are no longer on the page
        session.widgets = {w: s for w, s in session.widgets.items() if w in reply.elements}
    else:
        session.elements.update(reply.elements)
    return reply


def fetch(opener, url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept-Encoding": "gzip"})
    with opener.open(request, timeout=timeout) as response:
        return response.read()


ASSET_RE = re.compile(r'(?:src|href)="\./(static/[^"]+\.(?:js|css))"')


def open_page(base: str, query: str, timeout: float, assets: bool = False):
    """The HTTP part of opening the link; returns the cookie header and the XSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = fetch(opener, f"{base}/?{query}" if query else f"{base}/", timeout)
    if assets:
        for path in dict.fromkeys(ASSET_RE.findall(page.decode("utf-8", "replace"))):
            fetch(opener, f"{base}/{path}", timeout)
    fetch(opener, f"{base}/_stcore/health", timeout)
    fetch(opener, f"{base}/_stcore/host-config", timeout)
    cookies = {c.name: c.value for c in jar}
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return header, cookies.get("_streamlit_xsrf")


def connect(base: str, cookie: str, xsrf: str | None, timeout: float):
    """The page's websocket (an async context manager)."""
    parsed = urllib.parse.urlsplit(base)
    ws_url = urllib.parse.urlunsplit(
        ("wss" if parsed.scheme == "https" else "ws", parsed.netloc,
         parsed.path.rstrip("/") + "/_stcore/stream", "", ""))
    headers = {"Origin": f"{parsed.scheme}://{parsed.netloc}", "User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
    return websockets.connect(ws_url, additional_headers=headers, subprotocols=protocols,
                              max_size=None, open_timeout=timeout, user_agent_header=None)
