"""Activations: derivatives against finite differences, the softmax Jacobian, extremes."""

import numpy as np
import pytest

from explorer import activations
from explorer.activations import ACTIVATIONS, EXP_CLIP, LEAKY_SLOPE

H = 1e-6
KEYS = list(ACTIVATIONS)
ELEMENTWISE = [key for key in KEYS if ACTIVATIONS[key].elementwise]


def pre_activations(seed=0, shape=(6, 4)):
    """z in [-3, 3], at least 0.1 from the ReLU kink at 0."""
    z = np.random.default_rng(seed).uniform(0.1, 3.0, shape)
    return z * np.where(np.arange(z.size).reshape(shape) % 2, 1.0, -1.0)


@pytest.mark.parametrize("key", ELEMENTWISE)
def test_grad_matches_central_differences(key):
    act = activations.get(key)
    z = pre_activations()
    numeric = (act.forward(z + H) - act.forward(z - H)) / (2 * H)
    analytic = act.grad(z)
    assert analytic.shape == z.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_jacobian_matches_central_differences():
    softmax = activations.get("softmax")
    z = pre_activations(1)
    n, k = z.shape
    numeric = np.zeros((n, k, k))
    for b in range(k):
        step = np.zeros(k)
        step[b] = H
        numeric[:, :, b] = (softmax.forward(z + step) - softmax.forward(z - step)) / (2 * H)
    jacobian = softmax.grad(z)
    assert jacobian.shape == (n, k, k)
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-6, atol=1e-10)
    # J = diag(p) - p p^T: symmetric, rows sum to 0 (outputs always sum to 1)
    np.testing.assert_allclose(jacobian, jacobian.transpose(0, 2, 1))
    np.testing.assert_allclose(jacobian.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("key", KEYS)
def test_vjp_is_the_chain_rule(key):
    act = activations.get(key)
    z = pre_activations(2)
    g = np.random.default_rng(3).normal(size=z.shape)
    out = act.forward(z)
    grad = act.grad(z)
    expected = g * grad if act.elementwise else np.einsum("na,nab->nb", g, grad)
    np.testing.assert_allclose(act.vjp(z, out, g), expected, rtol=1e-12, atol=1e-15)
    # and the same as differentiating the scalar sum(g * forward(z)) numerically
    numeric = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += H
        down[index] -= H
        numeric[index] = (np.sum(g * act.forward(up)) - np.sum(g * act.forward(down))) / (2 * H)
    np.testing.assert_allclose(act.vjp(z, out, g), numeric, rtol=1e-5, atol=1e-8)


def test_pinned_values():
    z = np.array([[-2.0, 0.0, 2.0]])
    np.testing.assert_allclose(activations.get("sigmoid").forward(z),
                               [[1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-2))]])
    np.testing.assert_allclose(activations.get("tanh").forward(z), np.tanh(z))
    np.testing.assert_allclose(activations.get("softplus").forward(z), np.log1p(np.exp(z)))
    np.testing.assert_allclose(activations.get("relu").forward(z), [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(activations.get("leaky_relu").forward(z),
                               [[-2.0 * LEAKY_SLOPE, 0.0, 2.0]])
    np.testing.assert_allclose(activations.get("exp").forward(z), np.exp(z))
    softmax = activations.get("softmax").forward(z)
    np.testing.assert_allclose(softmax, np.exp(z) / np.exp(z).sum())
    np.testing.assert_allclose(activations.get("sigmoid").grad([[0.0]]), [[0.25]])
    np.testing.assert_allclose(activations.get("leaky_relu").grad(z[:, [0, 2]]),
                               [[LEAKY_SLOPE, 1.0]])


def test_sigmoid_symmetry_and_softmax_shift_invariance():
    z = pre_activations(4)
    sigmoid, softmax = activations.get("sigmoid"), activations.get("softmax")
    np.testing.assert_allclose(sigmoid.forward(-z), 1.0 - sigmoid.forward(z))
    p = softmax.forward(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax.forward(z + 1000.0), p)


HUGE = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, -1e4, -1e4]])


@pytest.mark.parametrize("key", KEYS)
def test_finite_at_huge_logits_without_overflow_warnings(key):
    act = activations.get(key)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = act.forward(HUGE)
        grad = act.grad(HUGE)
        chained = act.vjp(HUGE, out, np.ones_like(HUGE))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
    assert np.all(np.isfinite(chained))


def test_values_at_huge_logits():
    z = np.array([[1e4], [-1e4]])
    np.testing.assert_array_equal(activations.get("sigmoid").forward(z), [[1.0], [0.0]])
    np.testing.assert_array_equal(activations.get("tanh").forward(z), [[1.0], [-1.0]])
    np.testing.assert_allclose(activations.get("softplus").forward(z), [[1e4], [0.0]])
    np.testing.assert_allclose(activations.get("exp").forward(z), [[np.exp(EXP_CLIP)], [0.0]])
    np.testing.assert_allclose(activations.get("softmax").forward(HUGE),
                               [[1, 0, 0], [0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(activations.get("sigmoid").grad(z), [[0.0], [0.0]])


@pytest.mark.parametrize("key", KEYS)
def test_outputs_stay_in_the_declared_range(key):
    act = activations.get(key)
    lo, hi = act.output_range
    out = act.forward(np.concatenate([pre_activations(5), HUGE[:, :1].repeat(4, axis=1)]))
    assert np.all(out >= lo) and np.all(out <= hi)


def test_get_unknown_names_valid_keys():
    with pytest.raises(ValueError, match="unknown activation 'nope'") as info:
        activations.get("nope")
    assert all(key in str(info.value) for key in KEYS)


def test_registry_metadata():
    assert set(activations.OUTPUT_ACTIVATIONS) <= set(KEYS)
    assert set(activations.HIDDEN_ACTIVATIONS) <= set(KEYS)
    assert "softmax" not in activations.HIDDEN_ACTIVATIONS
    for key, act in ACTIVATIONS.items():
        assert act.key == key and act.label and act.formula.startswith("a(z)")
