"""Verdict marks in the option lists, in real Chromium: a new activation re-marks the loss
list and keeps the chosen loss (Streamlit resets a box whose identity changes)."""

import pytest

from tests.e2e.helpers import choose, current_query, no_exception, wait_for_query, wait_idle

pytestmark = pytest.mark.e2e


def _loss_options(page) -> list[str]:
    page.get_by_role("combobox", name="Loss", exact=True).click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [" ".join(o.split()) for o in options]


def test_changing_the_activation_keeps_the_loss_and_moves_its_marks(server, page):
    page.goto(server + "/?epochs=10")
    wait_idle(page)
    choose(page, "Loss", "Mean squared error")
    wait_for_query(page, "loss", "mse")
    wait_idle(page)
    assert "✓ Binary cross-entropy ★ default" in _loss_options(page)
    assert "~ Mean squared error" in _loss_options(page)

    choose(page, "Output activation", "Linear (identity)")
    wait_for_query(page, "output_activation", "linear")
    wait_idle(page)
    no_exception(page)
    assert current_query(page)["loss"] == "mse"
    shown = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has=page.get_by_text("Loss", exact=True))
    assert "Mean squared error" in shown.first.evaluate(
        "e => e.textContent + [...e.querySelectorAll('input')].map(i => i.value).join()")
    options = _loss_options(page)
    assert "✗ Binary cross-entropy ★ default" in options and "✓ Hinge" in options

    # a later rerun keeps both
    page.get_by_role("spinbutton", name="Seed").fill("2")
    page.keyboard.press("Enter")
    wait_for_query(page, "seed", "2")
    wait_idle(page)
    assert (current_query(page)["output_activation"], current_query(page)["loss"]) == (
        "linear", "mse")
