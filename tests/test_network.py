"""The network: flat-parameter layout, batched forward, and whole-network gradient checks."""

import numpy as np
import pytest

from explorer import activations, losses, network, training
from explorer.network import Model, Network
from explorer.objective import Objective, decide

H = 1e-6


def data(problem, n=7, d=3, k=1, seed=0):
    """Features (n, d) and raw targets for a problem, as a user would pass them to fit."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, d))
    if problem == "binary":
        return X, np.tile([0, 1], n)[:n]
    if problem == "multiclass":
        return X, np.arange(n) % k
    if problem == "counts":
        return X, rng.poisson(2.0, (n, k)).astype(float)
    return X, rng.normal(0.0, 1.0, (n, k))


# (problem, hidden, hidden activation, output activation, loss, l2, outputs): matched pairs
# and mismatched ones, 0-2 hidden layers, every hidden activation.
CASES = [
    ("binary", (), "relu", "sigmoid", "bce", 0.0, 1),
    ("binary", (5,), "tanh", "sigmoid", "mse", 0.0, 1),
    ("binary", (4, 3), "relu", "tanh", "hinge", 0.1, 1),
    ("binary", (5,), "relu", "sigmoid", "focal", 0.01, 1),
    ("binary", (5,), "sigmoid", "linear", "squared_hinge", 0.0, 1),
    ("multiclass", (5,), "sigmoid", "softmax", "cce", 0.05, 3),
    ("multiclass", (4, 3), "leaky_relu", "softmax", "sparse_cce", 0.0, 3),
    ("multiclass", (5,), "tanh", "softmax", "kld", 0.0, 3),
    ("multiclass", (5,), "tanh", "linear", "categorical_hinge", 0.0, 3),
    ("multiclass", (4,), "relu", "sigmoid", "mse", 0.0, 3),
    ("counts", (5,), "tanh", "exp", "poisson", 0.0, 1),
    ("counts", (), "relu", "softplus", "poisson", 0.0, 1),
    ("counts", (4,), "tanh", "softplus", "msle", 0.0, 1),
    ("regression", (4, 3), "leaky_relu", "linear", "huber", 0.1, 2),
    ("regression", (3, 3), "sigmoid", "tanh", "mse", 0.0, 1),
    ("regression", (5,), "linear", "linear", "log_cosh", 0.0, 1),
]
IDS = [f"{c[0]}-{'x'.join(map(str, c[1])) or '0'}{c[2]}-{c[3]}+{c[4]}" for c in CASES]


def setup(problem, hidden, hidden_activation, output_activation, key, k, seed=0):
    """(network, theta, X, objective) exactly as fit builds them: the objective holds the
    targets encoded for the loss (``objective.y``)."""
    X, y = data(problem, k=k, seed=seed)
    objective = Objective.build(problem, output_activation, key, y, k if k > 1 else None)
    net = Network(X.shape[1], hidden, objective.n_outputs, hidden_activation, output_activation)
    theta = net.init(np.random.default_rng(seed + 1))
    theta[net.weight_mask() == 0] = np.random.default_rng(seed + 2).normal(
        0.0, 0.1, net.n_params - int(net.weight_mask().sum()))  # non-zero biases
    return net, theta, X, objective


def loss_and_grad(net, objective, theta, X, l2=0.0):
    """One batch exactly as fit computes it (``training.batch_step``): (data loss, gradient
    (P,), p, z). theta is not modified."""
    theta = np.array(theta, dtype=float)
    grad = np.zeros_like(theta)
    value, p, z = training.batch_step(net, objective, theta, grad, l2)(X, objective.y)
    return value, grad, p, z


def chain_targets(objective):
    """Targets as ``Loss.value`` / ``Loss.grad`` read them on the explicit chain: integer
    labels for sparse categorical CE, else the objective's encoded rows."""
    return objective.labels if objective.loss.sparse_targets else objective.y


def penalized(net, objective, theta, X, l2):
    """What the gradient is the gradient of: data loss + l2 ||W||^2 / 2."""
    value = loss_and_grad(net, objective, theta, X)[0]
    weights = theta * net.weight_mask()
    return value + 0.5 * l2 * weights @ weights


@pytest.mark.parametrize(("problem", "hidden", "hidden_act", "out_act", "key", "l2", "k"),
                         CASES, ids=IDS)
def test_whole_network_gradient_matches_central_differences(problem, hidden, hidden_act,
                                                            out_act, key, l2, k):
    net, theta, X, objective = setup(problem, hidden, hidden_act, out_act, key, k)
    value, grad, p, z = loss_and_grad(net, objective, theta, X, l2=l2)
    assert np.isfinite(value) and grad.shape == theta.shape
    numeric = np.zeros_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += H
        down[i] -= H
        numeric[i] = (penalized(net, objective, up, X, l2)
                      - penalized(net, objective, down, X, l2)) / (2 * H)
    assert np.abs(numeric).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # what the step reports is the loss of the network's own predictions
    np.testing.assert_allclose(p, net.forward_many(theta, X))
    assert value == pytest.approx(exact_value(objective, p), rel=1e-9)


