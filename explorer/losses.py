"""Loss functions: each value paired with its derivative, plus what the app says about it.

Conventions, written once:
- ``value(y_true, y_pred)`` is the **mean over samples** of the per-sample loss. Per sample,
  regression-style losses average over output units (Keras ``axis=-1``); categorical losses
  sum over classes.
- ``grad(y_true, y_pred)`` is d value / d y_pred, same shape as ``y_pred`` (so it includes 1/n).
- ``EPSILON = 1e-7`` clipping as Keras does it (BCE, focal, categorical CE, KL, MSLE), but
  only *inside* a loss's valid prediction range: a prediction outside it (a negative
  "probability" from a linear output, say) has no likelihood, and the loss returns NaN
  there instead of silently clipping it away, as PyTorch refuses such inputs. That NaN is
  what the trainer reports as divergence.
- Where the formula is clipped, ``grad`` is the formula's derivative at the clipped value.
- The Poisson loss is not clipped: p - y log p needs p > 0 (``open_low``), as PyTorch's
  ``PoissonNLLLoss(log_input=False)`` without eps.
- A clip changes the math where it is active, so the pairs the app calls matched are computed
  from the pre-activation z (``FUSED``, ``LOGIT_PATHS``): the trainer's gradient there is the
  closed form at any z.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from explorer.activations import EXP_CLIP

Array = np.ndarray
EPSILON = 1e-7
LOG2 = float(np.log(2.0))

PROBLEMS = ("regression", "binary", "multiclass", "counts")


@dataclass(frozen=True)
class Loss:
    """A loss with its value and derivative side by side, and the metadata the app shows.

    Which output activations a loss is *matched* with is not a property of the loss alone
    (it depends on the problem): the pairing table in ``explorer.pairing`` declares it.
    """

    key: str
    label: str
    formula: str
    """LaTeX for one sample, with p the prediction and y the target."""
    grad_formula: str
    """LaTeX for d loss / d p of one sample."""
    likelihood: str | None
    """The distribution of the targets this loss is the negative log-likelihood of (up to
    scale and constants), or None when it is not a likelihood (see ``why_not_likelihood``)."""
    problems: tuple[str, ...]
    target_encoding: str
    prediction_range: tuple[float, float]
    """Interval of predictions the loss is defined for (closed unless ``open_low``); outside
    it value is NaN."""
    note: str
    _elements: Callable[..., tuple[Array, Array]] = field(repr=False)
    """(y, p, **params) -> (values, derivatives). Element-wise losses return arrays shaped
    like p; ``rowwise`` losses return per-sample values (n,) and derivatives (n, k)."""
    reduce: str = "mean"
    """How element values combine within one sample: "mean" or "sum" over output units."""
    rowwise: bool = False
    """True for a loss that is not a sum of per-unit terms (categorical hinge)."""
    sparse_targets: bool = False
    """True when y_true holds integer class labels rather than one row per output unit."""
    margin: bool = False
    """A margin loss: reads labels as -1 / +1 and classifies by the sign of a score."""
    proper: bool = False
    """On class labels, a proper scoring rule: minimised by the true class probabilities
    (cross-entropy; MSE, which is the Brier score there)."""
    why_not_likelihood: str = ""
    needs_nonnegative_targets: str = ""
    """Why the targets must be >= 0 in their own units (empty when any real target goes)."""
    params: dict = field(default_factory=dict)
    open_low: bool = False
    """True when the lower end of ``prediction_range`` is itself outside (log p at p = 0)."""
    outputs_per_target: ClassVar[int] = 1
    """Output units the loss reads per target column: 1, or 2 for a ``LocationScaleLoss``."""

    @property
    def decision_threshold(self) -> float:
        """Where one output unit separates the classes: 0 for a margin score, else 0.5."""
        return 0.0 if self.margin else 0.5

    @property
    def likelihood_sentence(self) -> str:
        """One sentence on what the loss is the negative log-likelihood of, if anything."""
        if self.likelihood is None:
            return f"{self.label} is not a likelihood: {self.why_not_likelihood}."
        return f"{self.label} is the negative log-likelihood of {self.likelihood}."

    def with_params(self, **params) -> Loss:
        """A copy with some parameters changed (e.g. huber's delta, focal's gamma)."""
        unknown = set(params) - set(self.params)
        if unknown:
            valid = ", ".join(self.params) or "none"
            raise ValueError(f"{self.key} has no parameter {sorted(unknown)}; valid: {valid}")
        return dataclasses.replace(self, params={**self.params, **params})

    def value(self, y_true, y_pred) -> float:
        """Mean loss over samples."""
        y, p, _ = self._prepare(y_true, y_pred)
        return float(np.mean(self.per_sample_from(y, p)))

    def per_sample(self, y_true, y_pred) -> Array:
        """Loss of each sample, shape (n,)."""
        y, p, _ = self._prepare(y_true, y_pred)
        return self.per_sample_from(y, p)

    def grad(self, y_true, y_pred) -> Array:
        """d value / d y_pred, same shape as y_pred."""
        y, p, shape = self._prepare(y_true, y_pred)
        return self.value_and_grad(y, p)[1].reshape(shape)

    def value_and_grad(self, y: Array, p: Array) -> tuple[float, Array]:
        """Both at once for 2-D p (n, k) and y already encoded; the trainer's hot path."""
        values, derivs = self._checked(y, p)
        n, k = p.shape
        scale = n * k if self.reduce == "mean" and not self.rowwise else n
        return float(values.sum()) / scale, derivs / scale

    def per_sample_from(self, y: Array, p: Array) -> Array:
        """Loss of each sample (n,) for 2-D p (n, k) and y already encoded."""
        values, _ = self._checked(y, p)
        if self.rowwise:
            return values
        return values.mean(axis=1) if self.reduce == "mean" else values.sum(axis=1)

    def _checked(self, y: Array, p: Array) -> tuple[Array, Array]:
        """The loss's own (values, derivatives), NaN where p is outside the domain."""
        with np.errstate(all="ignore"):
            values, derivs = self._elements(y, p, **self.params)
            bad = self._outside(p)
            if bad is not None:
                derivs = np.where(bad, np.nan, derivs)
                values = np.where(bad.any(axis=1) if self.rowwise else bad, np.nan, values)
        return values, derivs

    def _outside(self, p: Array):
        lo, hi = self.prediction_range
        if lo == -np.inf and hi == np.inf:
            return None
        below = (p <= lo) if self.open_low else (p < lo)
        return below | (p > hi) | np.isnan(p)

    def outside(self, p: Array) -> Array:
        """True where a prediction is outside the loss's domain (element-wise)."""
        bad = self._outside(np.asarray(p, dtype=float))
        return np.zeros(np.shape(p), dtype=bool) if bad is None else bad

    @property
    def range_text(self) -> str:
        """The domain of the predictions, e.g. "(0, ∞)" or "[0, 1]"."""
        lo, hi = self.prediction_range

        def show(v):
            return "∞" if v == np.inf else "−∞" if v == -np.inf else f"{v:g}"
        left = "(" if self.open_low or lo == -np.inf else "["
        right = ")" if hi == np.inf else "]"
        return f"{left}{show(lo)}, {show(hi)}{right}"

    def _prepare(self, y_true, y_pred) -> tuple[Array, Array, tuple]:
        """Turn user-facing arrays into 2-D (n, k) predictions and matching targets."""
        p = np.asarray(y_pred, dtype=float)
        shape = p.shape
        p2 = p if p.ndim == 2 else p.reshape(len(p) if p.ndim else 1, -1)
        y = np.asarray(y_true)
        if self.sparse_targets:
            y = y.reshape(-1).astype(np.int64)
            if len(y) != len(p2) or np.any((y < 0) | (y >= p2.shape[1])):
                raise ValueError(
                    f"{self.key} needs integer class labels 0..{p2.shape[1] - 1}, one per row"
                )
            return y, p2, shape
        y = y.astype(float)
        if self.reduce == "sum" and y.ndim == 1 and p2.shape[1] > 1:
            y = one_hot(y.astype(np.int64), p2.shape[1])
        y = y.reshape(p2.shape) if y.size == p2.size else y
        if y.shape != p2.shape:
            raise ValueError(f"targets of shape {y.shape} do not match predictions {shape}")
        return y, p2, shape


