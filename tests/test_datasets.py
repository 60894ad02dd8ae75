import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import datasets
from explorer.datasets import DATASETS, PROBLEMS, make, train_validation_split

CASES = [(key, problem) for key, dataset in DATASETS.items() for problem in dataset.problems]
CASE_IDS = [f"{key}-{problem}" for key, problem in CASES]
CLASSIFICATION = [(k, p) for k, p in CASES if p in ("binary", "multiclass")]
CLASSIFICATION_IDS = [f"{key}-{problem}" for key, problem in CLASSIFICATION]
REGRESSION = [k for k, p in CASES if p == "regression"]


def rng(seed=0):
    return np.random.default_rng(seed)


def test_registry_entries_are_consistent():
    for key, dataset in DATASETS.items():
        assert dataset.key == key
        assert dataset.label and dataset.description.endswith(".")
        assert set(dataset.problems) <= set(PROBLEMS)
        assert dataset.n_features in (1, 2)
        assert dataset.default_noise >= 0
        kwonly = {
            name: p.default
            for name, p in inspect.signature(dataset.generate).parameters.items()
            if p.kind is p.KEYWORD_ONLY
        }
        assert kwonly == dataset.options


def test_problem_membership_and_default_order():
    assert datasets.for_problem("binary") == [
        "moons",
        "circles",
        "xor",
        "spiral",
        "blobs",
        "imbalanced",
        "overlap1d",
    ]
    assert datasets.for_problem("multiclass") == ["spiral", "blobs"]
    assert datasets.for_problem("regression") == [
        "sine",
        "outliers",
        "heteroscedastic",
        "skewed",
        "plane",
        "bump",
    ]
    assert datasets.for_problem("counts") == ["poisson"]


def test_get_returns_entry():
    assert datasets.get("moons") is DATASETS["moons"]


@pytest.mark.parametrize("key", DATASETS)
def test_generator_signature_is_uniform(key):
    dataset = DATASETS[key]
    X, y = dataset.generate(57, dataset.default_noise, rng(), **dataset.options)
    assert X.shape == (57, dataset.n_features) and y.shape == (57,)


@pytest.mark.parametrize(("key", "problem"), CASES, ids=CASE_IDS)
def test_shapes_and_dtypes(key, problem):
    X, y = make(key, problem, n=301)
    assert X.shape == (301, DATASETS[key].n_features)
    assert X.dtype == np.float64 and np.all(np.isfinite(X))
    assert y.shape == (301,)
    if problem in ("binary", "multiclass"):
        assert y.dtype == np.int64
    else:
        assert y.dtype == np.float64 and np.all(np.isfinite(y))


@pytest.mark.parametrize(("key", "problem"), CLASSIFICATION, ids=CLASSIFICATION_IDS)
def test_labels_cover_all_classes(key, problem):
    _, y = make(key, problem, n=200)
    expected = {0, 1, 2} if problem == "multiclass" else {0, 1}
    assert set(np.unique(y)) == expected


@pytest.mark.parametrize(("key", "problem"), CLASSIFICATION, ids=CLASSIFICATION_IDS)
def test_classes_come_out_shuffled(key, problem):
    _, y = make(key, problem, n=100)
    assert not np.all(np.diff(y) >= 0)


@pytest.mark.parametrize("key", ["spiral", "blobs"])
@pytest.mark.parametrize(("n", "k"), [(100, 2), (100, 3), (101, 5), (10, 10)])
def test_balanced_class_sizes_sum_to_n(key, n, k):
    _, y = make(key, "multiclass", n=n, n_classes=k)
    counts = np.bincount(y, minlength=k)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    assert sorted(counts, reverse=True) == list(counts)


@pytest.mark.parametrize("key", ["spiral", "blobs"])
def test_binary_problem_uses_two_classes(key):
    _, y = make(key, "binary", n=100)
    assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(y, make(key, "binary", n=100, n_classes=2)[1])