def exact_value(objective, p):
    """The loss of predictions p as the engine defines it; for KLD on one-hot targets the
    exact KL, -log p_y (the fused path), where Keras' clip adds ~1e-7 log 1e-7 per class."""
    if objective.loss.key == "kld":
        return float(np.mean(-np.log(p[np.arange(len(p)), objective.labels])))
    return objective.loss.value(chain_targets(objective), p)


@pytest.mark.parametrize(("activation", "key"), list(losses.FUSED))
def test_fused_and_explicit_paths_give_the_same_network_gradient(activation, key):
    problem, k = ("binary", 1) if key == "bce" else ("multiclass", 3)
    net, theta, X, objective = setup(problem, (5,), "tanh", activation, key, k, seed=3)
    assert objective.fused is losses.FUSED[(activation, key)]  # fit takes the fused path
    fused_value, fused_grad, _, _ = loss_and_grad(net, objective, theta, X, l2=0.01)
    # the explicit chain, written out: loss.grad -> activation.vjp -> backward, + l2 W
    zs, inputs, z, p = net.forward_cached(theta, X)
    value, dp = objective.loss.value_and_grad(chain_targets(objective), p)
    dz = objective.activation.vjp(z, p, dp)
    grad = net.backward(theta, (zs, inputs), dz, np.zeros_like(theta))
    grad += 0.01 * net.weight_mask() * theta
    if key == "kld":  # Keras' clipped zero targets: ~1e-7 per class in value and gradient
        assert fused_value == pytest.approx(exact_value(objective, p), rel=1e-10)
        assert fused_value == pytest.approx(value, rel=1e-5)
        np.testing.assert_allclose(fused_grad, grad, rtol=1e-5, atol=1e-6)
        return
    assert fused_value == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(fused_grad, grad, rtol=1e-8, atol=1e-14)


def test_forward_cached_and_backward_chain_the_loss_gradient():
    net, theta, X, objective = setup("binary", (4, 3), "tanh", "sigmoid", "mse", 1)
    zs, inputs, z, p = net.forward_cached(theta, X)
    assert [a.shape for a in inputs] == [(7, 3), (7, 4), (7, 3)]
    assert [h.shape for h in zs] == [(7, 4), (7, 3)] and z.shape == p.shape == (7, 1)
    np.testing.assert_allclose(z, net.pre_activations(theta, X))
    dz = activations.get("sigmoid").vjp(z, p, objective.loss.grad(objective.y, p))
    grad = net.backward(theta, (zs, inputs), dz, np.zeros_like(theta))
    np.testing.assert_allclose(grad, loss_and_grad(net, objective, theta, X)[1])


@pytest.mark.parametrize(("hidden", "hidden_activation", "output_activation", "k"),
                         [((), "relu", "sigmoid", 1), ((6,), "tanh", "softmax", 3),
                          ((5, 4), "sigmoid", "linear", 2), ((4, 3), "relu", "exp", 1),
                          ((3, 4), "leaky_relu", "tanh", 2), ((4,), "linear", "softplus", 1)])