def one_hot(labels: Array, k: int) -> Array:
    """Integer labels (n,) -> one-hot float rows (n, k)."""
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def to_plus_minus_one(y: Array) -> Array:
    """Hinge labels: {0, 1} mapped to {-1, +1}; labels already in {-1, 1} kept."""
    return np.where(y > 0, 1.0, -1.0)


# Element-wise (values, derivatives) for each loss; y and p shaped (n, k).

def _mse(y, p):
    e = p - y
    return e * e, 2.0 * e


def _mae(y, p):
    e = p - y
    return np.abs(e), np.sign(e)


def _huber(y, p, delta):
    e = p - y
    a = np.abs(e)
    small = a <= delta
    return (np.where(small, 0.5 * e * e, delta * (a - 0.5 * delta)),
            np.where(small, e, delta * np.sign(e)))


def _log_cosh(y, p):
    e = p - y
    # log cosh e = |e| + log(1 + exp(-2|e|)) - log 2, stable for large |e|
    a = np.abs(e)
    return a + np.log1p(np.exp(-2.0 * a)) - LOG2, np.tanh(e)


def _msle(y, p):
    pc = np.maximum(p, EPSILON)
    d = np.log1p(pc) - np.log1p(np.maximum(y, EPSILON))
    return d * d, np.where(p >= EPSILON, 2.0 * d / (1.0 + pc), 0.0)


