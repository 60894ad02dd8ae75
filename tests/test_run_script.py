"""scripts/run.sh, the README's first command: which port, whether to open a browser, and
what it prints (run for real against the test environment's packages)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _bash(snippet: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``snippet`` after sourcing run.sh (which then defines its functions only)."""
    return subprocess.run([BASH, "-c", f'. "{SCRIPT}"; {snippet}'], capture_output=True,
                          text=True, env=env if env is not None else {"PATH": os.environ["PATH"]},
                          timeout=30)


@pytest.fixture
def fake_bin(tmp_path) -> Path:
    """A directory with an xdg-open that only records that it was called."""
    path = tmp_path / "bin"
    path.mkdir()
    opener = path / "xdg-open"
    opener.write_text("#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/opened\"\n")
    opener.chmod(0o755)
    return path


@pytest.mark.parametrize("env, opens", [
    ({"DISPLAY": ":0"}, True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ({}, False),  # a server: no graphical session
    ({"DISPLAY": ":0", "CI": "true"}, False),
    ({"DISPLAY": ":0", "EXPLORER_NO_BROWSER": "1"}, False),
])
def test_a_browser_opens_only_on_a_desktop(fake_bin, env, opens):
    path = f"{fake_bin}:{os.environ['PATH']}"
    result = _bash("desktop_session && echo yes || echo no", {"PATH": path, **env})
    assert result.stdout.strip() == ("yes" if opens else "no"), result.stderr


def test_no_browser_without_a_way_to_open_one(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _bash("desktop_session && echo yes || echo no", {"PATH": str(empty),
                                                              "DISPLAY": ":0"})
    assert result.stdout.strip() == "no"


@pytest.mark.parametrize("args, port", [
    ("", ""), ("--server.port 8600", "8600"), ("--server.port=8700", "8700"),
    ("--theme.base dark --server.port 9000", "9000"),
])
def test_the_port_asked_for_is_found_in_streamlits_arguments(args, port):
    assert _bash(f"requested_port {args}").stdout.strip() == port


def test_a_busy_port_is_skipped():
    with socket.socket() as busy:
        busy.bind(("", 0))
        taken = busy.getsockname()[1]
        busy.listen()
        found = int(_bash(f"PYTHON_FOR_PORT={sys.executable} free_port {taken}").stdout)
    assert found > taken


@pytest.fixture
def test_venv(tmp_path) -> Path:
    """A .venv that is this test environment's (no install), with its install stamp."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    real = Path(sys.prefix)
    (venv / "bin" / "python").symlink_to(Path(sys.executable))
    (venv / "lib").symlink_to(real / "lib")
    (venv / "pyvenv.cfg").write_text((real / "pyvenv.cfg").read_text())
    stamp = subprocess.run(["bash", "-c", "cat requirements.txt requirements.txt | sha1sum"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()[0]
    (venv / ".installed-requirements.txt").write_text(stamp + "\n")
    return venv


def test_the_script_prints_the_url_it_serves_even_when_8501_is_taken(test_venv, fake_bin):
    lines: list[str] = []
    with socket.socket() as busy:
        try:
            busy.bind(("", 8501))
            busy.listen()
        except OSError:
            pass  # already taken by someone else: just as good
        env = {**os.environ, "VENV": str(test_venv), "PATH": f"{fake_bin}:{os.environ['PATH']}",
               "DISPLAY": ":0"}
        env.pop("CI", None)
        proc = subprocess.Popen([BASH, str(SCRIPT)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line.rstrip())
                if "URL:" in line:
                    break
            opened = fake_bin / "opened"
            while time.monotonic() < deadline and not opened.exists():
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    text = "\n".join(lines)
    announced = next(line for line in lines if line.startswith("Starting"))
    url = announced.split(" at ")[1].split()[0]
    assert url != "http://localhost:8501" and url.startswith("http://localhost:")
    assert f"URL: {url}" in [line.strip() for line in lines], text
    assert "External URL" not in text
    assert "Did not auto detect" not in text and "Installing" not in text
    assert (fake_bin / "opened").read_text().strip() == url