@pytest.mark.parametrize(("key", "problem"), CASES, ids=CASE_IDS)
def test_same_seed_same_data_other_seed_other_data(key, problem):
    X1, y1 = make(key, problem, seed=3)
    X2, y2 = make(key, problem, seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(key, problem, seed=4)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("key", DATASETS)
def test_generators_draw_only_from_the_given_rng(key):
    dataset = DATASETS[key]
    a = dataset.generate(80, 0.2, rng(7), **dataset.options)
    b = dataset.generate(80, 0.2, rng(7), **dataset.options)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize(("key", "problem"), CASES, ids=CASE_IDS)
def test_none_noise_means_default_noise(key, problem):
    X1, y1 = make(key, problem, noise=None)
    X2, y2 = make(key, problem, noise=DATASETS[key].default_noise)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize(("key", "problem"), CASES, ids=CASE_IDS)
def test_features_in_sane_range(key, problem):
    X, _ = make(key, problem, n=2000)
    assert np.abs(X).max() < 3.5
    assert np.mean(np.abs(X) <= 2.5) > 0.98


@pytest.mark.parametrize("key", [k for k in REGRESSION if k != "outliers"])
def test_regression_targets_in_sane_range(key):
    _, y = make(key, "regression", n=2000)
    assert np.mean(np.abs(y) <= 3) > 0.97


def test_moons_noiseless_points_lie_on_their_half_circles():
    X, y = make("moons", "binary", noise=0)
    u = X / datasets.MOONS_SCALE + datasets.MOONS_CENTER
    top, bottom = u[y == 0], u[y == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)
    assert np.all(top[:, 1] >= -1e-12) and np.all(bottom[:, 1] <= 0.5 + 1e-12)


@pytest.mark.parametrize("factor", [0.3, 0.5, 0.8])
def test_circles_noiseless_points_lie_on_their_rings(factor):
    X, y = make("circles", "binary", noise=0, factor=factor)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 2.0)
    np.testing.assert_allclose(radius[y == 1], 2.0 * factor)


def test_xor_noiseless_labels_are_sign_product():
    X, y = make("xor", "binary", noise=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) * np.sign(X[:, 1]) > 0).astype(int))


@pytest.mark.parametrize("k", [2, 3, 6])
def test_spiral_noiseless_points_lie_on_their_arms(k):
    X, y = make("spiral", "multiclass", noise=0, n_classes=k)
    radius = np.hypot(X[:, 0], X[:, 1])
    t = (radius - 0.2) / 2.0
    assert np.all((t >= -1e-12) & (t <= 1 + 1e-12))
    angle = 2 * np.pi * y / k + 4.0 * t
    np.testing.assert_allclose(X, radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))


@pytest.mark.parametrize("k", [2, 3, 7])
def test_blobs_noiseless_points_sit_on_centres_spread_on_a_circle(k):
    X, y = make("blobs", "multiclass", noise=0, n_classes=k)
    centres = datasets.blob_centers(k)
    np.testing.assert_allclose(X, centres[y])
    np.testing.assert_allclose(np.hypot(centres[:, 0], centres[:, 1]), datasets.BLOBS_RADIUS)
    assert len(np.unique(centres.round(9), axis=0)) == k


def test_blobs_noise_is_the_blob_std():
    X, y = make("blobs", "multiclass", n=6000, noise=0.3)
    spread = X - datasets.blob_centers(3)[y]
    np.testing.assert_allclose(spread.std(axis=0), 0.3, rtol=0.05)


def test_sine_noiseless_targets_equal_the_function():
    X, y = make("sine", "regression", noise=0)
    np.testing.assert_allclose(y, 2 * np.sin(2 * X[:, 0]))


