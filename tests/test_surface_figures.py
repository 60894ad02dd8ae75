"""Figures of the Error surface and Loss anatomy views: they build for every kind of run,
animate one frame per snapshot, keep the background on play, and stay small."""

import ast
from pathlib import Path

import numpy as np
import pytest

import explorer
from explorer import anatomy, surfaces
from explorer.figures import anatomy as anatomy_figures
from explorer.figures import surface as surface_figures

ROOT = Path(__file__).resolve().parents[1]
MINE = ["explorer/surfaces.py", "explorer/anatomy.py", "explorer/figures/surface.py",
        "explorer/figures/anatomy.py"]


def dataset(problem, n=60, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, d))
    if problem == "binary":
        return X, (X[:, 0] > 0).astype(int)
    if problem == "multiclass":
        return X, np.digitize(X[:, 0], [-0.4, 0.4])
    if problem == "counts":
        return X, rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    return X, np.sin(X[:, 0])


RUNS = [("binary", "sigmoid", "bce"), ("binary", "sigmoid", "mse"),
        ("multiclass", "softmax", "cce"), ("regression", "linear", "mse"),
        ("counts", "exp", "poisson"), ("binary", "linear", "bce")]
RUN_IDS = ["-".join(r) for r in RUNS]


@pytest.fixture(scope="module", params=RUNS, ids=RUN_IDS)
def run(request):
    problem, act, loss = request.param
    X, y = dataset(problem)
    model, history = explorer.fit(X, y, problem=problem, hidden=(4,), output_activation=act,
                                  loss=loss, epochs=15, lr=0.05, snapshots=8)
    return model, history, X, y


def slices(model, X, y):
    return [surfaces.two_parameter_slice(model, X, y, resolution=9),
            surfaces.random_plane(model, X, y, seed=0, resolution=9),
            surfaces.pca_plane(model, X, y, resolution=9)]


def animation_checks(fig, epochs, redraw):
    assert len(fig.frames) == len(epochs)
    assert [f.name for f in fig.frames] == [str(int(e)) for e in epochs]
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(fig.frames)
    assert [s.label for s in steps] == [str(int(e)) for e in epochs]
    assert all(s.args[1]["frame"]["redraw"] is redraw for s in steps)
    assert all(s.method == "animate" for s in steps)


@pytest.mark.parametrize("mode", ["contour", "3d"])
def test_surface_figure_builds_and_animates(run, mode):
    model, history, X, y = run
    for surface in slices(model, X, y):
        fig = surface_figures.surface_figure(surface, history, mode=mode)
        # the contour map is a layout image, which needs no redraw; 3-D surfaces do
        animation_checks(fig, model.snapshot_epochs, redraw=mode == "3d")
        kinds = [t.type for t in fig.data]
        if mode == "3d":
            assert kinds[0] == "surface"
        else:
            (image,) = fig.layout.images
            assert image.source.startswith("data:image/png;base64,")
            assert image.layer == "below" and image.xref == "x" and image.yref == "y"
            assert fig.data[0].name == "iso-loss lines" and fig.data[1].name == "loss surface"
            # hover layer: one invisible point per grid cell carrying the raw loss
            assert len(fig.data[1].x) == surface.Z.size
        path_kind = "scatter" if mode == "contour" else "scatter3d"
        assert kinds.count(path_kind) >= 4  # whole path, path so far, current, start, end
        names = [t.name for t in fig.data]
        assert "start (epoch 0)" in names and any(n.startswith("end (epoch") for n in names)
        assert surface.note in fig.layout.title.subtitle.text.replace("<br>", " ")
        # every frame updates only the animated traces, and the path grows one point a frame
        for s, frame in enumerate(fig.frames):
            assert len(frame.data) == len(frame.traces)
            assert set(frame.traces).isdisjoint({0})
            assert len(frame.data[0].x) == s + 1
        colorbar = (fig.data[0].colorbar.title.text if mode == "3d"
                    else fig.data[1].marker.colorbar.title.text)
        assert "loss" in colorbar
        if mode == "contour":
            assert fig.layout.xaxis.title.text == surface.a_label
            assert fig.layout.yaxis.title.text == surface.b_label
        else:
            assert fig.layout.scene.xaxis.title.text == surface.a_label
            assert fig.layout.scene.zaxis.title.text == colorbar
        curve_axis = fig.data[fig.frames[0].traces[-1]].xaxis  # 'x2', or 'x' beside a scene
        assert fig.layout["xaxis" + curve_axis[1:]].title.text == "epoch"


def test_surface_figure_without_loss_curve_or_history(run):
    model, _, X, y = run
    surface = surfaces.pca_plane(model, X, y, resolution=9)
    fig = surface_figures.surface_figure(surface, loss_curve=False)
    animation_checks(fig, model.snapshot_epochs, redraw=False)
    assert all(len(frame.traces) == 2 for frame in fig.frames)
    with pytest.raises(ValueError):
        surface_figures.surface_figure(surface, mode="wireframe")


def test_loss_curve_marker_moves_with_the_slider(run):
    model, history, X, y = run
    surface = surfaces.random_plane(model, X, y, resolution=9)
    fig = surface_figures.surface_figure(surface, history)
    marker = fig.frames[0].traces[-1]
    assert fig.data[marker].xaxis == "x2" and fig.data[marker].mode == "markers"
    for s, frame in enumerate(fig.frames):
        assert frame.data[-1].x[0] == surface.path_epochs[s]
        np.testing.assert_allclose(frame.data[-1].y[0], surface.path_loss[s], rtol=1e-6)


