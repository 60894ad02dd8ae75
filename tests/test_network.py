"""The network: flat-parameter layout, batched forward, and whole-network gradient checks."""

import numpy as np
import pytest

from explorer import activations, losses, training
from explorer.network import Model, Network, decide

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
    """(network, theta, X, y encoded for the loss, loss) exactly as fit builds them."""
    X, y = data(problem, k=k, seed=seed)
    loss = losses.get(key)
    targets, n_outputs, _ = training.prepare_targets(problem, y, k if k > 1 else None)
    network = Network(X.shape[1], hidden, n_outputs, hidden_activation, output_activation)
    theta = network.init(np.random.default_rng(seed + 1))
    theta[network.weight_mask() == 0] = np.random.default_rng(seed + 2).normal(
        0.0, 0.1, network.n_params - int(network.weight_mask().sum()))  # non-zero biases
    return network, theta, X, training.loss_targets(loss, problem, targets, n_outputs), loss


def objective(network, theta, X, y, loss, l2):
    """What the gradient is the gradient of: data loss + l2 ||W||^2 / 2."""
    value = training.loss_and_grad(network, theta, X, y, loss)[0]
    weights = theta * network.weight_mask()
    return value + 0.5 * l2 * weights @ weights


@pytest.mark.parametrize(("problem", "hidden", "hidden_act", "out_act", "key", "l2", "k"),
                         CASES, ids=IDS)
def test_whole_network_gradient_matches_central_differences(problem, hidden, hidden_act,
                                                            out_act, key, l2, k):
    network, theta, X, y, loss = setup(problem, hidden, hidden_act, out_act, key, k)
    value, grad, p, z = training.loss_and_grad(network, theta, X, y, loss, l2=l2)
    assert np.isfinite(value) and grad.shape == theta.shape
    numeric = np.zeros_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += H
        down[i] -= H
        numeric[i] = (objective(network, up, X, y, loss, l2)
                      - objective(network, down, X, y, loss, l2)) / (2 * H)
    assert np.abs(numeric).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # what loss_and_grad reports is the loss of the network's own predictions
    np.testing.assert_allclose(p, network.forward(theta, X))
    assert value == pytest.approx(loss.value(y, p), rel=1e-9)


@pytest.mark.parametrize(("activation", "key"), list(losses.FUSED))
def test_fused_and_explicit_paths_give_the_same_network_gradient(activation, key):
    problem, k = ("binary", 1) if key == "bce" else ("multiclass", 3)
    network, theta, X, y, loss = setup(problem, (5,), "tanh", activation, key, k, seed=3)
    fused = training.loss_and_grad(network, theta, X, y, loss, l2=0.01)
    explicit = training.loss_and_grad(network, theta, X, y, loss, l2=0.01, fused=False)
    assert fused[0] == pytest.approx(explicit[0], rel=1e-10)
    np.testing.assert_allclose(fused[1], explicit[1], rtol=1e-8, atol=1e-14)


def test_forward_cached_and_backward_chain_the_loss_gradient():
    network, theta, X, y, loss = setup("binary", (4, 3), "tanh", "sigmoid", "mse", 1)
    zs, inputs, z, p = network.forward_cached(theta, X)
    assert [a.shape for a in inputs] == [(7, 3), (7, 4), (7, 3)]
    assert [h.shape for h in zs] == [(7, 4), (7, 3)] and z.shape == p.shape == (7, 1)
    np.testing.assert_allclose(z, network.pre_activation(theta, X))
    dz = activations.get("sigmoid").vjp(z, p, loss.grad(y, p))
    grad = network.backward(theta, (zs, inputs), dz, np.zeros_like(theta))
    np.testing.assert_allclose(grad, training.loss_and_grad(network, theta, X, y, loss)[1])


@pytest.mark.parametrize(("hidden", "output_activation", "k"),
                         [((), "sigmoid", 1), ((6,), "softmax", 3), ((5, 4), "linear", 2)])
def test_forward_many_equals_separate_forward_calls(hidden, output_activation, k):
    network = Network(2, hidden, k, "tanh", output_activation)
    rng = np.random.default_rng(0)
    thetas = np.stack([network.init(rng) for _ in range(4)])
    X = rng.normal(size=(9, 2))
    stacked = network.forward_many(thetas, X)
    assert stacked.shape == (4, 9, k)
    for s, theta in enumerate(thetas):
        np.testing.assert_allclose(stacked[s], network.forward(theta, X), rtol=1e-12)
    np.testing.assert_allclose(network.pre_activation(thetas, X)[2],
                               network.pre_activation(thetas[2], X), rtol=1e-12)


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
    network = Network(1, (), 1, "relu", "sigmoid")
    model = Model(network, np.array([2.0, -1.0]), "binary", "bce")
    X = np.array([[0.0], [1.0]])
    np.testing.assert_allclose(model.predict(X), 1 / (1 + np.exp([1.0, -1.0])))
    np.testing.assert_array_equal(model.predict_class(X), [0, 1])
    np.testing.assert_array_equal(decide(np.array([[0.1, 0.7, 0.2]]), 0.5), [1])
    np.testing.assert_array_equal(decide(np.array([[-0.2], [0.3]]), 0.0), [0, 1])