def test_forward_many_equals_separate_forward_calls(hidden, hidden_activation,
                                                    output_activation, k):
    """The stacked pass equals forward_cached (layer by layer, the registry's activations),
    one parameter vector at a time."""
    net = Network(2, hidden, k, hidden_activation, output_activation)
    rng = np.random.default_rng(0)
    thetas = np.stack([net.init(rng) + rng.normal(0.0, 0.5, net.n_params) for _ in range(4)])
    X = rng.normal(size=(9, 2))
    stacked = net.forward_many(thetas, X)
    z_stacked = net.pre_activations(thetas, X)
    assert stacked.shape == z_stacked.shape == (4, 9, k)
    for s, theta in enumerate(thetas):
        _, _, z, p = net.forward_cached(theta, X)
        np.testing.assert_allclose(stacked[s], p, rtol=1e-12)
        np.testing.assert_allclose(z_stacked[s], z, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(net.forward_many(theta, X), p, rtol=1e-12)
    np.testing.assert_allclose(net.pre_activations(thetas, X)[2],
                               net.pre_activations(thetas[2], X), rtol=1e-12)


@pytest.mark.parametrize("hidden_activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_pre_activations_from_a_shared_prefix_and_a_reused_workspace(hidden_activation):
    """start > 0 (thetas share the layers before it) and a Workspace reused across calls give
    the same z as the plain pass."""
    net = Network(3, (5, 4), 2, hidden_activation, "linear")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(11, 3))
    base = net.init(rng) + rng.normal(0.0, 0.3, net.n_params)
    thetas = np.repeat(base[None], 6, axis=0)
    w2 = net.slices[1][0]  # vary layer 2's weights only: layers before index 1 are shared
    thetas[:, w2] += rng.normal(0.0, 0.5, (6, w2.stop - w2.start))
    expected = np.stack([net.forward_cached(theta, X)[2] for theta in thetas])
    workspace = network.Workspace()
    for start in (0, 1):
        for _ in range(2):  # the second call reuses the buffers
            z = net.pre_activations(thetas, X, start, workspace)
            np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-15)
    # fewer vectors than the buffers hold: the leading part, still right
    np.testing.assert_allclose(net.pre_activations(thetas[:2], X, 1, workspace), expected[:2],
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("key", activations.HIDDEN_ACTIVATIONS)
def test_activate_in_place_equals_the_registry_forward(key):
    z = np.concatenate([np.linspace(-50.0, 50.0, 201), [-800.0, -1e-300, -0.0, 0.0, 1.0,
                                                        1e-300, 800.0]]).reshape(2, 8, 13)
    expected = activations.get(key).forward(z.copy())
    work = z.copy()
    with np.errstate(over="ignore"):  # sigmoid: exp(800) overflows to inf, then exactly 0
        network._activate_in_place(key, work)
    np.testing.assert_allclose(work, expected, rtol=1e-15, atol=0)
    # KEEPS_ONE: exactly the activations that leave the bias column of ones alone
    assert (key in network.KEEPS_ONE) == (activations.get(key).forward(np.ones(1))[0] == 1.0)


def test_flat_layout_and_views():
    network = Network(2, (3,), 4)
    assert network.sizes == (2, 3, 4)
    assert network.n_params == 2 * 3 + 3 + 3 * 4 + 4
    theta = np.arange(network.n_params, dtype=float)
    (W1, b1), (W2, b2) = network.layers(theta)
    np.testing.assert_array_equal(W1, np.arange(6).reshape(2, 3))  # [W1, b1, W2, b2]
    np.testing.assert_array_equal(b1, [6, 7, 8])
    np.testing.assert_array_equal(b2, [21, 22, 23, 24])
    W2[0, 0] = -1.0  # views: writing a layer writes theta
    assert theta[9] == -1.0
    np.testing.assert_array_equal(network.weight_mask(),
                                  np.r_[np.ones(6), np.zeros(3), np.ones(12), np.zeros(4)])
    names = network.parameter_names()
    assert len(names) == network.n_params
    assert names[:2] == ["W1[0→0]", "W1[0→1]"] and names[6] == "b1[0]"
    assert names[-1] == "b2[3]"


def test_init_scales_and_determinism():
    relu = Network(64, (64,), 64, "relu", "linear")
    tanh = Network(64, (64,), 64, "tanh", "linear")
    theta = relu.init(np.random.default_rng(0))
    np.testing.assert_array_equal(theta, relu.init(np.random.default_rng(0)))
    (W1, b1), (W2, _) = relu.layers(theta)
    assert W1.std() == pytest.approx(np.sqrt(2 / 64), rel=0.05)  # He before ReLU
    assert W2.std() == pytest.approx(np.sqrt(2 / 128), rel=0.05)  # Glorot before linear
    assert not b1.any()
    (W1, _), _ = tanh.layers(tanh.init(np.random.default_rng(0)))
    assert W1.std() == pytest.approx(np.sqrt(2 / 128), rel=0.05)  # Glorot before tanh


@pytest.mark.parametrize("hidden", [(1, 2, 3, 4, 5), (65,), (0,)])
def test_architecture_limits(hidden):
    with pytest.raises(ValueError, match="0 to 4 layers of 1 to 64 units"):
        Network(2, hidden, 1)


def test_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Network(2, (3,), 1, hidden_activation="swish")


def test_model_predict_and_decide():
    net = Network(1, (), 1, "relu", "sigmoid")
    model = Model(net, np.array([2.0, -1.0]), "binary", "bce")
    X = np.array([[0.0], [1.0]])
    np.testing.assert_allclose(model.predict(X), 1 / (1 + np.exp([1.0, -1.0])))
    np.testing.assert_array_equal(model.predict_class(X), [0, 1])
    assert model.threshold == 0.5
    np.testing.assert_array_equal(decide(np.array([[0.1, 0.7, 0.2]]), 0.5), [1])
    np.testing.assert_array_equal(decide(np.array([[-0.2], [0.3]]), 0.0), [0, 1])
    # a margin loss: the threshold comes from the loss, and the class is the score's sign
    hinge = Model(Network(1, (), 1, "relu", "tanh"), np.array([2.0, -1.0]), "binary", "hinge")
    assert hinge.threshold == 0.0 == losses.get("hinge").decision_threshold
    assert losses.get("hinge").margin is True
    np.testing.assert_array_equal(hinge.predict_class(np.array([[0.4], [0.6]])), [0, 1])
    objective = hinge.objective(np.array([0, 1]))
    assert objective.threshold == 0.0 and objective.n_outputs == 1
    np.testing.assert_array_equal(objective.labels, [0, 1])
