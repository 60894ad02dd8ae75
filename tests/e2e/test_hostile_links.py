"""Hostile links in real Chromium: the largest network the URL accepts on the error surface's
trajectory plane, and a typed formula on the projector. Each page answers with its chart or a
sentence, never a traceback, and the server's memory stays bounded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.helpers import no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

WIDE = ("view=Error+surface&problem=multiclass&dataset=spiral&n_classes=10"
        "&hidden=64,64,64,64&epochs=10&n_samples=50&autoplay=0")
"""Ten classes through four layers of 64 units: 13,322 parameters."""


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def reset_peak(pid: int) -> None:
    """Start counting the process's peak memory (VmHWM) from now (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def test_the_trajectory_plane_of_a_13k_parameter_network_stays_small(server, server_pid, page,
                                                                     artifacts):
    pid = server_pid
    page.goto(f"{server}/?{WIDE}")
    wait_idle(page)
    no_exception(page)
    before = memory_mb(pid)
    reset_peak(pid)
    # the surface's choices live one click away
    page.get_by_role("button", name=re.compile("Surface settings")).click()
    page.get_by_text(re.compile("PCA|principal", re.I)).first.click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>"
        " JSON.stringify(g.layout).includes('projection'))", timeout=120_000)
    wait_idle(page)
    no_exception(page)
    # one click may not raise the server's memory by more than 400 MB (it took 1.35 GB: a
    # P x P identity matrix)
    assert memory_mb(pid, "VmHWM") - before < 400
    screenshot(page, artifacts / "30-pca-plane-13k-parameters.png")


def test_presenting_a_typed_formula_shows_the_pair_and_its_chart(server, page, artifacts):
    page.goto(f"{server}/?present=1&loss=custom&formula=abs(y-p)&autoplay=0")
    wait_idle(page)
    no_exception(page)
    header = page.locator("[data-testid='stMain']").get_by_text(re.compile("formula")).first
    header.wait_for()
    assert re.search(r"matched|mismatched|invalid", header.inner_text())
    screenshot(page, artifacts / "31-presenting-typed-formula.png")
