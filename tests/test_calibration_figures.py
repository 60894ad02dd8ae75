"""The figures of what the outputs estimate (explorer.figures.calibration), the scale-unit
curves (anatomy.scale_curves), the true curves of the 1-D datasets and the helpers they read
(calibration.scores, calibration.estimand). Expected values are worked out by hand or from
the definitions, never from the code's own tables."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from explorer import anatomy, calibration, datasets, experiment
from explorer.calibration import ReliabilityOverTraining
from explorer.config import default_for
from explorer.figures import calibration as figures


def _by_name(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def _index(fig, name):
    return [t.name for t in fig.data].index(name)


def _rects(x, y):
    """The closed 6-point paths of figures._bars, as (x0, x1, low, high) or None per bin."""
    out = []
    for b in range(len(x) // 6):
        xs, ys = np.asarray(x[6 * b:6 * b + 6], float), np.asarray(y[6 * b:6 * b + 6], float)
        assert math.isnan(xs[5]) and math.isnan(ys[5]), "bins are separated by NaN"
        out.append(None if np.isnan(ys[:5]).all() else
                   (xs[0], xs[2], ys[0], ys[1]))
    return out


# Two snapshots, four bins, ten points each: worked out by hand.
HAND = ReliabilityOverTraining(
    epochs=np.array([0, 50]), edges=np.array([0.0, 0.25, 0.5, 0.75, 1.0]),
    predicted=np.array([[0.1, np.nan, 0.6, 0.9], [0.2, 0.4, np.nan, 0.95]]),
    observed=np.array([[0.0, np.nan, 0.5, 1.0], [0.2, 0.5, np.nan, 0.7]]),
    counts=np.array([[4, 0, 2, 4], [5, 2, 0, 3]]),
    ece=np.array([0.08, 0.11]), brier=np.array([0.05, 0.09]),
    overconfidence=np.array([-0.02, 0.07]), kind="binary")


def test_reliability_figure_draws_each_snapshot_as_a_frame_with_its_own_bars():
    fig = figures.reliability_figure(HAND)
    assert [f.name for f in fig.frames] == ["0", "50"]
    slider = fig.layout.sliders[0]
    assert [s.args[0][0] for s in slider.steps] == ["0", "50"]
    assert slider.active == 1  # the final model is shown first
    assert all(s.args[1]["frame"]["redraw"] is False for s in slider.steps)
    assert not fig.layout.updatemenus  # playback is the page's bar
    assert {t.type for t in fig.data} == {"scatter"}
    bars = _index(fig, "observed share per bin")
    gaps = _index(fig, "gap to the bin's mean prediction")
    for s, frame in enumerate(fig.frames):
        updates = dict(zip(frame.traces, frame.data))
        heights = _rects(updates[bars].x, updates[bars].y)
        for b, rect in enumerate(heights):
            if HAND.counts[s, b] == 0:
                assert rect is None, "an empty bin draws nothing"
            else:
                x0, x1, low, high = rect
                assert (x0, x1) == pytest.approx((0.25 * b, 0.25 * (b + 1)))
                assert (low, high) == pytest.approx((0.0, HAND.observed[s, b]))
        gap = _rects(updates[gaps].x, updates[gaps].y)
        # snapshot 1, bin 3: observed 0.7, mean prediction 0.95: the red gap spans them
        if s == 1:
            assert gap[3][2:] == pytest.approx((0.7, 0.95))
            assert gap[2] is None


def test_reliability_figure_curves_grow_with_the_frames_and_never_empty():
    fig = figures.reliability_figure(HAND, train=HAND, part="validation")
    ece = _index(fig, "ECE (validation)")
    over = _index(fig, "overconfidence (validation)")
    train = _index(fig, "ECE (training)")
    now = _index(fig, "now")
    first, last = (dict(zip(f.traces, f.data)) for f in fig.frames)
    assert list(first[ece].x) == [0] and list(first[ece].y) == pytest.approx([0.08])
    assert list(last[ece].x) == [0, 50] and list(last[over].y) == pytest.approx([-0.02, 0.07])
    assert list(last[train].y) == pytest.approx([0.08, 0.11])
    assert list(last[now].y) == pytest.approx([0.11]) and list(last[now].x) == [50]
    for frame in fig.frames:
        for update in frame.data:
            assert len(update.x) >= 1 and len(update.x) == len(update.y)


def test_reliability_figure_keeps_every_trace_shape_fixed_across_frames():
    fig = figures.reliability_figure(HAND)
    bars = _index(fig, "observed share per bin")
    lengths = {len(dict(zip(f.traces, f.data))[bars].x) for f in fig.frames}
    assert lengths == {6 * 4}


def test_all_empty_bins_send_nan_points_not_an_empty_trace():
    empty = ReliabilityOverTraining(
        epochs=np.array([0]), edges=np.array([0.0, 0.5, 1.0]),
        predicted=np.full((1, 2), np.nan), observed=np.full((1, 2), np.nan),
        counts=np.zeros((1, 2), int), ece=np.array([np.nan]), brier=np.array([np.nan]),
        overconfidence=np.array([np.nan]), kind="binary")
    fig = figures.reliability_figure(empty)
    means = _index(fig, "bin mean")
    update = dict(zip(fig.frames[0].traces, fig.frames[0].data))[means]
    assert len(update.x) == 1 and math.isnan(update.x[0])


def test_top_label_axes_say_confidence_and_share_right():
    top = ReliabilityOverTraining(**{**HAND.__dict__, "kind": "top-label"})
    fig = figures.reliability_figure(top)
    assert fig.layout.yaxis.title.text == "share answered right"
    assert fig.layout.xaxis3.title.text == "confidence (top class)"
    binary = figures.reliability_figure(HAND)
    assert binary.layout.yaxis.title.text == "share that is class 1"


def test_reliability_figure_of_a_real_run_matches_its_validation_numbers():
    run = experiment.run(default_for("binary").replace(noise=0.4, epochs=40))
    rel = calibration.reliability_over_training(run.model, run.data.X_val, run.data.y_val)
    fig = figures.reliability_figure(rel)
    ece = _by_name(fig, "ECE (validation)")
    p = run.model.predict(run.data.X_val)
    # the last point is the final model's ECE, computed here from its predictions
    assert ece.y[-1] == pytest.approx(calibration.expected_calibration_error(p, run.data.y_val),
                                      abs=1e-6)
    counts = _by_name(fig, "points per bin")
    heights = [r[3] for r in _rects(counts.x, counts.y)]
    assert sum(heights) == len(run.data.y_val)


# ----------------------------------------------------------------------------------------


def test_precision_recall_figure_marks_the_threshold_and_the_share_of_class_1():
    sweep = figures.ThresholdSweep(np.array([0.1, 0.5, 0.9]), np.array([0.5, 0.7, 1.0]),
                                   np.array([1.0, 0.6, 0.2]), np.array([0.6, 0.6, 0.3]),
                                   np.array([0.7, 0.75, 0.6]))
    fig = figures.precision_recall_figure(
        np.array([0.4, 0.6, 1.0, 1.0]), np.array([1.0, 0.75, 0.25, 0.0]), sweep,
        [("threshold 0.3", 0.3, 0.75, 0.6), ("threshold 0.5", 0.5, 0.25, 1.0)], 0.4)
    mark = _by_name(fig, "threshold 0.3")
    assert (mark.x[0], mark.y[0]) == (0.75, 0.6)
    base = _by_name(fig, "share of class 1 (0.40)")
    assert list(base.y) == [0.4, 0.4]
    lines = sorted((s.x0, s.xref) for s in fig.layout.shapes)
    assert lines == [(0.3, "x2"), (0.5, "x2")], "one vertical line per mark, right panel"
    assert list(_by_name(fig, "recall").y) == pytest.approx([1.0, 0.6, 0.2])


def test_precision_recall_figure_names_the_points_it_was_drawn_on():
    sweep = figures.ThresholdSweep(*(np.array([0.2, 0.8]),) * 5)
    fig = figures.precision_recall_figure(np.array([1.0, 1.0]), np.array([1.0, 0.0]), sweep,
                                          [], 0.5, part="training")
    titles = [a.text for a in fig.layout.annotations]
    assert "Precision–recall curve (training)" in titles


def test_estimates_figure_draws_bands_between_their_edges_and_curves_on_the_grid():
    grid = np.linspace(-1, 1, 5)
    data = SimpleNamespace(X_train=np.array([[0.0], [1.0]]), y_train=np.array([0.0, 3.0]),
                           X_val=np.array([[0.5]]), y_val=np.array([-1.0]))
    fig = figures.estimates_figure(
        grid, data, [figures.Curve("fit", grid * 2, "#000000")],
        [figures.Curve("true mean", grid * 2 + 0.1, "#2563eb", "solid", 9.0)],
        [figures.Band("band", grid - 1, grid + 1, "#9333ea")])
    upper = _by_name(fig, "band")
    assert upper.fill == "tonexty"
    lower = fig.data[list(fig.data).index(upper) - 1]
    assert list(lower.y) == pytest.approx(list(grid - 1))
    assert list(_by_name(fig, "fit").y) == pytest.approx(list(grid * 2))
    truth = _by_name(fig, "true mean")
    assert truth.line.width == 9.0 and truth.opacity < 1
    lo, hi = fig.layout.yaxis.range
    assert lo < -1.0 and hi > 3.0, "every target is inside the y range"


# ----------------------------------------------------------------------------------------
# The scale unit of the Gaussian NLL


def test_scale_curves_have_their_minimum_at_log_of_the_squared_error():
    s, values, grads = anatomy.scale_curves("gaussian_nll", residuals=(0.5, 2.0))
    for row, r in enumerate((0.5, 2.0)):
        # L = (s + r² e^-s) / 2, dL/ds = (1 - r² e^-s) / 2, by hand
        assert values[row] == pytest.approx(0.5 * (s + r * r * np.exp(-s)), rel=1e-9)
        assert grads[row] == pytest.approx(0.5 * (1 - r * r * np.exp(-s)), rel=1e-9, abs=1e-12)
        best = s[np.argmin(values[row])]
        assert abs(best - np.log(r * r)) <= s[1] - s[0]


def test_scale_curves_refuse_a_loss_without_a_scale_unit():
    with pytest.raises(ValueError, match="no scale unit"):
        anatomy.scale_curves("mse")


def test_scale_anatomy_figure_marks_each_minimum():
    s, values, grads = anatomy.scale_curves("gaussian_nll", residuals=(1.0, 2.0))
    fig = figures.scale_anatomy_figure(s, (1.0, 2.0), values, grads)
    marked = sorted({round(shape.x0, 6) for shape in fig.layout.shapes})
    assert marked == pytest.approx([0.0, round(np.log(4.0), 6)])
    assert len(fig.data) == 4


# ----------------------------------------------------------------------------------------
# Helpers in the core


@pytest.mark.parametrize("loss,params,expected", [
    ("mse", None, ("mean", None)), ("mae", None, ("median", 0.5)),
    ("pinball", {"tau": 0.9}, ("0.9-quantile", 0.9)), ("pinball", {"tau": 0.5},
                                                        ("median", 0.5)),
    ("gaussian_nll", None, ("mean", None)), ("huber", None, ("", None)),
])
def test_estimand_names_what_the_loss_estimates(loss, params, expected):
    assert calibration.estimand(loss, params) == expected


def test_scores_match_ece_and_brier_worked_out_by_hand():
    run = experiment.run(default_for("binary").replace(epochs=20, noise=0.4))
    p = run.model.predict(run.data.X_val)
    y = run.data.y_val
    numbers = calibration.scores(run.model, run.data.X_val, y)
    assert numbers["Brier"] == pytest.approx(float(np.mean((p - y) ** 2)))
    edges = np.linspace(0, 1, 11)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (p > lo) & (p <= hi) if lo > 0 else (p <= hi)
        if inside.any():
            ece += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    assert numbers["ECE"] == pytest.approx(ece)


def test_scores_are_none_where_outputs_are_not_probabilities():
    run = experiment.run(default_for("binary").replace(epochs=10, output_activation="linear",
                                                       loss="hinge"))
    assert calibration.scores(run.model, run.data.X_val, run.data.y_val) is None


def test_true_curves_of_the_datasets_match_the_generators():
    """Conditional mean and quantiles of a million generated points in a narrow window of x
    against true_mean / true_quantile."""
    x = np.array([-1.5, 0.0, 1.5])
    for key, noise in (("skewed", 0.8), ("heteroscedastic", 0.5), ("sine", 0.3)):
        X, y = datasets.get(key).generate(1_000_000, noise, np.random.default_rng(0))
        for i, x0 in enumerate(x):
            near = y[np.abs(X[:, 0] - x0) < 0.01]
            assert len(near) > 3000
            assert np.mean(near) == pytest.approx(datasets.true_mean(key, x, noise)[i],
                                                  abs=0.05)
            for tau in (0.1, 0.5, 0.9):
                assert np.quantile(near, tau) == pytest.approx(
                    datasets.true_quantile(key, x, tau, noise)[i], abs=0.08)
    assert datasets.true_mean("moons", x, 0.1) is None
    assert datasets.true_quantile("outliers", x, 0.5, 0.1) is None
