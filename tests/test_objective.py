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


# A decision threshold chosen by the user (binary)


def test_threshold_override_moves_the_decision_and_nothing_else():
    default = Objective.build("binary", "sigmoid", "bce", [0, 1, 1])
    moved = Objective.build("binary", "sigmoid", "bce", [0, 1, 1], threshold=0.2)
    assert default.threshold == 0.5 and default.threshold_override is None
    assert moved.threshold == 0.2 and moved.with_targets([1, 0]).threshold == 0.2
    outputs = np.array([[0.1], [0.3], [0.6]])
    np.testing.assert_array_equal(default.decide(outputs), [0, 0, 1])
    np.testing.assert_array_equal(moved.decide(outputs), [0, 1, 1])
    # the loss and its gradient do not depend on the threshold
    z = rng.normal(size=(3, 1))
    for a, b in zip(default.value_and_dz(z), moved.value_and_dz(z)):
        np.testing.assert_array_equal(a, b)
    assert Objective.build("binary", "linear", "hinge", threshold=0.5).threshold == 0.5
    assert Objective.build("binary", "linear", "hinge").threshold == 0.0


@pytest.mark.parametrize(("problem", "threshold", "message"), [
    ("regression", 0.5, "binary problems"), ("multiclass", 0.5, "largest output"),
    ("binary", float("nan"), "finite"), ("binary", "high", "finite")])
def test_bad_thresholds_say_what_to_fix(problem, threshold, message):
    with pytest.raises(ValueError, match=message):
        Objective.build(problem, "sigmoid", "mse", threshold=threshold)


def test_fit_takes_a_threshold_that_the_accuracy_and_the_model_use():
    import explorer

    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    kwargs = dict(problem="binary", hidden=(4,), epochs=5, batch_size=20, seed=1,
                  validation_data=(X, y))
    model, history = explorer.fit(X, y, **kwargs)
    same, same_history = explorer.fit(X, y, threshold=0.5, **kwargs)
    assert model.threshold_override is None and model.threshold == 0.5
    np.testing.assert_array_equal(model.theta, same.theta)  # training is untouched
    assert history.equals(same_history)
    strict, strict_history = explorer.fit(X, y, threshold=1.0, **kwargs)
    np.testing.assert_array_equal(strict.theta, model.theta)
    assert strict.threshold == 1.0 and strict.objective().threshold == 1.0
    # a sigmoid never exceeds 1: everything is class 0, and the accuracy says so
    np.testing.assert_array_equal(strict.predict_class(X), 0)
    assert strict_history["val_accuracy"].iloc[-1] == pytest.approx(1 - y.mean())
    with pytest.raises(ValueError, match="binary problems"):
        explorer.fit(X, X[:, 0], problem="regression", epochs=1, threshold=0.5)


# A class-weighted BCE keeps the fused logit path


def test_weighted_bce_fused_path_equals_the_explicit_chain():
    labels = rng.integers(0, 2, 20)
    objective = Objective.build("binary", "sigmoid", "bce", labels, loss_params={"alpha": 0.8})
    assert objective.fused is not None
    z = rng.normal(0.0, 2.0, (20, 1))
    value, dz, p = objective.value_and_dz(z)
    loss = losses.get("bce", alpha=0.8)
    chain_value, dp = loss.value_and_grad(objective.y, p)
    assert value == pytest.approx(chain_value, rel=1e-10)
    np.testing.assert_allclose(dz, activations.get("sigmoid").vjp(z, p, dp), rtol=1e-9)
    weight = np.where(objective.y == 1, 0.8, 0.2)
    np.testing.assert_allclose(dz, weight * (p - objective.y) / 20, rtol=1e-12)
    assert objective.per_sample(z).mean() == pytest.approx(value, rel=1e-12)
    # saturated and confidently wrong: finite, w |z| per row, gradient w / n
    z = np.array([[40.0], [-40.0]])
    wrong = objective.with_targets([0, 1])
    value, dz, _ = wrong.value_and_dz(z)
    assert value == pytest.approx((0.2 * 40 + 0.8 * 40) / 2)
    np.testing.assert_allclose(dz, [[0.2 / 2], [-0.8 / 2]], rtol=1e-12)


