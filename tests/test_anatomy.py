"""Loss anatomy: the plotted gradients are the engine's chain, matched pairs give p - y, and
per-point gradients show the vanishing gradient of sigmoid + MSE on confident mistakes."""

import numpy as np
import pytest

import explorer
from explorer import activations, anatomy, losses
from explorer.network import Model, Network

Z = np.linspace(-8.0, 8.0, 81)
# Pairs with a single output unit and pairs shown over 3 classes.
PAIRS = [(a, loss) for a in ("linear", "sigmoid", "tanh", "softplus", "exp", "relu")
         for loss in ("mse", "mae", "huber", "log_cosh", "msle", "poisson", "bce", "focal",
                      "hinge", "squared_hinge")]
PAIRS += [(a, loss) for a in ("softmax", "linear", "sigmoid")
          for loss in ("cce", "sparse_cce", "kld", "categorical_hinge")]
PAIRS += [("softmax", "mse")]


def chain(act_key, loss_key, y, z):
    """d per-sample loss / dz by hand from the engine's pieces: loss.grad through act.vjp."""
    act, loss = activations.get(act_key), losses.get(loss_key)
    p = act.forward(z)
    with np.errstate(all="ignore"):
        return act.vjp(z, p, loss.grad(y, p) * len(z))


def inputs(curves, target):
    """The (m, k) pre-activations and encoded targets the curves were computed from."""
    m, k = len(curves.z), curves.n_classes
    z = np.zeros((m, k))
    z[:, 0] = curves.z
    loss = losses.get(curves.loss)
    if k == 1:
        return z, np.full((m, 1), target)
    labels = np.full(m, 0 if target >= 0.5 else 1)
    return z, labels if loss.sparse_targets else losses.one_hot(labels, k)


