import numpy as np
import pytest

from explorer import config, experiment, pairing
from explorer.figures import compare
from explorer.figures.training import compute_frames


@pytest.fixture(scope="module")
def runs():
    base = config.DEFAULT.replace(epochs=30, n_samples=200)
    pairs = [("sigmoid", "bce"), ("sigmoid", "mse"), ("linear", "bce")]
    return [experiment.run(base.replace(output_activation=a, loss=k), snapshots=10)
            for a, k in pairs]


def test_race_figure_has_one_metric_and_one_relative_loss_curve_per_pair(runs):
    fig = compare.race_figure([(f"pair {i}", r.history) for i, r in enumerate(runs)],
                              "binary")
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 2 * len(runs)
    assert len(lines[-1].x) == 0  # the run that broke at once has no rows to draw
    relative = lines[1].y
    assert relative[0] == pytest.approx(1.0)
    # the run that broke at once is marked where it stopped
    assert any(t.mode == "markers+text" and list(t.text) == ["NaN"] for t in fig.data)


def test_final_maps_have_one_panel_and_one_image_per_pair(runs):
    entries = [(f"pair {i}", compute_frames(r.model, r.data.X_train, r.data.y_train))
               for i, r in enumerate(runs)]
    fig = compare.final_maps_figure(entries, runs[0].data, "binary")
    assert len(fig.layout.images) == len(runs)
    assert [im.xref for im in fig.layout.images] == ["x", "x2", "x3"]


def test_summary_table_reports_verdicts_numbers_and_divergence(runs):
    table = compare.summary_table(
        [(f"pair {i}", r.pairing.verdict, r.history) for i, r in enumerate(runs)], "binary")
    assert list(table["verdict"]) == ["matched", "mismatched", "invalid"]
    assert table.loc[0, "validation accuracy"] > 0.8
    assert table.loc[2, "stopped"] == "NaN at epoch 1"
    assert np.isnan(table.loc[2, "train loss"])


def test_rivals_start_with_the_chosen_pair_and_have_no_repeats():
    assert pairing.rivals("binary", "sigmoid", "bce") == [("sigmoid", "bce"),
                                                          ("sigmoid", "mse"),
                                                          ("linear", "hinge")]
    assert pairing.rivals("binary", "tanh", "mse")[0] == ("tanh", "mse")


def test_a_loss_that_goes_negative_is_left_out_of_the_ratio_panel_with_a_note():
    base = config.default_for("counts").replace(epochs=20, n_samples=200)
    poisson = experiment.run(base, snapshots=5).history
    mse = experiment.run(base.replace(output_activation="linear", loss="mse"),
                         snapshots=5).history
    assert poisson["loss"].max() < 0
    fig = compare.race_figure([("Exp + Poisson", poisson), ("Linear + MSE", mse)], "counts")
    relative = [t for t in fig.data if t.xaxis == "x2" and t.mode == "lines"]
    assert [t.name for t in relative] == ["Linear + MSE"]
    assert relative[0].y[0] == pytest.approx(1.0)
    (note,) = fig.layout.annotations[2:]  # after the two subplot titles
    assert "Exp + Poisson" in note.text and "Linear + MSE" not in note.text
