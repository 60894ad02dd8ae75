"""What a person sees, in real Chromium: the flow, the animation, the views."""

import contextlib
import re

import numpy as np
import pytest

from tests.e2e.helpers import (
    CHART,
    assert_background_stays_while_playing,
    choose,
    choose_starting,
    click_pause,
    current_query,
    no_exception,
    painted_fraction,
    screenshot,
    wait_for_query,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def test_default_page_then_change_problem_activation_and_loss(server, page, artifacts):
    page.goto(server)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Loss Function Explorer").first.is_visible()
    screenshot(page, artifacts / "01-default-train.png")

    choose(page, "Problem type", "Regression")
    wait_for_query(page, "problem", "regression")
    wait_for_query(page, "loss", "mse")
    wait_idle(page)
    no_exception(page)

    choose(page, "Output activation", "Sigmoid")
    wait_for_query(page, "output_activation", "sigmoid")
    wait_idle(page)
    expect_text = page.locator("[data-testid='stSidebar']").get_by_text(
        re.compile("Mismatched"))
    assert expect_text.first.is_visible()

    choose(page, "Loss", "Mean absolute error")
    wait_for_query(page, "loss", "mae")
    wait_idle(page)
    no_exception(page)
    # a later rerun keeps both choices (labels that change make Streamlit reset a box)
    page.get_by_role("spinbutton", name="Seed").fill("3")
    page.keyboard.press("Enter")
    wait_for_query(page, "seed", "3")
    wait_idle(page)
    assert current_query(page)["output_activation"] == "sigmoid"
    assert current_query(page)["loss"] == "mae"
    screenshot(page, artifacts / "02-regression-sigmoid-mae.png")


def test_play_advances_the_animation(server, page, artifacts):
    page.goto(server + "/?problem=multiclass&autoplay=0")
    wait_idle(page)
    assert painted_fraction(page) > 0.9
    assert_background_stays_while_playing(page)
    page.wait_for_function("() => window.__played.length >= 30")
    played = page.evaluate("() => window.__played")
    epochs = [int(name) for name in played]
    assert epochs == sorted(epochs) and epochs[0] == 0
    current = page.locator(CHART).locator(".slider-container text").filter(
        has_text="Epoch").first.text_content()
    assert re.search(r"Epoch \d+", current)
    click_pause(page)
    screenshot(page, artifacts / "03-multiclass-playing.png")


def test_diverging_run_is_explained_in_the_page(server, page, artifacts):
    page.goto(server + "/?preset=linear_bce_breaks&ask=0")  # the question: test_predict
    wait_idle(page, chart=False)  # a run that stops in epoch 1 has nothing to replay
    no_exception(page)
    assert page.get_by_text(re.compile("Training stopped at epoch 1")).first.is_visible()
    assert page.get_by_text("Nothing to replay").first.is_visible()
    assert page.locator(".st-key-train_chart").count() == 0
    assert page.locator(".lfe-playback").count() == 0
    screenshot(page, artifacts / "04-linear-bce-breaks.png")


@pytest.mark.parametrize("preset", ["one_neuron_mse", "one_neuron_bce"])
def test_error_surface_animation_plays(server, page, artifacts, preset):
    page.goto(f"{server}/?preset={preset}&ask=0")  # the question: test_predict
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Exact picture").first.is_visible()
    assert painted_fraction(page) > 0.9
    # the loss map stays under the moving path for the whole replay (the path itself
    # regrows from one marker, so the marker count is not fixed here)
    assert_background_stays_while_playing(page, markers_fixed=False)
    screenshot(page, artifacts / f"06-surface-{preset}.png")


def test_surface_slices_and_3d_in_the_page(server, page, artifacts):
    page.goto(f"{server}/?view=Error+surface&epochs=100")
    wait_idle(page)
    settings = page.get_by_role("button", name=re.compile("Surface settings"))
    settings.click()  # the surface's choices live one click away
    page.get_by_text("Trajectory PCA plane").click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>"
        " JSON.stringify(g.layout).includes('projection'))")
    if not page.get_by_text("3-D surface").first.is_visible():
        settings.click()
    page.get_by_text("3-D surface").first.click()  # a rerun may briefly show two
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g =>"
        " g.data && g.data[0] && g.data[0].type === 'surface')")
    no_exception(page)
    screenshot(page, artifacts / "07-surface-pca-3d.png")


@pytest.mark.parametrize("view", ["Loss anatomy", "Compare", "Learn"])
def test_other_views_render(server, page, artifacts, view):
    page.goto(server)
    wait_idle(page)
    page.get_by_text(view, exact=True).click()
    wait_for_query(page, "view", view)
    wait_idle(page, chart=False)
    no_exception(page)
    screenshot(page, artifacts / f"05-view-{view.lower().replace(' ', '-')}.png")


def test_a_long_run_shows_progress_time_left_and_its_latest_snapshot(server, page, hold,
                                                                        artifacts):
    gate = hold(17)  # the run stays "still training" until the test lets it go
    page.goto(f"{server}/?seed=17")
    bar = page.locator("[data-testid='stProgress']")
    bar.first.wait_for(state="visible", timeout=120_000)  # held: no race against the run
    text = page.get_by_text(re.compile("Training… epoch")).first.inner_text()
    assert re.search(r"epoch \d+ of 100, about [\d.]+ (s|min) left", text)
    page.get_by_role("button", name="Cancel").first.wait_for(state="visible")
    # a partial picture of the latest snapshot while it trains
    page.get_by_text(re.compile(r"Still training: the model after epoch \d+")).first.wait_for(
        state="attached", timeout=60_000)
    screenshot(page, artifacts / "08-long-run-training.png")
    gate.release()
    wait_idle(page)
    assert bar.count() == 0
    no_exception(page)