def _poisson(y, p):
    """p - y log p with 0 log 0 = 0, unclipped: infinite at p = 0 when y > 0."""
    log_term = np.where(y == 0, 0.0, y * np.log(p))
    return p - log_term, 1.0 - np.where(y == 0, 0.0, y / p)


def _bce(y, p):
    pc = np.clip(p, EPSILON, 1.0 - EPSILON)
    return (-(y * np.log(pc) + (1.0 - y) * np.log1p(-pc)),
            (pc - y) / (pc * (1.0 - pc)))


def _focal(y, p, gamma, alpha):
    pc = np.clip(p, EPSILON, 1.0 - EPSILON)
    bce, dbce = _bce(y, pc)
    pt = y * pc + (1.0 - y) * (1.0 - pc)
    factor = (1.0 - pt) ** gamma
    dfactor = -gamma * (1.0 - pt) ** (gamma - 1.0) * (2.0 * y - 1.0) if gamma else 0.0
    values, derivs = factor * bce, dfactor * bce + factor * dbce
    if alpha is not None:
        weight = y * alpha + (1.0 - y) * (1.0 - alpha)
        values, derivs = weight * values, weight * derivs
    return values, derivs


def _hinge(y, p):
    s = to_plus_minus_one(y)
    margin = 1.0 - s * p
    return np.maximum(margin, 0.0), np.where(margin > 0, -s, 0.0)


def _squared_hinge(y, p):
    s = to_plus_minus_one(y)
    m = np.maximum(1.0 - s * p, 0.0)
    return m * m, -2.0 * s * m


def _cce(y, p):
    pc = np.clip(p, EPSILON, 1.0 - EPSILON)
    return -y * np.log(pc), -y / pc


def _sparse_cce(labels, p):
    return _cce(one_hot(labels, p.shape[1]), p)


def _kld(y, p):
    yc = np.clip(y, EPSILON, 1.0)
    pc = np.clip(p, EPSILON, 1.0)
    return yc * np.log(yc / pc), np.where(p <= 1.0, -yc / pc, 0.0)


def _categorical_hinge(y, p):
    """Row-wise: values (n,), derivatives (n, k). As Keras computes it, the runner-up score
    is max_j (1 - y_j) p_j, so the true class enters that max as 0."""
    rows = np.arange(len(p))
    pos = np.sum(y * p, axis=1)
    others = (1.0 - y) * p
    worst = np.argmax(others, axis=1)
    excess = others[rows, worst] - pos + 1.0
    active = excess > 0
    derivs = -y * active[:, None]
    derivs[rows, worst] += active * (1.0 - y[rows, worst])
    return np.maximum(excess, 0.0), derivs


def class_weight(y: Array, alpha: float | None) -> Array | float:
    """α for class-1 targets, 1 − α for class-0 targets (Lin et al. 2017); 1 when α is None."""
    if alpha is None:
        return 1.0
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"the class weight alpha must be between 0 and 1 (the weight of "
                         f"class 1; class 0 gets 1 - alpha); got {alpha}")
    return y * alpha + (1.0 - y) * (1.0 - alpha)


def _weighted_bce(y, p, alpha):
    values, derivs = _bce(y, p)
    weight = class_weight(y, alpha)
    return weight * values, weight * derivs


def _pinball(y, p, tau):
    if not 0.0 < tau < 1.0:
        raise ValueError(f"pinball's tau (the quantile level) must be between 0 and 1; "
                         f"got {tau}")
    e = y - p
    # at p = y the subgradient 0 (as MAE's sign(0) = 0): then pinball(0.5) = MAE / 2 exactly
    return (np.maximum(tau * e, (tau - 1.0) * e),
            np.where(e > 0, -tau, np.where(e < 0, 1.0 - tau, 0.0)))


VAR_FLOOR = 1e-6
"""The smallest variance the Gaussian NLL divides by (``torch.nn.GaussianNLLLoss``'s eps)."""
LOG_VAR_FLOOR = float(np.log(VAR_FLOOR))