def test_heteroscedastic_noiseless_is_a_line_and_noise_grows_with_x():
    X, y = make("heteroscedastic", "regression", noise=0)
    np.testing.assert_allclose(y, 0.6 * X[:, 0])
    X, y = make("heteroscedastic", "regression", n=4000, noise=0.5)
    residual = y - 0.6 * X[:, 0]
    near, far = np.abs(X[:, 0]) < 0.5, np.abs(X[:, 0]) > 2.0
    assert residual[far].std() > 3 * residual[near].std()


def test_heteroscedastic_true_sigma_and_quantiles():
    X, y = make("heteroscedastic", "regression", n=40_000, noise=0.5, seed=1)
    x = X[:, 0]
    np.testing.assert_allclose(datasets.heteroscedastic_sigma([0.0, -2.0], 0.5), [0.1, 1.1])
    standardized = (y - 0.6 * x) / datasets.heteroscedastic_sigma(x, 0.5)
    assert standardized.std() == pytest.approx(1.0, abs=0.02)
    for tau in (0.1, 0.5, 0.9):
        below = np.mean(y <= datasets.heteroscedastic_quantile(x, tau, 0.5))
        assert below == pytest.approx(tau, abs=0.01)
    # Φ⁻¹(0.9) = 1.2816: the 0.9-quantile at x = 2 is 1.2 + 1.1 x 1.2816
    assert datasets.heteroscedastic_quantile(2.0, 0.9, 0.5) == pytest.approx(1.2 + 1.1 * 1.28155,
                                                                             abs=1e-4)


def test_skewed_noiseless_is_the_line_and_noise_only_pushes_up():
    X, y = make("skewed", "regression", noise=0)
    np.testing.assert_allclose(y, 0.4 * X[:, 0] - 1.2)
    X, y = make("skewed", "regression", n=2000)
    assert np.all(y >= 0.4 * X[:, 0] - 1.2)


def test_skewed_true_mean_median_and_quantiles():
    noise = 0.8
    X, y = make("skewed", "regression", n=60_000, noise=noise, seed=2)
    x = X[:, 0]
    # pinned by hand at x = 0 (scale 0.8): mean -1.2 + 0.8, median -1.2 + 0.8 log 2,
    # 90th percentile -1.2 + 0.8 log 10; at x = 2 the scale is 0.8 x 1.6
    assert datasets.skewed_mean(0.0, noise) == pytest.approx(-0.4)
    assert datasets.skewed_quantile(0.0, 0.5, noise) == pytest.approx(-1.2 + 0.8 * np.log(2))
    assert datasets.skewed_quantile(2.0, 0.9, noise) == pytest.approx(
        -0.4 + 1.28 * np.log(10))
    for tau in (0.1, 0.5, 0.9):
        below = np.mean(y <= datasets.skewed_quantile(x, tau, noise))
        assert below == pytest.approx(tau, abs=0.01)
    band = np.abs(x - 1.5) < 0.1
    assert y[band].mean() == pytest.approx(datasets.skewed_mean(1.5, noise), abs=0.03)
    # the three differ visibly: mean - median = 0.31 x scale, q90 - mean = 1.30 x scale
    grid = np.linspace(-2.5, 2.5, 11)
    median = datasets.skewed_quantile(grid, 0.5, noise)
    assert np.all(datasets.skewed_mean(grid, noise) - median > 0.05)
    assert np.all(datasets.skewed_quantile(grid, 0.9, noise) - datasets.skewed_mean(grid, noise)
                  > 0.2)
    with pytest.raises(ValueError, match="tau"):
        datasets.skewed_quantile(grid, 1.0, noise)


def test_plane_and_bump_noiseless_targets_equal_the_function():
    X, y = make("plane", "regression", noise=0)
    np.testing.assert_allclose(y, 0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.2)
    X, y = make("bump", "regression", noise=0)
    np.testing.assert_allclose(y, 2.5 * np.exp(-0.5 * (X**2).sum(axis=1)))