def test_cancel_stops_a_long_run_until_asked_again(server, page, hold):
    gate = hold(19)  # the run stays "still training" until the test lets it go
    page.goto(f"{server}/?seed=19")
    page.get_by_role("button", name="Cancel").first.wait_for(state="visible", timeout=120_000)
    # the bar is redrawn while the run reports progress: press the button from the page (as
    # a person's click lands) until the run says it stopped; the gate keeps it going till then
    cancelled = page.get_by_text("Training cancelled.").first
    for _ in range(20):
        page.evaluate("() => { const b = Array.from(document.querySelectorAll('button'))"
                      ".find(b => b.innerText.trim().endsWith('Cancel')); if (b) b.click(); }")
        try:
            cancelled.wait_for(timeout=3_000)
            break
        except Exception:
            continue
    cancelled.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stProgress']").count() == 0
    assert page.locator(".st-key-train_chart").count() == 0
    gate.release()
    # a click that lands while a rerun redraws the button is lost: click until the page has
    # left the cancelled state (the run is no longer held, so it then trains to the end)
    again = page.get_by_role("button", name="Train again")
    for _ in range(10):
        if again.count() == 0:
            break
        with contextlib.suppress(Exception):
            again.first.click(timeout=5_000)
        with contextlib.suppress(Exception):
            cancelled.wait_for(state="detached", timeout=5_000)
    wait_idle(page, timeout=120_000)  # it trains again, to the end this time
    assert page.get_by_text("Training cancelled.").count() == 0
    no_exception(page)


def _upload(page, path) -> None:
    page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(path))


def test_upload_a_csv_and_train_on_it(server, page, artifacts, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(240, 2))
    label = np.where(X[:, 0] * X[:, 1] > 0, "dog", "cat")
    rows = ["height,weight,colour,animal"]
    rows += [f"{a:.3f},{b:.3f},red,{c}" for (a, b), c in zip(X, label)]
    rows += ["oops,1.0,red,cat"]  # a bad row, dropped with a note
    path = tmp_path / "animals.csv"
    path.write_text("\n".join(rows))

    page.goto(server + "/?dataset=upload&epochs=200")
    page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
    _upload(page, path)
    wait_idle(page)
    no_exception(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text(re.compile(r"Dropped 1 row")).first.is_visible()
    assert sidebar.get_by_text(re.compile(r"0 = cat, 1 = dog")).first.is_visible()
    layout = page.locator(CHART).first.evaluate("g => g.layout.xaxis.title.text")
    assert layout == "height (standardized)"
    screenshot(page, artifacts / "09-uploaded-csv.png")


def test_a_malformed_csv_is_explained_not_crashed(server, page, artifacts, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"\x00\x01\x02 this is not a csv \xff\xfe")
    page.goto(server + "/?dataset=upload")
    page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
    _upload(page, path)
    page.get_by_text("This file cannot be used.").first.wait_for()
    no_exception(page)
    # the main area repeats why, next to where a chart would be, and draws none
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("The uploaded file cannot be trained on").first.wait_for()
    assert main.locator(".js-plotly-plot").count() == 0
    screenshot(page, artifacts / "10-malformed-csv.png")


def test_mismatched_pair_races_from_a_saturated_start_in_one_click(server, page, artifacts):
    page.goto(server + "/?loss=mse")
    wait_idle(page)
    page.get_by_role("button", name="Race from a saturated start").click()
    wait_for_query(page, "view", "Compare")
    wait_for_query(page, "init_scale", "10")
    wait_idle(page, chart=False)
    no_exception(page)
    race = page.locator(".js-plotly-plot").filter(
        has=page.locator("text=Loss ÷ its value at epoch 1")).first
    race.wait_for()
    names = race.evaluate(
        "g => g.data.filter(t => t.showlegend !== false && t.mode === 'lines')"
        ".map(t => t.name)")
    assert names == ["Sigmoid + Mean squared error", "Sigmoid + Binary cross-entropy"]
    assert page.get_by_text("Why a saturated start.").first.is_visible()
    screenshot(page, artifacts / "11-saturated-race.png")


def test_msle_on_an_uploaded_target_with_negative_values_is_refused(server, page, artifacts,
                                                                     tmp_path):
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, 120)
    rows = ["dose,response"] + [f"{a:.3f},{1.5 * a + rng.normal(0, 0.3):.3f}" for a in x]
    path = tmp_path / "signed.csv"
    path.write_text("\n".join(rows))
    negative = sum(float(r.split(",")[1]) < 0 for r in rows[1:])
    page.goto(server + "/?problem=regression&dataset=upload&loss=msle&epochs=50")
    page.get_by_text("Upload a CSV file in the sidebar").first.wait_for()
    _upload(page, path)
    sidebar = page.locator("[data-testid='stSidebar']")
    message = f"but {negative} of the 120 target values are negative"
    sidebar.get_by_text(re.compile(message)).first.wait_for()
    # the main area repeats it (drawn after the sidebar, so wait for it too)
    page.locator("[data-testid='stMain']").get_by_text(re.compile(message)).first.wait_for()
    wait_idle(page, chart=False)  # let the rerun finish before opening a box
    no_exception(page)
    screenshot(page, artifacts / "12-msle-upload-refused.png")
    choose_starting(page, "Loss", "Mean squared error")
    wait_for_query(page, "loss", "mse")
    wait_idle(page)
    assert sidebar.get_by_text(re.compile("Target standardized")).first.is_visible()
