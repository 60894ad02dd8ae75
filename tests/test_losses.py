"""Losses: gradients against finite differences, pinned values, extremes, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from explorer import activations, losses
from explorer.losses import EPSILON, FUSED, LOSSES

H = 1e-6
"""Central-difference step; errors O(H^2) for smooth losses, O(1e-16 / H) from rounding."""
N, K = 5, 3
KEYS = list(LOSSES)


def softmax_rows(rng, n=N, k=K):
    """Probability rows (n, k) well inside (0, 1)."""
    return activations.get("softmax").forward(rng.normal(0.0, 0.7, (n, k)))


def one_hot_rows(rng, n=N, k=K):
    return losses.one_hot(rng.integers(0, k, n), k)


def away_from(values, kinks, gap, rng):
    """Redraw entries of ``values`` until each is at least ``gap`` from every kink."""
    values = np.array(values, dtype=float)
    while (close := np.any([np.abs(values - kink) < gap for kink in kinks], axis=0)).any():
        values[close] = rng.uniform(-2.0, 2.0, close.sum())
    return values


def valid_inputs(key, rng, params=None):
    """(y_true, y_pred) with valid targets for ``key``, away from clipping edges and kinks."""
    params = params or {}
    if key in ("mse", "mae", "huber", "log_cosh", "pinball"):
        y = rng.normal(0.0, 1.0, (N, 2))
        delta = params.get("delta", 1.0)
        e = away_from(rng.uniform(-2.5, 2.5, (N, 2)), [0.0, delta, -delta], 0.05, rng)
        return y, y + e
    if key == "gaussian_nll":  # two target columns: means and log-variances for each
        y = rng.normal(0.0, 1.0, (N, 2))
        return y, np.hstack([y + rng.normal(0.0, 1.5, (N, 2)), rng.uniform(-2.0, 2.0, (N, 2))])
    if key in ("msle", "poisson"):
        return rng.poisson(2.0, (N, 2)).astype(float), rng.uniform(0.3, 5.0, (N, 2))
    if key in ("bce", "focal"):
        return rng.integers(0, 2, N).astype(float), rng.uniform(0.05, 0.95, N)
    if key in ("hinge", "squared_hinge"):
        p = away_from(rng.uniform(-2.0, 2.0, N), [1.0, -1.0], 0.05, rng)
        return rng.integers(0, 2, N).astype(float), p
    if key in ("cce", "kld"):
        return one_hot_rows(rng), softmax_rows(rng)
    if key == "sparse_cce":
        return rng.integers(0, K, N), softmax_rows(rng)
    if key == "categorical_hinge":
        # the true class, the runner-up and the margin all clearly separated from each other
        y, p = one_hot_rows(rng), np.empty((N, K))
        for row in range(N):
            others = rng.permutation([0.4, 1.2, 2.0])[: K - 1] + rng.uniform(0, 0.1, K - 1)
            p[row, y[row] == 0] = others
            p[row, y[row] == 1] = others.max() + rng.choice([-1.5, -0.5, 0.6])
        return y, p
    raise AssertionError(f"no valid inputs for {key}; add a case for the new loss")


def numeric_grad(loss, y, p):
    """d mean-loss / d p by central differences, one element at a time."""
    grad = np.zeros_like(p)
    for index in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[index] += H
        down[index] -= H
        grad[index] = (loss.value(y, up) - loss.value(y, down)) / (2 * H)
    return grad


@pytest.mark.parametrize("key", KEYS)
def test_grad_matches_central_differences(key):
    loss = losses.get(key)
    y, p = valid_inputs(key, np.random.default_rng(KEYS.index(key)))
    analytic = loss.grad(y, p)
    assert analytic.shape == p.shape
    np.testing.assert_allclose(analytic, numeric_grad(loss, y, p), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(("key", "params"), [
    ("huber", {"delta": 0.3}), ("huber", {"delta": 2.0}),
    ("focal", {"gamma": 0.0}), ("focal", {"gamma": 0.5}), ("focal", {"gamma": 3.0}),
    ("focal", {"gamma": 2.0, "alpha": 0.25}), ("focal", {"gamma": 1.0, "alpha": 0.9}),
    ("bce", {"alpha": 0.25}), ("bce", {"alpha": 0.9}),
    ("pinball", {"tau": 0.1}), ("pinball", {"tau": 0.9}),
])
def test_grad_with_parameters_matches_central_differences(key, params):
    loss = losses.get(key, **params)
    y, p = valid_inputs(key, np.random.default_rng(7), params)
    np.testing.assert_allclose(loss.grad(y, p), numeric_grad(loss, y, p), rtol=1e-5, atol=1e-8)


def test_soft_target_kld_grad_matches_central_differences():
    rng = np.random.default_rng(3)
    y, p = softmax_rows(rng), softmax_rows(rng)
    loss = losses.get("kld")
    np.testing.assert_allclose(loss.grad(y, p), numeric_grad(loss, y, p), rtol=1e-5)


# Pinned, hand-computed values.

def test_mse_and_mae_pinned():
    assert losses.get("mse").value([0.0, 1.0], [0.5, 0.5]) == pytest.approx(0.25)
    assert losses.get("mae").value([0.0, 1.0], [0.5, 2.0]) == pytest.approx(0.75)
    # mean over output units within a sample, then over samples
    assert losses.get("mse").value([[0.0, 0.0], [1.0, 1.0]], [[1.0, 3.0], [1.0, 1.0]]) == (
        pytest.approx((1 + 9) / 2 / 2))
    np.testing.assert_allclose(losses.get("mse").grad([0.0, 1.0], [0.5, 0.5]), [0.5, -0.5])


def test_bce_pinned():
    bce = losses.get("bce")
    assert bce.value(1, 0.8) == pytest.approx(-np.log(0.8))
    assert bce.value([1, 0], [0.8, 0.4]) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    # (p - y) / (p (1 - p)) / n
    np.testing.assert_allclose(bce.grad([1, 0], [0.8, 0.4]),
                               [(0.8 - 1) / (0.8 * 0.2) / 2, 0.4 / (0.4 * 0.6) / 2])


def test_hinge_maps_01_labels_to_plus_minus_one():
    hinge, squared = losses.get("hinge"), losses.get("squared_hinge")
    # label 0 -> s = -1: max(0, 1 + 0.5) = 1.5; label 1 -> s = 1: max(0, 1 - 0.3) = 0.7
    assert hinge.value([0, 1], [0.5, 0.3]) == pytest.approx((1.5 + 0.7) / 2)
    assert hinge.value([-1, 1], [0.5, 0.3]) == pytest.approx((1.5 + 0.7) / 2)
    assert squared.value([0, 1], [0.5, 0.3]) == pytest.approx((1.5**2 + 0.7**2) / 2)
    assert hinge.value([0, 1], [-1.5, 2.0]) == 0.0
    np.testing.assert_allclose(hinge.grad([0, 1], [0.5, 0.3]), [0.5, -0.5])


def test_cce_sparse_cce_and_kld_pinned():
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    expected = -(np.log(0.7) + np.log(0.5)) / 2
    assert losses.get("cce").value(y, p) == pytest.approx(expected)
    assert losses.get("cce").value([1, 0], p) == pytest.approx(expected)  # labels one-hot'd
    assert losses.get("sparse_cce").value([1, 0], p) == pytest.approx(expected)
    # one-hot targets have zero entropy: KL equals CE (up to the 1e-7 clipping)
    assert losses.get("kld").value(y, p) == pytest.approx(expected, abs=1e-5)


def test_kld_is_cce_minus_target_entropy_for_soft_targets():
    y = np.array([[0.25, 0.75], [0.5, 0.5]])
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    cce = losses.get("cce").value(y, p)
    entropy = -np.sum(y * np.log(y), axis=1).mean()
    assert cce == pytest.approx(-(np.log(0.5) + 0.5 * np.log(0.9) + 0.5 * np.log(0.1)) / 2)
    assert losses.get("kld").value(y, p) == pytest.approx(cce - entropy)


def test_poisson_pinned():
    assert losses.get("poisson").value([2.0], [3.0]) == pytest.approx(3 - 2 * np.log(3))
    assert losses.get("poisson").value([0.0, 4.0], [1.0, 4.0]) == pytest.approx(
        (1 + 4 - 4 * np.log(4)) / 2)
    np.testing.assert_allclose(losses.get("poisson").grad([2.0], [4.0]), [1 - 2 / 4])


def test_huber_both_branches():
    huber = losses.get("huber")
    assert huber.value([0.0], [0.5]) == pytest.approx(0.5 * 0.5**2)  # quadratic: |e| <= 1
    assert huber.value([0.0], [-3.0]) == pytest.approx(1.0 * (3 - 0.5))  # linear beyond
    assert losses.get("huber", delta=2.0).value([0.0], [3.0]) == pytest.approx(2 * (3 - 1))
    assert losses.get("huber", delta=2.0).value([0.0], [1.5]) == pytest.approx(0.5 * 1.5**2)
    np.testing.assert_allclose(huber.grad([0.0, 0.0], [0.5, -3.0]), [0.25, -0.5])


def test_focal_pinned_and_gamma_zero_is_bce():
    focal = losses.get("focal")
    assert focal.value([1], [0.8]) == pytest.approx(0.2**2 * -np.log(0.8))
    assert focal.value([0], [0.8]) == pytest.approx(0.8**2 * -np.log(0.2))
    assert losses.get("focal", alpha=0.25).value([1], [0.8]) == pytest.approx(
        0.25 * 0.2**2 * -np.log(0.8))
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 20), rng.uniform(0.01, 0.99, 20)
    bce, focal0 = losses.get("bce"), losses.get("focal", gamma=0.0)
    assert focal0.value(y, p) == pytest.approx(bce.value(y, p))
    np.testing.assert_allclose(focal0.grad(y, p), bce.grad(y, p))
    # gamma > 0 only ever shrinks the loss, most for confident correct answers
    assert focal.value(y, p) < bce.value(y, p)


def test_log_cosh_pinned_and_finite_at_huge_errors():
    e = np.linspace(-5.0, 5.0, 21)
    log_cosh = losses.get("log_cosh")
    np.testing.assert_allclose(log_cosh.per_sample(np.zeros(21), e), np.log(np.cosh(e)))
    huge = log_cosh.value([0.0, 0.0], [1e4, -1e6])
    assert np.isfinite(huge)
    assert huge == pytest.approx((1e4 + 1e6) / 2 - np.log(2))
    np.testing.assert_allclose(log_cosh.grad([0.0, 0.0], [1e4, -1e6]), [0.5, -0.5])


def test_msle_and_categorical_hinge_pinned():
    assert losses.get("msle").value([0.0, 3.0], [1.0, 3.0]) == pytest.approx(np.log(2) ** 2 / 2)
    ch = losses.get("categorical_hinge")
    # true class 1 scores 0.5, best other 0.3: max(0, 0.3 - 0.5 + 1) = 0.8
    assert ch.value([[0, 1, 0]], [[0.3, 0.5, 0.2]]) == pytest.approx(0.8)
    assert ch.value([[0, 1, 0]], [[0.3, 1.5, 0.2]]) == 0.0
    np.testing.assert_allclose(ch.grad([[0, 1, 0]], [[0.3, 0.5, 0.2]]), [[1.0, -1.0, 0.0]])


def test_values_are_means_over_samples():
    rng = np.random.default_rng(1)
    for key in KEYS:
        loss = losses.get(key)
        y, p = valid_inputs(key, rng)
        assert loss.value(y, p) == pytest.approx(loss.per_sample(y, p).mean())
        # duplicating every sample leaves a mean unchanged
        y2 = np.concatenate([y, y])
        assert loss.value(y2, np.concatenate([p, p])) == pytest.approx(loss.value(y, p))


# The extremes.

@pytest.mark.parametrize("key", ["bce", "focal"])
def test_binary_losses_finite_at_p_zero_and_one(key):
    loss = losses.get(key)
    y, p = np.array([0, 1, 0, 1]), np.array([0.0, 0.0, 1.0, 1.0])
    value, grad = loss.value(y, p), loss.grad(y, p)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    if key == "bce":  # two confidently wrong answers cost -log(EPSILON) each
        assert value == pytest.approx(-np.log(EPSILON) / 2, rel=1e-6)


@pytest.mark.parametrize("key", ["cce", "kld", "sparse_cce"])
def test_categorical_losses_finite_at_p_zero_and_one(key):
    loss = losses.get(key)
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = [0, 0] if key == "sparse_cce" else losses.one_hot(np.array([0, 0]), 3)
    value, grad = loss.value(y, p), loss.grad(y, p)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(-np.log(EPSILON) / 2, rel=1e-3)


@pytest.mark.parametrize("key", [k for k in KEYS if LOSSES[k].prediction_range != (-np.inf,
                                                                                    np.inf)])
def test_prediction_outside_range_gives_nan(key):
    loss = losses.get(key)
    lo, hi = loss.prediction_range
    y, p = valid_inputs(key, np.random.default_rng(0))
    assert np.isfinite(loss.value(y, p))
    for bad in (lo - 0.1, hi + 0.1):
        if not np.isfinite(bad):
            continue
        q = p.copy()
        q.flat[0] = bad
        assert np.isnan(loss.value(y, q))
        grad = loss.grad(y, q)
        assert np.isnan(grad.flat[0]) and np.all(np.isfinite(grad.flat[1:]))


@pytest.mark.parametrize("key", [k for k in KEYS if LOSSES[k].prediction_range == (-np.inf,
                                                                                   np.inf)])
def test_real_valued_losses_finite_at_large_predictions(key):
    loss = losses.get(key)
    y, p = valid_inputs(key, np.random.default_rng(0))
    p = p * 1e4
    assert np.isfinite(loss.value(y, p)) and np.all(np.isfinite(loss.grad(y, p)))


# The registry.

def test_get_unknown_names_valid_keys():
    with pytest.raises(ValueError, match="unknown loss 'nope'") as info:
        losses.get("nope")
    assert all(key in str(info.value) for key in KEYS)


def test_unknown_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="delta"):
        losses.get("mse", delta=1.0)
    assert losses.get("huber", delta=0.5).params == {"delta": 0.5}
    assert losses.get("huber").params == {"delta": 1.0}  # the registry entry is untouched


def test_bad_targets_are_value_errors():
    with pytest.raises(ValueError, match="class labels"):
        losses.get("sparse_cce").value([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="do not match"):
        losses.get("mse").value([0.0, 1.0, 2.0], [0.0, 1.0])


@pytest.mark.parametrize("key", KEYS)
def test_registry_metadata(key):
    loss = LOSSES[key]
    assert loss.key == key
    assert loss.label and loss.formula and loss.grad_formula
    # a likelihood, or a sentence on why there is none: never both, never neither
    assert (loss.likelihood is None) == bool(loss.why_not_likelihood)
    assert loss.likelihood_sentence.endswith(".")
    assert loss.problems and set(loss.problems) <= set(losses.PROBLEMS)
    lo, hi = loss.prediction_range
    assert lo < hi
    assert loss.reduce in ("mean", "sum")
    for problem in loss.problems:
        assert key in losses.for_problem(problem)


def test_for_problem():
    assert losses.for_problem("counts") == ["mse", "mae", "huber", "log_cosh", "msle", "poisson"]
    assert losses.for_problem("binary")[:2] == ["mse", "bce"]
    assert "bce" not in losses.for_problem("regression")
    with pytest.raises(ValueError, match="unknown problem"):
        losses.for_problem("ranking")


# Fused paths: the same value and dz as the explicit chain, and finite where it vanishes.

def fused_case(activation, key, z, labels):
    """(explicit (value, dz), fused (value, dz), p, y rows) for logits z and class labels."""
    act, loss = activations.get(activation), losses.get(key)
    labels = np.asarray(labels)
    if key == "bce":
        y_loss = y_fused = labels[:, None].astype(float)
    elif key == "sparse_cce":
        y_loss, y_fused = labels, losses.one_hot(labels, z.shape[1])
    else:
        y_loss = y_fused = losses.one_hot(labels, z.shape[1])
    p = act.forward(z)
    value, dp = loss.value_and_grad(y_loss, p)
    explicit = (value, act.vjp(z, p, dp))
    return explicit, FUSED[(activation, key)](y_fused, z, p), p, y_fused


@pytest.mark.parametrize(("activation", "key"), list(FUSED))
def test_fused_equals_explicit_chain(activation, key):
    rng = np.random.default_rng(2)
    k = 1 if key == "bce" else 4
    z, labels = rng.normal(0.0, 2.0, (8, k)), rng.integers(0, max(k, 2), 8)
    (value, dz), (fused_value, fused_dz), p, y = fused_case(activation, key, z, labels)
    if key == "kld":
        # Keras clips the zero targets to 1e-7, adding sum_j 1e-7 log(1e-7 / p_j) per row;
        # the fused path computes the exact KL (0 log 0 = 0)
        p_zero = np.where(y == 0, p, 1.0)
        keras_terms = np.where(y == 0, EPSILON * np.log(EPSILON / p_zero), 0.0).sum() / len(z)
        assert fused_value + keras_terms == pytest.approx(value, rel=1e-10)
    else:
        assert fused_value == pytest.approx(value, rel=1e-10)
    # (for KLD the chain also pushes the clipped zero targets: 1e-7 / p_j, absolutely tiny)
    np.testing.assert_allclose(fused_dz, dz, rtol=1e-8, atol=1e-7 if key == "kld" else 1e-14)
    np.testing.assert_allclose(fused_dz, (p - y) / len(z), rtol=1e-12)


SATURATED = np.array([40.0, -40.0, 1e4, -1e4])


@pytest.mark.parametrize(("activation", "key"), list(FUSED))
def test_fused_stays_correct_at_saturation(activation, key):
    # every row confidently wrong: all the probability on the class that is not the label
    if key == "bce":
        z, labels = SATURATED[:, None], (SATURATED < 0).astype(int)
    else:
        z, labels = np.stack([SATURATED, -SATURATED, 0 * SATURATED], axis=1), [1, 0, 1, 0]
    (_, dz), (fused_value, fused_dz), p, y = fused_case(activation, key, z, labels)
    assert np.isfinite(fused_value) and np.all(np.isfinite(fused_dz))
    np.testing.assert_allclose(fused_dz, (p - y) / len(z), atol=1e-15)
    # the fused gradient is about 1/n in every row; the clipped explicit chain has vanished
    np.testing.assert_allclose(np.abs(fused_dz).max(axis=1), 1 / len(z), rtol=1e-6)
    assert np.all(np.abs(dz) < 1e-6)
    # and the fused value is the true loss, not the clipped -log(1e-7) = 16.1: |z| per row
    # for sigmoid, z_max - z_label = 2|z| per row for the softmax rows above
    expected = np.mean(np.abs(SATURATED)) * (1 if key == "bce" else 2)
    assert fused_value == pytest.approx(expected, rel=1e-6)


# Property tests.

floats = st.floats(-50.0, 50.0, allow_nan=False)
NON_NEGATIVE = ["mse", "mae", "huber", "log_cosh", "msle", "bce", "focal", "hinge",
                "squared_hinge", "cce", "kld", "categorical_hinge", "pinball"]


def arrays(elements, n=6):
    return hnp.arrays(np.float64, st.integers(1, n), elements=elements)


@st.composite
def targets_and_predictions(draw, key):
    """Valid (y, p) for ``key`` drawn by hypothesis, predictions anywhere in range."""
    n = draw(st.integers(1, 6))
    if key in ("bce", "focal", "hinge", "squared_hinge"):
        y = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])))
        p_range = (0.0, 1.0) if key in ("bce", "focal") else (-5.0, 5.0)
        p = draw(hnp.arrays(np.float64, n, elements=st.floats(*p_range)))
        return y, p
    if key in ("cce", "kld", "categorical_hinge"):
        labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
        raw = draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(0.0, 1.0)))
        if key == "categorical_hinge":
            return losses.one_hot(labels, 3), raw * 10 - 5
        p = (raw + 1e-3) / (raw + 1e-3).sum(axis=1, keepdims=True)
        return losses.one_hot(labels, 3), p
    elements = st.floats(0.0, 50.0) if key == "msle" else floats
    y = draw(hnp.arrays(np.float64, n, elements=elements))
    p = draw(hnp.arrays(np.float64, n, elements=elements))
    return y, p


@pytest.mark.parametrize("key", NON_NEGATIVE)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_non_negative(key, data):
    y, p = data.draw(targets_and_predictions(key))
    loss = losses.get(key)
    assert np.all(loss.per_sample(y, p) >= -1e-12)
    assert loss.grad(y, p).shape == np.shape(p)


@pytest.mark.parametrize("key", ["mse", "mae", "huber", "log_cosh", "msle", "pinball"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_zero_at_a_perfect_prediction(key, data):
    y = data.draw(arrays(st.floats(0.0, 50.0) if key == "msle" else floats))
    loss = losses.get(key)
    assert loss.value(y, y) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(loss.grad(y, y), 0.0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(y=arrays(st.sampled_from([0.0, 1.0])), margin=st.floats(1.0, 100.0))
def test_hinge_zero_beyond_the_margin(y, margin):
    p = np.where(y > 0, margin, -margin)
    for key in ("hinge", "squared_hinge"):
        assert losses.get(key).value(y, p) == 0.0
        np.testing.assert_array_equal(losses.get(key).grad(y, p), 0.0)


@pytest.mark.parametrize("key", ["mse", "mae"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mse_mae_symmetric(key, data):
    y = data.draw(arrays(floats))
    p = data.draw(hnp.arrays(np.float64, y.shape, elements=floats))
    loss = losses.get(key)
    assert loss.value(y, p) == loss.value(p, y)


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_grad_shape_equals_prediction_shape(key, n, seed):
    rng = np.random.default_rng(seed)
    y, p = valid_inputs(key, rng)
    y, p = y[:n], p[:n]
    assert losses.get(key).grad(y, p).shape == p.shape


@pytest.mark.parametrize("y,p", [(1.0, 0.2), (1.0, 0.7), (0.0, 0.2), (0.0, 0.7)])
def test_focal_gradient_matches_the_formula_the_app_shows(y, p):
    gamma = 2.0
    expected = (gamma * (1 - p) ** (gamma - 1) * np.log(p) - (1 - p) ** gamma / p if y == 1
                else -gamma * p ** (gamma - 1) * np.log(1 - p) + p ** gamma / (1 - p))
    grad = losses.get("focal").grad(np.array([[y]]), np.array([[p]]))[0, 0]
    assert grad == pytest.approx(expected)


def test_likelihood_status_pinned():
    # NLLs up to scale and constants; Huber and log-cosh too (exp(-loss) is integrable)
    for key in ("mse", "mae", "huber", "log_cosh", "msle", "poisson", "bce", "cce",
                "sparse_cce", "kld", "pinball", "gaussian_nll"):
        assert LOSSES[key].likelihood is not None, key
    for key in ("focal", "hinge", "squared_hinge", "categorical_hinge"):
        assert LOSSES[key].likelihood is None, key
    assert "Huber's least favourable" in LOSSES["huber"].likelihood
    assert "Laplace in the tails" in LOSSES["huber"].likelihood
    assert LOSSES["hinge"].likelihood_sentence.startswith("Hinge is not a likelihood: a margin")
    assert "asymmetric Laplace" in LOSSES["pinball"].likelihood
    assert "Gaussian" in LOSSES["gaussian_nll"].likelihood


def test_margin_losses_decide_at_zero():
    assert {k for k, loss in LOSSES.items() if loss.margin} == {
        "hinge", "squared_hinge", "categorical_hinge"}
    assert LOSSES["hinge"].decision_threshold == 0.0
    assert LOSSES["bce"].decision_threshold == 0.5


def test_categorical_hinge_formula_is_what_the_code_computes():
    # scores (-1, -2, -3), true class 0: the true class counts as 0 among the others
    # (Keras), so the runner-up is max(0, -2, -3) = 0 and the loss is 1 + 0 - (-1) = 2
    assert LOSSES["categorical_hinge"].value([0], [[-1.0, -2.0, -3.0]]) == 2.0
    assert r"(1 - y_j)" in LOSSES["categorical_hinge"].formula
    # a row-wise loss: per-sample values, not a column of element values
    per_sample = LOSSES["categorical_hinge"].per_sample([0, 1], [[2.0, 0.0, 0.5],
                                                                 [0.0, 0.2, 0.0]])
    np.testing.assert_allclose(per_sample, [0.0, 0.8])



# Class-weighted BCE (alpha, as Lin et al. 2017 weight focal loss)

def test_weighted_bce_pinned():
    weighted = losses.get("bce", alpha=0.25)
    assert weighted.value([1], [0.8]) == pytest.approx(0.25 * -np.log(0.8))
    assert weighted.value([0], [0.8]) == pytest.approx(0.75 * -np.log(0.2))
    assert weighted.value([1, 0], [0.8, 0.8]) == pytest.approx(
        (0.25 * -np.log(0.8) + 0.75 * -np.log(0.2)) / 2)
    # w (p - y) / (p (1 - p)) / n
    np.testing.assert_allclose(weighted.grad([1, 0], [0.8, 0.4]),
                               [0.25 * -0.2 / 0.16 / 2, 0.75 * 0.4 / 0.24 / 2])
    assert losses.get("bce").params == {"alpha": None}
    # alpha = 0.5 is half of the unweighted loss
    rng = np.random.default_rng(4)
    y, p = rng.integers(0, 2, 30), rng.uniform(0.01, 0.99, 30)
    assert losses.get("bce", alpha=0.5).value(y, p) == pytest.approx(
        losses.get("bce").value(y, p) / 2)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, -0.2])
def test_weighted_bce_rejects_alpha_outside_0_1(alpha):
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        losses.get("bce", alpha=alpha).value([1, 0], [0.5, 0.5])


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.9])
@pytest.mark.parametrize("q", [0.1, 0.3, 0.8])
def test_weighted_bce_optimum_is_the_reweighted_frequency(alpha, q):
    # 1000 points, a share q of class 1, all given the same p: the mean gradient vanishes at
    # p* = alpha q / (alpha q + (1 - alpha)(1 - q)), not at q
    y = (np.arange(1000) < 1000 * q).astype(float)
    p_star = alpha * q / (alpha * q + (1 - alpha) * (1 - q))
    loss = losses.get("bce", alpha=alpha)
    assert loss.grad(y, np.full(1000, p_star)).sum() == pytest.approx(0.0, abs=1e-9)
    assert loss.grad(y, np.full(1000, p_star - 0.01)).sum() < 0
    assert loss.grad(y, np.full(1000, p_star + 0.01)).sum() > 0


# Pinball (quantile) loss

def test_pinball_pinned():
    pinball = losses.get("pinball", tau=0.9)
    # y above p: tau (y - p); y below p: (1 - tau)(p - y)
    assert pinball.value([1.0], [0.0]) == pytest.approx(0.9)
    assert pinball.value([0.0], [1.0]) == pytest.approx(0.1)
    assert pinball.value([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.5)
    assert pinball.value([2.0, -1.0], [0.5, 1.0]) == pytest.approx((0.9 * 1.5 + 0.1 * 2.0) / 2)
    np.testing.assert_allclose(pinball.grad([1.0, 0.0], [0.0, 1.0]), [-0.45, 0.05])
    np.testing.assert_allclose(pinball.grad([1.0], [1.0]), [0.0])  # the kink: subgradient 0
    assert losses.get("pinball").params == {"tau": 0.5}


def test_pinball_at_one_half_is_half_of_mae():
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    p[0, 0] = y[0, 0]  # include the kink
    pinball, mae = losses.get("pinball"), losses.get("mae")
    assert pinball.value(y, p) == pytest.approx(mae.value(y, p) / 2)
    np.testing.assert_allclose(pinball.grad(y, p), mae.grad(y, p) / 2)


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_pinball_optimum_is_the_tau_quantile(tau):
    # the mean gradient over a sample changes sign at the sample's tau-quantile
    y = np.random.default_rng(6).exponential(size=1001)
    q = np.quantile(y, tau)
    loss = losses.get("pinball", tau=tau)
    assert loss.grad(y, np.full_like(y, q - 1e-3)).sum() < 0
    assert loss.grad(y, np.full_like(y, q + 1e-3)).sum() > 0
    grid = np.linspace(0.0, 5.0, 2001)
    best = grid[np.argmin([loss.value(y, np.full_like(y, c)) for c in grid])]
    assert best == pytest.approx(q, abs=5e-3)


@pytest.mark.parametrize("tau", [0.0, 1.0, 2.0])
def test_pinball_rejects_tau_outside_0_1(tau):
    with pytest.raises(ValueError, match="tau"):
        losses.get("pinball", tau=tau).value([1.0], [0.0])


# Gaussian NLL with a learned variance: two outputs per target

def test_gaussian_nll_pinned():
    nll = LOSSES["gaussian_nll"]
    assert nll.outputs_per_target == 2
    assert {k for k, loss in LOSSES.items() if loss.outputs_per_target != 1} == {"gaussian_nll"}
    # y = 1, mean 0, s = log var = 0: (0 + 1) / 2
    assert nll.value([1.0], [[0.0, 0.0]]) == pytest.approx(0.5)
    # y = 3, mean 1, var 4: (log 4 + 4 / 4) / 2
    assert nll.value([3.0], [[1.0, np.log(4.0)]]) == pytest.approx(1.1931471805599454)
    np.testing.assert_allclose(nll.grad([3.0], [[1.0, np.log(4.0)]]), [[-0.5, 0.0]], atol=1e-15)
    # y = 0, mean 2, var 1: value (0 + 4) / 2 = 2; d/dmean = 2, d/ds = (1 - 4) / 2
    np.testing.assert_allclose(nll.grad([0.0], [[2.0, 0.0]]), [[2.0, -1.5]])
    # the mean over samples: (0.5 + 2) / 2, and the gradients divided by n
    assert nll.value([1.0, 0.0], [[0.0, 0.0], [2.0, 0.0]]) == pytest.approx(1.25)
    np.testing.assert_allclose(nll.grad([1.0, 0.0], [[0.0, 0.0], [2.0, 0.0]]),
                               [[-0.5, 0.0], [1.0, -0.75]])
    # two target columns: units [mean_1, mean_2, s_1, s_2], value a mean over both columns
    assert nll.value([[1.0, 3.0]], [[0.0, 1.0, 0.0, np.log(4.0)]]) == pytest.approx(
        (0.5 + 1.1931471805599454) / 2)
    mean, sigma = nll.split(np.array([[0.5, np.log(4.0)]]))
    np.testing.assert_allclose(mean, [[0.5]])
    np.testing.assert_allclose(sigma, [[2.0]])


def test_gaussian_nll_per_sample_and_shapes():
    nll = LOSSES["gaussian_nll"]
    y, p = valid_inputs("gaussian_nll", np.random.default_rng(8))
    assert nll.per_sample(y, p).shape == (N,)
    assert nll.grad(y, p).shape == (N, 4)
    with pytest.raises(ValueError, match="two outputs per target"):
        nll.value([1.0, 2.0], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="two outputs per target"):
        nll.value([1.0, 2.0, 3.0], [[0.0, 0.0], [0.0, 0.0]])


def test_gaussian_nll_optimum_is_the_sample_mean_and_variance():
    y = np.random.default_rng(9).normal(2.0, 0.7, 500)
    nll = LOSSES["gaussian_nll"]
    best = np.tile([y.mean(), np.log(y.var())], (len(y), 1))
    np.testing.assert_allclose(nll.grad(y, best).sum(axis=0), 0.0, atol=1e-12)
    for step in ([0.05, 0.0], [-0.05, 0.0], [0.0, 0.1], [0.0, -0.1]):
        assert nll.value(y, best + np.array(step)) > nll.value(y, best)


def test_gaussian_nll_floors_the_variance():
    nll = LOSSES["gaussian_nll"]
    # s = -30 would be a variance of 1e-13: the loss uses 1e-6 instead (torch's eps)
    floor = losses.VAR_FLOOR
    assert nll.value([1.0], [[0.0, -30.0]]) == pytest.approx(0.5 * (np.log(floor) + 1 / floor))
    value, grad = nll.value([0.0], [[1e4, -1e4]]), nll.grad([0.0], [[1e4, -1e4]])
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    # a huge variance: the loss is about s / 2 and the mean's gradient vanishes
    assert nll.value([0.0], [[1.0, 800.0]]) == pytest.approx(400.0)
    assert nll.grad([0.0], [[1.0, 800.0]])[0, 0] == 0.0


def test_gaussian_nll_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    y = rng.normal(size=(7, 2))
    mean, s = rng.normal(size=(7, 2)), rng.uniform(-2.0, 2.0, (7, 2))
    nll = LOSSES["gaussian_nll"]
    p = np.hstack([mean, s])
    mean_t = torch.tensor(mean, requires_grad=True, dtype=torch.float64)
    s_t = torch.tensor(s, requires_grad=True, dtype=torch.float64)
    reference = torch.nn.GaussianNLLLoss(full=False, eps=losses.VAR_FLOOR, reduction="mean")(
        mean_t, torch.tensor(y, dtype=torch.float64), torch.exp(s_t))
    reference.backward()
    assert nll.value(y, p) == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(nll.grad(y, p),
                               np.hstack([mean_t.grad.numpy(), s_t.grad.numpy()]), rtol=1e-10)
