"""The Objective: one place that decides encoding, fused-or-chained and the threshold."""

import numpy as np
import pytest

from explorer import activations, losses
from explorer.objective import Objective, decide, prepare_targets

rng = np.random.default_rng(3)


def test_targets_are_encoded_the_way_each_loss_reads_them():
    binary = Objective.build("binary", "sigmoid", "bce", [0, 1, 1])
    np.testing.assert_array_equal(binary.y, [[0.0], [1.0], [1.0]])
    np.testing.assert_array_equal(binary.labels, [0, 1, 1])
    onehot = Objective.build("multiclass", "softmax", "cce", [2, 0], n_classes=3)
    np.testing.assert_array_equal(onehot.y, [[0, 0, 1], [1, 0, 0]])
    # sparse CE: labels on the chain path, one-hot rows on the fused softmax path
    fused = Objective.build("multiclass", "softmax", "sparse_cce", [2, 0], n_classes=3)
    chained = Objective.build("multiclass", "sigmoid", "sparse_cce", [2, 0], n_classes=3)
    assert fused.fused is not None and chained.fused is None
    np.testing.assert_array_equal(fused.y, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(chained.y, [2, 0])
    counts = Objective.build("counts", "exp", "poisson", [3.0, 0.0])
    np.testing.assert_array_equal(counts.y, [[3.0], [0.0]])
    assert counts.n_outputs == 1 and onehot.n_outputs == 3


@pytest.mark.parametrize(("problem", "activation", "loss", "k"), [
    ("binary", "sigmoid", "bce", 1), ("multiclass", "softmax", "cce", 3),
    ("multiclass", "softmax", "sparse_cce", 3)])
def test_fused_path_equals_the_explicit_chain(problem, activation, loss, k):
    labels = rng.integers(0, max(k, 2), 20)
    objective = Objective.build(problem, activation, loss, labels, n_classes=k if k > 1 else None)
    assert objective.fused is not None
    z = rng.normal(0.0, 2.0, (20, k))
    value, dz, p = objective.value_and_dz(z)
    loss_obj, act = losses.get(loss), activations.get(activation)
    y_chain = labels if loss_obj.sparse_targets else objective.y
    chain_value, dp = loss_obj.value_and_grad(y_chain, act.forward(z))
    np.testing.assert_allclose(value, chain_value, rtol=1e-10)
    np.testing.assert_allclose(dz, act.vjp(z, p, dp), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(dz, (p - objective.y) / 20, rtol=1e-12)


@pytest.mark.parametrize(("problem", "activation", "loss"), [
    ("binary", "sigmoid", "mse"), ("binary", "linear", "hinge"), ("regression", "linear", "huber"),
    ("counts", "softplus", "poisson"), ("multiclass", "linear", "categorical_hinge")])
def test_chained_gradient_matches_central_differences(problem, activation, loss):
    targets = {"binary": rng.integers(0, 2, 6), "regression": rng.normal(size=6),
               "counts": rng.poisson(2.0, 6).astype(float),
               "multiclass": rng.integers(0, 3, 6)}[problem]
    objective = Objective.build(problem, activation, loss, targets,
                                n_classes=3 if problem == "multiclass" else None)
    z = rng.normal(0.0, 1.0, (6, objective.n_outputs))
    _, dz, _ = objective.value_and_dz(z)
    numeric = np.zeros_like(z)
    h = 1e-6
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (objective.value(up) - objective.value(down)) / (2 * h)
    np.testing.assert_allclose(dz, numeric, rtol=1e-5, atol=1e-8)


def test_per_sample_means_to_the_value_and_many_parameter_sets_agree():
    objective = Objective.build("binary", "sigmoid", "bce", rng.integers(0, 2, 7))
    z = rng.normal(0.0, 3.0, (4, 7, 1))
    many = objective.values_many(z)
    for s in range(4):
        assert many[s] == pytest.approx(objective.value_and_dz(z[s])[0], rel=1e-12)
        assert objective.per_sample(z[s]).mean() == pytest.approx(many[s], rel=1e-12)
    # grows its tiled targets when more sets arrive later
    assert objective.values_many(np.concatenate([z, z])).shape == (8,)


def test_decision_threshold_exactly_at_0_and_0_5():
    assert Objective.build("binary", "sigmoid", "bce").threshold == 0.5
    assert Objective.build("binary", "linear", "hinge").threshold == 0.0
    np.testing.assert_array_equal(decide(np.array([[0.5], [0.5000001], [0.4999]]), 0.5),
                                  [0, 1, 0])
    hinge = Objective.build("binary", "linear", "hinge")
    np.testing.assert_array_equal(hinge.decide(np.array([[0.0], [1e-9], [-1e-9]])), [0, 1, 0])
    np.testing.assert_array_equal(decide(np.array([[0.1, 0.7, 0.2]]), 0.5), [1])


def test_bad_targets_say_what_to_fix():
    with pytest.raises(ValueError, match="0 or 1"):
        Objective.build("binary", "sigmoid", "bce", [0, 2])
    with pytest.raises(ValueError, match="non-negative"):
        prepare_targets("counts", [1.0, -1.0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        prepare_targets("regression", [1.0, np.inf])
    with pytest.raises(ValueError, match="unknown problem"):
        prepare_targets("ranking", [1.0])
