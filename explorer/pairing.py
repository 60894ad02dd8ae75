"""Which output activation goes with which loss, for which problem, and why.

Every (problem, output activation, loss) triple gets a verdict:
- ``matched``: the activation is the loss's natural link for this kind of target; the gradient
  at the output pre-activation is well shaped (for canonical pairs exactly p - y);
- ``mismatched``: it trains, but something is off (vanishing gradients, unreachable targets,
  wrong noise model) and the reason says what;
- ``invalid``: the loss is undefined for some outputs the activation can produce, or the
  targets do not fit the loss; a run shows where it breaks (NaN at epoch k).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer import activations, losses

PROBLEM_LABELS = {
    "regression": "Regression",
    "binary": "Binary classification",
    "multiclass": "Multi-class classification",
    "counts": "Count regression (Poisson)",
}
DEFAULT_PAIR = {
    "regression": ("linear", "mse"),
    "binary": ("sigmoid", "bce"),
    "multiclass": ("softmax", "cce"),
    "counts": ("exp", "poisson"),
}
NATURAL = {
    "regression": {("linear", "mse"), ("linear", "mae"), ("linear", "huber"),
                   ("linear", "log_cosh")},
    "binary": {("sigmoid", "bce"), ("sigmoid", "focal"), ("tanh", "hinge"),
               ("linear", "hinge"), ("tanh", "squared_hinge"), ("linear", "squared_hinge")},
    "multiclass": {("softmax", "cce"), ("softmax", "sparse_cce"), ("softmax", "kld"),
                   ("linear", "categorical_hinge"), ("softmax", "categorical_hinge")},
    "counts": {("exp", "poisson"), ("softplus", "msle"), ("exp", "msle"),
               ("softplus", "poisson")},
}
CANONICAL = {("linear", "mse"), ("sigmoid", "bce"), ("softmax", "cce"),
             ("softmax", "sparse_cce"), ("exp", "poisson")}
"""Pairs whose gradient at the pre-activation is exactly (a multiple of) p - y."""

SATURATING = {"sigmoid", "tanh"}
MARGIN = {"hinge", "squared_hinge"}
"""Binary margin losses: labels read as -1 / +1, the class is the sign of the output."""
TARGET_RANGE = {
    "regression": (-float("inf"), float("inf")),
    "binary": (0.0, 1.0),
    "multiclass": (0.0, 1.0),
    "counts": (0.0, float("inf")),
}


@dataclass(frozen=True)
class Pairing:
    verdict: str
    """'matched', 'mismatched' or 'invalid'."""
    headline: str
    reason: str


def check(problem: str, activation: str, loss: str) -> Pairing:
    """The verdict and a short explanation for one (problem, activation, loss) triple."""
    if problem not in losses.PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: "
                         f"{', '.join(losses.PROBLEMS)}")
    act = activations.get(activation)
    lo_obj = losses.get(loss)
    if activation not in activations.OUTPUT_ACTIVATIONS:
        raise ValueError(f"{activation!r} is not an output activation; choose one of: "
                         f"{', '.join(activations.OUTPUT_ACTIVATIONS)}")
    a_lo, a_hi = act.output_range
    l_lo, l_hi = lo_obj.prediction_range

    if problem not in lo_obj.problems:
        return Pairing("invalid", f"{lo_obj.label} does not fit {_lower(problem)}",
                       f"{lo_obj.label} expects {lo_obj.target_encoding}; "
                       f"{_lower(problem)} targets are not that. It is for: "
                       f"{', '.join(_lower(p) for p in lo_obj.problems)}.")
    if activation == "softmax" and problem != "multiclass":
        return Pairing("invalid", "Softmax over one unit is always 1",
                       "Softmax normalizes across output units. With a single output it "
                       "returns 1 whatever the input, so the network cannot learn anything: "
                       "the loss stays flat and the gradient is exactly zero.")
    if a_lo < l_lo or a_hi > l_hi:
        return Pairing("invalid", f"{act.label} outputs can leave {lo_obj.label}'s domain",
                       _domain_reason(act, lo_obj))

    natural = (activation, loss) in NATURAL[problem]
    if natural:
        grad = ("exactly p − y" if (activation, loss) in CANONICAL
                else "well scaled, never vanishing where the prediction is wrong")
        if loss in ("hinge", "squared_hinge"):
            grad = "±1 (or 0 once the margin is met): no saturation before the margin"
        return Pairing("matched", f"{act.label} + {lo_obj.label}: a matched pair",
                       f"{_likelihood_sentence(lo_obj)} {act.label} maps the pre-activation z "
                       f"onto the predictions this loss expects ({_range(act)}), and the "
                       f"gradient at z is {grad}.")
    return Pairing("mismatched", _mismatch_headline(problem, act, lo_obj),
                   _mismatch_reason(problem, act, lo_obj))


def matched_activation(problem: str, loss: str) -> str:
    """The output activation that best matches ``loss`` for ``problem``."""
    for activation, key in sorted(NATURAL[problem]):
        if key == loss and (activation, key) in CANONICAL:
            return activation
    for activation in losses.get(loss).matched_activations:
        if (activation, loss) in NATURAL[problem]:
            return activation
    return losses.get(loss).matched_activations[0]


def gradient_at_z(activation: str, loss: str) -> str:
    """LaTeX for d loss / d z of one sample, z the output pre-activation."""
    known = {
        ("linear", "mse"): r"2(p - y)",
        ("sigmoid", "bce"): r"p - y",
        ("softmax", "cce"): r"p_j - y_j",
        ("softmax", "sparse_cce"): r"p_j - [j = y]",
        ("exp", "poisson"): r"p - y",
        ("sigmoid", "mse"): r"2(p - y)\,p\,(1 - p)",
        ("tanh", "mse"): r"2(p - y)\,(1 - p^2)",
        ("linear", "mae"): r"\operatorname{sign}(p - y)",
        ("sigmoid", "mae"): r"\operatorname{sign}(p - y)\,p\,(1 - p)",
        ("linear", "hinge"): r"-s\,[s\,p < 1]",
        ("tanh", "hinge"): r"-s\,(1 - p^2)\,[s\,p < 1]",
        ("softplus", "poisson"): r"\left(1 - \tfrac{y}{p}\right)\sigma(z)",
        ("linear", "huber"): r"\operatorname{clip}(p - y, -\delta, \delta)",
        ("linear", "log_cosh"): r"\tanh(p - y)",
        ("exp", "mse"): r"2(p - y)\,p",
    }
    if (activation, loss) in known:
        return known[(activation, loss)]
    derivative = {"linear": "1", "sigmoid": "p(1 - p)", "tanh": "1 - p^2", "exp": "p",
                  "softplus": r"\sigma(z)", "relu": "[z > 0]"}.get(activation)
    if derivative is None:  # softmax: not element-wise
        return r"J_{\text{softmax}}^{\top}\,\frac{\partial L}{\partial p}"
    return rf"\frac{{\partial L}}{{\partial p}} \cdot {derivative}"


def _lower(problem: str) -> str:
    return PROBLEM_LABELS[problem].lower()


def _range(act: activations.Activation) -> str:
    lo, hi = act.output_range
    show = {float("inf"): "∞", -float("inf"): "−∞"}
    return f"outputs in ({show.get(lo, f'{lo:g}')}, {show.get(hi, f'{hi:g}')})"


def _likelihood_sentence(loss: losses.Loss) -> str:
    if loss.likelihood.startswith("none"):
        return f"{loss.label} is not a likelihood ({loss.likelihood[6:]})."
    return (f"{loss.label} is the negative log-likelihood of this model of the targets: "
            f"{loss.likelihood}.")


def _a(word: str) -> str:
    """'a sigmoid', 'an exponential'."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


