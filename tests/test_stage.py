"""The stage: presenting mode, playback bar, Back/Forward, long runs, take-aways.
AppTest for the page logic, plain unit tests for the exports."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import config as cfg
from explorer import experiment, export, pairing
from explorer.figures import playback
from explorer.figures import training as training_figures
from explorer.ui import compute, state
from tests.apptest import app, ok


def bars(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "lfe-playback" in h.proto.body]


def query(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_presenting_mode_shows_one_view_compactly_and_keeps_it_in_the_link():
    at = ok(app(present="1"))
    assert query(at, "present") == "1"
    assert not at.metric  # the numbers live in the figure's slider
    assert not [m for m in at.markdown if "Why this pair" in m.value]
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert spec["layout"]["height"] == compute.PRESENTING_HEIGHT
    assert spec["layout"]["font"]["size"] >= 16
    assert any("display: none" in h.proto.body for h in at.get("html"))  # sidebar hidden
    assert len(bars(at)) == 1
    # leaving presenting mode brings the page back
    at.toggle(key=state.PRESENT).set_value(False).run()
    ok(at)
    assert query(at, "present") is None and at.metric


def test_the_playback_bar_drives_the_train_chart_and_plays_new_runs_by_itself():
    at = ok(app())
    (bar,) = bars(at)
    assert 'data-target=".st-key-train_chart"' in bar and 'data-autoplay="1"' in bar
    for label in ("Play", "Step back", "Step forward", "Restart", "0.5×", "1×", "2×"):
        assert f">{label}</button>" in bar
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["sliders"][0]["active"] == 0  # opens on epoch 0, then plays
    at.toggle(key=state.AUTOPLAY).set_value(False).run()
    ok(at)
    assert query(at, "autoplay") == "0" and 'data-autoplay="0"' in bars(at)[0]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert spec["layout"]["sliders"][0]["active"] == len(steps) - 1


def test_back_and_forward_load_the_configuration_in_the_url():
    at = ok(app(seed="3"))
    assert at.session_state["seed"] == 3
    at.number_input(key="seed").set_value(4).run()
    assert query(ok(at), "seed") == "4"
    # the browser's Back button: Streamlit reruns with the previous entry's URL
    at.query_params["seed"] = "3"
    at.run()
    ok(at)
    assert at.session_state["seed"] == 3 and query(at, "seed") == "3"
    # an ordinary rerun keeps what the widgets say
    at.number_input(key="seed").set_value(5).run()
    assert ok(at).session_state["seed"] == 5 and query(at, "seed") == "5"


def test_a_run_over_the_work_budget_trains_nothing_and_says_what_to_lower(monkeypatch):
    from explorer import budget

    # a small budget, so the suggestion the test applies trains in a moment
    config = cfg.DEFAULT.replace(epochs=1000)
    monkeypatch.setattr(budget, "PAGE_BUDGET_S", budget.total(budget.page(config, "Train")) / 3)
    calls = []
    original = experiment.run
    experiment.run = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        at = ok(app(epochs="1000"))
    finally:
        experiment.run = original
    assert not calls and not at.get("plotly_chart")
    (error,) = at.sidebar.error
    assert "Nothing was trained" in error.value and "Lower the epochs to" in error.value
    # one click applies the suggestion, and that page trains
    button = at.button(key="apply_budget_suggestion")
    assert button.label.startswith("Use ") and button.label.endswith(" epochs")
    epochs = int(button.label.split()[1])
    button.click().run()
    ok(at)
    assert at.session_state["epochs"] == epochs and query(at, "epochs") == str(epochs)
    assert not at.sidebar.error and at.get("plotly_chart")


def test_the_budget_counts_every_run_a_page_trains(monkeypatch):
    """A scenario that fits alone is refused on Compare when its contestants together are
    over the page's budget, before any of them trains."""
    from explorer import budget

    config = cfg.DEFAULT.replace(epochs=1000)  # training dominates the page's work
    alone = budget.total(budget.page(config, "Train"))
    monkeypatch.setattr(budget, "PAGE_BUDGET_S", 1.05 * alone)
    rivals = [config.replace(output_activation=a, loss=k)
              for a, k in pairing.rivals(config.problem, config.output_activation, config.loss)]
    assert budget.total(budget.page(config, "Compare", others=[
        r for r in rivals if r != config])) > 1.05 * alone
    at = ok(app(epochs="1000"))
    assert at.get("plotly_chart") and not at.sidebar.error
    calls = []
    original = experiment.run
    experiment.run = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        at.radio(key=state.VIEW).set_value("Compare").run()
    finally:
        experiment.run = original
    ok(at)
    assert not calls
    (error,) = at.sidebar.error
    assert "the other runs" in error.value


def test_a_cancelled_run_stays_stopped_until_asked_again():
    at = ok(app(epochs="40"))
    config = cfg.DEFAULT.replace(epochs=40)
    compute.RUNS.clear()
    at.session_state[state.CANCELLED] = config.key()
    at.run()
    ok(at)
    assert not at.get("plotly_chart")
    assert any("Training cancelled" in i.value for i in at.info)
    at.button(key="train_again").click().run()
    ok(at)
    assert at.get("plotly_chart") and at.session_state[state.CANCELLED] is None


def test_downloads_for_slides():
    at = ok(app(epochs="40"))
    keys = {b.key for b in at.get("download_button")}
    assert {"download_history", "download_config", "download_weights", "download_html",
            "download_gif"} <= keys


@pytest.fixture(scope="module")
def run():
    return experiment.run(cfg.DEFAULT.replace(epochs=60))


