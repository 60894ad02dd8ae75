"""A room: the speaker puts a lesson's question to the audience's phones.

Two pages share this module. The **projector** (presenting mode, a lesson open) makes a room
with "Ask the room" and keeps its host secret in this browser session only (a reload of the
same browser takes the room back: the room keeps a hash of the browser's key); it shows the
question, the room's code, a QR code of the join link and a live count, and after Reveal the
lesson's animation, then how the room voted. A **phone** opens ``?room=CODE``: the question
with large buttons, nothing trained and no figure drawn, polling the room about once a second
(a fragment: only its own few lines rerun).

Who is who: a voter is a browser, not a page session. Streamlit gives each browser a token in
its ``_streamlit_xsrf`` cookie, sent by every tab and reload (also through nginx); the voter id
is a hash of that token with the room's code (never stored raw), so a second tab or a reload
is the same voter, and its earlier answer is shown again. Where no cookie comes (AppTest), the
session is the voter. New voters per client address per minute are bounded by the store.

The room itself lives in ``explorer.rooms`` (a database); this module only draws it.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import logging
import os
import secrets
import socket
import time
import urllib.parse

import streamlit as st

from explorer import config as cfg
from explorer import presets
from explorer.experiment import SNAPSHOTS
from explorer.figures.style import FRAME_MS
from explorer.lessons import questions
from explorer.rooms import RoomError, RoomState, RoomUnavailable, UnknownRoom, normalize_code
from explorer.rooms import rooms as _shared_rooms
from explorer.rooms.store import UNAVAILABLE, digest
from explorer.ui import playback, state

log = logging.getLogger(__name__)

QUERY_KEY = "room"
"""The join link's query key: ``?room=CODE``."""
POLL_S = 1.0
"""How often a phone and the projector's count ask the room for news (seconds)."""
PUBLIC_URL_VARIABLE = "EXPLORER_PUBLIC_URL"
"""Where the audience reaches the app (e.g. ``https://explorer.example.org/``), when the
projector's own address is not it (a laptop showing ``localhost``)."""

HOSTED = "_room_hosted"
"""(code, host secret) of the room this browser session made; never in the link."""
RECLAIMED = "_room_reclaimed"
"""Set once this session has looked for a room its browser made (after a reload)."""
XSRF_COOKIE = "_streamlit_xsrf"
REPLAY_S = (SNAPSHOTS + 1) * FRAME_MS / 1000
"""Longest a lesson's replay plays at 1× (every snapshot, one frame each)."""
REVEAL_LAG_S = 3.0
"""Allowance for the projector drawing the lesson's chart before its replay starts."""
PLAY_NOW = "_room_play_now"
ROOM_PROBLEM = "_room_problem"
VOTER = "_room_voter"
"""This phone's voter id: random, made by its session, never shown."""
MY_VOTES = "_room_my_votes"
"""(code, round) -> the answer this phone gave."""
VOTE_NOTE = "_room_vote_note"
"""The sentence answering this phone's last press (shown once, under the buttons)."""
VOTE_TIMES = "_room_vote_times"
PHONE_SEEN = "_room_phone_seen"
TYPED_CODE = "room_code_typed"
NEXT_PICK = "room_next_lesson"

FLOOD_VOTES, FLOOD_SECONDS = 8, 10.0
"""A phone pressing more than this many answers within this many seconds is asked to wait:
the rest are not sent to the room at all (the store has its own limit too)."""

LETTERS = "ABCD"


# ---------------------------------------------------------------- shared


def _question(lesson_key: str) -> questions.Question:
    return presets.get(lesson_key).question


def _answer_label(i: int, answer: str) -> str:
    return f"{LETTERS[i]}. {answer}"