CROSS_ENTROPIES = {"cce", "sparse_cce", "kld"}
"""Losses whose slope 1/p cancels a sigmoid's flatness on the true class."""
NUMERIC_LOSSES = {"mse", "mae", "huber", "log_cosh"}


def _domain_reason(act: activations.Activation, loss: losses.Loss) -> str:
    lo, hi = loss.prediction_range
    if lo == 0 and hi == 1:
        need = "a probability in [0, 1], because it takes log p (and log(1 − p))"
    else:
        need = "a non-negative prediction, because it takes log p"
    return (f"{loss.label} needs {need}. {_a(act.label.lower()).capitalize()} output has "
            f"{_range(act)}, so "
            f"as soon as one prediction leaves that range the loss is undefined and training "
            f"stops with NaN. Use {' or '.join(loss.matched_activations)} instead.")


def _mismatch_headline(problem: str, act, loss) -> str:
    t_lo, t_hi = TARGET_RANGE[problem]
    a_lo, a_hi = act.output_range
    if loss.key in MARGIN and a_lo >= 0:
        return f"{act.label} never reaches the −1 side of the margin"
    if problem == "regression" and (a_lo > t_lo or a_hi < t_hi):
        return f"{act.label} cannot reach every target"
    if problem == "multiclass" and act.key == "sigmoid" and loss.key in CROSS_ENTROPIES:
        return "Works, but the wrong classes are never pushed down"
    if act.key in SATURATING and loss.key not in ("bce", "focal"):
        return "Works, but gradients vanish when the output saturates"
    if act.key == "relu":
        return "Works, but a negative pre-activation gets no gradient"
    if loss.key in NUMERIC_LOSSES and problem in ("binary", "multiclass"):
        return f"Works, but {loss.label} treats class labels as numbers"
    if loss.key in NUMERIC_LOSSES and problem == "counts":
        return f"Works, but {loss.label} ignores how count noise grows"
    return f"Works, but {act.label} is not {loss.label}'s natural partner"


