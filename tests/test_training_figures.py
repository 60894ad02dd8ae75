"""The Train view's figure and the raster helpers behind it (pure functions, no browser)."""

import base64
import json
import struct
import zlib

import numpy as np
import pytest

from explorer import config, experiment
from explorer.figures import playback, raster, training


def decode_png(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == \
            zlib.crc32(tag + body) & 0xFFFFFFFF
        if tag == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    w, h = size
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert (raw[:, 0] == 0).all()  # filter type "none" on every row
    return raw[:, 1:].reshape(h, w, 3)


def test_png_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(raster.png_data_uri(rgb)), rgb)


def test_colorize_maps_ends_and_missing_values():
    scale = [[0.0, "#000000"], [1.0, "#ffffff"]]
    rgb = raster.colorize(np.array([[0.0, 0.5, 1.0, np.nan, 7.0]]), scale, 0.0, 1.0)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 2].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [128, 128, 128]
    assert rgb[0, 3].tolist() == list(raster.MISSING)
    assert rgb[0, 4].tolist() == [255, 255, 255]  # clipped


def test_grid_image_covers_the_cells_with_y_growing_upwards():
    x, y = np.linspace(0, 4, 5), np.linspace(10, 12, 3)
    rgb = np.zeros((3, 5, 3), np.uint8)
    rgb[0] = 255  # bottom row (y = 10) white
    image = raster.grid_image(x, y, rgb)
    assert (image["x"], image["sizex"]) == (-0.5, 5.0)
    assert (image["y"], image["sizey"]) == (12.5, 3.0)
    top_down = decode_png(image["source"])
    assert (top_down[-1] == 255).all() and (top_down[0] == 0).all()


def test_iso_lines_lie_on_the_level_set():
    x, y = np.linspace(-2, 2, 81), np.linspace(-1, 1, 41)
    Z = x[None, :] ** 2 + (2 * y[:, None]) ** 2
    xs, ys = raster.iso_lines(x, y, Z, 1.0)
    ok = np.isfinite(xs)
    assert ok.sum() > 100
    np.testing.assert_allclose(xs[ok] ** 2 + 4 * ys[ok] ** 2, 1.0, atol=0.01)
    # segments come in pairs separated by NaN
    assert np.isnan(xs[2::3]).all()


def test_iso_lines_of_a_flat_grid_are_empty():
    xs, ys = raster.iso_lines(np.arange(3.0), np.arange(4.0), np.zeros((4, 3)), 0.5)
    assert xs.size == 0 and ys.size == 0


@pytest.fixture(scope="module", params=["binary", "multiclass", "regression", "counts"])
def run(request):
    c = config.default_for(request.param).replace(epochs=40, n_samples=200)
    return experiment.run(c, snapshots=20)


def test_frames_cover_every_snapshot(run):
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    assert list(frames.epochs) == list(run.model.snapshot_epochs)
    assert len(frames.values) == len(run.model.snapshots)
    if frames.kind == "curve":
        final = run.model.predict(frames.grid_x[:, None])
        np.testing.assert_allclose(frames.values[-1], final, rtol=1e-5)
    else:
        assert frames.values.shape[1:] == (len(frames.grid_y), len(frames.grid_x))
        assert frames.image(0)["source"] != frames.image(len(frames.epochs) - 1)["source"]


def test_binary_boundary_separates_the_classes():
    c = config.DEFAULT.replace(epochs=100)
    run = experiment.run(c)
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    xs, ys = frames.boundary(len(frames.epochs) - 1)
    points = np.column_stack([xs, ys])[np.isfinite(xs)]
    # the model's output on the drawn boundary is the threshold
    np.testing.assert_allclose(run.model.predict(points), 0.5, atol=0.05)


def test_figure_animates_without_redraw_and_stays_small(run):
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training.training_figure(frames, run.history, run.data, run.config.problem)
    spec = json.loads(fig.to_json())
    assert len(spec["frames"]) == len(frames.epochs)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert all(step["args"][1]["frame"]["redraw"] is False for step in steps)
    assert "updatemenus" not in spec["layout"]  # playback is the page's bar
    for frame in spec["frames"]:
        assert len(frame["data"]) == len(frame["traces"]) == 5
        assert ("layout" in frame) == (frames.kind != "curve")
    assert {t["type"] for t in spec["data"]} == {"scatter"}
    assert spec["layout"]["xaxis3"]["title"]["text"] == "epoch"


def test_default_payload_for_100_frames_is_under_3_mb():
    run = experiment.run(config.DEFAULT)
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training.training_figure(frames, run.history, run.data, "binary")
    assert len(fig.frames) >= 100
    assert len(fig.to_json()) < 3_000_000


