"""Synthetic datasets: generators `fn(n, noise, rng, **options) -> (X, y)` and their registry.

X is float64 of shape (n, d), d in {1, 2}, with features roughly within [-2.5, 2.5]. Targets:
binary -> int64 in {0, 1}; multiclass -> int64 labels 0..k-1; regression -> float64 roughly in
[-3, 3]; counts -> float64 non-negative integers. All of shape (n,). `noise=0` gives the noiseless
structure; each generator documents what `noise` means.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real
from statistics import NormalDist

import numpy as np

from explorer.losses import PROBLEMS

MIN_SAMPLES = 10
MAX_SAMPLES = 100_000
MAX_CLASSES = 10
MAX_VALIDATION_SHARE = 0.9
MAX_POISSON_RATE = 30.0

Generator = Callable[..., tuple[np.ndarray, np.ndarray]]


def _class_sizes(n: int, k: int) -> np.ndarray:
    """Points per class, (k,) int: n // k each, the remainder spread over the first classes."""
    return n // k + (np.arange(k) < n % k)


def _labels(sizes: np.ndarray) -> np.ndarray:
    """Labels (sum(sizes),) int64: class j repeated sizes[j] times."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _jitter(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """X (n, d) plus Gaussian noise of standard deviation `noise`, same shape."""
    return X + rng.normal(0.0, noise, size=X.shape)


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and y (n,) in the same random row order."""
    order = rng.permutation(len(y))
    return X[order], y[order]


def _check_n_classes(n_classes: int, n: int) -> int:
    """n_classes as an int, or ValueError if it is not in 2..MAX_CLASSES or exceeds n."""
    whole = isinstance(n_classes, Integral) and not isinstance(n_classes, bool)
    if not whole or not 2 <= n_classes <= MAX_CLASSES:
        raise ValueError(
            f"n_classes must be a whole number between 2 and {MAX_CLASSES}, got {n_classes!r}"
        )
    if n_classes > n:
        raise ValueError(f"n_classes={n_classes} needs at least that many points, got n={n}")
    return int(n_classes)


def _check_share(name: str, share: float, low: float, high: float, low_open: bool) -> float:
    """share as a float, or ValueError outside low..high (low itself excluded if low_open)."""
    number = isinstance(share, Real) and not isinstance(share, bool)
    if not number or (share <= low if low_open else share < low) or not share <= high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}], got {share!r}")
    return float(share)


def circles(
    n: int, noise: float, rng: np.random.Generator, *, factor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric rings, X (n, 2), y (n,) in {0, 1}.

    Formula: outer ring (label 0) radius 2, inner ring (label 1) radius 2·factor; noise: std of
    Gaussian jitter added to both features.
    """
    if not isinstance(factor, Real) or not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    y = _labels(_class_sizes(n, 2))
    radius = np.where(y == 0, 2.0, 2.0 * factor)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _shuffled(_jitter(X, noise, rng), y, rng)


MOONS_CENTER = np.array([0.5, 0.25])
MOONS_SCALE = 1.6


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half moons, X (n, 2), y (n,) in {0, 1}.

    Formula: u = (cos t, sin t) for label 0 and (1 − cos t, 0.5 − sin t) for label 1, t ~ U(0, π);
    X = MOONS_SCALE·(u − MOONS_CENTER) + jitter; noise is the jitter std in feature units.
    """
    y = _labels(_class_sizes(n, 2))
    t = rng.uniform(0.0, np.pi, size=n)
    u = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
    )
    X = MOONS_SCALE * (u - MOONS_CENTER)
    return _shuffled(_jitter(X, noise, rng), y, rng)


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants, X (n, 2), y (n,) in {0, 1}: label 1 where x0·x1 > 0.

    Points are uniform on [-2.2, 2.2]²; labels come from the clean points, then noise is the std of
    Gaussian jitter added to the features (so noisy points near the axes may cross over).
    """
    X = rng.uniform(-2.2, 2.2, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return _jitter(X, noise, rng), y


SPIRAL_INNER_RADIUS = 0.2
SPIRAL_RADIUS_SPAN = 2.0
SPIRAL_ANGLE_SPAN = 4.0


def spiral(
    n: int, noise: float, rng: np.random.Generator, *, n_classes: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """k spiral arms, X (n, 2), y (n,) int64 labels 0..k-1 (k = n_classes; 2 for binary).

    Formula: arm j: r = 0.2 + 2t, θ = 2πj/k + 4t, t ~ U(0, 1), X = r·(cos θ, sin θ) + jitter;
    noise is the jitter std in feature units.
    """
    k = _check_n_classes(n_classes, n)
    y = _labels(_class_sizes(n, k))
    t = rng.uniform(0.0, 1.0, size=n)
    radius = SPIRAL_INNER_RADIUS + SPIRAL_RADIUS_SPAN * t
    angle = 2 * np.pi * y / k + SPIRAL_ANGLE_SPAN * t
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _shuffled(_jitter(X, noise, rng), y, rng)


BLOBS_RADIUS = 1.5


def blob_centers(n_classes: int) -> np.ndarray:
    """Centres of the blobs, (k, 2): evenly spaced on a circle of radius 1.5, first at the top."""
    angle = np.pi / 2 + 2 * np.pi * np.arange(n_classes) / n_classes
    return BLOBS_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])


def blobs(
    n: int, noise: float, rng: np.random.Generator, *, n_classes: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, X (n, 2), y (n,) int64 labels 0..k-1 (k = n_classes; 2 for binary).

    Blob j is centred at blob_centers(k)[j]; noise is each blob's standard deviation.
    """
    k = _check_n_classes(n_classes, n)
    y = _labels(_class_sizes(n, k))
    X = blob_centers(k)[y]
    return _shuffled(_jitter(X, noise, rng), y, rng)