@pytest.mark.parametrize("share", [0.0, 0.05, 0.1, 0.3])
def test_outliers_noiseless_share_and_offsets(share):
    X, y = make("outliers", "regression", n=500, noise=0, outlier_share=share)
    offset = y - (0.8 * X[:, 0] - 0.5)
    pushed = ~np.isclose(offset, 0.0)
    assert pushed.sum() == round(500 * share)
    assert np.all((offset[pushed] >= 3.0) & (offset[pushed] <= 6.0))


@pytest.mark.parametrize("share", [0.02, 0.1, 0.25, 0.5])
def test_imbalanced_minority_share_matches_option(share):
    _, y = make("imbalanced", "binary", n=1000, minority_share=share)
    assert y.mean() == pytest.approx(share, abs=1e-3)


def test_imbalanced_keeps_at_least_one_minority_point():
    _, y = make("imbalanced", "binary", n=10, minority_share=0.01)
    assert y.sum() == 1


def test_poisson_targets_are_nonnegative_integers_that_grow_with_x():
    X, y = make("poisson", "counts", n=3000)
    assert np.all(y >= 0) and np.array_equal(y, np.round(y))
    assert y.max() <= 60
    left, right = y[X[:, 0] < -1].mean(), y[X[:, 0] > 1].mean()
    assert right > 3 * left


def test_poisson_ignores_noise():
    X1, y1 = make("poisson", "counts", noise=0)
    X2, y2 = make("poisson", "counts", noise=1.0)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ValueError, match="moons.*spiral"):
        datasets.get("banana")
    with pytest.raises(ValueError, match="banana"):
        make("banana", "binary")


@pytest.mark.parametrize(
    "call", [lambda: datasets.for_problem("ranking"), lambda: make("moons", "ranking")]
)
def test_unknown_problem_lists_valid_problems(call):
    with pytest.raises(ValueError, match="regression, binary, multiclass, counts"):
        call()


@pytest.mark.parametrize(
    ("key", "problem"), [("sine", "binary"), ("moons", "multiclass"), ("poisson", "regression")]
)
def test_problem_not_served_suggests_datasets(key, problem):
    with pytest.raises(ValueError, match=f"choose one of: {datasets.for_problem(problem)[0]}"):
        make(key, problem)


@pytest.mark.parametrize("n", [9, 100_001, 0, -5, 10.5, "400", True, None])
def test_bad_n_is_rejected(n):
    with pytest.raises(ValueError, match="n \\(number of points\\)"):
        make("moons", "binary", n=n)


@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_noise_is_rejected(noise):
    with pytest.raises(ValueError, match="noise"):
        make("moons", "binary", noise=noise)


@pytest.mark.parametrize(
    ("key", "problem", "options", "message"),
    [
        ("moons", "binary", {"factor": 0.5}, "no option factor; its options: none"),
        ("circles", "binary", {"radius": 1}, "its options: factor"),
        ("circles", "binary", {"factor": 1.0}, "factor"),
        ("spiral", "binary", {"n_classes": 3}, "multiclass"),
        ("spiral", "multiclass", {"n_classes": 1}, "n_classes"),
        ("blobs", "multiclass", {"n_classes": 11}, "n_classes"),
        ("blobs", "multiclass", {"n_classes": 2.5}, "n_classes"),
        ("imbalanced", "binary", {"minority_share": 0.0}, "minority_share"),
        ("imbalanced", "binary", {"minority_share": 0.6}, "minority_share"),
        ("outliers", "regression", {"outlier_share": 0.7}, "outlier_share"),
        ("outliers", "regression", {"outlier_share": "lots"}, "outlier_share"),
    ],
)
def test_bad_options_are_rejected(key, problem, options, message):
    with pytest.raises(ValueError, match=message):
        make(key, problem, **options)


def tagged(n, d=2, labels=None):
    """Features whose first column is the row index, so rows can be traced through a split."""
    X = np.column_stack([np.arange(n, dtype=float)] + [np.zeros(n)] * (d - 1))
    y = np.arange(n) % 3 if labels is None else labels
    return X, y