@pytest.mark.parametrize("act_key,loss_key", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_gradient_is_the_engine_chain(act_key, loss_key):
    curves = anatomy.loss_vs_preactivation(act_key, loss_key, (1.0, 0.0), Z)
    assert curves.grad.shape == curves.loss_values.shape == (2, len(Z))
    for row, target in enumerate(curves.targets):
        z, y = inputs(curves, target)
        expected = chain(act_key, loss_key, y, z)[:, 0]
        finite = np.isfinite(expected)
        assert finite.any()
        np.testing.assert_array_equal(np.isfinite(curves.grad[row]), finite)
        # fused pairs (sigmoid+BCE, softmax+CE) agree with the chain up to rounding; the
        # fused KL is exact where Keras' chain also pushes the zero targets clipped to 1e-7
        atol = 1e-5 if loss_key == "kld" else 1e-9
        np.testing.assert_allclose(curves.grad[row][finite], expected[finite], rtol=1e-7,
                                   atol=atol)
        with np.errstate(all="ignore"):
            per_sample = losses.get(loss_key).per_sample_from(
                y, activations.get(act_key).forward(z))
        ok = np.isfinite(per_sample)
        assert ok.any()
        np.testing.assert_array_equal(np.isfinite(curves.loss_values[row]), ok)
        np.testing.assert_allclose(curves.loss_values[row][ok], per_sample[ok], rtol=1e-7,
                                   atol=atol)


SMOOTH = [("sigmoid", "bce"), ("sigmoid", "mse"), ("linear", "mse"), ("tanh", "mse"),
          ("exp", "poisson"), ("softplus", "poisson"), ("linear", "log_cosh"),
          ("sigmoid", "focal"), ("softplus", "msle"), ("softmax", "cce"),
          ("softmax", "sparse_cce"), ("softmax", "kld"), ("tanh", "squared_hinge")]


@pytest.mark.parametrize("act_key,loss_key", SMOOTH, ids=[f"{a}-{b}" for a, b in SMOOTH])
def test_gradient_matches_finite_difference_of_the_loss_curve(act_key, loss_key):
    z = np.linspace(-5.0, 5.0, 23) + 0.013  # off the kinks
    h = 1e-6
    targets = (3.0, 0.5) if loss_key in ("poisson", "msle") else (1.0, 0.0)
    curves = anatomy.loss_vs_preactivation(act_key, loss_key, targets, z)
    up = anatomy.loss_vs_preactivation(act_key, loss_key, targets, z + h).loss_values
    down = anatomy.loss_vs_preactivation(act_key, loss_key, targets, z - h).loss_values
    numeric = (up - down) / (2 * h)
    np.testing.assert_allclose(curves.grad, numeric, rtol=1e-4, atol=1e-6)


CANONICAL = [("sigmoid", "bce", 1.0), ("softmax", "cce", 1.0), ("softmax", "sparse_cce", 1.0),
             ("exp", "poisson", 1.0), ("linear", "mse", 2.0)]


@pytest.mark.parametrize("act_key,loss_key,factor", CANONICAL,
                         ids=[f"{a}-{b}" for a, b, _ in CANONICAL])
def test_matched_pairs_gradient_is_prediction_minus_target(act_key, loss_key, factor):
    targets = (3.0, 0.0) if loss_key == "poisson" else (1.0, 0.0)
    curves = anatomy.loss_vs_preactivation(act_key, loss_key, targets, Z)
    for row, target in enumerate(curves.targets):
        y = target if curves.n_classes == 1 else (1.0 if target >= 0.5 else 0.0)
        p = curves.prediction
        # Poisson's log(p + eps) shifts the gradient by y eps / (p + eps): tiny unless p ~ eps
        slack = y * losses.EPSILON / (p + losses.EPSILON) if loss_key == "poisson" else 0.0
        error = np.abs(curves.grad[row] - factor * (p - y))
        assert np.all(error <= 1e-9 + 1e-9 * np.abs(p - y) + slack)
    assert not curves.invalid


def test_fused_pairs_keep_their_gradient_beyond_the_clipping_range():
    """The trainer's sigmoid + BCE gradient is p - y even where p < 1e-7 (|z| > 16)."""
    z = np.array([-30.0, -20.0, 20.0, 30.0])
    curves = anatomy.loss_vs_preactivation("sigmoid", "bce", 1.0, z)
    np.testing.assert_allclose(curves.grad[0], curves.prediction - 1.0, atol=1e-12)
    np.testing.assert_allclose(curves.loss_values[0, :2], [30.0, 20.0], rtol=1e-8)


def test_sigmoid_mse_vanishes_on_a_confident_mistake_and_bce_does_not():
    mse = anatomy.loss_vs_preactivation("sigmoid", "mse", 1.0)
    bce = anatomy.loss_vs_preactivation("sigmoid", "bce", 1.0)
    assert mse.z[0] == -8.0
    assert abs(mse.grad[0, 0]) < 1e-2
    assert bce.grad[0, 0] == pytest.approx(-1.0, abs=1e-3)


def test_saturated_regions():
    sigmoid = anatomy.loss_vs_preactivation("sigmoid", "bce")
    assert len(sigmoid.saturated) == 2
    (lo1, hi1), (lo2, hi2) = sigmoid.saturated
    assert lo1 == -8.0 and hi2 == 8.0 and hi1 == pytest.approx(-lo2, abs=0.05)
    slope_at = np.abs(sigmoid.slope)
    assert np.all(slope_at[sigmoid.z <= hi1] < 0.01 * 0.25)
    assert anatomy.loss_vs_preactivation("linear", "mse").saturated == ()
    relu = anatomy.loss_vs_preactivation("relu", "mse").saturated
    assert relu == ((-8.0, 0.0),)
    softmax = anatomy.loss_vs_preactivation("softmax", "cce")
    assert softmax.n_classes == 3
    # the varied unit against two logits at 0: p = e^z / (e^z + 2), slope p (1 - p) <= 1/4,
    # below 1% of 1/4 for z < log(2 q / (1 - q)) and z > log(2 (1 - q) / q), q(1 - q) = 1/400
    p = np.exp(softmax.z) / (np.exp(softmax.z) + 2.0)
    np.testing.assert_allclose(softmax.slope, p * (1 - p), rtol=1e-12)
    q = (1 - np.sqrt(1 - 4 * 0.0025)) / 2
    edges = np.log(2 * q / (1 - q)), np.log(2 * (1 - q) / q)
    step = softmax.z[1] - softmax.z[0]
    (lo1, hi1), (lo2, hi2) = softmax.saturated
    assert lo1 == -8.0 and hi2 == 8.0
    assert edges[0] - step <= hi1 < edges[0] and edges[1] < lo2 <= edges[1] + step


def test_saturated_regions_of_a_plain_slope():
    z = np.arange(6.0)
    slope = np.array([0.0, 0.5, 1.0, 0.001, 0.0, 1.0])
    assert anatomy.saturated_regions(z, slope) == ((0.0, 0.0), (3.0, 4.0))
    assert anatomy.saturated_regions(z, np.zeros(6)) == ()


def test_invalid_pair_gives_nan_gaps_and_a_flag():
    with np.errstate(all="raise"):
        curves = anatomy.loss_vs_preactivation("linear", "bce", (1.0, 0.0))
    assert curves.invalid
    outside = (curves.prediction < 0) | (curves.prediction > 1)
    assert np.isnan(curves.loss_values[:, outside]).all()
    assert np.isnan(curves.grad[:, outside]).all()
    assert np.isfinite(curves.loss_values[:, ~outside]).all()


def test_curves_carry_formulas_and_labels():
    curves = anatomy.loss_vs_preactivation("sigmoid", "mse", 1.0)
    assert curves.targets == (1.0,) and curves.target_labels == ("target y = 1",)
    # not a matched pair: the chain written out, dL/dp = 2(p - y) times sigmoid' = p(1 - p)
    assert curves.grad_z_formula == r"2(p - y)\cdot p(1 - p)"
    assert curves.grad_p_formula == r"2(p - y)"
    assert curves.loss_formula == r"(p - y)^2"
    assert curves.likelihood == losses.get("mse").likelihood_sentence
    assert "negative log-likelihood of Gaussian targets" in curves.likelihood
    tanh = anatomy.loss_vs_preactivation("tanh", "mse", 1.0)  # tanh' = 1 - p^2
    assert tanh.grad_z_formula == r"2(p - y)\cdot (1 - p^2)"
    assert anatomy.loss_vs_preactivation("sigmoid", "bce").grad_z_formula == r"p - y"
    multi = anatomy.loss_vs_preactivation("softmax", "cce")
    assert multi.target_labels == ("true class", "another class is true")


def test_compare_pairs_uses_the_problem_default():
    chosen, matched = anatomy.compare_pairs("binary", "sigmoid", "mse")
    assert (chosen.activation, chosen.loss) == ("sigmoid", "mse")
    assert (matched.activation, matched.loss) == ("sigmoid", "bce")
    assert chosen.targets == matched.targets == (1.0, 0.0)
    chosen, matched = anatomy.compare_pairs("counts", "softplus", "poisson")
    assert matched.activation == "exp" and chosen.targets == (3.0,)
    # z is a log-rate for counts: a narrower default range, the same for both curves
    assert (chosen.z[0], chosen.z[-1]) == (matched.z[0], matched.z[-1]) == (-4.0, 4.0)
    for problem in ("binary", "multiclass", "regression"):
        assert (anatomy.default_z(problem)[0], anatomy.default_z(problem)[-1]) == (-8.0, 8.0)
    chosen, _ = anatomy.compare_pairs("regression", "linear", "huber", {"delta": 0.5}, 2.0)
    assert chosen.loss_values[0, -1] == pytest.approx(0.5 * (8.0 - 2.0 - 0.25))


# Per-point gradients of a trained model

def test_per_point_gradients_shape_and_sign():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    model, _ = explorer.fit(X, y, problem="binary", hidden=(4,), output_activation="sigmoid",
                            loss="mse", epochs=20, snapshots=8)
    result = anatomy.per_point_output_gradients(model, X, y)
    assert result.grads.shape == (len(model.snapshots), 50)
    assert np.all(result.grads >= 0) and np.isfinite(result.grads).all()
    np.testing.assert_array_equal(result.epochs, model.snapshot_epochs)
    assert result.wrong.shape == result.confidently_wrong.shape == (50,)
    # last row: the engine's chain, one sample at a time
    act, loss = activations.get("sigmoid"), losses.get("mse")
    z = model.network.pre_activations(model.theta, X)
    p = act.forward(z)
    for i in (0, 17, 49):
        dz = act.vjp(z[i:i + 1], p[i:i + 1], loss.grad([[y[i]]], p[i:i + 1]))
        assert result.grads[-1, i] == pytest.approx(abs(dz[0, 0]), rel=1e-10)


@pytest.mark.parametrize("loss_key", ["cce", "sparse_cce", "categorical_hinge"])
def test_per_point_gradients_multiclass(loss_key):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    y = np.digitize(X[:, 0], [-0.4, 0.4])
    out = "linear" if loss_key == "categorical_hinge" else "softmax"
    model, _ = explorer.fit(X, y, problem="multiclass", hidden=(5,), output_activation=out,
                            loss=loss_key, epochs=10, snapshots=5)
    result = anatomy.per_point_output_gradients(model, X, y, max_floats=200)  # many chunks
    assert result.grads.shape == (len(model.snapshots), 40)
    assert np.all(result.grads >= 0)
    # chunking changes nothing (up to rounding in the stacked products)
    np.testing.assert_allclose(result.grads,
                               anatomy.per_point_output_gradients(model, X, y).grads,
                               rtol=1e-12)
    scores = model.network.forward_many(model.theta, X)
    onehot = losses.one_hot(y, 3)
    if loss_key != "categorical_hinge":  # softmax + CE: |dL/dz| = ||p - onehot||
        expected = np.linalg.norm(scores - onehot, axis=1)
    else:  # margin violated: e_{j*} - e_y, with j* the runner-up max_j (1 - y_j) s_j
        rows = np.arange(40)
        runner_up = np.argmax((1 - onehot) * scores, axis=1)
        violated = ((1 - onehot) * scores)[rows, runner_up] - scores[rows, y] + 1 > 0
        dz = -onehot.copy()
        dz[rows, runner_up] += 1 - onehot[rows, runner_up]
        expected = np.linalg.norm(dz, axis=1) * violated
        assert violated.any()
    np.testing.assert_allclose(result.grads[-1], expected, rtol=1e-9)


def one_neuron(loss_key):
    """w = 5, b = 0 on x in {-2, 1, 2}: the point x = -2 with label 1 is confidently wrong."""
    network = Network(1, (), 1, output_activation="sigmoid")
    theta = np.array([5.0, 0.0])
    return Model(network, theta, "binary", loss_key, snapshot_epochs=np.array([0, 1]),
                 snapshots=np.array([[0.1, 0.0], theta]))


def test_confidently_wrong_point_gets_no_gradient_under_mse_but_a_strong_one_under_bce():
    X, y = np.array([[-2.0], [1.0], [2.0]]), np.array([1, 1, 1])
    mse = anatomy.per_point_output_gradients(one_neuron("mse"), X, y)
    bce = anatomy.per_point_output_gradients(one_neuron("bce"), X, y)
    assert mse.confidently_wrong.tolist() == [True, False, False]
    assert mse.wrong.tolist() == [True, False, False]
    assert mse.grads[-1, 0] < 1e-3  # z = -10: p (1 - p) ~ 4.5e-5
    assert bce.grads[-1, 0] == pytest.approx(1.0, abs=1e-3)
    assert bce.final_loss[0] == pytest.approx(10.0, rel=1e-3)


def test_regression_outliers_are_flagged():
    X = np.linspace(-1, 1, 30)[:, None]
    y = X[:, 0].copy()
    y[3] += 20.0
    network = Network(1, (), 1)
    theta = np.array([1.0, 0.0])
    model = Model(network, theta, "regression", "mse", snapshot_epochs=np.array([0]),
                  snapshots=theta[None])
    result = anatomy.per_point_output_gradients(model, X, y)
    assert result.confidently_wrong.tolist() == [i == 3 for i in range(30)]
    assert result.grads[0, 3] == pytest.approx(40.0)


def test_a_typed_formula_is_drawn_for_the_problem_not_guessed_from_the_loss():
    """A typed formula serves every problem: the anatomy must read the problem (one sigmoid
    unit with 0/1 targets), never guess three classes from its summed reduction."""
    typed_bce = {"formula": "-(y*log(p) + (1 - y)*log(1 - p))"}
    chosen, matched = anatomy.compare_pairs("binary", "sigmoid", "custom", typed_bce)
    assert chosen.n_classes == 1 and chosen.target_labels == ("target y = 1", "target y = 0")
    np.testing.assert_allclose(chosen.grad, matched.grad, atol=1e-12)  # the same as BCE
    assert chosen.label == "Sigmoid + Your formula"
    assert chosen.grad_z_formula == (r"\left(\frac{1 - y}{1 - p} - \frac{y}{p}\right)"
                                     r"\cdot p(1 - p)")
    counts, _ = anatomy.compare_pairs("counts", "exp", "custom", {"formula": "p - y*log(p)"},
                                      target=(3.0,))
    exp_z = np.exp(anatomy.COUNT_Z)
    np.testing.assert_allclose(counts.grad[0], exp_z - 3.0, rtol=1e-9)  # p - y, by hand
    classes, _ = anatomy.compare_pairs("multiclass", "softmax", "custom",
                                       {"formula": "-y*log(p)"})
    assert classes.n_classes == 3 and classes.target_labels[0] == "true class"
    typed = losses.custom("-y*log(p)")
    for problem in ("binary", "counts"):  # targets read as the problem reads them
        objective = anatomy._objective(activations.get("sigmoid"), typed, 1.0, 4, 1, False,
                                       problem)
        assert objective.problem == problem


def test_per_point_gradients_of_many_snapshots_stay_small():
    """Issue 16: chunks of 32 snapshots x 2,000 points held 33 MB per hidden layer."""
    import tracemalloc

    from explorer.network import Model, Network
    network = Network(2, (64, 64, 64), 10, "relu", "softmax")
    rng = np.random.default_rng(0)
    snaps = np.stack([network.init(rng) for _ in range(40)])
    model = Model(network, snaps[-1], "multiclass", "cce", snapshot_epochs=np.arange(40),
                  snapshots=snaps, n_classes=10)
    X, y = rng.normal(size=(2000, 2)), rng.integers(0, 10, 2000)
    tracemalloc.start()
    result = anatomy.per_point_output_gradients(model, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < result.grads.nbytes + 24e6, peak
    one = Model(network, snaps[17], "multiclass", "cce", n_classes=10)
    p = one.predict(X)
    np.testing.assert_allclose(result.grads[17],
                               np.linalg.norm(p - losses.one_hot(y, 10), axis=1), rtol=1e-9)


def test_point_gradients_work_grows_with_each_factor():
    base = anatomy.point_gradients_work(n_params=1000, n_points=200, snapshots=99)
    assert base == 100 * 200 * 1000
    assert anatomy.point_gradients_work(n_params=2000, n_points=200, snapshots=99) == 2 * base
    assert anatomy.point_gradients_work(n_params=1000, n_points=400, snapshots=99) == 2 * base
    assert anatomy.point_gradients_work(n_params=1000, n_points=200, snapshots=199) == 2 * base