def bars_html(answers: tuple[str, ...], counts: tuple[int, ...], outcome: int | None,
              large: bool = False) -> str:
    """How the room voted: one bar per answer (the outcome's marked), plain HTML so a phone
    draws it with no chart library."""
    total = sum(counts) or 1
    rows = []
    for i, (answer, count) in enumerate(zip(answers, counts, strict=True)):
        share = count / total
        won = i == outcome
        colour = "#15803d" if won else "#64748b"
        mark = " ✓" if won else ""
        rows.append(
            f'<div class="room-bar" data-answer="{i}" data-count="{count}">'
            f'<div class="room-bar-label">{html.escape(_answer_label(i, answer))}{mark}'
            f' <span class="room-bar-count">{count} ({100 * share:.0f} %)</span></div>'
            f'<div class="room-bar-track" aria-hidden="true"><div class="room-bar-fill" '
            f'style="width:{100 * share:.1f}%;background:{colour}"></div></div></div>')
    size = "1.25rem" if large else "1rem"
    return (f'<div class="room-bars" style="font-size:{size}">{"".join(rows)}</div>'
            "<style>.room-bar{margin:0.35em 0}.room-bar-label{font-weight:600;"
            "overflow-wrap:anywhere}.room-bar-count{font-weight:400;color:#334155}"
            ".room-bar-track{background:#e2e8f0;border-radius:4px;height:0.8em}"
            ".room-bar-fill{height:100%;border-radius:4px}</style>")


def reveal_sentence(room: RoomState) -> str:
    """What happened and why ("C. To a tenth or less: after 50 epochs …"), with the run's
    numbers, as the projector that revealed it worked them out (kept with the room)."""
    outcome = room.outcome if room.outcome is not None else 0
    if room.sentence:
        return f"{LETTERS[outcome]}. {room.sentence}"
    answer = _question(room.lesson).answers[outcome]
    return (f"{_answer_label(outcome, answer)}. The measured numbers are on the speaker's "
            "screen.")


def rooms():
    """The process's rooms; a database that cannot be opened (or a DATABASE_URL that is not
    one) is the plain sentence ``UNAVAILABLE`` here, with the details in the server's log."""
    try:
        return _shared_rooms()
    except RoomError:
        raise
    except Exception as err:  # a malformed DATABASE_URL is a ValueError
        log.warning("rooms are unavailable: %s", err)
        raise RoomUnavailable(UNAVAILABLE) from None


# ---------------------------------------------------------------- who is who


def browser_key(cookie: str | None) -> str | None:
    """The browser's own token from Streamlit's XSRF cookie, or None. The cookie reads
    ``2|mask|masked token|time``: the mask is drawn afresh on each page load, the token is
    the browser's for as long as the cookie lives (every tab, every reload)."""
    if not isinstance(cookie, str) or not cookie or len(cookie) > 512:
        return None
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return None
        if len(mask) != 4 or not masked:
            return None
        return bytes(b ^ mask[i % 4] for i, b in enumerate(masked)).hex()
    return cookie if "|" not in cookie else None  # a version-1 cookie is the raw token


def _browser() -> str | None:
    """This browser's key (see ``browser_key``), or None (an AppTest sends no cookie)."""
    try:
        return browser_key(st.context.cookies.get(XSRF_COOKIE))
    except Exception:
        return None