# A loss with a learned scale: two output units per target column


def test_learned_scale_doubles_the_outputs_and_activates_the_means_only():
    one = Objective.build("regression", "tanh", "gaussian_nll", [1.0, 2.0])
    assert one.learns_scale and one.n_outputs == 2
    two = Objective.build("regression", "linear", "gaussian_nll", [[1.0, 2.0], [0.0, 1.0]])
    assert two.n_outputs == 4 and two.y.shape == (2, 2)
    assert Objective.build("regression", "linear", "gaussian_nll").n_outputs == 2
    z = np.array([[0.5, -1.0], [3.0, 2.0]])
    np.testing.assert_allclose(one.outputs(z), [[np.tanh(0.5), -1.0], [np.tanh(3.0), 2.0]])
    np.testing.assert_allclose(one.point(one.outputs(z)), np.tanh(z[:, :1]))
    np.testing.assert_allclose(one.sigma(one.outputs(z)), np.exp(z[:, 1:] / 2))
    # stacked parameter sets (c, n, 2k) too
    np.testing.assert_allclose(one.outputs(z[None])[0], one.outputs(z))
    plain = Objective.build("regression", "tanh", "mse", [1.0])
    np.testing.assert_array_equal(plain.point(z), z)
    with pytest.raises(ValueError, match="no noise level"):
        plain.sigma(z)


@pytest.mark.parametrize("activation", ["linear", "tanh", "softplus"])
def test_learned_scale_gradient_matches_central_differences(activation):
    targets = rng.normal(size=(6, 2))
    objective = Objective.build("regression", activation, "gaussian_nll", targets)
    z = rng.normal(0.0, 1.0, (6, 4))
    # a caller's p with the activation on every unit (the network's) must not be used
    value, dz, p = objective.value_and_dz(z, p=activations.get(activation).forward(z))
    np.testing.assert_allclose(p, objective.outputs(z))
    assert value == pytest.approx(objective.value(z))
    numeric = np.zeros_like(z)
    h = 1e-6
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (objective.value(up) - objective.value(down)) / (2 * h)
    np.testing.assert_allclose(dz, numeric, rtol=1e-5, atol=1e-8)
    many = objective.values_many(np.stack([z, 2 * z]))
    assert many[0] == pytest.approx(value, rel=1e-12)


def test_fit_with_a_learned_scale_predicts_mean_and_sigma():
    import explorer

    X = rng.uniform(-1.0, 1.0, (80, 1))
    y = 2.0 * X[:, 0] + rng.normal(0.0, 0.3, 80)
    model, history = explorer.fit(X, y, loss="gaussian_nll", hidden=(4,), epochs=5, seed=2,
                                  validation_data=(X, y))
    assert model.network.n_outputs == 2
    assert list(history.columns) == ["epoch", "loss", "grad_norm", "rmse", "mae", "val_loss",
                                     "val_rmse", "val_mae"]
    out = model.predict(X)
    assert out.shape == (80, 2)
    z = model.network.pre_activations(model.theta, X)
    np.testing.assert_allclose(out[:, 0], z[:, 0])
    np.testing.assert_allclose(out[:, 1], np.exp(z[:, 1] / 2))
    # the metrics read the mean only
    rmse = np.sqrt(np.mean((out[:, 0] - y) ** 2))
    assert history["val_rmse"].iloc[-1] == pytest.approx(rmse)
    # a mean through tanh: the activation reaches the mean, not sigma
    tanh_model, _ = explorer.fit(X, y, loss="gaussian_nll", output_activation="tanh",
                                 hidden=(4,), epochs=2, seed=2)
    z = tanh_model.network.pre_activations(tanh_model.theta, X)
    np.testing.assert_allclose(tanh_model.predict(X), np.c_[np.tanh(z[:, 0]),
                                                            np.exp(z[:, 1] / 2)])


# ----------------------------------------------------------------------------------------
# Exact gradients at any z: every pair the app computes in z, against its closed form written
# out here in 50-digit arithmetic (mpmath), far beyond where a 1e-7 clip would bite.