def _gaussian_nll(y, p):
    """y (n, k); p (n, 2k) = [means, log-variances s]: values (n, k), derivatives (n, 2k).

    The variance is e^s clamped below at VAR_FLOOR. The derivatives are the clamped loss's
    own: for the mean the formula at the clamped variance, for s zero below the floor (the
    loss is flat there; PyTorch passes the formula's slope through its clamp instead)."""
    k = y.shape[1]
    mean, s = p[:, :k], p[:, k:]
    s_clamped = np.maximum(s, LOG_VAR_FLOOR)
    inverse_var = np.exp(-s_clamped)
    r = y - mean
    scaled = r * r * inverse_var
    return (0.5 * (s_clamped + scaled),
            np.concatenate([-r * inverse_var,
                            np.where(s >= LOG_VAR_FLOOR, 0.5 * (1.0 - scaled), 0.0)], axis=1))


@dataclass(frozen=True)
class LocationScaleLoss(Loss):
    """A loss that reads two output units per target column (``outputs_per_target = 2``).

    For k target columns p is (n, 2k): the first k units are the location (the prediction
    p, after the network's output activation); the next k are a raw scale s that the loss
    maps itself (here the log-variance, σ² = e^s), so no output activation touches them.
    ``value`` and ``grad`` take y (n,) or (n, k) and p (n, 2k); the value is the mean over
    samples and target columns, as for every other loss. ``Objective`` does the split.
    """

    scale_grad_formula: str = ""
    """LaTeX for d loss / d s of one sample, s the raw scale unit."""
    outputs_per_target: ClassVar[int] = 2

    def value_and_grad(self, y: Array, p: Array) -> tuple[float, Array]:
        values, derivs = self._checked(y, p)
        return float(values.sum()) / values.size, derivs / values.size

    def split(self, p: Array) -> tuple[Array, Array]:
        """(location, σ) from outputs p (..., 2k), each (..., k)."""
        k = p.shape[-1] // 2
        with np.errstate(over="ignore"):
            return p[..., :k], np.exp(0.5 * np.maximum(p[..., k:], LOG_VAR_FLOOR))

    def _prepare(self, y_true, y_pred) -> tuple[Array, Array, tuple]:
        p = np.asarray(y_pred, dtype=float)
        shape = p.shape
        p2 = p.reshape(-1, p.shape[-1]) if p.ndim else p.reshape(1, 1)
        y = np.asarray(y_true, dtype=float)
        k = p2.shape[1] // 2
        if p2.shape[1] % 2 or y.size != len(p2) * k:
            raise ValueError(f"{self.key} reads two outputs per target (a mean and a "
                             f"log-variance): targets of shape {y.shape} need predictions "
                             f"of shape (n, 2k); got {shape}")
        return y.reshape(len(p2), k), p2, shape


R = (-np.inf, np.inf)
UNIT = (0.0, 1.0)
POSITIVE = (0.0, np.inf)
MARGIN_NOT_NLL = ("a margin loss, a convex stand-in for the 0-1 error that asks for a score on "
                  "the right side of a margin; no distribution of the targets gives it as its "
                  "negative log-likelihood")

