"""Your own loss in real Chromium: type a formula, see it trained and judged; type a hostile
one, see why not, with the run still on screen."""

import re
from urllib.parse import quote

import pytest

from tests.e2e.helpers import (
    CHART,
    current_key,
    current_query,
    no_exception,
    screenshot,
    wait_for_query,
    wait_idle,
)

pytestmark = pytest.mark.e2e

BOX = "Your formula L(y, p)"
HOSTILE = "__import__('os').system('id')"


def pick_your_formula(page) -> None:
    """The loss list is long (and virtualised): type to filter it, then pick."""
    page.get_by_role("combobox", name="Loss", exact=True).click()
    page.keyboard.type("Your formula")
    page.get_by_role("option", name="Your formula…").first.click()


def tex(page, where: str) -> list[str]:
    """The TeX sources KaTeX rendered in a part of the page."""
    return page.locator(f"{where} annotation[encoding='application/x-tex']").all_text_contents()


def chart_meta(page) -> str:
    return page.locator(CHART).first.evaluate("g => g.layout.meta")


def type_formula(page, text: str) -> None:
    box = page.get_by_role("textbox", name=BOX)
    box.fill(text)
    box.press("Enter")


def test_type_a_formula_then_a_hostile_one(server, page, artifacts):
    page.goto(server + "/?epochs=60")
    wait_idle(page)
    pick_your_formula(page)
    wait_for_query(page, "loss", "custom")
    wait_idle(page)
    type_formula(page, "-y*log(p)")
    wait_for_query(page, "formula", "-y*log(p)")
    wait_idle(page)
    no_exception(page)
    sidebar = "[data-testid='stSidebar']"
    sources = " ".join(tex(page, sidebar))
    assert r"L = - y \log{\left(p \right)}" in sources
    assert r"\frac{\partial L}{\partial p} = - \frac{y}{p}" in sources
    verdict = page.locator(sidebar).get_by_text(re.compile("Invalid by the three answers"))
    assert verdict.first.is_visible()
    for number in ("1 · Is the loss lowest", "2 · Is it defined", "3 · Does dL/dz"):
        assert page.get_by_text(number).first.is_visible()
    key = current_key(page)
    assert chart_meta(page) == key
    screenshot(page, artifacts / "custom-01-typed.png")

    type_formula(page, HOSTILE)
    message = page.locator(sidebar).get_by_text(re.compile("attribute access"))
    message.first.wait_for()
    wait_idle(page)  # the same scenario: the last valid formula is still trained
    no_exception(page)
    assert page.get_by_role("textbox", name=BOX).input_value() == HOSTILE
    assert current_query(page)["formula"] == "-y*log(p)"
    assert current_key(page) == key and chart_meta(page) == key
    assert page.locator(CHART).first.is_visible()
    assert page.get_by_text("Still training the last valid formula").first.is_visible()
    screenshot(page, artifacts / "custom-02-rejected.png")


def test_a_hostile_formula_in_a_link_is_shown_as_typed(server, page, artifacts):
    page.goto(server + f"/?loss=custom&formula={quote(HOSTILE)}")
    wait_idle(page)
    no_exception(page)
    notice = page.get_by_text(re.compile("Ignored formula=")).first
    assert HOSTILE in notice.inner_text()  # literally, underscores and all
    assert page.get_by_role("textbox", name=BOX).input_value() == "(p - y)**2"
    assert current_query(page)["formula"] == "(p - y)**2"
    page.screenshot(path=str(artifacts / "custom-03-hostile-link.png"))