import mpmath  # noqa: E402  (SymPy's own dependency)

mpmath.mp.dps = 50
FAR_Z = (-30.0, -20.0, 20.0, 30.0)


def _sig(z):
    return 1 / (1 + mpmath.exp(-z))


def _softplus(z):
    return mpmath.log(1 + mpmath.exp(z))


def _focal(z, y, gamma, alpha):
    """(loss, dL/dz) of focal loss on σ(z), straight from -(1 - p_t)^γ log p_t."""
    z = mpmath.mpf(z)

    def loss(zz):
        p = _sig(zz)
        pt = p if y == 1 else 1 - p
        w = 1 if alpha is None else (alpha if y == 1 else 1 - alpha)
        return -w * (1 - pt) ** gamma * mpmath.log(pt)
    return loss(z), mpmath.diff(loss, z)


CLOSED_FORMS = {
    # (problem, activation, loss, params, target): (loss(z), dL/dz) per sample
    ("counts", "exp", "poisson", None, 3.0):
        lambda z, y: (mpmath.exp(z) - y * z, mpmath.exp(z) - y),
    ("counts", "exp", "poisson", None, 0.0):
        lambda z, y: (mpmath.exp(z), mpmath.exp(z)),
    ("counts", "softplus", "poisson", None, 3.0):
        lambda z, y: (_softplus(z) - y * mpmath.log(_softplus(z)),
                      _sig(z) * (1 - y / _softplus(z))),
    ("binary", "sigmoid", "bce", None, 1):
        lambda z, y: (mpmath.log(1 + mpmath.exp(-z)), _sig(z) - 1),
    ("binary", "sigmoid", "bce", None, 0):
        lambda z, y: (mpmath.log(1 + mpmath.exp(z)), _sig(z)),
    ("binary", "sigmoid", "focal", None, 1): lambda z, y: _focal(z, 1, 2, None),
    ("binary", "sigmoid", "focal", None, 0): lambda z, y: _focal(z, 0, 2, None),
    ("binary", "sigmoid", "focal", (("alpha", 0.25),), 1): lambda z, y: _focal(z, 1, 2, 0.25),
    ("binary", "sigmoid", "focal", (("alpha", 0.25), ("gamma", 0.5)), 0):
        lambda z, y: _focal(z, 0, 0.5, 0.25),
}


@pytest.mark.parametrize("case", list(CLOSED_FORMS), ids=lambda c: f"{c[1]}-{c[2]}-{c[3]}-{c[4]}")
def test_computed_in_z_the_gradient_is_the_closed_form_at_any_z(case):
    problem, activation, loss, params, target = case
    objective = Objective.build(problem, activation, loss, [target] * len(FAR_Z),
                                loss_params=dict(params or ()))
    z = np.array(FAR_Z)[:, None]
    value, dz, _ = objective.value_and_dz(z)
    per_sample = objective.per_sample(z)
    want = [CLOSED_FORMS[case](mpmath.mpf(v), target) for v in FAR_Z]
    want_loss = np.array([float(w[0]) for w in want])
    want_dz = np.array([float(w[1]) for w in want])
    np.testing.assert_allclose(dz[:, 0] * len(FAR_Z), want_dz, rtol=1e-9, atol=1e-300)
    # a loss near 0 (confidently right) may lose its last digits to softplus(z) - z
    np.testing.assert_allclose(per_sample, want_loss, rtol=1e-9, atol=1e-12)
    assert value == pytest.approx(want_loss.mean(), rel=1e-9)


def test_no_epsilon_clip_in_a_matched_gradient():
    """exp + Poisson at z = -20, y = 3: the formula p - y gives -3 (the clipped chain gave
    -0.06); sigmoid + focal (γ = 2, α = 0.25) at z = -20, y = 1: -0.25 (clipped: -0.005)."""
    poisson = Objective.build("counts", "exp", "poisson", [3.0])
    assert poisson.value_and_dz(np.array([[-20.0]]))[1][0, 0] == pytest.approx(-3.0, rel=1e-8)
    focal = Objective.build("binary", "sigmoid", "focal", [1], loss_params={"alpha": 0.25})
    assert focal.value_and_dz(np.array([[-20.0]]))[1][0, 0] == pytest.approx(-0.25, rel=1e-7)