@pytest.mark.parametrize(("n", "share"), [(100, 0.2), (101, 0.25), (400, 0.9), (57, 0.1)])
def test_split_sizes_and_every_row_exactly_once(n, share):
    X, y = tagged(n, labels=np.linspace(-1, 1, n))
    X_tr, y_tr, X_val, y_val = train_validation_split(X, y, share, rng())
    assert len(X_val) == round(n * share) and len(X_tr) + len(X_val) == n
    rows = np.concatenate([X_tr[:, 0], X_val[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(rows), np.arange(n))
    np.testing.assert_array_equal(y_tr, y[X_tr[:, 0].astype(int)])
    np.testing.assert_array_equal(y_val, y[X_val[:, 0].astype(int)])


def test_split_shuffles_and_is_deterministic():
    X, y = tagged(200)
    first = train_validation_split(X, y, 0.3, rng(1))
    second = train_validation_split(X, y, 0.3, rng(1))
    for left, right in zip(first, second, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.all(np.diff(first[0][:, 0]) > 0)


@pytest.mark.parametrize("d", [1, 2])
def test_split_with_zero_share_gives_empty_validation_of_the_right_shape(d):
    X, y = tagged(50, d=d)
    X_tr, y_tr, X_val, y_val = train_validation_split(X, y, 0.0, rng())
    assert X_tr.shape == (50, d) and y_tr.shape == (50,)
    assert X_val.shape == (0, d) and y_val.shape == (0,)
    assert X_val.dtype == X.dtype and y_val.dtype == y.dtype


def test_split_stratifies_integer_labels():
    y = np.array([0] * 90 + [1] * 8 + [2] * 2, dtype=np.int64)
    X, _ = tagged(100)
    _, y_tr, _, y_val = train_validation_split(X, y, 0.1, rng())
    assert set(y_tr) == set(y_val) == {0, 1, 2}
    assert np.bincount(y_val).tolist() == [9, 1, 1]


@pytest.mark.parametrize(("key", "problem"), CLASSIFICATION, ids=CLASSIFICATION_IDS)
def test_split_of_generated_classes_keeps_every_class_in_both_parts(key, problem):
    X, y = make(key, problem, n=60)
    _, y_tr, _, y_val = train_validation_split(X, y, 0.2, rng())
    assert set(y_tr) == set(y_val) == set(y)


@pytest.mark.parametrize("share", [-0.1, 0.95, 1.0, "0.2"])
def test_split_rejects_bad_share(share):
    X, y = tagged(20)
    with pytest.raises(ValueError, match="validation_share"):
        train_validation_split(X, y, share, rng())


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        train_validation_split(np.zeros((5, 2)), np.zeros(4), 0.2, rng())


@pytest.mark.parametrize(("key", "problem"), CASES, ids=CASE_IDS)
@settings(max_examples=15, deadline=None)
@given(n=st.integers(10, 2000), seed=st.integers(0, 2**32 - 1), noise=st.floats(0.0, 1.0))
def test_any_valid_n_gives_exactly_n_rows(key, problem, n, seed, noise):
    X, y = make(key, problem, n=n, noise=noise, seed=seed)
    assert X.shape == (n, DATASETS[key].n_features) and y.shape == (n,)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


def test_split_keeps_at_least_one_row_in_each_part():
    X, y = tagged(12, labels=np.zeros(12))
    assert len(train_validation_split(X, y, 0.01, rng())[2]) == 1
    assert len(train_validation_split(X, y, 0.9, rng())[0]) == 1


def test_overlap1d_noiseless_points_sit_at_their_class_centre():
    X, y = datasets.make("overlap1d", "binary", n=50, noise=0.0, seed=3)
    assert X.shape == (50, 1)
    np.testing.assert_array_equal(X[:, 0], 2.0 * y - 1.0)