def client_address(peer: str | None, headers) -> str | None:
    """The address a request came from: the socket's peer, or, when the peer is this machine
    or a private network's (the deployment's nginx in front), the ``X-Real-IP`` (else the last
    ``X-Forwarded-For`` entry) that proxy set. This machine itself with neither (a local
    run, a benchmark's phones): None, no limit per address."""
    try:
        address = ipaddress.ip_address(peer) if peer else None
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address is None or address.is_loopback or address.is_private:
        forwarded = (headers.get("X-Real-IP") or "").strip()
        if not forwarded:
            forwarded = (headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        if isinstance(forwarded, str) and forwarded:
            return forwarded[:64]
    return None if address is None or address.is_loopback else str(address)


def _client() -> str | None:
    try:
        return client_address(st.context.ip_address, st.context.headers)
    except Exception:
        return None


# ---------------------------------------------------------------- the join link


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _lan_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: only picks the outgoing interface
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback else address


def join_link(code: str, page_url: str | None, public: str | None = None,
              lan: str | None = None) -> str:
    """The link a phone opens to join room ``code``.

    ``public`` (``EXPLORER_PUBLIC_URL``) wins. Otherwise it is the projector's own address
    as its browser sees it (behind nginx too: scheme, host and path prefix included), except
    that a loopback host, which no phone can reach, becomes this machine's network address
    ``lan`` when there is one."""
    base = public or page_url or "http://localhost:8501/"
    parts = urllib.parse.urlsplit(base)
    netloc = parts.netloc
    if not public and parts.hostname and _loopback(parts.hostname) and lan:
        netloc = lan + (f":{parts.port}" if parts.port else "")
    path = parts.path or "/"
    return urllib.parse.urlunsplit((parts.scheme or "http", netloc, path,
                                    urllib.parse.urlencode({QUERY_KEY: code}), ""))


def _page_url() -> str | None:
    try:
        return st.context.url
    except Exception:  # an AppTest or an old frontend sends no URL
        return None


def _qr_svg(link: str) -> str:
    import segno

    return segno.make(link, error="m").svg_inline(scale=6, border=2, dark="#0f172a",
                                                  light="#ffffff", omitsize=True)


# ---------------------------------------------------------------- the projector


def hosted() -> tuple[str, str] | None:
    """(code, secret) of the room this session made, or None."""
    return st.session_state.get(HOSTED)


def hosting() -> bool:
    """True while this session shows its room (presenting mode, a room made here or taken
    back after a reload of the browser that made it)."""
    if not state.presenting():
        return False
    if hosted() is None and not st.session_state.get(RECLAIMED):
        _reclaim()
    return hosted() is not None


def _reclaim() -> None:
    """Once per session: the open room this browser made (before a reload), if any."""
    st.session_state[RECLAIMED] = True
    browser = _browser()
    if browser is None:
        return
    try:
        found = rooms().resume(browser)
    except RoomError as err:
        st.session_state[ROOM_PROBLEM] = str(err)
        return
    if found is not None:
        st.session_state[HOSTED] = found
        st.toast(f"Room {found[0]} is back on this screen.", icon=":material/groups:")


def header_button(slot, config: cfg.Config) -> None:
    """Presenting mode's "Ask the room" (on a lesson whose settings are untouched), or
    "Close the room" while this session has one."""
    if hosted() is not None:
        slot.button("Close room", key="room_close", icon=":material/close:",
                    on_click=_close, width="stretch",
                    help="Back to the lesson; the room's answers stay downloadable until "
                         "it expires, but this page no longer shows it.")
        return
    problem = st.session_state.pop(ROOM_PROBLEM, None)
    if problem:  # the room could not be made (its database did not answer)
        st.toast(problem, icon=":material/error:")
    preset, unchanged = state.lesson(config)
    if preset is None or not unchanged:
        return
    slot.button("Ask the room", key="room_ask", icon=":material/groups:", on_click=_create,
                args=(preset.key,), width="stretch",
                help="Put this lesson's question to the audience's phones: a code and a QR "
                     "code to join, a live count, then Reveal.")


def _create(lesson_key: str) -> None:
    try:
        code, secret = rooms().create(lesson_key, len(_question(lesson_key).answers),
                                      browser=_browser(), client=_client())
    except RoomError as err:
        st.session_state[ROOM_PROBLEM] = str(err)
        return
    st.session_state[HOSTED] = (code, secret)
    st.session_state[ROOM_PROBLEM] = None


def _close() -> None:
    """Close room: back to the lesson; a reload no longer brings this room back."""
    code, secret = hosted() or ("", "")
    st.session_state[HOSTED] = None
    # expired, or taken over by another tab: nothing to bring back anyway
    with contextlib.suppress(RoomError):
        rooms().release(code, secret)


def _reveal() -> None:
    st.session_state["_room_reveal_asked"] = True


def _advance(pick: str) -> None:
    """Next question's press: the room moves to the chosen lesson, and so does this page."""
    code, secret = hosted() or ("", "")
    key = st.session_state.get(pick) or ""
    try:
        rooms().advance(code, secret, key, len(_question(key).answers))
    except (RoomError, ValueError) as err:
        st.session_state[ROOM_PROBLEM] = str(err)
        return
    st.session_state[ROOM_PROBLEM] = None
    state.apply_preset(key)


def next_lesson(current: str) -> str:
    """The lesson after ``current`` in the app's order (the first after the last)."""
    keys = list(presets.PRESETS)
    return keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]