def _mismatch_reason(problem: str, act, loss) -> str:
    parts = []
    t_lo, t_hi = TARGET_RANGE[problem]
    a_lo, a_hi = act.output_range
    if loss.key in MARGIN and a_lo >= 0:
        parts.append(f"{loss.label} reads the labels as −1 and +1 and classifies by the sign "
                     f"of the output, but {act.label} outputs are never negative: every point "
                     "lands on the +1 side or at best on the boundary at 0, so class 0 is only "
                     "predicted by that tie and its loss never drops below 1. Use tanh or "
                     "linear.")
    if problem == "regression" and (a_lo > t_lo or a_hi < t_hi):
        parts.append(f"{_a(act.label.lower()).capitalize()} output has {_range(act)}, but "
                     "regression "
                     "targets can be any real number: targets outside that range can never be "
                     "fitted, and the error there never goes away.")
    if problem == "multiclass" and act.key == "sigmoid" and loss.key in CROSS_ENTROPIES:
        parts.append(f"{loss.label} only reads the true class's output, and with a sigmoid "
                     "each output has its own unit: the true class is pulled up (its 1/p "
                     "cancels the sigmoid's flatness, so that gradient does not vanish), but "
                     "the wrong classes get exactly zero gradient, so nothing pushes them "
                     "down and the outputs need not sum to 1. Softmax ties them together.")
    elif act.key in SATURATING:
        parts.append(f"{act.label} flattens out for large |z|, and the gradient at z is "
                     f"(dL/dp)·a′(z) = ${gradient_at_z(act.key, loss.key)}$: when the unit "
                     "saturates on the wrong side — a confidently wrong answer — that factor "
                     "is nearly 0, so the network barely learns from its worst mistakes "
                     "(plateaus).")
    elif act.key == "relu":
        parts.append("ReLU outputs exactly 0 for negative z, where its gradient is 0: a "
                     "prediction stuck there stops learning.")
    elif act.key in ("exp", "softplus") and problem != "counts":
        parts.append(f"{act.label} keeps predictions positive, which these targets "
                     "do not need.")
    if loss.key in NUMERIC_LOSSES and problem in ("binary", "multiclass"):
        beyond = (" and it punishes a confident correct answer that overshoots the label"
                  if a_lo < 0 or a_hi > 1 else "")
        parts.append(f"{loss.label} treats the 0/1 labels as real numbers with "
                     f"{'Gaussian' if loss.key == 'mse' else 'symmetric'} noise. It trains, "
                     f"but the outputs are not calibrated probabilities{beyond}.")
    if loss.key in NUMERIC_LOSSES and problem == "counts":
        parts.append(f"{loss.label} assumes the same noise at every level, but count noise "
                     "grows with the mean (Poisson); large counts dominate the fit.")
    if loss.key == "msle" and problem == "regression":
        parts.append("MSLE compares log(1 + y): it is meant for non-negative targets; "
                     "targets below 0 are clipped to 0.")
    if problem == "multiclass" and act.key == "sigmoid" and loss.key not in CROSS_ENTROPIES:
        parts.append("Sigmoid scores each class on its own, so the outputs need not sum to 1 "
                     "and the classes do not compete as softmax makes them.")
    if not parts:
        parts.append(f"{act.label} is not the natural link for {loss.label} "
                     f"(usually {', '.join(loss.matched_activations)}): the gradient at z is "
                     f"${gradient_at_z(act.key, loss.key)}$ rather than a clean p − y.")
    return " ".join(parts)


RIVALS = {
    "binary": (("sigmoid", "bce"), ("sigmoid", "mse"), ("tanh", "hinge")),
    "multiclass": (("softmax", "cce"), ("softmax", "mse"), ("sigmoid", "cce")),
    "regression": (("linear", "mse"), ("linear", "mae"), ("linear", "huber")),
    "counts": (("exp", "poisson"), ("linear", "mse"), ("softplus", "poisson")),
}
"""Pairs worth racing against each other, per problem (the matched pair first)."""


def rivals(problem: str, activation: str, loss: str, most: int = 3) -> list[tuple[str, str]]:
    """The chosen pair, then the problem's usual rivals, without repeats."""
    pairs = [(activation, loss)]
    for pair in RIVALS[problem]:
        if pair not in pairs:
            pairs.append(pair)
    return pairs[:most]


def matrix(problem: str) -> dict[tuple[str, str], Pairing]:
    """Verdicts for every (output activation, loss) serving ``problem``."""
    return {(a, key): check(problem, a, key)
            for a in activations.OUTPUT_ACTIVATIONS for key in losses.for_problem(problem)}
