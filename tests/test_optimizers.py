"""Optimizers: three steps on pinned arrays, recomputed from the textbook formulas."""

import math

import numpy as np
import pytest

from explorer import optimizers

THETA = np.array([1.0, -2.0, 0.5, 0.0])
GRADS = [np.array([0.5, -1.0, 0.0, 2.0]),
         np.array([0.4, 0.3, -0.2, 2.0]),
         np.array([-0.1, 0.2, 0.1, -3.0])]


def run(optimizer):
    """Apply the three pinned gradients; theta after each step."""
    theta = THETA.copy()
    trajectory = []
    for grad in GRADS:
        optimizer.step(theta, grad.copy())
        trajectory.append(theta.copy())
    return trajectory


def test_sgd():
    expected, theta = [], THETA.copy()
    for grad in GRADS:
        theta = theta - 0.1 * grad
        expected.append(theta)
    np.testing.assert_allclose(run(optimizers.make("sgd", 0.1)), expected, rtol=1e-15)
    # pinned by hand: 1 - 0.1 * (0.5 + 0.4 - 0.1) = 0.92
    assert run(optimizers.make("sgd", 0.1))[-1][0] == pytest.approx(0.92)


def test_sgd_with_momentum():
    lr, mu = 0.1, 0.9
    expected, theta, v = [], THETA.copy(), np.zeros(4)
    for grad in GRADS:
        v = mu * v - lr * grad
        theta = theta + v
        expected.append(theta)
    np.testing.assert_allclose(run(optimizers.make("momentum", lr)), expected, rtol=1e-14)
    np.testing.assert_allclose(run(optimizers.make("sgd", lr, momentum=mu)), expected,
                               rtol=1e-14)
    # pinned: v1 = -0.05, v2 = -0.045 - 0.04 = -0.085, v3 = -0.0765 + 0.01 = -0.0665
    assert run(optimizers.make("momentum", lr))[-1][0] == pytest.approx(1 - 0.05 - 0.085 - 0.0665)


def test_adam_with_bias_correction():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    expected, theta, m, v = [], THETA.copy(), np.zeros(4), np.zeros(4)
    for t, grad in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(theta)
    np.testing.assert_allclose(run(optimizers.make("adam", lr)), expected, rtol=1e-12)
    # the first bias-corrected step is lr * sign(g) (0 where g = 0), whatever g's size
    first = run(optimizers.make("adam", lr))[0]
    np.testing.assert_allclose(first, THETA - lr * np.sign(GRADS[0]), rtol=1e-6)


def test_rmsprop():
    lr, rho, eps = 0.01, 0.9, 1e-7
    expected, theta, s = [], THETA.copy(), np.zeros(4)
    for grad in GRADS:
        s = rho * s + (1 - rho) * grad**2
        theta = theta - lr * grad / (np.sqrt(s) + eps)
        expected.append(theta)
    np.testing.assert_allclose(run(optimizers.make("rmsprop", lr)), expected, rtol=1e-14)
    # first step: s = 0.1 g^2, so the move is lr / sqrt(0.1) = 0.0316 per parameter
    first = run(optimizers.make("rmsprop", lr))[0]
    assert first[0] == pytest.approx(1.0 - lr / math.sqrt(0.1), rel=1e-6)


def test_updates_happen_in_place_with_aligned_state():
    theta = THETA.copy()
    adam = optimizers.make("adam", 0.01)
    adam.step(theta, GRADS[0])
    assert adam.t == 1 and adam.m.shape == adam.v.shape == theta.shape
    assert not np.array_equal(theta, THETA)


def test_make_defaults_and_errors():
    assert optimizers.make("momentum", 0.1).momentum == 0.9
    assert optimizers.make("momentum", 0.1, momentum=0.5).momentum == 0.5
    assert optimizers.make("sgd", 0.1).momentum == 0.0
    assert isinstance(optimizers.make("rmsprop", 0.1), optimizers.RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'.*adam"):
        optimizers.make("lbfgs", 0.1)
    for lr in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="learning rate"):
            optimizers.make("adam", lr)