def test_a_run_that_broke_at_once_still_draws():
    run = experiment.run(config.DEFAULT.replace(output_activation="linear"))
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training.training_figure(frames, run.history, run.data, "binary")
    assert "NaN at epoch 1" in json.dumps(fig.to_plotly_json()["layout"]["annotations"])


def _figure(config_changes: dict, log_scale: bool = False, problem: str = "binary") -> dict:
    c = config.default_for(problem).replace(epochs=20, n_samples=200, **config_changes)
    run = experiment.run(c, snapshots=5)
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training.training_figure(frames, run.history, run.data, problem, log_scale=log_scale)
    return json.loads(fig.to_json())


def _colorbar_title(spec: dict) -> str:
    (bar,) = [t for t in spec["data"] if t.get("marker", {}).get("showscale")]
    return bar["marker"]["colorbar"]["title"]["text"]


@pytest.mark.parametrize("activation,loss,title", [
    ("sigmoid", "bce", "p(class 1)"), ("sigmoid", "mse", "p(class 1)"),
    ("sigmoid", "focal", "output"), ("linear", "mse", "output"), ("tanh", "mse", "output"),
    ("tanh", "hinge", "score"), ("linear", "hinge", "score")])
def test_colour_bar_calls_only_probabilities_p(activation, loss, title):
    assert _colorbar_title(_figure(dict(output_activation=activation, loss=loss))) == title


@pytest.mark.parametrize("problem", ["binary", "multiclass", "regression", "counts"])
@pytest.mark.parametrize("log_scale", [False, True])
def test_every_axis_is_titled(problem, log_scale):
    spec = _figure({}, log_scale, problem)
    axes = {k: v for k, v in spec["layout"].items() if k.startswith(("xaxis", "yaxis"))}
    assert len(axes) == 6
    untitled = [k for k, v in axes.items() if not v.get("title", {}).get("text")]
    # the loss panel's epoch axis shares the metric panel's title (same range): a second
    # "epoch" would sit on the metric panel's own title
    assert untitled == ["xaxis2"]
    assert axes["xaxis3"]["title"]["text"] == "epoch"
    assert axes["xaxis2"]["range"] == axes["xaxis3"]["range"]


def test_a_negative_poisson_loss_stays_on_screen_and_log_scale_says_why_it_is_off():
    spec = _figure({}, problem="counts")
    history = experiment.run(config.default_for("counts").replace(epochs=20, n_samples=200),
                             snapshots=5).history
    assert history["loss"].max() < 0  # Poisson leaves out log y!
    axis = spec["layout"]["yaxis2"]
    assert axis["title"]["text"] == "loss"
    lo, hi = axis["range"]
    assert lo <= history[["loss", "val_loss"]].min().min() and hi >= 0
    logged = _figure({}, log_scale=True, problem="counts")["layout"]["yaxis2"]
    assert logged.get("type") != "log" and "≤ 0" in logged["title"]["text"]
    positive = _figure({}, log_scale=True)["layout"]["yaxis2"]
    assert positive["type"] == "log" and positive["title"]["text"] == "loss (log scale)"


def test_the_slider_shows_each_frames_numbers():
    run = experiment.run(config.DEFAULT.replace(epochs=40))
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    fig = training.training_figure(frames, run.history, run.data, "binary")
    steps = fig.layout.sliders[0].steps
    assert [s.args[0][0] for s in steps] == [str(int(e)) for e in frames.epochs]
    assert steps[0].label == "0 (initial weights)"
    # a later frame names its epoch and that epoch's numbers, from the history
    epoch = int(frames.epochs[5])
    row = run.history[run.history["epoch"] == epoch].iloc[0]
    assert steps[5].label.startswith(f"{epoch} ")
    assert f"loss {row['loss']:.3g} (validation {row['val_loss']:.3g})" in steps[5].label
    assert f"accuracy {row['accuracy']:.1%}" in steps[5].label
    assert fig.layout.sliders[0].active == len(steps) - 1
    first = training.training_figure(frames, run.history, run.data, "binary",
                                     start_at_first=True)
    assert first.layout.sliders[0].active == 0


@pytest.mark.parametrize("start_at_first", [True, False])
def test_the_playback_bar_names_the_frame_the_figure_opens_on(start_at_first):
    """From its first paint, before its script has found the chart: "Epoch 0" for a replay
    that starts at the beginning, the last epoch (40) for a figure that opens on the end."""
    run = experiment.run(config.DEFAULT.replace(epochs=40, n_samples=200), snapshots=10)
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    spec = training.training_spec(frames, run.history, run.data, "binary",
                                  start_at_first=start_at_first)
    slider = spec["layout"]["sliders"][0]
    step = slider["steps"][slider["active"]]
    epoch = "0" if start_at_first else "40"
    assert step["args"][0][0] == epoch and step["label"].split(" ")[0] == epoch
    assert playback.opening_frame(spec) == epoch
    html = playback.bar_html(".st-key-train_chart", spec, "run")
    assert f'Epoch <b data-role="frame">{epoch}</b>' in html
    assert "…" not in html


