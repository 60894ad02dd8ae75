"""Loss functions: each value paired with its derivative, plus what the app says about it.

Conventions, written once:
- ``value(y_true, y_pred)`` is the **mean over samples** of the per-sample loss. Per sample,
  regression-style losses average over output units (Keras ``axis=-1``); categorical losses
  sum over classes.
- ``grad(y_true, y_pred)`` is d value / d y_pred, same shape as ``y_pred`` (so it includes 1/n).
- ``EPSILON = 1e-7`` clipping as Keras does it, but only *inside* a loss's valid prediction
  range: a prediction outside it (a negative "probability" from a linear output, say) has no
  likelihood, and the loss returns NaN there instead of silently clipping it away, as PyTorch
  refuses such inputs. That NaN is what the trainer reports as divergence.
- Where the formula is clipped, ``grad`` is the formula's derivative at the clipped value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray
EPSILON = 1e-7
LOG2 = float(np.log(2.0))

PROBLEMS = ("regression", "binary", "multiclass", "counts")


@dataclass(frozen=True)
class Loss:
    """A loss with its element-wise value and derivative and the metadata the app shows."""

    key: str
    label: str
    formula: str
    """LaTeX for one sample, with p the prediction and y the target."""
    grad_formula: str
    """LaTeX for d loss / d p of one sample."""
    likelihood: str
    """The distribution this loss is the negative log-likelihood of, or why there is none."""
    problems: tuple[str, ...]
    target_encoding: str
    prediction_range: tuple[float, float]
    """Closed interval of predictions the loss is defined for; outside it value is NaN."""
    matched_activations: tuple[str, ...]
    note: str
    _elementwise: Callable[..., tuple[Array, Array]] = field(repr=False)
    """(y, p, **params) -> (element values, element derivatives), arrays shaped like p."""
    reduce: str = "mean"
    """How element values combine within one sample: "mean" or "sum" over output units."""
    sparse_targets: bool = False
    """True when y_true holds integer class labels rather than one row per output unit."""
    params: dict = field(default_factory=dict)

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
        with np.errstate(all="ignore"):
            values, derivs = self._elementwise(y, p, **self.params)
            bad = self._outside(p)
            if bad is not None:
                values = np.where(bad, np.nan, values)
                derivs = np.where(bad, np.nan, derivs)
        n, k = p.shape
        scale = n * k if self.reduce == "mean" else n
        return float(values.sum()) / scale, derivs / scale

    def per_sample_from(self, y: Array, p: Array) -> Array:
        with np.errstate(all="ignore"):
            values, _ = self._elementwise(y, p, **self.params)
            bad = self._outside(p)
            if bad is not None:
                values = np.where(bad, np.nan, values)
        return values.mean(axis=1) if self.reduce == "mean" else values.sum(axis=1)

    def _outside(self, p: Array):
        lo, hi = self.prediction_range
        if lo == -np.inf and hi == np.inf:
            return None
        return (p < lo) | (p > hi) | np.isnan(p)

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
    return p - y * np.log(p + EPSILON), 1.0 - y / (p + EPSILON)


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
    n, k = p.shape
    pos = np.sum(y * p, axis=1)
    others = (1.0 - y) * p
    worst = np.argmax(others, axis=1)
    neg = others[np.arange(n), worst]
    active = (neg - pos + 1.0) > 0
    values = np.zeros_like(p)
    values[:, 0] = np.maximum(neg - pos + 1.0, 0.0)
    derivs = -y * active[:, None]
    derivs[np.arange(n), worst] += active * (1.0 - y[np.arange(n), worst])
    return values, derivs


R = (-np.inf, np.inf)
UNIT = (0.0, 1.0)
POSITIVE = (0.0, np.inf)
NO_LIKELIHOOD = "none: a margin loss, not the negative log-likelihood of a distribution"

LOSSES: dict[str, Loss] = {
    loss.key: loss
    for loss in [
        Loss("mse", "Mean squared error", r"(p - y)^2", r"2(p - y)",
             "Gaussian targets with mean p and fixed variance (−log N(y | p, σ²) up to constants)",
             PROBLEMS, "real numbers", R, ("linear",),
             "The default for regression; squares errors, so outliers pull hard.", _mse),
        Loss("mae", "Mean absolute error", r"|p - y|", r"\operatorname{sign}(p - y)",
             "Laplace targets with location p and fixed scale (so p is the conditional median)",
             ("regression", "counts"), "real numbers", R, ("linear",),
             "Robust to outliers; gradient has constant size, even near the optimum.", _mae),
        Loss("huber", "Huber", r"\begin{cases}\tfrac12 (p-y)^2 & |p-y|\le\delta\\"
             r" \delta(|p-y| - \tfrac12\delta) & \text{otherwise}\end{cases}",
             r"\operatorname{clip}(p - y, -\delta, \delta)",
             "none exactly: quadratic near 0 like a Gaussian, linear in the tails like a Laplace",
             ("regression", "counts"), "real numbers", R, ("linear",),
             "MSE for small errors, MAE for large ones: robust and smooth.", _huber,
             params={"delta": 1.0}),
        Loss("log_cosh", "Log-cosh", r"\log\cosh(p - y)", r"\tanh(p - y)",
             "the hyperbolic-secant distribution (close to Gaussian near 0, Laplace-like tails)",
             ("regression", "counts"), "real numbers", R, ("linear",),
             "A smooth cousin of Huber with delta = 1.", _log_cosh),
        Loss("msle", "Mean squared log error",
             r"\left(\log(1 + p) - \log(1 + y)\right)^2",
             r"\frac{2(\log(1+p) - \log(1+y))}{1 + p}",
             "log-normal-like: Gaussian errors on log(1 + y)",
             ("regression", "counts"), "non-negative numbers", R, ("softplus", "exp", "relu"),
             "For positive targets spanning orders of magnitude: penalizes ratios, not "
             "differences. Predictions below 0 are clipped to 0 (zero gradient there).", _msle),
        Loss("poisson", "Poisson", r"p - y \log p", r"1 - \frac{y}{p}",
             "Poisson counts with mean p (−log Poisson(y | p) up to log y!)",
             ("counts",), "non-negative counts", POSITIVE, ("exp",),
             "For counts: the variance grows with the mean. Needs a positive prediction.",
             _poisson),
        Loss("bce", "Binary cross-entropy", r"-\left(y \log p + (1 - y)\log(1 - p)\right)",
             r"\frac{p - y}{p(1 - p)}", "Bernoulli targets with probability p",
             ("binary",), "labels in {0, 1}", UNIT, ("sigmoid",),
             "The default for two classes; needs a probability in (0, 1).", _bce),
        Loss("focal", "Focal loss", r"-(1 - p_t)^{\gamma} \log p_t,\quad "
             r"p_t = \begin{cases} p & y = 1 \\ 1 - p & y = 0\end{cases}",
             r"\begin{cases} \gamma(1-p)^{\gamma-1}\log p - \frac{(1-p)^{\gamma}}{p} & y = 1"
             r" \\ -\gamma p^{\gamma-1}\log(1-p) + \frac{p^{\gamma}}{1-p} & y = 0\end{cases}",
             "none: a Bernoulli likelihood re-weighted towards hard examples",
             ("binary",), "labels in {0, 1}", UNIT, ("sigmoid",),
             "Down-weights easy, confident examples so rare or hard ones dominate; "
             "gamma = 0 gives BCE.", _focal, params={"gamma": 2.0, "alpha": None}),
        Loss("hinge", "Hinge", r"\max(0, 1 - s\,p),\quad s = 2y - 1 \in \{-1, 1\}",
             r"-s \cdot [s\,p < 1]", NO_LIKELIHOOD,
             ("binary",), "labels in {0, 1}, used as -1 / +1", R, ("tanh", "linear"),
             "The SVM loss: wants a score on the right side of the margin, not a probability.",
             _hinge),
        Loss("squared_hinge", "Squared hinge", r"\max(0, 1 - s\,p)^2,\quad s = 2y - 1",
             r"-2s\max(0, 1 - s\,p)", NO_LIKELIHOOD,
             ("binary",), "labels in {0, 1}, used as -1 / +1", R, ("tanh", "linear"),
             "A smooth hinge: penalizes margin violations quadratically.", _squared_hinge),
        Loss("cce", "Categorical cross-entropy", r"-\sum_j y_j \log p_j", r"-\frac{y_j}{p_j}",
             "categorical targets with probabilities p", ("multiclass",), "one-hot rows",
             UNIT, ("softmax",),
             "The default for several classes; needs probabilities in (0, 1).", _cce,
             reduce="sum"),
        Loss("sparse_cce", "Sparse categorical cross-entropy", r"-\log p_{y}",
             r"-\frac{[j = y]}{p_j}", "categorical targets with probabilities p",
             ("multiclass",), "integer class labels", UNIT, ("softmax",),
             "Categorical cross-entropy with integer labels instead of one-hot rows.",
             _sparse_cce, reduce="sum", sparse_targets=True),
        Loss("kld", "Kullback-Leibler divergence", r"\sum_j y_j \log\frac{y_j}{p_j}",
             r"-\frac{y_j}{p_j}",
             "categorical, measured against the targets' own entropy: KL = CE - H(y)",
             ("multiclass",), "probability rows (one-hot or soft)", UNIT, ("softmax",),
             "Equals categorical cross-entropy minus the targets' entropy: the same for "
             "one-hot targets, a constant apart for soft ones.", _kld, reduce="sum"),
        Loss("categorical_hinge", "Categorical hinge",
             r"\max(0, 1 + \max_{j \ne y} p_j - p_y)",
             r"[\text{margin violated}]\,(e_{j^*} - e_{y})", NO_LIKELIHOOD,
             ("multiclass",), "one-hot rows", R, ("linear", "softmax"),
             "Multi-class margin loss: the true class must beat the runner-up by 1.",
             _categorical_hinge, reduce="sum"),
    ]
}


def get(key: str, **params) -> Loss:
    """The loss called ``key`` (optionally with parameters); ValueError naming valid keys."""
    try:
        loss = LOSSES[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {key!r}; choose one of: {', '.join(LOSSES)}") from None
    return loss.with_params(**params) if params else loss


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


def fused_per_sample(activation: str, y: Array, z: Array) -> Array:
    """Per-sample loss (m,) of a canonical pair straight from its logits z (m, k)."""
    if activation == "sigmoid":
        return _sigmoid_bce_elements(y, z).mean(axis=1)
    return _softmax_cce_per_sample(y, z)


def fused_sigmoid_bce(y: Array, z: Array, p: Array) -> tuple[float, Array]:
    """BCE of sigmoid(z) from logits: mean of softplus(z) - y z; gradient (p - y) / n."""
    n, k = z.shape
    return float(_sigmoid_bce_elements(y, z).sum()) / (n * k), (p - y) / (n * k)


def fused_softmax_cce(y: Array, z: Array, p: Array) -> tuple[float, Array]:
    """Categorical CE of softmax(z) from logits via log-sum-exp; gradient (p - y) / n."""
    return float(_softmax_cce_per_sample(y, z).sum()) / len(z), (p - y) / len(z)


FUSED = {("sigmoid", "bce"): fused_sigmoid_bce, ("softmax", "cce"): fused_softmax_cce,
         ("softmax", "sparse_cce"): fused_softmax_cce}
"""(activation, loss) -> fused function; sparse_cce gets one-hot targets from the trainer."""
