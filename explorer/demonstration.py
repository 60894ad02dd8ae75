"""What the app may say about a pair's output and about how its mismatch shows, decided once.

Pure functions of (problem, output activation, loss) and plain data; the UI only words them.
Every promise here is pinned by a test that trains the runs (tests/test_demonstration.py).
"""

from __future__ import annotations

import numpy as np

from explorer import activations, datasets, pairing
from explorer.config import Config, default_for

SATURATING_OUTPUTS = ("sigmoid", "tanh", "softmax")
MARGIN_LOSSES = frozenset({"hinge", "squared_hinge", "categorical_hinge"})
CROSS_ENTROPIES = frozenset({"cce", "sparse_cce", "kld"})
PROPER_FOR_LABELS = frozenset({"bce", "mse", "cce", "sparse_cce", "kld"})
"""Losses minimised by the true class probabilities on one-hot or 0/1 targets (MSE is the
Brier score there); with an output that lies in [0, 1] they estimate probabilities."""

SATURATED_START = {"init_scale": 10.0, "optimizer": "sgd", "lr": 0.5, "hidden": (16,)}
"""Large initial weights put the output unit on its flat ends; plain SGD (no per-parameter
rescaling as in Adam) and one hidden layer of 16 keep the matched pair able to recover."""

SATURATION_SHOWN = frozenset({
    ("binary", "sigmoid", "mse"), ("binary", "tanh", "mse"),
    ("binary", "tanh", "hinge"), ("binary", "tanh", "squared_hinge"),
    ("multiclass", "sigmoid", "mse"), ("multiclass", "tanh", "mse"),
    ("multiclass", "softmax", "mse"), ("multiclass", "sigmoid", "categorical_hinge"),
    ("multiclass", "tanh", "categorical_hinge"), ("multiclass", "softmax", "categorical_hinge"),
})
"""Saturating pairs that fall clearly behind the matched pair from ``saturated_scenario``:
the test trains each on several seeds. A pair not listed gets no promise in the app."""

OUTPUT_SLOPE = {"sigmoid": ("p(1 − p)", 0.25), "tanh": ("1 − p²", 1.0),
                "softmax": ("p(1 − p) of each class", 0.25)}
"""The factor a saturating output multiplies every gradient by (its derivative), and its
largest value (at z = 0)."""

RANGE_TEXT = {
    "linear": "(−∞, ∞)", "sigmoid": "(0, 1)", "tanh": "(−1, 1)", "softmax": "(0, 1)",
    "softplus": "(0, ∞)", "exp": "(0, ∞)", "relu": "[0, ∞)",
}
"""Output ranges as intervals, ends open or closed (ReLU reaches 0; the others do not)."""


def output_meaning(problem: str, activation: str, loss: str) -> str:
    """What the network's output is: 'probability', 'score' or 'output' (or 'prediction').

    A probability needs an output in [0, 1] and a loss whose minimiser is the class
    probability (cross-entropy, or MSE: the Brier score). Margin losses give a score whose
    sign is the class. Anything else (MAE's median, focal loss's re-weighted estimate, a
    linear or tanh output under MSE) is just an output, whatever its range.
    """
    if problem in ("regression", "counts"):
        return "prediction"
    if loss in MARGIN_LOSSES:
        return "score"
    probability_outputs = ("sigmoid",) if problem == "binary" else ("softmax",)
    if activation in probability_outputs and loss in PROPER_FOR_LABELS:
        return "probability"
    return "output"


def failure_kind(problem: str, activation: str, loss: str) -> str | None:
    """How a mismatched pair fails, or None for a matched or invalid pair.

    'saturation': a saturating output with another loss; its gradient carries the output's
    slope, ≈ 0 only where the output saturates (small initial weights rarely start there).
    'range': the output cannot reach the targets (a bounded or positive output for
    regression, a bounded one for counts, a never-negative one for a ±1 margin).
    'degenerate': multi-class sigmoid + cross-entropy, minimised by every output → 1.
    'other': anything else (wrong noise model, a ReLU's dead zone).
    """
    if pairing.check(problem, activation, loss).verdict != "mismatched":
        return None
    lo, hi = activations.get(activation).output_range
    t_lo, t_hi = pairing.TARGET_RANGE[problem]
    if problem in ("regression", "counts") and (lo > t_lo or hi < t_hi):
        return "range"
    if problem == "binary" and loss in MARGIN_LOSSES and lo >= 0:
        return "range"
    if problem == "multiclass" and activation == "sigmoid" and loss in CROSS_ENTROPIES:
        return "degenerate"
    if problem in ("binary", "multiclass") and activation in SATURATING_OUTPUTS:
        return "saturation"
    return "other"


def shows_saturation(problem: str, activation: str, loss: str) -> bool:
    """True when the app may promise that a saturated start makes this pair fall behind."""
    return (failure_kind(problem, activation, loss) == "saturation"
            and (problem, activation, loss) in SATURATION_SHOWN)


def saturated_scenario(problem: str, activation: str, loss: str) -> Config:
    """The problem's default scenario with this pair, started from large initial weights."""
    return default_for(problem).replace(output_activation=activation, loss=loss,
                                        **SATURATED_START)


def race_pairs(problem: str, activation: str, loss: str) -> list[tuple[str, str]]:
    """The pair and the problem's matched pair, the pair first."""
    return [(activation, loss), pairing.DEFAULT_PAIR[problem]]


def why_saturated_start(activation: str) -> str:
    """One sentence: why the race starts from large initial weights."""
    factor, peak = OUTPUT_SLOPE[activation]
    return (f"From small initial weights the output mostly starts on the steep part of the "
            f"{activations.get(activation).label.lower()}, where the extra factor {factor} "
            f"(at most {peak:g}) costs little; initial weights × "
            f"{SATURATED_START['init_scale']:g} push it onto the flat ends, where the factor "
            "is ≈ 0 and the mismatch shows.")


def saturated_start_settings(problem: str) -> str:
    """The race's settings in words."""
    config = default_for(problem)
    hidden = SATURATED_START["hidden"]
    return (f"initial weights × {SATURATED_START['init_scale']:g}, plain SGD at learning rate "
            f"{SATURATED_START['lr']:g}, one hidden layer of {hidden[0]} units, "
            f"{datasets.get(config.dataset).label.lower()}, seed {config.seed}")


def targets_out_of_reach(activation: str, y) -> int:
    """How many targets lie outside the closure of the activation's output range."""
    lo, hi = activations.get(activation).output_range
    y = np.asarray(y, dtype=float)
    return int(np.sum((y < lo) | (y > hi)))
