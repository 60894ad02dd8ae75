"""An upload chosen in the page (no link involved) is never told it came from a link."""

import numpy as np
import pytest

from tests.e2e.helpers import choose, no_exception, wait_for_query, wait_idle

pytestmark = pytest.mark.e2e

LINK_NOTICE = "This link was made with an uploaded CSV"


@pytest.mark.parametrize("attempt", range(2))
def test_an_upload_from_the_dataset_list_gets_no_link_notice(server, page, tmp_path, attempt):
    rng = np.random.default_rng(attempt)
    X = rng.normal(size=(120, 2))
    rows = ["a,b,label"] + [f"{x:.3f},{y:.3f},{int(x * y > 0)}" for x, y in X]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows))
    page.goto(server + "/?epochs=20")
    wait_idle(page)
    choose(page, "Dataset", "Your CSV file…")
    # as a quick person does: upload while the page is still redrawing, then a new seed
    page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(path))
    page.get_by_text("Feature columns (1 or 2)").first.wait_for()
    page.get_by_role("spinbutton", name="Seed").fill("2")
    page.keyboard.press("Enter")
    wait_for_query(page, "seed", "2")
    page.locator("[data-testid='stMain'] .js-plotly-plot").first.wait_for()
    no_exception(page)
    assert page.get_by_text(LINK_NOTICE).count() == 0