def host_page(config: cfg.Config):
    """The room on the projector. Returns None while the question is open (nothing else is
    drawn: the animation waits for Reveal), or, once revealed, the slot the lesson's view
    is drawn in (its animation plays there, the votes beside it)."""
    code, secret = hosted()  # type: ignore[misc]
    try:
        room = rooms().state(code)
    except UnknownRoom:
        st.warning(closed_sentence(code), icon=":material/timer_off:")
        _new_room_button(st.session_state.get(state.ACTIVE_PRESET) or "", "room_renew_page")
        return None
    except RoomError as err:  # the database did not answer: the room may still be there
        st.warning(str(err), icon=":material/error:")
        return None
    preset = presets.get(room.lesson)
    if st.session_state.get(state.ACTIVE_PRESET) != room.lesson or config != preset.config:
        # the room's question is about its lesson as the lesson sets it up
        state.apply_preset(room.lesson)
        st.rerun()
    if st.session_state.pop("_room_reveal_asked", False) and not room.revealed:
        room = _work_out_reveal(room, preset, config, secret) or room
    problem = st.session_state.pop(ROOM_PROBLEM, None)
    if problem:
        st.warning(problem, icon=":material/error:")
    if not room.revealed:
        _style()
        _question_screen(room, preset, code)
        return None
    left, right = st.columns([2.7, 1], gap="medium")
    with right:
        _style()  # in the column: no extra row above the lesson's chart
        if st.session_state.pop(PLAY_NOW, False):
            # the lesson played once before the room was asked: play it from its start
            st.html("<script>if (window.__lfePlayback) window.__lfePlayback.played = {};"
                    "</script>", unsafe_allow_javascript=True)
        # the outcome and the votes wait until the replay has ended, as for a student alone
        rid = reveal_id(room)
        st.html(playback.reveal_html(rid, config.key()), unsafe_allow_javascript=True)
        with st.container(key=f"lfe_before_{rid}"):
            question = _question(room.lesson)
            st.html(playback.pending_html(rid, html.escape(question.text),
                                          "The room has answered"))
        with st.container(key=f"lfe_after_{rid}"):
            _result_panel(room, preset, code, secret)
    return left


def closed_sentence(code: str) -> str:
    """The projector's room has closed under it (what the speaker reads in place of the
    count)."""
    return (f"Room {code} has closed: rooms close 12 hours after they open, and a new room "
            "from this browser closes the one before. Its phones can no longer answer.")


def reveal_id(room: RoomState) -> str:
    """Names the projector's reveal of this round (its containers' keys)."""
    return f"room_{room.code}_{room.round}"


def _new_room_button(lesson_key: str, key: str) -> None:
    """After the room closed under the speaker: a new room for the same lesson."""
    if lesson_key not in presets.PRESETS:
        return
    if st.button("Open a new room for this lesson", key=key, icon=":material/groups:",
                 type="primary"):
        st.session_state[HOSTED] = None
        _create(lesson_key)
        st.rerun(scope="app")


def _work_out_reveal(room: RoomState, preset, config: cfg.Config, secret: str):
    """The outcome on the runs this projector shows (trained now if needed; the same
    outcome a student alone sees, ``lesson.outcome``), stored in the room; None (and why,
    on the page) when it cannot be revealed."""
    from explorer.ui import compute, lesson

    configs = preset.configs(config.seed)
    runs = tuple(compute.key(configs[name]) for name in questions.runs_needed(preset))
    try:
        happened = lesson.outcome(preset.key, config.seed, runs)
    except Exception as err:  # a run that could not be made settles nothing
        happened = f"{type(err).__name__}"
    if isinstance(happened, str):
        st.session_state[ROOM_PROBLEM] = (
            "This run does not settle the question (a measurement it needs could not be "
            "made), so nothing was revealed. Move on with Next question.")
        return None
    try:
        revealed = rooms().reveal(room.code, secret, happened.answer, happened.sentence)
    except RoomError as err:
        st.session_state[ROOM_PROBLEM] = str(err)
        return None
    st.session_state[state.AUTOPLAY] = True
    st.session_state[PLAY_NOW] = True
    return revealed