@pytest.mark.parametrize(("problem", "activation", "loss", "params", "target"), [
    ("counts", "exp", "poisson", {}, 3.0), ("counts", "softplus", "poisson", {}, 2.0),
    ("binary", "sigmoid", "focal", {"gamma": 2.0, "alpha": 0.25}, 1),
    ("binary", "sigmoid", "focal", {"gamma": 1.0}, 0)])
def test_logit_paths_equal_the_unclipped_chain_where_it_is_exact(problem, activation, loss,
                                                                  params, target):
    """Inside |z| < 12 the chain through Loss.grad is exact: the z path must agree."""
    objective = Objective.build(problem, activation, loss, [target] * 25, loss_params=params)
    z = np.linspace(-12.0, 12.0, 25)[:, None]
    value, dz, p = objective.value_and_dz(z)
    chain_value, dp = objective.loss.value_and_grad(objective.y, p)
    np.testing.assert_allclose(dz, objective.activation.vjp(z, p, dp), rtol=1e-6, atol=1e-12)
    assert value == pytest.approx(chain_value, rel=1e-6)


def test_anatomy_and_surfaces_draw_the_numbers_training_uses():
    from explorer import anatomy, surfaces
    from explorer.network import Model, Network

    z = np.array(FAR_Z)
    curves = anatomy.loss_vs_preactivation("exp", "poisson", 3.0, z=z, problem="counts")
    np.testing.assert_allclose(curves.grad[0], np.exp(z) - 3.0, rtol=1e-12)
    np.testing.assert_allclose(curves.loss_values[0], np.exp(z) - 3.0 * z, rtol=1e-12)
    # a one-weight model: z = w x with x = 1, so the surface's loss at w is the loss at z = w
    network = Network(1, (), 1, output_activation="exp")
    thetas = np.array([[w, 0.0] for w in FAR_Z])
    ev = surfaces.Evaluator(Model(network, thetas[0], "counts", "poisson"), np.array([[1.0]]),
                            np.array([3.0]))
    np.testing.assert_allclose(ev.losses(thetas), np.exp(z) - 3.0 * z, rtol=1e-12)


def test_gaussian_nll_is_exact_and_flat_below_its_variance_floor():
    """Below the floor the clamped loss does not depend on s: dL/ds = 0 there (it was
    ½(1 - r² 10⁶), which kept pushing s down); above it, the formula."""
    objective = Objective.build("regression", "linear", "gaussian_nll", [[1.0]] * 4)
    s = np.array([-20.0, -14.0, -1.0, 2.0])
    z = np.stack([np.full(4, 3.0), s], axis=1)  # mean 3, residual r = -2
    _, dz, _ = objective.value_and_dz(z)
    floor = np.log(1e-6)
    var = np.exp(np.maximum(s, floor))
    np.testing.assert_allclose(dz[:, 0] * 4, 2.0 / var, rtol=1e-12)
    want_ds = np.where(s >= floor, 0.5 * (1 - 4.0 / var), 0.0)
    np.testing.assert_allclose(dz[:, 1] * 4, want_ds, rtol=1e-12, atol=0)
    # the slope the loss really has (a central difference of the clamped loss)
    h = 1e-6
    for i, si in enumerate(s):
        up, down = z[[i]].copy(), z[[i]].copy()
        up[0, 1], down[0, 1] = si + h, si - h
        slope = (objective.with_targets([[1.0]]).value(up)
                 - objective.with_targets([[1.0]]).value(down)) / (2 * h)
        assert slope == pytest.approx(want_ds[i], rel=1e-5, abs=1e-6)




