"""What the outputs estimate, through AppTest: the Calibration view, precision and recall, the
sidebar's τ, α and threshold, the estimates panel under a 1-D fit, the scale unit in Loss
anatomy, ECE and Brier in Compare, and the lessons. Expected numbers are computed here from
the trained model's predictions, not read back from the page's own helpers."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer import config as cfg
from explorer import experiment, presets
from tests.apptest import ok, open_app

TIMEOUT = 180


def app(**query) -> AppTest:
    return ok(open_app(query, TIMEOUT))


def chart(at: AppTest, suffix: str) -> dict:
    """The figure whose layout.meta ends with ``suffix`` (":calibration", ...)."""
    found = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [s for s in found if str(s["layout"].get("meta", "")).endswith(suffix)]
    assert len(found) == 1, f"expected one {suffix} chart, found {len(found)}"
    return found[0]


def has_chart(at: AppTest, suffix: str) -> bool:
    return any(str(json.loads(c.proto.spec)["layout"].get("meta", "")).endswith(suffix)
               for c in at.get("plotly_chart"))


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return values[0]


def texts(at: AppTest) -> str:
    parts = [*at.main.info, *at.main.caption, *at.main.markdown, *at.main.warning]
    return " ".join(str(p.value) for p in parts)


def ece_by_hand(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal bins (0, 0.1], ..., first bin closed at 0."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (p > lo) & (p <= hi) if lo > 0 else (p <= hi)
        if inside.any():
            total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return total


def names(spec: dict) -> list[str]:
    return [t.get("name", "") for t in spec["data"]]


# ----------------------------------------------------------------------------------------
# The Calibration view


def test_calibration_view_animates_the_reliability_diagram_of_this_run():
    at = app(view="Calibration", noise="0.4", epochs="60")
    run = experiment.run(cfg.DEFAULT.replace(noise=0.4, epochs=60))
    spec = chart(at, ":calibration")
    assert len(spec["frames"]) == len(run.model.snapshots)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert [s["args"][0][0] for s in steps] == [f["name"] for f in spec["frames"]]
    assert steps[-1]["label"] == "60"
    assert all(s["args"][1]["frame"]["redraw"] is False for s in steps)
    bars = [h.proto.body for h in at.get("html") if "lfe-playback" in h.proto.body]
    assert any('data-target=".st-key-calibration_chart"' in b for b in bars)
    assert {t["type"] for t in spec["data"]} == {"scatter"}
    assert {"perfect calibration", "observed share per bin", "ECE (validation)",
            "ECE (training)"} <= set(names(spec))
    p, y = run.model.predict(run.data.X_val), run.data.y_val
    assert metric(at, "ECE, validation") == f"{ece_by_hand(p, y):.3f}"
    assert metric(at, "Brier score, validation") == f"{np.mean((p - y) ** 2):.3f}"
    confidence = np.maximum(p, 1 - p)
    over = np.mean(confidence) - np.mean((p > 0.5) == (y == 1))
    assert metric(at, "Overconfidence, validation") == f"{round(over, 3) + 0.0:+.3f}"


def test_calibration_view_says_why_when_the_outputs_are_scores():
    at = app(view="Calibration", output_activation="linear", loss="hinge", epochs="30")
    assert not has_chart(at, ":calibration")
    why = " ".join(i.value for i in at.main.info)
    assert "No reliability diagram" in why and "unbounded score, not a probability" in why
    # precision and recall still apply to a score: the threshold is its sign
    pr = chart(at, ":precision-recall")
    assert "threshold 0" in names(pr)
    assert "threshold 0.5" not in names(pr)


def test_calibration_view_for_regression_points_to_coverage():
    at = app(view="Calibration", problem="regression", epochs="20")
    assert not at.get("plotly_chart")
    why = " ".join(i.value for i in at.main.info)
    assert "for classification" in why and "coverage" in why


def test_multiclass_calibration_is_top_label():
    at = app(view="Calibration", problem="multiclass", epochs="40")
    spec = chart(at, ":calibration")
    assert spec["layout"]["yaxis"]["title"]["text"] == "share answered right"
    assert spec["layout"]["xaxis3"]["title"]["text"] == "confidence (top class)"
    assert not any(m.label.startswith("Precision") for m in at.metric)
    assert "Precision, recall and the threshold" not in texts(at)


# ----------------------------------------------------------------------------------------
# Imbalance: precision, recall, F1, balanced accuracy at the threshold


IMBALANCED = dict(dataset="imbalanced", noise="0.6", n_samples="1000", hidden="none",
                  epochs="40")


def test_imbalance_table_and_headline_use_the_chosen_threshold():
    at = app(view="Calibration", threshold="0.3", **IMBALANCED)
    config = cfg.DEFAULT.replace(dataset="imbalanced", noise=0.6, n_samples=1000, hidden=(),
                                 epochs=40, threshold=0.3)
    run = experiment.run(config)
    p, y = run.model.predict(run.data.X_val), run.data.y_val
    called = p > 0.3
    tp, fp = np.sum(called & (y == 1)), np.sum(called & (y == 0))
    fn, tn = np.sum(~called & (y == 1)), np.sum(~called & (y == 0))
    table = at.table[0].value.set_index("points")
    row = table.loc["validation"]
    assert row["precision"] == pytest.approx(tp / (tp + fp))
    assert row["recall"] == pytest.approx(tp / (tp + fn))
    assert row["F1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert row["balanced accuracy"] == pytest.approx((tp / (tp + fn) + tn / (tn + fp)) / 2)
    assert row["accuracy"] == pytest.approx((tp + tn) / len(y))
    assert metric(at, "Validation accuracy") == f"{(tp + tn) / len(y):.1%}"
    pr = chart(at, ":precision-recall")
    mark = next(t for t in pr["data"] if t.get("name") == "threshold 0.3")
    assert mark["x"][0] == pytest.approx(tp / (tp + fn))
    assert "threshold 0.5" in names(pr), "the default is marked too, for comparison"
    assert "Class 1 is 10% of the points" in texts(at)


def test_the_boundary_moves_with_the_threshold():
    at = app(threshold="0.3", **IMBALANCED)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["name"] == "boundary (output = 0.3)"


# ----------------------------------------------------------------------------------------
# The sidebar: each setting where it applies, in the URL


def sidebar_keys(at: AppTest) -> set[str]:
    keys = set()
    for kind in ("slider", "select_slider"):
        keys |= {w.key for w in at.sidebar.get(kind)}
    return keys


@pytest.mark.parametrize("query,shown,hidden", [
    (dict(), {"alpha", "threshold"}, {"tau"}),
    (dict(loss="focal"), {"alpha", "threshold", "gamma"}, {"tau"}),
    (dict(loss="hinge", output_activation="linear"), set(), {"alpha", "threshold", "tau"}),
    (dict(problem="regression", loss="pinball"), {"tau"}, {"alpha", "threshold"}),
    (dict(problem="regression"), set(), {"alpha", "threshold", "tau"}),
    (dict(problem="multiclass"), set(), {"alpha", "threshold", "tau"}),
])
def test_each_setting_shows_only_where_it_applies(query, shown, hidden):
    at = app(epochs="10", **query)
    keys = sidebar_keys(at)
    assert shown <= keys and not hidden & keys, keys
    if query.get("loss") == "hinge":
        assert any("Decision threshold: 0" in c.value for c in at.sidebar.caption)


def _query(at: AppTest) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_tau_from_the_sidebar_reaches_the_url_and_the_fit():
    at = app(problem="regression", dataset="skewed", noise="0.8", loss="pinball", epochs="40")
    at.slider(key="tau").set_value(0.9).run()
    ok(at)
    assert _query(at)["tau"] == "0.9"
    assert any("nominal 90.0%" in m.label for m in at.metric)
    spec = chart(at, ":estimates:10")  # skewed data: mean, median, 90th percentile on
    assert "this run: Pinball τ = 0.9 fit → 0.9-quantile" in names(spec)


def test_alpha_none_or_a_weight_and_its_reason():
    at = app(view="Calibration", epochs="30")
    alpha = at.select_slider(key="alpha")
    assert alpha.value == 0.0 and alpha.format_func(0.0) == "none"
    alpha.set_value(0.9).run()
    ok(at)
    assert _query(at)["alpha"] == "0.9"
    assert "α = 0.9 moves the optimum" in texts(at)


def test_a_link_with_the_new_settings_restores_them():
    query = cfg.DEFAULT.replace(loss="focal", alpha=0.25, threshold=0.4, epochs=20).to_query()
    at = app(**query)
    assert at.session_state["alpha"] == 0.25 and at.session_state["threshold"] == 0.4
    assert at.slider(key="threshold").value == 0.4
    assert not at.main.warning


# ----------------------------------------------------------------------------------------
# Under a 1-D fit: quantiles, learned noise, the 80 % band


SKEWED = cfg.default_for("regression").replace(dataset="skewed", noise=0.8, epochs=60)


def test_pinball_fit_shows_its_share_below_next_to_tau():
    at = app(**SKEWED.replace(loss="pinball", tau=0.9).to_query())
    run = experiment.run(SKEWED.replace(loss="pinball", tau=0.9))
    below = np.mean(run.data.y_val <= run.model.predict(run.data.X_val))
    label = "Validation targets below this run's fit (nominal 90.0%)"
    assert metric(at, label) == f"{below:.1%}"
    spec = chart(at, ":estimates:10")  # skewed data: the three estimates are on by default
    assert {"true mean", "true median", "true 0.9-quantile",
            "Mean squared error fit → mean", "Mean absolute error fit → median"} <= set(
        names(spec))


def test_one_click_draws_the_80_percent_band_with_its_coverage():
    at = app(**SKEWED.to_query())
    assert not any("80 % band" in n for n in names(chart(at, ":estimates:10")))
    at.toggle(key="estimates_band_skewed_none").set_value(True).run()
    ok(at)
    spec = chart(at, ":estimates:11")
    assert "80 % band: pinball τ = 0.1 to 0.9" in names(spec)
    low, high = (experiment.run(SKEWED.replace(loss="pinball", tau=t)) for t in (0.1, 0.9))
    X, y = low.data.X_val, low.data.y_val
    inside = np.mean((y >= low.model.predict(X)) & (y <= high.model.predict(X)))
    assert metric(at, "Validation targets inside the 80 % band (nominal 80.0%)") == \
        f"{inside:.1%}"


def test_gaussian_nll_draws_mean_plus_minus_two_sigma_with_its_coverage():
    config = cfg.default_for("regression").replace(dataset="heteroscedastic", noise=0.5,
                                                   loss="gaussian_nll", epochs=60)
    at = app(**config.to_query())
    run = experiment.run(config)
    mean, sigma = run.model.predict(run.data.X_val).T
    y = run.data.y_val
    inside = np.mean(np.abs(y - mean) <= 2 * sigma)
    assert metric(at, "Validation targets inside mean ± 2σ (nominal 95.4%)") == f"{inside:.1%}"
    spec = chart(at, ":estimates:01")  # growing noise: the band is on by default
    band = next(t for t in spec["data"] if t.get("name") == "mean ± 2σ (learned σ)")
    assert band["fill"] == "tonexty"


def test_no_estimates_panel_where_nothing_is_estimated_against_a_truth():
    at = app(problem="regression", epochs="20")  # sine, MSE
    assert not has_chart(at, ":estimates:00") and "What the fit estimates" not in texts(at)


# ----------------------------------------------------------------------------------------
# Loss anatomy and Compare


def test_anatomy_explains_the_scale_unit_of_the_gaussian_nll():
    at = app(problem="regression", loss="gaussian_nll", view="Loss anatomy", epochs="20")
    assert "two output units per target" in texts(at)
    anatomy_spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    subtitle = anatomy_spec["layout"]["title"]["subtitle"]["text"].replace("<br>", " ")
    assert "scale unit stays at s = 0" in subtitle and "Multi-class" not in subtitle
    scale = chart(at, "gaussian_nll:scale")
    assert scale["layout"]["xaxis"]["title"]["text"] == "s = log σ²"
    assert len(scale["data"]) == 6  # loss and gradient for three errors


def test_compare_table_has_ece_and_brier_where_they_apply():
    at = app(view="Compare", epochs="30")
    table = at.table[0].value.set_index("pair")
    assert {"validation ECE", "validation Brier"} <= set(table.columns)
    assert np.isnan(table.loc["Linear (identity) + Hinge", "validation ECE"])
    run = experiment.run(cfg.DEFAULT.replace(epochs=30))
    p, y = run.model.predict(run.data.X_val), run.data.y_val
    row = table.loc["Sigmoid + Binary cross-entropy"]
    assert row["validation ECE"] == pytest.approx(ece_by_hand(p, y))
    assert row["validation Brier"] == pytest.approx(np.mean((p - y) ** 2))


# ----------------------------------------------------------------------------------------
# Lessons


NEW_LESSONS = ("calibrated_bce_mse", "overconfident", "skewed_estimates", "learned_noise")


@pytest.mark.parametrize("key", NEW_LESSONS)
def test_each_new_lesson_opens_in_its_view_with_its_text(key):
    preset = presets.get(key)
    at = app(preset=key, ask="0")  # with its question the title waits for the answer
    assert at.session_state["view"] == preset.view
    assert any(i.value.startswith(f"**Lesson: {preset.title}.**") for i in at.main.info)
    if preset.view == "Calibration":
        assert has_chart(at, ":calibration")
    else:
        assert has_chart(at, ":estimates:10") or has_chart(at, ":estimates:01")


def test_the_overconfidence_lesson_shows_what_its_text_says():
    at = app(preset="overconfident")
    spec = chart(at, ":calibration")
    assert len(spec["frames"]) >= 50
    final = float(metric(at, "ECE, validation"))
    run = experiment.run(presets.get("overconfident").config)
    p, y = run.model.predict(run.data.X_val), run.data.y_val
    assert final == pytest.approx(ece_by_hand(p, y), abs=5e-4)
    assert float(metric(at, "Overconfidence, validation")) >= 0.05


def test_learn_page_links_the_new_lessons():
    at = app(view="Learn", epochs="10")
    at.button(key="learn_skewed_estimates").click().run()
    ok(at)
    assert at.session_state["dataset"] == "skewed" and at.session_state["tau"] == 0.9
    assert at.session_state["view"] == "Train"