LOSSES: dict[str, Loss] = {
    loss.key: loss
    for loss in [
        Loss(key="mse", label="Mean squared error",
             formula=r"(p - y)^2", grad_formula=r"2(p - y)",
             likelihood="Gaussian targets with mean p and a fixed variance (up to a scale and a "
                        "constant)",
             problems=PROBLEMS, target_encoding="real numbers", prediction_range=R,
             note="The default for regression; it estimates the conditional mean and squares "
                  "errors, so outliers pull hard.",
             _elements=_mse, proper=True),
        Loss(key="mae", label="Mean absolute error",
             formula=r"|p - y|", grad_formula=r"\operatorname{sign}(p - y)",
             likelihood="Laplace targets with location p and a fixed scale (up to a scale and "
                        "a constant)",
             problems=("regression", "counts"), target_encoding="real numbers",
             prediction_range=R,
             note="Estimates the conditional median, so it resists outliers; its gradient has "
                  "the same size near the optimum as far from it.",
             _elements=_mae),
        Loss(key="huber", label="Huber",
             formula=r"\begin{cases}\tfrac12 (p-y)^2 & |p-y|\le\delta\\"
                     r" \delta(|p-y| - \tfrac12\delta) & \text{otherwise}\end{cases}",
             grad_formula=r"\operatorname{clip}(p - y, -\delta, \delta)",
             likelihood="targets with density proportional to exp(−Huber(p − y)): Gaussian in "
                        "the centre, Laplace in the tails (Huber's least favourable "
                        "distribution; up to a constant)",
             problems=("regression", "counts"), target_encoding="real numbers",
             prediction_range=R,
             note="Squared for errors below δ, linear above: robust to outliers and smooth at "
                  "the optimum. δ is in the targets' units, so it should sit near the size of "
                  "the ordinary noise (about one standard deviation).",
             _elements=_huber, params={"delta": 1.0}),
        Loss(key="log_cosh", label="Log-cosh",
             formula=r"\log\cosh(p - y)", grad_formula=r"\tanh(p - y)",
             likelihood="targets with density proportional to 1 / cosh(p − y) (a hyperbolic "
                        "secant distribution: Gaussian-like centre, Laplace-like tails; up "
                        "to a constant)",
             problems=("regression", "counts"), target_encoding="real numbers",
             prediction_range=R,
             note="A smooth cousin of Huber with δ = 1: about (p − y)²/2 for small errors, "
                  "|p − y| − log 2 for large ones.",
             _elements=_log_cosh),
        Loss(key="msle", label="Mean squared log error",
             formula=r"\left(\log(1 + p) - \log(1 + y)\right)^2",
             grad_formula=r"\frac{2(\log(1+p) - \log(1+y))}{1 + p}",
             likelihood="Gaussian errors on log(1 + y) with mean log(1 + p) (up to a scale "
                        "and a constant)",
             problems=("regression", "counts"), target_encoding="non-negative numbers",
             prediction_range=R,
             note="For non-negative targets spanning orders of magnitude: it penalizes "
                  "ratios, not differences. As in Keras, predictions and targets below 0 are "
                  "clipped to 0 (zero gradient there).",
             _elements=_msle, needs_nonnegative_targets="MSLE compares log(1 + y)"),
        Loss(key="poisson", label="Poisson",
             formula=r"p - y \log p", grad_formula=r"1 - \frac{y}{p}",
             likelihood="Poisson counts with mean p (up to the constant log y!)",
             problems=("counts",), target_encoding="non-negative counts",
             prediction_range=POSITIVE, open_low=True,
             note="For counts, whose variance grows with their mean. It needs a positive "
                  "prediction (log 0 = −∞), and it leaves out the constant log y!, so it can "
                  "be negative.",
             _elements=_poisson,
             needs_nonnegative_targets="the Poisson loss takes y log p"),
        Loss(key="bce", label="Binary cross-entropy",
             formula=r"-\left(y \log p + (1 - y)\log(1 - p)\right)",
             grad_formula=r"\frac{p - y}{p(1 - p)}",
             likelihood="Bernoulli targets with probability p",
             problems=("binary",), target_encoding="labels in {0, 1}", prediction_range=UNIT,
             note="The default for two classes; it needs a probability in (0, 1). A class "
                  "weight α (Lin et al. 2017) counts class-1 terms α and class-0 terms 1 − α; "
                  "then the optimum is αq / (αq + (1 − α)(1 − q)) for a true frequency q, "
                  "which moves the 0.5 boundary to where q = 1 − α: the outputs are no "
                  "longer calibrated.",
             _elements=_weighted_bce, params={"alpha": None}, proper=True),
        Loss(key="focal", label="Focal loss",
             formula=r"-(1 - p_t)^{\gamma} \log p_t,\quad "
                     r"p_t = \begin{cases} p & y = 1 \\ 1 - p & y = 0\end{cases}",
             grad_formula=r"\begin{cases} \gamma(1-p)^{\gamma-1}\log p - \frac{(1-p)^{\gamma}}"
                          r"{p} & y = 1 \\ -\gamma p^{\gamma-1}\log(1-p) + "
                          r"\frac{p^{\gamma}}{1-p} & y = 0\end{cases}",
             likelihood=None,
             why_not_likelihood="it is binary cross-entropy with each point weighted by "
                                "(1 − p_t)^γ, so easy, confidently right points count less; "
                                "γ = 0 gives cross-entropy back",
             problems=("binary",), target_encoding="labels in {0, 1}", prediction_range=UNIT,
             note="Down-weights easy examples of both classes so that hard ones dominate; "
                  "only a class weight α rebalances the classes themselves.",
             _elements=_focal, params={"gamma": 2.0, "alpha": None}),
        Loss(key="hinge", label="Hinge",
             formula=r"\max(0, 1 - s\,p),\quad s = 2y - 1 \in \{-1, 1\}",
             grad_formula=r"-s \cdot [s\,p < 1]",
             likelihood=None, why_not_likelihood=MARGIN_NOT_NLL,
             problems=("binary",), target_encoding="labels in {0, 1}, used as −1 / +1",
             prediction_range=R,
             note="The SVM loss: it wants a score whose sign is the class, at least 1 away "
                  "from 0; a point beyond that margin contributes nothing.",
             _elements=_hinge, margin=True),
        Loss(key="squared_hinge", label="Squared hinge",
             formula=r"\max(0, 1 - s\,p)^2,\quad s = 2y - 1",
             grad_formula=r"-2s\max(0, 1 - s\,p)",
             likelihood=None, why_not_likelihood=MARGIN_NOT_NLL,
             problems=("binary",), target_encoding="labels in {0, 1}, used as −1 / +1",
             prediction_range=R,
             note="A smooth hinge: margin violations cost their square.",
             _elements=_squared_hinge, margin=True),
        Loss(key="cce", label="Categorical cross-entropy",
             formula=r"-\sum_j y_j \log p_j", grad_formula=r"-\frac{y_j}{p_j}",
             likelihood="categorical targets with class probabilities p",
             problems=("multiclass",), target_encoding="one-hot rows", prediction_range=UNIT,
             note="The default for several classes; it needs probabilities in (0, 1).",
             _elements=_cce, reduce="sum", proper=True),
        Loss(key="sparse_cce", label="Sparse categorical cross-entropy",
             formula=r"-\log p_{y}", grad_formula=r"-\frac{[j = y]}{p_j}",
             likelihood="categorical targets with class probabilities p",
             problems=("multiclass",), target_encoding="integer class labels",
             prediction_range=UNIT,
             note="Categorical cross-entropy with integer labels instead of one-hot rows.",
             _elements=_sparse_cce, reduce="sum", sparse_targets=True, proper=True),
        Loss(key="kld", label="Kullback-Leibler divergence",
             formula=r"\sum_j y_j \log\frac{y_j}{p_j}", grad_formula=r"-\frac{y_j}{p_j}",
             likelihood="categorical targets with class probabilities p (KL is cross-entropy "
                        "minus the targets' own entropy, which does not depend on p)",
             problems=("multiclass",), target_encoding="probability rows (one-hot or soft)",
             prediction_range=UNIT,
             note="Equals categorical cross-entropy minus the targets' entropy: the same for "
                  "one-hot targets, a constant apart for soft ones.",
             _elements=_kld, reduce="sum", proper=True),
        Loss(key="categorical_hinge", label="Categorical hinge",
             formula=r"\max\left(0,\ 1 + \max_j\,(1 - y_j)\,p_j - p_y\right)",
             grad_formula=r"[\text{margin violated}]\,(e_{j^*} - e_{y})",
             likelihood=None, why_not_likelihood=MARGIN_NOT_NLL,
             problems=("multiclass",), target_encoding="one-hot rows", prediction_range=R,
             note="Multi-class margin loss: the true class's score must beat the runner-up "
                  "by 1. As in Keras, the runner-up is max_j (1 − y_j) p_j, so the true class "
                  "counts as a score of 0 there.",
             _elements=_categorical_hinge, reduce="sum", rowwise=True, margin=True),
        Loss(key="pinball", label="Pinball (quantile)",
             formula=r"\max\left(\tau (y - p),\ (\tau - 1)(y - p)\right)",
             grad_formula=r"\begin{cases} -\tau & y > p \\ 1 - \tau & y < p\end{cases}",
             likelihood="asymmetric Laplace targets with location p and skew τ (up to a "
                        "scale and a constant)",
             problems=("regression",), target_encoding="real numbers", prediction_range=R,
             note="Estimates the conditional τ-quantile: a prediction with a share τ of the "
                  "targets below it is optimal, because points above push up with τ and "
                  "points below push down with 1 − τ. τ = 0.5 gives half of MAE (the "
                  "median); τ = 0.1 and 0.9 together give an 80% band.",
             _elements=_pinball, params={"tau": 0.5}),
        LocationScaleLoss(
             key="gaussian_nll", label="Gaussian NLL (learned variance)",
             formula=r"\tfrac12\left(s + (y - p)^2 e^{-s}\right)",
             grad_formula=r"(p - y)\,e^{-s}",
             scale_grad_formula=r"\tfrac12\left(1 - (y - p)^2 e^{-s}\right)",
             likelihood="Gaussian targets with mean p and a variance σ² = e^s that the "
                        "network predicts for each input (up to the constant ½ log 2π)",
             problems=("regression",),
             target_encoding="real numbers; the network has two outputs per target: the "
                             "mean p and the log-variance s",
             prediction_range=R,
             note="Learns the noise as well as the mean: a second output unit s per target "
                  "is the log-variance (σ² = e^s, floored at 1e-6). Errors count divided by "
                  "σ², so noisy regions weigh less; σ grows where the data scatter. The "
                  "price: where σ is large the mean learns slowly, and a point the mean "
                  "cannot fit can be explained away as noise. As PyTorch's GaussianNLLLoss "
                  "(full=False) with var = e^s.",
             _elements=_gaussian_nll),
    ]
}


