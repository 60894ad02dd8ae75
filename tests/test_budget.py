"""The page budget: what a click will compute, estimated before any of it starts."""

import dataclasses

import numpy as np
import pytest

from explorer import budget, config, experiment, losses, presets, training

UNIT = budget.UnitCosts(step=1.0, step_layer=0.0, train_unit=0.0, forward_unit=0.0, epoch=0.0,
                        view_units={})


def test_the_shape_counts_parameters_by_hand():
    # two moons: 2 inputs, 16, 16, one output: 3*16 + 17*16 + 17*1 = 337 parameters
    s = budget.shape(config.DEFAULT.replace(batch_size=32, n_samples=400))
    assert (s.params, s.n_train, s.n_val, s.batches, s.layers) == (337, 300, 100, 10, 3)
    # a learned variance needs two output units per target: 1 -> 16 -> 16 -> 2
    nll = config.default_for("regression").replace(loss="gaussian_nll",
                                                   output_activation="linear")
    assert budget.shape(nll).params == 2 * 16 + 17 * 16 + 17 * 2
    # ten classes on a spiral, four layers of 64: a 13,322-parameter network
    wide = config.default_for("multiclass").replace(n_classes=10, hidden=(64,) * 4)
    assert budget.shape(wide).params == 3 * 64 + 3 * 65 * 64 + 65 * 10
    assert budget.shape(config.DEFAULT.replace(epochs=30)).snapshots == 31
    assert budget.shape(config.DEFAULT.replace(epochs=3000)).snapshots == 101


def test_training_time_grows_the_way_the_work_does():
    base = config.DEFAULT.replace(batch_size=32, epochs=300)
    t = budget.training_seconds(base)
    assert budget.training_seconds(base.replace(epochs=600)) == pytest.approx(2 * t)
    assert budget.training_seconds(base.replace(hidden=(64, 64))) > t
    assert budget.training_seconds(base.replace(batch_size=8)) > t
    assert budget.training_seconds(base.replace(batch_size=0)) < t
    assert budget.training_seconds(base.replace(n_samples=800)) > t
    # only steps cost: 300 epochs x 10 batches of 32 = 3000 steps
    assert budget.training_seconds(base, costs=UNIT) == pytest.approx(3000)


def test_the_views_own_work_grows_with_its_sizes():
    # per parameter only, so the counts show: snapshots x points x P
    per_param = budget.UnitCosts(view_units={kind: (1.0, 0.0, 0.0) for kind in (
        "frames", "surface", "gradients", "calibration")})
    base = config.DEFAULT.replace(epochs=200)
    frames = budget.frames_seconds(base, costs=per_param)
    assert frames == pytest.approx(101 * 64 * 64 * 337)
    wide = base.replace(hidden=(64, 64))
    assert budget.frames_seconds(wide, costs=per_param) == pytest.approx(frames * 4417 / 337)
    assert budget.frames_seconds(base, final_only=True, costs=per_param) == pytest.approx(
        frames / 101)
    surface = budget.surface_seconds(base, costs=per_param)
    assert budget.surface_seconds(base.replace(n_samples=800), costs=per_param) == \
        pytest.approx(2 * surface)
    # a surface uses at most 2,000 samples
    assert budget.surface_seconds(base.replace(n_samples=5000), costs=per_param) == \
        pytest.approx(budget.surface_seconds(base.replace(n_samples=4000), costs=per_param))
    # the calibration reads training and validation points: all 400
    assert budget.snapshots_seconds(base, "calibration", costs=per_param) == pytest.approx(
        101 * 400 * 337)


def test_a_page_counts_every_run_it_trains_and_its_view():
    c = config.default_for("regression")
    others = [c.replace(loss="mae"), c.replace(loss="pinball", tau=0.9)]
    alone = budget.total(budget.page(c, "Train"))
    assert budget.total(budget.page(c, "Train", others=others)) == pytest.approx(
        alone + sum(budget.training_seconds(o) for o in others))
    what = [w.what for w in budget.page(c, "Error surface")]
    assert what == ["training", "the loss surface"]


def test_every_lesson_and_the_default_fit_the_budget_on_their_view():
    assert budget.refusal(config.DEFAULT, "Train") is None
    for preset in presets.PRESETS.values():
        assert budget.refusal(preset.config, preset.view) is None, preset.key


