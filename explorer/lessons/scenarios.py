"""The lessons' scenarios: the configuration each lesson runs (its comparisons vary one
or two settings of these)."""

from __future__ import annotations

from explorer.config import Config, default_for

LESSON_TRAINING = dict(optimizer="adam", lr=0.01, batch_size=32, epochs=300)
"""The training the binary lessons were written and verified with (the app's opening scenario
trains with plain SGD instead, ``config.OPENING_TRAINING``); a lesson may override it."""


def binary(**changes) -> Config:
    return default_for("binary").replace(**{**LESSON_TRAINING, **changes})


SATURATED = binary(hidden=(16,), init_scale=10.0, optimizer="sgd", lr=0.5, epochs=100)
ONE_NEURON = binary(dataset="overlap1d", noise=0.6, hidden=(), seed=5, init_scale=10.0,
                      optimizer="sgd", lr=1.0, batch_size=0)
OUTLIERS = default_for("regression").replace(dataset="outliers", noise=0.2, hidden=())
IMBALANCED = binary(dataset="imbalanced", noise=0.6, n_samples=1000, hidden=(), epochs=100,
                      loss="focal")
CALIBRATED = binary(noise=0.3, n_samples=1000, val_share=0.5, hidden=(16,), epochs=200)
OVERCONFIDENT = binary(noise=0.5, val_share=0.5, hidden=(32, 32), epochs=800)
SKEWED = default_for("regression").replace(dataset="skewed", noise=0.8, n_samples=1000,
                                            hidden=(32,), batch_size=64, loss="pinball",
                                            tau=0.9)
GROWING = default_for("regression").replace(dataset="heteroscedastic", noise=0.5,
                                             n_samples=1000, hidden=(32,), batch_size=64,
                                             loss="gaussian_nll")
COUNTS = default_for("counts").replace(hidden=())
COUNTS_MSE = COUNTS.replace(output_activation="linear", loss="mse")
