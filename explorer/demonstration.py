"""What the app may say about a pair's output and about how its mismatch shows, decided once.

Pure functions of (problem, output activation, loss) and plain data; the UI only words them.
Every promise here is pinned by a test that trains the runs (tests/test_demonstration.py).
"""

from __future__ import annotations

import numpy as np

from explorer import activations, datasets, losses, pairing
from explorer.config import Config, default_for

SATURATED_START = {"init_scale": 10.0, "optimizer": "sgd", "lr": 0.5, "hidden": (16,),
                   "epochs": 100, "batch_size": 32}
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
                "softmax": ("p_j(δ_jk − p_k) (the softmax's Jacobian)", 0.25)}
"""The factor a saturating output multiplies every gradient by (its derivative), and its
largest value (at z = 0)."""

def output_meaning(problem: str, activation: str, loss: str) -> str:
    """What the network's output is: 'probability', 'score' or 'output' (or 'prediction').

    A probability needs an output in [0, 1] and a loss whose minimiser is the class
    probability (cross-entropy, or MSE: the Brier score). Margin losses give a score whose
    sign is the class. Anything else (MAE's median, focal loss's re-weighted estimate, a
    linear or tanh output under MSE) is just an output, whatever its range.
    """
    if problem in ("regression", "counts"):
        return "prediction"
    loss_obj = losses.get(loss)
    if loss_obj.margin:
        return "score"
    probability_outputs = ("sigmoid",) if problem == "binary" else ("softmax",)
    if activation in probability_outputs and loss_obj.proper:
        return "probability"
    return "output"


def failure_kind(problem: str, activation: str, loss: str) -> str | None:
    """How a mismatched pair fails, or None for a matched or invalid pair.

    'range': the output cannot reach the targets (a bounded or positive output for
    regression, a bounded one for counts, a never-negative score for a ±1 margin).
    'saturation': a saturating output whose gradient vanishes when confidently wrong (small
    initial weights rarely start there). 'other': anything else (wrong noise model, a
    ReLU's dead zone). Read off ``pairing.failure_kinds``; None for a typed formula (no
    table row: its three answers speak for it).
    """
    if loss == losses.CUSTOM:
        return None
    kinds = pairing.failure_kinds(problem, activation, loss)
    if not kinds:
        return None
    non_negative_margin = ("margin" in kinds and problem == "binary"
                           and activation in pairing.NON_NEGATIVE)
    if "range" in kinds or non_negative_margin:
        return "range"
    if activation in pairing.SATURATING and "vanishing" in kinds:
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
    start = saturated_scenario(problem, *pairing.DEFAULT_PAIR[problem])
    return (f"initial weights × {start.init_scale:g}, plain SGD at learning rate "
            f"{start.lr:g}, one hidden layer of {start.hidden[0]} units, "
            f"{datasets.get(config.dataset).label.lower()}, seed {config.seed}")


def targets_out_of_reach(activation: str, y) -> int:
    """How many targets lie outside the closure of the activation's output range."""
    lo, hi = activations.get(activation).output_range
    y = np.asarray(y, dtype=float)
    return int(np.sum((y < lo) | (y > hi)))