def test_the_gif_has_one_frame_per_chosen_snapshot_and_decodes(run):
    frames = training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)
    data = export.animation_gif(frames, run.history, run.data, "binary", "Sigmoid + BCE")
    image = Image.open(io.BytesIO(data))
    picks = export.gif_frames(len(frames.epochs))
    assert image.format == "GIF" and image.n_frames == len(picks)
    assert picks[0] == 0 and picks[-1] == len(frames.epochs) - 1
    assert image.size == export.GIF_SIZE
    # frames differ: the boundary moves
    image.seek(0)
    first = np.asarray(image.convert("RGB"))
    image.seek(image.n_frames - 1)
    last = np.asarray(image.convert("RGB"))
    assert np.mean(np.any(first != last, axis=-1)) > 0.02


def test_the_html_embeds_plotly_and_the_playback_bar(run):
    frames = training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training_figures.training_figure(frames, run.history, run.data, "binary")
    text = export.animation_html(fig, "Sigmoid + BCE")
    assert text.startswith("<!DOCTYPE html>") and "<title>Sigmoid + BCE</title>" in text
    assert "<script src=" not in text and "Plotly.newPlot" in text  # no script to fetch
    assert 'data-target="#chart"' in text and playback.script() in text
    # its bar names the epoch it opens on, the last, before its script runs
    assert f'Epoch <b data-role="frame">{int(frames.epochs[-1])}</b>' in text
    assert len(text) > 3_000_000  # plotly.js itself is inside
    # it opens on the final state its slider labels, never part-way through a replay
    assert "Plotly.animate('chart'" not in text


def test_the_weights_file_holds_the_layers_and_the_configuration(run):
    data = export.weights_npz(run.model, run.config.to_dict())
    saved = np.load(io.BytesIO(data))
    np.testing.assert_array_equal(saved["theta"], run.model.theta)
    layers = run.model.network.layers(run.model.theta)
    np.testing.assert_array_equal(saved["W1"], layers[0][0])
    np.testing.assert_array_equal(saved["b3"], layers[2][1])
    assert json.loads(str(saved["config"]))["loss"] == "bce"
    assert list(saved["sizes"]) == [2, 16, 16, 1]


def test_a_long_run_can_be_watched_while_it_trains():
    seen = []
    experiment.run(cfg.DEFAULT.replace(epochs=50),
                   watch=lambda epoch, model, data: seen.append((epoch, model, data)))
    epochs = [epoch for epoch, _, _ in seen]
    assert epochs == sorted(epochs) and epochs[-1] == 50
    epoch, model, data = seen[len(seen) // 2]
    # the model holds that epoch's weights, not the final ones
    final = seen[-1][1]
    assert not np.array_equal(model.theta, final.theta)
    frames = training_figures.compute_frames(model, data.X_train, data.y_train)
    fig = training_figures.snapshot_figure(frames, data, "binary", epoch)
    assert f"after epoch {epoch}" in fig.layout.title.text
    assert fig.layout.images  # the map of that snapshot


def test_a_bad_hidden_layers_entry_is_explained_under_its_box_once():
    at = ok(app(epochs="20"))
    at.text_input(key="hidden").set_value("8,100").run()
    ok(at)
    (error,) = at.sidebar.error
    assert error.value.startswith("Hidden layers: “8,100” is not usable")
    assert "Training uses 16,16" in error.value and "hidden=" not in error.value
    assert not at.sidebar.warning  # not repeated at the bottom of the sidebar
    at.text_input(key="hidden").set_value("8").run()
    assert not ok(at).sidebar.error


def test_a_run_that_stops_in_its_first_epoch_shows_no_replay():
    at = ok(app(preset="linear_bce_breaks", ask="0"))  # where it stops is its question
    assert any("Training stopped at epoch 1" in e.value for e in at.error)
    assert not at.get("plotly_chart") and not bars(at)
    assert any("Nothing to replay" in i.value for i in at.info)


def test_ten_classes_take_one_legend_entry_per_part_and_compare_titles_wrap():
    run = experiment.run(cfg.default_for("multiclass").replace(n_classes=10, epochs=20,
                                                               dataset="blobs"))
    frames = training_figures.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training_figures.training_figure(frames, run.history, run.data, "multiclass")
    shown = [t.name for t in fig.data if t.showlegend is not False and t.name
             and "points" in t.name]
    assert shown == ["train points (colour = class)", "validation points (colour = class)"]
    from explorer.figures import compare
    maps = compare.final_maps_figure([("Softmax + Categorical cross-entropy", frames)],
                                     run.data, "multiclass")
    assert maps.layout.annotations[0].text == "Softmax<br>+ Categorical cross-entropy"


def test_a_stopped_run_shows_a_dash_not_none_in_the_compare_table():
    at = ok(app(view="Compare", epochs="20"))
    at.multiselect(key="compare_pairs_binary").set_value(["sigmoid|bce", "linear|bce"]).run()
    ok(at)
    (table,) = at.table
    frame = table.value
    stopped = frame[frame["pair"].str.startswith("Linear")]
    assert stopped["stopped"].iloc[0].startswith("NaN at epoch")
    # the displayed cells (the styler's display values, an Arrow table) show a dash
    import pyarrow as pa

    raw = table.proto.arrow_data.styler.display_values
    shown = pa.ipc.open_stream(raw).read_all().to_pandas()
    cells = shown.astype(str).to_numpy().ravel().tolist()
    assert "—" in cells and "None" not in cells and "nan" not in cells