def test_log_scale_is_used_when_the_loss_spans_decades():
    X, y = dataset("regression")
    model, history = explorer.fit(X, 50 * y, problem="regression", hidden=(4,), epochs=40,
                                  lr=0.05, snapshots=10)
    surface = surfaces.random_plane(model, X, 50 * y, span=30.0, resolution=15)
    fig = surface_figures.surface_figure(surface, history, scale="log")
    assert fig.data[1].marker.colorbar.title.text == "log10 loss"
    assert fig.layout.yaxis2.type == "log"
    linear = surface_figures.surface_figure(surface, history, scale="linear")
    assert linear.data[1].marker.colorbar.title.text == "loss"


def test_invalid_pair_says_where_the_loss_is_undefined():
    X, y = dataset("binary")
    model, history = explorer.fit(X, y, problem="binary", hidden=(4,),
                                  output_activation="linear", loss="bce", epochs=15,
                                  snapshots=6)
    surface = surfaces.random_plane(model, X, y, span=3.0, resolution=9)
    assert surface.invalid
    fig = surface_figures.surface_figure(surface, history)
    assert "undefined" in fig.layout.title.subtitle.text
    hover = fig.data[1]
    assert np.isnan(np.asarray(hover.customdata, float)).any()
    # undefined cells are painted in the "missing" colour in the background image
    assert fig.layout.images[0].source.startswith("data:image/png")


def test_payload_of_100_frames_of_a_41x41_surface_is_small():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model, history = explorer.fit(X, y, problem="binary", hidden=(8, 8), epochs=150,
                                  snapshots=100)
    assert len(model.snapshots) == 100
    surface = surfaces.pca_plane(model, X, y, resolution=41)
    for mode in ("contour", "3d"):
        fig = surface_figures.surface_figure(surface, history, mode=mode)
        assert len(fig.frames) == 100
        size = len(fig.to_json())
        assert size < 3_000_000, size
    assert fig.data[0].z.dtype == np.float32  # the last one built is the 3-D surface


def test_interpolation_figure(run):
    model, _, X, y = run
    line = surfaces.interpolation_line(model, X, y, n_points=31)
    fig = surface_figures.interpolation_figure(line)
    marked = [t for t in fig.data if t.mode == "markers+text"]
    assert len(marked) == 2
    for trace in marked:
        assert list(trace.text) == ["initial", "final"]
        np.testing.assert_allclose(trace.x, [0.0, 1.0])
    assert fig.layout.xaxis2.title.text.startswith("t")
    assert fig.layout.yaxis2.title.text == line.metric_label


ANATOMY = [("binary", "sigmoid", "mse"), ("binary", "sigmoid", "bce"),
           ("binary", "linear", "bce"), ("multiclass", "softmax", "cce"),
           ("regression", "linear", "mae"), ("counts", "softplus", "poisson"),
           ("binary", "tanh", "hinge")]


@pytest.mark.parametrize("problem,act,loss", ANATOMY, ids=["-".join(a) for a in ANATOMY])
def test_anatomy_figure(problem, act, loss):
    chosen, matched = anatomy.compare_pairs(problem, act, loss)
    fig = anatomy_figures.anatomy_figure(chosen, matched)
    same = (act, loss) == (matched.activation, matched.loss)
    per_pair = 2 * len(chosen.targets)
    assert len(fig.data) == per_pair * (1 if same else 2)
    assert all(t.type == "scatter" and t.connectgaps is False for t in fig.data)
    dashes = {t.line.dash for t in fig.data}
    assert dashes == ({"solid"} if same else {"solid", "dash"})
    shapes = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (len(shapes) > 0) == bool(chosen.saturated)
    assert fig.layout.xaxis2.title.text.startswith("pre-activation z")
    assert fig.layout.yaxis.title.text == "loss" and fig.layout.yaxis2.title.text == "dL/dz"
    if chosen.invalid:
        assert np.isnan(np.asarray(fig.data[0].y, float)).any()
        assert "Gaps" in fig.layout.title.subtitle.text


def test_anatomy_figure_alone():
    chosen = anatomy.loss_vs_preactivation("sigmoid", "bce", 1.0)
    fig = anatomy_figures.anatomy_figure(chosen)
    assert len(fig.data) == 2


def test_gradient_histogram_figure():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] > 0).astype(int)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(4,), output_activation="sigmoid",
                            loss="mse", epochs=30, snapshots=10)
    result = anatomy.per_point_output_gradients(model, X, y)
    flags = np.zeros(80, bool)
    flags[:5] = True
    for confidently_wrong, groups in [(None, 1), (flags, 2)]:
        fig = anatomy_figures.gradient_histogram_figure(result.grads, result.epochs,
                                                        confidently_wrong)
        animation_checks(fig, model.snapshot_epochs, redraw=False)
        assert [t.type for t in fig.data] == ["bar"] * groups
        for frame in fig.frames:
            assert sum(np.sum(d.y) for d in frame.data) == 80
        assert "log" in fig.layout.xaxis.title.text
    zeros = np.zeros((3, 10))
    fig = anatomy_figures.gradient_histogram_figure(zeros, [0, 1, 2])
    assert len(fig.frames) == 3


def test_figure_modules_do_not_import_streamlit():
    for path in MINE:
        tree = ast.parse((ROOT / path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("streamlit") for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("streamlit"), path