CUSTOM = "custom"
"""The key of a typed formula: ``get("custom", formula="...")`` (see ``explorer.formula``)."""


def get(key: str | Loss, **params) -> Loss:
    """The loss called ``key`` (optionally with parameters); ValueError naming valid keys.

    ``"custom"`` takes ``formula="..."`` (default ``(p - y)**2``) and returns the typed loss;
    a ``Loss`` object is returned as it is (with ``params`` applied), so callers that take a
    key also take a loss.
    """
    if isinstance(key, Loss):
        return key.with_params(**params) if params else key
    if key == CUSTOM:
        return custom().with_params(**params) if params else custom()
    try:
        loss = LOSSES[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {key!r}; choose one of: {', '.join(LOSSES)}") from None
    return loss.with_params(**params) if params else loss


def custom(formula: str | None = None) -> Loss:
    """The loss a typed formula in y and p defines; ``formula.FormulaError`` (a ValueError)
    with one line when it cannot be used."""
    from explorer import formula as typed  # imported here: it builds on this module

    return typed.parse(typed.DEFAULT_FORMULA if formula is None else formula)


def for_problem(problem: str) -> list[str]:
    """Keys of the losses that serve a problem type, in catalogue order."""
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of: {', '.join(PROBLEMS)}")
    return [key for key, loss in LOSSES.items() if problem in loss.problems]


# Fused paths: a loss evaluated straight from its canonical activation's pre-activation z.
# d loss / dz = (p - y) / n exactly, with no clipping; tested equal to the explicit chain.

def _sigmoid_bce_elements(y: Array, z: Array) -> Array:
    """BCE of sigmoid(z) per output element, (m, k): softplus(z) - y z, stable for any z."""
    # softplus(z) = max(z, 0) + log1p(exp(-|z|)), built in place: this runs on every
    # batch and on every error-surface grid point
    values = np.abs(z)
    np.negative(values, out=values)
    np.exp(values, out=values)
    np.log1p(values, out=values)
    values += np.maximum(z, 0.0)
    values -= y * z
    return values


def _softmax_cce_per_sample(y: Array, z: Array) -> Array:
    """Categorical CE of softmax(z) per sample, (m,): logsumexp(z) - sum_j y_j z_j."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(y * log_p).sum(axis=1)


def _softmax_kld_per_sample(y: Array, z: Array) -> Array:
    """KL divergence of softmax(z) from the target rows y, (m,): sum_j y_j (log y_j - log p_j),
    that is cross-entropy minus the targets' entropy (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0).sum(axis=1)
    return _softmax_cce_per_sample(y, z) + own


def _sigmoid_minus(y: Array, z: Array, p: Array) -> Array:
    """σ(z) - y written as (1 - y) σ(z) - y σ(-z): for labels 0 and 1 no cancellation, so
    a confidently wrong y = 1 at z = 30 gets -σ(-30) to the last digit, not 1 - (1 - 9e-14)."""
    return (1.0 - y) * p - y * np.exp(log_sigmoid(-z))


def fused_per_sample(activation: str, y: Array, z: Array, loss: str = "") -> Array:
    """Per-sample loss (m,) of a canonical pair straight from its logits z (m, k)."""
    if activation == "sigmoid":
        return _sigmoid_bce_elements(y, z).mean(axis=1)
    if loss == "kld":
        return _softmax_kld_per_sample(y, z)
    return _softmax_cce_per_sample(y, z)


def fused_sigmoid_bce(y: Array, z: Array, p: Array) -> tuple[float, Array]:
    """BCE of sigmoid(z) from logits: mean of softplus(z) - y z; gradient (p - y) / n."""
    n, k = z.shape
    return float(_sigmoid_bce_elements(y, z).sum()) / (n * k), _sigmoid_minus(y, z, p) / (n * k)


def fused_softmax_cce(y: Array, z: Array, p: Array) -> tuple[float, Array]:
    """Categorical CE of softmax(z) from logits via log-sum-exp; gradient (p - y) / n."""
    return float(_softmax_cce_per_sample(y, z).sum()) / len(z), (p - y) / len(z)


def fused_softmax_kld(y: Array, z: Array, p: Array) -> tuple[float, Array]:
    """KL divergence of softmax(z) from y via log-sum-exp; gradient (p - y) / n (rows of y
    sum to 1)."""
    return float(_softmax_kld_per_sample(y, z).sum()) / len(z), (p - y) / len(z)


FUSED = {("sigmoid", "bce"): fused_sigmoid_bce, ("softmax", "cce"): fused_softmax_cce,
         ("softmax", "sparse_cce"): fused_softmax_cce, ("softmax", "kld"): fused_softmax_kld}
"""(activation, loss) -> fused function; sparse_cce gets one-hot targets from the trainer."""


# A class-weighted BCE keeps the fused logit path: w (softplus(z) - y z), dL/dz = w (p - y).

def fused_weighted_sigmoid_bce(y: Array, z: Array, p: Array,
                               alpha: float | None) -> tuple[float, Array]:
    """Class-weighted BCE of sigmoid(z) from logits; gradient w (p - y) / n (``class_weight``)."""
    n, k = z.shape
    weight = class_weight(y, alpha)
    return (float((weight * _sigmoid_bce_elements(y, z)).sum()) / (n * k),
            weight * _sigmoid_minus(y, z, p) / (n * k))


def fused_weighted_per_sample(y: Array, z: Array, alpha: float | None) -> Array:
    """Per-sample class-weighted BCE of sigmoid(z), (m,)."""
    return (class_weight(y, alpha) * _sigmoid_bce_elements(y, z)).mean(axis=1)


# Exact logit paths for the other pairs the app computes in z: no clipping anywhere.

def log_sigmoid(z: Array) -> Array:
    """log σ(z) = -softplus(-z), stable for any z."""
    return -(np.maximum(-z, 0.0) + np.log1p(np.exp(-np.abs(z))))


def _log_softplus(z: Array, p: Array) -> Array:
    """log softplus(z) for p = softplus(z): log p, or z where p underflows (z < -30, where
    log softplus(z) = z - e^z / 2 + ...)."""
    with np.errstate(divide="ignore"):
        return np.where(z < -30.0, z, np.log(np.where(z < -30.0, 1.0, p)))


def _exp_poisson(y: Array, z: Array, p: Array, want_grad: bool = True):
    """Poisson of p = e^z per element: e^z - y z (log p = z exactly); dL/dz = p - y. (The
    exponential output is e^min(z, 50), flat above 50: so are log p and the loss there.)"""
    log_p = np.minimum(z, EXP_CLIP)
    return p - y * log_p, (np.where(z < EXP_CLIP, p - y, 0.0) if want_grad else None)


def _softplus_poisson(y: Array, z: Array, p: Array, want_grad: bool = True):
    """Poisson of p = softplus(z) per element: p - y log p; dL/dz = σ(z) (1 - y / p), with
    σ(z) / p = exp(log σ(z) - log p), which tends to 1 (not 0 / 0) as z -> -∞."""
    log_p = _log_softplus(z, p)
    values = p - np.where(y == 0, 0.0, y * log_p)
    if not want_grad:
        return values, None
    log_sig = log_sigmoid(z)
    return values, np.exp(log_sig) - y * np.exp(log_sig - log_p)


def _sigmoid_focal(y: Array, z: Array, p: Array, want_grad: bool = True, gamma: float = 2.0,
                   alpha: float | None = None):
    """Focal loss of p = σ(z) per element from u = s z, s = 2y - 1: p_t = σ(u),
    L = -(1 - p_t)^γ log σ(u); dL/dz = s [γ p_t (1 - p_t)^γ log p_t - (1 - p_t)^(γ+1)]."""
    s = 2.0 * y - 1.0
    u = s * z
    log_pt = log_sigmoid(u)
    miss = np.exp(log_sigmoid(-u))  # 1 - p_t, without the cancellation of 1 - σ(u)
    weight = class_weight(y, alpha)
    values = -weight * miss ** gamma * log_pt
    if not want_grad:
        return values, None
    pt = np.exp(log_pt)
    du = gamma * pt * miss ** gamma * log_pt - miss ** (gamma + 1.0)
    return values, weight * s * du


LOGIT_PATHS: dict[tuple[str, str], Callable[..., tuple[Array, Array | None]]] = {
    ("exp", "poisson"): _exp_poisson,
    ("softplus", "poisson"): _softplus_poisson,
    ("sigmoid", "focal"): _sigmoid_focal,
}
"""(activation, loss) -> per-element (values, dL/dz) from z, p = a(z) and the loss's params:
element-wise losses averaged over units like every "mean" loss. The chain through
``Loss.grad`` clips p (focal) or divides by p, which is 0 in floats far enough out."""


def logit_value_and_dz(key: tuple[str, str], y: Array, z: Array, p: Array,
                       params: dict) -> tuple[float, Array]:
    """(mean loss, dL/dz / (n k)) of a ``LOGIT_PATHS`` pair."""
    values, dz = LOGIT_PATHS[key](y, z, p, True, **params)
    n, k = z.shape
    return float(values.sum()) / (n * k), dz / (n * k)


def logit_per_sample(key: tuple[str, str], y: Array, z: Array, p: Array,
                     params: dict) -> Array:
    """Per-sample loss (m,) of a ``LOGIT_PATHS`` pair."""
    return LOGIT_PATHS[key](y, z, p, False, **params)[0].mean(axis=1)