def test_an_oversized_page_is_refused_with_a_suggestion_that_fits():
    huge = config.DEFAULT.replace(n_samples=5000, epochs=3000, batch_size=8,
                                  hidden=(64, 64, 64, 64))
    refusal = budget.refusal(huge, "Train")
    assert refusal is not None and "Lower the epochs to" in refusal.sentence
    assert refusal.suggestion is not None and refusal.suggestion.epochs < huge.epochs
    assert refusal.button == f"Use {refusal.suggestion.epochs} epochs"
    assert budget.refusal(refusal.suggestion, "Train") is None
    # only the epochs changed
    assert dataclasses.replace(refusal.suggestion, epochs=huge.epochs) == huge


def test_the_view_can_be_what_is_too_big():
    # 13k parameters, 50 points: training is cheap, frames of 100 snapshots on 6400 grid
    # points are not, if the budget is small
    wide = config.default_for("multiclass").replace(
        n_classes=10, hidden=(64,) * 4, n_samples=50, epochs=300, dataset="spiral")
    train_only = budget.training_seconds(wide)
    pieces = budget.page(wide, "Train")
    frames = next(w.seconds for w in pieces if w.what == "the replay's frames")
    refusal = budget.refusal(wide, "Train", budget=train_only + frames / 2)
    assert refusal is not None and "the replay's frames" in refusal.sentence
    assert budget.refusal(wide, "Loss anatomy", budget=train_only + frames / 2) is None


def test_the_costs_file_is_measured_and_read():
    costs = budget.UnitCosts.load()
    assert costs != budget.UnitCosts(), "explorer/costs.json is missing or unreadable"
    assert set(costs.view_units) >= {"frames", "surface", "gradients", "calibration"}
    assert all(value > 0 for value in (costs.step, costs.train_unit, costs.forward_unit))


# ----------------------------------------------------------------------------------------
# Faults a cost model or a trainer could hide


def test_a_non_finite_gradient_stops_the_run_and_does_not_blame_the_learning_rate():
    # sqrt|p - y| has a finite value but no derivative where p == y: from zero weights a
    # linear output predicts 0, and targets of exactly 0 sit there
    X = np.linspace(-1, 1, 40)[:, None]
    y = np.where(np.arange(40) % 2 == 0, 0.0, 1.0)
    network_params = 1 * 4 + 4 + 4 * 1 + 1
    model, history = training.fit(
        X, y, problem="regression", hidden=(4,), output_activation="linear",
        loss=losses.custom("sqrt(abs(p - y))"), optimizer="sgd", lr=0.1, epochs=5,
        batch_size=40, initial_params=np.zeros(network_params))
    divergence = history.attrs["divergence"]
    assert divergence is not None and divergence["epoch"] == 1
    assert "learning rate" not in divergence["message"]
    assert "derivative" in divergence["message"]
    assert np.isfinite(model.theta).all()


def test_every_setting_changes_the_scenario_key():
    base = config.DEFAULT
    for field in config.FIELDS:
        value = getattr(base, field.key)
        if field.key == "formula":
            changed = base.replace(formula="abs(y - p)")
        elif isinstance(value, (bool, str)):
            continue
        elif isinstance(value, tuple):
            changed = base.replace(hidden=(8,))
        else:
            bumped = value + (field.step or 1)
            if field.hi is not None and bumped > field.hi:
                bumped = value - (field.step or 1)
            changed = base.replace(**{field.key: type(value)(bumped)})
        assert changed.key() != base.key(), field.key
    for text_field in ("problem", "dataset", "output_activation", "loss", "hidden_activation",
                       "optimizer"):
        assert base.replace(**{text_field: "x"}).key() != base.key()


def test_the_lessons_reproduce_a_run_with_the_same_arguments_as_the_app():
    from explorer import claims

    c = config.DEFAULT.replace(optimizer="momentum", momentum=0.5, epochs=20, lr=0.05)
    r = experiment.run(c)
    _, history = claims.train_from(r)
    np.testing.assert_allclose(history["loss"].to_numpy(), r.history["loss"].to_numpy())


def test_a_previews_model_keeps_the_decision_threshold():
    c = config.DEFAULT.replace(threshold=0.8, epochs=20)
    seen = []
    experiment.run(c, watch=lambda epoch, model, data: seen.append(model.threshold))
    assert seen and set(seen) == {0.8}