@pytest.mark.parametrize("target", [0.0, 3.0])
def test_exp_poisson_matches_pytorch(target):
    torch = pytest.importorskip("torch")
    z = torch.tensor(FAR_Z, dtype=torch.float64, requires_grad=True)
    y = torch.full((len(FAR_Z),), target, dtype=torch.float64)
    value = torch.nn.PoissonNLLLoss(log_input=True, full=False)(z, y)
    value.backward()
    objective = Objective.build("counts", "exp", "poisson", [target] * len(FAR_Z))
    ours, dz, _ = objective.value_and_dz(np.array(FAR_Z)[:, None])
    assert ours == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(dz[:, 0], z.grad.numpy(), rtol=1e-12)


def test_sigmoid_focal_matches_torchvision():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    z = torch.tensor(FAR_Z, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    value = ops.sigmoid_focal_loss(z, y, alpha=0.25, gamma=2.0, reduction="mean")
    value.backward()
    objective = Objective.build("binary", "sigmoid", "focal", [1, 0, 1, 0],
                                loss_params={"alpha": 0.25})
    ours, dz, _ = objective.value_and_dz(np.array(FAR_Z)[:, None])
    assert ours == pytest.approx(value.item(), rel=1e-9)
    np.testing.assert_allclose(dz[:, 0], z.grad.numpy(), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("target", [0, 1])
def test_sigmoid_bce_matches_pytorch_from_logits(target):
    torch = pytest.importorskip("torch")
    z = torch.tensor(FAR_Z, dtype=torch.float64, requires_grad=True)
    y = torch.full((len(FAR_Z),), float(target), dtype=torch.float64)
    value = torch.nn.BCEWithLogitsLoss()(z, y)
    value.backward()
    objective = Objective.build("binary", "sigmoid", "bce", [target] * len(FAR_Z))
    ours, dz, _ = objective.value_and_dz(np.array(FAR_Z)[:, None])
    assert ours == pytest.approx(value.item(), rel=1e-12)
    # PyTorch forms σ(z) - y, which loses the last digits of a gradient near 0 (y = 1 at
    # z = 30: 0.1% of 2e-14); ours is exact there (the mpmath test above): equal to 1e-16
    np.testing.assert_allclose(dz[:, 0], z.grad.numpy(), rtol=1e-9, atol=1e-16)


def test_sigmoid_focal_matches_pytorch_autograd_of_its_formula():
    """Focal loss written in torch from logsigmoid (as torchvision's sigmoid_focal_loss
    computes it in effect), differentiated by autograd."""
    torch = pytest.importorskip("torch")
    z = torch.tensor(FAR_Z, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    u = (2 * y - 1) * z
    weight = y * 0.25 + (1 - y) * 0.75
    value = (-weight * torch.exp(torch.nn.functional.logsigmoid(-u)) ** 2
             * torch.nn.functional.logsigmoid(u)).mean()
    value.backward()
    objective = Objective.build("binary", "sigmoid", "focal", [1, 0, 1, 0],
                                loss_params={"alpha": 0.25})
    ours, dz, _ = objective.value_and_dz(np.array(FAR_Z)[:, None])
    assert ours == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(dz[:, 0], z.grad.numpy(), rtol=1e-9, atol=1e-300)


def test_a_saturated_counts_start_trains_every_low_point_with_its_full_gradient():
    """The default counts scenario from initial weights ten times too large: every point
    with a positive count that starts below z = -16 is pushed up by dL/dz = exp(z) - y,
    about -y (a clip at p + 1e-7 gave -0.06 for y = 3 at z = -20)."""
    from explorer import anatomy, experiment
    from explorer import config as cfg

    run = experiment.run(cfg.default_for("counts").replace(init_scale=10.0, seed=1,
                                                          epochs=10))
    m, X, y = run.model, run.data.X_train, run.data.y_train
    z = m.network.pre_activations(m.snapshots[0], X)
    _, dz = anatomy.output_gradient(m.objective(y), z)
    low = (z[:, 0] < -16) & (y > 0)
    assert low.sum() > 20
    expected = np.exp(z[low, 0]) - y[low]  # the closed form, within float rounding of -y
    np.testing.assert_allclose(dz[low, 0], expected, rtol=1e-12, atol=1e-12)
    assert np.all(dz[low, 0] <= -0.99 * y[low])