def test_a_bar_names_the_last_frame_of_a_figure_without_a_slider():
    frames = [{"name": "0", "data": []}, {"name": "7", "data": []}]
    assert playback.opening_frame({"layout": {}, "frames": frames}) == "7"
    assert playback.opening_frame({"layout": {"sliders": [{"active": 0}]},
                                   "frames": frames}) == "0"
    # nothing to name: the bar waits for its chart
    assert playback.opening_frame({"layout": {}}) is None
    assert '<b data-role="frame">…</b>' in playback.bar_html("#chart", {"layout": {}}, "run")


def test_the_loss_axis_keeps_the_first_epochs_and_goes_log_by_itself():
    run = experiment.run(config.DEFAULT.replace(optimizer="adam", lr=0.01, epochs=300))
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    loss = run.history[["loss", "val_loss"]].to_numpy()
    assert loss.max() / loss.min() > 100  # two moons: the loss spans decades
    auto = training.training_figure(frames, run.history, run.data, "binary")
    assert auto.layout.yaxis2.type == "log"
    low, high = auto.layout.yaxis2.range
    assert 10 ** low <= loss.min() and 10 ** high >= loss.max()
    linear = training.training_figure(frames, run.history, run.data, "binary",
                                      log_scale=False)
    assert linear.layout.yaxis2.type != "log"
    assert linear.layout.yaxis2.range[1] >= loss.max()  # the first epochs stay on screen


@pytest.mark.parametrize("seed", range(6))
def test_the_opening_story_unfolds_over_the_whole_replay(seed):
    """The default scenario's boundary keeps visibly moving until late in the replay and
    ends as good as Adam's (a story that is over at once teaches nothing)."""
    run = experiment.run(config.DEFAULT.replace(seed=seed))
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    assert len(frames.epochs) >= 80  # about one a epoch (epochs that barely move merge)
    side = frames.values.reshape(len(frames.epochs), -1) > 0.5
    flipped = np.mean(side[1:] != side[:-1], axis=1)  # share of the map changing class
    moving = np.nonzero(flipped > 0.003)[0]
    assert (moving[-1] + 1) / len(flipped) > 0.8
    assert len(moving) / len(flipped) > 0.55
    assert run.history["val_accuracy"].iloc[-1] >= 0.97


def test_the_sent_spec_is_what_plotly_checks():
    """The app sends ``training_spec`` as it is; Plotly, checking every frame, accepts it
    and would send the same JSON."""
    import plotly.graph_objects as go
    import plotly.io as pio

    run = experiment.run(config.DEFAULT.replace(epochs=30))
    frames = training.compute_frames(run.model, run.data.X_train, run.data.y_train)
    spec = training.training_spec(frames, run.history, run.data, "binary")
    sent = json.loads(pio.to_json(spec, validate=False))
    assert sent == json.loads(go.Figure(spec).to_json())
    # frame arrays travel as float32 typed arrays, decoded to the model's own numbers
    update = sent["frames"][3]["data"][1]
    assert update["y"]["dtype"] == "f4"
    loss = np.frombuffer(base64.b64decode(update["y"]["bdata"]), "<f4")
    shown = run.history[run.history["epoch"] <= int(sent["frames"][3]["name"])]
    np.testing.assert_array_equal(loss, shown["loss"].to_numpy(np.float32))


@pytest.mark.parametrize("scale", ["Viridis", "probability"])
def test_the_colour_table_is_within_one_unit_of_exact_interpolation(scale):
    from explorer.figures import style

    colorscale = style.PROBABILITY_SCALE if scale == "probability" else scale
    values = np.random.default_rng(0).uniform(-0.2, 1.2, (50, 60))
    positions, colors = raster._stops(colorscale)
    t = np.clip(values, 0, 1)
    exact = np.stack([np.interp(t, positions, colors[:, c]) for c in range(3)], axis=-1)
    got = raster.colorize(values, colorscale, 0.0, 1.0).astype(float)
    assert np.abs(got - exact).max() <= 1.0