def _question_screen(room: RoomState, preset, code: str) -> None:
    question = _question(room.lesson)
    link = join_link(code, _page_url(), os.environ.get(PUBLIC_URL_VARIABLE) or None,
                     _lan_address())
    ask, join = st.columns([2.3, 1], gap="large")
    with ask:
        st.markdown(f'<p class="room-lesson">Lesson: {html.escape(preset.title)}</p>'
                    f'<h2 class="room-question">{html.escape(question.text)}</h2>',
                    unsafe_allow_html=True)
        st.markdown("".join(f'<p class="room-answer">{html.escape(_answer_label(i, a))}</p>'
                            for i, a in enumerate(question.answers)), unsafe_allow_html=True)
        _live_count(code, room.lesson)
        reveal, nxt, csv = st.columns(3)
        reveal.button("Reveal", key="room_reveal", icon=":material/visibility:",
                      type="primary", on_click=_reveal, width="stretch",
                      help="Play the lesson's animation, then show how the room voted.")
        _next_controls(nxt, room)
        _download(csv, code)
    with join:
        shown = link.split("://", 1)[-1]
        st.markdown(
            f'<div class="room-join"><div class="room-join-line">Answer on your phone at'
            f'</div><div class="room-link">{html.escape(shown)}</div>'
            f'<div class="room-code" data-code="{code}">{code}</div>'
            f'<div class="room-qr" role="img" aria-label="QR code of the link '
            f'{html.escape(shown)}">'
            f'{_qr_svg(link)}</div></div>', unsafe_allow_html=True)


@st.fragment(run_every=POLL_S)
def _live_count(code: str, lesson_key: str) -> None:
    """The number of answers so far, asked of the room about once a second; if the room has
    closed meanwhile, the sentence saying so in its place, and a new room a press away."""
    try:
        room = rooms().state(code)
    except UnknownRoom:
        st.warning(closed_sentence(code), icon=":material/timer_off:")
        _new_room_button(lesson_key, "room_renew")
        return
    except RoomError as err:
        st.warning(str(err), icon=":material/error:")
        return
    word = "answer" if room.total == 1 else "answers"
    st.markdown(f'<p class="room-count" data-count="{room.total}" data-round="{room.round}">'
                f'<b>{room.total}</b> {word}</p>', unsafe_allow_html=True)


def _next_controls(slot, room: RoomState) -> None:
    keys = list(presets.PRESETS)
    pick = f"{NEXT_PICK}_{room.round}"
    with slot.popover("Next question", icon=":material/skip_next:", width="stretch"):
        st.selectbox("Lesson", keys, index=keys.index(next_lesson(room.lesson)), key=pick,
                     format_func=lambda k: presets.get(k).title)
        st.button("Ask this next", key="room_next", icon=":material/skip_next:",
                  type="primary", on_click=_advance, args=(pick,), width="stretch")


def _download(slot, code: str) -> None:
    _, secret = hosted()  # type: ignore[misc]
    try:
        data = rooms().answers_csv(code, secret)
    except RoomError as err:
        slot.caption(str(err))
        return
    slot.download_button("Answers (CSV)", data=data, file_name=f"room-{code}.csv",
                         mime="text/csv", key="room_csv", icon=":material/download:",
                         width="stretch", help="Every answer given in this room: round, "
                         "lesson, answer, time. No names, no phone ids.")


def _result_panel(room: RoomState, preset, code: str, secret: str) -> None:
    question = _question(room.lesson)
    st.markdown(f'<p class="room-lesson">Room {code}</p>'
                f'<p class="room-result-q">{html.escape(question.text)}</p>',
                unsafe_allow_html=True)
    st.success(reveal_sentence(room), icon=":material/check_circle:")
    st.html(f'<div class="room-votes" data-total="{room.total}">'
            + bars_html(question.answers, room.counts, room.outcome) + "</div>")
    nxt, csv = st.columns(2)
    _next_controls(nxt, room)
    _download(csv, code)