IMBALANCED_CENTERS = np.array([[-0.6, -0.6], [0.6, 0.6]])


def imbalanced(
    n: int, noise: float, rng: np.random.Generator, *, minority_share: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs of unequal size, X (n, 2), y (n,) in {0, 1}; label 1 is the minority.

    The minority has round(n·minority_share) points (at least 1, at most n // 2), centred at
    (0.6, 0.6); the majority at (−0.6, −0.6). noise is each blob's standard deviation.
    """
    share = _check_share("minority_share", minority_share, 0.0, 0.5, low_open=True)
    n_minority = min(max(1, round(n * share)), n // 2)
    y = _labels(np.array([n - n_minority, n_minority]))
    X = IMBALANCED_CENTERS[y]
    return _shuffled(_jitter(X, noise, rng), y, rng)


def overlap1d(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two classes on a line, X (n, 1), y (n,) int64 in {0, 1}.

    Formula: class 0 at x = -1, class 1 at x = +1, each point jittered by N(0, noise²). With
    one input and no hidden layer the network is a single neuron with two parameters (w, b),
    so its error surface is exact.
    """
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    X = (2.0 * y - 1.0)[:, None] + rng.normal(0.0, noise, size=(n, 1))
    return _shuffled(X, y, rng)


def _uniform_x(n: int, rng: np.random.Generator, d: int = 1) -> np.ndarray:
    """Inputs (n, d) uniform on [-2.5, 2.5]^d."""
    return rng.uniform(-2.5, 2.5, size=(n, d))


def sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A sine wave, X (n, 1), y (n,) float64.

    Formula: y = 2 sin(2x) + noise·ε, x ~ U(-2.5, 2.5), ε ~ N(0, 1).
    """
    X = _uniform_x(n, rng)
    y = 2.0 * np.sin(2.0 * X[:, 0]) + rng.normal(0.0, noise, size=n)
    return X, y


OUTLIER_SLOPE = 0.8
OUTLIER_INTERCEPT = -0.5
OUTLIER_OFFSET = (3.0, 6.0)


def outliers(
    n: int, noise: float, rng: np.random.Generator, *, outlier_share: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """A line with a few points pushed far above it, X (n, 1), y (n,) float64.

    Formula: y = 0.8x − 0.5 + noise·ε; round(n·outlier_share) random points get + U(3, 6).
    """
    share = _check_share("outlier_share", outlier_share, 0.0, 0.5, low_open=False)
    X = _uniform_x(n, rng)
    y = OUTLIER_SLOPE * X[:, 0] + OUTLIER_INTERCEPT + rng.normal(0.0, noise, size=n)
    pushed = rng.choice(n, size=round(n * share), replace=False)
    y[pushed] += rng.uniform(*OUTLIER_OFFSET, size=len(pushed))
    return X, y


def heteroscedastic(
    n: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A line whose noise grows with |x|, X (n, 1), y (n,) float64.

    Formula: y = 0.6x + noise·(0.2 + |x|)·ε, x ~ U(-2.5, 2.5), ε ~ N(0, 1).
    """
    X = _uniform_x(n, rng)
    x = X[:, 0]
    y = 0.6 * x + noise * (0.2 + np.abs(x)) * rng.normal(size=n)
    return X, y


def heteroscedastic_sigma(x, noise: float) -> np.ndarray:
    """The true standard deviation of y given x for ``heteroscedastic``: noise·(0.2 + |x|)."""
    return noise * (0.2 + np.abs(np.asarray(x, dtype=float)))


def heteroscedastic_quantile(x, tau: float, noise: float) -> np.ndarray:
    """The true τ-quantile of y given x for ``heteroscedastic``: 0.6x + σ(x)·Φ⁻¹(τ)."""
    x = np.asarray(x, dtype=float)
    return 0.6 * x + heteroscedastic_sigma(x, noise) * NormalDist().inv_cdf(tau)


SKEW_SLOPE = 0.4
SKEW_INTERCEPT = -1.2
SKEW_GROWTH = 0.3


def skewed(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A line with one-sided noise whose spread grows with x, X (n, 1), y (n,) float64.

    Formula: y = 0.4x − 1.2 + noise·(1 + 0.3x)·E, x ~ U(-2.5, 2.5), E ~ Exponential(1). The
    noise only pushes upwards, so the conditional mean (E at its mean 1), median (log 2) and
    90th percentile (log 10) are three different lines that fan out with x: see
    ``skewed_mean`` and ``skewed_quantile``. noise is the noise's scale at x = 0.
    """
    X = _uniform_x(n, rng)
    x = X[:, 0]
    y = SKEW_SLOPE * x + SKEW_INTERCEPT + _skew_scale(x, noise) * rng.exponential(size=n)
    return X, y


def _skew_scale(x: np.ndarray, noise: float) -> np.ndarray:
    return noise * (1.0 + SKEW_GROWTH * x)


def skewed_quantile(x, tau: float, noise: float) -> np.ndarray:
    """The true τ-quantile of y given x for ``skewed``: the line + scale·(−log(1 − τ))."""
    if not 0.0 < tau < 1.0:
        raise ValueError(f"tau must be between 0 and 1; got {tau}")
    x = np.asarray(x, dtype=float)
    return SKEW_SLOPE * x + SKEW_INTERCEPT + _skew_scale(x, noise) * -np.log1p(-tau)


def skewed_mean(x, noise: float) -> np.ndarray:
    """The true mean of y given x for ``skewed``: the line + scale (an Exponential's mean)."""
    x = np.asarray(x, dtype=float)
    return SKEW_SLOPE * x + SKEW_INTERCEPT + _skew_scale(x, noise)


def true_mean(key: str, x, noise: float) -> np.ndarray | None:
    """The true mean of y given x for a 1-D regression dataset whose noise is known exactly
    (sine, growing noise, skewed noise); None for the others."""
    x = np.asarray(x, dtype=float)
    if key == "skewed":
        return skewed_mean(x, noise)
    if key == "heteroscedastic":
        return 0.6 * x
    if key == "sine":
        return 2.0 * np.sin(2.0 * x)
    return None


def true_quantile(key: str, x, tau: float, noise: float) -> np.ndarray | None:
    """The true τ-quantile of y given x for the datasets ``true_mean`` knows; None for the
    others. The Gaussian ones (sine, growing noise) have their median on the mean."""
    x = np.asarray(x, dtype=float)
    if key == "skewed":
        return skewed_quantile(x, tau, noise)
    if key == "heteroscedastic":
        return heteroscedastic_quantile(x, tau, noise)
    if key == "sine":
        if not 0.0 < tau < 1.0:
            raise ValueError(f"tau must be between 0 and 1; got {tau}")
        return 2.0 * np.sin(2.0 * x) + noise * NormalDist().inv_cdf(tau)
    return None


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tilted plane, X (n, 2), y (n,) float64.

    Formula: y = 0.8x₀ − 0.5x₁ + 0.2 + noise·ε, x ~ U(-2, 2)², ε ~ N(0, 1).
    """
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    y = 0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.2 + rng.normal(0.0, noise, size=n)
    return X, y


def bump(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian bump at the origin, X (n, 2), y (n,) float64.

    Formula: y = 2.5·exp(−‖x‖²/2) + noise·ε, x ~ U(-2.5, 2.5)², ε ~ N(0, 1).
    """
    X = _uniform_x(n, rng, d=2)
    y = 2.5 * np.exp(-0.5 * np.sum(X**2, axis=1)) + rng.normal(0.0, noise, size=n)
    return X, y


def poisson(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Counts whose rate grows exponentially with x, X (n, 1), y (n,) float64 non-negative integers.

    Formula: y ~ Poisson(min(exp(0.8x + 1), 30)), x ~ U(-2.5, 2.5). noise is ignored: the Poisson
    draw is the noise.
    """
    X = _uniform_x(n, rng)
    rate = np.minimum(np.exp(0.8 * X[:, 0] + 1.0), MAX_POISSON_RATE)
    return X, rng.poisson(rate).astype(np.float64)


@dataclass(frozen=True)
class Dataset:
    """A registry entry: the generator plus what the UI shows about it."""

    key: str
    label: str
    problems: tuple[str, ...]
    n_features: int
    generate: Generator
    description: str
    options: dict = field(default_factory=dict, hash=False)
    default_noise: float = 0.1


DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in (
        Dataset(
            "moons",
            "Two moons",
            ("binary",),
            2,
            moons,
            "Two interleaving crescents that no straight line can separate.",
            default_noise=0.15,
        ),
        Dataset(
            "circles",
            "Circles",
            ("binary",),
            2,
            circles,
            "A small ring of one class inside a larger ring of the other.",
            {"factor": 0.5},
            default_noise=0.15,
        ),
        Dataset(
            "xor",
            "XOR",
            ("binary",),
            2,
            xor,
            "Four quadrants; the label is whether both coordinates share a sign.",
            default_noise=0.1,
        ),
        Dataset(
            "spiral",
            "Spiral",
            ("binary", "multiclass"),
            2,
            spiral,
            "Arms winding out from the centre, one per class.",
            {"n_classes": 3},
            default_noise=0.15,
        ),
        Dataset(
            "blobs",
            "Gaussian blobs",
            ("binary", "multiclass"),
            2,
            blobs,
            "Round clouds of points placed around a circle, one per class.",
            {"n_classes": 3},
            default_noise=0.4,
        ),
        Dataset(
            "imbalanced",
            "Imbalanced blobs",
            ("binary",),
            2,
            imbalanced,
            "Two overlapping clouds where the positive class is rare.",
            {"minority_share": 0.1},
            default_noise=0.6,
        ),
        Dataset(
            "overlap1d",
            "Two classes on a line",
            ("binary",),
            1,
            overlap1d,
            "Two overlapping groups along one input: the one-neuron textbook case.",
            default_noise=0.6,
        ),
        Dataset(
            "sine",
            "Sine wave",
            ("regression",),
            1,
            sine,
            "A noisy sine curve over one input.",
            default_noise=0.25,
        ),
        Dataset(
            "outliers",
            "Line with outliers",
            ("regression",),
            1,
            outliers,
            "A straight line with a few points thrown far above it.",
            {"outlier_share": 0.1},
            default_noise=0.2,
        ),
        Dataset(
            "heteroscedastic",
            "Growing noise",
            ("regression",),
            1,
            heteroscedastic,
            "A straight line whose scatter widens away from the centre.",
            default_noise=0.25,
        ),
        Dataset(
            "skewed",
            "Skewed noise",
            ("regression",),
            1,
            skewed,
            "A line with one-sided scatter that widens with x: mean, median and 90th "
            "percentile part ways.",
            default_noise=0.8,
        ),
        Dataset(
            "plane",
            "Plane",
            ("regression",),
            2,
            plane,
            "A tilted flat surface over two inputs.",
            default_noise=0.2,
        ),
        Dataset(
            "bump",
            "Gaussian bump",
            ("regression",),
            2,
            bump,
            "A single smooth hill in the middle of the plane.",
            default_noise=0.15,
        ),
        Dataset(
            "poisson",
            "Poisson counts",
            ("counts",),
            1,
            poisson,
            "Event counts whose average rises exponentially with the input.",
            default_noise=0.0,
        ),
    )
}


def get(key: str) -> Dataset:
    """The registry entry for key, or ValueError listing the valid keys."""
    try:
        return DATASETS[key]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown dataset {key!r}; choose one of: {', '.join(DATASETS)}") from None


def _check_problem(problem: str) -> str:
    """problem unchanged, or ValueError listing the valid problems."""
    if problem not in PROBLEMS:
        raise ValueError(f"Unknown problem {problem!r}; choose one of: {', '.join(PROBLEMS)}")
    return problem


def for_problem(problem: str) -> list[str]:
    """Dataset keys serving problem, the default first."""
    _check_problem(problem)
    return [key for key, dataset in DATASETS.items() if problem in dataset.problems]


def make(
    key: str,
    problem: str,
    n: int = 400,
    noise: float | None = None,
    seed: int = 0,
    **options,
) -> tuple[np.ndarray, np.ndarray]:
    """Validated dataset for problem, X (n, d) and y (n,); the same seed gives the same data."""
    dataset = get(key)
    _check_problem(problem)
    if problem not in dataset.problems:
        raise ValueError(
            f"Dataset {key!r} does not serve {problem!r} problems; "
            f"for {problem!r} choose one of: {', '.join(for_problem(problem))}"
        )
    whole = isinstance(n, Integral) and not isinstance(n, bool)
    if not whole or not MIN_SAMPLES <= n <= MAX_SAMPLES:
        raise ValueError(
            f"n (number of points) must be a whole number between {MIN_SAMPLES} and "
            f"{MAX_SAMPLES}, got {n!r}"
        )
    noise = dataset.default_noise if noise is None else noise
    number = isinstance(noise, Real) and not isinstance(noise, bool)
    if not number or not 0 <= noise < np.inf:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    unknown = set(options) - set(dataset.options)
    if unknown:
        valid = ", ".join(dataset.options) or "none"
        raise ValueError(
            f"Dataset {key!r} has no option {', '.join(sorted(unknown))}; its options: {valid}"
        )
    if problem == "binary" and "n_classes" in dataset.options:
        if options.get("n_classes", 2) != 2:
            raise ValueError(
                f"A binary problem has 2 classes, got n_classes={options['n_classes']}; "
                "choose problem='multiclass' for more"
            )
        options["n_classes"] = 2
    options = {**dataset.options, **options}
    rng = np.random.default_rng(seed)
    return dataset.generate(int(n), float(noise), rng, **options)


def train_validation_split(
    X: np.ndarray, y: np.ndarray, validation_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled split of X (n, d), y (n,) into X_train, y_train, X_val, y_val.

    About round(n·validation_share) validation rows; when validation_share > 0 each part gets at
    least one row. Integer labels (y of shape (n,)) are stratified the same way, class by class.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)}")
    if not isinstance(validation_share, Real) or not 0 <= validation_share <= MAX_VALIDATION_SHARE:
        raise ValueError(
            f"validation_share must be between 0 and {MAX_VALIDATION_SHARE}, "
            f"got {validation_share!r}"
        )
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    train, val = [], []
    for group in groups:
        group = rng.permutation(group)
        n_val = round(len(group) * validation_share)
        if validation_share > 0 and len(group) >= 2:
            n_val = min(max(n_val, 1), len(group) - 1)
        val.append(group[:n_val])
        train.append(group[n_val:])
    no_rows = np.empty(0, dtype=np.intp)
    train_rows = rng.permutation(np.concatenate([no_rows, *train]))
    val_rows = rng.permutation(np.concatenate([no_rows, *val]))
    return X[train_rows], y[train_rows], X[val_rows], y[val_rows]
