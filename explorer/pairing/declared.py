"""What is declared: the matched pairs, one row each, and what the app says a problem asks for.

``LINKS`` is the single declaration of which (problem, activation, loss) triples are matched;
``matched_activations``, ``DEFAULT_PAIR`` and the LaTeX of ``gradient_at_z`` are derived from
it. It is not the judge: the three measured answers (``measured``) decide every verdict, and
the tests hold this table, the answers and an independent textbook table to one another.
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
ESTIMATES = {
    "regression": "a centre of y (its conditional mean, median or a quantile)",
    "binary": "the probability of class 1",
    "multiclass": "the probability of each class",
    "counts": "the mean count (the rate)",
}
"""What each problem asks the output for, in words (question 1). Classes: through a
probability output; through a free score a margin loss's class (the sign of the score, or
the highest one) answers it too."""


@dataclass(frozen=True)
class Link:
    """A matched (activation, loss) pair for one problem: the table's one row type."""

    problem: str
    activation: str
    loss: str
    grad_z: str
    """LaTeX of dL/dz for one sample."""
    estimates: str
    """What the loss's optimum estimates through this output (question 1)."""
    canonical: bool = False
    """True when dL/dz is (a multiple of) p - y: the canonical link of the likelihood."""
    default: bool = False
    """The problem's default pair (exactly one per problem)."""


LINKS: tuple[Link, ...] = (
    Link(problem="regression", activation="linear", loss="mse", grad_z=r"2(p - y)",
         estimates="the conditional mean", canonical=True, default=True),
    Link(problem="regression", activation="linear", loss="mae",
         grad_z=r"\operatorname{sign}(p - y)", estimates="the conditional median"),
    Link(problem="regression", activation="linear", loss="huber",
         grad_z=r"\operatorname{clip}(p - y, -\delta, \delta)",
         estimates="a robust centre (an M-estimate): the mean and median for symmetric "
                   "noise, usually between them for skewed noise"),
    Link(problem="regression", activation="linear", loss="log_cosh", grad_z=r"\tanh(p - y)",
         estimates="a robust centre (an M-estimate): the mean and median for symmetric "
                   "noise, usually between them for skewed noise"),
    Link(problem="binary", activation="sigmoid", loss="bce", grad_z=r"p - y",
         estimates="the probability of class 1", canonical=True, default=True),
    Link(problem="binary", activation="linear", loss="hinge", grad_z=r"-s\,[s\,p < 1]",
         estimates="the class, as the sign of the score"),
    Link(problem="binary", activation="linear", loss="squared_hinge",
         grad_z=r"-2s\max(0, 1 - s\,p)", estimates="the class, as the sign of the score"),
    Link(problem="multiclass", activation="softmax", loss="cce", grad_z=r"p_j - y_j",
         estimates="the probability of each class", canonical=True, default=True),
    Link(problem="multiclass", activation="softmax", loss="sparse_cce",
         grad_z=r"p_j - [j = y]", estimates="the probability of each class", canonical=True),
    Link(problem="multiclass", activation="softmax", loss="kld", grad_z=r"p_j - y_j",
         estimates="the probability of each class", canonical=True),
    Link(problem="multiclass", activation="linear", loss="categorical_hinge",
         grad_z=r"[\text{margin violated}]\,(e_{j^*} - e_{y})",
         estimates="the class, as the highest score, where one class has more than half "
                   "the probability (with no majority its minimum is at equal scores)"),
    Link(problem="counts", activation="exp", loss="poisson", grad_z=r"p - y",
         estimates="the mean count", canonical=True, default=True),
    Link(problem="counts", activation="softplus", loss="poisson",
         grad_z=r"\left(1 - \tfrac{y}{p}\right)\sigma(z)", estimates="the mean count"),
    Link(problem="regression", activation="linear", loss="pinball",
         grad_z=r"\begin{cases} -\tau & y > p \\ 1 - \tau & y < p\end{cases}",
         estimates="the conditional τ-quantile of y (τ = 0.5: the median)"),
    Link(problem="regression", activation="linear", loss="gaussian_nll",
         grad_z=r"\begin{pmatrix} (p - y)\,e^{-s} \\ \tfrac12\left(1 - (y - p)^2 e^{-s}"
                r"\right) \end{pmatrix}",
         estimates="the conditional mean of y and, through the second unit, its variance"),
)
_LINKS = {(link.problem, link.activation, link.loss): link for link in LINKS}

CLOSED_FORMS: dict[tuple[str, str], str] = {
    ("sigmoid", "focal"): (r"s\left[\gamma\,p_t(1 - p_t)^{\gamma}\log p_t - (1 - p_t)^{\gamma + 1}"
                           r"\right],\ s = 2y - 1"),
}
"""dL/dz of a pair the engine computes in z although it is not matched (focal loss is not
proper: its optimum is not P(y = 1)); shown instead of the chain written out."""
DEFAULT_PAIR: dict[str, tuple[str, str]] = {
    link.problem: (link.activation, link.loss) for link in LINKS if link.default}

SATURATING = ("sigmoid", "tanh", "softmax")
NON_NEGATIVE = ("sigmoid", "softplus", "exp", "relu")
CATEGORICAL_CE = ("cce", "sparse_cce", "kld")
NUMERIC_LOSSES = ("mse", "mae", "huber", "log_cosh")




def matched_activations(loss: str, problem: str | None = None) -> tuple[str, ...]:
    """Output activations matched with ``loss`` (for ``problem``, or for any problem)."""
    return tuple(dict.fromkeys(link.activation for link in LINKS if link.loss == loss and (
        problem is None or link.problem == problem)))


def link(problem: str, activation: str, loss: str) -> Link | None:
    """The table's row for a matched triple, or None."""
    return _LINKS.get((problem, activation, loss))


def gradient_at_z(activation: str, loss: str | losses.Loss, problem: str | None = None) -> str:
    """LaTeX for d loss / d z of one sample, z the output pre-activation.

    A matched pair's own simplified form; otherwise the chain rule written out:
    dL/dp (the loss's formula) times a'(z) (the activation's), which is what the engine
    computes. Softmax's a'(z) is a Jacobian, so its product is a sum over k. ``loss`` may be
    a ``Loss`` (a typed formula: its own dL/dp, in brackets).
    """
    act, loss_obj = activations.get(activation), losses.get(loss)
    if (activation, loss_obj.key) in CLOSED_FORMS:
        return CLOSED_FORMS[(activation, loss_obj.key)]
    for row in LINKS:
        if (row.activation, row.loss) == (activation, loss_obj.key) and (
                problem in (None, row.problem)):
            return row.grad_z
    if not act.elementwise:
        return (rf"\sum_k \frac{{\partial L}}{{\partial p_k}}\,{act.derivative_formula},"
                rf"\quad \frac{{\partial L}}{{\partial p_k}} = {loss_obj.grad_formula}")
    dp = loss_obj.grad_formula
    if act.key == "linear":
        return dp
    if "begin{cases}" in dp or "frac" in dp or loss_obj.key == losses.CUSTOM:
        dp = rf"\left({dp}\right)"
    return rf"{dp}\cdot {act.derivative_formula}"



RIVALS = {
    "binary": (("sigmoid", "bce"), ("sigmoid", "mse"), ("linear", "hinge")),
    "multiclass": (("softmax", "cce"), ("softmax", "mse"), ("linear", "categorical_hinge")),
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