def _style() -> None:
    st.html("""<style>
.room-lesson { font-size: 1rem; color: #475569; margin: 0.2rem 0 0 0; }
h2.room-question { font-size: clamp(2.1rem, 2.6vw, 3.2rem); line-height: 1.2;
  padding: 0.2rem 0 0.6rem 0; }
p.room-answer { font-size: clamp(1.7rem, 2.1vw, 2.6rem); margin: 0.15rem 0; font-weight: 600; }
p.room-count { font-size: clamp(2.2rem, 2.6vw, 3.2rem); margin: 0.5rem 0; }
.room-join { text-align: center; }
.room-join-line { font-size: 1.1rem; }
.room-link { font-size: 1.1rem; font-weight: 600; overflow-wrap: anywhere; }
.room-code { font-size: clamp(4.2rem, 5vw, 6rem); font-weight: 800; letter-spacing: 0.12em;
  line-height: 1.1;
  font-family: ui-monospace, monospace; }
.room-qr svg { width: min(100%, calc(100vh - 330px)); height: auto; }
.room-result-q { font-size: 1.15rem; font-weight: 600; }
</style>""")


# ---------------------------------------------------------------- the phone


def is_phone_link() -> bool:
    return QUERY_KEY in st.query_params


def phone_page() -> None:
    """``?room=CODE`` on a phone: the question, large buttons, the room's news each second.
    Nothing is trained and no figure is drawn."""
    st.html(PHONE_CSS)
    typed = st.query_params.get(QUERY_KEY, "")
    try:
        code = normalize_code(typed)
        room = rooms().state(code)
    except RoomError as err:
        _code_box(str(err))
        return
    st.session_state[PHONE_SEEN] = _news(room)
    _phone_room(code, room)
    _phone_poll(code)


def outcome_shown(room: RoomState, now: float | None = None) -> bool:
    """True once a phone may show the outcome: the projector's replay has had time to end
    (REPLAY_S and REVEAL_LAG_S after the reveal)."""
    if not room.revealed:
        return False
    if room.revealed_at is None:
        return True
    now = time.time() if now is None else now
    return now >= room.revealed_at.timestamp() + REPLAY_S + REVEAL_LAG_S


def _news(room: RoomState) -> tuple:
    """What a phone shows of a room that can change without the phone doing anything."""
    return room.round, room.lesson, room.revealed, room.outcome, outcome_shown(room)


@st.fragment(run_every=POLL_S)
def _phone_poll(code: str) -> None:
    """Asks the room for news about once a second and draws nothing: the page is drawn
    again only when the room has moved (a reveal, the next question), so a phone waiting
    costs the server one small run a second."""
    try:
        news = _news(rooms().state(code))
    except RoomError:
        news = None
    if news != st.session_state.get(PHONE_SEEN):
        st.rerun()


def _code_box(problem: str | None) -> None:
    st.markdown("### Join a room")
    if problem:
        st.warning(problem, icon=":material/error:")
    with st.form("room_join", border=False):
        st.text_input("Room code (on the speaker's screen)", key=TYPED_CODE, max_chars=20)
        st.form_submit_button("Join", icon=":material/login:", type="primary",
                              width="stretch", on_click=_join)


def _join() -> None:
    typed = st.session_state.get(TYPED_CODE, "")
    try:
        code = normalize_code(typed)
    except RoomError:
        code = typed.strip()[:20]
    st.query_params[QUERY_KEY] = code


def _voter(code: str) -> str:
    """This browser's voter id in room ``code`` (a hash of its key with the code); without a
    cookie, this session's random id."""
    browser = _browser()
    if browser is not None:
        return digest("voter", code, browser)
    if VOTER not in st.session_state:
        st.session_state[VOTER] = secrets.token_urlsafe(16)
    return st.session_state[VOTER]


def _vote(code: str, round_: int, answer: int) -> None:
    """An answer button's press: one sentence about it, kept for the next draw."""
    now = time.monotonic()
    times = [t for t in st.session_state.get(VOTE_TIMES, []) if now - t < FLOOD_SECONDS]
    if len(times) >= FLOOD_VOTES:
        st.session_state[VOTE_NOTE] = ("warning", "Too many presses in a few seconds: wait a "
                                       "moment, then answer again.")
        return
    st.session_state[VOTE_TIMES] = [*times, now]
    mine = st.session_state.setdefault(MY_VOTES, {})
    before = mine.get((code, round_))
    try:
        rooms().vote(code, round_, _voter(code), answer, client=_client())
    except RoomError as err:
        st.session_state[VOTE_NOTE] = ("warning", str(err))
        return
    mine[(code, round_)] = answer
    if before is None:
        note = "Your answer is in. Waiting for the reveal; you may change it until then."
    elif before == answer:
        note = "That answer is already counted, once. Waiting for the reveal."
    else:
        note = "You changed your answer; only this one counts. Waiting for the reveal."
    st.session_state[VOTE_NOTE] = ("info", note)


