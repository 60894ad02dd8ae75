"""The liveness probe (explorer/ui/liveness.py): 200 while no script run holds the turn too
long, 503 while one does, 200 again once it lets go, answered without taking a turn."""

import asyncio
import threading
import time

from explorer.ui import liveness, turns


def probe() -> tuple[int, str]:
    response = asyncio.run(liveness.endpoint(None))
    return response.status_code, response.body.decode()


def test_the_probe_fails_only_while_a_run_holds_the_turn_past_the_limit(monkeypatch):
    assert probe()[0] == 200  # nobody holds a turn

    inside, let_go = threading.Event(), threading.Event()

    def wedged_run():
        with turns.turn():
            inside.set()
            let_go.wait(30)

    run = threading.Thread(target=wedged_run)
    run.start()
    try:
        assert inside.wait(10)
        monkeypatch.setattr(liveness, "LIMIT_S", 3600.0)
        assert probe()[0] == 200  # held, but well within the limit

        monkeypatch.setattr(liveness, "LIMIT_S", 0.01)
        while turns.held_for() <= 0.01:  # a condition, not a guess at how long to sleep
            time.sleep(0.005)
        code, text = probe()  # answered from this thread while the run holds the only turn
        assert code == 503 and text.startswith("wedged: ")
    finally:
        let_go.set()
        run.join(10)
    assert not run.is_alive()
    assert probe()[0] == 200  # the run let go: alive again


def test_the_limit_is_far_above_a_bounded_click():
    assert 20 <= liveness.LIMIT_S <= 120


def test_streamlit_run_serves_serve_py_as_an_app_with_the_route():
    """`streamlit run serve.py` finds its st.App (read by Streamlit's own discovery, without
    importing serve.py: constructing st.App pins Streamlit's config directory)."""
    from pathlib import Path

    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(Path(__file__).resolve().parents[1] / "serve.py")
    assert found.is_asgi_app and found.app_name == "app"
