"""axe-core (bundled by axe-playwright-python, nothing fetched at run time) over every view,
on the laptop page and in presenting mode: no serious or critical violation, and every
chart carries a short text alternative."""

from __future__ import annotations

import pytest

from explorer.ui import state
from tests.e2e.helpers import no_exception, wait_idle

pytestmark = pytest.mark.e2e

PAGES = [f"?{mode}autoplay=0&view={view.replace(' ', '+')}"
         for mode in ("", "present=1&") for view in state.VIEWS]


def test_every_view_in_both_modes_passes_axe_and_labels_its_charts(server, browser):
    axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_playwright.Axe()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems = []
    try:
        for path in PAGES:
            page.goto(f"{server}/{path}")
            wait_idle(page, chart=False)
            no_exception(page)
            charts = page.locator("[data-testid='stMain'] [data-testid='stPlotlyChart']")
            if charts.count():
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll(\"[data-testid='stMain'] "
                    "[data-testid='stPlotlyChart']\")).every(c => (c.getAttribute("
                    "'aria-label') || '').length > 'Chart: '.length)")
            page.wait_for_function(
                "() => !document.querySelector(\"[data-stale='true']\") && Array.from("
                "document.querySelectorAll(\"[data-testid='stSidebarContent']\"))"
                ".every(s => s.hasAttribute('tabindex'))")
            results = axe.run(page).response
            for violation in results["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    problems.append(f"{path}: {violation['id']} ({violation['impact']}) at "
                                    f"{[n['target'] for n in violation['nodes']][:3]}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