def _my_answer(code: str, room: RoomState) -> int | None:
    """This phone's answer in this round: remembered by the session, else asked of the room
    (a reload, a second tab)."""
    mine = st.session_state.setdefault(MY_VOTES, {})
    if (code, room.round) not in mine:
        try:
            found = rooms().my_vote(code, room.round, _voter(code))
        except RoomError:
            return None
        if found is None:
            return None
        mine[(code, room.round)] = found
    return mine[(code, room.round)]


def _phone_room(code: str, room: RoomState) -> None:
    question = _question(room.lesson)
    mine = _my_answer(code, room)
    st.html(f'<div class="phone-room" data-round="{room.round}" data-lesson="{room.lesson}" '
            f'data-revealed="{int(room.revealed)}" data-mine="{"" if mine is None else mine}">'
            f'<div class="phone-code">Room {code} · question {room.round}</div>'
            f'<div class="phone-question">{html.escape(question.text)}</div></div>')
    note = st.session_state.pop(VOTE_NOTE, None)
    if note is not None and note[0] == "warning":
        # a press the room refused (the reveal or the next question came first, a flood)
        st.warning(note[1], icon=":material/error:")
    if not room.revealed:
        for i, answer in enumerate(question.answers):
            st.button(_answer_label(i, answer), key=f"answer_{room.round}_{i}",
                      type="primary" if mine == i else "secondary", width="stretch",
                      on_click=_vote, args=(code, room.round, i))
        if note is not None and note[0] == "info":
            st.info(note[1], icon=":material/how_to_vote:")
        elif mine is not None:
            st.info(f"Waiting for the reveal. You answered {LETTERS[mine]}; you may change "
                    "it until then.", icon=":material/hourglass_top:")
        else:
            st.caption("Tap your prediction before the speaker reveals what happens.")
        return
    if not outcome_shown(room):
        st.html('<div class="phone-watch" role="status"><b>Watch the screen:</b> the '
                "animation is playing. What happened appears here when it ends.</div>")
        return
    outcome = room.outcome if room.outcome is not None else 0
    verdict = ("" if mine is None else
               "You predicted it." if mine == outcome else
               f"You predicted {LETTERS[mine]}.")
    st.html(f'<div class="phone-outcome" data-outcome="{outcome}"><b>What happened:</b> '
            f'{html.escape(reveal_sentence(room))} <b>{verdict}</b></div>')
    st.html('<div class="phone-votes-title">How the room voted</div>'
            + bars_html(question.answers, room.counts, room.outcome))
    st.caption("The next question appears here by itself.")


PHONE_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.8rem 1rem 2rem 1rem !important;
  max-width: 40rem; }
html, body { overflow-x: hidden; }
.phone-code { font-size: 0.95rem; color: #475569; }
.phone-question { font-size: 1.35rem; font-weight: 700; line-height: 1.3; margin: 0.3rem 0; }
[data-testid="stMain"] .stButton button { min-height: 3.4rem; font-size: 1.15rem;
  white-space: normal; text-align: left; justify-content: flex-start; }
[data-testid="stMain"] .stButton button p { font-size: 1.15rem; }
.phone-outcome { font-size: 1.1rem; background: #f0fdf4; border-left: 4px solid #15803d;
  padding: 0.6rem 0.8rem; border-radius: 4px; overflow-wrap: anywhere; }
.phone-votes-title { font-weight: 700; margin-top: 0.6rem; }
.phone-watch { font-size: 1.2rem; background: #eff6ff; border-left: 4px solid #2563eb;
  padding: 0.6rem 0.8rem; border-radius: 4px; }
</style>"""
