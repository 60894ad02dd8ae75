"""From a Config to a run: the work budget checked before anything trains."""

import time

import pytest

from explorer import config, experiment, presets


def test_work_grows_with_epochs_points_layers_and_batches():
    base = config.DEFAULT.replace(batch_size=32, epochs=300)
    work = experiment.work_units(base)
    # 300 train points, 2-16-16-1 (337 parameters), 10 batches of 32, 300 epochs
    assert work == pytest.approx(300 * (10 * experiment.BATCH_UNITS + 300 * 337))
    assert experiment.work_units(base.replace(epochs=600)) == pytest.approx(2 * work)
    assert experiment.work_units(base.replace(hidden=(64, 64))) > work
    assert experiment.work_units(base.replace(batch_size=8)) > work
    assert experiment.work_units(base.replace(batch_size=0)) < work


def test_every_lesson_and_the_default_fit_the_budget():
    assert experiment.over_budget(config.DEFAULT) is None
    assert experiment.over_budget(config.DEFAULT.replace(epochs=3000)) is None
    for preset in presets.PRESETS.values():
        assert experiment.over_budget(preset.config) is None, preset.key


def test_an_oversized_run_is_refused_with_what_to_lower():
    huge = config.DEFAULT.replace(n_samples=5000, epochs=3000, batch_size=8,
                                  hidden=(64, 64, 64, 64))
    message = experiment.over_budget(huge)
    assert message is not None and "lower" in message
    for lever in ("epochs", "batch size", "layer sizes", "points"):
        assert lever in message
    # the estimate is honest: a run at the budget's edge takes seconds, not minutes
    edge = config.DEFAULT.replace(epochs=100)
    started = time.perf_counter()
    experiment.run(edge)
    seconds = time.perf_counter() - started
    per_unit = seconds / experiment.work_units(edge)
    assert per_unit * experiment.WORK_BUDGET < 120
