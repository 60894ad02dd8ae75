"""Advice one click away and a lesson's banner, in real Chromium."""

import pytest

from tests.e2e.helpers import no_exception, screenshot, wait_for_query, wait_idle

pytestmark = pytest.mark.e2e


def test_linear_bce_is_fixed_by_its_own_button(server, page, artifacts):
    page.goto(server + "/?output_activation=linear&epochs=20")
    wait_idle(page, chart=False)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("learning rate").count() == 0
    main.get_by_role("button", name="Use a sigmoid output").click()
    wait_for_query(page, "output_activation", "sigmoid")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Training stopped").count() == 0


def test_a_lesson_shows_its_sentence_and_opens_what_was_measured(server, page, artifacts):
    page.goto(server + "/?preset=why_not_mse")
    wait_idle(page, chart=False)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("Predict first:").first.is_visible()
    main.get_by_role("button", name="Skip").click()
    # the race has no replay: what happened shows as soon as the page is drawn
    main.get_by_text("What happened:").first.wait_for()
    details = main.get_by_text("What the app measured")
    details.first.click()
    main.get_by_text("Checked by the app on this lesson's seed").first.wait_for()
    assert main.get_by_text("Watch for").first.is_visible()
    assert main.get_by_text("10⁻¹²").first.is_visible()
    screenshot(page, artifacts / "lesson-why-not-mse-details.png")