def test_iso_lines_of_many_grids_keep_each_grids_own_segments():
    x, y = np.linspace(-1, 1, 30), np.linspace(-1, 1, 20)
    xx, yy = np.meshgrid(x, y)
    grids = np.stack([xx ** 2 + yy ** 2, np.zeros_like(xx), np.sin(3 * xx) * yy, xx + 0.1])
    many = raster.iso_lines_many(x, y, grids, 0.25)
    assert len(many) == 4 and len(many[1][0]) == 0  # a flat grid has no boundary
    for Z, (xs, ys) in zip(grids, many):
        points = np.isfinite(xs)
        # every end point lies on its own grid's level set (bilinear along the edge)
        values = [Z[np.argmin(abs(y - py)), np.argmin(abs(x - px))]
                  for px, py in zip(xs[points], ys[points])]
        assert len(xs) % 3 == 0 and np.all(np.isnan(xs[2::3]))
        if len(values):
            assert np.abs(np.array(values) - 0.25).max() < 0.3
    circle = many[0]
    radius = np.hypot(circle[0], circle[1])
    np.testing.assert_allclose(radius[np.isfinite(radius)], 0.5, atol=0.02)
    line = many[3][0]
    np.testing.assert_allclose(line[np.isfinite(line)], 0.15, atol=1e-9)


# ----------------------------------------------------------------------------------------
# Frames in bounded blocks


def _reference_outputs(model, points):
    """Every snapshot's outputs on the points in one plain stacked pass (all at once)."""
    from explorer import activations
    with np.errstate(all="ignore"):
        z = model.network.pre_activations(model.snapshots, points)
        return activations.get(model.network.output_activation).forward(z)


def _grid_points(frames):
    xx, yy = np.meshgrid(frames.grid_x, frames.grid_y)
    return np.column_stack([xx.ravel(), yy.ravel()])


@pytest.mark.parametrize("max_floats", [training.FRAME_FLOATS, 5000, 1])
def test_frames_in_blocks_are_the_maps_of_one_plain_pass(run, max_floats):
    """Blocks of snapshots x grid points (the smallest split both) give the very maps of
    one stacked pass over everything, reduced as the figure reduces them."""
    model, X = run.model, run.data.X_train
    frames = training.compute_frames(model, X, run.data.y_train, max_floats=max_floats,
                                     resolution=24 if max_floats == 1 else None)
    S = len(model.snapshots)
    if frames.kind == "curve":
        out = _reference_outputs(model, frames.grid_x[:, None])
        np.testing.assert_array_equal(frames.values, out[..., 0].astype(np.float32))
        return
    out = _reference_outputs(model, _grid_points(frames))
    shape = (S, len(frames.grid_y), len(frames.grid_x))
    if frames.kind == "classes":
        k = out.shape[-1]
        cls = np.argmax(np.nan_to_num(out, nan=0.0), axis=-1).reshape(shape)
        conf = np.clip((out.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
        np.testing.assert_array_equal(frames.classes, cls)
        np.testing.assert_array_equal(frames.values, conf.reshape(shape).astype(np.float32))
    else:
        np.testing.assert_array_equal(frames.values,
                                      out[..., 0].reshape(shape).astype(np.float32))


def test_frames_of_a_wide_multiclass_net_stay_small():
    """40 snapshots of a 4 x 32 ten-class net on the 80 x 80 grid: one stacked pass of 20
    snapshots held 4 x 54 MB of activations; the blocks hold a few MB."""
    import tracemalloc

    from explorer.network import Model, Network
    network = Network(2, (32, 32, 32, 32), 10, "relu", "softmax")
    rng = np.random.default_rng(0)
    snaps = np.stack([network.init(rng) for _ in range(40)])
    model = Model(network, snaps[-1], "multiclass", "cce", snapshot_epochs=np.arange(40),
                  snapshots=snaps, n_classes=10)
    X = rng.normal(size=(50, 2))
    tracemalloc.start()
    frames = training.compute_frames(model, X, rng.integers(0, 10, 50))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = frames.values.nbytes + frames.classes.nbytes
    assert peak < kept + 16e6, peak


def test_frames_work_grows_with_each_factor():
    base = training.frames_work(n_params=1000, grid_points=4096, snapshots=100)
    assert base == 100 * 4096 * 1000
    for doubled in (dict(n_params=2000, grid_points=4096, snapshots=100),
                    dict(n_params=1000, grid_points=8192, snapshots=100),
                    dict(n_params=1000, grid_points=4096, snapshots=200)):
        assert training.frames_work(**doubled) == 2 * base
    assert training.frame_grid_points("multiclass") == training.CLASS_GRID ** 2
    assert training.frame_grid_points("binary") == training.GRID ** 2
    assert training.frame_grid_points("regression", n_inputs=1) == training.CURVE_POINTS

def test_a_log_loss_axis_labels_powers_of_ten_not_si_prefixes():
    """A loss of 10⁻⁴ read as "100μ" on a lecture slide means nothing to a student."""
    spec = _figure({}, log_scale=True)
    logs = [v for k, v in spec["layout"].items() if k.startswith("yaxis") and
            v.get("type") == "log"]
    assert logs and all(axis.get("exponentformat") == "power" for axis in logs)
